package socketio

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestXHRCloseTimeout(t *testing.T) {
	t.Parallel()
	const ct = 200 * time.Millisecond
	rec := &recorder{}
	ts := newTestServer(t, Config{
		CloseTimeout:      ct,
		PollingDuration:   5 * time.Second,
		HeartbeatInterval: 5 * time.Second,
		HeartbeatTimeout:  10 * time.Second,
	}, app(rec, "", "/chat"))
	sid := ts.connectPolling("")
	ts.post("xhr-polling", sid, "1::/chat")
	assert.Equal(t, "1::/chat", ts.poll(sid))

	// While a poll is held the close timer does not run.
	held := ts.async(http.MethodGet, transportPath("xhr-polling", sid), "")
	ts.waitHeld(sid, 3)
	stays(t, 2*ct, func() bool { return ts.srv.lookup(sid) != nil }, "closed while a poll was held")
	// The close timer starts when this poll has been answered, so after
	// the emit that answers it.
	polled := time.Now()
	require.NoError(t, ts.socket("", sid).Emit("wake"))
	r := <-held
	require.NoError(t, r.err)
	assert.Equal(t, `5:::{"name":"wake"}`, r.body)

	// No new poll: closed after the close timeout, once.
	rec.waitCount(t, "disconnect  "+sid+" close timeout", 1)
	assert.GreaterOrEqual(t, time.Since(polled), ct, "closed before the close timeout")
	rec.waitCount(t, "disconnect /chat "+sid+" close timeout", 1)
	assert.Nil(t, ts.srv.lookup(sid))
	stays(t, 2*ct, func() bool { return len(rec.withPrefix("disconnect")) == 2 }, "disconnect ran twice: %q", rec.list())
	assert.Equal(t, "7:::1+0", ts.poll(sid))
}

func TestXHRRegularPollingKeepsSessionPastCloseTimeout(t *testing.T) {
	t.Parallel()
	const ct = time.Second // a loaded machine may pause the polling loop
	rec := &recorder{}
	ts := newTestServer(t, Config{
		CloseTimeout:      ct,
		PollingDuration:   50 * time.Millisecond,
		HeartbeatInterval: 5 * time.Second,
		HeartbeatTimeout:  10 * time.Second,
	}, app(rec, ""))
	sid := ts.connectPolling("")
	deadline := time.Now().Add(ct + ct/2)
	for time.Now().Before(deadline) {
		assert.Equal(t, "8::", ts.poll(sid))
	}
	assert.Empty(t, rec.withPrefix("disconnect"), "a client that keeps polling is not closed")
}

func TestUnusedHandshakeExpires(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{CloseTimeout: 100 * time.Millisecond}, nil)
	sid := ts.handshake("")
	require.NotNil(t, ts.srv.lookup(sid))
	require.Eventually(t, func() bool { return ts.srv.lookup(sid) == nil }, waitFor, tick)
	assert.Equal(t, 0, ts.srv.SessionCount())
}

func TestWebSocketHeartbeats(t *testing.T) {
	t.Parallel()
	const interval = 100 * time.Millisecond
	ts := newTestServer(t, Config{HeartbeatInterval: interval, HeartbeatTimeout: 2 * time.Second}, nil)
	_, ws := ts.connectWS("", wsOptions{pong: true})
	var at []time.Time
	for len(at) < 4 {
		select {
		case m, ok := <-ws.msgs:
			require.True(t, ok, "closed")
			require.Equal(t, "2::", m)
			at = append(at, time.Now())
		case <-time.After(waitFor):
			t.Fatal("no heartbeat")
		}
	}
	for i := 1; i < len(at); i++ {
		gap := at[i].Sub(at[i-1])
		assert.Greater(t, gap, interval/2, "heartbeats too close")
		// Far apart only by what a loaded machine adds: well within the
		// heartbeat timeout, which is what a client needs.
		assert.Less(t, gap, 10*interval, "heartbeats too far apart")
	}
}

func TestWebSocketHeartbeatTimeout(t *testing.T) {
	t.Parallel()
	// Long enough that the answering client, whose answers a loaded
	// machine may delay, has a dozen heartbeats to answer in each.
	const hbTimeout = 1500 * time.Millisecond
	rec := &recorder{}
	ts := newTestServer(t, Config{HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: hbTimeout}, app(rec, ""))

	start := time.Now() // before the session exists, so before its timer starts
	silentSid, silent := ts.connectWS("", wsOptions{})
	aliveSid, alive := ts.connectWS("", wsOptions{pong: true})

	// The silent client hears heartbeats but never answers.
	select {
	case m := <-silent.msgs:
		assert.Equal(t, "2::", m)
	case <-time.After(waitFor):
		t.Fatal("no heartbeat")
	}
	rec.waitCount(t, "disconnect  "+silentSid+" heartbeat timeout", 1)
	assert.GreaterOrEqual(t, time.Since(start), hbTimeout, "closed before the heartbeat timeout")
	silent.waitClosed()
	assert.Nil(t, ts.srv.lookup(silentSid))

	// The answering client outlives several timeouts.
	stays(t, 2*hbTimeout, func() bool { return ts.srv.lookup(aliveSid) != nil }, "answering client closed")
	alive.send(`5:1+::{"name":"x","args":[1]}`)
	alive.expect(`6:::1+[2,"ok"]`)
	assert.Empty(t, rec.withPrefix("disconnect  "+aliveSid))
	assert.Equal(t, 1, rec.count("disconnect  "+silentSid+" heartbeat timeout"), "disconnect ran once: %q", rec.list())
}

func TestPollingHeartbeatAnsweredByPost(t *testing.T) {
	t.Parallel()
	const hbTimeout = 2 * time.Second // a loaded machine may pause the polling loop
	rec := &recorder{}
	ts := newTestServer(t, Config{
		HeartbeatInterval: 100 * time.Millisecond,
		HeartbeatTimeout:  hbTimeout,
		PollingDuration:   5 * time.Second,
		CloseTimeout:      5 * time.Second,
	}, app(rec, ""))
	sid := ts.connectPolling("")
	// The client polls and answers every heartbeat with a POST.
	deadline := time.Now().Add(hbTimeout + hbTimeout/2)
	beats := 0
	for time.Now().Before(deadline) {
		for _, p := range decodePayload(t, ts.poll(sid)) {
			if p == "2::" {
				beats++
				ts.post("xhr-polling", sid, "2::")
			}
		}
	}
	assert.GreaterOrEqual(t, beats, 3)
	assert.Empty(t, rec.withPrefix("disconnect"))
	assert.NotNil(t, ts.srv.lookup(sid))
}

func TestBroadcastReachesEveryTransport(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{PollingDuration: 5 * time.Second}, app(&recorder{}, ""))
	_, ws := ts.connectWS("", wsOptions{})
	xhr := ts.connectPolling("")
	hsid := ts.handshake("")
	html := ts.openHTMLFile(hsid)
	html.waitPayloads(t, 1)
	jsid := ts.handshake("")
	assert.Equal(t, `io.j[0]("1::");`, ts.get(transportPath("jsonp-polling", jsid)).body)

	var wg sync.WaitGroup
	wg.Add(1)
	var held response
	go func() {
		defer wg.Done()
		held = ts.request(http.MethodGet, transportPath("xhr-polling", xhr), "")
	}()
	ts.waitHeld(xhr, 2)
	require.NoError(t, ts.srv.Sockets().Emit("all", "é"))
	want := `5:::{"name":"all","args":["é"]}`
	ws.expect(want)
	assert.Equal(t, want, html.waitPayloads(t, 2)[1])
	wg.Wait()
	require.NoError(t, held.err)
	assert.Equal(t, want, held.body)
	assert.Equal(t, `io.j[0](`+jsonString(want)+`);`, ts.get(transportPath("jsonp-polling", jsid)).body)
}

// The close timer of a fresh session may fire while the handshake is
// still registering it: the session must still expire and be forgotten,
// not linger as a dead entry counted against MaxSessions (and, with
// -race, the timer must not race with the handshake).
func TestCloseTimerFiringDuringHandshake(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{CloseTimeout: time.Nanosecond}, nil)
	for i := 0; i < 20; i++ {
		ts.handshake("")
	}
	require.Eventually(t, func() bool { return ts.srv.SessionCount() == 0 }, waitFor, tick)
}
