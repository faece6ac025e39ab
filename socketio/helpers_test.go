package socketio

// Test harness: a real Server behind httptest, driven with raw HTTP
// requests and gorilla/websocket client connections. No mocks.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// Generous bounds for "promptly" and for conditions polled with eventually.
// Expected waits are far shorter; these only bound a failing test (the
// tests run with -race beside others on a loaded machine).
const (
	waitFor = 10 * time.Second
	// atOnce bounds what must be answered "at once" rather than held: well
	// above any delay a loaded machine adds, well below the polling
	// duration (5s in longPolls) a held request would wait for.
	atOnce = 2 * time.Second
	tick   = 5 * time.Millisecond
	// quiet is how long a test watches for something that must not happen.
	quiet = 150 * time.Millisecond
)

var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// testServer is a Server mounted at the root of an httptest server.
type testServer struct {
	t      *testing.T
	srv    *Server
	hs     *httptest.Server
	client *http.Client
	wsURL  string

	connMu sync.Mutex
	conns  map[string]http.ConnState // client address -> server-side state

	// sndBuf, if not 0, is the send buffer size (SO_SNDBUF) of the
	// connections accepted from now on.
	sndBuf atomic.Int32
}

// connState is the server's view of the connection from client address addr.
func (ts *testServer) connState(addr string) (http.ConnState, bool) {
	ts.connMu.Lock()
	defer ts.connMu.Unlock()
	st, ok := ts.conns[addr]
	return st, ok
}

// newTestServer starts srv with cfg (a quiet logger unless set); setup
// registers the test's handlers before the server accepts anything.
func newTestServer(t *testing.T, cfg Config, setup func(*Server)) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = discardLogger
	}
	srv := NewServer(cfg)
	if setup != nil {
		setup(srv)
	}
	hs := httptest.NewUnstartedServer(srv)
	tr := &http.Transport{}
	ts := &testServer{
		t:      t,
		srv:    srv,
		hs:     hs,
		client: &http.Client{Transport: tr},
		conns:  make(map[string]http.ConnState),
	}
	hs.Config.ConnState = func(c net.Conn, state http.ConnState) {
		if n := ts.sndBuf.Load(); n != 0 && state == http.StateNew {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetWriteBuffer(int(n))
			}
		}
		ts.connMu.Lock()
		ts.conns[c.RemoteAddr().String()] = state
		ts.connMu.Unlock()
	}
	hs.Start()
	ts.wsURL = "ws" + strings.TrimPrefix(hs.URL, "http")
	t.Cleanup(func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
		tr.CloseIdleConnections()
	})
	return ts
}

// response is what a raw request got back.
type response struct {
	status int
	body   string
	header http.Header
	err    error
	took   time.Duration
}

// request sends one raw request; hdr is a list of name, value pairs.
func (ts *testServer) request(method, path, body string, hdr ...string) response {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, ts.hs.URL+path, rd)
	if err != nil {
		return response{err: err}
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	start := time.Now()
	resp, err := ts.client.Do(req)
	if err != nil {
		return response{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(b), header: resp.Header, err: err, took: time.Since(start)}
}

// do is request that fails the test on a transport error.
func (ts *testServer) do(method, path, body string, hdr ...string) response {
	ts.t.Helper()
	r := ts.request(method, path, body, hdr...)
	require.NoError(ts.t, r.err, "%s %s", method, path)
	return r
}

func (ts *testServer) get(path string, hdr ...string) response {
	ts.t.Helper()
	return ts.do(http.MethodGet, path, "", hdr...)
}

// async runs a request on another goroutine.
func (ts *testServer) async(method, path, body string, hdr ...string) <-chan response {
	ch := make(chan response, 1)
	go func() { ch <- ts.request(method, path, body, hdr...) }()
	return ch
}

// handshake makes a session and returns its id.
func (ts *testServer) handshake(query string) string {
	ts.t.Helper()
	r := ts.get("/socket.io/1/?t=1" + query)
	require.Equal(ts.t, http.StatusOK, r.status, "handshake: %s", r.body)
	sid, _, ok := strings.Cut(r.body, ":")
	require.True(ts.t, ok, "handshake body %q", r.body)
	return sid
}

func transportPath(name, sid string) string { return "/socket.io/1/" + name + "/" + sid }

// poll does an xhr-polling GET and returns its body.
func (ts *testServer) poll(sid string) string {
	ts.t.Helper()
	r := ts.get(transportPath("xhr-polling", sid))
	require.Equal(ts.t, http.StatusOK, r.status)
	return r.body
}

// connectPolling handshakes and does the first xhr-polling GET.
func (ts *testServer) connectPolling(query string) string {
	ts.t.Helper()
	sid := ts.handshake(query)
	require.Equal(ts.t, "1::", ts.poll(sid))
	return sid
}

// post sends a payload with a polling/htmlfile POST and requires "1".
func (ts *testServer) post(name, sid, payload string) {
	ts.t.Helper()
	r := ts.do(http.MethodPost, transportPath(name, sid), payload, "Content-Type", "text/plain;charset=UTF-8")
	require.Equal(ts.t, http.StatusOK, r.status, "POST answered %q", r.body)
	require.Equal(ts.t, "1", r.body)
}

// pollState reads, for synchronisation only, whether a long-poll GET of
// session sid is being held and how many polls the session has seen.
func (ts *testServer) pollState(sid string) (held bool, gen uint64) {
	sess := ts.srv.lookup(sid)
	if sess == nil {
		return false, 0
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.pollHeld, sess.pollGen
}

// waitHeld waits until the gen-th poll of session sid is held.
func (ts *testServer) waitHeld(sid string, gen uint64) {
	ts.t.Helper()
	require.Eventually(ts.t, func() bool {
		held, g := ts.pollState(sid)
		return held && g == gen
	}, waitFor, tick, "poll %d of %s never held", gen, sid)
}

// socket returns the server-side socket of sid in namespace ns.
func (ts *testServer) socket(ns, sid string) *Socket {
	ts.t.Helper()
	var s *Socket
	require.Eventually(ts.t, func() bool {
		s = ts.srv.Of(ns).Socket(sid)
		return s != nil
	}, waitFor, tick, "no socket %s in %q", sid, ns)
	return s
}

// recorder collects what handlers saw, in order.
type recorder struct {
	mu  sync.Mutex
	evs []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.evs = append(r.evs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.evs...)
}

func (r *recorder) count(ev string) int {
	n := 0
	for _, e := range r.list() {
		if e == ev {
			n++
		}
	}
	return n
}

// withPrefix lists the entries starting with prefix.
func (r *recorder) withPrefix(prefix string) []string {
	var out []string
	for _, e := range r.list() {
		if strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// waitCount waits until ev was recorded exactly n times.
func (r *recorder) waitCount(t *testing.T, ev string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return r.count(ev) == n }, waitFor, tick,
		"want %q recorded %d times; have %q", ev, n, r.list())
}

// stays checks that cond holds for the whole quiet period.
func stays(t *testing.T, d time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	require.Never(t, func() bool { return !cond() }, d, tick, msgAndArgs...)
}

// rawArgs turns raw JSON arguments into emit arguments.
func rawArgs(args []json.RawMessage) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

// app registers a small test application on every namespace listed and
// records connects, disconnects and notes as "connect ns sid",
// "disconnect ns sid reason", "note ns sid arg".
//
//	echo(...)    ack with the args, or emit "echo" with them
//	note(s)      record s
//	effect()     emit "effected"
//	x(n)         ack n+1, "ok"
//	boom()       panic
//	shout(...)   emit "shout" with the args to the whole namespace
//	message      sent back with Send
func app(rec *recorder, names ...string) func(*Server) {
	return func(srv *Server) {
		for _, name := range names {
			ns := srv.Of(name)
			name := name
			must := func(err error) {
				if err != nil {
					panic(err)
				}
			}
			ns.OnConnect(func(s *Socket) { rec.add("connect %s %s", name, s.ID()) })
			ns.OnDisconnect(func(s *Socket, reason string) { rec.add("disconnect %s %s %s", name, s.ID(), reason) })
			must(ns.OnRaw("echo", func(s *Socket, args []json.RawMessage, ack AckFunc) {
				if ack != nil {
					_ = ack(rawArgs(args)...)
					return
				}
				_ = s.Emit("echo", rawArgs(args)...)
			}))
			must(ns.On("note", func(s *Socket, v string) { rec.add("note %s %s %s", name, s.ID(), v) }))
			must(ns.On("effect", func(s *Socket) { _ = s.Emit("effected") }))
			must(ns.On("x", func(s *Socket, n int) (int, string) { return n + 1, "ok" }))
			must(ns.On("boom", func(s *Socket) string { panic("boom") }))
			must(ns.OnRaw("shout", func(s *Socket, args []json.RawMessage, ack AckFunc) {
				_ = ns.Emit("shout", rawArgs(args)...)
			}))
			ns.OnMessage(func(s *Socket, text string, ack AckFunc) { _ = s.Send(text) })
		}
	}
}

// eventPacket encodes a client event packet; id is "", "N" or "N+".
func eventPacket(id, endpoint, name string, args ...any) string {
	ev := map[string]any{"name": name}
	if len(args) > 0 {
		ev["args"] = args
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return "5:" + id + ":" + endpoint + ":" + string(b)
}

// framePayload frames packets the way the 0.9 client does, counting
// lengths in UTF-16 code units.
func framePayload(pkts ...string) string {
	var b strings.Builder
	for _, p := range pkts {
		b.WriteString("\ufffd")
		b.WriteString(strconv.Itoa(len(utf16.Encode([]rune(p)))))
		b.WriteString("\ufffd")
		b.WriteString(p)
	}
	return b.String()
}

// decodePayload splits a payload into packets, independently of the
// packet package: lengths are UTF-16 code units.
func decodePayload(t *testing.T, s string) []string {
	t.Helper()
	pkts, err := splitPayload(s)
	require.NoError(t, err)
	return pkts
}

// splitPayload is decodePayload for goroutines other than the test's.
func splitPayload(s string) ([]string, error) {
	if !strings.HasPrefix(s, "\ufffd") {
		return []string{s}, nil
	}
	u := utf16.Encode([]rune(s))
	var out []string
	for i := 0; i < len(u); {
		if u[i] != 0xfffd {
			return out, fmt.Errorf("payload %q: no frame mark at unit %d", s, i)
		}
		i++
		j := i
		for j < len(u) && u[j] >= '0' && u[j] <= '9' {
			j++
		}
		if j == i || j >= len(u) || u[j] != 0xfffd {
			return out, fmt.Errorf("payload %q: bad length field at unit %d", s, i)
		}
		n, err := strconv.Atoi(string(utf16.Decode(u[i:j])))
		if err != nil {
			return out, err
		}
		i = j + 1
		if i+n > len(u) {
			return out, fmt.Errorf("payload %q: length %d too long", s, n)
		}
		out = append(out, string(utf16.Decode(u[i:i+n])))
		i += n
	}
	return out, nil
}

// event is a decoded event packet.
type event struct {
	Name string            `json:"name"`
	Args []json.RawMessage `json:"args"`
}

// parseEvent decodes an event packet "5:ID:ENDPOINT:{...}".
func parseEvent(t *testing.T, pkt, endpoint string) event {
	t.Helper()
	prefix := "5::" + endpoint + ":"
	require.True(t, strings.HasPrefix(pkt, prefix), "want an event on %q, got %q", endpoint, pkt)
	var ev event
	require.NoError(t, json.Unmarshal([]byte(pkt[len(prefix):]), &ev), "event %q", pkt)
	return ev
}

// argString decodes one JSON string argument.
func argString(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	require.NoError(t, json.Unmarshal(raw, &s))
	return s
}

// jsonString is s as a JSON string literal.
func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// jsonpPost sends a jsonp-polling POST carrying payload the way the 0.9
// client's form does: d=<payload as a JSON string>.
func (ts *testServer) jsonpPost(sid, payload string) response {
	ts.t.Helper()
	return ts.do(http.MethodPost, transportPath("jsonp-polling", sid), "d="+url.QueryEscape(jsonString(payload)),
		"Content-Type", "application/x-www-form-urlencoded")
}

var jsonpRe = regexp.MustCompile(`^io\.j\[(\d+)\]\((".*")\);$`)

// unJSONP checks a jsonp answer io.j[N]("...") and returns its payload.
func unJSONP(t *testing.T, body, index string) string {
	t.Helper()
	m := jsonpRe.FindStringSubmatch(body)
	require.NotNil(t, m, "not a jsonp answer: %q", body)
	require.Equal(t, index, m[1])
	var payload string
	require.NoError(t, json.Unmarshal([]byte(m[2]), &payload), "jsonp argument %q", m[2])
	return payload
}

// wsClient is a gorilla/websocket client connection. A reader goroutine
// (unless the client is made not to read) delivers text messages on msgs;
// with pong set it answers heartbeats itself.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	wmu  sync.Mutex
	msgs chan string
	done chan struct{} // closed when the reader stops (connection closed)
	pong bool
}

type wsOptions struct {
	noRead bool // never read (a slow consumer)
	rcvBuf int  // if set, the client socket's kernel receive buffer size
	pong   bool // answer "2::" heartbeats
}

var wsDialer = websocket.Dialer{HandshakeTimeout: 5 * time.Second}

// dialWS opens the websocket transport of session sid.
func (ts *testServer) dialWS(sid string, opts wsOptions) *wsClient {
	ts.t.Helper()
	d := wsDialer
	if opts.rcvBuf > 0 {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, opts.rcvBuf)
			})
			if err != nil {
				return err
			}
			return serr
		}}
		d.NetDialContext = nd.DialContext
	}
	c, resp, err := d.Dial(ts.wsURL+transportPath("websocket", sid), nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	require.NoError(ts.t, err, "websocket dial (response %v)", resp)
	w := &wsClient{t: ts.t, conn: c, msgs: make(chan string, 4096), done: make(chan struct{}), pong: opts.pong}
	ts.t.Cleanup(func() {
		_ = c.Close()
		<-w.done
	})
	if opts.noRead {
		close(w.done)
		return w
	}
	go w.readLoop()
	return w
}

func (ts *testServer) tryDialWS(sid string) (*websocket.Conn, *http.Response, error) {
	c, resp, err := wsDialer.Dial(ts.wsURL+transportPath("websocket", sid), nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return c, resp, err
}

func (w *wsClient) readLoop() {
	defer close(w.done)
	defer close(w.msgs)
	for {
		typ, b, err := w.conn.ReadMessage()
		if err != nil {
			return
		}
		if typ != websocket.TextMessage {
			continue
		}
		if w.pong && string(b) == "2::" {
			_ = w.write("2::")
		}
		w.msgs <- string(b)
	}
}

func (w *wsClient) write(msg string) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_ = w.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return w.conn.WriteMessage(websocket.TextMessage, []byte(msg))
}

// send writes one text message.
func (w *wsClient) send(msg string) {
	w.t.Helper()
	require.NoError(w.t, w.write(msg))
}

// next returns the next message that is not a heartbeat.
func (w *wsClient) next() string {
	w.t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case m, ok := <-w.msgs:
			require.True(w.t, ok, "websocket closed while waiting for a message")
			if m == "2::" {
				continue
			}
			return m
		case <-timeout:
			require.FailNow(w.t, "no websocket message in time")
		}
	}
}

// expect requires the next non-heartbeat message to be want.
func (w *wsClient) expect(want string) {
	w.t.Helper()
	require.Equal(w.t, want, w.next())
}

// silent requires that no non-heartbeat message arrives for d.
func (w *wsClient) silent(d time.Duration) {
	w.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-w.msgs:
			if !ok {
				return
			}
			require.Equal(w.t, "2::", m, "unexpected websocket message")
		case <-timeout:
			return
		}
	}
}

// closed reports whether the server closed the connection.
func (w *wsClient) closed() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// waitClosed waits until the server has closed the connection.
func (w *wsClient) waitClosed() {
	w.t.Helper()
	require.Eventually(w.t, func() bool {
		// Drain so the reader can observe the close.
		for {
			select {
			case _, ok := <-w.msgs:
				if !ok {
					return true
				}
				continue
			default:
			}
			return w.closed()
		}
	}, waitFor, tick, "websocket not closed by the server")
}

// htmlStream is an open htmlfile GET whose body is read in the background.
type htmlStream struct {
	header           http.Header
	transferEncoding []string
	cancel           context.CancelFunc
	done             chan struct{}

	mu  sync.Mutex
	buf strings.Builder
}

// openHTMLFile opens the htmlfile stream of session sid.
func (ts *testServer) openHTMLFile(sid string) *htmlStream {
	ts.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.hs.URL+transportPath("htmlfile", sid), nil)
	require.NoError(ts.t, err)
	resp, err := ts.client.Do(req)
	if err != nil {
		cancel()
		require.NoError(ts.t, err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		_ = resp.Body.Close()
		require.Equal(ts.t, http.StatusOK, resp.StatusCode)
	}
	st := &htmlStream{header: resp.Header, transferEncoding: resp.TransferEncoding, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(st.done)
		defer resp.Body.Close()
		b := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(b)
			st.mu.Lock()
			st.buf.Write(b[:n])
			st.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	ts.t.Cleanup(st.close)
	return st
}

func (st *htmlStream) text() string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.buf.String()
}

// payloads decodes every <script>_("...");</script> chunk received so far.
func (st *htmlStream) payloads(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range htmlChunkRe.FindAllStringSubmatch(st.text(), -1) {
		var p string
		require.NoError(t, json.Unmarshal([]byte(m[1]), &p), "htmlfile chunk %q", m[0])
		out = append(out, p)
	}
	return out
}

// waitPayloads waits until at least n chunks arrived and returns them all.
func (st *htmlStream) waitPayloads(t *testing.T, n int) []string {
	t.Helper()
	require.Eventually(t, func() bool { return len(st.payloads(t)) >= n }, waitFor, tick,
		"want %d htmlfile chunks, have %q", n, st.text())
	return st.payloads(t)
}

func (st *htmlStream) close() {
	st.cancel()
	<-st.done
}
