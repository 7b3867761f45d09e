// A LiteLLM proxy on an internal network, behind a private CA: benemon's
// ca_cert and insecure_tls, and the rule that whom a connection trusts can
// only change together with its master key.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { defineBackend } from "@vault-plugin-ai/sdk";
import { TestBackend } from "@vault-plugin-ai/sdk/testing";
import { generatePluginIdentity } from "../../sdk/src/runtime/tls.ts";
import { engineDefinition } from "../src/backend.ts";
import { newEngineState, type EngineState } from "../src/state.ts";
import { startLiteLLMEmulator, type LiteLLMEmulator } from "../../../tools/emulators/litellm/emulator.ts";
import { certificateRefused, ProviderError } from "../src/providers/http.ts";
import { rejects400 } from "./support.ts";

async function mount(): Promise<TestBackend> {
  const factory = defineBackend<EngineState>(engineDefinition, () => ({ ...newEngineState(), httpOverrides: { retry: { maxAttempts: 1 }, timeoutMs: 2_000 } }));
  return TestBackend.create(factory, { system: { defaultLeaseTtl: 3600, maxLeaseTtl: 86400 } });
}

/** A proxy serving https with a certificate no system trusts, closed when the test ends, and a fresh mount. */
async function privateProxy(t: TestContext): Promise<{ em: LiteLLMEmulator; caPem: string; tb: TestBackend }> {
  const identity = await generatePluginIdentity();
  const em = await startLiteLLMEmulator({ tls: { certPem: identity.certPem, keyPem: identity.keyPem } });
  t.after(() => em.close());
  return { em, caPem: identity.certPem, tb: await mount() };
}

test("a proxy behind a private CA is refused without ca_cert, with the certificate problem named and nothing stored", async (t) => {
  const { em, tb } = await privateProxy(t);
  await rejects400(tb.write("config", { url: em.baseUrl, admin_key: em.masterKey }), /cannot reach LiteLLM .*: [A-Z_]*CERT[A-Z_]*: check ca_cert \(the proxy.s certificate is not trusted\) or base_url/);
  assert.equal(await tb.read("config").catch(() => undefined), undefined);
});

test("with ca_cert the proxy is verified against it, and keys issue and revoke through it", async (t) => {
  const { em, caPem, tb } = await privateProxy(t);
  await tb.write("config", { url: em.baseUrl, admin_key: em.masterKey, ca_cert: caPem });
  await tb.write("roles/r", { models: ["gpt-4o-mini"] });
  const issued = (await tb.read("creds/r"))!;
  assert.ok(issued.data?.["key"]);
  await tb.revoke(issued);
  assert.deepEqual((em.control.state() as { keys: unknown[] }).keys, []);
});

test("config read returns ca_cert and insecure_tls, as benemon's plugin does, and never the master key", async (t) => {
  const { em, caPem, tb } = await privateProxy(t);
  await tb.write("config", { url: em.baseUrl, admin_key: em.masterKey, ca_cert: caPem });
  const data = (await tb.read("config"))!.data!;
  assert.equal(String(data["ca_cert"]).trim(), caPem.trim());
  assert.equal(data["insecure_tls"], false);
  assert.ok(!JSON.stringify(data).includes(em.masterKey));
});

test("insecure_tls skips verification, and the write warns that the master key can be read on the path", async (t) => {
  const { em, tb } = await privateProxy(t);
  const res = await tb.write("config", { url: em.baseUrl, admin_key: em.masterKey, insecure_tls: true });
  assert.match(String(res?.warnings), /insecure_tls is set/);
  await tb.write("roles/r", {});
  assert.ok((await tb.read("creds/r"))!.data?.["key"]);
});

test("a ca_cert that is not a PEM certificate is a 400 naming ca_cert", async (t) => {
  const { em, tb } = await privateProxy(t);
  await rejects400(tb.write("config", { url: em.baseUrl, admin_key: em.masterKey, ca_cert: "not a certificate" }), /"ca_cert" must hold PEM certificates/);
  await rejects400(
    tb.write("config", { url: em.baseUrl, admin_key: em.masterKey, ca_cert: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" }),
    /"ca_cert": certificate 1 of 1 cannot be read/,
  );
});

test("changing ca_cert or insecure_tls without the master key in the same write is refused: the key never goes to a server trusted differently", async (t) => {
  const { em, caPem, tb } = await privateProxy(t);
  await tb.write("config", { url: em.baseUrl, admin_key: em.masterKey, ca_cert: caPem });
  await rejects400(tb.write("config", { ca_cert: "", insecure_tls: true }), /changing "ca_cert" or "insecure_tls" needs "master_key" in the same write/);
  await rejects400(tb.write("config", { ca_cert: "" }), /changing "ca_cert" or "insecure_tls" needs "master_key"/);
  await tb.write("config", { ca_cert: "", insecure_tls: true, admin_key: em.masterKey });
  assert.equal((await tb.read("config"))!.data!["insecure_tls"], true);
});

test("ca_cert does not apply to an OpenAI connection", async () => {
  const tb = await mount();
  await rejects400(tb.write("connections/oa", { provider: "openai", admin_api_key: "sk-admin-x", admin_api_key_id: "key_x", organization_id: "org-x", ca_cert: "x" }), /"ca_cert" do not apply to a openai connection/);
});

test("a private key pasted into ca_cert is refused, so a config read can never return it", async (t) => {
  const { em, caPem, tb } = await privateProxy(t);
  const key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
  await rejects400(tb.write("config", { url: em.baseUrl, admin_key: em.masterKey, ca_cert: caPem + key }), /"ca_cert" must hold only certificates, not a PRIVATE KEY block/);
});

test("ca_cert with insecure_tls, or either with an http base_url, is a 400: neither would be used", async (t) => {
  const { em, caPem, tb } = await privateProxy(t);
  await rejects400(tb.write("config", { url: em.baseUrl, admin_key: em.masterKey, ca_cert: caPem, insecure_tls: true }), /contradict each other/);
  await rejects400(tb.write("config", { url: "http://127.0.0.1:1", admin_key: em.masterKey, insecure_tls: true }), /apply to an https base_url only/);
});

test("a proxy whose certificate comes from a private CA (not self-signed) gets the ca_cert hint too", () => {
  // The hint keys on OpenSSL's verification codes, not on words in a message.
  const err = new ProviderError("LiteLLM", "cannot reach LiteLLM for list keys: UNABLE_TO_VERIFY_LEAF_SIGNATURE", { cause: Object.assign(new Error("x"), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }) });
  assert.equal(certificateRefused(err), true);
  assert.equal(certificateRefused(new ProviderError("LiteLLM", "SSL is great", { status: 500 })), false);
});

test("an https base_url typed in capitals is stored as parsed and works", async (t) => {
  const { em, caPem, tb } = await privateProxy(t);
  await tb.write("config", { url: em.baseUrl.replace("https://localhost", "HTTPS://LOCALHOST"), admin_key: em.masterKey, ca_cert: caPem });
  assert.equal((await tb.read("config"))!.data!["base_url"], em.baseUrl);
});
