package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConformance runs the client against the siogo testapp (the real
// examples/testapp binary) and the Node.js reference socket.io@0.9.19
// (testdata/reftestapp.js), over every transport, through the testapp
// contract (TESTAPP.md).
func TestConformance(t *testing.T) {
	targets := startTargets(t)
	checks := []struct {
		name string
		fn   func(t *testing.T, tg target, tr string)
	}{
		{"echo-ack", checkEchoAck},
		{"echo-event-typed", checkEchoEvent},
		{"message-and-json", checkMessages},
		{"message-acks", checkMessageAcks},
		{"ask-server-wants-ack", checkAsk},
		{"burst-order", checkBurst},
		{"namespaces", checkNamespaces},
		{"namespace-query", checkNamespaceQuery},
		{"namespace-refused", checkNamespaceRefused},
		{"handshake-refused", checkHandshakeRefused},
		{"acl", checkACL},
		{"rooms", checkRooms},
		{"concurrent-acks", checkConcurrentAcks},
		{"kick-namespace", checkKickNamespace},
		{"kick", checkKick},
	}
	for _, tg := range targets {
		for _, tr := range allTransports {
			t.Run(tg.name+"/"+tr, func(t *testing.T) {
				t.Parallel()
				for _, ck := range checks {
					t.Run(ck.name, func(t *testing.T) { ck.fn(t, tg, tr) })
				}
			})
		}
	}
}

// Values that have broken Socket.IO stacks: astral-plane characters
// (UTF-16 surrogate pairs: payload lengths count 2), U+2028/U+2029 (raw
// in JavaScript strings they end the line), </script> (jsonp), U+FFFD
// (the payload frame mark), quotes and backslashes.
var trickyValues = []string{
	`"plain"`,
	`"😀 astral 𝄞 and é"`,
	`"line\u2028separator\u2029paragraph"`,
	"\"raw \u2028 and \u2029\"",
	`"</script><script>alert(1)</script>"`,
	`"frame \ufffd3\ufffd mark"`,
	`"quote \" backslash \\ slash \/ nul \u0000"`,
	`""`,
	`{"nested":[1,2.5,-3e10,null,true,false,{"k":"😀"}],"empty":{}}`,
	`12345678901234`,
	`null`,
}

func checkEchoAck(t *testing.T, tg target, tr string) {
	c := dial(t, tg.url, tr, nil)
	ctx := ctxFor(t)
	for _, v := range trickyValues {
		got, err := c.EmitWithAck(ctx, "echo", json.RawMessage(v))
		require.NoError(t, err, "echo %s", v)
		require.Len(t, got, 1, "echo %s", v)
		assert.JSONEq(t, v, string(got[0]), "echo %s", v)
	}
	// Several arguments, and Go values.
	got, err := c.EmitWithAck(ctx, "echo", "a😀", 2, map[string]any{"x": []int{1}}, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `["a😀",2,{"x":[1]},null]`, argsJSON(got))
	// No arguments: an ack with no data.
	got, err = c.EmitWithAck(ctx, "echo")
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.NotNil(t, got)
}

func checkEchoEvent(t *testing.T, tg target, tr string) {
	type pair struct {
		S string
		N int
	}
	got := make(chan pair, 1)
	opts := &Options{OnConnect: func(ns *Namespace) {
		if ns.Name() == "" {
			assert.NoError(t, ns.On("echo", func(s string, n int) { got <- pair{s, n} }))
		}
	}}
	c := dial(t, tg.url, tr, opts)
	require.NoError(t, c.Emit("echo", "hé 😀\u2028", 42))
	select {
	case p := <-got:
		assert.Equal(t, pair{"hé 😀\u2028", 42}, p)
	case <-time.After(waitFor):
		t.Fatal("no echo event")
	}
}

func checkMessages(t *testing.T, tg target, tr string) {
	msgs := make(chan string, 4)
	jsons := make(chan string, 4)
	c := dial(t, tg.url, tr, nil)
	c.OnMessage(func(text string) { msgs <- text })
	c.OnJSON(func(v json.RawMessage) { jsons <- string(v) })
	require.NoError(t, c.Send("hello 😀 \u2028 </script>"))
	require.NoError(t, c.SendJSON(map[string]any{"a": []any{1, "😀"}}))
	select {
	case m := <-msgs:
		assert.Equal(t, "hello 😀 \u2028 </script>", m)
	case <-time.After(waitFor):
		t.Fatal("no message back")
	}
	select {
	case j := <-jsons:
		assert.JSONEq(t, `{"a":[1,"😀"]}`, j)
	case <-time.After(waitFor):
		t.Fatal("no json message back")
	}
}

// checkMessageAcks: messages and json messages sent asking for an ack
// ("3:1::text") are acked on receipt by both servers, in the blocking and
// the callback forms, and still echoed back; so is EmitWithAckFunc.
func checkMessageAcks(t *testing.T, tg target, tr string) {
	msgs := make(chan string, 4)
	c := dial(t, tg.url, tr, nil)
	c.OnMessage(func(text string) { msgs <- "message " + text })
	c.OnJSON(func(v json.RawMessage) { msgs <- "json " + string(v) })
	ctx := ctxFor(t)
	require.NoError(t, c.SendWithAck(ctx, "acked 😀"))
	assert.Equal(t, "message acked 😀", recv(t, msgs))
	require.NoError(t, c.SendJSONWithAck(ctx, []int{1}))
	assert.Equal(t, "json [1]", recv(t, msgs))
	acked := make(chan string, 3)
	require.NoError(t, c.SendWithAckFunc("cb", func() { acked <- "message" }))
	require.NoError(t, c.SendJSONWithAckFunc(map[string]int{"n": 2}, func() { acked <- "json" }))
	require.NoError(t, c.EmitWithAckFunc("echo", func(args []json.RawMessage) { acked <- "echo " + argsJSON(args) }, "x"))
	assert.Equal(t, "message", recv(t, acked))
	assert.Equal(t, "json", recv(t, acked))
	assert.Equal(t, `echo ["x"]`, recv(t, acked))
	assert.Equal(t, "message cb", recv(t, msgs))
	assert.Equal(t, `json {"n":2}`, recv(t, msgs))
}

// checkAsk: the server emits an event asking for an ack with data; the
// typed handler's results are the ack, which the server emits back as
// "answer".
func checkAsk(t *testing.T, tg target, tr string) {
	c := dial(t, tg.url, tr, nil)
	ib := newInbox(c.Namespace())
	require.NoError(t, c.On("question", func(ns *Namespace, s string, n int) (string, int, map[string]bool) {
		assert.Equal(t, "", ns.Name())
		return s + " 😀\u2028", n + 1, map[string]bool{"ok": true}
	}))
	require.NoError(t, c.Emit("ask", "question", "hi", 41))
	ev := ib.next(t, "answer")
	assert.JSONEq(t, `["hi 😀\u2028",42,{"ok":true}]`, argsJSON(ev.args))

	// A raw handler acking by hand.
	require.NoError(t, c.OnRaw("raw-question", RawHandler(func(args []json.RawMessage, ack AckFunc) {
		if assert.NotNil(t, ack, "the server asked for an ack") {
			assert.NoError(t, ack(args[0], "second"))
			assert.ErrorIs(t, ack("again"), ErrAckSent)
		}
	})))
	require.NoError(t, c.Emit("ask", "raw-question", []int{1, 2}))
	ev = ib.next(t, "answer")
	assert.JSONEq(t, `[[1,2],"second"]`, argsJSON(ev.args))

	// A handler returning an error acks {"error": text}, like the server.
	require.NoError(t, c.On("failing", func() (int, error) { return 0, errors.New("nope") }))
	require.NoError(t, c.Emit("ask", "failing"))
	ev = ib.next(t, "answer")
	assert.JSONEq(t, `[{"error":"nope"}]`, argsJSON(ev.args))
}

func checkBurst(t *testing.T, tg target, tr string) {
	c := dial(t, tg.url, tr, nil)
	ib := newInbox(c.Namespace())
	const n = 200
	require.NoError(t, c.Emit("burst", n))
	for i := range n {
		ev := ib.next(t, "burst")
		require.Equal(t, fmt.Sprintf("[%d]", i), argsJSON(ev.args), "burst event %d out of order", i)
	}
}

// checkNamespaces: several namespaces over one session, each with its own
// handlers and acks.
func checkNamespaces(t *testing.T, tg target, tr string) {
	lc := newLifecycle()
	c := dial(t, tg.url, tr, lc.options(nil))
	lc.wait(t, "connect", "")
	ctx := ctxFor(t)
	chat := c.Of("/chat")
	require.NoError(t, chat.WaitConnected(ctx))
	lc.wait(t, "connect", "/chat")
	assert.Same(t, chat, c.Of("/chat"))
	assert.Same(t, chat, c.Of("chat/"))

	got, err := chat.EmitWithAck(ctx, "echo", "in chat")
	require.NoError(t, err)
	assert.JSONEq(t, `["in chat"]`, argsJSON(got))

	// Events are per namespace: "everyone" on /chat reaches only /chat's
	// handlers.
	defIn, chatIn := newInbox(c.Namespace()), newInbox(chat)
	require.NoError(t, chat.Emit("everyone", "x"))
	assert.JSONEq(t, `["x"]`, argsJSON(chatIn.next(t, "everyone").args))
	got, err = c.EmitWithAck(ctx, "echo", "default")
	require.NoError(t, err)
	assert.JSONEq(t, `["default"]`, argsJSON(got))
	defIn.none(t, "everyone", 100*time.Millisecond)

	// The server asking for an ack on /chat: answered on /chat.
	require.NoError(t, chat.On("q", func(n int) int { return n * 2 }))
	require.NoError(t, chat.Emit("ask", "q", 21))
	assert.JSONEq(t, `[42]`, argsJSON(chatIn.next(t, "answer").args))

	// Leaving /chat.
	require.NoError(t, chat.Leave())
	lc.wait(t, "disconnect", "/chat")
	assert.ErrorIs(t, chat.Emit("echo"), ErrDisconnected)
	chat2 := c.Of("/chat")
	assert.NotSame(t, chat, chat2)
	require.NoError(t, chat2.WaitConnected(ctx))
	got, err = chat2.EmitWithAck(ctx, "echo", "back")
	require.NoError(t, err)
	assert.JSONEq(t, `["back"]`, argsJSON(got))
}

// checkNamespaceQuery: the URL's query goes into the handshake, where
// /private's authorization sees it.
func checkNamespaceQuery(t *testing.T, tg target, tr string) {
	lc := newLifecycle()
	c := dial(t, tg.url+"/private?token=secret&x=%C3%A9", tr, lc.options(nil))
	assert.Equal(t, "/private", c.Namespace().Name())
	assert.True(t, c.Namespace().Connected())
	lc.wait(t, "connect", "/private")
	ctx := ctxFor(t)
	got, err := c.EmitWithAck(ctx, "handshake")
	require.NoError(t, err)
	require.Len(t, got, 1)
	var hs struct {
		Query map[string]string `json:"query"`
	}
	require.NoError(t, json.Unmarshal(got[0], &hs))
	assert.Equal(t, "secret", hs.Query["token"])
	assert.Equal(t, "é", hs.Query["x"])
	// The default namespace of the same session works too.
	got, err = c.Of("").EmitWithAck(ctx, "echo", 1)
	require.NoError(t, err)
	assert.JSONEq(t, `[1]`, argsJSON(got))
}

func checkNamespaceRefused(t *testing.T, tg target, tr string) {
	// Dial to a refused namespace fails with ErrUnauthorized.
	_, err := tryDial(t, tg.url+"/private", tr, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnauthorized)
	var nerr *NamespaceError
	require.ErrorAs(t, err, &nerr)
	assert.Equal(t, "/private", nerr.Namespace)
	assert.Contains(t, err.Error(), "unauthorized")

	_, err = tryDial(t, tg.url+"/private?token=wrong", tr, nil)
	assert.ErrorIs(t, err, ErrUnauthorized)

	// Of on a session without the token: connect_failed, the rest works.
	lc := newLifecycle()
	c := dial(t, tg.url, tr, lc.options(nil))
	priv := c.Of("/private")
	ctx := ctxFor(t)
	err = priv.WaitConnected(ctx)
	assert.ErrorIs(t, err, ErrUnauthorized)
	h := lc.wait(t, "connect_failed", "/private")
	assert.ErrorIs(t, h.err, ErrUnauthorized)
	assert.ErrorIs(t, priv.Emit("echo"), ErrUnauthorized)
	_, err = priv.EmitWithAck(ctx, "echo")
	assert.ErrorIs(t, err, ErrUnauthorized)
	got, err := c.EmitWithAck(ctx, "echo", "still here")
	require.NoError(t, err)
	assert.JSONEq(t, `["still here"]`, argsJSON(got))
}

func checkHandshakeRefused(t *testing.T, tg target, tr string) {
	_, err := tryDial(t, tg.url+"/?deny=1", tr, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnauthorized)
	var herr *HandshakeError
	require.ErrorAs(t, err, &herr)
	assert.Equal(t, 403, herr.Status)
	assert.Equal(t, "client: handshake refused: 403 handshake unauthorized", err.Error())

	_, err = tryDial(t, tg.url+"/chat?deny=1", tr, nil)
	assert.ErrorIs(t, err, ErrUnauthorized)
}

func checkACL(t *testing.T, tg target, tr string) {
	denied := make(chan []string, 4)
	c := dial(t, tg.url+"/acl", tr, nil)
	require.NoError(t, c.On("error", func(reason, msg string) { denied <- []string{reason, msg} }))
	require.NoError(t, c.Emit("secret"))
	select {
	case d := <-denied:
		assert.Equal(t, []string{"method_access_denied", `You do not have access to method "secret"`}, d)
	case <-time.After(waitFor):
		t.Fatal("no method_access_denied error event")
	}
	ctx := ctxFor(t)
	got, err := c.EmitWithAck(ctx, "login", "letmein")
	require.NoError(t, err)
	assert.JSONEq(t, `[true]`, argsJSON(got))
	got, err = c.EmitWithAck(ctx, "secret")
	require.NoError(t, err)
	assert.JSONEq(t, `["s3cret"]`, argsJSON(got))
}

func checkRooms(t *testing.T, tg target, tr string) {
	ctx := ctxFor(t)
	a := dial(t, tg.url+"/chat", tr, nil)
	b := dial(t, tg.url+"/chat", tr, nil)
	aIn, bIn := newInbox(a.Namespace()), newInbox(b.Namespace())
	room := fmt.Sprintf("room-%d", time.Now().UnixNano())
	for _, c := range []*Client{a, b} {
		got, err := c.EmitWithAck(ctx, "join", room)
		require.NoError(t, err)
		assert.JSONEq(t, `[true]`, argsJSON(got))
	}
	require.NoError(t, a.Emit("broadcast-room", room, "from a", "😀"))
	assert.JSONEq(t, `["from a","😀"]`, argsJSON(bIn.next(t, "room").args))
	require.NoError(t, b.Emit("to-room", room, 7))
	assert.JSONEq(t, `[7]`, argsJSON(aIn.next(t, "room").args))
	assert.JSONEq(t, `[7]`, argsJSON(bIn.next(t, "room").args))
	got, err := a.EmitWithAck(ctx, "count", room)
	require.NoError(t, err)
	assert.JSONEq(t, `[2]`, argsJSON(got))
	got, err = a.EmitWithAck(ctx, "set", "k", map[string]int{"v": 1})
	require.NoError(t, err)
	assert.JSONEq(t, `[true]`, argsJSON(got))
	got, err = a.EmitWithAck(ctx, "get", "k")
	require.NoError(t, err)
	assert.JSONEq(t, `[{"v":1}]`, argsJSON(got))
}

// checkConcurrentAcks: many goroutines calling EmitWithAck at once each
// get their own answer (run with -race).
func checkConcurrentAcks(t *testing.T, tg target, tr string) {
	c := dial(t, tg.url, tr, nil)
	chat := c.Of("/chat")
	ctx := ctxFor(t)
	require.NoError(t, chat.WaitConnected(ctx))
	const workers, each = 16, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			ns := c.Namespace()
			if w%2 == 1 {
				ns = chat
			}
			for i := range each {
				want := fmt.Sprintf(`["w%d-%d 😀",%d]`, w, i, i)
				got, err := ns.EmitWithAck(ctx, "echo", fmt.Sprintf("w%d-%d 😀", w, i), i)
				if err != nil {
					errs <- err
					return
				}
				if g := argsJSON(got); g != want {
					errs <- fmt.Errorf("got %s, want %s", g, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func checkKickNamespace(t *testing.T, tg target, tr string) {
	lc := newLifecycle()
	c := dial(t, tg.url, tr, lc.options(nil))
	chat := c.Of("/chat")
	ctx := ctxFor(t)
	require.NoError(t, chat.WaitConnected(ctx))
	require.NoError(t, chat.Emit("kick"))
	h := lc.wait(t, "disconnect", "/chat")
	assert.ErrorIs(t, h.err, ErrKicked)
	assert.ErrorIs(t, chat.Emit("echo"), ErrKicked)
	assert.ErrorIs(t, chat.WaitConnected(ctx), ErrKicked)
	// The session and the default namespace live on.
	got, err := c.EmitWithAck(ctx, "echo", "alive")
	require.NoError(t, err)
	assert.JSONEq(t, `["alive"]`, argsJSON(got))
	// Of joins the kicked namespace again.
	require.NoError(t, c.Of("/chat").WaitConnected(ctx))
}

// checkKick: a server-side disconnect of the default namespace ends the
// session ("0::"); like socket.io.js the client does not reconnect.
func checkKick(t *testing.T, tg target, tr string) {
	lc := newLifecycle()
	c := dial(t, tg.url, tr, lc.options(&Options{ReconnectMinDelay: 50 * time.Millisecond}))
	chat := c.Of("/chat")
	ctx := ctxFor(t)
	require.NoError(t, chat.WaitConnected(ctx))
	pending := make(chan error, 1)
	go func() {
		// The server never answers "get-stuck"-style unknown events with
		// an ack; the kick must end the wait.
		_, err := c.EmitWithAck(ctx, "no-such-event")
		pending <- err
	}()
	waitAckSent(t, c)
	require.NoError(t, c.Emit("kick"))
	select {
	case <-c.Done():
	case <-time.After(waitFor):
		t.Fatalf("the client did not stop after a kick; %s", lc.history())
	}
	assert.ErrorIs(t, c.Err(), ErrKicked)
	d1 := lc.wait(t, "disconnect", "")
	d2 := lc.wait(t, "disconnect", "/chat")
	assert.ErrorIs(t, d1.err, ErrKicked)
	assert.ErrorIs(t, d2.err, ErrKicked)
	select {
	case err := <-pending:
		assert.ErrorIs(t, err, ErrDisconnected)
	case <-time.After(waitFor):
		t.Fatal("EmitWithAck still waiting after the kick")
	}
	assert.ErrorIs(t, c.Emit("echo"), ErrKicked)
	_, err := c.EmitWithAck(context.Background(), "echo")
	assert.ErrorIs(t, err, ErrKicked)
	assert.False(t, c.Connected())
	time.Sleep(100 * time.Millisecond)
	assert.Zero(t, lc.count("reconnecting"), "no reconnect after a kick: %s", lc.history())
}
