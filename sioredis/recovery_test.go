package sioredis

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMembershipFloodCoalescesResyncs: one client churns through
// namespace connects and disconnects, joins and leaves far faster than a
// tiny membership queue takes them. Every overflow makes a rewrite of the
// node's membership due, but the node rewrites at most once per
// ResyncInterval, and afterwards every node's counts are right.
func TestMembershipFloodCoalescesResyncs(t *testing.T) {
	onBoth(t, testMembershipFloodCoalescesResyncs)
}

func testMembershipFloodCoalescesResyncs(t *testing.T, be backend) {
	const interval = 500 * time.Millisecond
	n1 := be.node("n1", nodeOpts{cfg: func(c *Config) {
		c.MembershipQueue = 2
		c.ResyncInterval = interval
	}})
	n2 := be.node("n2", nodeOpts{})
	flooder, other, remote := n1.dial(), n1.dial(), n2.dial()
	for _, c := range []*client{other, remote} {
		c.connectNS("/chat")
		c.join("", "r")
	}
	eventuallyEqual(t, ids(other, remote), clients(n2, "", "r"))
	before := n1.cluster.Stats()

	// The flooder's frames (connect answers...) are read as they come,
	// until the ack of its last packet.
	finalAck := "6:::99+[true]"
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		for f := range flooder.frames {
			if f == finalAck {
				return
			}
		}
	}()
	// Joins and leaves in "" (run in order by the socket's handlers) and
	// connects and disconnects of /chat (run by the session).
	start := time.Now()
	const rounds = 2000
	for range rounds {
		flooder.send("1::/chat")
		flooder.send(event("", "", "join", "r"))
		flooder.send(event("", "", "join", "x"))
		flooder.send("0::/chat")
		flooder.send(event("", "", "leave", "r"))
		flooder.send(event("", "", "leave", "x"))
	}
	flooder.send("1::/chat")
	flooder.send(event("", "99+", "join", "final"))
	select {
	case <-acked:
	case <-time.After(4 * waitFor):
		t.Fatal("the flood was not handled")
	}
	took := time.Since(start)

	// Counts are right on both nodes once the writer caught up.
	for _, n := range []*node{n1, n2} {
		eventuallyEqual(t, ids(flooder, other, remote), clients(n, "/chat", ""), "/chat seen from %s", n.name)
		eventuallyEqual(t, ids(other, remote), clients(n, "", "r"), "room r seen from %s", n.name)
		eventuallyEqual(t, []string{}, clients(n, "", "x"), "room x seen from %s", n.name)
		eventuallyEqual(t, []string{flooder.sid}, clients(n, "", "final"), "room final seen from %s", n.name)
		eventuallyEqual(t, []string{"final"}, rooms(n, "", flooder.sid), "rooms of the flooder seen from %s", n.name)
	}
	after := n1.cluster.Stats()
	overflows, resyncs := after.Overflows-before.Overflows, after.Resyncs-before.Resyncs
	elapsed := time.Since(start)
	t.Logf("%d membership changes in %v: %d overflows, %d full rewrites (interval %v)", 6*rounds, took, overflows, resyncs, interval)
	require.Positive(t, overflows, "the flood must overflow the queue for this test to mean anything")
	assert.LessOrEqual(t, resyncs, uint64(elapsed/interval)+2, "at most one full rewrite per ResyncInterval")
	assert.Positive(t, resyncs, "an overflow makes a rewrite due")
}

// TestBroadcastSoonAfterRedisRestart: after Redis restarts, the first
// broadcast made once the cluster is subscribed again is delivered to the
// other node; it is not lost on the publisher's stale connection.
func TestBroadcastSoonAfterRedisRestart(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	sender, remote := n1.dial(), n2.dial()
	remote.join("", "r")
	eventuallyEqual(t, []string{remote.sid}, clients(n1, "", "r"))
	sender.emit("", "to-room", "r", "before")
	remote.expectMsg("", "before")

	subs := n2.cluster.Stats().Subscriptions
	r.kill()
	r.start()
	back := time.Now()
	require.Eventually(t, func() bool { return n2.cluster.Stats().Subscriptions > subs }, waitFor, tick, "n2 subscribes again")
	t.Logf("n2 subscribed again %v after Redis came back", time.Since(back))
	// The scenario: one broadcast, a second after Redis is back.
	time.Sleep(time.Until(back.Add(time.Second)))
	sender.emit("", "to-room", "r", "first-after")
	remote.expectMsg("", "first-after")
	assert.Zero(t, n1.cluster.Stats().Dropped)
}

// TestJoinDuringOutage: while Redis is down, joins of ordinary rooms are
// accepted and delivered locally; once Redis is back the other node
// counts them. A room named like another node's socket id is still
// refused: it may be that socket's private room.
func TestJoinDuringOutage(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	a, b := n1.dial(), n2.dial()
	eventuallyEqual(t, ids(a, b), clients(n2, "", ""))

	r.kill()
	a.join("", "during")
	late := n1.dial() // a session opened during the outage
	late.join("", "during")
	require.Equal(t, "[false]", a.call("", "join", b.sid), "another node's socket's private room, unverifiable now")
	require.Equal(t, "[true]", a.call("", "join", "not-an-id-but-20-ch!"), "a 20-character name outside the id alphabet is no socket id")
	a.emit("", "to-room", "during", "local")
	a.expectMsg("", "local")
	late.expectMsg("", "local")
	got, err := n1.srv.Of("").Clients("during")
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, ids(a, late), got)

	r.start()
	for _, n := range []*node{n1, n2} {
		eventuallyEqual(t, ids(a, late), clients(n, "", "during"), "room seen from %s", n.name)
		eventuallyEqual(t, ids(a, b, late), clients(n, "", ""), "namespace seen from %s", n.name)
	}
	eventuallyEqual(t, []string{b.sid}, clients(n1, "", b.sid), "b's private room holds b only")
	// Cross-node delivery to the rooms joined during the outage.
	deadline := time.Now().Add(waitFor)
	for {
		b.emit("", "to-room", "during", "remote")
		f, ok := a.nextWithin(100 * time.Millisecond)
		if ok {
			require.True(t, strings.Contains(f, "remote"), "unexpected frame %q", f)
			break
		}
		require.True(t, time.Now().Before(deadline), "no cross-node delivery after the outage")
	}
	drainUntil(t, late, msgFrame("", "msg", "remote"))
}

// TestWriteSkipsOpsCoveredByResync: the ops queued before a resync took
// its floor are not applied after it. Among them one may be missing (it
// overflowed the queue), and applying the others on top of the snapshot
// would undo what the missing one did.
func TestWriteSkipsOpsCoveredByResync(t *testing.T) {
	r := startRedis(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &Cluster{
		ctx:    ctx,
		conns:  make(map[redigo.Conn]bool),
		warn:   newRateLog(discardLogger),
		dialFn: func(ctx context.Context) (redigo.Conn, error) { return redigo.DialContext(ctx, "tcp", r.addr()) },
		floor:  5,
	}
	l := link{closeNow: true}
	defer c.linkFail(&l, nil)
	require.NoError(t, c.write(&l, []op{
		{seq: 4, cmds: []cmd{{"SADD", []any{"k", "before-floor"}}}},
		{seq: 5, cmds: []cmd{{"SADD", []any{"k", "at-floor"}}}},
		{seq: 6, cmds: []cmd{{"SADD", []any{"k", "after-floor"}}}},
	}))
	got, err := redigo.Strings(r.do("SMEMBERS", "k"))
	require.NoError(t, err)
	assert.Equal(t, []string{"after-floor"}, got)
}

// TestResyncNeverShrinksMembership: while a node rewrites its membership
// again and again, the other nodes never see fewer of its sockets in a
// room than it has (a rewrite does not start by removing everything).
func TestResyncNeverShrinksMembership(t *testing.T) {
	r := startRedis(t)
	n1 := newNode(t, r, "n1", nodeOpts{cfg: func(c *Config) { c.ResyncInterval = time.Millisecond }})
	n2 := newNode(t, r, "n2", nodeOpts{})
	const sockets = 20
	var cs []*client
	for range sockets {
		c := n1.dial()
		c.join("", "r")
		cs = append(cs, c)
	}
	eventuallyEqual(t, ids(cs...), clients(n2, "", "r"))

	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		least := sockets
		conn, err := redigo.Dial("tcp", r.addr())
		if err != nil {
			done <- -1
			return
		}
		defer conn.Close()
		for {
			select {
			case <-stop:
				done <- least
				return
			default:
			}
			n, err := redigo.Int(conn.Do("SCARD", "{test:0:}:room:r"))
			if err == nil {
				least = min(least, n)
			}
		}
	}()
	before := n1.cluster.Stats().Resyncs
	const rewrites = 30
	for i := range rewrites {
		n1.cluster.dirty.Store(true)
		n1.cluster.kickWriter()
		require.Eventually(t, func() bool { return n1.cluster.Stats().Resyncs >= before+uint64(i+1) }, waitFor, time.Millisecond)
	}
	close(stop)
	least := <-done
	assert.Equal(t, sockets, least, "fewest members of room r seen in Redis during %d rewrites", rewrites)
	eventuallyEqual(t, ids(cs...), clients(n2, "", "r"))
	eventuallyEqual(t, ids(cs...), clients(n2, "", ""))
}

// TestResyncRemovesSocketsGoneMeanwhile: a socket that disconnects while
// the node's writes are being dropped (a resync is pending) is removed
// from Redis by the resync, rooms and all.
func TestResyncRemovesSocketsGoneMeanwhile(t *testing.T) {
	onBoth(t, testResyncRemovesSocketsGoneMeanwhile)
}

func testResyncRemovesSocketsGoneMeanwhile(t *testing.T, be backend) {
	n1 := be.node("n1", nodeOpts{cfg: func(c *Config) { c.ResyncInterval = time.Second }})
	n2 := be.node("n2", nodeOpts{})
	a, b := n1.dial(), n1.dial()
	a.join("", "r")
	b.join("", "r")
	b.join("", "s")
	eventuallyEqual(t, ids(a, b), clients(n2, "", "r"))

	// A resync now, then another one due but held back by the interval:
	// meanwhile the writer drops b's LeaveAll.
	before := n1.cluster.Stats().Resyncs
	n1.cluster.dirty.Store(true)
	n1.cluster.kickWriter()
	require.Eventually(t, func() bool { return n1.cluster.Stats().Resyncs > before }, waitFor, time.Millisecond)
	n1.cluster.dirty.Store(true)
	b.close()
	require.Eventually(t, func() bool { return n1.srv.SessionCount() == 1 }, waitFor, tick)

	eventuallyEqual(t, []string{a.sid}, clients(n2, "", "r"))
	eventuallyEqual(t, []string{}, clients(n2, "", "s"))
	eventuallyEqual(t, []string{a.sid}, clients(n2, "", ""))
	eventuallyEqual(t, []string{}, rooms(n2, "", b.sid))
	assert.Equal(t, before+2, n1.cluster.Stats().Resyncs)
}

// TestMembershipBackSoonAfterRedisRestart: when Redis restarts empty, a
// node rewrites its membership as soon as it subscribes again, not at its
// next liveness tick (TTL/3, here 10 s).
func TestMembershipBackSoonAfterRedisRestart(t *testing.T) {
	r := startRedis(t)
	o := nodeOpts{ttl: 30 * time.Second}
	n1, n2 := newNode(t, r, "n1", o), newNode(t, r, "n2", o)
	a := n1.dial()
	a.join("", "r")
	eventuallyEqual(t, []string{a.sid}, clients(n2, "", "r"))

	r.kill()
	r.start()
	back := time.Now()
	eventuallyEqual(t, []string{a.sid}, clients(n2, "", "r"), "n1's membership is back")
	took := time.Since(back)
	t.Logf("membership back %v after Redis restarted empty (liveness tick %v)", took, 10*time.Second)
	assert.Less(t, took, 2*time.Second)
}

// TestNamespaceEntriesLostAreRewritten: Redis loses every key of a
// namespace while the node's liveness key survives (on Redis Cluster, the
// master of the namespace's slot restarted empty, the one of the node's
// liveness key did not). The node notices at its refreshes
// (checkNamespaces) and rewrites its membership, so the other nodes see
// its sockets again; nothing else would make it rewrite.
func TestNamespaceEntriesLostAreRewritten(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	a := n1.dial()
	a.join("", "r")
	eventuallyEqual(t, []string{a.sid}, clients(n2, "", "r"))
	before := n1.cluster.Stats().Resyncs

	keys, err := redigo.Strings(r.do("KEYS", nsTag("test", "")+"*"))
	require.NoError(t, err)
	require.NotEmpty(t, keys)
	for _, k := range keys {
		_, err := r.do("DEL", k)
		require.NoError(t, err)
	}
	gone, err := clients(n2, "", "r")()
	require.NoError(t, err)
	require.Empty(t, gone, "the namespace's entries are gone")

	eventuallyEqual(t, []string{a.sid}, clients(n2, "", "r"))
	eventuallyEqual(t, []string{a.sid}, clients(n2, "", ""))
	assert.Greater(t, n1.cluster.Stats().Resyncs, before)
}

// TestQueryRightAfterRedisRestart: Redis restarts while the node's pooled
// query connections were in use less than a second ago (too recently for
// the idle PING on borrow). The first query after the restart does not
// fail on one of those dead connections: exec runs it again on a live one
// and has the other old ones checked before use.
func TestQueryRightAfterRedisRestart(t *testing.T) {
	r := startRedis(t)
	n1 := newNode(t, r, "n1", nodeOpts{})
	ctx := context.Background()
	require.NoError(t, n1.cluster.Register(ctx, "sid-1", "10.0.0.1:80"))
	for range 3 {
		// Several connections in the pool, all used just now.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				_, err := n1.cluster.Lookup(ctx, "sid-1")
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		used := time.Now()
		r.kill()
		r.start()
		if time.Since(used) > 800*time.Millisecond {
			t.Logf("the restart took %v: the idle check would have caught the dead connections", time.Since(used))
		}
		for i := range 4 {
			addr, err := n1.cluster.Lookup(ctx, "sid-1")
			require.NoError(t, err, "lookup %d after the restart", i)
			assert.Contains(t, []string{"", "10.0.0.1:80"}, addr) // "" until the node rewrites its entries
		}
	}
}
