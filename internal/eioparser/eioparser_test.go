package eioparser

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func text(t Type, data string) Packet {
	if data == "" {
		return Packet{Type: t}
	}
	return Packet{Type: t, Data: []byte(data)}
}

func binPacket(t Type, data ...byte) Packet {
	if len(data) == 0 {
		data = nil
	}
	return Packet{Type: t, Data: data, Binary: true}
}

func TestTypeString(t *testing.T) {
	names := []string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}
	for i, n := range names {
		assert.Equal(t, n, Type(i).String())
		assert.True(t, Type(i).Valid())
	}
	assert.Equal(t, "type(7)", Type(7).String())
	assert.False(t, Type(7).Valid())
	assert.Equal(t, `message"hi"`, text(Message, "hi").String())
	assert.Equal(t, "message<binary 2 bytes>", binPacket(Message, 1, 2).String())
	assert.Equal(t, "noop", text(Noop, "").String())
}

// The examples of the Engine.IO v4 specification (engine.io-protocol
// README, "Packet encoding" and "Handshake"), plus every type.
var v4Packets = []struct {
	wire string
	p    Packet
}{
	{"4hello", text(Message, "hello")},
	{"2probe", text(Ping, "probe")},
	{"3probe", text(Pong, "probe")},
	{"2", text(Ping, "")},
	{"3", text(Pong, "")},
	{"5", text(Upgrade, "")},
	{"6", text(Noop, "")},
	{"1", text(Close, "")},
	{`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`,
		text(Open, `{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)},
	{"4", text(Message, "")},
	{"4€ 😀 \u2028", text(Message, "€ 😀 \u2028")},
	{"44", text(Message, "4")},
	{"4b", text(Message, "b")},
	{"bAQIDBA==", binPacket(Message, 1, 2, 3, 4)},
	{"b", binPacket(Message)},
	{"bAA==", binPacket(Message, 0)},
}

func TestPacketV4(t *testing.T) {
	for _, c := range v4Packets {
		p, err := DecodePacket([]byte(c.wire))
		require.NoError(t, err, c.wire)
		assert.Equal(t, c.p, p, c.wire)
		assert.Equal(t, c.wire, string(AppendPacket(nil, c.p)), c.wire)
		assert.Equal(t, "x"+c.wire, string(AppendPacket([]byte("x"), c.p)), "appends")
	}
}

func TestDecodePacketErrors(t *testing.T) {
	for _, c := range []struct {
		wire string
		want error
	}{
		{"", ErrEmpty},
		{"7", ErrUnknownType},
		{"9hello", ErrUnknownType},
		{"x", ErrUnknownType},
		{"B", ErrUnknownType},
		{"\x1e", ErrUnknownType},
		{"bA", ErrBase64},
		{"bAQID!", ErrBase64},
		{"bAQIDBA", ErrBase64}, // unpadded
		{"bAR==", ErrBase64},   // non-zero padding bits (strict)
		{"bAQ\nID", ErrBase64}, // line break
		{"b_-8=", ErrBase64},   // URL alphabet
		{"bAQIDBA==x", ErrBase64},
	} {
		_, err := DecodePacket([]byte(c.wire))
		require.ErrorIs(t, err, c.want, "%q", c.wire)
		require.ErrorIs(t, err, ErrMalformed, "%q", c.wire)
		assert.NotErrorIs(t, err, ErrTooLarge)
	}
	_, err := DecodePacket([]byte("z"))
	assert.EqualError(t, err, `eioparser: malformed input: unknown packet type 'z'`)
}

func TestDecodeAliasesInput(t *testing.T) {
	in := []byte("4hello")
	p, err := DecodePacket(in)
	require.NoError(t, err)
	in[1] = 'j'
	assert.Equal(t, "jello", string(p.Data), "text data aliases the input")
}

func TestFrameV4(t *testing.T) {
	f, bin := AppendFrame(nil, text(Message, "hello"))
	assert.False(t, bin)
	assert.Equal(t, "4hello", string(f))
	f, bin = AppendFrame([]byte{9}, binPacket(Message, 1, 2, 3))
	assert.True(t, bin)
	assert.Equal(t, []byte{9, 1, 2, 3}, f, "binary frames are the raw data")

	p, err := DecodeFrame([]byte{1, 2, 3}, true)
	require.NoError(t, err)
	assert.Equal(t, binPacket(Message, 1, 2, 3), p)
	p, err = DecodeFrame([]byte("4hello"), true)
	require.NoError(t, err)
	assert.Equal(t, Packet{Type: Message, Data: []byte("4hello"), Binary: true}, p, "no type byte in v4 binary frames")
	p, err = DecodeFrame(nil, true)
	require.NoError(t, err)
	assert.Equal(t, binPacket(Message), p)
	p, err = DecodeFrame([]byte("2probe"), false)
	require.NoError(t, err)
	assert.Equal(t, text(Ping, "probe"), p)
	p, err = DecodeFrame([]byte("bAQI="), false)
	require.NoError(t, err)
	assert.Equal(t, binPacket(Message, 1, 2), p)
	_, err = DecodeFrame(nil, false)
	assert.ErrorIs(t, err, ErrEmpty)
}

func TestPayloadV4(t *testing.T) {
	for _, c := range []struct {
		wire    string
		packets []Packet
	}{
		// The specification's examples.
		{"4hello\x1e2\x1e4world", []Packet{text(Message, "hello"), text(Ping, ""), text(Message, "world")}},
		{"4hello\x1ebAQIDBA==", []Packet{text(Message, "hello"), binPacket(Message, 1, 2, 3, 4)}},
		{"4€", []Packet{text(Message, "€")}},
		{"6", []Packet{text(Noop, "")}},
		{"4\x1e4", []Packet{text(Message, ""), text(Message, "")}},
		{"b\x1eb", []Packet{binPacket(Message), binPacket(Message)}},
	} {
		ps, err := DecodePayload([]byte(c.wire), Limits{})
		require.NoError(t, err, "%q", c.wire)
		assert.Equal(t, c.packets, ps, "%q", c.wire)
		assert.Equal(t, cap(ps), len(ps), "one exact allocation")
		b, err := AppendPayload([]byte("x"), c.packets)
		require.NoError(t, err)
		assert.Equal(t, "x"+c.wire, string(b), "%q", c.wire)
	}
}

func TestDecodePayloadErrors(t *testing.T) {
	for _, c := range []struct {
		wire string
		want error
	}{
		{"", ErrEmpty},
		{"\x1e", ErrEmpty},
		{"4a\x1e", ErrEmpty},
		{"\x1e4a", ErrEmpty},
		{"4a\x1e\x1e4b", ErrEmpty},
		{"4a\x1e9", ErrUnknownType},
		{"4a\x1eb!!", ErrBase64},
	} {
		ps, err := DecodePayload([]byte(c.wire), Limits{})
		require.ErrorIs(t, err, c.want, "%q", c.wire)
		require.ErrorIs(t, err, ErrMalformed)
		assert.Nil(t, ps)
	}
	_, err := DecodePayload([]byte("4a\x1e9"), Limits{})
	assert.EqualError(t, err, `packet 1 of the payload: eioparser: malformed input: unknown packet type '9'`)
}

func TestPayloadLimits(t *testing.T) {
	body := []byte("4hello\x1e4world\x1e2") // 15 bytes, 3 packets
	for _, c := range []struct {
		lim Limits
		ok  bool
	}{
		{Limits{}, true},
		{Limits{MaxBytes: 15}, true},
		{Limits{MaxBytes: 14}, false},
		{Limits{MaxPackets: 3}, true},
		{Limits{MaxPackets: 2}, false},
		{Limits{MaxBytes: 15, MaxPackets: 3}, true},
	} {
		ps, err := DecodePayload(body, c.lim)
		if c.ok {
			require.NoError(t, err, "%+v", c.lim)
			assert.Len(t, ps, 3)
		} else {
			require.ErrorIs(t, err, ErrTooLarge, "%+v", c.lim)
			assert.NotErrorIs(t, err, ErrMalformed)
			assert.Nil(t, ps)
		}
	}
	// Bounds come first: a huge malformed body is refused as too large
	// without being scanned.
	_, err := DecodePayload([]byte(strings.Repeat("\x1e", 100)), Limits{MaxBytes: 10})
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = DecodePayload([]byte(strings.Repeat("\x1e", 100)), Limits{MaxPackets: 10})
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = DecodePayload(body, Limits{MaxBytes: 14})
	assert.EqualError(t, err, "eioparser: payload too large: 15 bytes, more than 14")

	// The same bounds hold for v3 payloads.
	v3body := []byte("6:4hello6:4world1:2")
	_, err = DecodePayloadV3(v3body, Limits{MaxBytes: len(v3body) - 1})
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = DecodePayloadV3(v3body, Limits{MaxPackets: 2})
	assert.ErrorIs(t, err, ErrTooLarge)
	ps, err := DecodePayloadV3(v3body, Limits{MaxPackets: 3, MaxBytes: len(v3body)})
	require.NoError(t, err)
	assert.Len(t, ps, 3)
}

func TestAppendPayloadRefuses(t *testing.T) {
	for _, ps := range [][]Packet{
		nil,
		{text(Message, "a\x1eb")},
		{text(Message, "ok"), text(Message, "\x1e")},
		{text(7, "")},
	} {
		b, err := AppendPayload([]byte("keep"), ps)
		require.ErrorIs(t, err, ErrUnencodable, "%v", ps)
		assert.Equal(t, "keep", string(b), "dst unchanged")
	}
	// Binary data may hold 0x1E: it is base64-encoded.
	b, err := AppendPayload(nil, []Packet{binPacket(Message, 0x1e)})
	require.NoError(t, err)
	assert.Equal(t, "bHg==", string(b))
}

// The examples of the Engine.IO v3 specification (engine.io-protocol, v3
// branch: "Packet" and "Payload").
func TestPacketV3(t *testing.T) {
	for _, c := range []struct {
		wire string
		p    Packet
	}{
		{"2probe", text(Ping, "probe")},
		{"4HelloWorld", text(Message, "HelloWorld")},
		{"5", text(Upgrade, "")},
		{"b4AQIDBA==", binPacket(Message, 1, 2, 3, 4)},
		{"b4", binPacket(Message)},
		{"b0AA==", binPacket(Open, 0)},
	} {
		p, err := DecodePacketV3([]byte(c.wire))
		require.NoError(t, err, c.wire)
		assert.Equal(t, c.p, p, c.wire)
		assert.Equal(t, c.wire, string(AppendPacketV3(nil, c.p)))
	}
	for _, c := range []struct {
		wire string
		want error
	}{
		{"", ErrEmpty}, {"b", ErrUnknownType}, {"b7AA==", ErrUnknownType}, {"bAQID", ErrUnknownType},
		{"b4AQ", ErrBase64}, {"8", ErrUnknownType},
	} {
		_, err := DecodePacketV3([]byte(c.wire))
		require.ErrorIs(t, err, c.want, "%q", c.wire)
		require.ErrorIs(t, err, ErrMalformed)
	}
}

func TestFrameV3(t *testing.T) {
	// The spec's binary example: 4|0|1|2|3|4|5, a message with 0..5.
	wire := []byte{4, 0, 1, 2, 3, 4, 5}
	p, err := DecodeFrameV3(wire, true)
	require.NoError(t, err)
	assert.Equal(t, binPacket(Message, 0, 1, 2, 3, 4, 5), p)
	f, bin := AppendFrameV3(nil, p)
	assert.True(t, bin)
	assert.Equal(t, wire, f)

	p, err = DecodeFrameV3([]byte{2}, true)
	require.NoError(t, err)
	assert.Equal(t, binPacket(Ping), p)
	_, err = DecodeFrameV3(nil, true)
	assert.ErrorIs(t, err, ErrEmpty)
	_, err = DecodeFrameV3([]byte{7, 1}, true)
	assert.ErrorIs(t, err, ErrUnknownType)
	_, err = DecodeFrameV3([]byte{'4', 1}, true)
	assert.ErrorIs(t, err, ErrUnknownType, "the type is a byte, not a digit")

	f, bin = AppendFrameV3(nil, text(Message, "hi"))
	assert.False(t, bin)
	assert.Equal(t, "4hi", string(f))
	p, err = DecodeFrameV3([]byte("4hi"), false)
	require.NoError(t, err)
	assert.Equal(t, text(Message, "hi"), p)
}

func TestPayloadV3(t *testing.T) {
	for _, c := range []struct {
		wire    string
		packets []Packet
	}{
		// The specification's examples.
		{"6:4hello2:4€", []Packet{text(Message, "hello"), text(Message, "€")}},
		{"2:4€10:b4AQIDBA==", []Packet{text(Message, "€"), binPacket(Message, 1, 2, 3, 4)}},
		// UTF-16 units: an astral character counts 2.
		{"3:4😀", []Packet{text(Message, "😀")}},
		{"1:21:3", []Packet{text(Ping, ""), text(Pong, "")}},
		{"5:41:2:", []Packet{text(Message, "1:2:")}},
		{"2:b4", []Packet{binPacket(Message)}},
		{"2:4\x1e", []Packet{text(Message, "\x1e")}}, // no separator in v3
	} {
		ps, err := DecodePayloadV3([]byte(c.wire), Limits{})
		require.NoError(t, err, "%q", c.wire)
		assert.Equal(t, c.packets, ps, "%q", c.wire)
		assert.Equal(t, "x"+c.wire, string(AppendPayloadV3([]byte("x"), c.packets)), "%q", c.wire)
	}
	// "0:" is the empty payload: no packets, as the reference encodes and
	// decodes it; empty records are skipped.
	assert.Equal(t, "0:", string(AppendPayloadV3(nil, nil)))
	for wire, n := range map[string]int{"0:": 0, "0:0:": 0, "0:1:6": 1, "1:60:1:6": 2} {
		ps, err := DecodePayloadV3([]byte(wire), Limits{})
		require.NoError(t, err, wire)
		assert.Len(t, ps, n, wire)
	}
	ps, err := DecodePayloadV3([]byte("00001:6"), Limits{})
	require.NoError(t, err, "leading zeros")
	assert.Equal(t, []Packet{text(Noop, "")}, ps)

	for _, c := range []struct {
		wire string
		want error
	}{
		{"", ErrEmpty},
		{":", ErrFraming},
		{"4", ErrFraming},
		{"6:4hello2", ErrFraming},
		{"7:4hello", ErrFraming},
		{"2:4😀", ErrFraming},          // splits a surrogate pair
		{"12345678901:4", ErrFraming}, // 11 digits
		{" 1:4", ErrFraming},
		{"-1:4", ErrFraming},
		{"1:x", ErrUnknownType},
		{"3:b4!", ErrBase64},
		{"6:4hello1:", ErrFraming},
	} {
		ps, err := DecodePayloadV3([]byte(c.wire), Limits{})
		require.ErrorIs(t, err, c.want, "%q", c.wire)
		require.ErrorIs(t, err, ErrMalformed)
		assert.Nil(t, ps)
	}
}

func TestBinaryPayloadV3(t *testing.T) {
	// The specification's example.
	wire := []byte{0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x05, 0xff, 0x04, 0x01, 0x02, 0x03, 0x04}
	packets := []Packet{text(Message, "€"), binPacket(Message, 1, 2, 3, 4)}
	ps, err := DecodeBinaryPayloadV3(wire, Limits{})
	require.NoError(t, err)
	assert.Equal(t, packets, ps)
	assert.Equal(t, wire, AppendBinaryPayloadV3(nil, packets))

	long := text(Message, strings.Repeat("x", 1233)) // length 1234: digits 1 2 3 4
	b := AppendBinaryPayloadV3(nil, []Packet{long, binPacket(Ping), text(Noop, "")})
	assert.Equal(t, []byte{0, 1, 2, 3, 4, 0xff, '4'}, b[:7])
	ps, err = DecodeBinaryPayloadV3(b, Limits{})
	require.NoError(t, err)
	assert.Equal(t, []Packet{long, binPacket(Ping), text(Noop, "")}, ps)
	_, err = DecodeBinaryPayloadV3([]byte{0, 9, 0xff, 'b', '4', 'A', 'Q', 'I', 'D', 'B', 'A', '='}, Limits{})
	require.Error(t, err, "length 9 runs past the end")
	ps, err = DecodeBinaryPayloadV3([]byte{0, 6, 0xff, 'b', '4', 'A', 'Q', 'I', 'D'}, Limits{})
	require.NoError(t, err)
	assert.Equal(t, []Packet{binPacket(Message, 1, 2, 3)}, ps, "a base64 packet in a text record")

	_, err = DecodeBinaryPayloadV3(b, Limits{MaxPackets: 2})
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = DecodeBinaryPayloadV3(b, Limits{MaxBytes: len(b) - 1})
	assert.ErrorIs(t, err, ErrTooLarge)

	for _, c := range []struct {
		wire []byte
		want error
	}{
		{nil, ErrEmpty},
		{[]byte{2, 1, 0xff, '4'}, ErrFraming},                          // kind
		{[]byte{0, 0xff, '4'}, ErrFraming},                             // no digits
		{[]byte{0, 1, '4'}, ErrFraming},                                // no 0xFF
		{[]byte{0, 12, 0xff, '4'}, ErrFraming},                         // a digit byte > 9
		{[]byte{0, 2, 0xff, '4'}, ErrFraming},                          // past the end
		{[]byte{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0xff}, ErrFraming}, // 11 digits
		{[]byte{0, 1, 0xff, '9'}, ErrUnknownType},
		{[]byte{1, 1, 0xff, 9}, ErrUnknownType},
		{[]byte{0, 0, 0xff}, ErrEmpty},
		{[]byte{1, 0, 0xff}, ErrEmpty},
		{[]byte{0, 2, 0xff, '4', 0xff}, ErrMalformed}, // not UTF-8
	} {
		ps, err := DecodeBinaryPayloadV3(c.wire, Limits{})
		require.ErrorIs(t, err, c.want, "% x", c.wire)
		require.ErrorIs(t, err, ErrMalformed)
		assert.Nil(t, ps)
	}
	assert.Empty(t, AppendBinaryPayloadV3(nil, nil))
}
