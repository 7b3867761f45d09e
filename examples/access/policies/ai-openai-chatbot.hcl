# Consumer of the "chatbot" role on the OpenAI mount: may issue keys from that
# role and revoke its own leases early, nothing else on the engine.
# One such policy per role keeps roles apart: a token that holds this one gets
# a 403 on openai/creds/<any other role>.

# Issue a key. "read" is `bao read openai/creds/chatbot`; "update" also allows a
# write, which some clients use to pass ttl in a body.
path "openai/creds/chatbot" {
  capabilities = ["read", "update"]
}

# Revoke a key of this role when done with it, without waiting for its lease
# to expire (`bao lease revoke <lease_id>` puts the lease id in the URL).
# Renewal needs nothing here: the default policy grants sys/leases/renew.
path "sys/leases/revoke/openai/creds/chatbot/*" {
  capabilities = ["update"]
}
