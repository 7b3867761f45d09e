// The control API and the request log: what tests and benchmarks read back.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startOpenAIEmulator, type OpenAIEmulator } from "../openai/emulator.ts";
import { call, list, pick, str } from "./helpers.ts";

let emu: OpenAIEmulator;
let project: string;

before(async () => {
  emu = await startOpenAIEmulator();
  project = emu.projects[0]?.id ?? "";
});
after(() => emu.close());
beforeEach(() => emu.control.reset());

describe("request log", () => {
  test("records method, path, route, status and the fault that fired", async () => {
    emu.control.addFault({ path: "/v1/organization/projects", action: { type: "status", status: 503 } });
    await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
    await call(emu.url, "GET", `/v1/organization/projects/${project}`, { token: emu.adminKey });
    const entries = emu.control.requests();
    assert.deepEqual(
      entries.map((e) => [e.method, e.path, e.route, e.status, e.fault, e.outcome]),
      [
        ["GET", "/v1/organization/projects", "/v1/organization/projects", 503, "status", "response"],
        ["GET", `/v1/organization/projects/${project}`, "/v1/organization/projects/:project_id", 200, null, "response"],
      ],
    );
  });

  test("never holds a key value, even one sent in the path or the body", async () => {
    const created = await call(emu.url, "POST", `/v1/organization/projects/${project}/service_accounts`, { token: emu.adminKey, body: { name: "a" } });
    const value = str(created.body, "api_key.value");
    await call(emu.url, "GET", `/v1/organization/admin_api_keys/${emu.adminKey}`, { token: value });
    const dump = (await call(emu.url, "GET", "/__emulator/requests")).text + JSON.stringify(emu.control.stats());
    assert.ok(!dump.includes(value));
    assert.ok(!dump.includes(emu.adminKey));
    assert.match(dump, /admin_api_keys\/sk-\*\*\*/);
  });

  test("the state dump shows keys redacted only", async () => {
    const created = await call(emu.url, "POST", `/v1/organization/projects/${project}/service_accounts`, { token: emu.adminKey, body: { name: "a" } });
    const state = await call(emu.url, "GET", "/__emulator/state");
    assert.equal(state.status, 200);
    assert.ok(!state.text.includes(str(created.body, "api_key.value")));
    assert.ok(!state.text.includes(emu.adminKey));
    assert.equal(list(state.body, "projects.0.service_accounts").length, 1);
  });

  test("dropped requests are logged with no status", async () => {
    emu.control.addFault({ action: { type: "drop" } });
    await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey }).catch(() => undefined);
    const [entry] = emu.control.requests();
    assert.equal(entry?.outcome, "dropped");
    assert.equal(entry?.status, null);
  });

  test("since returns only entries after a sequence number", async () => {
    await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
    const seq = emu.control.requests().at(-1)?.seq ?? 0;
    await call(emu.url, "GET", "/v1/models", { token: emu.adminKey });
    const res = await call(emu.url, "GET", `/__emulator/requests?since=${seq}`);
    assert.deepEqual(list(res.body, "requests").map((e) => pick(e, "path")), ["/v1/models"]);
  });

  test("control API calls are not logged", async () => {
    await call(emu.url, "GET", "/__emulator/stats");
    await call(emu.url, "GET", "/__emulator/faults");
    assert.equal(emu.control.stats().total, 0);
  });
});

describe("stats", () => {
  test("peak rate counts the requests that arrived within one window", async () => {
    await Promise.all(Array.from({ length: 20 }, () => call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey })));
    const stats = await call(emu.url, "GET", "/__emulator/stats?window_ms=1000");
    assert.equal(pick(stats.body, "peakRate.requests"), 20);
    assert.equal(pick(stats.body, "byStatus.200"), 20);
    assert.equal(pick(stats.body, "byRoute.GET /v1/organization/projects"), 20);
  });

  test("peak concurrency counts requests in flight at the same time", async () => {
    emu.control.setLatency(100);
    await Promise.all(Array.from({ length: 8 }, () => call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey })));
    const stats = emu.control.stats();
    assert.equal(stats.peakConcurrency, 8);
    assert.equal(stats.inFlight, 0);
  });

  test("requests spread over time give a lower peak for a short window", async () => {
    for (let i = 0; i < 3; i++) {
      await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
      await new Promise((r) => setTimeout(r, 60));
    }
    assert.equal(emu.control.stats({ windowMs: 50 }).peakRate.requests, 1);
    assert.equal(emu.control.stats({ windowMs: 1000 }).peakRate.requests, 3);
  });
});

describe("settings, latency, clock and reset over HTTP", () => {
  test("PUT latency sets the global latency", async () => {
    const res = await call(emu.url, "PUT", "/__emulator/latency", { body: { ms: 80 } });
    assert.equal(pick(res.body, "ms"), 80);
    const started = performance.now();
    await call(emu.url, "GET", "/v1/models", { token: emu.adminKey });
    assert.ok(performance.now() - started >= 75);
  });

  test("a rate limit answers the provider's 429 with Retry-After once exceeded", async () => {
    const set = await call(emu.url, "PATCH", "/__emulator/settings", { body: { rateLimit: { requests: 2, windowMs: 5000 } } });
    assert.equal(set.status, 200);
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 3; i++) {
      last = await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.ok(Number(last?.headers.get("retry-after")) >= 1);
    assert.equal(pick(last?.body, "error.code"), "rate_limit_exceeded");
  });

  test("unknown settings are refused", async () => {
    const res = await call(emu.url, "PATCH", "/__emulator/settings", { body: { nope: 1 } });
    assert.equal(res.status, 400);
    assert.match(str(res.body, "error"), /unknown setting "nope"/);
  });

  test("advancing the clock moves created_at forward", async () => {
    const before = Number(pick((await call(emu.url, "POST", "/v1/organization/projects", { token: emu.adminKey, body: { name: "a" } })).body, "created_at"));
    await call(emu.url, "POST", "/__emulator/clock", { body: { advance_ms: 3_600_000 } });
    const later = Number(pick((await call(emu.url, "POST", "/v1/organization/projects", { token: emu.adminKey, body: { name: "b" } })).body, "created_at"));
    assert.ok(later - before >= 3600);
  });

  test("reset restores the seeded state and clears faults and the log", async () => {
    await call(emu.url, "POST", `/v1/organization/projects/${project}/service_accounts`, { token: emu.adminKey, body: { name: "a" } });
    emu.control.addFault({ times: "always", action: { type: "status", status: 500 } });
    const res = await call(emu.url, "POST", "/__emulator/reset");
    assert.equal(res.status, 200);
    assert.deepEqual(emu.control.faults(), []);
    assert.equal(emu.control.stats().total, 0);
    const accounts = await call(emu.url, "GET", `/v1/organization/projects/${project}/service_accounts`, { token: emu.adminKey });
    assert.equal(accounts.status, 200);
    assert.deepEqual(pick(accounts.body, "data"), []);
  });

  test("an unknown control path is a 404 in the control API's own format", async () => {
    const res = await call(emu.url, "GET", "/__emulator/nope");
    assert.equal(res.status, 404);
    assert.equal(typeof pick(res.body, "error"), "string");
  });
});
