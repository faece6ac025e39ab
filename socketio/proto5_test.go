package socketio

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/sioparser"
	"github.com/siogo/siogo/internal/transport"
)

// decode5 decodes what the v5 codec made (one Engine.IO packet or a
// multi-frame buffer) with sioparser's decoder, as a client would.
func decode5(t *testing.T, buf []byte) sioparser.Packet { return decodeFrames(t, buf, false) }

// decodeFrames is decode5, or with v4 set decodes what the v4 codec made
// with sioparser's V4 decoder, as a 2.x client would: its attachments
// are Engine.IO v3 binary messages (the mark, type 4, the bytes).
func decodeFrames(t *testing.T, buf []byte, v4 bool) sioparser.Packet {
	t.Helper()
	var one [1][]byte
	frames := splitFrames(buf, &one)
	require.NotEmpty(t, frames)
	var d sioparser.Decoder
	mark := []byte{transport.BinaryMark}
	if v4 {
		d.Options.Protocol = sioparser.V4
		mark = append(mark, 4)
	}
	for i, f := range frames {
		var p sioparser.Packet
		var done bool
		var err error
		if i == 0 {
			require.Equal(t, byte('4'), f[0], "an Engine.IO message packet")
			p, done, err = d.AddText(string(f[1:]))
		} else {
			require.Equal(t, mark, f[:len(mark)], "a binary Engine.IO packet")
			p, done, err = d.AddBinary(f[len(mark):])
		}
		require.NoError(t, err)
		if done {
			require.Equal(t, len(frames)-1, i, "packet complete before its last frame")
			return p
		}
	}
	t.Fatalf("packet incomplete after %d frames", len(frames))
	return sioparser.Packet{}
}

func TestProto5Encodings(t *testing.T) {
	c := proto5Codec{}
	ev := &Message{Kind: MessageEvent, Event: "chat", Args: []json.RawMessage{json.RawMessage(`"hi"`), json.RawMessage(`{"a":1}`)}}
	assert.Equal(t, `42["chat","hi",{"a":1}]`, string(c.message(ev, 0, false)))
	assert.Equal(t, `427["chat","hi",{"a":1}]`, string(c.message(ev, 7, true)))
	evNS := &Message{Namespace: "/chat", Kind: MessageEvent, Event: "x"}
	assert.Equal(t, `42/chat,["x"]`, string(c.message(evNS, 0, false)))
	assert.Equal(t, `42/chat,3["x"]`, string(c.message(evNS, 3, true)))
	assert.Equal(t, `42["message","a\"b"]`, string(c.message(&Message{Kind: MessageText, Text: `a"b`}, 0, false)))
	assert.Equal(t, `42/n,["message",{"k":[1]}]`, string(c.message(&Message{Namespace: "/n", Kind: MessageJSON, Data: json.RawMessage(`{"k":[1]}`)}, 0, false)))
	assert.Equal(t, `435[1,"x"]`, string(c.ack("", 5, []json.RawMessage{json.RawMessage(`1`), json.RawMessage(`"x"`)}, nil)))
	assert.Equal(t, `43/a,5[]`, string(c.ack("/a", 5, nil, nil)))
	assert.Equal(t, `40{"sid":"abc"}`, string(c.connect("", "abc")))
	assert.Equal(t, `40/chat,{"sid":"abc"}`, string(c.connect("/chat", "abc")))
	assert.Equal(t, `41`, string(c.disconnect("")))
	assert.Equal(t, `41/chat,`, string(c.disconnect("/chat")))
	assert.Equal(t, `44{"message":"unauthorized"}`, string(c.connectError("/", "unauthorized")))
	assert.Equal(t, `44/nope,{"message":"Invalid namespace"}`, string(c.connectError("/nope", "Invalid namespace")))
	// The dispatch functions reach the codec.
	assert.Equal(t, `42["x"]`, string(encodeMessage(proto5, &Message{Kind: MessageEvent, Event: "x"}, 0, false)))
	assert.Equal(t, `431[]`, string(encodeAck(proto5, "", 1, nil, nil)))
	assert.Equal(t, `41`, string(codecOf(proto5).disconnect("")))
}

// What the codec makes decodes back, with sioparser, to what it encoded.
func TestProto5RoundTrip(t *testing.T) {
	c := proto5Codec{}
	p := decode5(t, c.message(&Message{Namespace: "/chat", Kind: MessageEvent, Event: "ev", Args: []json.RawMessage{json.RawMessage(`[1,2]`)}}, 9, true))
	assert.Equal(t, sioparser.Event, p.Type)
	assert.Equal(t, "/chat", p.Namespace)
	assert.True(t, p.HasID)
	assert.EqualValues(t, 9, p.ID)
	name, args, err := sioparser.SplitEvent(p.Data)
	require.NoError(t, err)
	assert.Equal(t, "ev", name)
	assert.Equal(t, []json.RawMessage{json.RawMessage(`[1,2]`)}, args)

	// Binary: the text frame announces the attachments, which follow.
	raw, att, err := marshalArgsBin([]any{"a", []byte{1, 2, 3}, map[string]any{"b": []byte{}, "n": 1}})
	require.NoError(t, err)
	require.Len(t, att, 2)
	buf := c.message(&Message{Kind: MessageEvent, Event: "bin", Args: raw, Attachments: att}, 0, false)
	var one [1][]byte
	frames := splitFrames(buf, &one)
	require.Len(t, frames, 3)
	assert.Equal(t, `452-["bin","a",{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1},"n":1}]`, string(frames[0]))
	p = decode5(t, buf)
	assert.Equal(t, sioparser.BinaryEvent, p.Type)
	assert.Equal(t, [][]byte{{1, 2, 3}, {}}, p.Attachments)
	v, err := sioparser.Reconstruct(p.Data, p.Attachments)
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, v.([]any)[2])

	// A binary ack.
	p = decode5(t, c.ack("/x", 4, []json.RawMessage{sioparser.AppendPlaceholder(nil, 0)}, [][]byte{[]byte("zz")}))
	assert.Equal(t, sioparser.BinaryAck, p.Type)
	assert.Equal(t, "/x", p.Namespace)
	assert.EqualValues(t, 4, p.ID)
	assert.Equal(t, [][]byte{[]byte("zz")}, p.Attachments)

	for _, f := range [][]byte{c.connect("/a", "sid1"), c.disconnect("/a"), c.connectError("/a", "no")} {
		p := decode5(t, f)
		assert.Equal(t, "/a", p.Namespace)
	}
}

// splitFrames hands out sub-slices of the buffer: nothing is copied, and
// a receiver cannot append into its neighbour's bytes.
func TestSplitFramesNoCopy(t *testing.T) {
	buf := append([]byte{frameMulti}, appendFrame(nil, []byte("4abc"))...)
	buf = appendFrame(buf, []byte{transport.BinaryMark, 9, 9})
	var one [1][]byte
	frames := splitFrames(buf, &one)
	require.Len(t, frames, 2)
	assert.Equal(t, "4abc", string(frames[0]))
	assert.Equal(t, []byte{transport.BinaryMark, 9, 9}, frames[1])
	start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	for _, f := range frames {
		p := uintptr(unsafe.Pointer(unsafe.SliceData(f)))
		assert.True(t, p >= start && p < start+uintptr(len(buf)), "a frame outside the buffer")
		assert.Equal(t, len(f), cap(f), "a frame with room to append into the next")
	}
	// One packet is itself.
	single := []byte("42[\"x\"]")
	assert.Equal(t, [][]byte{single}, splitFrames(single, &one))
	// A truncated buffer is refused.
	assert.Nil(t, splitFrames(buf[:len(buf)-1], &one))
	assert.Nil(t, splitFrames([]byte{frameMulti, 0x80}, &one))
}

// For 0.9 clients binary arguments are the base64 strings json.Marshal
// gives, as before attachments existed.
func TestBinaryArgsFor09(t *testing.T) {
	data := []byte{0, 1, 2, 250}
	m, err := newEventMessage("", "bin", []any{data, "s"})
	require.NoError(t, err)
	require.Len(t, m.Attachments, 1)
	require.NoError(t, m.Validate())
	want, _ := json.Marshal([]any{data, "s"})
	assert.Equal(t, `5:::{"name":"bin","args":`+string(want)+`}`, string(m.encoded(proto09)))
	assert.Equal(t, `451-["bin",{"_placeholder":true,"num":0},"s"]`, string(splitFrames(m.encoded(proto5), new([1][]byte))[0]))
	// Nested in a map, and in an ack.
	raw, att, err := marshalArgsBin([]any{map[string]any{"d": data}})
	require.NoError(t, err)
	b64 := base64.StdEncoding.EncodeToString(data)
	assert.Equal(t, `6:::3+[{"d":"`+b64+`"}]`, string(encodeAck(proto09, "", 3, raw, att)))
	// marshalArgs (no attachments wanted) inlines them.
	inl, err := marshalArgs([]any{data})
	require.NoError(t, err)
	assert.Equal(t, `"`+b64+`"`, string(inl[0]))
	// A nil []byte is null, not an attachment.
	raw, att, err = marshalArgsBin([]any{[]byte(nil)})
	require.NoError(t, err)
	assert.Empty(t, att)
	assert.Equal(t, `null`, string(raw[0]))
}

func TestReconstructArgs(t *testing.T) {
	att := [][]byte{{1}, {2}}
	args := []json.RawMessage{json.RawMessage(`"a"`), sioparser.AppendPlaceholder(nil, 0),
		json.RawMessage(`{"x":{"_placeholder":true,"num":1},"n":2}`)}
	got := ReconstructArgs(args, att)
	assert.Equal(t, json.RawMessage(`"a"`), got[0])
	assert.Equal(t, []byte{1}, got[1])
	assert.Equal(t, map[string]any{"x": []byte{2}, "n": json.Number("2")}, got[2])
	// Emitting them sends the same arguments, binary as binary.
	raw, att2, err := marshalArgsBin(got)
	require.NoError(t, err)
	assert.Equal(t, att, att2)
	assert.Equal(t, `{"n":2,"x":{"_placeholder":true,"num":1}}`, string(raw[2]))
	// Without attachments nothing is replaced.
	assert.Equal(t, json.RawMessage(`{"_placeholder":true,"num":0}`), ReconstructArgs(args[1:2], nil)[0])
}

func TestMessageValidateAttachments(t *testing.T) {
	assert.ErrorIs(t, (&Message{Kind: MessageText, Text: "x", Attachments: [][]byte{{1}}}).Validate(), ErrInvalidMessage)
	assert.ErrorIs(t, (&Message{Kind: MessageEvent, Event: "x", Attachments: [][]byte{nil}}).Validate(), ErrInvalidMessage)
	assert.NoError(t, (&Message{Kind: MessageEvent, Event: "x", Args: []json.RawMessage{sioparser.AppendPlaceholder(nil, 0)}, Attachments: [][]byte{{}}}).Validate())
}

func BenchmarkProto5Event(b *testing.B) {
	m := &Message{Namespace: "/chat", Kind: MessageEvent, Event: "said", Args: []json.RawMessage{json.RawMessage(`"abcdefghij"`), json.RawMessage(`{"n":1}`)}}
	b.ReportAllocs()
	for b.Loop() {
		_ = proto5Codec{}.message(m, 0, false)
	}
}

func BenchmarkProto5Ack(b *testing.B) {
	args := []json.RawMessage{json.RawMessage(`"ok"`)}
	b.ReportAllocs()
	for b.Loop() {
		_ = proto5Codec{}.ack("", 12, args, nil)
	}
}

// The one-buffer fast path writes what sioparser's encoder writes.
func TestProto5FastPathMatchesParser(t *testing.T) {
	args := []json.RawMessage{json.RawMessage(`"x"`), json.RawMessage(`[1,{"a":null}]`)}
	for _, ns := range []string{"", "/", "/chat", "/a b", "/é"} {
		for _, id := range []uint64{0, 1, 42, sioparser.MaxID} {
			data := sioparser.AppendEventData(nil, "ev", args)
			want, err := sioparser.AppendPacket([]byte{'4'}, &sioparser.Packet{Type: sioparser.Event, Namespace: ns5(ns), ID: id, HasID: id > 0, Data: data})
			require.NoError(t, err)
			got := proto5Codec{}.message(&Message{Namespace: ns, Kind: MessageEvent, Event: "ev", Args: args}, id, true)
			assert.Equal(t, string(want), string(got), "%q %d", ns, id)
			want, err = sioparser.AppendPacket([]byte{'4'}, &sioparser.Packet{Type: sioparser.Ack, Namespace: ns5(ns), ID: id, HasID: true, Data: sioparser.AppendArray(nil, args)})
			require.NoError(t, err)
			assert.Equal(t, string(want), string(proto5Codec{}.ack(ns, id, args, nil)), "%q %d", ns, id)
		}
	}
	// A namespace the header cannot carry gives nothing.
	assert.Nil(t, proto5Codec{}.message(&Message{Namespace: "/a,b", Kind: MessageEvent, Event: "ev"}, 0, false))
	assert.Nil(t, proto5Codec{}.ack("/a,b", 1, nil, nil))
}
