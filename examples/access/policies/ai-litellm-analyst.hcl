# Consumer of the "analyst" role on the LiteLLM mount: a budgeted virtual key.
path "litellm/creds/analyst" {
  capabilities = ["read", "update"]
}

path "sys/leases/revoke/litellm/creds/analyst/*" {
  capabilities = ["update"]
}
