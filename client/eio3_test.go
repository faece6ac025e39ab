package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/socketio"
)

// The ProtocolEIO3 client (Engine.IO v3, Socket.IO v4: socket.io-client
// 2.x's protocol) against the Node.js reference socket.io@4.8 with
// allowEIO3 (testdata/refserver4.js --allow-eio3).

var transportsEIO3 = []string{WebSocket, Polling, "upgrade"}

// dialEIO3 connects with ProtocolEIO3 over tr ("upgrade": polling then
// websocket).
func dialEIO3(t *testing.T, rawURL, tr string, opts *Options) (*Client, error) {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	opts.Protocol = ProtocolEIO3
	if tr == "upgrade" {
		opts.Transports = []string{Polling, WebSocket}
		tr = ""
	}
	return tryDial(t, rawURL, tr, opts)
}

func mustDialEIO3(t *testing.T, rawURL, tr string, opts *Options) *Client {
	t.Helper()
	c, err := dialEIO3(t, rawURL, tr, opts)
	require.NoError(t, err)
	return c
}

func TestEIO3Node(t *testing.T) {
	url := startRef4(t, "--allow-eio3", "--ping-interval", "300", "--ping-timeout", "1200")
	for _, tr := range transportsEIO3 {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			lc := newLifecycle()
			c := mustDialEIO3(t, url+"/?x=1", tr, lc.options(&Options{NoReconnect: true}))
			lc.wait(t, "connect", "")
			main := c.Namespace()
			w := askWhoami(t, main)
			assert.Equal(t, "/", w.NSP)
			assert.Equal(t, "3", w.Query["EIO"])
			assert.Equal(t, "1", w.Query["x"])
			assert.Equal(t, main.ID(), w.ID)
			if tr == "upgrade" {
				deadline := time.Now().Add(waitFor)
				for c.Transport() != WebSocket {
					require.True(t, time.Now().Before(deadline), "no upgrade")
					time.Sleep(10 * time.Millisecond)
				}
			}

			// Namespaces: the query is the v4 CONNECT's, the server's auth.
			chat := c.Of("/chat")
			require.NoError(t, chat.WaitConnected(ctxFor(t)))
			w = askWhoami(t, chat)
			assert.Equal(t, "/chat", w.NSP)
			assert.Equal(t, chat.ID(), w.ID)
			priv := c.Of("/private?token=bad")
			err := priv.WaitConnected(ctxFor(t))
			var ce *ConnectError
			require.ErrorAs(t, err, &ce)
			// v4 sends the error's data alone (or its message without).
			assert.JSONEq(t, `{"reason":"bad token"}`, string(ce.Data))
			assert.ErrorIs(t, err, ErrUnauthorized)
			priv = c.Of("/private?token=secret")
			require.NoError(t, priv.WaitConnected(ctxFor(t)))
			assert.Equal(t, "/private", askWhoami(t, priv).NSP)

			// Emit and acks both ways, binary both ways.
			args, err := c.EmitWithAck(ctxFor(t), "echo", "a", 1, []byte{1, 2, 3})
			require.NoError(t, err)
			require.Len(t, args, 3)
			var b []byte
			require.NoError(t, json.Unmarshal(args[2], &b))
			assert.Equal(t, []byte{1, 2, 3}, b)
			assert.Equal(t, `"a"`, string(args[0]))
			type nested struct {
				Nested []byte `json:"nested"`
				N      int    `json:"n"`
			}
			got := make(chan nested, 1)
			require.NoError(t, c.On("bin", func(a []byte, b nested) { got <- b }))
			_, err = c.EmitWithAck(ctxFor(t), "binary")
			require.NoError(t, err)
			assert.Equal(t, nested{Nested: []byte{4, 5}, N: 1}, <-got)
			ib := newInbox(main)
			require.NoError(t, c.On("q", func(in []byte) ([]byte, string) { return append(in, 9), "ok" }))
			require.NoError(t, c.Emit("ask", "q", []byte{7, 8}))
			ev := ib.next(t, "answer")
			require.Len(t, ev.args, 2)
			var out []byte
			require.NoError(t, json.Unmarshal(ev.args[0], &out))
			assert.Equal(t, []byte{7, 8, 9}, out)

			// The client's pings keep the session alive well past
			// pingInterval + pingTimeout.
			sid := c.SessionID()
			time.Sleep(2000 * time.Millisecond) // past pingInterval + pingTimeout (1.5 s)
			assert.True(t, c.Connected())
			assert.Equal(t, sid, c.SessionID())
			assert.Equal(t, 0, lc.count("disconnect"), lc.history())

			// Kicks.
			require.NoError(t, chat.Emit("kick"))
			assert.ErrorIs(t, lc.wait(t, "disconnect", "/chat").err, ErrKicked)
			require.NoError(t, c.Emit("kick"))
			select {
			case <-c.Done():
			case <-time.After(waitFor):
				t.Fatal("not stopped by the kick")
			}
			assert.ErrorIs(t, c.Err(), ErrKicked)
		})
	}
}

// TestEIO3Siogo: the ProtocolEIO3 client against siogo's own server,
// which serves EIO=3 sessions (Socket.IO v4).
func TestEIO3Siogo(t *testing.T) {
	// pingInterval 300 ms, pingTimeout 1200 ms: a client that does not
	// ping loses its session within 1.5 s.
	srv, base := startServer(t, socketio.Config{PingInterval: 300 * time.Millisecond, PingTimeout: 1200 * time.Millisecond}, nil)
	for _, name := range []string{"", "/chat", "/private"} {
		ns := srv.Of(name)
		require.NoError(t, ns.OnRaw("echo", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
			if ack != nil {
				_ = ack(rawArgs(args)...)
			}
		}))
		require.NoError(t, ns.On("echobin", func(s *socketio.Socket, a string, b []byte) (string, []byte) { return a, b }))
		require.NoError(t, ns.On("id", func(s *socketio.Socket) string { return s.ID() }))
		require.NoError(t, ns.On("kick", func(s *socketio.Socket) { s.Disconnect() }))
		require.NoError(t, ns.On("binary", func(s *socketio.Socket) []byte {
			_ = s.Emit("bin", []byte{1, 2, 3}, map[string]any{"nested": []byte{4, 5}, "n": 1})
			return []byte{6}
		}))
		require.NoError(t, ns.On("ask", func(s *socketio.Socket, in []byte) {
			go func() {
				args, err := s.EmitWithAck(context.Background(), "q", in)
				if err == nil {
					_ = s.Emit("answer", rawArgs(args)...)
				}
			}()
		}))
	}
	srv.Of("/private").Authorize(func(_ context.Context, _ *socketio.Handshake, q url.Values) error {
		if q.Get("token") != "secret" {
			return errors.New("unauthorized")
		}
		return nil
	})
	for _, tr := range transportsEIO3 {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			lc := newLifecycle()
			c := mustDialEIO3(t, base+"/?x=1", tr, lc.options(&Options{NoReconnect: true}))
			lc.wait(t, "connect", "")
			main := c.Namespace()
			args, err := main.EmitWithAck(ctxFor(t), "id")
			require.NoError(t, err)
			assert.Equal(t, `"`+c.SessionID()+`"`, string(args[0]))
			assert.Equal(t, c.SessionID(), main.ID())

			chat := c.Of("/chat")
			require.NoError(t, chat.WaitConnected(ctxFor(t)))
			args, err = chat.EmitWithAck(ctxFor(t), "id")
			require.NoError(t, err)
			assert.Equal(t, `"/chat#`+c.SessionID()+`"`, string(args[0]))
			assert.Equal(t, "/chat#"+c.SessionID(), chat.ID())

			priv := c.Of("/private?token=bad")
			err = priv.WaitConnected(ctxFor(t))
			var ce *ConnectError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "unauthorized", ce.Message)
			assert.ErrorIs(t, err, ErrUnauthorized)
			priv = c.Of("/private?token=secret")
			require.NoError(t, priv.WaitConnected(ctxFor(t)))

			args, err = priv.EmitWithAck(ctxFor(t), "echobin", "a", []byte{1, 2, 3})
			require.NoError(t, err)
			require.Len(t, args, 2)
			var b []byte
			require.NoError(t, json.Unmarshal(args[1], &b))
			assert.Equal(t, []byte{1, 2, 3}, b)

			type nested struct {
				Nested []byte `json:"nested"`
				N      int    `json:"n"`
			}
			got := make(chan nested, 1)
			require.NoError(t, c.On("bin", func(a []byte, b nested) { got <- b }))
			args, err = c.EmitWithAck(ctxFor(t), "binary")
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(args[0], &b))
			assert.Equal(t, []byte{6}, b)
			assert.Equal(t, nested{Nested: []byte{4, 5}, N: 1}, <-got)
			ib := newInbox(main)
			require.NoError(t, c.On("q", func(in []byte) []byte { return append(in, 9) }))
			require.NoError(t, c.Emit("ask", []byte{7, 8}))
			ev := ib.next(t, "answer")
			require.Len(t, ev.args, 1)
			require.NoError(t, json.Unmarshal(ev.args[0], &b))
			assert.Equal(t, []byte{7, 8, 9}, b)

			sid := c.SessionID()
			time.Sleep(2000 * time.Millisecond) // past pingInterval + pingTimeout (1.5 s)
			assert.True(t, c.Connected())
			assert.Equal(t, sid, c.SessionID())
			assert.Equal(t, 0, lc.count("disconnect"), lc.history())

			require.NoError(t, chat.Emit("kick"))
			assert.ErrorIs(t, lc.wait(t, "disconnect", "/chat").err, ErrKicked)
			require.NoError(t, c.Emit("kick"))
			select {
			case <-c.Done():
			case <-time.After(waitFor):
				t.Fatal("not stopped by the kick")
			}
			assert.ErrorIs(t, c.Err(), ErrKicked)
		})
	}
}
