package socketio

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Raw Engine.IO v4 polling against one node of newNodes.

const eio4Path = "/socket.io/?EIO=4&transport="

func pollPath5(sid string) string { return eio4Path + "polling&sid=" + sid }

// handshake5 opens a v4 polling session and returns its sid.
func (ts *testServer) handshake5() string {
	ts.t.Helper()
	r := ts.get(eio4Path + "polling")
	require.Equal(ts.t, http.StatusOK, r.status, r.body)
	require.True(ts.t, strings.HasPrefix(r.body, "0{"), r.body)
	var open struct {
		SID string `json:"sid"`
	}
	require.NoError(ts.t, json.Unmarshal([]byte(r.body[1:]), &open))
	return open.SID
}

// poll5 polls sid and returns the packets of the answer.
func (ts *testServer) poll5(sid string) []string {
	ts.t.Helper()
	r := ts.get(pollPath5(sid))
	require.Equal(ts.t, http.StatusOK, r.status, r.body)
	return strings.Split(r.body, "\x1e")
}

// post5 POSTs packets to sid.
func (ts *testServer) post5(sid string, pkts ...string) {
	ts.t.Helper()
	r := ts.do(http.MethodPost, pollPath5(sid), strings.Join(pkts, "\x1e"))
	require.Equal(ts.t, http.StatusOK, r.status, r.body)
	require.Equal(ts.t, "ok", r.body)
}

// TestForwarded5PollingAlternatesNodes: an Engine.IO v4 polling session
// handshaken on A is served by polls and POSTs alternating between A and
// B; events, acks both ways and held polls work, only A holds the
// session, and it leaves the directory when it closes.
func TestForwarded5PollingAlternatesNodes(t *testing.T) {
	t.Parallel()
	dir := newMapDirectory()
	rec := &recorder{}
	nodes := newNodes(t, dir, 2, Config{}, rec)
	a, b := nodes[0], nodes[1]
	sid := a.handshake5()
	require.True(t, dir.has(sid), "registered at the handshake")
	assert.False(t, b.srv.holds5(sid))

	b.post5(sid, "40")
	got := a.poll5(sid)
	require.Len(t, got, 1)
	require.True(t, strings.HasPrefix(got[0], `40{"sid":"`), got[0])

	for i := range 6 {
		via, other := a, b
		if i%2 == 1 {
			via, other = b, a
		}
		n := strconv.Itoa(i)
		// An ack POSTed through one node comes back through the other.
		via.post5(sid, "42"+n+`["x",`+n+`]`)
		assert.Equal(t, []string{"43" + n + "[" + strconv.Itoa(i+1) + `,"ok"]`}, other.poll5(sid))
		// A poll held through one node gets what an emit queues later.
		held := via.async(http.MethodGet, pollPath5(sid), "")
		time.Sleep(30 * time.Millisecond)
		other.post5(sid, `42["shout","hi",`+n+`]`)
		r := <-held
		require.NoError(t, r.err)
		assert.Equal(t, `42["shout","hi",`+n+`]`, r.body)
	}
	assert.GreaterOrEqual(t, b.srv.Stats().Forwarded, uint64(12))
	assert.Zero(t, a.srv.Stats().Forwarded)
	assert.Equal(t, 0, b.srv.SessionCount())

	// A close packet through B ends the session on A and unregisters it.
	b.post5(sid, "1")
	require.Eventually(t, func() bool { return !a.srv.holds5(sid) && !dir.has(sid) }, waitFor, tick)
	r := b.get(pollPath5(sid))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.JSONEq(t, `{"code":1,"message":"Session ID unknown"}`, r.body)
}

// TestForwarded5Upgrade: a v4 polling session on A upgrades to a websocket
// opened through B (the probe, the upgrade and then every packet tunnel
// through B), and a websocket-only session is not registered.
func TestForwarded5Upgrade(t *testing.T) {
	t.Parallel()
	dir := newMapDirectory()
	nodes := newNodes(t, dir, 2, Config{}, &recorder{})
	a, b := nodes[0], nodes[1]
	sid := a.handshake5()
	a.post5(sid, "40")
	require.True(t, strings.HasPrefix(b.poll5(sid)[0], "40"))

	ws, resp, err := wsDialer.Dial(b.wsURL+eio4Path+"websocket&sid="+sid, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	require.NoError(t, err)
	defer ws.Close()
	read := func() string {
		t.Helper()
		require.NoError(t, ws.SetReadDeadline(time.Now().Add(waitFor)))
		_, msg, err := ws.ReadMessage()
		require.NoError(t, err)
		return string(msg)
	}
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("2probe")))
	assert.Equal(t, "3probe", read())
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("5")))
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`421["x",41]`)))
	assert.Equal(t, `431[42,"ok"]`, read())
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte(`42["shout","up"]`)))
	assert.Equal(t, `42["shout","up"]`, read())
	assert.True(t, a.srv.holds5(sid))
	assert.Equal(t, 0, b.srv.SessionCount())

	// Closing the tunnel ends the session on A.
	_ = ws.Close()
	require.Eventually(t, func() bool { return !a.srv.holds5(sid) && !dir.has(sid) }, waitFor, tick)

	// A websocket-only session makes no request with its sid: it is not
	// registered.
	ws2, resp, err := wsDialer.Dial(a.wsURL+eio4Path+"websocket", nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	require.NoError(t, err)
	defer ws2.Close()
	require.NoError(t, ws2.SetReadDeadline(time.Now().Add(waitFor)))
	_, msg, err := ws2.ReadMessage()
	require.NoError(t, err)
	var open struct {
		SID string `json:"sid"`
	}
	require.NoError(t, json.Unmarshal(msg[1:], &open))
	assert.True(t, a.srv.holds5(open.SID))
	assert.False(t, dir.has(open.SID))
}

// TestForwarded5Refusals: v4 requests for unknown sessions, already
// forwarded, preflights, refused origins, directory errors and unreachable
// owners are answered by the local engine (or as it would), and forwarded
// answers carry the owner's CORS headers once.
func TestForwarded5Refusals(t *testing.T) {
	t.Parallel()
	dir := newMapDirectory()
	nodes := newNodes(t, dir, 3, Config{CheckOrigin: func(r *http.Request) bool {
		return r.Header.Get("Origin") != "http://evil.example"
	}}, &recorder{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	unknown := func(r response) {
		t.Helper()
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.JSONEq(t, `{"code":1,"message":"Session ID unknown"}`, r.body)
	}
	unknown(b.get(pollPath5(newSessionID())))
	unknown(b.get(pollPath5("nope")))
	unknown(b.do(http.MethodPost, pollPath5(newSessionID()), "40"))

	sid := a.handshake5()
	unknown(b.get(pollPath5(sid), ForwardedHeader, "x"))

	// A preflight is answered locally.
	r := b.do(http.MethodOptions, pollPath5(sid), "", "Origin", "http://ok.example",
		"Access-Control-Request-Method", "POST")
	assert.Equal(t, http.StatusNoContent, r.status)
	forwarded := b.srv.Stats().Forwarded

	// A refused origin is refused locally.
	r = b.get(pollPath5(sid), "Origin", "http://evil.example")
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, forwarded, b.srv.Stats().Forwarded)

	// An allowed one is forwarded; the answer's CORS headers appear once.
	r = b.do(http.MethodPost, pollPath5(sid), "40", "Origin", "http://ok.example")
	assert.Equal(t, "ok", r.body)
	r = b.get(pollPath5(sid), "Origin", "http://ok.example")
	assert.True(t, strings.HasPrefix(r.body, "40"), r.body)
	assert.Equal(t, []string{"http://ok.example"}, r.header.Values("Access-Control-Allow-Origin"))
	assert.Equal(t, []string{"true"}, r.header.Values("Access-Control-Allow-Credentials"))
	assert.Len(t, r.header.Values("Vary"), 1)
	assert.Equal(t, forwarded+2, b.srv.Stats().Forwarded)

	// A directory error.
	dir.setFail(assert.AnError)
	unknown(b.get(pollPath5(sid)))
	assert.Positive(t, b.srv.Stats().ForwardFailures)
	dir.setFail(nil)

	// The owner is gone but still in the directory.
	sid = c.handshake5()
	c.hs.CloseClientConnections()
	c.hs.Close()
	start := time.Now()
	unknown(b.get(pollPath5(sid)))
	assert.Less(t, time.Since(start), 2*time.Second)
	_, resp, err := wsDialer.Dial(b.wsURL+eio4Path+"websocket&sid="+sid, nil)
	require.Error(t, err)
	if resp != nil {
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		_ = resp.Body.Close()
	}
	assert.GreaterOrEqual(t, b.srv.Stats().ForwardFailures, uint64(3))
}
