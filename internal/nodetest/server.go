package nodetest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// StartServer starts a Node.js server script from testdata with --addr
// ADDR (a free loopback address) and extra, waits for the line
// "listening" on its stdout, and returns its base URL, http://ADDR. It is
// stopped when the test ends (StartReference does the same for
// reftestapp.js).
func StartServer(t testing.TB, script string, extra ...string) string {
	t.Helper()
	node := Require(t)
	addr := FreeAddr(t)
	args := append([]string{filepath.Join(Dir(t), script), "--addr", addr}, extra...)
	cmd := exec.Command(node, args...)
	cmd.Dir = Dir(t)
	var stderr lockedBuffer
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
			t.Fatalf("%s exited: %s", script, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not start: %s", script, stderr.String())
	}
	return "http://" + addr
}

// lockedBuffer is a bytes.Buffer safe for the writer (exec's copying
// goroutine) and a reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
