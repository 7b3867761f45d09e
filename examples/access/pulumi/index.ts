// The same resources as ../terraform, in Pulumi: the engine registered and
// mounted at openai/ and litellm/, the roles the example policies name, every
// policy in ../policies loaded from its file, and an OIDC login whose groups
// claim maps identity-provider groups to those policies through external
// identity groups and their aliases.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";

const config = new pulumi.Config();
const policyDir = join(dirname(fileURLToPath(import.meta.url)), "..", "policies");

/** Identity-provider group name (as in the groups claim) => the example policies its members get. */
const defaultIdpGroups: Record<string, string[]> = {
  "ai-chatbot-developers": ["ai-openai-chatbot"],
  "ai-batch-jobs": ["ai-openai-batch"],
  "ai-analysts": ["ai-litellm-analyst"],
  "ai-platform-operators": ["ai-operator"],
  "ai-finance-auditors": ["ai-auditor"],
};

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string")) throw new Error(`${what} must be a list of strings`);
  return value;
}

function groupMap(value: unknown): Record<string, string[]> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("idpGroups must map group names to lists of policy names");
  return Object.fromEntries(Object.entries(value).map(([group, policies]) => [group, stringList(policies, `idpGroups["${group}"]`)]));
}

const pluginVersion = config.get("pluginVersion") ?? "v0.1.0";

// The engine. Copy dist/bin/vault-plugin-secrets-ai into the server's plugin_directory first.
const plugin = new vault.Plugin("vault-plugin-secrets-ai", {
  type: "secret",
  name: "vault-plugin-secrets-ai",
  command: "vault-plugin-secrets-ai",
  version: pluginVersion,
  sha256: config.require("pluginSha256"),
});

function engineMount(path: string, description: string): vault.Mount {
  return new vault.Mount(path, {
    path,
    type: plugin.name,
    pluginVersion: plugin.version.apply((v) => v ?? pluginVersion),
    description,
    // The server caps every lease of this mount here, whatever a role says.
    defaultLeaseTtlSeconds: 3600,
    maxLeaseTtlSeconds: 86400,
  });
}

const openai = engineMount("openai", "OpenAI project service-account keys");
const litellm = engineMount("litellm", "LiteLLM virtual keys");

// The connections, written once: the engine rotates the OpenAI admin key
// itself, so the value written here goes stale by design (hence
// ignoreChanges). Leave the secrets unset to write config by hand and keep
// them out of Pulumi state.
const openaiAdminKey = config.getSecret("openaiAdminApiKey");
const openaiConfig = openaiAdminKey
  ? new vault.generic.Endpoint(
      "openai-config",
      {
        path: pulumi.interpolate`${openai.path}/config`,
        ignoreAbsentFields: true,
        dataJson: pulumi.jsonStringify({
          admin_api_key: openaiAdminKey,
          admin_api_key_id: config.require("openaiAdminApiKeyId"),
          organization_id: config.require("openaiOrganizationId"),
          rotation_period: "720h",
        }),
      },
      { ignoreChanges: ["dataJson"] },
    )
  : undefined;

const litellmMasterKey = config.getSecret("litellmMasterKey");
const litellmConfig = litellmMasterKey
  ? new vault.generic.Endpoint(
      "litellm-config",
      {
        path: pulumi.interpolate`${litellm.path}/config`,
        ignoreAbsentFields: true,
        dataJson: pulumi.jsonStringify({ base_url: config.require("litellmBaseUrl"), master_key: litellmMasterKey }),
      },
      { ignoreChanges: ["dataJson"] },
    )
  : undefined;

// Roles. TTLs in seconds: the engine reads them back as numbers, so there is
// no diff. A role's max_ttl above the mount's max_lease_ttl has no effect.
const openaiRoles: Record<string, { ttl: number; max_ttl: number }> = {
  chatbot: { ttl: 3600, max_ttl: 14400 },
  batch: { ttl: 1800, max_ttl: 3600 },
};
for (const [name, ttls] of Object.entries(openaiRoles)) {
  new vault.generic.Endpoint(
    `openai-role-${name}`,
    {
      path: pulumi.interpolate`${openai.path}/roles/${name}`,
      ignoreAbsentFields: true,
      dataJson: JSON.stringify({ project_id: config.require("openaiProjectId"), ...ttls }),
    },
    { dependsOn: openaiConfig ? [openaiConfig] : [] },
  );
}
new vault.generic.Endpoint(
  "litellm-role-analyst",
  {
    path: pulumi.interpolate`${litellm.path}/roles/analyst`,
    ignoreAbsentFields: true,
    dataJson: JSON.stringify({ models: ["gpt-4o-mini"], max_budget: 5, budget_duration: "30d", ttl: 3600, max_ttl: 28800 }),
  },
  { dependsOn: litellmConfig ? [litellmConfig] : [] },
);

// Every file in ../policies becomes a policy named after it, unchanged.
const policies = new Map<string, vault.Policy>();
for (const file of readdirSync(policyDir).filter((f) => f.endsWith(".hcl")).sort()) {
  const name = file.slice(0, -".hcl".length);
  policies.set(name, new vault.Policy(name, { name, policy: readFileSync(join(policyDir, file), "utf8") }));
}

// Log in with the identity provider; its groups claim decides the policies.
const oidcClientId = config.require("oidcClientId");
const oidc = new vault.jwt.AuthBackend("oidc", {
  path: "oidc",
  type: "oidc",
  description: "Single sign-on",
  oidcDiscoveryUrl: config.require("oidcDiscoveryUrl"),
  boundIssuer: config.require("oidcDiscoveryUrl"),
  oidcClientId,
  oidcClientSecret: config.requireSecret("oidcClientSecret"),
  defaultRole: "ai-users",
});

new vault.jwt.AuthBackendRole("ai-users", {
  backend: oidc.path.apply((p) => p ?? "oidc"),
  roleName: "ai-users",
  roleType: "oidc",
  userClaim: "sub",
  groupsClaim: "groups",
  boundAudiences: [oidcClientId],
  // Okta puts the groups claim in the ID token only when the "groups" scope is asked for.
  oidcScopes: stringList(config.getObject<unknown>("oidcScopes") ?? ["openid", "profile", "email", "groups"], "oidcScopes"),
  allowedRedirectUris: stringList(config.getObject<unknown>("oidcAllowedRedirectUris") ?? ["http://localhost:8250/oidc/callback"], "oidcAllowedRedirectUris"),
  // Group policies come from the identity groups below, not from the role.
  tokenPolicies: ["default"],
  // Leases die with the token that created them: a key lives no longer than
  // the login it was issued to, unless the token is renewed.
  tokenTtl: 28800,
  tokenMaxTtl: 86400,
});

// One external identity group per IdP group, holding its policies; the alias,
// named as the group appears in the claim, is what login matches.
const idpGroups = groupMap(config.getObject<unknown>("idpGroups") ?? defaultIdpGroups);
for (const [group, names] of Object.entries(idpGroups)) {
  const groupPolicies = names.map((n) => {
    const p = policies.get(n);
    if (!p) throw new Error(`idpGroups["${group}"] names policy "${n}", which has no file in ${policyDir}`);
    return p.name;
  });
  const identityGroup = new vault.identity.Group(`idp-${group}`, { name: `idp-${group}`, type: "external", policies: groupPolicies, metadata: { source: "oidc" } });
  new vault.identity.GroupAlias(`idp-${group}`, { name: group, mountAccessor: oidc.accessor, canonicalId: identityGroup.id });
}

export const policyNames = [...policies.keys()];
export const oidcAccessor = oidc.accessor;
