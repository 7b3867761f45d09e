// The command line: one JSON line with URL and credentials, served until SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { call, pick, str } from "./helpers.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

function start(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [MAIN, ...args], { stdio: ["pipe", "pipe", "pipe"] });
}

function firstLine(child: ChildProcessWithoutNullStreams): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`no line on stdout within 10 s; got ${JSON.stringify(buffer)}`)), 10_000);
    child.stdout.on("data", (chunk) => {
      buffer += String(chunk);
      const newline = buffer.indexOf("\n");
      if (newline === -1) return;
      clearTimeout(timer);
      resolve(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing a line`));
    });
  });
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  return code;
}

for (const [provider, credential, check] of [
  ["openai", "adminKey", "/v1/organization/projects"],
  ["litellm", "masterKey", "/key/list"],
  ["openrouter", "managementKey", "/api/v1/keys"],
] as const) {
  test(`--provider ${provider} prints its base URL and credentials, serves them, and exits 0 on SIGTERM`, async () => {
    const child = start(["--provider", provider, "--latency-ms", "1"]);
    try {
      const line = await firstLine(child);
      assert.equal(line["provider"], provider);
      const url = str(line, "url");
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await call(url, "GET", check, { token: str(line, credential) });
      assert.equal(res.status, 200);
      assert.equal(pick((await call(url, "GET", "/__emulator/latency")).body, "ms"), 1);
    } finally {
      assert.equal(await stop(child), 0);
    }
  });
}

test("an unknown provider exits 2 with the usage on stderr and nothing on stdout", async () => {
  const child = start(["--provider", "anthropic"]);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += String(c)));
  child.stderr.on("data", (c) => (stderr += String(c)));
  const [code] = (await once(child, "exit")) as [number | null];
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /unknown provider "anthropic"/);
  assert.match(stderr, /^usage:/m);
});

test("--port binds the requested port", async () => {
  const probe = await import("node:net").then(
    (net) =>
      new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, "127.0.0.1", () => {
          const port = (s.address() as { port: number }).port;
          s.close(() => resolve(port));
        });
      }),
  );
  const child = start(["--provider", "openai", "--port", String(probe)]);
  try {
    const line = await firstLine(child);
    assert.equal(line["url"], `http://127.0.0.1:${probe}`);
    assert.equal(line["baseUrl"], `http://127.0.0.1:${probe}/v1`);
  } finally {
    await stop(child);
  }
});
