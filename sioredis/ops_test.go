package sioredis

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/socketio"
)

func nsRooms(n *node, ns string) func() ([]string, error) {
	return func() ([]string, error) { return n.srv.Of(ns).Rooms(context.Background()) }
}

func roomSize(n *node, ns, room string) func() (int, error) {
	return func() (int, error) { return n.srv.Of(ns).RoomSize(context.Background(), room) }
}

// waitClosed waits until the server has closed the client's connection,
// skipping the frames before.
func (c *client) waitClosed() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitFor):
		c.t.Fatalf("client %s: connection not closed within %v", c.sid, waitFor)
	}
}

// Namespace.Rooms and RoomSize see the rooms of every node, keep up with
// leaves and disconnects, and never list the sockets' own-id rooms.
func TestRoomsAndRoomSizeAcrossNodes(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	a, b, c := n1.dial(), n2.dial(), n2.dial()
	a.join("", "x")
	a.join("", "shared")
	b.join("", "y")
	b.join("", "shared")
	c.join("", "z")
	for _, n := range []*node{n1, n2} {
		eventuallyEqual(t, []string{"shared", "x", "y", "z"}, nsRooms(n, ""), "seen from %s", n.name)
		eventuallyEqual(t, 2, roomSize(n, "", "shared"), "seen from %s", n.name)
	}
	eventuallyEqual(t, 3, roomSize(n1, "", ""), "the whole namespace")
	eventuallyEqual(t, 1, roomSize(n1, "", b.sid), "a socket's own room")
	eventuallyEqual(t, 0, roomSize(n1, "", "nobody"))
	eventuallyEqual(t, []string{}, nsRooms(n1, "/chat"), "another namespace")

	require.Equal(t, "[true]", b.call("", "leave", "y"))
	eventuallyEqual(t, []string{"shared", "x", "z"}, nsRooms(n1, ""), "a room left empty is forgotten")
	c.close()
	eventuallyEqual(t, []string{"shared", "x"}, nsRooms(n1, ""), "a disconnected socket's rooms")
	eventuallyEqual(t, 2, roomSize(n1, "", ""), "c is gone")

	// A crashed node's rooms go with its sockets when it is swept.
	d := n2.dial()
	d.join("", "crash")
	eventuallyEqual(t, []string{"crash", "shared", "x"}, nsRooms(n1, ""))
	require.NoError(t, n2.cluster.shutdown(false))
	eventuallyEqual(t, []string{"shared", "x"}, nsRooms(n1, ""), "the sweep forgot the room of n2 alone")

	index, err := redigo.Strings(r.do("SMEMBERS", "{test:0:}:rooms"))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"shared", "x"}, index, "the room index holds no own-id room")
}

// Rooms reads the room index with SSCAN (never KEYS or SCAN over the
// keyspace) and stops at MaxListedRooms; RoomSize is a SCARD, never a
// listing of the set.
func TestRoomListingIsBoundedAndCheap(t *testing.T) {
	r := startRedis(t)
	// A long TTL keeps the liveness loop (whose sweep reads the node set
	// with SMEMBERS) out of the command counts below.
	const ttl = 60 * time.Second
	limited := nodeOpts{ttl: ttl, cfg: func(c *Config) { c.MaxListedRooms = 5 }}
	n1, n2 := newNode(t, r, "n1", limited), newNode(t, r, "n2", nodeOpts{ttl: ttl})
	a, b := n1.dial(), n2.dial()
	s := n1.srv.Of("").Socket(a.sid)
	for i := range 4 {
		require.NoError(t, s.Join("a"+strconv.Itoa(i)))
	}
	for i := range 3 {
		b.join("", "b"+strconv.Itoa(i))
	}
	eventuallyEqual(t, 7, func() (int, error) {
		rooms, err := n2.srv.Of("").Rooms(context.Background())
		return len(rooms), err
	}, "n2 lists them all (default limit)")

	_, err := r.do("CONFIG", "RESETSTAT")
	require.NoError(t, err)
	rooms, err := n1.srv.Of("").Rooms(context.Background())
	require.ErrorIs(t, err, ErrTruncated)
	assert.Len(t, rooms, 5)
	assert.IsIncreasing(t, rooms)
	n, err := n1.srv.Of("").RoomSize(context.Background(), "b1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	stats, err := redigo.String(r.do("INFO", "commandstats"))
	require.NoError(t, err)
	assert.Contains(t, stats, "cmdstat_sscan:")
	assert.Contains(t, stats, "cmdstat_scard:")
	for _, cmd := range []string{"cmdstat_keys:", "cmdstat_scan:", "cmdstat_smembers:"} {
		assert.NotContains(t, stats, cmd)
	}

	r.kill()
	rooms, err = n1.srv.Of("").Rooms(context.Background())
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, []string{"a0", "a1", "a2", "a3"}, rooms, "this node's rooms while Redis is down")
	n, err = n1.srv.Of("").RoomSize(context.Background(), "a1")
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, 1, n, "this node's count while Redis is down")
}

// The room operations of a selection made on one node reach the sockets
// of the others: ids fetched, rooms joined and left (with the reserved
// rooms and room limits enforced on every node), sockets disconnected.
func TestSelectionOpsAcrossNodes(t *testing.T) { onBoth(t, testSelectionOpsAcrossNodes) }

func testSelectionOpsAcrossNodes(t *testing.T, be backend) {
	ctx := context.Background()
	n1 := be.node("n1", nodeOpts{})
	n2 := be.node("n2", nodeOpts{srv: func(c *socketio.Config) { c.MaxRoomsPerSocket = 3 }})
	a, b, c := n1.dial(), n2.dial(), n2.dial()
	for _, x := range []*client{a, b, c} {
		x.join("", "lobby")
	}
	ns := n1.srv.Of("")

	got, err := ns.To("lobby").SocketIDs(ctx)
	require.NoError(t, err)
	assert.Equal(t, ids(a, b, c), got)
	got, err = ns.Except(b.sid).SocketIDs(ctx)
	require.NoError(t, err)
	assert.Equal(t, ids(a, c), got)
	got, err = ns.To(c.sid).SocketIDs(ctx)
	require.NoError(t, err)
	assert.Equal(t, ids(c), got)
	got, err = n1.srv.Of("/chat").Except().SocketIDs(ctx)
	require.NoError(t, err)
	assert.Empty(t, got, "nobody in /chat")
	const rounds = 50
	start := time.Now()
	for range rounds {
		_, err := ns.To("lobby").SocketIDs(ctx)
		require.NoError(t, err)
	}
	t.Logf("SocketIDs across two nodes: %v per call (liveness read, request, answer)", time.Since(start)/rounds)

	require.NoError(t, ns.To("lobby").Join(ctx, "game"))
	a.emit("", "to-room", "game", "hi")
	for _, x := range []*client{a, b, c} {
		x.expectMsg("", "hi")
	}
	eventuallyEqual(t, ids(a, b, c), clients(n1, "", "game"), "recorded in Redis")

	require.NoError(t, ns.To("game").Except(c.sid).Leave(ctx, "game"))
	a.emit("", "to-room", "game", "c only")
	c.expectMsg("", "c only")
	a.expectNothing()
	b.expectNothing()

	assert.ErrorIs(t, ns.Except().Join(ctx, "fine", b.sid), socketio.ErrReservedRoom)
	assert.ErrorIs(t, ns.Except().Leave(ctx, c.sid), socketio.ErrReservedRoom)
	got, err = ns.To("fine").SocketIDs(ctx)
	require.NoError(t, err)
	assert.Empty(t, got, "a refused Join joins nobody on any node")
	assert.Zero(t, n2.cluster.Stats().Malformed, "refused before any request is sent")

	// c is in lobby and game; two more rooms take it past n2's limit of 3.
	err = ns.To("lobby").Join(ctx, "r1", "r2")
	require.ErrorIs(t, err, socketio.ErrTooManyRooms, "n2's answer")
	assert.Contains(t, err.Error(), "node n2")
	got, err = ns.To("r1").SocketIDs(ctx)
	require.NoError(t, err)
	assert.Equal(t, ids(a, b), got, "c joined none of them, the others all")

	b.connectNS("/chat")
	require.NoError(t, n1.srv.Of("/chat").Except().Disconnect(ctx, false))
	require.Equal(t, "0::/chat", b.next(), "told it left /chat")
	a.emit("", "to-room", b.sid, "still here")
	b.expectMsg("", "still here")

	require.NoError(t, ns.To(c.sid).Disconnect(ctx, true))
	c.waitClosed()
	eventuallyEqual(t, ids(a, b), clients(n1, "", ""))
	got, err = ns.Except().SocketIDs(ctx)
	require.NoError(t, err)
	assert.Equal(t, ids(a, b), got)
}

// A node that is alive in Redis but does not answer makes a selection op
// return what the others answered, with ErrIncomplete naming it, once the
// context ends — or after 2 s without a deadline.
func TestSelectionOpWithASilentNode(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	a, b := n1.dial(), n2.dial()
	_, err := r.do("SADD", "test:nodes", "ghost")
	require.NoError(t, err)
	_, err = r.do("SET", "{test:node:ghost}:alive", "", "PX", 60000)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	got, err := n1.srv.Of("").Except().SocketIDs(ctx)
	require.ErrorIs(t, err, ErrIncomplete)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "ghost")
	assert.Equal(t, ids(a, b), got, "n1's and n2's sockets")

	start := time.Now()
	err = n1.srv.Of("").Except().Join(context.Background(), "anyway")
	took := time.Since(start)
	require.ErrorIs(t, err, ErrIncomplete)
	assert.GreaterOrEqual(t, took, opTimeout)
	assert.Less(t, took, opTimeout+3*time.Second)
	eventuallyEqual(t, ids(a, b), clients(n2, "", "anyway"), "the nodes that answered did it")

	_, err = r.do("DEL", "{test:node:ghost}:alive")
	require.NoError(t, err)
	got, err = n1.srv.Of("").Except().SocketIDs(context.Background())
	require.NoError(t, err, "a node whose liveness key is gone is not waited for")
	assert.Equal(t, ids(a, b), got)

	require.NoError(t, n1.cluster.Close())
	got, err = n1.srv.Of("").Except().SocketIDs(context.Background())
	require.ErrorIs(t, err, ErrClosed)
	assert.Equal(t, ids(a), got, "after Close: this node's sockets")
}

// Room operations on the channel are decoded and checked before anything
// is done: a Join of a socket-id room, a Leave of one, an oversized or
// malformed message are dropped and counted; a good one is carried out.
func TestForgedRoomOperationsDropped(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	_ = n1
	b, v := n2.dial(), n2.dial()
	sel := socketio.BroadcastOptions{Rooms: []string{b.sid}}
	bad := [][]byte{
		{opVersion},
		{opVersion, 99, 0, 1, 1, 'x'},
		encodeOp(opMsg{typ: opJoin, node: "evil", opts: sel, rooms: []string{v.sid}}),
		encodeOp(opMsg{typ: opLeave, node: "evil", opts: sel, rooms: []string{b.sid}}),
		encodeOp(opMsg{typ: opJoin, node: "evil", opts: sel}),
		encodeOp(opMsg{typ: opDisconnect, flags: 0x80, node: "evil", opts: sel}),
		encodeOp(opMsg{typ: opSocketIDs, node: "", opts: sel}),
		append(encodeOp(opMsg{typ: opJoin, node: "evil", opts: sel, rooms: []string{"ok"}}), 0),
		append(encodeOp(opMsg{typ: opJoin, node: "evil", opts: sel, rooms: []string{"big"}}), bytes.Repeat([]byte{0}, maxOpBytes)...),
	}
	for _, m := range bad {
		_, err := r.do("PUBLISH", "test:broadcast", m)
		require.NoError(t, err)
	}
	_, err := r.do("PUBLISH", "test:broadcast", encodeOp(opMsg{typ: opJoin, node: "evil", opts: sel, rooms: []string{"from-redis"}}))
	require.NoError(t, err)
	eventuallyEqual(t, []string{"from-redis"}, rooms(n2, "", b.sid), "the good one is carried out")
	assert.Equal(t, uint64(len(bad)), n2.cluster.Stats().Malformed)
	s := n2.srv.Of("").Socket(v.sid)
	require.NotNil(t, s)
	n, err := n2.srv.Of("").RoomSize(context.Background(), v.sid)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "nobody joined v's private room")
	n, err = n2.srv.Of("").RoomSize(context.Background(), b.sid)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "b is still in its own room")
	a := n1.dial()
	a.emit("", "to-room", v.sid, "private")
	v.expectMsg("", "private")
	b.expectNothing()
}

func TestDecodeOp(t *testing.T) {
	sel := socketio.BroadcastOptions{Rooms: []string{"r"}, Except: []string{"AAAAAAAAAAAAAAAAAAAA"}}
	for _, m := range []opMsg{
		{typ: opSocketIDs, id: 1, node: "n1", ns: "/chat", opts: sel},
		{typ: opJoin, id: 2, node: "n1", opts: sel, rooms: []string{"a", "b"}},
		{typ: opLeave, id: 3, node: "n1", rooms: []string{"a"}},
		{typ: opDisconnect, flags: opFlagClose, id: 4, node: "n1", opts: sel},
		{typ: opReply, flags: opFlagTruncated, id: 5, node: "n2", target: "n1", ids: []string{"AAAAAAAAAAAAAAAAAAAA"}},
		{typ: opReply, id: 6, node: "n2", target: "n1", code: codeTooManyRooms, text: "too many"},
	} {
		got, err := decodeOp(encodeOp(m))
		require.NoError(t, err, "%+v", m)
		assert.Equal(t, m, got)
	}
	for name, c := range map[string]struct {
		m    opMsg
		want error
	}{
		"reserved join":   {opMsg{typ: opJoin, node: "n", rooms: []string{"AAAAAAAAAAAAAAAAAAAA"}}, socketio.ErrReservedRoom},
		"reserved leave":  {opMsg{typ: opLeave, node: "n", rooms: []string{"AAAAAAAAAAAAAAAAAAAA"}}, socketio.ErrReservedRoom},
		"no rooms":        {opMsg{typ: opJoin, node: "n"}, errBadOp},
		"long node id":    {opMsg{typ: opSocketIDs, node: strings.Repeat("n", maxNodeIDBytes+1)}, errBadOp},
		"bad namespace":   {opMsg{typ: opSocketIDs, node: "n", ns: "chat"}, errBadOp},
		"bad answer id":   {opMsg{typ: opReply, node: "n", target: "m", ids: []string{"lobby"}}, errBadOp},
		"no target":       {opMsg{typ: opReply, node: "n"}, errBadOp},
		"unknown code":    {opMsg{typ: opReply, node: "n", target: "m", code: codeOther + 1, text: "x"}, errBadOp},
		"code, no text":   {opMsg{typ: opReply, node: "n", target: "m", code: codeOther}, errBadOp},
		"flags":           {opMsg{typ: opSocketIDs, flags: 1, node: "n"}, errBadOp},
		"rooms with ids":  {opMsg{typ: opSocketIDs, node: "n", rooms: []string{"r"}}, errBadOp},
		"too large":       {opMsg{typ: opJoin, node: "n", rooms: []string{strings.Repeat("r", maxOpBytes)}}, ErrOpTooLarge},
		"disconnect room": {opMsg{typ: opDisconnect, node: "n", rooms: []string{"r"}}, errBadOp},
	} {
		_, err := decodeOp(encodeOp(c.m))
		assert.ErrorIs(t, err, c.want, name)
	}
	_, err := decodeOp(append(encodeOp(opMsg{typ: opSocketIDs, node: "n"}), 0))
	assert.ErrorIs(t, err, errBadOp, "trailing bytes")
	_, err = decodeOp([]byte{opVersion, opJoin, 0, 0, 1, 'n', 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	assert.ErrorIs(t, err, errBadOp, "huge room count")
	assert.False(t, isOp(encodeMessage("n", socketio.BroadcastOptions{}, &socketio.Message{Kind: socketio.MessageEvent, Event: "e"})), "broadcasts are no ops")
}

func FuzzDecodeOp(f *testing.F) {
	sel := socketio.BroadcastOptions{Rooms: []string{"r"}, Except: []string{"AAAAAAAAAAAAAAAAAAAA"}}
	f.Add(encodeOp(opMsg{typ: opJoin, id: 7, node: "n1", ns: "/chat", opts: sel, rooms: []string{"a"}}))
	f.Add(encodeOp(opMsg{typ: opDisconnect, flags: opFlagClose, node: "n1", opts: sel}))
	f.Add(encodeOp(opMsg{typ: opReply, node: "n2", target: "n1", ids: []string{"AAAAAAAAAAAAAAAAAAAA"}}))
	f.Add([]byte{opVersion, opReply, 0, 0x80})
	f.Add(encodeOp(opMsg{typ: opFetch, id: 8, node: "n1", opts: sel}))
	f.Add(encodeOp(opMsg{typ: opAck, id: 9, node: "n1", wait: 2000, opts: sel,
		msg: &socketio.Message{Namespace: "/chat", Kind: socketio.MessageEvent, Event: "ask", Args: raws(`"q"`)}}))
	f.Add(encodeOp(opMsg{typ: opServerEvent, node: "n1", ns: "/chat", event: "sync", args: raws(`1`, `{}`)}))
	f.Add(encodeOp(opMsg{typ: opFetchReply, flags: opFlagTruncated, node: "n2", target: "n1", sockets: []socketio.SocketInfo{
		{ID: "AAAAAAAAAAAAAAAAAAAA", Rooms: []string{"r"}, User: json.RawMessage(`{"u":1}`)}}}))
	f.Add(encodeOp(opMsg{typ: opAckReply, flags: opFlagDeadline, node: "n2", target: "n1",
		acks: []socketio.SocketAck{{ID: "AAAAAAAAAAAAAAAAAAAA", Args: raws(`true`)}}, missing: []string{"BBBBBBBBBBBBBBBBBBBB"}}))
	f.Add(encodeOp(opMsg{typ: opAckReply, flags: opFlagPartial, node: "n2", target: "n1",
		acks: []socketio.SocketAck{{ID: "AAAAAAAAAAAAAAAAAAAA", Args: raws(`1`)}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeOp(b)
		if err != nil {
			return
		}
		again, err := decodeOp(encodeOp(m))
		if err != nil {
			t.Fatalf("re-encoded operation does not decode: %v", err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed the operation: %+v vs %+v", m, again)
		}
	})
}
