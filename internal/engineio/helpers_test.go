package engineio

// Test helpers: a real HTTP server (httptest) with the engine, raw HTTP
// requests and gorilla/websocket clients. No mocks.

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// wait is how long a test waits for something that should happen: far
// more than it takes, so that a loaded machine does not fail the test.
const wait = 10 * time.Second

// event is what a recording session saw: a message, a binary message or
// its close.
type event struct {
	kind string // "text", "binary", "close"
	data string // the text, the bytes, or the close reason
}

// recorder is a Handler whose sessions record what they get; echo makes
// them send every message back.
type recorder struct {
	echo   bool
	onOpen func(c *Conn, r *http.Request) error // nil: accept

	mu    sync.Mutex
	conns map[string]*Conn
	evs   map[string]chan event
}

func newRecorder(echo bool) *recorder {
	return &recorder{echo: echo, conns: map[string]*Conn{}, evs: map[string]chan event{}}
}

func (h *recorder) Open(c *Conn, r *http.Request) (Session, error) {
	if h.onOpen != nil {
		if err := h.onOpen(c, r); err != nil {
			return nil, err
		}
	}
	ch := make(chan event, 1024)
	h.mu.Lock()
	h.conns[c.ID()] = c
	h.evs[c.ID()] = ch
	h.mu.Unlock()
	return &recSession{h: h, c: c, ch: ch}, nil
}

// conn returns the session sid.
func (h *recorder) conn(t *testing.T, sid string) *Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.conns[sid]
	require.NotNil(t, c, "no session %s", sid)
	return c
}

// next returns the next event of session sid.
func (h *recorder) next(t *testing.T, sid string) event {
	t.Helper()
	h.mu.Lock()
	ch := h.evs[sid]
	h.mu.Unlock()
	require.NotNil(t, ch, "no session %s", sid)
	select {
	case ev := <-ch:
		return ev
	case <-time.After(wait):
		t.Fatalf("session %s: no event within %v", sid, wait)
		return event{}
	}
}

// closed waits for session sid's close and returns its reason, skipping
// messages.
func (h *recorder) closed(t *testing.T, sid string) string {
	t.Helper()
	for {
		ev := h.next(t, sid)
		if ev.kind == "close" {
			return ev.data
		}
	}
}

type recSession struct {
	h      *recorder
	c      *Conn
	ch     chan event
	closed bool
}

func (s *recSession) OnMessage(text string) {
	if s.closed {
		panic("OnMessage after OnClose")
	}
	s.ch <- event{"text", text}
	if s.h.echo {
		s.c.Send([][]byte{AppendText(nil, []byte(text))}, false)
	}
}

func (s *recSession) OnBinary(data []byte) {
	if s.closed {
		panic("OnBinary after OnClose")
	}
	s.ch <- event{"binary", string(data)}
	if s.h.echo {
		s.c.Send([][]byte{AppendBinaryFor(s.c.Protocol(), nil, data)}, false)
	}
}

func (s *recSession) OnClose(reason string) {
	if s.closed {
		panic("OnClose twice")
	}
	s.closed = true
	s.ch <- event{"close", reason}
}

// testServer is an engine behind a real HTTP server.
type testServer struct {
	srv  *Server
	http *httptest.Server
	url  string // the engine's URL: http://127.0.0.1:port/engine.io/
}

// start serves a Server of cfg and h at /engine.io/ until the test ends.
func start(t *testing.T, cfg Config, h Handler) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv := NewServer(cfg, h)
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	return &testServer{srv: srv, http: hs, url: hs.URL + "/engine.io/"}
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request to the engine with query q and returns the answer.
func (ts *testServer) do(t *testing.T, method, q, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.url+"?"+q, rd)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: wait}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{res.StatusCode, res.Header, string(b)}
}

// handshakeInfo is the open packet's JSON.
type handshakeInfo struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t *testing.T, pkt string) handshakeInfo {
	t.Helper()
	require.True(t, strings.HasPrefix(pkt, "0"), "not an open packet: %q", pkt)
	var hi handshakeInfo
	require.NoError(t, json.Unmarshal([]byte(pkt[1:]), &hi), pkt)
	return hi
}

// open makes a polling session and returns its sid.
func (ts *testServer) open(t *testing.T) string {
	t.Helper()
	res := ts.do(t, "GET", "EIO=4&transport=polling", "")
	require.Equal(t, 200, res.status, res.body)
	return parseOpen(t, strings.Split(res.body, "\x1e")[0]).SID
}

// poll GETs session sid.
func (ts *testServer) poll(t *testing.T, sid string) response {
	t.Helper()
	return ts.do(t, "GET", "EIO=4&transport=polling&sid="+sid, "")
}

// post POSTs body to session sid.
func (ts *testServer) post(t *testing.T, sid, body string) response {
	t.Helper()
	return ts.do(t, "POST", "EIO=4&transport=polling&sid="+sid, body)
}

// pollAsync GETs session sid in the background.
func (ts *testServer) pollAsync(t *testing.T, sid string) <-chan response {
	return ts.getAsync("EIO=4&transport=polling&sid=" + sid)
}

// getAsync GETs the engine with query q in the background.
func (ts *testServer) getAsync(q string) <-chan response {
	ch := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest("GET", ts.url+"?"+q, nil)
		res, err := (&http.Client{Timeout: wait}).Do(req)
		if err != nil {
			ch <- response{status: -1, body: err.Error()}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		ch <- response{res.StatusCode, res.Header, string(b)}
	}()
	return ch
}

func recv(t *testing.T, ch <-chan response) response {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(wait):
		t.Fatal("no answer to the poll")
		return response{}
	}
}

// waitPolling waits until session c has a GET waiting.
func waitPolling(t *testing.T, c *Conn) {
	t.Helper()
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.pollActive
	}, wait, time.Millisecond)
}

// wsFrame is one websocket message.
type wsFrame struct {
	binary bool
	data   string
}

// wsClient is a gorilla/websocket client; a goroutine reads its frames.
type wsClient struct {
	conn   *websocket.Conn
	frames chan wsFrame
	done   chan struct{} // closed when the reader ends (the connection closed)
}

// dial opens a websocket to the engine with query q.
func (ts *testServer) dial(t *testing.T, q string) *wsClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(ts.url, "http") + "?" + q
	conn, res, err := websocket.DefaultDialer.Dial(u, nil)
	require.NoError(t, err)
	res.Body.Close()
	c := &wsClient{conn: conn, frames: make(chan wsFrame, 1024), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			typ, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			c.frames <- wsFrame{typ == websocket.BinaryMessage, string(b)}
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-c.done
	})
	return c
}

// next returns the next frame.
func (c *wsClient) next(t *testing.T) wsFrame {
	t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		t.Fatal("websocket closed")
	case <-time.After(wait):
		t.Fatal("no websocket frame")
	}
	return wsFrame{}
}

func (c *wsClient) text(t *testing.T, s string) {
	t.Helper()
	require.NoError(t, c.conn.WriteMessage(websocket.TextMessage, []byte(s)))
}

// waitClosed waits until the server has closed the connection, skipping
// the frames before.
func (c *wsClient) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(wait):
		t.Fatal("websocket not closed")
	}
}
