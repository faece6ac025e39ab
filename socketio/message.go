package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// MessageKind says what a Message carries.
type MessageKind uint8

// The kinds of Message. The zero value is no kind: Validate refuses it.
const (
	// MessageEvent is a named event with JSON arguments (Message.Event
	// and Message.Args): what Emit sends.
	MessageEvent MessageKind = iota + 1
	// MessageText is a plain-text message (Message.Text): what Send
	// sends.
	MessageText
	// MessageJSON is a message carrying one JSON value (Message.Data):
	// what SendJSON sends.
	MessageJSON
)

var kindNames = [...]string{"none", "event", "text", "json"}

// String names the kind ("event", "text", "json").
func (k MessageKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("MessageKind(%d)", uint8(k))
}

// MaxEventNameBytes bounds the length of the name of an event the server
// sends (Emit) and of a Message's Event.
const MaxEventNameBytes = 1024

// Errors about messages.
var (
	// ErrInvalidMessage is wrapped by Message.Validate and by the
	// adapters that refuse a Message.
	ErrInvalidMessage = errors.New("socketio: invalid message")
)

// IsReservedEvent reports whether the server refuses to emit an event of
// this name (Emit and the other sends fail with ErrReservedEvent): the
// clients treat these names as their own connection events, so an event
// of one of them from the server would reach the application on the
// client as if the client had connected, disconnected or reconnected.
// They are the names socket.io-client 0.9.16 publishes itself on every
// namespace (connect, connecting, connect_failed, disconnect, reconnect,
// reconnecting, reconnect_failed), those socket.io-client 4.x keeps for
// itself (connect, connect_error, disconnect, disconnecting, newListener,
// removeListener), and the reconnect_attempt and reconnect_error events
// of the later clients' managers. "error" and "message" are not reserved:
// the 0.9 server sends "error" itself (acl.DeniedReason), and the 0.9
// client turns message packets into "message".
func IsReservedEvent(name string) bool {
	// Every emit checks its name: most names are told apart by their
	// length or first byte, before the switch compares strings.
	if len(name) < len("connect") || len(name) > len("reconnect_attempt") {
		return false
	}
	switch name[0] {
	case 'c', 'd', 'r', 'n':
	default:
		return false
	}
	switch name {
	case "connect", "connect_error", "connect_failed", "connecting",
		"disconnect", "disconnecting",
		"reconnect", "reconnect_attempt", "reconnect_failed", "reconnect_error", "reconnecting",
		"newListener", "removeListener":
		return true
	}
	return false
}

// checkEventName tells whether the server may send an event of this name:
// not empty, at most MaxEventNameBytes, valid UTF-8, not reserved. The
// common case costs a few comparisons; the error is made apart.
func checkEventName(name string) error {
	if name != "" && len(name) <= MaxEventNameBytes && !IsReservedEvent(name) && validUTF8(name) {
		return nil
	}
	return eventNameError(name)
}

// validUTF8 is utf8.ValidString, faster on the short ASCII strings event
// names mostly are (utf8.ValidString costs about a hundred instructions
// even on those).
func validUTF8(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return utf8.ValidString(s[i:])
		}
	}
	return true
}

// eventNameError says what is wrong with a name checkEventName refused.
func eventNameError(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty event name", ErrInvalidMessage)
	case len(name) > MaxEventNameBytes:
		return fmt.Errorf("%w: event name of %d bytes (at most %d)", ErrInvalidMessage, len(name), MaxEventNameBytes)
	case IsReservedEvent(name):
		return fmt.Errorf("%w: %q", ErrReservedEvent, name)
	default:
		return fmt.Errorf("%w: event name is not valid UTF-8", ErrInvalidMessage)
	}
}

// Message is one packet of the Socket.IO layer in a protocol-neutral
// form: what a broadcast carries from Namespace and Selection through the
// Adapter (and a cluster adapter between nodes) to each receiver, whose
// session's protocol encodes it. A Message is encoded at most once per
// protocol, however many receivers it has: the first receiver of a
// protocol encodes it, the others are given the same bytes.
//
// Build one with a composite literal and check it with Validate if it
// comes from elsewhere (a cluster adapter validates what it receives).
// Once it has been handed to an Adapter or encoded, a Message is
// immutable and must not be copied (it holds its encodings; go vet's
// copylocks check reports copies): share the pointer.
type Message struct {
	// Namespace is the name of the namespace ("" or "/name").
	Namespace string
	// Kind says which of the fields below the message uses; the others
	// stay empty.
	Kind MessageKind
	// Event is the event's name (MessageEvent): not empty, at most
	// MaxEventNameBytes, valid UTF-8, not reserved (IsReservedEvent).
	Event string
	// Args are the event's arguments (MessageEvent), each one valid
	// JSON value.
	Args []json.RawMessage
	// Data is the value of a JSON message (MessageJSON), valid JSON.
	Data json.RawMessage
	// Text is the text of a plain-text message (MessageText).
	Text string
	// Attachments are the binary arguments of an event (MessageEvent):
	// Args hold a placeholder {"_placeholder":true,"num":N} for each,
	// Attachments[N] is its bytes (see "Binary arguments" in the package
	// documentation: v5 clients get binary frames, 0.9 clients base64
	// strings). Nil for an event without binary arguments.
	Attachments [][]byte

	// ackID, when not 0, is the ack id (with data) under which the
	// message asks every receiver for an ack: the copy a broadcast with
	// acks makes (ackCopy), encoded once per protocol like any other.
	ackID uint64

	// enc caches the encoding of the message for each protocol, made by
	// encoded on first use.
	enc [numProtocols]encoding
}

// encoding is a Message's wire form for one protocol. frame is written
// once, under mu, before done is set; after that it is only read.
type encoding struct {
	done  atomic.Bool
	mu    sync.Mutex
	frame []byte
}

// Validate checks that the message is one the server could have made: a
// known Kind with the fields of that kind only, a namespace name "" or
// starting with "/", an event name the server may send (see Event) and
// valid JSON in Args and Data. Errors wrap ErrInvalidMessage, or
// ErrReservedEvent for a reserved event name.
func (m *Message) Validate() error {
	if m.Attachments != nil && m.Kind != MessageEvent {
		return fmt.Errorf("%w: attachments on a %v message", ErrInvalidMessage, m.Kind)
	}
	if m.Namespace != "" && !strings.HasPrefix(m.Namespace, "/") {
		return fmt.Errorf("%w: namespace %q does not start with /", ErrInvalidMessage, clipName(m.Namespace))
	}
	switch m.Kind {
	case MessageEvent:
		if err := checkEventName(m.Event); err != nil {
			return err
		}
		for i, a := range m.Args {
			if !json.Valid(a) {
				return fmt.Errorf("%w: argument %d is not valid JSON", ErrInvalidMessage, i)
			}
		}
		if m.Data != nil || m.Text != "" {
			return fmt.Errorf("%w: an event with data or text", ErrInvalidMessage)
		}
		for i, a := range m.Attachments {
			if a == nil {
				return fmt.Errorf("%w: attachment %d is nil", ErrInvalidMessage, i)
			}
		}
	case MessageText:
		if m.Event != "" || m.Args != nil || m.Data != nil {
			return fmt.Errorf("%w: a text message with an event or data", ErrInvalidMessage)
		}
	case MessageJSON:
		if !json.Valid(m.Data) {
			return fmt.Errorf("%w: JSON message data is not valid JSON", ErrInvalidMessage)
		}
		if m.Event != "" || m.Args != nil || m.Text != "" {
			return fmt.Errorf("%w: a JSON message with an event or text", ErrInvalidMessage)
		}
	default:
		return fmt.Errorf("%w: unknown kind %d", ErrInvalidMessage, m.Kind)
	}
	return nil
}

// clipName shortens a client- or network-chosen string for an error text.
func clipName(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// encodeHook, when set (by tests), is called each time a Message is
// encoded for a protocol by encoded.
var encodeHook atomic.Pointer[func(*Message, protocolID)]

// encoded returns the wire form of m for protocol p, encoding it on the
// first call for p only: every receiver of a protocol gets the same bytes,
// which nobody may modify. m must be valid. Its fast path is one atomic
// load.
func (m *Message) encoded(p protocolID) []byte {
	e := &m.enc[p]
	if e.done.Load() {
		return e.frame
	}
	return m.encodeOnce(e, p)
}

// encodeOnce is encoded's first call for p (or a call racing it); e is
// m.enc[p].
func (m *Message) encodeOnce(e *encoding, p protocolID) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.done.Load() {
		e.frame = encodeMessage(p, m, m.ackID, m.ackID > 0)
		e.done.Store(true)
		if h := encodeHook.Load(); h != nil {
			(*h)(m, p)
		}
	}
	return e.frame
}

// newEventMessage makes the Message of an event emitted in namespace ns,
// with its args encoded (see marshalArg), refusing a name the server may
// not send (checkEventName).
func newEventMessage(ns, event string, args []any) (*Message, error) {
	if err := checkEventName(event); err != nil {
		return nil, err
	}
	// One allocation for the message and the arguments of most events.
	type withArgs struct {
		m   Message
		buf [2]json.RawMessage
	}
	w := &withArgs{}
	var err error
	if w.m.Args, w.m.Attachments, err = appendArgs(w.buf[:0], nil, args); err != nil {
		return nil, err
	}
	if len(w.m.Args) == 0 {
		w.m.Args = nil
	}
	w.m.Namespace, w.m.Kind, w.m.Event = ns, MessageEvent, event
	return &w.m, nil
}

// newTextMessage makes the Message of a plain-text message.
func newTextMessage(ns, text string) *Message {
	return &Message{Namespace: ns, Kind: MessageText, Text: text}
}

// newJSONMessage makes the Message of a JSON message carrying v.
func newJSONMessage(ns string, v any) (*Message, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Message{Namespace: ns, Kind: MessageJSON, Data: b}, nil
}
