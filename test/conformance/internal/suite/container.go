package suite

// Containerized launch: go-plugin's client configured the way Vault
// configures it for a plugin registered with -oci_image (RunnerFunc,
// UnixSocketConfig{Group, TempDir}, GRPCBrokerMultiplex: true), with a local
// runner in place of the Docker one (go-secure-stdlib/plugincontainer).
//
// The runner keeps what a container changes for the plugin: its environment
// is only what go-plugin and the SDK give it (no PATH, no HOME, no TMPDIR of
// the host), and it sees the shared socket directory under another path, as
// through a bind mount, so the host translates the socket path the plugin
// reports (PluginToHost) exactly as the Docker runner does. What it cannot
// show is the container's own users and runtime (gVisor's --host-uds).

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
)

// localContainerRunner implements go-plugin's runner.Runner for one process.
type localContainerRunner struct {
	cmd       *exec.Cmd
	stdout    io.ReadCloser
	stderr    io.ReadCloser
	hostDir   string // the socket directory go-plugin made on the host
	pluginDir string // the same directory as the plugin sees it
	name      string
}

var _ runner.Runner = (*localContainerRunner)(nil)

// mergeEnv applies the entries in order, a later one replacing an earlier
// one with the same name, as the container engine does.
func mergeEnv(lists ...[]string) []string {
	var out []string
	index := map[string]int{}
	for _, list := range lists {
		for _, kv := range list {
			k, _, _ := strings.Cut(kv, "=")
			if i, ok := index[k]; ok {
				out[i] = kv
				continue
			}
			index[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

func (r *localContainerRunner) Start(context.Context) error { return r.cmd.Start() }
func (r *localContainerRunner) Diagnose(context.Context) string {
	return fmt.Sprintf("local container runner: %s, socket dir %s seen as %s", r.name, r.hostDir, r.pluginDir)
}
func (r *localContainerRunner) Stdout() io.ReadCloser      { return r.stdout }
func (r *localContainerRunner) Stderr() io.ReadCloser      { return r.stderr }
func (r *localContainerRunner) Name() string               { return r.name }
func (r *localContainerRunner) Wait(context.Context) error { return r.cmd.Wait() }
func (r *localContainerRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !strings.Contains(err.Error(), "process already finished") {
		return err
	}
	return nil
}
func (r *localContainerRunner) ID() string {
	if r.cmd.Process == nil {
		return ""
	}
	return strconv.Itoa(r.cmd.Process.Pid)
}

// PluginToHost accepts only a socket directly in the shared directory, as
// plugincontainer's runner does.
func (r *localContainerRunner) PluginToHost(pluginNet, pluginAddr string) (string, string, error) {
	if path.Dir(pluginAddr) != r.pluginDir {
		return "", "", fmt.Errorf("expected address to be in directory %s, but was %s", r.pluginDir, pluginAddr)
	}
	return pluginNet, path.Join(r.hostDir, path.Base(pluginAddr)), nil
}

func (r *localContainerRunner) HostToPlugin(hostNet, hostAddr string) (string, string, error) {
	if path.Dir(hostAddr) != r.hostDir {
		return "", "", fmt.Errorf("expected address to be in directory %s, but was %s", r.hostDir, hostAddr)
	}
	return hostNet, path.Join(r.pluginDir, path.Base(hostAddr)), nil
}

// Containerized is one plugin started in container mode.
type Containerized struct {
	*Proc
	Group   string
	runner  *localContainerRunner
	tempDir string
}

// HostSocketDir is the shared directory as the host sees it.
func (c *Containerized) HostSocketDir(t *testing.T) string {
	t.Helper()
	if c.runner == nil {
		t.Fatal("the plugin was not started through the container runner")
	}
	return c.runner.hostDir
}

// Pid is the plugin process's id.
func (c *Containerized) Pid() int {
	if c.runner == nil || c.runner.cmd.Process == nil {
		return 0
	}
	return c.runner.cmd.Process.Pid
}

// shortTempDir is a fresh directory with a short path: the socket's full
// path must fit in 103 bytes, and t.TempDir's names are long. It can be
// traversed by other users (not listed), so a plugin run under another uid,
// as in a container, reaches the shared directory below it as it would
// through the bind mount.
func shortTempDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// currentGroup is the process's effective gid, which Vault passes as both
// the container's extra group and the socket group.
func currentGroup() string { return strconv.Itoa(os.Getegid()) }

// currentGroupName is the same group by name.
func currentGroupName(t *testing.T) string {
	t.Helper()
	g, err := user.LookupGroupId(currentGroup())
	if err != nil {
		t.Skipf("the current gid %s has no group name: %v", currentGroup(), err)
	}
	return g.Name
}

// launchContainerized starts the plugin at executable the way Vault starts
// a containerized one, with group as PLUGIN_UNIX_SOCKET_GROUP, and
// completes go-plugin's handshake.
func launchContainerized(t *testing.T, sdk SDK, executable, group string) *Containerized {
	t.Helper()
	logs, logger := newLogCapture(t)
	launch := sdk.ContainerizedLaunch()
	c := &Containerized{Group: group, tempDir: shortTempDir(t, "cf-")}
	view := shortTempDir(t, "cv-")

	runnerFunc := func(_ hclog.Logger, cmd *exec.Cmd, hostSocketDir string) (runner.Runner, error) {
		pluginDir := filepath.Join(view, "s")
		if err := os.Symlink(hostSocketDir, pluginDir); err != nil {
			return nil, err
		}
		proc := exec.Command(executable)
		proc.Env = mergeEnv(cmd.Env, []string{plugin.EnvUnixSocketDir + "=" + pluginDir}, launch.Env)
		stdout, err := proc.StdoutPipe()
		if err != nil {
			return nil, err
		}
		stderr, err := proc.StderrPipe()
		if err != nil {
			return nil, err
		}
		c.runner = &localContainerRunner{cmd: proc, stdout: stdout, stderr: stderr, hostDir: hostSocketDir, pluginDir: pluginDir, name: executable}
		return c.runner, nil
	}

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:     launch.Handshake,
		VersionedPlugins:    launch.PluginSets,
		Logger:              logger,
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolNetRPC, plugin.ProtocolGRPC},
		AutoMTLS:            true,
		SkipHostEnv:         true,
		RunnerFunc:          runnerFunc,
		UnixSocketConfig:    &plugin.UnixSocketConfig{Group: group, TempDir: c.tempDir},
		GRPCBrokerMultiplex: true,
	})
	t.Cleanup(client.Kill)
	c.Proc = &Proc{SDK: sdk, Name: filepath.Base(executable), Client: client, Logs: logs, Logger: logger}
	c.handshake(t)
	return c
}

// ---------------------------------------------------------------------------
// Checks.

// ContainerizedStorageRoundTrip: the KV round trip of KVStorageRoundTrip,
// with the broker multiplexed over the plugin's one connection: every
// storage call of the plugin reaches the host's InmemStorage through a knock
// on the broker stream and a yamux stream on the main connection.
func ContainerizedStorageRoundTrip(t *testing.T, sdk SDK) {
	c := launchContainerized(t, sdk, pluginPath(t, EnvPluginKV), currentGroup())
	kvStorageRoundTrip(t, c.Proc)
}

// ContainerizedLargeValueRoundTrip: a 1 MiB value written and read back
// through the backend crosses the multiplexed connection both ways (request
// and storage put towards the host, storage get and response back), four
// times yamux's 256 KiB stream window, so it only arrives intact if both
// sides grant window as they read.
func ContainerizedLargeValueRoundTrip(t *testing.T, sdk SDK) {
	c := launchContainerized(t, sdk, pluginPath(t, EnvPluginKV), currentGroup())
	be := c.setupBackend(t, true)
	ctx := ctxT(t)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i%36]
	}
	value := string(big)
	resp, err := be.HandleRequest(ctx, OpCreate, "data/big", map[string]interface{}{"v": value})
	requireNotError(t, "create data/big", resp, err)
	resp, err = be.HandleRequest(ctx, OpRead, "data/big", nil)
	requireNotError(t, "read data/big", resp, err)
	if resp == nil {
		t.Fatal("read data/big: no response")
	}
	got, _ := resp.Data["v"].(string)
	if got != value {
		t.Fatalf("read data/big: got %d bytes, want the %d written", len(got), len(value))
	}
}

// ContainerizedSetupWithStorageAndInitialize: Setup with storage and a
// system view, then Initialize, over the multiplexed broker.
func ContainerizedSetupWithStorageAndInitialize(t *testing.T, sdk SDK, env string) {
	c := launchContainerized(t, sdk, pluginPath(t, env), currentGroup())
	c.setupBackend(t, true)
}

// socketsIn lists the entries of dir; it fails the test on anything that is
// not a unix socket.
func socketsIn(t *testing.T, dir string) []os.FileInfo {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading the shared socket directory: %v", err)
	}
	var out []os.FileInfo
	for _, e := range entries {
		info, err := os.Lstat(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode()&os.ModeSocket == 0 {
			t.Fatalf("the shared socket directory holds %s (%s), want only the plugin's socket", e.Name(), info.Mode())
		}
		out = append(out, info)
	}
	return out
}

func requireGroupSocket(t *testing.T, info os.FileInfo, gid int) {
	t.Helper()
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		t.Fatalf("no stat for %s", info.Name())
	}
	if int(st.Gid) != gid {
		t.Fatalf("socket %s belongs to gid %d, want %d (PLUGIN_UNIX_SOCKET_GROUP)", info.Name(), st.Gid, gid)
	}
	if perm := info.Mode().Perm(); perm != 0o660 {
		t.Fatalf("socket %s has mode %o, want 660 (read-write for owner and group)", info.Name(), perm)
	}
}

// ContainerizedSocketInSharedDirWithGroup: the plugin creates its socket
// directly in PLUGIN_UNIX_SOCKET_DIR (else the host could not translate the
// path), owned by the group in PLUGIN_UNIX_SOCKET_GROUP and writable by it
// (mode 660), and it is the only socket there even after a storage round
// trip: multiplexed, the broker needs no socket of its own.
func ContainerizedSocketInSharedDirWithGroup(t *testing.T, sdk SDK) {
	c := launchContainerized(t, sdk, pluginPath(t, EnvPluginKV), currentGroup())
	gid := os.Getegid()
	be := c.setupBackend(t, true)
	resp, err := be.HandleRequest(ctxT(t), OpCreate, "data/foo", kvFields)
	requireNotError(t, "create data/foo", resp, err)

	socks := socketsIn(t, c.HostSocketDir(t))
	if len(socks) != 1 {
		t.Fatalf("the shared socket directory holds %d sockets, want exactly the plugin's one", len(socks))
	}
	requireGroupSocket(t, socks[0], gid)
	if !strings.HasPrefix(filepath.Clean(c.HostSocketDir(t)), filepath.Clean(c.tempDir)+string(filepath.Separator)) {
		t.Fatalf("go-plugin made the socket directory %s outside TempDir %s", c.HostSocketDir(t), c.tempDir)
	}
	t.Logf("socket %s, gid %d, mode %s", socks[0].Name(), gid, socks[0].Mode())
}

// ContainerizedSocketGroupByName: a group name in PLUGIN_UNIX_SOCKET_GROUP
// (go-plugin accepts a name or a gid) gives the socket that group.
func ContainerizedSocketGroupByName(t *testing.T, sdk SDK) {
	c := launchContainerized(t, sdk, pluginPath(t, EnvPluginKV), currentGroupName(t))
	socks := socketsIn(t, c.HostSocketDir(t))
	if len(socks) != 1 {
		t.Fatalf("the shared socket directory holds %d sockets, want 1", len(socks))
	}
	requireGroupSocket(t, socks[0], os.Getegid())
}

// ContainerizedKillShutsDownGracefully: after a mount-style Setup, Kill
// (broker close, Shutdown, closing the one connection) ends the process by
// itself within go-plugin's grace period, with status 0.
func ContainerizedKillShutsDownGracefully(t *testing.T, sdk SDK) {
	c := launchContainerized(t, sdk, pluginPath(t, EnvPluginKV), currentGroup())
	c.setupBackend(t, true)
	pid := c.Pid()
	d := within(t, promptExit+gracefulExit, "client.Kill()", c.Client.Kill)
	if len(c.Logs.entries("plugin failed to exit gracefully")) > 0 || d >= gracefulExit {
		t.Fatalf("plugin did not exit on Shutdown and was killed by go-plugin (Kill took %s)", d)
	}
	if pid > 0 {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Fatalf("process %d still exists after Kill (kill -0: %v)", pid, err)
		}
	}
	for _, e := range c.Logs.entries("plugin process exited") {
		if e["error"] != nil {
			t.Fatalf("plugin exited after Shutdown with %v, want status 0", e["error"])
		}
	}
	t.Logf("process exited %s after Kill", d)
}
