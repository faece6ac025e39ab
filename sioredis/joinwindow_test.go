package sioredis

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
