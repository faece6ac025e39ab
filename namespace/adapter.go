package namespace

import (
	"sort"
	"sync"
)

// BroadcastOptions selects the receivers of a broadcast.
type BroadcastOptions struct {
	// Rooms limits the receivers to members of any of these rooms; empty
	// means every socket of the namespace.
	Rooms []string
	// Except lists socket ids that must not receive the packet.
	Except []string
	// Volatile lets each receiver's session drop the packet when its
	// transport is not writable right now.
	Volatile bool
}

// Adapter keeps the room membership of one namespace and delivers
// broadcasts. The default is in memory (NewMemoryAdapter); a cluster
// adapter (package redis) shares rooms between nodes.
//
// Every socket is a member of a room named by its own id while it is
// connected, so To(id) reaches one socket wherever it lives. Rooms never
// lists that room.
//
// Implementations must be safe for concurrent use and must not block on
// slow receivers: delivery is a Socket.SendFrame, which only queues.
type Adapter interface {
	// Join adds the socket to the rooms.
	Join(sid string, rooms ...string) error
	// Leave removes the socket from one room.
	Leave(sid, room string) error
	// LeaveAll removes the socket from every room; called on disconnect.
	LeaveAll(sid string) error
	// Broadcast delivers one encoded packet to the selected sockets.
	Broadcast(frame []byte, opts BroadcastOptions) error
	// Clients lists the ids of the sockets in room, sorted; room "" means
	// every socket of the namespace.
	Clients(room string) ([]string, error)
	// Rooms lists the rooms the socket is in, sorted, without its own-id room.
	Rooms(sid string) ([]string, error)
	// Close releases the adapter's resources.
	Close() error
}

// MemberChecker is an optional Adapter method: whether sid is in room,
// without listing the room. Adapters without it are asked for Clients.
type MemberChecker interface {
	HasMember(room, sid string) (bool, error)
}

func hasMember(a Adapter, room, sid string) (bool, error) {
	if mc, ok := a.(MemberChecker); ok {
		return mc.HasMember(room, sid)
	}
	ids, err := a.Clients(room)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if id == sid {
			return true, nil
		}
	}
	return false, nil
}

// AdapterFactory makes the adapter of a namespace. The namespace is passed
// so the adapter can deliver to its local sockets (Namespace.LocalSocket).
type AdapterFactory func(ns *Namespace) Adapter

// MemoryAdapter is the single-process Adapter. One mutex guards both maps.
type MemoryAdapter struct {
	ns *Namespace

	mu    sync.RWMutex
	rooms map[string]map[string]struct{} // room -> sids
	sids  map[string]map[string]struct{} // sid -> rooms
}

// NewMemoryAdapter is the default AdapterFactory.
func NewMemoryAdapter(ns *Namespace) Adapter {
	return &MemoryAdapter{
		ns:    ns,
		rooms: make(map[string]map[string]struct{}),
		sids:  make(map[string]map[string]struct{}),
	}
}

// Join implements Adapter.
func (a *MemoryAdapter) Join(sid string, rooms ...string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	mine := a.sids[sid]
	if mine == nil {
		mine = make(map[string]struct{}, len(rooms))
		a.sids[sid] = mine
	}
	for _, r := range rooms {
		mine[r] = struct{}{}
		m := a.rooms[r]
		if m == nil {
			m = make(map[string]struct{})
			a.rooms[r] = m
		}
		m[sid] = struct{}{}
	}
	return nil
}

// Leave implements Adapter.
func (a *MemoryAdapter) Leave(sid, room string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.leaveLocked(sid, room)
	return nil
}

func (a *MemoryAdapter) leaveLocked(sid, room string) {
	if mine := a.sids[sid]; mine != nil {
		delete(mine, room)
	}
	if m := a.rooms[room]; m != nil {
		delete(m, sid)
		if len(m) == 0 {
			delete(a.rooms, room)
		}
	}
}

// LeaveAll implements Adapter.
func (a *MemoryAdapter) LeaveAll(sid string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for r := range a.sids[sid] {
		a.leaveLocked(sid, r)
	}
	delete(a.sids, sid)
	return nil
}

// Broadcast implements Adapter. It collects the receivers under the read
// lock and delivers after releasing it.
func (a *MemoryAdapter) Broadcast(frame []byte, opts BroadcastOptions) error {
	for _, s := range a.Receivers(opts) {
		s.SendFrame(frame, opts.Volatile)
	}
	return nil
}

// Receivers returns the local sockets a broadcast with opts reaches. Cluster
// adapters use it to deliver on each node.
func (a *MemoryAdapter) Receivers(opts BroadcastOptions) []*Socket {
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
		seen := make(map[string]struct{})
		for _, r := range opts.Rooms {
			for sid := range a.rooms[r] {
				if _, dup := seen[sid]; dup || except(sid) {
					continue
				}
				seen[sid] = struct{}{}
				ids = append(ids, sid)
			}
		}
	}
	a.mu.RUnlock()
	out := make([]*Socket, 0, len(ids))
	for _, sid := range ids {
		if s := a.ns.LocalSocket(sid); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// Clients implements Adapter.
func (a *MemoryAdapter) Clients(room string) ([]string, error) {
	a.mu.RLock()
	var out []string
	if room == "" {
		out = make([]string, 0, len(a.sids))
		for sid := range a.sids {
			out = append(out, sid)
		}
	} else {
		out = make([]string, 0, len(a.rooms[room]))
		for sid := range a.rooms[room] {
			out = append(out, sid)
		}
	}
	a.mu.RUnlock()
	sort.Strings(out)
	return out, nil
}

// Rooms implements Adapter.
func (a *MemoryAdapter) Rooms(sid string) ([]string, error) {
	a.mu.RLock()
	out := make([]string, 0, len(a.sids[sid]))
	for r := range a.sids[sid] {
		if r != sid {
			out = append(out, r)
		}
	}
	a.mu.RUnlock()
	sort.Strings(out)
	return out, nil
}

// HasMember implements MemberChecker.
func (a *MemoryAdapter) HasMember(room, sid string) (bool, error) {
	a.mu.RLock()
	_, ok := a.rooms[room][sid]
	a.mu.RUnlock()
	return ok, nil
}

// Close implements Adapter.
func (a *MemoryAdapter) Close() error { return nil }
