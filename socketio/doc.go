// Package socketio is a Socket.IO server: an http.Handler that serves the
// socket.io.js 0.9 client (in browsers, and the npm socket.io-client@0.9.16)
// over websocket, htmlfile, xhr-polling and jsonp-polling, as the Node.js
// socket.io@0.9.19 server does, without that server's known bugs, and on
// the same path socket.io-client 3.x and 4.x (see "Modern clients"). It is
// all a server program imports: Server and Config, Namespace, Socket,
// Selection (whom to send to), Handshake, acks, errors, disconnect
// reasons and the Adapter interface cluster adapters implement. Package
// acl holds the ACL sets, package sioredis the Redis cluster adapter and
// package metrics the Prometheus exporter.
//
//	srv := socketio.NewServer(socketio.Config{})
//	chat := srv.Of("/chat")
//	chat.OnConnect(func(s *socketio.Socket) { s.Join("lobby") })
//	chat.On("say", func(s *socketio.Socket, text string) bool {
//		s.To("lobby").Emit("said", s.ID(), text) // to the room, s excepted
//		return true // the ack, if the client asked for one
//	})
//	http.Handle("/socket.io/", srv)
//
// # Sessions, namespaces and sockets
//
// A session is one handshaken client: one connection (or a series of
// polling requests) with one outgoing queue. It is connected to the
// default namespace "" and to whichever others the client asks for
// (io.connect("/chat")); a Socket is the session in one Namespace. In
// Socket.IO 0.9 the socket id is the session id: 20 random characters
// of the URL-safe base64 alphabet (IsSocketID). Server.Of makes or finds
// a namespace; Server.Sockets is the default one. Namespace.Socket(id)
// and Namespace.Sockets find the sockets of this node.
//
// # Handlers
//
// Each kind of handler has one way in, and every setter sets one slot,
// replacing what it held: On, OnRaw, Handle and Handle2 set the handler
// of one event; OnConnect, OnDisconnect, OnMessage, OnJSON and
// OnUnhandled set the namespace's hook of that name (nil removes it).
// Register, which fills many slots at once, is the exception: it never
// replaces, and fails with ErrAlreadyRegistered instead. Set handlers
// before clients connect.
//
// A typed handler is func(*Socket, A, B, ...) (R..., error): the client's
// JSON arguments are decoded into A, B, ... with encoding/json (missing
// ones stay zero, extra ones are ignored; a final variadic parameter
// takes the rest) and the results, if the client asked for an
// acknowledgement, become the ack's arguments. A non-nil error is logged
// and acknowledged as [{"error": "text"}]; an argument that does not
// decode runs nothing and is acknowledged as [{"error": "argument N: ..."}].
// Which form to use:
//
//   - Handle[A, R] and Handle2[A, B, R]: a typed handler of one or two
//     arguments and a result, checked by the compiler and called without
//     reflection. The first choice for new code.
//   - On: a typed handler of any shape. Those of the common signatures —
//     func(*Socket) or func(*Socket, string), returning nothing, a string,
//     a bool, an error or (string, error) — are called directly; any other
//     with reflect.Value.Call (its reflection work is done once, by On),
//     which costs a few hundred nanoseconds and a few allocations more
//     per event than Handle (BenchmarkDispatch*). On refuses a raw
//     handler's signature.
//   - OnRaw: a RawHandler, which gets the arguments as the client sent
//     them (json.RawMessage) and an AckFunc that is nil unless the client
//     asked for an ack with data.
//   - Register[T]: the gevent-socketio way. A factory makes a value of T
//     for each socket that connects, and its methods On<Name> (typed
//     handlers without the *Socket, which the value holds) handle the
//     events EventName(method): OnSendMessage handles "send_message",
//     OnJSONData "json_data". Its OnConnect, OnDisconnect and InitialACL
//     methods are the socket's hooks and initial ACL.
//
// OnMessage and OnJSON handle plain-text and JSON message packets
// (socket.send, socket.json.send). OnUnhandled gets the events no handler
// takes (after the ACL: refused events never reach it); without it they
// are dropped. A client packet (event, message or json) with an id but no
// '+' is acknowledged automatically in the socket's order, as in the
// reference server: after the handlers of the packets before it, just
// before its own handler.
//
// # Sending to a client
//
// Socket.Emit sends an event; EmitWithAck asks the client for an ack with
// data and waits for it (with a context), EmitWithAckFunc runs a callback
// when it arrives. Plain-text and JSON messages go with Send and SendJSON;
// SendWithAck and SendJSONWithAck (blocking, with a context) and
// SendWithAckFunc and SendJSONWithAckFunc (callback) ask the client to
// acknowledge them. The same names mean the same on the client (package
// client). Such a message carries an id without '+' ("3:1::text"), as the
// reference's socket.send(text, fn) sends it: socket.io.js acknowledges it
// by itself on receipt, without data. Every form that waits for an ack
// counts towards Config.MaxPendingAcks, and its slot is freed when the ack
// arrives, when the wait's context ends, and when the socket disconnects.
//
// The server refuses to emit event names the clients keep for their own
// events — connect, connect_error, connect_failed, connecting,
// disconnect, disconnecting, reconnect, reconnect_attempt,
// reconnect_failed, reconnect_error, reconnecting, newListener,
// removeListener (IsReservedEvent) — with ErrReservedEvent, and empty,
// overlong (MaxEventNameBytes) or invalid UTF-8 names with
// ErrInvalidMessage. "error" and "message" may be emitted.
//
// # Broadcasts and selections
//
// A Selection is whom to send to: Namespace.To(room), Namespace.Except(ids...)
// and Namespace.Volatile start one for the namespace; Socket.To(room) and
// Socket.Broadcast start one without the socket itself; Socket.Volatile
// selects the socket alone. To, Except and Volatile chain; Emit, Send and
// SendJSON send, and Namespace.Emit, Send and SendJSON reach the whole
// namespace. Volatile packets are dropped, per receiver, when its
// transport cannot take them now (socket.volatile in the Node.js server).
//
// A broadcast is a Message — namespace, kind, and the event's name and
// JSON arguments, the JSON value or the text — that knows nothing of any
// wire format. The namespace hands it to its Adapter, which hands it to
// each receiver; the receiver's session encodes it in its protocol, and
// the Message keeps that encoding, so a broadcast is encoded once per
// protocol among its receivers (today every session speaks Socket.IO 0.9,
// so once), and the same bytes are queued for every receiver of that
// protocol. Queuing never blocks, so one slow client cannot hold up the
// others (its session is closed when its queue is full). A cluster
// adapter carries the Message's fields to the other nodes, which encode
// it for their own receivers, and checks what it receives with
// Message.Validate.
//
// # Rooms
//
// Socket.Join, Leave, LeaveAll and Rooms manage one socket's rooms;
// Namespace.Rooms lists the rooms that have members and RoomSize counts
// one without listing it. The room operations of the Node.js server act
// on a selection, on every node with a cluster adapter:
//
//	ns.To("lobby").Join(ctx, "game")      // socketsJoin
//	ids, err := ns.Except().SocketIDs(ctx) // fetchSockets
//	ns.To("game").Disconnect(ctx, true)   // disconnectSockets(true)
//
// Every socket is also in a room named by its id, so Namespace.To(id)
// reaches one socket anywhere. That room is private by construction, not
// by a check of who exists: room names of the socket-id format (IsSocketID)
// are reserved. Joins refuse them (other than the socket's own id) with
// ErrReservedRoom whether or not such a socket exists, on this node or
// another, whatever state the adapter is in (a cluster adapter during an
// outage or a resync included), and the in-memory adapter
// (NewMemoryAdapter), which cluster adapters deliver through, refuses
// them too. Joins also bound what one
// client can make the server hold: Config.MaxRoomsPerSocket rooms per
// socket (ErrTooManyRooms) and Config.MaxRoomNameBytes bytes per name
// (ErrRoomNameTooLong).
//
// # Cluster-wide operations
//
// Besides the room operations, a selection can be described, polled and
// acted on socket by socket, on every node with a cluster adapter (the
// Node.js server's fetchSockets and timeout().emitWithAck):
//
//	socks, err := ns.To("game").Fetch(ctx) // []*RemoteSocket: ID, Rooms, User (JSON), Node
//	args, err := socks[0].EmitWithAck(ctx, "ping")
//	res, err := ns.To("game").EmitWithAck(ctx, "vote", "q?") // res.Acks, res.Missing
//
// A broadcast with acks needs a context with a deadline (ErrNoDeadline);
// it returns when every receiver answered or the deadline passed, with
// the answers sorted by socket id and the ids of those that did not
// answer (a receiver that disconnects, or waits for Config.MaxPendingAcks
// acks already, is missing at once); the error wraps ctx's. The event is
// encoded once per protocol: every receiver gets the same ack id, from
// 2^30 to 2^31-1, a range a socket's own acks never use. Nothing stays
// registered on the sockets once it returned.
//
// Server events are application messages between nodes, which never
// reach clients: Namespace.ServerEmit sends one to every other node (none
// with the in-memory adapter), whose handler set with OnServerEvent runs
// it; a cluster adapter hands what it receives to ReceiveServerEvent. A
// namespace runs its server events one at a time, in arrival order, on a
// goroutine that exists only while some wait (1024 at most; more are
// dropped and logged); a panic is recovered, logged and reported to
// Config.OnError.
//
// # Authorization
//
// Config.Authorize decides on each handshake, with the request's context,
// and returns who the client is: that value is Handshake.User, which
// every socket of the session sees (Socket.Handshake) and which a
// namespace's own authorization (Namespace.Authorize) gets. A refusal is
// ErrUnauthorized, or an error wrapping it: the handshake gets 403 and the
// client its "handshake unauthorized" error; any other error is a 500. A
// namespace's refusal sends the client the 0.9 error packet for it
// ("7::/chat:2"). Within a namespace, an ACL (package acl) says which
// events a socket may call: it starts with Namespace.SetInitialACL (nil
// allows everything) and handlers change it with Socket.SetACL and
// LiftACL. An event outside it is refused: the client gets the event
// "error" with ["method_access_denied", "You do not have access to method
// \"NAME\""], no ack, and no handler runs (the gevent-socketio model).
//
// # A socket's life
//
// A socket ends when its client leaves the namespace or the session, when
// the session ends (the connection closes, the client goes silent for
// Config.HeartbeatTimeout, stops polling for CloseTimeout, or is a slow
// consumer), when a handler calls Socket.Disconnect (in the default
// namespace that ends the session, as in the reference), and at
// Server.Shutdown. Socket.Context is cancelled then, with a
// *DisconnectError (errors.Is ErrDisconnected) carrying the reason
// (ReasonBooted, ReasonHeartbeatTimeout, ...) as its cause: start the
// goroutines that belong to a socket with it. Then the socket leaves its
// rooms, its pending acks are dropped, and its OnDisconnect hook runs
// once, after the handlers already queued for it.
//
// Server.Shutdown refuses new handshakes, sends every client what was
// queued for it and a goodbye (by default one that makes socket.io.js
// reconnect, to another node or to this one once it is back) and waits
// for the sessions to close or ctx to end.
//
// # Errors and logs
//
// Errors are values: every sentinel here (ErrDisconnected,
// ErrReservedRoom, ...) is matched with errors.Is, whatever wraps it.
// Config.OnError hears of what goes wrong while serving clients — handler
// panics (recovered; the socket goes on), events the ACL refused, packets
// that do not decode — as *HandlerError values, beside the log records
// written for them. Logs go to Config.Logger (log/slog) with the session
// id and namespace as attributes. Strings a client chose (an Origin
// header, an endpoint, an event name, a decode error) are logged clipped
// to 128 bytes with their length; a socket's first refused event and a
// session's first namespace refusal are logged at info level, the
// repeats at debug level, so a client cannot flood the log.
//
// # Concurrency
//
// Every method of Server, Namespace and Socket is safe for concurrent
// use; a Selection is built and used by one goroutine. The handlers of
// one socket run one at a time, in the order the client sent the packets,
// on a goroutine that runs them only while the socket has work queued (an
// idle socket has none); handlers of different sockets run in parallel. A
// handler may block (even in EmitWithAck, waiting for the client's ack)
// without stopping the session from reading: while a socket's handlers
// lag behind by Config.MaxQueuedEvents events, its session stops reading
// until they catch up. Acks the client sends are matched as they arrive,
// so an EmitWithAck waiting in a handler gets its answer.
//
// # Several nodes
//
// Several Servers (nodes) can serve one application behind a load
// balancer. Config.Adapter shares rooms and broadcasts between them
// (package sioredis). A session lives on the node that answered its
// handshake: its queue, timers and sockets are there. With Config.Sessions
// (a SessionDirectory, such as a *sioredis.Cluster) and Config.NodeAddr, every
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
//   - The same holds for Engine.IO v4 (socket.io-client 3.x/4.x): a
//     polling handshake registers its sid, and a poll, POST or websocket
//     upgrade (EIO=4&sid=...) for a session held elsewhere is proxied to
//     its node, CORS headers as the owner sets them. Preflights are
//     answered locally, and a request from an origin this node refuses is
//     refused here. A session that handshakes over websocket makes no
//     other request and is not registered. A sid no live node holds is
//     answered 400 {"code":1,"message":"Session ID unknown"}, as on one
//     node: the client reconnects.
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
//     user need not be serialisable. It is sent nowhere, but for
//     Selection.Fetch, which gives it as JSON (SocketInfo.User) to the
//     node that asked.
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
// # Pushes from outside
//
// Server.Publish emits an event described by a PublishRequest — namespace,
// rooms, excepted ids, event name, JSON arguments — as
// ns.To(room).Except(ids...).Emit does, through the namespace's adapter
// (so to every node with a cluster adapter); it refuses a namespace the
// server has not made (ErrUnknownNamespace) and a bad event name, room or
// argument (ErrInvalidMessage). NewPublishHandler serves the same over
// HTTP for processes in any language, behind a bearer token:
//
//	h, err := socketio.NewPublishHandler(srv, socketio.PublishConfig{Token: token})
//	mux.Handle("/publish", h)
//	// curl -H "Authorization: Bearer $TOKEN" -d '{"namespace":"/chat",
//	//   "rooms":["r"],"event":"news","args":[{"n":1}]}' http://host/publish
//
// It answers 202 once the push is accepted, 401 without the token, 400 for
// a malformed body or a refused push, 413 past MaxBodyBytes (1 MiB), 405
// for a method other than POST. Any Publisher serves: package sioredis's
// Emitter publishes through Redis from a process that runs no server.
//
// # Modern clients (Socket.IO v5)
//
// The same Server, at the same Path, serves socket.io-client 3.x and 4.x
// (Engine.IO v4, Socket.IO protocol v5) beside the 0.9 clients, with the
// same namespaces, rooms, handlers, ACLs, Stats and Shutdown. Requests to
// the root with EIO=4 go to an Engine.IO v4 engine the Server owns (and
// EIO=3, see below), tuned by Config.PingInterval, PingTimeout and MaxPayload (defaults 25
// s, 20 s and 1,000,000 bytes, as the Node.js server) and by the
// WriteTimeout, MaxQueuedBytes, SendQueueSize and origin policy the 0.9
// sessions use; another EIO value, or a root request with transport= and
// no EIO, is answered 400 {"code":5,"message":"Unsupported protocol
// version"}. Everything else (/socket.io/1/..., the root's welcome) is
// 0.9 as before. Config.Authorize, MaxSessions (counting both
// generations) and HandshakesPerSecond apply to the v4 handshakes too; a
// refusal by Authorize is 403 {"code":4,"message":"handshake
// unauthorized"}, a limit 503. With
// Config.Sessions, v4 polling sessions are registered and their requests
// forwarded to the node holding them, as 0.9's (non-sticky balancing).
//
// A v5 client connects each namespace with a CONNECT that may carry an
// auth payload (the client's auth option): the namespace's authorization
// sees it through ConnectAuth(ctx) and the socket keeps it (Socket.Auth).
// An unknown namespace is refused with CONNECT_ERROR {"message":"Invalid
// namespace"}, a refused one with the authorization's error text
// ({"message":"unauthorized"} for ErrUnauthorized). Each v5 socket has an
// id of its own (as socket.id on the client), distinct from its Engine.IO
// session id and from its other namespaces' sockets; its own room is that
// id. A session that connects no namespace within Config.ConnectTimeout
// (default 45 s) is closed. Socket.Disconnect sends the v5 client
// DISCONNECT for the namespace, the default one included (the client sees
// "io server disconnect"; the session stays, as in Node.js). A packet that
// does not decode closes the session.
//
// # socket.io-client 1.x and 2.x (Socket.IO v4 over Engine.IO v3)
//
// Requests with EIO=3 go to the same engine, which speaks Engine.IO v3
// to them; their sessions speak Socket.IO protocol v4 and get everything
// above (handlers, rooms shared with the other generations, ACLs,
// binary, acks both ways, Stats, Shutdown, cluster adapters), with the
// differences of that protocol, as the Node.js socket.io 4 server with
// allowEIO3 has them:
//
//   - The default namespace is connected at the Engine.IO handshake: the
//     server sends "40" itself. Another namespace is asked for with
//     "40/admin?token=x,": Namespace.Authorize gets that query (merged
//     over the handshake query, as for 0.9) and ConnectAuth is nil (a
//     2.x client has no auth payload; Socket.Auth is nil); the answer is
//     "40/admin,".
//   - A refusal is the ERROR packet with the authorization's error text
//     as a JSON string, 44/admin,"unauthorized" (the client socket's
//     "error" event gets "unauthorized"); an unknown namespace gets
//     44/nope,{"message":"Invalid namespace"}.
//   - Socket ids are the ones the client computes (socket.id): the
//     Engine.IO session id in the default namespace, "/chat#" and the
//     session id in /chat. IsSocketID matches both forms, so those rooms
//     stay private. (So, as for 0.9, a 2.x socket id tells the session
//     id: broadcast it only where 0.9 ids would be.)
//   - Binary attachments travel as Engine.IO v3 binary messages; the
//     rest of the packets are those of v5.
//
// Stats.Protocols counts these sessions as "eio3".
//
// Disconnect reasons are the same constants for both generations where
// the meaning is the same: the Node.js server's "server namespace
// disconnect" is ReasonBooted, "client namespace disconnect" ReasonPacket,
// "transport close" ReasonSocketEnd, "ping timeout"
// ReasonHeartbeatTimeout, "server shutting down" ReasonShutdown; a v5
// session can also end with ReasonTransportError, ReasonParseError,
// ReasonSlowConsumer or ReasonForcedClose.
//
// 0.9's plain-text and JSON messages have no v5 packet: Send and SendJSON
// reach v5 clients as the "message" event (what socket.send does in
// socket.io 4), and a v5 "message" event with one argument reaches
// OnMessage (a string) or OnJSON (anything else but binary); other
// "message" events (several arguments, binary ones) go to OnUnhandled.
//
// # Binary arguments
//
// A []byte emit or ack argument (also inside a []any or map[string]any,
// and a []byte result of a typed handler) travels as a binary attachment:
// v5 clients get it as binary (a Buffer or ArrayBuffer), 0.9 clients, which
// have no binary packets, as the base64 string json.Marshal makes of it.
// A broadcast is still encoded once per protocol (Message.Attachments
// carries the bytes). From v5 clients, a typed handler's []byte parameter
// (or a []byte field of a struct parameter) gets the bytes. A RawHandler,
// OnUnhandled and EmitWithAckFunc callbacks see the arguments as they
// came, with placeholders {"_placeholder":true,"num":N}, and
// Socket.Attachments during the call; ReconstructArgs turns both into emit
// arguments that send the same values on, binary as binary. EmitWithAck
// returns the ack's binary arguments as base64 strings (which
// json.Unmarshal into a []byte decodes). Attachments are bounded by
// Config.MaxAttachments and MaxAttachmentBytes. The Redis adapter does not
// carry attachments yet.
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
// # Limits
//
// Anyone on the network can open sessions and send any bytes, so every
// buffer is bounded, each by a Config field with a documented default:
// bytes and packets queued per session (MaxQueuedBytes, SendQueueSize;
// past either the session is closed as a slow consumer), incoming bodies,
// messages, packets per payload and JSON depth (MaxBodyBytes,
// MaxMessageBytes, MaxPacketsPerPayload, MaxJSONDepth), acks and events
// pending per socket (MaxPendingAcks, MaxQueuedEvents), rooms
// (MaxRoomsPerSocket, MaxRoomNameBytes), handshake data
// (MaxHandshakeBytes), and, off by default, sessions and handshake rate
// (MaxSessions, HandshakesPerSecond). Clients that stop reading are
// dropped after WriteTimeout, trickled POST bodies after PostTimeout.
//
// # Architecture
//
// The module is layered bottom up, without cycles: package packet (the
// 0.9 wire codec, pure and fuzzed) and acl (pure policy);
// internal/transport, which moves payloads between a session and a client
// (a websocket read by an epoll loop on Linux, written in batches; HTTP
// long-polling and streaming); then this package: the protocol-neutral
// core (namespaces, sockets, rooms, acks, ACLs, adapters, Message) and
// the Server (routing, handshake, sessions, timers, forwarding). The core
// reaches a session only through its connection's Send and protocol, so
// other protocols (Engine.IO v3/v4 with Socket.IO v4/v5) can be plugged
// in below it.
//
// A session owns one bounded outgoing queue of encoded packets, written
// by whichever transport request is attached (a websocket's writers, a
// long-poll GET, an htmlfile stream); emits only append to that queue. The
// queue is bounded in packets (SendQueueSize) and in bytes
// (MaxQueuedBytes); the bytes count everything held for the client until
// it is written: the queue, what a transport has taken from it and a
// transport's own frames (a websocket's pending pong — only the latest
// ping is answered — and close frame). Long-polling sessions buffer
// between polls, a newer poll answers the one it supersedes, and a
// session whose client stops polling is closed after CloseTimeout.
// Heartbeats go out every HeartbeatInterval.
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
package socketio
