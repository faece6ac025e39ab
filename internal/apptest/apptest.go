// Package apptest builds the project's commands (examples/testapp,
// cmd/siocat) from tests and runs the testapp as a real process that a
// test can kill and restart on the same port.
package apptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/siogo/siogo/internal/testtools"
)

// Root returns the module's root directory.
func Root(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	abs, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

// Build builds the main package pkg ("./examples/testapp") once per test
// process (with the race detector when race is set) and returns the
// binary's path. Call Cleanup from TestMain to remove the binaries.
func Build(t testing.TB, pkg string, race bool) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := fmt.Sprintf("%s race=%v", pkg, race)
	if bin, ok := built[key]; ok {
		return bin
	}
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "apptest-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = dir
	}
	goBin := testtools.Require(t, "go")
	bin := filepath.Join(buildDir, fmt.Sprintf("%s-%d", filepath.Base(pkg), len(built)))
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	cmd := exec.Command(goBin, append(args, pkg)...)
	cmd.Dir = Root(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	built[key] = bin
	return bin
}

// Cleanup removes what Build made.
func Cleanup() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
		buildDir = ""
		built = map[string]string{}
	}
}

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// LockedBuffer collects output written from several goroutines (a
// process's pipes, a server's logger) and may be read while it grows.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Records decodes the JSON log records written so far (a
// slog.JSONHandler's output) whose message is msg, or all of them when msg
// is empty. A line that is not a JSON object fails the test.
func (b *LockedBuffer) Records(t testing.TB, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not a JSON record: %v: %.200s", err, line)
		}
		if msg == "" || m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// Testapp is a running examples/testapp process.
type Testapp struct {
	t    testing.TB
	bin  string
	args []string
	Addr string // host:port
	URL  string // http://host:port

	mu     sync.Mutex
	cmd    *exec.Cmd
	stderr *LockedBuffer
	logs   []string // stderr of earlier runs
}

// StartTestapp builds and starts the testapp on a free port with extra
// flags (e.g. "-heartbeat-interval", "200ms") and waits until it answers.
// It is stopped when the test ends; its log is shown if the test failed.
func StartTestapp(t testing.TB, flags ...string) *Testapp {
	t.Helper()
	a := &Testapp{t: t, bin: Build(t, "./examples/testapp", false), Addr: FreeAddr(t)}
	a.URL = "http://" + a.Addr
	a.args = append([]string{"-addr", a.Addr}, flags...)
	t.Cleanup(func() {
		a.Stop()
		if t.Failed() {
			a.mu.Lock()
			logs := append(a.logs, a.stderr.String())
			a.mu.Unlock()
			for i, l := range logs {
				if len(l) > 6000 {
					l = "...\n" + l[len(l)-6000:]
				}
				t.Logf("testapp run %d stderr:\n%s", i+1, l)
			}
		}
	})
	a.Start()
	return a
}

// Start (re)starts the process on the same address and waits until it
// answers GET /socket.io/.
func (a *Testapp) Start() {
	a.t.Helper()
	a.mu.Lock()
	if a.cmd != nil {
		a.mu.Unlock()
		a.t.Fatal("apptest: testapp already running")
	}
	if a.stderr != nil {
		a.logs = append(a.logs, a.stderr.String())
	}
	a.stderr = &LockedBuffer{}
	cmd := exec.Command(a.bin, a.args...)
	cmd.Stderr = a.stderr
	if err := cmd.Start(); err != nil {
		a.mu.Unlock()
		a.t.Fatalf("apptest: starting testapp: %v", err)
	}
	a.cmd = cmd
	a.mu.Unlock()

	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := hc.Get(a.URL + "/socket.io/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("apptest: testapp did not come up on %s: %v\n%s", a.Addr, err, a.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills the process with SIGKILL (no goodbye to its clients) and
// waits for it.
func (a *Testapp) Kill() { a.stop(syscall.SIGKILL) }

// Stop stops the process with SIGTERM (a graceful shutdown) and waits
// for it, killing it after 5 s.
func (a *Testapp) Stop() { a.stop(syscall.SIGTERM) }

// Signal sends sig to the running process (SIGSTOP, SIGCONT...).
func (a *Testapp) Signal(sig os.Signal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd != nil {
		_ = a.cmd.Process.Signal(sig)
	}
}

func (a *Testapp) stop(sig syscall.Signal) {
	a.mu.Lock()
	cmd := a.cmd
	a.cmd = nil
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // in case a test stopped it
	_ = cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
