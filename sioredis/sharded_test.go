package sioredis

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/mna/redisc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/clustertest"
	"github.com/siogo/siogo/socketio"
)

// backend is a real Redis for a test: a standalone redis-server or a
// Redis Cluster of three masters.
type backend struct {
	// node starts a node on it.
	node func(name string, o nodeOpts) *node
	// subscribers counts the connections subscribed to a channel (PUBSUB
	// NUMSUB, or SHARDNUMSUB on the channel's master).
	subscribers func(ch string) func() (int, error)
	// restart kills Redis and starts it again, empty.
	restart func()
}

func standaloneBackend(t testing.TB) backend {
	r := startRedis(t)
	return backend{
		node: func(name string, o nodeOpts) *node { return newNode(t, r, name, o) },
		subscribers: func(ch string) func() (int, error) {
			return func() (int, error) {
				v, err := redigo.Values(r.do("PUBSUB", "NUMSUB", ch))
				if err != nil || len(v) != 2 {
					return 0, err
				}
				return redigo.Int(v[1], nil)
			}
		},
		restart: func() { r.kill(); r.start() },
	}
}

func clusterBackend(t testing.TB) backend {
	rc := clustertest.StartRedisCluster(t)
	return backend{
		node:        func(name string, o nodeOpts) *node { return clusterNode(t, rc, name, o) },
		subscribers: func(ch string) func() (int, error) { return shardSubscribers(t, rc, ch) },
		restart:     rc.Restart,
	}
}

// onBoth runs a test on a standalone Redis and on a Redis Cluster.
func onBoth(t *testing.T, test func(t *testing.T, be backend)) {
	t.Run("standalone", func(t *testing.T) { test(t, standaloneBackend(t)) })
	t.Run("cluster", func(t *testing.T) { test(t, clusterBackend(t)) })
}

func received(n *node) uint64 { return n.cluster.Stats().Received }

// TestShardedDelivery: a node receives the broadcasts to a room only
// while it has members in the room, and those to a namespace only while
// it has sockets in it; it subscribes as its sockets join (before the
// other nodes see the join) and unsubscribes as they leave.
func TestShardedDelivery(t *testing.T) {
	onBoth(t, func(t *testing.T, be backend) {
		n1, n2, n3 := be.node("n1", nodeOpts{}), be.node("n2", nodeOpts{}), be.node("n3", nodeOpts{})
		a, b, c := n1.dial(), n2.dial(), n3.dial()
		roomCh := roomChannel("test", "", "r")

		b.join("", "r")
		eventuallyEqual(t, ids(b), clients(n1, "", "r"))
		// A join is written once its channel is subscribed: the others
		// see the member only once it can receive.
		got, err := be.subscribers(roomCh)()
		require.NoError(t, err)
		require.Equal(t, 1, got, "n2 subscribed to the room's channel before its join was visible")

		before1, before3 := received(n1), received(n3)
		for i := range 5 {
			a.emit("", "to-room", "r", i)
		}
		for i := range 5 {
			b.expectMsg("", i)
		}
		// A marker on the namespace's channel, which every node with
		// sockets in "" receives.
		b.emit("", "all", "marker")
		a.expectMsg("", "marker")
		c.expectMsg("", "marker")
		b.expectMsg("", "marker")
		assert.Equal(t, before3+1, received(n3), "n3 has no member of r: it received the marker only")
		assert.Equal(t, before1+1, received(n1), "the emitter has no member of r either")

		// Join, then receive: once the join is visible, broadcasts reach it.
		c.join("", "r")
		eventuallyEqual(t, ids(b, c), clients(n1, "", "r"))
		eventuallyEqual(t, 2, be.subscribers(roomCh))
		a.emit("", "to-room", "r", "both")
		b.expectMsg("", "both")
		c.expectMsg("", "both")

		// Leave, then unsubscribe.
		require.Equal(t, "[true]", c.call("", "leave", "r"))
		eventuallyEqual(t, 1, be.subscribers(roomCh))
		require.Equal(t, "[true]", b.call("", "leave", "r"))
		eventuallyEqual(t, 0, be.subscribers(roomCh))
		before2 := received(n2)
		a.emit("", "to-room", "r", "nobody")
		a.emit("", "all", "marker2")
		a.expectMsg("", "marker2")
		b.expectMsg("", "marker2")
		c.expectMsg("", "marker2")
		assert.Equal(t, before2+1, received(n2), "n2 left r: it received the marker only")
		b.expectNothing()

		// Namespaces: only nodes with sockets in /chat receive its channel.
		chatCh := nsChannel("test", "/chat")
		eventuallyEqual(t, 0, be.subscribers(chatCh))
		b.connectNS("/chat")
		eventuallyEqual(t, 1, be.subscribers(chatCh))
		before3 = received(n3)
		a.connectNS("/chat")
		a.emit("/chat", "all", "chat")
		a.expectMsg("/chat", "chat")
		b.expectMsg("/chat", "chat")
		c.expectNothing()
		assert.Equal(t, before3, received(n3), "n3 has no socket in /chat")

		// A disconnected socket's rooms and namespace are unsubscribed.
		c.close()
		eventuallyEqual(t, 2, be.subscribers(nsChannel("test", "")))

		// Room operations still reach every node (control channel) and
		// their answers come back (per-node channel).
		ids3, err := n1.srv.Of("").Except().SocketIDs(context.Background())
		require.NoError(t, err)
		assert.Equal(t, ids(a, b), ids3)
		assert.Zero(t, n1.cluster.Stats().Malformed+n2.cluster.Stats().Malformed+n3.cluster.Stats().Malformed)
		assert.Zero(t, n1.cluster.Stats().Dropped)
	})
}

// TestResubscribeAfterRedisRestart: after Redis restarts empty, every node
// subscribes again to every channel it needs (its rooms' included) and
// rewrites its membership; broadcasts to its rooms reach it again.
func TestResubscribeAfterRedisRestart(t *testing.T) {
	onBoth(t, func(t *testing.T, be backend) {
		n1, n2 := be.node("n1", nodeOpts{}), be.node("n2", nodeOpts{})
		a, b := n1.dial(), n2.dial()
		b.join("", "r")
		eventuallyEqual(t, ids(b), clients(n1, "", "r"))
		subs := n2.cluster.Stats().Subscriptions

		be.restart()
		assert.Eventually(t, func() bool { return n2.cluster.Stats().Subscriptions > subs }, 2*waitFor, tick)
		eventuallyEqual(t, 1, be.subscribers(roomChannel("test", "", "r")))
		eventuallyEqual(t, ids(b), clients(n1, "", "r"), "n2 rewrote its rooms")
		// The publisher may lose the first broadcasts on its stale
		// connection: emit until one arrives.
		deadline := time.Now().Add(2 * waitFor)
		for {
			a.emit("", "to-room", "r", "back")
			if f, ok := b.nextWithin(200 * time.Millisecond); ok {
				require.Equal(t, msgFrame("", "msg", "back"), f)
				break
			}
			require.True(t, time.Now().Before(deadline), "no broadcast reached n2's room after the restart")
		}
	})
}

// TestSingleChannelMode: with ChannelsSingle every broadcast travels on
// one channel that every node receives, rooms or not (the design before
// sharding, kept for measurement and migrations).
func TestSingleChannelMode(t *testing.T) {
	onBoth(t, func(t *testing.T, be backend) {
		single := nodeOpts{cfg: func(c *Config) { c.Channels = ChannelsSingle }}
		n1, n2, n3 := be.node("n1", single), be.node("n2", single), be.node("n3", single)
		a, b, c := n1.dial(), n2.dial(), n3.dial()
		b.join("", "r")
		eventuallyEqual(t, ids(b), clients(n1, "", "r"))
		got, err := be.subscribers(roomChannel("test", "", "r"))()
		require.NoError(t, err)
		assert.Zero(t, got)
		eventuallyEqual(t, 3, be.subscribers(singleChannel("test")))

		before3 := received(n3)
		a.emit("", "to-room", "r", "x")
		b.expectMsg("", "x")
		assert.Eventually(t, func() bool { return received(n3) == before3+1 }, waitFor, tick,
			"n3 receives the room's broadcast though it has no member")
		c.expectNothing()
		b.emit("", "all", "all")
		a.expectMsg("", "all")
		c.expectMsg("", "all")
	})
}

// TestMixedChannelModes: a broadcast of a ChannelsSingle node reaches the
// sockets of a ChannelsSharded node (which listens on the single channel
// as its control channel) and is logged as a configuration mismatch; the
// other way round it does not arrive, hence "the same mode on every node".
func TestMixedChannelModes(t *testing.T) {
	be := standaloneBackend(t)
	n1 := be.node("n1", nodeOpts{cfg: func(c *Config) { c.Channels = ChannelsSingle }})
	n2 := be.node("n2", nodeOpts{})
	a, b := n1.dial(), n2.dial()
	a.emit("", "all", "from-single")
	b.expectMsg("", "from-single")
	a.expectMsg("", "from-single")
	b.emit("", "all", "from-sharded")
	b.expectMsg("", "from-sharded")
	a.expectNothing()
}

// TestBroadcastChannel: the channel of each kind of broadcast, and the
// hash tags that keep a (namespace, room) in one slot.
func TestBroadcastChannel(t *testing.T) {
	room := broadcastChannel("p", "/chat", socketio.BroadcastOptions{Rooms: []string{"r"}, Except: []string{"x"}})
	assert.Equal(t, "{p:5:/chat:r}:bc", room)
	assert.Equal(t, redisc.Slot("{p:5:/chat:r}"), redisc.Slot(room))
	ns := "{p:5:/chat}:bc"
	for _, opts := range []socketio.BroadcastOptions{
		{},
		{Rooms: []string{"r", "s"}},
		{Rooms: []string{"0123456789abcdefghij"}}, // a socket id
		{Except: []string{"r"}},
	} {
		if socketio.IsSocketID("0123456789abcdefghij") || len(opts.Rooms) != 1 {
			assert.Equal(t, ns, broadcastChannel("p", "/chat", opts), "%+v", opts)
		}
	}
	assert.Equal(t, redisc.Slot("{p:5:/chat}:all"), redisc.Slot(ns), "a namespace's channel shares its keys' slot")
	assert.Equal(t, "p:broadcast", channelFor(ChannelsSingle, "p", "/chat", socketio.BroadcastOptions{Rooms: []string{"r"}}))
	assert.Equal(t, room, channelFor(ChannelsSharded, "p", "/chat", socketio.BroadcastOptions{Rooms: []string{"r"}}))
	assert.Equal(t, "SPUBLISH", publishCommand(true))
	assert.Equal(t, "PUBLISH", publishCommand(false))
	// Every key of a namespace is of one slot.
	c := &Cluster{prefix: "p", node: "n"}
	slot := redisc.Slot(c.allKey("/chat"))
	for _, k := range []string{c.roomKey("/chat", "a}b"), c.sidKey("/chat", "s"), c.roomsKey("/chat"), c.nodeNSKey("/chat", "n")} {
		assert.Equal(t, slot, redisc.Slot(k), k)
	}
	assert.Equal(t, redisc.Slot(c.aliveKey("n")), redisc.Slot(c.spacesKey("n")))
	assert.Equal(t, redisc.Slot(c.aliveKey("n")), redisc.Slot(c.sweptKey("n")))
}

// TestJoinThenEmitAcrossNodes: a socket joins a new room on one node and,
// once the join is visible to the other nodes, a socket of another node
// emits to the room: the broadcast always arrives (the join is written
// once the room's channel is subscribed). 50 new rooms in a row.
func TestJoinThenEmitAcrossNodes(t *testing.T) {
	onBoth(t, func(t *testing.T, be backend) {
		n1, n2 := be.node("n1", nodeOpts{}), be.node("n2", nodeOpts{})
		a, b := n1.dial(), n2.dial()
		for i := range 50 {
			room := "room" + strconv.Itoa(i)
			require.Equal(t, "[true]", b.call("", "join", room)) // no wait for the subscription
			eventuallyEqual(t, []string{b.sid}, clients(n1, "", room))
			a.emit("", "to-room", room, i)
			b.expectMsg("", i)
		}
		assert.Zero(t, n1.cluster.Stats().Dropped)
	})
}

// TestShardedReceivesOnlyItsRooms: four nodes, 100 rooms, each node with
// members of 25 of them; node 0 emits once to every room. With
// ChannelsSharded each other node receives the 25 broadcasts of its
// rooms; with ChannelsSingle it receives all 100.
func TestShardedReceivesOnlyItsRooms(t *testing.T) {
	for _, mode := range []ChannelMode{ChannelsSharded, ChannelsSingle} {
		t.Run(mode.String(), func(t *testing.T) {
			be := standaloneBackend(t)
			o := nodeOpts{cfg: func(c *Config) { c.Channels = mode }}
			var nodes []*node
			var cls []*client
			for k := range 4 {
				n := be.node("n"+strconv.Itoa(k), o)
				c := n.dial()
				for r := k; r < 100; r += 4 {
					c.join("", "room"+strconv.Itoa(r))
				}
				nodes, cls = append(nodes, n), append(cls, c)
			}
			before := make([]uint64, 4)
			for k, n := range nodes {
				before[k] = received(n)
			}
			ns := nodes[0].srv.Of("")
			for r := range 100 {
				require.NoError(t, ns.To("room"+strconv.Itoa(r)).Emit("msg", r))
			}
			for k, c := range cls {
				for r := k; r < 100; r += 4 {
					c.expectMsg("", r)
				}
			}
			want := uint64(25)
			if mode == ChannelsSingle {
				want = 100
			}
			for k := 1; k < 4; k++ {
				n := nodes[k]
				assert.Eventually(t, func() bool { return received(n)-before[k] == want }, waitFor, tick,
					"node %d received %d broadcasts, want %d", k, received(n)-before[k], want)
			}
			time.Sleep(quiet)
			for k := 1; k < 4; k++ {
				assert.Equal(t, want, received(nodes[k])-before[k], "node %d", k)
				t.Logf("%s: node %d received %d of 100 room broadcasts", mode, k, received(nodes[k])-before[k])
			}
		})
	}
}

// TestEmitterChannels: an Emitter publishes on the channels of the nodes'
// mode (Config.Channels), with SPUBLISH on Redis Cluster: its broadcasts
// to a room, to a socket id and to a whole namespace reach the sockets of
// both nodes.
func TestEmitterChannels(t *testing.T) {
	for _, mode := range []ChannelMode{ChannelsSharded, ChannelsSingle} {
		t.Run(mode.String(), func(t *testing.T) {
			onBoth(t, func(t *testing.T, be backend) {
				o := nodeOpts{cfg: func(c *Config) { c.Channels = mode }}
				n1, n2 := be.node("n1", o), be.node("n2", o)
				a, b := n1.dial(), n2.dial()
				b.join("", "r")
				cfg := n1.cluster.cfgForTest()
				e, err := NewEmitter(cfg)
				require.NoError(t, err)
				defer e.Close()
				ctx := context.Background()
				require.NoError(t, e.Of("").To("r").Emit(ctx, "msg", "room"))
				b.expectMsg("", "room")
				require.NoError(t, e.Of("").To(a.sid).Emit(ctx, "msg", "id"))
				a.expectMsg("", "id")
				require.NoError(t, e.Of("").Emit(ctx, "msg", "all"))
				a.expectMsg("", "all")
				b.expectMsg("", "all")
				a.expectNothing()
			})
		})
	}
}

// testConfigs holds the Config each test node was made with.
var testConfigs sync.Map

// cfgForTest returns the Config the test harness made c with (for an
// Emitter on the same Redis and mode).
func (c *Cluster) cfgForTest() Config {
	v, _ := testConfigs.Load(c)
	cfg := v.(Config)
	cfg.Logger = nil
	return cfg
}
