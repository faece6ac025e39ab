package socketio

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/acl"
)

// fakeEIO stands in for an Engine.IO session (engineio.Conn): it records
// what the v5 session queues, one string per Send call (the packets
// joined by " | "), and closes as the engine does, calling OnClose.
type fakeEIO struct {
	id   string
	sess *session5
	// eio is the Engine.IO revision the session reports (Protocol): 3
	// for a 2.x client's session, else 4.
	eio int

	mu     sync.Mutex
	sends  []string
	closed bool
}

func (c *fakeEIO) ID() string { return c.id }
func (c *fakeEIO) Protocol() int {
	if c.eio == 0 {
		return 4
	}
	return c.eio
}
func (c *fakeEIO) Transport() string { return "websocket" }
func (c *fakeEIO) QueuedBytes() int  { return 0 }
func (c *fakeEIO) Send(pkts [][]byte, _ bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	parts := make([]string, len(pkts))
	for i, p := range pkts {
		parts[i] = string(p)
	}
	c.sends = append(c.sends, strings.Join(parts, " | "))
	return true
}
func (c *fakeEIO) Close() {
	c.mu.Lock()
	was := c.closed
	c.closed = true
	c.mu.Unlock()
	if !was {
		c.sess.OnClose(eioForcedClose)
	}
}

func (c *fakeEIO) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *fakeEIO) sent() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sends...)
}

// wait waits for a Send matching ok and returns it.
func (c *fakeEIO) wait(t *testing.T, ok func(string) bool) string {
	t.Helper()
	var found string
	require.Eventually(t, func() bool {
		for _, f := range c.sent() {
			if ok(f) {
				found = f
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond, "no matching send in %q", c.sent())
	return found
}

func (c *fakeEIO) waitExact(t *testing.T, want string) {
	t.Helper()
	c.wait(t, func(f string) bool { return f == want })
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newServer5 makes a server for v5 session tests, closed at the end.
func newServer5(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Logger = quietLogger()
	srv := NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

// open5 opens a v5 session on srv over a fakeEIO, as the engine would
// for a handshake with query.
func open5(t *testing.T, srv *Server, query string) (*session5, *fakeEIO) {
	t.Helper()
	c := &fakeEIO{id: newSessionID()}
	r := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=websocket&"+query, nil)
	sess, err := srv.open5(c, r)
	require.NoError(t, err)
	c.sess = sess
	return sess, c
}

// connected sends CONNECT for ns (with auth, "" for none) and returns the
// socket id the server gave.
func connect5(t *testing.T, sess *session5, c *fakeEIO, ns, auth string) string {
	t.Helper()
	prefix := "40"
	if ns != "/" {
		prefix += ns + ","
	}
	n := len(c.sent())
	sess.OnMessage(prefix[1:] + auth)
	f := c.wait(t, func(f string) bool { return len(c.sent()) > n && strings.HasPrefix(f, prefix+`{"sid":`) })
	var v struct{ Sid string }
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(f, prefix)), &v))
	return v.Sid
}

func TestSession5ConnectGivesSocketsTheirOwnIDs(t *testing.T) {
	srv := newServer5(t, Config{})
	srv.Of("/chat")
	sess, c := open5(t, srv, "")
	id := connect5(t, sess, c, "/", "")
	assert.NotEqual(t, c.id, id, "the socket id is not the session id")
	assert.True(t, IsSocketID(id))
	sock := srv.Sockets().Socket(id)
	require.NotNil(t, sock)
	assert.Equal(t, id, sock.ID())
	assert.Nil(t, sock.Auth())
	assert.Equal(t, "websocket", sock.Transport())
	ids, err := srv.Sockets().Clients(id)
	require.NoError(t, err)
	assert.Equal(t, []string{id}, ids, "the socket's own room is its id")

	chatID := connect5(t, sess, c, "/chat", `{"token":"t"}`)
	assert.NotEqual(t, id, chatID)
	chat := srv.Of("/chat").Socket(chatID)
	require.NotNil(t, chat)
	assert.JSONEq(t, `{"token":"t"}`, string(chat.Auth()))
	assert.Equal(t, 1, srv.Stats().Protocols["v5"])
	assert.Equal(t, 1, srv.SessionCount())
}

func TestSession5ConnectErrors(t *testing.T) {
	srv := newServer5(t, Config{})
	srv.Of("/private").Authorize(func(ctx context.Context, hs *Handshake, q url.Values) error {
		var auth struct{ Token string }
		_ = json.Unmarshal(ConnectAuth(ctx), &auth)
		if auth.Token != "secret" && q.Get("token") != "secret" {
			return ErrUnauthorized
		}
		return nil
	})
	sess, c := open5(t, srv, "")
	sess.OnMessage("0/nope,")
	c.waitExact(t, `44/nope,{"message":"Invalid namespace"}`)
	sess.OnMessage(`0/private,{"token":"bad"}`)
	c.waitExact(t, `44/private,{"message":"unauthorized"}`)
	id := connect5(t, sess, c, "/private", `{"token":"secret"}`)
	assert.NotNil(t, srv.Of("/private").Socket(id))

	// The handshake query works too, as for 0.9 clients.
	sess2, c2 := open5(t, srv, "token=secret")
	connect5(t, sess2, c2, "/private", "")
}

func TestSession5EventsAndAcks(t *testing.T) {
	srv := newServer5(t, Config{})
	ns := srv.Sockets()
	require.NoError(t, ns.OnRaw("echo", func(s *Socket, args []json.RawMessage, ack AckFunc) {
		if ack != nil {
			_ = ack(ReconstructArgs(args, s.Attachments())...)
			return
		}
		_ = s.Emit("echo", ReconstructArgs(args, s.Attachments())...)
	}))
	require.NoError(t, ns.On("len", func(s *Socket, b []byte) int { return len(b) }))
	require.NoError(t, ns.On("bytes", func(s *Socket, n int) []byte { return make([]byte, n) }))
	sess, c := open5(t, srv, "")
	id := connect5(t, sess, c, "/", "")

	sess.OnMessage(`21["echo",1,"a"]`)
	c.waitExact(t, `431[1,"a"]`)
	sess.OnMessage(`2["echo",{"x":null}]`)
	c.waitExact(t, `42["echo",{"x":null}]`)

	// Binary in, binary out.
	sess.OnMessage(`51-2["echo",{"_placeholder":true,"num":0}]`)
	sess.OnBinary([]byte{1, 2})
	c.waitExact(t, "461-2[{\"_placeholder\":true,\"num\":0}] | \xff\x01\x02")
	sess.OnMessage(`52-["echo","t",{"a":{"_placeholder":true,"num":1},"b":[{"_placeholder":true,"num":0}]}]`)
	sess.OnBinary([]byte("zero"))
	sess.OnBinary([]byte("one"))
	c.waitExact(t, "452-[\"echo\",\"t\",{\"a\":{\"_placeholder\":true,\"num\":0},\"b\":[{\"_placeholder\":true,\"num\":1}]}] | \xffone | \xffzero")
	// A typed handler's []byte parameter gets the bytes, a []byte result
	// goes back as an attachment.
	sess.OnMessage(`51-3["len",{"_placeholder":true,"num":0}]`)
	sess.OnBinary([]byte("12345"))
	c.waitExact(t, `433[5]`)
	sess.OnMessage(`24["bytes",2]`)
	c.waitExact(t, "461-4[{\"_placeholder\":true,\"num\":0}] | \xff\x00\x00")

	// The server asks, the client acks (with binary, for the callback).
	sock := ns.Socket(id)
	require.NotNil(t, sock)
	done := emitWithAckAsync(t, sock, "q", 1)
	c.waitExact(t, `421["q",1]`)
	sess.OnMessage(`31["ans",2]`)
	assert.Equal(t, []json.RawMessage{json.RawMessage(`"ans"`), json.RawMessage(`2`)}, <-done)

	got := make(chan []byte, 1)
	require.NoError(t, sock.EmitWithAckFunc("q2", func(args []json.RawMessage) {
		v := ReconstructArgs(args, sock.Attachments())
		b, _ := v[0].([]byte)
		got <- b
	}))
	c.waitExact(t, `422["q2"]`)
	sess.OnMessage(`61-2[{"_placeholder":true,"num":0}]`)
	sess.OnBinary([]byte{7})
	assert.Equal(t, []byte{7}, <-got)
}

// emitWithAckAsync emits event to sock asking for an ack, and delivers
// the ack's arguments on the channel it returns.
func emitWithAckAsync(t *testing.T, sock *Socket, event string, args ...any) <-chan []json.RawMessage {
	done := make(chan []json.RawMessage, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := sock.EmitWithAck(ctx, event, args...)
		assert.NoError(t, err)
		done <- res
	}()
	return done
}

func TestSession5Disconnects(t *testing.T) {
	srv := newServer5(t, Config{})
	reasons := make(chan string, 10)
	for _, name := range []string{"", "/chat"} {
		ns := srv.Of(name)
		ns.OnDisconnect(func(s *Socket, reason string) { reasons <- s.Namespace().Name() + ":" + reason })
		require.NoError(t, ns.On("kick", func(s *Socket) { s.Disconnect() }))
	}
	sess, c := open5(t, srv, "")
	connect5(t, sess, c, "/", "")
	connect5(t, sess, c, "/chat", "")

	// The client leaves a namespace.
	sess.OnMessage("1/chat,")
	assert.Equal(t, "/chat:"+ReasonPacket, <-reasons)
	// The server kicks the client from the default namespace: DISCONNECT,
	// and the session stays.
	sess.OnMessage(`2["kick"]`)
	c.waitExact(t, `41`)
	assert.Equal(t, ":"+ReasonBooted, <-reasons)
	assert.False(t, c.isClosed())
	// Connecting again works.
	connect5(t, sess, c, "/", "")
	connect5(t, sess, c, "/chat", "")
	sess.OnMessage(`2/chat,["kick"]`)
	c.waitExact(t, `41/chat,`)
	assert.Equal(t, "/chat:"+ReasonBooted, <-reasons)

	// The engine's reasons map to the sockets' reasons.
	sess.OnClose(eioPingTimeout)
	assert.Equal(t, ":"+ReasonHeartbeatTimeout, <-reasons)
	require.Eventually(t, func() bool { return srv.SessionCount() == 0 }, 5*time.Second, time.Millisecond)
	sess, c = open5(t, srv, "")
	connect5(t, sess, c, "/", "")
	sess.OnClose(eioSlowConsumer)
	assert.Equal(t, ":"+ReasonSlowConsumer, <-reasons)
	assert.EqualValues(t, 1, srv.Stats().SlowConsumerCloses)

	// A packet that does not decode closes the session.
	sess, c = open5(t, srv, "")
	connect5(t, sess, c, "/", "")
	sess.OnMessage(`2["echo"`)
	assert.Equal(t, ":"+ReasonParseError, <-reasons)
	assert.True(t, c.isClosed())
	// So does an announced attachment that does not come.
	sess, c = open5(t, srv, "")
	connect5(t, sess, c, "/", "")
	sess.OnMessage(`51-["x",{"_placeholder":true,"num":0}]`)
	sess.OnMessage(`2["x"]`)
	assert.Equal(t, ":"+ReasonParseError, <-reasons)
	assert.True(t, c.isClosed())
}

func TestSession5ConnectTimeout(t *testing.T) {
	srv := newServer5(t, Config{ConnectTimeout: 50 * time.Millisecond})
	_, idle := open5(t, srv, "")
	sess, c := open5(t, srv, "")
	connect5(t, sess, c, "/", "")
	require.Eventually(t, idle.isClosed, 5*time.Second, time.Millisecond)
	stays(t, 200*time.Millisecond, func() bool { return !c.isClosed() }, "a connected session is not closed")
}

func TestSession5ACLAndLimits(t *testing.T) {
	srv := newServer5(t, Config{MaxJSONDepth: 4})
	ns := srv.Of("/acl")
	ns.SetInitialACL(acl.Allow("login"))
	require.NoError(t, ns.On("secret", func(s *Socket) string { return "s3cret" }))
	sess, c := open5(t, srv, "")
	connect5(t, sess, c, "/acl", "")
	sess.OnMessage(`2/acl,5["secret"]`)
	c.waitExact(t, `42/acl,["error","method_access_denied","You do not have access to method \"secret\""]`)
	stays(t, 100*time.Millisecond, func() bool {
		for _, f := range c.sent() {
			if strings.HasPrefix(f, "43") {
				return false
			}
		}
		return true
	}, "a refused call gets no ack")
	sess.OnMessage(`2/acl,["x",[[[[[1]]]]]]`)
	assert.True(t, c.isClosed(), "too deep")
}

// A broadcast to a room of 0.9 and v5 sockets reaches both, encoded once
// per protocol.
func TestMixedRoomBroadcast(t *testing.T) {
	srv := newServer5(t, Config{})
	ns := srv.Sockets()
	old := newConn("old09")
	s09, err := ns.connect(old, nil)
	require.NoError(t, err)
	require.NoError(t, s09.Join("r"))
	var v5 []*fakeEIO
	for range 3 {
		sess, c := open5(t, srv, "")
		id := connect5(t, sess, c, "/", "")
		require.NoError(t, ns.Socket(id).Join("r"))
		v5 = append(v5, c)
	}
	var encodes [numProtocols]atomic.Int32
	hook := func(_ *Message, p protocolID) { encodes[p].Add(1) }
	encodeHook.Store(&hook)
	defer encodeHook.Store(nil)
	require.NoError(t, ns.To("r").Emit("hi", "all", []byte{5}))
	old.waitExact(t, `5:::{"name":"hi","args":["all","BQ=="]}`)
	for _, c := range v5 {
		c.waitExact(t, "451-[\"hi\",\"all\",{\"_placeholder\":true,\"num\":0}] | \xff\x05")
	}
	assert.EqualValues(t, 1, encodes[proto09].Load())
	assert.EqualValues(t, 1, encodes[proto5].Load())
	require.NoError(t, ns.To("r").Send("text"))
	old.waitExact(t, `3:::text`)
	v5[0].waitExact(t, `42["message","text"]`)
}

func TestShutdownClosesV5Sessions(t *testing.T) {
	for _, kick := range []bool{false, true} {
		srv := newServer5(t, Config{ShutdownKick: kick})
		reasons := make(chan string, 1)
		srv.Sockets().OnDisconnect(func(s *Socket, reason string) { reasons <- reason })
		sess, c := open5(t, srv, "")
		connect5(t, sess, c, "/", "")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		require.NoError(t, srv.Shutdown(ctx))
		cancel()
		assert.True(t, c.isClosed())
		assert.Equal(t, ReasonShutdown, <-reasons)
		if kick {
			c.waitExact(t, `41`)
		}
	}
}

func TestServeHTTPUnsupportedEIO(t *testing.T) {
	srv := newServer5(t, Config{})
	for _, q := range []string{"EIO=2&transport=polling", "EIO=5&transport=polling", "EIO=abc", "transport=polling", "EIO="} {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/socket.io/?"+q, nil))
		assert.Equal(t, http.StatusBadRequest, w.Code, q)
		assert.JSONEq(t, `{"code":5,"message":"Unsupported protocol version"}`, w.Body.String(), q)
	}
	for _, path := range []string{"/socket.io/", "/socket.io", "/socket.io/?t=1"} {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, "Welcome to socket.io.", w.Body.String(), path)
	}
}

func TestOpen5Refusals(t *testing.T) {
	srv := newServer5(t, Config{MaxSessions: 1, Authorize: func(_ context.Context, hs *Handshake) (any, error) {
		if hs.Query.Get("deny") == "1" {
			return nil, ErrUnauthorized
		}
		return hs.Query.Get("user"), nil
	}})
	r := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling&deny=1", nil)
	_, err := srv.open5(&fakeEIO{id: "a"}, r)
	assert.Equal(t, errEIOUnauthorized, err)
	sess, _ := open5(t, srv, "user=bob")
	assert.Equal(t, "bob", sess.Handshake().User)
	assert.Equal(t, "bob", sess.Handshake().Query.Get("user"), "the lazily kept query")
	assert.Equal(t, "4", sess.Handshake().Query.Get("EIO"))
	_, err = srv.open5(&fakeEIO{id: "b"}, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4", nil))
	assert.Equal(t, errEIOUnavailable, err, "MaxSessions")
}

// A v5 "message" event (socket.send) reaches OnMessage / OnJSON with one
// argument, OnUnhandled otherwise.
func TestSession5MessageEvents(t *testing.T) {
	srv := newServer5(t, Config{})
	ns := srv.Sockets()
	ns.OnMessage(func(s *Socket, text string, ack AckFunc) { _ = s.Send("text:" + text) })
	ns.OnJSON(func(s *Socket, v json.RawMessage, ack AckFunc) { _ = ack(v) })
	ns.OnUnhandled(func(s *Socket, event string, args []json.RawMessage, ack AckFunc) {
		_ = s.Emit(event+"-back", rawArgs(args)...)
	})
	sess, c := open5(t, srv, "")
	connect5(t, sess, c, "/", "")
	sess.OnMessage(`2["message","hi"]`)
	c.waitExact(t, `42["message","text:hi"]`)
	sess.OnMessage(`23["message",{"a":1}]`)
	c.waitExact(t, `433[{"a":1}]`)
	sess.OnMessage(`2["message",1,"2"]`)
	c.waitExact(t, `42["message-back",1,"2"]`)
}

// A v5 "message" event with binary arguments goes to OnUnhandled, which
// can send it back binary as binary.
func TestSession5BinaryMessageEvent(t *testing.T) {
	srv := newServer5(t, Config{})
	ns := srv.Sockets()
	ns.OnJSON(func(s *Socket, v json.RawMessage, ack AckFunc) { _ = s.SendJSON(v) })
	ns.OnUnhandled(func(s *Socket, event string, args []json.RawMessage, ack AckFunc) {
		_ = s.Emit(event+"-back", ReconstructArgs(args, s.Attachments())...)
	})
	sess, c := open5(t, srv, "")
	connect5(t, sess, c, "/", "")
	sess.OnMessage(`51-["message",{"_placeholder":true,"num":0}]`)
	sess.OnBinary([]byte{1})
	c.waitExact(t, "451-[\"message-back\",{\"_placeholder\":true,\"num\":0}] | \xff\x01")
}

// FuzzSession5 feeds a v5 session arbitrary text and binary packets after
// a CONNECT: it must never panic, and whatever it sends must be
// Engine.IO packets (text "4..." or binary).
func FuzzSession5(f *testing.F) {
	for _, seed := range []struct {
		text string
		bin  []byte
	}{
		{`2["echo",1]`, nil},
		{`21["echo",{"a":[1,2]}]`, nil},
		{`51-2["echo",{"_placeholder":true,"num":0}]`, []byte{1, 2}},
		{`0/chat,{"token":1}`, nil},
		{`1`, nil},
		{`3["x"]`, nil},
		{`61-5[{"_placeholder":true,"num":0}]`, []byte("x")},
		{`2/nope,["a"]`, nil},
		{`4{"message":"x"}`, nil},
	} {
		f.Add(seed.text, seed.bin)
	}
	srv := NewServer(Config{Logger: discardLogger})
	f.Cleanup(srv.Close)
	srv.Of("/chat")
	must := func(err error) {
		if err != nil {
			f.Fatal(err)
		}
	}
	must(srv.Sockets().OnRaw("echo", func(s *Socket, args []json.RawMessage, ack AckFunc) {
		if ack != nil {
			_ = ack(ReconstructArgs(args, s.Attachments())...)
		}
	}))
	must(srv.Sockets().On("typed", func(s *Socket, b []byte, n int) []byte { return b }))
	f.Fuzz(func(t *testing.T, text string, bin []byte) {
		c := &fakeEIO{id: newSessionID()}
		sess, err := srv.open5(c, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4", nil))
		if err != nil {
			t.Fatal(err)
		}
		c.sess = sess
		sess.OnMessage("0")
		sess.OnMessage(text)
		if bin != nil {
			sess.OnBinary(bin)
		}
		sess.OnMessage(`2["typed"]`)
		c.Close()
		for _, f := range c.sent() {
			for _, p := range strings.Split(f, " | ") {
				if p == "" || (p[0] != '4' && p[0] != 0xFF) {
					t.Fatalf("not an Engine.IO message packet: %q", p)
				}
			}
		}
	})
}
