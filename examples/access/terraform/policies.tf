# Every file in ../policies becomes a policy named after it, unchanged: the
# files are the source, shared with the Pulumi program and the tests.
locals {
  policy_dir = "${path.module}/../policies"
}

resource "vault_policy" "ai" {
  for_each = { for f in fileset(local.policy_dir, "*.hcl") : trimsuffix(f, ".hcl") => "${local.policy_dir}/${f}" }
  name     = each.key
  policy   = file(each.value)
}
