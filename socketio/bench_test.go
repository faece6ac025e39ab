package socketio

import (
	"encoding/json"
	"strconv"
	"testing"
)

// nullConn is a session that accepts and forgets every packet, so a
// benchmark measures only the namespace's emit path.
type nullConn struct{ id string }

func (c nullConn) ID() string                 { return c.id }
func (c nullConn) Handshake() *Handshake      { return &Handshake{} }
func (c nullConn) Transport() string          { return "null" }
func (c nullConn) Send(_ []byte, _ bool) bool { return true }
func (c nullConn) Close(string)               {}

// BenchmarkBroadcastRoom1000 emits one event to a room of 1,000 sockets:
// the packet is encoded once and the same bytes queued for each.
func BenchmarkBroadcastRoom1000(b *testing.B) {
	ns := newNamespace("/bench", quietOpts())
	for i := 0; i < 1000; i++ {
		s, err := ns.connect(nullConn{id: "s" + strconv.Itoa(i)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Join("room")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := ns.To("room").Emit("tick", 1, "two"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/receiver")
}

// BenchmarkSocketEmit emits one event to one socket.
func BenchmarkSocketEmit(b *testing.B) {
	ns := newNamespace("", quietOpts())
	s, err := ns.connect(nullConn{id: "a"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Emit("tick", 1, "two"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDispatch runs one event ["ping"] with an ack with data through the
// socket's dispatch (ACL check, handler lookup, call, ack), as the
// socket's handler goroutine does, with the handler registered as fn.
func benchDispatch(b *testing.B, fn any) { benchDispatchWith(b, fn, false) }

// benchDispatchWith is benchDispatch; with reflective, the handler is
// called through reflect.Value.Call even if it has a fast path.
func benchDispatchWith(b *testing.B, fn any, reflective bool) {
	ns := newNamespace("", quietOpts())
	if err := ns.On("echo", fn); err != nil {
		b.Fatal(err)
	}
	if reflective {
		th, err := typedHandlerOf(fn)
		if err != nil {
			b.Fatal(err)
		}
		ns.handlers["echo"] = eventHandler{typed: th}
	}
	s, err := ns.connect(nullConn{id: "a"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ev := job{name: "echo", args: []json.RawMessage{json.RawMessage(`"ping"`)}, id: 1, hasID: true, ackData: true}
	b.ReportAllocs()
	for b.Loop() {
		s.dispatchEvent(&ev)
	}
}

// BenchmarkDispatchRaw: a RawHandler that acks its argument as it came.
func BenchmarkDispatchRaw(b *testing.B) {
	benchDispatch(b, func(_ *Socket, args []json.RawMessage, ack AckFunc) {
		_ = ack(args[0])
	})
}

// BenchmarkDispatchTyped: the same handler typed, func(*Socket, string)
// string.
func BenchmarkDispatchTyped(b *testing.B) {
	benchDispatch(b, func(_ *Socket, text string) string { return text })
}

// BenchmarkDispatchTypedReflect: the handler of BenchmarkDispatchTyped
// called as a typed handler without a fast path is (reflect.Value.Call).
func BenchmarkDispatchTypedReflect(b *testing.B) {
	benchDispatchWith(b, func(_ *Socket, text string) string { return text }, true)
}

// BenchmarkDispatchTypedGeneral: a typed handler of a signature without a
// fast path, func(*Socket, string, int) (string, error), which goes
// through reflect.Value.Call.
func BenchmarkDispatchTypedGeneral(b *testing.B) {
	benchDispatch(b, func(_ *Socket, text string, _ int) (string, error) { return text, nil })
}
