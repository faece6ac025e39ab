package sioredis

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
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
//	type    (1 byte: opSocketIDs... opAckReply below)
//	flags   (1 byte: opFlagClose for opDisconnect, opFlagTruncated for
//	        an answer, the reasons of the missing or opFlagPartial for
//	        opAckReply)
//	request id: uvarint (per requesting node)
//	node id (the sender): uvarint length + bytes
//	a request (opSocketIDs, opJoin, opLeave, opDisconnect, opFetch):
//	        namespace; selected rooms, excepted ids, rooms to join or
//	        leave (string lists: uvarint count, then each string)
//	opAck:  the receivers' time in ms (uvarint), then the broadcast as
//	        one string: a broadcast message of message.go (its node id
//	        the sender's, its selection the request's)
//	opServerEvent: namespace, event name, arguments (uvarint count,
//	        then each JSON value as a string)
//	an answer: requester's node id; error code (uvarint) and text; then
//	        opReply:      ids (a string list)
//	        opFetchReply: uvarint count, then per socket its id, rooms
//	                      (a string list) and user JSON ("" for none)
//	        opAckReply:   uvarint count, then per ack the socket's id and
//	                      the ack's arguments (as opServerEvent's); then
//	                      the ids that did not answer (a string list)
//
// Requests and server events travel on the broadcast channel, behind the
// sender's broadcasts, and so do the answers.
const opVersion = 0x81

// Operation types.
const (
	opSocketIDs byte = 1 + iota
	opJoin
	opLeave
	opDisconnect
	opReply
	opFetch       // FetchSockets: answered with opFetchReply
	opAck         // BroadcastWithAck: answered with opAckReply
	opServerEvent // ServerEmit: not answered
	opFetchReply
	opAckReply
)

const (
	// opFlagClose asks opDisconnect to close the sockets' sessions.
	opFlagClose = 1
	// opFlagTruncated says an answer left ids, sockets or acks out (see
	// maxOpBytes).
	opFlagTruncated = 1
	// Why the sockets an opAckReply lists as missing did not answer
	// (socketio.Selection.EmitWithAck): they disconnected, their session
	// did not take the event, they waited for too many acks, the time
	// was up.
	opFlagGone     = 2
	opFlagUnsent   = 4
	opFlagTooMany  = 8
	opFlagDeadline = 16
	opAckReasons   = opFlagGone | opFlagUnsent | opFlagTooMany | opFlagDeadline
	// opFlagPartial marks an opAckReply that carries acks as they came
	// in, ahead of the node's last answer (which has no such flag): it
	// lists no missing socket and no error.
	opFlagPartial = 32
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

	msg  *socketio.Message // opAck: the broadcast (its Namespace is ns)
	wait uint64            // opAck: the receivers' time, in ms

	event string            // opServerEvent: the event's name
	args  []json.RawMessage // opServerEvent: its arguments

	target  string                // answer: the requesting node
	code    uint64                // answer: codeOK or the error's code
	text    string                // answer: the error's text
	ids     []string              // opReply: the socket ids
	sockets []socketio.SocketInfo // opFetchReply: the sockets (Node left empty)
	acks    []socketio.SocketAck  // opAckReply: the acks
	missing []string              // opAckReply: the ids that did not answer
}

// isReply tells the answers from the requests.
func isReply(typ byte) bool { return typ == opReply || typ == opFetchReply || typ == opAckReply }

// isOp tells an operation message from a broadcast.
func isOp(b []byte) bool { return len(b) > 0 && b[0] == opVersion }

func encodeOp(m opMsg) []byte {
	n := 3 + 4*binary.MaxVarintLen64 + len(m.node) + len(m.ns) + len(m.target) + len(m.text) + len(m.event)
	for _, l := range [][]string{m.opts.Rooms, m.opts.Except, m.rooms, m.ids, m.missing} {
		n += sizeStrings(l)
	}
	n += sizeRaws(m.args)
	for _, si := range m.sockets {
		n += 2*binary.MaxVarintLen64 + len(si.ID) + len(si.User) + sizeStrings(si.Rooms)
	}
	for _, a := range m.acks {
		n += binary.MaxVarintLen64 + len(a.ID) + sizeRaws(a.Args)
	}
	var inner []byte
	if m.typ == opAck && m.msg != nil {
		inner = encodeMessage(m.node, m.opts, m.msg)
		n += len(inner)
	}
	b := make([]byte, 0, n)
	b = append(b, opVersion, m.typ, m.flags)
	b = binary.AppendUvarint(b, m.id)
	b = appendString(b, m.node)
	switch {
	case isReply(m.typ):
		b = appendString(b, m.target)
		b = binary.AppendUvarint(b, m.code)
		b = appendString(b, m.text)
		switch m.typ {
		case opFetchReply:
			b = binary.AppendUvarint(b, uint64(len(m.sockets)))
			for _, si := range m.sockets {
				b = appendString(b, si.ID)
				b = appendStrings(b, si.Rooms)
				b = appendString(b, string(si.User))
			}
			return b
		case opAckReply:
			b = binary.AppendUvarint(b, uint64(len(m.acks)))
			for _, a := range m.acks {
				b = appendString(b, a.ID)
				b = appendRaws(b, a.Args)
			}
			return appendStrings(b, m.missing)
		}
		return appendStrings(b, m.ids)
	case m.typ == opAck:
		b = binary.AppendUvarint(b, m.wait)
		b = binary.AppendUvarint(b, uint64(len(inner)))
		return append(b, inner...)
	case m.typ == opServerEvent:
		b = appendString(b, m.ns)
		b = appendString(b, m.event)
		return appendRaws(b, m.args)
	}
	b = appendString(b, m.ns)
	b = appendStrings(b, m.opts.Rooms)
	b = appendStrings(b, m.opts.Except)
	return appendStrings(b, m.rooms)
}

// sizeStrings and sizeRaws bound the encoded size of a list.
func sizeStrings(l []string) int {
	n := binary.MaxVarintLen64
	for _, s := range l {
		n += binary.MaxVarintLen64 + len(s)
	}
	return n
}

func sizeRaws(l []json.RawMessage) int {
	n := binary.MaxVarintLen64
	for _, a := range l {
		n += binary.MaxVarintLen64 + len(a)
	}
	return n
}

// appendRaws appends a count and as many byte strings (reader.raws).
func appendRaws(b []byte, l []json.RawMessage) []byte {
	b = binary.AppendUvarint(b, uint64(len(l)))
	for _, a := range l {
		b = binary.AppendUvarint(b, uint64(len(a)))
		b = append(b, a...)
	}
	return b
}

// decodeOp decodes and checks an operation message. It never panics.
// Larger than maxOpBytes is ErrOpTooLarge; a room to join or leave of
// the socket-id format wraps socketio.ErrReservedRoom (no node makes
// such a request: a socket may never be put into another's private room,
// nor out of its own); anything else malformed is errBadOp. The
// arguments of an opAck, opServerEvent or opAckReply alias b.
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
	case opReply, opFetchReply, opAckReply:
		m.target = r.string()
		m.code = r.uvarint()
		m.text = r.string()
		switch m.typ {
		case opReply:
			m.ids = r.strings()
		case opFetchReply:
			m.sockets = r.sockets()
		default:
			m.acks = r.acks()
			m.missing = r.strings()
		}
	case opSocketIDs, opJoin, opLeave, opDisconnect, opFetch:
		m.ns = r.string()
		m.opts.Rooms = r.strings()
		m.opts.Except = r.strings()
		m.rooms = r.strings()
	case opAck:
		m.wait = r.uvarint()
		inner := r.bytes()
		if r.err != nil || len(r.b) != 0 {
			return opMsg{}, errBadOp
		}
		bm, err := decodeMessage(inner)
		if err != nil {
			return opMsg{}, fmt.Errorf("%w: the broadcast: %w", errBadOp, err)
		}
		if bm.node != m.node {
			return opMsg{}, fmt.Errorf("%w: the broadcast names another node", errBadOp)
		}
		m.ns, m.opts, m.msg = bm.msg.Namespace, bm.opts, bm.msg
	case opServerEvent:
		m.ns = r.string()
		m.event = r.string()
		m.args = r.raws()
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

// bytes reads a length and as many bytes, aliasing the input.
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)) {
		r.err = errBadMessage
	}
	if r.err != nil {
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// sockets reads the sockets of an opFetchReply.
func (r *reader) sockets() []socketio.SocketInfo {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	// Every socket takes at least three bytes.
	if n > uint64(len(r.b))/3 {
		r.err = errBadMessage
		return nil
	}
	out := make([]socketio.SocketInfo, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		si := socketio.SocketInfo{ID: r.string(), Rooms: r.strings()}
		if u := r.bytes(); len(u) > 0 {
			si.User = json.RawMessage(u)
		}
		out = append(out, si)
	}
	return out
}

// acks reads the acks of an opAckReply.
func (r *reader) acks() []socketio.SocketAck {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	// Every ack takes at least two bytes.
	if n > uint64(len(r.b))/2 {
		r.err = errBadMessage
		return nil
	}
	out := make([]socketio.SocketAck, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		out = append(out, socketio.SocketAck{ID: r.string(), Args: r.raws()})
	}
	return out
}

// check validates the fields of a decoded operation.
func (m *opMsg) check() error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", errBadOp, what) }
	if m.node == "" || len(m.node) > maxNodeIDBytes {
		return bad("node id")
	}
	if isReply(m.typ) {
		switch {
		case m.target == "" || len(m.target) > maxNodeIDBytes:
			return bad("target node id")
		case m.flags&^opFlagTruncated != 0 && (m.typ != opAckReply || m.flags&^(opFlagTruncated|opAckReasons|opFlagPartial) != 0):
			return bad("flags")
		case m.flags&opFlagPartial != 0 && (m.flags != opFlagPartial || len(m.missing) > 0 || m.code != codeOK):
			return bad("a partial answer with missing sockets, reasons or an error")
		case m.typ == opAckReply && (m.flags&opAckReasons != 0) != (len(m.missing) > 0) && m.flags&opFlagTruncated == 0:
			return bad("reasons without missing sockets, or missing sockets without a reason")
		case m.code > codeOther || len(m.text) > maxErrText || (m.code == codeOK) != (m.text == ""):
			return bad("error")
		}
		return m.checkAnswer()
	}
	if m.ns != "" && m.ns[0] != '/' {
		return bad("namespace")
	}
	switch m.typ {
	case opJoin, opLeave:
		if m.flags != 0 || len(m.rooms) == 0 {
			return bad("flags or rooms")
		}
		if err := reservedRoom(m.rooms); err != nil {
			return fmt.Errorf("%w: %w", errBadOp, err)
		}
	case opDisconnect:
		if m.flags&^opFlagClose != 0 || len(m.rooms) != 0 {
			return bad("flags or rooms")
		}
	case opAck:
		if m.flags != 0 {
			return bad("flags")
		}
		if m.wait == 0 || m.wait > uint64(maxAckWait/time.Millisecond) {
			return bad("the receivers' time")
		}
		if m.msg.Kind != socketio.MessageEvent {
			return bad("a broadcast with acks that is no event")
		}
		if err := checkMessage(m.msg); err != nil {
			return fmt.Errorf("%w: %w", errBadOp, err)
		}
	case opServerEvent:
		if m.flags != 0 || m.id != 0 {
			return bad("flags or request id")
		}
		if err := checkServerEvent(m.ns, m.event, m.args); err != nil {
			return fmt.Errorf("%w: %w", errBadOp, err)
		}
	default: // opSocketIDs, opFetch
		if m.flags != 0 || len(m.rooms) != 0 {
			return bad("flags or rooms")
		}
	}
	return nil
}

// checkAnswer validates what an answer carries: socket ids where ids
// belong, each socket at most once, rooms that are no socket's own-id
// room, JSON where JSON belongs.
func (m *opMsg) checkAnswer() error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", errBadOp, what) }
	var seen map[string]struct{}
	once := func(id string) bool {
		if seen == nil {
			seen = make(map[string]struct{})
		}
		if _, dup := seen[id]; dup {
			return false
		}
		seen[id] = struct{}{}
		return true
	}
	for _, id := range m.ids {
		if !socketio.IsSocketID(id) {
			return bad("an answer id is no socket id")
		}
	}
	for _, si := range m.sockets {
		if !socketio.IsSocketID(si.ID) || !once(si.ID) {
			return bad("a socket's id is no socket id, or repeated")
		}
		for _, r := range si.Rooms {
			if socketio.IsSocketID(r) {
				return bad("a socket's room is a socket id")
			}
		}
		if si.User != nil && !json.Valid(si.User) {
			return bad("a socket's user is not JSON")
		}
	}
	for _, a := range m.acks {
		if !socketio.IsSocketID(a.ID) || !once(a.ID) {
			return bad("an ack's id is no socket id, or repeated")
		}
		for _, v := range a.Args {
			if !json.Valid(v) {
				return bad("an ack's argument is not JSON")
			}
		}
	}
	for _, id := range m.missing {
		if !socketio.IsSocketID(id) || !once(id) {
			return bad("a missing id is no socket id, or repeated")
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
	call, err := c.send(ctx, m)
	if err != nil || call == nil {
		return nil, err
	}
	return call.wait(ctx, opTimeout)
}

// call is a request published to the other live nodes, waiting for their
// answers.
type call struct {
	c     *Cluster
	id    uint64
	reply byte // the type of answer expected
	nodes []string
	ch    chan opMsg // the last answer of each node
	// silent, once wait returned ErrIncomplete, are the nodes that did not
	// answer, sorted.
	silent []string

	// pmu guards partials, partialBytes and over: the partial answers
	// (opFlagPartial) of a broadcast with acks, which the subscriber
	// appends while wait runs and wait takes when it returns.
	pmu          sync.Mutex
	partials     []opMsg
	partialBytes int
	over         bool
}

// maxPartialBytes bounds the acks of the partial answers one request
// gathers (beyond, they are dropped and counted as malformed): a node
// answers its receivers' acks as they come, and no broadcast has that
// many receivers' acks to carry.
const maxPartialBytes = 64 << 20

// deliver hands an answer to the call: the last answer of its node to
// wait, a partial one to the partials.
func (cl *call) deliver(m opMsg, size int) {
	if m.flags&opFlagPartial == 0 {
		select {
		case cl.ch <- m:
		default: // a duplicate: the request has room for one answer per node
		}
		return
	}
	cl.pmu.Lock()
	defer cl.pmu.Unlock()
	switch {
	case cl.over:
	case m.typ != cl.reply || !slices.Contains(cl.nodes, m.node) || cl.partialBytes+size > maxPartialBytes:
		cl.c.stats.malformed.Add(1)
		cl.c.warn.warn("malformed-op", "sioredis: dropping a partial answer that was not asked for, or too many",
			"from", clip(m.node), "bytes", size)
	default:
		cl.partials = append(cl.partials, m)
		cl.partialBytes += size
	}
}

// takePartials ends the gathering of partial answers and returns them.
func (cl *call) takePartials() []opMsg {
	cl.pmu.Lock()
	defer cl.pmu.Unlock()
	cl.over = true
	return cl.partials
}

// encodeRequest gives m this node's id and a new request id and encodes
// it (encodeBounded).
func (c *Cluster) encodeRequest(m *opMsg) ([]byte, error) {
	m.node = c.node
	m.id = c.opSeq.Add(1)
	return encodeBounded(*m)
}

// encodeBounded encodes an operation to publish: larger than maxOpBytes
// (which every node refuses) is ErrOpTooLarge.
func encodeBounded(m opMsg) ([]byte, error) {
	b := encodeOp(m)
	if len(b) > maxOpBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrOpTooLarge, len(b), maxOpBytes)
	}
	return b, nil
}

// reservedRoom refuses rooms to join or leave of the socket-id format
// (socketio.ErrReservedRoom): a socket may never be put into another's
// private room, nor out of its own.
func reservedRoom(rooms []string) error {
	for _, r := range rooms {
		if socketio.IsSocketID(r) {
			return fmt.Errorf("%w: %q", socketio.ErrReservedRoom, r)
		}
	}
	return nil
}

// checkServerEvent checks a server event of namespace ns as a server's
// emit is checked (socketio.Message.Validate).
func checkServerEvent(ns, event string, args []json.RawMessage) error {
	ev := &socketio.Message{Kind: socketio.MessageEvent, Namespace: ns, Event: event, Args: args}
	return ev.Validate()
}

// send publishes m to the other live nodes; with none, it returns a nil
// call.
func (c *Cluster) send(ctx context.Context, m opMsg) (*call, error) {
	msg, err := c.encodeRequest(&m)
	if err != nil {
		return nil, err
	}
	return c.sendEncoded(ctx, m, msg)
}

// sendEncoded publishes m, encoded by encodeRequest as msg.
func (c *Cluster) sendEncoded(ctx context.Context, m opMsg, msg []byte) (*call, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	nodes, err := c.liveNodes(ctx)
	if err != nil || len(nodes) == 0 {
		return nil, err
	}
	reply := opReply
	switch m.typ {
	case opFetch:
		reply = opFetchReply
	case opAck:
		reply = opAckReply
	}
	cl := &call{c: c, id: m.id, reply: reply, nodes: nodes, ch: make(chan opMsg, len(nodes))}
	c.omu.Lock()
	c.pending[m.id] = cl
	c.omu.Unlock()
	// Through the publisher: behind this node's earlier broadcasts.
	c.publish(msg)
	return cl, nil
}

// wait collects the answers: until every node has answered, ctx ends,
// timeout passes (none if zero) or the cluster closes. It returns the
// answers that arrived; the call is over.
func (cl *call) wait(ctx context.Context, timeout time.Duration) (replies []opMsg, err error) {
	c := cl.c
	defer func() {
		c.omu.Lock()
		delete(c.pending, cl.id)
		c.omu.Unlock()
	}()
	defer func() { replies = append(replies, cl.takePartials()...) }()
	want := make(map[string]bool, len(cl.nodes))
	for _, n := range cl.nodes {
		want[n] = true
	}
	missing := func() string {
		cl.silent = slices.Sorted(maps.Keys(want))
		ns := make([]string, len(cl.silent))
		for i, n := range cl.silent {
			ns[i] = clip(n)
		}
		return strings.Join(ns, ", ")
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for len(want) > 0 {
		select {
		case r := <-cl.ch:
			if r.typ != cl.reply {
				c.stats.malformed.Add(1)
				c.warn.warn("malformed-op", "sioredis: dropping an answer of the wrong type",
					"from", clip(r.node), "type", r.typ, "want", cl.reply)
				continue
			}
			if want[r.node] {
				delete(want, r.node)
				replies = append(replies, r)
			}
		case <-ctx.Done():
			return replies, fmt.Errorf("%w: %w (no answer from %s)", ErrIncomplete, ctx.Err(), missing())
		case <-expired:
			return replies, fmt.Errorf("%w: no answer within %v from %s", ErrIncomplete, timeout, missing())
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
		live = live[:0] // exec may run this twice
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

// handleOp handles an operation message from a channel: a request of
// another node is run on this node's sockets and answered; an answer for
// this node goes to the request waiting for it; a server event goes to
// the namespace's handler. Malformed messages are dropped and counted
// (Stats.Malformed).
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
	switch m.typ {
	case opReply, opFetchReply, opAckReply:
		c.answered(m, len(data))
	case opServerEvent:
		for _, a := range c.adaptersOf(m.ns) {
			a.ns.ReceiveServerEvent(m.event, m.args)
		}
	case opAck:
		c.startAck(m) // ackops.go: it waits for the acks
	default:
		// Off the reader: a join of the operation may wait for the
		// confirmation of its subscription, which this reader reads.
		select {
		case c.applyq <- m:
		case <-c.ctx.Done():
		}
	}
}

// applyLoop runs the other nodes' room operations one at a time, in the
// order they arrived, and answers each once it is done: the answer to a
// join follows the confirmation of the subscriptions it added (see
// Adapter.Join), so the node that asked receives it once the sockets
// receive the rooms' broadcasts.
func (c *Cluster) applyLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case m := <-c.applyq:
			reply := c.apply(m)
			if m.id != 0 {
				c.reply(reply)
			} // else an Emitter's: no one waits for an answer
		}
	}
}

// answered hands an answer for this node, of size bytes, to the request
// waiting for it.
func (c *Cluster) answered(m opMsg, size int) {
	if m.target != c.node {
		return
	}
	c.omu.Lock()
	cl := c.pending[m.id]
	c.omu.Unlock()
	if cl != nil {
		cl.deliver(m, size)
	}
}

// apply runs a request of another node on this node's sockets of the
// namespace (none if it has no such namespace) and returns the answer.
func (c *Cluster) apply(m opMsg) opMsg {
	reply := opMsg{typ: opReply, id: m.id, node: c.node, target: m.node}
	if m.typ == opFetch {
		reply.typ = opFetchReply
	}
	var first error
	for _, a := range c.adaptersOf(m.ns) {
		var err error
		switch m.typ {
		case opSocketIDs:
			var ids []string
			ids, err = a.mem.SocketIDs(c.ctx, m.opts)
			reply.ids = append(reply.ids, ids...)
		case opFetch:
			var sockets []socketio.SocketInfo
			sockets, err = a.mem.FetchSockets(c.ctx, m.opts)
			reply.sockets = append(reply.sockets, sockets...)
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
	// Keep the answer within maxOpBytes: the ids or sockets that do not
	// fit are left out and the answer says so.
	budget := replyBudget(reply)
	for i, id := range reply.ids {
		if budget -= binary.MaxVarintLen64 + len(id); budget < 0 {
			reply.ids = reply.ids[:i]
			reply.flags |= opFlagTruncated
			break
		}
	}
	return fitSockets(reply, budget)
}

// fitSockets keeps the sockets of an answer within budget bytes: those
// that do not fit are left out and the answer says so.
func fitSockets(reply opMsg, budget int) opMsg {
	for i, si := range reply.sockets {
		si.Node = "" // the answer's sender
		reply.sockets[i] = si
		if budget -= 2*binary.MaxVarintLen64 + len(si.ID) + len(si.User) + sizeStrings(si.Rooms); budget < 0 {
			reply.sockets = reply.sockets[:i]
			reply.flags |= opFlagTruncated
			break
		}
	}
	return reply
}

// replyBudget is what an answer may carry besides its header, within
// maxOpBytes.
func replyBudget(reply opMsg) int {
	return maxOpBytes - 3 - 6*binary.MaxVarintLen64 - len(reply.node) - len(reply.target) - len(reply.text)
}
