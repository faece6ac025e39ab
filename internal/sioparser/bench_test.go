package sioparser

import (
	"encoding/json"
	"testing"
)

var benchArgs = []json.RawMessage{json.RawMessage(`"hello"`), json.RawMessage(`{"n":1}`)}

// BenchmarkEncodeEvent: 2/chat,12["message","hello",{"n":1}] into a
// reused buffer (payload, then packet).
func BenchmarkEncodeEvent(b *testing.B) {
	data := make([]byte, 0, 64)
	buf := make([]byte, 0, 128)
	var err error
	b.ReportAllocs()
	for b.Loop() {
		data = AppendEventData(data[:0], "message", benchArgs)
		p := Packet{Type: Event, Namespace: "/chat", ID: 12, HasID: true, Data: data}
		if buf, err = AppendPacket(buf[:0], &p); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeEvent(b *testing.B) {
	const wire = `2/chat,12["message","hello",{"n":1}]`
	var d Decoder
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		p, done, err := d.AddText(wire)
		if err != nil || !done {
			b.Fatal(err)
		}
		if _, _, err := SplitEvent(p.Data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeBinaryEvent: ["upload","a.bin",<1 KiB>,{"n":1}] with
// AppendValue (placeholder, attachment list) and AppendPacket.
func BenchmarkEncodeBinaryEvent(b *testing.B) {
	blob := make([]byte, 1024)
	args := []any{"upload", "a.bin", blob, json.RawMessage(`{"n":1}`)}
	data := make([]byte, 0, 128)
	buf := make([]byte, 0, 128)
	att := make([][]byte, 0, 1)
	var err error
	b.ReportAllocs()
	for b.Loop() {
		if data, att, err = AppendValue(data[:0], args, att[:0]); err != nil {
			b.Fatal(err)
		}
		p := Packet{Type: BinaryEvent, Namespace: "/", ID: 3, HasID: true, Data: data, Attachments: att}
		if buf, err = AppendPacket(buf[:0], &p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeBinaryEvent: the text frame and its attachment through a
// Decoder, then the arguments split and the placeholder mapped.
func BenchmarkDecodeBinaryEvent(b *testing.B) {
	const wire = `51-3["upload","a.bin",{"_placeholder":true,"num":0},{"n":1}]`
	blob := make([]byte, 1024)
	var d Decoder
	b.SetBytes(int64(len(wire) + len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := d.AddText(wire); err != nil {
			b.Fatal(err)
		}
		p, done, err := d.AddBinary(blob)
		if err != nil || !done {
			b.Fatal(err)
		}
		_, args, err := SplitEvent(p.Data)
		if err != nil {
			b.Fatal(err)
		}
		if n, ok := PlaceholderNum(args[1]); !ok || len(p.Attachments[n]) != 1024 {
			b.Fatal("placeholder")
		}
	}
}

// TestAllocs holds the hot paths to their allocation counts.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are the race detector's own")
	}
	data := make([]byte, 0, 64)
	buf := make([]byte, 0, 128)
	enc := testing.AllocsPerRun(100, func() {
		data = AppendEventData(data[:0], "message", benchArgs)
		p := Packet{Type: Event, Namespace: "/chat", ID: 12, HasID: true, Data: data}
		buf, _ = AppendPacket(buf[:0], &p)
	})
	if enc != 0 {
		t.Errorf("encoding an event: %v allocations, want 0", enc)
	}
	var d Decoder
	dec := testing.AllocsPerRun(100, func() {
		p, _, _ := d.AddText(`2/chat,12["message","hello",{"n":1}]`)
		_, _, _ = SplitEvent(p.Data)
	})
	// The payload's copy, the args slice and the event name.
	if dec > 3 {
		t.Errorf("decoding an event: %v allocations, want at most 3", dec)
	}
}
