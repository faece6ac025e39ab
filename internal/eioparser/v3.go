package eioparser

import (
	"fmt"
	"strconv"

	"github.com/siogo/siogo/internal/utf16n"
)

// Engine.IO v3 (Socket.IO 1.x and 2.x clients) differs from v4 in its
// binary forms and its polling payload framing; packet types and the text
// form "<type digit><data>" are the same.

// AppendPacketV3 appends the v3 text form of p to dst: the type digit and
// the data, or for binary data 'b', the type digit and the data in
// standard base64 (the form of polling payloads for clients without
// binary support, b64=1). p.Type must be valid; it is not checked.
func AppendPacketV3(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, 'b', '0'+byte(p.Type))
		return b64.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// DecodePacketV3 decodes the v3 text form of one packet ("4hello",
// "b4AQID"). Errors match ErrEmpty, ErrUnknownType or ErrBase64, and all of
// them ErrMalformed.
func DecodePacketV3(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmpty
	}
	if b[0] != 'b' {
		return DecodePacket(b)
	}
	if len(b) < 2 {
		return Packet{}, fmt.Errorf("%w: 'b' without a type", ErrUnknownType)
	}
	t, err := typeDigit(b[1])
	if err != nil {
		return Packet{}, err
	}
	data, err := decodeBase64(b[2:])
	if err != nil {
		return Packet{}, err
	}
	return Packet{Type: t, Data: data, Binary: true}, nil
}

func typeDigit(c byte) (Type, error) {
	if c < '0' || c > '0'+byte(Noop) {
		return 0, fmt.Errorf("%w %q", ErrUnknownType, c)
	}
	return Type(c - '0'), nil
}

// AppendFrameV3 appends the v3 WebSocket frame of p to dst and reports
// whether it is a binary frame: binary data is sent as the type as one
// byte (0–6) followed by the data, text as the type digit and the data.
func AppendFrameV3(dst []byte, p Packet) (frame []byte, binary bool) {
	if p.Binary {
		dst = append(dst, byte(p.Type))
		return append(dst, p.Data...), true
	}
	return AppendPacketV3(dst, p), false
}

// DecodeFrameV3 decodes a v3 WebSocket frame: a binary frame's first byte
// is the type (0–6), the rest the data; a text frame is decoded by
// DecodePacketV3.
func DecodeFrameV3(frame []byte, binary bool) (Packet, error) {
	if !binary {
		return DecodePacketV3(frame)
	}
	if len(frame) == 0 {
		return Packet{}, ErrEmpty
	}
	if !Type(frame[0]).Valid() {
		return Packet{}, fmt.Errorf("%w: byte %d", ErrUnknownType, frame[0])
	}
	return Packet{Type: Type(frame[0]), Data: nonEmpty(frame[1:]), Binary: true}, nil
}

// maxLengthDigits bounds the length field of a v3 payload record.
const maxLengthDigits = 10

// AppendPayloadV3 appends the v3 text polling payload of packets to dst:
// each packet's text form (AppendPacketV3; binary data as 'b' + type +
// base64) preceded by its length in UTF-16 code units and ':', as in
// "6:4hello2:4€". An empty list is "0:", as the reference encodes it.
//
// The length is counted over the packet decoded as UTF-8; invalid UTF-8
// bytes count one unit each (JavaScript would see U+FFFD there, so text
// data should be valid UTF-8).
func AppendPayloadV3(dst []byte, packets []Packet) []byte {
	if len(packets) == 0 {
		return append(dst, '0', ':')
	}
	for _, p := range packets {
		n := 1 + utf16n.Len(p.Data)
		if p.Binary {
			n = 2 + b64.EncodedLen(len(p.Data))
		}
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, ':')
		dst = AppendPacketV3(dst, p)
	}
	return dst
}

// DecodePayloadV3 decodes a v3 text polling payload: records
// "<length>:<packet>" where length is decimal (at most 10 digits) and
// counts the packet's UTF-16 code units, each packet decoded by
// DecodePacketV3. A record of length 0 ("0:", the empty payload) carries
// no packet and is skipped. One bad record fails the whole payload. Bounds
// as for DecodePayload: a body over lim.MaxBytes, or more than
// lim.MaxPackets packets, gives ErrTooLarge.
//
// The binary payload form of v3 (XHR2 clients) is DecodeBinaryPayloadV3's.
func DecodePayloadV3(body []byte, lim Limits) ([]Packet, error) {
	if err := lim.checkBytes(len(body)); err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, ErrEmpty
	}
	// First the framing alone, to count the packets (and check the bound)
	// before allocating; then the packets.
	n := 0
	for rest, i := body, 0; len(rest) > 0; i++ {
		rec, next, err := nextRecordV3(rest, i)
		if err != nil {
			return nil, err
		}
		if len(rec) > 0 {
			n++
		}
		rest = next
	}
	if err := lim.checkPackets(n); err != nil {
		return nil, err
	}
	out := make([]Packet, 0, n)
	for len(body) > 0 {
		rec, next, _ := nextRecordV3(body, 0) // framing checked above
		body = next
		if len(rec) == 0 {
			continue
		}
		p, err := DecodePacketV3(rec)
		if err != nil {
			return nil, fmt.Errorf("packet %d of the payload: %w", len(out), err)
		}
		out = append(out, p)
	}
	return out, nil
}

// nextRecordV3 splits the first "<length>:<packet>" record off body; i is
// its index, for errors.
func nextRecordV3(body []byte, i int) (rec, rest []byte, err error) {
	j := 0
	for j < len(body) && j <= maxLengthDigits && body[j] >= '0' && body[j] <= '9' {
		j++
	}
	if j == 0 || j > maxLengthDigits || j == len(body) || body[j] != ':' {
		return nil, nil, fmt.Errorf("%w: record %d: expected \"<length>:\" before the packet", ErrFraming, i)
	}
	units, _ := strconv.Atoi(string(body[:j]))
	body = body[j+1:]
	end := utf16n.Prefix(body, units)
	if end < 0 {
		return nil, nil, fmt.Errorf("%w: record %d: length %d runs past the end", ErrFraming, i, units)
	}
	return body[:end], body[end:], nil
}
