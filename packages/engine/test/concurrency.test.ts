// The cap on provider requests in flight per connection (max_concurrency),
// measured where it matters: at the provider.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Response } from "@vault-plugin-ai/sdk";
import { openAIHarness, serviceAccounts } from "./support.ts";

test("revocations that start together with a cold connection cache never exceed max_concurrency at the provider", async () => {
  const h = await openAIHarness({ config: { max_concurrency: 2 } });
  try {
    await h.tb.write("roles/r", { project_id: h.em.projects[0]!.id });
    const issued: Response[] = [];
    for (let i = 0; i < 12; i++) issued.push((await h.tb.read("creds/r"))!);
    // Any write of the connection drops the cached client, as a restart or a
    // failover starts without one.
    await h.tb.write("config", { max_concurrency: 2 });
    h.em.control.setLatency(30);
    h.em.control.clearRequests();
    await Promise.all(issued.map((r) => h.tb.revoke(r)));
    assert.equal(serviceAccounts(h.em).length, 0);
    assert.ok(h.em.control.stats().peakConcurrency <= 2, `peak in flight at the provider: ${h.em.control.stats().peakConcurrency}`);
  } finally {
    await h.close();
  }
});
