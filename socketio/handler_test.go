package socketio

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var codecTypes = []reflect.Type{
	reflect.TypeFor[string](), reflect.TypeFor[int](), reflect.TypeFor[int64](), reflect.TypeFor[bool](),
	reflect.TypeFor[json.RawMessage](), reflect.TypeFor[float64](), reflect.TypeFor[any](),
}

var codecArgs = []string{
	`"ping"`, `""`, `"a\"b"`, `"\u00e9"`, `"é😀"`, "\"\xff\"", "\"a\tb\"", `"<&>"`, ` "x" `,
	`0`, `-0`, `1`, `-42`, `007`, `+1`, `1.0`, `1e3`, `9223372036854775807`, `9223372036854775808`,
	`-9223372036854775809`, `true`, `false`, `null`, `tru`, `[1]`, `{"a":1}`, ``, `"unterminated`,
}

// The decoders' shortcuts give what json.Unmarshal gives: the same value,
// or the same error.
func TestArgDecodersMatchUnmarshal(t *testing.T) {
	for _, typ := range codecTypes {
		dec := decoderFor(typ)
		for _, raw := range codecArgs {
			want := reflect.New(typ)
			wantErr := json.Unmarshal([]byte(raw), want.Interface())
			if typ == rawMessageType {
				want.Elem().SetBytes(append(json.RawMessage(nil), raw...)) // copied as it is
				wantErr = nil
			}
			got := reflect.New(typ)
			err := dec(json.RawMessage(raw), got.Elem())
			if wantErr != nil {
				require.Error(t, err, "%s %q", typ, raw)
				assert.Equal(t, wantErr.Error(), err.Error(), "%s %q", typ, raw)
				continue
			}
			require.NoError(t, err, "%s %q", typ, raw)
			assert.Equal(t, want.Elem().Interface(), got.Elem().Interface(), "%s %q", typ, raw)
		}
	}
}

// The result encoders' shortcuts give the bytes marshalArg gives.
func TestResultEncodersMatchMarshal(t *testing.T) {
	values := []any{"ping", "", `a"b`, "<&>", "é", "\u2028", "\x7f", "a\tb", "\xff",
		0, -1, 1 << 40, int64(-1 << 62), true, false}
	for _, v := range values {
		rv := reflect.ValueOf(v)
		want, _, wantErr := marshalArg(v, nil)
		var att [][]byte
		got, err := encoderFor(rv.Type())([]byte("prefix"), rv, &att)
		require.Equal(t, wantErr, err)
		assert.Equal(t, "prefix"+string(want), string(got), "%T %q", v, v)
	}
}

// The typed handlers of the common signatures are called without
// reflection; each gives exactly what the reflective call gives: the same
// argument (or the same refusal of a bad one), the same ack, the same
// error answer.
func TestFastHandlersMatchReflection(t *testing.T) {
	errBoom := errors.New("boom")
	var got []string // what the handler saw, in order
	seen := func(a string) { got = append(got, a) }
	handlers := map[string]any{
		"func(*Socket)":                   func(*Socket) { seen("ran") },
		"func(*Socket, string)":           func(_ *Socket, a string) { seen(a) },
		"func(*Socket, string) string":    func(_ *Socket, a string) string { seen(a); return a + "!" },
		"func(*Socket, string) bool":      func(_ *Socket, a string) bool { seen(a); return a == "yes" },
		"func(*Socket, string) error ok":  func(_ *Socket, a string) error { seen(a); return nil },
		"func(*Socket, string) error bad": func(_ *Socket, a string) error { seen(a); return errBoom },
		"func(*Socket, string) (string, error)": func(_ *Socket, a string) (string, error) {
			seen(a)
			if a == "yes" {
				return "", errBoom
			}
			return "<" + a + ">", nil
		},
	}
	argLists := [][]json.RawMessage{nil, {}}
	for _, raw := range append(codecArgs, `"yes"`, `"\u2028</script>"`) {
		argLists = append(argLists, []json.RawMessage{json.RawMessage(raw)}, []json.RawMessage{json.RawMessage(raw), json.RawMessage(`2`)})
	}
	run := func(call func(*Socket, []json.RawMessage, bool, uint64), args []json.RawMessage, wantAck bool) ([]string, []string) {
		got = nil
		ns := newNamespace("/fast", quietOpts())
		c := newConn("a")
		s, err := ns.connect(c, nil)
		require.NoError(t, err)
		base := len(c.sent())
		call(s, args, wantAck, 7)
		return got, c.sent()[base:]
	}
	for name, fn := range handlers {
		h, err := handlerOf(fn)
		require.NoError(t, err, name)
		require.NotNil(t, h.fast, "%s has a fast path", name)
		th, err := typedHandlerOf(fn)
		require.NoError(t, err, name)
		for _, args := range argLists {
			for _, wantAck := range []bool{false, true} {
				fastSaw, fastSent := run(h.fast, args, wantAck)
				slowSaw, slowSent := run(th.call, args, wantAck)
				assert.Equal(t, slowSaw, fastSaw, "%s %q ack=%v: the handler saw", name, args, wantAck)
				assert.Equal(t, slowSent, fastSent, "%s %q ack=%v: sent", name, args, wantAck)
			}
		}
	}
	// Other signatures take the reflective path.
	for _, fn := range []any{func(*Socket, int) string { return "" }, func(*Socket, string, string) {}, func(*Socket, ...string) {}} {
		h, err := handlerOf(fn)
		require.NoError(t, err)
		assert.Nil(t, h.fast, "%T", fn)
		assert.NotNil(t, h.typed, "%T", fn)
	}
}
