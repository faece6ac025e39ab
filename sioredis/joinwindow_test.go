package sioredis

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/socketio"
)

// joinWindowTries is how many fresh rooms TestJoinWindow joins.
const joinWindowTries = 1000

// TestJoinWindow: with ChannelsSharded, a socket of n1 joins a fresh room
// (n1 becomes its first member: a new channel subscription) and, the
// moment Join returns, n2 broadcasts to the room; the member receives
// every one of the broadcasts. Join waits for Redis's confirmation of
// the subscription (Config.SubscribeTimeout), so there is no window in
// which n2's broadcast reaches Redis before the subscription.
func TestJoinWindow(t *testing.T) {
	onBoth(t, func(t *testing.T, be backend) {
		n1, n2 := be.node("n1", nodeOpts{}), be.node("n2", nodeOpts{})
		a := n1.dial()
		s := n1.srv.Of("").Socket(a.sid)
		require.NotNil(t, s)
		ns2 := n2.srv.Of("")
		start := time.Now()
		for i := range joinWindowTries {
			room := "w" + strconv.Itoa(i)
			require.NoError(t, s.Join(room))
			require.NoError(t, ns2.To(room).Emit("msg", i))
		}
		elapsed := time.Since(start)
		require.NoError(t, ns2.To(a.sid).Emit("msg", "end"))
		got := make(map[string]bool)
		end := false
		for {
			// After "end" (another channel: on Redis Cluster it may
			// overtake the rooms' broadcasts), wait a little for the rest.
			d := waitFor
			if end {
				d = 500 * time.Millisecond
			}
			f, ok := a.nextWithin(d)
			if !ok {
				break
			}
			if f == msgFrame("", "msg", "end") {
				end = true
				continue
			}
			got[f] = true
			if end && len(got) == joinWindowTries {
				break
			}
		}
		require.True(t, end, "the closing broadcast did not arrive")
		var missed []string
		for i := range joinWindowTries {
			if !got[msgFrame("", "msg", i)] {
				missed = append(missed, strconv.Itoa(i))
			}
		}
		t.Logf("%d joins of a fresh room, each followed at once by another node's broadcast to it: %d missed; %v per join+emit",
			joinWindowTries, len(missed), elapsed/joinWindowTries)
		assert.Empty(t, missed, "broadcasts that missed the new member: %s", strings.Join(missed, " "))
		assert.Zero(t, n2.cluster.Stats().Dropped)
	})
}

// BenchmarkJoin measures Socket.Join followed by Leave on a node of a
// two-node cluster: "first" joins a fresh room (the node becomes its
// first member: with ChannelsSharded a new subscription, which Join waits
// for), "member" a room in which another socket of the node already is
// (no new channel). The leave does not wait in either case.
func BenchmarkJoin(b *testing.B) {
	for _, mode := range []ChannelMode{ChannelsSharded, ChannelsSingle} {
		for _, kind := range []string{"standalone", "cluster"} {
			b.Run(mode.String()+"/"+kind, func(b *testing.B) {
				var be backend
				if kind == "standalone" {
					be = standaloneBackend(b)
				} else {
					be = clusterBackend(b)
				}
				o := nodeOpts{cfg: func(c *Config) { c.Channels = mode }}
				n1 := be.node("n1", o)
				be.node("n2", o)
				a, other := n1.dial(), n1.dial()
				other.join("", "held")
				s := n1.srv.Of("").Socket(a.sid)
				require.NotNil(b, s)
				b.Run("first", func(b *testing.B) {
					for i := range b.N {
						room := "fresh" + strconv.Itoa(i)
						if err := s.Join(room); err != nil {
							b.Fatal(err)
						}
						_ = s.Leave(room)
					}
				})
				b.Run("member", func(b *testing.B) {
					for range b.N {
						if err := s.Join("held"); err != nil {
							b.Fatal(err)
						}
						_ = s.Leave("held")
					}
				})
			})
		}
	}
}

// TestRemoteJoinWindow: a node makes a socket of another node join fresh
// rooms (Selection.Join, a room operation) and broadcasts to each room
// the moment Join returns: the operation's answer follows the other
// node's subscription (it runs off the subscriber's reader, applyLoop),
// so the member receives every broadcast.
func TestRemoteJoinWindow(t *testing.T) {
	onBoth(t, func(t *testing.T, be backend) {
		n1, n2 := be.node("n1", nodeOpts{}), be.node("n2", nodeOpts{})
		a := n1.dial()
		ns2 := n2.srv.Of("")
		const tries = 200
		for i := range tries {
			room := "rw" + strconv.Itoa(i)
			require.NoError(t, ns2.To(a.sid).Join(context.Background(), room))
			require.NoError(t, ns2.To(room).Emit("msg", i))
		}
		for i := range tries {
			a.expectMsg("", i)
		}
	})
}

// TestJoinSubscribeTimeout: while Redis hangs, a first-member join
// returns (nil) after Config.SubscribeTimeout, and the joins after it do
// not wait again until a subscription is confirmed; once Redis is back,
// joins wait for their subscriptions again and receive other nodes'
// broadcasts.
func TestJoinSubscribeTimeout(t *testing.T) {
	r := startRedis(t)
	const timeout = time.Second
	// A TTL long enough that the subscriber does not give the hung
	// connection up (TTL + TTL/3) while the test watches the joins.
	o := nodeOpts{ttl: 6 * time.Second, cfg: func(c *Config) { c.SubscribeTimeout = timeout }}
	n1, n2 := newNode(t, r, "n1", o), newNode(t, r, "n2", o)
	a, b := n1.dial(), n2.dial()
	s := n1.srv.Of("").Socket(a.sid)
	require.NotNil(t, s)

	r.signal(syscall.SIGSTOP)
	t.Cleanup(func() { r.signal(syscall.SIGCONT) })
	start := time.Now()
	require.NoError(t, s.Join("hung1"))
	first := time.Since(start)
	start = time.Now()
	require.NoError(t, s.Join("hung2"))
	second := time.Since(start)
	t.Logf("joins while Redis hangs: %v, then %v", first, second)
	assert.GreaterOrEqual(t, first, timeout, "the first join waited for its subscription")
	assert.Less(t, second, timeout/2, "the next join does not wait again for a hung Redis")
	assert.ElementsMatch(t, []string{"hung1", "hung2"}, socketRooms(t, s), "the joins took effect locally")

	r.signal(syscall.SIGCONT)
	// Redis answers again: the subscriptions of hung1 and hung2 are
	// confirmed, and a new join waits for its own.
	b.emit("", "to-room", "hung1", "back")
	a.expectMsg("", "back")
	require.NoError(t, s.Join("after"))
	require.NoError(t, n2.srv.Of("").To("after").Emit("msg", "after"))
	a.expectMsg("", "after")
}

func socketRooms(t *testing.T, s *socketio.Socket) []string {
	t.Helper()
	r, err := s.Rooms()
	require.NoError(t, err)
	return r
}
