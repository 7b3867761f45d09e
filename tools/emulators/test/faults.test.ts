// Fault injection, exercised through the OpenAI emulator: each fault type,
// counts, matching, and whether the side effect happened.
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startOpenAIEmulator, type OpenAIEmulator } from "../openai/emulator.ts";
import { call, list, pick, str } from "./helpers.ts";

let emu: OpenAIEmulator;
let project: string;
const saPath = () => `/v1/organization/projects/${project}/service_accounts`;

before(async () => {
  emu = await startOpenAIEmulator();
  project = emu.projects[0]?.id ?? "";
});
after(() => emu.close());
beforeEach(() => emu.control.reset());

async function serviceAccountCount(): Promise<number> {
  return list((await call(emu.url, "GET", saPath(), { token: emu.adminKey })).body, "data").length;
}

describe("status faults", () => {
  test("an injected 500 answers with OpenAI's documented error body and fires once by default", async () => {
    emu.control.addFault({ path: "/v1/organization/projects/*", action: { type: "status", status: 500 } });
    const first = await call(emu.url, "GET", `/v1/organization/projects/${project}`, { token: emu.adminKey });
    assert.equal(first.status, 500);
    assert.deepEqual(first.body, {
      error: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", param: null, code: null },
    });
    const second = await call(emu.url, "GET", `/v1/organization/projects/${project}`, { token: emu.adminKey });
    assert.equal(second.status, 200);
  });

  test("an injected 429 carries Retry-After and the rate_limit_exceeded body", async () => {
    emu.control.addFault({ path: "/v1/**", action: { type: "status", status: 429, retryAfter: 3 } });
    const res = await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "3");
    assert.equal(pick(res.body, "error.code"), "rate_limit_exceeded");
  });

  test("a 429 can omit Retry-After, as the spec allows", async () => {
    emu.control.addFault({ action: { type: "status", status: 429, retryAfter: null } });
    const res = await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), null);
  });

  for (const status of [401, 403, 404, 502, 503]) {
    test(`an injected ${status} uses the provider's error envelope`, async () => {
      emu.control.addFault({ action: { type: "status", status } });
      const res = await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
      assert.equal(res.status, status);
      assert.equal(typeof pick(res.body, "error.message"), "string");
      assert.ok(pick(res.body, "error") !== undefined && "param" in (pick(res.body, "error") as object));
    });
  }

  test("a status fault before the handler leaves no side effect", async () => {
    emu.control.addFault({ method: "POST", path: "/v1/organization/projects/*/service_accounts", action: { type: "status", status: 503 } });
    const res = await call(emu.url, "POST", saPath(), { token: emu.adminKey, body: { name: "a" } });
    assert.equal(res.status, 503);
    assert.equal(await serviceAccountCount(), 0);
  });

  test("a status fault after the handler reports an error although the account was created", async () => {
    emu.control.addFault({ method: "POST", path: "/v1/organization/projects/*/service_accounts", action: { type: "status", status: 500, afterHandler: true } });
    const res = await call(emu.url, "POST", saPath(), { token: emu.adminKey, body: { name: "a" } });
    assert.equal(res.status, 500);
    assert.equal(await serviceAccountCount(), 1);
  });

  test("a custom body and content type replace the documented one", async () => {
    emu.control.addFault({ action: { type: "status", status: 502, rawBody: "<html>bad gateway</html>", contentType: "text/html" } });
    const res = await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
    assert.equal(res.status, 502);
    assert.equal(res.headers.get("content-type"), "text/html");
    assert.equal(res.text, "<html>bad gateway</html>");
  });
});

describe("matching and counts", () => {
  test("a fault with times: always keeps firing until removed", async () => {
    const rule = emu.control.addFault({ times: "always", action: { type: "status", status: 500 } });
    for (let i = 0; i < 3; i++) assert.equal((await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey })).status, 500);
    assert.equal(emu.control.removeFault(rule.id), true);
    assert.equal((await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey })).status, 200);
  });

  test("times: N fires on exactly N matching requests", async () => {
    emu.control.addFault({ times: 2, action: { type: "status", status: 500 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey })).status);
    assert.deepEqual(statuses, [500, 500, 200]);
  });

  test("skip lets the first matching requests through and fails the next", async () => {
    emu.control.addFault({ skip: 2, action: { type: "status", status: 500 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey })).status);
    assert.deepEqual(statuses, [200, 200, 500]);
  });

  test("a method filter leaves other methods on the same path alone", async () => {
    emu.control.addFault({ method: "DELETE", path: "/v1/organization/projects/*/service_accounts/*", action: { type: "status", status: 500 } });
    const created = await call(emu.url, "POST", saPath(), { token: emu.adminKey, body: { name: "a" } });
    assert.equal(created.status, 200);
    const removed = await call(emu.url, "DELETE", `${saPath()}/${str(created.body, "id")}`, { token: emu.adminKey });
    assert.equal(removed.status, 500);
  });

  test("a glob's single star does not cross a path segment", async () => {
    emu.control.addFault({ path: "/v1/organization/projects/*", times: "always", action: { type: "status", status: 500 } });
    assert.equal((await call(emu.url, "GET", saPath(), { token: emu.adminKey })).status, 200);
    assert.equal((await call(emu.url, "GET", `/v1/organization/projects/${project}`, { token: emu.adminKey })).status, 500);
  });

  test("a regular expression set over the control API matches the path", async () => {
    const res = await call(emu.url, "POST", "/__emulator/faults", { body: { pathRegex: "^/v1/organization/admin_api_keys(/.*)?$", action: { type: "status", status: 500 } } });
    assert.equal(res.status, 201);
    assert.equal((await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey })).status, 200);
    assert.equal((await call(emu.url, "GET", "/v1/organization/admin_api_keys", { token: emu.adminKey })).status, 500);
  });

  test("an invalid rule is refused by the control API with the reason", async () => {
    const res = await call(emu.url, "POST", "/__emulator/faults", { body: { action: { type: "explode" } } });
    assert.equal(res.status, 400);
    assert.match(str(res.body, "error"), /action.type must be one of/);
  });
});

describe("latency, stalls and dropped connections", () => {
  test("a latency fault delays the answer by at least its ms", async () => {
    emu.control.addFault({ action: { type: "latency", ms: 150 } });
    const started = performance.now();
    const res = await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
    assert.equal(res.status, 200);
    assert.ok(performance.now() - started >= 140);
  });

  test("global latency applies to every API request but not to the control API", async () => {
    emu.control.setLatency(120);
    let started = performance.now();
    await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
    assert.ok(performance.now() - started >= 110);
    started = performance.now();
    await call(emu.url, "GET", "/__emulator/stats");
    assert.ok(performance.now() - started < 100);
  });

  test("a stalled create times the client out although the account exists", async () => {
    emu.control.addFault({ method: "POST", action: { type: "stall", ms: 2000 } });
    await assert.rejects(call(emu.url, "POST", saPath(), { token: emu.adminKey, body: { name: "a" }, signal: AbortSignal.timeout(200) }), {
      name: "TimeoutError",
    });
    assert.equal(await serviceAccountCount(), 1);
  });

  test("a body-phase stall sends the status line first and the body later", async () => {
    emu.control.addFault({ action: { type: "stall", ms: 200, phase: "body" } });
    const started = performance.now();
    const res = await fetch(`${emu.url}/v1/organization/projects`, { headers: { authorization: `Bearer ${emu.adminKey}` } });
    const headersAt = performance.now() - started;
    await res.text();
    const bodyAt = performance.now() - started;
    assert.equal(res.status, 200);
    assert.ok(headersAt < 150, `headers took ${headersAt} ms`);
    assert.ok(bodyAt >= 190, `body took ${bodyAt} ms`);
  });

  test("a dropped connection fails the request and creates nothing", async () => {
    emu.control.addFault({ method: "POST", action: { type: "drop" } });
    await assert.rejects(call(emu.url, "POST", saPath(), { token: emu.adminKey, body: { name: "a" } }), TypeError);
    assert.equal(await serviceAccountCount(), 0);
  });

  test("a connection dropped after the handler loses the response of a create that happened", async () => {
    emu.control.addFault({ method: "POST", action: { type: "drop", afterHandler: true } });
    await assert.rejects(call(emu.url, "POST", saPath(), { token: emu.adminKey, body: { name: "lost" } }), TypeError);
    const accounts = list((await call(emu.url, "GET", saPath(), { token: emu.adminKey })).body, "data");
    assert.deepEqual(accounts.map((a) => pick(a, "name")), ["lost"]);
  });
});

describe("malformed bodies", () => {
  test("huge answers with a body of the requested size", async () => {
    emu.control.addFault({ action: { type: "malformed", variant: "huge", sizeBytes: 3 * 1024 * 1024 } });
    const res = await fetch(`${emu.url}/v1/organization/projects`, { headers: { authorization: `Bearer ${emu.adminKey}` } });
    assert.equal(res.headers.get("content-length"), String(3 * 1024 * 1024));
    assert.equal((await res.arrayBuffer()).byteLength, 3 * 1024 * 1024);
  });

  test("wrong-types turns the id into a number and the nested key into a string", async () => {
    emu.control.addFault({ method: "POST", action: { type: "malformed", variant: "wrong-types" } });
    const res = await call(emu.url, "POST", saPath(), { token: emu.adminKey, body: { name: "a" } });
    assert.equal(res.status, 200);
    assert.equal(typeof pick(res.body, "id"), "number");
    assert.equal(typeof pick(res.body, "api_key"), "string");
  });

  test("missing-fields removes the named fields", async () => {
    emu.control.addFault({ method: "POST", action: { type: "malformed", variant: "missing-fields", fields: ["value", "id"] } });
    const res = await call(emu.url, "POST", saPath(), { token: emu.adminKey, body: { name: "a" } });
    assert.equal(pick(res.body, "id"), undefined);
    assert.equal(pick(res.body, "api_key.value"), undefined);
    assert.equal(pick(res.body, "api_key.object"), "organization.project.service_account.api_key");
  });

  test("not-json answers HTML with the real status", async () => {
    emu.control.addFault({ action: { type: "malformed", variant: "not-json" } });
    const res = await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
    assert.equal(res.status, 200);
    assert.equal(res.body, undefined);
    assert.match(res.text, /^<html>/);
  });

  test("truncated cuts the connection halfway through the declared body", async () => {
    emu.control.addFault({ action: { type: "malformed", variant: "truncated" } });
    const res = await fetch(`${emu.url}/v1/organization/projects`, { headers: { authorization: `Bearer ${emu.adminKey}` } });
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), TypeError);
  });

  test("replace puts hostile values at dotted paths and keeps the rest of the real answer", async () => {
    emu.control.addFault({ method: "POST", action: { type: "malformed", variant: "replace", values: { "api_key.value": 42, name: ["a"], "extra.deep": null } } });
    const res = await call(emu.url, "POST", saPath(), { token: emu.adminKey, body: { name: "a" } });
    assert.equal(res.status, 200);
    assert.equal(pick(res.body, "api_key.value"), 42);
    assert.deepEqual(pick(res.body, "name"), ["a"]);
    assert.equal(pick(res.body, "extra.deep"), null);
    assert.match(String(pick(res.body, "id")), /^svc_acct_/);
    assert.equal(await serviceAccountCount(), 1);
  });

  test("replace needs dotted paths of plain keys", () => {
    assert.throws(() => emu.control.addFault({ action: { type: "malformed", variant: "replace" } }), /action\.values must map/);
    assert.throws(() => emu.control.addFault({ action: { type: "malformed", variant: "replace", values: { "a..b": 1 } } }), /not a dotted path/);
    assert.throws(() => emu.control.addFault({ action: { type: "malformed", variant: "replace", values: { "__proto__.polluted": 1 } } }), /not a dotted path/);
    assert.throws(() => emu.control.addFault({ action: { type: "malformed", variant: "huge", values: { a: 1 } } }), /only applies to variant "replace"/);
  });

  test("empty answers a zero-length body", async () => {
    emu.control.addFault({ action: { type: "malformed", variant: "empty" } });
    const res = await call(emu.url, "GET", "/v1/organization/projects", { token: emu.adminKey });
    assert.equal(res.status, 200);
    assert.equal(res.text, "");
  });
});
