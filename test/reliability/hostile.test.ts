// Hostile values: what a careless or malicious client can send, through a
// real OpenBao dev server where the HTTP path matters (URL length, body size,
// the server's JSON limits, numbers past int64) and in-process otherwise
// (token display names, nesting deeper than the server lets through). Each
// value must be refused with a 400 that names its field, or accepted as
// something safe; never a 500, never a stack trace, and never a half-done
// change at the provider.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { DevServer, type HttpResult } from "../../scripts/lib/dev-server.ts";
import { requestFromWire } from "../../packages/sdk/src/runtime/translate.ts";
import type * as pb from "../../packages/sdk/src/proto/pb/backend.ts";
import { AI_PLUGIN, BAO, requireFile } from "../support/paths.ts";
import { report, scale } from "./report.ts";
import { brief, type Emulators, outcomeOf, providerObjects, startEmulators, threeProviderMount } from "./bad-input-support.ts";

/** What the providers hold and how often they were asked to change anything. */
function providerSnapshot(em: Emulators): string {
  const mutations = [em.openai, em.litellm, em.openrouter].map((e) => e.control.requests({ limit: 1_000_000 }).filter((r) => r.method !== "GET").length);
  const adminKeys = (em.openai.control.state() as { admin_api_keys: Array<{ id: string }> }).admin_api_keys.map((k) => k.id);
  return JSON.stringify({ objects: providerObjects(em), adminKeys, mutations });
}

/** A stack frame, a source path or an internal error name in what a client sees. */
const STACK = /\bat .+:\d+:\d+|\.ts:\d+|node:internal|\/work\/|TypeError|RangeError|ReferenceError/;

/** The safe shape of a service account name: what the provider's dashboard shows is what it is. */
function unsafeName(name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return "no name";
  if (name.length > 128) return `${name.length} characters`;
  if (name !== name.trim()) return "surrounding space";
  const hidden = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u.exec(name);
  return hidden ? `contains U+${hidden[0].codePointAt(0)!.toString(16).padStart(4, "0")}` : undefined;
}

interface Tally {
  refused: number;
  accepted: number;
  problems: string[];
}
const tally = (): Tally => ({ refused: 0, accepted: 0, problems: [] });

/** Checks one HTTP answer: a 400 naming `field` (any of them), or a success `accept` judges. */
function judge(t: Tally, label: string, res: HttpResult, fields: string[], accept?: (res: HttpResult) => string | undefined): boolean {
  const text = JSON.stringify(res.body);
  if (STACK.test(text)) {
    t.problems.push(`${label}: a stack trace or internal detail reached the client: ${brief(res.body, 200)}`);
    return false;
  }
  if (res.status >= 200 && res.status < 300) {
    const problem = accept ? accept(res) : "accepted, but it should have been refused";
    if (problem) t.problems.push(`${label}: ${problem}`);
    else t.accepted++;
    return problem === undefined;
  }
  const errors = (res.body.errors ?? []).join("; ");
  if (res.status !== 400 || !fields.some((f) => errors.includes(f))) {
    t.problems.push(`${label}: ${res.status} ${brief(errors, 200)} (wanted a 400 naming ${fields.join(" or ")})`);
    return false;
  }
  t.refused++;
  return true;
}

function reportTally(scenario: string, tried: string, t: Tally, extra = ""): void {
  report({
    area: "hostile",
    scenario,
    tried,
    found: `${t.refused} refused with a 400 naming the field, ${t.accepted} accepted as safe values${extra ? `; ${extra}` : ""}; ${t.problems.length} problems${t.problems.length ? `: ${t.problems.slice(0, 3).join(" | ")}` : ""}`,
    ok: t.problems.length === 0,
  });
  assert.deepEqual(t.problems, []);
}

describe("hostile values through OpenBao", { skip: existsSync(BAO) ? false : `${BAO} is missing: run scripts/setup.sh` }, () => {
  let em: Emulators;
  let server: DevServer;
  let project: string;
  const write = (path: string, body: unknown) => server.http("POST", `ai/${path}`, body);
  /** A request whose body is sent as is: numbers JSON.stringify cannot write. */
  const writeRaw = async (path: string, text: string): Promise<HttpResult> => {
    const res = await fetch(`${server.addr}/v1/ai/${path}`, { method: "POST", headers: { "X-Vault-Token": server.token, "Content-Type": "application/json" }, body: text });
    const body = await res.text();
    return { status: res.status, body: body ? (JSON.parse(body) as HttpResult["body"]) : {} };
  };

  /** Revokes a lease and waits for it: the CLI's revoke only queues it. */
  const revoke = async (issued: HttpResult) => {
    const res = await server.http("PUT", "sys/leases/revoke", { lease_id: issued.body["lease_id"], sync: true });
    assert.ok(res.status < 300, `revoke: ${res.status} ${JSON.stringify(res.body)}`);
  };

  before(async () => {
    em = await startEmulators();
    project = em.openai.projects[0]!.id;
    server = await DevServer.start("openbao", BAO, [requireFile(AI_PLUGIN, "run `npm run build` first")], { logLevel: "warn" });
    await server.cliOk(["secrets", "enable", "-path=ai", "vault-plugin-secrets-ai"]);
    const ok = async (res: Promise<HttpResult>) => assert.ok((await res).status < 300);
    await ok(write("config", { admin_api_key: em.openai.adminKey, admin_api_key_id: em.openai.adminKeyId, organization_id: em.openai.organizationId, api_endpoint: em.openai.baseUrl }));
    await ok(write("connections/ll", { base_url: em.litellm.baseUrl, master_key: em.litellm.masterKey }));
    await ok(write("connections/or", { provider: "openrouter", base_url: em.openrouter.baseUrl, provisioning_key: em.openrouter.managementKey }));
  });

  after(async () => {
    // The plugin's own view of what went wrong, for whoever reads a failure.
    const internal = server?.log.split("\n").filter((l) => /internal error in plugin|request handler failed|panic/.test(l)) ?? [];
    await server?.stop();
    await em?.close();
    assert.deepEqual(internal, [], "no request ended in an internal error");
  });

  test("very long role names: refused where the names they make would be too long, else issued and revoked cleanly", async () => {
    const t = tally();
    const start = providerSnapshot(em);
    // OpenBao's own path handling grows with the square of the path's length
    // (about 6 s per request at 60,000 characters), so that size is soak-only.
    const lengths = scale([200, 1_000, 10_000, 20_000], [200, 1_000, 10_000, 20_000, 60_000]);
    for (const length of lengths) {
      const name = `r${"x".repeat(length - 1)}`;
      // The default template puts the role's name into the service account's: too long for any of these.
      const before = providerSnapshot(em);
      judge(t, `OpenAI role of ${length} characters`, await write(`roles/o${name}`, { project_id: project }), ["service_account_name_template"]);
      if ((await server.http("GET", `ai/roles/o${name}`)).status !== 404) t.problems.push(`an OpenAI role of ${length} characters was stored although refused`);
      if (providerSnapshot(em) !== before) t.problems.push(`refusing an OpenAI role of ${length} characters changed the provider`);
      for (const [prefix, connection] of [["l", "ll"], ["p", "or"]] as const) {
        judge(t, `${connection} role of ${length} characters`, await write(`roles/${prefix}${name}`, { connection }), ["name"], () => undefined);
        const issued = await server.http("GET", `ai/creds/${prefix}${name}`);
        const ok = judge(t, `${connection} creds of a ${length}-character role`, issued, ["name"], (res) => (res.body["lease_id"] ? undefined : "no lease"));
        if (ok && issued.status === 200) await revoke(issued);
      }
    }
    const end = providerSnapshot(em);
    if (JSON.parse(end).objects.litellm !== JSON.parse(start).objects.litellm || JSON.parse(end).objects.openrouter !== JSON.parse(start).objects.openrouter) {
      t.problems.push(`keys left at the providers: ${end}`);
    }
    reportTally("very long role names", `role names of ${lengths.map((n) => n.toLocaleString("en")).join(", ")} characters in the URL, for OpenAI, LiteLLM and OpenRouter roles; creds and revoke for those accepted`, t);
  });

  test("name template injection: refused at role write, or the account gets exactly the safe name the response shows", async () => {
    const t = tally();
    let nested = ".RoleName";
    for (let i = 0; i < 1_500; i++) nested = `(${nested})`;
    const templates = [
      "{{", "}}", "{{{{.RoleName}}}}-{{.RandomSuffix}}", "{{ .Foo }}-{{.RandomSuffix}}", "{{ .RoleName.Foo }}-{{.RandomSuffix}}",
      '{{ printf "%s" .RoleName | printf "%s-%s" .DisplayName }}-{{.RandomSuffix}}', `{{ ${nested} }}-{{.RandomSuffix}}`,
      '{{ template "x" }}{{.RandomSuffix}}', '{{ define "x" }}y{{ end }}{{.RandomSuffix}}', "{{ range . }}{{ end }}{{.RandomSuffix}}", '{{ env "HOME" }}{{.RandomSuffix}}',
      "{{ call .X }}{{.RandomSuffix}}", '{{ index . "x" }}{{.RandomSuffix}}', '{{ printf "%v" . }}-{{.RandomSuffix}}', '{{ printf "%0999999d" 1 }}{{.RandomSuffix}}',
      "{{ random 100000000 }}", '{{ printf "%s" (printf "%s" (printf "%s" .RoleName)) }}-{{.RandomSuffix}}',
      "vault/{{.RoleName}}/../{{.RandomSuffix}}", "../../{{.RandomSuffix}}", "vault-ünï-😀-{{.RoleName}}-{{.RandomSuffix}}",
      "vault-\u0000-{{.RandomSuffix}}", "vault-\u202e-{{.RandomSuffix}}", "vault-\u200b-{{.RandomSuffix}}", "\u2028{{.RandomSuffix}}", '{{ "\\u202e" }}{{.RandomSuffix}}',
      '{{ printf "%c" 0 }}{{.RandomSuffix}}', '{{ printf "%c" 8238 }}{{.RandomSuffix}}', "{{ .RandomSuffix }}\n", `${"a".repeat(5_000)}{{.RandomSuffix}}`,
    ];
    for (const template of templates) {
      const label = `template ${brief(template, 50)}`;
      const before = providerSnapshot(em);
      const written = await write("roles/tpl", { project_id: project, service_account_name_template: template });
      if (!judge(t, label, written, ["service_account_name_template"], () => undefined)) continue;
      if (written.status >= 300) {
        if (providerSnapshot(em) !== before) t.problems.push(`${label}: refused, but the provider changed`);
        continue;
      }
      t.accepted--; // counted once below, when the name it makes has been checked
      const issued = await server.http("GET", "ai/creds/tpl");
      judge(t, `${label} (creds)`, issued, ["service_account_name_template"], (res) => {
        const data = res.body.data ?? {};
        const name = data["service_account"];
        const problem = unsafeName(name);
        if (problem) return `issued an unsafe name (${problem}): ${brief(name, 80)}`;
        const held = (em.openai.control.state() as { projects: Array<{ id: string; service_accounts: Array<{ id: string; name: string }> }> }).projects
          .find((p) => p.id === project)
          ?.service_accounts.find((a) => a.id === data["service_account_id"]);
        if (held?.name !== name) return `the provider holds ${brief(held?.name)}, the response says ${brief(name)}`;
        if (String(name).includes(em.openai.adminKey)) return "the admin key is in the name";
        return undefined;
      });
      if (issued.status === 200) await revoke(issued);
      await server.http("DELETE", "ai/roles/tpl");
    }
    const left = providerObjects(em).openai;
    if (left !== 0) t.problems.push(`${left} service accounts left at the provider`);
    reportTally("service account name template injection", `${templates.length} templates: unclosed and doubled braces, unknown fields, nested pipelines and 1,500 nested parentheses, control structures, env/call/index, huge printf and random, path separators and "..", unicode, NUL, U+202E, U+200B, U+2028; creds and revoke for those accepted`, t);
  });

  test("non-http(s) and credential-bearing endpoints are refused before anything is sent anywhere", async () => {
    const t = tally();
    const origin = em.openai.url.slice("http://".length);
    const urls = [
      "file:///etc/passwd", "ftp://127.0.0.1/", `http://user:pass@${origin}/v1`, `http://user@${origin}/v1`, `https://:pass@${origin}/v1`, "javascript:alert(1)",
      "data:text/plain,x", "gopher://127.0.0.1:70/", `${em.openai.baseUrl}?x=1`, `${em.openai.baseUrl}#frag`, "//127.0.0.1/v1", "127.0.0.1:1", "", "http://[::1", "http://127.0.0.1:99999/",
    ];
    const configBefore = JSON.stringify((await server.http("GET", "ai/config")).body.data);
    const llBefore = JSON.stringify((await server.http("GET", "ai/connections/ll")).body.data);
    const before = [em.openai, em.litellm, em.openrouter].map((e) => e.control.stats().total);
    for (const url of urls) {
      judge(t, `api_endpoint ${brief(url, 40)}`, await write("config", { api_endpoint: url }), ["api_endpoint"]);
      judge(t, `LiteLLM base_url ${brief(url, 40)}`, await write("connections/ll", { base_url: url }), ["base_url"]);
      judge(t, `OpenRouter base_url ${brief(url, 40)}`, await write("connections/or", { base_url: url }), ["base_url"]);
      judge(t, `new connection url ${brief(url, 40)}`, await write("connections/fresh", { url, master_key: em.litellm.masterKey }), ["base_url", "url"]);
    }
    const after = [em.openai, em.litellm, em.openrouter].map((e) => e.control.stats().total);
    if (JSON.stringify(after) !== JSON.stringify(before)) t.problems.push(`the emulators were called: ${before} -> ${after}`);
    if (JSON.stringify((await server.http("GET", "ai/config")).body.data) !== configBefore) t.problems.push("the config changed");
    if (JSON.stringify((await server.http("GET", "ai/connections/ll")).body.data) !== llBefore) t.problems.push("connections/ll changed");
    if ((await server.http("GET", "ai/connections/fresh")).status !== 404) t.problems.push("connections/fresh was stored");
    reportTally("hostile api_endpoint and base_url", `${urls.length} URLs (file:, ftp:, javascript:, data:, gopher:, user:pass@, user@, :pass@, query, fragment, scheme-relative, no scheme, empty, broken IPv6, bad port) x config, two connections and a new one`, t, "no request reached any emulator");
  });

  test("huge JSON bodies: refused with a 400 naming the field, ignored with a warning, or refused by the server as too large", async () => {
    const t = tally();
    const before = providerSnapshot(em);
    const mb = 1 << 20;
    const cases: Array<[string, string, unknown, string[], ((r: HttpResult) => string | undefined)?]> = [
      ["5 MB service_account_description", "roles/huge1", { project_id: project, service_account_description: "d".repeat(5 * mb) }, ["service_account_description"]],
      ["5 MB model list", "roles/huge2", { connection: "ll", models: Array.from({ length: 400_000 }, (_, i) => `m${i}`).join(",") }, ["models"]],
      ["5 MB metadata", "roles/huge3", { connection: "ll", metadata: { k: "v".repeat(5 * mb) } }, ["metadata"]],
      ["5 MB admin_api_key_id", "config", { admin_api_key_id: "k".repeat(5 * mb) }, ["admin_api_key_id"]],
      ["5 MB unknown field", "roles/huge4", { connection: "ll", junk: "j".repeat(5 * mb) }, [], (r) => (String(r.body.warnings).includes("junk") ? undefined : "no warning about the ignored field")],
      ["5 MB base_url", "connections/huge", { base_url: `http://127.0.0.1:1/${"p".repeat(5 * mb)}`, master_key: "k" }, ["base_url"]],
    ];
    for (const [label, path, body, fields, accept] of cases) judge(t, label, await write(path, body), fields, accept);
    for (const path of ["roles/huge1", "roles/huge2", "roles/huge3"]) if ((await server.http("GET", `ai/${path}`)).status !== 404) t.problems.push(`${path} was stored`);
    const tooBig = await write("roles/huge5", { connection: "ll", junk: "j".repeat(33 * mb) });
    if (tooBig.status === 413) t.refused++;
    else t.problems.push(`a 33 MB body got ${tooBig.status}`);
    await server.http("DELETE", "ai/roles/huge4");
    if (providerSnapshot(em) !== before) t.problems.push("the provider changed");
    reportTally("huge JSON bodies", "5 MB in a description, a model list, metadata, an admin key id, a base_url and an unknown field; a 33 MB body", t, "33 MB: 413 from the server's own limit");
  });

  test("deeply nested maps: the server's JSON limits, then 10,000 and 100,000 levels straight into the plugin", async () => {
    const t = tally();
    const nest = (depth: number, kind: "object" | "array") => (kind === "object" ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}` : `${"[".repeat(depth)}1${"]".repeat(depth)}`);
    const fields = [["key_request", ["key_request"]], ["metadata", ["metadata"]], ["models", ["models"]], ["ttl", ["ttl"]], ["junk", []]] as const;
    for (const depth of [100, 1_000, 10_000]) {
      for (const kind of ["object", "array"] as const) {
        for (const [field, named] of fields) {
          const res = await writeRaw("roles/deep", `{"connection":"ll","${field}":${nest(depth, kind)}}`);
          // OpenBao refuses JSON past its own depth and size limits with a 400 of its own.
          const serverLimit = res.status === 400 && /JSON input/.test(String(res.body.errors));
          if (serverLimit) t.refused++;
          else judge(t, `${depth} levels of ${kind} in ${field}`, res, [...named], field === "junk" ? (r) => (String(r.body.warnings).includes("junk") ? undefined : "no warning") : undefined);
        }
      }
    }
    await server.http("DELETE", "ai/roles/deep");
    // Past the server's limits (another server, or none): straight into the plugin, as the server would send it.
    const direct = await startEmulators();
    const tb: TestBackend = await threeProviderMount(direct);
    for (const depth of [10_000, 100_000]) {
      for (const kind of ["object", "array"] as const) {
        for (const [field, named] of fields) {
          const wire: pb.Request = {
            id: "r", ReplicationCluster: "", operation: "update", path: "roles/deep", data: `{"connection":"ll","${field}":${nest(depth, kind)}}`, secret: undefined, auth: undefined,
            headers: {}, clientToken: "", clientTokenAccessor: "", displayName: "token", mountPoint: "ai/", mountType: "plugin", mountAccessor: "", wrapInfo: undefined,
            clientTokenRemainingUses: 0n, entityId: "", policyOverride: false, unauthenticated: false, connection: undefined, requiresSnapshotId: "",
          };
          const label = `${depth} levels of ${kind} in ${field}, in-process`;
          try {
            const request = requestFromWire(wire, tb.storage);
            const res = await tb.backend.handleRequest(request);
            if (named.length > 0) t.problems.push(`${label}: accepted`);
            else if (!String(res?.warnings).includes("junk")) t.problems.push(`${label}: no warning`);
            else t.accepted++;
          } catch (err) {
            const o = outcomeOf(err);
            if (o.crash || o.status !== 400 || !named.some((f) => o.message.includes(f))) t.problems.push(`${label}: ${o.status} ${o.message}`);
            else t.refused++;
          }
        }
      }
    }
    await direct.close();
    reportTally("deeply nested maps", "objects and arrays 100, 1,000 and 10,000 deep in key_request, metadata, models, ttl and an unknown field through OpenBao; 10,000 and 100,000 deep straight into the plugin", t);
  });

  test("negative and overflowing TTLs on roles and creds are a 400 naming the field; extreme valid ones are capped by the mount", async () => {
    const t = tally();
    await write("roles/ttl", { project_id: project, ttl: "10m", max_ttl: "1h" });
    const roleBefore = JSON.stringify((await server.http("GET", "ai/roles/ttl")).body.data);
    const before = providerSnapshot(em);
    const values = ["-1", '"-1"', '"-1s"', "1e30", '"1e30"', "-1e30", '"9999999999999h"', '"2562048h"', '"106752d"', "9223372036854775808", "-9223372036854775809", "18446744073709551616", '"NaN"', '"Inf"', "true", "[]", "{}", '"1h-1s"'];
    for (const raw of values) {
      for (const field of ["ttl", "max_ttl"]) {
        judge(t, `role ${field}=${raw}`, await writeRaw("roles/ttl", `{"project_id":"${project}","${field}":${raw}}`), [field]);
      }
      judge(t, `creds ttl=${raw} (body)`, await writeRaw("creds/ttl", `{"ttl":${raw}}`), ["ttl"]);
    }
    for (const query of ["-1", "1e30", "9999999999999h", "9223372036854775808", "-9223372036854775809"]) {
      judge(t, `creds ?ttl=${query}`, await server.http("GET", `ai/creds/ttl?ttl=${encodeURIComponent(query)}`), ["ttl"]);
    }
    // 1e400 is not a JSON number any server accepts.
    const huge = await writeRaw("roles/ttl", `{"project_id":"${project}","ttl":1e400}`);
    if (huge.status === 400) t.refused++;
    else t.problems.push(`ttl=1e400 got ${huge.status}`);
    if (JSON.stringify((await server.http("GET", "ai/roles/ttl")).body.data) !== roleBefore) t.problems.push("a refused write changed the role");
    if (providerSnapshot(em) !== before) t.problems.push("a refused request changed the provider");
    // The longest duration Go can hold: accepted, and the lease is capped at the mount's maximum (32 days by default).
    judge(t, "role ttl=max_ttl=2562047h", await write("roles/longest", { connection: "ll", ttl: "2562047h", max_ttl: "2562047h" }), [], () => undefined);
    const issued = await server.http("GET", "ai/creds/longest");
    judge(t, "creds of the longest role", issued, [], (res) => {
      const lease = Number(res.body["lease_duration"]);
      const expires = Date.parse(String(res.body.data?.["expires"]));
      if (!(lease > 0 && lease <= 32 * 86_400)) return `lease of ${lease}s`;
      return expires - Date.now() <= (lease + 60) * 1000 ? undefined : `the key expires at ${String(res.body.data?.["expires"])}, after its lease`;
    });
    if (issued.status === 200) await revoke(issued);
    reportTally("negative and overflowing TTLs", `${values.length} raw JSON values (negative, 1e30, past int64 as numbers and as durations, NaN, Inf, bool, list, map) for role ttl and max_ttl and creds ttl, 5 as a query string, 1e400; the longest valid duration`, t);
  });
});

describe("hostile token display names, in-process", () => {
  test("a display name with control, invisible or template characters is refused or used verbatim and safely", async () => {
    const em = await startEmulators();
    const t = tally();
    try {
      const tb = await threeProviderMount(em);
      await tb.write("roles/dn", { project_id: em.openai.projects[0]!.id, service_account_name_template: "{{.DisplayName}}-{{.RandomSuffix}}" });
      const names = ["a\u202eb", "a\u0000b", "a\nb", "a\u0085b", "a\u2028b", "\u200f", "x".repeat(1_000), "{{.RoleName}}", "{{ env \"HOME\" }}", "../..", "a/b", "ok-name", "ünï😀", "\ud800"];
      for (const displayName of names) {
        const label = `display name ${brief(displayName, 30)}`;
        const before = providerObjects(em).openai;
        try {
          const res = await tb.request({ operation: "read", path: "creds/dn", displayName });
          const name = res?.data?.["service_account"];
          // A lone surrogate cannot be UTF-8: it becomes U+FFFD, as Go's JSON decoding would make it.
          const problem = unsafeName(name) ?? (String(name).startsWith(`${displayName.toWellFormed()}-`) ? undefined : `the display name was not used verbatim: ${brief(name)}`);
          if (problem) t.problems.push(`${label}: ${problem}`);
          else t.accepted++;
          await tb.revoke(res!);
        } catch (err) {
          const o = outcomeOf(err);
          if (o.crash || o.status !== 400 || !o.message.includes("service_account_name_template")) t.problems.push(`${label}: ${o.status} ${o.message}`);
          else t.refused++;
          if (providerObjects(em).openai !== before) t.problems.push(`${label}: refused, but an account was created`);
        }
      }
      if (providerObjects(em).openai !== 0) t.problems.push("service accounts left at the provider");
      reportTally("hostile token display names", `${names.length} display names (U+202E, NUL, newline, NEL, U+2028, U+200F, 1,000 characters, template syntax, path separators, unicode, a lone surrogate) into {{.DisplayName}}`, t, "template text in a display name is never evaluated");
    } finally {
      await em.close();
    }
  });
});
