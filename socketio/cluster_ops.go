package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/siogo/siogo/internal/lazylog"
)

// Cluster-wide operations beyond rooms, on one node: Fetch,
// broadcasts with acks and server events, and the in-memory adapter's
// side of them, which cluster adapters use for their local sockets.

// Errors of the cluster-wide operations.
var (
	// ErrNoDeadline is returned by Selection.EmitWithAck for a context
	// without a deadline: a broadcast with acks must say how long it
	// waits, on every node.
	ErrNoDeadline = errors.New("socketio: a broadcast with acks needs a context with a deadline")
	// ErrNoSocket is returned by RemoteSocket.EmitWithAck when the socket
	// is no longer connected anywhere.
	ErrNoSocket = errors.New("socketio: no such socket")
)

// SocketInfo describes one socket on whichever node holds it: what an
// Adapter's FetchSockets returns.
type SocketInfo struct {
	// ID is the socket's id in its namespace.
	ID string
	// Rooms are the rooms it is in, sorted, without its own-id room.
	Rooms []string
	// User is the session's Handshake.User encoded as JSON; nil when it
	// is nil or cannot be encoded.
	User json.RawMessage
	// Node is the id of the cluster node that holds the socket (a cluster
	// adapter's node id); empty with the in-memory adapter.
	Node string
}

// RemoteSocket is a socket found by Selection.Fetch: on this node or on
// another one. Its methods act on the socket wherever it is connected.
type RemoteSocket struct {
	SocketInfo
	ns *Namespace
}

// Local returns the socket if it is connected to this node, else nil.
func (r *RemoteSocket) Local() *Socket { return r.ns.Socket(r.ID) }

// Emit sends an event to the socket, wherever it is connected
// (ns.To(id).Emit).
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.ns.To(r.ID).Emit(event, args...)
}

// Join makes the socket join rooms, wherever it is (ns.To(id).Join).
func (r *RemoteSocket) Join(ctx context.Context, rooms ...string) error {
	return r.ns.To(r.ID).Join(ctx, rooms...)
}

// Leave makes the socket leave rooms, wherever it is (ns.To(id).Leave).
func (r *RemoteSocket) Leave(ctx context.Context, rooms ...string) error {
	return r.ns.To(r.ID).Leave(ctx, rooms...)
}

// Disconnect disconnects the socket, wherever it is
// (ns.To(id).Disconnect).
func (r *RemoteSocket) Disconnect(ctx context.Context, close bool) error {
	return r.ns.To(r.ID).Disconnect(ctx, close)
}

// SocketAck is one receiver's answer to a broadcast with acks.
type SocketAck struct {
	// ID is the id of the socket that answered.
	ID string
	// Args are the arguments of its ack (binary ones from a v5 client as
	// base64 strings, as Socket.EmitWithAck gives them).
	Args []json.RawMessage
}

// AckResult is what a broadcast with acks collected. Both lists are nil
// when empty.
type AckResult struct {
	// Acks are the answers, sorted by socket id.
	Acks []SocketAck
	// Missing are the ids of the selected sockets that did not answer
	// before the deadline, or disconnected first, sorted.
	Missing []string
}

// EmitWithAck sends an event asking for an ack and waits for it until
// ctx ends (ctx must have a deadline: ErrNoDeadline). It returns the
// ack's arguments; ErrNoSocket if the socket is not connected anywhere
// (also, wrapping ErrDisconnected too, when it disconnects before it
// answered); otherwise the error of Selection.EmitWithAck, which wraps
// ctx's when the socket did not answer in time.
func (r *RemoteSocket) EmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	res, err := r.ns.To(r.ID).EmitWithAck(ctx, event, args...)
	for _, a := range res.Acks {
		if a.ID == r.ID {
			return a.Args, nil
		}
	}
	if errors.Is(err, ErrDisconnected) {
		return nil, fmt.Errorf("%w: %w", ErrNoSocket, err)
	}
	if err != nil {
		return nil, err
	}
	return nil, ErrNoSocket
}

// Fetch describes the selected sockets on every node (Node's
// fetchSockets), sorted by id: each with its rooms and its session's
// Handshake.User as JSON. A cluster adapter returns once every node has
// answered, or ctx ends. A socket may disconnect right after it was
// described: its RemoteSocket's methods then reach nobody
// (RemoteSocket.EmitWithAck says ErrNoSocket).
func (e *Selection) Fetch(ctx context.Context) ([]*RemoteSocket, error) {
	infos, err := e.ns.adapter.FetchSockets(ctx, e.selected())
	if infos == nil {
		return nil, err
	}
	out := make([]*RemoteSocket, len(infos))
	for i, info := range infos {
		out[i] = &RemoteSocket{SocketInfo: info, ns: e.ns}
	}
	return out, err
}

// EmitWithAck emits an event to every selected socket, on every node,
// asking each for an ack (Node's timeout(ms).emitWithAck), and waits until
// every receiver has answered or ctx ends; ctx must have a deadline
// (ErrNoDeadline). The result holds the answers and the sockets that did
// not answer; the error is nil only when every receiver answered, and
// otherwise wraps ctx's error (or the cluster adapter's, such as a node
// that did not answer). A receiver that disconnects while the broadcast
// waits, or that cannot be asked (its session is closing or too slow,
// ErrNotDelivered; it waits for Config.MaxPendingAcks acks already,
// ErrTooManyAcks) is missing at once, and the error wraps that reason
// too. Event names are checked as by Namespace.Emit; binary arguments
// ([]byte) travel as in Emit.
//
// The event is encoded once per protocol: every receiver gets the same
// ack id, from a range of ids (2^30 to 2^31-1) that a socket's own
// EmitWithAck never uses, so answers cannot be mistaken for each other.
// A volatile selection (Volatile) asks only the receivers whose transport
// can take the event right now; the others are missing at once. Nothing
// of the broadcast stays registered on the sockets once it returned (a
// late answer is ignored).
func (e *Selection) EmitWithAck(ctx context.Context, event string, args ...any) (AckResult, error) {
	if _, ok := ctx.Deadline(); !ok {
		return AckResult{}, ErrNoDeadline
	}
	m, err := newEventMessage(e.ns.name, event, args)
	if err != nil {
		return AckResult{}, err
	}
	opts := e.selected()
	opts.Volatile = e.opts.Volatile
	return e.ns.adapter.BroadcastWithAck(ctx, m, opts)
}

// The in-memory adapter's side.

// FetchSockets implements Adapter for this node's sockets: Node is empty.
func (a *memoryAdapter) FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	socks := a.receivers(opts)
	out := make([]SocketInfo, 0, len(socks))
	for _, s := range socks {
		rooms, _ := a.Rooms(s.id)
		out = append(out, SocketInfo{ID: s.id, Rooms: rooms, User: userJSON(s.Handshake())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// userJSON is hs.User encoded as JSON; nil when there is none or it does
// not encode.
func userJSON(hs *Handshake) json.RawMessage {
	if hs == nil || hs.User == nil {
		return nil
	}
	b, err := json.Marshal(hs.User)
	if err != nil {
		return nil
	}
	return b
}

// The ack ids of broadcasts with acks are broadcastAckBase +
// (n mod broadcastAckBase) for the namespace's n-th broadcast: 2^30 to
// 2^31-1, exact in a JavaScript number and a 32-bit int, which every
// client takes (0.9 echoes the digits it got; the v4 and v5 parsers take
// any non-negative integer). A socket's own ack ids stay below
// broadcastAckBase (Socket.sendAckID), so the two cannot collide; two
// broadcasts could only share an id if one still waited after 2^30 others
// of its namespace, and then the later one counts the socket as missing
// rather than take the other's answer.
const broadcastAckBase = 1 << 30

// Why a receiver of a broadcast with acks is missing before the deadline.
const (
	ackGone     = 1 << iota // it disconnected (ErrDisconnected)
	ackUnsent               // its session did not take the event (ErrNotDelivered)
	ackTooMany              // it waits for MaxPendingAcks acks already (ErrTooManyAcks)
	ackBusy                 // another broadcast still waits under the same id
	ackDeadline             // ctx ended first
)

// ackCollector gathers the answers to one broadcast with acks on this
// node. It is registered as the ackWaiter of every receiver under the
// broadcast's id; a receiver's ack (answer) or disconnect (fail) takes it
// out of pending, and done is closed when pending is empty. mu guards
// everything but done.
type ackCollector struct {
	done chan struct{}

	mu       sync.Mutex
	pending  map[string]struct{}
	acks     []SocketAck
	missing  []string
	reasons  int  // the ack* bits of the receivers missing so far
	finished bool // the broadcast returned: later calls do nothing
	// each, if set, is called with every ack as it is recorded (mu held:
	// one call at a time). Set before the first receiver is registered.
	each func(SocketAck)
}

// answer records the ack of socket sid.
func (c *ackCollector) answer(sid string, args []json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.take(sid) {
		a := SocketAck{ID: sid, Args: args}
		c.acks = append(c.acks, a)
		if c.each != nil {
			c.each(a)
		}
	}
}

// fail records that socket sid will not answer, for reason (an ack* bit).
func (c *ackCollector) fail(sid string, reason int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.take(sid) {
		c.missing = append(c.missing, sid)
		c.reasons |= reason
	}
}

// take removes sid from pending, reporting whether it was there, and
// closes done after the last one. c.mu is held.
func (c *ackCollector) take(sid string) bool {
	if c.finished {
		return false
	}
	if _, ok := c.pending[sid]; !ok {
		return false
	}
	delete(c.pending, sid)
	if len(c.pending) == 0 {
		close(c.done)
	}
	return true
}

// BroadcastWithAck implements Adapter for this node's sockets: m is
// encoded once per protocol under one ack id (see broadcastAckBase) and
// queued to each receiver, on which the broadcast waits under that id
// (it counts in Socket.PendingAcks, and against Config.MaxPendingAcks,
// until the receiver answered or the broadcast returned). See
// Selection.EmitWithAck for what is missing, and the error.
func (a *memoryAdapter) BroadcastWithAck(ctx context.Context, m *Message, opts BroadcastOptions) (AckResult, error) {
	return a.BroadcastWithAckEach(ctx, m, opts, nil)
}

// AckStreamer is implemented by the in-memory adapter (NewMemoryAdapter).
// A cluster adapter running another node's broadcast with acks on its own
// sockets uses it to pass each ack on as it arrives rather than all of
// them at the end, so that the acks already in reach the requester even
// when the answer about the receivers still silent comes too late.
type AckStreamer interface {
	// BroadcastWithAckEach is BroadcastWithAck, calling each with every
	// ack as it arrives (on the answering socket's goroutine, one call at
	// a time, before BroadcastWithAck returns; each must not block). The
	// result holds every ack, those passed to each included.
	BroadcastWithAckEach(ctx context.Context, m *Message, opts BroadcastOptions, each func(SocketAck)) (AckResult, error)
}

// BroadcastWithAckEach implements AckStreamer; each may be nil.
func (a *memoryAdapter) BroadcastWithAckEach(ctx context.Context, m *Message, opts BroadcastOptions, each func(SocketAck)) (AckResult, error) {
	if m.Kind < MessageEvent || m.Kind > MessageJSON {
		return AckResult{}, fmt.Errorf("%w: unknown kind %d", ErrInvalidMessage, m.Kind)
	}
	if _, ok := ctx.Deadline(); !ok {
		return AckResult{}, ErrNoDeadline
	}
	if err := ctx.Err(); err != nil {
		return AckResult{}, err
	}
	socks := a.receivers(opts)
	if len(socks) == 0 {
		return AckResult{}, nil
	}
	id := broadcastAckBase + (a.ns.acks.Add(1)-1)%broadcastAckBase
	c := &ackCollector{done: make(chan struct{}), pending: make(map[string]struct{}, len(socks)), each: each}
	for _, s := range socks {
		c.pending[s.id] = struct{}{}
	}
	msg := ackCopy(m, id)
	registered := make([]*Socket, 0, len(socks))
	for _, s := range socks {
		if reason := s.registerBroadcastAck(id, c); reason != 0 {
			c.fail(s.id, reason)
			continue
		}
		if !s.conn.Send(msg.encoded(s.proto), opts.Volatile) {
			s.unregisterBroadcastAck(id, c)
			c.fail(s.id, ackUnsent)
			continue
		}
		registered = append(registered, s)
	}
	var waited error
	select {
	case <-c.done:
	case <-ctx.Done():
		waited = ctx.Err()
	}
	// Nothing of the broadcast stays on its receivers.
	for _, s := range registered {
		s.unregisterBroadcastAck(id, c)
	}
	c.mu.Lock()
	c.finished = true
	res := AckResult{Acks: c.acks, Missing: c.missing}
	for sid := range c.pending {
		res.Missing = append(res.Missing, sid)
	}
	reasons := c.reasons
	if len(c.pending) > 0 {
		reasons |= ackDeadline
	}
	c.mu.Unlock()
	sort.Slice(res.Acks, func(i, j int) bool { return res.Acks[i].ID < res.Acks[j].ID })
	sort.Strings(res.Missing)
	if len(res.Missing) == 0 {
		return res, nil
	}
	return res, missingError(len(res.Missing), len(socks), reasons, waited)
}

// missingError says how many of n receivers of a broadcast with acks did
// not answer, wrapping the reasons (ack* bits) and ctxErr (nil: ctx did
// not end).
func missingError(missing, n, reasons int, ctxErr error) error {
	var errs []error
	if reasons&ackDeadline != 0 && ctxErr != nil {
		errs = append(errs, ctxErr)
	}
	if reasons&ackGone != 0 {
		errs = append(errs, ErrDisconnected)
	}
	if reasons&ackUnsent != 0 {
		errs = append(errs, ErrNotDelivered)
	}
	if reasons&(ackTooMany|ackBusy) != 0 {
		errs = append(errs, ErrTooManyAcks)
	}
	return fmt.Errorf("socketio: %d of %d receivers did not answer: %w", missing, n, errors.Join(errs...))
}

// ackCopy returns a Message with m's content that asks for an ack (with
// data) under id: a fresh Message, whose encodings are its own.
func ackCopy(m *Message, id uint64) *Message {
	return &Message{Namespace: m.Namespace, Kind: m.Kind, Event: m.Event, Args: m.Args, Data: m.Data,
		Text: m.Text, Attachments: m.Attachments, ackID: id}
}

// registerBroadcastAck makes c the socket's waiter for ack id, or returns
// why it cannot (an ack* bit): the socket disconnected, waits for
// MaxPendingAcks acks already, or for id from another broadcast.
func (s *Socket) registerBroadcastAck(id uint64, c *ackCollector) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch _, busy := s.acks[id]; {
	case s.disconnectedLocked():
		return ackGone
	case len(s.acks) >= s.ns.opts.MaxPendingAcks:
		s.logAt(slog.LevelDebug, "broadcast ack not asked: too many pending acks", "limit", s.ns.opts.MaxPendingAcks)
		return ackTooMany
	case busy:
		return ackBusy
	}
	if s.acks == nil {
		s.acks = make(map[uint64]ackWaiter)
	}
	s.acks[id] = ackWaiter{bc: c}
	return 0
}

// ServerEmit implements Adapter: one node has no other nodes.
func (a *memoryAdapter) ServerEmit(ctx context.Context, event string, args []json.RawMessage) error {
	return nil
}

// unregisterBroadcastAck forgets c as the socket's waiter for ack id,
// if it still is.
func (s *Socket) unregisterBroadcastAck(id uint64, c *ackCollector) {
	s.mu.Lock()
	if w, ok := s.acks[id]; ok && w.bc == c {
		delete(s.acks, id)
	}
	s.mu.Unlock()
}

// Server events.

// maxQueuedServerEvents bounds the server events waiting for a
// namespace's handlers; beyond it ReceiveServerEvent drops them.
const maxQueuedServerEvents = 1024

// serverEvents are a namespace's server-event handlers and the events
// waiting for them, run one at a time in arrival order on a goroutine
// that exists only while events wait (as errorReporter does). mu guards
// everything.
type serverEvents struct {
	mu       sync.Mutex
	handlers map[string]func(args []json.RawMessage)
	queue    []serverEvent
	running  bool
	dropped  int       // events dropped since the last warning about it
	warned   time.Time // when that warning was written
}

type serverEvent struct {
	name string
	args []json.RawMessage
}

// ServerEmit sends an application message to the other nodes of the
// cluster: each node's handler for event in this namespace
// (OnServerEvent) receives args encoded as JSON (a []byte as the base64
// string json.Marshal makes of it: server events have no binary
// attachments). It does not reach clients, nor this node's own handler.
// With the in-memory adapter there are no other nodes and it does
// nothing. The event name is checked as by Emit (ErrInvalidMessage,
// ErrReservedEvent).
func (ns *Namespace) ServerEmit(ctx context.Context, event string, args ...any) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	raw, err := marshalArgs(args)
	if err != nil {
		return err
	}
	return ns.adapter.ServerEmit(ctx, event, raw)
}

// OnServerEvent sets the handler of a server event sent by another node's
// ServerEmit, replacing the previous one; a nil fn removes it. Handlers
// run one at a time per namespace, in arrival order, on a goroutine of
// the namespace's that exists only while events wait; a panic is
// recovered, logged and reported to Config.OnError (a HandlerError
// without a SocketID).
func (ns *Namespace) OnServerEvent(event string, fn func(args []json.RawMessage)) {
	q := &ns.srvEvents
	q.mu.Lock()
	defer q.mu.Unlock()
	if fn == nil {
		delete(q.handlers, event)
		return
	}
	if q.handlers == nil {
		q.handlers = make(map[string]func([]json.RawMessage))
	}
	q.handlers[event] = fn
}

// ReceiveServerEvent hands a server event from another node to the
// namespace's handler (OnServerEvent). Cluster adapters call it; it does
// not block: the event is queued for the handler that is set when its
// turn comes (an event without one is dropped, logged at debug level).
// When 1024 events wait already it is dropped, and the drops are logged
// at most once a second.
func (ns *Namespace) ReceiveServerEvent(event string, args []json.RawMessage) {
	q := &ns.srvEvents
	q.mu.Lock()
	if len(q.queue) >= maxQueuedServerEvents {
		q.dropped++
		var dropped int
		if now := time.Now(); now.Sub(q.warned) >= time.Second {
			dropped, q.dropped, q.warned = q.dropped, 0, now
		}
		q.mu.Unlock()
		if dropped > 0 {
			ns.log.Warn("server events dropped: their handlers are too slow", "namespace", ns.name,
				"dropped", dropped, "event", lazylog.Client(event), "queued", maxQueuedServerEvents)
		}
		return
	}
	q.queue = append(q.queue, serverEvent{name: event, args: args})
	if !q.running {
		q.running = true
		go ns.runServerEvents()
	}
	q.mu.Unlock()
}

// runServerEvents runs the queued server events, one at a time, and
// returns once the queue is empty.
func (ns *Namespace) runServerEvents() {
	q := &ns.srvEvents
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.running = false
			q.queue = nil
			q.mu.Unlock()
			return
		}
		ev := q.queue[0]
		q.queue[0] = serverEvent{}
		q.queue = q.queue[1:]
		fn := q.handlers[ev.name]
		q.mu.Unlock()
		if fn == nil {
			ns.log.Debug("no handler for server event", "namespace", ns.name, "event", lazylog.Client(ev.name))
			continue
		}
		ns.callServerEvent(fn, ev)
	}
}

// callServerEvent runs one server event's handler, recovering, logging
// and reporting (Config.OnError) a panic.
func (ns *Namespace) callServerEvent(fn func([]json.RawMessage), ev serverEvent) {
	defer func() {
		if r := recover(); r != nil {
			stack := debug.Stack()
			ns.log.Error("server event handler panicked", "namespace", ns.name, "event", lazylog.Client(ev.name),
				"panic", r, "stack", string(stack))
			if ns.opts.errs != nil {
				ns.opts.errs.report(&HandlerError{Namespace: ns.name, Event: ev.name,
					Err: panicError(r), Panic: r, Stack: stack})
			}
		}
	}()
	fn(ev.args)
}
