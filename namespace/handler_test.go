package namespace

import (
	"encoding/json"
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
		want, wantErr := marshalArg(v)
		got, err := encoderFor(rv.Type())([]byte("prefix"), rv)
		require.Equal(t, wantErr, err)
		assert.Equal(t, "prefix"+string(want), string(got), "%T %q", v, v)
	}
}
