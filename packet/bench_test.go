package packet

import (
	"strings"
	"testing"
)

func BenchmarkEncodeEvent(b *testing.B) {
	p := Packet{Type: Event, ID: 12, HasID: true, AckData: true, Endpoint: "/chat",
		Name: "message", Args: raw(`"hello"`, `{"n":1}`)}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPacket(buf[:0], &p)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeEvent(b *testing.B) {
	const wire = `5:12+:/chat:{"name":"message","args":["hello",{"n":1}]}`
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitPayload(b *testing.B) {
	packets := []string{"2::", `5:3+:/chat:{"name":"message","args":["héllo 😀",{"n":1}]}`, `6:::3+["ok"]`,
		"3:::" + strings.Repeat("x", 200), "1::/chat:?token=x"}
	var all []string
	for range 4 {
		all = append(all, packets...)
	}
	payload := string(AppendPayload(nil, bytesOf(all...)))
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SplitPayload(payload, 100); err != nil {
			b.Fatal(err)
		}
	}
}
