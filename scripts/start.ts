// Starts a dev OpenBao with the plugins registered from dist/bin and mounted,
// prints how to use it, and stops everything on Ctrl-C.
import { join } from "node:path";
import { DevServer } from "./lib/dev-server.ts";

const root = join(import.meta.dirname, "..");
const bao = join(root, ".venv", "bin", "bao");
const plugins = ["vault-plugin-secrets-ai", "vault-plugin-example-kv"].map((n) => join(root, "dist", "bin", n));

const say = (s: string) => process.stdout.write(s + "\n");
say("==> Starting a dev OpenBao with the plugins in its plugin directory");
const server = await DevServer.start("openbao", bao, plugins, { logLevel: "info" });
let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  say("\n==> Stopping OpenBao (its plugin processes end with it)");
  await server.stop();
  process.exit(code);
};
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  await server.cliOk(["secrets", "enable", "-path=openai", "vault-plugin-secrets-ai"]);
  await server.cliOk(["secrets", "enable", "-path=litellm", "vault-plugin-secrets-ai"]);
  await server.cliOk(["secrets", "enable", "-path=kv", "vault-plugin-example-kv"]);
  await server.cliOk(["write", "kv/data/hello", "greeting=hello from a TypeScript plugin"]);
  const read = await server.cliOk(["read", "kv/data/hello"]);
  say(`==> Mounted the AI engine at openai/ and litellm/, and the example KV plugin at kv/\n\n$ bao read kv/data/hello\n${read}`);
  say(`Try it (in another shell):
  export BAO_ADDR=${server.addr} BAO_TOKEN=${server.token}
  ${bao} path-help openai/
  ${bao} write kv/data/demo user=alice && ${bao} read kv/data/demo
  ${bao} secrets list

Press Ctrl-C to stop OpenBao and everything it started.`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  await stop(1);
}
