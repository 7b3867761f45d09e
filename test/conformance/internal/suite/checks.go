package suite

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
)

// ---------------------------------------------------------------------------
// Checks shared by every plugin (run for the KV example and the AI engine).

// HandshakeNegotiatesProtocolV5: go-plugin's client starts the process,
// reads its handshake line, sets up AutoMTLS and reports app protocol 5 over
// gRPC, and the gRPC connection answers a ping (grpc.health.v1).
func HandshakeNegotiatesProtocolV5(t *testing.T, sdk SDK, env string) {
	p := startPlugin(t, sdk, pluginPath(t, env))
	if got := p.Client.NegotiatedVersion(); got != 5 {
		t.Fatalf("NegotiatedVersion() = %d, want 5", got)
	}
	if got := p.Client.Protocol(); got != plugin.ProtocolGRPC {
		t.Fatalf("Protocol() = %q, want %q", got, plugin.ProtocolGRPC)
	}
	if err := p.RPC.Ping(); err != nil {
		t.Fatalf("Ping (grpc.health.v1.Health/Check for service \"plugin\"): %v", err)
	}
}

// SetupWithoutStorageReportsTypeLogical: what the server's type detection
// does: Setup(&logical.BackendConfig{}) with no storage and no system view
// succeeds, and Type() is TypeLogical (a secrets engine).
func SetupWithoutStorageReportsTypeLogical(t *testing.T, sdk SDK, env string) {
	p := startPlugin(t, sdk, pluginPath(t, env))
	be := p.setupBackend(t, false)
	var typ BackendType
	within(t, callTimeout, "Type()", func() { typ = be.Type() })
	if typ != TypeLogical {
		t.Fatalf("Type() = %s, want TypeLogical", typ)
	}
}

// SetupWithStorageAndInitialize: Setup with InmemStorage and a
// StaticSystemView (the plugin dials the host's broker for them), then
// Initialize, both succeed.
func SetupWithStorageAndInitialize(t *testing.T, sdk SDK, env string) {
	p := startPlugin(t, sdk, pluginPath(t, env))
	p.setupBackend(t, true)
}

// TypeIsLogical: after a full mount-style Setup, Type() is TypeLogical.
func TypeIsLogical(t *testing.T, sdk SDK, env string) {
	p := startPlugin(t, sdk, pluginPath(t, env))
	be := p.setupBackend(t, true)
	var typ BackendType
	within(t, callTimeout, "Type()", func() { typ = be.Type() })
	if typ != TypeLogical {
		t.Fatalf("Type() = %s, want TypeLogical", typ)
	}
}

// SpecialPathsAnswered: SpecialPaths answers (the SDK client returns nil on
// any RPC error or a missing paths message).
func SpecialPathsAnswered(t *testing.T, sdk SDK, env string) {
	p := startPlugin(t, sdk, pluginPath(t, env))
	be := p.setupBackend(t, true)
	var paths *Paths
	within(t, callTimeout, "SpecialPaths()", func() { paths = be.SpecialPaths() })
	if paths == nil {
		t.Fatal("SpecialPaths() = nil: the RPC failed or returned no paths")
	}
	t.Logf("special paths: %+v", *paths)
}

// RootHelpHasTextAndOpenAPI: a help request on the root path (what
// `vault path-help` and the server's OpenAPI endpoint send) returns help
// text and an "openapi" object that the SDK's framework can decode.
func RootHelpHasTextAndOpenAPI(t *testing.T, sdk SDK, env string) {
	p := startPlugin(t, sdk, pluginPath(t, env))
	be := p.setupBackend(t, true)
	resp, err := be.HandleRequest(ctxT(t), OpHelp, "", map[string]interface{}{"requestResponsePrefix": "conformance"})
	if err != nil {
		t.Fatalf("help on root path: %v", err)
	}
	if resp == nil {
		t.Fatal("help on root path returned no response")
	}
	help, _ := resp.Data["help"].(string)
	if strings.TrimSpace(help) == "" {
		t.Fatalf("help response has no \"help\" text: %#v", resp.Data)
	}
	oapi, ok := resp.Data["openapi"].(map[string]interface{})
	if !ok || len(oapi) == 0 {
		t.Fatalf("help response \"openapi\" is %T, want a non-empty object", resp.Data["openapi"])
	}
	ver, n, err := sdk.ParseOpenAPI(oapi)
	if err != nil {
		t.Fatalf("framework.NewOASDocumentFromMap: %v", err)
	}
	if ver == "" {
		t.Fatal("openapi document has no \"openapi\" version field")
	}
	if n == 0 {
		t.Fatal("openapi document has no paths")
	}
	t.Logf("openapi %s with %d paths", ver, n)
}

// CleanupReturnsPromptly: Backend.Cleanup of a mounted backend returns
// within a few seconds (the SDK client waits for the Cleanup RPC and then
// gracefully stops the broker server the plugin dialled during Setup).
func CleanupReturnsPromptly(t *testing.T, sdk SDK, env string) {
	p := startPlugin(t, sdk, pluginPath(t, env))
	be := p.setupBackend(t, true)
	d := within(t, promptCleanup, "Cleanup", func() { be.Cleanup(ctxT(t)) })
	t.Logf("Cleanup took %s", d)
}

// KillShutsDownGracefully: client.Kill() (broker close, then
// GRPCController/Shutdown, then up to 2 s wait, then SIGKILL) ends the
// process within the grace period, i.e. the plugin exits by itself after
// Shutdown and is never SIGKILLed, and it exits with status 0.
func KillShutsDownGracefully(t *testing.T, sdk SDK, env string) {
	p := startPlugin(t, sdk, pluginPath(t, env))
	p.setupBackend(t, true)
	pid := 0
	if rc := p.Client.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	d := within(t, promptExit+gracefulExit, "client.Kill()", p.Client.Kill)
	if !p.Client.Exited() {
		t.Fatal("client.Exited() = false after Kill")
	}
	if len(p.Logs.entries("plugin failed to exit gracefully")) > 0 || d >= gracefulExit {
		t.Fatalf("plugin did not exit on Shutdown and was SIGKILLed by go-plugin (Kill took %s)", d)
	}
	if d > promptExit {
		t.Fatalf("Kill took %s, want < %s", d, promptExit)
	}
	if pid > 0 {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("process %d still exists after Kill (kill -0: %v)", pid, err)
		}
	}
	for _, e := range p.Logs.entries("plugin process exited") {
		if e["error"] != nil {
			t.Fatalf("plugin exited after Shutdown with %v, want status 0", e["error"])
		}
	}
	t.Logf("process exited %s after Kill", d)
}

// ---------------------------------------------------------------------------
// KV-example checks (semantics of the example key/value plugin).

var kvFields = map[string]interface{}{"a": "1", "n": 2}

// kvFieldsJSON is kvFields after a JSON round trip.
var kvFieldsJSON = map[string]interface{}{"a": "1", "n": float64(2)}

func requireNotError(t *testing.T, what string, resp *Response, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if resp != nil && resp.Data["error"] != nil {
		t.Fatalf("%s: error response: %v", what, resp.Data["error"])
	}
}

// storageKeysNamed returns the storage keys whose last segment is name.
func storageKeysNamed(t *testing.T, be Backend, name string) []string {
	t.Helper()
	keys, err := be.StorageKeys(ctxT(t))
	if err != nil {
		t.Fatalf("listing InmemStorage: %v", err)
	}
	var out []string
	for _, k := range keys {
		if path.Base(k) == name {
			out = append(out, k)
		}
	}
	return out
}

// containsFields reports whether v, or any object nested in it, has all of
// want's fields with equal values.
func containsFields(v interface{}, want map[string]interface{}) bool {
	switch x := v.(type) {
	case map[string]interface{}:
		ok := true
		for k, wv := range want {
			if !reflect.DeepEqual(x[k], wv) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
		for _, c := range x {
			if containsFields(c, want) {
				return true
			}
		}
	case []interface{}:
		for _, c := range x {
			if containsFields(c, want) {
				return true
			}
		}
	}
	return false
}

// KVStorageRoundTrip: create/read/list/delete on data/foo round-trip through
// the host's storage over the broker: the value really lands in the
// InmemStorage the host passed to Setup.
func KVStorageRoundTrip(t *testing.T, sdk SDK) {
	kvStorageRoundTrip(t, startPlugin(t, sdk, pluginPath(t, EnvPluginKV)))
}

func kvStorageRoundTrip(t *testing.T, p *Proc) {
	be := p.setupBackend(t, true)
	ctx := ctxT(t)

	resp, err := be.HandleRequest(ctx, OpCreate, "data/foo", kvFields)
	requireNotError(t, "create data/foo", resp, err)

	resp, err = be.HandleRequest(ctx, OpRead, "data/foo", nil)
	requireNotError(t, "read data/foo", resp, err)
	if resp == nil {
		t.Fatal("read data/foo: no response")
	}
	if !reflect.DeepEqual(resp.Data, kvFieldsJSON) {
		t.Fatalf("read data/foo: data = %#v, want %#v", resp.Data, kvFieldsJSON)
	}

	keys := storageKeysNamed(t, be, "foo")
	if len(keys) != 1 {
		all, _ := be.StorageKeys(ctx)
		t.Fatalf("InmemStorage: want exactly one key ending in \"foo\", have keys %q", all)
	}
	raw, ok, err := be.StorageGet(ctx, keys[0])
	if err != nil || !ok {
		t.Fatalf("InmemStorage get %q: found=%v err=%v", keys[0], ok, err)
	}
	var stored interface{}
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatalf("InmemStorage %q is not JSON: %v (%q)", keys[0], err, raw)
	}
	if !containsFields(stored, kvFieldsJSON) {
		t.Fatalf("InmemStorage %q = %s, want it to hold %v", keys[0], raw, kvFieldsJSON)
	}
	t.Logf("stored at %q: %s", keys[0], raw)

	resp, err = be.HandleRequest(ctx, OpList, "data/", nil)
	requireNotError(t, "list data/", resp, err)
	if resp == nil {
		t.Fatal("list data/: no response")
	}
	if got := stringList(resp.Data["keys"]); !reflect.DeepEqual(got, []string{"foo"}) {
		t.Fatalf("list data/: keys = %#v, want [\"foo\"]", resp.Data["keys"])
	}

	resp, err = be.HandleRequest(ctx, OpDelete, "data/foo", nil)
	requireNotError(t, "delete data/foo", resp, err)
	if keys := storageKeysNamed(t, be, "foo"); len(keys) != 0 {
		t.Fatalf("InmemStorage still has %q after delete", keys)
	}

	resp, err = be.HandleRequest(ctx, OpRead, "data/foo", nil)
	requireNotError(t, "read data/foo after delete", resp, err)
	if resp != nil {
		t.Fatalf("read data/foo after delete: want no response, got %#v", resp)
	}
}

func stringList(v interface{}) []string {
	l, ok := v.([]interface{})
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil
		}
		out = append(out, s)
	}
	return out
}

// KVExistenceCheck: HandleExistenceCheck on data/foo (sent as an update, as
// the server does for a write) reports checkFound=true and exists=false
// before the key is written, exists=true after.
func KVExistenceCheck(t *testing.T, sdk SDK) {
	p := startPlugin(t, sdk, pluginPath(t, EnvPluginKV))
	be := p.setupBackend(t, true)
	ctx := ctxT(t)

	found, exists, err := be.HandleExistenceCheck(ctx, OpUpdate, "data/foo", kvFields)
	if err != nil {
		t.Fatalf("existence check before write: %v", err)
	}
	if !found || exists {
		t.Fatalf("existence check before write: checkFound=%v exists=%v, want true false", found, exists)
	}
	resp, err := be.HandleRequest(ctx, OpCreate, "data/foo", kvFields)
	requireNotError(t, "create data/foo", resp, err)
	found, exists, err = be.HandleExistenceCheck(ctx, OpUpdate, "data/foo", kvFields)
	if err != nil {
		t.Fatalf("existence check after write: %v", err)
	}
	if !found || !exists {
		t.Fatalf("existence check after write: checkFound=%v exists=%v, want true true", found, exists)
	}
}

func normList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	c := append([]string(nil), l...)
	sort.Strings(c)
	return c
}

// KVSpecialPaths: SpecialPaths of the KV example is exactly root ["config"],
// unauthenticated ["info"], local storage ["local/"], seal-wrap storage
// ["config"], and nothing else.
func KVSpecialPaths(t *testing.T, sdk SDK) {
	p := startPlugin(t, sdk, pluginPath(t, EnvPluginKV))
	be := p.setupBackend(t, true)
	var got *Paths
	within(t, callTimeout, "SpecialPaths()", func() { got = be.SpecialPaths() })
	if got == nil {
		t.Fatal("SpecialPaths() = nil: the RPC failed or returned no paths")
	}
	want := Paths{Root: []string{"config"}, Unauthenticated: []string{"info"}, LocalStorage: []string{"local/"}, SealWrapStorage: []string{"config"}}
	norm := func(p Paths) Paths {
		return Paths{normList(p.Root), normList(p.Unauthenticated), normList(p.LocalStorage), normList(p.SealWrapStorage),
			normList(p.WriteForwardedStorage), normList(p.Limited), normList(p.AllowSnapshotRead)}
	}
	if !reflect.DeepEqual(norm(*got), norm(want)) {
		t.Fatalf("SpecialPaths() = %+v, want %+v", *got, want)
	}
}

// KVMultiplexingSupported: pluginutil.MultiplexingSupported (the
// pluginutil.multiplexing.PluginMultiplexing RPC, sent without metadata as
// the catalog does) reports true.
func KVMultiplexingSupported(t *testing.T, sdk SDK) {
	p := startPlugin(t, sdk, pluginPath(t, EnvPluginKV))
	ok, err := sdk.MultiplexingSupported(ctxT(t), p.Conn, p.Name)
	if err != nil {
		t.Fatalf("MultiplexingSupported: %v", err)
	}
	if !ok {
		t.Fatal("MultiplexingSupported = false, want true (the KV example must be served multiplexed)")
	}
}

func requireMultiplexed(t *testing.T, p *Proc) {
	t.Helper()
	ok, err := p.SDK.MultiplexingSupported(ctxT(t), p.Conn, p.Name)
	if err != nil || !ok {
		t.Fatalf("plugin is not multiplexed (supported=%v err=%v); see the MultiplexingSupported check", ok, err)
	}
}

// KVMultiplexedInstancesAreIsolated: two backends in one process, told apart
// only by their multiplex_id metadata and each with its own InmemStorage,
// do not see each other's writes.
func KVMultiplexedInstancesAreIsolated(t *testing.T, sdk SDK) {
	p := startPlugin(t, sdk, pluginPath(t, EnvPluginKV))
	requireMultiplexed(t, p)
	a := p.setupBackend(t, true)
	b := p.setupBackend(t, true)
	ctx := ctxT(t)

	resp, err := a.HandleRequest(ctx, OpCreate, "data/foo", kvFields)
	requireNotError(t, "A: create data/foo", resp, err)
	resp, err = b.HandleRequest(ctx, OpRead, "data/foo", nil)
	requireNotError(t, "B: read data/foo", resp, err)
	if resp != nil {
		t.Fatalf("B sees A's write: read data/foo = %#v", resp.Data)
	}
	if keys, _ := b.StorageKeys(ctx); len(keys) != 0 {
		t.Fatalf("B's InmemStorage has keys %q after a write through A", keys)
	}

	resp, err = b.HandleRequest(ctx, OpCreate, "data/bar", map[string]interface{}{"b": "2"})
	requireNotError(t, "B: create data/bar", resp, err)
	resp, err = a.HandleRequest(ctx, OpList, "data/", nil)
	requireNotError(t, "A: list data/", resp, err)
	if resp == nil || !reflect.DeepEqual(stringList(resp.Data["keys"]), []string{"foo"}) {
		t.Fatalf("A: list data/ = %#v, want keys [\"foo\"] only", resp)
	}
}

// KVCleanupOfOneInstanceLeavesOtherServing: after Cleanup of one
// multiplexed backend, the other backend in the same process keeps its data
// and keeps serving reads and writes.
func KVCleanupOfOneInstanceLeavesOtherServing(t *testing.T, sdk SDK) {
	p := startPlugin(t, sdk, pluginPath(t, EnvPluginKV))
	requireMultiplexed(t, p)
	a := p.setupBackend(t, true)
	b := p.setupBackend(t, true)
	ctx := ctxT(t)

	resp, err := a.HandleRequest(ctx, OpCreate, "data/foo", map[string]interface{}{"who": "a"})
	requireNotError(t, "A: create data/foo", resp, err)
	resp, err = b.HandleRequest(ctx, OpCreate, "data/foo", map[string]interface{}{"who": "b"})
	requireNotError(t, "B: create data/foo", resp, err)

	within(t, promptCleanup, "Cleanup of A", func() { a.Cleanup(ctx) })
	if p.Client.Exited() {
		t.Fatal("plugin process exited after Cleanup of one multiplexed backend")
	}

	resp, err = b.HandleRequest(ctx, OpRead, "data/foo", nil)
	requireNotError(t, "B: read data/foo after A's cleanup", resp, err)
	if resp == nil || resp.Data["who"] != "b" {
		t.Fatalf("B: read data/foo after A's cleanup = %#v, want who=b", resp)
	}
	resp, err = b.HandleRequest(ctx, OpCreate, "data/baz", map[string]interface{}{"x": "y"})
	requireNotError(t, "B: create data/baz after A's cleanup", resp, err)
	resp, err = b.HandleRequest(ctx, OpRead, "data/baz", nil)
	requireNotError(t, "B: read data/baz after A's cleanup", resp, err)
	if resp == nil || resp.Data["x"] != "y" {
		t.Fatalf("B: read data/baz after A's cleanup = %#v, want x=y", resp)
	}
}

// DatabaseCookieLaunchFailsCleanly: started the way the server's type
// detection first probes every untyped plugin (VAULT_DATABASE_PLUGIN cookie,
// dbplugin v5 plugin sets, metadata mode, AutoMTLS), the plugin refuses: no
// handshake, the process exits by itself, promptly, and the failure is not
// go-plugin's start timeout.
func DatabaseCookieLaunchFailsCleanly(t *testing.T, sdk SDK, env string) {
	p := launch(t, sdk, pluginPath(t, env), true)
	var err error
	d := within(t, promptDBFailure, "database-cookie launch", func() { _, err = p.Client.Client() })
	if err == nil {
		t.Fatalf("handshake with the database cookie succeeded (protocol %d); the plugin must refuse it", p.Client.NegotiatedVersion())
	}
	if strings.Contains(err.Error(), "timeout") {
		t.Fatalf("database-cookie launch failed only by timeout: %v", err)
	}
	// go-plugin can report the failure as soon as the plugin's stdout closes,
	// a moment before its Wait goroutine records the exit.
	deadline := time.Now().Add(promptExit)
	for !p.Client.Exited() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !p.Client.Exited() {
		t.Fatalf("process still running %s after the failed launch (%v)", promptExit, err)
	}
	status := "status 0"
	for _, e := range p.Logs.entries("plugin process exited") {
		if e["error"] != nil {
			status = fmt.Sprint(e["error"])
		}
	}
	t.Logf("launch failed after %s with %q; process exited (%s)", d, err, status)
}

var semverish = regexp.MustCompile(`^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// PluginVersionReported: as the catalog does at registration
// (getBackendRunningVersion: Setup with an empty config, then
// PluginVersion), the plugin reports a non-empty semver-like version over
// logical.PluginVersion/Version.
func PluginVersionReported(t *testing.T, sdk SDK, env string) {
	p := startPlugin(t, sdk, pluginPath(t, env))
	be := p.setupBackend(t, false)
	var v string
	var err error
	within(t, callTimeout, "PluginVersion()", func() { v, err = be.PluginVersion() })
	if err != nil {
		t.Fatalf("PluginVersion: %v", err)
	}
	if !semverish.MatchString(v) {
		t.Fatalf("PluginVersion() = %q, want a semantic version such as v0.1.0", v)
	}
	t.Logf("plugin version %s", v)
}
