package main

import (
	"encoding/json"
	"time"

	"github.com/siogo/siogo/socketio"
)

// suite5Config is cfg with what the official Socket.IO v5 suite expects of
// its server (its UPSTREAM-README-test-suite.md): ping interval 300 ms,
// ping timeout 200 ms, max payload 1,000,000 bytes, connect timeout 1 s,
// any origin.
func suite5Config(cfg socketio.Config) socketio.Config {
	cfg.PingInterval = 300 * time.Millisecond
	cfg.PingTimeout = 200 * time.Millisecond
	cfg.MaxPayload = 1_000_000
	cfg.ConnectTimeout = time.Second
	cfg.AllowedOrigins, cfg.CheckOrigin = nil, nil
	return cfg
}

// setupSuite5 registers the Socket.IO v5 suite's server on srv: on
// connection each socket of "/" and "/custom" is sent "auth" with its
// CONNECT auth payload ({} without one, as socket.handshake.auth in
// Node.js); in "/", "message" events come back as "message-back" with the
// same arguments and "message-with-ack" is acked with its arguments.
func setupSuite5(srv *socketio.Server) {
	for _, name := range []string{"", "/custom"} {
		srv.Of(name).OnConnect(func(s *socketio.Socket) {
			auth := s.Auth()
			if auth == nil {
				auth = json.RawMessage("{}")
			}
			_ = s.Emit("auth", auth)
		})
	}
	root := srv.Sockets()
	root.OnUnhandled(func(s *socketio.Socket, event string, args []json.RawMessage, ack socketio.AckFunc) {
		if event == "message" {
			_ = s.Emit("message-back", raw(s, args)...)
		}
	})
	must(root.OnRaw("message-with-ack", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		if ack != nil {
			_ = ack(raw(s, args)...)
		}
	}))
}
