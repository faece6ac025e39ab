package testtools

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// outcome is how a call of Require or RequireNodeModules ended a test.
type outcome struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (o *outcome) Helper() {}

func (o *outcome) Skipf(format string, args ...any) {
	o.skipped, o.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (o *outcome) Fatalf(format string, args ...any) {
	o.failed, o.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// call runs f with a TB that records a skip or a failure instead of ending
// t, and returns what happened.
func call(t *testing.T, f func(tb testing.TB)) *outcome {
	o := &outcome{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(o)
	}()
	<-done
	return o
}

// fakePath makes a directory holding an executable called name, puts only
// it in PATH and hides the sbin directories.
func fakePath(t *testing.T, name string) string {
	dir := t.TempDir()
	if name != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755))
	}
	t.Setenv("PATH", dir)
	old := sbinDirs
	sbinDirs = nil
	t.Cleanup(func() { sbinDirs = old })
	return dir
}

func setMode(t *testing.T, ci, require string) {
	t.Setenv("CI", ci)
	t.Setenv("SIOGO_REQUIRE_TOOLS", require)
}

func TestRequired(t *testing.T) {
	setMode(t, "", "")
	assert.False(t, Required())
	setMode(t, "true", "")
	assert.True(t, Required(), "CI set")
	setMode(t, "", "1")
	assert.True(t, Required(), "SIOGO_REQUIRE_TOOLS=1")
	setMode(t, "", "0")
	assert.False(t, Required(), "SIOGO_REQUIRE_TOOLS=0")
}

func TestLook(t *testing.T) {
	dir := fakePath(t, "redis-server")
	p, err := Look("redis-server")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "redis-server"), p)

	_, err = Look("nginx")
	require.ErrorIs(t, err, exec.ErrNotFound)

	sbin := fakePath(t, "")
	require.NoError(t, os.WriteFile(filepath.Join(sbin, "nginx"), []byte("#!/bin/sh\n"), 0o755))
	sbinDirs = []string{sbin}
	p, err = Look("nginx")
	require.NoError(t, err, "found in an sbin directory outside PATH")
	assert.Equal(t, filepath.Join(sbin, "nginx"), p)
}

func TestRequireFound(t *testing.T) {
	dir := fakePath(t, "node")
	setMode(t, "1", "1")
	var p string
	o := call(t, func(tb testing.TB) { p = Require(tb, "node") })
	assert.False(t, o.skipped || o.failed, o.msg)
	assert.Equal(t, filepath.Join(dir, "node"), p)
}

func TestRequireMissingSkips(t *testing.T) {
	fakePath(t, "")
	setMode(t, "", "")
	o := call(t, func(tb testing.TB) { Require(tb, "redis-server") })
	assert.True(t, o.skipped, "a missing tool skips the test")
	assert.False(t, o.failed)
	assert.Contains(t, o.msg, "redis-server not found")
	assert.Contains(t, o.msg, "apt-get install redis-server")

	o = call(t, func(tb testing.TB) { Require(tb, "node") })
	assert.True(t, o.skipped)
	assert.Contains(t, o.msg, "node not found")
	assert.Contains(t, o.msg, "apt-get install nodejs", "the Debian package's name")
}

func TestRequireMissingFailsWhenRequired(t *testing.T) {
	fakePath(t, "")
	for _, mode := range [][2]string{{"true", ""}, {"", "1"}} {
		setMode(t, mode[0], mode[1])
		o := call(t, func(tb testing.TB) { Require(tb, "chromium") })
		assert.True(t, o.failed, "CI=%q SIOGO_REQUIRE_TOOLS=%q: a missing tool fails", mode[0], mode[1])
		assert.False(t, o.skipped)
		assert.Contains(t, o.msg, "chromium not found")
	}
}

func TestRequireNodeModules(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"),
		[]byte(`{"dependencies": {"socket.io": "0.9.19", "playwright-core": "1.65.1"}}`), 0o644))
	setMode(t, "", "")
	o := call(t, func(tb testing.TB) { RequireNodeModules(tb, dir) })
	assert.True(t, o.skipped)
	assert.Contains(t, o.msg, "node_modules not found")
	assert.Contains(t, o.msg, `["playwright-core" "socket.io"]`, "names every missing package")
	assert.ErrorIs(t, NodeModules(dir), ErrNodeModules)

	require.NoError(t, os.MkdirAll(filepath.Join(dir, "node_modules", "socket.io"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "node_modules", "socket.io", "package.json"), []byte("{}"), 0o644))
	setMode(t, "", "1")
	o = call(t, func(tb testing.TB) { RequireNodeModules(tb, dir) })
	assert.True(t, o.failed, "required: a missing package fails")
	assert.Contains(t, o.msg, `["playwright-core"]`)
	assert.NotContains(t, o.msg, `"socket.io"`)

	require.NoError(t, os.MkdirAll(filepath.Join(dir, "node_modules", "playwright-core"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "node_modules", "playwright-core", "package.json"), []byte("{}"), 0o644))
	o = call(t, func(tb testing.TB) { RequireNodeModules(tb, dir) })
	assert.False(t, o.skipped || o.failed, o.msg)
	require.NoError(t, NodeModules(dir))
}

func TestNodeModulesNoPackageJSON(t *testing.T) {
	require.ErrorIs(t, NodeModules(t.TempDir()), os.ErrNotExist)
}
