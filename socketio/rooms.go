package socketio

import (
	"fmt"
	"slices"
)

// socketIDLen is the length of a socket id: 15 random bytes in URL-safe
// base64 without padding, as package socketio makes session ids.
const socketIDLen = 20

// IsSocketID reports whether name has the format of a socket id:
// 20 characters of the URL-safe base64 alphabet (A-Z, a-z, 0-9,
// '-', '_'), or such 20 characters after a namespace name and '#'
// ("/chat#" then the 20), the id of a socket.io-client 1.x/2.x socket in
// a namespace other than the default one. Room names of that format are
// reserved for the sockets' own rooms: Socket.Join refuses them (other
// than the socket's own id) with ErrReservedRoom whether or not a socket
// with that id exists — now, later, on this node or another — so a
// socket can never be made a member of another's private room, and
// To(id) reaches only the socket id.
func IsSocketID(name string) bool {
	if len(name) > socketIDLen+1 && name[0] == '/' && name[len(name)-socketIDLen-1] == '#' {
		name = name[len(name)-socketIDLen:]
	}
	return isSessionID(name)
}

// isSessionID reports whether name has the format of a session id (an
// Engine.IO or 0.9 one): the 20 characters alone.
func isSessionID(name string) bool {
	if len(name) != socketIDLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// reservedFor reports whether room is a socket id other than sid's: one
// that sid may never join.
func reservedFor(sid, room string) bool { return room != sid && IsSocketID(room) }

// checkJoin tells whether the socket may join room: a name within
// MaxRoomNameBytes, not another socket's id, and, unless the socket is
// already in it, one more room within MaxRoomsPerSocket. The caller holds
// s.joinMu, so that concurrent Joins of one socket cannot overshoot.
func (s *Socket) checkJoin(room string) error {
	if room == s.id {
		return nil // the library's own join; never counted
	}
	if err := s.ns.checkRoomName(room); err != nil {
		return err
	}
	o := &s.ns.opts
	if o.MaxRoomsPerSocket > 0 {
		n, in, err := roomCount(s.ns.adapter, s.id, room)
		if err != nil {
			return err
		}
		if n >= o.MaxRoomsPerSocket && !in {
			return fmt.Errorf("%w: at most %d", ErrTooManyRooms, o.MaxRoomsPerSocket)
		}
	}
	return nil
}

// roomCount returns how many rooms sid is in and whether room is one of
// them: from RoomCounter if a has it (O(1) for the in-memory adapter), else
// from Rooms.
func roomCount(a Adapter, sid, room string) (int, bool, error) {
	if rc, ok := a.(RoomCounter); ok {
		n, in := rc.RoomCount(sid, room)
		return n, in, nil
	}
	rooms, err := a.Rooms(sid)
	return len(rooms), slices.Contains(rooms, room), err
}
