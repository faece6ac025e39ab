package engineio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/siogo/siogo/internal/utf16n"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// v3 helpers: the requests of an Engine.IO v3 (socket.io-client 2.x) client.

// splitV3 splits a v3 text payload into its packets, checking each
// length (UTF-16 code units).
func splitV3(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for body != "" {
		i := strings.IndexByte(body, ':')
		require.Positive(t, i, "no length in %q", body)
		n, err := strconv.Atoi(body[:i])
		require.NoError(t, err)
		body = body[i+1:]
		end := utf16n.Prefix([]byte(body), n)
		require.GreaterOrEqual(t, end, 0, "length %d past the end of %q", n, body)
		out = append(out, body[:end])
		body = body[end:]
	}
	return out
}

// open3 makes a v3 polling session (extra: more query) and returns its sid.
func (ts *testServer) open3(t *testing.T, extra string) string {
	t.Helper()
	res := ts.do(t, "GET", "EIO=3&transport=polling"+extra, "")
	require.Equal(t, 200, res.status, res.body)
	return parseOpen(t, splitV3(t, res.body)[0]).SID
}

func (ts *testServer) poll3(t *testing.T, sid string) response {
	t.Helper()
	return ts.do(t, "GET", "EIO=3&transport=polling&sid="+sid, "")
}

func (ts *testServer) post3(t *testing.T, sid, body string, header ...string) response {
	t.Helper()
	return ts.do(t, "POST", "EIO=3&transport=polling&sid="+sid, body, header...)
}

func TestV3HandshakePolling(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{PingInterval: 25 * time.Second, PingTimeout: 20 * time.Second}, h)
	res := ts.do(t, "GET", "EIO=3&transport=polling", "")
	require.Equal(t, 200, res.status)
	assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
	pkts := splitV3(t, res.body)
	require.Len(t, pkts, 1)
	assert.Equal(t, strconv.Itoa(len(pkts[0]))+":"+pkts[0], res.body)
	assert.Regexp(t, `^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\["websocket"\],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000\}$`, pkts[0])
	hi := parseOpen(t, pkts[0])
	c := h.conn(t, hi.SID)
	assert.Equal(t, 3, c.Protocol())
	assert.Equal(t, Polling, c.Transport())

	// A v4 session says 4.
	assert.Equal(t, 4, h.conn(t, ts.open(t)).Protocol())
}

func TestV3HandshakeWebSocket(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	ws := ts.dial(t, "EIO=3&transport=websocket")
	f := ws.next(t)
	require.False(t, f.binary)
	hi := parseOpen(t, f.data)
	assert.Empty(t, hi.Upgrades)
	assert.Equal(t, 3, h.conn(t, hi.SID).Protocol())
}

func TestV3RequestErrors(t *testing.T) {
	ts := start(t, Config{}, newRecorder(false))
	for _, tc := range []struct {
		method, q string
		status    int
		body      string
	}{
		{"GET", "EIO=3", 400, `{"code":0,"message":"Transport unknown"}`},
		{"GET", "EIO=3&transport=abc", 400, `{"code":0,"message":"Transport unknown"}`},
		{"POST", "EIO=3&transport=polling", 400, `{"code":2,"message":"Bad handshake method"}`},
		{"GET", "EIO=3&transport=polling&sid=nope", 400, `{"code":1,"message":"Session ID unknown"}`},
		{"GET", "EIO=3&transport=websocket", 400, `{"code":3,"message":"Bad request"}`},
	} {
		res := ts.do(t, tc.method, tc.q, "")
		assert.Equal(t, tc.status, res.status, tc.q)
		assert.JSONEq(t, tc.body, res.body, tc.q)
	}
}

func TestV3PollingMessages(t *testing.T) {
	h := newRecorder(true)
	ts := start(t, Config{}, h)
	sid := ts.open3(t, "&b64=1")
	res := ts.post3(t, sid, "6:4hello2:4€3:4😀")
	require.Equal(t, 200, res.status)
	assert.Equal(t, "ok", res.body)
	assert.Equal(t, event{"text", "hello"}, h.next(t, sid))
	assert.Equal(t, event{"text", "€"}, h.next(t, sid))
	assert.Equal(t, event{"text", "😀"}, h.next(t, sid), "a surrogate pair counts 2 units")
	res = ts.poll3(t, sid)
	assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
	assert.Equal(t, "6:4hello2:4€3:4😀", res.body)

	// Binary as base64 both ways (b64=1 in the handshake only, as the
	// client sends it).
	res = ts.post3(t, sid, "6:4hello10:b4AQIDBA==")
	require.Equal(t, 200, res.status)
	h.next(t, sid)
	assert.Equal(t, event{"binary", "\x01\x02\x03\x04"}, h.next(t, sid))
	res = ts.poll3(t, sid)
	assert.Equal(t, "6:4hello10:b4AQIDBA==", res.body)

	// A payload that does not decode ends the session.
	res = ts.post3(t, sid, "abc")
	assert.Equal(t, 400, res.status)
	assert.Equal(t, ReasonParseError, h.closed(t, sid))
	assert.Equal(t, 400, ts.poll3(t, sid).status)
}

func TestV3PollingBinaryXHR2(t *testing.T) {
	h := newRecorder(true)
	ts := start(t, Config{}, h)
	sid := ts.open3(t, "")
	res := ts.post3(t, sid, "6:4hello10:b4AQIDBA==")
	require.Equal(t, 200, res.status)
	res = ts.poll3(t, sid)
	assert.Equal(t, "application/octet-stream", res.header.Get("Content-Type"))
	assert.Equal(t, string([]byte{0, 6, 255, 52, 104, 101, 108, 108, 111, 1, 5, 255, 4, 1, 2, 3, 4}), res.body)
	h.next(t, sid)
	h.next(t, sid)

	// Text only: a text payload, even for a binary-capable client.
	ts.post3(t, sid, "2:4a")
	h.next(t, sid)
	assert.Equal(t, "2:4a", ts.poll3(t, sid).body)

	// The binary POST body.
	body := string([]byte{0, 2, 255, '4', 'x', 1, 4, 255, 4, 9, 8, 7})
	res = ts.post3(t, sid, body, "Content-Type", "application/octet-stream")
	require.Equal(t, 200, res.status)
	assert.Equal(t, "ok", res.body)
	assert.Equal(t, event{"text", "x"}, h.next(t, sid))
	assert.Equal(t, event{"binary", "\x09\x08\x07"}, h.next(t, sid))
	assert.Equal(t, string([]byte{0, 2, 255, '4', 'x', 1, 4, 255, 4, 9, 8, 7}), ts.poll3(t, sid).body)

	// A bad binary body ends the session.
	res = ts.post3(t, sid, "\x05\x01", "Content-Type", "application/octet-stream")
	assert.Equal(t, 400, res.status)
	assert.Equal(t, ReasonParseError, h.closed(t, sid))
}

// TestV3SendForms checks what a v3 session's Send takes: AppendText and
// AppendBinaryV3, over every polling answer form and the websocket.
func TestV3SendForms(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	pkts := [][]byte{AppendText(nil, []byte("hi")), AppendBinaryV3(nil, []byte{1, 2}), AppendBinaryFor(3, nil, []byte{3})}
	assert.Equal(t, []byte{0xff, 4, 1, 2}, pkts[1])
	assert.Equal(t, []byte{0xff, 4, 3}, pkts[2])
	assert.Equal(t, []byte{0xff, 3}, AppendBinaryFor(4, nil, []byte{3}))

	sid := ts.open3(t, "&b64=1")
	require.True(t, h.conn(t, sid).Send(pkts, false))
	assert.Equal(t, "3:4hi6:b4AQI=6:b4Aw==", ts.poll3(t, sid).body)

	sid = ts.open3(t, "")
	require.True(t, h.conn(t, sid).Send(pkts, false))
	assert.Equal(t, string([]byte{0, 3, 255, '4', 'h', 'i', 1, 3, 255, 4, 1, 2, 1, 2, 255, 4, 3}), ts.poll3(t, sid).body)

	ws := ts.dial(t, "EIO=3&transport=websocket")
	sid = parseOpen(t, ws.next(t).data).SID
	require.True(t, h.conn(t, sid).Send(pkts, false))
	assert.Equal(t, wsFrame{false, "4hi"}, ws.next(t))
	assert.Equal(t, wsFrame{true, "\x04\x01\x02"}, ws.next(t))
	assert.Equal(t, wsFrame{true, "\x04\x03"}, ws.next(t))

	ws = ts.dial(t, "EIO=3&transport=websocket&b64=1")
	sid = parseOpen(t, ws.next(t).data).SID
	require.True(t, h.conn(t, sid).Send(pkts, false))
	assert.Equal(t, wsFrame{false, "4hi"}, ws.next(t))
	assert.Equal(t, wsFrame{false, "b4AQI="}, ws.next(t))
	assert.Equal(t, wsFrame{false, "b4Aw=="}, ws.next(t))
}

func TestV3HeartbeatPolling(t *testing.T) {
	h := newRecorder(false)
	// Interval+timeout is 2 s: a round trip stalled for longer than that
	// under a loaded -race run would end the session (it did once in CI
	// at 300+300 ms).
	ts := start(t, Config{PingInterval: time.Second, PingTimeout: time.Second}, h)
	sid := ts.open3(t, "&b64=1")
	// The client pings for longer than interval+timeout: the session
	// stays; each ping is answered with a pong of its data.
	for deadline := time.Now().Add(2500 * time.Millisecond); time.Now().Before(deadline); {
		require.Equal(t, 200, ts.post3(t, sid, "1:2").status)
		assert.Equal(t, "1:3", ts.poll3(t, sid).body)
		require.Equal(t, 200, ts.post3(t, sid, "3:2hi").status)
		assert.Equal(t, "3:3hi", ts.poll3(t, sid).body)
	}
	assert.Equal(t, 1, ts.srv.SessionCount())
	// Silence: the session ends after interval+timeout.
	assert.Equal(t, ReasonPingTimeout, h.closed(t, sid))
	assert.Equal(t, 400, ts.post3(t, sid, "1:2").status)

	// The server never pings a v3 client: a poll waits.
	sid = ts.open3(t, "&b64=1")
	res := ts.poll3(t, sid)
	assert.Equal(t, "1:1", res.body, "only the close packet of the ping timeout")

	// A pong from a v3 client is the wrong direction.
	sid = ts.open3(t, "&b64=1")
	ts.post3(t, sid, "1:3")
	assert.Equal(t, ReasonTransportError, h.closed(t, sid))
}

func TestV3WebSocket(t *testing.T) {
	h := newRecorder(true)
	ts := start(t, Config{PingInterval: 300 * time.Millisecond, PingTimeout: 300 * time.Millisecond}, h)
	ws := ts.dial(t, "EIO=3&transport=websocket")
	sid := parseOpen(t, ws.next(t).data).SID
	ws.text(t, "4hello")
	assert.Equal(t, wsFrame{false, "4hello"}, ws.next(t))
	require.NoError(t, ws.conn.WriteMessage(websocket.BinaryMessage, []byte{4, 1, 2, 3}))
	assert.Equal(t, event{"text", "hello"}, h.next(t, sid))
	assert.Equal(t, event{"binary", "\x01\x02\x03"}, h.next(t, sid))
	assert.Equal(t, wsFrame{true, "\x04\x01\x02\x03"}, ws.next(t))
	ws.text(t, "b4AQID") // base64 binary in a text frame
	assert.Equal(t, event{"binary", "\x01\x02\x03"}, h.next(t, sid))
	assert.Equal(t, wsFrame{true, "\x04\x01\x02\x03"}, ws.next(t))
	// Pings for longer than interval+timeout keep the session.
	for i := 0; i < 8; i++ {
		ws.text(t, "2")
		assert.Equal(t, wsFrame{false, "3"}, ws.next(t))
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, 1, ts.srv.SessionCount())
	ws.text(t, "2probe")
	assert.Equal(t, wsFrame{false, "3probe"}, ws.next(t))
	// Silence: ping timeout.
	assert.Equal(t, ReasonPingTimeout, h.closed(t, sid))
	ws.waitClosed(t)

	// b64=1: binary messages come back as base64 text frames.
	ws = ts.dial(t, "EIO=3&transport=websocket&b64=1")
	sid = parseOpen(t, ws.next(t).data).SID
	require.NoError(t, ws.conn.WriteMessage(websocket.BinaryMessage, []byte{4, 0xff}))
	assert.Equal(t, wsFrame{false, "b4/w=="}, ws.next(t))
	// A bad packet ends the session.
	ws.text(t, "abc")
	assert.Equal(t, ReasonParseError, h.closed(t, sid))
	ws.waitClosed(t)

	// A binary frame of an unknown type too.
	ws = ts.dial(t, "EIO=3&transport=websocket")
	sid = parseOpen(t, ws.next(t).data).SID
	require.NoError(t, ws.conn.WriteMessage(websocket.BinaryMessage, []byte{9, 1}))
	assert.Equal(t, ReasonParseError, h.closed(t, sid))
	ws.waitClosed(t)
}

func TestV3Upgrade(t *testing.T) {
	h := newRecorder(true)
	ts := start(t, Config{}, h)
	sid := ts.open3(t, "&b64=1")
	c := h.conn(t, sid)
	ws := ts.dial(t, "EIO=3&transport=websocket&sid="+sid)
	poll := ts.pollAsync3(t, sid)
	waitPolling(t, c)
	ws.text(t, "2probe")
	assert.Equal(t, wsFrame{false, "3probe"}, ws.next(t))
	assert.Equal(t, "1:6", recv(t, poll).body, "the noop ends the waiting poll")
	ws.text(t, "5")
	require.Eventually(t, func() bool { return c.Transport() == WebSocket }, wait, time.Millisecond)
	assert.Equal(t, 400, ts.poll3(t, sid).status)
	ws.text(t, "4hello")
	assert.Equal(t, wsFrame{false, "4hello"}, ws.next(t))
	// The client's pings now come over the websocket.
	ws.text(t, "2")
	assert.Equal(t, wsFrame{false, "3"}, ws.next(t))
	// Binary over the upgraded websocket (no b64 on the websocket).
	require.NoError(t, ws.conn.WriteMessage(websocket.BinaryMessage, []byte{4, 7}))
	assert.Equal(t, wsFrame{true, "\x04\x07"}, ws.next(t))
}

func TestV3UpgradeTimeout(t *testing.T) {
	h := newRecorder(true)
	ts := start(t, Config{UpgradeTimeout: 100 * time.Millisecond}, h)
	sid := ts.open3(t, "&b64=1")
	ws := ts.dial(t, "EIO=3&transport=websocket&sid="+sid)
	ws.text(t, "2probe")
	assert.Equal(t, wsFrame{false, "3probe"}, ws.next(t))
	ws.waitClosed(t)
	assert.Equal(t, Polling, h.conn(t, sid).Transport())
	ts.post3(t, sid, "2:4x")
	assert.Equal(t, "2:4x", ts.poll3(t, sid).body)
}

func TestV3CloseFromClient(t *testing.T) {
	h := newRecorder(false)
	ts := start(t, Config{}, h)
	sid := ts.open3(t, "&b64=1")
	poll := ts.pollAsync3(t, sid)
	waitPolling(t, h.conn(t, sid))
	assert.Equal(t, 200, ts.post3(t, sid, "1:1").status)
	assert.Equal(t, "1:6", recv(t, poll).body)
	assert.Equal(t, ReasonTransportClose, h.closed(t, sid))
	assert.Equal(t, 400, ts.poll3(t, sid).status)

	// Closed by the server: the close packet.
	sid = ts.open3(t, "&b64=1")
	h.conn(t, sid).Close()
	assert.Equal(t, "1:1", ts.poll3(t, sid).body)
	assert.Equal(t, ReasonForcedClose, h.closed(t, sid))
}

// jsonpPayload checks a JSONP answer ___eio[j]("…"); and returns the
// payload its string holds.
func jsonpPayload(t *testing.T, j string, res response) string {
	t.Helper()
	assert.Equal(t, "text/javascript; charset=UTF-8", res.header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(res.body, "___eio["+j+"](\""), res.body)
	require.True(t, strings.HasSuffix(res.body, "\");"), res.body)
	lit := strings.TrimSuffix(strings.TrimPrefix(res.body, "___eio["+j+"]("), ");")
	var s string
	require.NoError(t, json.Unmarshal([]byte(lit), &s), lit)
	return s
}

func TestV3JSONP(t *testing.T) {
	h := newRecorder(true)
	ts := start(t, Config{}, h)
	res := ts.do(t, "GET", "EIO=3&transport=polling&j=7", "")
	require.Equal(t, 200, res.status)
	hi := parseOpen(t, splitV3(t, jsonpPayload(t, "7", res))[0])
	sid := hi.SID
	q := "EIO=3&transport=polling&j=7&sid=" + sid

	// A message that would end the script or the string, were it not escaped.
	evil := "</script><script>alert(1)</script>\u2028\u2029&\"\\'"
	pkt := "4" + evil
	form := "d=" + url.QueryEscape(strconv.Itoa(utf16n.Len([]byte(pkt)))+":"+pkt)
	res = ts.do(t, "POST", q, form, "Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, 200, res.status)
	assert.Equal(t, "ok", res.body)
	assert.Equal(t, event{"text", evil}, h.next(t, sid))
	res = ts.do(t, "GET", q, "")
	for _, bad := range []string{"<", ">", "\u2028", "\u2029"} {
		assert.NotContains(t, res.body, bad)
	}
	assert.Equal(t, []string{pkt}, splitV3(t, jsonpPayload(t, "7", res)))

	// Newlines: the client sends a newline as \n and a \n as \\n.
	form = "d=" + url.QueryEscape(`4:4a\nb5:4a\\nb`)
	res = ts.do(t, "POST", q, form, "Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, 200, res.status)
	assert.Equal(t, event{"text", "a\nb"}, h.next(t, sid))
	assert.Equal(t, event{"text", `a\nb`}, h.next(t, sid))
	assert.Equal(t, []string{"4a\nb", `4a\nb`}, splitV3(t, jsonpPayload(t, "7", ts.do(t, "GET", q, ""))))

	// Binary is always base64 over JSONP.
	require.True(t, h.conn(t, sid).Send([][]byte{AppendBinaryV3(nil, []byte{1, 2, 3})}, false))
	assert.Equal(t, []string{"b4AQID"}, splitV3(t, jsonpPayload(t, "7", ts.do(t, "GET", q, ""))))

	// The index keeps only its digits; a body without d is ignored.
	res = ts.do(t, "POST", "EIO=3&transport=polling&j=1x&sid="+sid, "x=1", "Content-Type", "application/x-www-form-urlencoded")
	assert.Equal(t, "ok", res.body)
	require.True(t, h.conn(t, sid).Send([][]byte{AppendText(nil, []byte("z"))}, false))
	assert.Equal(t, []string{"4z"}, splitV3(t, jsonpPayload(t, "1", ts.do(t, "GET", "EIO=3&transport=polling&j=1x&sid="+sid, ""))))

	// A bad payload in d ends the session.
	res = ts.do(t, "POST", q, "d=abc", "Content-Type", "application/x-www-form-urlencoded")
	assert.Equal(t, 400, res.status)
	assert.Equal(t, ReasonParseError, h.closed(t, sid))
}

func TestUnescapeJSONP(t *testing.T) {
	for in, want := range map[string]string{
		``:          ``,
		`abc`:       `abc`,
		`a\nb`:      "a\nb",
		`a\\nb`:     `a\nb`,
		`a\\\nb`:    `a\\nb`,
		`\n\n`:      "\n\n",
		`\`:         `\`,
		`\\`:        `\\`,
		`x\n`:       "x\n",
		`x\\n`:      `x\n`,
		"a\\tb\\nc": "a\\tb\nc",
	} {
		assert.Equal(t, want, string(unescapeJSONP([]byte(in))), in)
	}
}

// pollAsync3 GETs v3 session sid in the background.
func (ts *testServer) pollAsync3(t *testing.T, sid string) <-chan response {
	return ts.getAsync("EIO=3&transport=polling&sid=" + sid)
}

func TestV3OpenKnowsProtocol(t *testing.T) {
	h := newRecorder(false)
	seen := make(chan int, 4)
	h.onOpen = func(c *Conn, _ *http.Request) error {
		seen <- c.Protocol()
		return nil
	}
	ts := start(t, Config{}, h)
	ts.open3(t, "")
	assert.Equal(t, 3, <-seen)
	ts.open(t)
	assert.Equal(t, 4, <-seen)
	ws := ts.dial(t, "EIO=3&transport=websocket")
	ws.next(t)
	assert.Equal(t, 3, <-seen)
}

func TestV3PostTooLarge(t *testing.T) {
	h := newRecorder(true)
	ts := start(t, Config{MaxPayload: 100}, h)
	sid := ts.open3(t, "&b64=1")
	big := "101:4" + strings.Repeat("x", 100)
	assert.Equal(t, 413, ts.post3(t, sid, big).status)
	assert.Equal(t, 413, ts.post3(t, sid, big, "Content-Type", "application/octet-stream").status)
	// The session stays.
	assert.Equal(t, 200, ts.post3(t, sid, "2:4a").status)
	assert.Equal(t, "2:4a", ts.poll3(t, sid).body)
}
