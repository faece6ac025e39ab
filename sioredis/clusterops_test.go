package sioredis

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sioclient "github.com/siogo/siogo/client"
	"github.com/siogo/siogo/socketio"
)

// Cluster-wide Fetch, RemoteSocket operations, broadcasts with acks and
// server events on three nodes, with clients of the package client
// speaking Socket.IO 0.9 and v5 (Engine.IO v4, Socket.IO v5).

// newOpsNode is newNode whose server takes the handshake's user from the
// query ("?user=name": Handshake.User {"name": name}) and answers
// "whoami" with the socket's id.
func newOpsNode(t *testing.T, r *redisServer, name string) *node {
	t.Helper()
	return newOpsNodeWith(t, r, name, nodeOpts{})
}

// newOpsNodeWith is newOpsNode with o's prefix, TTL and Cluster config.
func newOpsNodeWith(t *testing.T, r *redisServer, name string, o nodeOpts) *node {
	t.Helper()
	o.srv = func(c *socketio.Config) {
		c.Authorize = func(_ context.Context, hs *socketio.Handshake) (any, error) {
			return map[string]string{"name": hs.Query.Get("user")}, nil
		}
	}
	n := newNode(t, r, name, o)
	for _, ns := range []string{"", "/chat"} {
		must(n.srv.Of(ns).On("whoami", func(s *socketio.Socket) string { return s.ID() }))
	}
	return n
}

// peer is a client of the package client connected to a node.
type peer struct {
	t    *testing.T
	c    *sioclient.Client
	id   string
	user string
	node *node
	asks chan string   // the "ask" events received (their first argument)
	msgs chan string   // the "msg" events received
	gone chan struct{} // closed when the server disconnected the namespace
}

// dialPeer connects a client of proto to n as user. With ack it answers
// "ask" with user + ":" + its argument; without, it never answers.
func dialPeer(t *testing.T, n *node, proto sioclient.Protocol, user string, ack bool) *peer {
	t.Helper()
	p := &peer{t: t, user: user, node: n, asks: make(chan string, 64), msgs: make(chan string, 64), gone: make(chan struct{})}
	var once sync.Once
	opts := &sioclient.Options{Protocol: proto, NoReconnect: true,
		OnDisconnect: func(*sioclient.Namespace, error) { once.Do(func() { close(p.gone) }) }}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := sioclient.Dial(ctx, n.hs.URL+"/?user="+url.QueryEscape(user), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	p.c = c
	if ack {
		require.NoError(t, c.On("ask", func(q string) string {
			p.asks <- q
			return user + ":" + q
		}))
	} else {
		require.NoError(t, c.OnRaw("ask", func(args []json.RawMessage, _ sioclient.AckFunc) {
			var q string
			_ = json.Unmarshal(args[0], &q)
			p.asks <- q
		}))
	}
	require.NoError(t, c.On("msg", func(s string) { p.msgs <- s }))
	res, err := c.EmitWithAck(ctx, "whoami")
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.NoError(t, json.Unmarshal(res[0], &p.id))
	require.True(t, socketio.IsSocketID(p.id), "socket id %q", p.id)
	return p
}

func (p *peer) join(room string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	res, err := p.c.EmitWithAck(ctx, "join", room)
	require.NoError(p.t, err)
	require.Equal(p.t, `[true]`, raw(res))
}

// expect waits for a value on ch.
func expect(t *testing.T, ch <-chan string, want string, what string) {
	t.Helper()
	select {
	case got := <-ch:
		require.Equal(t, want, got, what)
	case <-time.After(waitFor):
		t.Fatalf("%s: nothing within %v", what, waitFor)
	}
}

func raw(args []json.RawMessage) string {
	b, _ := json.Marshal(args)
	return string(b)
}

func peerIDs(ps ...*peer) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.id
	}
	slices.Sort(out)
	return out
}

func fetchedIDs(rs []*socketio.RemoteSocket) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// watchChannel subscribes to a channel of r and collects its messages.
func watchChannel(t *testing.T, r *redisServer, channel string) func() [][]byte {
	t.Helper()
	conn, err := redigo.Dial("tcp", r.addr(), r.dialOptions(time.Second)...)
	require.NoError(t, err)
	psc := redigo.PubSubConn{Conn: conn}
	require.NoError(t, psc.Subscribe(channel))
	subscribed := make(chan struct{})
	var mu sync.Mutex
	var got [][]byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			switch v := psc.Receive().(type) {
			case redigo.Message:
				mu.Lock()
				got = append(got, v.Data)
				mu.Unlock()
			case redigo.Subscription:
				close(subscribed)
			case error:
				return
			}
		}
	}()
	<-subscribed
	t.Cleanup(func() {
		_ = conn.Close()
		<-done
	})
	return func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// Fetch describes the sockets of every node (rooms, user, node), by room,
// by id and with Except; a RemoteSocket joins, leaves, is emitted to and
// disconnected wherever it is; the selection operations reach all three
// nodes.
func TestFetchAndRemoteSocketOpsOnThreeNodes(t *testing.T) {
	r := startRedis(t)
	n1, n2, n3 := newOpsNode(t, r, "n1"), newOpsNode(t, r, "n2"), newOpsNode(t, r, "n3")
	ann := dialPeer(t, n1, sioclient.Protocol09, "ann", true)
	bob := dialPeer(t, n2, sioclient.ProtocolV5, "bob", true)
	cat := dialPeer(t, n3, sioclient.Protocol09, "cat", true)
	dan := dialPeer(t, n3, sioclient.ProtocolV5, "dan", true)
	for _, p := range []*peer{ann, bob, cat, dan} {
		p.join("lobby")
	}
	bob.join("extra")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ns := n1.srv.Of("")

	all, err := ns.To("lobby").Fetch(ctx)
	require.NoError(t, err)
	require.Equal(t, peerIDs(ann, bob, cat, dan), fetchedIDs(all))
	for _, rs := range all {
		var p *peer
		for _, x := range []*peer{ann, bob, cat, dan} {
			if x.id == rs.ID {
				p = x
			}
		}
		assert.Equal(t, p.node.name, rs.Node, p.user)
		assert.JSONEq(t, `{"name":"`+p.user+`"}`, string(rs.User), p.user)
		want := []string{"lobby"}
		if p == bob {
			want = []string{"extra", "lobby"}
		}
		assert.Equal(t, want, rs.Rooms, p.user)
		assert.Equal(t, p == ann, rs.Local() != nil, "Local is n1's sockets only")
	}
	const rounds = 50
	start := time.Now()
	for range rounds {
		_, err := ns.To("lobby").Fetch(ctx)
		require.NoError(t, err)
	}
	t.Logf("Fetch of 4 sockets on 3 nodes: %v per call (liveness read, request, 2 answers)", time.Since(start)/rounds)
	got, err := ns.To(cat.id).Fetch(ctx)
	require.NoError(t, err)
	require.Len(t, got, 1, "by id")
	assert.Equal(t, "n3", got[0].Node)
	got, err = ns.Except(ann.id, dan.id).Fetch(ctx)
	require.NoError(t, err)
	assert.Equal(t, peerIDs(bob, cat), fetchedIDs(got))
	got, err = n2.srv.Of("/chat").Except().Fetch(ctx)
	require.NoError(t, err)
	assert.Empty(t, got, "nobody in /chat")

	// bob, on n2, through n1.
	var rbob *socketio.RemoteSocket
	for _, rs := range all {
		if rs.ID == bob.id {
			rbob = rs
		}
	}
	require.NoError(t, rbob.Join(ctx, "vip"))
	require.NoError(t, rbob.Leave(ctx, "extra"))
	got, err = ns.To(bob.id).Fetch(ctx)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, []string{"lobby", "vip"}, got[0].Rooms)
	require.NoError(t, rbob.Emit("msg", "for bob"))
	expect(t, bob.msgs, "for bob", "an emit by id to another node")

	// The selection operations, from n2, reach all three nodes.
	sel := n2.srv.Of("").To("lobby")
	require.NoError(t, sel.Join(ctx, "all3"))
	ids, err := n3.srv.Of("").To("all3").SocketIDs(ctx)
	require.NoError(t, err)
	assert.Equal(t, peerIDs(ann, bob, cat, dan), ids)
	require.NoError(t, n2.srv.Of("").To("all3").Except(cat.id).Leave(ctx, "all3"))
	got, err = n1.srv.Of("").To("all3").Fetch(ctx)
	require.NoError(t, err)
	assert.Equal(t, peerIDs(cat), fetchedIDs(got))

	// dan, on n3, disconnected through n1; then everyone else from n2.
	for _, rs := range all {
		if rs.ID == dan.id {
			require.NoError(t, rs.Disconnect(ctx, false))
		}
	}
	select {
	case <-dan.gone:
	case <-time.After(waitFor):
		t.Fatal("dan was not disconnected")
	}
	eventuallyEqual(t, peerIDs(ann, bob, cat), func() ([]string, error) {
		return n1.srv.Of("").To("lobby").SocketIDs(ctx)
	})
	require.NoError(t, n2.srv.Of("").To("lobby").Disconnect(ctx, true))
	for _, p := range []*peer{ann, bob, cat} {
		select {
		case <-p.gone:
		case <-time.After(waitFor):
			t.Fatalf("%s was not disconnected", p.user)
		}
	}
	got, err = n1.srv.Of("").Except().Fetch(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)

	for _, n := range []*node{n1, n2, n3} {
		assert.Zero(t, n.cluster.Stats().Malformed, n.name)
	}
}

// A broadcast with acks to a room on three nodes collects every answer,
// lists the receiver that never answers as missing and fails with the
// deadline; a socket on another node answers RemoteSocket.EmitWithAck.
func TestEmitWithAckAcrossThreeNodes(t *testing.T) {
	r := startRedis(t)
	n1, n2, n3 := newOpsNode(t, r, "n1"), newOpsNode(t, r, "n2"), newOpsNode(t, r, "n3")
	ann := dialPeer(t, n1, sioclient.Protocol09, "ann", true)
	bob := dialPeer(t, n2, sioclient.ProtocolV5, "bob", true)
	cat := dialPeer(t, n3, sioclient.Protocol09, "cat", false) // never answers
	dan := dialPeer(t, n3, sioclient.ProtocolV5, "dan", true)
	eve := dialPeer(t, n2, sioclient.Protocol09, "eve", true)
	for _, p := range []*peer{ann, bob, cat, dan, eve} {
		p.join("game")
	}
	ns := n1.srv.Of("")

	const timeout = 4 * time.Second // n3 answers 0.8 s before the deadline: room for a loaded machine
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	start := time.Now()
	res, err := ns.To("game").EmitWithAck(ctx, "ask", "q")
	took := time.Since(start)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, ErrIncomplete, "every node answered")
	assert.Equal(t, []string{cat.id}, res.Missing)
	require.Equal(t, peerIDs(ann, bob, dan, eve), ackIDs(res.Acks))
	for _, a := range res.Acks {
		for _, p := range []*peer{ann, bob, dan, eve} {
			if p.id == a.ID {
				assert.Equal(t, `["`+p.user+`:q"]`, raw(a.Args))
			}
		}
	}
	expect(t, cat.asks, "q", "cat was asked")
	assert.GreaterOrEqual(t, took, timeout, "a silent receiver of another node: at the deadline, as on one node")
	assert.Less(t, took, timeout+time.Second)
	t.Logf("EmitWithAck to 5 sockets on 3 nodes, one silent: returned after %v of a %v timeout", took, timeout)

	// Without the silent one, it returns as soon as all have answered.
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start = time.Now()
	res, err = n2.srv.Of("").To("game").Except(cat.id).EmitWithAck(ctx, "ask", "again")
	took = time.Since(start)
	require.NoError(t, err)
	assert.Empty(t, res.Missing)
	assert.Equal(t, peerIDs(ann, bob, dan, eve), ackIDs(res.Acks))
	assert.Less(t, took, 5*time.Second, "did not wait for the deadline")
	t.Logf("EmitWithAck answered by 4 sockets on 3 nodes: %v", took)
	const rounds = 20
	start = time.Now()
	for range rounds {
		_, err := ns.To("game").Except(cat.id).EmitWithAck(ctx, "ask", "r")
		require.NoError(t, err)
	}
	t.Logf("EmitWithAck answered by 4 sockets (0.9 and v5) on 3 nodes: %v per call", time.Since(start)/rounds)

	// One socket, on another node.
	all, err := ns.To("game").Fetch(ctx)
	require.NoError(t, err)
	byID := map[string]*socketio.RemoteSocket{}
	for _, rs := range all {
		byID[rs.ID] = rs
	}
	args, err := byID[dan.id].EmitWithAck(ctx, "ask", "you")
	require.NoError(t, err)
	assert.Equal(t, `["dan:you"]`, raw(args))
	args, err = byID[bob.id].EmitWithAck(ctx, "ask", "v5")
	require.NoError(t, err)
	assert.Equal(t, `["bob:v5"]`, raw(args))
	short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = byID[cat.id].EmitWithAck(short, "ask", "silent")
	cancelShort()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	expect(t, cat.asks, "silent", "cat was asked")
	// A receiver of another node that disconnects while asked: at once,
	// ErrNoSocket with the reason its node gave.
	asked := make(chan error, 1)
	go func() {
		_, err := byID[cat.id].EmitWithAck(ctx, "ask", "bye")
		asked <- err
	}()
	expect(t, cat.asks, "bye", "cat was asked")
	start = time.Now()
	require.NoError(t, cat.c.Close())
	err = <-asked
	require.ErrorIs(t, err, socketio.ErrNoSocket)
	require.ErrorIs(t, err, socketio.ErrDisconnected)
	assert.Less(t, time.Since(start), 5*time.Second, "not at the deadline")
	require.NoError(t, eve.c.Close())
	eventuallyEqual(t, peerIDs(ann, bob, dan), func() ([]string, error) { return ns.To("game").SocketIDs(ctx) })
	_, err = byID[eve.id].EmitWithAck(ctx, "ask", "gone")
	require.ErrorIs(t, err, socketio.ErrNoSocket)

	_, err = ns.To("game").EmitWithAck(context.Background(), "ask", "x")
	require.ErrorIs(t, err, socketio.ErrNoDeadline)
	for _, n := range []*node{n1, n2, n3} {
		assert.Zero(t, n.cluster.Stats().Malformed, n.name)
	}
}

func ackIDs(acks []socketio.SocketAck) []string {
	out := make([]string, len(acks))
	for i, a := range acks {
		out[i] = a.ID
	}
	return out
}

// ackResult is what a broadcast with acks returned.
type ackResult struct {
	res socketio.AckResult
	err error
}

// emitWithAckAsync runs sel.EmitWithAck on a goroutine of its own; its
// result comes on the channel.
func emitWithAckAsync(ctx context.Context, sel *socketio.Selection, event string, args ...any) <-chan ackResult {
	done := make(chan ackResult, 1)
	go func() {
		res, err := sel.EmitWithAck(ctx, event, args...)
		done <- ackResult{res, err}
	}()
	return done
}

// A node killed, or closed, while a broadcast with acks waits on it makes
// the broadcast return what the others answered, with ErrIncomplete
// naming it, at the deadline.
func TestEmitWithAckNodeGoneMidRequest(t *testing.T) {
	for name, stop := range map[string]func(*Cluster) error{
		"killed": func(c *Cluster) error { return c.shutdown(false) }, // its liveness key stays
		"closed": func(c *Cluster) error { return c.Close() },
	} {
		t.Run(name, func(t *testing.T) {
			r := startRedis(t)
			n1, n2, n3 := newOpsNode(t, r, "n1"), newOpsNode(t, r, "n2"), newOpsNode(t, r, "n3")
			ann := dialPeer(t, n1, sioclient.ProtocolV5, "ann", true)
			bob := dialPeer(t, n2, sioclient.Protocol09, "bob", true)
			cat := dialPeer(t, n3, sioclient.ProtocolV5, "cat", false)
			for _, p := range []*peer{ann, bob, cat} {
				p.join("game")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			done := emitWithAckAsync(ctx, n1.srv.Of("").To("game"), "ask", "q")
			expect(t, cat.asks, "q", "n3 delivered it")
			require.NoError(t, stop(n3.cluster))
			got := <-done
			require.ErrorIs(t, got.err, ErrIncomplete)
			require.ErrorIs(t, got.err, context.DeadlineExceeded)
			assert.Contains(t, got.err.Error(), "n3")
			assert.Equal(t, peerIDs(ann, bob), ackIDs(got.res.Acks))
			if name == "killed" {
				// Swept within the test's short TTL, or not yet (see
				// TestEmitWithAckSilentNodeReceiversMissing).
				assert.Subset(t, peerIDs(cat), got.res.Missing, "n3's receivers, as Redis lists them")
			} else {
				assert.Empty(t, got.res.Missing, "a closed node removed its sockets from Redis")
			}

			// A fetch too, until n3 is swept (killed) or at once (closed).
			fctx, fcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer fcancel()
			fetched, err := n2.srv.Of("").Except().Fetch(fctx)
			switch {
			case name == "closed":
				require.NoError(t, err, "a closed node is not waited for")
			case err != nil: // killed and not swept yet
				require.ErrorIs(t, err, ErrIncomplete)
			}
			assert.Subset(t, fetchedIDs(fetched), peerIDs(ann, bob))
		})
	}
}

// The receivers of a node that is alive (its liveness key stands) but
// does not answer a broadcast with acks are listed in Missing, as Redis
// lists them: the node's members of the selected rooms, less the
// excepted, and none of its other sockets; the acks its receivers gave
// before it fell silent reached the requester all the same (the node
// answers acks as they come).
func TestEmitWithAckSilentNodeReceiversMissing(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newOpsNode(t, r, "n1"), newOpsNode(t, r, "n2")
	// n3's liveness key outlives the test: n3 is not swept once stopped.
	n3 := newOpsNodeWith(t, r, "n3", nodeOpts{ttl: time.Minute})
	ann := dialPeer(t, n1, sioclient.ProtocolV5, "ann", true)
	bob := dialPeer(t, n2, sioclient.Protocol09, "bob", true)
	cat := dialPeer(t, n3, sioclient.ProtocolV5, "cat", false)
	cal := dialPeer(t, n3, sioclient.Protocol09, "cal", false)
	dan := dialPeer(t, n3, sioclient.ProtocolV5, "dan", false)
	eve := dialPeer(t, n3, sioclient.ProtocolV5, "eve", false)
	dialPeer(t, n3, sioclient.ProtocolV5, "fay", false) // in neither room
	gus := dialPeer(t, n3, sioclient.Protocol09, "gus", true)
	for _, p := range []*peer{ann, bob, cat, cal, dan, gus} {
		p.join("game")
	}
	cat.join("other")
	eve.join("other")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
	defer cancel()
	// cat, in both rooms, is asked and listed once.
	done := emitWithAckAsync(ctx, n1.srv.Of("").To("game").To("other").Except(dan.id), "ask", "q")
	for _, p := range []*peer{cat, cal, eve, gus} {
		expect(t, p.asks, "q", p.user+" was asked")
	}
	// gus answered at once; n3 passes its ack on within ms (ackFlushDelay),
	// long before it would answer about the others (at 4.8 s).
	time.Sleep(2 * time.Second)
	// Stopped without its goodbye: its sockets stay in Redis, and it
	// never answers again.
	require.NoError(t, n3.cluster.shutdown(false))
	got := <-done
	require.ErrorIs(t, got.err, ErrIncomplete)
	assert.Contains(t, got.err.Error(), "n3")
	assert.Equal(t, peerIDs(ann, bob, gus), ackIDs(got.res.Acks), "gus's ack came before n3 fell silent")
	assert.Equal(t, peerIDs(cat, cal, eve), got.res.Missing, "n3's receivers: not dan (excepted), not fay (in neither room)")
}

// Acks of another node that together exceed what one answer carries
// (1 MiB) all reach the requester, in as many answers as they need.
func TestEmitWithAckLargeAcksAcrossNodes(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newOpsNode(t, r, "n1"), newOpsNode(t, r, "n2")
	var peers []*peer
	for _, u := range []string{"ann", "bob", "cat"} {
		p := dialPeer(t, n2, sioclient.ProtocolV5, u, true)
		p.join("big")
		peers = append(peers, p)
	}
	q := strings.Repeat("x", 400_000) // each ack is "user:" + q
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := n1.srv.Of("").To("big").EmitWithAck(ctx, "ask", q)
	require.NoError(t, err)
	assert.Empty(t, res.Missing)
	require.Equal(t, peerIDs(peers...), ackIDs(res.Acks))
	for _, a := range res.Acks {
		require.Len(t, a.Args, 1)
		assert.Greater(t, len(a.Args[0]), 400_000, a.ID)
	}
}

// A server event reaches the handlers of the other nodes in its
// namespace, in order, and neither the sender's nor any client.
func TestServerEventsReachTheOtherNodes(t *testing.T) {
	r := startRedis(t)
	nodes := []*node{newOpsNode(t, r, "n1"), newOpsNode(t, r, "n2"), newOpsNode(t, r, "n3")}
	type got struct {
		node, ns string
		args     string
	}
	events := make(chan got, 64)
	for _, n := range nodes {
		for _, name := range []string{"", "/chat"} {
			n, name := n, name
			n.srv.Of(name).OnServerEvent("sync", func(args []json.RawMessage) {
				events <- got{n.name, name, raw(args)}
			})
		}
	}
	watcher := nodes[1].dial()
	watcher.connectNS("/chat")
	v5 := dialPeer(t, nodes[2], sioclient.ProtocolV5, "v", true)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for i := range 3 {
		require.NoError(t, nodes[0].srv.Of("/chat").ServerEmit(ctx, "sync", i, map[string]string{"a": "b"}))
	}
	var seen []got
	for len(seen) < 6 {
		select {
		case e := <-events:
			seen = append(seen, e)
		case <-time.After(waitFor):
			t.Fatalf("only %v", seen)
		}
	}
	for _, n := range []string{"n2", "n3"} {
		var mine []string
		for _, e := range seen {
			assert.Equal(t, "/chat", e.ns)
			if e.node == n {
				mine = append(mine, e.args)
			}
		}
		assert.Equal(t, []string{`[0,{"a":"b"}]`, `[1,{"a":"b"}]`, `[2,{"a":"b"}]`}, mine, "%s, in order", n)
	}
	select {
	case e := <-events:
		t.Fatalf("unexpected %v (the sender's own handler, or another namespace)", e)
	case <-time.After(quiet):
	}
	watcher.expectNothing()
	select {
	case m := <-v5.msgs:
		t.Fatalf("a client got %q", m)
	default:
	}

	ad := nodes[0].srv.Of("/chat").Adapter()
	require.ErrorIs(t, ad.ServerEmit(ctx, "connect", nil), socketio.ErrReservedEvent)
	require.ErrorIs(t, ad.ServerEmit(ctx, "", nil), socketio.ErrInvalidMessage)
	require.ErrorIs(t, ad.ServerEmit(ctx, "sync", raws(`{"a"`)), socketio.ErrInvalidMessage)
	big := raws(`"` + strings.Repeat("x", maxOpBytes) + `"`)
	require.ErrorIs(t, ad.ServerEmit(ctx, "sync", big), ErrOpTooLarge)
	canceled, stop := context.WithCancel(ctx)
	stop()
	require.ErrorIs(t, ad.ServerEmit(canceled, "sync", nil), context.Canceled)
	require.NoError(t, nodes[0].cluster.Close())
	require.ErrorIs(t, ad.ServerEmit(ctx, "sync", nil), ErrClosed)
}

// Forged operations on the channels are checked before anything is done:
// broadcasts with acks and server events no node would send are dropped
// and counted, and an answer of the wrong type does not complete a
// request. The good ones are carried out, and answered.
func TestForgedAckOpsDropped(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newOpsNode(t, r, "n1"), newOpsNode(t, r, "n2")
	b := n2.dial()
	b.join("", "room")
	var handled sync.Mutex
	var calls []string
	n2.srv.Of("").OnServerEvent("sync", func(args []json.RawMessage) {
		handled.Lock()
		calls = append(calls, raw(args))
		handled.Unlock()
	})
	onChannel := watchChannel(t, r, "{test:node:evil}:ops") // answers to evil (ChannelsSharded)
	toEvil := func() []opMsg {
		var out []opMsg
		for _, b := range onChannel() {
			if m, err := decodeOp(b); err == nil && isReply(m.typ) && m.target == "evil" {
				out = append(out, m)
			}
		}
		return out
	}
	sel := socketio.BroadcastOptions{Rooms: []string{"room"}}
	ack := func(m *socketio.Message, wait uint64) []byte {
		return encodeOp(opMsg{typ: opAck, id: 1, node: "evil", opts: sel, msg: m, wait: wait})
	}
	text := &socketio.Message{Kind: socketio.MessageText, Text: "t"}
	bad := map[string][]byte{
		"ack, reserved event": ack(ackEvent("", "disconnect"), 1000),
		"ack, args not JSON":  ack(ackEvent("", "ask", `{"x"`), 1000),
		"ack, text":           ack(text, 1000),
		"ack, wait too long":  ack(ackEvent("", "ask"), uint64(maxAckWait/time.Millisecond)+1),
		"ack, no wait":        ack(ackEvent("", "ask"), 0),
		"event, not JSON":     encodeOp(opMsg{typ: opServerEvent, node: "evil", event: "sync", args: raws(`nope`)}),
		"event, reserved":     encodeOp(opMsg{typ: opServerEvent, node: "evil", event: "connect"}),
		"event, flags":        encodeOp(opMsg{typ: opServerEvent, flags: 1, node: "evil", event: "sync"}),
		"fetch, rooms":        encodeOp(opMsg{typ: opFetch, node: "evil", rooms: []string{"x"}}),
	}
	for name, m := range bad {
		_, err := r.do("PUBLISH", "test:broadcast", m)
		require.NoError(t, err, name)
	}
	// The good ones.
	_, err := r.do("PUBLISH", "test:broadcast", encodeOp(opMsg{typ: opServerEvent, node: "evil", event: "sync", args: raws(`"good"`)}))
	require.NoError(t, err)
	_, err = r.do("PUBLISH", "test:broadcast", ack(ackEvent("", "ask", `"q"`), 5000))
	require.NoError(t, err)
	f := b.next()
	assert.Regexp(t, `^5:\d+\+::\{"name":"ask","args":\["q"\]\}$`, f, "only the good broadcast with acks reached b")
	eventuallyEqual(t, []string{`["good"]`}, func() ([]string, error) {
		handled.Lock()
		defer handled.Unlock()
		return slices.Clone(calls), nil
	}, "only the good server event reached the handler")
	eventuallyEqual(t, uint64(len(bad)), func() (uint64, error) { return n2.cluster.Stats().Malformed, nil })
	b.expectNothing()

	// b answers; n2 answers evil.
	id := strings.TrimSuffix(strings.SplitN(f, ":", 3)[1], "+")
	b.send("6:::" + id + `+["from b"]`)
	// n1 answered at once (no receiver there), n2 once b answered (b's
	// ack in a partial answer or in its last).
	lasts := func() map[string]int {
		n := map[string]int{}
		for _, m := range toEvil() {
			if m.flags&opFlagPartial == 0 {
				n[m.node]++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return len(lasts()) == 2 }, waitFor, tick)
	acks := map[string][]socketio.SocketAck{}
	for _, m := range toEvil() {
		assert.Equal(t, byte(opAckReply), m.typ)
		acks[m.node] = append(acks[m.node], m.acks...)
	}
	assert.Equal(t, map[string]int{"n1": 1, "n2": 1}, lasts(), "one last answer each")
	assert.Empty(t, acks["n1"])
	assert.Equal(t, []socketio.SocketAck{{ID: b.sid, Args: raws(`"from b"`)}}, acks["n2"])
	assert.Equal(t, uint64(len(bad)), n1.cluster.Stats().Malformed, "n2's answer to evil is no business of n1's")

	// An answer of the wrong type from a live node does not count as its
	// answer to a fetch, nor do partial answers (of a node not asked, or
	// to a request that is no broadcast with acks); the right one does.
	_, err = r.do("SADD", "test:nodes", "ghost")
	require.NoError(t, err)
	_, err = r.do("SET", "{test:node:ghost}:alive", "", "PX", 60000)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	type fetched struct {
		got []socketio.SocketInfo
		err error
	}
	done := make(chan fetched, 1)
	next := n1.cluster.opSeq.Load() + 1
	go func() {
		got, err := n1.srv.Of("").Adapter().FetchSockets(ctx, socketio.BroadcastOptions{})
		done <- fetched{got, err}
	}()
	require.Eventually(t, func() bool {
		n1.cluster.omu.Lock()
		defer n1.cluster.omu.Unlock()
		return n1.cluster.pending[next] != nil
	}, waitFor, time.Millisecond)
	before := n1.cluster.Stats().Malformed
	ghostSock := socketio.SocketInfo{ID: sid('G'), Rooms: []string{"haunt"}}
	for _, m := range []opMsg{
		{typ: opReply, id: next, node: "ghost", target: "n1", ids: []string{sid('G')}},
		{typ: opAckReply, flags: opFlagPartial, id: next, node: "ghost", target: "n1", acks: []socketio.SocketAck{{ID: sid('G')}}},
		{typ: opAckReply, flags: opFlagPartial, id: next, node: "nobody", target: "n1", acks: []socketio.SocketAck{{ID: sid('N')}}},
		{typ: opFetchReply, id: next, node: "ghost", target: "n1", sockets: []socketio.SocketInfo{ghostSock}},
	} {
		_, err = r.do("PUBLISH", "test:broadcast", encodeOp(m))
		require.NoError(t, err)
	}
	res := <-done
	require.NoError(t, res.err)
	require.Len(t, res.got, 2)
	ghostSock.Node = "ghost"
	assert.Contains(t, res.got, ghostSock)
	assert.Equal(t, before+3, n1.cluster.Stats().Malformed, "the answer of the wrong type, the two partial answers")
}

// A node that already waits on as many broadcasts with acks as it takes
// answers a new one at once with an error, without asking its sockets.
func TestEmitWithAckBusyNode(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newOpsNode(t, r, "n1"), newOpsNode(t, r, "n2")
	ann := dialPeer(t, n1, sioclient.ProtocolV5, "ann", true)
	bob := dialPeer(t, n2, sioclient.Protocol09, "bob", true)
	ann.join("game")
	bob.join("game")
	for range maxAcksRunning {
		n2.cluster.ackSlots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	res, err := n1.srv.Of("").To("game").EmitWithAck(ctx, "ask", "q")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "node n2")
	assert.Contains(t, err.Error(), errAckBusy.Error())
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second, "answered at once")
	assert.Equal(t, peerIDs(ann), ackIDs(res.Acks))
	assert.Empty(t, res.Missing)
	select {
	case q := <-bob.asks:
		t.Fatalf("bob was asked %q", q)
	default:
	}
	for range maxAcksRunning {
		<-n2.cluster.ackSlots
	}
	res, err = n1.srv.Of("").To("game").EmitWithAck(ctx, "ask", "again")
	require.NoError(t, err)
	assert.Equal(t, peerIDs(ann, bob), ackIDs(res.Acks))
}
