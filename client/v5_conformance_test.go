package client

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/apptest"
	"github.com/siogo/siogo/internal/nodetest"
)

// The v5 client against the testapp contract (TESTAPP.md, "Modern
// clients"): the Node.js reference reftestapp4.js (socket.io@4.8) always,
// and the siogo testapp binary as soon as it answers an Engine.IO v4
// handshake.

// servesV4 reports whether the server at base opens an Engine.IO v4
// polling session.
func servesV4(base string) bool {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(base + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode == http.StatusOK && strings.HasPrefix(string(body), "0{")
}

func startTargetsV5(t *testing.T) []target {
	t.Helper()
	nodetest.Require(t)
	targets := []target{{"reference", nodetest.StartServerScript(t, "reftestapp4.js"), false}}
	app := apptest.StartTestapp(t)
	if servesV4(app.URL) {
		targets = append(targets, target{"siogo", app.URL, true})
	} else {
		t.Log("the siogo testapp does not answer an Engine.IO v4 handshake yet: the reference only")
	}
	return targets
}

// modes are the v5 transport configurations: each transport alone, and
// polling upgraded to websocket.
var modesV5 = map[string][]string{
	"websocket": {WebSocket},
	"polling":   {Polling},
	"upgrade":   {Polling, WebSocket},
}

func TestV5Conformance(t *testing.T) {
	for _, tg := range startTargetsV5(t) {
		for mode, trs := range modesV5 {
			t.Run(tg.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				opts := func(o *Options) *Options {
					if o == nil {
						o = &Options{}
					}
					o.Transports = trs
					return o
				}
				t.Run("echo", func(t *testing.T) {
					c := dial5(t, tg.url, "", opts(nil))
					ib := newInbox(c.Namespace())
					args, err := c.EmitWithAck(ctxFor(t), "echo", "</script>", 1.5, map[string]any{"a": []any{true, nil}})
					require.NoError(t, err)
					assert.Equal(t, `["</script>",1.5,{"a":[true,null]}]`, joinArgs(args))
					require.NoError(t, c.Emit("echo", "no-ack", 2))
					assert.Equal(t, `["no-ack",2]`, joinArgs(ib.next(t, "echo").args))
					args, err = c.EmitWithAck(ctxFor(t), "echo", []byte{0, 1, 255}, map[string]any{"b": []byte("x")})
					require.NoError(t, err)
					assert.Equal(t, `["AAH/",{"b":"eA=="}]`, joinArgs(args))
				})
				t.Run("message", func(t *testing.T) {
					c := dial5(t, tg.url, "", opts(nil))
					texts := make(chan string, 1)
					c.OnMessage(func(s string) { texts <- s })
					require.NoError(t, c.Send("hello"))
					select {
					case s := <-texts:
						assert.Equal(t, "hello", s)
					case <-time.After(waitFor):
						t.Fatal("no message back")
					}
				})
				t.Run("ask", func(t *testing.T) {
					c := dial5(t, tg.url+"/chat", "", opts(nil))
					ib := newInbox(c.Namespace())
					require.NoError(t, c.On("q", func(n int) (int, []byte) { return n * 2, []byte{byte(n)} }))
					require.NoError(t, c.Emit("ask", "q", 21))
					assert.Equal(t, `[42,"FQ=="]`, joinArgs(ib.next(t, "answer").args))
				})
				t.Run("rooms", func(t *testing.T) {
					a := dial5(t, tg.url+"/chat", "", opts(nil))
					b := dial5(t, tg.url+"/chat", "", opts(nil))
					ib := newInbox(b.Namespace())
					for _, c := range []*Client{a, b} {
						args, err := c.EmitWithAck(ctxFor(t), "join", "r-"+mode)
						require.NoError(t, err)
						assert.Equal(t, `[true]`, joinArgs(args))
					}
					require.NoError(t, a.Emit("to-room", "r-"+mode, "hi", []byte{7}))
					assert.Equal(t, `["hi","Bw=="]`, joinArgs(ib.next(t, "room").args))
				})
				t.Run("burst", func(t *testing.T) {
					c := dial5(t, tg.url, "", opts(nil))
					ib := newInbox(c.Namespace())
					require.NoError(t, c.Emit("burst", 200))
					for i := range 200 {
						require.Equal(t, "["+itoa(i)+"]", joinArgs(ib.next(t, "burst").args))
					}
				})
				t.Run("handshake-auth", func(t *testing.T) {
					c := dial5(t, tg.url+"/?k=v", "", opts(&Options{Auth: map[string]any{"user": "u", "n": 2}}))
					args, err := c.EmitWithAck(ctxFor(t), "handshake")
					require.NoError(t, err)
					var hs struct {
						Query map[string]string `json:"query"`
					}
					require.NoError(t, json.Unmarshal(args[0], &hs))
					assert.Equal(t, "v", hs.Query["k"])
					assert.Equal(t, "4", hs.Query["EIO"])
					args, err = c.EmitWithAck(ctxFor(t), "auth")
					require.NoError(t, err)
					assert.JSONEq(t, `{"user":"u","n":2}`, string(args[0]))
					c = dial5(t, tg.url, "", opts(nil))
					args, err = c.EmitWithAck(ctxFor(t), "auth")
					require.NoError(t, err)
					assert.Equal(t, `[null]`, joinArgs(args))
				})
				t.Run("private", func(t *testing.T) {
					_, err := tryDial5(t, tg.url+"/private", "", opts(nil))
					var ce *ConnectError
					require.ErrorAs(t, err, &ce)
					assert.Equal(t, "unauthorized", ce.Message)
					assert.ErrorIs(t, err, ErrUnauthorized)
					c := dial5(t, tg.url+"/private", "", opts(&Options{Auth: map[string]string{"token": "secret"}}))
					assert.True(t, c.Namespace().Connected())
					c = dial5(t, tg.url+"/private?token=secret", "", opts(nil))
					assert.True(t, c.Namespace().Connected())
					_, err = tryDial5(t, tg.url+"/nowhere", "", opts(nil))
					require.ErrorAs(t, err, &ce)
					assert.Equal(t, "Invalid namespace", ce.Message)
				})
				t.Run("kick", func(t *testing.T) {
					lc := newLifecycle()
					c := dial5(t, tg.url, "", opts(lc.options(nil)))
					chat := c.Of("/chat")
					require.NoError(t, chat.WaitConnected(ctxFor(t)))
					require.NoError(t, chat.Emit("kick"))
					assert.ErrorIs(t, lc.wait(t, "disconnect", "/chat").err, ErrKicked)
					args, err := c.EmitWithAck(ctxFor(t), "echo", 1)
					require.NoError(t, err)
					assert.Equal(t, `[1]`, joinArgs(args))
					require.NoError(t, c.Emit("kick"))
					select {
					case <-c.Done():
					case <-time.After(waitFor):
						t.Fatal("not stopped by the kick")
					}
					assert.ErrorIs(t, c.Err(), ErrKicked)
				})
				t.Run("refused-handshake", func(t *testing.T) {
					_, err := tryDial5(t, tg.url+"/?deny=1", "", opts(nil))
					var he *HandshakeError
					require.ErrorAs(t, err, &he)
					assert.Contains(t, he.Body, "handshake unauthorized")
				})
			})
		}
	}
}
