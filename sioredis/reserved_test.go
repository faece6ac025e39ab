package sioredis

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/socketio"
)

// A socket can never join another socket's own-id room, whatever the
// state of Redis: with it up (the other socket not connected yet), down,
// and back empty before and after the nodes rewrote their membership.
// Once the other sockets connect, their private emits reach them alone.
func TestSocketIDRoomsStayPrivateAcrossNodesAndOutages(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	joiner, b := n1.dial(), n2.dial()
	b.join("", "lobby")

	early := n2.handshake() // its socket connects only at the end
	require.Equal(t, "[false]", joiner.call("", "join", early), "the id of a socket not connected yet")
	require.Equal(t, "[false]", joiner.call("", "join", b.sid))

	r.kill()
	during := n2.handshake()
	require.Equal(t, "[false]", joiner.call("", "join", during), "Redis down")
	require.Equal(t, "[false]", joiner.call("", "join", b.sid), "Redis down")
	require.Equal(t, "[true]", joiner.call("", "join", "elsewhere"), "other rooms need no Redis")

	r.start() // empty
	require.Equal(t, "[false]", joiner.call("", "join", early), "Redis back, membership not rewritten yet")
	resumed := false
	for i := 0; !resumed && i < int(waitFor/(100*time.Millisecond)); i++ {
		joiner.emit("", "to-room", "lobby", "probe-"+strconv.Itoa(i))
		if f, ok := b.nextWithin(100 * time.Millisecond); ok && strings.Contains(f, "probe-") {
			resumed = true
		}
	}
	require.True(t, resumed, "cross-node delivery did not resume")
	for _, n := range []*node{n1, n2} {
		require.Eventually(t, func() bool { return n.cluster.Stats().Resyncs >= 1 }, waitFor, tick, "%s resynced", n.name)
	}
	require.Equal(t, "[false]", joiner.call("", "join", during), "after the resync")

	for _, sid := range []string{early, during} {
		v := n2.open(sid)
		joiner.emit("", "to-room", sid, "private from n1")
		v.expectMsg("", "private from n1")
		b.emit("", "to-room", sid, "private from n2")
		v.expectMsg("", "private from n2")
	}
	joiner.expectNothing()
	rooms, err := n1.srv.Of("").Adapter().Rooms(joiner.sid)
	require.NoError(t, err)
	assert.Equal(t, []string{"elsewhere"}, rooms)
}

// Adapter.Join called directly (not through Socket.Join) cannot put a
// socket into another's own-id room either: neither locally nor in Redis.
func TestAdapterJoinRefusesAnotherSocketsID(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	a, v := n1.dial(), n2.dial()
	require.ErrorIs(t, n1.srv.Of("").Adapter().Join(a.sid, "r", v.sid), socketio.ErrReservedRoom)
	for _, n := range []*node{n1, n2} {
		// n1 reads after its own writes; n2's join of v's own room shows
		// once n2's writer has written it.
		eventuallyEqual(t, []string{v.sid}, clients(n, "", v.sid), "seen from %s", n.name)
		got, err := n.srv.Of("").Clients("r")
		require.NoError(t, err)
		assert.Empty(t, got, "nothing of the refused Join is written")
	}
	a.emit("", "to-room", v.sid, "private")
	v.expectMsg("", "private")
	a.expectNothing()
}

// The rooms-per-socket limit holds with the cluster adapter, from local
// state, with Redis up or down.
func TestRoomLimitWithTheClusterAdapter(t *testing.T) {
	r := startRedis(t)
	n1 := newNode(t, r, "n1", nodeOpts{})
	a := n1.dial()
	s := n1.srv.Of("").Socket(a.sid)
	require.NotNil(t, s)
	for i := range socketio.DefaultMaxRoomsPerSocket - 1 {
		require.NoError(t, s.Join("room-"+strconv.Itoa(i)))
	}
	r.kill()
	require.NoError(t, s.Join("last"))
	assert.ErrorIs(t, s.Join("one-too-many"), socketio.ErrTooManyRooms)
	assert.NoError(t, s.Join("room-7"), "a room it is in already")
	assert.Equal(t, "[false]", a.call("", "join", "from-the-client"))
}
