package sioredis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/siogo/siogo/socketio"
)

// Adapter is the socketio.Adapter of one namespace on one node of a
// Cluster. Membership is kept twice: in an in-memory adapter, which
// finds this node's receivers of every broadcast, and in Redis, which
// answers the cluster-wide queries. Make adapters with Cluster.Adapter.
type Adapter struct {
	c    *Cluster
	ns   *socketio.Namespace
	name string
	mem  socketio.Adapter // socketio.NewMemoryAdapter's
	// memCount is mem's RoomCount.
	memCount socketio.RoomCounter

	// mu serializes membership changes so that the order in which they
	// reach the local state is the order in which they are queued for Redis.
	mu sync.Mutex
	// nsOn (under mu) says the namespace's channel is wanted: the
	// namespace has sockets on this node (ChannelsSharded).
	nsOn bool
}

var (
	_ socketio.Adapter     = (*Adapter)(nil)
	_ socketio.RoomCounter = (*Adapter)(nil)
)

// Adapter makes the adapter of a namespace; the method value
// cluster.Adapter is a socketio.AdapterFactory for
// socketio.Config.Adapter.
func (c *Cluster) Adapter(ns *socketio.Namespace) socketio.Adapter {
	mem := socketio.NewMemoryAdapter(ns)
	counter, ok := mem.(socketio.RoomCounter)
	if !ok {
		panic("sioredis: socketio.NewMemoryAdapter's adapter is no longer a RoomCounter")
	}
	a := &Adapter{c: c, ns: ns, name: ns.Name(), mem: mem, memCount: counter}
	c.amu.Lock()
	if len(c.adapters[a.name]) > 0 {
		c.log.Warn("sioredis: a second adapter for one namespace on one node; use one Cluster per Server", "namespace", a.name)
	}
	c.adapters[a.name] = append(c.adapters[a.name], a)
	c.amu.Unlock()
	return a
}

func (c *Cluster) adaptersOf(ns string) []*Adapter {
	c.amu.RLock()
	defer c.amu.RUnlock()
	return c.adapters[ns]
}

func (c *Cluster) allAdapters() []*Adapter {
	c.amu.RLock()
	defer c.amu.RUnlock()
	var out []*Adapter
	for _, as := range c.adapters {
		out = append(out, as...)
	}
	return out
}

// Join implements socketio.Adapter. A room of the socket-id format other
// than sid (socketio.IsSocketID) is refused with socketio.ErrReservedRoom
// by the local state, whatever Redis holds, and then nothing is written.
//
// With ChannelsSharded, a join that makes the node need a new channel
// (the namespace's, or a room's it is now the first local member of)
// returns once Redis has confirmed the subscription, at most
// Config.SubscribeTimeout later: one Redis round trip, for first-member
// joins only. It returns nil when the wait runs out too (the join has
// taken effect; the timeout is logged).
func (a *Adapter) Join(sid string, rooms ...string) error {
	a.mu.Lock()
	if err := a.mem.Join(sid, rooms...); err != nil {
		a.mu.Unlock()
		return err
	}
	// The channels first: the join is written once they are subscribed.
	seq := a.subscribeRooms(sid, rooms)
	a.c.enqueueSub(a.joinCmds(sid, rooms), seq)
	a.mu.Unlock()
	if seq != 0 && a.c.joinWaits && !a.c.waitSubscribed(seq) {
		a.c.warn.warn("subscribe-timeout", "sioredis: a join returned before Redis confirmed its subscription; broadcasts to its rooms from other nodes may miss it for a while",
			"namespace", clip(a.name), "timeout", a.c.subTimeout)
	}
	return nil
}

// subscribeRooms asks the subscriber for the channels that the join of
// sid to rooms makes this node need: the namespace's, and that of each
// ordinary room it is now the first local member of, and returns the
// number of the last one (0 if none; see waitSubscribed). It also writes
// their SUBSCRIBE on the subscriber's connection at once when it can
// (fastSubscribe), which saves the subscriber goroutine's wake-up.
// Under a.mu; it never waits for Redis.
func (a *Adapter) subscribeRooms(sid string, rooms []string) uint64 {
	c := a.c
	if !c.sharded {
		return 0
	}
	var seq uint64
	if !a.nsOn {
		a.nsOn = true
		ch := nsChannel(c.prefix, a.name)
		seq = c.wantChannel(ch, true)
		c.fastSubscribe(ch)
	}
	for _, r := range rooms {
		if r == sid || socketio.IsSocketID(r) {
			continue
		}
		if n, _ := a.mem.RoomSize(context.Background(), r); n == 1 {
			ch := roomChannel(c.prefix, a.name, r)
			seq = c.wantChannel(ch, true)
			c.fastSubscribe(ch)
		}
	}
	return seq
}

// unsubscribeRooms drops the channels of the rooms (and of the namespace)
// that have no local member left. Under a.mu.
func (a *Adapter) unsubscribeRooms(sid string, rooms []string, all bool) {
	c := a.c
	if !c.sharded {
		return
	}
	for _, r := range rooms {
		if r == sid || socketio.IsSocketID(r) {
			continue
		}
		if n, _ := a.mem.RoomSize(context.Background(), r); n == 0 {
			c.wantChannel(roomChannel(c.prefix, a.name, r), false)
		}
	}
	if all && a.nsOn {
		if n, _ := a.mem.RoomSize(context.Background(), ""); n == 0 {
			a.nsOn = false
			c.wantChannel(nsChannel(c.prefix, a.name), false)
		}
	}
}

func (a *Adapter) joinCmds(sid string, rooms []string) []cmd {
	c := a.c
	cmds := make([]cmd, 0, 4+len(rooms))
	cmds = append(cmds,
		cmd{"SADD", []any{c.spacesKey(c.node), nsPart(a.name)}},
		cmd{"SADD", []any{c.nodeNSKey(a.name, c.node), sid}},
		cmd{"SADD", []any{c.allKey(a.name), sid}},
	)
	if len(rooms) > 0 {
		args := make([]any, 0, 1+len(rooms))
		args = append(args, c.sidKey(a.name, sid))
		for _, r := range rooms {
			args = append(args, r)
		}
		cmds = append(cmds, cmd{"SADD", args})
		index := []any{c.roomsKey(a.name)}
		for _, r := range rooms {
			cmds = append(cmds, cmd{"SADD", []any{c.roomKey(a.name, r), sid}})
			if r != sid {
				index = append(index, r)
			}
		}
		// After the room sets: see luaForgetRoom.
		if len(index) > 1 {
			cmds = append(cmds, cmd{"SADD", index})
		}
	}
	return cmds
}

// forgetRoom is the command that drops room from the namespace's room
// index if it is now empty (luaForgetRoom).
func (a *Adapter) forgetRoom(room string) cmd {
	return cmd{"EVAL", []any{luaForgetRoom, 2, a.c.roomKey(a.name, room), a.c.roomsKey(a.name), room}}
}

// Leave implements socketio.Adapter.
func (a *Adapter) Leave(sid, room string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_ = a.mem.Leave(sid, room)
	cmds := []cmd{
		{"SREM", []any{a.c.roomKey(a.name, room), sid}},
		{"SREM", []any{a.c.sidKey(a.name, sid), room}},
	}
	if room != sid {
		cmds = append(cmds, a.forgetRoom(room))
	}
	a.c.enqueue(cmds)
	a.unsubscribeRooms(sid, []string{room}, false)
	return nil
}

// LeaveAll implements socketio.Adapter.
func (a *Adapter) LeaveAll(sid string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	rooms := a.localRooms(sid)
	_ = a.mem.LeaveAll(sid)
	c := a.c
	cmds := make([]cmd, 0, 3+2*len(rooms))
	for _, r := range rooms {
		cmds = append(cmds, cmd{"SREM", []any{c.roomKey(a.name, r), sid}})
		if r != sid {
			cmds = append(cmds, a.forgetRoom(r))
		}
	}
	cmds = append(cmds,
		cmd{"DEL", []any{c.sidKey(a.name, sid)}},
		cmd{"SREM", []any{c.allKey(a.name), sid}},
		cmd{"SREM", []any{c.nodeNSKey(a.name, c.node), sid}},
	)
	c.enqueue(cmds)
	a.unsubscribeRooms(sid, rooms, true)
	return nil
}

// localRooms returns the rooms of sid in the local state, its own-id room
// included.
func (a *Adapter) localRooms(sid string) []string {
	rooms, _ := a.mem.Rooms(sid)
	if own, _ := a.mem.Clients(sid); slices.Contains(own, sid) {
		rooms = append(rooms, sid)
	}
	return rooms
}

// snapshot returns the commands that make Redis hold exactly the local
// membership of each socket of the namespace (setSocketScript, by hash:
// the caller loads it), and the sockets' ids.
func (a *Adapter) snapshot() ([]cmd, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.c
	sids, _ := a.mem.Clients("")
	cmds := make([]cmd, 0, 1+len(sids))
	if len(sids) > 0 {
		cmds = append(cmds, cmd{"SADD", []any{c.spacesKey(c.node), nsPart(a.name)}})
	}
	roomPrefix := c.roomKey(a.name, "")
	for _, sid := range sids {
		rooms := a.localRooms(sid)
		args := make([]any, 0, 8+len(rooms))
		args = append(args, setSocketScript.Hash(), 4, c.nodeNSKey(a.name, c.node), c.allKey(a.name), c.sidKey(a.name, sid),
			c.roomsKey(a.name), roomPrefix, sid)
		for _, r := range rooms {
			args = append(args, r)
		}
		cmds = append(cmds, cmd{"EVALSHA", args})
	}
	return cmds, sids
}

// Broadcast implements socketio.Adapter: the message is queued for this
// node's receivers at once, then its fields are published for the other
// nodes (unless every room is the own-id room of a socket of this node),
// which encode it for their own receivers. It never blocks; broadcasts
// that cannot be published (or that exceed the 16 MiB a cluster message
// may hold) are counted in Stats().Dropped. It returns the in-memory adapter's
// refusal of a Message of no known kind, and then publishes nothing.
func (a *Adapter) Broadcast(m *socketio.Message, opts socketio.BroadcastOptions) error {
	if err := a.mem.Broadcast(m, opts); err != nil {
		return err
	}
	if a.localOnly(opts) {
		return nil
	}
	b := encodeMessage(a.c.node, opts, m)
	if len(b) > maxMessageBytes {
		a.c.stats.dropped.Add(1)
		a.c.warn.warn("too large", "sioredis: a broadcast is too large to publish; it reaches this node's sockets only",
			"namespace", clip(a.name), "bytes", len(b), "max", maxMessageBytes)
		return nil
	}
	a.c.publishTo(channelFor(a.c.mode, a.c.prefix, a.name, opts), b)
	return nil
}

// localOnly reports whether every selected room is the own-id room of a
// socket of this node, so no other node has a receiver.
func (a *Adapter) localOnly(opts socketio.BroadcastOptions) bool {
	if len(opts.Rooms) == 0 {
		return false
	}
	for _, r := range opts.Rooms {
		if a.ns.Socket(r) == nil {
			return false
		}
	}
	return true
}

// deliver hands a broadcast of another node to the local receivers.
func (a *Adapter) deliver(m message) {
	_ = a.mem.Broadcast(m.msg, m.opts)
}

// Clients implements socketio.Adapter: the members of room on every
// node, read from Redis after this node's pending membership writes. If
// Redis cannot answer, it returns this node's members with an error
// wrapping ErrUnavailable (or ErrClosed after Close).
func (a *Adapter) Clients(room string) ([]string, error) {
	local, _ := a.mem.Clients(room)
	key := a.c.allKey(a.name)
	if room != "" {
		key = a.c.roomKey(a.name, room)
	}
	remote, err := a.c.members(key)
	if err != nil {
		return local, err
	}
	return union(local, remote), nil
}

// Rooms implements socketio.Adapter. The rooms of a socket of this node
// are known locally; those of another node's socket are read from Redis
// (on failure: none, with an error wrapping ErrUnavailable).
func (a *Adapter) Rooms(sid string) ([]string, error) {
	local, _ := a.mem.Rooms(sid)
	if a.ns.Socket(sid) != nil {
		return local, nil
	}
	remote, err := a.c.members(a.c.sidKey(a.name, sid))
	if err != nil {
		return local, err
	}
	remote = slices.DeleteFunc(remote, func(r string) bool { return r == sid })
	return union(local, remote), nil
}

// RoomCount implements socketio.RoomCounter from the local state, which
// holds every room of this node's sockets.
func (a *Adapter) RoomCount(sid, room string) (int, bool) { return a.memCount.RoomCount(sid, room) }

// Close implements socketio.Adapter: the namespace's broadcasts from
// other nodes are no longer delivered here (with ChannelsSharded its
// channels are unsubscribed). Membership is left to the
// sockets' LeaveAll and to Cluster.Close.
func (a *Adapter) Close() error {
	c := a.c
	if c.sharded {
		// The namespace's and its rooms' channels are no longer needed.
		a.mu.Lock()
		rooms, _ := a.mem.AllRooms(context.Background())
		for _, r := range rooms {
			c.wantChannel(roomChannel(c.prefix, a.name, r), false)
		}
		if a.nsOn {
			a.nsOn = false
			c.wantChannel(nsChannel(c.prefix, a.name), false)
		}
		a.mu.Unlock()
	}
	c.amu.Lock()
	c.adapters[a.name] = slices.DeleteFunc(slices.Clone(c.adapters[a.name]), func(x *Adapter) bool { return x == a })
	if len(c.adapters[a.name]) == 0 {
		delete(c.adapters, a.name)
	}
	c.amu.Unlock()
	return nil
}

// members reads a set after this node's pending membership writes.
func (c *Cluster) members(key string) ([]string, error) {
	var ids []string
	err := c.query(func(conn redigo.Conn) (err error) {
		ids, err = redigo.Strings(conn.Do("SMEMBERS", key))
		return err
	})
	return ids, err
}

// query runs read on a pooled connection once this node's pending
// membership writes are done (see exec).
func (c *Cluster) query(read func(redigo.Conn) error) error {
	return c.exec(context.Background(), true, read)
}

// exec runs fn on a pooled connection; with wait, only once this node's
// pending membership writes are done. The wait for them and for a
// connection together take at most opTimeout (and end with parent); fn is
// bounded by the connection's read timeout. After a failure to reach
// Redis, calls fail at once until the backoff allows a new try, so that
// callers do not each wait for a connect timeout during an outage. fn
// runs a second time, on another connection, when the first fails on a
// connection error (a stale pooled connection), so it must be safe to
// repeat: reads, and writes of the same values.
func (c *Cluster) exec(parent context.Context, wait bool, fn func(redigo.Conn) error) error {
	if c.closed.Load() {
		return ErrClosed
	}
	c.qmu.Lock()
	ready := c.qbo.ready(time.Now())
	c.qmu.Unlock()
	if !ready {
		return fmt.Errorf("%w: %w", ErrUnavailable, errBackoff)
	}
	ctx, cancel := context.WithTimeout(c.ctx, opTimeout)
	defer cancel()
	defer context.AfterFunc(parent, cancel)()
	if wait {
		c.barrier(ctx)
	}
	var refused redigo.Error
	conn, err := c.getConn(ctx)
	if err == nil {
		err = fn(conn)
		conn.Close()
		if err != nil && !errors.As(err, &refused) && ctx.Err() == nil && !c.closed.Load() {
			// A connection error on a pooled connection: Redis (or one
			// master) restarted while traffic kept the pool's connections
			// too busy for the idle check. The others of its time are
			// likely dead too: they are PINGed before use from now on, and
			// fn (a read, or writes of the same values: safe to repeat) runs
			// once more on a live one.
			c.stale.Store(time.Now().UnixNano())
			if conn, err = c.getConn(ctx); err == nil {
				err = fn(conn)
				conn.Close()
			}
		}
	}
	c.qmu.Lock()
	switch {
	case err == nil || errors.As(err, &refused):
		c.qbo.reset()
	case parent.Err() != nil:
		// The caller gave up: that says nothing about Redis.
	default:
		c.qbo.fail(time.Now())
	}
	c.qmu.Unlock()
	if err != nil {
		if c.closed.Load() {
			return ErrClosed
		}
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// union merges a sorted list and an unsorted one into a sorted list
// without duplicates.
func union(sorted, other []string) []string {
	out := make([]string, 0, len(sorted)+len(other))
	out = append(out, sorted...)
	out = append(out, other...)
	slices.Sort(out)
	return slices.Compact(out)
}
