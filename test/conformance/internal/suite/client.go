package suite

import (
	"context"
	"sync/atomic"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// muxConn is the harness's copy of the behaviour of Vault's (BUSL, not
// importable) plugincatalog.pluginClientConn: every call on the shared
// go-plugin connection carries gRPC metadata multiplex_id=<id>. Vault's
// catalog wraps the connection this way for every plugin client, whether or
// not the plugin said it multiplexes.
type muxConn struct {
	*grpc.ClientConn
	key, id string
}

var _ grpc.ClientConnInterface = (*muxConn)(nil)

func (c *muxConn) Invoke(ctx context.Context, method string, args, reply interface{}, opts ...grpc.CallOption) error {
	return c.ClientConn.Invoke(metadata.NewOutgoingContext(ctx, metadata.Pairs(c.key, c.id)), method, args, reply, opts...)
}

func (c *muxConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.ClientConn.NewStream(metadata.NewOutgoingContext(ctx, metadata.Pairs(c.key, c.id)), desc, method, opts...)
}

// PluginClient satisfies pluginutil.PluginClient of both SDKs (Conn, Reload
// and go-plugin's ClientProtocol), like the catalog's pluginClient.
//
// Close deliberately does NOT forward to go-plugin's GRPCClient.Close (which
// would send GRPCController/Shutdown to the whole process): the SDK's
// BackendPluginClientV5.Cleanup calls Close per backend, and in Vault that
// only releases the catalog entry. The harness owns the process lifetime and
// ends it with (*plugin.Client).Kill().
type PluginClient struct {
	plugin.ClientProtocol
	conn   grpc.ClientConnInterface
	ID     string
	closed atomic.Int32
}

func newPluginClient(rpc plugin.ClientProtocol, conn *grpc.ClientConn, key, id string) *PluginClient {
	return &PluginClient{ClientProtocol: rpc, conn: &muxConn{ClientConn: conn, key: key, id: id}, ID: id}
}

func (p *PluginClient) Conn() grpc.ClientConnInterface { return p.conn }
func (p *PluginClient) Reload() error                  { return nil }
func (p *PluginClient) Close() error                   { p.closed.Add(1); return nil }

// Closed reports how often the SDK called Close.
func (p *PluginClient) Closed() int { return int(p.closed.Load()) }
