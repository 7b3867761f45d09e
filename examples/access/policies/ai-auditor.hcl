# Auditor: reads what the engine has issued and what it has cost, and nothing
# that issues, changes or revokes. metrics and spend are root-protected paths
# of the engine, hence sudo; sudo grants nothing on paths not listed here.
path "openai/metrics" {
  capabilities = ["read", "sudo"]
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

# Find the audit log entries of a key someone reports leaked: HMAC its value
# the way the "file" audit device does, then search the log for that. (No
# sudo needed here.)
path "sys/audit-hash/file" {
  capabilities = ["update"]
}
