package client

import (
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/packet"
)

// The ProtocolV5 client against the Node.js reference socket.io@4.8
// (testdata/refserver4.js).

var transportsV5 = []string{WebSocket, Polling}

// startRef4 starts testdata/refserver4.js with extra flags.
func startRef4(t *testing.T, extra ...string) string {
	t.Helper()
	return nodetest.StartServerScript(t, "refserver4.js", extra...)
}

// dial5 connects with ProtocolV5 over transport tr only (the default
// order when "").
func dial5(t *testing.T, rawURL, tr string, opts *Options) *Client {
	t.Helper()
	c, err := tryDial5(t, rawURL, tr, opts)
	require.NoError(t, err)
	if tr != "" {
		require.Equal(t, tr, c.Transport())
	}
	return c
}

func tryDial5(t *testing.T, rawURL, tr string, opts *Options) (*Client, error) {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	opts.Protocol = ProtocolV5
	return tryDial(t, rawURL, tr, opts)
}

// whoami is what refserver4.js's whoami answers.
type whoami struct {
	ID        string            `json:"id"`
	NSP       string            `json:"nsp"`
	Query     map[string]string `json:"query"`
	Auth      map[string]any    `json:"auth"`
	Transport string            `json:"transport"`
}

func askWhoami(t *testing.T, ns *Namespace) whoami {
	t.Helper()
	args, err := ns.EmitWithAck(ctxFor(t), "whoami")
	require.NoError(t, err)
	require.Len(t, args, 1)
	var w whoami
	require.NoError(t, json.Unmarshal(args[0], &w))
	return w
}

func TestV5Connect(t *testing.T) {
	url := startRef4(t)
	for _, tr := range transportsV5 {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			lc := newLifecycle()
			c := dial5(t, url+"/?x=1", tr, lc.options(nil))
			lc.wait(t, "connect", "")
			assert.True(t, c.Connected())
			assert.NotEmpty(t, c.SessionID())
			main := c.Namespace()
			assert.Equal(t, "", main.Name())
			w := askWhoami(t, main)
			assert.Equal(t, "/", w.NSP)
			assert.Equal(t, main.ID(), w.ID)
			assert.NotEmpty(t, w.ID)
			assert.NotEqual(t, c.SessionID(), w.ID, "the socket id is not the Engine.IO session id")
			assert.Equal(t, "1", w.Query["x"])
			assert.Equal(t, "4", w.Query["EIO"])
			assert.Equal(t, tr, w.Transport)

			chat := c.Of("/chat")
			require.NoError(t, chat.WaitConnected(ctxFor(t)))
			lc.wait(t, "connect", "/chat")
			w = askWhoami(t, chat)
			assert.Equal(t, "/chat", w.NSP)
			assert.Equal(t, chat.ID(), w.ID)
			assert.NotEqual(t, main.ID(), chat.ID())

			require.NoError(t, chat.Leave())
			assert.Equal(t, "", chat.ID())
			_, err := chat.EmitWithAck(ctxFor(t), "whoami")
			assert.ErrorIs(t, err, ErrDisconnected)
			assert.Equal(t, "/", askWhoami(t, main).NSP)
		})
	}
	t.Run("url-namespace-only", func(t *testing.T) {
		t.Parallel()
		var connects atomic.Int32
		c := dial5(t, url+"/chat", "", &Options{OnConnect: func(*Namespace) { connects.Add(1) }})
		assert.Equal(t, WebSocket, c.Transport(), "websocket first by default")
		assert.Equal(t, "/chat", askWhoami(t, c.Namespace()).NSP)
		// "/" is joined only when asked for.
		assert.Equal(t, int32(1), connects.Load())
		def := c.Of("")
		require.NoError(t, def.WaitConnected(ctxFor(t)))
		assert.Equal(t, "/", askWhoami(t, def).NSP)
	})
	t.Run("unknown-namespace", func(t *testing.T) {
		t.Parallel()
		_, err := tryDial5(t, url+"/nowhere", "", nil)
		var ce *ConnectError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "Invalid namespace", ce.Message)
		assert.ErrorIs(t, err, ErrUnauthorized)
	})
}

func TestV5Auth(t *testing.T) {
	url := startRef4(t)
	for _, tr := range transportsV5 {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			_, err := tryDial5(t, url+"/private", tr, nil)
			var ne *NamespaceError
			require.ErrorAs(t, err, &ne)
			assert.Equal(t, "/private", ne.Namespace)
			var ce *ConnectError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "not authorized", ce.Message)
			assert.JSONEq(t, `{"reason":"bad token"}`, string(ce.Data))
			assert.ErrorIs(t, err, ErrUnauthorized)
			assert.Equal(t, "client: namespace /private refused the client: not authorized", err.Error())

			_, err = tryDial5(t, url+"/private", tr, &Options{Auth: map[string]string{"token": "nope"}})
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "not authorized", ce.Message)

			c := dial5(t, url+"/private", tr, &Options{Auth: map[string]any{"token": "secret", "n": 1}})
			w := askWhoami(t, c.Namespace())
			assert.Equal(t, "/private", w.NSP)
			assert.Equal(t, map[string]any{"token": "secret", "n": float64(1)}, w.Auth)

			// One namespace's own auth; a refused one is retried with
			// other credentials.
			lc := newLifecycle()
			c = dial5(t, url, tr, lc.options(nil))
			priv, err := c.OfAuth("/private", map[string]string{"token": "bad"})
			require.NoError(t, err)
			err = priv.WaitConnected(ctxFor(t))
			require.ErrorAs(t, err, &ce)
			h := lc.wait(t, "connect_failed", "/private")
			assert.ErrorIs(t, h.err, ErrUnauthorized)
			_, err = priv.EmitWithAck(ctxFor(t), "whoami")
			assert.ErrorIs(t, err, ErrUnauthorized)

			priv2, err := c.OfAuth("/private", map[string]string{"token": "secret"})
			require.NoError(t, err)
			assert.Same(t, priv, priv2)
			require.NoError(t, priv.WaitConnected(ctxFor(t)))
			assert.Equal(t, map[string]any{"token": "secret"}, askWhoami(t, priv).Auth)
			assert.Equal(t, map[string]any{}, askWhoami(t, c.Namespace()).Auth)
		})
	}
	t.Run("bad-auth", func(t *testing.T) {
		_, err := Dial(ctxFor(t), url, &Options{Protocol: ProtocolV5, Auth: "text"})
		assert.ErrorContains(t, err, "JSON object")
		_, err = Dial(ctxFor(t), url, &Options{Auth: map[string]string{}})
		assert.ErrorContains(t, err, "ProtocolV5")
	})
}

func TestV5EmitAck(t *testing.T) {
	url := startRef4(t)
	for _, tr := range transportsV5 {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			c := dial5(t, url, tr, nil)
			ib := newInbox(c.Namespace())

			args, err := c.EmitWithAck(ctxFor(t), "echo", "</script> & 😀 \u2028", 1, map[string]any{"a": []any{true, 1.5, nil}}, nil)
			require.NoError(t, err)
			assert.Equal(t, "[\"</script> & 😀 \u2028\",1,{\"a\":[true,1.5,null]},null]", joinArgs(args)) // JSON.stringify leaves U+2028 as is
			args, err = c.EmitWithAck(ctxFor(t), "echo")
			require.NoError(t, err)
			assert.Equal(t, []json.RawMessage{}, args)

			got := make(chan []json.RawMessage, 1)
			require.NoError(t, c.EmitWithAckFunc("echo", func(a []json.RawMessage) { got <- a }, "cb"))
			select {
			case a := <-got:
				assert.Equal(t, `["cb"]`, joinArgs(a))
			case <-time.After(waitFor):
				t.Fatal("no ack")
			}

			// Server to client: events, and acks of the server's questions.
			require.NoError(t, c.Emit("emit", "hello", "world", 2))
			assert.Equal(t, `["world",2]`, joinArgs(ib.next(t, "hello").args))
			require.NoError(t, c.On("q", func(a, b int) (int, string) { return a + b, "sum" }))
			require.NoError(t, c.Emit("ask", "q", 40, 2))
			assert.Equal(t, `[42,"sum"]`, joinArgs(ib.next(t, "answer").args))
			require.NoError(t, c.OnRaw("raw", func(args []json.RawMessage, ack AckFunc) {
				require.NotNil(t, ack)
				_ = ack(args[0], "raw")
			}))
			require.NoError(t, c.Emit("ask", "raw", map[string]int{"k": 1}))
			assert.Equal(t, `[{"k":1},"raw"]`, joinArgs(ib.next(t, "answer").args))

			// Messages: socket.send is a "message" event.
			texts := make(chan string, 1)
			c.OnMessage(func(s string) { texts <- s })
			jsons := make(chan json.RawMessage, 1)
			c.OnJSON(func(v json.RawMessage) { jsons <- v })
			require.NoError(t, c.Send("hi"))
			assert.Equal(t, "hi", <-texts)
			require.NoError(t, c.SendJSON(map[string]int{"n": 1}))
			assert.Equal(t, `{"n":1}`, string(<-jsons))
			require.NoError(t, c.SendWithAck(ctxFor(t), "acked"))
			assert.Equal(t, "acked", <-texts)

			assert.EqualError(t, c.Emit("x", 1, json.RawMessage("{")), "client: argument 1 is not valid JSON")
			assert.ErrorContains(t, c.Emit("x", func() {}), "client: argument 0: json: unsupported type")
			assert.ErrorContains(t, c.Emit("x", []any{func() {}}), "client: argument 0:")
			assert.ErrorIs(t, c.Emit("connect"), ErrReservedEvent)
			assert.ErrorIs(t, c.Emit("disconnecting"), ErrReservedEvent)
			_, err = c.EmitWithAck(ctxFor(t), "connect_error")
			assert.ErrorIs(t, err, ErrReservedEvent)

			// Ordering of many emits, with and without acks.
			require.NoError(t, c.Emit("burst", 50))
			for i := range 50 {
				ev := ib.next(t, "burst")
				require.Equal(t, joinArgs([]json.RawMessage{json.RawMessage(itoa(i))}), joinArgs(ev.args))
			}
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestV5Binary(t *testing.T) {
	url := startRef4(t)
	for _, tr := range transportsV5 {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			c := dial5(t, url, tr, nil)
			ib := newInbox(c.Namespace())

			// Client to server and back (BINARY_EVENT, BINARY_ACK).
			args, err := c.EmitWithAck(ctxFor(t), "echo", []byte{1, 2, 3}, "text",
				map[string]any{"b": []byte{}, "list": []any{[]byte{0xff}, 1}}, []byte("x"))
			require.NoError(t, err)
			require.Len(t, args, 4)
			var b0, b3 []byte
			require.NoError(t, json.Unmarshal(args[0], &b0))
			assert.Equal(t, []byte{1, 2, 3}, b0)
			assert.Equal(t, `"text"`, string(args[1]))
			var obj struct {
				B    []byte            `json:"b"`
				List []json.RawMessage `json:"list"`
			}
			require.NoError(t, json.Unmarshal(args[2], &obj))
			assert.Empty(t, obj.B)
			require.Len(t, obj.List, 2)
			var bl []byte
			require.NoError(t, json.Unmarshal(obj.List[0], &bl))
			assert.Equal(t, []byte{0xff}, bl)
			require.NoError(t, json.Unmarshal(args[3], &b3))
			assert.Equal(t, []byte("x"), b3)

			// Server to client: a typed handler takes []byte.
			type nested struct {
				Nested []byte `json:"nested"`
				N      int    `json:"n"`
			}
			got := make(chan nested, 1)
			gotA := make(chan []byte, 1)
			require.NoError(t, c.On("bin", func(a []byte, b nested) { gotA <- a; got <- b }))
			args, err = c.EmitWithAck(ctxFor(t), "binary")
			require.NoError(t, err)
			assert.Equal(t, []byte{1, 2, 3}, <-gotA)
			assert.Equal(t, nested{Nested: []byte{4, 5}, N: 1}, <-got)
			require.Len(t, args, 2)
			var ack nested
			require.NoError(t, json.Unmarshal(args[1], &ack))
			assert.Equal(t, nested{Nested: []byte{4, 5}, N: 1}, ack)

			// The client's ack with binary (BINARY_ACK to the server).
			require.NoError(t, c.On("q", func(in []byte) ([]byte, string) { return append(in, 9), "ok" }))
			require.NoError(t, c.Emit("ask", "q", []byte{7, 8}))
			ev := ib.next(t, "answer")
			require.Len(t, ev.args, 2)
			var out []byte
			require.NoError(t, json.Unmarshal(ev.args[0], &out))
			assert.Equal(t, []byte{7, 8, 9}, out)
			assert.Equal(t, `"ok"`, string(ev.args[1]))

			// A large attachment.
			big := make([]byte, 300<<10)
			for i := range big {
				big[i] = byte(i * 7)
			}
			args, err = c.EmitWithAck(ctxFor(t), "echo", big)
			require.NoError(t, err)
			var back []byte
			require.NoError(t, json.Unmarshal(args[0], &back))
			assert.Equal(t, big, back)
		})
	}
}

func TestV5Kick(t *testing.T) {
	url := startRef4(t)
	for _, tr := range transportsV5 {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			t.Run("main", func(t *testing.T) {
				lc := newLifecycle()
				c := dial5(t, url, tr, lc.options(nil))
				require.NoError(t, c.Emit("kick"))
				select {
				case <-c.Done():
				case <-time.After(waitFor):
					t.Fatal("not stopped by the kick")
				}
				assert.ErrorIs(t, c.Err(), ErrKicked)
				h := lc.wait(t, "disconnect", "")
				assert.ErrorIs(t, h.err, ErrKicked)
				assert.Equal(t, 0, lc.count("reconnecting"))
				assert.ErrorIs(t, c.Emit("echo"), ErrKicked)
			})
			t.Run("other", func(t *testing.T) {
				lc := newLifecycle()
				c := dial5(t, url, tr, lc.options(nil))
				chat := c.Of("/chat")
				require.NoError(t, chat.WaitConnected(ctxFor(t)))
				require.NoError(t, chat.Emit("kick"))
				h := lc.wait(t, "disconnect", "/chat")
				var ne *NamespaceError
				require.ErrorAs(t, h.err, &ne)
				assert.ErrorIs(t, h.err, ErrKicked)
				assert.Equal(t, "/chat", ne.Namespace)
				assert.ErrorIs(t, chat.Emit("echo"), ErrKicked)
				assert.Equal(t, "/", askWhoami(t, c.Namespace()).NSP)
			})
			t.Run("close-connection", func(t *testing.T) {
				// socket.disconnect(true) on /chat: the server sends a
				// DISCONNECT to every namespace, "/" included, so the
				// client stops.
				lc := newLifecycle()
				c := dial5(t, url, tr, lc.options(&Options{ReconnectMinDelay: 10 * time.Millisecond}))
				chat := c.Of("/chat")
				require.NoError(t, chat.WaitConnected(ctxFor(t)))
				require.NoError(t, chat.Emit("close"))
				select {
				case <-c.Done():
				case <-time.After(waitFor):
					t.Fatal("not stopped")
				}
				assert.ErrorIs(t, c.Err(), ErrKicked)
				assert.ErrorIs(t, lc.wait(t, "disconnect", "/chat").err, ErrKicked)
				assert.ErrorIs(t, lc.wait(t, "disconnect", "").err, ErrKicked)
				assert.Equal(t, 0, lc.count("reconnecting"))
			})
		})
	}
}

func TestV5PingPong(t *testing.T) {
	// pingInterval 200 ms, pingTimeout 300 ms: without pongs the server
	// closes the session within 500 ms.
	url := startRef4(t, "--ping-interval", "200", "--ping-timeout", "300")
	for _, tr := range transportsV5 {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			var pings atomic.Int32
			lc := newLifecycle()
			opts := lc.options(&Options{NoReconnect: true})
			opts.OnPacket = func(p packet.Packet) {
				if p.Type == packet.Heartbeat {
					pings.Add(1)
				}
			}
			c := dial5(t, url, tr, opts)
			sid := c.SessionID()
			deadline := time.Now().Add(waitFor)
			for pings.Load() < 8 {
				require.True(t, time.Now().Before(deadline), "only %d pings", pings.Load())
				time.Sleep(20 * time.Millisecond)
			}
			// 8 pings: 1.6 s, more than three times interval + timeout.
			assert.True(t, c.Connected())
			assert.Equal(t, sid, c.SessionID())
			assert.Equal(t, 0, lc.count("disconnect"), lc.history())
			assert.Equal(t, "/", askWhoami(t, c.Namespace()).NSP)
		})
	}
}

func TestV5TransportFallback(t *testing.T) {
	url := startRef4(t, "--transports", "polling")
	c := dial5(t, url, "", nil)
	assert.Equal(t, Polling, c.Transport())
	assert.Equal(t, Polling, askWhoami(t, c.Namespace()).Transport)

	_, err := tryDial5(t, url, WebSocket, nil)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, WebSocket, te.Transport)

	_, err = Dial(ctxFor(t), url, &Options{Protocol: ProtocolV5, Transports: []string{XHRPolling}})
	assert.ErrorContains(t, err, "not supported")
}

func TestV5Reconnect(t *testing.T) {
	// The server ends the Engine.IO session without a DISCONNECT
	// (socket.conn.close()): the client reconnects, joins every namespace
	// again, and sends the emits made meanwhile after the joins.
	url := startRef4(t)
	for _, tr := range transportsV5 {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			lc := newLifecycle()
			c := dial5(t, url, tr, lc.options(&Options{ReconnectMinDelay: 10 * time.Millisecond, ReconnectMaxDelay: 50 * time.Millisecond}))
			chat := c.Of("/chat")
			require.NoError(t, chat.WaitConnected(ctxFor(t)))
			ib := newInbox(chat)
			sid, mainID, chatID := c.SessionID(), c.Namespace().ID(), chat.ID()
			require.NoError(t, c.Emit("drop"))
			h := lc.wait(t, "disconnect", "")
			var te *TransportError
			require.ErrorAs(t, h.err, &te, "%v", h.err)
			assert.ErrorIs(t, h.err, ErrServerClosed)
			lc.wait(t, "disconnect", "/chat")
			require.NoError(t, chat.Emit("emit", "after", 1))
			lc.wait(t, "reconnect")
			assert.Equal(t, `[1]`, joinArgs(ib.next(t, "after").args))
			require.NoError(t, chat.WaitConnected(ctxFor(t)))
			assert.NotEqual(t, sid, c.SessionID())
			assert.NotEqual(t, mainID, c.Namespace().ID())
			assert.NotEqual(t, chatID, chat.ID())
			assert.Equal(t, chat.ID(), askWhoami(t, chat).ID)
			assert.Equal(t, c.Namespace().ID(), askWhoami(t, c.Namespace()).ID)
		})
	}
}

// joinArgs joins arguments as a JSON array, as they are.
func joinArgs(args []json.RawMessage) string {
	out := []byte{'['}
	for i, a := range args {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, a...)
	}
	return string(append(out, ']'))
}

// TestV5ConnectError checks the errors a refusal gives with the two
// payload forms.
func TestV5ConnectErrorText(t *testing.T) {
	e := &ConnectError{Message: "nope"}
	assert.Equal(t, "nope", e.Error())
	assert.True(t, errors.Is(&NamespaceError{Namespace: "/x", Err: e}, ErrUnauthorized))
	assert.Equal(t, "(no message)", (&ConnectError{}).Error())
	assert.Equal(t, "v5", ProtocolV5.String())
	assert.Equal(t, "0.9", Protocol09.String())
}

// TestV5Upgrade: with polling before websocket in Transports the session
// opens with polling and upgrades to websocket, as socket.io-client does;
// nothing is lost or reordered on the way.
func TestV5Upgrade(t *testing.T) {
	url := startRef4(t, "--ping-interval", "200", "--ping-timeout", "300")
	for i := range 3 {
		t.Run(itoa(i), func(t *testing.T) {
			t.Parallel()
			lc := newLifecycle()
			c := dial5(t, url, "", lc.options(&Options{Transports: []string{Polling, WebSocket}, NoReconnect: true}))
			ib := newInbox(c.Namespace())
			sid := c.SessionID()
			// Emits and acks while the upgrade happens.
			const n = 200
			acks := make(chan []json.RawMessage, n)
			for j := range n {
				require.NoError(t, c.EmitWithAckFunc("echo", func(a []json.RawMessage) { acks <- a }, j))
				require.NoError(t, c.Emit("emit", "seq", j))
			}
			for j := range n {
				assert.Equal(t, "["+itoa(j)+"]", joinArgs(ib.next(t, "seq").args))
			}
			for range n {
				select {
				case <-acks:
				case <-time.After(waitFor):
					t.Fatal("an ack is missing")
				}
			}
			deadline := time.Now().Add(waitFor)
			for c.Transport() != WebSocket {
				require.True(t, time.Now().Before(deadline), "not upgraded")
				time.Sleep(10 * time.Millisecond)
			}
			assert.Equal(t, WebSocket, askWhoami(t, c.Namespace()).Transport)
			assert.Equal(t, sid, c.SessionID())
			// Binary and heartbeats over the upgraded transport.
			args, err := c.EmitWithAck(ctxFor(t), "echo", []byte{1, 2})
			require.NoError(t, err)
			assert.Equal(t, `["AQI="]`, joinArgs(args))
			time.Sleep(1200 * time.Millisecond) // more than twice interval + timeout
			assert.True(t, c.Connected())
			assert.Equal(t, 0, lc.count("disconnect"), lc.history())
		})
	}
	t.Run("not-offered", func(t *testing.T) {
		// A server without websocket offers no upgrade.
		url := startRef4(t, "--transports", "polling")
		c := dial5(t, url, "", &Options{Transports: []string{Polling, WebSocket}})
		assert.Equal(t, "/", askWhoami(t, c.Namespace()).NSP)
		assert.Equal(t, Polling, c.Transport())
	})
}

// TestV5Refused: a handshake the server refuses (allowRequest) is a
// *HandshakeError over both transports (socket.io@4 answers a refused
// polling handshake 403, a refused websocket upgrade 400).
func TestV5Refused(t *testing.T) {
	url := startRef4(t)
	for tr, status := range map[string]int{Polling: 403, WebSocket: 400} {
		_, err := tryDial5(t, url+"/?deny=1", tr, nil)
		var he *HandshakeError
		require.ErrorAs(t, err, &he, tr)
		assert.Equal(t, status, he.Status, tr)
		assert.Contains(t, he.Body, "Forbidden", tr)
	}
	// Both refused, in the default order.
	_, err := tryDial5(t, url+"/?deny=1", "", nil)
	assert.ErrorContains(t, err, "client: websocket: client: handshake refused: 400")
	assert.ErrorContains(t, err, "client: polling: client: handshake refused: 403")
}

// TestV5MaxPayload: polling POSTs stay within the server's maxPayload.
func TestV5MaxPayload(t *testing.T) {
	url := startRef4(t, "--max-payload", "5000")
	c := dial5(t, url, Polling, &Options{NoReconnect: true})
	text := strings.Repeat("x", 900)
	acks := make(chan struct{}, 100)
	for range 50 {
		require.NoError(t, c.EmitWithAckFunc("echo", func([]json.RawMessage) { acks <- struct{}{} }, text))
	}
	require.NoError(t, c.EmitWithAckFunc("echo", func([]json.RawMessage) { acks <- struct{}{} }, []byte(text)))
	for range 51 {
		select {
		case <-acks:
		case <-c.Done():
			t.Fatalf("lost: %v", c.Err())
		case <-time.After(waitFor):
			t.Fatal("an ack is missing")
		}
	}
}

// TestV5ServerSeesReason checks what the server sees when the client
// goes: Close sends a DISCONNECT per namespace ("client namespace
// disconnect"), Leave one for its namespace, and a kick is the server's.
func TestV5ServerSeesReason(t *testing.T) {
	url := startRef4(t)
	for _, tr := range transportsV5 {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			probe := dial5(t, url, "", nil)
			probeChat := probe.Of("/chat")
			require.NoError(t, probeChat.WaitConnected(ctxFor(t)))
			reason := func(ns *Namespace, id string) string {
				t.Helper()
				deadline := time.Now().Add(waitFor)
				for {
					args, err := ns.EmitWithAck(ctxFor(t), "reason", id)
					require.NoError(t, err)
					if string(args[0]) != "null" {
						var r string
						require.NoError(t, json.Unmarshal(args[0], &r))
						return r
					}
					require.True(t, time.Now().Before(deadline), "no disconnect of %s", id)
					time.Sleep(10 * time.Millisecond)
				}
			}

			c := dial5(t, url, tr, nil)
			chat := c.Of("/chat")
			require.NoError(t, chat.WaitConnected(ctxFor(t)))
			mainID, chatID := c.Namespace().ID(), chat.ID()
			require.NoError(t, chat.Leave())
			assert.Equal(t, "client namespace disconnect", reason(probeChat, chatID))
			require.NoError(t, c.Close())
			assert.Equal(t, "client namespace disconnect", reason(probe.Namespace(), mainID))

			c = dial5(t, url, tr, nil)
			id := c.Namespace().ID()
			require.NoError(t, c.Emit("kick"))
			<-c.Done()
			assert.Equal(t, "server namespace disconnect", reason(probe.Namespace(), id))
		})
	}
}
