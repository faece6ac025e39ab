package socketio

// Memory bounds on the outgoing path: what a session holds for a client
// that does not take it (queued packets, a transport's pending write and
// control frames) is bounded in bytes, and a client cannot hold a POST
// open by trickling its body.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxHeld is the most s.srv.Stats().QueuedBytes was at any of the samples
// taken while fn ran (and once after).
func maxHeld(ts *testServer, fn func()) int {
	done := make(chan struct{})
	most := make(chan int, 1)
	go func() {
		m := 0
		for {
			m = max(m, ts.srv.Stats().QueuedBytes)
			select {
			case <-done:
				most <- max(m, ts.srv.Stats().QueuedBytes)
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	return <-most
}

// A client that sends pings as fast as it can and reads nothing: its
// connection holds one pong (the latest ping's), not one per ping, and
// that pong counts in the session's held bytes.
func TestPingFloodingWebSocketClientIsBounded(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{WriteTimeout: 30 * time.Second}, app(rec, ""))
	ts.sndBuf.Store(4096) // the client's receive buffer is small too
	sid, c := ts.connectWSNoRead()
	f := ws.MaskFrameWith(ws.NewPingFrame(bytes.Repeat([]byte("p"), 125)), [4]byte{1, 2, 3, 4})
	ping, err := ws.CompileFrame(f)
	require.NoError(t, err)
	chunk := bytes.Repeat(ping, 8)
	raw := c.conn.UnderlyingConn()
	deadline := time.Now().Add(45 * time.Second)
	_ = raw.SetWriteDeadline(time.Now().Add(60 * time.Second))
	// Pings until the writer is blocked on the client (a pong held, still
	// 20 ms later): how many pongs are written before depends on how the
	// server's reader and writers are scheduled, not on how many pings
	// came, so no fixed count is sure to fill the socket buffers.
	blocked := func() bool {
		if ts.srv.Stats().QueuedBytes == 0 {
			return false
		}
		time.Sleep(20 * time.Millisecond)
		return ts.srv.Stats().QueuedBytes > 0
	}
	writes := 0
	most := maxHeld(ts, func() {
		for ; writes%64 != 0 || !blocked(); writes++ {
			require.True(t, time.Now().Before(deadline), "no pong held after %d pings: the writer is not blocked on the client", 8*writes)
			_, err := raw.Write(chunk)
			require.NoError(t, err, "the server stopped reading pings")
		}
	})
	t.Logf("the writer was blocked after %d pings", 8*writes)
	pong := 2 + 125
	assert.LessOrEqual(t, most, 2*pong, "pongs pile up: one being written and one waiting is the most")
	assert.NotNil(t, ts.srv.lookup(sid), "the session was closed")
	assert.Zero(t, ts.srv.Stats().SlowConsumerCloses)
	assert.Empty(t, rec.withPrefix("disconnect"))
}

// A client that reads nothing while the server sends it big emits is
// closed as a slow consumer once the bytes held for it pass
// MaxQueuedBytes, long before SendQueueSize packets are queued.
func TestNonReadingWebSocketClientIsClosedAtByteBound(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	const bound = 1 << 20
	ts := newTestServer(t, Config{MaxQueuedBytes: bound, WriteTimeout: time.Minute}, app(rec, ""))
	sid, _ := ts.connectWSNoRead()
	s := ts.socket("", sid)
	blob := strings.Repeat("b", 64<<10)
	sent := 0
	most := maxHeld(ts, func() {
		for ; sent < 2000; sent++ { // 128 MiB, well within SendQueueSize (4096 packets)
			if err := s.Emit("blob", blob); err != nil {
				require.ErrorIs(t, err, ErrNotDelivered)
				break
			}
		}
	})
	require.Less(t, sent, 2000, "the non-reading client was never closed")
	rec.waitCount(t, "disconnect  "+sid+" slow consumer", 1)
	assert.Equal(t, uint64(1), ts.srv.Stats().SlowConsumerCloses)
	assert.Nil(t, ts.srv.lookup(sid))
	assert.LessOrEqual(t, most, bound+len(blob)+64, "more was held than the bound and one packet")
	t.Logf("closed after %d emits of 64 KiB; at most %d bytes held", sent, most)
}

// A polling client that POSTs 1 MB events the server echoes, and never
// GETs, is closed at the byte bound: the echoes do not pile up until the
// close timeout.
func TestPollingClientThatNeverGETsIsClosedAtByteBound(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	const bound = 3 << 20
	ts := newTestServer(t, Config{MaxQueuedBytes: bound, PollingDuration: 5 * time.Second}, app(rec, ""))
	sid := ts.connectPolling("")
	event := eventPacket("", "", "echo", strings.Repeat("e", 1000000))
	posted := 0
	most := maxHeld(ts, func() {
		for ; posted < 20; posted++ { // 20 MB of echoes
			r := ts.do(http.MethodPost, transportPath("xhr-polling", sid), event, "Content-Type", "text/plain;charset=UTF-8")
			if r.status != http.StatusOK {
				require.Equal(t, http.StatusBadRequest, r.status, "POST answered %q", r.body)
				break
			}
			// Echoes are queued by the handlers' goroutine: let each be
			// queued before the next POST, so the bound, not the POSTs
			// outrunning it, decides when the session closes.
			require.Eventually(t, func() bool {
				return ts.srv.lookup(sid) == nil || ts.srv.Stats().QueuedBytes >= (posted+1)*1000000
			}, waitFor, tick)
		}
	})
	require.Less(t, posted, 20, "the session was never closed")
	assert.LessOrEqual(t, posted, bound/1000000+1, "closed late")
	rec.waitCount(t, "disconnect  "+sid+" slow consumer", 1)
	assert.Nil(t, ts.srv.lookup(sid))
	assert.LessOrEqual(t, most, bound+len(event))
	assert.Equal(t, "7:::1+0", ts.poll(sid))
}

// Volatile packets are dropped, not queued, once what is held for the
// client passes a quarter of MaxQueuedBytes: they never close a session
// as a slow consumer.
func TestVolatileDroppedAtQuarterByteBound(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	const bound = 1 << 20
	ts := newTestServer(t, Config{MaxQueuedBytes: bound, WriteTimeout: time.Minute}, app(rec, ""))
	sid, _ := ts.connectWSNoRead()
	s := ts.socket("", sid)
	blob := strings.Repeat("v", 64<<10)
	most := maxHeld(ts, func() {
		for range 1000 { // 64 MiB, fewer packets than a quarter of SendQueueSize
			require.NoError(t, s.Volatile().Emit("blob", blob))
		}
	})
	assert.LessOrEqual(t, most, bound/4+len(blob)+64)
	assert.NotNil(t, ts.srv.lookup(sid))
	assert.Zero(t, ts.srv.Stats().SlowConsumerCloses)
	assert.Empty(t, rec.withPrefix("disconnect"))
}

// A POST whose body trickles in (a byte every 50 ms) is cut off at
// PostTimeout: answered 408, its connection closed.
func TestSlowPostBodyIsCutOff(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	ts := newTestServer(t, Config{PostTimeout: timeout, PollingDuration: 5 * time.Second}, nil)
	sid := ts.connectPolling("")
	trickledPost(t, ts, sid, timeout)
	assert.NotNil(t, ts.srv.lookup(sid), "the session is not ended by a bad POST")

	// A body that arrives in time is read as before, on a connection
	// whose deadline is lifted once it has.
	ts.post("xhr-polling", sid, "8::")
}

// The same through a node that forwards the POST to the session's node:
// the forwarding node does not hold the connection open either.
func TestForwardedSlowPostBodyIsCutOff(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	nodes := newNodes(t, newMapDirectory(), 2, Config{PostTimeout: timeout, PollingDuration: 5 * time.Second}, &recorder{})
	a, b := nodes[0], nodes[1]
	sid := a.handshake("")
	require.Equal(t, "1::", a.poll(sid))
	trickledPost(t, b, sid, timeout)
	assert.NotNil(t, a.srv.lookup(sid))
}

// trickledPost POSTs to session sid through via a body of 1000 bytes, a
// byte every 50 ms, and requires that it is answered 408 after timeout and
// its connection closed, long before the body could be complete.
func trickledPost(t *testing.T, via *testServer, sid string, timeout time.Duration) {
	t.Helper()
	c := via.rawDial()
	start := time.Now()
	_, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n",
		transportPath("xhr-polling", sid))
	require.NoError(t, err)
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		for range 1000 { // 50 s for the whole body
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-trickled }()
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err, "no answer while the body trickles")
	took := time.Since(start)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, "%s", body)
	assert.GreaterOrEqual(t, took, timeout-50*time.Millisecond, "cut off before the deadline")
	// Closed: an EOF, or a reset when the server closed with trickled
	// bytes still unread; not the read deadline.
	_, err = br.ReadByte()
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "the connection stays open: %v", err)
}

// What the websocket writer has taken from the queue but the client has
// not taken yet (a write blocked on a client that does not read) still
// counts in the session's held bytes: the bound covers it too.
func TestWebSocketWriteInFlightIsCounted(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{MaxQueuedBytes: 64 << 20, WriteTimeout: time.Minute}, nil)
	sid, _ := ts.connectWSNoRead()
	s := ts.socket("", sid)
	blob := strings.Repeat("w", 64<<10)
	for range 200 { // 12.5 MiB: more than the socket buffers take
		require.NoError(t, s.Emit("blob", blob))
	}
	sess := ts.srv.lookup(sid)
	require.NotNil(t, sess)
	inFlight := func() int {
		sess.mu.Lock()
		defer sess.mu.Unlock()
		queued := 0
		for _, p := range sess.queue {
			queued += len(p)
		}
		return sess.held - queued
	}
	require.Eventually(t, func() bool { return inFlight() >= len(blob) }, waitFor, tick,
		"the blocked write is not counted: held %d beyond the queue", inFlight())
}

// Clients that take what is sent to them are never closed by the byte
// bound, however much passes through: every transport releases what it
// has written, so the held bytes go back to zero.
func TestReadingClientsReleaseHeldBytes(t *testing.T) {
	t.Parallel()
	const bound = 256 << 10
	blob := strings.Repeat("r", 64<<10)
	for _, name := range []string{"websocket", "htmlfile", "xhr-polling"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			ts := newTestServer(t, Config{MaxQueuedBytes: bound, PollingDuration: 5 * time.Second}, app(rec, ""))
			var sid string
			switch name {
			case "websocket":
				sid, _ = ts.connectWS("", wsOptions{})
			case "htmlfile":
				sid = ts.handshake("")
				ts.openHTMLFile(sid)
			default:
				sid = ts.connectPolling("")
			}
			rec.waitCount(t, "connect  "+sid, 1)
			for i := range 20 { // 1.25 MiB: five times the bound
				require.NoError(t, ts.socket("", sid).Emit("blob", blob), "emit %d", i)
				if name == "xhr-polling" {
					require.Contains(t, ts.poll(sid), blob)
				}
				require.Eventually(t, func() bool { return ts.srv.Stats().QueuedBytes == 0 }, waitFor, tick,
					"emit %d: written but still held: %d bytes", i, ts.srv.Stats().QueuedBytes)
			}
			assert.Empty(t, rec.withPrefix("disconnect"))
		})
	}
}

// The bound's edges: a packet larger than the bound goes through when
// nothing else is held, and a transport's own frames (Hold) that would
// take the held bytes past it close the session as Send would.
func TestByteBoundEdges(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{MaxQueuedBytes: 1000, PollingDuration: 5 * time.Second}, app(rec, ""))
	sid := ts.connectPolling("")
	sess := ts.srv.lookup(sid)
	// A poll's handler releases what it took once it has written it,
	// which may be after the client has it.
	released := func() {
		require.Eventually(t, func() bool { return sess.heldBytes() == 0 }, waitFor, tick)
	}
	released()
	require.True(t, sess.Send([]byte("3:::"+strings.Repeat("x", 2000)), false), "an oversized packet alone is refused")
	assert.Equal(t, "3:::"+strings.Repeat("x", 2000), ts.poll(sid))

	released()
	require.True(t, sess.Send([]byte("3:::"+strings.Repeat("y", 896)), false))
	sess.Hold(100) // at the bound
	assert.Zero(t, ts.srv.Stats().SlowConsumerCloses)
	sess.Hold(1)
	rec.waitCount(t, "disconnect  "+sid+" slow consumer", 1)
	assert.Equal(t, uint64(1), ts.srv.Stats().SlowConsumerCloses)
	assert.Nil(t, ts.srv.lookup(sid))
}
