package sioredis

// Test harness: a real redis-server per test, several socketio.Server
// nodes in this process (each behind httptest, each with its own Cluster on
// that Redis), and clients speaking the Socket.IO 0.9 wire protocol over
// gorilla/websocket. No mocks.

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/testtools"
	"github.com/siogo/siogo/socketio"
)

const (
	// waitFor bounds conditions polled with eventually; expected waits are
	// far shorter.
	waitFor = 5 * time.Second
	tick    = 10 * time.Millisecond
	// quiet is how long a test watches for something that must not happen.
	quiet = 200 * time.Millisecond
	// testTTL is the node TTL of the tests: liveness refreshed every 333 ms.
	testTTL = time.Second
)

var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// testLogger logs through t when -v is given, so failures can be read.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return discardLogger
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// redisServer is a redis-server process started by a test.
type redisServer struct {
	t    testing.TB
	bin  string // redis-server's path
	port int
	dir  string
	// args are added to redis-server's command line (--requirepass...);
	// password authenticates do and the PING of start.
	args     []string
	password string
	// conf, if set, is the content of a configuration file written to
	// dir (once: a Sentinel rewrites its own) and passed to redis-server
	// first; args then holds --sentinel for a Sentinel.
	conf string
	// tls, if set, makes the server listen with TLS only (certificates
	// in certDir) and the helpers dial it with this client configuration.
	tls     *tls.Config
	certDir string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// startRedis starts a redis-server without persistence on a free port and
// kills it when the test ends. A missing redis-server skips the test, or
// fails it under CI or make test (see testtools).
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	return startRedisWith(t, "")
}

// startRedisWith starts redis-server with extra command-line arguments;
// password, if not empty, is what do authenticates with.
func startRedisWith(t testing.TB, password string, args ...string) *redisServer {
	t.Helper()
	return startRedisServer(t, &redisServer{password: password, args: args})
}

// startRedisServer starts r, configured but for its port and directory.
func startRedisServer(t testing.TB, r *redisServer) *redisServer {
	t.Helper()
	r.bin = testtools.Require(t, "redis-server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	r.t, r.port, r.dir = t, port, t.TempDir()
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// start runs redis-server on r's port and waits until it answers PING.
func (r *redisServer) start() {
	r.t.Helper()
	var err error
	for range 3 {
		if err = r.tryStart(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // the port may still be held
	}
	r.t.Fatalf("cannot start redis-server on %s: %v", r.addr(), err)
}

func (r *redisServer) tryStart() error {
	ports := []string{"--port", strconv.Itoa(r.port)}
	if r.tls != nil {
		ports = []string{"--port", "0", "--tls-port", strconv.Itoa(r.port),
			"--tls-cert-file", filepath.Join(r.certDir, "server.crt"),
			"--tls-key-file", filepath.Join(r.certDir, "server.key"),
			"--tls-ca-cert-file", filepath.Join(r.certDir, "ca.crt"),
			"--tls-auth-clients", "no"}
	}
	if r.conf != "" {
		conf := filepath.Join(r.dir, "redis.conf")
		if _, err := os.Stat(conf); err != nil {
			if err := os.WriteFile(conf, []byte(r.conf), 0o600); err != nil {
				return err
			}
		}
		ports = append([]string{conf}, ports...)
	}
	cmd := exec.Command(r.bin, append(append(ports,
		"--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir,
		"--loglevel", "warning"), r.args...)...)
	if testing.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case <-exited:
			return errors.New("redis-server exited at once (port taken?)")
		default:
		}
		if c, err := redigo.Dial("tcp", r.addr(), r.dialOptions(100*time.Millisecond)...); err == nil {
			_, err = c.Do("PING")
			c.Close()
			if err == nil {
				r.mu.Lock()
				r.cmd, r.exited = cmd, exited
				r.mu.Unlock()
				return nil
			}
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("redis-server did not answer PING")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill stops redis-server at once (SIGKILL), as a crash would, and waits
// until the process is gone. Its data is lost: it runs without persistence.
func (r *redisServer) kill() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.cmd, r.exited = nil, nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// signal sends sig to redis-server (SIGSTOP makes it hang: connections
// stay open, nothing is answered).
func (r *redisServer) signal(sig os.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		_ = r.cmd.Process.Signal(sig)
	}
}

// dialOptions are the options the helpers dial r with.
func (r *redisServer) dialOptions(timeout time.Duration) []redigo.DialOption {
	opts := []redigo.DialOption{redigo.DialConnectTimeout(timeout), redigo.DialPassword(r.password)}
	if r.tls != nil {
		opts = append(opts, redigo.DialUseTLS(true), redigo.DialTLSConfig(r.tls))
	}
	return opts
}

// do runs one command on a fresh connection.
func (r *redisServer) do(cmd string, args ...any) (any, error) {
	c, err := redigo.Dial("tcp", r.addr(), r.dialOptions(time.Second)...)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Do(cmd, args...)
}

// node is one siogo server of a test cluster.
type node struct {
	t       testing.TB
	name    string
	srv     *socketio.Server
	hs      *httptest.Server
	cluster *Cluster
	wsURL   string
	client  *http.Client
}

type nodeOpts struct {
	prefix string
	ttl    time.Duration
	// sessions makes the Cluster the server's session directory, with the
	// node's address as its NodeAddr.
	sessions bool
	// cfg, if set, edits the Cluster's configuration before New.
	cfg func(*Config)
	// srv, if set, edits the server's configuration before NewServer.
	srv func(*socketio.Config)
}

// newNode starts a server with its own Cluster on r, with the test app.
func newNode(t testing.TB, r *redisServer, name string, o nodeOpts) *node {
	t.Helper()
	if o.ttl == 0 {
		o.ttl = testTTL
	}
	if o.prefix == "" {
		o.prefix = "test"
	}
	// The package's tests run sharded unless they say otherwise (o.cfg).
	ccfg := Config{NodeID: name, Prefix: o.prefix, TTL: o.ttl, Channels: ChannelsSharded, Logger: testLogger(t).With("test_node", name)}
	if r != nil { // nil: o.cfg names the Redis (a Redis Cluster's seeds)
		ccfg.Addr, ccfg.Password, ccfg.TLSConfig = r.addr(), r.password, r.tls
	}
	if o.cfg != nil {
		o.cfg(&ccfg)
	}
	cl, err := New(ccfg)
	require.NoError(t, err)
	testConfigs.Store(cl, ccfg)
	cfg := socketio.Config{Adapter: cl.Adapter, Logger: discardLogger}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	if o.sessions {
		cfg.Sessions, cfg.NodeAddr = cl, ln.Addr().String()
	}
	if o.srv != nil {
		o.srv(&cfg)
	}
	srv := socketio.NewServer(cfg)
	setupApp(srv)
	hs := httptest.NewUnstartedServer(srv)
	_ = hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	tr := &http.Transport{}
	n := &node{
		t: t, name: name, srv: srv, hs: hs, cluster: cl,
		wsURL:  "ws" + strings.TrimPrefix(hs.URL, "http"),
		client: &http.Client{Transport: tr, Timeout: 10 * time.Second},
	}
	t.Cleanup(func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
		tr.CloseIdleConnections()
		_ = cl.Close()
	})
	return n
}

// setupApp registers the test app on the default namespace and "/chat":
//
//	join(room) / leave(room)      -> ack true
//	to-room(room, payload)        -> ns.To(room).Emit("msg", payload)
//	bcast(payload)                -> s.Broadcast().Emit("msg", payload)
//	bcast-room(room, payload)     -> s.Broadcast().To(room).Emit("msg", payload)
//	all(payload)                  -> ns.Emit("msg", payload)
//	seq(room, n)                  -> ns.To(room).Emit("seq", n)
func setupApp(srv *socketio.Server) {
	for _, name := range []string{"", "/chat"} {
		ns := srv.Of(name)
		must(ns.On("join", func(s *socketio.Socket, room string) bool { return s.Join(room) == nil }))
		must(ns.On("leave", func(s *socketio.Socket, room string) bool { return s.Leave(room) == nil }))
		must(ns.On("to-room", func(s *socketio.Socket, room string, payload json.RawMessage) error {
			return ns.To(room).Emit("msg", payload)
		}))
		must(ns.On("bcast", func(s *socketio.Socket, payload json.RawMessage) error {
			return s.Broadcast().Emit("msg", payload)
		}))
		must(ns.On("bcast-room", func(s *socketio.Socket, room string, payload json.RawMessage) error {
			return s.Broadcast().To(room).Emit("msg", payload)
		}))
		must(ns.On("all", func(s *socketio.Socket, payload json.RawMessage) error {
			return ns.Emit("msg", payload)
		}))
		must(ns.On("seq", func(s *socketio.Socket, room string, n int) error {
			return ns.To(room).Emit("seq", n)
		}))
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// client is a Socket.IO 0.9 client on a raw websocket.
type client struct {
	t      testing.TB
	sid    string
	conn   *websocket.Conn
	node   *node // where it is connected
	frames chan string
	done   chan struct{}
	wmu    sync.Mutex
	ackID  int
}

// dial handshakes with n, opens the websocket and reads "1::".
func (n *node) dial() *client {
	n.t.Helper()
	return n.open(n.handshake())
}

// handshake handshakes with n and returns the new session id, without
// opening a transport: the session has no socket yet.
func (n *node) handshake() string {
	n.t.Helper()
	resp, err := n.client.Get(n.hs.URL + "/socket.io/1/")
	require.NoError(n.t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(n.t, err)
	require.Equal(n.t, http.StatusOK, resp.StatusCode, string(body))
	sid, _, ok := strings.Cut(string(body), ":")
	require.True(n.t, ok, "handshake body %q", body)
	return sid
}

// open opens the websocket of a session handshaken with n and reads "1::".
func (n *node) open(sid string) *client {
	n.t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(n.wsURL+"/socket.io/1/websocket/"+sid, nil)
	require.NoError(n.t, err)
	c := &client{t: n.t, sid: sid, conn: conn, node: n, frames: make(chan string, 4096), done: make(chan struct{})}
	go c.read()
	n.t.Cleanup(c.close)
	require.Equal(n.t, "1::", c.next(), "connect packet")
	return c
}

func (c *client) read() {
	defer close(c.done)
	defer close(c.frames)
	for {
		_, b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if string(b) == "2::" {
			continue
		}
		c.frames <- string(b)
	}
}

func (c *client) close() {
	_ = c.conn.Close()
	<-c.done
}

func (c *client) send(frame string) {
	c.t.Helper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte(frame)))
}

type eventJSON struct {
	Name string `json:"name"`
	Args []any  `json:"args"`
}

// event encodes an event packet for endpoint ns ("" or "/chat").
func event(ns string, id string, name string, args ...any) string {
	b, err := json.Marshal(eventJSON{Name: name, Args: args})
	if err != nil {
		panic(err)
	}
	return "5:" + id + ":" + ns + ":" + string(b)
}

// emit sends an event without an ack.
func (c *client) emit(ns, name string, args ...any) { c.send(event(ns, "", name, args...)) }

// call sends an event asking for an ack and waits for it; other frames
// that arrive first are a test failure.
func (c *client) call(ns, name string, args ...any) string {
	c.t.Helper()
	c.ackID++
	id := strconv.Itoa(c.ackID)
	c.send(event(ns, id+"+", name, args...))
	f := c.next()
	want := "6::" + ns + ":" + id + "+"
	require.True(c.t, strings.HasPrefix(f, want), "want ack %q, got %q", want, f)
	return strings.TrimPrefix(f, want)
}

// join joins room in ns and waits for the ack. The ack follows the
// subscription of the channels the join made the node need, confirmed by
// Redis (Adapter.Join waits for it), so the tests may emit at once.
func (c *client) join(ns, room string) {
	c.t.Helper()
	require.Equal(c.t, "[true]", c.call(ns, "join", room))
}

func (c *client) connectNS(ns string) {
	c.t.Helper()
	c.send("1::" + ns)
	require.Equal(c.t, "1::"+ns, c.next())
}

// next returns the next frame (heartbeats skipped), failing after waitFor.
func (c *client) next() string {
	c.t.Helper()
	f, ok := c.nextWithin(waitFor)
	require.True(c.t, ok, "client %s: no frame within %v", c.sid, waitFor)
	return f
}

func (c *client) nextWithin(d time.Duration) (string, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case f, ok := <-c.frames:
		return f, ok
	case <-t.C:
		return "", false
	}
}

// expectMsg waits for the event "msg" in ns with payload.
func (c *client) expectMsg(ns string, payload any) {
	c.t.Helper()
	require.Equal(c.t, msgFrame(ns, "msg", payload), c.next())
}

// expectNothing fails if a frame arrives within quiet.
func (c *client) expectNothing() {
	c.t.Helper()
	if f, ok := c.nextWithin(quiet); ok {
		c.t.Fatalf("client %s: unexpected frame %q", c.sid, f)
	}
}

func msgFrame(ns, name string, payload any) string {
	b, err := json.Marshal(eventJSON{Name: name, Args: []any{payload}})
	if err != nil {
		panic(err)
	}
	return "5::" + ns + ":" + string(b)
}

// ids returns the sorted ids of clients.
func ids(cs ...*client) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.sid
	}
	slices.Sort(out)
	return out
}
