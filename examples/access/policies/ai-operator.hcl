# Operator of the engine's mounts: manages roles, rotates the OpenAI admin key,
# watches metrics, orphan sweeps and spend, and revokes issued keys in bulk.
#
# It does NOT write config or connections. Whoever may write them can point
# the mount at an endpoint of their choosing, and the engine then calls it
# with the stored provider credential: write access to config is as good as
# holding the admin key. Keep that for whoever holds the key anyway.
# It does not issue keys either (no creds paths): operators are not consumers.

# Connections: read (a read never returns the credential) and rotate.
path "openai/config" {
  capabilities = ["read"]
}
path "openai/config/rotate" {
  capabilities = ["update"]
}
path "openai/connections/*" {
  capabilities = ["read", "list"]
}
path "openai/connections/+/rotate" {
  capabilities = ["update"]
}
path "litellm/config" {
  capabilities = ["read"]
}
path "litellm/connections/*" {
  capabilities = ["read", "list"]
}

# Roles: what an issued key may do, and for how long.
path "openai/roles/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "litellm/roles/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# metrics, sweep and spend are root-protected paths of the engine: they need
# sudo besides the operation's own capability.
path "openai/metrics" {
  capabilities = ["read", "sudo"]
}
path "openai/sweep" {
  capabilities = ["read", "update", "sudo"]
}
path "openai/spend" {
  capabilities = ["read", "sudo"]
}
path "litellm/metrics" {
  capabilities = ["read", "sudo"]
}
path "litellm/spend" {
  capabilities = ["read", "sudo"]
}

# Issued keys: list the leases of a role, look one up, revoke a role's keys at
# once. Listing leases and revoke-prefix are root-protected in sys.
path "sys/leases/lookup/openai/creds/*" {
  capabilities = ["list", "sudo"]
}
path "sys/leases/lookup/litellm/creds/*" {
  capabilities = ["list", "sudo"]
}
path "sys/leases/revoke-prefix/openai/creds/*" {
  capabilities = ["update", "sudo"]
}
path "sys/leases/revoke-prefix/litellm/creds/*" {
  capabilities = ["update", "sudo"]
}
