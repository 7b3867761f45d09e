// Package vault adapts HashiCorp's github.com/hashicorp/vault/sdk plugin
// client code to the conformance suite: process launch with
// pluginutil.PluginRunner.RunConfig, plugin.Dispense, logical.InmemStorage
// and logical.StaticSystemView, exactly the types Vault's plugin catalog
// uses.
package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-uuid"
	dbplugin "github.com/hashicorp/vault/sdk/database/dbplugin/v5"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/helper/pluginutil"
	"github.com/hashicorp/vault/sdk/logical"
	vplugin "github.com/hashicorp/vault/sdk/plugin"
	"google.golang.org/grpc"

	"vault-plugin-secrets-ai/test/conformance/internal/suite"
)

// ServerVersion is the Vault version the host claims (VAULT_VERSION).
const ServerVersion = "1.21.4"

// SDK is the Vault-SDK implementation of suite.SDK.
var SDK suite.SDK = vaultSDK{}

type vaultSDK struct{}

func (vaultSDK) Name() string               { return "vault-sdk" }
func (vaultSDK) MultiplexingCtxKey() string { return pluginutil.MultiplexingCtxKey }

// sysView is what Vault's catalog passes as the runner wrapper
// (logical.StaticSystemView{VersionString: ...}) and a plausible mount
// system view.
func sysView() logical.StaticSystemView {
	return logical.StaticSystemView{
		VersionString:      ServerVersion,
		DefaultLeaseTTLVal: 768 * time.Hour,
		MaxLeaseTTLVal:     768 * time.Hour,
		PluginEnvironment:  &logical.PluginEnvironment{VaultVersion: ServerVersion},
	}
}

func runner(p suite.LaunchParams) *pluginutil.PluginRunner {
	return &pluginutil.PluginRunner{Name: p.Name, Command: p.Command, Sha256: p.Sha256}
}

func (vaultSDK) StartBackend(ctx context.Context, p suite.LaunchParams) (*plugin.Client, error) {
	return runner(p).RunConfig(ctx,
		pluginutil.Runner(sysView()),
		pluginutil.PluginSets(vplugin.PluginSet),
		pluginutil.HandshakeConfig(vplugin.HandshakeConfig),
		pluginutil.Logger(p.Logger),
		pluginutil.MetadataMode(false),
		pluginutil.AutoMTLS(true),
	)
}

// StartDatabase mirrors plugincatalog.isDatabasePlugin's v5 probe.
func (vaultSDK) StartDatabase(ctx context.Context, p suite.LaunchParams) (*plugin.Client, error) {
	return runner(p).RunConfig(ctx,
		pluginutil.Runner(sysView()),
		pluginutil.PluginSets(dbplugin.PluginSets),
		pluginutil.HandshakeConfig(dbplugin.HandshakeConfig),
		pluginutil.Logger(p.Logger),
		pluginutil.MetadataMode(true),
		pluginutil.AutoMTLS(true),
	)
}

// ContainerizedLaunch mirrors the OCI-image branch of the SDK's
// pluginutil run config (makeConfig/generateCmd in v0.25.1): the backend
// plugin set and cookie, and as the container's whole environment the
// version, metadata-mode and AutoMTLS variables. Vault gives go-plugin a
// RunnerFunc, UnixSocketConfig{Group: its gid, TempDir: plugin_tmpdir} and
// GRPCBrokerMultiplex: true; the suite does the same.
func (vaultSDK) ContainerizedLaunch() suite.ContainerizedLaunch {
	return suite.ContainerizedLaunch{
		Handshake:  vplugin.HandshakeConfig,
		PluginSets: vplugin.PluginSet,
		Env: []string{
			fmt.Sprintf("%s=%s", pluginutil.PluginVaultVersionEnv, ServerVersion),
			fmt.Sprintf("%s=%t", pluginutil.PluginMetadataModeEnv, false),
			fmt.Sprintf("%s=%t", pluginutil.PluginAutoMTLSEnv, true),
		},
	}
}

func (vaultSDK) MultiplexingSupported(ctx context.Context, cc grpc.ClientConnInterface, name string) (bool, error) {
	return pluginutil.MultiplexingSupported(ctx, cc, name)
}

func (vaultSDK) Dispense(rpc plugin.ClientProtocol, pc *suite.PluginClient) (suite.Backend, error) {
	var _ pluginutil.PluginClient = pc
	be, err := vplugin.Dispense(rpc, pc)
	if err != nil {
		return nil, err
	}
	return &backend{be: be, name: "conformance"}, nil
}

func (vaultSDK) ParseOpenAPI(m map[string]interface{}) (string, int, error) {
	doc, err := framework.NewOASDocumentFromMap(m)
	if err != nil {
		return "", 0, err
	}
	return doc.Version, len(doc.Paths), nil
}

type backend struct {
	be      logical.Backend
	name    string
	storage *logical.InmemStorage
}

func (b *backend) Setup(ctx context.Context, withStorage bool) error {
	if !withStorage {
		return b.be.Setup(ctx, &logical.BackendConfig{})
	}
	id, err := uuid.GenerateUUID()
	if err != nil {
		return err
	}
	b.storage = &logical.InmemStorage{}
	return b.be.Setup(ctx, &logical.BackendConfig{
		StorageView: b.storage,
		System:      sysView(),
		BackendUUID: id,
		Config:      map[string]string{"plugin_name": b.name, "plugin_type": "secret"},
	})
}

func (b *backend) Initialize(ctx context.Context) error {
	return b.be.Initialize(ctx, &logical.InitializationRequest{Storage: b.storage})
}

func (b *backend) request(op suite.Operation, path string, data map[string]interface{}) *logical.Request {
	id, _ := uuid.GenerateUUID()
	req := &logical.Request{
		ID:            id,
		Operation:     logical.Operation(op),
		Path:          path,
		Data:          data,
		MountPoint:    "conformance/",
		MountType:     b.name,
		MountAccessor: "conformance_0001",
	}
	if b.storage != nil {
		req.Storage = b.storage
	}
	return req
}

func (b *backend) HandleRequest(ctx context.Context, op suite.Operation, path string, data map[string]interface{}) (*suite.Response, error) {
	resp, err := b.be.HandleRequest(ctx, b.request(op, path, data))
	if resp == nil {
		return nil, err
	}
	return &suite.Response{Data: resp.Data, Warnings: resp.Warnings}, err
}

func (b *backend) HandleExistenceCheck(ctx context.Context, op suite.Operation, path string, data map[string]interface{}) (bool, bool, error) {
	return b.be.HandleExistenceCheck(ctx, b.request(op, path, data))
}

func (b *backend) SpecialPaths() *suite.Paths {
	p := b.be.SpecialPaths()
	if p == nil {
		return nil
	}
	return &suite.Paths{
		Root: p.Root, Unauthenticated: p.Unauthenticated, LocalStorage: p.LocalStorage,
		SealWrapStorage: p.SealWrapStorage, WriteForwardedStorage: p.WriteForwardedStorage,
		Limited: p.Limited, AllowSnapshotRead: p.AllowSnapshotRead,
	}
}

func (b *backend) Type() suite.BackendType {
	switch b.be.Type() {
	case logical.TypeLogical:
		return suite.TypeLogical
	case logical.TypeCredential:
		return suite.TypeCredential
	}
	return suite.TypeUnknown
}

func (b *backend) PluginVersion() (v string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("SDK client panicked: %v", r)
		}
	}()
	pv, ok := b.be.(logical.PluginVersioner)
	if !ok {
		return "", fmt.Errorf("%T does not implement logical.PluginVersioner", b.be)
	}
	return pv.PluginVersion().Version, nil
}

func (b *backend) Cleanup(ctx context.Context) { b.be.Cleanup(ctx) }

func (b *backend) StorageKeys(ctx context.Context) ([]string, error) {
	if b.storage == nil {
		return nil, nil
	}
	return logical.CollectKeys(ctx, b.storage)
}

func (b *backend) StorageGet(ctx context.Context, key string) ([]byte, bool, error) {
	if b.storage == nil {
		return nil, false, nil
	}
	e, err := b.storage.Get(ctx, key)
	if err != nil || e == nil {
		return nil, false, err
	}
	return e.Value, true, nil
}
