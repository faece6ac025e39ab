// Package client is a Go client for Socket.IO 0.9 servers (siogo, the
// Node.js socket.io@0.9.x): the counterpart of socket.io.js 0.9; and,
// with Options.Protocol set to ProtocolV5, for Socket.IO 3.x/4.x servers
// (Engine.IO v4, Socket.IO v5: the protocol of socket.io-client 3.x and
// 4.x). See "Protocol v5" below; everything else applies to both.
//
//	c, err := client.Dial(ctx, "http://localhost:8080/chat?token=x", &client.Options{
//		OnConnect: func(ns *client.Namespace) { log.Printf("connected to %q", ns.Name()) },
//	})
//	if err != nil { ... }          // errors.Is(err, client.ErrUnauthorized) for a refusal
//	defer c.Close()
//	c.On("said", func(who, text string) { ... })
//	c.On("question", func(q string) string { return "answer" }) // the result is the ack
//	args, err := c.EmitWithAck(ctx, "say", "hello")
//	other := c.Of("/other")        // another namespace over the same session
//
// The URL's path picks the namespace the Client's own On/Emit methods act
// on; its query goes with the handshake, where the server's (and its
// namespaces') authorization sees it.
//
// # Handlers
//
// On registers a typed handler (arguments decoded from JSON into its
// parameters, results sent as the ack), OnRaw a raw one (the arguments as
// received and an AckFunc); On refuses a raw-signature function and points
// to OnRaw. Off removes an event's handler. Every On* call replaces what
// was registered before for the same thing: one handler per event (On and
// OnRaw share it), one OnAny, one OnMessage, one OnJSON per namespace;
// nothing is added to a list.
//
// # Acks
//
// Every operation that asks the server for an ack comes in two forms,
// named as on the server: a blocking, context-aware one and a callback
// one with the Func suffix.
//
//	args, err := c.EmitWithAck(ctx, "event", a, b)           // waits for the ack's args
//	err = c.EmitWithAckFunc("event", func(args []json.RawMessage) { ... }, a, b)
//	err = c.SendWithAck(ctx, "text")                          // "3:1::text", acked on receipt
//	err = c.SendWithAckFunc("text", func() { ... })
//	err = c.SendJSONWithAck(ctx, v)                           // "4:1::{...}"
//	err = c.SendJSONWithAckFunc(v, func() { ... })
//
// The blocking forms return the reason when the ack cannot come (ctx,
// ErrDisconnected, ErrClosed...); the callbacks run on the dispatch
// goroutine when the ack arrives and never if it cannot. At most
// Options.MaxPendingAcks acks are awaited at once; beyond, these fail
// with ErrTooManyAcks.
//
// # Transports
//
// websocket (gorilla/websocket), xhr-polling and jsonp-polling
// (io.j[N]("payload") answers parsed as JSON strings; posts as the form
// field d). Options.Transports is tried in order, restricted to those the
// server offers in its handshake; when one cannot be opened or yields no
// connect packet within Options.ConnectTimeout, the next is tried on the
// same session id.
//
// # Connection lifecycle
//
// Heartbeats ("2::") are answered. When nothing is heard for the heartbeat
// timeout the server announced, or the transport fails, or the server
// says "client not handshaken", the session is lost: every connected
// namespace gets Options.OnDisconnect, acks awaited on that session fail
// with ErrDisconnected, and the client reconnects with exponential backoff
// and jitter (Options.ReconnectMinDelay/MaxDelay/MaxReconnectAttempts,
// Options.OnReconnecting/OnReconnect/OnReconnectFailed): a new handshake,
// then every namespace is joined again (Options.OnConnect fires again).
// Emits made meanwhile are queued and sent after the joins. A kick ("0::"
// from the server) is final, as in socket.io.js: OnDisconnect with
// ErrKicked, no reconnect, Done is closed. A namespace the server refuses
// ("7::/ns:2") gets Options.OnConnectFailed and its emits fail with a
// *NamespaceError matching ErrUnauthorized.
//
// # Concurrency
//
// Every method of Client and Namespace is safe for concurrent use. Every
// handler and callback (On, OnRaw, OnAny, OnMessage, OnJSON, the
// ...WithAckFunc callbacks, the Options callbacks) runs on one dispatch
// goroutine per client, one at a time, in the order the packets arrived,
// so a handler never races another. Handlers may call any method,
// including blocking ones (EmitWithAck, whose ack is matched by the
// session's reader, not by the dispatcher) and Close. A slow handler
// delays later handlers, never the reading of packets or heartbeats (the
// dispatch queue is unbounded).
//
// Close stops the client's goroutines before it returns (when called from
// a handler, the dispatch goroutine ends as soon as that handler
// returns), and releases the idle connections of the client's own HTTP
// transport. Handlers registered after Dial returns may miss events that
// arrived before; register them in Options.OnConnect to see everything.
//
// # Errors
//
// Errors are values: ErrUnauthorized (403 "handshake unauthorized", and
// "7::/ns:2"; v5: CONNECT_ERROR), ErrClosed, ErrKicked, ErrDisconnected,
// ErrNotHandshaken, ErrHeartbeatTimeout, ErrServerClosed (v5),
// ErrNoTransport, ErrReconnectFailed, ErrQueueFull, ErrTooManyAcks,
// wrapped with detail in *HandshakeError, *NamespaceError (v5: around a
// *ConnectError) and *TransportError. Use errors.Is and errors.As. A handshake answer the
// client cannot use safely is refused: a session id that is not one plain
// path segment of the transport URLs (a '/', '?', '#', '%', backslash,
// space, control character, "." or "..") or a heartbeat timeout too large
// for a time.Duration.
//
// # Protocol v5
//
// Options.Protocol = ProtocolV5 speaks Engine.IO v4 and Socket.IO v5 with
// the same API. The differences:
//
//   - Transports are websocket and polling, tried in order (default
//     DefaultTransportsV5: websocket, then polling if websocket cannot be
//     opened). With polling before websocket ([polling, websocket], as
//     socket.io-client's default) the session opens with polling and
//     upgrades to websocket when the server offers it (the Engine.IO
//     probe and upgrade; Client.Transport tells which carries it now).
//     An upgrade whose probe the server closes before the switch (its
//     upgrade timeout), or that cannot switch within
//     Options.UpgradeTimeout, is given up: the session stays on polling.
//     The URL's query goes with every request (socket.handshake.query).
//   - Namespaces: only the URL's namespace is joined at Dial, "/" too
//     only when it is the URL's or asked for with Of("/"). Each join is a
//     CONNECT carrying Options.Auth (socket.handshake.auth), or the
//     namespace's own with Client.OfAuth; Of's "?query" is not sent (the
//     protocol has none). Emits on a namespace wait until the server
//     confirms it. Namespace.ID is the socket id of the server's answer.
//   - A refusal (CONNECT_ERROR, e.g. next(new Error("not authorized")) in
//     a middleware) is a *NamespaceError wrapping a *ConnectError with
//     the server's message and data; it matches ErrUnauthorized.
//   - Binary: a []byte argument (at the top, or in a []any or
//     map[string]any) of an emit or an ack travels as an attachment
//     (BINARY_EVENT, BINARY_ACK). Received attachments are given to
//     handlers and acks as JSON strings holding the bytes in base64,
//     which is how encoding/json writes a []byte: a []byte parameter or
//     struct field gets the bytes back.
//   - Heartbeats: the server pings, the client answers; when nothing is
//     heard for pingInterval + pingTimeout the session is lost
//     (ErrHeartbeatTimeout) and the client reconnects.
//   - Why a namespace is lost (socket.io-client's disconnect reasons): a
//     DISCONNECT from the server (socket.disconnect(), "io server
//     disconnect") is a kick: OnDisconnect gets ErrKicked; on the URL's
//     namespace it is final for the client, as "0::" in 0.9 (Done, Err is
//     ErrKicked). The session is lost, and the client reconnects, when
//     the server ends it otherwise (ErrServerClosed, "transport close"),
//     no ping comes (ErrHeartbeatTimeout, "ping timeout"), the transport
//     fails (a *TransportError, "transport error") or a packet does not
//     decode ("parse error").
//   - Send and SendJSON emit a "message" event (socket.send), and a
//     "message" event without an On handler goes to OnMessage (a string)
//     or OnJSON; their ...WithAck forms wait for the server's ack,
//     which only comes if its handler calls back.
//   - Emitting a name the v5 parser reserves (connect, connect_error,
//     disconnect, disconnecting, newListener, removeListener) is
//     ErrReservedEvent.
//   - OnPacket sees the Socket.IO packets in the vocabulary of package
//     packet: Connect, Disconnect, Event (binary arguments resolved as
//     above), Ack, Error for CONNECT_ERROR (Reason 2, Data its JSON), and
//     Heartbeat for each ping.
//   - Encoding and decoding go through the project's fuzzed codecs
//     (internal/eioparser, internal/sioparser).
//
// # Protocol EIO3 (socket.io-client 2.x)
//
// Options.Protocol = ProtocolEIO3 speaks Engine.IO v3 and Socket.IO
// protocol v4, what socket.io-client 2.x speaks: to socket.io 2.x
// servers, and to 3.x/4.x ones with allowEIO3 (siogo's server serves it
// too). It is ProtocolV5 (same API, transports and upgrade) with the
// differences of that protocol:
//
//   - Requests carry EIO=3 (polling also b64=1: binary data travels as
//     base64 in the text payloads, which are "<length>:<packet>" with
//     UTF-16 lengths); over websocket an attachment is a binary frame
//     whose first byte is the packet type (4).
//   - Heartbeats are the client's: it pings every pingInterval and the
//     server answers; a session whose pongs stop for pingInterval +
//     pingTimeout is lost (ErrHeartbeatTimeout).
//   - The server connects "/" itself at the handshake. Another namespace
//     is joined with "40/ns?query,": the query of Of's name ("/admin?token=x"),
//     for the URL's namespace the URL's query. There is no CONNECT
//     payload: Options.Auth and OfAuth are refused.
//   - A refusal is the ERROR packet: a *NamespaceError wrapping a
//     *ConnectError (ErrUnauthorized) whose Message is the server's
//     string ("unauthorized"), or for an object its "message" field and
//     Data the object (socket.io 4's next(err) sends err.data alone).
//   - Namespace.ID is the id the protocol implies: the session id in "/",
//     "/ns#" and the session id elsewhere.
//
// # Fuzzing
//
// What the client decodes from a server is fuzzed: the handshake answer
// (FuzzParseHandshake), jsonp-polling answers (FuzzParseJSONP) and
// received payloads handled by a session (FuzzReceive).
package client
