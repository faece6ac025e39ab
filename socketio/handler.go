package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/siogo/siogo/internal/lazylog"
	"github.com/siogo/siogo/packet"
)

// AckFunc answers a client's request for an acknowledgement. Its arguments
// are encoded as JSON and become the ack's args. Only the first call
// sends anything; later calls return ErrAckSent.
type AckFunc func(args ...any) error

// RawHandler is the raw form of an event handler: the arguments as the
// client sent them, and ack, which is nil unless the client asked for an
// acknowledgement with data.
type RawHandler func(s *Socket, args []json.RawMessage, ack AckFunc)

var (
	socketType     = reflect.TypeFor[*Socket]()
	errorType      = reflect.TypeFor[error]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
)

// eventHandler is a registered event handler: a RawHandler, a typed func
// of a common signature called without reflection (fast), or any other
// typed func, whose reflection work was done when it was registered.
type eventHandler struct {
	raw   RawHandler
	fast  fastHandler
	typed *typedHandler
}

// fastHandler calls a typed handler of one of the signatures fastHandlerOf
// knows directly, exactly as typedHandler.call would call it (same
// decoding, same ack, same errors), without reflect.Value.Call.
type fastHandler func(s *Socket, args []json.RawMessage, wantAck bool, id uint64)

// typedHandler calls a typed handler func(s *Socket, a A, b B, ...)
// (R1, R2, ..., error): each argument is decoded from the client's JSON
// into the parameter's type (missing arguments stay zero; a final
// variadic parameter takes the rest), and the results, without a trailing
// error, become the ack. A non-nil error is logged and acked as
// [{"error": "text"}] — its text goes to the client, so return errors
// meant for users. An argument that does not decode is answered the same
// way and runs nothing.
type typedHandler struct {
	fn reflect.Value
	// recv, for a method Register made a handler, returns the socket's
	// value of the registered type, the method's receiver (false: the
	// socket has none); nil for On's funcs.
	recv     func(s *Socket) (reflect.Value, bool)
	socket   bool            // fn takes the *Socket (after the receiver, if any)
	params   []reflect.Type  // after the *Socket; the last is a slice if variadic
	decoders []argDecoder    // for params; the last decodes one element if variadic
	results  []resultEncoder // for the results but the error
	variadic bool
	hasErr   bool // the last result is an error
}

// errRawForOn refuses a raw handler given to On.
var errRawForOn = fmt.Errorf("%w: a handler taking an AckFunc is a raw handler: register it with OnRaw, not On", ErrBadHandler)

// handlerOf makes the handler of fn, a typed func as described at
// typedHandler. A RawHandler (or a func with its signature) is refused:
// OnRaw registers those.
func handlerOf(fn any) (eventHandler, error) {
	switch fn.(type) {
	case RawHandler, func(*Socket, []json.RawMessage, AckFunc):
		return eventHandler{}, errRawForOn
	}
	if fast := fastHandlerOf(fn); fast != nil {
		return eventHandler{fast: fast}, nil
	}
	th, err := typedHandlerOf(fn)
	if err != nil {
		return eventHandler{}, err
	}
	return eventHandler{typed: th}, nil
}

// fastHandlerOf returns the fastHandler of fn if fn has one of the
// signatures most handlers have — no argument or one string, and no
// result, a string, a bool, an error or a string and an error — or nil.
func fastHandlerOf(fn any) fastHandler {
	switch f := fn.(type) {
	case func(*Socket):
		return func(s *Socket, _ []json.RawMessage, wantAck bool, id uint64) {
			f(s)
			ackResults(s, wantAck, id, nil)
		}
	case func(*Socket, string):
		return func(s *Socket, args []json.RawMessage, wantAck bool, id uint64) {
			if a, ok := stringArg(s, args, wantAck, id); ok {
				f(s, a)
				ackResults(s, wantAck, id, nil)
			}
		}
	case func(*Socket, string) string:
		return func(s *Socket, args []json.RawMessage, wantAck bool, id uint64) {
			if a, ok := stringArg(s, args, wantAck, id); ok {
				r := f(s, a)
				if wantAck {
					ackResults(s, wantAck, id, packet.AppendString(nil, r))
				}
			}
		}
	case func(*Socket, string) bool:
		return func(s *Socket, args []json.RawMessage, wantAck bool, id uint64) {
			if a, ok := stringArg(s, args, wantAck, id); ok {
				r := f(s, a)
				if wantAck {
					ackResults(s, wantAck, id, strconv.AppendBool(nil, r))
				}
			}
		}
	case func(*Socket, string) error:
		return func(s *Socket, args []json.RawMessage, wantAck bool, id uint64) {
			if a, ok := stringArg(s, args, wantAck, id); ok {
				if err := f(s, a); err != nil {
					handlerFailed(s, wantAck, id, err)
					return
				}
				ackResults(s, wantAck, id, nil)
			}
		}
	case func(*Socket, string) (string, error):
		return func(s *Socket, args []json.RawMessage, wantAck bool, id uint64) {
			if a, ok := stringArg(s, args, wantAck, id); ok {
				r, err := f(s, a)
				if err != nil {
					handlerFailed(s, wantAck, id, err)
					return
				}
				if wantAck {
					ackResults(s, wantAck, id, packet.AppendString(nil, r))
				}
			}
		}
	}
	return nil
}

// stringArg decodes the first argument as a typed handler's string
// parameter is decoded (missing: ""); if it does not decode, the call is
// answered as badArg does and ok is false.
func stringArg(s *Socket, args []json.RawMessage, wantAck bool, id uint64) (string, bool) {
	if len(args) == 0 {
		return "", true
	}
	if b, ok := plainString(args[0]); ok {
		return string(b), true
	}
	var v string
	if err := json.Unmarshal(args[0], &v); err != nil {
		badArg(s, wantAck, id, 0, err)
		return "", false
	}
	return v, true
}

// ackResults acknowledges message id, if the client asked, with the one
// result encoded in res (nil: no result), as typedHandler.call does.
func ackResults(s *Socket, wantAck bool, id uint64, res []byte) {
	if !wantAck {
		return
	}
	if res == nil {
		s.sendAck(id, []json.RawMessage{})
		return
	}
	s.sendAck(id, []json.RawMessage{res})
}

// handlerFailed logs the error a typed handler returned and, if the
// client asked for an ack, acknowledges it as [{"error": "text"}].
func handlerFailed(s *Socket, wantAck bool, id uint64, e error) {
	s.ns.log.Info("event handler returned an error", "sid", s.id, "namespace", s.ns.name, "err", e)
	if wantAck {
		s.sendAck(id, errorArg(e.Error()))
	}
}

// typedHandlerOf makes the typedHandler of fn, a typed func as described
// at typedHandler.
func typedHandlerOf(fn any) (*typedHandler, error) {
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func {
		return nil, fmt.Errorf("%w: must be a func, got %T", ErrBadHandler, fn)
	}
	t := v.Type()
	if t.NumIn() < 1 || t.In(0) != socketType {
		return nil, fmt.Errorf("%w: %s must take *Socket first", ErrBadHandler, t)
	}
	return newTypedHandler(v, 0)
}

// newTypedHandler makes the typedHandler of fn whose first skip
// parameters (a method's receiver) the caller supplies; an optional
// *Socket follows them, then the parameters decoded from the client's
// arguments. It refuses the parameter and result types that JSON cannot
// carry (channels, funcs, complex numbers, unsafe pointers) and a
// *Socket anywhere but first.
func newTypedHandler(fn reflect.Value, skip int) (*typedHandler, error) {
	t := fn.Type()
	th := &typedHandler{fn: fn, variadic: t.IsVariadic()}
	first := skip
	if t.NumIn() > skip && t.In(skip) == socketType {
		th.socket = true
		first++
	}
	for i := first; i < t.NumIn(); i++ {
		pt := t.In(i)
		th.params = append(th.params, pt)
		if th.variadic && i == t.NumIn()-1 {
			pt = pt.Elem()
		}
		if err := checkJSONType(pt); err != nil {
			return nil, fmt.Errorf("%w: %s: parameter %d: %w", ErrBadHandler, t, i-first+1, err)
		}
		th.decoders = append(th.decoders, decoderFor(pt))
	}
	nout := t.NumOut()
	th.hasErr = nout > 0 && t.Out(nout-1) == errorType
	if th.hasErr {
		nout--
	}
	for i := 0; i < nout; i++ {
		if err := checkJSONType(t.Out(i)); err != nil {
			return nil, fmt.Errorf("%w: %s: result %d: %w", ErrBadHandler, t, i+1, err)
		}
		th.results = append(th.results, encoderFor(t.Out(i)))
	}
	return th, nil
}

// checkJSONType refuses the types of a handler's parameters and results
// that encoding/json can never decode or encode, and *Socket (which a
// handler can only take first).
func checkJSONType(t reflect.Type) error {
	if t == socketType {
		return errors.New("*Socket can only be the first parameter")
	}
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return fmt.Errorf("type %s cannot be carried as JSON", t)
	}
	return nil
}

// call runs the handler with the client's args; with wantAck, the results
// (or the error) are acknowledged to message id.
func (th *typedHandler) call(s *Socket, args []json.RawMessage, wantAck bool, id uint64) {
	var buf [4]reflect.Value
	in := buf[:0]
	if th.recv != nil {
		v, ok := th.recv(s)
		if !ok {
			s.logAt(slog.LevelDebug, "no handler value for this socket (connected before Register?)")
			return
		}
		in = append(in, v)
	}
	if th.socket {
		in = append(in, reflect.ValueOf(s))
	}
	for i, pt := range th.params {
		if th.variadic && i == len(th.params)-1 {
			rest := reflect.MakeSlice(pt, max(0, len(args)-i), max(0, len(args)-i))
			for j := i; j < len(args); j++ {
				if err := th.decoders[i](args[j], rest.Index(j-i)); err != nil {
					badArg(s, wantAck, id, j, err)
					return
				}
			}
			in = append(in, rest)
			break
		}
		pv := reflect.New(pt).Elem()
		if i < len(args) {
			if err := th.decoders[i](args[i], pv); err != nil {
				badArg(s, wantAck, id, i, err)
				return
			}
		}
		in = append(in, pv)
	}
	var out []reflect.Value
	if th.variadic {
		out = th.fn.CallSlice(in)
	} else {
		out = th.fn.Call(in)
	}
	if th.hasErr {
		if e, _ := out[len(out)-1].Interface().(error); e != nil {
			handlerFailed(s, wantAck, id, e)
			return
		}
	}
	if !wantAck {
		return
	}
	var rawBuf [4]json.RawMessage
	var endBuf [4]int
	res, ends := rawBuf[:0], endBuf[:0]
	var enc []byte   // the results' JSON, end to end
	var att [][]byte // their binary attachments ([]byte results)
	for i, encode := range th.results {
		var err error
		if enc, err = encode(enc, out[i], &att); err != nil {
			return // as an AckFunc whose args do not marshal: nothing is sent
		}
		ends = append(ends, len(enc))
	}
	start := 0
	for _, end := range ends {
		res = append(res, enc[start:end:end])
		start = end
	}
	s.sendAckAtt(id, res, att)
}

// errorArg is the ack args [{"error": msg}].
func errorArg(msg string) []json.RawMessage {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return []json.RawMessage{b}
}

// badArg answers a call whose argument does not decode into the handler's
// parameter type: the handler does not run, and a client waiting for an ack
// gets [{"error": "argument N: ..."}] instead of waiting forever.
func badArg(s *Socket, wantAck bool, id uint64, i int, err error) {
	s.logAt(slog.LevelDebug, "event argument does not decode", "arg", i, "err", lazylog.ClientErr(err))
	if s.ns.opts.errs != nil {
		s.ns.opts.errs.report(&HandlerError{Namespace: s.ns.name, SocketID: s.id,
			Err: badPacketError("argument "+strconv.Itoa(i), err)})
	}
	if wantAck {
		s.sendAck(id, errorArg(fmt.Sprintf("argument %d: %v", i, err)))
	}
}

// argDecoder decodes one JSON argument into dst, an addressable zero value
// of the parameter's type, as json.Unmarshal into it would.
type argDecoder func(raw json.RawMessage, dst reflect.Value) error

// decoderFor returns the decoder of type t: json.Unmarshal, with shortcuts
// for the common types that give the same value (and fall back to
// json.Unmarshal for its errors).
func decoderFor(t reflect.Type) argDecoder {
	switch t {
	case rawMessageType:
		return func(raw json.RawMessage, dst reflect.Value) error {
			return decodeRaw(raw, dst.Addr().Interface().(*json.RawMessage))
		}
	case reflect.TypeFor[string]():
		return func(raw json.RawMessage, dst reflect.Value) error {
			return decodeString(raw, dst.Addr().Interface().(*string))
		}
	case reflect.TypeFor[int]():
		return func(raw json.RawMessage, dst reflect.Value) error {
			return decodeInt(raw, dst.Addr().Interface().(*int))
		}
	case reflect.TypeFor[int64]():
		return func(raw json.RawMessage, dst reflect.Value) error {
			return decodeInt64(raw, dst.Addr().Interface().(*int64))
		}
	case reflect.TypeFor[bool]():
		return func(raw json.RawMessage, dst reflect.Value) error {
			return decodeBool(raw, dst.Addr().Interface().(*bool))
		}
	}
	return unmarshalArg
}

// decodeArg decodes one argument into *dst as json.Unmarshal would, with
// the shortcuts of decoderFor for the common types.
func decodeArg[A any](raw json.RawMessage, dst *A) error {
	switch p := any(dst).(type) {
	case *json.RawMessage:
		return decodeRaw(raw, p)
	case *string:
		return decodeString(raw, p)
	case *int:
		return decodeInt(raw, p)
	case *int64:
		return decodeInt64(raw, p)
	case *bool:
		return decodeBool(raw, p)
	}
	return unmarshalInto(raw, dst)
}

// decodeRaw copies the argument as it came (a handler may keep it).
func decodeRaw(raw json.RawMessage, dst *json.RawMessage) error {
	*dst = append(json.RawMessage(nil), raw...)
	return nil
}

func decodeString(raw json.RawMessage, dst *string) error {
	if s, ok := plainString(raw); ok {
		*dst = string(s)
		return nil
	}
	return unmarshalInto(raw, dst)
}

func decodeInt(raw json.RawMessage, dst *int) error {
	if isJSONInt(raw) {
		if n, err := strconv.ParseInt(string(raw), 10, strconv.IntSize); err == nil {
			*dst = int(n)
			return nil
		}
	}
	return unmarshalInto(raw, dst)
}

func decodeInt64(raw json.RawMessage, dst *int64) error {
	if isJSONInt(raw) {
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			*dst = n
			return nil
		}
	}
	return unmarshalInto(raw, dst)
}

func decodeBool(raw json.RawMessage, dst *bool) error {
	switch string(raw) {
	case "true":
		*dst = true
		return nil
	case "false":
		*dst = false
		return nil
	}
	return unmarshalInto(raw, dst)
}

func unmarshalArg(raw json.RawMessage, dst reflect.Value) error {
	return json.Unmarshal(raw, dst.Addr().Interface())
}

// unmarshalInto is json.Unmarshal(raw, dst) through a value of its own,
// allocated only here, so that the shortcuts above leave dst on its
// caller's stack.
func unmarshalInto[T any](raw json.RawMessage, dst *T) error {
	v := new(T)
	err := json.Unmarshal(raw, v)
	*dst = *v
	return err
}

// plainString returns the contents of raw if it is a JSON string whose
// contents need no unescaping: no backslash, no control character, valid
// UTF-8.
func plainString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	for _, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			return nil, false
		}
	}
	return s, utf8.Valid(s)
}

// isJSONInt reports whether raw is a JSON number without fraction or
// exponent: -?(0|[1-9][0-9]*).
func isJSONInt(raw []byte) bool {
	if len(raw) > 0 && raw[0] == '-' {
		raw = raw[1:]
	}
	if len(raw) == 0 || (raw[0] == '0' && len(raw) > 1) {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// resultEncoder appends the JSON of a handler's result v to dst, as
// marshalArg(v.Interface(), *att) would (a []byte result becomes a
// binary attachment, appended to *att).
type resultEncoder func(dst []byte, v reflect.Value, att *[][]byte) ([]byte, error)

// encoderFor returns the encoder of results of type t: marshalArg, with
// shortcuts for the common types that give the same bytes.
func encoderFor(t reflect.Type) resultEncoder {
	switch t {
	case reflect.TypeFor[string]():
		return func(dst []byte, v reflect.Value, _ *[][]byte) ([]byte, error) {
			return packet.AppendString(dst, v.String()), nil
		}
	case reflect.TypeFor[int](), reflect.TypeFor[int64]():
		return func(dst []byte, v reflect.Value, _ *[][]byte) ([]byte, error) {
			return strconv.AppendInt(dst, v.Int(), 10), nil
		}
	case reflect.TypeFor[bool]():
		return func(dst []byte, v reflect.Value, _ *[][]byte) ([]byte, error) {
			return strconv.AppendBool(dst, v.Bool()), nil
		}
	}
	return marshalResult
}

func marshalResult(dst []byte, v reflect.Value, att *[][]byte) ([]byte, error) {
	b, natt, err := marshalArg(v.Interface(), *att)
	*att = natt
	return append(dst, b...), err
}
