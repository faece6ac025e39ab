package socketio

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/packet"
)

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fetchUserAuthorize gives each session the user named by its handshake's
// "user" query parameter; "bad" is a value JSON cannot encode.
func fetchUserAuthorize(_ context.Context, hs *Handshake) (any, error) {
	switch u := hs.Query.Get("user"); u {
	case "":
		return nil, nil
	case "bad":
		return func() {}, nil
	default:
		return map[string]string{"name": u}, nil
	}
}

// connectWS09 makes a 0.9 session over websocket with query and returns
// its socket in the default namespace and its client.
func connectWS09(t *testing.T, ts *testServer, query string) (*Socket, *wsClient) {
	t.Helper()
	sid := ts.handshake(query)
	ws := ts.dialWS(sid, wsOptions{pong: true})
	ws.expect("1::")
	return ts.socket("", sid), ws
}

func fetchIDs(t *testing.T, sel *Selection) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	got, err := sel.Fetch(ctx)
	require.NoError(t, err)
	ids := make([]string, len(got))
	for i, r := range got {
		ids[i] = r.ID
	}
	return ids
}

// TestFetch: Selection.Fetch describes the selected sockets of real
// sessions, sorted by id, with their rooms (sorted, no own-id room) and
// their Handshake.User as JSON; Except and several rooms select as a
// broadcast does; the RemoteSockets act on the sockets.
func TestFetch(t *testing.T) {
	ts := newTestServer(t, Config{Authorize: fetchUserAuthorize}, nil)
	ns := ts.srv.Sockets()
	ann, wsAnn := connectWS09(t, ts, "&user=ann")
	bob, _ := connectWS09(t, ts, "&user=bob")
	anon, _ := connectWS09(t, ts, "")
	bad, _ := connectWS09(t, ts, "&user=bad")
	require.NoError(t, ann.Join("zeta"))
	require.NoError(t, ann.Join("alpha"))
	require.NoError(t, bob.Join("alpha"))
	require.NoError(t, anon.Join("zeta"))

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	all, err := ns.Except().Fetch(ctx)
	require.NoError(t, err)
	byID := map[string]*RemoteSocket{}
	var ids []string
	for _, r := range all {
		byID[r.ID] = r
		ids = append(ids, r.ID)
		assert.Empty(t, r.Node, "one node: no node id")
	}
	assert.IsIncreasing(t, ids, "sorted by id")
	assert.ElementsMatch(t, []string{ann.ID(), bob.ID(), anon.ID(), bad.ID()}, ids)
	assert.Equal(t, []string{"alpha", "zeta"}, byID[ann.ID()].Rooms)
	assert.JSONEq(t, `{"name":"ann"}`, string(byID[ann.ID()].User))
	assert.Equal(t, []string{"alpha"}, byID[bob.ID()].Rooms)
	assert.JSONEq(t, `{"name":"bob"}`, string(byID[bob.ID()].User))
	assert.Nil(t, byID[anon.ID()].User, "no user")
	assert.Equal(t, []string{"zeta"}, byID[anon.ID()].Rooms)
	assert.Nil(t, byID[bad.ID()].User, "a user JSON cannot encode")
	assert.Empty(t, byID[bad.ID()].Rooms)

	assert.ElementsMatch(t, []string{ann.ID(), bob.ID()}, fetchIDs(t, ns.To("alpha")))
	assert.Equal(t, []string{ann.ID()}, fetchIDs(t, ns.To("alpha").Except(bob.ID())))
	assert.ElementsMatch(t, []string{ann.ID(), bob.ID(), anon.ID()}, fetchIDs(t, ns.To("alpha").To("zeta")))
	assert.Equal(t, []string{anon.ID()}, fetchIDs(t, ann.To("zeta")), "Socket.To excepts the socket")
	assert.Equal(t, []string{bob.ID()}, fetchIDs(t, ns.To(bob.ID())), "a socket's own-id room")
	assert.Empty(t, fetchIDs(t, ns.To("nobody")))

	// The RemoteSocket acts on the socket.
	r := byID[ann.ID()]
	assert.Same(t, ann, r.Local())
	require.NoError(t, r.Emit("hi", 1))
	wsAnn.expect(`5:::{"name":"hi","args":[1]}`)
	require.NoError(t, r.Join(ctx, "beta"))
	rooms, err := ann.Rooms()
	require.NoError(t, err)
	assert.Equal(t, []string{"alpha", "beta", "zeta"}, rooms)
	require.NoError(t, r.Leave(ctx, "alpha", "beta"))
	rooms, _ = ann.Rooms()
	assert.Equal(t, []string{"zeta"}, rooms)
	require.NoError(t, r.Disconnect(ctx, true))
	wsAnn.waitClosed()
	require.Eventually(t, func() bool { return r.Local() == nil }, waitFor, tick)
	short, cancelShort := context.WithTimeout(context.Background(), waitFor)
	defer cancelShort()
	_, err = r.EmitWithAck(short, "q")
	assert.ErrorIs(t, err, ErrNoSocket, "the socket is gone")

	// A cancelled context.
	cancel()
	_, err = ns.Except().Fetch(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// serverEventsServer makes a server whose logs and Config.OnError errors
// the test reads.
func serverEventsServer(t *testing.T) (*Server, *lockedBuffer, <-chan error) {
	logs := &lockedBuffer{}
	errs := make(chan error, 16)
	srv := NewServer(Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnError: func(err error) { errs <- err }})
	t.Cleanup(srv.Close)
	return srv, logs, errs
}

// idleServerEvents reports whether the namespace runs no server events
// (no goroutine of its own for them).
func idleServerEvents(ns *Namespace) bool {
	ns.srvEvents.mu.Lock()
	defer ns.srvEvents.mu.Unlock()
	return !ns.srvEvents.running && len(ns.srvEvents.queue) == 0
}

// TestServerEvents: ReceiveServerEvent runs the namespace's handler of
// the event, one at a time and in arrival order; a replaced handler gets
// the later events; an event without a handler is dropped; ServerEmit
// checks the event name and, with the in-memory adapter, reaches nobody;
// no goroutine stays once the queue is empty.
func TestServerEvents(t *testing.T) {
	before := goleak.IgnoreCurrent()
	srv, logs, _ := serverEventsServer(t)
	ns := srv.Of("/ops")
	var mu sync.Mutex
	var got []string
	running := 0
	handler := func(tag string) func([]json.RawMessage) {
		return func(args []json.RawMessage) {
			mu.Lock()
			running++
			assert.Equal(t, 1, running, "one handler at a time")
			mu.Unlock()
			time.Sleep(50 * time.Microsecond) // widen the window for a second runner
			mu.Lock()
			running--
			got = append(got, tag+":"+string(args[0]))
			mu.Unlock()
		}
	}
	ns.OnServerEvent("count", handler("a"))
	const n = 200
	for i := range n {
		ns.ReceiveServerEvent("count", []json.RawMessage{json.RawMessage(strconv.Itoa(i))})
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	}, waitFor, tick)
	for i, g := range got {
		assert.Equal(t, "a:"+strconv.Itoa(i), g, "in arrival order")
	}
	require.Eventually(t, func() bool { return idleServerEvents(ns) }, waitFor, tick)
	goleak.VerifyNone(t, before)

	// Replaced, then removed.
	ns.OnServerEvent("count", handler("b"))
	ns.ReceiveServerEvent("count", []json.RawMessage{json.RawMessage(`"x"`)})
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n+1
	}, waitFor, tick)
	assert.Equal(t, `b:"x"`, got[n])
	ns.OnServerEvent("count", nil)
	ns.ReceiveServerEvent("count", []json.RawMessage{json.RawMessage(`"y"`)})
	ns.ReceiveServerEvent(strings.Repeat("z", 5000), nil)
	require.Eventually(t, func() bool { return idleServerEvents(ns) }, waitFor, tick)
	assert.Len(t, got, n+1, "no handler: dropped")
	assert.Contains(t, logs.String(), "no handler for server event")
	assert.NotContains(t, logs.String(), strings.Repeat("z", 200), "a remote name is clipped in the log")

	// ServerEmit: checked names, nobody else with one node.
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	ns.OnServerEvent("ping", handler("c"))
	require.NoError(t, ns.ServerEmit(ctx, "ping", 1, "two"))
	assert.ErrorIs(t, ns.ServerEmit(ctx, "connect"), ErrReservedEvent)
	assert.ErrorIs(t, ns.ServerEmit(ctx, ""), ErrInvalidMessage)
	assert.Error(t, ns.ServerEmit(ctx, "ping", make(chan int)), "an argument JSON cannot encode")
	stays(t, quiet, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n+1
	}, "ServerEmit reached this node's own handler")
	goleak.VerifyNone(t, before)
}

// TestServerEventPanic: a panicking server-event handler is recovered,
// logged and reported to Config.OnError, and the events after it run.
func TestServerEventPanic(t *testing.T) {
	srv, logs, errs := serverEventsServer(t)
	ns := srv.Of("/ops")
	done := make(chan string, 1)
	ns.OnServerEvent("boom", func(args []json.RawMessage) { panic("kaboom") })
	ns.OnServerEvent("after", func(args []json.RawMessage) { done <- string(args[0]) })
	ns.ReceiveServerEvent("boom", nil)
	ns.ReceiveServerEvent("after", []json.RawMessage{json.RawMessage(`1`)})
	select {
	case v := <-done:
		assert.Equal(t, "1", v)
	case <-time.After(waitFor):
		require.FailNow(t, "the event after the panic did not run")
	}
	select {
	case err := <-errs:
		var he *HandlerError
		require.ErrorAs(t, err, &he)
		assert.ErrorIs(t, err, ErrHandlerPanic)
		assert.Equal(t, "/ops", he.Namespace)
		assert.Equal(t, "boom", he.Event)
		assert.Empty(t, he.SocketID)
		assert.Equal(t, "kaboom", he.Panic)
		assert.NotEmpty(t, he.Stack)
		assert.Equal(t, `socketio: handler panicked: kaboom (server event, namespace "/ops", event "boom")`, he.Error())
	case <-time.After(waitFor):
		require.FailNow(t, "no OnError report")
	}
	assert.Contains(t, logs.String(), "server event handler panicked")
	require.Eventually(t, func() bool { return idleServerEvents(ns) }, waitFor, tick)
}

// TestServerEventQueueFull: while a handler blocks, ReceiveServerEvent
// still returns at once; beyond maxQueuedServerEvents waiting events it
// drops them, with one warning for a burst of drops.
func TestServerEventQueueFull(t *testing.T) {
	srv, logs, _ := serverEventsServer(t)
	ns := srv.Of("/ops")
	release := make(chan struct{})
	var mu sync.Mutex
	handled := 0
	started := make(chan struct{}, 1)
	ns.OnServerEvent("slow", func([]json.RawMessage) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		mu.Lock()
		handled++
		mu.Unlock()
	})
	ns.ReceiveServerEvent("slow", nil)
	<-started // the first one runs, and blocks
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		for range maxQueuedServerEvents + 50 {
			ns.ReceiveServerEvent("slow", nil)
		}
	}()
	select {
	case <-returned:
	case <-time.After(waitFor):
		require.FailNow(t, "ReceiveServerEvent blocked")
	}
	assert.Equal(t, 1, strings.Count(logs.String(), "server events dropped"), "one warning for the burst")
	assert.Contains(t, logs.String(), "dropped=1 ", "the first drop is logged at once")
	close(release)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return handled == 1+maxQueuedServerEvents
	}, waitFor, tick)
	require.Eventually(t, func() bool { return idleServerEvents(ns) }, waitFor, tick)
	stays(t, quiet, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return handled == 1+maxQueuedServerEvents
	}, "a dropped event ran")
}

// ackReceiver is one client of a broadcast with acks in the tests: it
// waits for the event frame and answers it by hand.
type ackReceiver struct {
	name  string
	sock  *Socket
	frame func(t *testing.T) string // the next frame matching the event
	reply func(id, args string)     // acks id with args (a JSON array's elements)
}

// mixedReceivers connects, on ts's server, n clients of each protocol
// (0.9 over a real websocket, v5 and v4 over the Engine.IO stand-in) and
// makes them join room.
func mixedReceivers(t *testing.T, ts *testServer, n int, room string) []*ackReceiver {
	var out []*ackReceiver
	for i := range n {
		s09, ws := connectWS09(t, ts, "")
		out = append(out, &ackReceiver{name: "v09-" + strconv.Itoa(i), sock: s09,
			frame: func(t *testing.T) string { return ws.next() },
			reply: func(id, args string) { ws.send("6:::" + id + "+[" + args + "]") }})

		sess5, c5 := open5(t, ts.srv, "")
		id5 := connect5(t, sess5, c5, "/", "")
		out = append(out, &ackReceiver{name: "v5-" + strconv.Itoa(i), sock: ts.srv.Sockets().Socket(id5),
			frame: eioFrames(c5),
			reply: func(id, args string) { sess5.OnMessage("3" + id + "[" + args + "]") }})

		sess4, c4 := open4(t, ts.srv, "")
		c4.waitExact(t, "40")
		out = append(out, &ackReceiver{name: "v4-" + strconv.Itoa(i), sock: ts.srv.Sockets().Socket(c4.id),
			frame: eioFrames(c4),
			reply: func(id, args string) { sess4.OnMessage("3" + id + "[" + args + "]") }})
	}
	for _, r := range out {
		require.NotNil(t, r.sock, r.name)
		require.NoError(t, r.sock.Join(room))
	}
	return out
}

// eioFrames returns a function giving the next event or binary event
// frame the stand-in was sent.
func eioFrames(c *fakeEIO) func(t *testing.T) string {
	seen := 0
	return func(t *testing.T) string {
		t.Helper()
		var f string
		require.Eventually(t, func() bool {
			for _, s := range c.sent()[seen:] {
				seen++
				if strings.HasPrefix(s, "42") || strings.HasPrefix(s, "45") {
					f = s
					return true
				}
			}
			return false
		}, waitFor, time.Millisecond)
		return f
	}
}

// ackIDOf returns the ack id in an event frame of a 0.9 ("5:ID+::..."),
// v5 or v4 ("42ID[...", "451-ID[...") client.
func ackIDOf(t *testing.T, frame string) string {
	t.Helper()
	if rest, ok := strings.CutPrefix(frame, "5:"); ok {
		id, _, ok := strings.Cut(rest, "+")
		require.True(t, ok, "no '+' in %q", frame)
		return id
	}
	rest := strings.TrimPrefix(frame, "42")
	if strings.HasPrefix(frame, "45") {
		_, rest, _ = strings.Cut(frame, "-")
	}
	i := strings.IndexByte(rest, '[')
	require.Positive(t, i, "no ack id in %q", frame)
	return rest[:i]
}

// emitWithAckAsync runs sel.EmitWithAck with a deadline d away and
// delivers its result.
type ackOutcome struct {
	res AckResult
	err error
}

func broadcastAsync(sel *Selection, d time.Duration, event string, args ...any) <-chan ackOutcome {
	out := make(chan ackOutcome, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		res, err := sel.EmitWithAck(ctx, event, args...)
		out <- ackOutcome{res, err}
	}()
	return out
}

func waitOutcome(t *testing.T, ch <-chan ackOutcome, d time.Duration) ackOutcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(d):
		require.FailNow(t, "EmitWithAck did not return")
	}
	return ackOutcome{}
}

// noPendingAcks requires that no receiver waits for an ack any more.
func noPendingAcks(t *testing.T, rs []*ackReceiver) {
	t.Helper()
	for _, r := range rs {
		assert.Zero(t, r.sock.PendingAcks(), "%s keeps an ack entry", r.name)
	}
}

// TestEmitWithAckMixedRoom: a broadcast with acks to a room of 0.9, v5
// and v4 (Engine.IO v3) sessions is encoded once per protocol, every
// receiver gets the same ack id (in the broadcasts' range, apart from the
// sockets' own), each answer is collected, and nothing stays registered.
func TestEmitWithAckMixedRoom(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	rs := mixedReceivers(t, ts, 2, "game")
	outsider, wsOut := connectWS09(t, ts, "")
	var encodes [numProtocols]int
	var mu sync.Mutex
	hook := func(m *Message, p protocolID) {
		if m.Event == "q" {
			mu.Lock()
			encodes[p]++
			mu.Unlock()
		}
	}
	require.Nil(t, encodeHook.Swap(&hook), "another test counts encodings")
	t.Cleanup(func() { encodeHook.Store(nil) })

	// A socket's own pending ack (id 1) next to the broadcast's.
	own := make(chan []json.RawMessage, 1)
	require.NoError(t, rs[0].sock.EmitWithAckFunc("own", func(args []json.RawMessage) { own <- args }))
	require.Equal(t, `5:1+::{"name":"own"}`, rs[0].frame(t))

	done := broadcastAsync(ts.srv.Sockets().To("game"), waitFor, "q", 1, "two")
	var id string
	want := map[string][]json.RawMessage{}
	for i, r := range rs {
		f := r.frame(t)
		got := ackIDOf(t, f)
		if i == 0 {
			id = got
		}
		require.Equal(t, id, got, "%s: the same ack id for every receiver", r.name)
		if strings.HasPrefix(r.name, "v09") {
			assert.Equal(t, "5:"+id+`+::{"name":"q","args":[1,"two"]}`, f, r.name)
		} else {
			assert.Equal(t, "42"+id+`["q",1,"two"]`, f, r.name)
		}
		r.reply(id, `"`+r.name+`",`+strconv.Itoa(i))
		want[r.sock.ID()] = []json.RawMessage{json.RawMessage(`"` + r.name + `"`), json.RawMessage(strconv.Itoa(i))}
	}
	n, err := strconv.ParseUint(id, 10, 64)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, uint64(1<<30))
	assert.Less(t, n, uint64(1<<31), "exact in a JS number and an int32")

	o := waitOutcome(t, done, waitFor)
	require.NoError(t, o.err)
	assert.Empty(t, o.res.Missing)
	require.Len(t, o.res.Acks, len(rs))
	var ids []string
	for _, a := range o.res.Acks {
		ids = append(ids, a.ID)
		assert.Equal(t, want[a.ID], a.Args, a.ID)
	}
	assert.IsIncreasing(t, ids, "sorted by socket id")
	mu.Lock()
	assert.Equal(t, [numProtocols]int{1, 1, 1}, encodes, "once per protocol")
	mu.Unlock()
	wsOut.silent(quiet)
	assert.Zero(t, outsider.PendingAcks())

	// The socket's own ack is still waited for, and answered apart.
	assert.Equal(t, 1, rs[0].sock.PendingAcks())
	rs[0].reply("1", `"mine"`)
	assert.Equal(t, []json.RawMessage{json.RawMessage(`"mine"`)}, <-own)
	noPendingAcks(t, rs)

	// The next broadcast takes the next id.
	done = broadcastAsync(ts.srv.Sockets().To("game"), waitFor, "q")
	for _, r := range rs {
		f := r.frame(t)
		assert.Equal(t, strconv.FormatUint(n+1, 10), ackIDOf(t, f), r.name)
		r.reply(ackIDOf(t, f), "")
	}
	o = waitOutcome(t, done, waitFor)
	require.NoError(t, o.err)
	assert.Len(t, o.res.Acks, len(rs))
	for _, a := range o.res.Acks {
		assert.Empty(t, a.Args)
	}
	noPendingAcks(t, rs)
}

// TestEmitWithAckMissing: a receiver that never answers is Missing once
// the deadline passes, and the error wraps context.DeadlineExceeded; its
// late answer is ignored; nothing stays registered.
func TestEmitWithAckMissing(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	rs := mixedReceivers(t, ts, 1, "game")
	// The others must answer within d: a generous margin on a loaded
	// machine.
	const d = 2 * time.Second
	start := time.Now()
	done := broadcastAsync(ts.srv.Sockets().To("game"), d, "q")
	var id string
	for _, r := range rs {
		id = ackIDOf(t, r.frame(t))
		if r.name != "v5-0" {
			r.reply(id, `true`)
		}
	}
	o := waitOutcome(t, done, waitFor+d)
	assert.GreaterOrEqual(t, time.Since(start), d, "returned before the deadline")
	require.Error(t, o.err)
	assert.ErrorIs(t, o.err, context.DeadlineExceeded)
	assert.NotErrorIs(t, o.err, ErrDisconnected)
	assert.Equal(t, []string{rs[1].sock.ID()}, o.res.Missing)
	assert.Len(t, o.res.Acks, 2)
	noPendingAcks(t, rs)
	rs[1].reply(id, `"late"`) // ignored
	require.Eventually(t, func() bool { return !rs[1].sock.Disconnected() && rs[1].sock.PendingAcks() == 0 }, waitFor, tick)

	// RemoteSocket.EmitWithAck: an answer, or the deadline.
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	remote, err := ts.srv.Sockets().To(rs[2].sock.ID()).Fetch(ctx)
	require.NoError(t, err)
	require.Len(t, remote, 1)
	got := make(chan ackOutcome, 1)
	go func() {
		args, err := remote[0].EmitWithAck(ctx, "one")
		got <- ackOutcome{AckResult{Acks: []SocketAck{{Args: args}}}, err}
	}()
	f := rs[2].frame(t)
	rs[2].reply(ackIDOf(t, f), `"yes"`)
	one := waitOutcome(t, got, waitFor)
	require.NoError(t, one.err)
	assert.Equal(t, []json.RawMessage{json.RawMessage(`"yes"`)}, one.res.Acks[0].Args)
	short, cancelShort := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancelShort()
	_, err = remote[0].EmitWithAck(short, "one")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	noPendingAcks(t, rs)
}

// TestEmitWithAckDisconnect: a receiver that disconnects while the
// broadcast waits is missing at once: the broadcast returns when the
// others answered, long before its deadline, with ErrDisconnected.
func TestEmitWithAckDisconnect(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	rs := mixedReceivers(t, ts, 1, "game")
	gone := make(chan struct{}, 16)
	ts.srv.Sockets().OnDisconnect(func(*Socket, string) { gone <- struct{}{} })
	done := broadcastAsync(ts.srv.Sockets().To("game"), time.Minute, "q")
	for _, r := range rs {
		id := ackIDOf(t, r.frame(t))
		if r.name == "v09-0" {
			r.sock.conn.Close(ReasonBooted) // the session ends
			<-gone
			continue
		}
		r.reply(id, `1`)
	}
	o := waitOutcome(t, done, waitFor)
	assert.ErrorIs(t, o.err, ErrDisconnected)
	assert.NotErrorIs(t, o.err, context.DeadlineExceeded)
	assert.Equal(t, []string{rs[0].sock.ID()}, o.res.Missing)
	assert.Len(t, o.res.Acks, 2)
	noPendingAcks(t, rs)

	// Every receiver gone: it returns at once too.
	rs[1].sock.conn.Close(ReasonBooted)
	<-gone
	done = broadcastAsync(ts.srv.Sockets().To("game"), time.Minute, "q")
	rs[2].frame(t)
	rs[2].sock.conn.Close(ReasonBooted)
	<-gone
	o = waitOutcome(t, done, waitFor)
	assert.ErrorIs(t, o.err, ErrDisconnected)
	assert.Equal(t, []string{rs[2].sock.ID()}, o.res.Missing)

	// RemoteSocket.EmitWithAck to a socket that disconnects first.
	s, ws := connectWS09(t, ts, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	remote, err := ts.srv.Sockets().To(s.ID()).Fetch(ctx)
	require.NoError(t, err)
	require.Len(t, remote, 1)
	errc := make(chan error, 1)
	go func() {
		_, err := remote[0].EmitWithAck(ctx, "q")
		errc <- err
	}()
	assert.True(t, strings.HasPrefix(ws.next(), "5:"), "the event")
	s.conn.Close(ReasonBooted)
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, ErrNoSocket)
		assert.ErrorIs(t, err, ErrDisconnected)
	case <-time.After(waitFor):
		require.FailNow(t, "RemoteSocket.EmitWithAck did not return")
	}
}

// TestEmitWithAckRefusals: a context without a deadline, a bad event
// name, an empty selection, a receiver at Config.MaxPendingAcks and a
// volatile broadcast to a receiver that cannot take it.
func TestEmitWithAckRefusals(t *testing.T) {
	ts := newTestServer(t, Config{MaxPendingAcks: 2}, nil)
	rs := mixedReceivers(t, ts, 1, "game")
	ns := ts.srv.Sockets()
	_, err := ns.To("game").EmitWithAck(context.Background(), "q")
	assert.ErrorIs(t, err, ErrNoDeadline)
	_, err = ns.Adapter().BroadcastWithAck(context.Background(), &Message{Kind: MessageEvent, Event: "q"}, BroadcastOptions{})
	assert.ErrorIs(t, err, ErrNoDeadline, "the adapter checks too")
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_, err = ns.To("game").EmitWithAck(ctx, "connect")
	assert.ErrorIs(t, err, ErrReservedEvent)
	res, err := ns.To("nobody").EmitWithAck(ctx, "q")
	require.NoError(t, err)
	assert.Empty(t, res.Acks)
	assert.Empty(t, res.Missing)

	// rs[0] waits for two acks of its own already: it is missing at once.
	require.NoError(t, rs[0].sock.EmitWithAckFunc("a", func([]json.RawMessage) {}))
	require.NoError(t, rs[0].sock.EmitWithAckFunc("b", func([]json.RawMessage) {}))
	rs[0].frame(t)
	rs[0].frame(t)
	done := broadcastAsync(ns.To("game"), time.Minute, "q")
	for _, r := range rs[1:] {
		r.reply(ackIDOf(t, r.frame(t)), "")
	}
	o := waitOutcome(t, done, waitFor)
	assert.ErrorIs(t, o.err, ErrTooManyAcks)
	assert.Equal(t, []string{rs[0].sock.ID()}, o.res.Missing)
	assert.Len(t, o.res.Acks, 2)
	assert.Equal(t, 2, rs[0].sock.PendingAcks(), "its own acks stay")

	// Volatile: a receiver whose session does not take the event is
	// missing at once (ErrNotDelivered), the others are asked.
	vns := newNamespace("/v", quietOpts())
	sa, ca := connect(t, vns, "a")
	sb, cb := connect(t, vns, "b")
	cb.mu.Lock()
	cb.full = true
	cb.mu.Unlock()
	done = broadcastAsync(vns.Volatile(), time.Minute, "q")
	f := ca.waitFrame(t, func(f string) bool { return strings.HasPrefix(f, "5:") })
	sa.handlePacket(decode(t, "6:::"+ackIDOf(t, f)+"+[1]"))
	o = waitOutcome(t, done, waitFor)
	assert.ErrorIs(t, o.err, ErrNotDelivered)
	assert.Equal(t, []string{"b"}, o.res.Missing)
	assert.Equal(t, []SocketAck{{ID: "a", Args: []json.RawMessage{json.RawMessage("1")}}}, o.res.Acks)
	assert.Zero(t, sa.PendingAcks())
	assert.Zero(t, sb.PendingAcks())
}

// TestEmitWithAckBinary: binary arguments reach every protocol as in
// Emit (v5 and v4 attachments, 0.9 base64), under the shared ack id, and
// a v5 client's binary answer comes back as base64.
func TestEmitWithAckBinary(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	rs := mixedReceivers(t, ts, 1, "game")
	done := broadcastAsync(ts.srv.Sockets().To("game"), waitFor, "bin", "x", []byte{1, 2})
	for _, r := range rs {
		f := r.frame(t)
		id := ackIDOf(t, f)
		switch r.name {
		case "v09-0":
			assert.Equal(t, "5:"+id+`+::{"name":"bin","args":["x","AQI="]}`, f)
			r.reply(id, `"ok"`)
		case "v5-0":
			assert.Equal(t, "451-"+id+"[\"bin\",\"x\",{\"_placeholder\":true,\"num\":0}] | \xff\x01\x02", f)
			sess := r.sock.conn.(*session5)
			sess.OnMessage("61-" + id + `[{"_placeholder":true,"num":0}]`)
			sess.OnBinary([]byte{9})
		case "v4-0":
			assert.Equal(t, "451-"+id+"[\"bin\",\"x\",{\"_placeholder\":true,\"num\":0}] | \xff\x04\x01\x02", f)
			r.reply(id, `"ok"`)
		}
	}
	o := waitOutcome(t, done, waitFor)
	require.NoError(t, o.err)
	require.Len(t, o.res.Acks, 3)
	for _, a := range o.res.Acks {
		if a.ID == rs[1].sock.ID() {
			assert.Equal(t, []json.RawMessage{json.RawMessage(`"CQ=="`)}, a.Args)
		} else {
			assert.Equal(t, []json.RawMessage{json.RawMessage(`"ok"`)}, a.Args)
		}
	}
	noPendingAcks(t, rs)
}

// TestOwnAckIDsStayBelowBroadcastRange: a socket's own ack ids wrap
// before the broadcasts' range, skipping an id still waited for.
func TestOwnAckIDsStayBelowBroadcastRange(t *testing.T) {
	ns := newNamespace("/ids", quietOpts())
	s, c := connect(t, ns, "a")
	require.NoError(t, s.EmitWithAckFunc("first", func([]json.RawMessage) {}))
	s.mu.Lock()
	s.nextAck = broadcastAckBase - 2
	s.mu.Unlock()
	for range 2 {
		require.NoError(t, s.EmitWithAckFunc("e", func([]json.RawMessage) {}))
	}
	sent := c.sent()
	assert.Equal(t, []string{
		`5:1+:/ids:{"name":"first"}`,
		`5:` + strconv.Itoa(broadcastAckBase-1) + `+:/ids:{"name":"e"}`,
		`5:2+:/ids:{"name":"e"}`, // 1 is still waited for
	}, sent[len(sent)-3:])
}

// TestEmitWithAckRealClients: the real socket.io-client 0.9.16, 2.5.0 and
// 4.8 in one broadcast with acks, over websocket and polling: each takes
// the shared ack id (in 2^30..2^31-1) and answers under it.
func TestEmitWithAckRealClients(t *testing.T) {
	nodetest.Require(t)
	for _, tr := range []string{"websocket", "polling"} {
		t.Run(tr, func(t *testing.T) {
			connected := make(chan *Socket, 3)
			ts := newTestServer(t, Config{}, func(srv *Server) {
				srv.Sockets().OnConnect(func(s *Socket) { connected <- s })
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			results := make(chan []nodetest.Result, 1)
			go func() { results <- nodetest.Run(ctx, t, "broadcast-ack.js", "--url", ts.hs.URL, "--transport", tr) }()
			gens := map[string]string{} // socket id -> the generation that must answer
			for range 3 {
				select {
				case s := <-connected:
					gens[s.ID()] = map[protocolID]string{proto09: "09", proto4: "2", proto5: "4"}[s.proto]
				case r := <-results:
					require.FailNow(t, "the clients ended first", "%+v", r)
				case <-ctx.Done():
					require.FailNow(t, "the clients did not connect")
				}
			}
			bctx, bcancel := context.WithTimeout(ctx, 10*time.Second)
			defer bcancel()
			res, err := ts.srv.Sockets().Except().EmitWithAck(bctx, "vote", 7)
			require.NoError(t, err)
			assert.Empty(t, res.Missing)
			require.Len(t, res.Acks, 3)
			for _, a := range res.Acks {
				assert.Equal(t, []json.RawMessage{json.RawMessage(`"` + gens[a.ID] + `"`), json.RawMessage(`7`)}, a.Args, a.ID)
			}
			for _, s := range ts.srv.Sockets().Sockets() {
				assert.Zero(t, s.PendingAcks())
			}
			require.NoError(t, ts.srv.Sockets().Emit("done", len(res.Acks)))
			var rs []nodetest.Result
			select {
			case rs = <-results:
			case <-ctx.Done():
				require.FailNow(t, "the clients did not finish")
			}
			require.Len(t, rs, 3)
			for _, r := range rs {
				assert.True(t, r.Pass, r.Describe())
				assert.JSONEq(t, `[3]`, string(r.Observed), r.Check)
			}
		})
	}
}

// answeringConn is a 0.9 session stand-in whose client answers every
// event asking for an ack, from a goroutine of its own.
type answeringConn struct {
	recConn
	sock atomic.Pointer[Socket]
	wg   *sync.WaitGroup
}

func (c *answeringConn) Send(frame []byte, volatile bool) bool {
	f := string(frame)
	rest, ok := strings.CutPrefix(f, "5:")
	if id, _, plus := strings.Cut(rest, "+"); ok && plus {
		if s := c.sock.Load(); s != nil {
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				if p, err := packet.Decode("6:::" + id + "+[1]"); err == nil {
					s.handlePacket(&p)
				}
			}()
		}
	}
	return true
}

// TestEmitWithAckConcurrent: broadcasts with acks to overlapping
// selections, at the same time, while sockets disconnect: each receiver
// is answered or missing exactly once, and no ack entry stays.
func TestEmitWithAckConcurrent(t *testing.T) {
	ns := newNamespace("/c", quietOpts())
	var wg sync.WaitGroup
	defer wg.Wait()
	const n = 30
	var socks []*Socket
	for i := range n {
		c := &answeringConn{recConn: recConn{id: "s" + strconv.Itoa(i)}, wg: &wg}
		s, err := ns.connect(c, nil)
		require.NoError(t, err)
		c.sock.Store(s)
		t.Cleanup(func() { s.close(ReasonSocketEnd) })
		require.NoError(t, s.Join("r"+strconv.Itoa(i%3)))
		socks = append(socks, s)
	}
	var bwg sync.WaitGroup
	for g := range 6 {
		bwg.Add(1)
		go func() {
			defer bwg.Done()
			for range 20 {
				sel := ns.To("r" + strconv.Itoa(g%3)).To("r" + strconv.Itoa((g+1)%3))
				ctx, cancel := context.WithTimeout(context.Background(), waitFor)
				res, err := sel.EmitWithAck(ctx, "q")
				cancel()
				seen := map[string]bool{}
				for _, a := range res.Acks {
					assert.False(t, seen[a.ID], "twice: %s", a.ID)
					seen[a.ID] = true
				}
				for _, id := range res.Missing {
					assert.False(t, seen[id], "answered and missing: %s", id)
					seen[id] = true
				}
				if err != nil {
					assert.ErrorIs(t, err, ErrDisconnected)
					assert.NotErrorIs(t, err, context.DeadlineExceeded)
				}
			}
		}()
	}
	for i := 0; i < n; i += 4 {
		socks[i].close(ReasonSocketEnd)
	}
	bwg.Wait()
	wg.Wait()
	for _, s := range socks {
		assert.Zero(t, s.PendingAcks(), s.ID())
	}
}

// inlineAnsweringConn answers an event asking for an ack from within Send.
type inlineAnsweringConn struct {
	recConn
	sock *Socket
}

func (c *inlineAnsweringConn) Send(frame []byte, volatile bool) bool {
	if c.sock != nil && len(frame) > 2 && frame[0] == '5' {
		var p packet.Packet
		p.Type, p.AckID = packet.Ack, ackIDFrame(frame)
		c.sock.handlePacket(&p)
	}
	return true
}

// ackIDFrame reads the id of "5:ID+::...".
func ackIDFrame(frame []byte) uint64 {
	var id uint64
	for _, b := range frame[2:] {
		if b < '0' || b > '9' {
			break
		}
		id = id*10 + uint64(b-'0')
	}
	return id
}

// BenchmarkEmitWithAck1000: one broadcast with acks to a room of 1,000
// 0.9 sockets whose clients answer at once; per op: registering, one
// encoding, queuing, collecting and the sorted result.
func BenchmarkEmitWithAck1000(b *testing.B) {
	ns := newNamespace("/b", quietOpts())
	for i := range 1000 {
		c := &inlineAnsweringConn{recConn: recConn{id: "s" + strconv.Itoa(i)}}
		s, err := ns.connect(c, nil)
		require.NoError(b, err)
		c.sock = s
		require.NoError(b, s.Join("room"))
		defer s.close(ReasonSocketEnd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		res, err := ns.To("room").EmitWithAck(ctx, "q", 1)
		if err != nil || len(res.Acks) != 1000 {
			b.Fatal(err, len(res.Acks))
		}
	}
}

// The in-memory adapter's BroadcastWithAckEach (AckStreamer) hands each
// ack over as it arrives, before the broadcast returns with all of them.
func TestBroadcastWithAckEach(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	rs := mixedReceivers(t, ts, 1, "game")
	st, ok := ts.srv.Sockets().adapter.(AckStreamer)
	require.True(t, ok, "the in-memory adapter is an AckStreamer")
	each := make(chan SocketAck, len(rs))
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	done := make(chan ackOutcome, 1)
	go func() {
		m := &Message{Kind: MessageEvent, Event: "q"}
		res, err := st.BroadcastWithAckEach(ctx, m, BroadcastOptions{Rooms: []string{"game"}}, func(a SocketAck) { each <- a })
		done <- ackOutcome{res, err}
	}()
	for i, r := range rs {
		r.reply(ackIDOf(t, r.frame(t)), strconv.Itoa(i))
		select {
		case a := <-each:
			assert.Equal(t, r.sock.ID(), a.ID, r.name)
			assert.Equal(t, []json.RawMessage{json.RawMessage(strconv.Itoa(i))}, a.Args, r.name)
		case <-time.After(waitFor):
			t.Fatalf("%s's ack was not handed over before the others answered", r.name)
		}
	}
	o := waitOutcome(t, done, waitFor)
	require.NoError(t, o.err)
	assert.Len(t, o.res.Acks, len(rs), "the result holds every ack, those handed over included")
	noPendingAcks(t, rs)
}
