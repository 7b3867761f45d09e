// The main job: a dev OpenBao with the AI engine mounted at openai/ and
// litellm/, each against its local emulator (or the real provider when its
// credentials are in the environment), example roles and policies, and one
// issued key of each kind. Ctrl-C revokes what it issued, checks that the keys
// no longer work at the provider, and stops everything it started.
//
// Real providers: OPENAI_ADMIN_API_KEY, OPENAI_ADMIN_API_KEY_ID, OPENAI_ORG_ID
// and OPENAI_TEST_PROJECT_ID (OPENAI_API_ENDPOINT optional) for OpenAI;
// LITELLM_BASE_URL and LITELLM_MASTER_KEY (LITELLM_MODEL optional) for LiteLLM.
import { join } from "node:path";
import { DevServer } from "./lib/dev-server.ts";
import { startOpenAIEmulator, type OpenAIEmulator } from "../tools/emulators/openai/emulator.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator } from "../tools/emulators/litellm/emulator.ts";

const root = join(import.meta.dirname, "..");
const bao = join(root, ".venv", "bin", "bao");
const plugins = ["vault-plugin-secrets-ai", "vault-plugin-example-kv"].map((n) => join(root, "dist", "bin", n));
const say = (s: string) => process.stdout.write(s + "\n");
const env = (k: string) => process.env[k] ?? "";
const haveEnv = (...keys: string[]) => keys.every((k) => env(k) !== "");

interface Issued {
  mount: string;
  leaseId: string;
  key: string;
  /** Whether the key can still call its provider's API. */
  works: () => Promise<boolean>;
}

let openaiEmulator: OpenAIEmulator | undefined;
let litellmEmulator: LiteLLMEmulator | undefined;
let server: DevServer | undefined;
const issued: Issued[] = [];
let stopping = false;

async function canCall(url: string, key: string): Promise<boolean> {
  try {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  if (server) {
    for (const mount of ["openai", "litellm"]) {
      say(`\n==> Revoking every lease under ${mount}/creds/ (the keys are deleted at the provider)`);
      const r = await server.cli(["lease", "revoke", "-sync", "-prefix", `${mount}/creds/`]);
      say(r.code === 0 ? "    done" : `    revocation failed: ${r.stderr.trim()}`);
      if (r.code !== 0) code = 1;
    }
    for (const key of issued) {
      const alive = await key.works();
      say(`    the ${key.mount} key issued at start-up ${alive ? "STILL WORKS at the provider" : "no longer works at the provider"}`);
      if (alive) code = 1;
    }
    say("==> Stopping OpenBao (its plugin processes end with it)");
    await server.stop();
  }
  for (const [name, em] of [["OpenAI", openaiEmulator], ["LiteLLM", litellmEmulator]] as const) {
    if (!em) continue;
    say(`==> Stopping the ${name} emulator`);
    await em.close();
  }
  say("Stopped.");
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

async function issue(s: DevServer, mount: string, role: string, keyField: string, works: (key: string) => Promise<boolean>) {
  say(`==> Issuing one key from ${mount}/roles/${role}`);
  const out = JSON.parse(await s.cliOk(["read", "-format=json", `${mount}/creds/${role}`])) as { lease_id: string; lease_duration: number; data: Record<string, unknown> };
  const key = String(out.data[keyField]);
  issued.push({ mount, leaseId: out.lease_id, key, works: () => works(key) });
  say(`    lease_id        ${out.lease_id}`);
  say(`    lease_duration  ${out.lease_duration}s`);
  for (const [k, v] of Object.entries(out.data)) say(`    ${k.padEnd(15)} ${typeof v === "string" ? v : JSON.stringify(v)}`);
  if (!(await works(key))) throw new Error(`the ${mount} key was issued but does not work at the provider`);
  say("    (checked: the key works at the provider)");
}

try {
  let openai: { key: string; keyId: string; org: string; endpoint: string; project: string };
  if (haveEnv("OPENAI_ADMIN_API_KEY", "OPENAI_ADMIN_API_KEY_ID", "OPENAI_ORG_ID", "OPENAI_TEST_PROJECT_ID")) {
    say("==> OpenAI: using the Admin API at OPENAI_API_ENDPOINT or api.openai.com (credentials found in the environment)");
    openai = { key: env("OPENAI_ADMIN_API_KEY"), keyId: env("OPENAI_ADMIN_API_KEY_ID"), org: env("OPENAI_ORG_ID"), endpoint: env("OPENAI_API_ENDPOINT") || "https://api.openai.com/v1", project: env("OPENAI_TEST_PROJECT_ID") };
  } else {
    say("==> Starting the OpenAI Admin API emulator on 127.0.0.1");
    openaiEmulator = await startOpenAIEmulator();
    const em = openaiEmulator;
    openai = { key: em.adminKey, keyId: em.adminKeyId, org: em.organizationId, endpoint: em.baseUrl, project: em.projects[0]!.id };
    say(`    ${em.baseUrl}`);
  }

  let litellm: { baseUrl: string; masterKey: string; model: string };
  if (haveEnv("LITELLM_BASE_URL", "LITELLM_MASTER_KEY")) {
    say("==> LiteLLM: using the proxy at LITELLM_BASE_URL (credentials found in the environment)");
    litellm = { baseUrl: env("LITELLM_BASE_URL"), masterKey: env("LITELLM_MASTER_KEY"), model: env("LITELLM_MODEL") || "gpt-4o-mini" };
  } else {
    say("==> Starting the LiteLLM proxy emulator on 127.0.0.1");
    litellmEmulator = await startLiteLLMEmulator();
    litellm = { baseUrl: litellmEmulator.baseUrl, masterKey: litellmEmulator.masterKey, model: "gpt-4o-mini" };
    say(`    ${litellmEmulator.baseUrl}`);
  }

  say("==> Starting a dev OpenBao with the plugins in its plugin directory");
  server = await DevServer.start("openbao", bao, plugins, { logLevel: "info" });
  const s = server;
  say(`    ${s.addr}`);

  say("==> Mounting the AI engine at openai/ and litellm/ and configuring each (a cheap provider call checks the credentials)");
  await s.cliOk(["secrets", "enable", "-path=openai", "vault-plugin-secrets-ai"]);
  await s.cliOk(["secrets", "enable", "-path=litellm", "vault-plugin-secrets-ai"]);
  await s.cliOk(["write", "openai/config", `admin_api_key=${openai.key}`, `admin_api_key_id=${openai.keyId}`, `organization_id=${openai.org}`, `api_endpoint=${openai.endpoint}`]);
  await s.cliOk(["write", "openai/roles/analytics", `project_id=${openai.project}`, "ttl=1h", "max_ttl=8h"]);
  await s.cliOk(["write", "litellm/config", `base_url=${litellm.baseUrl}`, `master_key=${litellm.masterKey}`]);
  await s.cliOk(["write", "litellm/roles/analyst", `models=${litellm.model}`, "max_budget=5", "budget_duration=30d", "rpm_limit=60", "ttl=1h", "max_ttl=8h"]);

  say("==> Writing example policies: analytics-team may read openai/creds/analytics, analysts may read litellm/creds/analyst");
  await s.http("PUT", "sys/policies/acl/analytics-team", { policy: 'path "openai/creds/analytics" { capabilities = ["read"] }\n' });
  await s.http("PUT", "sys/policies/acl/analysts", { policy: 'path "litellm/creds/analyst" { capabilities = ["read"] }\n' });

  await issue(s, "openai", "analytics", "api_key", (key) => canCall(`${openai.endpoint}/models`, key));
  await issue(s, "litellm", "analyst", "key", (key) => canCall(`${litellm.baseUrl}/v1/models`, key));

  say(`
Running. OpenBao ${s.addr} (root token: ${s.token}); the engine is mounted at openai/ and litellm/.
Try it (in another shell):
  export BAO_ADDR=${s.addr} BAO_TOKEN=${s.token}
  ${bao} read openai/creds/analytics            # another OpenAI key, in its own lease
  ${bao} read litellm/creds/analyst             # another LiteLLM virtual key (budget 5, 60 rpm)
  ${bao} lease lookup ${issued[0]!.leaseId}
  ${bao} lease revoke -prefix openai/creds/     # delete them all at the provider
  ${bao} write -f openai/config/rotate          # rotate the OpenAI admin key
  ${bao} read litellm/spend                     # spend of this mount's live LiteLLM keys
  curl -s -H "X-Vault-Token: ${s.token}" ${s.addr}/v1/openai/metrics   # Prometheus metrics (text, so not through bao read)
  ${bao} token create -policy=analytics-team    # a token that may only read that role's creds

Press Ctrl-C to revoke what was issued and stop everything.`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  await stop(1);
}
