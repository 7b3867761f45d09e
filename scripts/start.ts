// The main job: a dev OpenBao with the AI engine mounted at openai/ against
// the OpenAI Admin API emulator (or the real API when OPENAI_ADMIN_API_KEY,
// OPENAI_ADMIN_API_KEY_ID, OPENAI_ORG_ID and OPENAI_TEST_PROJECT_ID are set),
// an example role and policy, and one issued key. Ctrl-C revokes what it
// issued and stops everything it started.
import { join } from "node:path";
import { DevServer } from "./lib/dev-server.ts";
import { startOpenAIEmulator, type OpenAIEmulator } from "../tools/emulators/openai/emulator.ts";

const root = join(import.meta.dirname, "..");
const bao = join(root, ".venv", "bin", "bao");
const plugins = ["vault-plugin-secrets-ai", "vault-plugin-example-kv"].map((n) => join(root, "dist", "bin", n));
const say = (s: string) => process.stdout.write(s + "\n");

const real = ["OPENAI_ADMIN_API_KEY", "OPENAI_ADMIN_API_KEY_ID", "OPENAI_ORG_ID", "OPENAI_TEST_PROJECT_ID"].every((k) => process.env[k]);
let emulator: OpenAIEmulator | undefined;
let server: DevServer | undefined;
let stopping = false;

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  if (server) {
    say("\n==> Revoking every lease issued under openai/ (the keys are deleted at the provider)");
    const r = await server.cli(["lease", "revoke", "-sync", "-prefix", "openai/creds/"]);
    say(r.code === 0 ? "    done" : `    revocation failed: ${r.stderr.trim()}`);
    say("==> Stopping OpenBao (its plugin processes end with it)");
    await server.stop();
  }
  if (emulator) {
    say("==> Stopping the OpenAI emulator");
    await emulator.close();
  }
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  let connection: { key: string; keyId: string; org: string; endpoint: string; project: string };
  if (real) {
    say("==> Using the real OpenAI Admin API (credentials found in the environment)");
    connection = {
      key: process.env["OPENAI_ADMIN_API_KEY"]!,
      keyId: process.env["OPENAI_ADMIN_API_KEY_ID"]!,
      org: process.env["OPENAI_ORG_ID"]!,
      endpoint: process.env["OPENAI_API_ENDPOINT"] ?? "https://api.openai.com/v1",
      project: process.env["OPENAI_TEST_PROJECT_ID"]!,
    };
  } else {
    say("==> Starting the OpenAI Admin API emulator on 127.0.0.1");
    emulator = await startOpenAIEmulator();
    connection = { key: emulator.adminKey, keyId: emulator.adminKeyId, org: emulator.organizationId, endpoint: emulator.baseUrl, project: emulator.projects[0]!.id };
    say(`    ${emulator.baseUrl}`);
  }

  say("==> Starting a dev OpenBao with the plugins in its plugin directory");
  server = await DevServer.start("openbao", bao, plugins, { logLevel: "info" });
  const s = server;
  say(`    ${s.addr}`);

  say("==> Mounting the AI engine at openai/ and configuring it");
  await s.cliOk(["secrets", "enable", "-path=openai", "vault-plugin-secrets-ai"]);
  await s.cliOk(["write", "openai/config", `admin_api_key=${connection.key}`, `admin_api_key_id=${connection.keyId}`, `organization_id=${connection.org}`, `api_endpoint=${connection.endpoint}`]);
  await s.cliOk(["write", "openai/roles/analytics", `project_id=${connection.project}`, "ttl=1h", "max_ttl=8h"]);
  const policy = 'path "openai/creds/analytics" { capabilities = ["read"] }\n';
  await s.http("PUT", "sys/policies/acl/analytics-team", { policy });

  say("==> Issuing one key from openai/roles/analytics");
  const issued = await s.cliOk(["read", "openai/creds/analytics"]);
  say(issued.replace(/(api_key\s+)(\S{12})\S+/, "$1$2… (the full key is in the lease's response)"));

  say(`Try it (in another shell):
  export BAO_ADDR=${s.addr} BAO_TOKEN=${s.token}
  ${bao} read openai/creds/analytics            # another key, in its own lease
  ${bao} lease revoke -prefix openai/creds/     # delete them all at the provider
  ${bao} write -f openai/config/rotate          # rotate the admin key
  ${bao} read openai/config
  ${bao} token create -policy=analytics-team    # a token that may only read that role's creds

Press Ctrl-C to revoke what was issued and stop everything.`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  await stop(1);
}
