// Package soak holds long-running whole-stack tests (issue "Hardening"):
// a siogo server in process, hundreds of Go clients — half of them 0.9
// over websocket, xhr-polling and jsonp-polling, half Engine.IO v4 /
// Socket.IO v5 over websocket, polling and polling upgraded to websocket
// — connecting, emitting with acks, joining rooms and dropping out at
// random (TestSoak); and graceful shutdown with
// handlers still running (TestShutdownCompletesInFlightAcks) or a
// handshake half done (TestShutdownRefusesHandshakeInProgress).
//
// TestSoak runs for SIOGO_SOAK_DURATION (a Go duration, default 20s) with
// SIOGO_SOAK_CLIENTS concurrent clients (default 200); SIOGO_SOAK_SEED
// repeats a run's random choices. It is skipped with -short.
// SIOGO_SOAK_LOG names a file that gets every record the servers log,
// Debug ones included (the engines' close and upgrade reasons, with each
// session id), each with its time: what to read when a run fails.
//
//	SIOGO_SOAK_DURATION=5m go test -race -count=1 -timeout 30m -run TestSoak -v ./internal/soak
//
// Under -race keep SIOGO_SOAK_CLIENTS below about 600: each client costs
// about a dozen goroutines (client and server side), and the race
// detector stops the process at 8128 live goroutines.
//
// The package has no code of its own: only tests.
package soak
