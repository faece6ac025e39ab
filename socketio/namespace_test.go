package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/acl"
	"github.com/siogo/siogo/packet"
)

// recConn is a session stand-in that records what sockets queue. The real
// session (package socketio) is exercised end to end in its own tests and
// with real clients; here the namespace logic is tested alone.
type recConn struct {
	id     string
	hs     *Handshake
	mu     sync.Mutex
	frames []string
	closed string
	full   bool // refuse non-volatile sends, like a closed session
}

func newConn(id string) *recConn {
	return &recConn{id: id, hs: &Handshake{Query: url.Values{"token": {"t"}}}}
}

func (c *recConn) ID() string            { return c.id }
func (c *recConn) Handshake() *Handshake { return c.hs }
func (c *recConn) Transport() string     { return "test" }
func (c *recConn) protocol() protocolID  { return proto09 }
func (c *recConn) Send(frame []byte, volatile bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.full {
		return false
	}
	c.frames = append(c.frames, string(frame))
	return true
}
func (c *recConn) Close(reason string) {
	c.mu.Lock()
	c.closed = reason
	c.mu.Unlock()
}

func (c *recConn) sent() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.frames...)
}

// waitFrame waits until a frame satisfying ok was sent.
func (c *recConn) waitFrame(t *testing.T, ok func(string) bool) string {
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
	}, 2*time.Second, time.Millisecond, "no matching frame in %q", c.sent())
	return found
}

func (c *recConn) waitExact(t *testing.T, want string) {
	t.Helper()
	c.waitFrame(t, func(f string) bool { return f == want })
}

// waitIdle waits until every handler and hook queued for s has run.
func waitIdle(t *testing.T, s *Socket) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, s.drain(ctx), "the socket's handlers are still running")
}

func quietOpts() nsOptions { return nsOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))} }

func decode(t *testing.T, s string) *packet.Packet {
	t.Helper()
	p, err := packet.Decode(s)
	require.NoError(t, err)
	return &p
}

func connect(t *testing.T, ns *Namespace, id string) (*Socket, *recConn) {
	t.Helper()
	c := newConn(id)
	s, err := ns.connect(c, nil)
	require.NoError(t, err)
	t.Cleanup(func() { s.close(ReasonSocketEnd) })
	return s, c
}

func TestConnectTellsTheClient(t *testing.T) {
	ns := newNamespace("/chat", quietOpts())
	_, c := connect(t, ns, "a")
	assert.Equal(t, []string{"1::/chat"}, c.sent())
}

func TestTypedHandlerDecodesArgsAndAcksResults(t *testing.T) {
	ns := newNamespace("", quietOpts())
	type point struct{ X, Y int }
	require.NoError(t, ns.On("add", func(s *Socket, a int, p point, tags ...string) (int, string) {
		return a + p.X + p.Y, strings.Join(tags, ",")
	}))
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:7+::{"name":"add","args":[1,{"X":2,"Y":3},"x","y"]}`))
	c.waitExact(t, `6:::7+[6,"x,y"]`)
}

func TestTypedHandlerErrorIsAcked(t *testing.T) {
	ns := newNamespace("", quietOpts())
	require.NoError(t, ns.On("fail", func(s *Socket) (int, error) { return 0, errors.New("nope") }))
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:1+::{"name":"fail"}`))
	c.waitExact(t, `6:::1+[{"error":"nope"}]`)
}

func TestArgumentThatDoesNotDecodeRunsNothingAndIsAnswered(t *testing.T) {
	ns := newNamespace("", quietOpts())
	ran := make(chan struct{}, 1)
	require.NoError(t, ns.On("num", func(s *Socket, n int) { ran <- struct{}{} }))
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:1+::{"name":"num","args":["not a number"]}`))
	s.handlePacket(decode(t, `5:2+::{"name":"num","args":[5]}`))
	c.waitExact(t, `6:::2`)
	assert.Len(t, ran, 1, "only the well-typed call ran")
	f := c.waitFrame(t, func(f string) bool { return strings.HasPrefix(f, "6:::1+") })
	assert.Contains(t, f, `"error":"argument 0:`, "the client is not left waiting for its ack")
}

func TestJoiningAnotherSocketsOwnRoomIsRefused(t *testing.T) {
	ns := newNamespace("", quietOpts())
	a, _ := connect(t, ns, sidA)
	_, cb := connect(t, ns, sidB)
	assert.ErrorIs(t, a.Join(sidB), ErrReservedRoom)
	require.NoError(t, ns.To(sidB).Emit("private"))
	cb.waitExact(t, `5:::{"name":"private"}`)
	ids, _ := ns.Clients(sidB)
	assert.Equal(t, []string{sidB}, ids)
	assert.NoError(t, a.Join(sidA), "its own room is fine")
}

func TestNoHandlerRunsAfterTheDisconnectHooks(t *testing.T) {
	ns := newNamespace("", quietOpts())
	var mu sync.Mutex
	var events []string
	gate := make(chan struct{})
	require.NoError(t, ns.On("block", func(s *Socket) { <-gate }))
	require.NoError(t, ns.On("late", func(s *Socket) { mu.Lock(); events = append(events, "late"); mu.Unlock() }))
	ns.OnDisconnect(func(s *Socket, reason string) { mu.Lock(); events = append(events, "disconnect"); mu.Unlock() })
	s, _ := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:::{"name":"block"}`))
	s.handlePacket(decode(t, `5:::{"name":"late"}`)) // queued before the disconnect: runs
	s.close(ReasonSocketEnd)
	s.run(func() { mu.Lock(); events = append(events, "after"); mu.Unlock() }) // a packet that raced the close
	close(gate)
	waitIdle(t, s)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"late", "disconnect"}, events)
}

func TestAutoAckComesBeforeTheHandler(t *testing.T) {
	ns := newNamespace("/chat", quietOpts())
	require.NoError(t, ns.On("ping", func(s *Socket) { _ = s.Emit("pong") }))
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:3:/chat:{"name":"ping"}`))
	c.waitExact(t, `5::/chat:{"name":"pong"}`)
	assert.Equal(t, []string{"1::/chat", "6::/chat:3", `5::/chat:{"name":"pong"}`}, c.sent())
}

func TestRawHandlerGetsAckOnlyWhenAsked(t *testing.T) {
	ns := newNamespace("", quietOpts())
	got := make(chan bool, 2)
	require.NoError(t, ns.OnRaw("x", func(s *Socket, args []json.RawMessage, ack AckFunc) {
		got <- ack != nil
		if ack != nil {
			require.NoError(t, ack(args[0]))
			assert.ErrorIs(t, ack(1), ErrAckSent, "a second ack sends nothing")
		}
	}))
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:::{"name":"x","args":["a"]}`))
	s.handlePacket(decode(t, `5:9+::{"name":"x","args":["b"]}`))
	assert.False(t, <-got)
	assert.True(t, <-got)
	c.waitExact(t, `6:::9+["b"]`)
}

func TestReservedEventsCannotBeRegisteredAndDisconnectIsDropped(t *testing.T) {
	ns := newNamespace("", quietOpts())
	assert.ErrorIs(t, ns.On("disconnect", func(s *Socket) {}), ErrReservedEvent)
	assert.Error(t, ns.On("bad", 42))
	assert.Error(t, ns.On("bad", func(x int) {}))
	var hooks int
	var mu sync.Mutex
	ns.OnDisconnect(func(s *Socket, reason string) { mu.Lock(); hooks++; mu.Unlock() })
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:1::{"name":"disconnect"}`))
	waitIdle(t, s)
	assert.False(t, s.Disconnected(), "a client cannot fire the disconnect event")
	assert.Equal(t, []string{"1::"}, c.sent(), "blacklisted events are not even auto-acked")
}

func TestACLRefusesLiftsAndChanges(t *testing.T) {
	ns := newNamespace("/acl", quietOpts())
	ns.SetInitialACL(acl.Allow("login"))
	ran := make(chan string, 4)
	require.NoError(t, ns.On("login", func(s *Socket, pw string) bool {
		ran <- "login"
		if pw == "ok" {
			s.LiftACL()
			return true
		}
		return false
	}))
	require.NoError(t, ns.On("secret", func(s *Socket) string { ran <- "secret"; return "s" }))
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:1+:/acl:{"name":"secret"}`))
	c.waitExact(t, `5::/acl:{"name":"error","args":["method_access_denied","You do not have access to method \"secret\""]}`)
	s.handlePacket(decode(t, `5:2+:/acl:{"name":"login","args":["ok"]}`))
	c.waitExact(t, `6::/acl:2+[true]`)
	assert.True(t, s.ACL().Unrestricted())
	s.handlePacket(decode(t, `5:3+:/acl:{"name":"secret"}`))
	c.waitExact(t, `6::/acl:3+["s"]`)
	assert.Equal(t, "login", <-ran)
	assert.Equal(t, "secret", <-ran)
	for _, f := range c.sent() {
		assert.NotEqual(t, `6::/acl:1+["s"]`, f, "the refused call was not acked")
	}
	s.SetACL(acl.Allow())
	s.handlePacket(decode(t, `5:4+:/acl:{"name":"login","args":["x"]}`))
	c.waitExact(t, `5::/acl:{"name":"error","args":["method_access_denied","You do not have access to method \"login\""]}`)
}

func TestAuthorizationSeesHandshakeAndConnectQuery(t *testing.T) {
	ns := newNamespace("/private", quietOpts())
	var seen url.Values
	ns.Authorize(func(_ context.Context, hs *Handshake, q url.Values) error {
		seen = q
		if q.Get("pass") != "yes" {
			return ErrUnauthorized
		}
		return nil
	})
	_, err := ns.connect(newConn("a"), url.Values{"pass": {"no"}})
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, "t", seen.Get("token"), "handshake query is merged in")
	s, err := ns.connect(newConn("b"), url.Values{"pass": {"yes"}})
	require.NoError(t, err)
	s.close(ReasonSocketEnd)
	ns.Authorize(func(context.Context, *Handshake, url.Values) error { panic("boom") })
	_, err = ns.connect(newConn("c"), nil)
	assert.ErrorIs(t, err, ErrUnauthorized, "a panicking authorization refuses")
}

func TestRoomsBroadcastAndExcept(t *testing.T) {
	ns := newNamespace("/r", quietOpts())
	a, ca := connect(t, ns, "a")
	b, cb := connect(t, ns, "b")
	_, cc := connect(t, ns, "c")
	require.NoError(t, a.Join("room"))
	require.NoError(t, b.Join("room"))
	rooms, err := a.Rooms()
	require.NoError(t, err)
	assert.Equal(t, []string{"room"}, rooms, "own-id room is hidden")
	ids, _ := ns.Clients("room")
	assert.Equal(t, []string{"a", "b"}, ids)
	all, _ := ns.Clients("")
	assert.Equal(t, []string{"a", "b", "c"}, all)

	require.NoError(t, a.Broadcast().To("room").Emit("hi", 1))
	want := `5::/r:{"name":"hi","args":[1]}`
	cb.waitExact(t, want)
	assert.NotContains(t, ca.sent(), want)
	assert.NotContains(t, cc.sent(), want)

	require.NoError(t, ns.To("b").Emit("direct"))
	cb.waitExact(t, `5::/r:{"name":"direct"}`)
	require.NoError(t, ns.Emit("all"))
	for _, c := range []*recConn{ca, cb, cc} {
		c.waitExact(t, `5::/r:{"name":"all"}`)
	}
	require.NoError(t, a.Leave("room"))
	ids, _ = ns.Clients("room")
	assert.Equal(t, []string{"b"}, ids)
	b.close(ReasonSocketEnd)
	ids, _ = ns.Clients("room")
	assert.Empty(t, ids, "disconnect leaves every room")
}

func TestEmitWithAckAndCall(t *testing.T) {
	ns := newNamespace("", quietOpts())
	s, c := connect(t, ns, "a")
	got := make(chan []json.RawMessage, 1)
	require.NoError(t, s.EmitWithAckFunc("q", func(args []json.RawMessage) { got <- args }, "x"))
	c.waitExact(t, `5:1+::{"name":"q","args":["x"]}`)
	s.handlePacket(decode(t, `6:::1+["answer"]`))
	assert.Equal(t, []json.RawMessage{json.RawMessage(`"answer"`)}, <-got)
	assert.Equal(t, 0, s.PendingAcks())

	done := make(chan error, 1)
	go func() {
		res, err := s.EmitWithAck(context.Background(), "q2")
		if err == nil && string(res[0]) != "42" {
			err = errors.New("wrong answer " + string(res[0]))
		}
		done <- err
	}()
	c.waitExact(t, `5:2+::{"name":"q2"}`)
	s.handlePacket(decode(t, `6:::2+[42]`))
	require.NoError(t, <-done)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := s.EmitWithAck(ctx, "never")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 0, s.PendingAcks(), "a timed-out call frees its slot")
}

func TestPendingAcksAreFreedOnDisconnect(t *testing.T) {
	ns := newNamespace("", quietOpts())
	s, _ := connect(t, ns, "a")
	for i := 0; i < 10; i++ {
		require.NoError(t, s.EmitWithAckFunc("q", func([]json.RawMessage) { t.Error("must not run") }))
	}
	errc := make(chan error, 1)
	go func() { _, err := s.EmitWithAck(context.Background(), "q"); errc <- err }()
	require.Eventually(t, func() bool { return s.PendingAcks() == 11 }, time.Second, time.Millisecond)
	s.close(ReasonSocketEnd)
	assert.ErrorIs(t, <-errc, ErrDisconnected)
	assert.Equal(t, 0, s.PendingAcks())
	assert.ErrorIs(t, s.EmitWithAckFunc("q", func([]json.RawMessage) {}), ErrDisconnected)
}

func TestMaxPendingAcks(t *testing.T) {
	opts := quietOpts()
	opts.MaxPendingAcks = 2
	ns := newNamespace("", opts)
	s, _ := connect(t, ns, "a")
	require.NoError(t, s.EmitWithAckFunc("q", func([]json.RawMessage) {}))
	require.NoError(t, s.EmitWithAckFunc("q", func([]json.RawMessage) {}))
	assert.ErrorIs(t, s.EmitWithAckFunc("q", func([]json.RawMessage) {}), ErrTooManyAcks)
}

func TestHandlerPanicIsRecoveredAndOrderKept(t *testing.T) {
	ns := newNamespace("", quietOpts())
	var mu sync.Mutex
	var order []int
	require.NoError(t, ns.On("n", func(s *Socket, i int) {
		if i == 3 {
			panic("handler bug")
		}
		mu.Lock()
		order = append(order, i)
		mu.Unlock()
	}))
	s, _ := connect(t, ns, "a")
	for i := 0; i < 50; i++ {
		s.handlePacket(&packet.Packet{Type: packet.Event, Name: "n", Args: []json.RawMessage{json.RawMessage(itoa(i))}})
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == 49 }, 2*time.Second, time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(order); i++ {
		assert.Less(t, order[i-1], order[i], "handlers of one socket run in order")
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestDisconnectHooksRunOnceWithReason(t *testing.T) {
	ns := newNamespace("/chat", quietOpts())
	reasons := make(chan string, 4)
	ns.OnDisconnect(func(s *Socket, reason string) { reasons <- reason })
	s, c := connect(t, ns, "a")
	s.Disconnect()
	s.close(ReasonSocketEnd)
	s.handlePacket(decode(t, `0::/chat`))
	assert.Equal(t, ReasonBooted, <-reasons)
	waitIdle(t, s) // the hooks have run, all of them
	select {
	case r := <-reasons:
		t.Fatalf("disconnect hook ran twice (second reason %q)", r)
	default:
	}
	assert.Contains(t, c.sent(), "0::/chat", "the client is told it was kicked")
	assert.Nil(t, ns.Socket("a"))
}

func TestDefaultNamespaceKickClosesTheSession(t *testing.T) {
	ns := newNamespace("", quietOpts())
	s, c := connect(t, ns, "a")
	s.Disconnect()
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Equal(t, ReasonBooted, c.closed)
}

type chatNS struct {
	mu        sync.Mutex
	connected []string
}

func (n *chatNS) OnConnect(s *Socket) {
	n.mu.Lock()
	n.connected = append(n.connected, s.ID())
	n.mu.Unlock()
}
func (n *chatNS) OnSendMessage(s *Socket, text string) string { return "got " + text }
func (n *chatNS) OnPing(s *Socket) string                     { return "pong" }
func (n *chatNS) Helper() int                                 { return 1 }

func TestRegisterMakesMethodsEvents(t *testing.T) {
	assert.Equal(t, "send_message", EventName("OnSendMessage"))
	assert.Equal(t, "chat", EventName("OnChat"))
	ns := newNamespace("", quietOpts())
	obj := &chatNS{}
	require.NoError(t, Register(ns, func(*Socket) *chatNS { return obj }), "a value shared by every socket")
	assert.ElementsMatch(t, []string{"send_message", "ping"}, handlerNames(ns))
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:1+::{"name":"send_message","args":["hi"]}`))
	c.waitExact(t, `6:::1+["got hi"]`)
	require.Eventually(t, func() bool { obj.mu.Lock(); defer obj.mu.Unlock(); return len(obj.connected) == 1 }, time.Second, time.Millisecond)
}

func TestStoreAndMessages(t *testing.T) {
	ns := newNamespace("", quietOpts())
	texts := make(chan string, 2)
	ns.OnMessage(func(s *Socket, text string, ack AckFunc) { texts <- text })
	ns.OnJSON(func(s *Socket, v json.RawMessage, ack AckFunc) { texts <- string(v) })
	s, c := connect(t, ns, "a")
	s.Set("k", 1)
	v, ok := s.Get("k")
	assert.True(t, ok)
	assert.Equal(t, 1, v)
	s.Del("k")
	_, ok = s.Get("k")
	assert.False(t, ok)
	s.handlePacket(decode(t, `3:::hello: world`))
	s.handlePacket(decode(t, `4:::{"a":1}`))
	assert.Equal(t, "hello: world", <-texts)
	assert.Equal(t, `{"a":1}`, <-texts)
	require.NoError(t, s.Send("x"))
	require.NoError(t, s.SendJSON(map[string]int{"b": 2}))
	assert.Contains(t, c.sent(), "3:::x")
	assert.Contains(t, c.sent(), `4:::{"b":2}`)
	c.mu.Lock()
	c.full = true
	c.mu.Unlock()
	assert.ErrorIs(t, s.Emit("x"), ErrNotDelivered)
	assert.NoError(t, s.Volatile().Emit("x"), "a dropped volatile emit is not an error")
}

func TestACLChangeAppliesToEventsAlreadyReceived(t *testing.T) {
	ns := newNamespace("", quietOpts())
	ns.SetInitialACL(acl.Allow("move"))
	moves := make(chan int, 2)
	require.NoError(t, ns.On("move", func(s *Socket, n int) {
		s.SetACL(acl.Allow()) // one move per turn
		moves <- n
	}))
	s, c := connect(t, ns, "a")
	// Two moves read back to back, before the first handler ran.
	s.handlePacket(decode(t, `5:1+::{"name":"move","args":[1]}`))
	s.handlePacket(decode(t, `5:2+::{"name":"move","args":[2]}`))
	c.waitExact(t, `5:::{"name":"error","args":["method_access_denied","You do not have access to method \"move\""]}`)
	assert.Equal(t, 1, <-moves)
	assert.Len(t, moves, 0, "the second move was refused")
	assert.Error(t, func() error { s.close(ReasonSocketEnd); return s.Join("x") }(), "a disconnected socket joins nothing")
}

// TestAutoAcksKeepTheSocketsOrder: an auto-ack (an id without '+') is sent
// in the socket's order, as the reference does — after the handlers of the
// packets before it, before its own handler — for messages, json messages
// and events alike.
func TestAutoAcksKeepTheSocketsOrder(t *testing.T) {
	for _, tc := range []struct {
		name, second, ack, echo string
	}{
		{"message", `3:11::n`, `6:::11`, `3:::n`},
		{"json", `4:11::{"n":1}`, `6:::11`, `4:::{"n":1}`},
		{"event", `5:11::{"name":"echo","args":["n"]}`, `6:::11`, `5:::{"name":"echo","args":["n"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := newNamespace("", quietOpts())
			// The first handler is still running when the second packet
			// arrives: its reply must come before the second's ack.
			gate := make(chan struct{})
			ns.OnMessage(func(s *Socket, text string, ack AckFunc) {
				if text == "m" {
					<-gate
				}
				_ = s.Send(text)
			})
			ns.OnJSON(func(s *Socket, v json.RawMessage, ack AckFunc) { _ = s.SendJSON(v) })
			require.NoError(t, ns.OnRaw("echo", func(s *Socket, args []json.RawMessage, ack AckFunc) {
				_ = s.Emit("echo", args[0])
			}))
			s, c := connect(t, ns, "a")
			s.handlePacket(decode(t, `3:::m`))
			s.handlePacket(decode(t, tc.second))
			close(gate)
			c.waitExact(t, tc.echo)
			assert.Equal(t, []string{"1::", "3:::m", tc.ack, tc.echo}, c.sent())
		})
	}
}

// TestAutoAckWithoutAHandler: a message with an id is acknowledged even
// when nothing handles messages, still in order.
func TestAutoAckWithoutAHandler(t *testing.T) {
	ns := newNamespace("/chat", quietOpts())
	gate := make(chan struct{})
	require.NoError(t, ns.On("slow", func(s *Socket) { <-gate; _ = s.Emit("done") }))
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5::/chat:{"name":"slow"}`))
	s.handlePacket(decode(t, `3:4:/chat:unhandled`))
	s.handlePacket(decode(t, `4:5:/chat:[1]`))
	close(gate)
	c.waitExact(t, `6::/chat:5`)
	assert.Equal(t, []string{"1::/chat", `5::/chat:{"name":"done"}`, "6::/chat:4", "6::/chat:5"}, c.sent())
}

// TestSendWithAck: a message or json message asking the client for an
// ack carries an id without '+', as the reference's socket.send(text, fn)
// does; the callback runs when the client's ack arrives, once, and its
// slot is freed.
func TestSendWithAck(t *testing.T) {
	ns := newNamespace("/chat", quietOpts())
	s, c := connect(t, ns, "a")
	got := make(chan string, 2)
	require.NoError(t, s.SendWithAckFunc("tobi", func() { got <- "tobi" }))
	require.NoError(t, s.SendJSONWithAckFunc(map[string]int{"a": 1}, func() { got <- "json" }))
	c.waitExact(t, "3:1:/chat:tobi")
	c.waitExact(t, `4:2:/chat:{"a":1}`)
	assert.Equal(t, 2, s.PendingAcks())
	s.handlePacket(decode(t, "6::/chat:2"))
	assert.Equal(t, "json", <-got)
	s.handlePacket(decode(t, "6::/chat:1"))
	assert.Equal(t, "tobi", <-got)
	s.handlePacket(decode(t, "6::/chat:1")) // a repeated ack runs nothing
	assert.Equal(t, 0, s.PendingAcks())
	require.NoError(t, s.drain(context.Background()))
	assert.Empty(t, got)

	require.NoError(t, s.SendWithAckFunc("nil callback", nil))
	s.handlePacket(decode(t, "6::/chat:3"))
	assert.Equal(t, 0, s.PendingAcks(), "a nil callback frees its slot")

	assert.Error(t, s.SendJSONWithAckFunc(make(chan int), func() {}), "a value that does not marshal")
	assert.Equal(t, 0, s.PendingAcks())
}

func TestSendWithAckWaits(t *testing.T) {
	ns := newNamespace("", quietOpts())
	s, c := connect(t, ns, "a")
	done := make(chan error, 2)
	go func() { done <- s.SendWithAck(context.Background(), "tobi") }()
	c.waitExact(t, "3:1::tobi")
	s.handlePacket(decode(t, "6:::1"))
	require.NoError(t, <-done)

	go func() { done <- s.SendJSONWithAck(context.Background(), []int{1}) }()
	c.waitExact(t, "4:2::[1]")
	s.handlePacket(decode(t, "6:::2"))
	require.NoError(t, <-done)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, s.SendWithAck(ctx, "never"), context.DeadlineExceeded)
	assert.Equal(t, 0, s.PendingAcks(), "a timed-out wait frees its slot")

	go func() { done <- s.SendJSONWithAck(context.Background(), "x") }()
	require.Eventually(t, func() bool { return s.PendingAcks() == 1 }, 2*time.Second, time.Millisecond)
	s.close(ReasonSocketEnd)
	assert.ErrorIs(t, <-done, ErrDisconnected)
	assert.ErrorIs(t, s.SendWithAckFunc("late", func() { t.Error("must not run") }), ErrDisconnected)
	assert.ErrorIs(t, s.SendWithAck(context.Background(), "late"), ErrDisconnected)
}

func TestSendWithAckCountsTowardsMaxPendingAcks(t *testing.T) {
	opts := quietOpts()
	opts.MaxPendingAcks = 2
	ns := newNamespace("", opts)
	s, c := connect(t, ns, "a")
	require.NoError(t, s.SendWithAckFunc("a", nil))
	require.NoError(t, s.EmitWithAckFunc("q", func([]json.RawMessage) {}))
	assert.ErrorIs(t, s.SendWithAckFunc("b", nil), ErrTooManyAcks)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	assert.ErrorIs(t, s.SendWithAck(ctx, "b"), ErrTooManyAcks)
	assert.ErrorIs(t, s.SendJSONWithAckFunc(1, nil), ErrTooManyAcks)
	assert.NotContains(t, c.sent(), "3:3::b")

	s2, c2 := connect(t, ns, "b")
	c2.mu.Lock()
	c2.full = true
	c2.mu.Unlock()
	assert.ErrorIs(t, s2.SendWithAckFunc("x", nil), ErrNotDelivered)
	assert.Equal(t, 0, s2.PendingAcks(), "an undelivered message frees its slot")
}

// TestEmitterSendAndSendJSON: messages to the whole namespace, a room and
// a broadcast are encoded once, reach the selection only, and honour
// Volatile.
func TestEmitterSendAndSendJSON(t *testing.T) {
	ns := newNamespace("/r", quietOpts())
	a, ca := connect(t, ns, "a")
	b, cb := connect(t, ns, "b")
	_, cc := connect(t, ns, "c")
	require.NoError(t, a.Join("room"))
	require.NoError(t, b.Join("room"))

	require.NoError(t, ns.Send("to all"))
	require.NoError(t, ns.SendJSON(map[string]any{"all": true}))
	for _, c := range []*recConn{ca, cb, cc} {
		c.waitExact(t, "3::/r:to all")
		c.waitExact(t, `4::/r:{"all":true}`)
	}
	require.NoError(t, ns.To("room").SendJSON([]string{"room"}))
	cb.waitExact(t, `4::/r:["room"]`)
	ca.waitExact(t, `4::/r:["room"]`)
	require.NoError(t, a.Broadcast().To("room").SendJSON("not a"))
	require.NoError(t, a.Broadcast().To("room").Send("not a either"))
	cb.waitExact(t, `4::/r:"not a"`)
	cb.waitExact(t, "3::/r:not a either")
	require.NoError(t, ns.Emit("sentinel"))
	for _, c := range []*recConn{ca, cb, cc} {
		c.waitExact(t, `5::/r:{"name":"sentinel"}`)
	}
	assert.NotContains(t, cc.sent(), `4::/r:["room"]`)
	assert.NotContains(t, ca.sent(), `4::/r:"not a"`)
	assert.NotContains(t, ca.sent(), "3::/r:not a either")
	assert.Error(t, ns.SendJSON(make(chan int)))
	assert.Error(t, ns.To("room").SendJSON(make(chan int)))

	// Volatile: a receiver that cannot take the packet now drops it; the
	// non-volatile form counts as undelivered there.
	vc := &volConn{recConn: newConn("v")}
	v, err := ns.connect(vc, nil)
	require.NoError(t, err)
	t.Cleanup(func() { v.close(ReasonSocketEnd) })
	require.NoError(t, ns.To("v").Volatile().Send("maybe"))
	require.NoError(t, ns.To("v").Volatile().SendJSON("maybe"))
	require.NoError(t, ns.To("v").Send("surely"))
	assert.Equal(t, []bool{true, true, false}, vc.volatiles())
}

// volConn records the volatile flag of each send after the connect packet.
type volConn struct {
	*recConn
	mu   sync.Mutex
	vols []bool
}

func (c *volConn) Send(frame []byte, volatile bool) bool {
	if !strings.HasPrefix(string(frame), "1::") {
		c.mu.Lock()
		c.vols = append(c.vols, volatile)
		c.mu.Unlock()
	}
	return c.recConn.Send(frame, volatile)
}

func (c *volConn) volatiles() []bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bool(nil), c.vols...)
}

func TestSocketToAndVolatile(t *testing.T) {
	ns := newNamespace("/v", quietOpts())
	a, ca := connect(t, ns, "a")
	b, cb := connect(t, ns, "b")
	_, cc := connect(t, ns, "c")
	require.NoError(t, a.Join("room"))
	require.NoError(t, b.Join("room"))

	require.NoError(t, a.To("room").Emit("to"))
	want := `5::/v:{"name":"to"}`
	cb.waitExact(t, want)
	assert.NotContains(t, ca.sent(), want, "Socket.To excepts the socket itself")
	assert.NotContains(t, cc.sent(), want, "c is not in the room")

	require.NoError(t, a.Volatile().Emit("vol", 1))
	require.NoError(t, a.Volatile().Send("txt"))
	require.NoError(t, a.Volatile().SendJSON(map[string]int{"j": 1}))
	ca.waitExact(t, `5::/v:{"name":"vol","args":[1]}`)
	ca.waitExact(t, `3::/v:txt`)
	ca.waitExact(t, `4::/v:{"j":1}`)
	for _, c := range []*recConn{cb, cc} {
		assert.NotContains(t, c.sent(), `5::/v:{"name":"vol","args":[1]}`, "Volatile selects the socket alone")
	}

	require.NoError(t, a.Volatile().To("room").Emit("volroom"))
	cb.waitExact(t, `5::/v:{"name":"volroom"}`)
	assert.NotContains(t, ca.sent(), `5::/v:{"name":"volroom"}`, "a room turns it into a broadcast without the socket")

	ca.mu.Lock()
	ca.full = true
	ca.mu.Unlock()
	assert.NoError(t, a.Volatile().Emit("dropped"), "a dropped volatile emit is not an error")
	assert.ErrorIs(t, a.Emit("x"), ErrNotDelivered)
}

func TestNamespaceExcept(t *testing.T) {
	ns := newNamespace("/e", quietOpts())
	_, ca := connect(t, ns, "a")
	_, cb := connect(t, ns, "b")
	_, cc := connect(t, ns, "c")
	require.NoError(t, ns.Except("a", "c").Emit("x"))
	cb.waitExact(t, `5::/e:{"name":"x"}`)
	require.NoError(t, ns.Except("b").Except("c").Emit("y"))
	ca.waitExact(t, `5::/e:{"name":"y"}`)
	for _, c := range []*recConn{ca, cc} {
		assert.NotContains(t, c.sent(), `5::/e:{"name":"x"}`)
	}
	assert.NotContains(t, cb.sent(), `5::/e:{"name":"y"}`)
	assert.NotContains(t, cc.sent(), `5::/e:{"name":"y"}`)
}
