// What the server and its client see when a provider fails during a lease's
// renewal or revocation, which storage entries the server seal-wraps, and
// that an error never echoes a key the operator typed into the wrong field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineBackend, LogicalError } from "@vault-plugin-ai/sdk";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { engineDefinition } from "../src/backend.ts";
import { newEngineState, type EngineState } from "../src/state.ts";
import { startLiteLLMEmulator } from "../../../tools/emulators/litellm/emulator.ts";
import { startOpenRouterEmulator } from "../../../tools/emulators/openrouter/emulator.ts";
import { openAIHarness } from "./support.ts";

async function mount(): Promise<TestBackend> {
  const factory = defineBackend<EngineState>(engineDefinition, () => ({ ...newEngineState(), httpOverrides: { retry: { baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 500 }, timeoutMs: 2_000 } }));
  return TestBackend.create(factory, { system: { defaultLeaseTtl: 3600, maxLeaseTtl: 86400 } });
}

/**
 * A 502 carrying the provider's message. Never a 400: the server marks a
 * lease irrevocable at once when its revocation fails with invalid-request.
 */
async function rejects502(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof LogicalError, String(err));
    assert.equal(err.kind, "coded");
    assert.equal(err.status, 502);
    assert.match(err.message, message);
    return true;
  });
}

test("a provider failure while revoking an OpenAI lease is a 502 naming the provider's answer", async () => {
  const h = await openAIHarness();
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const issued = (await h.tb.read("creds/r"))!;
    h.em.control.addFault({ method: "DELETE", path: "/v1/organization/projects/*/service_accounts/*", times: "always", action: { type: "status", status: 500 } });
    await rejects502(h.tb.revoke(issued), /^the key was not deleted: OpenAI refused delete project service account \(HTTP 500\)/);
  } finally {
    await h.close();
  }
});

test("a provider failure while renewing a LiteLLM lease is a 502 naming the provider's answer", async () => {
  const em = await startLiteLLMEmulator();
  try {
    const tb = await mount();
    await tb.write("config", { base_url: em.baseUrl, master_key: em.masterKey });
    await tb.write("roles/r", { ttl: "10m", max_ttl: "1h" });
    const issued = (await tb.read("creds/r"))!;
    em.control.addFault({ method: "POST", path: "/key/update", times: "always", action: { type: "status", status: 503 } });
    await rejects502(tb.renew(issued, 1800), /^the lease was not renewed: LiteLLM refused update key \(HTTP 503\)/);
  } finally {
    await em.close();
  }
});

test("a provider failure while revoking a LiteLLM lease is a 502 naming the provider's answer", async () => {
  const em = await startLiteLLMEmulator();
  try {
    const tb = await mount();
    await tb.write("config", { base_url: em.baseUrl, master_key: em.masterKey });
    await tb.write("roles/r", {});
    const issued = (await tb.read("creds/r"))!;
    em.control.addFault({ method: "POST", path: "/key/delete", times: "always", action: { type: "drop" } });
    await rejects502(tb.revoke(issued), /^the key was not deleted: cannot reach LiteLLM for delete key/);
  } finally {
    await em.close();
  }
});

test("a provider failure while revoking an OpenRouter lease is a 502 naming the provider's answer", async () => {
  const em = await startOpenRouterEmulator();
  try {
    const tb = await mount();
    await tb.write("config", { provider: "openrouter", base_url: em.baseUrl, provisioning_key: em.managementKey });
    await tb.write("roles/r", {});
    const issued = (await tb.read("creds/r"))!;
    em.control.addFault({ method: "DELETE", path: "/api/v1/keys/*", times: "always", action: { type: "status", status: 429, retryAfter: 0 } });
    await rejects502(tb.revoke(issued), /^the key was not deleted: OpenRouter refused delete key \(HTTP 429\)/);
  } finally {
    await em.close();
  }
});

/** Vault's matching of special paths: exact, or a prefix when the pattern ends in "*". */
function covered(patterns: readonly string[], key: string): boolean {
  return patterns.some((p) => (p.endsWith("*") ? key.startsWith(p.slice(0, -1)) : key === p));
}

test("every storage entry holding a credential is in the seal-wrapped paths, named connections included", async () => {
  const h = await openAIHarness();
  const ll = await startLiteLLMEmulator();
  const or = await startOpenRouterEmulator();
  try {
    await h.tb.write("connections/gateway", { base_url: ll.baseUrl, master_key: ll.masterKey });
    await h.tb.write("connections/router", { provider: "openrouter", base_url: or.baseUrl, provisioning_key: or.managementKey });
    const credentials = [h.em.adminKey, ll.masterKey, or.managementKey];
    const holding: string[] = [];
    const walk = async (prefix: string): Promise<void> => {
      for (const k of await h.tb.storage.list(prefix)) {
        if (k.endsWith("/")) await walk(prefix + k);
        else {
          const value = Buffer.from((await h.tb.storage.get(prefix + k))!.value).toString();
          if (credentials.some((c) => value.includes(c))) holding.push(prefix + k);
        }
      }
    };
    await walk("");
    assert.deepEqual(holding.sort(), ["config", "connections/gateway", "connections/router"]);
    const sealWrapped = engineDefinition.specialPaths?.sealWrapStorage ?? [];
    assert.deepEqual(holding.filter((k) => !covered(sealWrapped, k)), []);
  } finally {
    await h.close();
    await ll.close();
    await or.close();
  }
});

test("a key pasted into project_id by mistake is not echoed back in the error", async () => {
  const h = await openAIHarness();
  try {
    const pasted = "sk-admin-pasted0123456789abcdef";
    await assert.rejects(h.tb.write("roles/r", { project_id: pasted }), (err: unknown) => {
      assert.ok(err instanceof LogicalError);
      assert.equal(err.status, 400);
      assert.match(err.message, /^project_id "\[redacted\]" does not exist in the configured organization$/);
      return true;
    });
    await assert.rejects(h.tb.write("roles/r", { project_id: "proj_missing" }), /project_id "proj_missing" does not exist/);
  } finally {
    await h.close();
  }
});
