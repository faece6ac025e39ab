package eioparser

import (
	"bytes"
	"fmt"
)

// Limits bound what a payload decoder accepts. A zero field is no bound.
type Limits struct {
	// MaxBytes bounds the length of the whole payload (the HTTP body) in
	// bytes: Engine.IO's maxPayload.
	MaxBytes int
	// MaxPackets bounds the number of packets in one payload.
	MaxPackets int
}

func (l Limits) checkBytes(n int) error {
	if l.MaxBytes > 0 && n > l.MaxBytes {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, n, l.MaxBytes)
	}
	return nil
}

func (l Limits) checkPackets(n int) error {
	if l.MaxPackets > 0 && n > l.MaxPackets {
		return fmt.Errorf("%w: more than %d packets", ErrTooLarge, l.MaxPackets)
	}
	return nil
}

// AppendPayload appends the v4 polling payload of packets to dst: their
// text forms (AppendPacket; binary data in base64) joined by the record
// separator 0x1E. A payload of one packet is the packet alone.
//
// It refuses (ErrUnencodable, dst returned unchanged) an empty list, an
// invalid type, and text data containing 0x1E, which the format cannot
// carry. JSON encoders, Go's and JavaScript's, always escape it.
func AppendPayload(dst []byte, packets []Packet) ([]byte, error) {
	if len(packets) == 0 {
		return dst, fmt.Errorf("%w: no packets", ErrUnencodable)
	}
	start := len(dst)
	for i, p := range packets {
		if !p.Binary {
			if !p.Type.Valid() {
				return dst[:start], fmt.Errorf("%w: packet %d: invalid %s", ErrUnencodable, i, p.Type)
			}
			if bytes.IndexByte(p.Data, separator) >= 0 {
				return dst[:start], fmt.Errorf("%w: packet %d: data contains the record separator 0x1E", ErrUnencodable, i)
			}
		}
		if i > 0 {
			dst = append(dst, separator)
		}
		dst = AppendPacket(dst, p)
	}
	return dst, nil
}

// DecodePayload decodes a v4 polling payload (a POST body from the client
// or a poll response from the server): packets separated by 0x1E, each
// decoded by DecodePacket. One bad packet fails the whole payload (the
// session should be closed). Bounds are checked before decoding: a body
// longer than lim.MaxBytes or holding more than lim.MaxPackets packets
// gives ErrTooLarge.
//
// Text data aliases body; the result is one allocation plus one per
// binary packet.
func DecodePayload(body []byte, lim Limits) ([]Packet, error) {
	if err := lim.checkBytes(len(body)); err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, ErrEmpty
	}
	n := bytes.Count(body, []byte{separator}) + 1
	if err := lim.checkPackets(n); err != nil {
		return nil, err
	}
	out := make([]Packet, 0, n)
	for len(body) > 0 || len(out) < n {
		rec := body
		if i := bytes.IndexByte(body, separator); i >= 0 {
			rec, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		p, err := DecodePacket(rec)
		if err != nil {
			return nil, fmt.Errorf("packet %d of the payload: %w", len(out), err)
		}
		out = append(out, p)
	}
	return out, nil
}
