package eioparser

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A typical Socket.IO v5 event in an Engine.IO message.
var benchMessage = text(Message, `2["chat message",{"user":"alice","text":"héllo wörld 😀","n":42}]`)

// benchPayload is 10 packets as a poll would carry them: messages, a
// binary attachment, a ping.
func benchPayload() []Packet {
	ps := make([]Packet, 0, 10)
	for i := range 8 {
		ps = append(ps, text(Message, `2["chat message",{"user":"alice","text":"héllo","n":`+string(rune('0'+i))+`}]`))
	}
	ps = append(ps, binPacket(Message, make([]byte, 64)...), text(Ping, ""))
	return ps
}

func BenchmarkAppendPacket(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPacket(buf[:0], benchMessage)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodePacket(b *testing.B) {
	wire := AppendPacket(nil, benchMessage)
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodePacket(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPayload(b *testing.B) {
	ps := benchPayload()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendPayload(buf[:0], ps); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodePayload(b *testing.B) {
	body, err := AppendPayload(nil, benchPayload())
	require.NoError(b, err)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodePayload(body, Limits{MaxBytes: 1e6}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPayloadV3(b *testing.B) {
	ps := benchPayload()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPayloadV3(buf[:0], ps)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodePayloadV3(b *testing.B) {
	body := AppendPayloadV3(nil, benchPayload())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodePayloadV3(body, Limits{MaxBytes: 1e6}); err != nil {
			b.Fatal(err)
		}
	}
}

// The hot paths' allocation counts: encoding into a reused buffer
// allocates nothing; decoding text aliases the input; a payload costs one
// slice plus one buffer per base64 packet (raw binary records alias the
// input too).
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	buf := make([]byte, 0, 4096)
	ps := benchPayload()
	wire := AppendPacket(nil, benchMessage)
	body, err := AppendPayload(nil, ps)
	require.NoError(t, err)
	v3body := AppendPayloadV3(nil, ps)
	v3bin := AppendBinaryPayloadV3(nil, ps)
	for name, c := range map[string]struct {
		f    func()
		want float64
	}{
		"AppendPacket":          {func() { buf = AppendPacket(buf[:0], benchMessage) }, 0},
		"AppendFrame":           {func() { buf, _ = AppendFrame(buf[:0], benchMessage) }, 0},
		"AppendPayload":         {func() { buf, _ = AppendPayload(buf[:0], ps) }, 0},
		"AppendPayloadV3":       {func() { buf = AppendPayloadV3(buf[:0], ps) }, 0},
		"DecodePacket":          {func() { _, _ = DecodePacket(wire) }, 0},
		"DecodeFrame":           {func() { _, _ = DecodeFrame(wire, false) }, 0},
		"DecodePayload":         {func() { _, _ = DecodePayload(body, Limits{}) }, 2},
		"DecodePayloadV3":       {func() { _, _ = DecodePayloadV3(v3body, Limits{}) }, 2},
		"AppendBinaryPayloadV3": {func() { buf = AppendBinaryPayloadV3(buf[:0], ps) }, 0},
		"DecodeBinaryPayloadV3": {func() { _, _ = DecodeBinaryPayloadV3(v3bin, Limits{}) }, 1},
	} {
		assert.Equal(t, c.want, testing.AllocsPerRun(100, c.f), name)
	}
}
