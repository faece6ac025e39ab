package sioparser

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ph(n int) string { return string(AppendPlaceholder(nil, n)) }

// specExamples are the examples of the protocol's README (v5), both ways.
var specExamples = []struct {
	name    string
	p       Packet
	encoded string
}{
	{"connect main", Packet{Type: Connect, Namespace: "/"}, "0"},
	{"connect custom", Packet{Type: Connect, Namespace: "/admin", Data: json.RawMessage(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}, `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`},
	{"connect error", Packet{Type: ConnectError, Namespace: "/", Data: json.RawMessage(`{"message":"Not authorized"}`)}, `4{"message":"Not authorized"}`},
	{"event main", Packet{Type: Event, Namespace: "/", Data: json.RawMessage(`["foo"]`)}, `2["foo"]`},
	{"event custom", Packet{Type: Event, Namespace: "/admin", Data: json.RawMessage(`["bar"]`)}, `2/admin,["bar"]`},
	{"binary event", Packet{Type: BinaryEvent, Namespace: "/", Data: json.RawMessage(`["baz",` + ph(0) + `]`), Attachments: [][]byte{{1, 2, 3, 4}}}, `51-["baz",{"_placeholder":true,"num":0}]`},
	{"binary event two", Packet{Type: BinaryEvent, Namespace: "/admin", Data: json.RawMessage(`["baz",` + ph(0) + `,` + ph(1) + `]`), Attachments: [][]byte{{1, 2}, {3, 4}}}, `52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`},
	{"event with ack id", Packet{Type: Event, Namespace: "/", ID: 12, HasID: true, Data: json.RawMessage(`["foo"]`)}, `212["foo"]`},
	{"ack custom", Packet{Type: Ack, Namespace: "/admin", ID: 13, HasID: true, Data: json.RawMessage(`["bar"]`)}, `3/admin,13["bar"]`},
	{"binary ack", Packet{Type: BinaryAck, Namespace: "/", ID: 15, HasID: true, Data: json.RawMessage(`["bar",` + ph(0) + `]`), Attachments: [][]byte{{1, 2, 3, 4}}}, `61-15["bar",{"_placeholder":true,"num":0}]`},
	{"disconnect main", Packet{Type: Disconnect, Namespace: "/"}, "1"},
	{"disconnect custom", Packet{Type: Disconnect, Namespace: "/admin"}, "1/admin,"},
}

func TestSpecExamples(t *testing.T) {
	for _, tc := range specExamples {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendPacket(nil, &tc.p)
			require.NoError(t, err)
			assert.Equal(t, tc.encoded, string(got))

			var d Decoder
			p, done, err := d.AddText(tc.encoded)
			require.NoError(t, err)
			for i, a := range tc.p.Attachments {
				require.False(t, done)
				require.Equal(t, len(tc.p.Attachments)-i, d.Awaiting())
				p, done, err = d.AddBinary(a)
				require.NoError(t, err)
			}
			require.True(t, done)
			assert.Equal(t, 0, d.Awaiting())
			assert.Equal(t, tc.p, p)
		})
	}
}

func TestDecodeForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Packet
	}{
		{"1/admin", Packet{Type: Disconnect, Namespace: "/admin"}},
		{"0/admin,", Packet{Type: Connect, Namespace: "/admin"}},
		{`0{"token":"x"}`, Packet{Type: Connect, Namespace: "/", Data: json.RawMessage(`{"token":"x"}`)}},
		{`2012["a"]`, Packet{Type: Event, Namespace: "/", ID: 12, HasID: true, Data: json.RawMessage(`["a"]`)}},
		{`29007199254740991["a"]`, Packet{Type: Event, Namespace: "/", ID: MaxID, HasID: true, Data: json.RawMessage(`["a"]`)}},
		{`4"nope"`, Packet{Type: ConnectError, Namespace: "/", Data: json.RawMessage(`"nope"`)}},
		{`30[]`, Packet{Type: Ack, Namespace: "/", ID: 0, HasID: true, Data: json.RawMessage(`[]`)}},
		{`2["\u0063onnect"]`, Packet{}}, // reserved even when escaped: below
		{`2/a?b,["x" , 1] `, Packet{Type: Event, Namespace: "/a?b", Data: json.RawMessage(`["x" , 1] `)}},
		{`2["_placeholder",{"_placeholder":true,"num":0}]`, Packet{Type: Event, Namespace: "/", Data: json.RawMessage(`["_placeholder",{"_placeholder":true,"num":0}]`)}},
	} {
		p, n, err := DecodeText(tc.in, Options{})
		if tc.want.Namespace == "" {
			assert.ErrorIs(t, err, ErrReservedEvent, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Zero(t, n)
		assert.Equal(t, tc.want, p, tc.in)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", ErrType},
		{"7", ErrType},
		{"x", ErrType},
		{"-", ErrType},
		{"0[]", ErrPayload},
		{`0"x"`, ErrPayload},
		{"0{", ErrPayload},
		{"01{}", ErrAckID},
		{"1{}", ErrPayload},
		{`1"x"`, ErrPayload},
		{"12", ErrAckID},
		{"2", ErrPayload},
		{"21", ErrPayload},
		{"2[]", ErrPayload},
		{"2[1]", ErrPayload},
		{"2{}", ErrPayload},
		{`2"a"`, ErrPayload},
		{`2["a"`, ErrPayload},
		{`2 ["a"]`, ErrPayload},
		{`2["connect"]`, ErrReservedEvent},
		{`2["disconnecting",1]`, ErrReservedEvent},
		{`2/admin["a"]`, ErrPayload},
		{`29007199254740992["a"]`, ErrAckID},
		{`299999999999999999999999["a"]`, ErrAckID},
		{"3", ErrAckID},
		{"3[]", ErrAckID},
		{"31", ErrPayload},
		{"31{}", ErrPayload},
		{"4", ErrPayload},
		{"4[]", ErrPayload},
		{"41{}", ErrAckID},
		{"5", ErrAttachments},
		{"5-[\"a\"]", ErrAttachments},
		{"50-[\"a\"]", ErrAttachments},
		{"5 1-[\"a\"]", ErrAttachments},
		{"5x-[\"a\"]", ErrAttachments},
		{"511-[\"a\"]", ErrTooLarge},
		{"51234567890-[\"a\"]", ErrAttachments},
		{`51-["a"]`, ErrAttachments},
		{`51-["a",` + ph(1) + `]`, ErrAttachments},
		{`52-["a",` + ph(0) + `,` + ph(0) + `]`, ErrAttachments},
		{`51-["a",{"_placeholder":true,"num":-0}]`, ErrAttachments},
		{`51-["a",{"_placeholder":true,"num":0.0}]`, ErrAttachments},
		{`51-["a",{"_placeholder":true}]`, ErrAttachments},
		{`51-["a",{"_placeholder":true,"num":"0"}]`, ErrAttachments},
		{`61-["a",` + ph(0) + `]`, ErrAckID},
		{`61-1{}`, ErrPayload},
		{"0/\xff,", ErrNamespace},
		{`2["a",` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `]`, ErrPayload},
	} {
		_, _, err := DecodeText(tc.in, Options{})
		require.Error(t, err, "%q", tc.in)
		assert.ErrorIs(t, err, tc.want, "%q", tc.in)
		assert.ErrorIs(t, err, ErrMalformed, "%q", tc.in)
	}
}

func TestPlaceholderRules(t *testing.T) {
	ok := func(s string, n int) {
		t.Helper()
		_, got, err := DecodeText(s, Options{})
		require.NoError(t, err, s)
		assert.Equal(t, n, got)
	}
	// Order in the payload does not matter; nesting does not matter.
	ok(`52-["a",{"x":[`+ph(1)+`]},`+ph(0)+`]`, 2)
	// Escaped keys are the same keys; duplicate keys: the last wins.
	ok(`51-["a",{"\u005fplaceholder":true,"n\u0075m":0}]`, 1)
	ok(`51-["a",{"_placeholder":false,"_placeholder":true,"num":5,"num":0}]`, 1)
	// What a placeholder holds is not looked at.
	ok(`51-["a",{"_placeholder":true,"num":0,"x":`+ph(7)+`}]`, 1)
	// A placeholder-like object that is not one.
	ok(`51-["a",{"_placeholder":"true","num":3},`+ph(0)+`]`, 1)
}

func TestMaxAttachmentsOption(t *testing.T) {
	s := `52-["a",` + ph(0) + `,` + ph(1) + `]`
	_, _, err := DecodeText(s, Options{MaxAttachments: 1})
	assert.ErrorIs(t, err, ErrTooLarge)
	_, n, err := DecodeText(s, Options{MaxAttachments: 2})
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	var b strings.Builder
	b.WriteString(`512-["a"`)
	for i := range 12 {
		b.WriteString("," + ph(11-i))
	}
	b.WriteString("]")
	_, _, err = DecodeText(b.String(), Options{})
	assert.ErrorIs(t, err, ErrTooLarge)
	_, n, err = DecodeText(b.String(), Options{MaxAttachments: 12})
	require.NoError(t, err)
	assert.Equal(t, 12, n)

	// Past 64 attachments the duplicate check takes another path.
	many := func(nums ...int) string {
		var b strings.Builder
		b.WriteString(strconv.Itoa(len(nums)) + `-["a"`)
		for _, k := range nums {
			b.WriteString("," + ph(k))
		}
		return "5" + b.String() + "]"
	}
	nums := make([]int, 70)
	for i := range nums {
		nums[i] = 69 - i
	}
	_, n, err = DecodeText(many(nums...), Options{MaxAttachments: 70})
	require.NoError(t, err)
	assert.Equal(t, 70, n)
	nums[0] = 1
	_, _, err = DecodeText(many(nums...), Options{MaxAttachments: 70})
	assert.ErrorIs(t, err, ErrAttachments)
	nums[0], nums[69] = 69, 0
	nums[5] = 63
	_, _, err = DecodeText(many(nums[:10]...), Options{MaxAttachments: 70})
	assert.ErrorIs(t, err, ErrAttachments)
}

func TestDecoderSequencing(t *testing.T) {
	var d Decoder
	// A binary frame with nothing pending.
	_, _, err := d.AddBinary([]byte{1})
	assert.ErrorIs(t, err, ErrAttachments)

	// A text frame while attachments are awaited drops the pending packet.
	_, done, err := d.AddText(`52-["a",` + ph(0) + `,` + ph(1) + `]`)
	require.NoError(t, err)
	require.False(t, done)
	_, done, err = d.AddBinary([]byte{1})
	require.NoError(t, err)
	require.False(t, done)
	_, _, err = d.AddText(`2["a"]`)
	assert.ErrorIs(t, err, ErrAttachments)
	assert.Contains(t, err.Error(), "while 1 attachments are awaited")
	assert.Equal(t, 0, d.Awaiting())
	// ...and the decoder goes on from a clean state.
	p, done, err := d.AddText(`2["a"]`)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Equal(t, json.RawMessage(`["a"]`), p.Data)

	// A failed text packet leaves nothing pending.
	_, _, err = d.AddText(`51-["a"]`)
	assert.ErrorIs(t, err, ErrAttachments)
	assert.Equal(t, 0, d.Awaiting())

	// Empty attachments are attachments.
	_, _, err = d.AddText(`51-["a",` + ph(0) + `]`)
	require.NoError(t, err)
	p, done, err = d.AddBinary([]byte{})
	require.NoError(t, err)
	require.True(t, done)
	assert.Equal(t, [][]byte{{}}, p.Attachments)
	assert.Equal(t, BinaryEvent, p.Type)
}

func TestDecoderAttachmentBytes(t *testing.T) {
	d := Decoder{Options: Options{MaxAttachmentBytes: 10}}
	_, _, err := d.AddText(`52-["a",` + ph(0) + `,` + ph(1) + `]`)
	require.NoError(t, err)
	_, _, err = d.AddBinary(make([]byte, 6))
	require.NoError(t, err)
	_, _, err = d.AddBinary(make([]byte, 5))
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.Equal(t, 0, d.Awaiting())
	// Exactly the limit passes.
	_, _, err = d.AddText(`52-["a",` + ph(0) + `,` + ph(1) + `]`)
	require.NoError(t, err)
	_, _, err = d.AddBinary(make([]byte, 6))
	require.NoError(t, err)
	p, done, err := d.AddBinary(make([]byte, 4))
	require.NoError(t, err)
	assert.True(t, done)
	assert.Len(t, p.Attachments, 2)

	var def Decoder
	_, _, err = def.AddText(`51-["a",` + ph(0) + `]`)
	require.NoError(t, err)
	_, _, err = def.AddBinary(make([]byte, DefaultMaxAttachmentBytes+1))
	assert.ErrorIs(t, err, ErrTooLarge)
}

func TestV4(t *testing.T) {
	o := Options{Protocol: V4}
	p, _, err := DecodeText("0/admin?token=abc&x=1,", o)
	require.NoError(t, err)
	assert.Equal(t, Packet{Type: Connect, Namespace: "/admin", Query: "token=abc&x=1"}, p)
	s, err := Encode(&p)
	require.NoError(t, err)
	assert.Equal(t, "0/admin?token=abc&x=1,", s)

	// v5 keeps the '?' in the namespace (an unknown namespace, later).
	p, _, err = DecodeText("0/admin?token=abc,", Options{})
	require.NoError(t, err)
	assert.Equal(t, "/admin?token=abc", p.Namespace)
	assert.Empty(t, p.Query)

	// A query on another type stays in the namespace.
	p, _, err = DecodeText(`2/admin?x,["a"]`, o)
	require.NoError(t, err)
	assert.Equal(t, "/admin?x", p.Namespace)

	// v4 ERROR is a string; reserved names are not checked in v4.
	_, _, err = DecodeText(`4"Not authorized"`, o)
	require.NoError(t, err)
	_, _, err = DecodeText(`2["connect"]`, o)
	require.NoError(t, err)
	assert.Equal(t, "v4", V4.String())
	assert.Equal(t, "v5", V5.String())
}

func TestEncodeErrors(t *testing.T) {
	raw := json.RawMessage(`["a"]`)
	for name, p := range map[string]Packet{
		"type":             {Type: 7},
		"namespace slash":  {Type: Connect, Namespace: "admin"},
		"namespace comma":  {Type: Connect, Namespace: "/a,b"},
		"namespace query":  {Type: Connect, Namespace: "/a?b", Query: "c"},
		"namespace utf8":   {Type: Connect, Namespace: "/\xff"},
		"query on event":   {Type: Event, Namespace: "/a", Query: "x", Data: raw},
		"query comma":      {Type: Connect, Namespace: "/a", Query: "x,y"},
		"id too big":       {Type: Event, ID: MaxID + 1, HasID: true, Data: raw},
		"id on connect":    {Type: Connect, HasID: true},
		"ack without id":   {Type: Ack, Data: raw},
		"binary no att":    {Type: BinaryEvent, Data: raw},
		"att on event":     {Type: Event, Data: raw, Attachments: [][]byte{{1}}},
		"disconnect data":  {Type: Disconnect, Data: raw},
		"event no payload": {Type: Event},
		"error no payload": {Type: ConnectError},
	} {
		dst := []byte("keep")
		got, err := AppendPacket(dst, &p)
		assert.ErrorIs(t, err, ErrInvalidPacket, name)
		assert.Equal(t, "keep", string(got), name)
	}
	s, err := Encode(&Packet{Type: Connect, Query: "q"})
	require.NoError(t, err)
	assert.Equal(t, "0/?q,", s)
}

func TestTypeString(t *testing.T) {
	assert.Equal(t, "BINARY_ACK", BinaryAck.String())
	assert.Equal(t, "Type(9)", Type(9).String())
	assert.True(t, BinaryEvent.Binary())
	assert.False(t, Event.Binary())
}

func TestAppendValueReconstruct(t *testing.T) {
	args := []any{"file", []byte{1, 2}, map[string]any{"b": []byte{3}, "a": []any{[]byte{}, 1, "x"}}, json.RawMessage(`{"k":null}`), nil, true, 2.5}
	data, att, err := AppendValue(nil, args, nil)
	require.NoError(t, err)
	assert.Equal(t, `["file",`+ph(0)+`,{"a":[`+ph(1)+`,1,"x"],"b":`+ph(2)+`},{"k":null},null,true,2.5]`, string(data))
	assert.Equal(t, [][]byte{{1, 2}, {}, {3}}, att)

	p := Packet{Type: BinaryEvent, Namespace: "/", Data: data, Attachments: att}
	s, err := Encode(&p)
	require.NoError(t, err)
	got, n, err := DecodeText(s, Options{})
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	v, err := Reconstruct(got.Data, att)
	require.NoError(t, err)
	assert.Equal(t, []any{"file", []byte{1, 2}, map[string]any{"b": []byte{3}, "a": []any{[]byte{}, json.Number("1"), "x"}}, map[string]any{"k": nil}, nil, true, json.Number("2.5")}, v)

	_, err = Reconstruct(json.RawMessage(`[`+ph(1)+`]`), att[:1])
	assert.ErrorIs(t, err, ErrAttachments)
	v, err = Reconstruct(json.RawMessage(`[`+ph(1)+`]`), nil)
	require.NoError(t, err)
	assert.Equal(t, []any{map[string]any{"_placeholder": true, "num": json.Number("1")}}, v)
	_, err = Reconstruct(json.RawMessage(`[`), nil)
	assert.ErrorIs(t, err, ErrPayload)
	_, err = Reconstruct(json.RawMessage(`1 2`), nil)
	assert.ErrorIs(t, err, ErrPayload)

	_, _, err = AppendValue(nil, json.RawMessage(`{`), nil)
	assert.ErrorIs(t, err, ErrInvalidPacket)
	_, _, err = AppendValue(nil, func() {}, nil)
	assert.ErrorIs(t, err, ErrInvalidPacket)
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\`, "\x00\x01\x1f\b\f\n\r\t", "é😀\u2028\u2029", "<>&", "bad\xffutf8\xc3"} {
		b := AppendString(nil, s)
		require.True(t, json.Valid(b), "%q", s)
		var back string
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, validUTF8(s), back)
	}
	assert.Equal(t, `"\u0000\u001f\b<"`, string(AppendString(nil, "\x00\x1f\b<")))
}

func TestSplitEventAndPlaceholderNum(t *testing.T) {
	name, args, err := SplitEvent(json.RawMessage(` [ "chat" , 1 ,{"a":[1,2]}, "x,]" ] `))
	require.NoError(t, err)
	assert.Equal(t, "chat", name)
	assert.Equal(t, []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`{"a":[1,2]}`), json.RawMessage(`"x,]"`)}, args)

	name, args, err = SplitEvent(json.RawMessage(`["\u00e9"]`))
	require.NoError(t, err)
	assert.Equal(t, "é", name)
	assert.Empty(t, args)

	for _, bad := range []string{`[]`, `[1]`, `{}`, `[`, ``} {
		_, _, err = SplitEvent(json.RawMessage(bad))
		assert.ErrorIs(t, err, ErrPayload, bad)
	}
	elems, err := SplitArray(json.RawMessage(`[]`))
	require.NoError(t, err)
	assert.Empty(t, elems)

	n, ok := PlaceholderNum(json.RawMessage(ph(3)))
	assert.True(t, ok)
	assert.Equal(t, 3, n)
	for _, notPH := range []string{`{"x":` + ph(0) + `}`, `[` + ph(0) + `]`, `{"_placeholder":true,"num":-1}`, `{"_placeholder":true}`, `{"_PLACEHOLDER":true,"num":0}`, `{`, `7`} {
		_, ok = PlaceholderNum(json.RawMessage(notPH))
		assert.False(t, ok, notPH)
	}
}

func TestErrorsWrap(t *testing.T) {
	_, _, err := DecodeText("9", Options{})
	assert.True(t, errors.Is(err, ErrType) && errors.Is(err, ErrMalformed))
	assert.Equal(t, `sioparser: unknown packet type: "9"`, err.Error())
}
