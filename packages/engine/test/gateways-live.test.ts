// Against a real LiteLLM proxy (LITELLM_BASE_URL, LITELLM_MASTER_KEY) and the
// real OpenRouter API (OPENROUTER_PROVISIONING_KEY) when their credentials
// are in the environment; reported as skipped otherwise. Each creates one key
// and deletes it again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { engineBackend } from "../src/backend.ts";

const env = (k: string) => process.env[k] ?? "";
const need = (...keys: string[]) => {
  const missing = keys.filter((k) => !env(k));
  return missing.length ? `needs ${missing.join(", ")} in the environment` : false;
};

test("against a real LiteLLM proxy, an issued key exists until its lease is revoked", { skip: need("LITELLM_BASE_URL", "LITELLM_MASTER_KEY"), timeout: 120_000 }, async () => {
  const tb = await TestBackend.create(engineBackend, { system: { defaultLeaseTtl: 3600, maxLeaseTtl: 86400 } });
  await tb.write("config", { base_url: env("LITELLM_BASE_URL"), master_key: env("LITELLM_MASTER_KEY") });
  await tb.write("roles/live-test", { max_budget: 0.01, ttl: "5m", max_ttl: "10m" });
  const issued = (await tb.read("creds/live-test"))!;
  const token = String(issued.data?.["token_id"]);
  const info = (t: string) => fetch(`${env("LITELLM_BASE_URL")}/key/info?key=${encodeURIComponent(t)}`, { headers: { Authorization: `Bearer ${env("LITELLM_MASTER_KEY")}` } }).then((r) => r.status);
  try {
    assert.equal(await info(token), 200);
  } finally {
    await tb.revoke(issued);
  }
  assert.notEqual(await info(token), 200);
});

test("against the real OpenRouter API, an issued key exists until its lease is revoked", { skip: need("OPENROUTER_PROVISIONING_KEY"), timeout: 120_000 }, async () => {
  const base = env("OPENROUTER_BASE_URL") || "https://openrouter.ai/api/v1";
  const tb = await TestBackend.create(engineBackend, { system: { defaultLeaseTtl: 3600, maxLeaseTtl: 86400 } });
  await tb.write("config", { provider: "openrouter", base_url: base, provisioning_key: env("OPENROUTER_PROVISIONING_KEY") });
  await tb.write("roles/live-test", { limit: 0.01, ttl: "5m", max_ttl: "10m" });
  const issued = (await tb.read("creds/live-test"))!;
  const hash = String(issued.data?.["key_hash"]);
  const get = () => fetch(`${base}/keys/${encodeURIComponent(hash)}`, { headers: { Authorization: `Bearer ${env("OPENROUTER_PROVISIONING_KEY")}` } }).then((r) => r.status);
  try {
    assert.equal(await get(), 200);
  } finally {
    await tb.revoke(issued);
  }
  assert.equal(await get(), 404);
});
