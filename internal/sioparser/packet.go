package sioparser

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Type is a packet type, the first character of every packet.
type Type uint8

// The packet types of protocols 5 and 4.
const (
	Connect      Type = iota // join a namespace; v5: optional auth object (client) or {"sid":...} (server)
	Disconnect               // leave a namespace; no payload
	Event                    // ["name", args...], optional ack id
	Ack                      // [args...], ack id
	ConnectError             // v5 CONNECT_ERROR {"message":...}; v4 ERROR, a string or an object
	BinaryEvent              // Event with binary attachments
	BinaryAck                // Ack with binary attachments
)

var typeNames = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// String returns the protocol's name of the type ("EVENT", "BINARY_ACK"...).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Binary reports whether packets of this type carry binary attachments
// (BinaryEvent, BinaryAck).
func (t Type) Binary() bool { return t == BinaryEvent || t == BinaryAck }

// Protocol is a revision of the Socket.IO protocol.
type Protocol uint8

// The protocols this package speaks. The zero value is V5.
const (
	// V5 is the protocol of socket.io 3.x and 4.x (Engine.IO v4).
	V5 Protocol = iota
	// V4 is the protocol of socket.io 1.x and 2.x (Engine.IO v3). It
	// differs from V5, as far as packets go, in that the CONNECT packet
	// of a namespace other than "/" may carry a query string
	// ("0/admin?token=abc,"), packet 4 is called ERROR, and event
	// names are not checked against the reserved names.
	V4
)

// String returns "v5" or "v4".
func (p Protocol) String() string {
	switch p {
	case V5:
		return "v5"
	case V4:
		return "v4"
	}
	return "Protocol(" + strconv.Itoa(int(p)) + ")"
}

// Packet is one Socket.IO v5 (or v4) packet.
//
// Data is the JSON payload exactly as it travels, nil when the packet has
// none: for Event and BinaryEvent an array whose first element is the
// event name ("["chat","hi"]"), for Ack and BinaryAck the array of
// arguments, for Connect an optional object, for ConnectError an object
// (v5: {"message":...}) or a string. In the binary types each []byte
// argument is a placeholder {"_placeholder":true,"num":N} in Data and
// Attachments[N] is its bytes; PlaceholderNum and Reconstruct map them.
type Packet struct {
	Type Type
	// Namespace starts with "/"; "" is taken as "/" when encoding.
	Namespace string
	// Query is the query string of a v4 CONNECT packet (after '?', not
	// including it). Always empty in v5.
	Query string
	// ID is the ack id of an Event (the sender asks for an Ack) or the id
	// an Ack answers; meaningful when HasID is set.
	ID    uint64
	HasID bool
	Data  json.RawMessage
	// Attachments are the binary frames that follow the packet's text
	// frame, in order; only the binary types carry them (at least one).
	Attachments [][]byte
}

// MaxID is the largest ack id: what a JavaScript number holds exactly
// (2^53-1). Larger ids are refused, not rounded as the JavaScript parser
// rounds them.
const MaxID = 1<<53 - 1

// Default bounds of Options.
const (
	// DefaultMaxAttachments is the most attachments a packet may
	// announce, the default of the JavaScript parser (maxAttachments).
	DefaultMaxAttachments = 10
	// DefaultMaxAttachmentBytes bounds the total size of one packet's
	// attachments.
	DefaultMaxAttachmentBytes = 8 << 20
)

// Errors of the codec. They are wrapped with detail; test with errors.Is.
// Every decoding error also matches ErrMalformed.
var (
	// ErrMalformed is matched by every decoding error.
	ErrMalformed = errors.New("sioparser: malformed packet")
	// ErrType: unknown packet type.
	ErrType = errors.New("sioparser: unknown packet type")
	// ErrNamespace: a namespace that is not valid UTF-8, or a comma
	// missing after it.
	ErrNamespace = errors.New("sioparser: invalid namespace")
	// ErrAckID: an ack id above MaxID, or a missing one (an Ack needs one).
	ErrAckID = errors.New("sioparser: invalid ack id")
	// ErrPayload: a payload that is not JSON, or not what the packet type
	// carries.
	ErrPayload = errors.New("sioparser: invalid payload")
	// ErrReservedEvent: a v5 event named like one of the clients' own
	// events (IsReservedEvent).
	ErrReservedEvent = errors.New("sioparser: reserved event name")
	// ErrAttachments: a bad attachment count, placeholders that do not
	// match it (a number out of range, used twice or missing), or a
	// binary frame or text packet arriving out of turn.
	ErrAttachments = errors.New("sioparser: invalid attachments")
	// ErrTooLarge: more attachments, or attachment bytes, than the
	// Options allow.
	ErrTooLarge = errors.New("sioparser: attachments over the limit")
	// ErrInvalidPacket is returned by the encoder for a packet it
	// cannot write.
	ErrInvalidPacket = errors.New("sioparser: invalid packet to encode")
)

// decodeError is a decoding error: it matches ErrMalformed and its kind.
type decodeError struct {
	kind error
	msg  string
}

func (e *decodeError) Error() string   { return e.kind.Error() + ": " + e.msg }
func (e *decodeError) Unwrap() []error { return []error{ErrMalformed, e.kind} }

func malformed(kind error, format string, args ...any) error {
	return &decodeError{kind, fmt.Sprintf(format, args...)}
}

// reservedEvents are the names socket.io-parser 4.x refuses as event names.
var reservedEvents = [...]string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// IsReservedEvent reports whether the v5 decoder refuses an event of this
// name, as socket.io-parser 4.x does: connect, connect_error, disconnect,
// disconnecting, newListener, removeListener.
func IsReservedEvent(name string) bool {
	for _, r := range reservedEvents {
		if name == r {
			return true
		}
	}
	return false
}

// AppendPacket appends the text frame of p to dst: the header
// (type, attachment count, namespace, ack id) followed by Data verbatim.
// The binary frames to send after it are p.Attachments. Data is trusted
// (the caller built it, e.g. with AppendEventData); the header is
// checked: a known type, a namespace starting with "/" without ',', a
// Query only on a Connect (and then no '?' in the namespace; a v4 CONNECT
// reads the first '?' as the start of the query), an id within MaxID, attachments exactly on the
// binary types, Data present where the type requires it. On error dst is
// returned unchanged.
func AppendPacket(dst []byte, p *Packet) ([]byte, error) {
	if err := checkHeader(p); err != nil {
		return dst, err
	}
	dst = append(dst, '0'+byte(p.Type))
	if p.Type.Binary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" || p.Query != "" {
		ns := p.Namespace
		if ns == "" {
			ns = "/"
		}
		dst = append(dst, ns...)
		if p.Query != "" {
			dst = append(dst, '?')
			dst = append(dst, p.Query...)
		}
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...), nil
}

// Encode returns the text frame of p (AppendPacket to a new buffer).
func Encode(p *Packet) (string, error) {
	b, err := AppendPacket(make([]byte, 0, 16+len(p.Namespace)+len(p.Query)+len(p.Data)), p)
	return string(b), err
}

func checkHeader(p *Packet) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidPacket, fmt.Sprintf(format, args...))
	}
	if p.Type > BinaryAck {
		return bad("type %d", p.Type)
	}
	if ns := p.Namespace; ns != "" && (ns[0] != '/' || strings.IndexByte(ns, ',') >= 0 || !utf8.ValidString(ns)) {
		return bad("namespace %q", clip(ns))
	}
	if p.Query != "" && strings.IndexByte(p.Namespace, '?') >= 0 {
		return bad("namespace %q with a '?' and a query", clip(p.Namespace))
	}
	if p.Query != "" && (p.Type != Connect || strings.IndexByte(p.Query, ',') >= 0 || !utf8.ValidString(p.Query)) {
		return bad("query %q on a %v packet", clip(p.Query), p.Type)
	}
	if p.HasID && p.ID > MaxID {
		return bad("ack id %d over MaxID", p.ID)
	}
	if p.HasID && p.Type != Event && p.Type != Ack && p.Type != BinaryEvent && p.Type != BinaryAck {
		return bad("ack id on a %v packet", p.Type)
	}
	if (p.Type == Ack || p.Type == BinaryAck) && !p.HasID {
		return bad("%v without an id", p.Type)
	}
	if p.Type.Binary() != (len(p.Attachments) > 0) {
		return bad("%v with %d attachments", p.Type, len(p.Attachments))
	}
	switch p.Type {
	case Disconnect:
		if len(p.Data) > 0 {
			return bad("DISCONNECT with a payload")
		}
	case Event, Ack, BinaryEvent, BinaryAck, ConnectError:
		if len(p.Data) == 0 {
			return bad("%v without a payload", p.Type)
		}
	}
	return nil
}

// clip shortens untrusted text quoted in error messages. It returns a
// copy, so that the packets whose fields an error quotes do not escape
// to the heap on the paths without an error (an encoded packet's
// namespace and data stay on the caller's stack).
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return strings.Clone(s)
}
