terraform {
  required_version = ">= 1.5"
  required_providers {
    vault = {
      source  = "hashicorp/vault"
      version = ">= 5.0, < 6.0"
    }
  }
}

# The provider reads VAULT_ADDR and VAULT_TOKEN from the environment. Against
# OpenBao, point VAULT_ADDR at it: the API is the same.
provider "vault" {}
