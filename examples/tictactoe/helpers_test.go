package main

import (
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
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/packet"
	"github.com/siogo/siogo/socketio"
)

// waitFor bounds every wait of the protocol tests.
const waitFor = 5 * time.Second

// fakeClients stand in for socket.io.js 0.9 and 4.x in the protocol tests.
var fakeClients = clients{
	V09: fstest.MapFS{clientFile: {Data: []byte("/* socket.io.js */")}},
	V4:  fstest.MapFS{client4File: {Data: []byte("/* socket.io.min.js */")}},
}

// startApp serves the game in-process (so -race sees the server) and
// returns its base URL.
func startApp(t *testing.T) (*socketio.Server, string) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, _, handler := newApp(fakeClients, logger)
	hs := httptest.NewServer(handler)
	t.Cleanup(func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	return srv, hs.URL
}

// event is an event the server sent.
type event struct {
	Name string
	Args []json.RawMessage
}

// decode unmarshals argument i into v.
func (e event) decode(t *testing.T, i int, v any) {
	t.Helper()
	require.Greater(t, len(e.Args), i, "event %s has no argument %d", e.Name, i)
	require.NoError(t, json.Unmarshal(e.Args[i], v), "event %s argument %d: %s", e.Name, i, e.Args[i])
}

// wsClient speaks the raw Socket.IO 0.9 protocol over a WebSocket, as the
// page's client does: one packet per message, heartbeats answered.
type wsClient struct {
	t    *testing.T
	name string
	conn *websocket.Conn

	events chan event // every event, in order
	done   chan struct{}

	mu     sync.Mutex
	nextID uint64
	acks   map[uint64]chan []json.RawMessage
}

// dial handshakes, opens the WebSocket and waits for the connect packet.
func dial(t *testing.T, base, name string) *wsClient {
	t.Helper()
	resp, err := http.Get(base + "/socket.io/1/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "handshake: %s", body)
	sid, _, _ := strings.Cut(string(body), ":")
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/socket.io/1/websocket/" + sid
	conn, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	require.NoError(t, err)
	c := &wsClient{
		t: t, name: name, conn: conn,
		events: make(chan event, 256),
		done:   make(chan struct{}),
		acks:   make(map[uint64]chan []json.RawMessage),
	}
	_ = conn.SetReadDeadline(time.Now().Add(waitFor))
	_, msg, err := conn.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, "1::", string(msg), "%s: the server's first packet", name)
	_ = conn.SetReadDeadline(time.Time{})
	go c.read()
	t.Cleanup(c.close)
	return c
}

func (c *wsClient) read() {
	defer close(c.done)
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
			c.write("2::")
		case packet.Event:
			args := make([]json.RawMessage, len(p.Args))
			for i, a := range p.Args {
				args[i] = append(json.RawMessage(nil), a...)
			}
			select {
			case c.events <- event{Name: p.Name, Args: args}:
			default:
				c.t.Errorf("%s: too many unread events", c.name)
			}
		case packet.Ack:
			c.mu.Lock()
			ch := c.acks[p.AckID]
			delete(c.acks, p.AckID)
			c.mu.Unlock()
			if ch != nil {
				args := make([]json.RawMessage, len(p.Args))
				for i, a := range p.Args {
					args[i] = append(json.RawMessage(nil), a...)
				}
				ch <- args
			}
		}
	}
}

func (c *wsClient) write(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.conn.WriteMessage(websocket.TextMessage, []byte(s))
}

// close ends the connection, as a closed tab does, and waits for the reader.
func (c *wsClient) close() {
	_ = c.conn.Close()
	<-c.done
}

// send emits an event asking for an ack with data ("5:ID+::...") and
// returns a channel that gets the ack's arguments.
func (c *wsClient) send(name string, args ...any) <-chan []json.RawMessage {
	c.t.Helper()
	if args == nil {
		args = []any{}
	}
	b, err := json.Marshal(map[string]any{"name": name, "args": args})
	require.NoError(c.t, err)
	ch := make(chan []json.RawMessage, 1)
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.acks[id] = ch
	c.mu.Unlock()
	c.write(fmt.Sprintf("5:%d+::%s", id, b))
	return ch
}

// call emits an event and waits for its ack; it decodes the ack's single
// argument into reply.
func (c *wsClient) call(reply any, name string, args ...any) {
	c.t.Helper()
	select {
	case res := <-c.send(name, args...):
		require.Len(c.t, res, 1, "%s: ack of %s: %s", c.name, name, res)
		if reply != nil {
			require.NoError(c.t, json.Unmarshal(res[0], reply), "%s: ack of %s: %s", c.name, name, res[0])
		}
	case <-time.After(waitFor):
		c.t.Fatalf("%s: no ack for %s", c.name, name)
	}
}

// callErr emits an event and returns the error text of its ack ("" if it
// succeeded).
func (c *wsClient) callErr(name string, args ...any) string {
	c.t.Helper()
	var reply struct {
		Error string `json:"error"`
	}
	c.call(&reply, name, args...)
	return reply.Error
}

// next returns the next event called name, skipping others.
func (c *wsClient) next(name string) event {
	c.t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case e := <-c.events:
			if e.Name == name {
				return e
			}
		case <-timeout:
			c.t.Fatalf("%s: no %q event", c.name, name)
		}
	}
}

// game returns the next "game" state.
func (c *wsClient) game() GameState {
	c.t.Helper()
	var g GameState
	c.next("game").decode(c.t, 0, &g)
	return g
}

// gameWhere returns the next "game" state for which ok holds.
func (c *wsClient) gameWhere(ok func(GameState) bool) GameState {
	c.t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		if g := c.game(); ok(g) {
			return g
		}
	}
	c.t.Fatalf("%s: no matching game state", c.name)
	return GameState{}
}

// quiet asserts that no event called name arrives for a short while.
func (c *wsClient) quiet(name string) {
	c.t.Helper()
	timeout := time.After(150 * time.Millisecond)
	for {
		select {
		case e := <-c.events:
			if e.Name == name {
				c.t.Fatalf("%s: unexpected %q event: %s", c.name, name, e.Args)
			}
		case <-timeout:
			return
		}
	}
}

// GameState is GameView as the page decodes it.
type GameState struct {
	ID      int      `json:"id"`
	Round   int      `json:"round"`
	Board   []string `json:"board"`
	Players []struct {
		Name    string `json:"name"`
		Mark    string `json:"mark"`
		Wins    int    `json:"wins"`
		Present bool   `json:"present"`
	} `json:"players"`
	Turn       string   `json:"turn"`
	Status     string   `json:"status"`
	Winner     string   `json:"winner"`
	Line       []int    `json:"line"`
	LastMove   int      `json:"lastMove"`
	Draws      int      `json:"draws"`
	Rematch    []string `json:"rematch"`
	Spectators int      `json:"spectators"`
	Message    string   `json:"message"`
}

// pair connects two players, ann and bob, and plays them into one game:
// ann waited first, so she plays X.
func pair(t *testing.T, base string) (ann, bob *wsClient, game int) {
	t.Helper()
	ann = dial(t, base, "ann")
	bob = dial(t, base, "bob")
	var r playReply
	ann.call(&r, "play", "ann")
	require.Equal(t, "waiting", r.Status)
	bob.call(&r, "play", "bob")
	require.Equal(t, "playing", r.Status)
	var sa, sb startEvent2
	ann.next("start").decode(t, 0, &sa)
	bob.next("start").decode(t, 0, &sb)
	require.Equal(t, "X", sa.Mark)
	require.Equal(t, "O", sb.Mark)
	require.Equal(t, r.Game, sa.Game)
	ann.gameWhere(func(g GameState) bool { return g.ID == r.Game })
	bob.gameWhere(func(g GameState) bool { return g.ID == r.Game })
	return ann, bob, r.Game
}

// startEvent2 is startEvent as the page decodes it.
type startEvent2 struct {
	Game int    `json:"game"`
	Mark string `json:"mark"`
}

// move plays cell for c and checks the ack.
func move(t *testing.T, c *wsClient, cell int) {
	t.Helper()
	require.Empty(t, c.callErr("move", cell), "%s plays %d", c.name, cell)
}

// deniedEvent waits for the ACL's refusal of name.
func deniedEvent(t *testing.T, c *wsClient, name string) {
	t.Helper()
	e := c.next("error")
	var reason, text string
	e.decode(t, 0, &reason)
	e.decode(t, 1, &text)
	require.Equal(t, "method_access_denied", reason)
	require.Equal(t, `You do not have access to method "`+name+`"`, text)
}
