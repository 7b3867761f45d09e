module vault-plugin-secrets-ai/test/conformance/template

go 1.25.7

require github.com/hashicorp/vault/sdk v0.25.1

require (
	github.com/hashicorp/errwrap v1.1.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	github.com/hashicorp/go-secure-stdlib/base62 v0.1.2 // indirect
	github.com/hashicorp/go-uuid v1.0.3 // indirect
)
