package socketio

// Slow consumers: a client that does not take what is sent to it is
// closed without holding up anyone else, and its connection is dropped
// within Config.WriteTimeout instead of being held open.

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSlowPollingConsumerIsClosed(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{SendQueueSize: 16, PollingDuration: 5 * time.Second}, app(rec, ""))
	slow := ts.connectPolling("") // never polls again
	fastSid, fast := ts.connectWS("", wsOptions{})

	for i := 0; i < 60; i++ {
		start := time.Now()
		require.NoError(t, ts.srv.Sockets().Emit("tick", i))
		fast.expect(fmt.Sprintf(`5:::{"name":"tick","args":[%d]}`, i))
		require.Less(t, time.Since(start), 2*time.Second, "the healthy client was held up")
	}
	rec.waitCount(t, "disconnect  "+slow+" slow consumer", 1)
	assert.Nil(t, ts.srv.lookup(slow))
	assert.Equal(t, "7:::1+0", ts.poll(slow))
	assert.Empty(t, rec.withPrefix("disconnect  "+fastSid))
	assert.Equal(t, []string{fastSid}, clients(t, ts.srv.Sockets()), "the slow socket left the namespace")
}

func clients(t *testing.T, ns *Namespace) []string {
	t.Helper()
	ids, err := ns.Clients("")
	require.NoError(t, err)
	return ids
}

func TestSlowWebSocketConsumerIsClosed(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	// The queue is long enough that only a writer stuck on a full TCP
	// connection, not a scheduling hiccup, can fill it.
	ts := newTestServer(t, Config{SendQueueSize: 64}, app(rec, ""))
	slowSid, _ := ts.connectWSNoRead()
	fastSid, fast := ts.connectWS("", wsOptions{})

	big := strings.Repeat("z", 64<<10)
	closedAt := -1
	for i := 0; i < 2000; i++ {
		start := time.Now()
		require.NoError(t, ts.srv.Sockets().Emit("blob", i, big))
		m := fast.next()
		require.True(t, strings.HasPrefix(m, fmt.Sprintf(`5:::{"name":"blob","args":[%d,"zz`, i)), m[:min(40, len(m))])
		require.Less(t, time.Since(start), 2*time.Second, "the healthy client was held up")
		if rec.count("disconnect  "+slowSid+" slow consumer") == 1 {
			closedAt = i
			break
		}
	}
	require.Positive(t, closedAt, "the non-reading client was never closed")
	// The healthy client keeps getting broadcasts.
	for i := 0; i < 5; i++ {
		require.NoError(t, ts.srv.Sockets().Emit("after", i))
		fast.expect(fmt.Sprintf(`5:::{"name":"after","args":[%d]}`, i))
	}
	assert.Nil(t, ts.srv.lookup(slowSid))
	assert.Equal(t, []string{fastSid}, clients(t, ts.srv.Sockets()))
	assert.Empty(t, rec.withPrefix("disconnect  "+fastSid))
}

// connectWSNoRead opens a websocket session whose client reads the
// connect packet and then nothing more.
func (ts *testServer) connectWSNoRead() (string, *wsClient) {
	ts.t.Helper()
	sid := ts.handshake("")
	ws := ts.dialWS(sid, wsOptions{noRead: true, rcvBuf: 4096})
	_ = ws.conn.SetReadDeadline(time.Now().Add(waitFor))
	_, b, err := ws.conn.ReadMessage()
	require.NoError(ts.t, err)
	require.Equal(ts.t, "1::", string(b))
	return sid, ws
}

// rawDial opens a TCP connection to the test server with a tiny receive
// buffer, for a client that sends a request and never reads the answer.
func (ts *testServer) rawDial() net.Conn {
	ts.t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", ts.hs.Listener.Addr().String())
	require.NoError(ts.t, err)
	ts.t.Cleanup(func() { _ = c.Close() })
	return c
}

// waitConnClosed waits until the server has closed the connection of c.
func (ts *testServer) waitConnClosed(c net.Conn, msg string) {
	ts.t.Helper()
	addr := c.LocalAddr().String()
	require.Eventually(ts.t, func() bool {
		st, _ := ts.connState(addr)
		return st == http.StateClosed
	}, waitFor, tick, msg)
}

// flood queues up to n MiB for session sid in 1 MiB events: far more than the
// kernel buffers of a connection whose client does not read.
func (ts *testServer) flood(sid string, n int) {
	ts.t.Helper()
	s := ts.socket("", sid)
	big := strings.Repeat("f", 1<<20)
	for i := 0; i < n; i++ {
		if err := s.Emit("big", big); err != nil {
			// Already dropped: the client took nothing for WriteTimeout.
			require.ErrorIs(ts.t, err, ErrNotDelivered)
			return
		}
	}
}

// dropConfig drops a client that takes nothing for 200 ms. The byte bound
// is far above what flood queues, so that the write timeout, not the
// bound, is what drops it.
var dropConfig = Config{WriteTimeout: 200 * time.Millisecond, PollingDuration: 5 * time.Second, MaxQueuedBytes: 64 << 20}

func TestNonReadingWebSocketClientIsDropped(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, dropConfig, app(rec, ""))
	sid, _ := ts.connectWSNoRead()
	ts.flood(sid, 8)
	rec.waitCount(t, "disconnect  "+sid+" socket end", 1)
	require.Eventually(t, func() bool { return ts.srv.lookup(sid) == nil }, waitFor, tick)
}

func TestNonReadingHTMLFileClientIsDropped(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, dropConfig, app(rec, ""))
	sid := ts.handshake("")
	c := ts.rawDial()
	_, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", transportPath("htmlfile", sid))
	require.NoError(t, err)
	ts.flood(sid, 8)
	ts.waitConnClosed(c, "an htmlfile stream whose client reads nothing is held open")
	rec.waitCount(t, "disconnect  "+sid+" socket end", 1)
	assert.Nil(t, ts.srv.lookup(sid))
}

func TestPollAnswerToNonReadingClientIsDropped(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, dropConfig, nil)
	sid := ts.connectPolling("")
	ts.flood(sid, 8)
	// The answer is waiting; this client asks for it and reads nothing.
	c := ts.rawDial()
	_, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", transportPath("xhr-polling", sid))
	require.NoError(t, err)
	ts.waitConnClosed(c, "a poll answer the client does not read holds its connection open")
}
