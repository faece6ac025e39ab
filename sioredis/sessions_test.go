package sioredis

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lookup(c *Cluster, sid string) func() (string, error) {
	return func() (string, error) { return c.Lookup(context.Background(), sid) }
}

func TestSessionDirectory(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	ctx := context.Background()

	require.NoError(t, n1.cluster.Register(ctx, "sid-1", "10.0.0.1:80"))
	require.NoError(t, n1.cluster.Register(ctx, "sid-2", "10.0.0.1:80"))
	addr, err := n2.cluster.Lookup(ctx, "sid-1")
	require.NoError(t, err)
	assert.Equal(t, "10.0.0.1:80", addr, "registered before Register returns")
	addr, err = n2.cluster.Lookup(ctx, "unknown")
	require.NoError(t, err)
	assert.Empty(t, addr)
	require.Error(t, n1.cluster.Register(ctx, "sid-3", "has space:80"))

	ttl, err := redigo.Int64(r.do("PTTL", "test:session:sid-1"))
	require.NoError(t, err)
	assert.InDelta(t, float64(sessionTTLFactor*testTTL.Milliseconds()), float64(ttl), 1000)

	n1.cluster.Unregister("sid-1")
	eventuallyEqual(t, "", lookup(n2.cluster, "sid-1"), "removed on close")

	// Redis restarts empty: the node writes its open sessions again.
	r.kill()
	_, err = n2.cluster.Lookup(ctx, "sid-2")
	require.ErrorIs(t, err, ErrUnavailable)
	r.start()
	eventuallyEqual(t, "10.0.0.1:80", lookup(n2.cluster, "sid-2"), "rewritten after the restart")
	eventuallyEqual(t, "", lookup(n2.cluster, "sid-1"))

	// Close removes the node's entries at once.
	require.NoError(t, n1.cluster.Close())
	addr, err = n2.cluster.Lookup(ctx, "sid-2")
	require.NoError(t, err)
	assert.Empty(t, addr)
	n, err := redigo.Int(r.do("EXISTS", "test:session:sid-2"))
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = n1.cluster.Lookup(ctx, "sid-2")
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, n1.cluster.Register(ctx, "sid-4", "10.0.0.1:80"), ErrClosed)
}

func TestSessionsOfDeadNodeAreUnknown(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	require.NoError(t, n1.cluster.Register(context.Background(), "sid-1", "10.0.0.1:80"))
	eventuallyEqual(t, "10.0.0.1:80", lookup(n2.cluster, "sid-1"))
	require.NoError(t, n1.cluster.shutdown(false)) // a crash: nothing cleaned up
	died := time.Now()
	eventuallyEqual(t, "", lookup(n2.cluster, "sid-1"))
	took := time.Since(died)
	t.Logf("a dead node's session unknown %v after it died (TTL %v)", took, testTTL)
	assert.Less(t, took, 2*testTTL)
	// The entry itself expires later.
	n, err := redigo.Int(r.do("EXISTS", "test:session:sid-1"))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// pollingClient speaks xhr-polling with raw HTTP to any node.
type pollingClient struct {
	t   *testing.T
	sid string
}

func httpDo(t *testing.T, n *node, method, path, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, n.hs.URL+path, rd)
	require.NoError(t, err)
	resp, err := n.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func (p *pollingClient) poll(n *node) string {
	p.t.Helper()
	st, body := httpDo(p.t, n, http.MethodGet, "/socket.io/1/xhr-polling/"+p.sid, "")
	require.Equal(p.t, http.StatusOK, st, body)
	return body
}

func (p *pollingClient) post(n *node, pkt string) {
	p.t.Helper()
	st, body := httpDo(p.t, n, http.MethodPost, "/socket.io/1/xhr-polling/"+p.sid, pkt)
	require.Equal(p.t, http.StatusOK, st, body)
}

// TestNonStickyPolling: a polling session handshaken on n1 is served by
// requests to n1, n2 and n3 in turn; it only lives on n1.
func TestNonStickyPolling(t *testing.T) { onBoth(t, testNonStickyPolling) }

func testNonStickyPolling(t *testing.T, be backend) {
	o := nodeOpts{sessions: true}
	nodes := []*node{be.node("n1", o), be.node("n2", o), be.node("n3", o)}
	st, body := httpDo(t, nodes[0], http.MethodGet, "/socket.io/1/", "")
	require.Equal(t, http.StatusOK, st)
	p := &pollingClient{t: t, sid: strings.Split(body, ":")[0]}
	require.Equal(t, "1::", p.poll(nodes[1]))

	ws := nodes[2].dial() // a websocket client on n3, in room r
	ws.join("", "r")
	for i := range 6 {
		via := nodes[i%3]
		p.post(via, `5:1+::{"name":"join","args":["r"]}`)
		assert.Equal(t, "6:::1+[true]", p.poll(nodes[(i+1)%3]))
		ws.emit("", "to-room", "r", i)
		assert.Equal(t, msgFrame("", "msg", i), p.poll(nodes[(i+2)%3]))
		ws.expectMsg("", i)
	}
	p.post(nodes[2], `5:::{"name":"bcast-room","args":["r","from-polling"]}`)
	ws.expectMsg("", "from-polling")
	for i, want := range []int{1, 0, 1} { // the polling client's session, none, the websocket's
		assert.Equal(t, want, nodes[i].srv.SessionCount(), nodes[i].name)
	}
	assert.Positive(t, nodes[1].srv.Stats().Forwarded)
	assert.Positive(t, nodes[2].srv.Stats().Forwarded)

	// ?disconnect through another node.
	st, _ = httpDo(t, nodes[1], http.MethodGet, "/socket.io/1/xhr-polling/"+p.sid+"?disconnect=1", "")
	require.Equal(t, http.StatusOK, st)
	require.Eventually(t, func() bool { return nodes[0].srv.SessionCount() == 0 }, waitFor, tick)
	eventuallyEqual(t, "", lookup(nodes[2].cluster, p.sid))
	assert.Equal(t, "7:::1+0", p.poll(nodes[2]))
}
