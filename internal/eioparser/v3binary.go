package eioparser

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// The v3 binary polling payload, for clients that support binary over
// XHR (no b64=1): a Content-Type application/octet-stream body of records
//
//	<0 text | 1 binary> <length, one byte 0–9 per decimal digit> 0xFF <packet>
//
// where a text packet is its text form in UTF-8 ("4€", length in bytes)
// and a binary packet the type byte then the data. The specification's
// example, message "€" and binary message 01 02 03 04:
//
//	00 04 ff 34 e2 82 ac 01 05 ff 04 01 02 03 04

// AppendBinaryPayloadV3 appends the v3 binary polling payload of packets
// to dst. An empty list appends nothing (the reference's empty buffer),
// which DecodeBinaryPayloadV3 refuses as ErrEmpty: a server never sends
// an empty payload. Types must be valid; they are not checked.
func AppendBinaryPayloadV3(dst []byte, packets []Packet) []byte {
	for _, p := range packets {
		kind := byte(0)
		if p.Binary {
			kind = 1
		}
		dst = append(dst, kind)
		start := len(dst)
		dst = strconv.AppendInt(dst, int64(1+len(p.Data)), 10)
		for i := start; i < len(dst); i++ {
			dst[i] -= '0'
		}
		dst = append(dst, 0xff)
		if p.Binary {
			dst = append(dst, byte(p.Type))
		} else {
			dst = append(dst, '0'+byte(p.Type))
		}
		dst = append(dst, p.Data...)
	}
	return dst
}

// DecodeBinaryPayloadV3 decodes a v3 binary polling payload (see
// AppendBinaryPayloadV3). Text records must be valid UTF-8 and are decoded
// by DecodePacketV3 (so a text record may hold a "b4…" base64 packet, as
// for the reference); binary records are the type byte then the data.
// Errors and bounds as for DecodePayloadV3.
func DecodeBinaryPayloadV3(body []byte, lim Limits) ([]Packet, error) {
	if err := lim.checkBytes(len(body)); err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, ErrEmpty
	}
	n := 0
	for rest := body; len(rest) > 0; n++ {
		_, _, next, err := nextBinaryRecordV3(rest, n)
		if err != nil {
			return nil, err
		}
		rest = next
	}
	if err := lim.checkPackets(n); err != nil {
		return nil, err
	}
	out := make([]Packet, 0, n)
	for len(body) > 0 {
		isText, rec, next, _ := nextBinaryRecordV3(body, 0) // framing checked above
		body = next
		var p Packet
		var err error
		switch {
		case !isText:
			p, err = DecodeFrameV3(rec, true)
		case !utf8.Valid(rec):
			err = fmt.Errorf("%w: text record is not UTF-8", ErrMalformed)
		default:
			p, err = DecodePacketV3(rec)
		}
		if err != nil {
			return nil, fmt.Errorf("packet %d of the payload: %w", len(out), err)
		}
		out = append(out, p)
	}
	return out, nil
}

// nextBinaryRecordV3 splits the first record off a binary payload; i is
// its index, for errors.
func nextBinaryRecordV3(body []byte, i int) (isText bool, rec, rest []byte, err error) {
	if body[0] > 1 {
		return false, nil, nil, fmt.Errorf("%w: record %d: kind byte %d, not 0 or 1", ErrFraming, i, body[0])
	}
	isText = body[0] == 0
	j, size := 1, 0
	for j < len(body) && body[j] <= 9 && j <= maxLengthDigits {
		size = size*10 + int(body[j])
		j++
	}
	if j == 1 || j > maxLengthDigits || j == len(body) || body[j] != 0xff {
		return false, nil, nil, fmt.Errorf("%w: record %d: expected length digits and 0xFF", ErrFraming, i)
	}
	body = body[j+1:]
	if size > len(body) {
		return false, nil, nil, fmt.Errorf("%w: record %d: length %d runs past the end", ErrFraming, i, size)
	}
	return isText, body[:size], body[size:], nil
}
