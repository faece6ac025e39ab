package socketio

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/packet"
)

// countEncodings counts, until the test ends, the encodings made by
// Message.encoded of the messages for which match is true.
func countEncodings(t *testing.T, match func(*Message) bool) func() int {
	var mu sync.Mutex
	n := 0
	hook := func(m *Message, _ protocolID) {
		if match(m) {
			mu.Lock()
			n++
			mu.Unlock()
		}
	}
	require.Nil(t, encodeHook.Swap(&hook), "another test counts encodings")
	t.Cleanup(func() { encodeHook.Store(nil) })
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// TestBroadcastEncodedOncePerProtocol: a broadcast to many receivers of
// one protocol is encoded exactly once — Emit, Send and SendJSON, to a
// room, to the namespace, and through Socket.Broadcast — and every
// receiver is queued the same bytes.
func TestBroadcastEncodedOncePerProtocol(t *testing.T) {
	ns := newNamespace("/once", quietOpts())
	const n = 20
	conns := make([]*recConn, n)
	var first *Socket
	for i := range conns {
		var s *Socket
		s, conns[i] = connect(t, ns, "s"+strconv.Itoa(i))
		require.NoError(t, s.Join("room"))
		if i == 0 {
			first = s
		}
	}
	count := countEncodings(t, func(m *Message) bool { return m.Namespace == "/once" })

	require.NoError(t, ns.To("room").Emit("tick", 1, "two"))
	assert.Equal(t, 1, count(), "a room emit to %d sockets", n)
	require.NoError(t, ns.Send("text"))
	assert.Equal(t, 2, count(), "Namespace.Send")
	require.NoError(t, ns.SendJSON(map[string]int{"a": 1}))
	assert.Equal(t, 3, count(), "Namespace.SendJSON")
	require.NoError(t, first.Broadcast().Emit("b"))
	assert.Equal(t, 4, count(), "Socket.Broadcast().Emit")
	for _, c := range conns {
		c.waitExact(t, `5::/once:{"name":"tick","args":[1,"two"]}`)
		c.waitExact(t, `3::/once:text`)
		c.waitExact(t, `4::/once:{"a":1}`)
	}
	for _, c := range conns[1:] {
		c.waitExact(t, `5::/once:{"name":"b"}`)
	}

	// The Adapter is handed one Message; each receiver's session is given
	// the same bytes.
	var frames []*byte
	m := &Message{Namespace: "/once", Kind: MessageText, Text: "same"}
	deliver(ns.Sockets(), m, false)
	for _, s := range ns.Sockets() {
		frame := m.encoded(s.proto)
		frames = append(frames, &frame[0])
	}
	for _, c := range conns {
		c.waitExact(t, `3::/once:same`)
	}
	for _, f := range frames {
		assert.Same(t, frames[0], f, "every receiver is given the one encoding")
	}
	assert.Equal(t, 5, count())
}

// TestDirectSendsDoNotAllocateMore: Socket.Emit, Send and SendJSON to one
// socket allocate no more than they did before the Message core (3c41fe6:
// Emit raw 2, Emit 3, Send 1, SendJSON 4, Volatile Emit 2): the frame and
// the args' encoding, no Message or args slice, which stay on the stack.
func TestDirectSendsDoNotAllocateMore(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	ns := newNamespace("", quietOpts())
	s, err := ns.connect(nullConn{id: "a"}, nil)
	require.NoError(t, err)
	arg := json.RawMessage(`{"n":1}`)
	cases := []struct {
		name string
		max  float64
		fn   func()
	}{
		// The frame and the argument boxed in an interface; a
		// json.RawMessage argument is used as it is.
		{"Emit raw", 2, func() { _ = s.Emit("tick", arg) }},
		// The frame, and json.Marshal's result for each of 1 and "two".
		{"Emit", 3, func() { _ = s.Emit("tick", 1, "two") }},
		{"Send", 1, func() { _ = s.Send("text") }},
		// The frame and json.Marshal's result.
		{"SendJSON", 2, func() { _ = s.SendJSON(true) }},
		{"Volatile Emit", 2, func() { _ = s.Volatile().Emit("tick", arg) }},
	}
	for _, c := range cases {
		got := testing.AllocsPerRun(200, c.fn)
		assert.LessOrEqual(t, got, c.max, c.name)
	}
}

// TestReservedEventsRefused: every way of emitting refuses the names the
// clients keep for themselves with ErrReservedEvent and sends nothing;
// "error" and "message" go through.
func TestReservedEventsRefused(t *testing.T) {
	ns := newNamespace("/res", quietOpts())
	a, ca := connect(t, ns, "a")
	_, cb := connect(t, ns, "b")
	require.NoError(t, a.Join("r"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	reserved := []string{"connect", "connect_error", "connect_failed", "connecting", "disconnect", "disconnecting",
		"reconnect", "reconnect_attempt", "reconnect_failed", "reconnect_error", "reconnecting",
		"newListener", "removeListener"}
	for _, name := range reserved {
		assert.True(t, IsReservedEvent(name), name)
		ways := map[string]error{
			"Socket.Emit":             a.Emit(name, 1),
			"Socket.Volatile().Emit":  a.Volatile().Emit(name),
			"Socket.Broadcast().Emit": a.Broadcast().Emit(name),
			"Socket.To().Emit":        a.To("r").Emit(name),
			"Namespace.Emit":          ns.Emit(name),
			"Namespace.To().Emit":     ns.To("r").Emit(name),
			"Namespace.Except().Emit": ns.Except("b").Emit(name),
			"EmitWithAckFunc":         a.EmitWithAckFunc(name, func([]json.RawMessage) {}),
		}
		_, ways["EmitWithAck"] = a.EmitWithAck(ctx, name)
		for way, err := range ways {
			require.ErrorIs(t, err, ErrReservedEvent, "%s(%q)", way, name)
			assert.ErrorContains(t, err, strconv.Quote(name), way)
		}
	}
	assert.Equal(t, 0, a.PendingAcks(), "a refused ack request holds no slot")
	for _, c := range []*recConn{ca, cb} {
		assert.Equal(t, []string{"1::/res"}, c.sent(), "nothing was sent for a reserved name")
	}
	for _, name := range []string{"error", "message", "Connect", "connect "} {
		assert.False(t, IsReservedEvent(name), name)
		require.NoError(t, a.Emit(name, "x"), name)
		require.NoError(t, ns.Emit(name, "y"), name)
	}
	ca.waitExact(t, `5::/res:{"name":"error","args":["x"]}`)
	cb.waitExact(t, `5::/res:{"name":"message","args":["y"]}`)

	// Names that are no names.
	for _, name := range []string{"", "\xff", strings.Repeat("e", MaxEventNameBytes+1)} {
		assert.ErrorIs(t, a.Emit(name), ErrInvalidMessage)
		assert.ErrorIs(t, ns.Emit(name), ErrInvalidMessage)
	}
	require.NoError(t, a.Emit(strings.Repeat("e", MaxEventNameBytes)))
}

func TestMessageValidate(t *testing.T) {
	raw := func(s string) []json.RawMessage { return []json.RawMessage{json.RawMessage(s)} }
	good := []*Message{
		{Kind: MessageEvent, Event: "e"},
		{Namespace: "/chat", Kind: MessageEvent, Event: "e", Args: raw(`[1,{"a":null}]`)},
		{Kind: MessageText},
		{Namespace: "/x", Kind: MessageText, Text: "any \xff text"},
		{Kind: MessageJSON, Data: json.RawMessage(`null`)},
	}
	for _, m := range good {
		assert.NoError(t, m.Validate(), "%+v", m)
	}
	bad := map[string]*Message{
		"zero":           {},
		"unknown kind":   {Kind: 4, Text: "t"},
		"namespace":      {Namespace: "chat", Kind: MessageText},
		"no event":       {Kind: MessageEvent},
		"reserved":       {Kind: MessageEvent, Event: "disconnect"},
		"bad arg":        {Kind: MessageEvent, Event: "e", Args: raw(`{`)},
		"nil arg":        {Kind: MessageEvent, Event: "e", Args: []json.RawMessage{nil}},
		"event and text": {Kind: MessageEvent, Event: "e", Text: "t"},
		"text and args":  {Kind: MessageText, Args: raw(`1`)},
		"text and data":  {Kind: MessageText, Data: json.RawMessage(`1`)},
		"no data":        {Kind: MessageJSON},
		"bad data":       {Kind: MessageJSON, Data: json.RawMessage(`[1,`)},
		"data and event": {Kind: MessageJSON, Data: json.RawMessage(`1`), Event: "e"},
	}
	for name, m := range bad {
		err := m.Validate()
		if name == "reserved" {
			assert.ErrorIs(t, err, ErrReservedEvent, name)
			continue
		}
		assert.ErrorIs(t, err, ErrInvalidMessage, name)
	}
	assert.Equal(t, "event", MessageEvent.String())
	assert.Equal(t, "MessageKind(9)", MessageKind(9).String())
}

// TestMemoryAdapterRefusesKindless: the MemoryAdapter delivers no message
// of no known kind.
func TestMemoryAdapterRefusesKindless(t *testing.T) {
	ns := newNamespace("/k", quietOpts())
	_, c := connect(t, ns, "a")
	assert.ErrorIs(t, ns.Adapter().Broadcast(&Message{Namespace: "/k", Text: "x"}, BroadcastOptions{}), ErrInvalidMessage)
	assert.Equal(t, []string{"1::/k"}, c.sent())
}

// TestProto09RoundTrip: the 0.9 codec's packets decode to the message
// they were made of, ids and all.
func TestProto09RoundTrip(t *testing.T) {
	msgs := []*Message{
		{Kind: MessageEvent, Event: "e"},
		{Namespace: "/chat", Kind: MessageEvent, Event: "héllo \u2028", Args: []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`{"a":"\u2029"}`)}},
		{Namespace: "/chat", Kind: MessageText, Text: "plain: text"},
		{Kind: MessageJSON, Data: json.RawMessage(`{"k":[true]}`)},
	}
	for _, m := range msgs {
		for _, id := range []uint64{0, 7} {
			for _, ackData := range []bool{false, true} {
				if ackData && (id == 0 || m.Kind != MessageEvent) {
					continue
				}
				wire := encodeMessage(proto09, m, id, ackData)
				p, err := packet.Decode(string(wire))
				require.NoError(t, err, "%s", wire)
				assert.Equal(t, id, p.ID)
				assert.Equal(t, id > 0, p.HasID)
				assert.Equal(t, ackData, p.AckData)
				got, ok := messageOf09(&p)
				require.True(t, ok)
				require.NoError(t, got.Validate())
				assert.Equal(t, m.Namespace, got.Namespace)
				assert.Equal(t, m.Kind, got.Kind)
				assert.Equal(t, m.Event, got.Event)
				assert.Equal(t, m.Text, got.Text)
				require.Len(t, got.Args, len(m.Args))
				for i := range m.Args {
					assert.JSONEq(t, string(m.Args[i]), string(got.Args[i]))
				}
				if m.Data != nil {
					assert.JSONEq(t, string(m.Data), string(got.Data))
				}
			}
		}
	}
	_, ok := messageOf09(&packet.Packet{Type: packet.Heartbeat})
	assert.False(t, ok)
	assert.Equal(t, "6:::3+[1]", string(encodeAck(proto09, "", 3, []json.RawMessage{json.RawMessage(`1`)}, nil)))
	assert.Equal(t, "1::/a", string(codecOf(proto09).connect("/a", "sid")))
	assert.Equal(t, "0::/a", string(codecOf(proto09).disconnect("/a")))
}
