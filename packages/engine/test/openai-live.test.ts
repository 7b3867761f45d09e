// Against the real OpenAI Admin API, when its credentials are in the
// environment; reported as skipped otherwise. It creates one service account
// in OPENAI_TEST_PROJECT_ID and deletes it again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { engineBackend } from "../src/backend.ts";

const env = (k: string) => process.env[k] ?? "";
const required = ["OPENAI_ADMIN_API_KEY", "OPENAI_ADMIN_API_KEY_ID", "OPENAI_ORG_ID", "OPENAI_TEST_PROJECT_ID"];
const missing = required.filter((k) => !env(k));
const skip = missing.length ? `needs ${missing.join(", ")} in the environment` : false;

test("against the real OpenAI Admin API, an issued key works and stops working once revoked", { skip, timeout: 120_000 }, async () => {
  const endpoint = env("OPENAI_API_ENDPOINT") || "https://api.openai.com/v1";
  const tb = await TestBackend.create(engineBackend, { system: { defaultLeaseTtl: 3600, maxLeaseTtl: 86400 } });
  await tb.write("config", { admin_api_key: env("OPENAI_ADMIN_API_KEY"), admin_api_key_id: env("OPENAI_ADMIN_API_KEY_ID"), organization_id: env("OPENAI_ORG_ID"), api_endpoint: endpoint });
  await tb.write("roles/live-test", { project_id: env("OPENAI_TEST_PROJECT_ID"), ttl: "5m", max_ttl: "10m" });
  const issued = (await tb.read("creds/live-test"))!;
  const key = String(issued.data?.["api_key"]);
  const models = () => fetch(`${endpoint}/models`, { headers: { Authorization: `Bearer ${key}` } }).then((r) => r.status);
  try {
    assert.equal(await models(), 200);
  } finally {
    await tb.revoke(issued);
  }
  let status = 200;
  for (let i = 0; i < 30 && status === 200; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    status = await models();
  }
  assert.equal(status, 401);
});
