variable "plugin_version" {
  description = "Version the engine is registered under (the executable reports v0.1.0)."
  type        = string
  default     = "v0.1.0"
}

variable "plugin_sha256" {
  description = "SHA-256 of dist/bin/vault-plugin-secrets-ai, from dist/bin/vault-plugin-secrets-ai.sha256."
  type        = string
}

variable "openai_admin_api_key" {
  description = "OpenAI admin API key. Null leaves openai/config to be written by hand, so the key never enters Terraform state."
  type        = string
  default     = null
  sensitive   = true
}

variable "openai_admin_api_key_id" {
  description = "Id (key_...) of the OpenAI admin API key."
  type        = string
  default     = null
}

variable "openai_organization_id" {
  description = "OpenAI organization id (org-...)."
  type        = string
  default     = null
}

variable "openai_project_id" {
  description = "OpenAI project (proj_...) the example roles issue service accounts in."
  type        = string
}

variable "litellm_base_url" {
  description = "LiteLLM proxy base URL."
  type        = string
}

variable "litellm_master_key" {
  description = "LiteLLM master key. Null leaves litellm/config to be written by hand."
  type        = string
  default     = null
  sensitive   = true
}

variable "oidc_discovery_url" {
  description = "The identity provider's issuer URL, without /.well-known/openid-configuration."
  type        = string
}

variable "oidc_client_id" {
  description = "OIDC client id of the Vault/OpenBao application at the identity provider."
  type        = string
}

variable "oidc_client_secret" {
  description = "OIDC client secret."
  type        = string
  sensitive   = true
}

variable "oidc_scopes" {
  description = "Scopes asked for at login. Okta puts the groups claim in the ID token only when the \"groups\" scope is asked for."
  type        = list(string)
  default     = ["openid", "profile", "email", "groups"]
}

variable "oidc_allowed_redirect_uris" {
  description = "Redirect URIs registered at the identity provider (the UI callback and the CLI's localhost one)."
  type        = list(string)
  default     = ["http://localhost:8250/oidc/callback"]
}

variable "idp_groups" {
  description = "Identity-provider group name (as it appears in the groups claim) => the example policies its members get."
  type        = map(list(string))
  default = {
    "ai-chatbot-developers" = ["ai-openai-chatbot"]
    "ai-batch-jobs"         = ["ai-openai-batch"]
    "ai-analysts"           = ["ai-litellm-analyst"]
    "ai-platform-operators" = ["ai-operator"]
    "ai-finance-auditors"   = ["ai-auditor"]
  }
}
