package socketio

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sidC = "CCCCCCCCCCCCCCCCCCCC"

// roomsOf returns the rooms of sid, failing on an error.
func roomsOf(t *testing.T, ns *Namespace, sid string) []string {
	t.Helper()
	rooms, err := ns.Adapter().Rooms(sid)
	require.NoError(t, err)
	return rooms
}

func TestNamespaceRoomsAndRoomSize(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace("/r", quietOpts())
	a, _ := connect(t, ns, sidA)
	b, _ := connect(t, ns, sidB)
	rooms, err := ns.Rooms(ctx)
	require.NoError(t, err)
	assert.Empty(t, rooms, "own-id rooms are not listed")
	require.NoError(t, a.Join("r2"))
	require.NoError(t, a.Join("r1"))
	require.NoError(t, b.Join("r2"))
	rooms, err = ns.Rooms(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"r1", "r2"}, rooms)
	for room, want := range map[string]int{"r1": 1, "r2": 2, sidA: 1, "": 2, "none": 0} {
		n, err := ns.RoomSize(ctx, room)
		require.NoError(t, err)
		assert.Equal(t, want, n, "room %q", room)
	}
	require.NoError(t, a.Leave("r1"))
	rooms, _ = ns.Rooms(ctx)
	assert.Equal(t, []string{"r2"}, rooms, "an empty room is not listed")

	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err = ns.Rooms(done)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = ns.RoomSize(done, "r2")
	assert.ErrorIs(t, err, context.Canceled)
}

func TestSocketLeaveAllKeepsTheOwnRoom(t *testing.T) {
	ns := newNamespace("/r", quietOpts())
	a, ca := connect(t, ns, sidA)
	require.NoError(t, a.Join("r1"))
	require.NoError(t, a.Join("r2"))
	require.NoError(t, a.LeaveAll())
	assert.Empty(t, roomsOf(t, ns, sidA))
	rooms, _ := ns.Rooms(context.Background())
	assert.Empty(t, rooms)
	require.NoError(t, ns.To(sidA).Emit("private"))
	ca.waitExact(t, `5::/r:{"name":"private"}`)
	require.NoError(t, a.LeaveAll(), "nothing left to leave")
}

func TestSelectionSocketIDs(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace("/r", quietOpts())
	a, _ := connect(t, ns, sidA)
	b, _ := connect(t, ns, sidB)
	connect(t, ns, sidC)
	require.NoError(t, a.Join("r1"))
	require.NoError(t, a.Join("r2"))
	require.NoError(t, b.Join("r2"))
	for name, c := range map[string]struct {
		sel  *Selection
		want []string
	}{
		"room":             {ns.To("r2"), []string{sidA, sidB}},
		"rooms, except":    {ns.To("r1").To("r2").Except(sidA), []string{sidB}},
		"namespace":        {ns.Except(), []string{sidA, sidB, sidC}},
		"namespace except": {ns.Except(sidB), []string{sidA, sidC}},
		"own-id room":      {ns.To(sidC), []string{sidC}},
		"socket.To":        {a.To("r2"), []string{sidB}},
		"broadcast":        {b.Broadcast(), []string{sidA, sidC}},
		"socket alone":     {a.Volatile(), []string{sidA}},
		"empty room":       {ns.To("none"), []string{}},
	} {
		got, err := c.sel.SocketIDs(ctx)
		require.NoError(t, err, name)
		assert.Equal(t, c.want, got, name)
	}
}

func TestSelectionJoinAndLeave(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace("/r", quietOpts())
	a, _ := connect(t, ns, sidA)
	b, _ := connect(t, ns, sidB)
	connect(t, ns, sidC)
	require.NoError(t, a.Join("lobby"))
	require.NoError(t, b.Join("lobby"))

	require.NoError(t, ns.To("lobby").Join(ctx, "game", "chat"))
	assert.Equal(t, []string{"chat", "game", "lobby"}, roomsOf(t, ns, sidA))
	assert.Equal(t, []string{"chat", "game", "lobby"}, roomsOf(t, ns, sidB))
	assert.Empty(t, roomsOf(t, ns, sidC))

	require.NoError(t, ns.Except(sidA).Join(ctx, "all-but-a"))
	ids, _ := ns.Clients("all-but-a")
	assert.Equal(t, []string{sidB, sidC}, ids)

	require.NoError(t, ns.To("game").Leave(ctx, "game", "lobby"))
	assert.Equal(t, []string{"chat"}, roomsOf(t, ns, sidA))
	assert.Equal(t, []string{"all-but-a", "chat"}, roomsOf(t, ns, sidB))
	n, _ := ns.RoomSize(ctx, sidA)
	assert.Equal(t, 1, n, "Leave never touches the own-id rooms")

	require.NoError(t, a.Volatile().Join(ctx, "solo"))
	assert.Equal(t, []string{"chat", "solo"}, roomsOf(t, ns, sidA))
	require.NoError(t, ns.Except().Join(ctx), "no rooms: nothing to do")
}

// Selection.Join keeps the rules of Socket.Join: socket-id names stay
// reserved (even the socket's own), names are bounded, and so is each
// socket's room count — all or nothing per socket.
func TestSelectionJoinGuards(t *testing.T) {
	ctx := context.Background()
	opts := quietOpts()
	opts.MaxRoomsPerSocket = 3
	opts.MaxRoomNameBytes = 8
	ns := newNamespace("/r", opts)
	a, _ := connect(t, ns, sidA)
	connect(t, ns, sidB)
	require.NoError(t, a.Join("r1"))
	require.NoError(t, a.Join("r2"))

	assert.ErrorIs(t, ns.Except().Join(ctx, "fine", sidV), ErrReservedRoom)
	assert.ErrorIs(t, ns.To(sidA).Join(ctx, sidA), ErrReservedRoom, "even the socket's own id")
	assert.ErrorIs(t, a.Volatile().Join(ctx, sidB), ErrReservedRoom)
	assert.ErrorIs(t, ns.Except().Join(ctx, "fine", "nine-byte"), ErrRoomNameTooLong)
	ids, _ := ns.Clients("fine")
	assert.Empty(t, ids, "a refused name joins nothing")
	ids, _ = ns.Clients(sidV)
	assert.Empty(t, ids)

	err := ns.Except().Join(ctx, "x", "y")
	assert.ErrorIs(t, err, ErrTooManyRooms, "a would be in 4 rooms")
	assert.Contains(t, err.Error(), "1 of 2 sockets not joined")
	assert.Equal(t, []string{"r1", "r2"}, roomsOf(t, ns, sidA), "all or none per socket")
	assert.Equal(t, []string{"x", "y"}, roomsOf(t, ns, sidB))
	require.NoError(t, ns.Except().Join(ctx, "r2", "x"), "rooms a socket is in already do not count")
	assert.Equal(t, []string{"r1", "r2", "x"}, roomsOf(t, ns, sidA))
	assert.Equal(t, []string{"r2", "x", "y"}, roomsOf(t, ns, sidB))

	assert.ErrorIs(t, ns.Except().Leave(ctx, "x", sidA), ErrReservedRoom, "own-id rooms cannot be left")
	assert.Equal(t, []string{"r1", "r2", "x"}, roomsOf(t, ns, sidA), "a refused Leave leaves nothing")
	n, _ := ns.RoomSize(ctx, sidA)
	assert.Equal(t, 1, n)
}

func TestSelectionDisconnect(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace("/chat", quietOpts())
	a, ca := connect(t, ns, sidA)
	b, cb := connect(t, ns, sidB)
	c, cc := connect(t, ns, sidC)
	require.NoError(t, a.Join("r"))
	require.NoError(t, b.Join("r"))

	require.NoError(t, ns.To("r").Except(sidB).Disconnect(ctx, false))
	assert.True(t, a.Disconnected())
	assert.Contains(t, ca.sent(), "0::/chat", "told it left the namespace")
	ca.mu.Lock()
	assert.Empty(t, ca.closed, "the session stays")
	ca.mu.Unlock()
	assert.False(t, b.Disconnected())
	assert.False(t, c.Disconnected())

	require.NoError(t, ns.To("r").Disconnect(ctx, true))
	cb.mu.Lock()
	assert.Equal(t, ReasonBooted, cb.closed, "the whole session is closed")
	cb.mu.Unlock()
	cc.mu.Lock()
	assert.Empty(t, cc.closed)
	cc.mu.Unlock()

	def := newNamespace("", quietOpts())
	_, cd := connect(t, def, sidA)
	require.NoError(t, def.Except().Disconnect(ctx, false))
	cd.mu.Lock()
	assert.Equal(t, ReasonBooted, cd.closed, "in the default namespace the session ends, as Socket.Disconnect")
	cd.mu.Unlock()
}

// A context that has ended stops every operation before it does anything.
func TestSelectionOpsHonourTheContext(t *testing.T) {
	ns := newNamespace("/r", quietOpts())
	a, _ := connect(t, ns, sidA)
	require.NoError(t, a.Join("r"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ns.Except().SocketIDs(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, ns.Except().Join(ctx, "new"), context.Canceled)
	assert.ErrorIs(t, ns.Except().Join(ctx), context.Canceled)
	assert.ErrorIs(t, ns.Except().Leave(ctx, "r"), context.Canceled)
	assert.ErrorIs(t, ns.Except().Disconnect(ctx, true), context.Canceled)
	assert.Equal(t, []string{"r"}, roomsOf(t, ns, sidA))
	assert.False(t, a.Disconnected())
}

// Selection.Join goes through the namespace's adapter, so a wrapping
// adapter (a cluster adapter embedding the MemoryAdapter) records it.
func TestSelectionJoinGoesThroughTheAdapter(t *testing.T) {
	rec := &joinRecorder{}
	opts := quietOpts()
	opts.Adapter = func(ns *Namespace) Adapter { rec.Adapter = NewMemoryAdapter(ns); return rec }
	ns := newNamespace("", opts)
	connect(t, ns, sidA)
	require.NoError(t, ns.To(sidA).Join(context.Background(), "a", "b"))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, [][]string{{sidA, sidA}, {sidA, "a", "b"}}, rec.joins)
	assert.False(t, strings.Contains(strings.Join(rec.joins[1], ","), sidV))
}
