package socketio

import (
	"encoding/json"
	"strconv"

	"github.com/siogo/siogo/packet"
)

// Handle sets fn as the handler of event on ns, replacing the one it had,
// as On does with a typed handler of the same signature: the client's
// first argument is decoded into A (encoding/json; a missing one stays
// zero, extra ones are ignored), and if the client asked for an
// acknowledgement, the result R is its one argument. An argument that does
// not decode runs nothing and is acknowledged as
// [{"error": "argument 0: ..."}]; a non-nil error is logged and
// acknowledged as [{"error": "text"}].
//
// Unlike On, Handle checks the signature at compile time and calls fn
// without reflection: use it for handlers of one or two arguments and a
// result (Handle2), On for other shapes, and OnRaw to see the arguments
// as the client sent them. The events "connect", "disconnect" and
// "message" are reserved (ErrReservedEvent).
func Handle[A, R any](ns *Namespace, event string, fn func(s *Socket, a A) (R, error)) error {
	return ns.setHandler(event, eventHandler{fast: func(s *Socket, args []json.RawMessage, wantAck bool, id uint64) {
		var a A
		if !argAt(s, args, 0, &a, wantAck, id) {
			return
		}
		r, err := fn(s, a)
		ackResult(s, wantAck, id, r, err)
	}})
}

// Handle2 is Handle for a handler of two arguments.
func Handle2[A, B, R any](ns *Namespace, event string, fn func(s *Socket, a A, b B) (R, error)) error {
	return ns.setHandler(event, eventHandler{fast: func(s *Socket, args []json.RawMessage, wantAck bool, id uint64) {
		var a A
		var b B
		if !argAt(s, args, 0, &a, wantAck, id) || !argAt(s, args, 1, &b, wantAck, id) {
			return
		}
		r, err := fn(s, a, b)
		ackResult(s, wantAck, id, r, err)
	}})
}

// setHandler sets h as the handler of event, replacing the one it had.
func (ns *Namespace) setHandler(event string, h eventHandler) error {
	if err := checkEvent(event); err != nil {
		return err
	}
	ns.mu.Lock()
	ns.handlers[event] = h
	ns.mu.Unlock()
	return nil
}

// argAt decodes argument i, if the client sent it, into *dst; if it does
// not decode, the call is answered as badArg does and argAt is false.
func argAt[A any](s *Socket, args []json.RawMessage, i int, dst *A, wantAck bool, id uint64) bool {
	if i >= len(args) {
		return true
	}
	if err := decodeArg(args[i], dst); err != nil {
		badArg(s, wantAck, id, i, err)
		return false
	}
	return true
}

// ackResult answers a handler's call as typedHandler.call does: a non-nil
// err is logged and acknowledged as [{"error": "text"}]; otherwise, if the
// client asked, r is acknowledged (nothing is sent if r does not marshal).
func ackResult[R any](s *Socket, wantAck bool, id uint64, r R, err error) {
	if err != nil {
		handlerFailed(s, wantAck, id, err)
		return
	}
	if !wantAck {
		return
	}
	var b []byte
	var att [][]byte
	switch v := any(&r).(type) { // a pointer, so that r is not boxed but for marshalArg
	case *string:
		b = packet.AppendString(nil, *v)
	case *int:
		b = strconv.AppendInt(nil, int64(*v), 10)
	case *int64:
		b = strconv.AppendInt(nil, *v, 10)
	case *bool:
		b = strconv.AppendBool(nil, *v)
	default:
		if b, att, err = marshalArg(r, nil); err != nil {
			return // as an AckFunc whose args do not marshal: nothing is sent
		}
	}
	s.sendAckAtt(id, []json.RawMessage{b}, att)
}
