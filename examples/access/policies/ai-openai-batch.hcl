# Consumer of the "batch" role on the OpenAI mount (see ai-openai-chatbot.hcl).
path "openai/creds/batch" {
  capabilities = ["read", "update"]
}

path "sys/leases/revoke/openai/creds/batch/*" {
  capabilities = ["update"]
}
