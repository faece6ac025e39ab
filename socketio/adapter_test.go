package socketio

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The own-id room is implicit in the MemoryAdapter; it must behave as any
// other room: left and joined again, listed by Clients, counted by RoomSize,
// never listed by Rooms, shared with sockets that joined a room of that
// name through the Adapter.
func TestMemoryAdapterOwnRoom(t *testing.T) {
	ns := newNamespace("/m", quietOpts())
	a := ns.Adapter().(*memoryAdapter)
	sockets := func(opts BroadcastOptions) []string {
		var ids []string
		for _, s := range a.receivers(opts) {
			ids = append(ids, s.ID())
		}
		return ids
	}
	connect(t, ns, "x")
	connect(t, ns, "y")
	assert.NoError(t, a.Join("x", "r1", "r2", "r1"))
	assert.NoError(t, a.Join("y", "x")) // through the Adapter, no reserved-room check

	clients, _ := a.Clients("x")
	assert.Equal(t, []string{"x", "y"}, clients)
	rooms, _ := a.Rooms("x")
	assert.Equal(t, []string{"r1", "r2"}, rooms)
	rooms, _ = a.Rooms("y")
	assert.Equal(t, []string{"x"}, rooms, "a room named like a socket is an ordinary room of the others")
	n, _ := a.RoomSize(context.Background(), "x")
	assert.Equal(t, 2, n, "x and y")
	assert.ElementsMatch(t, []string{"x", "y"}, sockets(BroadcastOptions{Rooms: []string{"x"}}))
	assert.ElementsMatch(t, []string{"x", "y"}, sockets(BroadcastOptions{Rooms: []string{"x", "r1", "y"}}), "no duplicates")
	assert.ElementsMatch(t, []string{"y"}, sockets(BroadcastOptions{Rooms: []string{"x", "r1"}, Except: []string{"x"}}))

	assert.NoError(t, a.Leave("x", "x"))
	n, _ = a.RoomSize(context.Background(), "x")
	assert.Equal(t, 1, n, "y alone")
	clients, _ = a.Clients("x")
	assert.Equal(t, []string{"y"}, clients)
	clients, _ = a.Clients("")
	assert.Equal(t, []string{"x", "y"}, clients, "still in the namespace")
	assert.NoError(t, a.Join("x", "x"))
	clients, _ = a.Clients("x")
	assert.Equal(t, []string{"x", "y"}, clients)

	assert.NoError(t, a.Leave("x", "r1"))
	assert.NoError(t, a.Leave("x", "r1"))
	rooms, _ = a.Rooms("x")
	assert.Equal(t, []string{"r2"}, rooms)
	assert.NoError(t, a.LeaveAll("x"))
	clients, _ = a.Clients("r2")
	assert.Empty(t, clients)
	clients, _ = a.Clients("x")
	assert.Equal(t, []string{"y"}, clients)
	rooms, _ = a.Rooms("x")
	assert.Equal(t, []string{}, rooms)
	assert.Empty(t, a.rooms["r2"], "an empty room is forgotten")
}
