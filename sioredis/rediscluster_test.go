package sioredis

import (
	"context"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/mna/redisc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/clustertest"
)

// Tests on a real Redis Cluster (three masters started by the test,
// clustertest.StartRedisCluster): the nodes use Config.ClusterAddrs.

// clusterNode starts a node on the Redis Cluster rc.
func clusterNode(t testing.TB, rc *clustertest.RedisCluster, name string, o nodeOpts) *node {
	t.Helper()
	edit := o.cfg
	o.cfg = func(c *Config) {
		c.ClusterAddrs = rc.Addrs()
		if edit != nil {
			edit(c)
		}
	}
	return newNode(t, nil, name, o)
}

// clusterDo runs one command on the master that holds key's slot.
func clusterDo(t testing.TB, rc *clustertest.RedisCluster, key string, cmd string, args ...any) (any, error) {
	t.Helper()
	c := &redisc.Cluster{StartupNodes: rc.Addrs(), DialOptions: []redigo.DialOption{redigo.DialConnectTimeout(time.Second)}}
	defer c.Close()
	require.NoError(t, c.Refresh())
	conn := c.Get()
	defer conn.Close()
	require.NoError(t, redisc.BindConn(conn, key))
	return conn.Do(cmd, args...)
}

// shardSubscribers returns how many connections subscribe to the sharded
// channel ch (PUBSUB SHARDNUMSUB on the channel's master).
func shardSubscribers(t testing.TB, rc *clustertest.RedisCluster, ch string) func() (int, error) {
	return func() (int, error) {
		v, err := redigo.Values(clusterDo(t, rc, ch, "PUBSUB", "SHARDNUMSUB", ch))
		if err != nil || len(v) != 2 {
			return 0, err
		}
		return redigo.Int(v[1], nil)
	}
}

func TestRedisClusterBasics(t *testing.T) {
	rc := clustertest.StartRedisCluster(t)
	n1 := clusterNode(t, rc, "n1", nodeOpts{sessions: true})
	n2 := clusterNode(t, rc, "n2", nodeOpts{sessions: true})
	n3 := clusterNode(t, rc, "n3", nodeOpts{sessions: true})
	// Before any socket a node needs two channels (control and its own),
	// so one master at least holds none of its channels: its subscriber
	// connection there answers PING plainly, which is no failure.
	time.Sleep(3 * testTTL / 3)
	assert.Equal(t, uint64(1), n1.cluster.Stats().Subscriptions, "no resubscription")
	a, b, c := n1.dial(), n2.dial(), n3.dial()

	b.join("", "r")
	c.join("", "r")
	eventuallyEqual(t, ids(b, c), clients(n1, "", "r"))
	a.emit("", "to-room", "r", "hello")
	b.expectMsg("", "hello")
	c.expectMsg("", "hello")
	a.expectNothing()

	b.emit("", "all", "everyone")
	for _, x := range []*client{a, b, c} {
		x.expectMsg("", "everyone")
	}
	a.emit("", "to-room", c.sid, "direct")
	c.expectMsg("", "direct")

	eventuallyEqual(t, ids(a, b, c), clients(n2, "", ""))
	n, err := n1.srv.Of("").RoomSize(context.Background(), "r")
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	// The session directory: n1 finds b's session at n2.
	addr, err := n1.cluster.Lookup(context.Background(), b.sid)
	require.NoError(t, err)
	assert.Equal(t, n2.hs.Listener.Addr().String(), addr)

	// A killed node is swept.
	require.NoError(t, n3.cluster.shutdown(false))
	eventuallyEqual(t, ids(a, b), clients(n1, "", ""))
	eventuallyEqual(t, ids(b), clients(n1, "", "r"))
	addr, err = n1.cluster.Lookup(context.Background(), c.sid)
	require.NoError(t, err)
	assert.Empty(t, addr)
	assert.Zero(t, n1.cluster.Stats().Dropped)
	assert.Zero(t, n1.cluster.Stats().Malformed)
}

// moveSlot assigns slot (holding no keys) to the master at to, on every
// master: Redis then ends the sharded subscriptions of the slot's
// channels on the old master (a resharding, as redis-cli --cluster
// reshard does it for an empty slot).
func moveSlot(t *testing.T, rc *clustertest.RedisCluster, slot int, to string) {
	t.Helper()
	do := func(addr, cmd string, args ...any) any {
		c, err := redigo.Dial("tcp", addr, redigo.DialConnectTimeout(time.Second))
		require.NoError(t, err)
		defer c.Close()
		v, err := c.Do(cmd, args...)
		require.NoError(t, err, "%s %s %v", addr, cmd, args)
		return v
	}
	id, err := redigo.String(do(to, "CLUSTER", "MYID"), nil)
	require.NoError(t, err)
	for _, a := range rc.Addrs() {
		do(a, "CLUSTER", "SETSLOT", slot, "NODE", id)
	}
}

// TestRedisClusterResharding: the slot of a room's channel moves to
// another master while a node is subscribed to it; the node follows it
// (Redis ends the subscription; the node refreshes its slot map and
// subscribes on the new master) and the publisher follows the MOVED
// reply: broadcasts to the room arrive again.
func TestRedisClusterResharding(t *testing.T) {
	rc := clustertest.StartRedisCluster(t)
	n1, n2 := clusterNode(t, rc, "n1", nodeOpts{}), clusterNode(t, rc, "n2", nodeOpts{})
	a, b := n1.dial(), n2.dial()
	b.join("", "r")
	ch := roomChannel("test", "", "r")
	a.emit("", "to-room", "r", "before")
	b.expectMsg("", "before")

	slot := redisc.Slot(ch)
	owner, err := n2.cluster.topo.addrOf(ch)
	require.NoError(t, err)
	var to string
	for _, addr := range rc.Addrs() {
		if addr != owner {
			to = addr
			break
		}
	}
	moveSlot(t, rc, slot, to)
	eventuallyEqual(t, 1, shardSubscribers(t, rc, ch), "n2 subscribed on the slot's new master")
	deadline := time.Now().Add(2 * waitFor)
	for {
		a.emit("", "to-room", "r", "after")
		if f, ok := b.nextWithin(200 * time.Millisecond); ok {
			require.Equal(t, msgFrame("", "msg", "after"), f)
			break
		}
		require.True(t, time.Now().Before(deadline), "no broadcast reached the room after the resharding")
	}
}
