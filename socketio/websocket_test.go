package socketio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connectWS handshakes and opens the websocket transport, expecting "1::".
func (ts *testServer) connectWS(query string, opts wsOptions) (string, *wsClient) {
	ts.t.Helper()
	sid := ts.handshake(query)
	ws := ts.dialWS(sid, opts)
	ws.expect("1::")
	return sid, ws
}

func TestWebSocketConnectAndAcks(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{}, app(rec, ""))
	sid, ws := ts.connectWS("", wsOptions{})
	rec.waitCount(t, "connect  "+sid, 1)

	// Ack with data: the handler's results.
	ws.send(`5:1+::{"name":"x","args":[1]}`)
	ws.expect(`6:::1+[2,"ok"]`)

	// Auto-ack (id without +): the ack goes out before the handler runs,
	// so it precedes the handler's effects.
	ws.send(`5:2::{"name":"effect","args":[]}`)
	ws.expect(`6:::2`)
	ws.expect(`5:::{"name":"effected"}`)

	// Raw echo of several args.
	ws.send(eventPacket("3+", "", "echo", "a", 1, map[string]any{"k": []int{1, 2}}, nil))
	ws.expect(`6:::3+["a",1,{"k":[1,2]},null]`)

	// An event with no ack id just runs.
	ws.send(eventPacket("", "", "echo", "plain"))
	ws.expect(`5:::{"name":"echo","args":["plain"]}`)

	// Message packets.
	ws.send("3:::hello")
	ws.expect("3:::hello")
	assert.Equal(t, "websocket", ts.socket("", sid).Transport())
}

// frameOfSize builds a message packet "3:::" + text whose UTF-8 encoding
// is exactly n bytes, cycling through unit.
func frameOfSize(n int, unit string) string {
	var b strings.Builder
	b.WriteString("3:::")
	runes := []rune(unit)
	for i := 0; ; i++ {
		r := runes[i%len(runes)]
		if b.Len()+utf8.RuneLen(r) > n {
			break
		}
		b.WriteRune(r)
	}
	b.WriteString(strings.Repeat("x", n-b.Len()))
	return b.String()
}

func TestWebSocketLargeMessagesRoundTrip(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, app(&recorder{}, ""))
	_, ws := ts.connectWS("", wsOptions{})
	for _, c := range []struct {
		size int
		unit string
	}{
		{65535, "abcdefghij"},
		{65536, "abcdefghij"}, // the reference corrupts exactly this size
		{65537, "abcdefghij"},
		{70000, "0123456789"},
		{100000, "é😀中a"}, // multi-byte characters across TCP reads and frame boundaries
		{200003, "😀中é"},
	} {
		msg := frameOfSize(c.size, c.unit)
		require.Len(t, msg, c.size)
		require.True(t, utf8.ValidString(msg))
		ws.send(msg)
		got := ws.next()
		require.Equal(t, len(msg), len(got), "size %d came back as %d bytes", c.size, len(got))
		require.True(t, got == msg, "size %d: content differs", c.size)
	}
	// Still alive afterwards.
	ws.send(`5:9+::{"name":"x","args":[41]}`)
	ws.expect(`6:::9+[42,"ok"]`)
}

func TestWebSocketLargeEventArgsIntact(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, app(&recorder{}, ""))
	_, ws := ts.connectWS("", wsOptions{})
	text := strings.Repeat("é😀中 ", 20000) // ~200 KB of multi-byte UTF-8
	ws.send(eventPacket("1+", "", "echo", text))
	ack := ws.next()
	require.True(t, strings.HasPrefix(ack, "6:::1+"), ack[:min(40, len(ack))])
	var args []string
	require.NoError(t, json.Unmarshal([]byte(ack[len("6:::1+"):]), &args))
	require.Len(t, args, 1)
	assert.True(t, args[0] == text, "the echoed text differs")
}

func TestWebSocketPlainGETDoesNotKillSession(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{}, app(rec, ""))
	sid, ws := ts.connectWS("", wsOptions{})

	r := ts.get(transportPath("websocket", sid))
	assert.Equal(t, http.StatusBadRequest, r.status)
	r = ts.do(http.MethodPost, transportPath("websocket", sid), "5:::{\"name\":\"note\",\"args\":[\"via post\"]}")
	assert.NotEqual(t, http.StatusSwitchingProtocols, r.status)

	ws.send(`5:1+::{"name":"x","args":[1]}`)
	ws.expect(`6:::1+[2,"ok"]`)
	assert.Empty(t, rec.withPrefix("disconnect"), "the session survived")
	assert.NotNil(t, ts.srv.lookup(sid))

	// Also for a live polling session.
	psid := ts.connectPolling("")
	r = ts.get(transportPath("websocket", psid))
	assert.Equal(t, http.StatusBadRequest, r.status)
	ts.post("xhr-polling", psid, eventPacket("1+", "", "echo", "p"))
	assert.Equal(t, `6:::1+["p"]`, ts.poll(psid))
	assert.Empty(t, rec.withPrefix("disconnect"))
}

func TestWebSocketSecondConnectionRefused(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{}, app(rec, ""))
	sid, ws := ts.connectWS("", wsOptions{})

	c, resp, err := ts.tryDialWS(sid)
	if err == nil {
		// If the upgrade went through, the second connection must not
		// take the session over: it gets nothing but a close.
		second := &wsClient{t: t, conn: c, msgs: make(chan string, 16), done: make(chan struct{})}
		go second.readLoop()
		t.Cleanup(func() { _ = c.Close(); <-second.done })
		second.waitClosed()
	} else {
		require.NotNil(t, resp, "dial error %v", err)
		assert.NotEqual(t, http.StatusSwitchingProtocols, resp.StatusCode)
	}
	ws.send(`5:1+::{"name":"x","args":[5]}`)
	ws.expect(`6:::1+[6,"ok"]`)
	require.NoError(t, ts.socket("", sid).Emit("first"))
	ws.expect(`5:::{"name":"first"}`)
	assert.Empty(t, rec.withPrefix("disconnect"))
}

func TestWebSocketMaxMessageBytesClosesOnlyThatSession(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{MaxMessageBytes: 1024}, app(rec, ""))
	bigSid, big := ts.connectWS("", wsOptions{})
	okSid, ok := ts.connectWS("", wsOptions{})

	big.send(frameOfSize(1024, "abc")) // at the limit: fine
	big.expect(frameOfSize(1024, "abc"))
	big.send(frameOfSize(2000, "abc"))
	big.waitClosed()
	rec.waitCount(t, "disconnect  "+bigSid+" socket end", 1)
	require.Eventually(t, func() bool { return ts.srv.lookup(bigSid) == nil }, waitFor, tick)

	ok.send(`5:1+::{"name":"x","args":[1]}`)
	ok.expect(`6:::1+[2,"ok"]`)
	assert.Equal(t, 1, ts.srv.SessionCount())
	assert.Empty(t, rec.withPrefix("disconnect  "+okSid))
}

func TestWebSocketKickSendsDisconnect(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{}, app(rec, ""))
	sid, ws := ts.connectWS("", wsOptions{})
	s := ts.socket("", sid)
	require.NoError(t, s.Emit("bye"))
	s.Disconnect()
	ws.expect(`5:::{"name":"bye"}`)
	ws.expect("0::")
	ws.waitClosed()
	rec.waitCount(t, "disconnect  "+sid+" booted", 1)
	require.Eventually(t, func() bool { return ts.srv.SessionCount() == 0 }, waitFor, tick)
}

func TestWebSocketClientDisconnectPacket(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{}, app(rec, "", "/chat"))
	sid, ws := ts.connectWS("", wsOptions{})
	ws.send("1::/chat")
	ws.expect("1::/chat")
	ws.send("0::")
	rec.waitCount(t, "disconnect  "+sid+" packet", 1)
	rec.waitCount(t, "disconnect /chat "+sid+" packet", 1)
	ws.waitClosed()
	require.Eventually(t, func() bool { return ts.srv.SessionCount() == 0 }, waitFor, tick)
}

func TestNamespacesOverRawPackets(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{}, func(srv *Server) {
		app(rec, "", "/chat", "/private")(srv)
		srv.Of("/private").Authorize(func(_ context.Context, hs *Handshake, q url.Values) error {
			if q.Get("token") != "secret" {
				return ErrUnauthorized
			}
			return nil
		})
	})
	sid, ws := ts.connectWS("", wsOptions{})

	// Join /chat; acks there carry the endpoint.
	ws.send("1::/chat")
	ws.expect("1::/chat")
	rec.waitCount(t, "connect /chat "+sid, 1)
	ws.send(eventPacket("1+", "/chat", "echo", "c"))
	ws.expect(`6::/chat:1+["c"]`)
	ws.send(eventPacket("2", "/chat", "note", "auto"))
	ws.expect(`6::/chat:2`)
	rec.waitCount(t, "note /chat "+sid+" auto", 1)
	ws.send("1::/chat") // joining twice is harmless
	ws.send(eventPacket("3+", "/chat", "echo", "once"))
	ws.expect(`6::/chat:3+["once"]`)

	// Authorization refused, then granted by the connect query.
	ws.send("1::/private")
	ws.expect("7::/private:2")
	ws.send(eventPacket("1+", "/private", "echo", "nope"))
	ws.send("1::/private:?token=secret")
	ws.expect("1::/private")
	ws.send(eventPacket("2+", "/private", "echo", "yes"))
	ws.expect(`6::/private:2+["yes"]`)

	// Leaving /chat leaves only /chat.
	ws.send("0::/chat")
	rec.waitCount(t, "disconnect /chat "+sid+" packet", 1)
	ws.send(eventPacket("4+", "/chat", "echo", "gone"))
	ws.send(eventPacket("5+", "", "echo", "default"))
	ws.expect(`6:::5+["default"]`)
	ws.send(eventPacket("6+", "/private", "echo", "private"))
	ws.expect(`6::/private:6+["private"]`)
	ws.silent(quiet)
	assert.Empty(t, rec.withPrefix("disconnect  "), "the default namespace stayed")
	assert.Empty(t, rec.withPrefix("disconnect /private"))

	// Rejoining works.
	ws.send("1::/chat")
	ws.expect("1::/chat")
	ws.send(eventPacket("7+", "/chat", "echo", "back"))
	ws.expect(`6::/chat:7+["back"]`)
}

func TestUnknownEndpointsAndGarbageAreIgnored(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{}, app(rec, ""))
	sid, ws := ts.connectWS("", wsOptions{})
	for _, p := range []string{
		"1::/nope",
		eventPacket("1+", "/nope", "echo", 1),
		"3::/nope:hi",
		"0::/nope",
		"6::/nope:1+[1]",
		"6:::99+[1]", // ack for nothing
		"",
		"zzz",
		"9::",
		"5:::{broken",
		"5:::{\"args\":[1]}",
		"4:::{not json",
		"\ufffd5\ufffd3:::", // framing is not for websockets, and truncated
		"5:abc+::{\"name\":\"echo\"}",
		"5:99999999999999999999+::{\"name\":\"echo\"}",
		"7:::x+y",
	} {
		ws.send(p)
	}
	ws.send(eventPacket("1+", "", "echo", "alive"))
	ws.expect(`6:::1+["alive"]`)
	ws.silent(quiet)
	assert.Empty(t, rec.withPrefix("disconnect"))
	assert.NotNil(t, ts.srv.lookup(sid))
	assert.Nil(t, ts.srv.namespace("/nope"), "a client cannot create namespaces")
}

func TestBlacklistedDisconnectEventIsDropped(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{}, app(rec, "", "/chat"))
	sid, ws := ts.connectWS("", wsOptions{})
	ws.send("1::/chat")
	ws.expect("1::/chat")
	ws.send(`5:::{"name":"disconnect","args":["fake"]}`)
	ws.send(`5:3+::{"name":"disconnect","args":[]}`)
	ws.send(`5:::/chat:{"name":"disconnect"}`)
	ws.send(eventPacket("1+", "", "echo", "still here"))
	ws.expect(`6:::1+["still here"]`)
	ws.send(eventPacket("2+", "/chat", "echo", "chat too"))
	ws.expect(`6::/chat:2+["chat too"]`)
	ws.silent(quiet)
	assert.Empty(t, rec.withPrefix("disconnect"), "a client-sent disconnect event ran disconnect handlers")
	assert.NotNil(t, ts.srv.Of("").Socket(sid))
	assert.NotNil(t, ts.srv.Of("/chat").Socket(sid))
}

func TestHandlerPanicIsRecovered(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{}, app(rec, "", "/chat"))
	sid, ws := ts.connectWS("", wsOptions{})
	ws.send(`5:1+::{"name":"boom","args":[]}`)
	ws.send(`5:2::{"name":"boom"}`)
	ws.send(eventPacket("3+", "", "echo", "after"))
	ws.expect(`6:::2`) // the auto-ack precedes the panicking handler
	ws.expect(`6:::3+["after"]`)
	ws.send("1::/chat")
	ws.expect("1::/chat")
	ws.send(eventPacket("", "/chat", "boom"))
	ws.send(eventPacket("4+", "/chat", "echo", "chat after"))
	ws.expect(`6::/chat:4+["chat after"]`)
	assert.Empty(t, rec.withPrefix("disconnect"))

	// Same over polling.
	psid := ts.connectPolling("")
	ts.post("xhr-polling", psid, framePayload(eventPacket("", "", "boom"), eventPacket("1+", "", "echo", "p")))
	assert.Equal(t, `6:::1+["p"]`, ts.poll(psid))
	assert.NotNil(t, ts.srv.lookup(sid))
	assert.NotNil(t, ts.srv.lookup(psid))
}
