// Environment the host hands to the plugin process. OpenBao sets every SDK
// variable twice (BAO_* and VAULT_*) and reads BAO_* first; so do we.

export const BACKEND_COOKIE_KEY = "VAULT_BACKEND_PLUGIN";
export const BACKEND_COOKIE_VALUE = "6669da05-b1c8-4f49-97d9-c8e5bed98e20";
export const SUPPORTED_PROTOCOL_VERSIONS = [5, 4] as const;

export type Env = Readonly<Record<string, string | undefined>>;

export function readHostVariable(env: Env, suffix: string): string | undefined {
  return env[`BAO_${suffix}`] ?? env[`VAULT_${suffix}`];
}

/**
 * Picks the highest version both sides speak. Version 4 shares version 5's
 * wire protocol for everything this SDK serves; the host only offers it after
 * version 5 failed, together with legacy metadata mode, which we do not serve.
 */
export function negotiateProtocolVersion(offered: string | undefined): number | undefined {
  const versions = (offered ?? "")
    .split(",")
    .map((v) => Number.parseInt(v.trim(), 10))
    .filter((v) => Number.isInteger(v));
  for (const v of SUPPORTED_PROTOCOL_VERSIONS) {
    if (versions.includes(v)) return v;
  }
  return undefined;
}
