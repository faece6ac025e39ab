package clustertest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/internal/apptest"
	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/internal/testtools"
)

const (
	// nodeTTL is the liveness TTL of the nodes of the scenarios where a
	// node dies or Redis restarts (startNodes with outageTTL): a dead
	// node's sockets leave the cluster within about nodeTTL + nodeTTL/3.
	nodeTTL = time.Second
	// steadyTTL is the other scenarios' TTL, sioredis' default: with 1 s,
	// a node stalled for a second on a loaded machine (load 24 on 2 cores
	// in a fresh-clone CI run) let its liveness key expire, or its
	// subscriber give up (TTL + TTL/3 without a PONG) and miss what was
	// published while it resubscribed, and then failed a scenario about
	// something else.
	steadyTTL = 5 * time.Second
	waitFor   = 5 * time.Second
	tick      = 20 * time.Millisecond
)

// nodeTransports are the transports socket.io-client@0.9.16 runs in Node.
var nodeTransports = []string{"websocket", "xhr-polling"}

func urls(nodes []*apptest.Testapp) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.URL
	}
	return out
}

// TestRealClientAcrossNodes runs testdata/cluster.js: the real
// socket.io-client@0.9.16 with clients on three nodes — room emits,
// broadcasts except the sender, emits to a socket id, cluster-wide counts
// and the order of 1,000 events from one sender — over websocket and
// xhr-polling.
func TestRealClientAcrossNodes(t *testing.T) { onBackends(t, testRealClientAcrossNodes) }

func testRealClientAcrossNodes(t *testing.T, be backend) {
	nodetest.Require(t)
	nodes := startNodes(t, be, 3)
	for _, tr := range nodeTransports {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			res := nodetest.Run(ctx, t, "cluster.js", "--urls", strings.Join(urls(nodes), ","), "--transport", tr)
			t.Logf("%d scenarios in %v", len(res), time.Since(start))
			var names []string
			for _, r := range res {
				names = append(names, r.Scenario)
				assert.Truef(t, r.Pass, "%s", r.Describe())
			}
			assert.Equal(t, []string{"room-emit", "broadcast-except", "emit-to-id", "count", "ordering"}, names)
		})
	}
}

// httpNode speaks raw Socket.IO 0.9 xhr-polling to one node.
type httpNode struct {
	t   *testing.T
	url string
	hc  *http.Client
}

func newHTTPNode(t *testing.T, url string) *httpNode {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &httpNode{t: t, url: url, hc: &http.Client{Transport: tr, Timeout: 15 * time.Second}}
}

func (n *httpNode) do(method, path, body string) (int, string) {
	n.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.url+path, rd)
	require.NoError(n.t, err)
	resp, err := n.hc.Do(req)
	require.NoError(n.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(n.t, err)
	return resp.StatusCode, string(b)
}

func (n *httpNode) handshake() string {
	n.t.Helper()
	st, body := n.do(http.MethodGet, "/socket.io/1/", "")
	require.Equal(n.t, http.StatusOK, st, body)
	sid, _, _ := strings.Cut(body, ":")
	return sid
}

func (n *httpNode) poll(sid string) string {
	n.t.Helper()
	st, body := n.do(http.MethodGet, "/socket.io/1/xhr-polling/"+sid, "")
	require.Equal(n.t, http.StatusOK, st, body)
	return body
}

func (n *httpNode) post(sid, payload string) {
	n.t.Helper()
	st, body := n.do(http.MethodPost, "/socket.io/1/xhr-polling/"+sid, payload)
	require.Equal(n.t, http.StatusOK, st, body)
	require.Equal(n.t, "1", body)
}

func event(id, name string, args ...any) string {
	b, err := json.Marshal(struct {
		Name string `json:"name"`
		Args []any  `json:"args"`
	}{name, args})
	if err != nil {
		panic(err)
	}
	return "5:" + id + "::" + string(b)
}

// dial connects a Go client over websocket to url; it is closed when the
// test ends. lost is closed if its session ends before.
func dial(t *testing.T, url string) (c *client.Client, lost <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := client.Dial(ctx, url+"/", &client.Options{
		Transports:  []string{"websocket"},
		NoReconnect: true,
		OnDisconnect: func(*client.Namespace, error) {
			once.Do(func() { close(ch) })
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, ch
}

// call emits with an ack and returns the ack's arguments as JSON.
func call(t *testing.T, c *client.Client, name string, args ...any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	got, err := c.EmitWithAck(ctx, name, args...)
	require.NoError(t, err, "%s%v", name, args)
	b, err := json.Marshal(got)
	require.NoError(t, err)
	return string(b)
}

// count asks c's node how many sockets room has in the cluster.
func count(t *testing.T, c *client.Client, room string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.Trim(call(t, c, "count", room), "[]"))
	require.NoError(t, err)
	return n
}

// TestNonStickyPolling: a session handshaken on node A is served by polls
// and POSTs alternating between A and B (raw HTTP, as a round-robin
// balancer would send them). Events, client acks, server-to-client acks
// and room emits from a websocket client on a third node flow both ways.
func TestNonStickyPolling(t *testing.T) { onBackends(t, testNonStickyPolling) }

func testNonStickyPolling(t *testing.T, be backend) {
	nodes := startNodes(t, be, 3, "-polling-duration", "5s")
	a, b := newHTTPNode(t, nodes[0].URL), newHTTPNode(t, nodes[1].URL)
	ws, _ := dial(t, nodes[2].URL)
	sid := a.handshake()
	require.Equal(t, "1::", b.poll(sid), "the first poll, through B, connects the session on A")

	via := []*httpNode{a, b}
	for i := range 6 {
		p, q := via[i%2], via[(i+1)%2] // POST through one node, poll through the other
		n := strconv.Itoa(i)

		p.post(sid, event("1+", "echo", "hi", i))
		assert.Equal(t, `6:::1+["hi",`+n+`]`, q.poll(sid), "ack %d", i)

		p.post(sid, event("2+", "join", "r"))
		assert.Equal(t, `6:::2+[true]`, q.poll(sid))

		// A long-poll held through q gets a room emit made on the third node.
		held := make(chan string, 1)
		go func() {
			_, body := q.do(http.MethodGet, "/socket.io/1/xhr-polling/"+sid, "")
			held <- body
		}()
		time.Sleep(50 * time.Millisecond)
		require.NoError(t, ws.Emit("to-room", "r", "from-node-3", i))
		assert.Equal(t, event("", "room", "from-node-3", i), <-held)

		// The server asks the client (an ack the server waits for); the
		// answer goes back through the other node.
		p.post(sid, event("", "ask", "question", i))
		ask := q.poll(sid)
		m := regexp.MustCompile(`^5:([0-9]+)\+::`).FindStringSubmatch(ask)
		require.NotNil(t, m, "the server asks for an ack: %q", ask)
		assert.Equal(t, event(m[1]+"+", "question", i), ask)
		q.post(sid, `6:::`+m[1]+`+["answer `+n+`"]`)
		assert.Equal(t, event("", "answer", "answer "+n), p.poll(sid))
	}
	// The polling client's broadcasts reach the websocket client on node 3.
	got := make(chan json.RawMessage, 1)
	require.NoError(t, ws.On("room", func(v json.RawMessage) { got <- v }))
	require.Equal(t, "[true]", call(t, ws, "join", "r"))
	b.post(sid, event("", "broadcast-room", "r", "from-polling"))
	select {
	case v := <-got:
		assert.JSONEq(t, `"from-polling"`, string(v))
	case <-time.After(waitFor):
		t.Fatal("the polling client's broadcast did not reach node 3")
	}
	assert.Equal(t, 2, count(t, ws, "r"))

	// ?disconnect through B closes the session on A.
	st, _ := b.do(http.MethodGet, "/socket.io/1/xhr-polling/"+sid+"?disconnect=1", "")
	require.Equal(t, http.StatusOK, st)
	require.Eventually(t, func() bool { return count(t, ws, "r") == 1 }, waitFor, tick)
	assert.Equal(t, "7:::1+0", a.poll(sid))
	assert.Equal(t, "7:::1+0", b.poll(sid))
}

// TestKilledNodeLeavesCounts: a node killed with SIGKILL (no goodbye, no
// cleanup) drops out of the cluster-wide counts of the others within its
// TTL, its polling sessions are answered "reconnect" by the others, and the
// survivors go on.
func TestKilledNodeLeavesCounts(t *testing.T) { onBackends(t, testKilledNodeLeavesCounts) }

func testKilledNodeLeavesCounts(t *testing.T, be backend) {
	nodes := startNodes(t, be, 3, outageTTL...)
	a, _ := dial(t, nodes[0].URL)
	b, _ := dial(t, nodes[1].URL)
	c1, _ := dial(t, nodes[2].URL)
	c2, _ := dial(t, nodes[2].URL)
	for _, c := range []*client.Client{a, b, c1, c2} {
		require.Equal(t, "[true]", call(t, c, "join", "r"))
	}
	require.Eventually(t, func() bool { return count(t, a, "r") == 4 && count(t, b, "") == 4 }, waitFor, tick)
	// A polling session on the node that dies.
	dying, viaA := newHTTPNode(t, nodes[2].URL), newHTTPNode(t, nodes[0].URL)
	sid := dying.handshake()
	require.Equal(t, "1::", dying.poll(sid))

	nodes[2].Kill()
	killed := time.Now()
	assert.Equal(t, "7:::1+0", viaA.poll(sid), "the dead node cannot be reached: reconnect")
	require.Eventually(t, func() bool { return count(t, a, "r") == 2 }, 3*nodeTTL, tick)
	took := time.Since(killed)
	t.Logf("the killed node's sockets left the counts %v after SIGKILL (TTL %v)", took, nodeTTL)
	assert.Less(t, took, 2*nodeTTL, "within the TTL and a sweep tick (TTL/3), with room for a loaded machine")
	assert.Equal(t, 2, count(t, b, "r"))
	assert.Equal(t, 2, count(t, b, ""))
	assert.Equal(t, "7:::1+0", viaA.poll(sid), "the dead node's sessions are unknown")

	got := make(chan json.RawMessage, 1)
	require.NoError(t, b.On("room", func(v json.RawMessage) { got <- v }))
	require.NoError(t, a.Emit("to-room", "r", "survivors"))
	select {
	case v := <-got:
		assert.JSONEq(t, `"survivors"`, string(v))
	case <-time.After(waitFor):
		t.Fatal("the survivors stopped talking")
	}
}

// TestRedisRestartDuringTraffic: redis-server is killed and started again
// (empty) while one node streams room emits to a socket of another node.
// Delivery resumes by itself, no node restarts and no client is dropped;
// cluster-wide counts and non-sticky polling work again. On a Redis
// Cluster, every master is restarted at once (the cluster comes back
// empty, with its slots), then each master alone in turn (a third of the
// keys and channels lost, the rest kept): the same holds after each.
func TestRedisRestartDuringTraffic(t *testing.T) { onBackends(t, testRedisRestartDuringTraffic) }

func testRedisRestartDuringTraffic(t *testing.T, be backend) {
	nodes := startNodes(t, be, 2, append([]string{"-polling-duration", "5s"}, outageTTL...)...)
	sender, senderLost := dial(t, nodes[0].URL)
	receiver, receiverLost := dial(t, nodes[1].URL)
	var mu sync.Mutex
	var seen []int
	require.NoError(t, receiver.On("room", func(n int) {
		mu.Lock()
		seen = append(seen, n)
		mu.Unlock()
	}))
	require.Equal(t, "[true]", call(t, receiver, "join", "p"))
	last := func() int {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) == 0 {
			return -1
		}
		return seen[len(seen)-1]
	}
	// A polling session made before the outage, on node A.
	a, b := newHTTPNode(t, nodes[0].URL), newHTTPNode(t, nodes[1].URL)
	sid := a.handshake()
	require.Equal(t, "1::", b.poll(sid))

	var sent sync.Mutex
	next := 0
	stop := make(chan struct{})
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			sent.Lock()
			_ = sender.Emit("to-room", "p", next)
			next++
			sent.Unlock()
		}
	}()
	defer func() {
		close(stop)
		<-pumped
	}()
	require.Eventually(t, func() bool { return last() >= 20 }, waitFor, tick, "traffic before the outage")

	for _, o := range append([]outage{{"every redis-server", be.kill, be.start}}, be.partialOutages()...) {
		o.kill()
		time.Sleep(300 * time.Millisecond)
		o.start()
		restarted := time.Now()
		sent.Lock()
		after := next
		sent.Unlock()
		require.Eventually(t, func() bool { return last() > after }, waitFor, tick, "delivery resumes (%s restarted)", o.name)
		t.Logf("%s restarted: cross-node delivery resumed %v after Redis came back", o.name, time.Since(restarted))
		mu.Lock()
		assert.True(t, slices.IsSorted(seen), "no reordering (some events of the outage are lost)")
		lost := seen[len(seen)-1] + 1 - len(seen)
		mu.Unlock()
		t.Logf("%d events were lost during the outages so far", lost)

		select {
		case <-senderLost:
			t.Fatal("the sender's session was dropped")
		case <-receiverLost:
			t.Fatal("the receiver's session was dropped")
		default:
		}
		// Membership was rewritten: counts are cluster-wide again.
		require.Eventually(t, func() bool { return count(t, sender, "p") == 1 }, waitFor, tick, "counts (%s restarted)", o.name)
		// The session directory was rewritten: the old polling session is
		// found through B again (until then B answers "reconnect", which does
		// not close the session on A).
		require.Eventually(t, func() bool {
			a.post(sid, event("", "echo", "back"))
			return strings.Contains(b.poll(sid), `{"name":"echo","args":["back"]}`)
		}, waitFor, 100*time.Millisecond, "the directory knows the session again (%s restarted)", o.name)
	}
	// And new sessions. Right after a Redis Cluster master restarted
	// empty, B's liveness key may have been on it: until B's next refresh
	// (at once when its subscriber is back, else within a tick) A answers
	// B's sessions as unknown ("7:::1+0", which leaves the session on B
	// open), so A is asked until it forwards.
	sid2 := b.handshake()
	var first string
	require.Eventually(t, func() bool {
		first = a.poll(sid2)
		return first != "7:::1+0"
	}, waitFor, 100*time.Millisecond, "A forwards the new session on B")
	assert.Equal(t, "1::", first)
	// Gone before the nodes stop (they would wait for the pollers' goodbyes).
	for _, s := range []string{sid, sid2} {
		st, _ := a.do(http.MethodGet, "/socket.io/1/xhr-polling/"+s+"?disconnect=1", "")
		assert.Equal(t, http.StatusOK, st)
	}
}

// TestJoinsDuringRedisOutage: while redis-server is down, clients of
// node A join a room (and a new client connects and joins); the joins are
// accepted and delivered locally. Once Redis is back, node B counts them
// and delivers to them.
func TestJoinsDuringRedisOutage(t *testing.T) { onBackends(t, testJoinsDuringRedisOutage) }

func testJoinsDuringRedisOutage(t *testing.T, be backend) {
	nodes := startNodes(t, be, 2, outageTTL...)
	a1, _ := dial(t, nodes[0].URL)
	b1, _ := dial(t, nodes[1].URL)
	got := make(chan string, 16)
	for _, c := range []*client.Client{a1, b1} {
		require.NoError(t, c.On("room", func(s string) { got <- s })) // to-room emits the event "room"
	}
	require.Equal(t, "[true]", call(t, b1, "join", "o"))

	be.kill()
	require.Equal(t, "[true]", call(t, a1, "join", "o"), "a join during the outage")
	a2, _ := dial(t, nodes[0].URL)
	require.NoError(t, a2.On("room", func(s string) { got <- s }))
	require.Equal(t, "[true]", call(t, a2, "join", "o"), "a new client's join during the outage")
	require.NoError(t, a1.Emit("to-room", "o", "local"))
	for range 2 {
		select {
		case s := <-got:
			assert.Equal(t, "local", s)
		case <-time.After(waitFor):
			t.Fatal("local delivery during the outage")
		}
	}

	be.start()
	for _, c := range []*client.Client{a1, b1} {
		require.Eventually(t, func() bool { return count(t, c, "o") == 3 }, waitFor, tick, "counts after the outage")
	}
	// Node B reaches the sockets that joined during the outage: one emit
	// from B, once cross-node delivery is back, reaches all three.
	for len(got) > 0 {
		<-got
	}
	try := 0
	require.Eventually(t, func() bool {
		try++
		payload := "after-" + strconv.Itoa(try)
		require.NoError(t, b1.Emit("to-room", "o", payload))
		n := 0
		for stop := time.After(300 * time.Millisecond); n < 3; {
			select {
			case s := <-got:
				if s == payload {
					n++
				}
				continue
			case <-stop:
			}
			break
		}
		return n == 3
	}, 2*waitFor, tick, "one emit from node B reaches the three sockets")
}

// TestBehindNginx runs every scenario of testdata/run-scenarios.js with
// the real socket.io-client@0.9.16 through nginx balancing round-robin (not
// sticky) over two nodes, over websocket and xhr-polling: consecutive
// requests of a session go to different nodes. Then, through the same
// nginx, the real socket.io.js in headless Chromium runs the browser
// scenarios (testdata/browser.js) over websocket and xhr-polling, from a
// page on another origin (CORS) — on standalone Redis only: what it adds
// to the Node.js clients' run is the browser and its transports, not
// anything of the backend, and it takes the longest.
func TestBehindNginx(t *testing.T) { onClientBackends(t, testBehindNginx) }

func testBehindNginx(t *testing.T, be backend) {
	nodetest.Require(t)
	testtools.Require(t, "nginx") // before the nodes are started
	nodes := startNodes(t, be, 2)
	lb := StartNginx(t, nodes[0].Addr, nodes[1].Addr)
	for _, tr := range nodeTransports {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			res := nodetest.Run(ctx, t, "run-scenarios.js", "--url", lb.URL, "--transport", tr)
			t.Logf("%d scenarios through nginx in %v", len(res), time.Since(start))
			require.Greater(t, len(res), 40)
			for _, r := range res {
				assert.Truef(t, r.Pass, "%s", r.Describe())
			}
		})
	}
	t.Run("browser", func(t *testing.T) {
		if !be.standalone() {
			t.Skip("the browser scenarios run on standalone Redis only")
		}
		testtools.Require(t, "chromium")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		before := len(lb.AccessLog())
		start := time.Now()
		res := nodetest.Run(ctx, t, "browser.js", "--url", lb.URL, "--transports", strings.Join(nodeTransports, ","))
		t.Logf("%d browser scenarios through nginx in %v", len(res), time.Since(start))
		seen := map[string]int{}
		for _, r := range res {
			seen[r.Transport]++
			assert.Truef(t, r.Pass, "%s", r.Describe())
		}
		for _, tr := range nodeTransports {
			assert.Greaterf(t, seen[tr], 10, "browser scenarios over %s", tr)
		}
		// Only what was logged during the browser run (nginx logs a request
		// when it ends; the browser is closed, so all of its requests are in).
		spread := spreadSessions(lb.AccessLog()[before:])
		t.Logf("browser sessions whose requests reached both nodes: %v", spread)
		assert.Positive(t, spread["xhr-polling"], "the browser's polling sessions were served by both nodes")
	})
	// Round robin really spread the requests of sessions over both nodes.
	spread := spreadSessions(lb.AccessLog())
	t.Logf("sessions whose requests reached both nodes: %v", spread)
	assert.Positive(t, spread["xhr-polling"], "polling sessions served by both nodes")
}

// spreadSessions counts, per transport, the sessions whose requests in an
// nginx access log reached more than one upstream.
func spreadSessions(accessLog string) map[string]int {
	re := regexp.MustCompile(`^(GET|POST) /socket\.io/1/(xhr-polling|websocket)/([^/?]+)\S* -> (\S+) `)
	upstreams := map[string]map[string]bool{}
	for _, line := range strings.Split(accessLog, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			key := m[2] + " " + m[3]
			if upstreams[key] == nil {
				upstreams[key] = map[string]bool{}
			}
			upstreams[key][m[4]] = true
		}
	}
	spread := map[string]int{}
	for key, ups := range upstreams {
		if len(ups) > 1 {
			spread[strings.Fields(key)[0]]++
		}
	}
	return spread
}
