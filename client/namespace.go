package client

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/siogo/siogo/packet"
)

type nsState uint8

const (
	nsIdle      nsState = iota // waiting for a session to be joined on
	nsJoining                  // connect packet queued or sent
	nsConnected                // the server confirmed ("1::/ns")
	nsRefused                  // the server refused ("7::/ns:2")
	nsLeft                     // Leave was called, or the server kicked ("0::/ns")
)

// Namespace is one endpoint of the client's session ("" is the default,
// others start with "/"), with its handlers. Get one from Client.Of or
// Client.Namespace. Its methods are safe for concurrent use; its state and
// handlers are guarded by the client's mutex.
type Namespace struct {
	c     *Client
	name  string
	query string          // 0.9: sent with the connect packet
	auth  json.RawMessage // v5: the CONNECT payload (nil: Options.Auth)

	// Guarded by c.mu.
	state     nsState
	sid       string        // v5: the socket id of the CONNECT answer
	err       error         // why refused or left
	changed   chan struct{} // closed and replaced on every state change
	handlers  map[string]handler
	onAny     func(event string, args []json.RawMessage)
	onMessage func(text string)
	onJSON    func(v json.RawMessage)
}

// Name returns the endpoint ("" or "/chat").
func (ns *Namespace) Name() string { return ns.name }

// Client returns the client the namespace belongs to.
func (ns *Namespace) Client() *Client { return ns.c }

func (ns *Namespace) setStateLocked(st nsState, err error) {
	ns.state, ns.err = st, err
	close(ns.changed)
	ns.changed = make(chan struct{})
}

func (ns *Namespace) connectFrame() []byte {
	if ns.c.v5() {
		return ns.connectFrame5()
	}
	return packet.AppendPacket(nil, &packet.Packet{Type: packet.Connect, Endpoint: ns.name, Data: ns.query})
}

// Connected reports whether the server has confirmed the namespace on
// the current session.
func (ns *Namespace) Connected() bool {
	ns.c.mu.Lock()
	defer ns.c.mu.Unlock()
	return ns.state == nsConnected
}

// WaitConnected waits until the namespace is connected (nil), refused (a
// *NamespaceError matching ErrUnauthorized), left or kicked, the client
// stops (Client.Err), or ctx ends.
func (ns *Namespace) WaitConnected(ctx context.Context) error {
	c := ns.c
	for {
		c.mu.Lock()
		st, err, ch := ns.state, ns.err, ns.changed
		finished, cerr := c.finished, c.err
		c.mu.Unlock()
		switch {
		case st == nsConnected:
			return nil
		case st == nsRefused || st == nsLeft:
			return err
		case finished:
			return cerr
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("client: waiting for namespace %q: %w", ns.name, ctx.Err())
		}
	}
}

// On registers the typed handler of an event, replacing any previous
// handler of that event (typed or raw). fn follows the rules of the
// server's Namespace.On, minus the *Socket:
//
//	func([ns *Namespace,] a A, b B, ...) (R1, ..., [error])
//
// Each argument the server sent is decoded from JSON into the matching
// parameter (missing ones stay zero; a final variadic parameter takes the
// rest; json.RawMessage keeps the raw text). If the server asked for an
// ack, the results (without the error) are its arguments; a non-nil error
// is acked as [{"error": "text"}]. An argument that does not decode drops
// the event (reported through Options.OnError). With ProtocolV5 a binary
// attachment arrives as the base64 JSON string of its bytes, so a []byte
// parameter (or field) receives them. A function that takes an
// AckFunc (a RawHandler) is refused with an error: register it with
// OnRaw. Handlers run on the client's dispatch goroutine, one at a time,
// in the order received.
func (ns *Namespace) On(event string, fn any) error {
	h, err := handlerOf(fn)
	if err != nil {
		return fmt.Errorf("%w (event %q)", err, event)
	}
	ns.setHandler(event, h)
	return nil
}

// OnRaw registers the raw handler of an event, replacing any previous
// handler of that event (typed or raw): fn gets the arguments as the
// server sent them, and an AckFunc, nil unless the server asked for an
// ack with data. It runs like On's handlers.
func (ns *Namespace) OnRaw(event string, fn RawHandler) error {
	h, err := rawHandlerOf(fn)
	if err != nil {
		return fmt.Errorf("%w (event %q)", err, event)
	}
	ns.setHandler(event, h)
	return nil
}

func (ns *Namespace) setHandler(event string, h handler) {
	ns.c.mu.Lock()
	ns.handlers[event] = h
	ns.c.mu.Unlock()
}

// Off removes the handler of an event (registered by On or OnRaw).
func (ns *Namespace) Off(event string) {
	ns.c.mu.Lock()
	delete(ns.handlers, event)
	ns.c.mu.Unlock()
}

// OnAny registers fn to see every event of the namespace (name and raw
// arguments) before its handler, if any, runs, replacing any previous
// one; nil removes it.
func (ns *Namespace) OnAny(fn func(event string, args []json.RawMessage)) {
	ns.c.mu.Lock()
	ns.onAny = fn
	ns.c.mu.Unlock()
}

// OnMessage registers the handler of plain messages ("3:::text"),
// replacing any previous one; nil removes it. A
// message that asks for an ack with data ("3:1+::text") is acked, without
// data, after the handler returns; one with an id but no '+' ("3:1::text",
// what the server's Socket.SendWithAck and the reference's
// socket.send(text, fn) send) is acked on receipt, as socket.io.js does.
func (ns *Namespace) OnMessage(fn func(text string)) {
	ns.c.mu.Lock()
	ns.onMessage = fn
	ns.c.mu.Unlock()
}

// OnJSON registers the handler of json messages ("4:::{...}"), acked like
// messages, replacing any previous one; nil removes it.
func (ns *Namespace) OnJSON(fn func(v json.RawMessage)) {
	ns.c.mu.Lock()
	ns.onJSON = fn
	ns.c.mu.Unlock()
}

// deliver runs on the dispatch goroutine.
func (ns *Namespace) deliver(p packet.Packet, ack AckFunc) {
	c := ns.c
	c.mu.Lock()
	h, onAny, onMessage, onJSON := ns.handlers[p.Name], ns.onAny, ns.onMessage, ns.onJSON
	c.mu.Unlock()
	switch p.Type {
	case packet.Event:
		if onAny != nil {
			onAny(p.Name, p.Args)
		}
		if h != nil {
			if err := h(ns, p.Args, ack); err != nil {
				c.reportError(fmt.Errorf("client: event %q on namespace %q dropped: %w", p.Name, ns.name, err))
			}
		} else if c.v5() && p.Name == "message" {
			// v5 has no message packets: socket.send is a "message" event.
			ns.deliverMessage5(p.Args, onMessage, onJSON, ack)
		}
	case packet.Message:
		if onMessage != nil {
			onMessage(p.Data)
		}
	case packet.JSON:
		if onJSON != nil {
			onJSON(json.RawMessage(p.Data))
		}
	}
	if ack != nil && p.Type != packet.Event {
		_ = ack()
	}
}

// usableLocked says why nothing can be sent on the namespace, if so.
func (ns *Namespace) usableLocked() error {
	c := ns.c
	switch {
	case c.finished:
		return c.err
	case c.closed:
		return ErrClosed
	case ns.state == nsRefused || ns.state == nsLeft:
		return ns.err
	}
	return nil
}

func (ns *Namespace) send(p *packet.Packet) error {
	frame := packet.AppendPacket(nil, p)
	c := ns.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ns.usableLocked(); err != nil {
		return err
	}
	return c.queueLocked(&outItem{frame: frame})
}

// Emit sends an event with arguments (each encoded as JSON; a
// json.RawMessage is sent as is). It returns once the packet is queued:
// packets are sent in order, and while the client reconnects they wait
// for the next session (up to Options.MaxQueuedPackets).
func (ns *Namespace) Emit(event string, args ...any) error {
	if ns.c.v5() {
		return ns.emit5(event, args)
	}
	p, err := ns.eventPacket(event, args)
	if err != nil {
		return err
	}
	return ns.send(p)
}

// EmitWithAck sends an event asking the server for an ack with data, and
// waits for it: it returns the ack's arguments (an empty slice when it
// has none). It fails with ctx's error, ErrClosed, ErrTooManyAcks (see
// Options.MaxPendingAcks), or ErrDisconnected when the session carrying
// the packet is lost first (the server may or may not have handled the
// event). EmitWithAckFunc is the callback form.
func (ns *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	enc, err := ns.eventEncoder(event, args)
	if err != nil {
		return nil, err
	}
	pa, err := ns.sendWithID(enc, make(chan ackResult, 1), nil)
	if err != nil {
		return nil, err
	}
	return ns.waitAck(ctx, pa, fmt.Sprintf("%q", event))
}

// EmitWithAckFunc sends an event asking the server for an ack with data,
// like EmitWithAck, without waiting: fn runs with the ack's arguments on
// the dispatch goroutine, in order with the handlers, when the ack
// arrives. If it cannot arrive (the session carrying the packet is lost,
// the namespace is left or refused, the client closes), fn never runs and
// the ack's slot is freed; EmitWithAck says why. A nil fn only frees the
// slot. The error is about queueing the packet (as for Emit) or
// ErrTooManyAcks.
func (ns *Namespace) EmitWithAckFunc(event string, fn func(args []json.RawMessage), args ...any) error {
	enc, err := ns.eventEncoder(event, args)
	if err != nil {
		return err
	}
	_, err = ns.sendWithID(enc, nil, fn)
	return err
}

// SendWithAck sends a plain message asking the server to acknowledge it,
// and waits for the ack. As socket.send(text, fn) does in socket.io.js,
// the message carries an id without '+' ("3:1::text"): the server
// acknowledges it on receipt, without data. It fails like EmitWithAck.
// SendWithAckFunc is the callback form.
func (ns *Namespace) SendWithAck(ctx context.Context, text string) error {
	if ns.c.v5() {
		_, err := ns.EmitWithAck(ctx, "message", text)
		return err
	}
	pa, err := ns.sendWithID(enc09(ns.messagePacket(text)), make(chan ackResult, 1), nil)
	if err != nil {
		return err
	}
	_, err = ns.waitAck(ctx, pa, "a message")
	return err
}

// SendWithAckFunc sends a plain message asking the server to acknowledge
// it, like SendWithAck, without waiting: fn runs on the dispatch
// goroutine when the ack arrives, never if it cannot (see
// EmitWithAckFunc). A nil fn only frees the slot.
func (ns *Namespace) SendWithAckFunc(text string, fn func()) error {
	if ns.c.v5() {
		return ns.EmitWithAckFunc("message", noArgs(fn), text)
	}
	_, err := ns.sendWithID(enc09(ns.messagePacket(text)), nil, noArgs(fn))
	return err
}

// SendJSONWithAck sends a json message ("4:1::{...}") with v encoded as
// JSON, asking the server to acknowledge it, and waits for the ack, like
// SendWithAck.
func (ns *Namespace) SendJSONWithAck(ctx context.Context, v any) error {
	if ns.c.v5() {
		_, err := ns.EmitWithAck(ctx, "message", v)
		return err
	}
	p, err := ns.jsonPacket(v)
	if err != nil {
		return err
	}
	pa, err := ns.sendWithID(enc09(p), make(chan ackResult, 1), nil)
	if err != nil {
		return err
	}
	_, err = ns.waitAck(ctx, pa, "a json message")
	return err
}

// SendJSONWithAckFunc sends a json message with v encoded as JSON, asking
// the server to acknowledge it, like SendWithAckFunc.
func (ns *Namespace) SendJSONWithAckFunc(v any, fn func()) error {
	if ns.c.v5() {
		return ns.EmitWithAckFunc("message", noArgs(fn), v)
	}
	p, err := ns.jsonPacket(v)
	if err != nil {
		return err
	}
	_, err = ns.sendWithID(enc09(p), nil, noArgs(fn))
	return err
}

// Send sends a plain message ("3:::text"). SendWithAck and
// SendWithAckFunc ask the server to acknowledge it.
func (ns *Namespace) Send(text string) error {
	if ns.c.v5() {
		return ns.emit5("message", []any{text})
	}
	return ns.send(ns.messagePacket(text))
}

// SendJSON sends a json message ("4:::{...}") with v encoded as JSON.
// SendJSONWithAck and SendJSONWithAckFunc ask the server to acknowledge
// it.
func (ns *Namespace) SendJSON(v any) error {
	if ns.c.v5() {
		return ns.emit5("message", []any{v})
	}
	p, err := ns.jsonPacket(v)
	if err != nil {
		return err
	}
	return ns.send(p)
}

func (ns *Namespace) eventPacket(event string, args []any) (*packet.Packet, error) {
	if event == "disconnect" {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	raw, err := marshalArgs(args)
	if err != nil {
		return nil, err
	}
	return &packet.Packet{Type: packet.Event, Endpoint: ns.name, Name: event, Args: raw}, nil
}

func (ns *Namespace) messagePacket(text string) *packet.Packet {
	return &packet.Packet{Type: packet.Message, Endpoint: ns.name, Data: text}
}

func (ns *Namespace) jsonPacket(v any) (*packet.Packet, error) {
	raw, err := marshalArgs([]any{v})
	if err != nil {
		return nil, err
	}
	return &packet.Packet{Type: packet.JSON, Endpoint: ns.name, Data: string(raw[0])}, nil
}

// eventEncoder returns the encoder of an event asking for an ack, for
// sendWithID.
func (ns *Namespace) eventEncoder(event string, args []any) (func(uint64) (*outItem, error), error) {
	if ns.c.v5() {
		return ns.eventEncoder5(event, args)
	}
	p, err := ns.eventPacket(event, args)
	if err != nil {
		return nil, err
	}
	return enc09(p), nil
}

// enc09 returns the encoder of a 0.9 packet asking for an ack: an event
// asks for an ack with data ('+'), a message or json message for an ack
// of receipt.
func enc09(p *packet.Packet) func(uint64) (*outItem, error) {
	return func(id uint64) (*outItem, error) {
		p.ID, p.HasID, p.AckData = id, true, p.Type == packet.Event
		return &outItem{frame: packet.AppendPacket(nil, p)}, nil
	}
}

// noArgs adapts a message-ack callback to the ack waiter's signature.
func noArgs(fn func()) func([]json.RawMessage) {
	if fn == nil {
		return nil
	}
	return func([]json.RawMessage) { fn() }
}

// sendWithID queues the packet enc encodes with a fresh message id and
// registers the wait for its ack: ch for the blocking forms, fn (possibly
// nil) for the callback forms.
func (ns *Namespace) sendWithID(enc func(id uint64) (*outItem, error), ch chan ackResult, fn func([]json.RawMessage)) (*pendingAck, error) {
	c := ns.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ns.usableLocked(); err != nil {
		return nil, err
	}
	if len(c.acks) >= c.opts.MaxPendingAcks {
		return nil, ErrTooManyAcks
	}
	c.nextAckID++
	it, err := enc(c.nextAckID)
	if err != nil {
		return nil, err
	}
	pa := &pendingAck{key: ackKey{ns.name, c.nextAckID}, ch: ch, fn: fn}
	it.ack = pa
	if err := c.queueLocked(it); err != nil {
		return nil, err
	}
	c.acks[pa.key] = pa
	return pa, nil
}

// waitAck waits for the ack pa awaits, what being what it acknowledges
// (for the error text). When ctx ends first the slot is freed, and a
// packet not yet sent is not sent.
func (ns *Namespace) waitAck(ctx context.Context, pa *pendingAck, what string) ([]json.RawMessage, error) {
	select {
	case r := <-pa.ch:
		return r.args, r.err
	case <-ctx.Done():
	}
	c := ns.c
	c.mu.Lock()
	if c.acks[pa.key] == pa {
		delete(c.acks, pa.key)
		pa.cancelled = true
	}
	c.mu.Unlock()
	select {
	case r := <-pa.ch: // it arrived after all
		return r.args, r.err
	default:
	}
	return nil, fmt.Errorf("client: waiting for the ack of %s: %w", what, ctx.Err())
}

// Leave leaves the namespace ("0::/ns"; v5: DISCONNECT): its handlers
// stop, acks awaited on it fail, and Client.Of makes a fresh handle.
// Leaving the default namespace (v5: the URL's namespace, Namespace)
// closes the client.
func (ns *Namespace) Leave() error {
	c := ns.c
	if (!c.v5() && ns.name == "") || (c.v5() && ns == c.main) {
		return c.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.namespaces[ns.name] != ns {
		return nil
	}
	if c.sess != nil && (ns.state == nsConnected || ns.state == nsJoining) {
		c.outq = append(c.outq, &outItem{frame: ns.disconnectFrame(), bound: c.sess})
		c.signalOut()
	}
	err := &NamespaceError{Namespace: ns.name, Err: ErrDisconnected}
	if ns.state == nsConnected {
		if f := c.opts.OnDisconnect; f != nil {
			c.enqueueLocked(func() { f(ns, err) }, true)
		}
	}
	ns.setStateLocked(nsLeft, err)
	delete(c.namespaces, ns.name)
	c.nsOrder = slices.DeleteFunc(c.nsOrder, func(x *Namespace) bool { return x == ns })
	c.failAcksLocked(ns.name, err)
	return nil
}
