package sioredis

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sioclient "github.com/siogo/siogo/client"
	"github.com/siogo/siogo/socketio"
)

// goClient is a client of package client (0.9 or v5) connected to /chat
// of a node, recording the events it receives as "name args-as-JSON".
type goClient struct {
	ns     *sioclient.Namespace
	events chan string
}

// dialGo connects a Go client of proto to ns of n and joins it to rooms.
func (n *node) dialGo(proto sioclient.Protocol, ns string, rooms ...string) *goClient {
	t := n.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := sioclient.Dial(ctx, n.hs.URL+ns, &sioclient.Options{Protocol: proto})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	g := &goClient{ns: c.Namespace(), events: make(chan string, 64)}
	g.ns.OnAny(func(event string, args []json.RawMessage) {
		if args == nil {
			args = []json.RawMessage{}
		}
		b, _ := json.Marshal(args)
		g.events <- event + " " + string(b)
	})
	require.NoError(t, g.ns.WaitConnected(ctx))
	for _, r := range rooms {
		ack, err := g.ns.EmitWithAck(ctx, "join", r)
		require.NoError(t, err)
		require.Equal(t, "[true]", string(mustJSON(ack)))
	}
	return g
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (g *goClient) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-g.events:
		require.Equal(t, want, got)
	case <-time.After(waitFor):
		t.Fatalf("no event within %v; want %s", waitFor, want)
	}
}

func (g *goClient) expectNothing(t *testing.T) {
	t.Helper()
	select {
	case got := <-g.events:
		t.Fatalf("unexpected event %s", got)
	case <-time.After(quiet):
	}
}

// rawV5 is a Socket.IO v5 client on a raw websocket (Engine.IO v4),
// connected to /chat: it shows the frames as they are, so a test can see
// that an attachment arrives as a binary frame.
type rawV5 struct {
	t    testing.TB
	conn *websocket.Conn
	sid  string // the socket id in /chat
}

func (n *node) dialRawV5(rooms ...string) *rawV5 {
	t := n.t
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(n.wsURL+"/socket.io/?EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	c := &rawV5{t: t, conn: conn}
	_, open := c.next()
	require.True(t, strings.HasPrefix(open, "0{"), "open packet %q", open)
	c.send("40/chat,")
	_, ok := c.next()
	require.True(t, strings.HasPrefix(ok, `40/chat,{"sid":"`), "connect answer %q", ok)
	var answer struct{ Sid string }
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(ok, "40/chat,")), &answer))
	c.sid = answer.Sid
	for i, r := range rooms {
		id := string(rune('1' + i))
		c.send(`42/chat,` + id + `["join",` + string(mustJSON(r)) + `]`)
		_, ack := c.next()
		require.Equal(t, `43/chat,`+id+`[true]`, ack)
	}
	return c
}

func (c *rawV5) send(s string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, []byte(s)))
}

// next returns the next frame but pings, which it answers.
func (c *rawV5) next() (int, string) {
	c.t.Helper()
	for {
		require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(waitFor)))
		typ, b, err := c.conn.ReadMessage()
		require.NoError(c.t, err)
		if typ == websocket.TextMessage && string(b) == "2" {
			c.send("3")
			continue
		}
		return typ, string(b)
	}
}

// newEmitter makes an emitter on r with the test nodes' prefix.
func newEmitter(t *testing.T, r *redisServer) *Emitter {
	t.Helper()
	e, err := NewEmitter(Config{Addr: r.addr(), Prefix: "test", Password: r.password})
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// TestEmitterReachesBothNodes: an emitter, with no server, reaches the
// room's members on two nodes, 0.9 and v5 clients alike, honoring except;
// a binary argument reaches v5 clients as an attachment (a binary
// frame) and 0.9 clients as base64.
func TestEmitterReachesBothNodes(t *testing.T) {
	r := startRedis(t)
	n1 := newNode(t, r, "n1", nodeOpts{})
	n2 := newNode(t, r, "n2", nodeOpts{})
	a := n1.dialGo(sioclient.Protocol09, "/chat", "r")
	b := n1.dialGo(sioclient.ProtocolV5, "/chat", "r")
	c := n2.dialGo(sioclient.Protocol09, "/chat", "r")
	d := n2.dialGo(sioclient.ProtocolV5, "/chat", "r")
	out := n2.dialGo(sioclient.ProtocolV5, "/chat")
	raw := n2.dialRawV5("r")
	e := newEmitter(t, r)
	ctx := context.Background()

	require.NoError(t, e.Of("/chat").To("r").Except(b.ns.ID()).Emit(ctx, "pushed", map[string]int{"n": 1}, "two"))
	for _, g := range []*goClient{a, c, d} {
		g.expect(t, `pushed [{"n":1},"two"]`)
	}
	_, f := raw.next()
	require.Equal(t, `42/chat,["pushed",{"n":1},"two"]`, f)

	require.NoError(t, e.Of("chat").To("r").Except(a.ns.ID(), raw.sid).Emit(ctx, "bin", []byte{1, 2, 3}, map[string]any{"k": []byte{4}}))
	for _, g := range []*goClient{b, c, d} {
		g.expect(t, `bin ["AQID",{"k":"BA=="}]`)
	}
	require.NoError(t, e.Of("/chat").To(raw.sid).Emit(ctx, "bin", []byte{1, 2, 3}))
	typ, f := raw.next()
	require.Equal(t, websocket.TextMessage, typ)
	require.Equal(t, `451-/chat,["bin",{"_placeholder":true,"num":0}]`, f)
	typ, f = raw.next()
	require.Equal(t, websocket.BinaryMessage, typ)
	require.Equal(t, "\x01\x02\x03", f)

	// Publish (the Publisher form) and a whole namespace.
	require.NoError(t, e.Publish(ctx, socketio.PublishRequest{Namespace: "/chat", Event: "all", Args: []json.RawMessage{json.RawMessage(`[1]`)}}))
	for _, g := range []*goClient{a, b, c, d, out} {
		g.expect(t, `all [[1]]`)
	}
	_, f = raw.next()
	require.Equal(t, `42/chat,["all",[1]]`, f)
	for _, g := range []*goClient{a, b, c, d, out} {
		g.expectNothing(t)
	}
	for _, n := range []*node{n1, n2} {
		assert.Zero(t, n.cluster.Stats().Malformed, n.name)
	}
}

// TestEmitterOrderAndDefaultNamespace: pushes of one goroutine arrive in
// order; "" and "/" are the default namespace.
func TestEmitterOrderAndDefaultNamespace(t *testing.T) {
	r := startRedis(t)
	n1 := newNode(t, r, "n1", nodeOpts{})
	g := n1.dialGo(sioclient.ProtocolV5, "/", "r")
	e := newEmitter(t, r)
	ctx := context.Background()
	for i := range 50 {
		ns := ""
		if i%2 == 1 {
			ns = "/"
		}
		require.NoError(t, e.Of(ns).To("r").Emit(ctx, "seq", i))
	}
	for i := range 50 {
		g.expect(t, "seq ["+string(mustJSON(i))+"]")
	}
}

// TestEmitterRefuses: what the emitter refuses before Redis sees it.
func TestEmitterRefuses(t *testing.T) {
	r := startRedis(t)
	e := newEmitter(t, r)
	ctx := context.Background()
	for name, err := range map[string]error{
		"reserved":   e.Of("/chat").Emit(ctx, "connect"),
		"empty":      e.Of("/chat").Emit(ctx, ""),
		"empty room": e.Of("/chat").To("").Emit(ctx, "e"),
		"bad arg":    e.Publish(ctx, socketio.PublishRequest{Event: "e", Args: []json.RawMessage{json.RawMessage(`{`)}}),
		"too large":  e.Of("").Emit(ctx, "e", strings.Repeat("x", maxMessageBytes)),
	} {
		assert.ErrorIs(t, err, socketio.ErrInvalidMessage, name)
	}
	assert.Error(t, e.Of("").Emit(ctx, "e", func() {}), "an argument json cannot encode")
}

// TestEmitterErrors: configuration, an unreachable or refusing Redis,
// Redis going away, Close.
func TestEmitterErrors(t *testing.T) {
	_, err := NewEmitter(Config{})
	require.Error(t, err, "Addr is required")

	r := startRedisWith(t, "pw", "--requirepass", "pw")
	_, err = NewEmitter(Config{Addr: r.addr(), Password: "wrong"})
	require.ErrorIs(t, err, ErrAuth)

	e := newEmitter(t, r)
	ctx := context.Background()
	require.NoError(t, e.Of("").Emit(ctx, "e"))
	r.kill()
	err = e.Of("").Emit(ctx, "e")
	require.ErrorIs(t, err, ErrUnavailable)
	_, err = NewEmitter(Config{Addr: r.addr(), Password: "pw"})
	require.Error(t, err, "Redis is gone")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	require.Error(t, e.Of("").Emit(canceled, "e"))

	require.NoError(t, e.Close())
	require.NoError(t, e.Close())
	require.ErrorIs(t, e.Of("").Emit(ctx, "e"), ErrClosed)
}

// TestPublishHandlerOverEmitter: the HTTP publish API over an Emitter
// reaches clients on both nodes; a wrong token reaches nobody.
func TestPublishHandlerOverEmitter(t *testing.T) {
	r := startRedis(t)
	n1 := newNode(t, r, "n1", nodeOpts{})
	n2 := newNode(t, r, "n2", nodeOpts{})
	a := n1.dialGo(sioclient.Protocol09, "/chat", "r")
	b := n2.dialGo(sioclient.ProtocolV5, "/chat", "r")
	h, err := socketio.NewPublishHandler(newEmitter(t, r), socketio.PublishConfig{Token: "tok", Logger: discardLogger})
	require.NoError(t, err)
	hs := httptest.NewServer(h)
	defer hs.Close()
	post := func(token, body string) int {
		req, err := http.NewRequest(http.MethodPost, hs.URL, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	body := `{"namespace":"/chat","rooms":["r"],"event":"pushed","args":[{"from":"http"}]}`
	require.Equal(t, http.StatusAccepted, post("tok", body))
	a.expect(t, `pushed [{"from":"http"}]`)
	b.expect(t, `pushed [{"from":"http"}]`)
	require.Equal(t, http.StatusUnauthorized, post("nope", body))
	require.Equal(t, http.StatusBadRequest, post("tok", `{"namespace":"/chat","event":"disconnect"}`))
	a.expectNothing(t)
	b.expectNothing(t)

	r.kill()
	require.Equal(t, http.StatusServiceUnavailable, post("tok", body), "Redis down")
}

// TestDocumentedWireFormat: a broadcast written byte by byte as the
// package documentation describes it ("Emitting from other processes"),
// published with a plain PUBLISH, reaches the clients: what an emitter in
// another language does.
func TestDocumentedWireFormat(t *testing.T) {
	r := startRedis(t)
	n1 := newNode(t, r, "n1", nodeOpts{})
	g := n1.dialGo(sioclient.ProtocolV5, "/chat", "r")
	str := func(b []byte, s string) []byte { return append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	b := []byte{2, 0}        // version, flags
	b = str(b, "other-lang") // sender id
	b = str(b, "/chat")      // namespace
	b = append(b, 1)         // one room
	b = str(b, "r")          //
	b = append(b, 0)         // no excepted ids
	b = append(b, 1)         // kind: event
	b = str(b, "pushed")     // event
	b = append(b, 2)         // two arguments
	b = str(b, `{"n":1}`)    //
	b = str(b, `"x"`)        // (no payload: no attachments)
	_, err := r.do("PUBLISH", broadcastChannel("test", "/chat", socketio.BroadcastOptions{Rooms: []string{"r"}}), b)
	require.NoError(t, err)
	g.expect(t, `pushed [{"n":1},"x"]`)

	// The same with the attachment placed by a placeholder.
	b = []byte{2, 0}
	b = str(b, "other-lang")
	b = str(b, "/chat")
	b = append(b, 0, 0, 1) // no rooms, no excepted ids, an event
	b = str(b, "bin")
	b = append(b, 1)
	b = str(b, `{"_placeholder":true,"num":0}`)
	b = append(b, 1)
	b = str(b, "\x00\xff")
	_, err = r.do("PUBLISH", broadcastChannel("test", "/chat", socketio.BroadcastOptions{}), b)
	require.NoError(t, err)
	g.expect(t, `bin ["AP8="]`)
	require.Zero(t, n1.cluster.Stats().Malformed)
}

// TestDocumentedExampleBytes: the example of "Emitting from other
// processes" is what encodeMessage writes.
func TestDocumentedExampleBytes(t *testing.T) {
	want := "\x02\x00\x02e1\x05/chat\x01\x01r\x00\x01\x02hi\x01\x011"
	require.Len(t, want, 22)
	got := encodeMessage("e1", socketio.BroadcastOptions{Rooms: []string{"r"}},
		&socketio.Message{Namespace: "/chat", Kind: socketio.MessageEvent, Event: "hi", Args: []json.RawMessage{json.RawMessage("1")}})
	require.Equal(t, []byte(want), got)
}

// TestEmitterRoomOps: an emitter makes sockets on every node join and
// leave rooms, disconnects them, and sends server events to the nodes'
// handlers; no node answers it (it waits for nothing and reads nothing).
func TestEmitterRoomOps(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newOpsNode(t, r, "n1"), newOpsNode(t, r, "n2")
	ann := dialPeer(t, n1, sioclient.ProtocolV5, "ann", true)
	bob := dialPeer(t, n2, sioclient.Protocol09, "bob", true)
	cat := dialPeer(t, n2, sioclient.ProtocolV5, "cat", true)
	for _, p := range []*peer{ann, bob, cat} {
		p.join("lobby")
	}
	var mu sync.Mutex
	var events []string
	for _, n := range []*node{n1, n2} {
		n.srv.Of("").OnServerEvent("sync", func(args []json.RawMessage) {
			mu.Lock()
			events = append(events, n.name+" "+raw(args))
			mu.Unlock()
		})
	}
	e := newEmitter(t, r)
	answers := watchChannel(t, r, "{test:node:"+e.node+"}:ops") // where answers to it would go
	ctx := context.Background()
	members := func(room string) func() ([]string, error) {
		return func() ([]string, error) {
			ids, err := n1.srv.Of("").Clients(room)
			slices.Sort(ids)
			return ids, err
		}
	}

	require.NoError(t, e.Of("").To("lobby").Except(cat.id).Join(ctx, "vip", "gold"))
	eventuallyEqual(t, peerIDs(ann, bob), members("vip"), "the lobby but cat joined vip, on both nodes")
	eventuallyEqual(t, peerIDs(ann, bob), members("gold"))
	require.NoError(t, e.Of("/").To(ann.id).Leave(ctx, "vip"))
	eventuallyEqual(t, peerIDs(bob), members("vip"), "ann left vip")
	eventuallyEqual(t, peerIDs(ann, bob), members("gold"), "not gold")

	require.NoError(t, e.Of("").ServerEmit(ctx, "sync", "x", 1))
	eventuallyEqual(t, []string{`n1 ["x",1]`, `n2 ["x",1]`}, func() ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(events)
		slices.Sort(out)
		return out, nil
	}, "both nodes' handlers")

	require.NoError(t, e.Of("").To("gold").Except(ann.id).Disconnect(ctx, true))
	select {
	case <-bob.gone:
	case <-time.After(waitFor):
		t.Fatal("bob was not disconnected")
	}
	eventuallyEqual(t, peerIDs(ann), members("gold"), "bob is gone")
	eventuallyEqual(t, peerIDs(ann, cat), members("lobby"))

	assert.Never(t, func() bool { return len(answers()) > 0 }, 500*time.Millisecond, tick, "no node answers an emitter")
	for _, n := range []*node{n1, n2} {
		assert.Zero(t, n.cluster.Stats().Malformed, n.name)
	}

	// Refused before anything is published.
	assert.ErrorIs(t, e.Of("").To("lobby").Join(ctx), socketio.ErrInvalidMessage, "no room")
	assert.ErrorIs(t, e.Of("").Join(ctx, ann.id), socketio.ErrReservedRoom)
	assert.ErrorIs(t, e.Of("").To("lobby").ServerEmit(ctx, "sync"), socketio.ErrInvalidMessage, "rooms")
	assert.ErrorIs(t, e.Of("").ServerEmit(ctx, "connect"), socketio.ErrReservedEvent)
	assert.ErrorIs(t, e.Of("").ServerEmit(ctx, "sync", []byte{1}), socketio.ErrInvalidMessage, "binary")
	require.NoError(t, e.Close())
	assert.ErrorIs(t, e.Of("").Join(ctx, "x"), ErrClosed)
}
