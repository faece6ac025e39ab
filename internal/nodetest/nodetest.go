// Package nodetest runs the project's Node.js test tools (the real
// socket.io-client@0.9.16, the reference socket.io@0.9.19, playwright) from
// Go tests. The tools live in the repository's testdata directory and are
// installed by `make deps-node`.
package nodetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/siogo/siogo/internal/testtools"
)

// Dir returns the absolute path of the repository's testdata directory.
func Dir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testdata")
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// Require returns the path of node once it and the npm packages of
// testdata are found; else it skips the test, or fails it under CI or
// make test (see testtools).
func Require(t testing.TB) string {
	t.Helper()
	node := testtools.Require(t, "node")
	testtools.RequireNodeModules(t, Dir(t))
	return node
}

// RequireChromium returns the path of node, as Require does, once
// chromium (which the browser scripts drive through playwright-core) is
// found too.
func RequireChromium(t testing.TB) string {
	t.Helper()
	node := Require(t)
	testtools.Require(t, "chromium")
	return node
}

// Result is one line of a scenario runner's output. Runners name what
// they checked either Scenario (run-scenarios.js, browser.js) or Check (the
// examples' e2e scripts).
type Result struct {
	Scenario  string          `json:"scenario"`
	Check     string          `json:"check"`
	MS        int64           `json:"ms"`
	Transport string          `json:"transport"`
	Pass      bool            `json:"pass"`
	Observed  json.RawMessage `json:"observed"`
	Error     string          `json:"error"`
}

// Run runs a Node script from testdata with args and returns its JSON
// result lines. Stderr is logged through t.
func Run(ctx context.Context, t testing.TB, script string, args ...string) []Result {
	t.Helper()
	node := Require(t)
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(Dir(t), script)}, args...)...)
	cmd.Dir = Dir(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Logf("%s stderr:\n%s", script, clip(s, 8000))
	}
	if err != nil {
		t.Fatalf("%s %v: %v\nstdout:\n%s", script, args, err, clip(stdout.String(), 4000))
	}
	var out []Result
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r Result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s printed a line that is not a result: %q", script, line)
		}
		out = append(out, r)
	}
	return out
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "\n..."
	}
	return s
}

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// StartReference starts the Node.js reference server running the testapp
// contract (testdata/reftestapp.js) and returns its base URL. It is
// stopped when the test ends.
func StartReference(t testing.TB, extra ...string) string {
	t.Helper()
	return StartServerScript(t, "reftestapp.js", extra...)
}

// StartServerScript starts the Node.js server testdata/script with
// `--addr 127.0.0.1:PORT` (a free port) and extra, waits for the line
// "listening" on its stdout and returns its base URL. It is stopped when
// the test ends. reftestapp.js (socket.io@0.9) and reftestapp4.js
// (socket.io@4) follow that convention.
func StartServerScript(t testing.TB, script string, extra ...string) string {
	t.Helper()
	node := Require(t)
	addr := FreeAddr(t)
	args := append([]string{filepath.Join(Dir(t), script), "--addr", addr}, extra...)
	cmd := exec.Command(node, args...)
	cmd.Dir = Dir(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("reference server exited: %s", stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("reference server did not start: %s", stderr.String())
	}
	return "http://" + addr
}

// Describe renders a failed result for an assertion message.
func (r Result) Describe() string {
	return fmt.Sprintf("%s over %s: %s (observed %s)", r.Scenario, r.Transport, r.Error, string(r.Observed))
}
