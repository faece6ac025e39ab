// (Merged from the former package namespace; doc.go is being rewritten.)
// Package namespace holds what a Socket.IO 0.9 application sees of a
// client: Namespace (an endpoint such as "" or "/chat" with its handlers,
// authorization, rooms and initial ACL) and Socket (one client in one
// namespace: emit, acks both ways, rooms, key/value store, ACL).
//
// Most programs use these types through the socketio package, which
// re-exports them (socketio.Namespace, socketio.Socket) and carries them
// over HTTP; this package knows nothing of transports. A session is seen
// through the Conn interface: it queues encoded packets and closes.
//
// # Handlers
//
// Each kind of handler has one way in, and every setter sets one slot,
// replacing what it held: On, OnRaw, Handle and Handle2 set the handler
// of one event; OnConnect, OnDisconnect, OnMessage and OnJSON set the
// namespace's hook of that name (nil removes it). Register, which fills
// many slots at once, is the exception: it never replaces, and fails
// with ErrAlreadyRegistered instead. Handlers should be set before
// clients connect.
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
//     per event than Handle (BenchmarkDispatch*).
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
// A client packet (event, message or json) with an id but no '+' is
// acknowledged automatically in the socket's order, as in the reference
// server: after the handlers of the packets before it, just before its
// own handler.
//
// # Sending to a client
//
// Socket.Emit sends an event; EmitWithAck asks the client for an ack with
// data and waits for it (with a context), EmitWithAckFunc runs a callback
// when it arrives. Plain-text and JSON messages go with Send and SendJSON;
// SendWithAck and SendJSONWithAck (blocking, with a context) and
// SendWithAckFunc and SendJSONWithAckFunc (callback) ask the client to
// acknowledge them. The same names mean the same on the client (package
// client). Such a
// message carries an id without '+' ("3:1::text"), as the reference's
// socket.send(text, fn) sends it: socket.io.js acknowledges it by itself
// on receipt, without data. Every form that waits for an ack counts
// towards Options.MaxPendingAcks, and its slot is freed when the ack
// arrives, when the wait's context ends, and when the socket disconnects.
//
// # Concurrency
//
// Every method of Namespace and Socket is safe for concurrent use; a
// Selection is built and used by one goroutine.
// The handlers of one socket run one at a time, in the order the client
// sent the packets, on a goroutine that runs them only while the socket
// has work queued (an idle socket has none; the goroutine lingers briefly
// to run another socket's work); handlers of different sockets run in
// parallel. A handler
// may block (even in Socket.Call, waiting for the client's ack) without
// stopping the session from reading. Acks the client sends are matched on
// the session's reading goroutine. Panics in handlers are recovered,
// logged and reported to Config.OnError. The disconnect handlers of a
// socket run exactly once, after the handlers already queued for it; its
// Context is cancelled when it disconnects, before they run.
//
// # Rooms and broadcasts
//
// Room membership lives in the namespace's Adapter. The in-memory adapter
// serves one process; a cluster adapter shares rooms between nodes. Every
// socket is also in a room named by its id, so Namespace.To(id) reaches one
// socket anywhere.
//
// That room is private by construction, not by a check of who exists:
// room names of the socket-id format — 20 characters of the URL-safe
// base64 alphabet A-Z a-z 0-9 - _ (IsSocketID), the form of every session
// id package socketio makes — are reserved. Socket.Join refuses them
// (other than the socket's own id) with ErrReservedRoom whether or not
// such a socket exists, on this node or another, whatever state the
// adapter is in (a cluster adapter during an outage or a resync
// included), and the MemoryAdapter, which cluster adapters deliver
// through, refuses them too. A front end of its own that implements Conn
// keeps that guarantee by giving its sessions ids of that format.
//
// Socket.Join also bounds what one client can make the server hold:
// Options.MaxRoomsPerSocket rooms per socket (default 1000; beyond it
// ErrTooManyRooms) and Options.MaxRoomNameBytes bytes per room name
// (default 256; beyond it ErrRoomNameTooLong).
//
// Namespace.Rooms lists the rooms that have members and Namespace.RoomSize
// counts one without listing it; Socket.LeaveAll leaves every room but the
// own-id one. The room operations of the Node.js server act on a
// selection — Selection.SocketIDs, Join, Leave and Disconnect — with the
// rules of Socket.Join (reserved names refused, limits per socket), on
// every node with a cluster adapter:
//
//	ns.To("lobby").Join(ctx, "game")      // socketsJoin
//	ids, err := ns.Except().SocketIDs(ctx) // fetchSockets
//	ns.To("game").Disconnect(ctx, true)   // disconnectSockets(true)
//
// A Selection (Namespace.To, Except and Volatile; Socket.To, Broadcast
// and Volatile) sends
// events (Emit) or messages (Send, SendJSON) to its selection;
// Namespace.Emit, Send and SendJSON reach the whole namespace. A broadcast
// is a Message — namespace, kind, and the event's name and JSON
// arguments, the JSON value or the text — that knows nothing of any wire
// format. The namespace hands it to its Adapter, which hands it to each
// receiver; the receiver's session encodes it in its protocol, and the
// Message keeps that encoding, so a broadcast is encoded once per
// protocol among its receivers (today every session speaks Socket.IO 0.9,
// so once), and the same bytes are queued for every receiver of that
// protocol. Queuing never blocks, so one slow client cannot hold up the
// others (its session is closed when its queue is full). A cluster
// adapter carries the Message's fields to the other nodes, which encode
// it for their own receivers, and checks what it receives with
// Message.Validate. Sends to one socket (Socket.Emit and the others) go
// through the same encoders, without a Message on the heap.
//
// The server refuses to emit event names the clients keep for their own
// events — connect, connect_error, connect_failed, connecting,
// disconnect, disconnecting, reconnect, reconnect_attempt,
// reconnect_failed, reconnect_error, reconnecting, newListener,
// removeListener (IsReservedEvent) — with ErrReservedEvent, and empty,
// overlong (MaxEventNameBytes) or invalid UTF-8 names with
// ErrInvalidMessage. "error" and "message" may be emitted.
//
// # ACLs
//
// A socket starts with its namespace's initial ACL (Namespace.SetInitialACL;
// nil allows everything). An event outside it is refused: the client gets
// the event "error" with ["method_access_denied", "You do not have access
// to method \"NAME\""], no ack, and no handler runs (Namespace.OnUnhandled
// included). Handlers change a socket's ACL at run time with Socket.SetACL
// and Socket.LiftACL.
//
// # Logs
//
// Strings the client chose (event names, for one) are logged clipped to
// 128 bytes with their full length. A socket's first refused event is
// logged at info level, its later ones at debug level, so a client
// repeating refused calls cannot flood the log.

package socketio
