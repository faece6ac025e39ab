package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/siogo/siogo/internal/engineio"
	"github.com/siogo/siogo/socketio"
)

// The suites' heartbeat (see each suite's UPSTREAM-README; the
// engine's settings are engineio.SuiteConfig).
const (
	suitePingInterval = 300 * time.Millisecond
	suitePingTimeout  = 200 * time.Millisecond
)

// suiteServer is what -suite serves: the Engine.IO echo server of the
// engine.io suites at /engine.io/ and the Socket.IO server of the
// socket.io-v5 suite at /socket.io/.
type suiteServer struct {
	mux *http.ServeMux
	eio *engineio.Server
	sio *socketio.Server
}

func newSuiteServer(logger *slog.Logger) *suiteServer {
	s := &suiteServer{mux: http.NewServeMux()}
	ecfg := engineio.SuiteConfig()
	ecfg.Logger = logger
	s.eio = engineio.NewServer(ecfg, engineio.Echo{})
	// EIO=4 goes to the engine; every other EIO too for now, which
	// answers 400 {"code":5}. TODO: EIO=3 (the engine.io-v3 suite) once an
	// Engine.IO v3 engine exists.
	s.mux.Handle("/engine.io/", s.eio)

	// TODO(sio5): the socket.io-v5 suite needs socketio's Socket.IO v5
	// layer on the Engine.IO v4 engine (pingInterval 300 ms, pingTimeout
	// 200 ms, maxPayload 1e6, connectTimeout 1 s, any origin); until it
	// lands, socketio.Server serves its own protocol at /socket.io/. The
	// handlers below are the suite's, as far as the current API goes
	// (there is no handshake auth yet: "auth" carries an empty object).
	s.sio = socketio.NewServer(socketio.Config{
		HeartbeatInterval: suitePingInterval,
		HeartbeatTimeout:  suitePingTimeout,
		Logger:            logger,
	})
	setupSuiteSocketIO(s.sio)
	s.mux.Handle("/socket.io/", s.sio)
	return s
}

// setupSuiteSocketIO registers the socket.io-v5 suite's handlers: "/" and
// "/custom" emit "auth" on connection; "/" sends "message" back as
// "message-back" and acknowledges "message-with-ack" with its arguments.
func setupSuiteSocketIO(srv *socketio.Server) {
	auth := func(s *socketio.Socket) {
		_ = s.Emit("auth", suiteAuth(s))
	}
	main := srv.Of("")
	main.OnConnect(auth)
	// "message" is a reserved event name of the 0.9 API: it arrives as
	// an unhandled event. TODO(sio5): On("message", ...) with v5.
	main.OnUnhandled(func(s *socketio.Socket, event string, args []json.RawMessage, _ socketio.AckFunc) {
		if event == "message" {
			_ = s.Emit("message-back", rawArgs(args)...)
		}
	})
	must(main.OnRaw("message-with-ack", func(_ *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		if ack != nil {
			_ = ack(rawArgs(args)...)
		}
	}))
	srv.Of("/custom").OnConnect(auth)
}

// suiteAuth is what the client sent as its handshake auth. TODO(sio5):
// the Socket.IO v5 CONNECT packet's auth; the 0.9 handshake has none.
func suiteAuth(*socketio.Socket) any { return map[string]any{} }

func rawArgs(args []json.RawMessage) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

func (s *suiteServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Shutdown closes both servers.
func (s *suiteServer) Shutdown(ctx context.Context) error {
	s.eio.Close()
	return s.sio.Shutdown(ctx)
}
