// Command refplugin is a tiny reference implementation, in Go and on
// HashiCorp's own SDK, of the semantics the TypeScript "example-kv" plugin
// must have. It exists only to prove that the conformance harness itself is
// right before the harness is pointed at TypeScript code.
//
// Paths:
//
//	data/<key>  create/update (stores the request's JSON fields as given),
//	            read (returns them as response data; a missing key returns
//	            no response), delete
//	data/       list of stored keys
//	info        read: {"plugin":"example-kv"}
//	config      read/update of the string field "greeting"
//
// Special paths: root ["config"], unauthenticated ["info"], local storage
// ["local/"], seal-wrap storage ["config"]. Served with plugin.ServeMultiplex
// and reporting version v0.1.0.
package main

import (
	"context"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/plugin"
)

// Version is the version the plugin reports over logical.PluginVersion.
const Version = "v0.1.0"

func main() {
	logger := hclog.New(&hclog.LoggerOptions{Name: "refplugin", Output: os.Stderr, JSONFormat: true})
	if err := plugin.ServeMultiplex(&plugin.ServeOpts{BackendFactoryFunc: Factory, Logger: logger}); err != nil {
		logger.Error("plugin shutting down", "error", err)
		os.Exit(1)
	}
}

// Factory builds one backend instance (one per mount / multiplex id).
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	b := &framework.Backend{
		Help:           "Reference key/value plugin for the conformance harness.",
		BackendType:    logical.TypeLogical,
		RunningVersion: Version,
		PathsSpecial: &logical.Paths{
			Root:            []string{"config"},
			Unauthenticated: []string{"info"},
			LocalStorage:    []string{"local/"},
			SealWrapStorage: []string{"config"},
		},
		Paths: []*framework.Path{
			{
				Pattern:      "data/?$",
				HelpSynopsis: "List stored keys.",
				Operations: map[logical.Operation]framework.OperationHandler{
					logical.ListOperation: &framework.PathOperation{Callback: handleList},
				},
			},
			{
				Pattern:             "data/" + framework.GenericNameRegex("key"),
				HelpSynopsis:        "Read, write and delete one key.",
				TakesArbitraryInput: true,
				Fields: map[string]*framework.FieldSchema{
					"key": {Type: framework.TypeString, Description: "Key name."},
				},
				ExistenceCheck: existenceCheck,
				Operations: map[logical.Operation]framework.OperationHandler{
					logical.CreateOperation: &framework.PathOperation{Callback: handleWrite},
					logical.UpdateOperation: &framework.PathOperation{Callback: handleWrite},
					logical.ReadOperation:   &framework.PathOperation{Callback: handleRead},
					logical.DeleteOperation: &framework.PathOperation{Callback: handleDelete},
				},
			},
			{
				Pattern:      "info$",
				HelpSynopsis: "Plugin information.",
				Operations: map[logical.Operation]framework.OperationHandler{
					logical.ReadOperation: &framework.PathOperation{Callback: func(context.Context, *logical.Request, *framework.FieldData) (*logical.Response, error) {
						return &logical.Response{Data: map[string]interface{}{"plugin": "example-kv"}}, nil
					}},
				},
			},
			{
				Pattern:      "config$",
				HelpSynopsis: "Plugin configuration.",
				Fields: map[string]*framework.FieldSchema{
					"greeting": {Type: framework.TypeString, Description: "A greeting."},
				},
				Operations: map[logical.Operation]framework.OperationHandler{
					logical.ReadOperation:   &framework.PathOperation{Callback: handleConfigRead},
					logical.UpdateOperation: &framework.PathOperation{Callback: handleConfigWrite},
				},
			},
		},
	}
	if err := b.Setup(ctx, conf); err != nil {
		return nil, err
	}
	return b, nil
}

const dataPrefix = "data/"

func existenceCheck(ctx context.Context, req *logical.Request, d *framework.FieldData) (bool, error) {
	e, err := req.Storage.Get(ctx, dataPrefix+d.Get("key").(string))
	if err != nil {
		return false, err
	}
	return e != nil, nil
}

func handleList(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	keys, err := req.Storage.List(ctx, dataPrefix)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(keys), nil
}

func handleWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	key := d.Get("key").(string)
	fields := make(map[string]interface{}, len(req.Data))
	for k, v := range req.Data {
		fields[k] = v
	}
	entry, err := logical.StorageEntryJSON(dataPrefix+key, fields)
	if err != nil {
		return nil, err
	}
	return nil, req.Storage.Put(ctx, entry)
}

func handleRead(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	e, err := req.Storage.Get(ctx, dataPrefix+d.Get("key").(string))
	if err != nil || e == nil {
		return nil, err
	}
	var fields map[string]interface{}
	if err := e.DecodeJSON(&fields); err != nil {
		return nil, err
	}
	return &logical.Response{Data: fields}, nil
}

func handleDelete(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	return nil, req.Storage.Delete(ctx, dataPrefix+d.Get("key").(string))
}

func handleConfigRead(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	e, err := req.Storage.Get(ctx, "config")
	if err != nil || e == nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]interface{}{"greeting": strings.TrimSpace(string(e.Value))}}, nil
}

func handleConfigWrite(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
	return nil, req.Storage.Put(ctx, &logical.StorageEntry{Key: "config", Value: []byte(d.Get("greeting").(string))})
}
