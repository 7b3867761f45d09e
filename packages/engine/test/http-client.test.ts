// The HTTP layer every provider client shares, against a local server that
// misbehaves on purpose: what each kind of failure becomes, and that none of
// them leaks the credential.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpClient, ProviderError, type HttpClientOptions } from "../src/providers/http.ts";

const SECRET = "sk-admin-0123456789abcdef";
const seenConnections = new Set<unknown>();

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  "/ok": (_req, res) => json(res, 200, { ok: true }),
  "/slow": (_req, res) => setTimeout(() => json(res, 200, { ok: "late" }), 400),
  "/stall-body": (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
    res.write('{"a":');
  },
  "/drop": (req) => req.socket.destroy(),
  "/cut-body": (req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
    res.write('{"a":');
    setTimeout(() => req.socket.destroy(), 20);
  },
  "/huge": (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(`"${"x".repeat(64 * 1024)}"`);
  },
  "/redirect": (_req, res) => {
    res.writeHead(302, { location: "/ok" });
    res.end();
  },
  "/echo-key": (req, res) => json(res, 401, { error: { message: `Incorrect key provided: ${req.headers.authorization?.slice(7)}` } }),
  "/html": (_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<html>maintenance</html>");
  },
};

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  seenConnections.add(req.socket);
  const route = routes[req.url ?? ""];
  if (route) route(req, res);
  else json(res, 404, { error: { message: "no such route" } });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.closeAllConnections();
  server.close();
});

function client(options: Partial<HttpClientOptions> = {}): HttpClient {
  return new HttpClient({
    provider: "demo",
    baseUrl,
    headers: () => ({ Authorization: `Bearer ${SECRET}` }),
    credential: () => SECRET,
    retry: { maxAttempts: 1 },
    timeoutMs: 2_000,
    ...options,
  });
}

async function failure(c: HttpClient, path: string, idempotent = false): Promise<ProviderError> {
  const err = await c.request("GET", path, { operation: path, idempotent }).then(
    () => assert.fail(`${path} should fail`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProviderError, `a ProviderError, not ${String(err)}`);
  assert.ok(!err.message.includes(SECRET), "the credential stays out of the error");
  return err;
}

test("a JSON answer comes back parsed, with its status and headers", async () => {
  const res = await client().request("GET", "/ok", { operation: "ok", idempotent: true });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { ok: true });
  assert.equal(res.headers["content-type"], "application/json");
});

test("sequential calls reuse one kept-alive connection", async () => {
  const c = client();
  const before = seenConnections.size;
  for (let i = 0; i < 5; i++) await c.request("GET", "/ok", { operation: "ok", idempotent: true });
  assert.equal(seenConnections.size - before, 1);
  c.close();
});

test("a provider slower than the timeout is a retryable timeout naming the operation", async () => {
  const err = await failure(client({ timeoutMs: 100 }), "/slow");
  assert.match(err.message, /^demo did not answer \/slow within 100 ms$/);
  assert.equal(err.retryable, true);
});

test("a body that stops arriving is cut off by the same timeout", async () => {
  const err = await failure(client({ timeoutMs: 150 }), "/stall-body");
  assert.match(err.message, /timed out while sending the response to \/stall-body/);
});

test("a connection dropped before the answer is a network error with its code", async () => {
  const err = await failure(client(), "/drop");
  assert.match(err.message, /^cannot reach demo for \/drop: ECONNRESET$/);
  assert.equal(err.retryable, true);
});

test("a connection dropped in the middle of the body says the answer broke off", async () => {
  const err = await failure(client(), "/cut-body");
  assert.match(err.message, /broke off the response to \/cut-body/);
});

test("an answer over the size cap is refused", async () => {
  const err = await failure(client({ maxResponseBytes: 1024 }), "/huge");
  assert.match(err.message, /larger than 1024 bytes/);
});

test("a redirect is not followed: the credential goes only where it was configured to", async () => {
  const err = await failure(client(), "/redirect");
  assert.match(err.message, /refused \/redirect \(HTTP 302\)/);
});

test("a provider echoing the credential in its error gets it cut out", async () => {
  const err = await failure(client(), "/echo-key");
  assert.equal(err.status, 401);
  assert.match(err.message, /HTTP 401/);
});

test("a success whose body is not JSON is an error, not an empty answer", async () => {
  const err = await failure(client(), "/html");
  assert.match(err.message, /with a body that is not JSON/);
});

test("a refused connection is safe to resend even when the request is not idempotent", async () => {
  const attempts: number[] = [];
  const c = new HttpClient({
    provider: "demo",
    baseUrl: "http://127.0.0.1:1",
    headers: () => ({}),
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    onRequest: (r) => attempts.push(r.attempt),
  });
  const err = await c.request("POST", "/x", { operation: "create", idempotent: false, body: {} }).catch((e: unknown) => e);
  assert.match(String((err as Error).message), /ECONNREFUSED/);
  assert.deepEqual(attempts, [1, 2, 3]);
});

test("a credential that cannot be a header value fails without quoting it and is not retried", async () => {
  const bad = `${SECRET}\nX-Injected: 1`;
  const c = new HttpClient({ provider: "demo", baseUrl, headers: () => ({ Authorization: `Bearer ${bad}` }), credential: () => bad, retry: { maxAttempts: 3 } });
  const err = await failure(c, "/ok", true);
  assert.match(err.message, /^cannot reach demo for \/ok: ERR_INVALID_CHAR$/);
  assert.equal(err.retryable, false);
});

test("with NODE_USE_ENV_PROXY set, calls go through HTTP_PROXY, as fetch's did", async () => {
  const seen: string[] = [];
  const proxy = createServer((req, res) => {
    seen.push(req.url ?? "");
    json(res, 200, { via: "proxy" });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const saved = { use: process.env["NODE_USE_ENV_PROXY"], proxy: process.env["HTTP_PROXY"], no: process.env["NO_PROXY"] };
  process.env["NODE_USE_ENV_PROXY"] = "1";
  process.env["HTTP_PROXY"] = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  delete process.env["NO_PROXY"];
  try {
    const c = new HttpClient({ provider: "demo", baseUrl: "http://provider.invalid/v1", headers: () => ({}), retry: { maxAttempts: 1 } });
    const res = await c.request("GET", "/models", { operation: "models", idempotent: true });
    assert.deepEqual(res.body, { via: "proxy" });
    assert.deepEqual(seen, ["http://provider.invalid/v1/models"]);
    c.close();
  } finally {
    for (const [k, v] of [["NODE_USE_ENV_PROXY", saved.use], ["HTTP_PROXY", saved.proxy], ["NO_PROXY", saved.no]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    proxy.closeAllConnections();
    proxy.close();
  }
});
