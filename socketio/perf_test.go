package socketio

// Memory and CPU cost of idle sessions and of the echo-with-ack path,
// measured in process without a network: sessions are handshaken through
// ServeHTTP and then attached the way the websocket transport attaches
// them (attachAs, SetWaker, TakeNow), so the numbers are the
// session layer's own, without the transport's buffers.
//
//	go test -run '^$' -bench 'IdleSession' -benchtime=1x ./socketio
//	go test -run '^$' -bench 'EchoAck' -benchtime=20000x -benchmem ./socketio
//
// With IDLE_HEAPPROFILE=FILE, BenchmarkIdleSessionMemory writes a heap
// profile of the idle sessions to FILE (with -memprofilerate=1 it is
// exact): go tool pprof -sample_index=inuse_space FILE.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/siogo/siogo/internal/transport"
)

// benchServer is a server with the testapp's "echo" (raw) and "join"
// (typed) handlers, a typed echo, and the testapp's logger set-up (a text
// handler at info level); with authorize, the testapp's handshake
// authorization too.
func benchServer(authorize bool) *Server {
	cfg := Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if authorize {
		cfg.Authorize = func(_ context.Context, hs *Handshake) (any, error) {
			if hs.Query.Get("deny") == "1" {
				return nil, ErrUnauthorized
			}
			return nil, nil
		}
	}
	srv := NewServer(cfg)
	ns := srv.Sockets()
	raw := func(args []json.RawMessage) []any {
		out := make([]any, len(args))
		for i, a := range args {
			out[i] = a
		}
		return out
	}
	_ = ns.OnRaw("echo", func(s *Socket, args []json.RawMessage, ack AckFunc) {
		if ack != nil {
			_ = ack(raw(args)...)
			return
		}
		_ = s.Emit("echo", raw(args)...)
	})
	_ = ns.On("echo-typed", func(s *Socket, text string, n int) (string, int) { return text, n })
	_ = ns.On("join", func(s *Socket, room string) bool { return s.Join(room) == nil })
	return srv
}

// openBenchSession handshakes through ServeHTTP (with the headers Go's
// HTTP client sends) and attaches a websocket-like stream.
func openBenchSession(tb testing.TB, srv *Server, wake func()) *session {
	req := httptest.NewRequest("GET", "/socket.io/1/?t=1700000000000", nil)
	req.Header.Set("User-Agent", "Go-http-client/1.1")
	req.Header.Set("Accept-Encoding", "gzip")
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	sid, _, ok := strings.Cut(rec.Body.String(), ":")
	if rec.Code != 200 || !ok {
		tb.Fatalf("handshake: %d %q", rec.Code, rec.Body.String())
	}
	sess := srv.lookup(sid)
	if sess == nil || sess.attachAs(transport.WebSocket, attachStream) != attachOK {
		tb.Fatal("attach failed")
	}
	sess.SetWaker(transport.FuncWaker(wake))
	pkts, _ := sess.TakeNow()
	if len(pkts) != 1 || string(pkts[0]) != "1::" {
		tb.Fatalf("connect: %q", pkts)
	}
	sess.Hold(-transport.PacketBytes(pkts)) // written, as a transport says
	return sess
}

// await takes from sess until want has been queued, releasing what it
// takes as a transport does once it has written it.
func await(tb testing.TB, sess *session, wake <-chan struct{}, want string) {
	for {
		pkts, closed := sess.TakeNow()
		if len(pkts) > 0 {
			sess.Hold(-transport.PacketBytes(pkts))
		}
		for _, p := range pkts {
			if string(p) == want {
				return
			}
		}
		if closed {
			tb.Fatalf("session closed waiting for %q", want)
		}
		<-wake
	}
}

// BenchmarkIdleSessionMemory reports the heap each idle websocket session
// retains: session, default-namespace socket, membership of its own-id
// room and of one shared room (joined as the testapp's "join" does it),
// timers and handshake data. Each iteration opens 2,000 sessions; run it
// with -benchtime=1x. "testapp" has a Config.Authorize, as the testapp
// does, so every session's Handshake is made in full at once; "default"
// has none.
func BenchmarkIdleSessionMemory(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchmarkIdleSessionMemory(b, false) })
	b.Run("testapp", func(b *testing.B) { benchmarkIdleSessionMemory(b, true) })
}

func benchmarkIdleSessionMemory(b *testing.B, authorize bool) {
	const n = 2000
	for b.Loop() {
		b.StopTimer()
		srv := benchServer(authorize)
		wake := make(chan struct{}, 1)
		waker := func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		join := `5:1+::{"name":"join","args":["bench"]}`
		// Warm up: one session so the shared room, maps and code paths
		// exist before the baseline.
		warm := openBenchSession(b, srv, waker)
		warm.Receive(join)
		await(b, warm, wake, "6:::1+[true]")
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		sessions := make([]*session, n)
		for i := range sessions {
			sess := openBenchSession(b, srv, waker)
			sess.Receive(join)
			await(b, sess, wake, "6:::1+[true]")
			sessions[i] = sess
		}
		b.StopTimer()
		// Let the handler goroutines exit.
		for _, sess := range sessions {
			if sock := sess.socket(""); sock != nil {
				_ = sock.drain(context.Background())
			}
		}
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "B/session")
		b.ReportMetric(float64(after.HeapObjects-before.HeapObjects)/n, "objects/session")
		if ids, _ := srv.Sockets().Clients("bench"); len(ids) != n+1 {
			b.Fatalf("room has %d members, want %d", len(ids), n+1)
		}
		if f := os.Getenv("IDLE_HEAPPROFILE"); f != "" {
			w, err := os.Create(f)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.Lookup("heap").WriteTo(w, 0); err != nil {
				b.Fatal(err)
			}
			_ = w.Close()
		}
		runtime.KeepAlive(sessions)
		srv.Close()
		b.StartTimer()
	}
}

// benchmarkEcho sends payload to one attached session per iteration and
// waits for want (the ack) to be queued: Receive, decode, the handler on
// the socket's goroutine, the ack's encoding and queuing.
func benchmarkEcho(b *testing.B, payload, want string) {
	srv := benchServer(true)
	defer srv.Close()
	wake := make(chan struct{}, 1)
	sess := openBenchSession(b, srv, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	b.ReportAllocs()
	for b.Loop() {
		sess.Receive(payload)
		await(b, sess, wake, want)
	}
	b.StopTimer()
	if sock := sess.socket(""); sock != nil {
		_ = sock.drain(context.Background())
	}
}

// BenchmarkEchoAck is the testapp's echo (a raw handler acking its args).
func BenchmarkEchoAck(b *testing.B) {
	benchmarkEcho(b, `5:1+::{"name":"echo","args":["ping",1]}`, `6:::1+["ping",1]`)
}

// BenchmarkEchoAckTyped is the same through a typed handler,
// func(*Socket, string, int) (string, int).
func BenchmarkEchoAckTyped(b *testing.B) {
	benchmarkEcho(b, `5:1+::{"name":"echo-typed","args":["ping",1]}`, `6:::1+["ping",1]`)
}

// socket returns the session's socket in namespace ns, or nil.
func (s *session) socket(ns string) *Socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.socketLocked(ns)
}
