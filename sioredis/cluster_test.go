package sioredis

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventuallyEqual waits until get() returns want (compared after each
// tick) and fails with the last value after waitFor.
func eventuallyEqual[T any](t *testing.T, want T, get func() (T, error), msgAndArgs ...any) {
	t.Helper()
	var last T
	var lastErr error
	ok := assert.Eventually(t, func() bool {
		last, lastErr = get()
		return lastErr == nil && assert.ObjectsAreEqual(want, last)
	}, waitFor, tick)
	if !ok {
		require.FailNow(t, fmt.Sprintf("never got %v; last %v (err %v)", want, last, lastErr), msgAndArgs...)
	}
}

func clients(n *node, ns, room string) func() ([]string, error) {
	return func() ([]string, error) { return n.srv.Of(ns).Clients(room) }
}

func rooms(n *node, ns, sid string) func() ([]string, error) {
	return func() ([]string, error) { return n.srv.Of(ns).Adapter().Rooms(sid) }
}

func TestCrossNodeRoomEmit(t *testing.T) { onBoth(t, testCrossNodeRoomEmit) }

func testCrossNodeRoomEmit(t *testing.T, be backend) {
	n1, n2, n3 := be.node("n1", nodeOpts{}), be.node("n2", nodeOpts{}), be.node("n3", nodeOpts{})
	a, b, c := n1.dial(), n2.dial(), n3.dial()
	b.join("", "r")
	c.join("", "r")

	a.emit("", "to-room", "r", "hello")
	b.expectMsg("", "hello")
	c.expectMsg("", "hello")
	a.expectNothing()

	require.Equal(t, "[true]", c.call("", "leave", "r"))
	a.emit("", "to-room", "r", "again")
	b.expectMsg("", "again")
	c.expectNothing()

	// A namespace-wide emit reaches every socket, the sender's included.
	b.emit("", "all", "everyone")
	for _, x := range []*client{a, b, c} {
		x.expectMsg("", "everyone")
	}

	// Rooms are per namespace.
	a.connectNS("/chat")
	b.connectNS("/chat")
	c.connectNS("/chat")
	b.join("/chat", "r")
	a.emit("/chat", "to-room", "r", "chat")
	b.expectMsg("/chat", "chat")
	c.join("", "r")
	a.emit("/chat", "to-room", "r", "chat2")
	b.expectMsg("/chat", "chat2")
	c.expectNothing()

	assert.Zero(t, n1.cluster.Stats().Dropped)
	assert.Zero(t, n1.cluster.Stats().Malformed)
}

func TestBroadcastExceptSender(t *testing.T) { onBoth(t, testBroadcastExceptSender) }

func testBroadcastExceptSender(t *testing.T, be backend) {
	n1, n2, n3 := be.node("n1", nodeOpts{}), be.node("n2", nodeOpts{}), be.node("n3", nodeOpts{})
	a, a2, b, c := n1.dial(), n1.dial(), n2.dial(), n3.dial()

	a.emit("", "bcast", "not-me")
	a2.expectMsg("", "not-me")
	b.expectMsg("", "not-me")
	c.expectMsg("", "not-me")
	a.expectNothing()

	// Broadcast to a room, except the sender, who is in it too.
	a.join("", "r")
	b.join("", "r")
	a.emit("", "bcast-room", "r", "room-not-me")
	b.expectMsg("", "room-not-me")
	a.expectNothing()
	a2.expectNothing()
	c.expectNothing()
}

func TestEmitToSocketIDOnAnotherNode(t *testing.T) { onBoth(t, testEmitToSocketIDOnAnotherNode) }

func testEmitToSocketIDOnAnotherNode(t *testing.T, be backend) {
	n1, n2, n3 := be.node("n1", nodeOpts{}), be.node("n2", nodeOpts{}), be.node("n3", nodeOpts{})
	a, b, c := n1.dial(), n2.dial(), n3.dial()

	a.emit("", "to-room", b.sid, "direct")
	b.expectMsg("", "direct")
	a.expectNothing()
	c.expectNothing()

	// Joining another socket's own-id room is refused, wherever it lives.
	require.Equal(t, "[false]", a.call("", "join", b.sid))
	require.Equal(t, "[true]", a.call("", "join", "lobby"))

	// To(id) of a socket of this node is not published at all.
	a.emit("", "to-room", "warm-up", "x") // a room nobody is in: published
	require.Eventually(t, func() bool { return n1.cluster.Stats().Published == 2 }, waitFor, tick)
	a.emit("", "to-room", a.sid, "self")
	a.expectMsg("", "self")
	time.Sleep(quiet)
	assert.Equal(t, uint64(2), n1.cluster.Stats().Published)
}

func TestClusterWideClientsAndRooms(t *testing.T) { onBoth(t, testClusterWideClientsAndRooms) }

func testClusterWideClientsAndRooms(t *testing.T, be backend) {
	nodes := []*node{be.node("n1", nodeOpts{}), be.node("n2", nodeOpts{}), be.node("n3", nodeOpts{})}
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	a, b, c := n1.dial(), n2.dial(), n3.dial()
	a.join("", "r")
	b.join("", "r")
	b.join("", "s")
	c.join("", "s")

	// A node reads its own writes at once.
	got, err := n2.srv.Of("").Clients("s")
	require.NoError(t, err)
	assert.Contains(t, got, b.sid)

	for _, n := range nodes {
		eventuallyEqual(t, ids(a, b, c), clients(n, "", ""), "all clients seen from %s", n.name)
		eventuallyEqual(t, ids(a, b), clients(n, "", "r"), "room r seen from %s", n.name)
		eventuallyEqual(t, ids(b, c), clients(n, "", "s"), "room s seen from %s", n.name)
		eventuallyEqual(t, []string{b.sid}, clients(n, "", b.sid), "own-id room seen from %s", n.name)
		eventuallyEqual(t, []string{"r", "s"}, rooms(n, "", b.sid), "rooms of b seen from %s", n.name)
		eventuallyEqual(t, []string{"s"}, rooms(n, "", c.sid), "rooms of c seen from %s", n.name)
		eventuallyEqual(t, []string{}, clients(n, "/chat", "r"), "rooms are per namespace")
	}

	require.Equal(t, "[true]", b.call("", "leave", "r"))
	eventuallyEqual(t, []string{a.sid}, clients(n3, "", "r"))
	eventuallyEqual(t, []string{"s"}, rooms(n1, "", b.sid))

	// A disconnected socket leaves every room on every node.
	c.close()
	for _, n := range nodes {
		eventuallyEqual(t, ids(a, b), clients(n, "", ""), "after c left, seen from %s", n.name)
		eventuallyEqual(t, []string{b.sid}, clients(n, "", "s"))
		eventuallyEqual(t, []string{}, rooms(n, "", c.sid))
	}
}

func TestOrderingAcrossNodes(t *testing.T) { onBoth(t, testOrderingAcrossNodes) }

func testOrderingAcrossNodes(t *testing.T, be backend) {
	n1, n2, n3 := be.node("n1", nodeOpts{}), be.node("n2", nodeOpts{}), be.node("n3", nodeOpts{})
	sender, local, b, c := n1.dial(), n1.dial(), n2.dial(), n3.dial()
	for _, x := range []*client{local, b, c} {
		x.join("", "r")
	}
	const events = 1000
	start := time.Now()
	for i := range events {
		sender.emit("", "seq", "r", i)
	}
	for _, x := range []*client{local, b, c} {
		for i := range events {
			require.Equal(t, msgFrame("", "seq", i), x.next(), "event %d at client %s", i, x.sid)
		}
	}
	t.Logf("%d events from one sender reached 3 clients on 3 nodes in order in %v", events, time.Since(start))
	assert.GreaterOrEqual(t, n1.cluster.Stats().Published, uint64(events))
	assert.GreaterOrEqual(t, n2.cluster.Stats().Received, uint64(events))
	assert.Zero(t, n1.cluster.Stats().Dropped)
}

func TestDeadNodeIsSwept(t *testing.T) {
	r := startRedis(t)
	n1, n2, n3 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{}), newNode(t, r, "n3", nodeOpts{})
	a, b, c1, c2 := n1.dial(), n2.dial(), n3.dial(), n3.dial()
	for _, x := range []*client{a, b, c1, c2} {
		x.join("", "r")
	}
	eventuallyEqual(t, ids(a, b, c1, c2), clients(n1, "", "r"))

	// n3 dies: its goroutines stop, nothing is cleaned up, its liveness
	// key is left to expire.
	require.NoError(t, n3.cluster.shutdown(false))
	died := time.Now()
	eventuallyEqual(t, ids(a, b), clients(n1, "", ""))
	took := time.Since(died)
	t.Logf("sockets of a dead node gone %v after it died (TTL %v)", took, testTTL)
	// TTL plus a sweep tick, plus a margin for a loaded machine.
	assert.Less(t, took, 3*testTTL, "the dead node's sockets should go within TTL plus a sweep tick")
	eventuallyEqual(t, ids(a, b), clients(n2, "", "r"))
	eventuallyEqual(t, []string{}, rooms(n1, "", c1.sid))
	assert.Equal(t, uint64(2), n1.cluster.Stats().Swept+n2.cluster.Stats().Swept)

	nodesLeft, err := redigo.Strings(r.do("SMEMBERS", "test:nodes"))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"n1", "n2"}, nodesLeft)
	// Nothing of n3 or of its sockets is left. (A pattern like test:*n3*
	// would also match the live sockets' keys whose random ids contain
	// "n3".)
	keys, err := redigo.Strings(r.do("KEYS", "*test:*"))
	require.NoError(t, err)
	for _, k := range keys {
		assert.NotContains(t, []string{"{test:0:}:node:n3", "{test:node:n3}:alive", "{test:node:n3}:ns"}, k)
		assert.NotContains(t, k, c1.sid)
		assert.NotContains(t, k, c2.sid)
	}

	// The survivors still talk.
	a.emit("", "to-room", "r", "still-here")
	a.expectMsg("", "still-here")
	b.expectMsg("", "still-here")
}

func TestCloseRemovesNodeAtOnce(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{ttl: 10 * time.Second}), newNode(t, r, "n2", nodeOpts{ttl: 10 * time.Second})
	a, b := n1.dial(), n2.dial()
	b.join("", "r")
	eventuallyEqual(t, ids(a, b), clients(n1, "", ""))

	require.NoError(t, n2.cluster.Close())
	got, err := n1.srv.Of("").Clients("")
	require.NoError(t, err)
	assert.Equal(t, []string{a.sid}, got, "a closed node's sockets go at once, without waiting for its TTL")
	assert.Zero(t, n1.cluster.Stats().Swept)
	n, err := redigo.Int(r.do("EXISTS", "{test:node:n2}:alive", "{test:node:n2}:ns", "{test:0:}:node:n2"))
	require.NoError(t, err)
	assert.Zero(t, n)
	require.NoError(t, n2.cluster.Close(), "Close is idempotent")

	// After Close the node's own sockets still get its broadcasts.
	b.emit("", "all", "local")
	b.expectMsg("", "local")
	a.expectNothing()
	assert.Equal(t, uint64(1), n2.cluster.Stats().Dropped)
	got, err = n2.srv.Of("").Clients("")
	require.ErrorIs(t, err, ErrClosed)
	assert.Equal(t, []string{b.sid}, got)
	require.Equal(t, "[true]", b.call("", "join", "after-close"), "the node stands alone after Close")
}

func TestRestartedNodeIDPurgesItsLeftovers(t *testing.T) {
	r := startRedis(t)
	n1 := newNode(t, r, "n1", nodeOpts{ttl: 10 * time.Second})
	n2 := newNode(t, r, "n2", nodeOpts{ttl: 10 * time.Second})
	a, b := n1.dial(), n2.dial()
	eventuallyEqual(t, ids(a, b), clients(n1, "", ""))
	require.NoError(t, n2.cluster.shutdown(false)) // crash, TTL far away

	again, err := New(Config{Addr: r.addr(), NodeID: "n2", Prefix: "test", TTL: 10 * time.Second, Logger: discardLogger})
	require.NoError(t, err)
	defer again.Close()
	got, err := n1.srv.Of("").Clients("")
	require.NoError(t, err)
	assert.Equal(t, []string{a.sid}, got, "a node restarted with the same id removes what its previous run left")
}

func TestSweptLiveNodeRewritesItsRooms(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	a, b := n1.dial(), n2.dial()
	b.join("", "r")
	eventuallyEqual(t, ids(a, b), clients(n1, "", ""))

	// As if n2 had been unreachable for longer than its TTL and swept.
	conn, err := redigo.Dial("tcp", r.addr())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Do("DEL", "{test:node:n2}:alive")
	require.NoError(t, err)
	_, err = redigo.Ints(purgeScript.Do(conn, "{test:0:}:node:n2", "{test:0:}", 1000))
	require.NoError(t, err)
	got, err := n1.srv.Of("").Clients("r")
	require.NoError(t, err)
	require.Empty(t, got)

	eventuallyEqual(t, []string{b.sid}, clients(n1, "", "r"), "n2 notices at its next refresh and rewrites its rooms")
	eventuallyEqual(t, ids(a, b), clients(n1, "", ""))
	// The counter goes up once the rewrite is done, just after the other
	// nodes can see it.
	assert.Eventually(t, func() bool { return n2.cluster.Stats().Resyncs >= 1 }, waitFor, tick)
}

func TestRedisOutage(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	sender, local, remote := n1.dial(), n1.dial(), n2.dial()
	local.join("", "r")
	remote.join("", "r")
	sender.emit("", "to-room", "r", "before")
	local.expectMsg("", "before")
	remote.expectMsg("", "before")
	eventuallyEqual(t, ids(local, remote), clients(n1, "", "r"))

	// A pump emits numbered events to room "p" every few milliseconds
	// from before Redis dies until after it is back.
	pumper, localP, remoteP := n1.dial(), n1.dial(), n2.dial()
	localP.join("", "p")
	remoteP.join("", "p")
	pump := startPump(pumper, "p")

	// Traffic while Redis dies and stays down.
	time.Sleep(100 * time.Millisecond)
	r.kill()
	killed := time.Now()
	goroutinesAtOutage := runtime.NumGoroutine()
	for i := 0; time.Since(killed) < 1500*time.Millisecond; i++ {
		payload := "during-" + strconv.Itoa(i)
		sender.emit("", "to-room", "r", payload)
		local.expectMsg("", payload) // local delivery goes on
		time.Sleep(20 * time.Millisecond)
	}
	remote.expectNothing()
	require.Eventually(t, func() bool { return n1.cluster.Stats().Dropped > 0 }, waitFor, tick)
	t.Logf("during the outage: n1 %+v", n1.cluster.Stats())

	got, err := n1.srv.Of("").Clients("r")
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, []string{local.sid}, got, "without Redis, Clients falls back to the local view")
	rs, err := n1.srv.Of("").Adapter().Rooms(local.sid)
	require.NoError(t, err, "the rooms of a local socket are known locally")
	assert.Equal(t, []string{"r"}, rs)

	// New sockets connect during the outage, and join: room names that
	// are socket ids are reserved by their format, which needs no Redis.
	late := n1.dial()
	require.Equal(t, "[true]", late.call("", "join", "r"))
	require.Equal(t, "[false]", late.call("", "join", remote.sid))
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutinesAtOutage+20, "goroutines pile up while Redis is down")

	// Redis comes back on the same port, empty (no persistence).
	r.start()
	back := time.Now()
	resumed := false
	for i := 0; !resumed && time.Since(back) < waitFor; i++ {
		sender.emit("", "to-room", "r", "probe-"+strconv.Itoa(i))
		if f, ok := remote.nextWithin(100 * time.Millisecond); ok {
			require.True(t, strings.Contains(f, "probe-"), "unexpected frame %q", f)
			resumed = true
		}
	}
	require.True(t, resumed, "cross-node delivery did not resume within %v", waitFor)
	t.Logf("cross-node delivery resumed %v after Redis came back", time.Since(back))

	// Exactly in order from here on.
	sender.emit("", "to-room", "r", "after")
	drainUntil(t, remote, msgFrame("", "msg", "after"))
	drainUntil(t, local, msgFrame("", "msg", "after"))
	drainUntil(t, late, msgFrame("", "msg", "after"))

	// Both nodes rewrote their membership into the empty Redis.
	for _, n := range []*node{n1, n2} {
		eventuallyEqual(t, ids(local, remote, late), clients(n, "", "r"), "room r seen from %s", n.name)
		eventuallyEqual(t, ids(sender, local, remote, late, pumper, localP, remoteP), clients(n, "", ""), "all seen from %s", n.name)
		assert.GreaterOrEqual(t, n.cluster.Stats().Resyncs, uint64(1), "%s resynced", n.name)
		assert.Eventually(t, func() bool { return n.cluster.Stats().Subscriptions >= 2 }, waitFor, tick, "%s subscribed again", n.name)
	}
	t.Logf("after: n1 %+v, n2 %+v", n1.cluster.Stats(), n2.cluster.Stats())

	// The pump's events reached the local receiver all, in order, and the
	// remote one in order, with the outage's gap, up to the last one.
	time.Sleep(200 * time.Millisecond)
	sent := pump.stop()
	require.Greater(t, sent, 100)
	for i := range sent {
		require.Equal(t, msgFrame("", "seq", i), localP.next(), "local receiver, event %d of %d", i, sent)
	}
	var seen []int
	for len(seen) == 0 || seen[len(seen)-1] < sent-1 {
		f := remoteP.next()
		var n int
		_, err := fmt.Sscanf(f, `5:::{"name":"seq","args":[%d]}`, &n)
		require.NoError(t, err, "frame %q", f)
		seen = append(seen, n)
	}
	require.True(t, slices.IsSorted(seen) && len(slices.Compact(slices.Clone(seen))) == len(seen), "remote order: %v", seen)
	assert.Less(t, len(seen), sent, "the outage's events are lost for the remote node")
	t.Logf("pump: %d events; the remote node got %d of them, in order", sent, len(seen))
}

func TestRedisHangs(t *testing.T) {
	r := startRedis(t)
	n1, n2, n3 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{}), newNode(t, r, "n3", nodeOpts{})
	sender, local, remote := n1.dial(), n1.dial(), n2.dial()
	local.join("", "r")
	remote.join("", "r")
	sender.emit("", "to-room", "r", "before")
	local.expectMsg("", "before")
	remote.expectMsg("", "before")

	// Redis hangs: connections stay open, nothing is answered.
	r.signal(syscall.SIGSTOP)
	t.Cleanup(func() { r.signal(syscall.SIGCONT) })
	hung := time.Now()
	var slowest time.Duration
	for i := 0; time.Since(hung) < 3*time.Second; i++ {
		payload := "hung-" + strconv.Itoa(i)
		start := time.Now()
		sender.emit("", "to-room", "r", payload)
		local.expectMsg("", payload)
		slowest = max(slowest, time.Since(start))
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("local delivery while Redis hangs: slowest %v", slowest)
	assert.Less(t, slowest, time.Second, "local delivery must not wait for a hung Redis")
	require.Eventually(t, func() bool { return n1.cluster.Stats().Dropped > 0 }, waitFor, tick)

	// A query gives up, the next ones fail at once.
	start := time.Now()
	_, err := n1.srv.Of("").Clients("r")
	require.ErrorIs(t, err, ErrUnavailable)
	t.Logf("first query during the hang failed after %v", time.Since(start))
	start = time.Now()
	_, err = n1.srv.Of("").Clients("r")
	require.ErrorIs(t, err, ErrUnavailable)
	// Fast: well under the 2s a query would wait (opTimeout, ioTimeout),
	// with room for a loaded machine.
	assert.Less(t, time.Since(start), 500*time.Millisecond, "queries fail fast once Redis is known down")

	// Close does not hang with Redis.
	start = time.Now()
	_ = n3.cluster.Close()
	took := time.Since(start)
	t.Logf("Close while Redis hangs took %v", took)
	assert.Less(t, took, 4*time.Second)

	r.signal(syscall.SIGCONT)
	back := time.Now()
	resumed := false
	for i := 0; !resumed && time.Since(back) < 2*waitFor; i++ {
		sender.emit("", "to-room", "r", "probe-"+strconv.Itoa(i))
		if f, ok := remote.nextWithin(100 * time.Millisecond); ok && strings.Contains(f, "probe-") {
			resumed = true
		}
	}
	require.True(t, resumed, "cross-node delivery did not resume")
	t.Logf("cross-node delivery resumed %v after Redis answered again", time.Since(back))
	eventuallyEqual(t, ids(local, remote), clients(n2, "", "r"))
}

// TestReadTimeout: with Config.ReadTimeout, a query to a hung Redis fails
// after that time rather than the default 2 s.
func TestReadTimeout(t *testing.T) {
	r := startRedis(t)
	n := newNode(t, r, "n1", nodeOpts{cfg: func(c *Config) { c.ReadTimeout = 200 * time.Millisecond }})
	_, err := n.srv.Of("").Clients("r")
	require.NoError(t, err)
	r.signal(syscall.SIGSTOP)
	t.Cleanup(func() { r.signal(syscall.SIGCONT) })
	start := time.Now()
	_, err = n.srv.Of("").Clients("r")
	took := time.Since(start)
	require.ErrorIs(t, err, ErrUnavailable)
	t.Logf("query to a hung Redis failed after %v", took)
	assert.Less(t, took, 1500*time.Millisecond)
}

// pump emits "seq" events with increasing numbers to a room from its
// own goroutine until stopped.
type pump struct {
	stopCh chan struct{}
	done   chan int
}

func startPump(c *client, room string) *pump {
	p := &pump{stopCh: make(chan struct{}), done: make(chan int)}
	go func() {
		i := 0
		defer func() { p.done <- i }()
		for {
			select {
			case <-p.stopCh:
				return
			case <-time.After(5 * time.Millisecond):
			}
			c.wmu.Lock()
			err := c.conn.WriteMessage(websocket.TextMessage, []byte(event("", "", "seq", room, i)))
			c.wmu.Unlock()
			if err != nil {
				return
			}
			i++
		}
	}()
	return p
}

// stop stops the pump and returns how many events it sent.
func (p *pump) stop() int {
	close(p.stopCh)
	return <-p.done
}

// drainUntil reads frames until want, failing after waitFor.
func drainUntil(t *testing.T, c *client, want string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		if f, ok := c.nextWithin(time.Until(deadline)); ok && f == want {
			return
		}
	}
	t.Fatalf("client %s never got %q", c.sid, want)
}

func TestNewValidatesConfig(t *testing.T) {
	_, err := New(Config{})
	require.Error(t, err)
	_, err = New(Config{Addr: "127.0.0.1:1", TTL: 10 * time.Millisecond})
	require.ErrorContains(t, err, "TTL")
	_, err = New(Config{Dial: (&net.Dialer{}).DialContext, Logger: discardLogger})
	require.ErrorContains(t, err, "Addr", "Dial does not replace Addr")
	for name, cfg := range map[string]Config{
		"negative DB":           {DB: -1},
		"negative DialTimeout":  {DialTimeout: -time.Second},
		"negative ReadTimeout":  {ReadTimeout: -time.Second},
		"negative WriteTimeout": {WriteTimeout: -time.Second},
		"negative PoolSize":     {PoolSize: -1},
	} {
		cfg.Addr, cfg.Logger = "127.0.0.1:1", discardLogger
		_, err = New(cfg)
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), "connect", "%s: refused before dialing", name)
	}

	// Nothing listens on a just-closed port: New fails rather than
	// pretending to be clustered.
	r := startRedis(t)
	addr := r.addr()
	r.kill()
	start := time.Now()
	_, err = New(Config{Addr: addr, Logger: discardLogger})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)
}

// TestDial: Config.Dial opens every connection of the node (here to a
// Redis whose address Addr does not name, as with a Sentinel), with
// DialTimeout as its deadline.
func TestDial(t *testing.T) {
	r := startRedis(t)
	var dials atomic.Int32
	var deadlineOK atomic.Bool
	deadlineOK.Store(true)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > 5*time.Second {
			deadlineOK.Store(false)
		}
		if network != "tcp" || addr != "redis-primary:6379" {
			return nil, fmt.Errorf("dialed %s %s", network, addr)
		}
		return (&net.Dialer{}).DialContext(ctx, "tcp", r.addr())
	}
	c, err := New(Config{Addr: "redis-primary:6379", Dial: dial, DialTimeout: 5 * time.Second, Prefix: "pooled", Logger: discardLogger})
	require.NoError(t, err)
	require.NotEmpty(t, c.NodeID())
	ok, err := redigo.Bool(r.do("EXISTS", "{pooled:node:"+c.NodeID()+"}:alive"))
	require.NoError(t, err)
	assert.True(t, ok)
	// The pool's first connection and the four long-lived ones (the
	// subscriber's at least: New waits for it).
	assert.GreaterOrEqual(t, dials.Load(), int32(2))
	assert.True(t, deadlineOK.Load(), "Dial's context ends after DialTimeout")
	require.NoError(t, c.Close())
	ok, err = redigo.Bool(r.do("EXISTS", "{pooled:node:"+c.NodeID()+"}:alive"))
	require.NoError(t, err)
	assert.False(t, ok)
}

// TestDialTimeout: a Redis that never answers the connection fails New
// after DialTimeout, not after the default second.
func TestDialTimeout(t *testing.T) {
	var remaining atomic.Int64
	remaining.Store(-1)
	hang := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dl, ok := ctx.Deadline(); ok {
			remaining.Store(int64(time.Until(dl)))
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	start := time.Now()
	_, err := New(Config{Addr: "127.0.0.1:6379", Dial: hang, DialTimeout: 100 * time.Millisecond, Logger: discardLogger})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	t.Logf("New failed after %v", time.Since(start))
	require.Positive(t, remaining.Load(), "Dial's context has a deadline")
	assert.LessOrEqual(t, time.Duration(remaining.Load()), 100*time.Millisecond)
}

// TestConnOptions: DB puts the cluster's keys in that database and
// ClientName names the node's connections.
func TestConnOptions(t *testing.T) {
	r := startRedis(t)
	c, err := New(Config{Addr: r.addr(), DB: 3, ClientName: "siogo-node", Prefix: "db", Logger: discardLogger})
	require.NoError(t, err)
	defer c.Close()
	conn, err := redigo.Dial("tcp", r.addr(), redigo.DialDatabase(3))
	require.NoError(t, err)
	defer conn.Close()
	ok, err := redigo.Bool(conn.Do("EXISTS", "{db:node:"+c.NodeID()+"}:alive"))
	require.NoError(t, err)
	assert.True(t, ok, "the liveness key is in database 3")
	ok, err = redigo.Bool(r.do("EXISTS", "{db:node:"+c.NodeID()+"}:alive"))
	require.NoError(t, err)
	assert.False(t, ok, "and not in database 0")
	list, err := redigo.String(conn.Do("CLIENT", "LIST"))
	require.NoError(t, err)
	assert.Contains(t, list, "name=siogo-node ")
	assert.Contains(t, list, "db=3 ")
}

// TestPoolSize: Config.PoolSize bounds the query pool, and the idle
// connections it keeps.
func TestPoolSize(t *testing.T) {
	r := startRedis(t)
	for size, want := range map[int][2]int{0: {64, 8}, 2: {2, 2}, 20: {20, 8}} {
		c, err := New(Config{Addr: r.addr(), PoolSize: size, Logger: discardLogger})
		require.NoError(t, err)
		assert.Equal(t, want[0], c.pool.MaxActive, "PoolSize %d: connections", size)
		assert.Equal(t, want[1], c.pool.MaxIdle, "PoolSize %d: idle connections", size)
		require.NoError(t, c.Close())
	}
}
