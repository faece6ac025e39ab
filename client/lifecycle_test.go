package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/apptest"
	"github.com/siogo/siogo/packet"
	"github.com/siogo/siogo/socketio"
)

// TestReconnectAfterServerRestart kills the testapp process (SIGKILL: no
// goodbye) and starts it again on the same port: the client re-handshakes,
// re-joins its namespaces, and sends what was emitted meanwhile.
func TestReconnectAfterServerRestart(t *testing.T) {
	for _, tr := range allTransports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			app := apptest.StartTestapp(t)
			lc := newLifecycle()
			c := dial(t, app.URL+"/chat", tr, lc.options(&Options{
				ReconnectMinDelay: 50 * time.Millisecond,
				ReconnectMaxDelay: 200 * time.Millisecond,
			}))
			ctx := ctxFor(t)
			aclNS := c.Of("/acl")
			require.NoError(t, aclNS.WaitConnected(ctx))
			lc.wait(t, "connect", "/acl")
			chatIn := newInbox(c.Namespace())
			sid := c.SessionID()

			app.Kill()
			for _, ns := range []string{"", "/chat", "/acl"} {
				h := lc.wait(t, "disconnect", ns)
				var te *TransportError
				assert.ErrorAs(t, h.err, &te, "disconnect %q: %v", ns, h.err)
			}
			lc.wait(t, "reconnecting")
			assert.False(t, c.Connected())
			assert.False(t, c.Namespace().Connected())
			// Emitted while down: queued for the next session.
			require.NoError(t, c.Emit("echo", "queued while down 😀"))

			app.Start()
			lc.wait(t, "reconnect")
			lc.wait(t, "connect", "")
			lc.wait(t, "connect", "/chat")
			lc.wait(t, "connect", "/acl")
			assert.NotEqual(t, sid, c.SessionID(), "a new session")
			assert.Equal(t, tr, c.Transport())
			assert.JSONEq(t, `["queued while down 😀"]`, argsJSON(chatIn.next(t, "echo").args))
			got, err := c.EmitWithAck(ctx, "echo", "after")
			require.NoError(t, err)
			assert.JSONEq(t, `["after"]`, argsJSON(got))
			got, err = aclNS.EmitWithAck(ctx, "login", "letmein")
			require.NoError(t, err)
			assert.JSONEq(t, `[true]`, argsJSON(got))
		})
	}
}

// swappable serves whichever server is current, to stand for a server
// restarted between two polls.
type swappable struct {
	mu  sync.Mutex
	srv *socketio.Server
}

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	srv.ServeHTTP(w, r)
}

// TestReconnectWhenSessionForgotten: a polling client whose session the
// server no longer knows gets "7:::1+0" (client not handshaken, advice
// reconnect) and reconnects with a new handshake.
func TestReconnectWhenSessionForgotten(t *testing.T) {
	for _, tr := range []string{XHRPolling, JSONPPolling} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			newSrv := func() *socketio.Server {
				srv := socketio.NewServer(socketio.Config{Logger: discardLogger()})
				require.NoError(t, srv.Of("").OnRaw("echo", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
					_ = ack(rawArgs(args)...)
				}))
				t.Cleanup(srv.Close)
				return srv
			}
			sw := &swappable{srv: newSrv()}
			hs := httptest.NewServer(sw)
			t.Cleanup(func() { hs.CloseClientConnections(); hs.Close() })
			lc := newLifecycle()
			var notHandshaken atomic.Bool
			opts := lc.options(&Options{ReconnectMinDelay: 20 * time.Millisecond, OnPacket: func(p packet.Packet) {
				if p.Type == packet.Error && p.Reason == packet.ReasonNotHandshaken {
					notHandshaken.Store(true)
				}
			}})
			c := dial(t, hs.URL, tr, opts)
			sid := c.SessionID()

			old := sw.srv
			sw.mu.Lock()
			sw.srv = newSrv()
			sw.mu.Unlock()
			old.Close() // forgets the session, answers the held poll with a noop

			h := lc.wait(t, "disconnect", "")
			assert.ErrorIs(t, h.err, ErrNotHandshaken)
			assert.True(t, notHandshaken.Load())
			lc.wait(t, "reconnect")
			assert.NotEqual(t, sid, c.SessionID())
			got, err := c.EmitWithAck(ctxFor(t), "echo", "new server")
			require.NoError(t, err)
			assert.JSONEq(t, `["new server"]`, argsJSON(got))
		})
	}
}

// TestHeartbeatsKeepIdleSession: with the server's heartbeat every 200 ms
// and a 1 s heartbeat timeout, an idle client survives several seconds
// because it answers every heartbeat.
func TestHeartbeatsKeepIdleSession(t *testing.T) {
	for _, tr := range allTransports {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			// A heartbeat timeout ten intervals long: a loaded machine may
			// delay an answer, but not by that much.
			app := apptest.StartTestapp(t, "-heartbeat-interval", "200ms", "-heartbeat-timeout", "2s")
			var heartbeats atomic.Int32
			lc := newLifecycle()
			opts := lc.options(&Options{OnPacket: func(p packet.Packet) {
				if p.Type == packet.Heartbeat {
					heartbeats.Add(1)
				}
			}})
			c := dial(t, app.URL, tr, opts)
			sid := c.SessionID()
			time.Sleep(3 * time.Second)
			assert.Zero(t, lc.count("disconnect"), "%s", lc.history())
			assert.Zero(t, lc.count("reconnecting"), "%s", lc.history())
			assert.Equal(t, sid, c.SessionID())
			assert.GreaterOrEqual(t, heartbeats.Load(), int32(8))
			got, err := c.EmitWithAck(ctxFor(t), "echo", "still alive")
			require.NoError(t, err)
			assert.JSONEq(t, `["still alive"]`, argsJSON(got))
		})
	}
}

// TestHeartbeatTimeoutDetectsFrozenServer: a server that stops talking
// (SIGSTOP) is detected after the handshake's heartbeat timeout, and the
// client reconnects once it is back (SIGCONT).
func TestHeartbeatTimeoutDetectsFrozenServer(t *testing.T) {
	for _, tr := range []string{WebSocket, XHRPolling} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			app := apptest.StartTestapp(t, "-heartbeat-interval", "200ms", "-heartbeat-timeout", "1s")
			lc := newLifecycle()
			c := dial(t, app.URL, tr, lc.options(&Options{
				ConnectTimeout:    500 * time.Millisecond,
				ReconnectMinDelay: 100 * time.Millisecond,
				ReconnectMaxDelay: 200 * time.Millisecond,
			}))
			app.Signal(syscall.SIGSTOP)
			start := time.Now()
			h := lc.wait(t, "disconnect", "")
			assert.ErrorIs(t, h.err, ErrHeartbeatTimeout)
			assert.Less(t, time.Since(start), 3*time.Second)
			lc.wait(t, "reconnecting")
			app.Signal(syscall.SIGCONT)
			lc.wait(t, "reconnect")
			got, err := c.EmitWithAck(ctxFor(t), "echo", 1)
			require.NoError(t, err)
			assert.JSONEq(t, `[1]`, argsJSON(got))
		})
	}
}

// TestCloseWhileReconnecting: Close does not wait for a reconnect attempt
// stuck on a hung server.
func TestCloseWhileReconnecting(t *testing.T) {
	t.Parallel()
	app := apptest.StartTestapp(t, "-heartbeat-interval", "200ms", "-heartbeat-timeout", "1s")
	lc := newLifecycle()
	c := dial(t, app.URL, WebSocket, lc.options(&Options{ReconnectMinDelay: 10 * time.Millisecond}))
	app.Signal(syscall.SIGSTOP)
	defer app.Signal(syscall.SIGCONT)
	lc.wait(t, "disconnect", "")
	lc.wait(t, "reconnecting")
	time.Sleep(200 * time.Millisecond) // the attempt's handshake hangs
	start := time.Now()
	require.NoError(t, c.Close())
	// Well under the 10s connect timeout the attempt would wait for.
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.ErrorIs(t, c.Err(), ErrClosed)
}

func TestReconnectGivesUp(t *testing.T) {
	t.Parallel()
	app := apptest.StartTestapp(t)
	lc := newLifecycle()
	c := dial(t, app.URL, WebSocket, lc.options(&Options{
		ReconnectMinDelay:    20 * time.Millisecond,
		ReconnectMaxDelay:    40 * time.Millisecond,
		MaxReconnectAttempts: 3,
	}))
	pending := make(chan error, 1)
	go func() {
		_, err := c.EmitWithAck(context.Background(), "never-acked")
		pending <- err
	}()
	waitAckSent(t, c)
	app.Kill()
	h := lc.wait(t, "reconnect_failed")
	assert.ErrorIs(t, h.err, ErrReconnectFailed)
	select {
	case <-c.Done():
	case <-time.After(waitFor):
		t.Fatal("Done not closed")
	}
	assert.ErrorIs(t, c.Err(), ErrReconnectFailed)
	assert.Contains(t, c.Err().Error(), "after 3 attempts")
	assert.Equal(t, 3, lc.count("reconnecting"))
	assert.ErrorIs(t, <-pending, ErrDisconnected)
	assert.ErrorIs(t, c.Emit("echo"), ErrReconnectFailed)
}

func TestNoReconnect(t *testing.T) {
	t.Parallel()
	app := apptest.StartTestapp(t)
	lc := newLifecycle()
	c := dial(t, app.URL, XHRPolling, lc.options(&Options{NoReconnect: true}))
	app.Kill()
	select {
	case <-c.Done():
	case <-time.After(waitFor):
		t.Fatal("Done not closed")
	}
	var te *TransportError
	assert.ErrorAs(t, c.Err(), &te)
	assert.Zero(t, lc.count("reconnecting"))
}

// startServer serves a siogo server built in the test (for what the
// testapp contract does not cover: headers, transports), wrapped by mw
// when given.
func startServer(t *testing.T, cfg socketio.Config, mw func(http.Handler) http.Handler) (*socketio.Server, string) {
	t.Helper()
	cfg.Logger = discardLogger()
	srv := socketio.NewServer(cfg)
	require.NoError(t, srv.Of("").OnRaw("echo", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		if ack != nil {
			_ = ack(rawArgs(args)...)
		}
	}))
	var h http.Handler = srv
	if mw != nil {
		h = mw(srv)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	return srv, hs.URL
}

func rawArgs(args []json.RawMessage) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

// TestTransportFallback: a transport that cannot be opened is skipped for
// the next; transports the server does not offer are never tried.
func TestTransportFallback(t *testing.T) {
	t.Parallel()
	var wsTried atomic.Int32
	_, u := startServer(t, socketio.Config{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/websocket/") {
				wsTried.Add(1)
				http.Error(w, "no websockets behind this proxy", http.StatusBadGateway)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	c := dial(t, u, "", &Options{Transports: []string{WebSocket, JSONPPolling, XHRPolling}})
	assert.Equal(t, JSONPPolling, c.Transport())
	assert.Equal(t, int32(1), wsTried.Load())
	got, err := c.EmitWithAck(ctxFor(t), "echo", "fell back")
	require.NoError(t, err)
	assert.JSONEq(t, `["fell back"]`, argsJSON(got))

	// Only advertised transports are tried.
	_, u2 := startServer(t, socketio.Config{Transports: []string{"xhr-polling", "htmlfile"}}, nil)
	c2 := dial(t, u2, "", &Options{Transports: []string{WebSocket, JSONPPolling, XHRPolling}})
	assert.Equal(t, XHRPolling, c2.Transport())
	_, err = tryDial(t, u2, "", &Options{Transports: []string{WebSocket, JSONPPolling}})
	assert.ErrorIs(t, err, ErrNoTransport)
	assert.EqualError(t, err, "client: no usable transport: want websocket,jsonp-polling, the server offers xhr-polling,htmlfile")

	// Every transport failing: each reason is named.
	_, err = tryDial(t, u, "", &Options{Transports: []string{WebSocket}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "websocket")
	assert.Contains(t, err.Error(), "502")
}

// TestHeadersAndCookies: Options.Header and the HTTP client's cookie jar
// go with the handshake and every transport request; cookies the server
// sets in the handshake come back.
func TestHeadersAndCookies(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	bad := map[string]string{} // path -> what was missing
	seen := map[string]int{}   // transport requests seen
	_, u := startServer(t, socketio.Config{
		Authorize: func(_ context.Context, hs *socketio.Handshake) (any, error) {
			c, err := (&http.Request{Header: hs.Headers}).Cookie("session")
			if hs.Headers.Get("X-Auth") == "yes" && err == nil && c.Value == "abc" {
				return nil, nil
			}
			return nil, socketio.ErrUnauthorized
		},
	}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
			if len(parts) == 2 { // the handshake
				http.SetCookie(w, &http.Cookie{Name: "sticky", Value: "node-1", Path: "/"})
			}
			if len(parts) == 4 { // a transport request
				mu.Lock()
				seen[parts[2]]++
				if r.Header.Get("X-Auth") != "yes" {
					bad[r.Method+" "+parts[2]] = "X-Auth header"
				}
				if c, err := r.Cookie("sticky"); err != nil || c.Value != "node-1" {
					bad[r.Method+" "+parts[2]] = "sticky cookie"
				}
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	})
	for _, tr := range allTransports {
		t.Run(tr, func(t *testing.T) {
			jar, err := cookiejar.New(nil)
			require.NoError(t, err)
			base, _ := url.Parse(u)
			jar.SetCookies(base, []*http.Cookie{{Name: "session", Value: "abc"}})
			httpTr := &http.Transport{}
			t.Cleanup(httpTr.CloseIdleConnections) // runs after the client's Close
			opts := &Options{
				Header:     http.Header{"X-Auth": {"yes"}},
				HTTPClient: &http.Client{Jar: jar, Transport: httpTr},
			}
			c := dial(t, u, tr, opts)
			got, err := c.EmitWithAck(ctxFor(t), "echo", "with headers")
			require.NoError(t, err)
			assert.JSONEq(t, `["with headers"]`, argsJSON(got))

			// Without the header the handshake is refused.
			_, err = tryDial(t, u, tr, &Options{HTTPClient: &http.Client{Jar: jar, Transport: httpTr}})
			assert.ErrorIs(t, err, ErrUnauthorized)
		})
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, bad)
	for _, tr := range allTransports {
		assert.Positive(t, seen[tr], "no %s request seen", tr)
	}
}

// TestDefaultClientKeepsCookies: without Options.HTTPClient, a cookie the
// handshake sets (a sticky load balancer's) comes back on every transport
// request.
func TestDefaultClientKeepsCookies(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	missing := map[string]int{}
	seen := map[string]int{}
	_, u := startServer(t, socketio.Config{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
			if len(parts) == 2 {
				http.SetCookie(w, &http.Cookie{Name: "lb", Value: "node-7", Path: "/"})
			}
			if len(parts) == 4 {
				mu.Lock()
				seen[parts[2]]++
				if c, err := r.Cookie("lb"); err != nil || c.Value != "node-7" {
					missing[r.Method+" "+parts[2]]++
				}
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	})
	for _, tr := range allTransports {
		c := dial(t, u, tr, nil)
		got, err := c.EmitWithAck(ctxFor(t), "echo", tr)
		require.NoError(t, err)
		assert.JSONEq(t, `["`+tr+`"]`, argsJSON(got))
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, missing)
	assert.Len(t, seen, 3)
}

// TestCloseFlushes: what was emitted before Close is sent before the
// session ends.
func TestCloseFlushes(t *testing.T) {
	t.Parallel()
	app := apptest.StartTestapp(t)
	for _, tr := range allTransports {
		t.Run(tr, func(t *testing.T) {
			ctx := ctxFor(t)
			watcher := dial(t, app.URL+"/chat", WebSocket, nil)
			in := newInbox(watcher.Namespace())
			room := "flush-" + tr
			_, err := watcher.EmitWithAck(ctx, "join", room)
			require.NoError(t, err)
			c := dial(t, app.URL+"/chat", tr, nil)
			for i := range 3 {
				require.NoError(t, c.Emit("to-room", room, i))
			}
			require.NoError(t, c.Close())
			for i := range 3 {
				assert.JSONEq(t, fmt.Sprintf("[%d]", i), argsJSON(in.next(t, "room").args))
			}
		})
	}
}

func TestCloseSemantics(t *testing.T) {
	t.Parallel()
	app := apptest.StartTestapp(t)
	ctx := ctxFor(t)

	t.Run("pending acks fail", func(t *testing.T) {
		lc := newLifecycle()
		c := dial(t, app.URL, WebSocket, lc.options(nil))
		pending := make(chan error, 1)
		go func() {
			_, err := c.EmitWithAck(ctx, "never-acked") // no handler: no ack
			pending <- err
		}()
		waitAckSent(t, c)
		require.NoError(t, c.Close())
		assert.ErrorIs(t, <-pending, ErrClosed)
		assert.ErrorIs(t, c.Emit("echo"), ErrClosed)
		_, err := c.EmitWithAck(ctx, "echo")
		assert.ErrorIs(t, err, ErrClosed)
		assert.ErrorIs(t, c.Err(), ErrClosed)
		assert.NoError(t, c.Close(), "Close twice")
		h := lc.wait(t, "disconnect", "")
		assert.ErrorIs(t, h.err, ErrClosed)
		select {
		case <-c.Done():
		default:
			t.Fatal("Done not closed")
		}
	})

	t.Run("close from a handler", func(t *testing.T) {
		c := dial(t, app.URL, XHRPolling, nil)
		closed := make(chan error, 1)
		require.NoError(t, c.On("echo", func(string) { closed <- c.Close() }))
		require.NoError(t, c.Emit("echo", "bye"))
		select {
		case err := <-closed:
			assert.NoError(t, err)
		case <-time.After(waitFor):
			t.Fatal("Close from a handler did not return")
		}
		<-c.Done()
	})

	t.Run("handler panics are reported", func(t *testing.T) {
		lc := newLifecycle()
		c := dial(t, app.URL, WebSocket, lc.options(nil))
		require.NoError(t, c.On("echo", func(string) { panic("boom") }))
		require.NoError(t, c.Emit("echo", "x"))
		h := lc.wait(t, "error")
		assert.ErrorContains(t, h.err, "boom")
		// A typed handler whose argument does not decode.
		require.NoError(t, c.On("echo", func(n int) {}))
		require.NoError(t, c.Emit("echo", "not a number"))
		h = lc.wait(t, "error")
		assert.ErrorContains(t, h.err, `event "echo"`)
		got, err := c.EmitWithAck(ctx, "echo", "fine")
		require.NoError(t, err)
		assert.JSONEq(t, `["fine"]`, argsJSON(got))
	})

	t.Run("ack timeout", func(t *testing.T) {
		c := dial(t, app.URL, WebSocket, nil)
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.EmitWithAck(short, "never-acked")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		got, err := c.EmitWithAck(ctx, "echo", "next")
		require.NoError(t, err)
		assert.JSONEq(t, `["next"]`, argsJSON(got))
	})
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	ctx := ctxFor(t)
	_, err := Dial(ctx, "ftp://x/", nil)
	assert.ErrorContains(t, err, "scheme")
	_, err = Dial(ctx, "http:///chat", nil)
	assert.ErrorContains(t, err, "no host")
	_, err = Dial(ctx, "http://127.0.0.1:1/", &Options{Transports: []string{"flashsocket"}})
	assert.ErrorContains(t, err, `transport "flashsocket" is not supported`)

	// Nothing listening.
	addr := apptest.FreeAddr(t)
	_, err = Dial(ctx, "http://"+addr, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "handshake")
	assert.Contains(t, err.Error(), "refused")

	// ctx bounds Dial.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, u := startServer(t, socketio.Config{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(waitFor):
			}
		})
	})
	start := time.Now()
	_, err = Dial(short, u, nil)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.True(t, errors.Is(err, context.DeadlineExceeded))
}

// waitAckSent waits until an EmitWithAck of c has been handed to the
// session's writer, so that what ends the session now fails it as sent.
func waitAckSent(t *testing.T, c *Client) {
	t.Helper()
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.acks {
			if p.sentOn != nil {
				return true
			}
		}
		return false
	}, waitFor, 5*time.Millisecond, "no EmitWithAck was sent")
}
