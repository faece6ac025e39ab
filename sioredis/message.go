package sioredis

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/siogo/siogo/socketio"
)

// A broadcast travels through Redis as one binary message:
//
//	version (1 byte, msgVersion)
//	flags   (1 byte, bit 0: volatile)
//	node id, namespace: uvarint length + bytes each
//	rooms, except: uvarint count, then uvarint length + bytes each
//	kind    (1 byte, a socketio.MessageKind)
//	event   uvarint length + bytes (empty but for an event)
//	args    uvarint count, then uvarint length + bytes each (an event's)
//	payload the rest: the Text of a text message, the Data of a JSON
//	        message; for an event, empty or its binary attachments
//	        (Message.Attachments: uvarint count, then uvarint length +
//	        bytes each; nodes before attachments drop such broadcasts
//	        as malformed)
//
// It carries the fields of the socketio.Message, not the bytes of one
// protocol: each node encodes the message for the protocols of its own
// receivers, once per protocol. Binary rather than JSON so that text and
// arguments travel byte for byte, not escaped twice. Version 1 carried
// Socket.IO 0.9 frames; nodes of versions 1 and 2 drop each other's
// broadcasts (counted in Stats().Malformed).
const msgVersion = 2

const flagVolatile = 1

// maxMessageBytes bounds a broadcast message on the channel: a larger one
// is neither published nor delivered.
const maxMessageBytes = 16 << 20

var (
	errBadMessage   = errors.New("sioredis: malformed cluster message")
	errTooLarge     = errors.New("sioredis: cluster message too large")
	errBadBroadcast = errors.New("sioredis: cluster message carries a broadcast no node makes")
)

// message is a decoded broadcast.
type message struct {
	node string
	opts socketio.BroadcastOptions
	msg  *socketio.Message
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// encodeMessage encodes a broadcast of m with opts by node. It encodes
// the fields as they are; the sender validated m.
func encodeMessage(node string, opts socketio.BroadcastOptions, m *socketio.Message) []byte {
	n := 3 + 5*binary.MaxVarintLen64 + len(node) + len(m.Namespace) + len(m.Event) + len(m.Data) + len(m.Text)
	for _, r := range opts.Rooms {
		n += binary.MaxVarintLen64 + len(r)
	}
	for _, e := range opts.Except {
		n += binary.MaxVarintLen64 + len(e)
	}
	for _, a := range m.Args {
		n += binary.MaxVarintLen64 + len(a)
	}
	for _, a := range m.Attachments {
		n += binary.MaxVarintLen64 + len(a)
	}
	if m.Attachments != nil {
		n += binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	var flags byte
	if opts.Volatile {
		flags |= flagVolatile
	}
	b = append(b, msgVersion, flags)
	b = appendString(b, node)
	b = appendString(b, m.Namespace)
	b = appendStrings(b, opts.Rooms)
	b = appendStrings(b, opts.Except)
	b = append(b, byte(m.Kind))
	b = appendString(b, m.Event)
	b = binary.AppendUvarint(b, uint64(len(m.Args)))
	for _, a := range m.Args {
		b = binary.AppendUvarint(b, uint64(len(a)))
		b = append(b, a...)
	}
	if m.Kind == socketio.MessageEvent && len(m.Attachments) > 0 {
		b = binary.AppendUvarint(b, uint64(len(m.Attachments)))
		for _, a := range m.Attachments {
			b = binary.AppendUvarint(b, uint64(len(a)))
			b = append(b, a...)
		}
	}
	b = append(b, m.Data...)
	return append(b, m.Text...)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadMessage
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errBadMessage
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) strings() []string {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	// Every string takes at least one byte (its length), which bounds the
	// allocation a hostile count could ask for.
	if n > uint64(len(r.b)) {
		r.err = errBadMessage
		return nil
	}
	out := make([]string, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		out = append(out, r.string())
	}
	return out
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errBadMessage
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// raws reads a count and as many byte strings, aliasing the input; none
// gives nil.
func (r *reader) raws() []json.RawMessage {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errBadMessage
		return nil
	}
	out := make([]json.RawMessage, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		l := r.uvarint()
		if r.err == nil && l > uint64(len(r.b)) {
			r.err = errBadMessage
		}
		if r.err != nil {
			return nil
		}
		out = append(out, json.RawMessage(r.b[:l:l]))
		r.b = r.b[l:]
	}
	return out
}

// decodeMessage decodes a message made by encodeMessage. It never panics;
// anything malformed is errBadMessage, anything over maxMessageBytes
// errTooLarge. It does not validate the Message (see checkMessage). Args,
// Data and Attachments alias b.
func decodeMessage(b []byte) (message, error) {
	if len(b) > maxMessageBytes {
		return message{}, errTooLarge
	}
	if len(b) < 2 || b[0] != msgVersion {
		return message{}, errBadMessage
	}
	var m message
	m.opts.Volatile = b[1]&flagVolatile != 0
	r := reader{b: b[2:]}
	msg := &socketio.Message{}
	m.node = r.string()
	msg.Namespace = r.string()
	m.opts.Rooms = r.strings()
	m.opts.Except = r.strings()
	msg.Kind = socketio.MessageKind(r.byte())
	msg.Event = r.string()
	msg.Args = r.raws()
	if r.err != nil {
		return message{}, r.err
	}
	switch msg.Kind {
	case socketio.MessageText:
		msg.Text = string(r.b)
	case socketio.MessageJSON:
		msg.Data = json.RawMessage(r.b)
	default:
		if len(r.b) > 0 {
			for _, a := range r.raws() {
				msg.Attachments = append(msg.Attachments, []byte(a))
			}
			if r.err != nil || len(r.b) > 0 || msg.Attachments == nil {
				return message{}, errBadMessage
			}
		}
	}
	m.msg = msg
	return m, nil
}

// checkMessage tells whether a decoded broadcast carries what a Selection
// makes (socketio.Message.Validate: a known kind with its fields only, an
// event name the server may send, valid JSON). Anything else did not come
// from a siogo node (someone else wrote to the channel) and must not
// reach clients.
func checkMessage(m *socketio.Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w: %w", errBadBroadcast, err)
	}
	return nil
}
