package suite

import "testing"

// Check is one named conformance check: one behaviour, one test.
type Check struct {
	Name string
	Run  func(t *testing.T, sdk SDK)
}

// KVChecks are run against CONFORMANCE_PLUGIN_KV (the example key/value
// plugin, whose exact semantics are known).
var KVChecks = []Check{
	{"HandshakeNegotiatesProtocolV5", func(t *testing.T, s SDK) { HandshakeNegotiatesProtocolV5(t, s, EnvPluginKV) }},
	{"SetupWithoutStorageReportsTypeLogical", func(t *testing.T, s SDK) { SetupWithoutStorageReportsTypeLogical(t, s, EnvPluginKV) }},
	{"StorageRoundTrip", KVStorageRoundTrip},
	{"ExistenceCheck", KVExistenceCheck},
	{"SpecialPaths", KVSpecialPaths},
	{"MultiplexingSupported", KVMultiplexingSupported},
	{"MultiplexedInstancesAreIsolated", KVMultiplexedInstancesAreIsolated},
	{"CleanupOfOneInstanceLeavesOtherServing", KVCleanupOfOneInstanceLeavesOtherServing},
	{"CleanupReturnsPromptly", func(t *testing.T, s SDK) { CleanupReturnsPromptly(t, s, EnvPluginKV) }},
	{"KillShutsDownGracefully", func(t *testing.T, s SDK) { KillShutsDownGracefully(t, s, EnvPluginKV) }},
	{"DatabaseCookieLaunchFailsCleanly", func(t *testing.T, s SDK) { DatabaseCookieLaunchFailsCleanly(t, s, EnvPluginKV) }},
	{"PluginVersionReported", func(t *testing.T, s SDK) { PluginVersionReported(t, s, EnvPluginKV) }},
	{"ContainerizedStorageRoundTrip", ContainerizedStorageRoundTrip},
	{"ContainerizedLargeValueRoundTrip", ContainerizedLargeValueRoundTrip},
	{"ContainerizedSocketInSharedDirWithGroup", ContainerizedSocketInSharedDirWithGroup},
	{"ContainerizedSocketGroupByName", ContainerizedSocketGroupByName},
	{"ContainerizedKillShutsDownGracefully", ContainerizedKillShutsDownGracefully},
}

// AIChecks are run against CONFORMANCE_PLUGIN_AI (the AI secrets engine):
// protocol-level behaviour only, no engine semantics.
var AIChecks = []Check{
	{"HandshakeNegotiatesProtocolV5", func(t *testing.T, s SDK) { HandshakeNegotiatesProtocolV5(t, s, EnvPluginAI) }},
	{"SetupWithoutStorageReportsTypeLogical", func(t *testing.T, s SDK) { SetupWithoutStorageReportsTypeLogical(t, s, EnvPluginAI) }},
	{"SetupWithStorageAndInitialize", func(t *testing.T, s SDK) { SetupWithStorageAndInitialize(t, s, EnvPluginAI) }},
	{"TypeIsLogical", func(t *testing.T, s SDK) { TypeIsLogical(t, s, EnvPluginAI) }},
	{"SpecialPathsAnswered", func(t *testing.T, s SDK) { SpecialPathsAnswered(t, s, EnvPluginAI) }},
	{"RootHelpHasTextAndOpenAPI", func(t *testing.T, s SDK) { RootHelpHasTextAndOpenAPI(t, s, EnvPluginAI) }},
	{"CleanupReturnsPromptly", func(t *testing.T, s SDK) { CleanupReturnsPromptly(t, s, EnvPluginAI) }},
	{"KillShutsDownGracefully", func(t *testing.T, s SDK) { KillShutsDownGracefully(t, s, EnvPluginAI) }},
	{"ContainerizedSetupWithStorageAndInitialize", func(t *testing.T, s SDK) { ContainerizedSetupWithStorageAndInitialize(t, s, EnvPluginAI) }},
}

// Run runs checks as subtests of t.
func Run(t *testing.T, sdk SDK, checks []Check) {
	for _, c := range checks {
		t.Run(c.Name, func(t *testing.T) { c.Run(t, sdk) })
	}
}
