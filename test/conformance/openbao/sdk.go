// Package openbao adapts OpenBao's github.com/openbao/openbao/sdk/v2 plugin
// client code to the conformance suite: process launch with
// pluginutil.PluginRunner.RunConfig, plugin.Dispense, logical.InmemStorage
// and logical.StaticSystemView, the types OpenBao's plugin catalog uses.
// OpenBao's runner additionally sets the BAO_* twins of every VAULT_* env
// var, and its host (broker) side serves OpenBao's Storage RPCs.
package openbao

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-uuid"
	dbplugin "github.com/openbao/openbao/sdk/v2/database/dbplugin/v5"
	"github.com/openbao/openbao/sdk/v2/framework"
	"github.com/openbao/openbao/sdk/v2/helper/pluginutil"
	"github.com/openbao/openbao/sdk/v2/logical"
	vplugin "github.com/openbao/openbao/sdk/v2/plugin"
	"google.golang.org/grpc"

	"vault-plugin-secrets-ai/test/conformance/internal/suite"
)

// ServerVersion is the OpenBao version the host claims (BAO_VERSION and
// VAULT_VERSION).
const ServerVersion = "2.6.2"

// SDK is the OpenBao-SDK implementation of suite.SDK.
var SDK suite.SDK = openbaoSDK{}

type openbaoSDK struct{}

func (openbaoSDK) Name() string               { return "openbao-sdk" }
func (openbaoSDK) MultiplexingCtxKey() string { return pluginutil.MultiplexingCtxKey }

// sysView is what the catalog passes as the runner wrapper
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

func (openbaoSDK) StartBackend(ctx context.Context, p suite.LaunchParams) (*plugin.Client, error) {
	return runner(p).RunConfig(ctx,
		pluginutil.Runner(sysView()),
		pluginutil.PluginSets(vplugin.PluginSet),
		pluginutil.HandshakeConfig(vplugin.HandshakeConfig),
		pluginutil.Logger(p.Logger),
		pluginutil.MetadataMode(false),
		pluginutil.AutoMTLS(true),
	)
}

// StartDatabase mirrors the catalog's isDatabasePlugin v5 probe.
func (openbaoSDK) StartDatabase(ctx context.Context, p suite.LaunchParams) (*plugin.Client, error) {
	return runner(p).RunConfig(ctx,
		pluginutil.Runner(sysView()),
		pluginutil.PluginSets(dbplugin.PluginSets),
		pluginutil.HandshakeConfig(dbplugin.HandshakeConfig),
		pluginutil.Logger(p.Logger),
		pluginutil.MetadataMode(true),
		pluginutil.AutoMTLS(true),
	)
}

// ContainerizedLaunch: OpenBao's server runs no containerized plugins (it
// has no plugin runtimes; its OCI support only extracts a binary from an
// image and runs it as a process), so this is go-plugin's container mode
// driven with OpenBao's SDK client code: its backend plugin set and cookie,
// and the BAO_*/VAULT_* variables its run config sets.
func (openbaoSDK) ContainerizedLaunch() suite.ContainerizedLaunch {
	var env []string
	for _, kv := range [][2]string{
		{pluginutil.PluginVaultVersionEnv, ServerVersion},
		{pluginutil.PluginMetadataModeEnv, "false"},
		{pluginutil.PluginAutoMTLSEnv, "true"},
	} {
		env = append(env, kv[0]+"="+kv[1], "VAULT_"+strings.TrimPrefix(kv[0], "BAO_")+"="+kv[1])
	}
	return suite.ContainerizedLaunch{Handshake: vplugin.HandshakeConfig, PluginSets: vplugin.PluginSet, Env: env}
}

func (openbaoSDK) MultiplexingSupported(ctx context.Context, cc grpc.ClientConnInterface, name string) (bool, error) {
	return pluginutil.MultiplexingSupported(ctx, cc, name)
}

func (openbaoSDK) Dispense(rpc plugin.ClientProtocol, pc *suite.PluginClient) (suite.Backend, error) {
	var _ pluginutil.PluginClient = pc
	be, err := vplugin.Dispense(rpc, pc)
	if err != nil {
		return nil, err
	}
	return &backend{be: be, name: "conformance"}, nil
}

func (openbaoSDK) ParseOpenAPI(m map[string]interface{}) (string, int, error) {
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
