package sioredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync/atomic"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/siogo/siogo/socketio"
)

// Emitter publishes broadcasts to the sockets of a cluster's nodes from a
// process that runs no server: a cron job, a queue worker, an app server.
// It holds no sessions and subscribes to nothing; each broadcast is one
// PUBLISH of the message the nodes decode (see "Emitting from other
// processes" in the package documentation), and so is each of its room
// operations (EmitterSelection's Join, Leave, Disconnect, ServerEmit).
// Make it with NewEmitter; it is safe for concurrent use.
type Emitter struct {
	node   string // the sender id its messages carry: no node's
	prefix string
	mode   ChannelMode  // Config.Channels: the nodes' channels
	pool   *redigo.Pool // standalone Redis
	topo   *topology    // Redis Cluster (Config.ClusterAddrs)
	closed atomic.Bool
}

var _ socketio.Publisher = (*Emitter)(nil)

// NewEmitter connects an emitter to the Redis of the cluster whose nodes
// use cfg.Prefix. Only the connection fields of cfg (Addr, ClusterAddrs
// or the Sentinel fields, Username, Password, DB, ClientName, TLSConfig,
// Dial, the timeouts, PoolSize), Prefix and Channels (the nodes' mode: it picks the
// channel of each broadcast) are used; the node fields are ignored. On
// Redis Cluster it publishes with SPUBLISH on the master of the
// channel's slot. It fails if the
// configuration is invalid or Redis does not answer a PING now.
func NewEmitter(cfg Config) (*Emitter, error) {
	if err := cfg.connDefaults(); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("sioredis: emitter id: %w", err)
	}
	e := &Emitter{
		node:   "emitter-" + hex.EncodeToString(b[:]),
		prefix: cfg.Prefix,
		mode:   cfg.Channels,
	}
	if len(cfg.ClusterAddrs) > 0 {
		opts := cfg.dialOptions()
		topo, err := newTopology(&cfg, opts, cfg.addrDialer(opts))
		if err != nil {
			return nil, fmt.Errorf("sioredis: emitter: %w", err)
		}
		e.topo = topo
	} else {
		e.pool = cfg.pool(cfg.dialer())
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout+cfg.ReadTimeout)
	defer cancel()
	if err := e.do(ctx, "PING"); err != nil {
		_ = e.Close()
		return nil, fmt.Errorf("sioredis: emitter: %w", authError(err))
	}
	return e, nil
}

// Publish implements socketio.Publisher: it publishes r to the nodes,
// which deliver it to their sockets of r.Namespace in r.Rooms (all of them
// if none) but r.Except, as Server.Publish would on a node. r is checked
// first with socketio.NewPublishMessage (errors wrap
// socketio.ErrInvalidMessage); room names are not bounded here, as the
// nodes' Config.MaxRoomNameBytes is not known (a longer name has no
// members). The namespace is not checked either: nodes without it drop
// the broadcast.
//
// Publish returns once Redis has taken the message (one round trip), with
// Redis's error otherwise (wrapping ErrUnavailable; ErrClosed after
// Close). Delivery and order are those of the broadcasts of one node
// (see "Broadcasts" in the package documentation): at most once, nodes
// whose subscription is down at the time miss it; the pushes one
// goroutine makes one after another, each returned before the next,
// keep their order as a node's broadcasts do.
func (e *Emitter) Publish(ctx context.Context, r socketio.PublishRequest) error {
	m, opts, err := socketio.NewPublishMessage(r, 0)
	if err != nil {
		return err
	}
	return e.publish(ctx, m, opts)
}

// Of returns the selection of every socket of namespace ns ("" or "/"
// for the default), for Emit and the room operations.
func (e *Emitter) Of(ns string) *EmitterSelection {
	return &EmitterSelection{e: e, ns: ns}
}

// EmitterSelection selects sockets of one namespace for an Emitter's
// Emit, Join, Leave and Disconnect:
// e.Of("/chat").To("room").Except(id).Emit(ctx, "event", args...).
// To and Except return a new selection, so one can be kept and shared.
type EmitterSelection struct {
	e      *Emitter
	ns     string
	rooms  []string
	except []string
}

// To returns the selection with room (a room name or a socket id) added:
// the members of any of its rooms are selected.
func (s *EmitterSelection) To(room string) *EmitterSelection {
	c := *s
	c.rooms = append(slices.Clip(s.rooms), room)
	return &c
}

// Except returns the selection without the sockets ids.
func (s *EmitterSelection) Except(ids ...string) *EmitterSelection {
	c := *s
	c.except = append(slices.Clip(s.except), ids...)
	return &c
}

// Emit publishes event with args to the selection, as Publish does. The
// arguments are encoded as socketio's Emit encodes them
// (socketio.MarshalArgs): a []byte, at the top or inside a []any or
// map[string]any, is a binary attachment, which v5 clients receive as
// binary and 0.9 clients as a base64 string.
func (s *EmitterSelection) Emit(ctx context.Context, event string, args ...any) error {
	raw, att, err := socketio.MarshalArgs(args...)
	if err != nil {
		return err
	}
	m, opts, err := socketio.NewPublishMessage(socketio.PublishRequest{
		Namespace: s.ns, Rooms: s.rooms, Except: s.except, Event: event, Args: raw,
	}, 0)
	if err != nil {
		return err
	}
	m.Attachments = att
	return s.e.publish(ctx, m, opts)
}

// Join makes the selected sockets, on every node, join rooms, as
// socketio.Selection.Join does on a node (Node's
// emitter.in(room).socketsJoin). Like Emit it returns once Redis has
// taken the request: the nodes carry it out when they receive it (those
// whose subscription is down at the time miss it), and nothing comes
// back. A room may not be a socket id (socketio.ErrReservedRoom).
func (s *EmitterSelection) Join(ctx context.Context, rooms ...string) error {
	return s.roomOp(ctx, opJoin, rooms)
}

// Leave makes the selected sockets, on every node, leave rooms, as Join
// does for joining (Node's socketsLeave).
func (s *EmitterSelection) Leave(ctx context.Context, rooms ...string) error {
	return s.roomOp(ctx, opLeave, rooms)
}

// Disconnect disconnects the selected sockets on every node, as
// socketio.Selection.Disconnect does (Node's disconnectSockets): with
// close, their whole sessions are closed, else they leave this namespace
// only. It returns once Redis has taken the request, as Join does.
func (s *EmitterSelection) Disconnect(ctx context.Context, close bool) error {
	m := s.op(opDisconnect)
	if close {
		m.flags = opFlagClose
	}
	return s.e.publishOp(ctx, m)
}

// ServerEmit sends a server event to the namespace's handlers on every
// node (socketio.Namespace.OnServerEvent; Node's serverSideEmit): the
// selection's namespace only, so it must have no rooms and no excepted
// ids. The arguments are JSON-encoded; no binary. It returns once Redis
// has taken the event; nothing is answered.
func (s *EmitterSelection) ServerEmit(ctx context.Context, event string, args ...any) error {
	if len(s.rooms) > 0 || len(s.except) > 0 {
		return fmt.Errorf("%w: a server event goes to the namespace's handlers, not to rooms or sockets", socketio.ErrInvalidMessage)
	}
	raw, att, err := socketio.MarshalArgs(args...)
	if err != nil {
		return err
	}
	if len(att) > 0 {
		return fmt.Errorf("%w: a server event has no binary arguments", socketio.ErrInvalidMessage)
	}
	m := s.op(opServerEvent)
	m.event, m.args = event, raw
	if err := checkServerEvent(m.ns, event, raw); err != nil {
		return err
	}
	return s.e.publishOp(ctx, m)
}

// roomOp publishes a join or a leave of rooms.
func (s *EmitterSelection) roomOp(ctx context.Context, typ byte, rooms []string) error {
	if len(rooms) == 0 {
		return fmt.Errorf("%w: no room to join or leave", socketio.ErrInvalidMessage)
	}
	if err := reservedRoom(rooms); err != nil {
		return err
	}
	m := s.op(typ)
	m.rooms = rooms
	return s.e.publishOp(ctx, m)
}

// op is the operation message of type typ for the selection, without a
// request id: the nodes answer no request of id 0.
func (s *EmitterSelection) op(typ byte) opMsg {
	ns := s.ns
	switch {
	case ns == "" || ns == "/":
		ns = ""
	case ns[0] != '/':
		ns = "/" + ns
	}
	return opMsg{typ: typ, node: s.e.node, ns: ns,
		opts: socketio.BroadcastOptions{Rooms: s.rooms, Except: s.except}}
}

// publishOp encodes an operation and publishes it on the control channel
// that every node subscribes to.
func (e *Emitter) publishOp(ctx context.Context, m opMsg) error {
	b, err := encodeBounded(m)
	if err != nil {
		return err
	}
	return e.do(ctx, publishCommand(e.topo != nil), singleChannel(e.prefix), b)
}

// publish encodes a valid broadcast and publishes it.
func (e *Emitter) publish(ctx context.Context, m *socketio.Message, opts socketio.BroadcastOptions) error {
	b := encodeMessage(e.node, opts, m)
	if len(b) > maxMessageBytes {
		return fmt.Errorf("%w: %w: %d bytes, at most %d", socketio.ErrInvalidMessage, errTooLarge, len(b), maxMessageBytes)
	}
	return e.do(ctx, publishCommand(e.topo != nil), channelFor(e.mode, e.prefix, m.Namespace, opts), b)
}

// do runs one command on a pooled connection, bounded by ctx and the
// connection's timeouts.
func (e *Emitter) do(ctx context.Context, cmd string, args ...any) error {
	if e.closed.Load() {
		return ErrClosed
	}
	var conn redigo.Conn
	var err error
	if e.topo != nil {
		conn = e.topo.newConn(ctx, true)
	} else {
		conn, err = e.pool.GetContext(ctx)
	}
	if err == nil {
		_, err = doContext(ctx, conn, cmd, args...)
		conn.Close()
	}
	if err != nil {
		if e.closed.Load() {
			return ErrClosed
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// Close closes the emitter's connections; later calls fail with
// ErrClosed. It is idempotent.
func (e *Emitter) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	if e.topo != nil {
		e.topo.close()
		return nil
	}
	return e.pool.Close()
}
