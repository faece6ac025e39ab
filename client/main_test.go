package client

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/siogo/siogo/internal/apptest"
	"github.com/siogo/siogo/internal/nodetest"
)

// TestMain fails the package if a test leaves a goroutine behind (every
// test closes its clients, so none may remain), then removes the binaries
// the tests built.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { apptest.Cleanup() }))
}

// waitFor bounds every wait for something expected; failing tests only.
const waitFor = 10 * time.Second

var allTransports = []string{WebSocket, XHRPolling, JSONPPolling}

// target is a server the conformance tests run against.
type target struct {
	name  string
	url   string
	siogo bool
}

// startTargets starts the siogo testapp (the real binary) and the Node.js
// reference running the same contract.
func startTargets(t *testing.T) []target {
	t.Helper()
	nodetest.Require(t)
	app := apptest.StartTestapp(t)
	ref := nodetest.StartReference(t)
	return []target{{"siogo", app.URL, true}, {"reference", ref, false}}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

// dial connects with transport tr only (all when ""), and closes the
// client when the test ends.
func dial(t *testing.T, rawURL, tr string, opts *Options) *Client {
	t.Helper()
	c, err := tryDial(t, rawURL, tr, opts)
	require.NoError(t, err)
	if tr != "" {
		require.Equal(t, tr, c.Transport())
	}
	return c
}

func tryDial(t *testing.T, rawURL, tr string, opts *Options) (*Client, error) {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if tr != "" {
		opts.Transports = []string{tr}
	}
	c, err := Dial(ctxFor(t), rawURL, opts)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// event is one event a client received.
type event struct {
	name string
	args []json.RawMessage
}

// inbox collects a namespace's events through OnAny.
type inbox struct{ ch chan event }

func newInbox(ns *Namespace) *inbox {
	ib := &inbox{ch: make(chan event, 4096)}
	ns.OnAny(func(name string, args []json.RawMessage) { ib.ch <- event{name, args} })
	return ib
}

// next returns the next event called name, skipping others.
func (ib *inbox) next(t *testing.T, name string) event {
	t.Helper()
	timer := time.NewTimer(waitFor)
	defer timer.Stop()
	for {
		select {
		case ev := <-ib.ch:
			if ev.name == name {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no %q event within %s", name, waitFor)
		}
	}
}

// none checks that no event called name arrives for d.
func (ib *inbox) none(t *testing.T, name string, d time.Duration) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev := <-ib.ch:
			if ev.name == name {
				t.Fatalf("unexpected %q event %s", name, argsJSON(ev.args))
			}
		case <-timer.C:
			return
		}
	}
}

func argsJSON(args []json.RawMessage) string {
	if args == nil {
		args = []json.RawMessage{}
	}
	b, err := json.Marshal(args)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

// happening is one lifecycle callback.
type happening struct {
	kind    string // connect, disconnect, connect_failed, reconnecting, reconnect, reconnect_failed, error
	ns      string
	err     error
	attempt int
}

func (h happening) String() string {
	s := h.kind
	if h.ns != "" {
		s += " " + h.ns
	}
	if h.attempt > 0 {
		s += fmt.Sprintf(" #%d", h.attempt)
	}
	if h.err != nil {
		s += ": " + h.err.Error()
	}
	return s
}

// lifecycle records the Options callbacks.
type lifecycle struct {
	mu       sync.Mutex
	all      []happening
	consumed []bool
}

func newLifecycle() *lifecycle { return &lifecycle{} }

func (l *lifecycle) add(h happening) {
	l.mu.Lock()
	l.all = append(l.all, h)
	l.consumed = append(l.consumed, false)
	l.mu.Unlock()
}

// options fills the callbacks of o (a new Options when nil).
func (l *lifecycle) options(o *Options) *Options {
	if o == nil {
		o = &Options{}
	}
	o.OnConnect = func(ns *Namespace) { l.add(happening{kind: "connect", ns: ns.Name()}) }
	o.OnDisconnect = func(ns *Namespace, err error) { l.add(happening{kind: "disconnect", ns: ns.Name(), err: err}) }
	o.OnConnectFailed = func(ns *Namespace, err error) {
		l.add(happening{kind: "connect_failed", ns: ns.Name(), err: err})
	}
	o.OnReconnecting = func(n int, d time.Duration, err error) {
		l.add(happening{kind: "reconnecting", attempt: n, err: err})
	}
	o.OnReconnect = func(n int) { l.add(happening{kind: "reconnect", attempt: n}) }
	o.OnReconnectFailed = func(err error) { l.add(happening{kind: "reconnect_failed", err: err}) }
	o.OnError = func(err error) { l.add(happening{kind: "error", err: err}) }
	return o
}

// wait returns the first happening of that kind (and namespace, when
// given) not returned before, in any order; it waits for one to come.
func (l *lifecycle) wait(t *testing.T, kind string, ns ...string) happening {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		l.mu.Lock()
		for i, h := range l.all {
			if !l.consumed[i] && h.kind == kind && (len(ns) == 0 || h.ns == ns[0]) {
				l.consumed[i] = true
				l.mu.Unlock()
				return h
			}
		}
		l.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %s %v within %s; seen: %s", kind, ns, waitFor, l.history())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *lifecycle) history() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for _, h := range l.all {
		parts = append(parts, h.String())
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// count returns how many happenings of a kind were recorded.
func (l *lifecycle) count(kind string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, h := range l.all {
		if h.kind == kind {
			n++
		}
	}
	return n
}
