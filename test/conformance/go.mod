module vault-plugin-secrets-ai/test/conformance

go 1.26.8

require (
	github.com/hashicorp/vault/sdk v0.25.1 // indirect
	github.com/openbao/openbao/sdk/v2 v2.6.2 // indirect
)
