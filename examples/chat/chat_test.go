package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/packet"
	"github.com/siogo/siogo/socketio"
)

// These tests drive the real server over the wire with a minimal raw
// Socket.IO 0.9 client (handshake, WebSocket, "5:1+::{...}" events), so
// they need no browser and no Node.js.

const waitFor = 5 * time.Second

// startChat serves the chat in-process and returns its base URL.
func startChat(t *testing.T) (string, *socketio.Server) {
	t.Helper()
	c := clients{
		V09: fstest.MapFS{clientFile: {Data: []byte("/* socket.io.js stand-in */")}},
		V4:  fstest.MapFS{client4File: {Data: []byte("/* socket.io.min.js stand-in */")}},
	}
	srv, _, handler := newApp(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(handler)
	t.Cleanup(func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	return hs.URL, srv
}

// rawClient is one Socket.IO session over a WebSocket.
type rawClient struct {
	t    *testing.T
	name string
	conn *websocket.Conn

	writeMu sync.Mutex
	nextID  int

	mu      sync.Mutex
	acks    map[uint64]chan []json.RawMessage
	backlog []packet.Packet // events not consumed yet
	arrived chan struct{}   // signalled when an event arrives
	closed  chan struct{}   // closed when the connection ends
}

// connect handshakes and opens a WebSocket session; name only labels
// failures.
func connect(t *testing.T, base, name string) *rawClient {
	t.Helper()
	res, err := http.Get(base + "/socket.io/1/")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	sid, _, ok := strings.Cut(string(body), ":")
	require.True(t, ok, "handshake answer %q", body)

	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/socket.io/1/websocket/"+sid, nil)
	require.NoError(t, err)
	c := &rawClient{
		t: t, name: name, conn: conn,
		acks:    make(map[uint64]chan []json.RawMessage),
		arrived: make(chan struct{}, 1),
		closed:  make(chan struct{}),
	}
	_, first, err := conn.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, "1::", string(first), "%s: the server did not connect the session", name)
	go c.read()
	t.Cleanup(c.close)
	return c
}

func (c *rawClient) read() {
	defer close(c.closed)
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		p, err := packet.Decode(string(msg))
		if err != nil {
			c.t.Errorf("%s: undecodable packet %q: %v", c.name, msg, err)
			return
		}
		switch p.Type {
		case packet.Heartbeat:
			c.send("2::")
		case packet.Ack:
			c.mu.Lock()
			ch := c.acks[p.AckID]
			delete(c.acks, p.AckID)
			c.mu.Unlock()
			if ch != nil {
				ch <- p.Args
			}
		case packet.Event:
			c.mu.Lock()
			c.backlog = append(c.backlog, p)
			c.mu.Unlock()
			select {
			case c.arrived <- struct{}{}:
			default:
			}
		case packet.Disconnect, packet.Error:
			if p.Type == packet.Error && (p.Endpoint != "" || p.Advice < 0) {
				continue // a namespace refusal, not the end of the session
			}
			c.mu.Lock()
			c.backlog = append(c.backlog, packet.Packet{Type: packet.Event, Name: "(disconnect)"})
			c.mu.Unlock()
			select {
			case c.arrived <- struct{}{}:
			default:
			}
		}
	}
}

func (c *rawClient) close() { _ = c.conn.Close() }

func (c *rawClient) send(frame string) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.conn.WriteMessage(websocket.TextMessage, []byte(frame))
}

// call emits an event asking for an acknowledgement with data and returns
// the ack's first argument.
func (c *rawClient) call(event string, args ...any) json.RawMessage {
	c.t.Helper()
	b, err := json.Marshal(map[string]any{"name": event, "args": args})
	require.NoError(c.t, err)
	c.writeMu.Lock()
	c.nextID++
	id := c.nextID
	c.writeMu.Unlock()
	ch := make(chan []json.RawMessage, 1)
	c.mu.Lock()
	c.acks[uint64(id)] = ch
	c.mu.Unlock()
	c.send(fmt.Sprintf("5:%d+::%s", id, b))
	select {
	case args := <-ch:
		require.Len(c.t, args, 1, "%s: ack of %s", c.name, event)
		return args[0]
	case <-time.After(waitFor):
		c.t.Fatalf("%s: no ack for %s %s", c.name, event, b)
		return nil
	}
}

// ok calls an event that must succeed and decodes its reply into out.
func (c *rawClient) ok(out any, event string, args ...any) {
	c.t.Helper()
	raw := c.call(event, args...)
	var refusal struct{ Error string }
	_ = json.Unmarshal(raw, &refusal)
	require.Empty(c.t, refusal.Error, "%s: %s %v was refused", c.name, event, args)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(raw, out))
	}
}

// refused calls an event that must be refused and returns the reason.
func (c *rawClient) refused(event string, args ...any) string {
	c.t.Helper()
	raw := c.call(event, args...)
	var refusal struct{ Error string }
	require.NoError(c.t, json.Unmarshal(raw, &refusal), "%s: reply %s", c.name, raw)
	require.NotEmpty(c.t, refusal.Error, "%s: %s %v was accepted: %s", c.name, event, args, raw)
	return refusal.Error
}

// login chooses a nickname and joins a room; it waits for "joined".
func (c *rawClient) login(nick, room string) joinedEvent {
	c.t.Helper()
	c.ok(nil, "nick", nick)
	return c.join(room)
}

func (c *rawClient) join(room string) joinedEvent {
	c.t.Helper()
	c.ok(nil, "join", room)
	var ev joinedEvent
	c.next("joined", &ev, nil)
	return ev
}

// next waits for the first event called name (for which match, if set,
// returns true) and decodes its first argument into out. Other events stay
// queued for later calls.
func (c *rawClient) next(name string, out any, match func(json.RawMessage) bool) {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		if arg, ok := c.take(name, match); ok {
			if out != nil {
				require.NoError(c.t, json.Unmarshal(arg, out))
			}
			return
		}
		select {
		case <-c.arrived:
		case <-deadline:
			c.t.Fatalf("%s: no %q event came; queued: %s", c.name, name, c.queued())
		}
	}
}

// message waits for a "message" event whose text is text.
func (c *rawClient) message(text string) Message {
	c.t.Helper()
	var m Message
	c.next("message", &m, func(raw json.RawMessage) bool {
		var probe Message
		return json.Unmarshal(raw, &probe) == nil && probe.Text == text
	})
	return m
}

func (c *rawClient) take(name string, match func(json.RawMessage) bool) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.backlog {
		if p.Name != name {
			continue
		}
		var arg json.RawMessage
		if len(p.Args) > 0 {
			arg = p.Args[0]
		}
		if match != nil && !match(arg) {
			continue
		}
		c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
		return arg, true
	}
	return nil, false
}

// reset waits for what the server has sent so far, then forgets it.
func (c *rawClient) reset() {
	c.t.Helper()
	c.sync()
	c.drain()
}

// drain forgets every queued event.
func (c *rawClient) drain() {
	c.mu.Lock()
	c.backlog = nil
	c.mu.Unlock()
}

// messages returns the texts of the queued "message" events, in order,
// without consuming them.
func (c *rawClient) messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Message
	for _, p := range c.backlog {
		if p.Name == "message" && len(p.Args) > 0 {
			var m Message
			if json.Unmarshal(p.Args[0], &m) == nil {
				out = append(out, m)
			}
		}
	}
	return out
}

func (c *rawClient) queued() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, p := range c.backlog {
		fmt.Fprintf(&b, "\n  %s %s", p.Name, packet.Encode(&p))
	}
	return b.String()
}

// sync makes sure every packet the server sent c before now has been read:
// an ack is queued after them on the same session.
func (c *rawClient) sync() {
	c.t.Helper()
	c.refused("pm", "", "sync") // refused at once, and harmless
}

func texts(ms []Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

func TestNicknames(t *testing.T) {
	base, _ := startChat(t)
	ann := connect(t, base, "ann")
	var reply nickReply
	ann.ok(&reply, "nick", "  ann ")
	assert.Equal(t, "ann", reply.Nick, "the nickname is trimmed")
	assert.NotEmpty(t, reply.Token)

	bob := connect(t, base, "bob")
	for _, taken := range []string{"ann", "ANN", " Ann"} {
		assert.Contains(t, bob.refused("nick", taken), "is taken", "nick %q", taken)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", maxNickLen+1), "a b", "<b>", "ann!", "tab\there"} {
		bob.refused("nick", bad)
	}
	assert.Contains(t, bob.refused("nick", strings.Repeat("é", maxNickLen+1)), "at most 24")
	bob.ok(&reply, "nick", strings.Repeat("é", maxNickLen)) // 24 characters, 48 bytes
	bob.ok(&reply, "nick", "Zoë_2.0-b")
	assert.Equal(t, "Zoë_2.0-b", reply.Nick)

	// A nickname is free again once its user is gone.
	ann.close()
	carl := connect(t, base, "carl")
	require.Eventually(t, func() bool {
		var r struct{ Error string }
		_ = json.Unmarshal(carl.call("nick", "ANN"), &r)
		return r.Error == ""
	}, waitFor, 20*time.Millisecond)
}

func TestRenameIsAnnounced(t *testing.T) {
	base, _ := startChat(t)
	ann, bob := connect(t, base, "ann"), connect(t, base, "bob")
	ann.login("ann", "lobby")
	bob.login("bob", "lobby")
	bob.reset()

	ann.ok(nil, "nick", "anna")
	m := bob.message("ann is now known as anna")
	assert.Equal(t, kindSystem, m.Kind)
	assert.Equal(t, "rename", m.Event)
	assert.Equal(t, "anna", m.Nick)
	var users usersEvent
	bob.next("users", &users, nil)
	assert.Equal(t, usersEvent{Room: "lobby", Users: []string{"anna", "bob"}}, users)

	// The old nickname is free; a change of case only is allowed.
	carl := connect(t, base, "carl")
	carl.ok(nil, "nick", "ann")
	ann.ok(nil, "nick", "Anna")
	bob.message("anna is now known as Anna")
	assert.Contains(t, ann.refused("nick", "bob"), "taken")
}

func TestRoomsAreIsolated(t *testing.T) {
	base, _ := startChat(t)
	ann, bob, carl := connect(t, base, "ann"), connect(t, base, "bob"), connect(t, base, "carl")
	ann.login("ann", "lobby")
	bob.login("bob", "lobby")
	carl.login("carl", "lobby")
	ann.reset()

	joined := carl.join(" #Dev ")
	assert.Equal(t, "dev", joined.Room, "room names are trimmed and folded")
	assert.Equal(t, []string{"carl"}, joined.Users)
	left := ann.message("carl left")
	assert.Equal(t, Message{ID: left.ID, Kind: kindSystem, Room: "lobby", Event: "leave", Nick: "carl", Text: "carl left", Time: left.Time}, left)
	var users usersEvent
	ann.next("users", &users, nil)
	assert.Equal(t, []string{"ann", "bob"}, users.Users)
	var rooms []roomInfo
	ann.next("rooms", &rooms, func(raw json.RawMessage) bool { return strings.Contains(string(raw), `"dev"`) })
	assert.Equal(t, []roomInfo{{Name: "lobby", Users: 2}, {Name: "dev", Users: 1}}, rooms)

	ann.ok(nil, "say", "lobby only")
	carl.ok(nil, "say", "dev only")
	assert.Equal(t, "lobby", bob.message("lobby only").Room)
	assert.Equal(t, "dev", carl.message("dev only").Room)
	ann.message("lobby only") // the sender gets its own message too
	for _, c := range []*rawClient{ann, bob, carl} {
		c.sync()
	}
	assert.NotContains(t, texts(ann.messages()), "dev only")
	assert.NotContains(t, texts(bob.messages()), "dev only")
	assert.NotContains(t, texts(carl.messages()), "lobby only")

	// Bob follows carl into dev: carl is told, ann is told bob left.
	bob.reset()
	joined = bob.join("dev")
	assert.Equal(t, []string{"bob", "carl"}, joined.Users)
	assert.Equal(t, []string{"carl joined", "dev only", "bob joined"}, texts(joined.History))
	assert.Equal(t, "join", carl.message("bob joined").Event)
	ann.message("bob left")

	for _, bad := range []string{"", "#", "a b", "dev/ops", "<script>", strings.Repeat("r", maxRoomLen+1)} {
		ann.refused("join", bad)
	}
}

func TestOrderIsRequired(t *testing.T) {
	base, _ := startChat(t)
	c := connect(t, base, "c")
	assert.Equal(t, string(errNoNick), c.refused("join", "lobby"))
	assert.Equal(t, string(errNoNick), c.refused("say", "hello"))
	assert.Equal(t, string(errNoNick), c.refused("pm", "bob", "hello"))
	c.ok(nil, "nick", "c")
	assert.Equal(t, string(errNoRoom), c.refused("say", "hello"))
}

func TestHistoryKeepsTheLast50(t *testing.T) {
	base, _ := startChat(t)
	ann := connect(t, base, "ann")
	first := ann.login("ann", "lobby")
	assert.Equal(t, []string{"ann joined"}, texts(first.History))
	for i := 1; i <= 60; i++ {
		ann.ok(nil, "say", fmt.Sprintf("message %d", i))
	}

	bob := connect(t, base, "bob")
	joined := bob.login("bob", "lobby")
	h := joined.History
	require.Len(t, h, historySize)
	assert.Equal(t, "message 12", h[0].Text)
	assert.Equal(t, "message 60", h[historySize-2].Text)
	assert.Equal(t, Message{ID: h[49].ID, Kind: kindSystem, Room: "lobby", Event: "join", Nick: "bob", Text: "bob joined", Time: h[49].Time}, h[49])
	for i := 1; i < len(h); i++ {
		assert.Less(t, h[i-1].ID, h[i].ID, "history is in order")
	}
	assert.Equal(t, Message{ID: h[0].ID, Kind: kindChat, Room: "lobby", From: "ann", Text: "message 12", Time: h[0].Time}, h[0])

	// Each room has its own history.
	joined = bob.join("elsewhere")
	assert.Equal(t, []string{"bob joined"}, texts(joined.History))
}

func TestPrivateMessages(t *testing.T) {
	base, _ := startChat(t)
	ann, bob, carl := connect(t, base, "ann"), connect(t, base, "bob"), connect(t, base, "carl")
	ann.login("ann", "lobby")
	bob.login("bob", "dev") // private messages cross rooms
	carl.login("carl", "lobby")

	var sent sentReply
	ann.ok(&sent, "pm", " BOB ", "just for you <3")
	got := bob.message("just for you <3")
	assert.Equal(t, Message{ID: sent.ID, Kind: kindPrivate, From: "ann", To: "bob", Text: "just for you <3", Time: got.Time}, got)
	assert.Equal(t, got, ann.message("just for you <3"), "the sender gets a copy")
	carl.sync()
	assert.NotContains(t, texts(carl.messages()), "just for you <3")

	assert.Contains(t, ann.refused("pm", "nobody", "hi"), `No one called "nobody"`)
	assert.Equal(t, string(errSelf), ann.refused("pm", "Ann", "hi"))
	assert.Equal(t, string(errEmpty), ann.refused("pm", "bob", "  "))
	ann.refused("pm", "bob", strings.Repeat("x", maxMessageLen+1))

	// Private messages are not in any history.
	dave := connect(t, base, "dave")
	assert.NotContains(t, texts(dave.login("dave", "lobby").History), "just for you <3")
	assert.NotContains(t, texts(dave.join("dev").History), "just for you <3")
}

func TestMessageValidation(t *testing.T) {
	base, _ := startChat(t)
	ann, bob := connect(t, base, "ann"), connect(t, base, "bob")
	ann.login("ann", "lobby")
	bob.login("bob", "lobby")

	// HTML, quotes, line separators and the like reach the others byte for
	// byte: escaping is the page's job (it renders text as text).
	for _, text := range []string{
		`<script>alert("x")</script> & <img src=x onerror=alert(1)>`,
		"line\u2028separator \u2029 \"quoted\" 'single' \\ back",
		"  padded  ",
		strings.Repeat("é", maxMessageLen), // 500 characters, 1000 bytes
	} {
		ann.ok(nil, "say", text)
		assert.Equal(t, text, bob.message(text).Text)
	}

	tooLong := strings.Repeat("a", maxMessageLen+1)
	assert.Contains(t, ann.refused("say", tooLong), "at most 500 characters (this one has 501)")
	assert.Contains(t, ann.refused("say", strings.Repeat("é", maxMessageLen+1)), "at most 500")
	assert.Equal(t, string(errEmpty), ann.refused("say", ""))
	assert.Equal(t, string(errEmpty), ann.refused("say", " \n\t "))
	bob.sync()
	for _, m := range bob.messages() {
		assert.LessOrEqual(t, len([]rune(m.Text)), maxMessageLen)
		assert.NotEmpty(t, strings.TrimSpace(m.Text))
	}
}

func TestTokenTakesTheNicknameBack(t *testing.T) {
	base, _ := startChat(t)
	old := connect(t, base, "old")
	var first nickReply
	old.ok(&first, "nick", "ann")
	old.join("lobby")
	bob := connect(t, base, "bob")
	bob.login("bob", "lobby")

	// The same page after a reconnect, while the server still has the old
	// session: a wrong token does not help, the right one does.
	page := connect(t, base, "page")
	assert.Contains(t, page.refused("nick", "ann", "wrong-token"), "taken")
	assert.Contains(t, bob.refused("nick", "ann", ""), "taken")
	var again nickReply
	page.ok(&again, "nick", "ann", first.Token)
	assert.Equal(t, "ann", again.Nick)
	assert.NotEqual(t, first.Token, again.Token, "a new token for the new session")

	old.next("replaced", nil, nil)
	select {
	case <-old.closed:
	case <-time.After(waitFor):
		t.Fatal("the replaced session was not closed")
	}
	bob.message("ann left")
	joined := page.join("lobby")
	assert.Equal(t, []string{"ann", "bob"}, joined.Users)
	assert.Contains(t, page.refused("nick", "bob", again.Token), "taken", "a token is good for its own nickname only")
}

func TestDisconnectIsAnnounced(t *testing.T) {
	base, _ := startChat(t)
	ann, bob := connect(t, base, "ann"), connect(t, base, "bob")
	ann.login("ann", "lobby")
	bob.login("bob", "dev")
	ann.reset()
	bob.close()
	var rooms []roomInfo
	ann.next("rooms", &rooms, nil)
	assert.Equal(t, []roomInfo{{Name: "lobby", Users: 1}}, rooms, "the empty room is no longer listed")

	carl := connect(t, base, "carl")
	joined := carl.login("carl", "dev")
	assert.Equal(t, []string{"bob joined", "bob left", "carl joined"}, texts(joined.History), "an empty room keeps its history")
}

// Every member of a room sees its messages in one order, the order of its
// history, even when they are sent concurrently.
func TestConcurrentMessagesHaveOneOrder(t *testing.T) {
	base, _ := startChat(t)
	const users, each = 6, 15
	clients := make([]*rawClient, users)
	for i := range clients {
		clients[i] = connect(t, base, fmt.Sprintf("u%d", i))
		clients[i].login(fmt.Sprintf("u%d", i), "lobby")
	}
	for _, c := range clients {
		c.reset()
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				c.call("say", fmt.Sprintf("u%d-%d", i, j))
			}
		}()
	}
	wg.Wait()
	var want []uint64
	for i, c := range clients {
		c.sync()
		var ids []uint64
		for _, m := range c.messages() {
			ids = append(ids, m.ID)
		}
		require.Len(t, ids, users*each, "client %d", i)
		if i == 0 {
			want = ids
			continue
		}
		assert.Equal(t, want, ids, "client %d saw another order", i)
	}
	for i := 1; i < len(want); i++ {
		assert.Less(t, want[i-1], want[i])
	}
	late := connect(t, base, "late")
	h := late.login("late", "lobby").History
	var tail []uint64
	for _, m := range h[:len(h)-1] {
		tail = append(tail, m.ID)
	}
	assert.Equal(t, want[len(want)-len(tail):], tail)
}

// Shutdown tells each page goodbye ("7:::1+0": the session is gone,
// reconnect — socket.io.js then reconnects until the server is back).
func TestShutdownTellsClients(t *testing.T) {
	base, srv := startChat(t)
	ann := connect(t, base, "ann")
	ann.login("ann", "lobby")
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	ann.next("(disconnect)", nil, nil)
	res, err := http.Get(base + "/socket.io/1/")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "no new sessions while shutting down")
}

func TestPagesAndClient(t *testing.T) {
	base, _ := startChat(t)
	get := func(path string) (*http.Response, string) {
		res, err := http.Get(base + path)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, string(b)
	}
	res, body := get("/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'self'")
	for _, id := range []string{"nick-input", "nick-submit", "message-input", "send", "messages", "users", "rooms", "room-input", "join-room", "status", "error", "reconnecting"} {
		assert.Contains(t, body, `id="`+id+`"`)
	}
	assert.Contains(t, body, `src="/socket.io/socket.io.js"`)

	res, body = get("/?client=4")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'self'")
	assert.Contains(t, body, `src="/socket.io-client-4/socket.io.min.js"`)
	assert.NotContains(t, body, `src="/socket.io/socket.io.js"`)
	assert.Contains(t, body, `id="nick-input"`)

	res, body = get("/socket.io-client-4/socket.io.min.js")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "/* socket.io.min.js stand-in */", body)

	res, body = get("/app.js")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "javascript")
	assert.NotContains(t, body, "innerHTML", "user data is never rendered as HTML")

	res, _ = get("/style.css")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/css")

	res, body = get("/socket.io/socket.io.js")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "/* socket.io.js stand-in */", body)

	res, _ = get("/nothing-here")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

func TestMissingClientSaysWhatToDo(t *testing.T) {
	_, err := findClientDir(t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "make demo")
	assert.Contains(t, err.Error(), "make deps-node")

	dir, err := findClientDir(defaultClientDir)
	if err == nil { // installed: found from this package's directory through the repository root
		assert.FileExists(t, dir+"/"+clientFile)
	}
}
