package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/siogo/siogo/acl"
	"github.com/siogo/siogo/internal/engineio"
	"github.com/siogo/siogo/internal/lazylog"
	"github.com/siogo/siogo/packet"
)

// Socket is one client's presence in one namespace. The id of a Socket.IO
// 0.9 socket is its session id, the same in every namespace the session
// joined; a Socket.IO v5 socket has an id of its own in each namespace
// (as in the Node.js server), distinct from its Engine.IO session id.
// Either way the id names the socket's own room.
//
// All methods are safe for concurrent use. Handlers of one socket run one
// at a time, in the order the client sent the packets, on a goroutine of
// their own (so a handler may block, even in Call, without stopping the
// session from reading). The fields above joinMu never change after
// newSocket; exec guards its own; mu guards the fields below it.
type Socket struct {
	id   string
	ns   *Namespace
	conn sessionConn
	// eio is the Engine.IO session of a v5 socket's session (nil for 0.9,
	// and for a v5 session over a test's stand-in): deliver queues a
	// broadcast on it directly (see session5.Send), sparing a visit to
	// the session per receiver. Set by newSocket, never changed. (conn,
	// eio and proto, which deliver reads, share the first cache line.)
	eio    *engineio.Conn
	denied atomic.Bool // a refused event was logged at info level already
	proto  protocolID  // conn.protocol(), set by newSocket and never changed (here, it fills padding)
	exec   executor

	joinMu sync.Mutex // serializes Join's checks with its adapter call, and Close's leave after both
	// auth is the auth payload of a v5 client's CONNECT (nil: none, and
	// for 0.9); set by newSocket, never changed. (auth, att and values
	// are pointers, nil for most sockets, so that a Socket fits in 208
	// bytes.)
	auth *json.RawMessage

	// att points to the binary attachments of the event or ack the
	// socket's handler goroutine is running (Attachments), nil
	// otherwise; only that goroutine touches it.
	att *[][]byte

	// values are the socket's values of the namespace's Register types
	// (index: registration), made by the first job the socket runs (see
	// makeValues); only the socket's handler jobs use them, one at a time.
	values *[]any

	mu      sync.Mutex
	acl     acl.Set
	acks    map[uint64]ackWaiter // made by the first EmitWithAck
	nextAck uint64
	// life is nil until Context or Set is first called or the socket
	// closes, whichever comes first: most sockets never need a context
	// or a store.
	life *socketLife
}

// socketLife is a socket's context, once it closed why, and its key/value
// store (Set): what most sockets never need.
type socketLife struct {
	store  map[string]any  // made by the first Set
	ctx    context.Context // made by the first Context call; nil before
	cancel context.CancelCauseFunc
	closed *DisconnectError // set by Close: the socket is disconnected
}

// ackWaiter is what waits for one ack of a socket: a callback (fn), a
// channel (ch), or the collector of a broadcast with acks (bc), which
// registers itself on every receiver under the broadcast's shared id.
type ackWaiter struct {
	fn func(args []json.RawMessage)
	ch chan []json.RawMessage
	bc *ackCollector
}

func newSocket(ns *Namespace, conn sessionConn, initial acl.Set, id string, auth json.RawMessage) *Socket {
	s := &Socket{id: id, ns: ns, conn: conn, proto: conn.protocol(), acl: initial}
	if auth != nil {
		a := auth // a copy: taking auth's address would move it to the heap for every socket
		s.auth = &a
	}
	if s5, ok := conn.(*session5); ok {
		s.eio = s5.eng
	}
	s.exec.sock = s
	return s
}

// run queues a handler call. It is dropped if the socket's disconnect hooks
// are already queued (a packet that raced the disconnect), so no handler
// ever runs after OnDisconnect.
func (s *Socket) run(fn func()) { s.exec.submit(job{fn: fn}) }

// runJob runs one job on the handler goroutine, recovering, logging and
// reporting (Config.OnError) a panic.
func (s *Socket) runJob(j *job) {
	defer func() {
		if r := recover(); r != nil {
			stack := debug.Stack()
			s.logAt(slog.LevelError, "handler panicked", "panic", r, "stack", string(stack))
			if s.ns.opts.errs != nil {
				s.ns.opts.errs.report(&HandlerError{Namespace: s.ns.name, SocketID: s.id, Event: j.name,
					Err: panicError(r), Panic: r, Stack: stack})
			}
		}
	}()
	if j.fn != nil {
		j.fn()
		return
	}
	s.dispatchEvent(j)
}

// logAt logs with the socket's attributes (sid, namespace, transport)
// before args, as a logger made with Logger.With would, but builds them
// only when a record is written: a logger per socket would cost every
// socket a handler of its own.
func (s *Socket) logAt(level slog.Level, msg string, args ...any) {
	if lazylog.Enabled(s.ns.log, level) {
		lazylog.Write(s.ns.log, level, msg, []slog.Attr{slog.String("sid", s.id),
			slog.String("namespace", s.ns.name), slog.String("transport", s.conn.Transport())}, args)
	}
}

// ID returns the socket's id: its session id for a 0.9 client, its own
// id (socket.id on the client) for a v5 client.
func (s *Socket) ID() string { return s.id }

// Auth returns the auth payload a Socket.IO v5 client sent with its
// CONNECT to this namespace (socket.io-client's auth option), as it came,
// or nil (0.9 clients, and v5 clients that sent none).
func (s *Socket) Auth() json.RawMessage {
	if s.auth == nil {
		return nil
	}
	return *s.auth
}

// Attachments returns the binary attachments of the event or ack being
// handled, to which the placeholders {"_placeholder":true,"num":N} in its
// arguments refer (see "Binary arguments" in the package documentation;
// ReconstructArgs puts them back in place). It is meant for RawHandler,
// OnUnhandled and EmitWithAckFunc callbacks, and valid only during the
// call, on the socket's handler goroutine; nil outside or for an event
// without binary arguments.
func (s *Socket) Attachments() [][]byte {
	if s.att == nil {
		return nil
	}
	return *s.att
}

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake returns the handshake data of the socket's session.
func (s *Socket) Handshake() *Handshake { return s.conn.Handshake() }

// Transport names the transport carrying the socket's session now.
func (s *Socket) Transport() string { return s.conn.Transport() }

// Disconnected reports whether the socket has disconnected.
func (s *Socket) Disconnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.disconnectedLocked()
}

func (s *Socket) disconnectedLocked() bool { return s.life != nil && s.life.closed != nil }

// Context returns the socket's context, for work tied to the socket's
// life (a goroutine feeding it, a request made for it): it is cancelled
// when the socket disconnects, with a *DisconnectError as its cause
// (context.Cause), which carries the reason and is ErrDisconnected to
// errors.Is. Called after the socket disconnected, it returns a context
// cancelled already. It costs nothing until first called: no goroutine
// waits on it.
func (s *Socket) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life == nil {
		s.life = &socketLife{}
	}
	if s.life.ctx == nil {
		s.life.ctx, s.life.cancel = context.WithCancelCause(context.Background())
		if s.life.closed != nil {
			s.life.cancel(s.life.closed)
		}
	}
	return s.life.ctx
}

// sendMessage encodes m for this client alone and queues it: an undelivered
// message is ErrNotDelivered unless volatile.
func (s *Socket) sendMessage(m *Message, volatile bool) error {
	if !s.conn.Send(encodeMessage(s.proto, m, 0, false), volatile) && !volatile {
		return ErrNotDelivered
	}
	return nil
}

// Emit sends an event to this client. A name that clients treat as their
// own event (IsReservedEvent) is refused with ErrReservedEvent, an empty
// or overlong one with ErrInvalidMessage.
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, false)
}

func (s *Socket) emit(event string, args []any, volatile bool) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	var buf [4]json.RawMessage
	raw, att, err := appendArgs(buf[:0], nil, args)
	if err != nil {
		return err
	}
	m := Message{Namespace: s.ns.name, Kind: MessageEvent, Event: event, Args: raw, Attachments: att}
	return s.sendMessage(&m, volatile)
}

// Send sends a plain-text message packet.
func (s *Socket) Send(text string) error { return s.send(text, false) }

func (s *Socket) send(text string, volatile bool) error {
	m := Message{Namespace: s.ns.name, Kind: MessageText, Text: text}
	return s.sendMessage(&m, volatile)
}

// SendJSON sends a JSON message packet carrying v.
func (s *Socket) SendJSON(v any) error { return s.sendJSON(v, false) }

func (s *Socket) sendJSON(v any, volatile bool) error {
	m := Message{Namespace: s.ns.name, Kind: MessageJSON}
	if err := setJSON(&m, v); err != nil {
		return err
	}
	return s.sendMessage(&m, volatile)
}

// setJSON sets the Data of a JSON message to v encoded.
func setJSON(m *Message, v any) (err error) {
	m.Data, err = json.Marshal(v)
	return err
}

// EmitWithAckFunc sends an event asking the client for an acknowledgement with
// data; fn runs with the ack's args (on the socket's handler goroutine)
// when it arrives. If the socket disconnects first, fn never runs and its
// slot is freed.
func (s *Socket) EmitWithAckFunc(event string, fn func(args []json.RawMessage), args ...any) error {
	return s.emitAck(event, args, ackWaiter{fn: fn})
}

// EmitWithAck sends an event asking for an acknowledgement and waits for it. It
// returns ErrDisconnected if the socket goes first, or ctx's error.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	if err := checkEventName(event); err != nil {
		return nil, err
	}
	raw, att, err := marshalArgsBin(args)
	if err != nil {
		return nil, err
	}
	m := Message{Namespace: s.ns.name, Kind: MessageEvent, Event: event, Args: raw, Attachments: att}
	return s.call(ctx, &m, true)
}

// SendWithAckFunc sends a plain-text message asking the client to acknowledge
// it; fn runs (on the socket's handler goroutine) when the ack arrives.
// As in the reference (socket.send(text, fn)) the message carries an id
// without '+' ("3:1::text"): the client acknowledges it on receipt,
// without data (socket.io.js does so by itself, before its message
// listeners run). If the socket disconnects first, fn never runs and its
// slot is freed. A nil fn only frees the slot.
func (s *Socket) SendWithAckFunc(text string, fn func()) error {
	m := Message{Namespace: s.ns.name, Kind: MessageText, Text: text}
	return s.sendWithAck(&m, fn)
}

// SendJSONWithAckFunc sends a JSON message carrying v asking the client to
// acknowledge it, like SendWithAck ("4:1::{...}").
func (s *Socket) SendJSONWithAckFunc(v any, fn func()) error {
	m := Message{Namespace: s.ns.name, Kind: MessageJSON}
	if err := setJSON(&m, v); err != nil {
		return err
	}
	return s.sendWithAck(&m, fn)
}

// SendWithAck sends a plain-text message asking the client to acknowledge
// it (see SendWithAck) and waits for the ack. It returns ErrDisconnected
// if the socket goes first, or ctx's error (the slot is freed then: a
// late ack is ignored).
func (s *Socket) SendWithAck(ctx context.Context, text string) error {
	m := Message{Namespace: s.ns.name, Kind: MessageText, Text: text}
	_, err := s.call(ctx, &m, false)
	return err
}

// SendJSONWithAck sends a JSON message carrying v asking the client to
// acknowledge it, and waits for the ack, like SendWithAck.
func (s *Socket) SendJSONWithAck(ctx context.Context, v any) error {
	m := Message{Namespace: s.ns.name, Kind: MessageJSON}
	if err := setJSON(&m, v); err != nil {
		return err
	}
	_, err := s.call(ctx, &m, false)
	return err
}

// sendWithAck sends a message whose receipt the client acknowledges.
func (s *Socket) sendWithAck(m *Message, fn func()) error {
	_, err := s.sendAckID(m, false, ackWaiter{fn: func([]json.RawMessage) {
		if fn != nil {
			fn()
		}
	}})
	return err
}

// call sends m with a fresh ack id (asking for data when ackData) and
// waits for the client's ack.
func (s *Socket) call(ctx context.Context, m *Message, ackData bool) ([]json.RawMessage, error) {
	ch := make(chan []json.RawMessage, 1)
	id, err := s.sendAckID(m, ackData, ackWaiter{ch: ch})
	if err != nil {
		return nil, err
	}
	select {
	case res, ok := <-ch:
		if !ok {
			return nil, ErrDisconnected
		}
		return res, nil
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (s *Socket) emitAck(event string, args []any, w ackWaiter) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	raw, att, err := marshalArgsBin(args)
	if err != nil {
		return err
	}
	m := Message{Namespace: s.ns.name, Kind: MessageEvent, Event: event, Args: raw, Attachments: att}
	_, err = s.sendAckID(&m, true, w)
	return err
}

// sendAckID sends m under a fresh message id whose ack w waits for, and
// returns the id. ackData says whether the client is asked for data
// ('+') or only to acknowledge receipt.
func (s *Socket) sendAckID(m *Message, ackData bool, w ackWaiter) (uint64, error) {
	s.mu.Lock()
	if s.disconnectedLocked() {
		s.mu.Unlock()
		return 0, ErrDisconnected
	}
	if len(s.acks) >= s.ns.opts.MaxPendingAcks {
		s.mu.Unlock()
		return 0, ErrTooManyAcks
	}
	// A socket's own ids stay below broadcastAckBase, whose range the
	// broadcasts with acks share (see ackCollector); after wrapping, an
	// id still waited for is skipped (there are at most MaxPendingAcks).
	id := s.nextAck
	for {
		id++
		if id >= broadcastAckBase {
			id = 1
		}
		if _, busy := s.acks[id]; !busy {
			break
		}
	}
	s.nextAck = id
	if s.acks == nil {
		s.acks = make(map[uint64]ackWaiter)
	}
	s.acks[id] = w
	s.mu.Unlock()
	if !s.conn.Send(encodeMessage(s.proto, m, id, ackData), false) {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
		return 0, ErrNotDelivered
	}
	return id, nil
}

// PendingAcks returns how many acks from the client the socket waits for.
func (s *Socket) PendingAcks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acks)
}

// Join adds the socket to a room of its namespace. It refuses, joining
// nothing:
//
//   - a room name longer than Config.MaxRoomNameBytes, with
//     ErrRoomNameTooLong;
//   - a name of the socket-id format (see IsSocketID) other than the
//     socket's own id, with ErrReservedRoom: those names are reserved for
//     the sockets' private rooms, whether or not such a socket exists, so
//     the refusal does not depend on the adapter or on timing (a room
//     named after a socket that has not connected yet, or lives on a node
//     the adapter cannot reach right now, is refused just the same);
//   - a room beyond Config.MaxRoomsPerSocket (the own-id room not
//     counted; joining a room the socket is already in is fine), with
//     ErrTooManyRooms.
func (s *Socket) Join(room string) error {
	s.joinMu.Lock()
	defer s.joinMu.Unlock()
	// Checked under joinMu: Close takes joinMu after marking the socket
	// disconnected and before leaving its rooms, so a Join either ends
	// before that leave or sees the socket disconnected; it can never add
	// a room after the leave (the socket would stay in it for good).
	if s.Disconnected() {
		return ErrDisconnected
	}
	if err := s.checkJoin(room); err != nil {
		return err
	}
	return s.ns.adapter.Join(s.id, room)
}

// Leave removes the socket from a room.
func (s *Socket) Leave(room string) error { return s.ns.adapter.Leave(s.id, room) }

// Rooms lists the rooms the socket is in, sorted, without its own-id room.
func (s *Socket) Rooms() ([]string, error) { return s.ns.adapter.Rooms(s.id) }

// Broadcast returns a selection of every socket of the namespace but this
// one; narrow it with To(room).
func (s *Socket) Broadcast() *Selection {
	return &Selection{ns: s.ns, opts: BroadcastOptions{Except: []string{s.id}}}
}

// To returns a selection of the sockets in room, this socket excepted
// (as socket.to(room) in the Node.js server). Chain To to add rooms.
func (s *Socket) To(room string) *Selection {
	return &Selection{ns: s.ns, opts: BroadcastOptions{Rooms: []string{room}, Except: []string{s.id}}}
}

// Volatile returns a selection of this socket alone whose packets are
// dropped when its transport cannot take them right now, as
// socket.volatile.emit in the Node.js server: s.Volatile().Emit(...).
// Adding rooms with To turns it into a volatile broadcast to those rooms,
// this socket excepted.
func (s *Socket) Volatile() *Selection {
	return &Selection{ns: s.ns, opts: BroadcastOptions{Volatile: true}, self: s}
}

// Set stores a value in the socket's key/value store.
func (s *Socket) Set(key string, v any) {
	s.mu.Lock()
	if s.life == nil {
		s.life = &socketLife{}
	}
	if s.life.store == nil {
		s.life.store = make(map[string]any)
	}
	s.life.store[key] = v
	s.mu.Unlock()
}

// Get returns a stored value and whether it was there.
func (s *Socket) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life == nil {
		return nil, false
	}
	v, ok := s.life.store[key]
	return v, ok
}

// Del removes a stored value.
func (s *Socket) Del(key string) {
	s.mu.Lock()
	if s.life != nil {
		delete(s.life.store, key)
	}
	s.mu.Unlock()
}

// ACL returns the socket's allowed-event set (nil: everything allowed).
func (s *Socket) ACL() acl.Set {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acl
}

// SetACL replaces the socket's allowed-event set; nil lifts every
// restriction. The ACL is checked when an event's turn to run comes, so a
// handler that changes it affects every event after its own, even ones
// already received.
func (s *Socket) SetACL(set acl.Set) {
	s.mu.Lock()
	s.acl = set
	s.mu.Unlock()
}

// LiftACL lets the socket call every event.
func (s *Socket) LiftACL() { s.SetACL(nil) }

// Disconnect disconnects the socket from the server side. For a 0.9
// client, in the default namespace that ends the whole session, as in the
// reference; in another namespace the client is sent "0::/ns" and the
// session stays. A v5 client is sent DISCONNECT for the namespace (its
// socket sees "io server disconnect"), in the default namespace too, as
// the Node.js server's socket.disconnect() does; the session stays.
func (s *Socket) Disconnect() {
	if s.ns.name == "" && s.proto == proto09 {
		s.conn.Close(ReasonBooted)
		return
	}
	if s.Disconnected() {
		return
	}
	s.conn.Send(codecOf(s.proto).disconnect(s.ns.name), false)
	s.close(ReasonBooted)
}

// close marks the socket disconnected without telling the client: the
// session calls it when the session ends or the client left the
// namespace. It cancels the socket's Context, frees pending acks, leaves
// every room and runs the disconnect handlers once, after the handlers
// already queued.
func (s *Socket) close(reason string) {
	s.mu.Lock()
	if s.disconnectedLocked() {
		s.mu.Unlock()
		return
	}
	if s.life == nil {
		s.life = &socketLife{}
	}
	s.life.closed = &DisconnectError{Reason: reason}
	if s.life.cancel != nil {
		s.life.cancel(s.life.closed)
	}
	acks := s.acks
	s.acks = nil
	s.mu.Unlock()
	for _, w := range acks {
		switch {
		case w.ch != nil:
			close(w.ch)
		case w.bc != nil:
			w.bc.fail(s.id, ackGone)
		}
	}
	// Let a Join that is under way finish before the rooms are left; the
	// later ones see the socket disconnected (see Join).
	s.joinMu.Lock()
	//lint:ignore SA2001 a barrier, not a critical section
	s.joinMu.Unlock()
	hook := s.ns.remove(s)
	s.exec.submitFinal(job{fn: func() {
		if hook != nil {
			hook(s, reason)
		}
	}})
	s.logAt(slog.LevelDebug, "socket disconnected", "reason", reason)
}

// drain returns once the socket's handlers that are queued or running (and,
// after Close, its disconnect hooks) have returned, or when ctx ends. The
// server's Shutdown closes a socket, waits, and only then says goodbye, so
// what those handlers send (acks, emits) reaches the client first. Never
// call it from one of the socket's own handlers.
func (s *Socket) drain(ctx context.Context) error { return s.exec.wait(ctx) }

// handlePacket processes one packet the client sent to this socket's
// endpoint. The session calls it from its reading goroutine.
func (s *Socket) handlePacket(p *packet.Packet) { s.handlePacketAtt(p, nil) }

// handlePacketAtt is handlePacket for a packet (an event or an ack) with
// binary attachments, to which placeholders in its Args refer: the v5
// session maps its packets to 0.9's form and calls it.
func (s *Socket) handlePacketAtt(p *packet.Packet, att [][]byte) {
	if s.Disconnected() {
		return
	}
	switch p.Type {
	case packet.Ack:
		s.mu.Lock()
		w, ok := s.acks[p.AckID]
		delete(s.acks, p.AckID)
		s.mu.Unlock()
		if !ok {
			s.logAt(slog.LevelDebug, "unknown ack", "ack", p.AckID)
			return
		}
		if w.ch != nil {
			w.ch <- inlineAttachments(p.Args, att)
			return
		}
		if w.bc != nil {
			w.bc.answer(s.id, inlineAttachments(p.Args, att))
			return
		}
		args := p.Args
		s.run(func() {
			a := att // a copy, made only here: &att would move att to the heap for every packet
			s.att = &a
			defer func() { s.att = nil }()
			w.fn(args)
		})
		return
	case packet.Event:
		if p.Name == "disconnect" {
			s.logAt(slog.LevelDebug, "ignoring blacklisted event", "event", p.Name)
			return
		}
		s.exec.submit(job{name: p.Name, args: p.Args, id: p.ID, hasID: p.HasID, ackData: p.AckData, att: att})
		return
	case packet.Disconnect:
		s.close(ReasonPacket)
		return
	}
	// A message, a json message (or anything else) with an id but no '+'
	// is acknowledged in the socket's order, as the reference does: after
	// the handlers of the packets before it, before its own handler.
	autoAck := p.HasID && !p.AckData
	var ack AckFunc
	if p.HasID && p.AckData {
		ack = s.ackFunc(p.ID)
	}
	var onMessage func(*Socket, string, AckFunc)
	var onJSON func(*Socket, json.RawMessage, AckFunc)
	s.ns.mu.RLock()
	switch p.Type {
	case packet.Message:
		onMessage = s.ns.onMessage
	case packet.JSON:
		onJSON = s.ns.onJSON
	}
	s.ns.mu.RUnlock()
	if !autoAck && onMessage == nil && onJSON == nil {
		return
	}
	id, data := p.ID, p.Data
	s.run(func() {
		if autoAck {
			s.sendAck(id, nil)
		}
		switch {
		case onMessage != nil:
			onMessage(s, data, ack)
		case onJSON != nil:
			onJSON(s, json.RawMessage(data), ack)
		}
	})
}

// dispatchEvent runs on the socket's handler goroutine, in order with the
// handlers before it, so an ACL change made by one handler applies to the
// very next event: a refused call gets the error event and nothing else;
// an allowed one is auto-acked (id without '+') and handled.
func (s *Socket) dispatchEvent(ev *job) {
	if ev.name == "message" && s.proto != proto09 && s.dispatchMessage5(ev) {
		return
	}
	if !s.ACL().Allows(ev.name) {
		// The first refusal of a socket is logged at info level, the
		// others at debug level: a client repeating refused calls
		// cannot flood the log, nor with a long event name.
		if !s.denied.Swap(true) {
			s.logAt(slog.LevelInfo, "method access denied", "event", lazylog.Client(ev.name),
				"repeats", "logged at debug level")
		} else {
			s.logAt(slog.LevelDebug, "method access denied", "event", lazylog.Client(ev.name))
		}
		if s.ns.opts.errs != nil {
			s.ns.opts.errs.report(&HandlerError{Namespace: s.ns.name, SocketID: s.id, Event: ev.name, Err: ErrEventDenied})
		}
		_ = s.Emit("error", acl.DeniedReason, acl.DeniedMessage(ev.name))
		return
	}
	if ev.hasID && !ev.ackData {
		s.sendAck(ev.id, nil)
	}
	h := s.ns.handler(ev.name)
	wantAck := ev.hasID && ev.ackData
	if ev.att != nil {
		if h.fast != nil || h.typed != nil {
			// Typed handlers decode binary arguments as json.Unmarshal
			// decodes a base64 string into a []byte.
			ev.args = inlineAttachments(ev.args, ev.att)
		} else {
			att := ev.att
			s.att = &att
			defer func() { s.att = nil }()
		}
	}
	switch {
	case h.fast != nil:
		h.fast(s, ev.args, wantAck, ev.id)
	case h.typed != nil:
		h.typed.call(s, ev.args, wantAck, ev.id)
	case h.raw != nil:
		var ack AckFunc
		if wantAck {
			ack = s.ackFunc(ev.id)
		}
		h.raw(s, ev.args, ack)
	default:
		fn := s.ns.unhandled()
		if fn == nil {
			s.logAt(slog.LevelDebug, "no handler for event", "event", lazylog.Client(ev.name))
			return
		}
		var ack AckFunc
		if wantAck {
			ack = s.ackFunc(ev.id)
		}
		fn(s, ev.name, ev.args, ack)
	}
}

// dispatchMessage5 hands a v5 client's "message" event (socket.send on
// the client) to the namespace's message handlers, as the 0.9 message
// packets it stands for (the inverse of what the v5 codec makes of Send
// and SendJSON): one string argument to OnMessage, one other argument to
// OnJSON, neither subject to the ACL, as 0.9's message packets are not.
// It reports false, leaving the event to the event handlers (OnUnhandled,
// since "message" cannot have a handler of its own), when the event has
// not exactly one argument, has binary arguments (which OnMessage and
// OnJSON cannot carry) or the namespace has no such handler.
func (s *Socket) dispatchMessage5(ev *job) bool {
	if len(ev.args) != 1 || ev.att != nil {
		return false
	}
	arg := ev.args[0]
	s.ns.mu.RLock()
	onMessage, onJSON := s.ns.onMessage, s.ns.onJSON
	s.ns.mu.RUnlock()
	var ack AckFunc
	if ev.hasID {
		ack = s.ackFunc(ev.id)
	}
	if len(arg) > 0 && arg[0] == '"' {
		if onMessage == nil {
			return false
		}
		var text string
		if json.Unmarshal(arg, &text) != nil {
			return false
		}
		onMessage(s, text, ack)
		return true
	}
	if onJSON == nil {
		return false
	}
	onJSON(s, arg, ack)
	return true
}

// ackFunc returns the AckFunc answering message id. Only its first call
// sends anything.
func (s *Socket) ackFunc(id uint64) AckFunc {
	var sent atomic.Bool
	return func(args ...any) error {
		if sent.Swap(true) {
			return ErrAckSent
		}
		var buf [4]json.RawMessage
		raw, att, err := appendArgs(buf[:0], nil, args)
		if err != nil {
			return err
		}
		if !s.sendAckAtt(id, raw, att) {
			return ErrNotDelivered
		}
		return nil
	}
}

// sendAck acknowledges message id with args (JSON each).
func (s *Socket) sendAck(id uint64, args []json.RawMessage) bool {
	return s.sendAckAtt(id, args, nil)
}

// sendAckAtt acknowledges message id with args whose placeholders refer
// to att.
func (s *Socket) sendAckAtt(id uint64, args []json.RawMessage, att [][]byte) bool {
	return s.conn.Send(encodeAck(s.proto, s.ns.name, id, args, att), false)
}

// String identifies the socket in logs.
func (s *Socket) String() string { return fmt.Sprintf("socket %s%s", s.id, s.ns.name) }
