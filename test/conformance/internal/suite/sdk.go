// Package suite holds the SDK-neutral conformance checks. Each check drives a
// plugin executable through an SDK adapter (package vault or openbao), so the
// process launch, handshake, AutoMTLS, broker and pb.Backend client are always
// HashiCorp's or OpenBao's own code; this package only decides what to call
// and what to expect.
package suite

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// BackendType mirrors logical.BackendType (identical in both SDKs).
type BackendType int

const (
	TypeUnknown BackendType = iota
	TypeLogical
	TypeCredential
)

func (t BackendType) String() string {
	switch t {
	case TypeLogical:
		return "TypeLogical"
	case TypeCredential:
		return "TypeCredential"
	}
	return "TypeUnknown"
}

// Operation mirrors logical.Operation (a string type in both SDKs).
type Operation string

const (
	OpCreate Operation = "create"
	OpRead   Operation = "read"
	OpUpdate Operation = "update"
	OpDelete Operation = "delete"
	OpList   Operation = "list"
	OpHelp   Operation = "help"
)

// Response is the part of logical.Response the checks look at. A nil
// *Response means the plugin returned no response.
type Response struct {
	Data     map[string]interface{}
	Warnings []string
}

// Paths mirrors logical.Paths. Fields an SDK does not have stay nil.
type Paths struct {
	Root                  []string
	Unauthenticated       []string
	LocalStorage          []string
	SealWrapStorage       []string
	WriteForwardedStorage []string
	Limited               []string
	AllowSnapshotRead     []string
}

// LaunchParams is what the host knows about a plugin when it starts it.
type LaunchParams struct {
	Name    string // catalog name; the executable's base name
	Command string // absolute path
	Sha256  []byte // raw SHA-256 of Command
	Logger  hclog.Logger
}

// SDK is implemented once per SDK (Vault, OpenBao) with that SDK's own types.
type SDK interface {
	// Name is a short label for messages, e.g. "vault-sdk".
	Name() string
	// MultiplexingCtxKey is pluginutil.MultiplexingCtxKey.
	MultiplexingCtxKey() string

	// StartBackend calls pluginutil.PluginRunner.RunConfig with the backend
	// plugin set and cookie, AutoMTLS and no metadata mode, as the catalog
	// does. It returns go-plugin's client; nothing is started yet.
	StartBackend(ctx context.Context, p LaunchParams) (*plugin.Client, error)
	// StartDatabase does the same with the dbplugin v5 plugin sets and the
	// VAULT_DATABASE_PLUGIN cookie, as the catalog's isDatabasePlugin probe.
	StartDatabase(ctx context.Context, p LaunchParams) (*plugin.Client, error)
	// ContainerizedLaunch is what the SDK's host side hands go-plugin for a
	// containerized plugin: the backend handshake and plugin sets, and the
	// environment the container gets (containers inherit nothing from the
	// server's own environment). The suite adds go-plugin's container options.
	ContainerizedLaunch() ContainerizedLaunch
	// MultiplexingSupported is pluginutil.MultiplexingSupported.
	MultiplexingSupported(ctx context.Context, cc grpc.ClientConnInterface, name string) (bool, error)
	// Dispense is the SDK's plugin.Dispense(rpcClient, pluginClient).
	Dispense(rpc plugin.ClientProtocol, pc *PluginClient) (Backend, error)
	// ParseOpenAPI decodes a root-help "openapi" value with the SDK's
	// framework.NewOASDocumentFromMap (what the server's OpenAPI endpoint
	// does) and returns the OpenAPI version string and number of paths.
	ParseOpenAPI(m map[string]interface{}) (version string, paths int, err error)
}

// ContainerizedLaunch is the SDK-specific part of a containerized launch.
type ContainerizedLaunch struct {
	Handshake  plugin.HandshakeConfig
	PluginSets map[int]plugin.PluginSet
	Env        []string
}

// Backend is a dispensed logical.Backend plus the storage the harness gave it.
type Backend interface {
	// Setup calls Backend.Setup. With withStorage=false the config is
	// &logical.BackendConfig{} (no storage, no system view), exactly as the
	// server's type detection does. With withStorage=true it gets a fresh
	// logical.InmemStorage, a logical.StaticSystemView, a logger, a backend
	// UUID and plugin_name/plugin_type config.
	Setup(ctx context.Context, withStorage bool) error
	Initialize(ctx context.Context) error
	HandleRequest(ctx context.Context, op Operation, path string, data map[string]interface{}) (*Response, error)
	HandleExistenceCheck(ctx context.Context, op Operation, path string, data map[string]interface{}) (checkFound, exists bool, err error)
	SpecialPaths() *Paths
	Type() BackendType
	// PluginVersion calls logical.PluginVersioner.PluginVersion. err is
	// non-nil only if the SDK client panicked.
	PluginVersion() (version string, err error)
	Cleanup(ctx context.Context)

	// StorageKeys lists every key in the InmemStorage given at Setup
	// (logical.CollectKeys); StorageGet reads one raw value.
	StorageKeys(ctx context.Context) ([]string, error)
	StorageGet(ctx context.Context, key string) ([]byte, bool, error)
}
