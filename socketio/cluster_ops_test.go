package socketio

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
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
