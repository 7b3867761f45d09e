// Runs index.ts under Pulumi's mocks, with no engine, no state and no server,
// and returns what it declares: how the program can be checked without a
// deployment (test/e2e/access-pulumi.test.ts does). Once per process.
import * as pulumi from "@pulumi/pulumi";

export interface DeclaredResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** Config keys without the project prefix, e.g. { pluginSha256: "…" }. */
export async function declaredResources(config: Record<string, string>): Promise<DeclaredResource[]> {
  const project = "vault-ai-access";
  process.env["PULUMI_CONFIG"] = JSON.stringify(Object.fromEntries(Object.entries(config).map(([k, v]) => [`${project}:${k}`, v])));
  const declared: DeclaredResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        declared.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
        // Outputs: the inputs, an id, and the auth backend's accessor.
        return { id: `${args.name}-id`, state: { ...args.inputs, ...(args.type === "vault:jwt/authBackend:AuthBackend" ? { accessor: `${args.name}-accessor` } : {}) } };
      },
      call: (args) => args.inputs,
    },
    project,
    "mocks",
    false,
  );
  await import("./index.ts");
  // Registrations finish asynchronously; disconnect waits for them.
  await pulumi.runtime.disconnect();
  return declared;
}
