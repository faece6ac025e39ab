package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siogo/siogo/socketio"
)

// app is the in-process server: the parts of the testapp contract
// (TESTAPP.md) the tests use — echo, join, leave, to-room — on the
// default namespace and /chat, plus slow(...), which sleeps slowFor and
// acks its args (for the shutdown test).
type app struct {
	srv  *socketio.Server
	logs *logCounter

	slowFor      time.Duration
	slowGate     chan struct{} // if set, slow handlers wait for it to close before their slowFor
	slowStarted  atomic.Int64
	slowFinished atomic.Int64

	mu          sync.Mutex
	slowAckErrs []error // what the slow handlers' AckFunc returned (nil: queued for the client)
}

func newApp(cfg socketio.Config, slowFor time.Duration) *app {
	a := &app{logs: &logCounter{}, slowFor: slowFor}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(a.logs)
	}
	a.srv = socketio.NewServer(cfg)
	for _, name := range []string{"", "/chat"} {
		a.register(a.srv.Of(name))
	}
	return a
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func raw(args []json.RawMessage) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

func (a *app) register(ns *socketio.Namespace) {
	// As in the testapp: ack with the same args, or emit them back.
	must(ns.OnRaw("echo", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		if ack != nil {
			_ = ack(raw(args)...)
			return
		}
		_ = s.Emit("echo", raw(args)...)
	}))
	must(ns.On("join", func(s *socketio.Socket, room string) bool { return s.Join(room) == nil }))
	must(ns.On("leave", func(s *socketio.Socket, room string) bool { return s.Leave(room) == nil }))
	// to-room(room, ...args): emit the event named "room" with args to
	// everyone in the room, sender included.
	must(ns.OnRaw("to-room", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		if len(args) == 0 {
			return
		}
		var room string
		if json.Unmarshal(args[0], &room) != nil {
			return
		}
		_ = ns.To(room).Emit("room", raw(args[1:])...)
	}))
	must(ns.OnRaw("slow", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		a.slowStarted.Add(1)
		if a.slowGate != nil {
			select {
			case <-a.slowGate:
			case <-time.After(time.Minute):
			}
		}
		time.Sleep(a.slowFor)
		a.slowFinished.Add(1)
		if ack == nil {
			return
		}
		err := ack(raw(args)...)
		a.mu.Lock()
		a.slowAckErrs = append(a.slowAckErrs, err)
		a.mu.Unlock()
	}))
}

func (a *app) slowAckErrors() []error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]error(nil), a.slowAckErrs...)
}

// logCounter is the server's slog handler: it keeps every record at Info
// or above (the library logs routine events at Debug; Info and up are
// refusals, timeouts, slow consumers, handler panics).
type logCounter struct {
	mu      sync.Mutex
	records []string
	warn    int // Warn and above
}

// debugLog, when SIOGO_SOAK_LOG names a file, gets every record of the
// servers, Debug ones too (the engines' close and upgrade reasons), each
// with its time: what to read when a run fails. Nil otherwise.
var debugLog = openDebugLog()

func openDebugLog() *lockedWriter {
	p := os.Getenv("SIOGO_SOAK_LOG")
	if p == "" {
		return nil
	}
	f, err := os.Create(p)
	if err != nil {
		panic(fmt.Sprintf("SIOGO_SOAK_LOG: %v", err))
	}
	return &lockedWriter{w: f}
}

// lockedWriter serializes the writes of the servers' goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (h *logCounter) Enabled(_ context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || debugLog != nil
}

func (h *logCounter) Handle(_ context.Context, r slog.Record) error {
	if debugLog != nil {
		var d strings.Builder
		fmt.Fprintf(&d, "%s %s %s", r.Time.Format("15:04:05.000000"), r.Level, r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&d, " %s=%v", a.Key, a.Value)
			return true
		})
		d.WriteByte('\n')
		_, _ = io.WriteString(debugLog, d.String())
		if r.Level < slog.LevelInfo {
			return nil // what the test counts is Info and up
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "stack" {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Level >= slog.LevelWarn {
		h.warn++
	}
	if len(h.records) < 1000 {
		h.records = append(h.records, b.String())
	}
	return nil
}

func (h *logCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logCounter) WithGroup(string) slog.Handler      { return h }

// summary returns the number of Warn+ records and a histogram of the
// records' messages.
func (h *logCounter) summary() (warn int, hist string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	counts := map[string]int{}
	for _, r := range h.records {
		msg, _, _ := strings.Cut(r, " sid=")
		counts[msg]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %5d × %s", counts[k], k)
	}
	return h.warn, b.String()
}

// first returns up to n records at Warn or above.
func (h *logCounter) first(n int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.records {
		if !strings.HasPrefix(r, "INFO ") && len(out) < n {
			out = append(out, r)
		}
	}
	return out
}
