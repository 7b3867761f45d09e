package suite

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Environment variables naming the plugin executables under test.
const (
	EnvPluginKV = "CONFORMANCE_PLUGIN_KV"
	EnvPluginAI = "CONFORMANCE_PLUGIN_AI"
	// EnvVerbose=1 prints the captured host+plugin log of passing tests too.
	EnvVerbose = "CONFORMANCE_VERBOSE"
)

// Time limits. go-plugin itself waits up to 1 min for a handshake and 2 s for
// a graceful exit after Shutdown; these are the harness's own bounds.
const (
	callTimeout     = 20 * time.Second // any single RPC
	promptCleanup   = 5 * time.Second  // Backend.Cleanup
	gracefulExit    = 2 * time.Second  // go-plugin's own grace period in Kill
	promptExit      = 3 * time.Second  // process gone after Kill
	promptDBFailure = 10 * time.Second // database-cookie launch must fail by then
)

// pluginPath returns the absolute path in env var name, or skips the test.
func pluginPath(t *testing.T, name string) string {
	t.Helper()
	p := os.Getenv(name)
	if p == "" {
		t.Skipf("%s is not set: point it at the plugin executable to run this check (see test/conformance/README.md)", name)
	}
	// go test runs each package with its own directory as cwd, so a relative
	// path would silently mean different things; insist on an absolute one.
	if !filepath.IsAbs(p) {
		t.Fatalf("%s=%q must be an absolute path (e.g. \"$(realpath %s)\")", name, p, p)
	}
	abs := filepath.Clean(p)
	st, err := os.Stat(abs)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, p, err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("%s=%q is not an executable file", name, p)
	}
	return abs
}

func fileSHA256(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil)
}

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// logCapture collects the host-side hclog output (go-plugin's own messages
// and the plugin's stderr, which go-plugin re-logs) as JSON lines.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logCapture) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// entries returns the captured records whose @message equals msg.
func (l *logCapture) entries(msg string) []map[string]interface{} {
	var out []map[string]interface{}
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		var m map[string]interface{}
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["@message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func newLogCapture(t *testing.T) (*logCapture, hclog.Logger) {
	t.Helper()
	lc := &logCapture{}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "host",
		Level:      hclog.Trace,
		Output:     lc,
		JSONFormat: true,
	})
	// Registered first, so it runs last (after the process is killed).
	t.Cleanup(func() {
		if t.Failed() || os.Getenv(EnvVerbose) == "1" {
			t.Logf("host and plugin log:\n%s", lc.String())
		}
	})
	return lc, logger
}

// Proc is one started plugin process as the host sees it.
type Proc struct {
	SDK    SDK
	Name   string
	Client *plugin.Client
	Logs   *logCapture
	RPC    plugin.ClientProtocol
	Conn   *grpc.ClientConn
	Logger hclog.Logger
}

// launch starts the plugin through the SDK's PluginRunner.RunConfig and
// registers client.Kill() as test cleanup. It does not handshake yet.
func launch(t *testing.T, sdk SDK, path string, database bool) *Proc {
	t.Helper()
	logs, logger := newLogCapture(t)
	p := LaunchParams{
		Name:    filepath.Base(path),
		Command: path,
		Sha256:  fileSHA256(t, path),
		Logger:  logger,
	}
	start := sdk.StartBackend
	if database {
		start = sdk.StartDatabase
	}
	client, err := start(context.Background(), p)
	if err != nil {
		t.Fatalf("%s: PluginRunner.RunConfig: %v", sdk.Name(), err)
	}
	t.Cleanup(client.Kill)
	return &Proc{SDK: sdk, Name: p.Name, Client: client, Logs: logs, Logger: logger}
}

// handshake runs go-plugin's Client() (process start, handshake line,
// AutoMTLS, gRPC dial) and keeps the raw gRPC connection.
func (p *Proc) handshake(t *testing.T) {
	t.Helper()
	rpc, err := p.Client.Client()
	if err != nil {
		t.Fatalf("%s: handshake (plugin.Client.Client): %v", p.SDK.Name(), err)
	}
	g, ok := rpc.(*plugin.GRPCClient)
	if !ok {
		t.Fatalf("%s: protocol client is %T, want *plugin.GRPCClient", p.SDK.Name(), rpc)
	}
	p.RPC, p.Conn = rpc, g.Conn
}

// startPlugin launches the plugin at path and completes the handshake.
func startPlugin(t *testing.T, sdk SDK, path string) *Proc {
	t.Helper()
	p := launch(t, sdk, path, false)
	p.handshake(t)
	return p
}

// dispense returns a logical.Backend bound to a fresh multiplex_id, the way
// the catalog's newPluginClient + plugin.Dispense do it.
func (p *Proc) dispense(t *testing.T) (Backend, *PluginClient) {
	t.Helper()
	pc := newPluginClient(p.RPC, p.Conn, p.SDK.MultiplexingCtxKey(), randomID())
	be, err := p.SDK.Dispense(p.RPC, pc)
	if err != nil {
		t.Fatalf("%s: plugin.Dispense: %v", p.SDK.Name(), err)
	}
	return be, pc
}

// within runs fn and fails the test if it does not return within d. (A hung
// call is left behind; the process kill at cleanup unblocks it.)
func within(t *testing.T, d time.Duration, what string, fn func()) time.Duration {
	t.Helper()
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); fn() }()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(d):
		t.Fatalf("%s did not return within %s", what, d)
		return d
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// setupBackend dispenses a backend and runs Setup (+ Initialize when
// withStorage), as a mount does.
func (p *Proc) setupBackend(t *testing.T, withStorage bool) Backend {
	t.Helper()
	be, _ := p.dispense(t)
	ctx := ctxT(t)
	if err := be.Setup(ctx, withStorage); err != nil {
		t.Fatalf("%s: Setup(withStorage=%v): %v", p.SDK.Name(), withStorage, err)
	}
	if withStorage {
		if err := be.Initialize(ctx); err != nil {
			t.Fatalf("%s: Initialize: %v", p.SDK.Name(), err)
		}
	}
	return be
}
