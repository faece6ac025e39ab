package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mapDirectory is a SessionDirectory shared by the nodes of one process:
// a map, as a single-process stand-in for the redis Cluster (which is
// tested against a real Redis in package redis).
type mapDirectory struct {
	mu   sync.Mutex
	m    map[string]string
	fail error // returned by Lookup when set
}

func newMapDirectory() *mapDirectory { return &mapDirectory{m: map[string]string{}} }

func (d *mapDirectory) Register(_ context.Context, sid, addr string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[sid] = addr
	return nil
}

func (d *mapDirectory) Lookup(_ context.Context, sid string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return "", d.fail
	}
	return d.m[sid], nil
}

func (d *mapDirectory) Unregister(sid string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.m, sid)
}

func (d *mapDirectory) has(sid string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.m[sid]
	return ok
}

func (d *mapDirectory) setFail(err error) {
	d.mu.Lock()
	d.fail = err
	d.mu.Unlock()
}

// newNodes starts n servers sharing dir, each with its NodeAddr, running
// the test app on "" and "/chat".
func newNodes(t *testing.T, dir SessionDirectory, n int, cfg Config, rec *recorder) []*testServer {
	t.Helper()
	var nodes []*testServer
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		c := cfg
		c.Sessions, c.NodeAddr, c.Logger = dir, ln.Addr().String(), discardLogger
		srv := NewServer(c)
		app(rec, "", "/chat")(srv)
		hs := httptest.NewUnstartedServer(srv)
		_ = hs.Listener.Close()
		hs.Listener = ln
		hs.Start()
		tr := &http.Transport{}
		ts := &testServer{t: t, srv: srv, hs: hs, client: &http.Client{Transport: tr},
			wsURL: "ws" + strings.TrimPrefix(hs.URL, "http"), conns: map[string]http.ConnState{}}
		t.Cleanup(func() {
			srv.Close()
			hs.CloseClientConnections()
			hs.Close()
			tr.CloseIdleConnections()
		})
		nodes = append(nodes, ts)
	}
	return nodes
}

// TestForwardedPollingAlternatesNodes: a session handshaken on A is served
// by polls and POSTs alternating between A and B; events and acks flow
// both ways, and only A holds the session.
func TestForwardedPollingAlternatesNodes(t *testing.T) {
	t.Parallel()
	dir := newMapDirectory()
	rec := &recorder{}
	nodes := newNodes(t, dir, 2, longPolls, rec)
	a, b := nodes[0], nodes[1]
	sid := a.handshake("")
	require.True(t, dir.has(sid), "registered at the handshake")
	require.Equal(t, "1::", b.poll(sid), "the first poll, through B, connects the session on A")
	assert.Nil(t, b.srv.lookup(sid), "B never holds the session")
	require.NotNil(t, a.srv.lookup(sid))

	for i := range 6 {
		via, other := a, b
		if i%2 == 1 {
			via, other = b, a
		}
		// An ack, POSTed through one node, comes back through a poll on the other.
		via.post("xhr-polling", sid, eventPacket(strconv.Itoa(i)+"+", "", "x", i))
		assert.Equal(t, "6:::"+strconv.Itoa(i)+"+["+strconv.Itoa(i+1)+`,"ok"]`, other.poll(sid))
		// A server emit waits in A's queue for a poll held through B.
		held := via.async(http.MethodGet, transportPath("xhr-polling", sid), "")
		a.waitHeld(sid, uint64(2+2*i+1))
		require.NoError(t, a.socket("", sid).Emit("ping", i))
		r := <-held
		require.NoError(t, r.err)
		assert.Equal(t, `5:::{"name":"ping","args":[`+strconv.Itoa(i)+`]}`, r.body)
	}
	// Server-to-client acks through B.
	answer := make(chan string, 1)
	require.NoError(t, a.socket("", sid).EmitWithAckFunc("q", func(args []json.RawMessage) { answer <- string(args[0]) }, 1))
	assert.Equal(t, `5:1+::{"name":"q","args":[1]}`, b.poll(sid))
	b.post("xhr-polling", sid, `6:::1+["yes"]`)
	select {
	case v := <-answer:
		assert.Equal(t, `"yes"`, v)
	case <-time.After(waitFor):
		t.Fatal("the client's ack, POSTed through B, did not reach the server on A")
	}
	assert.GreaterOrEqual(t, b.srv.Stats().Forwarded, uint64(7))
	assert.Zero(t, a.srv.Stats().Forwarded)

	// ?disconnect through B closes the session on A and unregisters it.
	r := b.get("/socket.io/1/xhr-polling/" + sid + "?disconnect=1")
	assert.Equal(t, http.StatusOK, r.status)
	rec.waitCount(t, "disconnect  "+sid+" forced close", 1)
	require.Eventually(t, func() bool { return !dir.has(sid) }, waitFor, tick, "unregistered on close")
	assert.Equal(t, "7:::1+0", b.poll(sid), "a closed session is unknown everywhere")
	assert.Equal(t, "7:::1+0", a.poll(sid))
}

// TestForwardedOtherTransports: a websocket upgraded through B, an
// htmlfile stream and jsonp polls through B reach the sessions on A.
func TestForwardedOtherTransports(t *testing.T) {
	t.Parallel()
	dir := newMapDirectory()
	nodes := newNodes(t, dir, 2, Config{}, &recorder{})
	a, b := nodes[0], nodes[1]

	sid := a.handshake("")
	ws := b.dialWS(sid, wsOptions{})
	ws.expect("1::")
	ws.send(eventPacket("1+", "", "echo", "hé 😀"))
	ws.expect(`6:::1+["hé 😀"]`)
	ws.send("1::/chat")
	ws.expect("1::/chat")
	require.NoError(t, a.socket("/chat", sid).Emit("hi"))
	ws.expect(`5::/chat:{"name":"hi"}`)
	assert.Equal(t, "websocket", a.srv.lookup(sid).Transport())
	_ = ws.conn.Close()
	require.Eventually(t, func() bool { return a.srv.lookup(sid) == nil }, waitFor, tick, "closing the tunnel ends the session")

	sid = a.handshake("")
	st := b.openHTMLFile(sid)
	assert.Equal(t, []string{"1::"}, st.waitPayloads(t, 1))
	b.post("htmlfile", sid, eventPacket("", "", "effect"))
	assert.Equal(t, []string{"1::", `5:::{"name":"effected"}`}, st.waitPayloads(t, 2))

	sid = a.handshake("")
	assert.Equal(t, "1::", unJSONP(t, b.get(transportPath("jsonp-polling", sid)+"?i=3").body, "3"))
	require.Equal(t, http.StatusOK, a.jsonpPost(sid, eventPacket("1+", "", "x", 1)).status)
	assert.Equal(t, `6:::1+[2,"ok"]`, unJSONP(t, b.get(transportPath("jsonp-polling", sid)+"?i=4").body, "4"))
}

// TestForwardingRefusals: unknown sessions, requests already forwarded,
// directory errors and unreachable owners are answered as unknown sessions.
func TestForwardingRefusals(t *testing.T) {
	t.Parallel()
	dir := newMapDirectory()
	nodes := newNodes(t, dir, 3, longPolls, &recorder{})
	a, b, c := nodes[0], nodes[1], nodes[2]

	// Unknown (well-formed and malformed) ids.
	assert.Equal(t, "7:::1+0", b.poll(newSessionID()))
	assert.Equal(t, "7:::1+0", b.poll("nope"))
	assert.Equal(t, http.StatusBadRequest, b.do(http.MethodPost, transportPath("xhr-polling", newSessionID()), "3:::x").status)

	// A request already forwarded once is never forwarded again.
	sid := a.connectPolling("")
	r := b.get(transportPath("xhr-polling", sid), ForwardedHeader, "x")
	assert.Equal(t, "7:::1+0", r.body)

	// CORS headers appear once on forwarded answers.
	held := b.async(http.MethodGet, transportPath("xhr-polling", sid), "", "Origin", "http://example.com")
	a.waitHeld(sid, 2)
	require.NoError(t, a.socket("", sid).Emit("x"))
	r = <-held
	require.NoError(t, r.err)
	assert.Equal(t, `5:::{"name":"x"}`, r.body)
	assert.Equal(t, []string{"http://example.com"}, r.header.Values("Access-Control-Allow-Origin"), "body %q", r.body)
	assert.Equal(t, []string{"true"}, r.header.Values("Access-Control-Allow-Credentials"))
	assert.Equal(t, []string{"Origin"}, r.header.Values("Vary"), "and so does Vary")

	// A directory error.
	dir.setFail(errors.New("directory down"))
	assert.Equal(t, "7:::1+0", b.poll(sid))
	assert.Positive(t, b.srv.Stats().ForwardFailures)
	dir.setFail(nil)

	// The owner is gone but still in the directory.
	sid = c.connectPolling("")
	c.hs.CloseClientConnections()
	c.hs.Close()
	start := time.Now()
	assert.Equal(t, "7:::1+0", b.poll(sid))
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, http.StatusBadRequest, b.do(http.MethodPost, transportPath("xhr-polling", sid), "3:::x").status)
	// A websocket is upgraded locally and told to reconnect.
	ws, _, err := b.tryDialWS(sid)
	require.NoError(t, err)
	_, msg, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "7:::1+0", string(msg))
	_ = ws.Close()
	assert.GreaterOrEqual(t, b.srv.Stats().ForwardFailures, uint64(3))
}

// TestSessionsWithoutNodeAddr: a directory without an address is ignored.
func TestSessionsWithoutNodeAddr(t *testing.T) {
	t.Parallel()
	dir := newMapDirectory()
	ts := newTestServer(t, Config{Sessions: dir}, nil)
	sid := ts.handshake("")
	assert.False(t, dir.has(sid))
	assert.Nil(t, ts.srv.fwd)
}

// TestForwardedV4Polling: a v4 (Engine.IO v4) session handshaken on A is
// served by polls and POSTs through B: B forwards them to A, which alone
// holds the session, and the directory forgets it when it closes.
func TestForwardedV4Polling(t *testing.T) {
	t.Parallel()
	dir := newMapDirectory()
	rec := &recorder{}
	nodes := newNodes(t, dir, 2, Config{}, rec)
	a, b := nodes[0], nodes[1]
	r := a.get("/socket.io/?EIO=4&transport=polling")
	require.Equal(t, http.StatusOK, r.status, r.body)
	var open struct{ Sid string }
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(r.body, "0")), &open))
	sid := open.Sid
	require.True(t, dir.has(sid), "registered at the handshake")
	path := "/socket.io/?EIO=4&transport=polling&sid=" + sid
	post := func(ts *testServer, body string) {
		t.Helper()
		r := ts.do(http.MethodPost, path, body)
		require.Equal(t, http.StatusOK, r.status, r.body)
	}
	post(b, "40")
	r = b.get(path)
	require.Equal(t, http.StatusOK, r.status)
	require.True(t, strings.HasPrefix(r.body, `40{"sid":"`), r.body)
	post(a, `421["x",1]`)
	assert.Equal(t, `431[2,"ok"]`, b.get(path).body)
	post(b, `422["x",2]`)
	assert.Equal(t, `432[3,"ok"]`, a.get(path).body)
	assert.False(t, b.srv.holds5(sid))
	assert.True(t, a.srv.holds5(sid))
	assert.GreaterOrEqual(t, b.srv.Stats().Forwarded, uint64(3))
	// The client closes the session through B.
	post(b, "1")
	require.Eventually(t, func() bool { return !dir.has(sid) }, waitFor, tick, "unregistered on close")
	assert.Equal(t, http.StatusBadRequest, b.get(path).status, "a closed session is unknown everywhere")
}
