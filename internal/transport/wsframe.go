package transport

import (
	"encoding/binary"
	"errors"

	"github.com/gobwas/ws"
)

// ErrMessageTooLarge is returned for a WebSocket message longer than
// WebSocketOptions.MaxMessageSize; the connection is closed with 1009.
var ErrMessageTooLarge = errors.New("transport: websocket message too large")

// frameReader reassembles the frames a client sends into messages, from
// bytes as they arrive in whatever pieces the network delivers them. It
// holds memory only while a frame or a fragmented message is incomplete.
//
// It is not safe for concurrent use: one reading goroutine at a time owns
// it.
type frameReader struct {
	max int64 // longest message accepted
	// kept is what feed keeps from one call to the next, nil when
	// nothing is (an idle connection, whose frames came whole).
	kept *frameState
}

// frameState is what a frameReader keeps between feeds: an incomplete
// frame, a fragmented message.
type frameState struct {
	partial []byte // bytes of an incomplete frame, kept for the next feed
	msg     []byte // the fragments of a message so far
	msgOp   ws.OpCode
	inMsg   bool // a fragmented message has begun
}

// partial returns the bytes of an incomplete frame kept, or nil.
func (fr *frameReader) partial() []byte {
	if fr.kept == nil {
		return nil
	}
	return fr.kept.partial
}

// msg returns the fragments of a message kept, or nil.
func (fr *frameReader) msg() []byte {
	if fr.kept == nil {
		return nil
	}
	return fr.kept.msg
}

// parseHeader parses the frame header at the start of b. ok is false when
// b does not hold the whole header yet.
func parseHeader(b []byte) (h ws.Header, n int, ok bool, err error) {
	if len(b) < 2 {
		return h, 0, false, nil
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] & 0x70) >> 4
	h.OpCode = ws.OpCode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	n = 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < n+2 {
			return h, 0, false, nil
		}
		h.Length = int64(binary.BigEndian.Uint16(b[n:]))
		n += 2
	case 127:
		if len(b) < n+8 {
			return h, 0, false, nil
		}
		v := binary.BigEndian.Uint64(b[n:])
		if v>>63 != 0 {
			return h, 0, false, ws.ErrHeaderLengthMSB
		}
		h.Length = int64(v)
		n += 8
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, false, nil
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, true, nil
}

// feed parses the complete frames in what arrived so far (the bytes kept
// from earlier calls, then b) and calls on for each control frame and each
// complete data message, with its unmasked payload, valid only during the
// call. on returns false to stop reading (the connection is closing).
// Bytes of an incomplete frame are kept for the next call. A protocol
// violation or an over-long message is returned as an error; the caller
// closes the connection.
func (fr *frameReader) feed(b []byte, on func(op ws.OpCode, payload []byte) bool) error {
	st := fr.kept
	if st == nil {
		var none frameState // on the stack unless something is kept
		st = &none
	}
	err := st.feed(fr.max, b, on)
	switch {
	case st.partial == nil && st.msg == nil && !st.inMsg:
		fr.kept = nil
	case fr.kept == nil:
		kept := *st
		fr.kept = &kept
	}
	return err
}

func (fr *frameState) feed(max int64, b []byte, on func(op ws.OpCode, payload []byte) bool) error {
	if len(fr.partial) > 0 {
		fr.partial = append(fr.partial, b...)
		b = fr.partial
	}
	for len(b) > 0 {
		h, n, ok, err := parseHeader(b)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		state := ws.StateServerSide
		if fr.inMsg {
			state = state.Set(ws.StateFragmented)
		}
		if err := ws.CheckHeader(h, state); err != nil {
			return err
		}
		if h.Length > max || (!h.OpCode.IsControl() && int64(len(fr.msg))+h.Length > max) {
			return ErrMessageTooLarge
		}
		if int64(len(b)-n) < h.Length {
			break
		}
		payload := b[n : n+int(h.Length)]
		b = b[n+int(h.Length):]
		ws.Cipher(payload, h.Mask, 0)
		var more bool
		switch {
		case h.OpCode.IsControl():
			more = on(h.OpCode, payload)
		case h.Fin && !fr.inMsg:
			more = on(h.OpCode, payload)
		default: // a fragment
			if !fr.inMsg {
				fr.inMsg, fr.msgOp = true, h.OpCode
			}
			fr.msg = append(fr.msg, payload...)
			if !h.Fin {
				continue
			}
			more = on(fr.msgOp, fr.msg)
			fr.msg, fr.inMsg = nil, false
		}
		if !more {
			fr.partial = nil
			return nil
		}
	}
	switch {
	case len(b) == 0:
		fr.partial = nil // nothing kept while idle
	case len(fr.partial) > 0:
		fr.partial = fr.partial[:copy(fr.partial, b)]
	default:
		fr.partial = append([]byte(nil), b...)
	}
	return nil
}

// appendFrameHeader appends the header of an unmasked, final server frame
// with the given opcode and payload length.
func appendFrameHeader(dst []byte, op ws.OpCode, length int) []byte {
	first := 0x80 | byte(op)
	switch {
	case length < 126:
		return append(dst, first, byte(length))
	case length <= 0xffff:
		return append(dst, first, 126, byte(length>>8), byte(length))
	default:
		dst = append(dst, first, 127)
		return binary.BigEndian.AppendUint64(dst, uint64(length))
	}
}
