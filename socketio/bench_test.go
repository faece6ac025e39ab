package socketio

import (
	"context"
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
func (c nullConn) protocol() protocolID       { return proto09 }
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
	benchDispatchSetup(b, func(ns *Namespace) error {
		if err := ns.On("echo", fn); err != nil {
			return err
		}
		if reflective {
			th, err := typedHandlerOf(fn)
			if err != nil {
				return err
			}
			ns.handlers["echo"] = eventHandler{typed: th}
		}
		return nil
	})
}

// benchDispatchSetup is benchDispatch with the handler of "echo" set by
// setup.
func benchDispatchSetup(b *testing.B, setup func(ns *Namespace) error) {
	ns := newNamespace("", quietOpts())
	if err := setup(ns); err != nil {
		b.Fatal(err)
	}
	s, err := ns.connect(nullConn{id: "a"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.drain(context.Background()); err != nil { // the connect job (Register's value)
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
	benchDispatchSetup(b, func(ns *Namespace) error {
		return ns.OnRaw("echo", func(_ *Socket, args []json.RawMessage, ack AckFunc) {
			_ = ack(args[0])
		})
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

// BenchmarkDispatchHandle: the handler of BenchmarkDispatchTyped with
// Handle, func(*Socket, string) (string, error), generic, without
// reflection.
func BenchmarkDispatchHandle(b *testing.B) {
	benchDispatchSetup(b, func(ns *Namespace) error {
		return Handle(ns, "echo", func(_ *Socket, text string) (string, error) { return text, nil })
	})
}

// BenchmarkDispatchHandleGeneral: the handler of
// BenchmarkDispatchTypedGeneral with Handle2.
func BenchmarkDispatchHandleGeneral(b *testing.B) {
	benchDispatchSetup(b, func(ns *Namespace) error {
		return Handle2(ns, "echo", func(_ *Socket, text string, _ int) (string, error) { return text, nil })
	})
}

type benchPoint struct{ X, Y int }

// BenchmarkDispatchTypedStruct: a typed handler with a struct argument
// and result, func(*Socket, benchPoint) (benchPoint, error), through
// reflect.Value.Call; the event's argument is {"X":1,"Y":2}.
func BenchmarkDispatchTypedStruct(b *testing.B) {
	benchDispatchStruct(b, func(ns *Namespace) error {
		return ns.On("echo", func(_ *Socket, p benchPoint) (benchPoint, error) { return p, nil })
	})
}

// BenchmarkDispatchHandleStruct: the handler of
// BenchmarkDispatchTypedStruct with Handle.
func BenchmarkDispatchHandleStruct(b *testing.B) {
	benchDispatchStruct(b, func(ns *Namespace) error {
		return Handle(ns, "echo", func(_ *Socket, p benchPoint) (benchPoint, error) { return p, nil })
	})
}

func benchDispatchStruct(b *testing.B, setup func(ns *Namespace) error) {
	ns := newNamespace("", quietOpts())
	if err := setup(ns); err != nil {
		b.Fatal(err)
	}
	s, err := ns.connect(nullConn{id: "a"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ev := job{name: "echo", args: []json.RawMessage{json.RawMessage(`{"X":1,"Y":2}`)}, id: 1, hasID: true, ackData: true}
	b.ReportAllocs()
	for b.Loop() {
		s.dispatchEvent(&ev)
	}
}

type benchEcho struct{}

func (benchEcho) OnEcho(text string) (string, error) { return text, nil }

// BenchmarkDispatchRegistered: the handler of BenchmarkDispatchTyped as a
// method of a Register type (reflect.Value.Call, with the socket's value
// as receiver).
func BenchmarkDispatchRegistered(b *testing.B) {
	benchDispatchSetup(b, func(ns *Namespace) error {
		return Register(ns, func(*Socket) benchEcho { return benchEcho{} })
	})
}
