package socketio

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/acl"
	"github.com/siogo/siogo/internal/apptest"
	"github.com/siogo/siogo/internal/lazylog"
	"github.com/siogo/siogo/packet"
)

// Ids of the format socketio gives sessions (see IsSocketID).
const (
	sidA = "AAAAAAAAAAAAAAAAAAAA"
	sidB = "BBBBBBBBBBBBBBBBBBB-"
	sidV = "victim_victim_victim"
)

func TestIsSocketID(t *testing.T) {
	for _, id := range []string{sidA, sidB, sidV, "0123456789abcdefXYZ_"} {
		assert.True(t, IsSocketID(id), id)
	}
	for _, name := range []string{"", "a", "lobby", "AAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAA+", "AAAAAAAAAAAAAAAAAAA/", "AAAAAAAAAAAAAAAAAA é"} {
		assert.False(t, IsSocketID(name), name)
	}
}

// A room named like a socket that has not connected yet used to be an
// ordinary room: its members then received that socket's private emits.
func TestJoiningASocketIDBeforeItConnectsIsRefused(t *testing.T) {
	ns := newNamespace("", quietOpts())
	a, ca := connect(t, ns, sidA)
	assert.ErrorIs(t, a.Join(sidV), ErrReservedRoom, "no such socket yet, the name is reserved all the same")
	rooms, err := a.Rooms()
	require.NoError(t, err)
	assert.Empty(t, rooms)

	_, cv := connect(t, ns, sidV)
	require.NoError(t, ns.To(sidV).Emit("private", "for the victim"))
	want := `5:::{"name":"private","args":["for the victim"]}`
	cv.waitExact(t, want)
	assert.NotContains(t, ca.sent(), want, "delivery is synchronous: the joiner would have it by now")
	ids, _ := ns.Clients(sidV)
	assert.Equal(t, []string{sidV}, ids)
}

// The MemoryAdapter, which cluster adapters use for their local delivery,
// refuses another socket's id as a room too: no direct Adapter.Join can
// make a socket receive another's private emits.
func TestMemoryAdapterRefusesAnotherSocketsID(t *testing.T) {
	ns := newNamespace("", quietOpts())
	a := ns.Adapter().(*memoryAdapter)
	connect(t, ns, sidA)
	_, cv := connect(t, ns, sidV)
	assert.ErrorIs(t, a.Join(sidA, "r", sidV), ErrReservedRoom)
	rooms, _ := a.Rooms(sidA)
	assert.Empty(t, rooms, "nothing of a refused Join is joined")
	require.NoError(t, a.Join(sidA, sidA, "r"), "its own id and other names are fine")
	var got []string
	for _, s := range a.receivers(BroadcastOptions{Rooms: []string{sidV}}) {
		got = append(got, s.ID())
	}
	assert.Equal(t, []string{sidV}, got)
	require.NoError(t, ns.To(sidV).Emit("p"))
	cv.waitExact(t, `5:::{"name":"p"}`)
}

func TestRoomLimits(t *testing.T) {
	ns := newNamespace("", nsOptions{Logger: quietOpts().Logger, MaxRoomsPerSocket: 3, MaxRoomNameBytes: 10})
	s, _ := connect(t, ns, sidA)
	for _, r := range []string{"r1", "r2", "r3"} {
		require.NoError(t, s.Join(r))
	}
	err := s.Join("r4")
	require.ErrorIs(t, err, ErrTooManyRooms)
	assert.EqualError(t, err, "socketio: socket is in too many rooms: at most 3")
	assert.NoError(t, s.Join("r2"), "a room it is already in")
	assert.NoError(t, s.Join(sidA), "its own room is not counted")
	rooms, _ := s.Rooms()
	assert.Equal(t, []string{"r1", "r2", "r3"}, rooms)
	n, in := ns.Adapter().(RoomCounter).RoomCount(sidA, "r2")
	assert.Equal(t, 3, n, "the own-id room is not counted")
	assert.True(t, in)
	_, in = ns.Adapter().(RoomCounter).RoomCount(sidA, "r4")
	assert.False(t, in)
	require.NoError(t, s.Leave("r1"))
	assert.NoError(t, s.Join("0123456789"), "ten bytes, in place of the room left")

	require.NoError(t, s.Leave("r2"))
	err = s.Join("0123456789x")
	require.ErrorIs(t, err, ErrRoomNameTooLong)
	assert.EqualError(t, err, "socketio: room name too long: 11 bytes, at most 10")
	rooms, _ = s.Rooms()
	assert.Equal(t, []string{"0123456789", "r3"}, rooms)
}

func TestRoomLimitDefaults(t *testing.T) {
	ns := newNamespace("", quietOpts())
	s, _ := connect(t, ns, sidA)
	assert.ErrorIs(t, s.Join(strings.Repeat("n", DefaultMaxRoomNameBytes+1)), ErrRoomNameTooLong)
	assert.NoError(t, s.Join(strings.Repeat("n", DefaultMaxRoomNameBytes)))
	for i := 1; i < DefaultMaxRoomsPerSocket; i++ {
		require.NoError(t, s.Join("room-"+strconv.Itoa(i)))
	}
	assert.ErrorIs(t, s.Join("one-too-many"), ErrTooManyRooms)

	unlimited := newNamespace("", nsOptions{Logger: quietOpts().Logger, MaxRoomsPerSocket: -1, MaxRoomNameBytes: -1})
	u, _ := connect(t, unlimited, sidB)
	assert.NoError(t, u.Join(strings.Repeat("n", 100_000)))
	for i := 0; i < DefaultMaxRoomsPerSocket+10; i++ {
		require.NoError(t, u.Join("room-"+strconv.Itoa(i)))
	}
	assert.ErrorIs(t, u.Join(sidA), ErrReservedRoom, "socket ids stay reserved without limits")
}

// lingeringRooms is a MemoryAdapter whose Rooms, once it has read the
// rooms, waits (up to a deadline) until `want` callers have come into it,
// as a slow adapter would let them: it opens the window between Join's
// count and its join wide.
type lingeringRooms struct {
	Adapter
	want int32
	in   atomic.Int32
}

func (r *lingeringRooms) Rooms(sid string) ([]string, error) {
	rooms, err := r.Adapter.Rooms(sid)
	r.in.Add(1)
	for deadline := time.Now().Add(time.Second); r.in.Load() < r.want && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	return rooms, err
}

// Joins of one socket from several goroutines at once never take it past
// the limit.
func TestRoomLimitHoldsUnderConcurrentJoins(t *testing.T) {
	const limit, goroutines = 1, 2
	opts := quietOpts()
	opts.MaxRoomsPerSocket = limit
	opts.Adapter = func(ns *Namespace) Adapter { return &lingeringRooms{Adapter: NewMemoryAdapter(ns), want: goroutines} }
	ns := newNamespace("", opts)
	s, _ := connect(t, ns, sidA)
	var wg sync.WaitGroup
	var refused atomic.Int32
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errors.Is(s.Join("g"+strconv.Itoa(g)), ErrTooManyRooms) {
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	rooms, _ := ns.Adapter().(*lingeringRooms).Adapter.Rooms(sidA)
	assert.Len(t, rooms, limit)
	assert.Equal(t, int32(goroutines-limit), refused.Load())
}

// 100 refused calls with a 1 MB event name once wrote 100 MB of log at
// info level.
func TestRefusedEventsDoNotFloodTheLog(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		t.Run(level.String(), func(t *testing.T) {
			var buf apptest.LockedBuffer
			ns := newNamespace("/acl", nsOptions{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))})
			ns.SetInitialACL(acl.Allow("login"))
			s, c := connect(t, ns, sidA)
			name := strings.Repeat("x", 1<<20)
			const calls = 100
			for range calls {
				s.handlePacket(&packet.Packet{Type: packet.Event, Endpoint: "/acl", Name: name})
			}
			// Each refusal echoes the 1 MB name back: slow under -race.
			require.Eventually(t, func() bool {
				refusals := 0
				for _, f := range c.sent() {
					if strings.HasPrefix(f, `5::/acl:{"name":"error"`) {
						refusals++
					}
				}
				return refusals == calls
			}, time.Minute, 10*time.Millisecond)
			lines := buf.Records(t, "")
			var info, denied int
			for _, l := range lines {
				if l["msg"] != "method access denied" {
					continue
				}
				denied++
				if l["level"] == "INFO" {
					info++
				}
				assert.Equal(t, lazylog.Clip(name), l["event"], "the event name is clipped")
			}
			assert.Equal(t, 1, info, "only the socket's first refusal is logged at info level")
			if level == slog.LevelDebug {
				assert.Equal(t, calls, denied, "the others at debug level")
			}
			t.Logf("%d refusals of a %d-byte event: %d log records at %v and above, %d bytes", calls, len(name), len(lines), level, len(buf.String()))
			assert.Less(t, len(buf.String()), calls*1024, "%d bytes of log", len(buf.String()))
		})
	}
}

// joinRecorder is an Adapter, as a third-party one may be, that applies
// no rule of its own to room names: it records the Joins it is asked for.
type joinRecorder struct {
	Adapter
	mu    sync.Mutex
	joins [][]string
}

func (r *joinRecorder) Join(sid string, rooms ...string) error {
	r.mu.Lock()
	r.joins = append(r.joins, append([]string{sid}, rooms...))
	r.mu.Unlock()
	return r.Adapter.Join(sid, rooms...)
}

// Socket.Join refuses socket ids itself, whatever the adapter does.
func TestJoinRefusesSocketIDsWhateverTheAdapter(t *testing.T) {
	rec := &joinRecorder{}
	opts := quietOpts()
	opts.Adapter = func(ns *Namespace) Adapter { rec.Adapter = NewMemoryAdapter(ns); return rec }
	ns := newNamespace("", opts)
	a, _ := connect(t, ns, sidA)
	assert.ErrorIs(t, a.Join(sidV), ErrReservedRoom)
	require.NoError(t, a.Join("lobby"))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, [][]string{{sidA, sidA}, {sidA, "lobby"}}, rec.joins, "the adapter never saw the reserved name")
}

// holdingJoins holds each Join (but the own-id one) until released, so that a Close can run
// while a Join is between its checks and its adapter call.
type holdingJoins struct {
	Adapter
	entered chan struct{}
	release chan struct{}
}

func (a *holdingJoins) Join(sid string, rooms ...string) error {
	if len(rooms) == 1 && rooms[0] == sid {
		return a.Adapter.Join(sid, rooms...) // the own-id room, at connect
	}
	a.entered <- struct{}{}
	<-a.release
	return a.Adapter.Join(sid, rooms...)
}

// A Join racing the socket's Close (the client's "0::/ns" read while a
// join handler runs) used to add the room after Close had left every
// room, so the gone socket stayed a member for good: in memory, and with
// a cluster adapter in Redis, with wrong counts on every node.
func TestJoinRacingCloseLeavesNoMember(t *testing.T) {
	opts := quietOpts()
	opts.Adapter = func(ns *Namespace) Adapter {
		return &holdingJoins{Adapter: NewMemoryAdapter(ns), entered: make(chan struct{}), release: make(chan struct{})}
	}
	ns := newNamespace("", opts)
	a := ns.Adapter().(*holdingJoins)
	s, _ := connect(t, ns, sidA)
	joined := make(chan error, 1)
	go func() { joined <- s.Join("r") }()
	<-a.entered
	closed := make(chan struct{})
	go func() { s.close(ReasonPacket); close(closed) }()
	// Without the barrier in Close, it finishes (rooms left) while the
	// Join is still held; give it ample time to do so before releasing.
	select {
	case <-closed:
	case <-time.After(300 * time.Millisecond):
	}
	close(a.release)
	require.NoError(t, <-joined, "the join was under way before the close")
	<-closed
	ids, err := ns.Clients("r")
	require.NoError(t, err)
	assert.Empty(t, ids, "a closed socket stays in no room")
	assert.ErrorIs(t, s.Join("r2"), ErrDisconnected)
}
