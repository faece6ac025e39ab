package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// AckFunc answers a server's request for an acknowledgement. Its
// arguments are encoded as JSON and become the ack's args. Only the first
// call sends anything; later calls return ErrAckSent.
type AckFunc func(args ...any) error

// RawHandler is the raw form of an event handler: the arguments as the
// server sent them, and ack, which is nil unless the server asked for an
// acknowledgement with data.
type RawHandler func(args []json.RawMessage, ack AckFunc)

// handler is what the dispatcher calls; a non-nil error (an argument that
// does not decode) is reported through Options.OnError.
type handler func(ns *Namespace, args []json.RawMessage, ack AckFunc) error

var (
	namespaceType  = reflect.TypeOf((*Namespace)(nil))
	errorType      = reflect.TypeOf((*error)(nil)).Elem()
	rawHandlerType = reflect.TypeOf(RawHandler(nil))
	ackFuncType    = reflect.TypeOf(AckFunc(nil))
)

// errRawSignature: On was given a function that takes an AckFunc.
var errRawSignature = fmt.Errorf("%w: a handler taking an AckFunc is a raw handler: register it with OnRaw, not On", ErrBadHandler)

// rawHandlerOf turns a RawHandler into a handler.
func rawHandlerOf(h RawHandler) (handler, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: nil", ErrBadHandler)
	}
	return func(_ *Namespace, args []json.RawMessage, ack AckFunc) error { h(args, ack); return nil }, nil
}

// handlerOf turns a typed handler into a handler, with the rules of the
// server's Namespace.On, minus the *Socket:
//
//	func([ns *Namespace,] a A, b B, ...) (R1, R2, ..., [error])
//
// Each argument is decoded from the server's JSON into the parameter's
// type (missing arguments stay zero; a final variadic parameter takes the
// rest; json.RawMessage takes the raw text), and the results, without a
// trailing error, become the ack if the server asked for one. A non-nil
// error is acked as [{"error": "text"}]. The optional first *Namespace
// parameter receives the namespace the event arrived on. A function
// taking an AckFunc (the RawHandler signature) is refused: it is
// registered with OnRaw.
func handlerOf(fn any) (handler, error) {
	switch fn.(type) {
	case nil:
		return nil, fmt.Errorf("%w: nil", ErrBadHandler)
	case RawHandler, func([]json.RawMessage, AckFunc):
		return nil, errRawSignature
	}
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("%w: not a func but %s", ErrBadHandler, t)
	}
	if v.IsNil() {
		return nil, fmt.Errorf("%w: a nil %s", ErrBadHandler, t)
	}
	if t.ConvertibleTo(rawHandlerType) {
		return nil, errRawSignature
	}
	for i := range t.NumIn() {
		if t.In(i).ConvertibleTo(ackFuncType) {
			return nil, errRawSignature
		}
	}
	first := 0
	if t.NumIn() > 0 && t.In(0) == namespaceType {
		first = 1
	}
	nout := t.NumOut()
	hasErr := nout > 0 && t.Out(nout-1) == errorType
	if hasErr {
		nout--
	}
	nin := t.NumIn() - first
	variadic := t.IsVariadic()
	return func(ns *Namespace, args []json.RawMessage, ack AckFunc) error {
		in := make([]reflect.Value, 0, t.NumIn())
		if first == 1 {
			in = append(in, reflect.ValueOf(ns))
		}
		for i := 0; i < nin; i++ {
			pt := t.In(first + i)
			if variadic && i == nin-1 {
				rest := reflect.MakeSlice(pt, 0, max(0, len(args)-i))
				for j := i; j < len(args); j++ {
					ev := reflect.New(pt.Elem())
					if err := decodeArg(args[j], ev.Interface()); err != nil {
						return fmt.Errorf("argument %d: %w", j, err)
					}
					rest = reflect.Append(rest, ev.Elem())
				}
				in = append(in, rest)
				break
			}
			pv := reflect.New(pt)
			if i < len(args) {
				if err := decodeArg(args[i], pv.Interface()); err != nil {
					return fmt.Errorf("argument %d: %w", i, err)
				}
			}
			in = append(in, pv.Elem())
		}
		var out []reflect.Value
		if variadic {
			out = v.CallSlice(in)
		} else {
			out = v.Call(in)
		}
		if ack == nil {
			return nil
		}
		if hasErr {
			if e, _ := out[nout].Interface().(error); e != nil {
				_ = ack(map[string]string{"error": e.Error()})
				return nil
			}
		}
		res := make([]any, nout)
		for i := range nout {
			res[i] = out[i].Interface()
		}
		_ = ack(res...)
		return nil
	}, nil
}

func decodeArg(raw json.RawMessage, dst any) error {
	if rm, ok := dst.(*json.RawMessage); ok {
		*rm = append(json.RawMessage(nil), raw...)
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// marshalArgs encodes emit arguments. A json.RawMessage is passed through
// (it must be valid JSON); anything else goes through encoding/json
// without HTML escaping (the server gets the same string either way).
func marshalArgs(args []any) ([]json.RawMessage, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make([]json.RawMessage, len(args))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i, a := range args {
		switch v := a.(type) {
		case json.RawMessage:
			if !json.Valid(v) {
				return nil, fmt.Errorf("client: argument %d is not valid JSON", i)
			}
			out[i] = v
			continue
		}
		buf.Reset()
		if err := enc.Encode(a); err != nil {
			return nil, fmt.Errorf("client: argument %d: %w", i, err)
		}
		out[i] = json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n"))
		out[i] = append(json.RawMessage(nil), out[i]...)
	}
	return out, nil
}
