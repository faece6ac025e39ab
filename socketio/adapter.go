package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// BroadcastOptions selects the receivers of a broadcast.
type BroadcastOptions struct {
	// Rooms limits the receivers to members of any of these rooms; empty
	// means every socket of the namespace.
	Rooms []string
	// Except lists socket ids that must not receive the message.
	Except []string
	// Volatile lets each receiver's session drop the message when its
	// transport is not writable right now.
	Volatile bool
}

// Adapter keeps the room membership of one namespace and delivers
// broadcasts. The default is in memory (NewMemoryAdapter); a cluster
// adapter (package sioredis) shares rooms between nodes.
//
// Every socket is a member of a room named by its own id while it is
// connected, so To(id) reaches one socket wherever it lives. Rooms never
// lists that room. Names of the socket-id format (IsSocketID) are
// reserved for those rooms: Socket.Join refuses them before calling
// Adapter.Join, and the in-memory adapter (NewMemoryAdapter; cluster
// adapters use it to find their local receivers) refuses them too.
//
// A broadcast is a *Message, protocol-neutral: the adapter hands the same
// Message to each local receiver, whose session's protocol encodes it —
// once per protocol, not per receiver (the Message caches its
// encodings). A cluster adapter carries the Message's fields between
// nodes, not the bytes of one protocol, and checks what it receives with
// Message.Validate before delivering it.
//
// Implementations must be safe for concurrent use and must not block on
// slow receivers: delivery only queues.
type Adapter interface {
	// Join adds the socket to the rooms.
	Join(sid string, rooms ...string) error
	// Leave removes the socket from one room.
	Leave(sid, room string) error
	// LeaveAll removes the socket from every room; called on disconnect.
	LeaveAll(sid string) error
	// Broadcast delivers m to the selected sockets. m is valid
	// (Message.Validate) and, from then on, immutable: the adapter may
	// keep it and share it between goroutines.
	Broadcast(m *Message, opts BroadcastOptions) error
	// Clients lists the ids of the sockets in room, sorted; room "" means
	// every socket of the namespace.
	Clients(room string) ([]string, error)
	// Rooms lists the rooms the socket is in, sorted, without its own-id room.
	Rooms(sid string) ([]string, error)
	// AllRooms lists the rooms of the namespace that have members, sorted,
	// without the sockets' own-id rooms (Namespace.Rooms).
	AllRooms(ctx context.Context) ([]string, error)
	// RoomSize counts the members of room without listing them; room ""
	// means every socket of the namespace (Namespace.RoomSize).
	RoomSize(ctx context.Context, room string) (int, error)
	// SocketIDs lists the ids of the sockets opts selects, sorted
	// (Selection.SocketIDs).
	SocketIDs(ctx context.Context, opts BroadcastOptions) ([]string, error)
	// AddSockets makes the sockets opts selects join rooms, each through
	// the checks of Socket.Join (Selection.Join). The caller has checked
	// the names.
	AddSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DelSockets makes the sockets opts selects leave rooms
	// (Selection.Leave). The caller has checked the names.
	DelSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DisconnectSockets disconnects the sockets opts selects; with close,
	// their whole sessions (Selection.Disconnect).
	DisconnectSockets(ctx context.Context, opts BroadcastOptions, close bool) error
	// FetchSockets describes the sockets opts selects, on every node,
	// sorted by id (Selection.Fetch). The in-memory adapter describes
	// this node's, with an empty Node; a cluster adapter asks it for its
	// node's part and sets Node.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error)
	// BroadcastWithAck delivers m to the sockets opts selects, each asked
	// for an ack (the same ack id for all), and collects the answers until
	// every receiver answered or ctx ends; ctx has a deadline
	// (Selection.EmitWithAck). m is valid and immutable, as for Broadcast.
	// The in-memory adapter does it for this node's sockets (it refuses a
	// ctx without a deadline with ErrNoDeadline, and registers nothing
	// that outlives the call); a cluster adapter runs it on every node
	// with the selection and merges the results, keeping both lists
	// sorted.
	BroadcastWithAck(ctx context.Context, m *Message, opts BroadcastOptions) (AckResult, error)
	// ServerEmit delivers a server event to the namespace's handler on
	// every other node (Namespace.ServerEmit), which calls
	// Namespace.ReceiveServerEvent there; args are JSON values.
	ServerEmit(ctx context.Context, event string, args []json.RawMessage) error
	// Close releases the adapter's resources.
	Close() error
}

// RoomCounter is an optional Adapter method: how many rooms the socket sid
// is in (its own-id room not counted) and whether room is one of them,
// both for a socket of this node and without listing its rooms.
// Socket.Join uses it to apply Config.MaxRoomsPerSocket; adapters
// without it are asked for Rooms.
type RoomCounter interface {
	RoomCount(sid, room string) (rooms int, in bool)
}

// AdapterFactory makes the adapter of a namespace. The namespace is passed
// so the adapter can make the namespace's in-memory adapter
// (NewMemoryAdapter(ns)), through which a cluster adapter delivers to the
// sockets of this node, as package sioredis does.
type AdapterFactory func(ns *Namespace) Adapter

// memoryAdapter is the single-process Adapter. One mutex guards both maps.
//
// A socket's own-id room is not kept as a room: its membership entry says
// whether the socket is in it, which spares every socket a set of its own.
type memoryAdapter struct {
	ns *Namespace

	mu    sync.RWMutex
	rooms map[string]map[string]struct{} // room -> sids, own-id memberships excepted
	sids  map[string]membership          // sid -> its rooms; every socket that joined anything
}

// membership is the rooms of one socket.
type membership struct {
	rooms []string // rooms joined, without the own-id room; unordered, no duplicates
	own   bool     // in the room named by its own id
}

// NewMemoryAdapter is the default AdapterFactory.
func NewMemoryAdapter(ns *Namespace) Adapter {
	return &memoryAdapter{
		ns:    ns,
		rooms: make(map[string]map[string]struct{}),
		sids:  make(map[string]membership),
	}
}

// Join implements Adapter. A room of the socket-id format other than sid
// itself (see IsSocketID) is refused with ErrReservedRoom, and then none
// of the rooms is joined: no call can make a socket receive another's
// private emits.
func (a *memoryAdapter) Join(sid string, rooms ...string) error {
	for _, r := range rooms {
		if reservedFor(sid, r) {
			return fmt.Errorf("%w: %q", ErrReservedRoom, r)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.sids[sid]
	for _, r := range rooms {
		if r == sid {
			m.own = true
			continue
		}
		members := a.rooms[r]
		if members == nil {
			members = make(map[string]struct{})
			a.rooms[r] = members
		}
		if _, in := members[sid]; !in {
			members[sid] = struct{}{}
			m.rooms = append(m.rooms, r)
		}
	}
	a.sids[sid] = m
	return nil
}

// Leave implements Adapter.
func (a *memoryAdapter) Leave(sid, room string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	m, ok := a.sids[sid]
	if !ok {
		return nil
	}
	if room == sid {
		m.own = false
	} else if i := slices.Index(m.rooms, room); i >= 0 {
		last := len(m.rooms) - 1
		m.rooms[i] = m.rooms[last]
		m.rooms[last] = ""
		m.rooms = m.rooms[:last]
		if last == 0 {
			m.rooms = nil
		}
		a.removeLocked(room, sid)
	}
	a.sids[sid] = m
	return nil
}

// removeLocked takes sid out of room's members, forgetting an empty room.
func (a *memoryAdapter) removeLocked(room, sid string) {
	if members := a.rooms[room]; members != nil {
		delete(members, sid)
		if len(members) == 0 {
			delete(a.rooms, room)
		}
	}
}

// LeaveAll implements Adapter.
func (a *memoryAdapter) LeaveAll(sid string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.sids[sid].rooms {
		a.removeLocked(r, sid)
	}
	delete(a.sids, sid)
	return nil
}

// Broadcast implements Adapter. It collects the receivers under the read
// lock and delivers after releasing it; each receiver's protocol encodes
// m once for all its receivers. A Message of no known kind is refused
// with ErrInvalidMessage (the rest of Validate is the sender's business:
// Namespace and Selection make only valid messages).
func (a *memoryAdapter) Broadcast(m *Message, opts BroadcastOptions) error {
	if m.Kind < MessageEvent || m.Kind > MessageJSON {
		return fmt.Errorf("%w: unknown kind %d", ErrInvalidMessage, m.Kind)
	}
	deliver(a.receivers(opts), m, opts.Volatile)
	return nil
}

// deliver queues m for each socket of to, in the encoding of its
// session's protocol, which m makes once (Message.encoded). The loop keeps
// the last encoding it used, so a receiver of the protocol before it
// costs what queuing bytes does.
func deliver(to []*Socket, m *Message, volatile bool) {
	var f []byte
	last := numProtocols // none
	// What the v5 sessions took, counted once at the end (as
	// session5.Send counts it).
	var stats *counters
	var pkts, bytes uint64
	for _, s := range to {
		if s.proto != last {
			f, last = m.encoded(s.proto), s.proto
		}
		if s.eio != nil {
			if n := send5(s.eio, f, volatile); n > 0 {
				if stats == nil {
					stats = &s.conn.(*session5).srv.stats
				}
				pkts += uint64(n)
				bytes += uint64(len(f))
			}
			continue
		}
		s.conn.Send(f, volatile)
	}
	if stats != nil {
		stats.packetsOut.Add(pkts)
		stats.bytesOut.Add(bytes)
	}
}

// receivers returns the local sockets a broadcast with opts reaches. Cluster
// adapters use it to deliver on each node.
func (a *memoryAdapter) receivers(opts BroadcastOptions) []*Socket {
	except := func(sid string) bool {
		for _, e := range opts.Except {
			if e == sid {
				return true
			}
		}
		return false
	}
	a.mu.RLock()
	var ids []string
	if len(opts.Rooms) == 0 {
		ids = make([]string, 0, len(a.sids))
		for sid := range a.sids {
			if !except(sid) {
				ids = append(ids, sid)
			}
		}
	} else {
		// One room has no duplicate members; several may share some.
		var seen map[string]struct{}
		if len(opts.Rooms) > 1 {
			seen = make(map[string]struct{})
		}
		add := func(sid string) {
			if except(sid) {
				return
			}
			if seen != nil {
				if _, dup := seen[sid]; dup {
					return
				}
				seen[sid] = struct{}{}
			}
			ids = append(ids, sid)
		}
		for _, r := range opts.Rooms {
			if a.sids[r].own {
				add(r)
			}
			for sid := range a.rooms[r] {
				add(sid)
			}
		}
	}
	a.mu.RUnlock()
	out := make([]*Socket, 0, len(ids))
	for _, sid := range ids {
		if s := a.ns.Socket(sid); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// Clients implements Adapter.
func (a *memoryAdapter) Clients(room string) ([]string, error) {
	a.mu.RLock()
	var out []string
	if room == "" {
		out = make([]string, 0, len(a.sids))
		for sid := range a.sids {
			out = append(out, sid)
		}
	} else {
		out = make([]string, 0, len(a.rooms[room])+1)
		if a.sids[room].own {
			out = append(out, room)
		}
		for sid := range a.rooms[room] {
			out = append(out, sid)
		}
	}
	a.mu.RUnlock()
	sort.Strings(out)
	return out, nil
}

// Rooms implements Adapter.
func (a *memoryAdapter) Rooms(sid string) ([]string, error) {
	a.mu.RLock()
	out := slices.Clone(a.sids[sid].rooms)
	a.mu.RUnlock()
	if out == nil {
		out = []string{}
	}
	sort.Strings(out)
	return out, nil
}

// RoomCount implements RoomCounter.
func (a *memoryAdapter) RoomCount(sid, room string) (int, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, in := a.rooms[room][sid]
	return len(a.sids[sid].rooms), in
}

// Close implements Adapter.
func (a *memoryAdapter) Close() error { return nil }
