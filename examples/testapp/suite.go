package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/siogo/siogo/internal/engineio"
	"github.com/siogo/siogo/socketio"
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
	// The engine serves both suites' echo servers: EIO=4 (engine.io-v4)
	// and EIO=3 (engine.io-v3), any other EIO answered 400 {"code":5}.
	s.mux.Handle("/engine.io/", s.eio)

	// The socket.io-v5 suite's server (suite5.go): pingInterval 300 ms,
	// pingTimeout 200 ms, maxPayload 1e6, connectTimeout 1 s, any origin.
	s.sio = socketio.NewServer(suite5Config(socketio.Config{Logger: logger}))
	setupSuite5(s.sio)
	s.mux.Handle("/socket.io/", s.sio)
	return s
}

func (s *suiteServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Shutdown closes both servers.
func (s *suiteServer) Shutdown(ctx context.Context) error {
	s.eio.Close()
	return s.sio.Shutdown(ctx)
}
