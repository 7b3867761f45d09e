// Malicious provider answers: the emulators create the key (or delete it)
// and then answer with something no real provider should send: a body over
// the engine's 1 MiB cap, wrong types, a missing key, an array for an
// object, invalid JSON, an HTML page, nothing, or half a body. The engine
// must refuse it with a clear error that leaks no key, issue no lease, and
// leave nothing behind at the provider: deleted at once, or by the WAL
// rollback on the next tick.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TestBackend } from "@vault-plugin-ai/sdk/testing";
import type { FaultAction, FaultRuleInput } from "../../tools/emulators/core/faults.ts";
import { report } from "./report.ts";
import { ageWal, brief, CONNECTIONS, type Emulators, outcomeOf, providerObjects, startEmulators, threeProviderMount } from "./bad-input-support.ts";

type Provider = "openai" | "litellm" | "openrouter";
const PROVIDERS: Provider[] = ["openai", "litellm", "openrouter"];
const NAMES: Record<Provider, string> = { openai: "OpenAI", litellm: "LiteLLM", openrouter: "OpenRouter" };

/** Where each provider creates, deletes and lists what the engine issues, and checks its credential. */
const ROUTES: Record<Provider, { create: FaultRuleInput; remove: FaultRuleInput; verify: FaultRuleInput }> = {
  openai: {
    create: { method: "POST", pathRegex: "^/v1/organization/projects/[^/]+/service_accounts$", action: { type: "latency", ms: 0 } },
    remove: { method: "DELETE", pathRegex: "^/v1/organization/projects/[^/]+/service_accounts/[^/]+$", action: { type: "latency", ms: 0 } },
    verify: { method: "GET", path: "/v1/organization/admin_api_keys", action: { type: "latency", ms: 0 } },
  },
  litellm: {
    create: { method: "POST", path: "/key/generate", action: { type: "latency", ms: 0 } },
    remove: { method: "POST", path: "/key/delete", action: { type: "latency", ms: 0 } },
    verify: { method: "GET", path: "/key/list", action: { type: "latency", ms: 0 } },
  },
  openrouter: {
    create: { method: "POST", pathRegex: "^/api/v1/keys/?$", action: { type: "latency", ms: 0 } },
    remove: { method: "DELETE", pathRegex: "^/api/v1/keys/[^/]+$", action: { type: "latency", ms: 0 } },
    verify: { method: "GET", pathRegex: "^/api/v1/keys/?$", action: { type: "latency", ms: 0 } },
  },
};

const HTML = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>";

/** The hostile answers, each for every provider; all but one come after the provider acted. */
function hostileAnswers(p: Provider): Array<{ label: string; action: FaultAction }> {
  const keyField = p === "openai" ? "api_key.value" : "key";
  // What the client reads from the answer; LiteLLM's has no object it relies on, so its key becomes a list.
  const objectField = p === "openai" ? "api_key" : p === "openrouter" ? "data" : "key";
  return [
    { label: "a 2 MiB body (over the 1 MiB cap)", action: { type: "malformed", variant: "huge", sizeBytes: 2 << 20 } },
    { label: "numbers for strings, strings for objects", action: { type: "malformed", variant: "wrong-types" } },
    { label: "the key value missing", action: { type: "malformed", variant: "missing-fields", fields: [keyField.split(".").at(-1)!] } },
    { label: "a number for the key", action: { type: "malformed", variant: "replace", values: { [keyField]: 12345 } } },
    { label: `an array for the ${objectField} ${p === "litellm" ? "string" : "object"}`, action: { type: "malformed", variant: "replace", values: { [objectField]: [{ id: "x" }] } } },
    { label: "a JSON array for the whole body", action: { type: "status", status: p === "openrouter" ? 201 : 200, afterHandler: true, body: [{ id: "x", key: "sk-fake-0000000000" }] } },
    { label: "invalid JSON", action: { type: "status", status: 200, afterHandler: true, rawBody: '{"id": "svc_acct_x", "api_key": {', contentType: "application/json" } },
    { label: "an HTML page with a 200", action: { type: "malformed", variant: "not-json" } },
    { label: "an HTML 502 page after acting", action: { type: "status", status: 502, afterHandler: true, rawBody: HTML, contentType: "text/html" } },
    { label: "an HTML 503 page before acting", action: { type: "status", status: 503, rawBody: HTML, contentType: "text/html" } },
    { label: "an empty 200", action: { type: "malformed", variant: "empty" } },
    { label: "a body cut off halfway", action: { type: "malformed", variant: "truncated" } },
  ];
}

/** Key-shaped strings and the credentials: none may appear in an error. */
function leaks(message: string, em: Emulators): boolean {
  return /\bsk-[A-Za-z0-9_-]{6,}/.test(message) || [em.openai.adminKey, em.litellm.masterKey, em.openrouter.managementKey].some((k) => message.includes(k));
}

/** A clear refusal: a LogicalError naming the provider and what was wrong, and no key. */
function unclear(err: unknown, p: Provider, em: Emulators): string | undefined {
  const o = outcomeOf(err);
  if (o.crash) return `crashed: ${o.message}`;
  if (!o.message.includes(NAMES[p])) return `the error does not name ${NAMES[p]}: ${o.message}`;
  if (!/malformed|not JSON|larger than|refused|broke off|no key|no hash|wrong type/i.test(o.message)) return `the error does not say what was wrong: ${o.message}`;
  if (leaks(o.message, em)) return `the error carries a key: ${o.message}`;
  return undefined;
}

describe("malicious provider answers", () => {
  let em: Emulators;
  let tb: TestBackend;
  const roles: Record<Provider, string> = { openai: "m-openai", litellm: "m-litellm", openrouter: "m-openrouter" };
  const control = (p: Provider) => em[p].control;

  before(async () => {
    em = await startEmulators();
    tb = await threeProviderMount(em);
    await tb.write(`roles/${roles.openai}`, { project_id: em.openai.projects[0]!.id });
    await tb.write(`roles/${roles.litellm}`, { connection: CONNECTIONS.litellm });
    await tb.write(`roles/${roles.openrouter}`, { connection: CONNECTIONS.openrouter });
  });
  after(async () => {
    await em?.close();
  });

  for (const p of PROVIDERS) {
    test(`${NAMES[p]}: a hostile answer to key creation is refused clearly, issues no lease, and leaves nothing at the provider`, async () => {
      const problems: string[] = [];
      let refused = 0;
      let atOnce = 0;
      let byRollback = 0;
      const cases = hostileAnswers(p);
      for (const c of cases) {
        const baseline = providerObjects(em)[p];
        const issuedBefore = (await tb.storage.list("issued/")).length;
        const firedBefore = control(p).stats().faultsFired;
        control(p).addFault({ ...ROUTES[p].create, action: c.action });
        let err: unknown;
        try {
          const res = await tb.read(`creds/${roles[p]}`);
          problems.push(`${c.label}: a lease was issued (${brief(res?.data, 120)})`);
          if (res?.secret) await tb.revoke(res);
          continue;
        } catch (e) {
          err = e;
        }
        const problem = unclear(err, p, em);
        if (problem) problems.push(`${c.label}: ${problem}`);
        else refused++;
        if ((await tb.storage.list("issued/")).length !== issuedBefore) problems.push(`${c.label}: an issued record was kept`);
        if (control(p).stats().faultsFired !== firedBefore + 1) problems.push(`${c.label}: the fault did not fire`);
        if (providerObjects(em)[p] === baseline) {
          atOnce++;
        } else {
          // Left behind: the next rollback tick must find it by name and delete it.
          await ageWal(tb);
          try {
            await tb.rollback();
          } catch (e) {
            problems.push(`${c.label}: the rollback failed: ${outcomeOf(e).message}`);
          }
          if (providerObjects(em)[p] === baseline) byRollback++;
          else problems.push(`${c.label}: ${providerObjects(em)[p] - baseline} object(s) orphaned at the provider after the rollback`);
        }
        const wal = await tb.storage.list("wal/");
        if (wal.length > 0) {
          await ageWal(tb);
          await tb.rollback().catch(() => undefined);
          if ((await tb.storage.list("wal/")).length > 0) problems.push(`${c.label}: a WAL entry outlived its rollback`);
        }
      }
      // Healthy again: one more issuance works and revokes cleanly.
      const baseline = providerObjects(em)[p];
      const healthy = (await tb.read(`creds/${roles[p]}`))!;
      await tb.revoke(healthy);
      if (providerObjects(em)[p] !== baseline) problems.push("the issuance after the faults left an object");
      report({
        area: "malicious-provider",
        scenario: `${NAMES[p]} key creation answered with hostile bodies`,
        tried: `${cases.length} answers: ${cases.map((c) => c.label).join("; ")}`,
        found: `${refused} refused clearly, no lease; left nothing ${atOnce}, cleaned by the WAL rollback ${byRollback}; ${problems.length} problems${problems.length ? `: ${problems.slice(0, 3).join(" | ")}` : ""}`,
        ok: problems.length === 0,
      });
      assert.deepEqual(problems, []);
    });
  }

  test("a hostile answer to the connection check stores nothing and names the endpoint field", async () => {
    const problems: string[] = [];
    let refused = 0;
    const cm = await threeProviderMount(em);
    const writes: Record<Provider, [string, Record<string, unknown>, string]> = {
      openai: ["connections/oa2", { admin_api_key: em.openai.adminKey, admin_api_key_id: em.openai.adminKeyId, organization_id: em.openai.organizationId, api_endpoint: em.openai.baseUrl }, "api_endpoint"],
      litellm: ["connections/ll2", { base_url: em.litellm.baseUrl, master_key: em.litellm.masterKey }, "base_url"],
      openrouter: ["connections/or2", { provider: "openrouter", base_url: em.openrouter.baseUrl, provisioning_key: em.openrouter.managementKey }, "base_url"],
    };
    const answers: Array<[string, FaultAction]> = [
      ["a 2 MiB body", { type: "malformed", variant: "huge", sizeBytes: 2 << 20 }],
      ["wrong types", { type: "malformed", variant: "wrong-types" }],
      ["an array for the whole body", { type: "status", status: 200, body: [] }],
      ["an HTML page with a 200", { type: "malformed", variant: "not-json" }],
      ["an HTML 502 page", { type: "status", status: 502, rawBody: HTML, contentType: "text/html" }],
      ["an empty 200", { type: "malformed", variant: "empty" }],
    ];
    for (const p of PROVIDERS) {
      const [path, data, field] = writes[p];
      for (const [label, action] of answers) {
        control(p).addFault({ ...ROUTES[p].verify, action });
        try {
          await cm.write(path, data as never);
          problems.push(`${NAMES[p]}, ${label}: the connection was saved`);
        } catch (err) {
          const o = outcomeOf(err);
          if (o.crash || o.status !== 400 || !o.message.includes(field) || leaks(o.message, em)) problems.push(`${NAMES[p]}, ${label}: ${o.status} ${o.message}`);
          else refused++;
        }
        control(p).clearFaults();
        // An unchanged credential is not checked again: start each case from nothing.
        if ((await cm.read(path)) !== undefined) {
          problems.push(`${NAMES[p]}, ${label}: stored`);
          await cm.delete(path);
        }
      }
    }
    report({
      area: "malicious-provider",
      scenario: "hostile answers to the connection check",
      tried: `${answers.length} answers (${answers.map(([l]) => l).join(", ")}) x OpenAI, LiteLLM, OpenRouter connection writes`,
      found: `${refused} refused with a 400 naming api_endpoint or base_url, none stored; ${problems.length} problems${problems.length ? `: ${problems.slice(0, 3).join(" | ")}` : ""}`,
      ok: problems.length === 0,
    });
    assert.deepEqual(problems, []);
  });

  test("a hostile answer to a revocation fails it for a retry (never a 400, which would give the lease up), and the retry deletes the key", async () => {
    const problems: string[] = [];
    let retried = 0;
    const answers: Array<[string, FaultAction]> = [
      ["an HTML 502 page before acting", { type: "status", status: 502, rawBody: HTML, contentType: "text/html" }],
      ["an HTML 502 page after acting", { type: "status", status: 502, afterHandler: true, rawBody: HTML, contentType: "text/html" }],
      ["a 2 MiB body after acting", { type: "malformed", variant: "huge", sizeBytes: 2 << 20 }],
      ["a body cut off halfway", { type: "malformed", variant: "truncated" }],
    ];
    for (const p of PROVIDERS) {
      for (const [label, action] of answers) {
        const baseline = providerObjects(em)[p];
        const lease = (await tb.read(`creds/${roles[p]}`))!;
        control(p).addFault({ ...ROUTES[p].remove, action });
        let failed = false;
        try {
          await tb.revoke(lease);
        } catch (err) {
          failed = true;
          const o = outcomeOf(err);
          if (o.crash || o.status < 500 || leaks(o.message, em)) problems.push(`${NAMES[p]}, ${label}: ${o.status} ${o.message}`);
        }
        control(p).clearFaults();
        const successIsTruthful = !failed && providerObjects(em)[p] === baseline;
        if (!failed && !successIsTruthful) problems.push(`${NAMES[p]}, ${label}: the revocation succeeded but the key is still there`);
        if (failed) {
          // What the server does next: it tries again.
          try {
            await tb.revoke(lease);
            retried++;
          } catch (err) {
            problems.push(`${NAMES[p]}, ${label}: the retry failed: ${outcomeOf(err).message}`);
          }
        }
        if (providerObjects(em)[p] !== baseline) problems.push(`${NAMES[p]}, ${label}: the key outlived its revocation`);
      }
    }
    report({
      area: "malicious-provider",
      scenario: "hostile answers to revocation",
      tried: `${answers.length} answers (${answers.map(([l]) => l).join(", ")}) x OpenAI, LiteLLM, OpenRouter key deletion`,
      found: `${retried} failed with a 5xx and were deleted by the retry, the rest deleted at once; ${problems.length} problems${problems.length ? `: ${problems.slice(0, 3).join(" | ")}` : ""}`,
      ok: problems.length === 0,
    });
    assert.deepEqual(problems, []);
  });

  test("a hostile answer to the OpenAI project check refuses the role write with a 400 and stores nothing", async () => {
    const problems: string[] = [];
    let refused = 0;
    const answers: Array<[string, FaultAction]> = [
      ["a 2 MiB body", { type: "malformed", variant: "huge", sizeBytes: 2 << 20 }],
      ["wrong types", { type: "malformed", variant: "wrong-types" }],
      ["the id missing", { type: "malformed", variant: "missing-fields", fields: ["id"] }],
      ["an array for the whole body", { type: "status", status: 200, body: [] }],
      ["an HTML page with a 200", { type: "malformed", variant: "not-json" }],
      ["an HTML 502 page", { type: "status", status: 502, rawBody: HTML, contentType: "text/html" }],
    ];
    for (const [label, action] of answers) {
      control("openai").addFault({ method: "GET", pathRegex: "^/v1/organization/projects/[^/]+$", action });
      try {
        await tb.write("roles/checked", { project_id: em.openai.projects[0]!.id });
        problems.push(`${label}: the role was written`);
      } catch (err) {
        const o = outcomeOf(err);
        if (o.crash || o.status !== 400 || !/project/.test(o.message) || leaks(o.message, em)) problems.push(`${label}: ${o.status} ${o.message}`);
        else refused++;
      }
      control("openai").clearFaults();
      if ((await tb.read("roles/checked")) !== undefined) {
        problems.push(`${label}: stored`);
        await tb.delete("roles/checked");
      }
    }
    report({
      area: "malicious-provider",
      scenario: "hostile answers to the OpenAI project check",
      tried: `${answers.length} answers (${answers.map(([l]) => l).join(", ")}) to the role write's project lookup`,
      found: `${refused} refused with a 400 naming the project, none stored; ${problems.length} problems${problems.length ? `: ${problems.slice(0, 3).join(" | ")}` : ""}`,
      ok: problems.length === 0,
    });
    assert.deepEqual(problems, []);
  });

  test("a hostile answer to the rollback's own lookups keeps the WAL entry, and a later tick deletes the orphan", async () => {
    const problems: string[] = [];
    const lookups: Record<Provider, FaultRuleInput> = {
      openai: { method: "GET", pathRegex: "^/v1/organization/projects/[^/]+/service_accounts$", action: { type: "malformed", variant: "wrong-types" } },
      // LiteLLM deletes by alias; its hostile answer comes from the delete itself.
      litellm: { method: "POST", path: "/key/delete", action: { type: "status", status: 200, rawBody: HTML, contentType: "text/html", afterHandler: false } },
      openrouter: { method: "GET", pathRegex: "^/api/v1/keys/?$", action: { type: "malformed", variant: "replace", values: { data: { not: "a list" } } } },
    };
    let healed = 0;
    for (const p of PROVIDERS) {
      const baseline = providerObjects(em)[p];
      // The answer to the creation is lost: the key exists, only the WAL entry knows its name.
      control(p).addFault({ ...ROUTES[p].create, action: { type: "drop", afterHandler: true } });
      await tb.read(`creds/${roles[p]}`).then(
        () => problems.push(`${NAMES[p]}: a lease was issued without an answer`),
        () => undefined,
      );
      if (providerObjects(em)[p] !== baseline + 1) problems.push(`${NAMES[p]}: the creation did not happen`);
      await ageWal(tb);
      control(p).addFault({ ...lookups[p], times: "always" });
      await tb.rollback().then(
        () => problems.push(`${NAMES[p]}: the rollback reported success on a hostile answer`),
        (err: unknown) => {
          const o = outcomeOf(err);
          if (o.crash) problems.push(`${NAMES[p]}: the rollback crashed: ${o.message}`);
        },
      );
      if ((await tb.storage.list("wal/")).length === 0) problems.push(`${NAMES[p]}: the WAL entry was dropped although the orphan was not deleted`);
      control(p).clearFaults();
      await tb.rollback().catch((err: unknown) => problems.push(`${NAMES[p]}: the healed rollback failed: ${outcomeOf(err).message}`));
      if (providerObjects(em)[p] === baseline && (await tb.storage.list("wal/")).length === 0) healed++;
      else problems.push(`${NAMES[p]}: the orphan or its WAL entry survived the healed rollback`);
    }
    report({
      area: "malicious-provider",
      scenario: "hostile answers to the WAL rollback's lookups",
      tried: "per provider: a creation whose answer is lost, then a rollback tick whose lookup (OpenAI and OpenRouter listing, LiteLLM delete by alias) gets a hostile answer, then a healthy tick",
      found: `the hostile tick failed and kept its WAL entry; ${healed} of 3 orphans deleted by the next tick; ${problems.length} problems${problems.length ? `: ${problems.slice(0, 3).join(" | ")}` : ""}`,
      ok: problems.length === 0,
    });
    assert.deepEqual(problems, []);
  });
});
