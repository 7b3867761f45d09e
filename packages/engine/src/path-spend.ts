// spend: what each live LiteLLM key issued by this mount has cost so far,
// read from LiteLLM's key info. Privileged (sudo), for operators.
import type { PathDefinition } from "@vault-plugin-ai/sdk";
import { litellmClient } from "./issue-litellm.ts";
import type { EngineBackend } from "./state.ts";
import { DEFAULT_CONNECTION, ISSUED_PREFIX, type IssuedAccount } from "./storage.ts";
import { getJson } from "@vault-plugin-ai/sdk";

export const pathSpend: PathDefinition<EngineBackend> = {
  pattern: "spend",
  operations: {
    read: {
      summary: "Live LiteLLM keys issued by this mount, with their spend and budget.",
      handler: async ({ request, backend }) => {
        const keys: Array<Record<string, unknown>> = [];
        const byRole: Record<string, { keys: number; spend: number }> = {};
        const errors: string[] = [];
        for (const id of (await request.storage.list(ISSUED_PREFIX)).filter((k) => !k.endsWith("/"))) {
          const record = await getJson<IssuedAccount>(request.storage, ISSUED_PREFIX + id);
          if (record?.provider !== "litellm") continue;
          try {
            const client = await litellmClient(backend, request, record.connection ?? DEFAULT_CONNECTION);
            const info = await client.keyInfo(id);
            if (!info) continue;
            keys.push({ key_alias: record.name, role: record.role, token_id: id, spend: info.spend, max_budget: info.maxBudget, expires: info.expires });
            const r = (byRole[record.role] ??= { keys: 0, spend: 0 });
            r.keys++;
            r.spend += info.spend;
          } catch (err) {
            errors.push(`${record.name}: ${(err as Error).message}`);
          }
        }
        return { data: { keys, roles: byRole }, warnings: errors };
      },
    },
  },
  helpSynopsis: "Spend and budget of the live LiteLLM keys this mount issued (needs sudo).",
};
