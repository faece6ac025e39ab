package packet

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// none is the value of Reason and Advice when the packet has none.
const none = -1

// raw builds an Args slice from JSON texts.
func raw(values ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(values))
	for i, v := range values {
		out[i] = json.RawMessage(v)
	}
	return out
}

// decodeCases are well-formed wire packets, what Decode must make of them,
// and what the encoder writes back: canonical is "" when the wire form is
// already canonical (Encode(Decode(wire)) == wire).
var decodeCases = []struct {
	name      string
	wire      string
	want      Packet
	canonical string
}{
	// 0 disconnect
	{name: "disconnect session", wire: "0::",
		want: Packet{Type: Disconnect, Reason: none, Advice: none}},
	{name: "disconnect namespace", wire: "0::/chat",
		want: Packet{Type: Disconnect, Endpoint: "/chat", Reason: none, Advice: none}},

	// 1 connect
	{name: "connect default", wire: "1::",
		want: Packet{Type: Connect, Reason: none, Advice: none}},
	{name: "connect namespace", wire: "1::/chat",
		want: Packet{Type: Connect, Endpoint: "/chat", Reason: none, Advice: none}},
	{name: "connect with query", wire: "1::/chat:?token=x",
		want: Packet{Type: Connect, Endpoint: "/chat", Data: "token=x", Reason: none, Advice: none}},
	{name: "connect query with colon and ampersand", wire: "1::/chat:?token=a:b&x=1",
		want: Packet{Type: Connect, Endpoint: "/chat", Data: "token=a:b&x=1", Reason: none, Advice: none}},
	{name: "connect query without '?' is normalized", wire: "1::/chat:token=x",
		want:      Packet{Type: Connect, Endpoint: "/chat", Data: "token=x", Reason: none, Advice: none},
		canonical: "1::/chat:?token=x"},
	{name: "connect lone '?'", wire: "1::/chat:?",
		want:      Packet{Type: Connect, Endpoint: "/chat", Reason: none, Advice: none},
		canonical: "1::/chat"},

	// 2 heartbeat
	{name: "heartbeat", wire: "2::",
		want: Packet{Type: Heartbeat, Reason: none, Advice: none}},
	{name: "heartbeat data is ignored", wire: "2:::junk",
		want:      Packet{Type: Heartbeat, Reason: none, Advice: none},
		canonical: "2::"},

	// 3 message
	{name: "message", wire: "3:::hello",
		want: Packet{Type: Message, Data: "hello", Reason: none, Advice: none}},
	{name: "message with colons in data", wire: "3:::a:b::c:",
		want: Packet{Type: Message, Data: "a:b::c:", Reason: none, Advice: none}},
	{name: "message with id", wire: "3:1::hi",
		want: Packet{Type: Message, ID: 1, HasID: true, Data: "hi", Reason: none, Advice: none}},
	{name: "message with id+ and endpoint", wire: "3:12+:/chat:x:y",
		want: Packet{Type: Message, ID: 12, HasID: true, AckData: true, Endpoint: "/chat", Data: "x:y", Reason: none, Advice: none}},
	{name: "message empty data", wire: "3::",
		want: Packet{Type: Message, Reason: none, Advice: none}},
	{name: "message empty data with separator", wire: "3:::",
		want:      Packet{Type: Message, Reason: none, Advice: none},
		canonical: "3::"},
	{name: "message unicode", wire: "3:::é😀\ufffd",
		want: Packet{Type: Message, Data: "é😀\ufffd", Reason: none, Advice: none}},

	// 4 json
	{name: "json object", wire: `4:::{"a":[1,2],"b":"c:d"}`,
		want: Packet{Type: JSON, Data: `{"a":[1,2],"b":"c:d"}`, Reason: none, Advice: none}},
	{name: "json string with id and endpoint", wire: `4:2+:/chat:"x"`,
		want: Packet{Type: JSON, ID: 2, HasID: true, AckData: true, Endpoint: "/chat", Data: `"x"`, Reason: none, Advice: none}},
	{name: "json null", wire: `4:::null`,
		want: Packet{Type: JSON, Data: `null`, Reason: none, Advice: none}},

	// 5 event
	{name: "event without args", wire: `5:::{"name":"ping"}`,
		want: Packet{Type: Event, Name: "ping", Reason: none, Advice: none}},
	{name: "event with args", wire: `5:::{"name":"chat","args":["hi",{"n":1},[true,null]]}`,
		want: Packet{Type: Event, Name: "chat", Args: raw(`"hi"`, `{"n":1}`, `[true,null]`), Reason: none, Advice: none}},
	{name: "event with id", wire: `5:1::{"name":"a","args":[1]}`,
		want: Packet{Type: Event, ID: 1, HasID: true, Name: "a", Args: raw(`1`), Reason: none, Advice: none}},
	{name: "event with id+ and endpoint", wire: `5:7+:/chat:{"name":"a:b","args":["c:d"]}`,
		want: Packet{Type: Event, ID: 7, HasID: true, AckData: true, Endpoint: "/chat", Name: "a:b", Args: raw(`"c:d"`), Reason: none, Advice: none}},
	{name: "event with empty args array omits args", wire: `5:::{"name":"ping","args":[]}`,
		want:      Packet{Type: Event, Name: "ping", Args: raw(), Reason: none, Advice: none},
		canonical: `5:::{"name":"ping"}`},
	{name: "event args null", wire: `5:::{"name":"ping","args":null}`,
		want:      Packet{Type: Event, Name: "ping", Reason: none, Advice: none},
		canonical: `5:::{"name":"ping"}`},
	{name: "event args order and unknown keys", wire: `5:::{"args":[1],"x":2,"name":"n"}`,
		want:      Packet{Type: Event, Name: "n", Args: raw(`1`), Reason: none, Advice: none},
		canonical: `5:::{"name":"n","args":[1]}`},
	{name: "event empty name", wire: `5:::{"name":""}`,
		want: Packet{Type: Event, Name: "", Reason: none, Advice: none}},
	{name: "event escaped name", wire: `5:::{"name":"a\"b\u00e9"}`,
		want:      Packet{Type: Event, Name: `a"bé`, Reason: none, Advice: none},
		canonical: `5:::{"name":"a\"bé"}`},

	// 6 ack
	{name: "ack without args", wire: "6:::1",
		want: Packet{Type: Ack, AckID: 1, Reason: none, Advice: none}},
	{name: "ack with args", wire: `6:::1+["a"]`,
		want: Packet{Type: Ack, AckID: 1, Args: raw(`"a"`), Reason: none, Advice: none}},
	{name: "ack args with plus and colon", wire: `6::/chat:12+["a+b:c",2]`,
		want: Packet{Type: Ack, Endpoint: "/chat", AckID: 12, Args: raw(`"a+b:c"`, `2`), Reason: none, Advice: none}},
	{name: "ack empty args on endpoint", wire: "6::/chat:4+[]",
		want:      Packet{Type: Ack, Endpoint: "/chat", AckID: 4, Args: raw(), Reason: none, Advice: none},
		canonical: "6::/chat:4"},
	{name: "ack largest id", wire: "6:::9007199254740991",
		want: Packet{Type: Ack, AckID: MaxID, Reason: none, Advice: none}},

	// 7 error
	{name: "error not handshaken reconnect", wire: "7:::1+0",
		want: Packet{Type: Error, Reason: ReasonNotHandshaken, Advice: AdviceReconnect}},
	{name: "error unauthorized on namespace", wire: "7::/private:2",
		want: Packet{Type: Error, Endpoint: "/private", Reason: ReasonUnauthorized, Advice: none}},
	{name: "error transport not supported", wire: "7:::0",
		want: Packet{Type: Error, Reason: ReasonTransportNotSupported, Advice: none}},
	{name: "error advice only", wire: "7:::+0",
		want: Packet{Type: Error, Reason: none, Advice: AdviceReconnect}},
	{name: "error empty data", wire: "7:::",
		want:      Packet{Type: Error, Reason: none, Advice: none},
		canonical: "7::"},
	{name: "error no data", wire: "7::",
		want: Packet{Type: Error, Reason: none, Advice: none}},

	// 8 noop
	{name: "noop", wire: "8::",
		want: Packet{Type: Noop, Reason: none, Advice: none}},
	{name: "noop with endpoint", wire: "8::/chat",
		want: Packet{Type: Noop, Endpoint: "/chat", Reason: none, Advice: none}},

	// ids
	{name: "largest id", wire: `5:9007199254740991+::{"name":"a"}`,
		want: Packet{Type: Event, ID: MaxID, HasID: true, AckData: true, Name: "a", Reason: none, Advice: none}},
	{name: "id zero", wire: "3:0::x",
		want: Packet{Type: Message, HasID: true, Data: "x", Reason: none, Advice: none}},
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.wire)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeThenEncode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.wire)
			require.NoError(t, err)
			want := tc.canonical
			if want == "" {
				want = tc.wire
			}
			assert.Equal(t, want, Encode(&p))
		})
	}
}

// encodeCases are packets and their exact wire form. Every packet here is
// well formed and in the form Decode produces, so Decode(wire) == packet.
var encodeCases = []struct {
	name string
	p    Packet
	wire string
}{
	{"disconnect", Packet{Type: Disconnect, Reason: none, Advice: none}, "0::"},
	{"disconnect namespace", Packet{Type: Disconnect, Endpoint: "/chat", Reason: none, Advice: none}, "0::/chat"},
	{"connect", Packet{Type: Connect, Reason: none, Advice: none}, "1::"},
	{"connect namespace query", Packet{Type: Connect, Endpoint: "/chat", Data: "token=x", Reason: none, Advice: none}, "1::/chat:?token=x"},
	{"heartbeat", Packet{Type: Heartbeat, Reason: none, Advice: none}, "2::"},
	{"message", Packet{Type: Message, Data: "a:b:c", Reason: none, Advice: none}, "3:::a:b:c"},
	{"message empty", Packet{Type: Message, Endpoint: "/chat", Reason: none, Advice: none}, "3::/chat"},
	{"message id", Packet{Type: Message, ID: 5, HasID: true, Data: "x", Reason: none, Advice: none}, "3:5::x"},
	{"message id+", Packet{Type: Message, ID: 5, HasID: true, AckData: true, Endpoint: "/chat", Data: "x", Reason: none, Advice: none}, "3:5+:/chat:x"},
	// Message text is not JSON: it is sent as is.
	{"message keeps raw separators", Packet{Type: Message, Data: "a\u2028b", Reason: none, Advice: none}, "3:::a\u2028b"},
	{"json", Packet{Type: JSON, Data: `{"a":1}`, Reason: none, Advice: none}, `4:::{"a":1}`},
	{"json endpoint", Packet{Type: JSON, Endpoint: "/chat", Data: `[1,"x"]`, Reason: none, Advice: none}, `4::/chat:[1,"x"]`},
	{"event no args", Packet{Type: Event, Name: "ping", Reason: none, Advice: none}, `5:::{"name":"ping"}`},
	{"event args", Packet{Type: Event, Name: "chat", Args: raw(`"hi"`, `{"n":1}`), Reason: none, Advice: none}, `5:::{"name":"chat","args":["hi",{"n":1}]}`},
	{"event id+ endpoint", Packet{Type: Event, ID: 3, HasID: true, AckData: true, Endpoint: "/chat", Name: "a", Args: raw(`1`), Reason: none, Advice: none}, `5:3+:/chat:{"name":"a","args":[1]}`},
	{"event id", Packet{Type: Event, ID: 3, HasID: true, Name: "a", Reason: none, Advice: none}, `5:3::{"name":"a"}`},
	{"ack", Packet{Type: Ack, AckID: 1, Reason: none, Advice: none}, "6:::1"},
	{"ack args", Packet{Type: Ack, AckID: 1, Args: raw(`"a"`), Reason: none, Advice: none}, `6:::1+["a"]`},
	{"ack endpoint args", Packet{Type: Ack, Endpoint: "/chat", AckID: 4, Args: raw(`1`, `null`), Reason: none, Advice: none}, `6::/chat:4+[1,null]`},
	{"error reason advice", Packet{Type: Error, Reason: ReasonNotHandshaken, Advice: AdviceReconnect}, "7:::1+0"},
	{"error reason", Packet{Type: Error, Endpoint: "/private", Reason: ReasonUnauthorized, Advice: none}, "7::/private:2"},
	{"error empty", Packet{Type: Error, Reason: none, Advice: none}, "7::"},
	{"error advice only", Packet{Type: Error, Reason: none, Advice: AdviceReconnect}, "7:::+0"},
	{"noop", Packet{Type: Noop, Reason: none, Advice: none}, "8::"},

	// U+2028 / U+2029 in JSON are always escaped; everything else passes.
	{"event args separators escaped",
		Packet{Type: Event, Name: "a", Args: raw("\"x\u2028y\u2029z\""), Reason: none, Advice: none},
		`5:::{"name":"a","args":["x\u2028y\u2029z"]}`},
	{"ack args separators escaped",
		Packet{Type: Ack, AckID: 9, Args: raw("\"\u2028\"", "{\"k\u2029\":\"\u2028\u2028\"}"), Reason: none, Advice: none},
		`6:::9+["\u2028",{"k\u2029":"\u2028\u2028"}]`},
	{"json separators escaped",
		Packet{Type: JSON, Data: "{\"a\":\"\u2029\",\"b\":[\"\u2028\"]}", Reason: none, Advice: none},
		`4:::{"a":"\u2029","b":["\u2028"]}`},
	{"astral and near-miss characters pass through",
		Packet{Type: Event, Name: "😀", Args: raw(`"😀…†‧\u2028"`), Reason: none, Advice: none},
		`5:::{"name":"😀","args":["😀…†‧\u2028"]}`},
	{"json astral passes through",
		Packet{Type: JSON, Data: `"😀é"`, Reason: none, Advice: none},
		`4:::"😀é"`},
}

func TestEncode(t *testing.T) {
	for _, tc := range encodeCases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			assert.Equal(t, tc.wire, Encode(&p))
			assert.Equal(t, "prefix|"+tc.wire, string(AppendPacket([]byte("prefix|"), &p)))
			assert.Equal(t, tc.p, p, "encoding must not modify the packet")
		})
	}
}

// TestRoundTrip: Decode(Encode(p)) == p for well-formed packets that are
// already in decoded form.
func TestRoundTrip(t *testing.T) {
	for _, tc := range encodeCases {
		if strings.Contains(tc.name, "escaped") {
			continue // raw separators come back as escapes; see TestSeparatorEscapesRoundTrip
		}
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(Encode(&tc.p))
			require.NoError(t, err)
			assert.Equal(t, tc.p, got)
		})
	}
	for _, tc := range decodeCases {
		t.Run("decoded/"+tc.name, func(t *testing.T) {
			p, err := Decode(tc.wire)
			require.NoError(t, err)
			if len(p.Args) == 0 {
				p.Args = nil // an empty list is sent as no list at all
			}
			got, err := Decode(Encode(&p))
			require.NoError(t, err)
			assert.Equal(t, p, got)
		})
	}
}

// The event name is produced by the encoder (not passed through), and it
// escapes the separators too.
func TestEncodeEventNameEscapes(t *testing.T) {
	p := Packet{Type: Event, Name: "a\u2028b\u2029c\"d", Reason: none, Advice: none}
	wire := Encode(&p)
	assert.Equal(t, `5:::{"name":"a\u2028b\u2029c\"d"}`, wire)
	assert.NotContains(t, wire, "\u2028")
	assert.NotContains(t, wire, "\u2029")
	got, err := Decode(wire)
	require.NoError(t, err)
	assert.Equal(t, p, got)
}

func TestSeparatorEscapesRoundTrip(t *testing.T) {
	// A raw separator decoded from the wire comes back escaped, which is
	// the same JSON value.
	p, err := Decode("5:::{\"name\":\"n\u2028\",\"args\":[\"a\u2028\",\"b\u2029\"]}")
	require.NoError(t, err)
	assert.Equal(t, "n\u2028", p.Name)
	assert.Equal(t, raw("\"a\u2028\"", "\"b\u2029\""), p.Args)
	wire := Encode(&p)
	assert.Equal(t, `5:::{"name":"n\u2028","args":["a\u2028","b\u2029"]}`, wire)
	again, err := Decode(wire)
	require.NoError(t, err)
	assert.Equal(t, "n\u2028", again.Name)
	for i := range p.Args {
		var a, b string
		require.NoError(t, json.Unmarshal(p.Args[i], &a))
		require.NoError(t, json.Unmarshal(again.Args[i], &b))
		assert.Equal(t, a, b)
	}
}

func TestEncodeEmptyArgsOmitted(t *testing.T) {
	for _, args := range [][]json.RawMessage{nil, {}} {
		ev := Packet{Type: Event, Name: "x", Args: args}
		assert.Equal(t, `5:::{"name":"x"}`, Encode(&ev))
		ack := Packet{Type: Ack, AckID: 4, Endpoint: "/chat", Args: args}
		assert.Equal(t, "6::/chat:4", Encode(&ack))
	}
}

func TestEncodeEmptyArgIsNull(t *testing.T) {
	p := Packet{Type: Event, Name: "x", Args: []json.RawMessage{nil, json.RawMessage(`1`)}}
	assert.Equal(t, `5:::{"name":"x","args":[null,1]}`, Encode(&p))
}

func TestAppendPacketReusesBuffer(t *testing.T) {
	p := Packet{Type: Event, Name: "chat", Args: raw(`"hello"`, `42`)}
	buf := make([]byte, 0, 128)
	buf = AppendPacket(buf[:0], &p)
	first := string(buf)
	buf = AppendPacket(buf[:0], &p)
	assert.Equal(t, first, string(buf))
	assert.Equal(t, 128, cap(buf), "no reallocation for a buffer that is big enough")
}

// JSON keys are case sensitive: the reference reads packet.name and
// packet.args exactly (JSON.parse(...).name), so {"NAME":"a"} is an event
// without a name and {"name":"a","Name":"b"} is named "a".
func TestDecodeEventKeysAreCaseSensitive(t *testing.T) {
	_, err := Decode(`5:::{"NAME":"a"}`)
	assert.ErrorIs(t, err, ErrMalformed, `{"NAME":"a"} has no "name" key`)

	p, err := Decode(`5:::{"name":"a","Name":"b","ARGS":[1]}`)
	if assert.NoError(t, err) {
		assert.Equal(t, "a", p.Name)
		assert.Empty(t, p.Args)
	}

	p, err = Decode(`5:::{"name":"a","NAME":null}`)
	if assert.NoError(t, err) {
		assert.Equal(t, "a", p.Name)
	}
}

var malformed = []string{
	"",
	":",
	"::",
	":::",
	"1",
	"1:",
	"x::",
	"9::",
	"10::",
	"256::",
	"-1::",
	"+1::",
	" 1::",
	"é::",
	"\ufffd::",
	"5::",
	"5:::",
	"5:::not json",
	`5:::{"args":[]}`,
	`5:::{"name":null}`,
	`5:::{"name":1}`,
	`5:::null`,
	`5:::[]`,
	`5:::{"name":"a","args":{}}`,
	`5:::{"name":"a","args":"x"}`,
	`5:::{"name":"a"}x`,
	`5:::{"name":"a"`,
	"6:::",
	"6:::abc",
	"6:::1a",
	"6:::-1",
	"6:::+[1]",
	"6:::1+",
	"6:::1+{",
	`6:::1+{"a":1}`,
	`6:::1+"x"`,
	"6:::1+[1]]",
	"6:::9007199254740992",
	"6:::99999999999999999999999",
	"1:99999999999999999999999::",
	"1:18446744073709551616::",
	`5:9007199254740992::{"name":"a"}`,
	"4::",
	"4:::",
	"4:::{",
	`4:::{"a":1}}`,
	"4:::'x'",
	"3:1a::x",
	"3:a::x",
	"3:a+::x",
	"3:+::x",
	"3:1++::x",
	"3:-1::x",
	"3: 1::x",
	"3:0x1::x",
	"7:::x",
	"7:::1+y",
	"7:::1+",
	"7:::-1",
	"7:::1+-1",
	"7:::1+0+0",
	"7:::99999999999999999999",
}

func TestDecodeMalformed(t *testing.T) {
	for _, s := range malformed {
		t.Run(s, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = Decode(s) })
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.False(t, errors.Is(err, ErrPayload))
		})
	}
}

func TestDecodeMalformedErrorClipsInput(t *testing.T) {
	long := strings.Repeat("7", 1000)
	_, err := Decode("3:" + long + "x::")
	require.ErrorIs(t, err, ErrMalformed)
	assert.Less(t, len(err.Error()), 200, "untrusted input must be clipped in error messages")
}

func TestTypeString(t *testing.T) {
	names := []string{"disconnect", "connect", "heartbeat", "message", "json", "event", "ack", "error", "noop"}
	for i, n := range names {
		assert.Equal(t, n, Type(i).String())
	}
	assert.Equal(t, "type(9)", Type(9).String())
	assert.Equal(t, "type(255)", Type(255).String())
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "<script>&</script>", "\n\r\t\x00\x1f\x7f", "é😀\u2028\u2029", "bad\xffutf8\xc3", "\u2027\u202a"} {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(AppendString(nil, s)), "%q", s)
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\u2028<b>\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Skip()
		}
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, encoding/json says %s", s, got, want)
		}
	})
}
