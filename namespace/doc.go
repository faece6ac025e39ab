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
// Namespace.On takes a typed handler, func(*Socket, A, B, ...) (R..., error):
// the client's JSON arguments are decoded into A, B, ... (missing ones stay
// zero; a final variadic parameter takes the rest) and the results, if the
// client asked for an acknowledgement, become the ack's arguments. A
// non-nil error is logged and acknowledged as [{"error": "text"}]. The raw
// form, RawHandler, gets the arguments as json.RawMessage and an AckFunc
// that is nil unless the client asked for an ack with data. Typed handlers
// of the common signatures — func(*Socket) or func(*Socket, string),
// returning nothing, a string, a bool, an error or (string, error) — are
// called directly; any other typed handler is called with
// reflect.Value.Call (its reflection work is done once, by On), which
// costs a few hundred nanoseconds and about five allocations more per
// event than a RawHandler (BenchmarkDispatch*). A client packet
// with an id but no '+' is acknowledged automatically before its handler
// runs, as in the reference server.
//
// Namespace.Register turns a Go value's methods into handlers: a method
// OnSendMessage(*Socket, ...) handles the event "send_message" (see
// EventName); OnConnect(*Socket) and OnDisconnect(*Socket, string) become
// the connect and disconnect hooks.
//
// # Concurrency
//
// Every method of Namespace, Socket and Emitter is safe for concurrent use.
// The handlers of one socket run one at a time, in the order the client
// sent the packets, on a goroutine that runs them only while the socket
// has work queued (an idle socket has none; the goroutine lingers briefly
// to run another socket's work); handlers of different sockets run in
// parallel. A handler
// may block (even in Socket.Call, waiting for the client's ack) without
// stopping the session from reading. Acks the client sends are matched on
// the session's reading goroutine. Panics in handlers are recovered and
// logged. The disconnect handlers of a socket run exactly once, after the
// handlers already queued for it.
//
// # Rooms and broadcasts
//
// Room membership lives in the namespace's Adapter. The in-memory adapter
// serves one process; a cluster adapter shares rooms between nodes. Every
// socket is also in a room named by its id, so Namespace.To(id) reaches one
// socket anywhere. A broadcast is encoded once and the same bytes are
// queued for every receiver; queuing never blocks, so one slow client
// cannot hold up the others (its session is closed when its queue is full).
//
// # ACLs
//
// A socket starts with its namespace's initial ACL (Namespace.SetInitialACL;
// nil allows everything). An event outside it is refused: the client gets
// the event "error" with ["method_access_denied", "You do not have access
// to method \"NAME\""], no ack, and no handler runs. Handlers change a
// socket's ACL at run time with Socket.SetACL and Socket.LiftACL.
package namespace
