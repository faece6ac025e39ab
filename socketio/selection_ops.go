package socketio

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Room listings, counts and the room operations on a selection (the
// modern Node.js server's fetchSockets, socketsJoin, socketsLeave and
// disconnectSockets). With a cluster adapter (package sioredis) they
// reach the sockets of every node.

// Rooms lists the rooms of the namespace that have members, sorted,
// without the sockets' own-id rooms. With a cluster adapter it covers
// every node; an adapter may bound the listing and return what it has
// with an error (sioredis.ErrTruncated).
func (ns *Namespace) Rooms(ctx context.Context) ([]string, error) { return ns.adapter.AllRooms(ctx) }

// RoomSize counts the sockets in room (a room name or a socket id)
// without listing them; room "" counts every socket of the namespace.
func (ns *Namespace) RoomSize(ctx context.Context, room string) (int, error) {
	return ns.adapter.RoomSize(ctx, room)
}

// LeaveAll removes the socket from every room it joined. It stays in the
// room named by its own id, which it leaves only by disconnecting.
func (s *Socket) LeaveAll() error {
	rooms, err := s.ns.adapter.Rooms(s.id)
	if err != nil {
		return err
	}
	for _, r := range rooms {
		if r == s.id {
			continue
		}
		if err := s.ns.adapter.Leave(s.id, r); err != nil {
			return err
		}
	}
	return nil
}

// SocketIDs returns the ids of the selected sockets, sorted: on every
// node with a cluster adapter (Node's fetchSockets). ns.Except() selects
// the whole namespace.
func (e *Selection) SocketIDs(ctx context.Context) ([]string, error) {
	return e.ns.adapter.SocketIDs(ctx, e.selected())
}

// Join makes every selected socket join rooms (Node's socketsJoin):
// ns.To("lobby").Join(ctx, "game") moves the lobby into the game too, and
// ns.Except().Join(ctx, "all") the whole namespace. The names are checked
// first, as Socket.Join checks them: a name of the socket-id format
// (IsSocketID; here even the socket's own, which it is in anyway) fails
// with ErrReservedRoom and one longer than Config.MaxRoomNameBytes with
// ErrRoomNameTooLong, and then no socket joins anything. Each socket then
// joins all the rooms or, if that would take it past
// Config.MaxRoomsPerSocket, none of them: the error wraps
// ErrTooManyRooms and says how many sockets did not join. A cluster
// adapter returns once every node has answered, or ctx ends.
func (e *Selection) Join(ctx context.Context, rooms ...string) error {
	for _, r := range rooms {
		if err := e.ns.checkRoomName(r); err != nil {
			return err
		}
	}
	if len(rooms) == 0 {
		return ctx.Err()
	}
	return e.ns.adapter.AddSockets(ctx, e.selected(), slices.Clone(rooms))
}

// Leave makes every selected socket leave rooms (Node's socketsLeave).
// The sockets' own-id rooms cannot be left: a name of the socket-id
// format fails with ErrReservedRoom, and then no socket leaves anything.
func (e *Selection) Leave(ctx context.Context, rooms ...string) error {
	for _, r := range rooms {
		if IsSocketID(r) {
			return fmt.Errorf("%w: %q", ErrReservedRoom, r)
		}
	}
	if len(rooms) == 0 {
		return ctx.Err()
	}
	return e.ns.adapter.DelSockets(ctx, e.selected(), slices.Clone(rooms))
}

// Disconnect disconnects every selected socket (Node's
// disconnectSockets). With close, each socket's whole session ends (every
// namespace, the transport closed); without, only the socket leaves the
// namespace, as Socket.Disconnect does ("0::/ns"; in the default
// namespace that too ends the session, as in the reference). Their
// disconnect handlers run with ReasonBooted.
func (e *Selection) Disconnect(ctx context.Context, close bool) error {
	return e.ns.adapter.DisconnectSockets(ctx, e.selected(), close)
}

// selected returns the options that select the sockets of e: for a
// selection of one socket (Socket.Volatile), its own-id room.
func (e *Selection) selected() BroadcastOptions {
	if e.self != nil {
		return BroadcastOptions{Rooms: []string{e.self.id}}
	}
	return BroadcastOptions{Rooms: slices.Clone(e.opts.Rooms), Except: slices.Clone(e.opts.Except)}
}

// checkRoomName tells whether a socket may join a room of that name: not
// longer than MaxRoomNameBytes and not of the socket-id format. (A
// socket's own id passes Socket.Join before this check.)
func (ns *Namespace) checkRoomName(room string) error {
	if IsSocketID(room) {
		return fmt.Errorf("%w: %q", ErrReservedRoom, room)
	}
	if o := &ns.opts; o.MaxRoomNameBytes > 0 && len(room) > o.MaxRoomNameBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrRoomNameTooLong, len(room), o.MaxRoomNameBytes)
	}
	return nil
}

// joinRooms joins several rooms at once, all or none, with the checks of
// Join: the names, then MaxRoomsPerSocket for the rooms the socket is not
// in yet. The socket's own id is skipped.
func (s *Socket) joinRooms(rooms []string) error {
	s.joinMu.Lock()
	defer s.joinMu.Unlock()
	if s.Disconnected() {
		return ErrDisconnected // see Join
	}
	rooms = slices.DeleteFunc(slices.Clone(rooms), func(r string) bool { return r == s.id })
	limit := s.ns.opts.MaxRoomsPerSocket
	n, fresh := 0, 0
	for i, r := range rooms {
		if err := s.ns.checkRoomName(r); err != nil {
			return err
		}
		if limit <= 0 {
			continue
		}
		count, in, err := roomCount(s.ns.adapter, s.id, r)
		if err != nil {
			return err
		}
		n = count
		if !in && !slices.Contains(rooms[:i], r) {
			fresh++
		}
	}
	if limit > 0 && fresh > 0 && n+fresh > limit {
		return fmt.Errorf("%w: at most %d", ErrTooManyRooms, limit)
	}
	if len(rooms) == 0 {
		return nil
	}
	return s.ns.adapter.Join(s.id, rooms...)
}

// AllRooms implements Adapter.
func (a *memoryAdapter) AllRooms(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a.mu.RLock()
	out := make([]string, 0, len(a.rooms))
	for r := range a.rooms {
		out = append(out, r)
	}
	a.mu.RUnlock()
	sort.Strings(out)
	return out, nil
}

// RoomSize implements Adapter.
func (a *memoryAdapter) RoomSize(ctx context.Context, room string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if room == "" {
		return len(a.sids), nil
	}
	n := len(a.rooms[room])
	if a.sids[room].own {
		n++
	}
	return n, nil
}

// SocketIDs implements Adapter: the ids of this node's sockets that a
// broadcast with opts reaches.
func (a *memoryAdapter) SocketIDs(ctx context.Context, opts BroadcastOptions) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	socks := a.receivers(opts)
	out := make([]string, len(socks))
	for i, s := range socks {
		out[i] = s.id
	}
	sort.Strings(out)
	return out, nil
}

// AddSockets implements Adapter for this node's selected sockets; each
// joins through the namespace's adapter (a cluster adapter embedding the
// in-memory adapter records it), after the checks of Socket.Join.
func (a *memoryAdapter) AddSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	socks := a.receivers(opts)
	return selectionError("joined", len(socks), func(i int) error { return socks[i].joinRooms(rooms) })
}

// DelSockets implements Adapter for this node's selected sockets, through
// the namespace's adapter.
func (a *memoryAdapter) DelSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	socks := a.receivers(opts)
	return selectionError("left", len(socks), func(i int) error {
		s := socks[i]
		for _, r := range rooms {
			if r == s.id {
				continue
			}
			if err := s.ns.adapter.Leave(s.id, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// DisconnectSockets implements Adapter for this node's selected sockets.
func (a *memoryAdapter) DisconnectSockets(ctx context.Context, opts BroadcastOptions, close bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, s := range a.receivers(opts) {
		if close {
			s.conn.Close(ReasonBooted)
		} else {
			s.Disconnect()
		}
	}
	return nil
}

// selectionError runs op for n sockets and sums up the failures: the
// first error, wrapped with how many of the n failed. A socket that
// disconnected meanwhile is not a failure.
func selectionError(verb string, n int, op func(i int) error) error {
	var first error
	failed := 0
	for i := range n {
		if err := op(i); err != nil && !errors.Is(err, ErrDisconnected) {
			if first == nil {
				first = err
			}
			failed++
		}
	}
	if first == nil {
		return nil
	}
	return fmt.Errorf("%w (%d of %d sockets not %s)", first, failed, n, verb)
}
