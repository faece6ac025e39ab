package eioparser

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// Type is an Engine.IO packet type. Its wire form is one ASCII digit in
// text packets (and one byte 0–6 in Engine.IO v3 binary packets).
type Type uint8

// The packet types, the same in Engine.IO v3 and v4.
const (
	Open    Type = iota // server → client, first packet: the handshake JSON
	Close               // close the session
	Ping                // v4: server → client (with data "probe": client → server during an upgrade)
	Pong                // the answer to a ping, with the ping's data
	Message             // application data, text or binary
	Upgrade             // client → server: switch to the probed transport
	Noop                // nothing; ends a pending poll during an upgrade
)

var typeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the protocol's name of the type ("open", "message"...).
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the seven packet types.
func (t Type) Valid() bool { return t <= Noop }

// Packet is one Engine.IO packet: a type and text or binary data.
//
// Binary is set for binary data (a raw WebSocket binary frame, or a
// base64-encoded packet in a polling payload). In Engine.IO v4 only
// message packets carry binary data: the decoders always return Message
// for them and the encoders ignore Type. In v3 any type may.
//
// Data returned by a decoder for text packets and raw binary frames
// aliases the decoder's input (copy it to keep it past the input's
// lifetime); base64-encoded data is decoded into a new slice. Decoders
// return nil Data when the packet has none, so decoded packets compare
// equal with reflect.DeepEqual (and testify) whatever their source.
type Packet struct {
	Type   Type
	Data   []byte
	Binary bool
}

// String returns a short description of p for logs and test failures.
func (p Packet) String() string {
	if p.Binary {
		return fmt.Sprintf("%s<binary %d bytes>", p.Type, len(p.Data))
	}
	if len(p.Data) == 0 {
		return p.Type.String()
	}
	return fmt.Sprintf("%s%q", p.Type, p.Data)
}

// ErrMalformed is matched (errors.Is) by every decoding error: the input
// is not a packet or payload of the protocol. The more specific sentinels
// below wrap it.
var ErrMalformed = errors.New("eioparser: malformed input")

var (
	// ErrEmpty: an empty packet (no type), e.g. an empty body or
	// WebSocket frame, or two adjacent separators in a v4 payload.
	ErrEmpty = fmt.Errorf("%w: empty packet", ErrMalformed)
	// ErrUnknownType: the type is not one of the seven packet types.
	ErrUnknownType = fmt.Errorf("%w: unknown packet type", ErrMalformed)
	// ErrBase64: the data of a 'b'-prefixed packet is not standard,
	// padded base64.
	ErrBase64 = fmt.Errorf("%w: bad base64", ErrMalformed)
	// ErrFraming: a v3 payload's "<length>:" framing is broken (missing,
	// not decimal, or running past the end of the body).
	ErrFraming = fmt.Errorf("%w: bad payload framing", ErrMalformed)
)

// ErrTooLarge is returned by the payload decoders when a payload exceeds
// its Limits. It does not match ErrMalformed: the payload may be valid,
// just more than the server accepts (Engine.IO answers HTTP 413).
var ErrTooLarge = errors.New("eioparser: payload too large")

// ErrUnencodable is returned by AppendPayload for packets that a v4
// polling payload cannot carry: an invalid type, or text data holding the
// record separator 0x1E, which would split the packet in two on decoding.
var ErrUnencodable = errors.New("eioparser: packet cannot be encoded in a payload")

// separator is the v4 payload's record separator.
const separator = 0x1e

var b64 = base64.StdEncoding.Strict()

// AppendPacket appends the v4 text form of p to dst: the type digit and
// the data, or for binary data 'b' and the data in standard base64 (the
// polling form; over WebSocket use AppendFrame). p.Type must be valid
// (Type.Valid); AppendPacket does not check it.
func AppendPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, 'b')
		return b64.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// DecodePacket decodes the v4 text form of one packet: a polling packet
// (one record of a payload) or a WebSocket text frame. Errors match
// ErrEmpty, ErrUnknownType or ErrBase64, and all of them ErrMalformed.
// Text data is not checked for valid UTF-8 (the WebSocket layer checks
// text frames).
func DecodePacket(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmpty
	}
	c := b[0]
	if c == 'b' {
		data, err := decodeBase64(b[1:])
		if err != nil {
			return Packet{}, err
		}
		return Packet{Type: Message, Data: data, Binary: true}, nil
	}
	if c < '0' || c > '0'+byte(Noop) {
		return Packet{}, fmt.Errorf("%w %q", ErrUnknownType, c)
	}
	return Packet{Type: Type(c - '0'), Data: nonEmpty(b[1:])}, nil
}

func decodeBase64(s []byte) ([]byte, error) {
	if len(s) == 0 {
		return nil, nil
	}
	if bytes.IndexByte(s, '\n') >= 0 || bytes.IndexByte(s, '\r') >= 0 {
		// encoding/base64 skips line breaks; the protocol has none.
		return nil, fmt.Errorf("%w: line break", ErrBase64)
	}
	data, err := b64.AppendDecode(make([]byte, 0, b64.DecodedLen(len(s))), s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBase64, err)
	}
	return nonEmpty(data), nil
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// AppendFrame appends the v4 WebSocket frame of p to dst and reports
// whether it is a binary frame: binary data is sent as is (the type,
// always message, is implied), text as the type digit and the data.
func AppendFrame(dst []byte, p Packet) (frame []byte, binary bool) {
	if p.Binary {
		return append(dst, p.Data...), true
	}
	return AppendPacket(dst, p), false
}

// DecodeFrame decodes a v4 WebSocket frame: a binary frame is a binary
// message whatever its content (possibly empty), a text frame is decoded
// by DecodePacket. Like the reference parser, a text frame of the 'b'
// base64 form is accepted too, though clients send binary frames.
func DecodeFrame(frame []byte, binary bool) (Packet, error) {
	if binary {
		return Packet{Type: Message, Data: nonEmpty(frame), Binary: true}, nil
	}
	return DecodePacket(frame)
}
