package vault

// Each test is one behaviour; the check itself lives in internal/suite and is
// shared with the OpenBao package. Tests skip when their plugin env var is
// unset.

import (
	"testing"

	"vault-plugin-secrets-ai/test/conformance/internal/suite"
)

const kv, ai = suite.EnvPluginKV, suite.EnvPluginAI

// --- KV example (CONFORMANCE_PLUGIN_KV) ---

func TestKV_HandshakeNegotiatesProtocolV5(t *testing.T) {
	suite.HandshakeNegotiatesProtocolV5(t, SDK, kv)
}
func TestKV_SetupWithoutStorageReportsTypeLogical(t *testing.T) {
	suite.SetupWithoutStorageReportsTypeLogical(t, SDK, kv)
}
func TestKV_StorageRoundTrip(t *testing.T) { suite.KVStorageRoundTrip(t, SDK) }
func TestKV_ExistenceCheck(t *testing.T)   { suite.KVExistenceCheck(t, SDK) }
func TestKV_SpecialPaths(t *testing.T)     { suite.KVSpecialPaths(t, SDK) }
func TestKV_MultiplexingSupported(t *testing.T) {
	suite.KVMultiplexingSupported(t, SDK)
}
func TestKV_MultiplexedInstancesAreIsolated(t *testing.T) {
	suite.KVMultiplexedInstancesAreIsolated(t, SDK)
}
func TestKV_CleanupOfOneInstanceLeavesOtherServing(t *testing.T) {
	suite.KVCleanupOfOneInstanceLeavesOtherServing(t, SDK)
}
func TestKV_CleanupReturnsPromptly(t *testing.T) { suite.CleanupReturnsPromptly(t, SDK, kv) }
func TestKV_KillShutsDownGracefully(t *testing.T) {
	suite.KillShutsDownGracefully(t, SDK, kv)
}
func TestKV_DatabaseCookieLaunchFailsCleanly(t *testing.T) {
	suite.DatabaseCookieLaunchFailsCleanly(t, SDK, kv)
}
func TestKV_PluginVersionReported(t *testing.T) { suite.PluginVersionReported(t, SDK, kv) }

// --- AI secrets engine (CONFORMANCE_PLUGIN_AI): protocol-level checks only ---

func TestAI_HandshakeNegotiatesProtocolV5(t *testing.T) {
	suite.HandshakeNegotiatesProtocolV5(t, SDK, ai)
}
func TestAI_SetupWithoutStorageReportsTypeLogical(t *testing.T) {
	suite.SetupWithoutStorageReportsTypeLogical(t, SDK, ai)
}
func TestAI_SetupWithStorageAndInitialize(t *testing.T) {
	suite.SetupWithStorageAndInitialize(t, SDK, ai)
}
func TestAI_TypeIsLogical(t *testing.T)        { suite.TypeIsLogical(t, SDK, ai) }
func TestAI_SpecialPathsAnswered(t *testing.T) { suite.SpecialPathsAnswered(t, SDK, ai) }
func TestAI_RootHelpHasTextAndOpenAPI(t *testing.T) {
	suite.RootHelpHasTextAndOpenAPI(t, SDK, ai)
}
func TestAI_CleanupReturnsPromptly(t *testing.T) { suite.CleanupReturnsPromptly(t, SDK, ai) }
func TestAI_KillShutsDownGracefully(t *testing.T) {
	suite.KillShutsDownGracefully(t, SDK, ai)
}
