# Log in with the identity provider; its groups claim decides the policies.
# Each IdP group is an external identity group holding the policies, with a
# group alias named as the group appears in the claim. Vault/OpenBao adds the
# user's entity to the matching groups at every login and token renewal, so
# a user removed from a group at the IdP loses its policies then.
resource "vault_jwt_auth_backend" "oidc" {
  path               = "oidc"
  type               = "oidc"
  description        = "Single sign-on"
  oidc_discovery_url = var.oidc_discovery_url
  bound_issuer       = var.oidc_discovery_url
  oidc_client_id     = var.oidc_client_id
  oidc_client_secret = var.oidc_client_secret
  default_role       = "ai-users"
}

resource "vault_jwt_auth_backend_role" "ai_users" {
  backend               = vault_jwt_auth_backend.oidc.path
  role_name             = "ai-users"
  role_type             = "oidc"
  user_claim            = "sub"
  groups_claim          = "groups"
  bound_audiences       = [var.oidc_client_id]
  oidc_scopes           = var.oidc_scopes
  allowed_redirect_uris = var.oidc_allowed_redirect_uris
  # Group policies come from the identity groups below, not from the role.
  token_policies = ["default"]
  # Leases die with the token that created them: a key lives no longer than
  # the login it was issued to, unless the token is renewed.
  token_ttl     = 28800
  token_max_ttl = 86400
}

resource "vault_identity_group" "idp" {
  for_each = var.idp_groups
  name     = "idp-${each.key}"
  type     = "external"
  policies = [for p in each.value : vault_policy.ai[p].name]
  metadata = {
    source = "oidc"
  }
}

resource "vault_identity_group_alias" "idp" {
  for_each       = var.idp_groups
  name           = each.key
  mount_accessor = vault_jwt_auth_backend.oidc.accessor
  canonical_id   = vault_identity_group.idp[each.key].id
}
