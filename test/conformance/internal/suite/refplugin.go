package suite

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RunAgainstReferencePlugin proves the harness itself: it builds the Go
// reference plugin (../refplugin, on HashiCorp's SDK framework) and runs
// every KV and AI check against it, with no environment variables needed. So
// a plain `go test ./...` always validates the harness before it is trusted
// with TypeScript plugins. Skipped with -short.
func RunAgainstReferencePlugin(t *testing.T, sdk SDK, refDir string) {
	if testing.Short() {
		t.Skip("-short: not building the reference plugin")
	}
	bin := filepath.Join(t.TempDir(), "example-kv")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.Command(gobin, "build", "-o", bin, ".")
	cmd.Dir = refDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", refDir, err, out)
	}
	t.Setenv(EnvPluginKV, bin)
	t.Setenv(EnvPluginAI, bin)
	t.Run("KV", func(t *testing.T) { Run(t, sdk, KVChecks) })
	t.Run("AI", func(t *testing.T) { Run(t, sdk, AIChecks) })
}
