// Package socketio is a Socket.IO 0.9 server: an http.Handler that speaks
// the protocol of the socket.io.js 0.9 client (browser and the npm
// socket.io-client@0.9.16) over websocket, htmlfile, xhr-polling and
// jsonp-polling.
//
//	srv := socketio.NewServer(socketio.Config{})
//	chat := srv.Of("/chat")
//	chat.On("say", func(s *socketio.Socket, text string) string {
//		chat.Emit("said", s.ID(), text)
//		return "ok" // becomes the ack, if the client asked for one
//	})
//	http.Handle("/socket.io/", srv)
//
// # Architecture
//
// The module is layered bottom up, without cycles:
//
//   - packet: the wire codec (packets, multi-packet payload framing). Pure.
//   - acl: per-method access policy. Pure.
//   - transport: moves payloads between a session and a client over a
//     WebSocket or HTTP polling/streaming.
//   - namespace: Namespace and Socket — handlers, acks, rooms, emits.
//   - socketio: the Server — routing, handshake, sessions, timers.
//
// A session is one handshaken client. It owns one bounded outgoing queue of
// encoded packets, written by whichever transport request is attached
// (a websocket's writer goroutine, a long-poll GET, an htmlfile stream);
// emits only append to that queue, so a slow client never blocks anyone
// else — when its queue is full the session is closed as a slow consumer.
// Long-polling sessions buffer between polls, a newer poll answers the one
// it supersedes, and a session whose client stops polling is closed after
// CloseTimeout. Heartbeats go out every HeartbeatInterval; a session not
// heard from for HeartbeatTimeout is closed.
//
// # Concurrency
//
// Server methods are safe for concurrent use. Each session's state is
// guarded by one mutex; socket and namespace calls are never made while it
// is held. See the namespace package for the handler execution model.
package socketio
