// Runs one emulator on 127.0.0.1 until SIGINT or SIGTERM. Prints exactly one
// JSON line to stdout (base URL and seeded credentials) so a script can read
// it; everything else goes to stderr.
//
//   node tools/emulators/main.ts --provider openai|litellm|openrouter [--port N] [--latency-ms N]
//     [--admin-key sk-admin-...] [--admin-key-id key_...] [--organization-id org-...]   (openai)
//     [--master-key sk-...]                                                              (litellm)
//     [--management-key sk-or-v1-...]                                                    (openrouter)
import { parseArgs } from "node:util";
import { startLiteLLMEmulator } from "./litellm/emulator.ts";
import { startOpenAIEmulator } from "./openai/emulator.ts";
import { startOpenRouterEmulator } from "./openrouter/emulator.ts";

const USAGE = "usage: node tools/emulators/main.ts --provider openai|litellm|openrouter [--port N] [--latency-ms N]";

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function integer(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) fail(`--${name} must be an integer between ${min} and ${max}`);
  return Number(raw);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      provider: { type: "string" },
      port: { type: "string" },
      "latency-ms": { type: "string" },
      "admin-key": { type: "string" },
      "admin-key-id": { type: "string" },
      "organization-id": { type: "string" },
      "master-key": { type: "string" },
      "management-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
}
try {
  args = parse();
} catch (err) {
  fail((err as Error).message);
}
if (args.values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const port = integer("port", args.values.port, 0, 65535);
const latencyMs = integer("latency-ms", args.values["latency-ms"], 0, 600_000);
const common = { ...(port !== undefined ? { port } : {}), ...(latencyMs !== undefined ? { latencyMs } : {}) };
const v = args.values;

let line: Record<string, unknown>;
let close: () => Promise<void>;
try {
  switch (v.provider) {
    case "openai": {
      const emu = await startOpenAIEmulator({
        ...common,
        ...(v["admin-key"] !== undefined ? { adminKey: v["admin-key"] } : {}),
        ...(v["admin-key-id"] !== undefined ? { adminKeyId: v["admin-key-id"] } : {}),
        ...(v["organization-id"] !== undefined ? { organizationId: v["organization-id"] } : {}),
      });
      line = {
        provider: "openai",
        url: emu.url,
        baseUrl: emu.baseUrl,
        controlUrl: `${emu.url}/__emulator`,
        organizationId: emu.organizationId,
        adminKey: emu.adminKey,
        adminKeyId: emu.adminKeyId,
        projects: emu.projects,
      };
      close = emu.close;
      break;
    }
    case "litellm": {
      const emu = await startLiteLLMEmulator({ ...common, ...(v["master-key"] !== undefined ? { masterKey: v["master-key"] } : {}) });
      line = { provider: "litellm", url: emu.url, baseUrl: emu.baseUrl, controlUrl: `${emu.url}/__emulator`, masterKey: emu.masterKey };
      close = emu.close;
      break;
    }
    case "openrouter": {
      const emu = await startOpenRouterEmulator({ ...common, ...(v["management-key"] !== undefined ? { managementKey: v["management-key"] } : {}) });
      line = {
        provider: "openrouter",
        url: emu.url,
        baseUrl: emu.baseUrl,
        controlUrl: `${emu.url}/__emulator`,
        managementKey: emu.managementKey,
        managementKeyHash: emu.managementKeyHash,
      };
      close = emu.close;
      break;
    }
    default:
      fail(v.provider === undefined ? "--provider is required" : `unknown provider "${v.provider}"`);
  }
} catch (err) {
  process.stderr.write(`could not start the emulator: ${(err as Error).message}\n`);
  process.exit(1);
}

process.stdout.write(`${JSON.stringify(line)}\n`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
