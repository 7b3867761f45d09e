package vault

// The checks live in internal/suite and are shared with package openbao;
// each is its own subtest (one behaviour per test), e.g.
// TestVaultSDK_KV/StorageRoundTrip. A subtest skips when its plugin env var
// is unset.

import (
	"testing"

	"vault-plugin-secrets-ai/test/conformance/internal/suite"
)

// TestVaultSDK_KV runs the KV-example checks against CONFORMANCE_PLUGIN_KV.
func TestVaultSDK_KV(t *testing.T) { suite.Run(t, SDK, suite.KVChecks) }

// TestVaultSDK_AI runs the AI-engine checks against CONFORMANCE_PLUGIN_AI.
func TestVaultSDK_AI(t *testing.T) { suite.Run(t, SDK, suite.AIChecks) }

// TestVaultSDK_ReferencePlugin runs all checks against the Go reference
// plugin in ../refplugin (built on the fly) to prove the harness itself.
func TestVaultSDK_ReferencePlugin(t *testing.T) {
	suite.RunAgainstReferencePlugin(t, SDK, "../refplugin")
}
