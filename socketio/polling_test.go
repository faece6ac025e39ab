package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// longPolls holds polls long enough that only the event under test can
// answer them.
var longPolls = Config{PollingDuration: 5 * time.Second}

func TestXHRFirstGETConnectsAtOnce(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, ""))
	sid := ts.handshake("")
	r := ts.get(transportPath("xhr-polling", sid))
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "1::", r.body)
	assert.Less(t, r.took, atOnce, "the connect packet is not held back")
	assert.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/plain"))
	rec.waitCount(t, "connect  "+sid, 1)
}

func TestXHRBuffersBetweenPollsAndFramesUTF16(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, longPolls, app(&recorder{}, ""))
	sid := ts.connectPolling("")
	s := ts.socket("", sid)
	// Astral characters count two UTF-16 units in the frame lengths.
	require.NoError(t, s.Emit("a", "😀 grin"))
	require.NoError(t, s.Emit("b", "é中", 2))
	require.NoError(t, s.Send("plain 😀😀"))

	body := ts.poll(sid)
	require.True(t, strings.HasPrefix(body, "\ufffd"), "several packets are framed: %q", body)
	pkts := decodePayload(t, body)
	require.Equal(t, []string{
		`5:::{"name":"a","args":["😀 grin"]}`,
		`5:::{"name":"b","args":["é中",2]}`,
		`3:::plain 😀😀`,
	}, pkts)
	// The exact lengths: 2 units per astral character.
	assert.Contains(t, body, "\ufffd35\ufffd5:::{\"name\":\"a\"")
	assert.Contains(t, body, "\ufffd14\ufffd3:::plain")

	// A single packet is sent bare.
	require.NoError(t, s.Emit("c"))
	assert.Equal(t, `5:::{"name":"c"}`, ts.poll(sid))
}

func TestXHRHeldPollEndsWithNoop(t *testing.T) {
	t.Parallel()
	const pd = 150 * time.Millisecond
	ts := newTestServer(t, Config{PollingDuration: pd}, nil)
	sid := ts.connectPolling("")
	r := ts.get(transportPath("xhr-polling", sid))
	assert.Equal(t, "8::", r.body)
	assert.GreaterOrEqual(t, r.took, pd-20*time.Millisecond, "the poll was held")
	assert.Less(t, r.took, pd+atOnce)
	// The session is still there and polls again.
	assert.Equal(t, "8::", ts.poll(sid))
}

func TestXHREmitAnswersHeldPollAtOnce(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, longPolls, nil)
	sid := ts.connectPolling("")
	ch := ts.async(http.MethodGet, transportPath("xhr-polling", sid), "")
	ts.waitHeld(sid, 2)
	sent := time.Now()
	require.NoError(t, ts.socket("", sid).Emit("now", 1))
	select {
	case r := <-ch:
		require.NoError(t, r.err)
		assert.Equal(t, `5:::{"name":"now","args":[1]}`, r.body)
		assert.Less(t, time.Since(sent), atOnce)
	case <-time.After(waitFor):
		t.Fatal("held poll not answered by an emit")
	}
}

func TestXHRSupersededPollIsAnswered(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, longPolls, nil)
	sid := ts.connectPolling("")
	first := ts.async(http.MethodGet, transportPath("xhr-polling", sid), "")
	ts.waitHeld(sid, 2)
	second := ts.async(http.MethodGet, transportPath("xhr-polling", sid), "")
	select {
	case r := <-first:
		require.NoError(t, r.err)
		assert.Equal(t, "8::", r.body, "the superseded poll gets a noop")
		assert.Less(t, r.took, atOnce, "the superseded poll is answered at once")
	case <-time.After(waitFor):
		t.Fatal("superseded poll left hanging")
	}
	ts.waitHeld(sid, 3)
	require.NoError(t, ts.socket("", sid).Emit("later"))
	select {
	case r := <-second:
		require.NoError(t, r.err)
		assert.Equal(t, `5:::{"name":"later"}`, r.body, "the newer poll carries the data")
	case <-time.After(waitFor):
		t.Fatal("newer poll not answered")
	}
	// The superseded poll's end did not start the close timer or break
	// the session: it keeps working.
	require.NoError(t, ts.socket("", sid).Emit("again"))
	assert.Equal(t, `5:::{"name":"again"}`, ts.poll(sid))
}

func TestXHRPostSingleAndFramedPayloads(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, ""))
	sid := ts.connectPolling("")

	ts.post("xhr-polling", sid, eventPacket("", "", "note", "single"))
	rec.waitCount(t, "note  "+sid+" single", 1)

	ts.post("xhr-polling", sid, framePayload(
		eventPacket("", "", "note", "one 😀"),
		eventPacket("", "", "note", "two é"),
		eventPacket("1+", "", "echo", "três 中"),
	))
	require.Eventually(t, func() bool { return len(rec.withPrefix("note  "+sid)) == 3 }, waitFor, tick)
	assert.Equal(t, []string{"note  " + sid + " single", "note  " + sid + " one 😀", "note  " + sid + " two é"},
		rec.withPrefix("note  "+sid), "packets of a payload are handled in order")
	assert.Equal(t, `6:::1+["três 中"]`, ts.poll(sid))
}

func TestXHRPostToUnknownSessionIsNotProcessed(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, ""))
	live := ts.connectPolling("")

	for _, sid := range []string{"nosuchsession", ts.handshake("") + "x"} {
		r := ts.do(http.MethodPost, transportPath("xhr-polling", sid), eventPacket("", "", "note", "ghost"))
		assert.NotEqual(t, http.StatusOK, r.status, "POST to unknown sid %q answered %q", sid, r.body)
		assert.NotEqual(t, "1", r.body)
	}
	// The live session's own POST is processed; the ghost's never was.
	ts.post("xhr-polling", live, eventPacket("", "", "note", "real"))
	rec.waitCount(t, "note  "+live+" real", 1)
	stays(t, quiet, func() bool { return len(rec.withPrefix("note")) == 1 }, "a POST to an unknown sid ran a handler: %q", rec.list())
	assert.Equal(t, 2, ts.srv.SessionCount(), "no session was made by the POSTs")
}

func TestGETUnknownSessionAnswersNotHandshaken(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, longPolls, nil)
	r := ts.get(transportPath("xhr-polling", "nosuchsession"))
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "7:::1+0", r.body)
	assert.Less(t, r.took, atOnce, "not held")

	r = ts.get(transportPath("jsonp-polling", "nosuchsession") + "?i=4")
	assert.Equal(t, `io.j[4]("7:::1+0");`, r.body)

	ws, resp, err := ts.tryDialWS("nosuchsession")
	if err == nil {
		defer ws.Close()
		_ = ws.SetReadDeadline(time.Now().Add(waitFor))
		_, msg, err := ws.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, "7:::1+0", string(msg))
	} else {
		require.NotNil(t, resp, "websocket dial: %v", err)
		assert.NotEqual(t, http.StatusSwitchingProtocols, resp.StatusCode)
	}
	assert.Equal(t, 0, ts.srv.SessionCount())
}

func TestXHRDisconnectQueryClosesSynchronously(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, ""))

	// No poll pending.
	sid := ts.connectPolling("")
	r := ts.get(transportPath("xhr-polling", sid) + "?disconnect=1")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Nil(t, ts.srv.lookup(sid), "the session is gone when ?disconnect answers")
	assert.Equal(t, 0, ts.srv.SessionCount())
	rec.waitCount(t, "disconnect  "+sid+" forced close", 1)
	assert.Equal(t, "7:::1+0", ts.poll(sid))

	// With a poll pending: it is answered, not left hanging.
	sid2 := ts.connectPolling("")
	held := ts.async(http.MethodGet, transportPath("xhr-polling", sid2), "")
	ts.waitHeld(sid2, 2)
	r = ts.get(transportPath("xhr-polling", sid2) + "?disconnect")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Nil(t, ts.srv.lookup(sid2))
	select {
	case hr := <-held:
		require.NoError(t, hr.err)
		assert.Less(t, hr.took, atOnce)
	case <-time.After(waitFor):
		t.Fatal("held poll not answered after ?disconnect")
	}
	rec.waitCount(t, "disconnect  "+sid2+" forced close", 1)
	stays(t, quiet, func() bool { return len(rec.withPrefix("disconnect")) == 2 }, "disconnect ran more than once: %q", rec.list())
}

func TestXHRKickBetweenPollsIsDelivered(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, ""))
	sid := ts.connectPolling("")
	s := ts.socket("", sid)
	require.NoError(t, s.Emit("before"))
	s.Disconnect()
	rec.waitCount(t, "disconnect  "+sid+" booted", 1)

	pkts := decodePayload(t, ts.poll(sid))
	require.NotEmpty(t, pkts)
	assert.Equal(t, "0::", pkts[len(pkts)-1], "the kick reaches the client on its next poll")
	assert.Equal(t, []string{`5:::{"name":"before"}`, "0::"}, pkts)
	require.Eventually(t, func() bool { return ts.srv.lookup(sid) == nil }, waitFor, tick)
	assert.Equal(t, "7:::1+0", ts.poll(sid))
	assert.Equal(t, 1, rec.count("disconnect  "+sid+" booted"))
}

func TestXHRKickWhilePollHeld(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, ""))
	sid := ts.connectPolling("")
	ch := ts.async(http.MethodGet, transportPath("xhr-polling", sid), "")
	ts.waitHeld(sid, 2)
	ts.socket("", sid).Disconnect()
	select {
	case r := <-ch:
		require.NoError(t, r.err)
		assert.Equal(t, "0::", r.body)
	case <-time.After(waitFor):
		t.Fatal("kick did not answer the held poll")
	}
	rec.waitCount(t, "disconnect  "+sid+" booted", 1)
	require.Eventually(t, func() bool { return ts.srv.SessionCount() == 0 }, waitFor, tick)
}

var scriptEscapes = []string{"\u2028", "\u2029", "</script>", "</"}

func TestJSONPPollingGETEscapes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, longPolls, nil)
	sid := ts.handshake("")
	r := ts.get(transportPath("jsonp-polling", sid) + "?t=5&i=3")
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, `io.j[3]("1::");`, r.body)
	assert.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript"), r.header.Get("Content-Type"))

	nasty := "a\u2028b\u2029c</script><script>alert(1)</script>\"\\'\n"
	s := ts.socket("", sid)
	require.NoError(t, s.Emit("x", nasty))
	require.NoError(t, s.Send(nasty))
	r = ts.get(transportPath("jsonp-polling", sid) + "?i=3")
	for _, bad := range scriptEscapes {
		assert.NotContains(t, r.body, bad, "raw %q inside a jsonp answer", bad)
	}
	assert.NotContains(t, r.body, "\n")
	pkts := decodePayload(t, unJSONP(t, r.body, "3"))
	require.Len(t, pkts, 2)
	ev := parseEvent(t, pkts[0], "")
	assert.Equal(t, "x", ev.Name)
	require.Len(t, ev.Args, 1)
	assert.Equal(t, nasty, argString(t, ev.Args[0]))
	assert.Equal(t, "3:::"+nasty, pkts[1])

	// A non-numeric index falls back to 0 and never reaches the script.
	require.NoError(t, s.Emit("y"))
	r = ts.get(transportPath("jsonp-polling", sid) + "?i=alert(1)")
	assert.Equal(t, `io.j[0]("5:::{\"name\":\"y\"}");`, r.body)
}

func TestJSONPPollingPost(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, ""))
	sid := ts.handshake("")
	assert.Equal(t, `io.j[0]("1::");`, ts.get(transportPath("jsonp-polling", sid)).body)

	// The form's d is a JSON string; its content may hold newlines,
	// quotes and a framed payload.
	r := ts.jsonpPost(sid, eventPacket("", "", "note", "line1\nline2 \"q\" é"))
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "1", r.body)
	rec.waitCount(t, "note  "+sid+" line1\nline2 \"q\" é", 1)

	r = ts.jsonpPost(sid, framePayload(eventPacket("", "", "note", "f1"), eventPacket("2+", "", "echo", "😀")))
	assert.Equal(t, "1", r.body)
	rec.waitCount(t, "note  "+sid+" f1", 1)
	assert.Equal(t, `io.j[1]("6:::2+[\"😀\"]");`, ts.get(transportPath("jsonp-polling", sid)+"?i=1").body)
}

func TestJSONPMalformedPostIsRefusedHarmlessly(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, ""))
	victim := ts.handshake("")
	bystander := ts.handshake("")
	for _, sid := range []string{victim, bystander} {
		assert.Equal(t, `io.j[0]("1::");`, ts.get(transportPath("jsonp-polling", sid)).body)
	}
	form := "application/x-www-form-urlencoded"
	for _, body := range []string{
		"d=notjson",
		"d=" + "%7B%22a%22%3A1%7D", // JSON, but not a string
		"x=1",                      // no d
		"",                         // empty
		"d=%ZZ",                    // bad escaping
		"d=%22a%22&d=%22b%22",      // two d fields
	} {
		r := ts.do(http.MethodPost, transportPath("jsonp-polling", victim), body, "Content-Type", form)
		assert.Equal(t, http.StatusBadRequest, r.status, "body %q answered %q", body, r.body)
	}
	// Both sessions are alive and work.
	for i, sid := range []string{victim, bystander} {
		require.NotNil(t, ts.srv.lookup(sid))
		r := ts.jsonpPost(sid, eventPacket("1+", "", "echo", i))
		require.Equal(t, "1", r.body)
		assert.Equal(t, `io.j[0]("6:::1+[`+string(rune('0'+i))+`]");`, ts.get(transportPath("jsonp-polling", sid)).body)
	}
	assert.Empty(t, rec.withPrefix("disconnect"))
}

var htmlChunkRe = regexp.MustCompile(`<script>_\(("(?:[^"\\]|\\.)*")\);</script>`)

func TestHTMLFileStream(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, ""))
	sid := ts.handshake("")
	st := ts.openHTMLFile(sid)
	assert.True(t, strings.HasPrefix(st.header.Get("Content-Type"), "text/html"), st.header.Get("Content-Type"))
	assert.Equal(t, []string{"chunked"}, st.transferEncoding)

	require.Equal(t, []string{"1::"}, st.waitPayloads(t, 1))
	pre := st.text()
	first := strings.Index(pre, "<script>_(")
	assert.GreaterOrEqual(t, first, 256, "the padding preamble comes first")
	assert.True(t, strings.HasPrefix(pre, "<html><body><script>"), pre[:min(len(pre), 40)])

	// Payloads with script-breaking content arrive escaped.
	nasty := "</script><b>\u2028\u2029é😀"
	s := ts.socket("", sid)
	require.NoError(t, s.Emit("x", nasty))
	payloads := st.waitPayloads(t, 2)
	ev := parseEvent(t, payloads[1], "")
	require.Len(t, ev.Args, 1)
	assert.Equal(t, nasty, argString(t, ev.Args[0]))
	chunks := st.text()[first:]
	assert.NotContains(t, chunks, "\u2028")
	assert.NotContains(t, chunks, "\u2029")
	assert.Equal(t, 2, strings.Count(chunks, "</"), "only the two chunks' own </script> may hold </: %q", chunks)

	// POST works like xhr-polling; the answer arrives on the stream.
	ts.post("htmlfile", sid, eventPacket("", "", "echo", "hi"))
	assert.Equal(t, `5:::{"name":"echo","args":["hi"]}`, st.waitPayloads(t, 3)[2])
	ts.post("htmlfile", sid, framePayload(eventPacket("", "", "note", "n1"), eventPacket("", "", "note", "n2")))
	rec.waitCount(t, "note  "+sid+" n2", 1)

	// A second stream for the same session is refused; the first works on.
	r := ts.get(transportPath("htmlfile", sid))
	assert.NotEqual(t, http.StatusOK, r.status)
	require.NoError(t, s.Emit("still"))
	assert.Equal(t, `5:::{"name":"still"}`, st.waitPayloads(t, 4)[3])

	// Closing the stream ends the session.
	st.close()
	rec.waitCount(t, "disconnect  "+sid+" socket end", 1)
	require.Eventually(t, func() bool { return ts.srv.SessionCount() == 0 }, waitFor, tick)
}

func TestAbortedHeldPollStartsCloseTimer(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{CloseTimeout: 200 * time.Millisecond, PollingDuration: 5 * time.Second}, app(rec, ""))
	sid := ts.connectPolling("")
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.hs.URL+transportPath("xhr-polling", sid), nil)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := ts.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	ts.waitHeld(sid, 2)
	cancel() // the browser navigates away mid-poll
	<-done
	require.Eventually(t, func() bool { held, _ := ts.pollState(sid); return !held }, waitFor, tick, "the aborted poll is still held")
	rec.waitCount(t, "disconnect  "+sid+" close timeout", 1)
}

// Many clients on every transport shouting at once: every client hears
// every shout, each sender's in order. Run with -race.
func TestConcurrentBroadcastAcrossTransports(t *testing.T) {
	t.Parallel()
	const senders, shouts = 4, 15
	ts := newTestServer(t, Config{PollingDuration: 200 * time.Millisecond}, app(&recorder{}, ""))
	var wss []*wsClient
	for i := 0; i < senders; i++ {
		_, ws := ts.connectWS("", wsOptions{})
		wss = append(wss, ws)
	}
	var pollers []string
	for i := 0; i < 2; i++ {
		pollers = append(pollers, ts.connectPolling(""))
	}
	hsid := ts.handshake("")
	html := ts.openHTMLFile(hsid)
	html.waitPayloads(t, 1)

	want := senders * shouts
	type result struct {
		got []string
		err error
	}
	results := make(chan result, len(pollers))
	for _, sid := range pollers {
		go func() {
			var got []string
			deadline := time.Now().Add(10 * time.Second)
			for len(got) < want && time.Now().Before(deadline) {
				r := ts.request(http.MethodGet, transportPath("xhr-polling", sid), "")
				if r.err != nil {
					results <- result{err: r.err}
					return
				}
				pkts, err := splitPayload(r.body)
				if err != nil {
					results <- result{err: err}
					return
				}
				for _, p := range pkts {
					if strings.HasPrefix(p, `5:::{"name":"shout"`) {
						got = append(got, p)
					}
				}
			}
			results <- result{got: got}
		}()
	}
	var wg sync.WaitGroup
	for i, ws := range wss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < shouts; j++ {
				if ws.write(eventPacket("", "", "shout", i, j)) != nil {
					return
				}
			}
		}()
	}
	wg.Wait()

	check := func(who string, got []string) {
		t.Helper()
		require.Len(t, got, want, who)
		next := make([]int, senders)
		for _, p := range got {
			ev := parseEvent(t, p, "")
			var from, n int
			require.Len(t, ev.Args, 2)
			require.NoError(t, json.Unmarshal(ev.Args[0], &from))
			require.NoError(t, json.Unmarshal(ev.Args[1], &n))
			require.Equal(t, next[from], n, "%s: shouts of sender %d out of order", who, from)
			next[from]++
		}
	}
	for i, ws := range wss {
		var got []string
		for len(got) < want {
			if m := ws.next(); strings.HasPrefix(m, `5:::{"name":"shout"`) {
				got = append(got, m)
			}
		}
		check(fmt.Sprintf("websocket %d", i), got)
	}
	for range pollers {
		r := <-results
		require.NoError(t, r.err)
		check("xhr-polling", r.got)
	}
	htmlShouts := func() []string {
		var got []string
		for _, payload := range html.payloads(t) {
			for _, p := range decodePayload(t, payload) {
				if strings.HasPrefix(p, `5:::{"name":"shout"`) {
					got = append(got, p)
				}
			}
		}
		return got
	}
	require.Eventually(t, func() bool { return len(htmlShouts()) >= want }, waitFor, tick)
	got := htmlShouts()
	check("htmlfile", got)
}

// socket.io.js 0.9.16 disconnects on page unload with a synchronous GET to
// /socket.io/1//SID/?disconnect=1 (no transport); a mux that cleans paths
// redirects that to /socket.io/1/SID/?disconnect=1. Both close the session.
func TestClientUnloadDisconnectURL(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, ""))
	for _, form := range []string{"/socket.io/1//%s/?disconnect=1", "/socket.io/1/%s/?disconnect=1"} {
		sid := ts.connectPolling("")
		r := ts.get(fmt.Sprintf(form, sid))
		assert.Equal(t, http.StatusOK, r.status, form)
		assert.Nil(t, ts.srv.lookup(sid), "%s closes the session", form)
		rec.waitCount(t, "disconnect  "+sid+" forced close", 1)
	}
	assert.Equal(t, http.StatusNotFound, ts.get("/socket.io/1/abc/").status, "without ?disconnect it is no route")
}

// Shutdown does not wait the whole close timeout for a polling client that
// went away: it lingers at most ShutdownLinger for it.
func TestShutdownDoesNotWaitForVanishedPollers(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{CloseTimeout: time.Minute, ShutdownLinger: 200 * time.Millisecond}, app(&recorder{}, ""))
	ts.connectPolling("") // and never polls again
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ts.srv.Shutdown(ctx))
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, 0, ts.srv.SessionCount())
}

func TestStatsCountTraffic(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, longPolls, app(&recorder{}, ""))
	sid := ts.connectPolling("")
	ts.post("xhr-polling", sid, "5:::{\"name\":\"x\"}")
	ts.post("xhr-polling", sid, "not a packet")
	ts.get("/socket.io/1/?deny=0")
	require.Eventually(t, func() bool { return ts.srv.Stats().PacketsIn >= 1 }, waitFor, tick)
	st := ts.srv.Stats()
	assert.Equal(t, 1, st.Sessions["xhr-polling"])
	assert.Equal(t, 1, st.Sockets[""])
	assert.GreaterOrEqual(t, st.HandshakesAccepted, uint64(2))
	assert.GreaterOrEqual(t, st.PacketsOut, uint64(1), "the 1:: packet")
	assert.Equal(t, uint64(1), st.DecodeErrors)
}
