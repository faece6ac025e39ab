package sioparser

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func textSeeds() []string {
	seeds := []string{
		"0", "0/admin,", `0/admin?token=1&b=2,`, `0{"token":"123"}`, "1", "1/admin,", "1/admin",
		`2["foo"]`, `212["foo"]`, `2/admin,012["x",{"a":[1,{"b":null}]}]`, `2["é😀\u2028","\u0000"]`, `2["a"] `,
		`3/admin,13["bar"]`, `30[]`, `4{"message":"Not authorized"}`, `4"x"`,
		`51-["baz",{"_placeholder":true,"num":0}]`,
		`52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
		`61-15["bar",{"_placeholder":true,"num":0}]`,
		`52-["a",{"x":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]`,
		`51-["a",{"\u005fplaceholder":true,"n\u0075m":0}]`,
		`51-["a",{"_placeholder":false,"_placeholder":true,"num":5,"num":0}]`,
		`51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":7}}]`,
		`2["_placeholder",{"_placeholder":true,"num":0}]`,
		"", "7", "2", "2[1]", `2 ["a"]`, `29007199254740992["a"]`, "3[]", `5 1-["a"]`, `52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`,
		"0/\xff,", `2["\ud800"]`, `2[` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `]`,
	}
	for _, tc := range specExamples {
		seeds = append(seeds, tc.encoded)
	}
	return seeds
}

// FuzzDecodeText: DecodeText never panics, and what it accepts encodes
// (with as many attachments as it announced) to a text frame that decodes
// to the same packet; its payload splits as encoding/json splits it, and
// its placeholders are the ones encoding/json finds.
func FuzzDecodeText(f *testing.F) {
	for _, s := range textSeeds() {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, v4 bool) {
		o := Options{}
		if v4 {
			o.Protocol = V4
		}
		p, n, err := DecodeText(s, o)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		require.Equal(t, p.Type.Binary(), n > 0)
		for i := range n {
			p.Attachments = append(p.Attachments, []byte{byte(i)})
		}
		enc, err := Encode(&p)
		require.NoError(t, err, "%q decoded to %+v", s, p)
		q, m, err := DecodeText(enc, o)
		require.NoError(t, err, "%q re-encoded as %q", s, enc)
		require.Equal(t, n, m)
		q.Attachments = p.Attachments
		require.Equal(t, p, q)
		enc2, err := Encode(&q)
		require.NoError(t, err)
		require.Equal(t, enc, enc2)

		if p.Data == nil {
			return
		}
		if p.Data[0] == '[' {
			var want []json.RawMessage
			require.NoError(t, json.Unmarshal(p.Data, &want))
			got, err := SplitArray(p.Data)
			require.NoError(t, err)
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Equal(t, string(want[i]), string(got[i]))
			}
		}
		if p.Type == Event || p.Type == BinaryEvent {
			name, _, err := SplitEvent(p.Data)
			require.NoError(t, err)
			if o.Protocol == V5 {
				require.False(t, IsReservedEvent(name))
			}
		}
		if n > 0 {
			v, err := Reconstruct(p.Data, p.Attachments)
			require.NoError(t, err)
			seen := map[byte]int{}
			countBuffers(v, seen)
			require.Len(t, seen, n, "%q", s)
			for _, c := range seen {
				require.Equal(t, 1, c)
			}
		}
	})
}

func countBuffers(v any, seen map[byte]int) {
	switch t := v.(type) {
	case []byte:
		seen[t[0]]++
	case []any:
		for _, e := range t {
			countBuffers(e, seen)
		}
	case map[string]any:
		for _, e := range t {
			countBuffers(e, seen)
		}
	}
}

// FuzzDecoder: a Decoder fed any sequence of frames never panics, never
// waits for a negative number of attachments, and completes binary packets
// with exactly the attachments they announced.
func FuzzDecoder(f *testing.F) {
	for _, s := range textSeeds() {
		f.Add(s, []byte{1, 2}, []byte{3}, `2["a"]`, uint8(0))
	}
	f.Add(`52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, []byte{1}, []byte{2}, "", uint8(3))
	f.Fuzz(func(t *testing.T, text string, b1, b2 []byte, text2 string, order uint8) {
		d := Decoder{Options: Options{MaxAttachmentBytes: 64}}
		if order&4 != 0 {
			d.Options.Protocol = V4
		}
		check := func(p Packet, done bool, err error) {
			require.GreaterOrEqual(t, d.Awaiting(), 0)
			if err != nil {
				require.ErrorIs(t, err, ErrMalformed)
				require.False(t, done)
				return
			}
			if done {
				require.Equal(t, p.Type.Binary(), len(p.Attachments) > 0)
				_, err := Encode(&p)
				require.NoError(t, err)
			}
		}
		check(d.AddText(text))
		if order&1 != 0 {
			check(d.AddText(text2))
		}
		check(d.AddBinary(b1))
		check(d.AddBinary(b2))
		if order&2 != 0 {
			check(d.AddBinary(b1))
		}
		check(d.AddText(text2))
	})
}

// FuzzAppendValue: AppendString writes valid JSON that decodes to the
// string (invalid UTF-8 replaced), and AppendValue's output with its
// attachments reconstructs to the value.
func FuzzAppendValue(f *testing.F) {
	for _, s := range []string{"", "a", `q"\`, "\x00\x1f\x7f", "é😀\u2028", "bad\xff", "<>&"} {
		f.Add(s, []byte{1, 2})
	}
	f.Fuzz(func(t *testing.T, s string, b []byte) {
		js := AppendString(nil, s)
		var back string
		require.NoError(t, json.Unmarshal(js, &back), "%q", js)
		require.Equal(t, validUTF8(s), back)

		if b == nil {
			b = []byte{}
		}
		v := []any{validUTF8(s), b, map[string]any{validUTF8(s): []any{b, s == ""}}}
		data, att, err := AppendValue(nil, v, nil)
		require.NoError(t, err)
		require.Len(t, att, 2)
		p := Packet{Type: BinaryEvent, Data: data, Attachments: att}
		enc, err := Encode(&p)
		require.NoError(t, err)
		q, n, err := DecodeText(enc, Options{})
		if IsReservedEvent(v[0].(string)) {
			require.ErrorIs(t, err, ErrReservedEvent)
			return
		}
		require.NoError(t, err, "%q", enc)
		require.Equal(t, 2, n)
		got, err := Reconstruct(q.Data, att)
		require.NoError(t, err)
		require.Equal(t, v, got)
	})
}

// validUTF8 replaces each invalid byte with U+FFFD, as AppendString and
// encoding/json do.
func validUTF8(s string) string { return string([]rune(s)) }
