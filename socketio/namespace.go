package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/siogo/siogo/acl"
	"github.com/siogo/siogo/internal/sioparser"
)

// nsOptions tune a Namespace. The zero value of every field means its
// documented default.
type nsOptions struct {
	// Logger receives the namespace's logs. Zero means slog.Default().
	Logger *slog.Logger
	// Adapter makes the room adapter. Zero means NewMemoryAdapter.
	Adapter AdapterFactory
	// MaxPendingAcks bounds the server-to-client acks a socket may wait
	// for at once (EmitWithAck, Call, SendWithAck and the other sends
	// that wait for an ack); beyond it they fail with ErrTooManyAcks.
	// Zero means 1024.
	MaxPendingAcks int
	// MaxQueuedEvents bounds the client events waiting for a socket's
	// handlers; when it is reached, reading from the client pauses. Zero
	// means 256.
	MaxQueuedEvents int
	// MaxRoomsPerSocket bounds the rooms one socket may be in (its own-id
	// room not counted); Socket.Join beyond it fails with
	// ErrTooManyRooms. Zero means 1000; negative means no limit.
	MaxRoomsPerSocket int
	// MaxRoomNameBytes bounds the length of a room name Socket.Join
	// accepts; longer names fail with ErrRoomNameTooLong. Zero means 256;
	// negative means no limit.
	MaxRoomNameBytes int
	// errs receives the errors for Config.OnError; nil: none.
	errs *errorReporter
}

// Defaults of the Options fields left zero.
const (
	DefaultMaxPendingAcks    = 1024
	DefaultMaxQueuedEvents   = 256
	DefaultMaxRoomsPerSocket = 1000
	DefaultMaxRoomNameBytes  = 256
)

// Errors returned by namespaces and sockets.
var (
	// ErrUnauthorized is the error with which Config.Authorize refuses a
	// handshake (403) and a namespace's authorization a client (either
	// may wrap it, as fmt.Errorf("%w: bad token", ErrUnauthorized) does).
	ErrUnauthorized  = errors.New("socketio: unauthorized")
	ErrDisconnected  = errors.New("socketio: socket disconnected")
	ErrTooManyAcks   = errors.New("socketio: too many pending acks")
	ErrAckSent       = errors.New("socketio: ack already sent")
	ErrNotDelivered  = errors.New("socketio: packet not queued (session closed or slow)")
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrReservedRoom refuses a Join of a room name that has the format
	// of a socket id (IsSocketID) other than the socket's own.
	ErrReservedRoom = errors.New("socketio: room name is reserved for socket ids")
	// ErrTooManyRooms refuses a Join beyond Config.MaxRoomsPerSocket.
	ErrTooManyRooms = errors.New("socketio: socket is in too many rooms")
	// ErrRoomNameTooLong refuses a Join of a name longer than
	// Config.MaxRoomNameBytes.
	ErrRoomNameTooLong = errors.New("socketio: room name too long")
)

// Namespace is one endpoint of a server ("" is the default, others start
// with "/"): its handlers, its rooms (through its Adapter), its
// authorization and its sockets on this node.
//
// Handlers should be registered before clients connect; registering later
// is safe but racy by nature. mu guards handlers, hooks and sockets.
type Namespace struct {
	name    string
	log     *slog.Logger
	opts    nsOptions
	adapter Adapter

	mu           sync.RWMutex
	handlers     map[string]eventHandler
	onConnect    func(*Socket)
	onDisconnect func(*Socket, string)
	registered   []registration // Register's types, in order; only appended to
	onMessage    func(*Socket, string, AckFunc)
	onJSON       func(*Socket, json.RawMessage, AckFunc)
	onUnhandled  func(*Socket, string, []json.RawMessage, AckFunc)
	authorize    func(ctx context.Context, hs *Handshake, query url.Values) error
	initialACL   acl.Set
	sockets      map[string]*Socket

	// acks numbers the broadcasts with acks (see ackCollector).
	acks atomic.Uint64
	// srvEvents holds the server events' handlers and queue
	// (OnServerEvent, ReceiveServerEvent).
	srvEvents serverEvents
}

// newNamespace makes a namespace. Servers make theirs with Server.Of; newNamespace is for
// other front ends and tests.
func newNamespace(name string, opts nsOptions) *Namespace {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Adapter == nil {
		opts.Adapter = NewMemoryAdapter
	}
	if opts.MaxPendingAcks <= 0 {
		opts.MaxPendingAcks = DefaultMaxPendingAcks
	}
	if opts.MaxQueuedEvents <= 0 {
		opts.MaxQueuedEvents = DefaultMaxQueuedEvents
	}
	if opts.MaxRoomsPerSocket == 0 {
		opts.MaxRoomsPerSocket = DefaultMaxRoomsPerSocket
	}
	if opts.MaxRoomNameBytes == 0 {
		opts.MaxRoomNameBytes = DefaultMaxRoomNameBytes
	}
	ns := &Namespace{
		name:     name,
		log:      opts.Logger,
		opts:     opts,
		handlers: make(map[string]eventHandler),
		sockets:  make(map[string]*Socket),
	}
	ns.adapter = opts.Adapter(ns)
	return ns
}

// Name returns the endpoint name ("" or "/chat").
func (ns *Namespace) Name() string { return ns.name }

// Adapter returns the namespace's room adapter.
func (ns *Namespace) Adapter() Adapter { return ns.adapter }

// On sets the handler of an event, replacing the one it had. fn is a
// typed func(*Socket, args...) (results..., [error]), called with
// reflection unless it has one of the common signatures; see "Handlers"
// in the package doc, Handle for the generic form and OnRaw for raw
// handlers. The events "connect", "disconnect" and "message" are
// reserved (ErrReservedEvent); a fn of no typed handler form, a raw
// handler included, fails with ErrBadHandler.
func (ns *Namespace) On(event string, fn any) error {
	if err := checkEvent(event); err != nil {
		return err
	}
	h, err := handlerOf(fn)
	if err != nil {
		return err
	}
	ns.mu.Lock()
	ns.handlers[event] = h
	ns.mu.Unlock()
	return nil
}

// OnRaw sets a RawHandler as the handler of an event, replacing the one
// it had, as On does; the same events are reserved. A nil h fails with
// ErrBadHandler.
func (ns *Namespace) OnRaw(event string, h RawHandler) error {
	if h == nil {
		return fmt.Errorf("%w: nil RawHandler", ErrBadHandler)
	}
	return ns.setHandler(event, eventHandler{raw: h})
}

// OnConnect sets the hook run when a socket has connected (after
// authorization, after the client was told, on the socket's handler
// goroutine before any of its events), replacing the one set before; nil
// removes it.
func (ns *Namespace) OnConnect(fn func(s *Socket)) {
	ns.mu.Lock()
	ns.onConnect = fn
	ns.mu.Unlock()
}

// OnDisconnect sets the hook run once when a socket disconnects, with the
// reason (one of the Reason constants), replacing the one set before; nil
// removes it.
func (ns *Namespace) OnDisconnect(fn func(s *Socket, reason string)) {
	ns.mu.Lock()
	ns.onDisconnect = fn
	ns.mu.Unlock()
}

// OnMessage sets the handler of plain-text message packets (type 3),
// replacing the one set before. ack is nil unless the client asked for an
// acknowledgement with data.
func (ns *Namespace) OnMessage(fn func(s *Socket, text string, ack AckFunc)) {
	ns.mu.Lock()
	ns.onMessage = fn
	ns.mu.Unlock()
}

// OnJSON sets the handler of JSON message packets (type 4), replacing
// the one set before.
func (ns *Namespace) OnJSON(fn func(s *Socket, v json.RawMessage, ack AckFunc)) {
	ns.mu.Lock()
	ns.onJSON = fn
	ns.mu.Unlock()
}

// OnUnhandled sets the handler of the events that have no handler of their
// own (On, OnRaw, Register), replacing the previous one; nil (the
// default) drops them. It gets the event's name, its arguments as the
// client sent them, and ack, nil unless the client asked for an
// acknowledgement with data. The socket's ACL applies first: an event it
// refuses is refused, never passed to OnUnhandled.
func (ns *Namespace) OnUnhandled(fn func(s *Socket, event string, args []json.RawMessage, ack AckFunc)) {
	ns.mu.Lock()
	ns.onUnhandled = fn
	ns.mu.Unlock()
}

// Authorize sets the namespace's authorization, which decides whether a
// client may connect to the namespace: nil admits it, an error refuses it
// (the client is sent "7::/ns:2", the 0.9 "unauthorized" error packet; an
// error that does not wrap ErrUnauthorized is logged too). fn sees the
// session's handshake, with the User Config.Authorize gave it, and the
// query of the client's connect packet merged over the handshake query;
// ctx is cancelled when the session ends. It runs on the session's
// reading goroutine, which waits for it. It is not consulted for the
// default namespace "", whose clients the server's handshake
// authorization admits.
func (ns *Namespace) Authorize(fn func(ctx context.Context, hs *Handshake, query url.Values) error) {
	ns.mu.Lock()
	ns.authorize = fn
	ns.mu.Unlock()
}

// SetInitialACL sets the ACL every new socket of the namespace starts
// with (nil, the default, allows every event). Sockets change their own
// with Socket.SetACL.
func (ns *Namespace) SetInitialACL(set acl.Set) {
	ns.mu.Lock()
	ns.initialACL = set
	ns.mu.Unlock()
}

// Socket returns the socket of id sid (a 0.9 client's session id, a v5
// client's socket id) connected to this namespace on this node, or nil.
func (ns *Namespace) Socket(sid string) *Socket {
	ns.mu.RLock()
	s := ns.sockets[sid]
	ns.mu.RUnlock()
	return s
}

// Sockets returns the sockets connected to this namespace on this node.
func (ns *Namespace) Sockets() []*Socket {
	ns.mu.RLock()
	out := make([]*Socket, 0, len(ns.sockets))
	for _, s := range ns.sockets {
		out = append(out, s)
	}
	ns.mu.RUnlock()
	return out
}

// connect admits the client of conn to the namespace: it runs the
// authorization (non-default namespaces), creates the socket, tells the
// client ("1::/ns") and runs the connect handlers. On refusal it returns
// ErrUnauthorized, or the authorization's error when it wraps
// ErrUnauthorized, and the caller answers "7::/ns:2".
func (ns *Namespace) connect(conn sessionConn, query url.Values) (*Socket, error) {
	return ns.connectAs(conn, query, conn.ID(), nil)
}

// authPayloadKey is the context key of a v5 CONNECT's auth payload.
type authPayloadKey struct{}

// ConnectAuth returns the auth payload of the Socket.IO v5 CONNECT a
// namespace's authorization (Namespace.Authorize) is deciding on, from
// the context it is given: what socket.io-client's auth option sent, as
// it came (nil for 0.9 clients and v5 clients that sent none). The
// socket keeps it (Socket.Auth).
func ConnectAuth(ctx context.Context) json.RawMessage {
	a, _ := ctx.Value(authPayloadKey{}).(json.RawMessage)
	return a
}

// connectAs is connect for a socket of id id (0.9: the session id; v5:
// a fresh one) whose client sent the auth payload auth (v5; nil for
// none).
func (ns *Namespace) connectAs(conn sessionConn, query url.Values, id string, authPayload json.RawMessage) (*Socket, error) {
	ns.mu.RLock()
	auth, initial := ns.authorize, ns.initialACL
	ns.mu.RUnlock()
	if auth != nil && ns.name != "" {
		hs := conn.Handshake()
		merged := url.Values{}
		if hs != nil {
			for k, v := range hs.Query {
				merged[k] = v
			}
		}
		for k, v := range query {
			merged[k] = v
		}
		ctx := context.Background()
		if c, ok := conn.(interface{ authContext() context.Context }); ok {
			ctx = c.authContext()
		}
		if authPayload != nil {
			ctx = context.WithValue(ctx, authPayloadKey{}, authPayload)
		}
		if err := safeAuthorize(ctx, auth, hs, merged); err != nil {
			if !errors.Is(err, ErrUnauthorized) {
				ns.log.Warn("namespace authorization failed", "namespace", ns.name, "sid", conn.ID(), "err", err)
				return nil, ErrUnauthorized
			}
			return nil, err
		}
	}
	s := newSocket(ns, conn, initial, id, authPayload)
	ns.mu.Lock()
	if old := ns.sockets[s.id]; old != nil {
		ns.mu.Unlock()
		return old, nil
	}
	ns.sockets[s.id] = s
	hook, regs := ns.onConnect, ns.registered
	ns.mu.Unlock()
	if err := ns.adapter.Join(s.id, s.id); err != nil {
		ns.log.Warn("adapter join failed", "namespace", ns.name, "sid", s.id, "err", err)
	}
	conn.Send(codecOf(conn.protocol()).connect(ns.name, s.id), false)
	if hook != nil || len(regs) > 0 {
		s.run(func() {
			s.makeValues(regs)
			if hook != nil {
				hook(s)
			}
		})
	}
	return s, nil
}

func safeAuthorize(ctx context.Context, auth func(context.Context, *Handshake, url.Values) error, hs *Handshake, q url.Values) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("authorization panicked: %v", r)
		}
	}()
	return auth(ctx, hs, q)
}

// remove forgets a disconnected socket and returns the disconnect hook.
func (ns *Namespace) remove(s *Socket) func(*Socket, string) {
	ns.mu.Lock()
	if ns.sockets[s.id] == s {
		delete(ns.sockets, s.id)
	}
	hook := ns.onDisconnect
	ns.mu.Unlock()
	if err := ns.adapter.LeaveAll(s.id); err != nil {
		ns.log.Warn("adapter leave failed", "namespace", ns.name, "sid", s.id, "err", err)
	}
	return hook
}

func (ns *Namespace) handler(name string) eventHandler {
	ns.mu.RLock()
	h := ns.handlers[name]
	ns.mu.RUnlock()
	return h
}

func (ns *Namespace) unhandled() func(*Socket, string, []json.RawMessage, AckFunc) {
	ns.mu.RLock()
	fn := ns.onUnhandled
	ns.mu.RUnlock()
	return fn
}

// Emit sends an event to every socket of the namespace (on every node,
// with a cluster adapter). A reserved name (IsReservedEvent) is refused
// with ErrReservedEvent, an empty or overlong one with ErrInvalidMessage.
func (ns *Namespace) Emit(event string, args ...any) error {
	return ns.broadcast(BroadcastOptions{}, event, args)
}

// Send sends a plain-text message to every socket of the namespace (the
// reference's io.sockets.send); the message is encoded once per protocol.
func (ns *Namespace) Send(text string) error {
	return ns.adapter.Broadcast(newTextMessage(ns.name, text), BroadcastOptions{})
}

// SendJSON sends a JSON message carrying v to every socket of the
// namespace (the reference's io.sockets.json.send); the message is
// encoded once per protocol.
func (ns *Namespace) SendJSON(v any) error {
	m, err := newJSONMessage(ns.name, v)
	if err != nil {
		return err
	}
	return ns.adapter.Broadcast(m, BroadcastOptions{})
}

// To returns a selection of the sockets in room (a room name or a socket
// id). Chain To calls to reach several rooms.
func (ns *Namespace) To(room string) *Selection {
	return &Selection{ns: ns, opts: BroadcastOptions{Rooms: []string{room}}}
}

// Except returns a selection of the whole namespace minus the given
// sockets.
func (ns *Namespace) Except(sids ...string) *Selection {
	return &Selection{ns: ns, opts: BroadcastOptions{Except: sids}}
}

// Volatile returns a selection whose packets each receiver may drop when
// its transport is not writable right now.
func (ns *Namespace) Volatile() *Selection {
	return &Selection{ns: ns, opts: BroadcastOptions{Volatile: true}}
}

// Clients lists the ids of the sockets in room ("" = the whole namespace).
func (ns *Namespace) Clients(room string) ([]string, error) { return ns.adapter.Clients(room) }

func (ns *Namespace) broadcast(opts BroadcastOptions, event string, args []any) error {
	m, err := newEventMessage(ns.name, event, args)
	if err != nil {
		return err
	}
	return ns.adapter.Broadcast(m, opts)
}

// Selection is a set of sockets of a namespace — rooms, minus some
// sockets, maybe volatile — to which Emit, Send and SendJSON send one
// message, encoded once per protocol of its receivers (see Message), and
// on which SocketIDs, Join, Leave and Disconnect act (ns.Except() selects
// the whole namespace). Build one per send (Namespace.To, Namespace.Except,
// Namespace.Volatile, Socket.To, Socket.Broadcast, Socket.Volatile) and
// chain; its methods modify and return it, so it is not for sharing
// between goroutines.
type Selection struct {
	ns   *Namespace
	opts BroadcastOptions
	// self, when set, is the one socket selected (Socket.Volatile);
	// a room added with To makes the selection those rooms minus self.
	self *Socket
}

// To adds a room to the selection.
func (e *Selection) To(room string) *Selection {
	if e.self != nil {
		e.opts.Except = append(e.opts.Except, e.self.id)
		e.self = nil
	}
	e.opts.Rooms = append(e.opts.Rooms, room)
	return e
}

// Except removes sockets from the selection.
func (e *Selection) Except(sids ...string) *Selection {
	e.opts.Except = append(e.opts.Except, sids...)
	return e
}

// Volatile marks the packet droppable per receiver.
func (e *Selection) Volatile() *Selection {
	e.opts.Volatile = true
	return e
}

// Emit sends the event to the selection; the message is encoded once per
// protocol. Names are checked as by Namespace.Emit.
func (e *Selection) Emit(event string, args ...any) error {
	if e.self != nil {
		return e.self.emit(event, args, e.opts.Volatile)
	}
	return e.ns.broadcast(e.opts, event, args)
}

// Send sends a plain-text message to the selection; the message is
// encoded once per protocol.
func (e *Selection) Send(text string) error {
	if e.self != nil {
		return e.self.send(text, e.opts.Volatile)
	}
	return e.ns.adapter.Broadcast(newTextMessage(e.ns.name, text), e.opts)
}

// SendJSON sends a JSON message carrying v to the selection; the message
// is encoded once per protocol.
func (e *Selection) SendJSON(v any) error {
	if e.self != nil {
		return e.self.sendJSON(v, e.opts.Volatile)
	}
	m, err := newJSONMessage(e.ns.name, v)
	if err != nil {
		return err
	}
	return e.ns.adapter.Broadcast(m, e.opts)
}

// marshalArgs encodes emit arguments (see marshalArg); nil for none. It
// is for the sends that take no binary attachments: a []byte argument is
// the base64 string json.Marshal makes of it.
func marshalArgs(args []any) ([]json.RawMessage, error) {
	if len(args) == 0 {
		return nil, nil
	}
	raw, att, err := appendArgs(make([]json.RawMessage, 0, len(args)), nil, args)
	if err != nil {
		return nil, err
	}
	return inlineAttachments(raw, att), nil
}

// marshalArgsBin encodes emit arguments (see marshalArg) and their binary
// attachments; nil for none.
func marshalArgsBin(args []any) ([]json.RawMessage, [][]byte, error) {
	if len(args) == 0 {
		return nil, nil, nil
	}
	return appendArgs(make([]json.RawMessage, 0, len(args)), nil, args)
}

// appendArgs appends the encoded args to dst and their binary
// attachments to att (see marshalArg).
func appendArgs(dst []json.RawMessage, att [][]byte, args []any) ([]json.RawMessage, [][]byte, error) {
	for i, a := range args {
		b, natt, err := marshalArg(a, att)
		if err != nil {
			return nil, nil, fmt.Errorf("socketio: argument %d: %w", i, err)
		}
		dst, att = append(dst, b), natt
	}
	return dst, att, nil
}

// marshalArg encodes one emit or ack argument: a json.RawMessage that is
// valid JSON as it is; a []byte as a binary attachment, appended to att,
// and its placeholder {"_placeholder":true,"num":N} (so is a []byte
// inside a []any or a map[string]any); anything else with json.Marshal
// (a []byte deeper in a struct becomes base64 there, as json.Marshal
// writes it). Each protocol's codec decides what attachments become on
// its wire: Socket.IO v5 sends them as binary frames, 0.9 puts the
// base64 string json.Marshal gives in place of each placeholder.
func marshalArg(a any, att [][]byte) (json.RawMessage, [][]byte, error) {
	switch v := a.(type) {
	case json.RawMessage:
		if json.Valid(v) {
			return v, att, nil
		}
	case []byte:
		if v == nil {
			return json.RawMessage("null"), att, nil
		}
		return sioparser.AppendPlaceholder(nil, len(att)), append(att, v), nil
	case []any, map[string]any:
		if hasBytes(v, 0) {
			b, natt, err := sioparser.AppendValue(nil, v, att)
			return b, natt, err
		}
	}
	b, err := json.Marshal(a)
	return b, att, err
}

// hasBytes reports whether v, a []any or map[string]any, holds a []byte
// (directly or in nested []any and map[string]any, up to a depth of 32).
func hasBytes(v any, depth int) bool {
	if depth > 32 {
		return false
	}
	switch t := v.(type) {
	case []byte:
		return t != nil
	case []any:
		for _, e := range t {
			if hasBytes(e, depth+1) {
				return true
			}
		}
	case map[string]any:
		for _, e := range t {
			if hasBytes(e, depth+1) {
				return true
			}
		}
	}
	return false
}
