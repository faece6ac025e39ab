package namespace

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode"
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
	socketType = reflect.TypeOf((*Socket)(nil))
	errorType  = reflect.TypeOf((*error)(nil)).Elem()
)

// handlerOf turns fn into a RawHandler. fn may be:
//
//   - a RawHandler or a func with its signature;
//   - func(s *Socket, a A, b B, ...) (R1, R2, ..., error) — typed: each
//     argument is decoded from the client's JSON into the parameter's type
//     (missing arguments stay zero; a final variadic parameter takes the
//     rest), and the results, without a trailing error, become the ack.
//     A non-nil error is logged and acked as [{"error": "text"}] — its text
//     goes to the client, so return errors meant for users. An argument
//     that does not decode is answered the same way and runs nothing.
func handlerOf(fn any) (RawHandler, error) {
	switch h := fn.(type) {
	case RawHandler:
		return h, nil
	case func(*Socket, []json.RawMessage, AckFunc):
		return h, nil
	}
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("namespace: handler must be a func, got %s", t)
	}
	if t.NumIn() < 1 || t.In(0) != socketType {
		return nil, fmt.Errorf("namespace: handler %s must take *namespace.Socket first", t)
	}
	nout := t.NumOut()
	hasErr := nout > 0 && t.Out(nout-1) == errorType
	if hasErr {
		nout--
	}
	nin := t.NumIn() - 1
	variadic := t.IsVariadic()
	return func(s *Socket, args []json.RawMessage, ack AckFunc) {
		in := make([]reflect.Value, 0, t.NumIn())
		in = append(in, reflect.ValueOf(s))
		for i := 0; i < nin; i++ {
			pt := t.In(i + 1)
			if variadic && i == nin-1 {
				et := pt.Elem()
				rest := reflect.MakeSlice(pt, 0, max(0, len(args)-i))
				for j := i; j < len(args); j++ {
					ev := reflect.New(et)
					if err := decodeArg(args[j], ev.Interface()); err != nil {
						badArg(s, ack, j, err)
						return
					}
					rest = reflect.Append(rest, ev.Elem())
				}
				in = append(in, rest)
				break
			}
			pv := reflect.New(pt)
			if i < len(args) {
				if err := decodeArg(args[i], pv.Interface()); err != nil {
					badArg(s, ack, i, err)
					return
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
		if hasErr {
			if e, _ := out[nout].Interface().(error); e != nil {
				s.ns.log.Info("event handler returned an error", "sid", s.id, "namespace", s.ns.name, "err", e)
				if ack != nil {
					_ = ack(map[string]string{"error": e.Error()})
				}
				return
			}
		}
		if ack != nil {
			res := make([]any, nout)
			for i := 0; i < nout; i++ {
				res[i] = out[i].Interface()
			}
			_ = ack(res...)
		}
	}, nil
}

// badArg answers a call whose argument does not decode into the handler's
// parameter type: the handler does not run, and a client waiting for an ack
// gets [{"error": "argument N: ..."}] instead of waiting forever.
func badArg(s *Socket, ack AckFunc, i int, err error) {
	s.log.Debug("event argument does not decode", "arg", i, "err", err)
	if ack != nil {
		_ = ack(map[string]string{"error": fmt.Sprintf("argument %d: %v", i, err)})
	}
}

func decodeArg(raw json.RawMessage, dst any) error {
	if rm, ok := dst.(*json.RawMessage); ok {
		*rm = append(json.RawMessage(nil), raw...)
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// EventName is the rule by which Register maps a method name to an event:
// the "On" prefix is dropped and the rest turned to snake_case, so OnChat
// handles "chat" and OnSendPrivateMessage handles "send_private_message".
func EventName(method string) string {
	name := strings.TrimPrefix(method, "On")
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Register makes the methods of obj event handlers (gevent-socketio's
// on_<event> rule, in Go spelling): every exported method named On<Name>
// whose first parameter is *Socket handles the event EventName(method).
// Two names are special: OnConnect(*Socket) runs when a socket connects
// and OnDisconnect(*Socket, string) when it disconnects. It returns the
// event names registered.
func (ns *Namespace) Register(obj any) ([]string, error) {
	v := reflect.ValueOf(obj)
	t := v.Type()
	var names []string
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		if !strings.HasPrefix(m.Name, "On") || len(m.Name) == 2 {
			continue
		}
		fn := v.Method(i).Interface()
		switch m.Name {
		case "OnConnect":
			if f, ok := fn.(func(*Socket)); ok {
				ns.OnConnect(f)
				continue
			}
		case "OnDisconnect":
			if f, ok := fn.(func(*Socket, string)); ok {
				ns.OnDisconnect(f)
				continue
			}
		}
		mt := m.Type
		if mt.NumIn() < 2 || mt.In(1) != socketType {
			continue
		}
		name := EventName(m.Name)
		if err := ns.On(name, fn); err != nil {
			return names, fmt.Errorf("namespace: method %s: %w", m.Name, err)
		}
		names = append(names, name)
	}
	return names, nil
}
