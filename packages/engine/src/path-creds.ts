// creds/<name>: issue a key from a role, through the role's connection and
// provider. The key lives exactly as long as its lease.
import { formatDuration, invalidRequest, type HandlerContext, type PathDefinition, type Response } from "@vault-plugin-ai/sdk";
import { issueLiteLLMKey } from "./issue-litellm.ts";
import { issueOpenAIKey } from "./issue-openai.ts";
import { issueOpenRouterKey } from "./issue-openrouter.ts";
import { cachedRole, type EngineBackend } from "./state.ts";

async function issue({ request, fields, backend }: HandlerContext<EngineBackend>): Promise<Response> {
  const roleName = fields.string("name");
  const role = await cachedRole(backend, request.storage, roleName);
  if (!role) throw invalidRequest(`role "${roleName}" does not exist`);
  const warnings: string[] = [];
  let ttl = role.ttl;
  const requested = fields.getOk<number>("ttl");
  if (requested !== undefined) {
    if (requested < 0) throw invalidRequest('"ttl" must not be negative');
    if (requested > 0) ttl = requested;
  }
  if (role.max_ttl > 0 && ttl > role.max_ttl) {
    warnings.push(`ttl of ${formatDuration(ttl)} exceeds the role's max_ttl of ${formatDuration(role.max_ttl)}; capped to ${formatDuration(role.max_ttl)}`);
    ttl = role.max_ttl;
  }
  switch (role.provider) {
    case "openai":
      return issueOpenAIKey(backend, request, roleName, role, ttl, warnings);
    case "litellm":
      return issueLiteLLMKey(backend, request, roleName, role, ttl, warnings);
    case "openrouter":
      return issueOpenRouterKey(backend, request, roleName, role, ttl, warnings);
  }
}

export const pathCreds: PathDefinition<EngineBackend> = {
  pattern: "creds/<name>",
  fields: {
    name: { type: "name-string", description: "The role to issue a key from." },
    ttl: { type: "duration", description: "Lease TTL for this key; capped at the role's max_ttl." },
  },
  // Issuing writes (WAL, issued record) and a standby's copy of the role may
  // lag the active node's: a standby sends the request on at once.
  operations: {
    read: { summary: "Issue an API key from a role.", handler: issue, forwardPerformanceStandby: true },
    // The LiteLLM seed plugin also issues on write.
    update: { summary: "Issue an API key from a role.", handler: issue, forwardPerformanceStandby: true },
  },
  helpSynopsis: "Issue an API key from a role.",
  helpDescription:
    "OpenAI: creates a service account in the role's project; its API key is returned. LiteLLM: generates a virtual key with the role's limits, expiring with the lease. OpenRouter: creates a key with the role's credit limit. Revoking or expiring the lease deletes the key at the provider.",
};
