package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeSession is a WakeableSession: what it receives is recorded; what is
// pushed is taken by the transport. held counts the bytes queued and held
// by the transport (Hold), maxHeld the most it ever was.
type fakeSession struct {
	mu       sync.Mutex
	queue    [][]byte
	closed   bool
	waker    Waker
	received []string
	got      chan string
	bins     chan []byte // binary messages (BinaryReceiver)
	held     int
	maxHeld  int
}

func (s *fakeSession) Hold(n int) {
	s.mu.Lock()
	s.held += n
	s.maxHeld = max(s.maxHeld, s.held)
	s.mu.Unlock()
}

// heldNow returns what the session counts as held now and at most.
func (s *fakeSession) heldNow() (now, most int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held, s.maxHeld
}

func newFakeSession() *fakeSession {
	return &fakeSession{got: make(chan string, 1024), bins: make(chan []byte, 16)}
}

func (s *fakeSession) ReceiveBinary(p []byte) {
	select {
	case s.bins <- append([]byte(nil), p...):
	default:
	}
}

func (s *fakeSession) Receive(p string) {
	s.mu.Lock()
	s.received = append(s.received, p)
	s.mu.Unlock()
	select {
	case s.got <- p:
	default:
	}
}

func (s *fakeSession) Take(ctx context.Context) ([][]byte, bool) { return s.TakeNow() }

func (s *fakeSession) TakeNow() ([][]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q, s.closed
}

func (s *fakeSession) SetWaker(w Waker) {
	s.mu.Lock()
	s.waker = w
	s.mu.Unlock()
}

func (s *fakeSession) push(p ...string) {
	s.mu.Lock()
	for _, x := range p {
		s.queue = append(s.queue, []byte(x))
		s.held += len(x)
	}
	s.maxHeld = max(s.maxHeld, s.held)
	w := s.waker
	s.mu.Unlock()
	w.Wake()
}

func (s *fakeSession) close() {
	s.mu.Lock()
	s.closed = true
	w := s.waker
	s.mu.Unlock()
	w.Wake()
}

// wsServer serves one fakeSession per upgrade; closed reports OnClose.
type wsServer struct {
	*httptest.Server
	sessions chan *fakeSession
	closed   chan struct{}
	opts     WebSocketOptions
	// sndBuf, if not 0, is the send buffer size (SO_SNDBUF) of the
	// connections accepted from now on.
	sndBuf atomic.Int32
}

func newWSServer(t *testing.T, tlsToo bool, opts WebSocketOptions, queued ...string) *wsServer {
	s := &wsServer{sessions: make(chan *fakeSession, 16), closed: make(chan struct{}, 256), opts: opts}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := newFakeSession()
		sess.push(queued...)
		o := s.opts
		o.OnClose = func() {
			select {
			case s.closed <- struct{}{}:
			default: // nobody waits for that many
			}
		}
		if err := ServeWebSocket(w, r, sess, o); err != nil {
			return
		}
		s.sessions <- sess
	})
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if n := s.sndBuf.Load(); n != 0 && st == http.StateNew {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetWriteBuffer(int(n))
			}
		}
	}
	if tlsToo {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *wsServer) dial(t *testing.T) (*websocket.Conn, *fakeSession) {
	t.Helper()
	d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	u := "ws" + strings.TrimPrefix(s.URL, "http") + "/"
	c, resp, err := d.Dial(u, nil)
	require.NoError(t, err)
	resp.Body.Close()
	t.Cleanup(func() { c.Close() })
	select {
	case sess := <-s.sessions:
		return c, sess
	case <-time.After(5 * time.Second):
		t.Fatal("no session")
		return nil, nil
	}
}

func (s *wsServer) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-s.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose did not run")
	}
}

func recv(t *testing.T, sess *fakeSession) string {
	t.Helper()
	select {
	case p := <-sess.got:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received")
		return ""
	}
}

func TestWebSocketBothWays(t *testing.T) {
	for _, tlsToo := range []bool{false, true} { // TLS: the fallback reader and blocking writes
		t.Run(fmt.Sprint("tls=", tlsToo), func(t *testing.T) {
			srv := newWSServer(t, tlsToo, WebSocketOptions{}, "1::")
			c, sess := srv.dial(t)
			_, m, err := c.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, "1::", string(m), "queued before the upgrade")
			polled := 0 // a plain TCP connection is read by the event loop
			if hasEventLoop && !tlsToo {
				polled = 1
			}
			assert.Equal(t, polled, polledConns())

			require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("5:::{\"name\":\"x\"}")))
			assert.Equal(t, "5:::{\"name\":\"x\"}", recv(t, sess))
			require.NoError(t, c.WriteMessage(websocket.BinaryMessage, []byte("ignored")))
			require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("z", 100000))))
			assert.Len(t, recv(t, sess), 100000)

			// Many packets queued at once arrive whole and in order.
			var want []string
			for i := range 2000 {
				want = append(want, fmt.Sprintf("3:::%d", i))
			}
			want = append(want, "3:::"+strings.Repeat("b", 20000))
			sess.push(want...)
			for _, w := range want {
				_, m, err := c.ReadMessage()
				require.NoError(t, err)
				require.Equal(t, w, string(m))
			}
			// What was written is released (Session.Hold).
			require.Eventually(t, func() bool { now, _ := sess.heldNow(); return now == 0 }, 5*time.Second, 5*time.Millisecond,
				"written but still held")

			// Ping gets a pong.
			pong := make(chan string, 1)
			c.SetPongHandler(func(s string) error { pong <- s; return nil })
			require.NoError(t, c.WriteControl(websocket.PingMessage, []byte("hb"), time.Now().Add(time.Second)))
			readErr := make(chan error, 1)
			go func() { _, _, err := c.ReadMessage(); readErr <- err }()
			select {
			case p := <-pong:
				assert.Equal(t, "hb", p)
			case <-time.After(5 * time.Second):
				t.Fatal("no pong")
			}

			// The session's end: a close frame, then the connection ends.
			sess.close()
			err = <-readErr
			var ce *websocket.CloseError
			if assert.ErrorAs(t, err, &ce) {
				assert.Equal(t, websocket.CloseNormalClosure, ce.Code)
			}
			srv.waitClosed(t)
			assert.Equal(t, 0, polledConns())
		})
	}
}

func TestWebSocketClientCloses(t *testing.T) {
	srv := newWSServer(t, false, WebSocketOptions{})
	c, _ := srv.dial(t)
	require.NoError(t, c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "bye"), time.Now().Add(time.Second)))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 4000, ce.Code, "the close code is echoed")
	srv.waitClosed(t)

	c2, _ := srv.dial(t)
	require.NoError(t, c2.UnderlyingConn().Close()) // no close frame
	srv.waitClosed(t)
}

func TestWebSocketTooLarge(t *testing.T) {
	srv := newWSServer(t, false, WebSocketOptions{MaxMessageSize: 100})
	c, sess := srv.dial(t)
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("a", 100))))
	assert.Len(t, recv(t, sess), 100)
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("a", 101))))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, websocket.CloseMessageTooBig, ce.Code)
	srv.waitClosed(t)
}

func TestWebSocketOriginRefused(t *testing.T) {
	srv := newWSServer(t, false, WebSocketOptions{CheckOrigin: func(*http.Request) bool { return false }})
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/", nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// A client that sends a frame in the same packet as its upgrade request:
// the bytes net/http had already buffered are not lost.
func TestWebSocketEarlyBytes(t *testing.T) {
	srv := newWSServer(t, false, WebSocketOptions{})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	msg := append([]byte(req), clientFrame(ws.OpText, true, "early")...)
	msg = append(msg, clientFrame(ws.OpText, false, "half")[:4]...) // and the start of another
	_, err = conn.Write(msg)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	sess := <-srv.sessions
	assert.Equal(t, "early", recv(t, sess))
	rest := append(clientFrame(ws.OpText, false, "half")[4:], clientFrame(ws.OpContinuation, true, "-done")...)
	_, err = conn.Write(rest)
	require.NoError(t, err)
	assert.Equal(t, "half-done", recv(t, sess))
}

// A client that does not read: the writers hand its connection to a
// goroutine of its own, the write times out, and others are not held up.
func TestWebSocketSlowClient(t *testing.T) {
	srv := newWSServer(t, false, WebSocketOptions{WriteTimeout: 300 * time.Millisecond})
	_, slowSess := srv.dial(t)
	fast, fastSess := srv.dial(t)
	big := strings.Repeat("s", 64<<10)
	for range 200 { // ~12 MiB: more than the socket buffers hold
		slowSess.push(big)
	}
	fastSess.push("3:::hello")
	_ = fast.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, m, err := fast.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "3:::hello", string(m))
	srv.waitClosed(t) // the slow one, after its write timed out
	fastSess.push("3:::still")
	_, m, err = fast.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "3:::still", string(m))
}

// A client that reads late, but within the write timeout, keeps its
// connection, and writes after the timeout has long passed still work.
func TestWebSocketLateReaderRecovers(t *testing.T) {
	// The timeout leaves room for reading 6.4 MB on a loaded machine with
	// -race: the late reader must not be dropped for being slow to read.
	const wt = 1500 * time.Millisecond
	srv := newWSServer(t, false, WebSocketOptions{WriteTimeout: wt})
	c, sess := srv.dial(t)
	big := strings.Repeat("s", 64<<10)
	for range 100 { // more than the socket buffers hold: a blocked write
		sess.push(big)
	}
	time.Sleep(100 * time.Millisecond)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range 100 {
		_, m, err := c.ReadMessage()
		require.NoError(t, err)
		require.Len(t, m, len(big))
	}
	time.Sleep(wt + 100*time.Millisecond) // past the deadline of the blocked write
	sess.push("3:::later")
	_, m, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "3:::later", string(m))
}

// Many connections, each pushed to from several goroutines at once (as a
// broadcast and handlers do): every packet arrives, in each pusher's
// order, through the shared writers.
func TestWebSocketManyConnectionsManyWriters(t *testing.T) {
	srv := newWSServer(t, false, WebSocketOptions{})
	const conns, pushers, each = 40, 4, 250
	clients := make([]*websocket.Conn, conns)
	sessions := make([]*fakeSession, conns)
	for i := range conns {
		clients[i], sessions[i] = srv.dial(t)
	}
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range each {
				for _, s := range sessions {
					s.push(fmt.Sprintf("3:::%d-%d", p, n))
				}
			}
		}()
	}
	errs := make(chan error, conns)
	for _, c := range clients {
		go func() {
			next := make([]int, pushers)
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			for range pushers * each {
				_, m, err := c.ReadMessage()
				if err != nil {
					errs <- err
					return
				}
				var p, n int
				if _, err := fmt.Sscanf(string(m), "3:::%d-%d", &p, &n); err != nil || p >= pushers || n != next[p] {
					errs <- fmt.Errorf("got %q, want pusher %d's %d", m, p, next[min(p, pushers-1)])
					return
				}
				next[p]++
			}
			errs <- nil
		}()
	}
	wg.Wait()
	for range conns {
		require.NoError(t, <-errs)
	}
}

// dialRaw upgrades a raw TCP connection whose kernel receive buffer is
// tiny, for a client that writes frames of its own and reads nothing.
func (s *wsServer) dialRaw(t *testing.T) (net.Conn, *fakeSession) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", s.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	select {
	case sess := <-s.sessions:
		return conn, sess
	case <-time.After(5 * time.Second):
		t.Fatal("no session")
		return nil, nil
	}
}

// A client that sends pings as fast as it can and reads nothing: the
// connection holds one pong (the latest ping's), however many pings
// arrive while its write is blocked, and the pongs count against the
// session's bound.
func TestWebSocketPingFloodHoldsOnePong(t *testing.T) {
	srv := newWSServer(t, false, WebSocketOptions{WriteTimeout: 20 * time.Second})
	// A small send buffer on the server too: a pong answers only the
	// latest ping, so pings read many a read get few pongs, too few to
	// fill the buffers Linux grows on its own (up to tcp_wmem, 4 MiB).
	srv.sndBuf.Store(4096)
	conn, sess := srv.dialRaw(t)
	ping := clientFrame(ws.OpPing, true, strings.Repeat("p", 125))
	chunk := bytes.Repeat(ping, 8)
	// Pings until the writer is blocked on the client (a pong held, still
	// 20 ms later): how many pongs are written before depends on how the
	// reader and the writers are scheduled, not on how many pings came.
	deadline := time.Now().Add(15 * time.Second)
	_ = conn.SetWriteDeadline(deadline)
	blocked := func() bool {
		if now, _ := sess.heldNow(); now == 0 {
			return false
		}
		time.Sleep(20 * time.Millisecond)
		now, _ := sess.heldNow()
		return now > 0
	}
	writes := 0
	for ; writes%64 != 0 || !blocked(); writes++ {
		require.True(t, time.Now().Before(deadline), "no pong held after %d pings: the writer is not blocked on the client", 8*writes)
		_, err := conn.Write(chunk)
		require.NoError(t, err, "the server stopped reading pings")
	}
	t.Logf("the writer was blocked after %d pings", 8*writes)
	pong := len(controlFrame(ws.OpPong, make([]byte, 125)))
	now, most := sess.heldNow()
	assert.LessOrEqual(t, most, 2*pong, "pongs pile up: one being written, one waiting is the most (held now %d)", now)
}

// A packet marked with BinaryMark goes out as a binary frame (without
// the mark), the others as text frames, in order; a binary message from
// the client reaches a BinaryReceiver session.
func TestWebSocketBinaryFrames(t *testing.T) {
	srv := newWSServer(t, false, WebSocketOptions{}, "0{}")
	c, sess := srv.dial(t)
	_, m, err := c.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, "0{}", string(m))

	sess.push("451-[\"x\"]", string([]byte{BinaryMark})+"\x00\x01\xff", string([]byte{BinaryMark}), "42[]")
	for _, want := range []struct {
		typ  int
		data string
	}{{websocket.TextMessage, "451-[\"x\"]"}, {websocket.BinaryMessage, "\x00\x01\xff"}, {websocket.BinaryMessage, ""}, {websocket.TextMessage, "42[]"}} {
		typ, m, err := c.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, want.typ, typ)
		assert.Equal(t, want.data, string(m))
	}
	require.Eventually(t, func() bool { now, _ := sess.heldNow(); return now == 0 }, 5*time.Second, 5*time.Millisecond,
		"the marks are released with their packets")

	require.NoError(t, c.WriteMessage(websocket.BinaryMessage, []byte{0xff, 0, 7}))
	select {
	case b := <-sess.bins:
		assert.Equal(t, []byte{0xff, 0, 7}, b)
	case <-time.After(5 * time.Second):
		t.Fatal("binary message not received")
	}
	sess.close()
	srv.waitClosed(t)
}
