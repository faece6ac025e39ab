package engineio

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/apptest"
)

func TestHandshakePolling(t *testing.T) {
	ts := start(t, Config{PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second}, newRecorder(false))
	res := ts.do(t, "GET", "EIO=4&transport=polling", "")
	require.Equal(t, 200, res.status)
	assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
	hi := parseOpen(t, res.body)
	assert.Len(t, hi.SID, 20)
	assert.Equal(t, []string{"websocket"}, hi.Upgrades)
	assert.Equal(t, 25000, hi.PingInterval)
	assert.Equal(t, 20000, hi.PingTimeout)
	assert.Equal(t, 1000000, hi.MaxPayload)
	assert.Equal(t, 1, ts.srv.SessionCount())

	// The JSON keys, exactly.
	assert.Regexp(t, `^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\["websocket"\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000\}$`, res.body)

	// Two handshakes, two sids.
	assert.NotEqual(t, hi.SID, ts.open(t))
}

func TestHandshakePollingOnly(t *testing.T) {
	ts := start(t, Config{Transports: []string{Polling}}, newRecorder(false))
	res := ts.do(t, "GET", "EIO=4&transport=polling", "")
	require.Equal(t, 200, res.status)
	assert.Empty(t, parseOpen(t, res.body).Upgrades)
	res = ts.do(t, "GET", "EIO=4&transport=websocket", "")
	assert.Equal(t, 400, res.status)
	assert.JSONEq(t, `{"code":0,"message":"Transport unknown"}`, res.body)
}

func TestOpenQueuesAfterHandshake(t *testing.T) {
	h := newRecorder(false)
	h.onOpen = func(c *Conn, _ *http.Request) error {
		assert.True(t, c.Send([][]byte{AppendText(nil, []byte("welcome"))}, false))
		return nil
	}
	ts := start(t, Config{}, h)
	res := ts.do(t, "GET", "EIO=4&transport=polling", "")
	parts := strings.Split(res.body, "\x1e")
	require.Len(t, parts, 2, res.body)
	assert.Equal(t, "4welcome", parts[1])
}

func TestOpenRefused(t *testing.T) {
	h := newRecorder(false)
	h.onOpen = func(_ *Conn, r *http.Request) error {
		if r.URL.Query().Get("who") == "teapot" {
			return &HTTPError{Status: 418, Code: 42, Message: "I'm a teapot"}
		}
		return errors.New("no")
	}
	ts := start(t, Config{}, h)
	res := ts.do(t, "GET", "EIO=4&transport=polling&who=teapot", "")
	assert.Equal(t, 418, res.status)
	assert.JSONEq(t, `{"code":42,"message":"I'm a teapot"}`, res.body)
	res = ts.do(t, "GET", "EIO=4&transport=polling", "")
	assert.Equal(t, 403, res.status)
	assert.JSONEq(t, `{"code":4,"message":"Forbidden"}`, res.body)
	assert.Equal(t, 0, ts.srv.SessionCount())
}

func TestRequestErrors(t *testing.T) {
	ts := start(t, Config{}, newRecorder(false))
	sid := ts.open(t)
	cases := []struct {
		method, q string
		status    int
		body      string
	}{
		{"GET", "EIO=4", 400, `{"code":0,"message":"Transport unknown"}`},
		{"GET", "EIO=4&transport=abc", 400, `{"code":0,"message":"Transport unknown"}`},
		{"GET", "transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "EIO=2&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "EIO=abc&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "EIO=5&transport=polling", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"POST", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"PUT", "EIO=4&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"GET", "EIO=4&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"GET", "EIO=4&transport=websocket", 400, `{"code":3,"message":"Bad request"}`},
		{"GET", "EIO=4&transport=websocket&sid=" + sid, 400, `{"code":3,"message":"Bad request"}`},
		{"PUT", "EIO=4&transport=polling&sid=" + sid, 400, `{"code":3,"message":"Bad request"}`},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.q, func(t *testing.T) {
			res := ts.do(t, c.method, c.q, "")
			assert.Equal(t, c.status, res.status)
			assert.Equal(t, "application/json", res.header.Get("Content-Type"))
			assert.JSONEq(t, c.body, res.body)
		})
	}
}

func TestCORS(t *testing.T) {
	ts := start(t, Config{CheckOrigin: func(r *http.Request) bool {
		o := r.Header.Get("Origin")
		return o == "" || o == "https://good.example"
	}}, newRecorder(false))

	res := ts.do(t, "GET", "EIO=4&transport=polling", "", "Origin", "https://good.example")
	assert.Equal(t, 200, res.status)
	assert.Equal(t, "https://good.example", res.header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", res.header.Get("Access-Control-Allow-Credentials"))

	// Refusals carry the headers too, so that a browser's script reads them.
	res = ts.do(t, "GET", "EIO=4&transport=nope", "", "Origin", "https://good.example")
	assert.Equal(t, 400, res.status)
	assert.Equal(t, "https://good.example", res.header.Get("Access-Control-Allow-Origin"))

	res = ts.do(t, "OPTIONS", "EIO=4&transport=polling", "", "Origin", "https://good.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	assert.Equal(t, 204, res.status)
	assert.Equal(t, "https://good.example", res.header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, res.header.Get("Access-Control-Allow-Methods"), "POST")
	assert.Equal(t, "content-type", res.header.Get("Access-Control-Allow-Headers"))

	res = ts.do(t, "GET", "EIO=4&transport=polling", "", "Origin", "https://evil.example")
	assert.Equal(t, 403, res.status)
	assert.JSONEq(t, `{"code":4,"message":"Forbidden"}`, res.body)
	assert.Empty(t, res.header.Get("Access-Control-Allow-Origin"))

	// No Origin: no CORS headers.
	res = ts.do(t, "GET", "EIO=4&transport=polling", "")
	assert.Equal(t, 200, res.status)
	assert.Empty(t, res.header.Get("Access-Control-Allow-Origin"))

	// A refused websocket.
	u := "ws" + strings.TrimPrefix(ts.url, "http") + "?EIO=4&transport=websocket"
	_, wres, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {"https://evil.example"}})
	require.Error(t, err)
	require.NotNil(t, wres)
	assert.Equal(t, 403, wres.StatusCode)
	wres.Body.Close()
}

func TestPollingPayloads(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)

	res := ts.post(t, sid, "4hello\x1e4€ world\x1ebAQIDBA==\x1eb\x1e4")
	require.Equal(t, 200, res.status)
	assert.Equal(t, "ok", res.body)
	assert.Equal(t, "text/html", res.header.Get("Content-Type"))
	assert.Equal(t, event{"text", "hello"}, h.next(t, sid))
	assert.Equal(t, event{"text", "€ world"}, h.next(t, sid))
	assert.Equal(t, event{"binary", "\x01\x02\x03\x04"}, h.next(t, sid))
	assert.Equal(t, event{"binary", ""}, h.next(t, sid))
	assert.Equal(t, event{"text", ""}, h.next(t, sid))

	c := h.conn(t, sid)
	assert.Equal(t, Polling, c.Transport())
	require.True(t, c.Send([][]byte{AppendText(nil, []byte("a")), AppendBinary(nil, []byte{1, 2, 3, 4})}, false))
	require.True(t, c.Send([][]byte{AppendText(nil, []byte("b"))}, false))
	assert.Equal(t, 2+5+2, c.QueuedBytes())
	res = ts.poll(t, sid)
	require.Equal(t, 200, res.status)
	assert.Equal(t, "4a\x1ebAQIDBA==\x1e4b", res.body)
	require.Eventually(t, func() bool { return c.QueuedBytes() == 0 }, wait, time.Millisecond)
}

func TestPollHeldUntilSend(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	c := h.conn(t, sid)
	ch := ts.pollAsync(t, sid)
	waitPolling(t, c)
	select {
	case r := <-ch:
		t.Fatalf("the poll was answered with nothing queued: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	require.True(t, c.Send([][]byte{AppendText(nil, []byte("late"))}, false))
	res := recv(t, ch)
	assert.Equal(t, 200, res.status)
	assert.Equal(t, "4late", res.body)
}

func TestDuplicatePoll(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	first := ts.pollAsync(t, sid)
	waitPolling(t, h.conn(t, sid))
	second := ts.poll(t, sid)
	assert.Equal(t, 400, second.status)
	res := recv(t, first)
	assert.Equal(t, 200, res.status)
	assert.Equal(t, "1", res.body)
	assert.Equal(t, ReasonTransportError, h.closed(t, sid))
	assert.Equal(t, 400, ts.poll(t, sid).status)
}

func TestPollDropped(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	req, err := http.NewRequest("GET", ts.url+"?EIO=4&transport=polling&sid="+sid, nil)
	require.NoError(t, err)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := (&http.Client{Transport: tr, Timeout: 300 * time.Millisecond}).Do(req)
		assert.Error(t, err)
	}()
	assert.Equal(t, ReasonTransportError, h.closed(t, sid))
	<-done
}

func TestBadPacketPolling(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	waitPoll := ts.pollAsync(t, sid)
	waitPolling(t, h.conn(t, sid))
	res := ts.post(t, sid, "4ok\x1eabc")
	assert.Equal(t, 400, res.status)
	assert.Equal(t, ReasonParseError, h.closed(t, sid)) // "4ok" is not delivered: the payload is bad
	assert.Equal(t, "1", recv(t, waitPoll).body)
	assert.Equal(t, 400, ts.poll(t, sid).status)
}

func TestBinaryPollingPayloadRefused(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	res := ts.do(t, "POST", "EIO=4&transport=polling&sid="+sid, "4x", "Content-Type", "application/octet-stream")
	assert.Equal(t, 400, res.status)
	assert.Equal(t, ReasonTransportError, h.closed(t, sid))
}

func TestMaxPayload(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{MaxPayload: 100}, h)
	sid := ts.open(t)
	res := ts.post(t, sid, "4"+strings.Repeat("x", 100))
	assert.Equal(t, 413, res.status)
	// The session stays, as with Node.js engine.io.
	res = ts.post(t, sid, "4"+strings.Repeat("y", 99))
	assert.Equal(t, 200, res.status)
	assert.Equal(t, event{"text", strings.Repeat("y", 99)}, h.next(t, sid))

	// A chunked body (no Content-Length) over the bound.
	req, err := http.NewRequest("POST", ts.url+"?EIO=4&transport=polling&sid="+sid,
		struct{ *strings.Reader }{strings.NewReader("4" + strings.Repeat("z", 200))})
	require.NoError(t, err)
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r.Body.Close()
	assert.Equal(t, 413, r.StatusCode)

	// A websocket message over the bound closes the connection.
	ws := ts.dial(t, "EIO=4&transport=websocket")
	wsid := parseOpen(t, ws.next(t).data).SID
	assert.Equal(t, 100, parseOpen(t, "0"+`{"maxPayload":100}`).MaxPayload)
	ws.text(t, "4"+strings.Repeat("x", 100))
	ws.waitClosed(t)
	assert.Equal(t, ReasonTransportClose, h.closed(t, wsid))
}

func TestPollingClientClose(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	waitPoll := ts.pollAsync(t, sid)
	waitPolling(t, h.conn(t, sid))
	assert.Equal(t, 200, ts.post(t, sid, "4bye\x1e1\x1e4lost").status)
	assert.Equal(t, event{"text", "bye"}, h.next(t, sid))
	assert.Equal(t, event{"close", ReasonTransportClose}, h.next(t, sid))
	res := recv(t, waitPoll)
	assert.Equal(t, 200, res.status)
	assert.Equal(t, "6", res.body)
	assert.Equal(t, 0, ts.srv.SessionCount())
}

func TestPollingServerClose(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	c := h.conn(t, sid)
	require.True(t, c.Send([][]byte{AppendText(nil, []byte("last"))}, false))
	c.Close()
	assert.False(t, c.Send([][]byte{AppendText(nil, []byte("too late"))}, false))
	res := ts.poll(t, sid)
	assert.Equal(t, "4last\x1e1", res.body)
	assert.Equal(t, ReasonForcedClose, h.closed(t, sid))
	assert.Equal(t, 400, ts.poll(t, sid).status)
}

func TestPollingServerCloseNoPoll(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}, h)
	sid := ts.open(t)
	h.conn(t, sid).Close()
	// The client never polls again: the session ends anyway.
	assert.Equal(t, ReasonForcedClose, h.closed(t, sid))
}

// TestPollingServerCloseUnansweredPing: a session closed while its ping
// is unanswered (a client gone after the handshake, closed by the layer
// above at its connect timeout) ends when the pong is due, not
// PingInterval+PingTimeout after the close.
func TestPollingServerCloseUnansweredPing(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{PingInterval: 10 * time.Millisecond, PingTimeout: time.Hour}, h)
	sid := ts.open(t)
	c := h.conn(t, sid)
	var pongBy time.Duration
	require.Eventually(t, func() bool { // the ping is queued, nobody polls
		c.mu.Lock()
		defer c.mu.Unlock()
		pongBy = c.pongBy
		return pongBy != 0
	}, wait, time.Millisecond)
	c.Close()
	c.mu.Lock()
	closeBy, wouldBe := c.closeBy, c.srv.timers.now()+c.srv.cfg.PingInterval+c.srv.cfg.PingTimeout
	c.mu.Unlock()
	assert.Equal(t, pongBy, closeBy)
	assert.Less(t, closeBy, wouldBe)

	// No ping unanswered: PingInterval+PingTimeout.
	ts = start(t, Config{PingInterval: time.Hour, PingTimeout: time.Hour}, h)
	sid = ts.open(t)
	c = h.conn(t, sid)
	before := c.srv.timers.now()
	c.Close()
	c.mu.Lock()
	closeBy = c.closeBy
	c.mu.Unlock()
	assert.GreaterOrEqual(t, closeBy, before+2*time.Hour)
}

func TestServerClose(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	waitPoll := ts.pollAsync(t, sid)
	waitPolling(t, h.conn(t, sid))
	ws := ts.dial(t, "EIO=4&transport=websocket")
	wsid := parseOpen(t, ws.next(t).data).SID
	assert.Equal(t, 2, ts.srv.SessionCount())
	ts.srv.Close()
	assert.Equal(t, "1", recv(t, waitPoll).body)
	ws.waitClosed(t)
	assert.Equal(t, ReasonServerShutdown, h.closed(t, sid))
	assert.Equal(t, ReasonServerShutdown, h.closed(t, wsid))
	assert.Equal(t, 0, ts.srv.SessionCount())
	res := ts.do(t, "GET", "EIO=4&transport=polling", "")
	assert.Equal(t, 503, res.status)
}

func TestMaxSessions(t *testing.T) {
	ts := start(t, Config{MaxSessions: 1}, newRecorder(false))
	ts.open(t)
	assert.Equal(t, 503, ts.do(t, "GET", "EIO=4&transport=polling", "").status)
}

func TestWebSocket(t *testing.T) {
	h := newRecorder(true)
	ts := start(t, Config{}, h)
	ws := ts.dial(t, "EIO=4&transport=websocket")
	f := ws.next(t)
	assert.False(t, f.binary)
	hi := parseOpen(t, f.data)
	assert.Empty(t, hi.Upgrades)
	assert.Len(t, hi.SID, 20)
	c := h.conn(t, hi.SID)
	assert.Equal(t, WebSocket, c.Transport())

	ws.text(t, "4hello")
	assert.Equal(t, event{"text", "hello"}, h.next(t, hi.SID))
	assert.Equal(t, wsFrame{false, "4hello"}, ws.next(t))

	require.NoError(t, ws.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}))
	assert.Equal(t, event{"binary", "\x01\x02\x03"}, h.next(t, hi.SID))
	assert.Equal(t, wsFrame{true, "\x01\x02\x03"}, ws.next(t))

	// The 'b' form in a text frame is a binary message too.
	ws.text(t, "bAQI=")
	assert.Equal(t, event{"binary", "\x01\x02"}, h.next(t, hi.SID))
	assert.Equal(t, wsFrame{true, "\x01\x02"}, ws.next(t))

	// One packet per frame, in order.
	for i := range 100 {
		ws.text(t, fmt.Sprintf("4m%d", i))
	}
	for i := range 100 {
		assert.Equal(t, event{"text", fmt.Sprintf("m%d", i)}, h.next(t, hi.SID))
		assert.Equal(t, wsFrame{false, fmt.Sprintf("4m%d", i)}, ws.next(t))
	}

	// A polling request of a websocket session is refused.
	assert.Equal(t, 400, ts.poll(t, hi.SID).status)
}

func TestWebSocketClose(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)

	// The client's close packet.
	ws := ts.dial(t, "EIO=4&transport=websocket")
	sid := parseOpen(t, ws.next(t).data).SID
	ws.text(t, "1")
	ws.waitClosed(t)
	assert.Equal(t, ReasonTransportClose, h.closed(t, sid))

	// The client's connection ends.
	ws = ts.dial(t, "EIO=4&transport=websocket")
	sid = parseOpen(t, ws.next(t).data).SID
	require.NoError(t, ws.conn.Close())
	assert.Equal(t, ReasonTransportClose, h.closed(t, sid))

	// The server's Close: the queue, then the close.
	ws = ts.dial(t, "EIO=4&transport=websocket")
	sid = parseOpen(t, ws.next(t).data).SID
	c := h.conn(t, sid)
	require.True(t, c.Send([][]byte{AppendText(nil, []byte("a")), AppendText(nil, []byte("b"))}, false))
	c.Close()
	assert.Equal(t, "4a", ws.next(t).data)
	assert.Equal(t, "4b", ws.next(t).data)
	ws.waitClosed(t)
	assert.Equal(t, ReasonForcedClose, h.closed(t, sid))

	// A bad packet.
	ws = ts.dial(t, "EIO=4&transport=websocket")
	sid = parseOpen(t, ws.next(t).data).SID
	ws.text(t, "abc")
	ws.waitClosed(t)
	assert.Equal(t, ReasonParseError, h.closed(t, sid))

	// A ping from the client (v4 pings go the other way).
	ws = ts.dial(t, "EIO=4&transport=websocket")
	sid = parseOpen(t, ws.next(t).data).SID
	ws.text(t, "2")
	ws.waitClosed(t)
	assert.Equal(t, ReasonTransportError, h.closed(t, sid))
}

func TestHeartbeat(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{PingInterval: 30 * time.Millisecond, PingTimeout: 2 * time.Second}, h)

	// Polling: pings come, pongs keep the session.
	sid := ts.open(t)
	for range 3 {
		res := ts.poll(t, sid)
		require.Equal(t, 200, res.status)
		assert.Equal(t, "2", res.body)
		require.Equal(t, 200, ts.post(t, sid, "3").status)
	}

	// WebSocket.
	ws := ts.dial(t, "EIO=4&transport=websocket")
	wsid := parseOpen(t, ws.next(t).data).SID
	for range 3 {
		assert.Equal(t, wsFrame{false, "2"}, ws.next(t))
		ws.text(t, "3")
	}
	ws.conn.Close()
	assert.Equal(t, ReasonTransportClose, h.closed(t, wsid))
	ts.srv.Close()
	assert.Equal(t, ReasonServerShutdown, h.closed(t, sid))
}

func TestPingTimeout(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{PingInterval: 20 * time.Millisecond, PingTimeout: 30 * time.Millisecond}, h)
	sid := ts.open(t)
	ws := ts.dial(t, "EIO=4&transport=websocket")
	wsid := parseOpen(t, ws.next(t).data).SID
	assert.Equal(t, ReasonPingTimeout, h.closed(t, sid))
	assert.Equal(t, ReasonPingTimeout, h.closed(t, wsid))
	assert.Equal(t, wsFrame{false, "2"}, ws.next(t))
	ws.waitClosed(t)
	assert.Equal(t, 400, ts.poll(t, sid).status)
	assert.Equal(t, 0, ts.srv.SessionCount())
}

func TestManySessionsTimers(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{PingInterval: 10 * time.Millisecond, PingTimeout: 10 * time.Millisecond}, h)
	var sids []string
	for range 50 {
		sids = append(sids, ts.open(t))
	}
	for _, sid := range sids {
		assert.Equal(t, ReasonPingTimeout, h.closed(t, sid))
	}
	assert.Equal(t, 0, ts.srv.SessionCount())
	ts.srv.timers.mu.Lock()
	assert.Empty(t, ts.srv.timers.queue)
	ts.srv.timers.mu.Unlock()
}

func TestUpgrade(t *testing.T) {
	h := newRecorder(true)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	c := h.conn(t, sid)

	waitPoll := ts.pollAsync(t, sid)
	waitPolling(t, c)
	ws := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	// A second probe while one is in flight is refused.
	_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.url, "http")+"?EIO=4&transport=websocket&sid="+sid, nil)
	require.Error(t, err)
	assert.Equal(t, 400, res.StatusCode)
	res.Body.Close()

	// Messages sent during the probe go by polling; none reach the probe.
	require.True(t, c.Send([][]byte{AppendText(nil, []byte("before"))}, false))
	assert.Equal(t, "4before", recv(t, waitPoll).body)

	waitPoll = ts.pollAsync(t, sid)
	waitPolling(t, c)
	ws.text(t, "2probe")
	assert.Equal(t, wsFrame{false, "3probe"}, ws.next(t))
	assert.Equal(t, "6", recv(t, waitPoll).body) // the waiting poll ends
	assert.Equal(t, Polling, c.Transport())

	require.True(t, c.Send([][]byte{AppendText(nil, []byte("queued"))}, false))
	ws.text(t, "5")
	assert.Equal(t, wsFrame{false, "4queued"}, ws.next(t)) // the queue moved to the websocket
	require.Eventually(t, func() bool { return c.Transport() == WebSocket }, wait, time.Millisecond)

	ws.text(t, "4hello")
	assert.Equal(t, event{"text", "hello"}, h.next(t, sid))
	assert.Equal(t, wsFrame{false, "4hello"}, ws.next(t))

	// Polling and other websockets of the session are refused now.
	assert.Equal(t, 400, ts.poll(t, sid).status)
	assert.Equal(t, 400, ts.post(t, sid, "4x").status)
	_, res, err = websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.url, "http")+"?EIO=4&transport=websocket&sid="+sid, nil)
	require.Error(t, err)
	assert.Equal(t, 400, res.StatusCode)
	res.Body.Close()

	ws.conn.Close()
	assert.Equal(t, ReasonTransportClose, h.closed(t, sid))
}

func TestUpgradeRacingPoll(t *testing.T) {
	// The suite's "ignores HTTP requests with same sid after upgrade": the
	// probe and the upgrade packet, then at once a poll, which is refused.
	h := newRecorder(true)
	ts := start(t, Config{}, h)
	for range 5 {
		sid := ts.open(t)
		ws := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
		ws.text(t, "2probe")
		ws.text(t, "5")
		res := ts.poll(t, sid)
		assert.Equal(t, 400, res.status, res.body)
		ws.text(t, "4hello")
		assert.Equal(t, wsFrame{false, "3probe"}, ws.next(t))
		assert.Equal(t, wsFrame{false, "4hello"}, ws.next(t))
	}
}

func TestUpgradeTimeout(t *testing.T) {
	h := newRecorder(true)
	logs := &apptest.LockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := start(t, Config{UpgradeTimeout: 50 * time.Millisecond, Logger: logger}, h)
	sid := ts.open(t)
	c := h.conn(t, sid)
	ws := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	ws.text(t, "2probe")
	assert.Equal(t, wsFrame{false, "3probe"}, ws.next(t))
	ws.waitClosed(t) // no "5" in time
	assert.Equal(t, Polling, c.Transport())
	// Said at Debug, with the session: the probe's close (1000) is all a
	// client sees of it.
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), `msg="upgrade timed out: probe closed" sid=`+sid+" probe_answered=true")
	}, wait, time.Millisecond, logs.String())

	// The session goes on over polling, and can upgrade again.
	assert.Equal(t, 200, ts.post(t, sid, "4still").status)
	assert.Equal(t, event{"text", "still"}, h.next(t, sid))
	assert.Equal(t, "4still", ts.poll(t, sid).body)
	ws = ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	ws.text(t, "2probe")
	assert.Equal(t, wsFrame{false, "3probe"}, ws.next(t))
	ws.text(t, "5")
	require.Eventually(t, func() bool { return c.Transport() == WebSocket }, wait, time.Millisecond)
}

func TestUpgradeProbeOtherPacket(t *testing.T) {
	h := newRecorder(true)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	ws := ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	ws.text(t, "4not yet")
	ws.waitClosed(t)
	c := h.conn(t, sid)
	assert.Equal(t, Polling, c.Transport())
	// The probe's end leaves the session on polling, free to try again.
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.probe == nil
	}, wait, time.Millisecond)
	ws = ts.dial(t, "EIO=4&transport=websocket&sid="+sid)
	ws.text(t, "2probe")
	assert.Equal(t, wsFrame{false, "3probe"}, ws.next(t))
}

func TestSlowConsumerPackets(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{SendQueueSize: 4}, h)
	sid := ts.open(t)
	c := h.conn(t, sid)
	pkt := AppendText(nil, []byte("x"))
	for range 4 {
		require.True(t, c.Send([][]byte{pkt}, false))
	}
	assert.False(t, c.Send([][]byte{pkt}, false))
	assert.Equal(t, ReasonSlowConsumer, h.closed(t, sid))
	assert.False(t, c.Send([][]byte{pkt}, false))
}

func TestSlowConsumerBytes(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{MaxQueuedBytes: 100}, h)
	sid := ts.open(t)
	c := h.conn(t, sid)
	require.Eventually(t, func() bool { return c.QueuedBytes() == 0 }, wait, time.Millisecond) // the handshake is written
	big := AppendText(nil, []byte(strings.Repeat("x", 150)))
	require.True(t, c.Send([][]byte{big}, false), "one packet over the bound goes when nothing is held")
	assert.False(t, c.Send([][]byte{AppendText(nil, []byte("y"))}, false))
	assert.Equal(t, ReasonSlowConsumer, h.closed(t, sid))
}

func TestSlowConsumerWebSocket(t *testing.T) {
	// A websocket client that reads nothing: what the transport holds
	// counts, and the session is closed once over the bound.
	h := newRecorder(false)
	ts := start(t, Config{MaxQueuedBytes: 256 << 10, WriteTimeout: wait}, h)
	u := "ws" + strings.TrimPrefix(ts.url, "http") + "?EIO=4&transport=websocket"
	conn, res, err := websocket.DefaultDialer.Dial(u, nil)
	require.NoError(t, err)
	res.Body.Close()
	defer conn.Close()
	_, b, err := conn.ReadMessage()
	require.NoError(t, err)
	sid := parseOpen(t, string(b)).SID
	c := h.conn(t, sid)
	pkt := AppendText(nil, []byte(strings.Repeat("z", 16<<10)))
	deadline := time.Now().Add(wait)
	for c.Send([][]byte{pkt}, false) {
		assert.LessOrEqual(t, c.QueuedBytes(), 256<<10+len(pkt))
		require.True(t, time.Now().Before(deadline), "never over the bound")
		time.Sleep(time.Millisecond)
	}
	assert.Equal(t, ReasonSlowConsumer, h.closed(t, sid))
}

func TestVolatile(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	c := h.conn(t, sid)
	pkt := AppendText(nil, []byte("v"))
	assert.False(t, c.Send([][]byte{pkt}, true), "no poll waiting")
	ch := ts.pollAsync(t, sid)
	waitPolling(t, c)
	assert.True(t, c.Send([][]byte{pkt}, true))
	assert.Equal(t, "4v", recv(t, ch).body)

	ws := ts.dial(t, "EIO=4&transport=websocket")
	wsid := parseOpen(t, ws.next(t).data).SID
	assert.True(t, h.conn(t, wsid).Send([][]byte{pkt}, true))
	assert.Equal(t, "4v", ws.next(t).data)
}

func TestCloseInsideCallback(t *testing.T) {
	h := newRecorder(false)
	h.onOpen = nil
	ts := start(t, Config{}, closingHandler{h})
	ws := ts.dial(t, "EIO=4&transport=websocket")
	sid := parseOpen(t, ws.next(t).data).SID
	ws.text(t, "4close me")
	_ = ws.conn.WriteMessage(websocket.TextMessage, []byte("4after")) // the connection may be closed already
	assert.Equal(t, event{"text", "close me"}, h.next(t, sid))
	assert.Equal(t, event{"close", ReasonForcedClose}, h.next(t, sid))
	ws.waitClosed(t)
}

// closingHandler's sessions close themselves on their first message.
type closingHandler struct{ r *recorder }

func (h closingHandler) Open(c *Conn, r *http.Request) (Session, error) {
	s, err := h.r.Open(c, r)
	return closingSession{s.(*recSession)}, err
}

type closingSession struct{ *recSession }

func (s closingSession) OnMessage(text string) {
	s.recSession.OnMessage(text)
	s.c.Close()
}

func TestOverlappingPosts(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	c := h.conn(t, sid)
	// A POST whose body is still coming.
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", ts.url+"?EIO=4&transport=polling&sid="+sid, pr)
	require.NoError(t, err)
	first := make(chan int, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- -1
			return
		}
		res.Body.Close()
		first <- res.StatusCode
	}()
	_, err = pw.Write([]byte("4part"))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.postActive
	}, wait, time.Millisecond)
	assert.Equal(t, 400, ts.post(t, sid, "4second").status)
	assert.Equal(t, ReasonTransportError, h.closed(t, sid))
	pw.Close()
	<-first
}

func TestCloseDuringOpen(t *testing.T) {
	h := newRecorder(false)
	h.onOpen = func(c *Conn, _ *http.Request) error {
		c.Close()
		return nil
	}
	ts := start(t, Config{}, h)
	res := ts.do(t, "GET", "EIO=4&transport=polling", "")
	require.Equal(t, 200, res.status)
	parts := strings.Split(res.body, "\x1e")
	require.Len(t, parts, 2, res.body)
	sid := parseOpen(t, parts[0]).SID
	assert.Equal(t, "1", parts[1])
	assert.Equal(t, ReasonForcedClose, h.closed(t, sid))
}

func TestWebSocketOpenRefused(t *testing.T) {
	h := newRecorder(false)
	h.onOpen = func(*Conn, *http.Request) error { return &HTTPError{Status: 401, Code: 4, Message: "who are you"} }
	ts := start(t, Config{}, h)
	_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.url, "http")+"?EIO=4&transport=websocket", nil)
	require.Error(t, err)
	require.NotNil(t, res)
	defer res.Body.Close()
	assert.Equal(t, 401, res.StatusCode)
	b, _ := io.ReadAll(res.Body)
	assert.JSONEq(t, `{"code":4,"message":"who are you"}`, string(b))
}

// A client that gets a POST's "ok" may send its next POST at once, on
// another connection: the server must not still count the first as
// active (it would close the session for overlapping POSTs). The POSTs
// alternate between two connections, so that each is read by another
// goroutine than the one answering the previous.
func TestBackToBackPostsOnTwoConnections(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open(t)
	clients := [2]*http.Client{
		{Timeout: wait, Transport: &http.Transport{}},
		{Timeout: wait, Transport: &http.Transport{}},
	}
	defer clients[0].CloseIdleConnections()
	defer clients[1].CloseIdleConnections()
	const n = 300
	for i := range n {
		res, err := clients[i%2].Post(ts.url+"?EIO=4&transport=polling&sid="+sid, "text/plain;charset=UTF-8", strings.NewReader(fmt.Sprintf("4m%d", i)))
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, 200, res.StatusCode, "POST %d: %s", i, b)
		require.Equal(t, "ok", string(b))
	}
	for i := range n {
		ev := h.next(t, sid)
		require.Equal(t, event{"text", fmt.Sprintf("m%d", i)}, ev, "message %d", i)
	}
}

// Every close reason survives its code (a Conn keeps reasons as codes).
func TestReasonCodes(t *testing.T) {
	for _, r := range reasons[1:] {
		assert.Equal(t, r, codeOf(r).String())
	}
	assert.Equal(t, "", reasonCode(0).String())
	assert.Panics(t, func() { codeOf("no such reason") })
	// The codes are what keeps a Conn in its size class (issue 18).
	assert.LessOrEqual(t, unsafe.Sizeof(Conn{}), uintptr(208))
}
