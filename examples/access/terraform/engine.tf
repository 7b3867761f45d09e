# The engine: registered in the plugin catalog, mounted twice, with the roles
# the example policies name. Copy dist/bin/vault-plugin-secrets-ai into the
# server's plugin_directory first.
resource "vault_plugin" "ai" {
  type    = "secret"
  name    = "vault-plugin-secrets-ai"
  command = "vault-plugin-secrets-ai"
  version = var.plugin_version
  sha256  = var.plugin_sha256
}

resource "vault_mount" "openai" {
  path           = "openai"
  type           = vault_plugin.ai.name
  plugin_version = vault_plugin.ai.version
  description    = "OpenAI project service-account keys"
  # The server caps every lease of this mount here, whatever a role says.
  default_lease_ttl_seconds = 3600
  max_lease_ttl_seconds     = 86400
}

resource "vault_mount" "litellm" {
  path                      = "litellm"
  type                      = vault_plugin.ai.name
  plugin_version            = vault_plugin.ai.version
  description               = "LiteLLM virtual keys"
  default_lease_ttl_seconds = 3600
  max_lease_ttl_seconds     = 86400
}

# The connections. Terraform writes each once: the engine rotates the OpenAI
# admin key itself, so the value written here goes stale by design, and a
# rewrite with it would be refused. A read never returns the key, so there is
# no drift to see either. Leave the key variables null to write config by hand
# (`bao write openai/config ...`) and keep the keys out of Terraform state.
resource "vault_generic_endpoint" "openai_config" {
  count                = var.openai_admin_api_key == null ? 0 : 1
  path                 = "${vault_mount.openai.path}/config"
  ignore_absent_fields = true
  data_json = jsonencode({
    admin_api_key    = var.openai_admin_api_key
    admin_api_key_id = var.openai_admin_api_key_id
    organization_id  = var.openai_organization_id
    rotation_period  = "720h"
  })
  lifecycle {
    ignore_changes = [data_json]
  }
}

resource "vault_generic_endpoint" "litellm_config" {
  count                = var.litellm_master_key == null ? 0 : 1
  path                 = "${vault_mount.litellm.path}/config"
  ignore_absent_fields = true
  data_json = jsonencode({
    base_url   = var.litellm_base_url
    master_key = var.litellm_master_key
  })
  lifecycle {
    ignore_changes = [data_json]
  }
}

# Roles. TTLs in seconds: the engine reads them back as numbers, so Terraform
# sees no drift. A role's max_ttl above the mount's max_lease_ttl has no effect.
resource "vault_generic_endpoint" "openai_role" {
  for_each = {
    chatbot = { ttl = 3600, max_ttl = 14400 }
    batch   = { ttl = 1800, max_ttl = 3600 }
  }
  depends_on           = [vault_generic_endpoint.openai_config]
  path                 = "${vault_mount.openai.path}/roles/${each.key}"
  ignore_absent_fields = true
  data_json = jsonencode({
    project_id = var.openai_project_id
    ttl        = each.value.ttl
    max_ttl    = each.value.max_ttl
  })
}

resource "vault_generic_endpoint" "litellm_role_analyst" {
  depends_on           = [vault_generic_endpoint.litellm_config]
  path                 = "${vault_mount.litellm.path}/roles/analyst"
  ignore_absent_fields = true
  data_json = jsonencode({
    models          = ["gpt-4o-mini"]
    max_budget      = 5
    budget_duration = "30d"
    ttl             = 3600
    max_ttl         = 28800
  })
}
