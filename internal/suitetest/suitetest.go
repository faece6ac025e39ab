// Package suitetest runs the official Engine.IO and Socket.IO conformance
// suites (the repository's ../shared/suites, see its README) in headless
// Chromium from Go tests, through testdata/suites.js.
//
// The suites are mocha projects with their own npm dependencies: Run copies
// a suite folder to a temporary directory and runs `npm ci` there once per
// test binary (that needs the npm registry, so the callers keep these tests
// out of make test unless SIOGO_SUITES=1). The suites hard-code
// http://localhost:3000 (ServerURL): the server under test must listen
// there, and Lock keeps two test binaries from using the port at once.
//
// A test binary that uses Run removes the copies when it ends by calling
// RemoveCopies from its TestMain.
package suitetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/siogo/siogo/internal/nodetest"
)

// ServerURL is where every suite expects the server under test.
const ServerURL = "http://localhost:3000"

// The suite folders under SuitesDir.
const (
	EngineIOV4 = "engine.io-v4"
	EngineIOV3 = "engine.io-v3"
	SocketIOV5 = "socket.io-v5"
)

// Test is one test of a suite run, as suites.js reports it.
type Test struct {
	Suite string `json:"suite"`
	// Title is mocha's full title: the describe blocks and the test name,
	// joined by spaces.
	Title string `json:"title"`
	// State is "passed", "failed" or "pending" (skipped in the suite).
	State string `json:"state"`
	Err   string `json:"err"`
	MS    int64  `json:"ms"`
}

// Summary counts the tests of a suite run.
type Summary struct {
	Suite   string `json:"suite"`
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Pending int    `json:"pending"`
	Total   int    `json:"total"`
	MS      int64  `json:"ms"`
}

// Results is one run of a suite.
type Results struct {
	Tests   []Test
	Summary Summary
}

// Titles returns the titles of the tests in state ("passed", "failed" or
// "pending"), in the suite's order.
func (r Results) Titles(state string) []string {
	var out []string
	for _, tt := range r.Tests {
		if tt.State == state {
			out = append(out, tt.Title)
		}
	}
	return out
}

// SuitesDir returns the folder holding the suites: SIOGO_SUITES_DIR when
// set, else ../shared/suites next to the repository.
func SuitesDir(t testing.TB) string {
	if d := os.Getenv("SIOGO_SUITES_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	d, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "suites"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// copies caches the prepared suite folders of this test binary.
var copies struct {
	mu   sync.Mutex
	root string            // the temporary directory holding them
	dirs map[string]string // suite name -> prepared folder
}

// Prepare returns a writable copy of the suite folder name with its npm
// dependencies installed (npm ci), made once per test binary.
func Prepare(t testing.TB, name string) string {
	t.Helper()
	copies.mu.Lock()
	defer copies.mu.Unlock()
	if d, ok := copies.dirs[name]; ok {
		return d
	}
	src := filepath.Join(SuitesDir(t), name)
	if _, err := os.Stat(filepath.Join(src, "test-suite.js")); err != nil {
		t.Fatalf("suite %s not found (set SIOGO_SUITES_DIR): %v", name, err)
	}
	if copies.root == "" {
		root, err := os.MkdirTemp("", "siogo-suites-")
		if err != nil {
			t.Fatal(err)
		}
		copies.root, copies.dirs = root, map[string]string{}
	}
	dst := filepath.Join(copies.root, name)
	if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v: %s", src, err, out)
	}
	if out, err := exec.Command("chmod", "-R", "u+w", dst).CombinedOutput(); err != nil {
		t.Fatalf("chmod %s: %v: %s", dst, err, out)
	}
	npm := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	npm.Dir = dst
	if out, err := npm.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v: %s", dst, err, out)
	}
	copies.dirs[name] = dst
	return dst
}

// RemoveCopies removes the suite copies Prepare made; call it from TestMain
// after m.Run.
func RemoveCopies() {
	copies.mu.Lock()
	defer copies.mu.Unlock()
	if copies.root != "" {
		_ = os.RemoveAll(copies.root)
	}
	copies.root, copies.dirs = "", nil
}

// Run runs the suite name in headless Chromium against the server at
// serverURL (normally ServerURL; another URL makes suites.js rewrite the
// suite's URL constant, for ad-hoc runs only) and returns its results.
// Failing tests do not fail t; a harness error does.
func Run(t testing.TB, name, serverURL string) Results {
	t.Helper()
	node := nodetest.RequireChromium(t)
	dir := Prepare(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(nodetest.Dir(t), "suites.js"),
		"--suite", dir, "--server-url", serverURL, "--timeout-ms", "180000")
	cmd.Dir = nodetest.Dir(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Logf("suites.js stderr:\n%s", s)
	}
	if err != nil {
		t.Fatalf("suites.js --suite %s: %v\nstdout:\n%s", name, err, stdout.String())
	}
	var res Results
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var probe struct {
			Summary bool `json:"summary"`
		}
		if err := json.Unmarshal(line, &probe); err != nil {
			t.Fatalf("suites.js printed a line that is not JSON: %q", line)
		}
		if probe.Summary {
			if err := json.Unmarshal(line, &res.Summary); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var tt Test
		if err := json.Unmarshal(line, &tt); err != nil {
			t.Fatal(err)
		}
		res.Tests = append(res.Tests, tt)
	}
	if res.Summary.Total != len(res.Tests) {
		t.Fatalf("suites.js: summary counts %d tests, %d lines", res.Summary.Total, len(res.Tests))
	}
	return res
}

// Lock holds an exclusive lock, shared by every test binary of the
// machine, until t ends; take it before starting a server on ServerURL's
// port, so that tests of two packages do not fight over it.
func Lock(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "siogo-suites-3000.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lock %s: %v", f.Name(), err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}

// StartReference starts testdata/refsuites.js (a Node.js reference server
// of the suites: kind is engineio-v4, engineio-v3 or socketio-v5; extra
// args such as --allow-eio3 are passed on) on ServerURL's port, and stops
// it when t ends. Take Lock first.
func StartReference(t testing.TB, kind string, extra ...string) {
	t.Helper()
	node := nodetest.Require(t)
	args := append([]string{filepath.Join(nodetest.Dir(t), "refsuites.js"), "--kind", kind, "--port", "3000"}, extra...)
	cmd := exec.Command(node, args...)
	cmd.Dir = nodetest.Dir(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			if !ok && strings.Contains(sc.Text(), "listening") {
				ok = true
				ready <- true
			}
		}
		_ = cmd.Wait() // after this, stderr is complete
		if !ok {
			ready <- false
		}
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("refsuites.js --kind %s exited: %s", kind, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("refsuites.js --kind %s did not print listening within 15s", kind)
	}
}

// String renders a run's counts and failing titles for test messages.
func (r Results) String() string {
	s := r.Summary
	return fmt.Sprintf("%s: %d passed, %d failed, %d pending; failed: %q",
		s.Suite, s.Passed, s.Failed, s.Pending, r.Titles("failed"))
}
