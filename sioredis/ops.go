package sioredis

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/siogo/siogo/socketio"
)

// Room listings and the room operations on a selection, cluster-wide.
//
// Rooms come from the namespace's room index (P:rooms:NS, kept by the
// membership writes and the sweep scripts), read with SSCAN; RoomSize is
// one SCARD. The operations on a selection (SocketIDs, Join, Leave,
// Disconnect) run on this node's sockets at once, then travel as a
// request on the broadcast channel, behind this node's earlier
// broadcasts; every other live node (a P:nodes member whose liveness key
// exists) runs it on its sockets and publishes an answer naming the
// requester, which waits for all of them.
//
// An operation travels as one binary message that starts with opVersion,
// a byte no broadcast starts with (msgVersion):
//
//	version (1 byte, opVersion)
//	type    (1 byte: opSocketIDs, opJoin, opLeave, opDisconnect, opReply)
//	flags   (1 byte: opFlagClose for opDisconnect, opFlagTruncated for opReply)
//	request id: uvarint (per requesting node)
//	node id (the sender): uvarint length + bytes
//	a request: namespace; selected rooms, excepted ids, rooms to join or
//	           leave (string lists: uvarint count, then each string)
//	an answer: requester's node id; error code (uvarint) and text; ids
const opVersion = 0x81

// Operation types.
const (
	opSocketIDs byte = 1 + iota
	opJoin
	opLeave
	opDisconnect
	opReply
)

const (
	// opFlagClose asks opDisconnect to close the sockets' sessions.
	opFlagClose = 1
	// opFlagTruncated says an answer left ids out (see maxOpBytes).
	opFlagTruncated = 1
)

// Answer error codes, so that the requester's error is errors.Is-able.
const (
	codeOK = iota
	codeTooManyRooms
	codeNameTooLong
	codeReserved
	codeOther
)

const (
	// maxOpBytes bounds an operation message, sent or received: about
	// 50,000 socket ids in one node's answer.
	maxOpBytes = 1 << 20
	// maxNodeIDBytes bounds the node ids an operation names.
	maxNodeIDBytes = 256
	// maxErrText bounds the error text of an answer.
	maxErrText = 512
)

var errBadOp = errors.New("sioredis: malformed cluster room operation")

// opMsg is a decoded operation: a request (typ < opReply) or an answer.
type opMsg struct {
	typ   byte
	flags byte
	id    uint64
	node  string // sender

	ns    string                    // request: the namespace
	opts  socketio.BroadcastOptions // request: the selection (Rooms, Except)
	rooms []string                  // opJoin, opLeave: the rooms

	target string   // answer: the requesting node
	code   uint64   // answer: codeOK or the error's code
	text   string   // answer: the error's text
	ids    []string // answer to opSocketIDs
}

// isOp tells an operation message from a broadcast.
func isOp(b []byte) bool { return len(b) > 0 && b[0] == opVersion }

func encodeOp(m opMsg) []byte {
	n := 3 + 4*binary.MaxVarintLen64 + len(m.node) + len(m.ns) + len(m.target) + len(m.text)
	for _, l := range [][]string{m.opts.Rooms, m.opts.Except, m.rooms, m.ids} {
		n += binary.MaxVarintLen64
		for _, s := range l {
			n += binary.MaxVarintLen64 + len(s)
		}
	}
	b := make([]byte, 0, n)
	b = append(b, opVersion, m.typ, m.flags)
	b = binary.AppendUvarint(b, m.id)
	b = appendString(b, m.node)
	if m.typ == opReply {
		b = appendString(b, m.target)
		b = binary.AppendUvarint(b, m.code)
		b = appendString(b, m.text)
		return appendStrings(b, m.ids)
	}
	b = appendString(b, m.ns)
	b = appendStrings(b, m.opts.Rooms)
	b = appendStrings(b, m.opts.Except)
	return appendStrings(b, m.rooms)
}

// decodeOp decodes and checks an operation message. It never panics.
// Larger than maxOpBytes is ErrOpTooLarge; a room to join or leave of
// the socket-id format wraps socketio.ErrReservedRoom (no node makes
// such a request: a socket may never be put into another's private room,
// nor out of its own); anything else malformed is errBadOp.
func decodeOp(b []byte) (opMsg, error) {
	if len(b) > maxOpBytes {
		return opMsg{}, fmt.Errorf("%w: %d bytes, at most %d", ErrOpTooLarge, len(b), maxOpBytes)
	}
	if len(b) < 3 || b[0] != opVersion {
		return opMsg{}, errBadOp
	}
	m := opMsg{typ: b[1], flags: b[2]}
	r := reader{b: b[3:]}
	m.id = r.uvarint()
	m.node = r.string()
	switch m.typ {
	case opReply:
		m.target = r.string()
		m.code = r.uvarint()
		m.text = r.string()
		m.ids = r.strings()
	case opSocketIDs, opJoin, opLeave, opDisconnect:
		m.ns = r.string()
		m.opts.Rooms = r.strings()
		m.opts.Except = r.strings()
		m.rooms = r.strings()
	default:
		return opMsg{}, fmt.Errorf("%w: unknown type %d", errBadOp, m.typ)
	}
	if r.err != nil || len(r.b) != 0 {
		return opMsg{}, errBadOp
	}
	if err := m.check(); err != nil {
		return opMsg{}, err
	}
	return m, nil
}

// check validates the fields of a decoded operation.
func (m *opMsg) check() error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", errBadOp, what) }
	if m.node == "" || len(m.node) > maxNodeIDBytes {
		return bad("node id")
	}
	if m.typ == opReply {
		switch {
		case m.target == "" || len(m.target) > maxNodeIDBytes:
			return bad("target node id")
		case m.flags&^opFlagTruncated != 0:
			return bad("flags")
		case m.code > codeOther || len(m.text) > maxErrText || (m.code == codeOK) != (m.text == ""):
			return bad("error")
		}
		for _, id := range m.ids {
			if !socketio.IsSocketID(id) {
				return bad("an answer id is no socket id")
			}
		}
		return nil
	}
	if m.ns != "" && m.ns[0] != '/' {
		return bad("namespace")
	}
	switch m.typ {
	case opJoin, opLeave:
		if m.flags != 0 || len(m.rooms) == 0 {
			return bad("flags or rooms")
		}
		for _, r := range m.rooms {
			if socketio.IsSocketID(r) {
				return fmt.Errorf("%w: %w: %q", errBadOp, socketio.ErrReservedRoom, r)
			}
		}
	case opDisconnect:
		if m.flags&^opFlagClose != 0 || len(m.rooms) != 0 {
			return bad("flags or rooms")
		}
	default: // opSocketIDs
		if m.flags != 0 || len(m.rooms) != 0 {
			return bad("flags or rooms")
		}
	}
	return nil
}

// AllRooms implements socketio.Adapter: the rooms with members on any
// node, from the room index (SSCAN, never KEYS or SCAN of the keyspace),
// after this node's pending membership writes, merged with this node's
// rooms. Beyond Config.MaxListedRooms it returns that many (sorted, which
// ones unspecified) with an error wrapping ErrTruncated. If Redis cannot
// answer it returns this node's rooms with an error wrapping
// ErrUnavailable (ErrClosed after Close).
func (a *Adapter) AllRooms(ctx context.Context) ([]string, error) {
	local, err := a.mem.AllRooms(ctx)
	if err != nil {
		return nil, err
	}
	limit := a.c.maxRooms
	seen := make(map[string]struct{}, len(local))
	for _, r := range local {
		seen[r] = struct{}{}
	}
	full := func() bool { return limit > 0 && len(seen) > limit }
	key := a.c.roomsKey(a.name)
	qerr := a.c.exec(ctx, true, func(conn redigo.Conn) error {
		for cursor := "0"; !full(); {
			if err := ctx.Err(); err != nil {
				return err
			}
			v, err := redigo.Values(conn.Do("SSCAN", key, cursor, "COUNT", 1000))
			if err != nil {
				return err
			}
			if len(v) != 2 {
				return fmt.Errorf("sioredis: unexpected SSCAN reply %v", v)
			}
			if cursor, err = redigo.String(v[0], nil); err != nil {
				return err
			}
			rooms, err := redigo.Strings(v[1], nil)
			if err != nil {
				return err
			}
			for _, r := range rooms {
				if !socketio.IsSocketID(r) { // never written; a stray entry
					seen[r] = struct{}{}
				}
			}
			if cursor == "0" {
				break
			}
		}
		return nil
	})
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	if qerr != nil {
		return local, qerr
	}
	if full() {
		return out[:limit], fmt.Errorf("%w: more than %d rooms", ErrTruncated, limit)
	}
	return out, nil
}

// RoomSize implements socketio.Adapter: one SCARD of the room's set (of
// the namespace's for room ""), after this node's pending membership
// writes. If Redis cannot answer it returns this node's count with an
// error wrapping ErrUnavailable (ErrClosed after Close).
func (a *Adapter) RoomSize(ctx context.Context, room string) (int, error) {
	local, err := a.mem.RoomSize(ctx, room)
	if err != nil {
		return 0, err
	}
	key := a.c.allKey(a.name)
	if room != "" {
		key = a.c.roomKey(a.name, room)
	}
	var n int
	qerr := a.c.exec(ctx, true, func(conn redigo.Conn) (err error) {
		n, err = redigo.Int(conn.Do("SCARD", key))
		return err
	})
	if qerr != nil {
		return local, qerr
	}
	return n, nil
}

// SocketIDs implements socketio.Adapter: this node's selected sockets and
// those the other live nodes answer with. On failure the ids gathered so
// far come with the error: ErrIncomplete (a node did not answer within
// ctx or 2 s), ErrUnavailable (Redis could not say which nodes are
// alive), ErrTruncated (a node had more than its answer carries), or
// ErrClosed.
func (a *Adapter) SocketIDs(ctx context.Context, opts socketio.BroadcastOptions) ([]string, error) {
	ids, err := a.mem.SocketIDs(ctx, opts)
	if err != nil || a.localOnly(opts) {
		return ids, err
	}
	replies, err := a.c.request(ctx, opMsg{typ: opSocketIDs, ns: a.name, opts: opts})
	truncated := false
	for _, r := range replies {
		ids = append(ids, r.ids...)
		truncated = truncated || r.flags&opFlagTruncated != 0
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if err == nil && truncated {
		err = fmt.Errorf("%w: a node had more socket ids than its answer carries", ErrTruncated)
	}
	return ids, err
}

// AddSockets implements socketio.Adapter: this node's selected sockets
// join at once (each through Socket.Join's checks, recorded as a Join),
// then every other live node's. The error joins this node's, each node's
// (errors.Is-able: socketio.ErrTooManyRooms...) and the request's (see
// SocketIDs).
func (a *Adapter) AddSockets(ctx context.Context, opts socketio.BroadcastOptions, rooms []string) error {
	local := a.mem.AddSockets(ctx, opts, rooms)
	return a.clusterOp(ctx, opMsg{typ: opJoin, ns: a.name, opts: opts, rooms: rooms}, local)
}

// DelSockets implements socketio.Adapter, as AddSockets.
func (a *Adapter) DelSockets(ctx context.Context, opts socketio.BroadcastOptions, rooms []string) error {
	local := a.mem.DelSockets(ctx, opts, rooms)
	return a.clusterOp(ctx, opMsg{typ: opLeave, ns: a.name, opts: opts, rooms: rooms}, local)
}

// DisconnectSockets implements socketio.Adapter, as AddSockets.
func (a *Adapter) DisconnectSockets(ctx context.Context, opts socketio.BroadcastOptions, close bool) error {
	local := a.mem.DisconnectSockets(ctx, opts, close)
	m := opMsg{typ: opDisconnect, ns: a.name, opts: opts}
	if close {
		m.flags = opFlagClose
	}
	return a.clusterOp(ctx, m, local)
}

// clusterOp sends a request that changes sockets to the other nodes,
// unless the local run failed on ctx or the selection is local.
func (a *Adapter) clusterOp(ctx context.Context, m opMsg, local error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if a.localOnly(m.opts) {
		return local
	}
	replies, err := a.c.request(ctx, m)
	errs := []error{local}
	for _, r := range replies {
		errs = append(errs, r.err())
	}
	return errors.Join(append(errs, err)...)
}

// err rebuilds the error of an answer.
func (m *opMsg) err() error {
	var sentinel error
	switch m.code {
	case codeOK:
		return nil
	case codeTooManyRooms:
		sentinel = socketio.ErrTooManyRooms
	case codeNameTooLong:
		sentinel = socketio.ErrRoomNameTooLong
	case codeReserved:
		sentinel = socketio.ErrReservedRoom
	default:
		return fmt.Errorf("sioredis: node %s: %s", clip(m.node), m.text)
	}
	return fmt.Errorf("%w (node %s: %s)", sentinel, clip(m.node), m.text)
}

// errorCode is the answer's code and text for err.
func errorCode(err error) (uint64, string) {
	if err == nil {
		return codeOK, ""
	}
	text := err.Error()
	if len(text) > maxErrText {
		text = text[:maxErrText]
	}
	if text == "" {
		text = "error"
	}
	switch {
	case errors.Is(err, socketio.ErrTooManyRooms):
		return codeTooManyRooms, text
	case errors.Is(err, socketio.ErrRoomNameTooLong):
		return codeNameTooLong, text
	case errors.Is(err, socketio.ErrReservedRoom):
		return codeReserved, text
	}
	return codeOther, text
}

// request publishes m to the other live nodes and waits for their
// answers: until all have answered, ctx ends, opTimeout passes or the
// cluster closes. It returns the answers that arrived.
func (c *Cluster) request(ctx context.Context, m opMsg) ([]opMsg, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	nodes, err := c.liveNodes(ctx)
	if err != nil || len(nodes) == 0 {
		return nil, err
	}
	m.node = c.node
	m.id = c.opSeq.Add(1)
	msg := encodeOp(m)
	if len(msg) > maxOpBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrOpTooLarge, len(msg), maxOpBytes)
	}
	ch := make(chan opMsg, len(nodes))
	c.omu.Lock()
	c.pending[m.id] = ch
	c.omu.Unlock()
	defer func() {
		c.omu.Lock()
		delete(c.pending, m.id)
		c.omu.Unlock()
	}()
	// Through the publisher: behind this node's earlier broadcasts.
	c.publish(msg)
	want := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		want[n] = true
	}
	missing := func() string {
		ns := make([]string, 0, len(want))
		for n := range want {
			ns = append(ns, clip(n))
		}
		sort.Strings(ns)
		return strings.Join(ns, ", ")
	}
	t := time.NewTimer(opTimeout)
	defer t.Stop()
	var replies []opMsg
	for len(want) > 0 {
		select {
		case r := <-ch:
			if want[r.node] {
				delete(want, r.node)
				replies = append(replies, r)
			}
		case <-ctx.Done():
			return replies, fmt.Errorf("%w: %w (no answer from %s)", ErrIncomplete, ctx.Err(), missing())
		case <-t.C:
			return replies, fmt.Errorf("%w: no answer within %v from %s", ErrIncomplete, opTimeout, missing())
		case <-c.ctx.Done():
			return replies, ErrClosed
		}
	}
	return replies, nil
}

// liveNodes returns the other nodes whose liveness key exists.
func (c *Cluster) liveNodes(ctx context.Context) ([]string, error) {
	var live []string
	err := c.exec(ctx, false, func(conn redigo.Conn) error {
		nodes, err := redigo.Strings(conn.Do("SMEMBERS", c.nodesKey()))
		if err != nil {
			return err
		}
		nodes = slices.DeleteFunc(nodes, func(n string) bool { return n == c.node })
		for _, n := range nodes {
			if err := conn.Send("EXISTS", c.aliveKey(n)); err != nil {
				return err
			}
		}
		if err := conn.Flush(); err != nil {
			return err
		}
		for _, n := range nodes {
			ok, err := redigo.Bool(conn.Receive())
			if err != nil {
				return err
			}
			if ok {
				live = append(live, n)
			}
		}
		return nil
	})
	return live, err
}

// handleOp handles an operation message from the channel: a request of
// another node is run on this node's sockets and answered; an answer for
// this node goes to the request waiting for it. Malformed messages are
// dropped and counted (Stats.Malformed).
func (c *Cluster) handleOp(data []byte) {
	m, err := decodeOp(data)
	if err != nil {
		c.stats.malformed.Add(1)
		c.warn.warn("malformed-op", "sioredis: dropping a malformed room operation", "bytes", len(data), "err", err)
		return
	}
	if m.node == c.node {
		return // run locally before it was published
	}
	if m.typ == opReply {
		if m.target != c.node {
			return
		}
		c.omu.Lock()
		ch := c.pending[m.id]
		c.omu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default: // a duplicate: the request has room for one answer per node
			}
		}
		return
	}
	c.publish(encodeOp(c.apply(m)))
}

// apply runs a request of another node on this node's sockets of the
// namespace (none if it has no such namespace) and returns the answer.
func (c *Cluster) apply(m opMsg) opMsg {
	reply := opMsg{typ: opReply, id: m.id, node: c.node, target: m.node}
	var first error
	for _, a := range c.adaptersOf(m.ns) {
		var err error
		switch m.typ {
		case opSocketIDs:
			var ids []string
			ids, err = a.mem.SocketIDs(c.ctx, m.opts)
			reply.ids = append(reply.ids, ids...)
		case opJoin:
			err = a.mem.AddSockets(c.ctx, m.opts, m.rooms)
		case opLeave:
			err = a.mem.DelSockets(c.ctx, m.opts, m.rooms)
		case opDisconnect:
			err = a.mem.DisconnectSockets(c.ctx, m.opts, m.flags&opFlagClose != 0)
		}
		if first == nil {
			first = err
		}
	}
	reply.code, reply.text = errorCode(first)
	// Keep the answer within maxOpBytes: the ids that do not fit are
	// left out and the answer says so.
	budget := maxOpBytes - 3 - 4*binary.MaxVarintLen64 - len(reply.node) - len(reply.target) - len(reply.text)
	for i, id := range reply.ids {
		if budget -= binary.MaxVarintLen64 + len(id); budget < 0 {
			reply.ids = reply.ids[:i]
			reply.flags |= opFlagTruncated
			break
		}
	}
	return reply
}

// FetchSockets implements socketio.Adapter. CONTRACT: to be implemented
// (session 6, #17).
func (a *Adapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]socketio.SocketInfo, error) {
	return nil, socketio.ErrNotImplemented
}

// BroadcastWithAck implements socketio.Adapter. CONTRACT: to be
// implemented (session 6, #17).
func (a *Adapter) BroadcastWithAck(ctx context.Context, m *socketio.Message, opts socketio.BroadcastOptions) (socketio.AckResult, error) {
	return socketio.AckResult{}, socketio.ErrNotImplemented
}

// ServerEmit implements socketio.Adapter. CONTRACT: to be implemented
// (session 6, #17).
func (a *Adapter) ServerEmit(ctx context.Context, event string, args []json.RawMessage) error {
	return socketio.ErrNotImplemented
}
