package client

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/socketio"
)

// vocabServer is startServer's server ("echo" acks its arguments) with
// the handlers the vocabulary tests need:
//   - "hold" never acks;
//   - "block" holds the socket's handler goroutine until release is
//     closed (the server acks messages in order, after the handlers of
//     the packets before them);
//   - "say" emits "said" back with its arguments;
//   - messages and json messages go to msgs, with whether the server was
//     asked for an ack with data.
type vocabServer struct {
	srv     *socketio.Server
	url     string
	release chan struct{}
	msgs    chan serverMsg
}

type serverMsg struct {
	kind, data string
	ackData    bool
}

func startVocabServer(t *testing.T) *vocabServer {
	t.Helper()
	vs := &vocabServer{release: make(chan struct{}), msgs: make(chan serverMsg, 64)}
	vs.srv, vs.url = startServer(t, socketio.Config{}, nil)
	t.Cleanup(func() {
		select {
		case <-vs.release:
		default:
			close(vs.release)
		}
	})
	for _, name := range []string{"", "/other"} {
		ns := vs.srv.Of(name)
		require.NoError(t, ns.OnRaw("echo", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
			if ack != nil {
				_ = ack(rawArgs(args)...)
			}
		}))
		require.NoError(t, ns.OnRaw("hold", func(*socketio.Socket, []json.RawMessage, socketio.AckFunc) {}))
		require.NoError(t, ns.OnRaw("block", func(*socketio.Socket, []json.RawMessage, socketio.AckFunc) { <-vs.release }))
		require.NoError(t, ns.OnRaw("say", func(s *socketio.Socket, args []json.RawMessage, _ socketio.AckFunc) {
			_ = s.Emit("said", rawArgs(args)...)
		}))
		ns.OnMessage(func(_ *socketio.Socket, text string, ack socketio.AckFunc) {
			vs.msgs <- serverMsg{"message", text, ack != nil}
		})
		ns.OnJSON(func(_ *socketio.Socket, v json.RawMessage, ack socketio.AckFunc) {
			vs.msgs <- serverMsg{"json", string(v), ack != nil}
		})
	}
	return vs
}

func (vs *vocabServer) nextMsg(t *testing.T) serverMsg {
	t.Helper()
	select {
	case m := <-vs.msgs:
		return m
	case <-time.After(waitFor):
		t.Fatal("the server got no message")
		return serverMsg{}
	}
}

// barrier returns once the dispatch goroutine has run everything the
// server sent on ns before its ack of an "echo" event: the server sends
// that ack after what the handlers of earlier events emitted, and the
// ack callback is queued behind their delivery.
func barrier(t *testing.T, ns *Namespace) {
	t.Helper()
	done := make(chan struct{})
	require.NoError(t, ns.EmitWithAckFunc("echo", func([]json.RawMessage) { close(done) }))
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatal("no echo ack")
	}
}

func pendingAcks(c *Client) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.acks)
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		t.Fatalf("nothing received within %s", waitFor)
		var zero T
		return zero
	}
}

// TestEmitWithAckFuncGetsTheAck: the callback form of EmitWithAck gets
// the server's ack arguments, on the dispatch goroutine, and frees its
// slot; a nil fn only frees it.
func TestEmitWithAckFuncGetsTheAck(t *testing.T) {
	t.Parallel()
	vs := startVocabServer(t)
	for _, tr := range allTransports {
		t.Run(tr, func(t *testing.T) {
			c := dial(t, vs.url, tr, nil)
			type result struct {
				args       []json.RawMessage
				onDispatch bool
			}
			got := make(chan result, 1)
			require.NoError(t, c.EmitWithAckFunc("echo", func(args []json.RawMessage) {
				got <- result{args, c.dispGID.Load() == goid()}
			}, "a", 1, map[string]bool{"ok": true}))
			r := recv(t, got)
			assert.JSONEq(t, `["a",1,{"ok":true}]`, argsJSON(r.args))
			assert.True(t, r.onDispatch, "the callback runs on the dispatch goroutine")
			assert.Zero(t, pendingAcks(c))

			// On another namespace, and with no arguments.
			other := c.Of("/other")
			require.NoError(t, other.WaitConnected(ctxFor(t)))
			got2 := make(chan []json.RawMessage, 1)
			require.NoError(t, other.EmitWithAckFunc("echo", func(args []json.RawMessage) { got2 <- args }))
			assert.Equal(t, []json.RawMessage{}, recv(t, got2))

			require.NoError(t, c.EmitWithAckFunc("echo", nil, "x"))
			require.Eventually(t, func() bool { return pendingAcks(c) == 0 }, waitFor, 5*time.Millisecond)

			// The reserved event is refused, as by Emit.
			assert.ErrorIs(t, c.EmitWithAckFunc("disconnect", nil), ErrReservedEvent)
		})
	}
}

// TestEmitWithAckFuncNeverRunsWhenTheAckCannotCome: leaving the namespace
// frees the slot of an ack awaited there, and its callback never runs.
func TestEmitWithAckFuncNeverRunsWhenTheAckCannotCome(t *testing.T) {
	t.Parallel()
	vs := startVocabServer(t)
	c := dial(t, vs.url, WebSocket, nil)
	other := c.Of("/other")
	require.NoError(t, other.WaitConnected(ctxFor(t)))
	ran := make(chan struct{}, 1)
	require.NoError(t, other.EmitWithAckFunc("hold", func([]json.RawMessage) { ran <- struct{}{} }))
	waitAckSent(t, c)
	require.NoError(t, other.Leave())
	assert.Zero(t, pendingAcks(c))
	barrier(t, c.Namespace())
	select {
	case <-ran:
		t.Fatal("the callback ran although no ack came")
	default:
	}
}

// TestSendWithAck: the four message-with-ack forms send an id without '+'
// (the server's handler gets no AckFunc) and end with the server's ack of
// receipt; the blocking forms really wait for it.
func TestSendWithAck(t *testing.T) {
	t.Parallel()
	vs := startVocabServer(t)
	for _, tr := range allTransports {
		t.Run(tr, func(t *testing.T) {
			c := dial(t, vs.url, tr, nil)
			ctx := ctxFor(t)

			require.NoError(t, c.SendWithAck(ctx, "hello"))
			assert.Equal(t, serverMsg{"message", "hello", false}, vs.nextMsg(t))
			require.NoError(t, c.SendJSONWithAck(ctx, map[string]int{"n": 1}))
			m := vs.nextMsg(t)
			assert.Equal(t, "json", m.kind)
			assert.JSONEq(t, `{"n":1}`, m.data)
			assert.False(t, m.ackData)

			done := make(chan string, 2)
			require.NoError(t, c.SendWithAckFunc("cb", func() { done <- "message" }))
			assert.Equal(t, "message", recv(t, done))
			assert.Equal(t, serverMsg{"message", "cb", false}, vs.nextMsg(t))
			require.NoError(t, c.SendJSONWithAckFunc([]int{1, 2}, func() { done <- "json" }))
			assert.Equal(t, "json", recv(t, done))
			m = vs.nextMsg(t)
			assert.Equal(t, "json", m.kind)
			assert.JSONEq(t, `[1,2]`, m.data)
			require.NoError(t, c.SendWithAckFunc("nil fn", nil))
			assert.Equal(t, serverMsg{"message", "nil fn", false}, vs.nextMsg(t))
			require.Eventually(t, func() bool { return pendingAcks(c) == 0 }, waitFor, 5*time.Millisecond)

			// On another namespace too.
			other := c.Of("/other")
			require.NoError(t, other.WaitConnected(ctx))
			require.NoError(t, other.SendWithAck(ctx, "there"))
			assert.Equal(t, serverMsg{"message", "there", false}, vs.nextMsg(t))
		})
	}
}

// TestSendWithAckWaitsForTheAck: while the server holds the socket's
// handlers, its ack of a message cannot come: SendWithAck and
// SendJSONWithAck end with ctx's error and free their slot; once the
// server goes on, they succeed.
func TestSendWithAckWaitsForTheAck(t *testing.T) {
	t.Parallel()
	vs := startVocabServer(t)
	c := dial(t, vs.url, WebSocket, nil)
	require.NoError(t, c.Emit("block"))
	for _, send := range []func(context.Context) error{
		func(ctx context.Context) error { return c.SendWithAck(ctx, "held") },
		func(ctx context.Context) error { return c.SendJSONWithAck(ctx, "held") },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := send(ctx)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorContains(t, err, "waiting for the ack of a")
		assert.Zero(t, pendingAcks(c))
	}
	close(vs.release)
	require.NoError(t, c.SendWithAck(ctxFor(t), "free"))
}

// TestMaxPendingAcks: beyond Options.MaxPendingAcks awaited acks every
// with-ack form fails with ErrTooManyAcks, sending nothing; a slot is
// freed when its ack arrives or its caller gives up. The default is 1024.
func TestMaxPendingAcks(t *testing.T) {
	t.Parallel()
	o, err := (&Options{}).withDefaults()
	require.NoError(t, err)
	assert.Equal(t, 1024, o.MaxPendingAcks)

	vs := startVocabServer(t)
	c := dial(t, vs.url, WebSocket, &Options{MaxPendingAcks: 2})

	// Acks that arrive free their slot: many in a row.
	for i := range 5 {
		_, err := c.EmitWithAck(ctxFor(t), "echo", i)
		require.NoError(t, err)
	}

	// A caller giving up frees its slot.
	require.NoError(t, c.EmitWithAckFunc("hold", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = c.EmitWithAck(ctx, "hold")
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, pendingAcks(c))

	require.NoError(t, c.SendWithAckFunc("fills the second slot", nil))
	assert.Equal(t, serverMsg{"message", "fills the second slot", false}, vs.nextMsg(t))
	// Its ack arrives and frees the slot again; hold it with an event.
	require.Eventually(t, func() bool { return pendingAcks(c) == 1 }, waitFor, 5*time.Millisecond)
	require.NoError(t, c.EmitWithAckFunc("hold", nil))
	require.Equal(t, 2, pendingAcks(c))

	_, err = c.EmitWithAck(ctxFor(t), "echo")
	assert.ErrorIs(t, err, ErrTooManyAcks)
	assert.ErrorIs(t, c.EmitWithAckFunc("echo", nil), ErrTooManyAcks)
	assert.ErrorIs(t, c.SendWithAck(ctxFor(t), "x"), ErrTooManyAcks)
	assert.ErrorIs(t, c.SendWithAckFunc("x", nil), ErrTooManyAcks)
	assert.ErrorIs(t, c.SendJSONWithAck(ctxFor(t), 1), ErrTooManyAcks)
	assert.ErrorIs(t, c.SendJSONWithAckFunc(1, nil), ErrTooManyAcks)
	// The bound is over every namespace.
	other := c.Of("/other")
	require.NoError(t, other.WaitConnected(ctxFor(t)))
	assert.ErrorIs(t, other.SendWithAckFunc("x", nil), ErrTooManyAcks)
	// Nothing of the refused ones was sent; a plain emit still goes.
	require.NoError(t, c.Send("plain"))
	assert.Equal(t, serverMsg{"message", "plain", false}, vs.nextMsg(t))
	assert.Equal(t, 2, pendingAcks(c))
}

// TestHandlerRegistration: On and OnRaw replace whatever handler the
// event had (typed or raw), Off removes it, OnAny still sees the event,
// and On refuses a raw handler, pointing to OnRaw.
func TestHandlerRegistration(t *testing.T) {
	t.Parallel()
	vs := startVocabServer(t)
	c := dial(t, vs.url, WebSocket, nil)
	ns := c.Namespace()
	got := make(chan string, 16)
	seen := make(chan string, 16)
	c.OnAny(func(event string, args []json.RawMessage) {
		if event == "said" {
			seen <- argsJSON(args)
		}
	})
	say := func(marker string) {
		t.Helper()
		require.NoError(t, c.Emit("say", marker))
		assert.Equal(t, `["`+marker+`"]`, recv(t, seen))
		barrier(t, ns)
	}

	require.NoError(t, c.On("said", func(s string) { got <- "first " + s }))
	require.NoError(t, c.On("said", func(s string) { got <- "second " + s }))
	say("1")
	assert.Equal(t, "second 1", recv(t, got))

	require.NoError(t, c.OnRaw("said", func(args []json.RawMessage, ack AckFunc) {
		assert.Nil(t, ack)
		got <- "raw " + argsJSON(args)
	}))
	say("2")
	assert.Equal(t, `raw ["2"]`, recv(t, got))

	require.NoError(t, c.On("said", func(s string) { got <- "typed " + s }))
	say("3")
	assert.Equal(t, "typed 3", recv(t, got))

	c.Off("said")
	say("4")
	assert.Empty(t, got, "no handler after Off")

	err := c.On("said", func(args []json.RawMessage, ack AckFunc) {})
	require.ErrorIs(t, err, errRawSignature)
	assert.ErrorContains(t, err, "OnRaw")
	assert.ErrorContains(t, err, `"said"`)
	err = c.On("said", RawHandler(func([]json.RawMessage, AckFunc) {}))
	assert.ErrorIs(t, err, errRawSignature)
	assert.Error(t, c.OnRaw("said", nil))
	say("5")
	assert.Empty(t, got, "a refused registration leaves none")
}
