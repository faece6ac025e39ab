package socketio

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPostBeforeFirstGETIsNotLost(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, longPolls, app(rec, "", "/chat"))
	sid := ts.handshake("")
	ts.post("xhr-polling", sid, framePayload(eventPacket("1+", "", "echo", "early"), "1::/chat"))
	pkts := decodePayload(t, ts.poll(sid))
	require.NotEmpty(t, pkts)
	assert.Equal(t, "1::", pkts[0], "the connect packet comes first")
	// The ack is queued by the handler's goroutine, which may run after
	// the first poll was answered: it is then in the next one.
	if len(pkts) < 3 {
		pkts = append(pkts, decodePayload(t, ts.poll(sid))...)
	}
	assert.ElementsMatch(t, []string{"1::", `6:::1+["early"]`, "1::/chat"}, pkts)
	rec.waitCount(t, "connect  "+sid, 1)
	rec.waitCount(t, "connect /chat "+sid, 1)
}

func TestServerToClientAcks(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{}, app(rec, ""))
	sid, ws := ts.connectWS("", wsOptions{})
	s := ts.socket("", sid)

	got := make(chan []json.RawMessage, 1)
	require.NoError(t, s.EmitWithAckFunc("q", func(args []json.RawMessage) { got <- args }, 1))
	ws.expect(`5:1+::{"name":"q","args":[1]}`)
	assert.Equal(t, 1, s.PendingAcks())
	ws.send(`6:::1+["ans",2]`)
	select {
	case args := <-got:
		require.Len(t, args, 2)
		assert.JSONEq(t, `"ans"`, string(args[0]))
		assert.JSONEq(t, `2`, string(args[1]))
	case <-time.After(waitFor):
		t.Fatal("ack callback not run")
	}
	assert.Equal(t, 0, s.PendingAcks(), "the ack slot is freed when the ack arrives")
	ws.send(`6:::1+["again"]`) // a second ack for the same id is ignored
	ws.send(eventPacket("9+", "", "echo", 0))
	ws.expect(`6:::9+[0]`)

	// Call waits for the ack; acks never answered are freed on disconnect.
	callDone := make(chan error, 1)
	go func() {
		_, err := s.EmitWithAck(context.Background(), "never")
		callDone <- err
	}()
	ws.expect(`5:2+::{"name":"never"}`)
	require.NoError(t, s.EmitWithAckFunc("never2", func([]json.RawMessage) { rec.add("late ack") }))
	ws.expect(`5:3+::{"name":"never2"}`)
	assert.Equal(t, 2, s.PendingAcks())
	s.Disconnect()
	select {
	case err := <-callDone:
		assert.Error(t, err)
	case <-time.After(waitFor):
		t.Fatal("Call still waiting after the disconnect")
	}
	assert.Equal(t, 0, s.PendingAcks(), "pending acks are freed on disconnect")
	assert.Empty(t, rec.withPrefix("late ack"))
}

func TestPostLimits(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{MaxBodyBytes: 512, MaxPacketsPerPayload: 3, PollingDuration: 5 * time.Second}, app(rec, ""))
	sid := ts.connectPolling("")

	r := ts.do(http.MethodPost, transportPath("xhr-polling", sid), eventPacket("", "", "note", strings.Repeat("b", 600)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)

	// More packets than allowed: the payload is dropped whole.
	ts.post("xhr-polling", sid, framePayload(
		eventPacket("", "", "note", "p1"), eventPacket("", "", "note", "p2"),
		eventPacket("", "", "note", "p3"), eventPacket("", "", "note", "p4")))
	// At the limit: processed.
	ts.post("xhr-polling", sid, framePayload(
		eventPacket("", "", "note", "q1"), eventPacket("", "", "note", "q2"), eventPacket("", "", "note", "q3")))
	rec.waitCount(t, "note  "+sid+" q3", 1)
	assert.Equal(t, []string{"note  " + sid + " q1", "note  " + sid + " q2", "note  " + sid + " q3"}, rec.withPrefix("note"))
	assert.NotNil(t, ts.srv.lookup(sid))
}

func TestMaxSessions(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{MaxSessions: 2}, nil)
	a := ts.handshake("")
	ts.handshake("")
	r := ts.get("/socket.io/1/")
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	r = ts.get(transportPath("xhr-polling", a) + "?disconnect=1")
	require.Equal(t, http.StatusOK, r.status)
	ts.handshake("")
}

func TestShutdownTellsEveryClient(t *testing.T) {
	t.Parallel()
	// By default clients are told to reconnect; with ShutdownKick, that
	// they were disconnected.
	for _, kick := range []bool{false, true} {
		want := "7:::1+0"
		if kick {
			want = "0::"
		}
		t.Run(want, func(t *testing.T) {
			t.Parallel()
			testShutdownTellsEveryClient(t, kick, want)
		})
	}
}

func testShutdownTellsEveryClient(t *testing.T, kick bool, want string) {
	rec := &recorder{}
	ts := newTestServer(t, Config{PollingDuration: 5 * time.Second, CloseTimeout: 300 * time.Millisecond, ShutdownKick: kick}, app(rec, ""))
	wsSid, ws := ts.connectWS("", wsOptions{})
	held := ts.connectPolling("")
	idle := ts.connectPolling("")
	poll := ts.async(http.MethodGet, transportPath("xhr-polling", held), "")
	ts.waitHeld(held, 2)

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		done <- ts.srv.Shutdown(ctx)
	}()
	ws.expect(want)
	ws.waitClosed()
	r := <-poll
	require.NoError(t, r.err)
	assert.Equal(t, want, r.body)
	// New handshakes are refused while shutting down.
	require.Eventually(t, func() bool { return ts.get("/socket.io/1/").status == http.StatusServiceUnavailable }, waitFor, tick)
	// The idle polling client gets its goodbye on its next poll.
	assert.Equal(t, want, ts.poll(idle))
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(waitFor):
		t.Fatal("Shutdown did not return")
	}
	for _, sid := range []string{wsSid, held, idle} {
		rec.waitCount(t, "disconnect  "+sid+" server shutdown", 1) // handlers run asynchronously
	}
	assert.Equal(t, 0, ts.srv.SessionCount())
}

func TestHTMLFileUnknownSession(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, nil)
	r := ts.get(transportPath("htmlfile", "nosuchsession"))
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, `<script>_("7:::1+0");</script>`)
	assert.Less(t, r.took, atOnce, "the stream ends at once")
}

// A handler that kicks its own socket while the socket's event queue is
// full (the reader blocked on it) must not deadlock: the disconnect hooks
// are queued from the executor's own goroutine.
func TestKickFromHandlerWithFullEventQueue(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	started, release := make(chan struct{}), make(chan struct{})
	ts := newTestServer(t, Config{MaxQueuedEvents: 2}, func(srv *Server) {
		app(rec, "")(srv)
		require.NoError(t, srv.Of("").On("slowkick", func(s *Socket) {
			close(started)
			<-release
			s.Disconnect()
		}))
	})
	sid, ws := ts.connectWS("", wsOptions{})
	ws.send(eventPacket("", "", "slowkick"))
	select {
	case <-started:
	case <-time.After(waitFor):
		t.Fatal("slowkick handler not run")
	}
	for i := 0; i < 6; i++ {
		ws.send(eventPacket("", "", "note", "n"))
	}
	stays(t, 50*time.Millisecond, func() bool { return len(rec.withPrefix("note")) == 0 }, "handlers of one socket ran concurrently")
	close(release)
	rec.waitCount(t, "disconnect  "+sid+" booted", 1)
	ws.expect("0::")
	ws.waitClosed()
	require.Eventually(t, func() bool { return ts.srv.SessionCount() == 0 }, waitFor, tick)
}

func TestHandshakesPerSecondPerAddress(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{HandshakesPerSecond: 3}, nil)
	for i := 0; i < 3; i++ {
		ts.handshake("")
	}
	assert.Equal(t, http.StatusServiceUnavailable, ts.get("/socket.io/1/").status, "the fourth in the same second is refused")
	assert.Equal(t, uint64(1), ts.srv.Stats().HandshakesRefused)
	require.Eventually(t, func() bool { return ts.get("/socket.io/1/").status == http.StatusOK }, waitFor, 50*time.Millisecond, "the bucket refills")

	l := newAddrLimiter(1)
	now := time.Now()
	assert.True(t, l.allow("10.0.0.1:1000", now))
	assert.False(t, l.allow("10.0.0.1:2000", now), "the port does not matter")
	assert.True(t, l.allow("10.0.0.2:1000", now), "other addresses have their own budget")
	assert.True(t, l.allow("10.0.0.1:1000", now.Add(time.Second)))
	assert.True(t, newAddrLimiter(0).allow("x", now), "zero is off")
}

func TestMaxJSONDepth(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{MaxJSONDepth: 4}, app(rec, ""))
	sid := ts.connectPolling("")
	deep := `5:1+::{"name":"echo","args":[[[[["too deep"]]]]]}`
	ok := `5:2+::{"name":"echo","args":[[["fine"]]]}`
	ts.post("xhr-polling", sid, deep)
	ts.post("xhr-polling", sid, ok)
	assert.Equal(t, `6:::2+[[["fine"]]]`, ts.poll(sid), "only the shallow packet was handled")
	assert.Equal(t, uint64(1), ts.srv.Stats().DecodeErrors)
}
