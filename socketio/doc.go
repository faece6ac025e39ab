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
// (a websocket's writers, a long-poll GET, an htmlfile stream);
// emits only append to that queue, so a slow client never blocks anyone
// else — when its queue is full the session is closed as a slow consumer.
// The queue is bounded in packets (SendQueueSize) and in bytes
// (MaxQueuedBytes); the bytes count everything held for the client until
// it is written: the queue, what a transport has taken from it (a
// websocket write the client is slow to take, a poll answer being
// written) and a transport's own frames (a websocket's pending pong —
// only the latest ping is answered — and close frame).
// Long-polling sessions buffer between polls, a newer poll answers the one
// it supersedes, and a session whose client stops polling is closed after
// CloseTimeout. Heartbeats go out every HeartbeatInterval; a session not
// heard from for HeartbeatTimeout is closed.
//
// Session ids (which are the socket ids) are 20 random characters of the
// URL-safe base64 alphabet, the format IsSocketID describes:
// room names of that format are reserved for the sockets' own rooms, so
// Socket.Join refuses them and To(id) stays private (see the namespace
// package). Strings a client chose (an Origin header, an endpoint, an
// event name) are logged clipped to 128 bytes with their length, and a
// session's repeated namespace refusals are logged at info level once,
// then at debug level.
//
// A session has at most one stream (a websocket or an htmlfile response).
// A stream supersedes a held poll, which is answered at once. While a
// stream is attached, any other transport GET for the session — a second
// websocket, a second htmlfile, or a poll, which would race the stream for
// the queue — is refused with 409 "session already has a stream" and its
// response ends at once; the attached stream carries on and the session
// is not otherwise touched (POSTs are still accepted). When the stream
// ends, the session ends with it. This is what socket.io.js needs: it
// never opens a second stream for a session it holds, and after a reload
// or a reconnection it handshakes a new session, so an old stream whose
// TCP connection is half dead cannot block it; that stale session ends
// at its heartbeat timeout or when a write to it times out (WriteTimeout).
//
// # Several nodes
//
// Several Servers (nodes) can serve one application behind a load
// balancer. Config.Adapter shares rooms and broadcasts between them
// (package redis). A session lives on the node that answered its
// handshake: its queue, timers and sockets are there. With Config.Sessions
// (a SessionDirectory, such as a *redis.Cluster) and Config.NodeAddr, every
// other request of the session may reach any node, so the balancer need
// not be sticky:
//
//   - The handshake is always answered by the node that receives it, which
//     registers the new session id in the directory (with its NodeAddr)
//     before answering.
//   - A transport request (websocket upgrade, poll, POST, htmlfile,
//     jsonp) or a ?disconnect for a session the node does not hold is
//     looked up in the directory and, if a live node holds it, proxied to
//     that node (net/http/httputil.ReverseProxy: long-polls are held
//     there and answered through the proxy, POST bodies are streamed,
//     htmlfile chunks are flushed as they come and websocket upgrades
//     become a tunnel for the life of the connection). Proxied requests
//     carry the ForwardedHeader and are never forwarded again.
//   - A session id the directory does not know, a directory error, and an
//     owner that cannot be reached are answered as an unknown session is
//     on a single node ("7:::1+0" on a GET, 400 on a POST): socket.io.js
//     reconnects with a new handshake.
//   - The session is removed from the directory when it closes.
//
// Guarantees and limits:
//
//   - A forwarded request behaves as if it had reached the owner (same
//     packets, same order, same timeouts), at the cost of one directory
//     lookup and one extra hop. A websocket keeps that hop for its whole
//     life, through the node it was upgraded on: if that node goes away
//     the connection breaks, the session ends and the client reconnects
//     (Shutdown does not close relayed connections; the process exit does).
//   - Config.Authorize runs on the node that takes the handshake, and the
//     user it returns (Handshake.User) stays there, with the session and
//     its sockets: the directory records only the node's address, so the
//     user need not be serialisable and is never sent anywhere.
//   - The owner sees the forwarding node as the remote address
//     (X-Forwarded-For carries the client's). Only handshakes, which are
//     never forwarded, use it (Handshake.Address, HandshakesPerSecond).
//   - A node that dies takes its sessions with it, as on a single node:
//     their clients are told to reconnect as soon as the node cannot be
//     reached, or once the directory forgets it.
//   - If the directory is unavailable, handshakes still succeed and
//     requests that reach a session's own node still work (sticky
//     balancing keeps working); requests through other nodes are answered
//     as for unknown sessions.
//   - Every node must reach the others at their NodeAddr in plain HTTP,
//     serve the Server at the same Path, and share its configuration
//     (PollingDuration bounds how long a proxied request waits for its
//     answer). Nodes trust each other: keep NodeAddr on a private network.
//     A client may set the ForwardedHeader itself; its requests are then
//     only served locally (a balancer in front can strip it).
//
// # Origins and CORS
//
// By default any page may use the server: every request's Origin is
// answered with CORS headers that allow it with credentials
// (Access-Control-Allow-Origin reflecting it, Allow-Credentials true), as
// the Node.js server does and as cross-domain socket.io.js XHR polling
// with cookies needs. So any site can make its visitors' browsers open
// sessions carrying their cookies. To lock it down, list the pages'
// origins in Config.AllowedOrigins (or decide in Config.CheckOrigin):
//
//	srv := socketio.NewServer(socketio.Config{
//		AllowedOrigins: []string{"https://app.example.com"},
//	})
//
// The handshake and every request of a session (polls, posts, websocket
// upgrades, ?disconnect) are then checked: a request's origin is its Origin
// header or, without one, the origin of its Referer — a JSONP handshake
// loaded by a <script> tag and a same-origin GET carry no Origin — and a
// request with neither is refused (403). Non-browser clients must send an
// Origin header (the client package: Options.Header). Answers vary with
// the Origin and say so (Vary), preflights allow only Content-Type, and
// handshake answers are never cached (Cache-Control: no-store).
//
// # Handshake data
//
// A session keeps its Handshake (which Authorize and handlers see) for its
// whole life, so what it keeps of the handshake request is bounded by
// Config.MaxHandshakeBytes: a longer URL is refused (414), and headers
// beyond the bound are dropped, credentials and proxy headers kept first.
// A handshake that never opens a transport expires after
// Config.HandshakeTimeout, sooner than an abandoned poll. Unused handshakes
// count toward Config.MaxSessions and HandshakesPerSecond, which bound
// their number (neither is set by default).
//
// # Concurrency
//
// Server methods are safe for concurrent use. Each session's state is
// guarded by one mutex; socket and namespace calls are never made while it
// is held. The sessions' timeouts and heartbeats share one timer per
// Server, whose queue has a mutex of its own, taken after a session's.
// See the namespace package for the handler execution model.
package socketio
