package sioredis

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/socketio"
)

func raws(ss ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(ss))
	for i, s := range ss {
		out[i] = json.RawMessage(s)
	}
	return out
}

// sameMessage compares the fields of two messages (not their caches).
func sameMessage(t *testing.T, want, got *socketio.Message) {
	t.Helper()
	assert.Equal(t, want.Namespace, got.Namespace)
	assert.Equal(t, want.Kind, got.Kind)
	assert.Equal(t, want.Event, got.Event)
	assert.Equal(t, want.Args, got.Args)
	assert.Equal(t, string(want.Data), string(got.Data))
	assert.Equal(t, want.Text, got.Text)
	assert.Equal(t, want.Attachments, got.Attachments)
}

func TestMessageRoundTrip(t *testing.T) {
	cases := []struct {
		node string
		opts socketio.BroadcastOptions
		msg  *socketio.Message
	}{
		{"n1", socketio.BroadcastOptions{}, &socketio.Message{Kind: socketio.MessageEvent, Event: "a"}},
		{"n1", socketio.BroadcastOptions{Rooms: []string{"r", ""}, Except: []string{"x"}, Volatile: true},
			&socketio.Message{Namespace: "/chat", Kind: socketio.MessageText, Text: "\xff\x00 binary"}},
		{"", socketio.BroadcastOptions{Rooms: []string{"héllo", "🙂"}},
			&socketio.Message{Namespace: "/a:b", Kind: socketio.MessageText}},
		{"n2", socketio.BroadcastOptions{}, &socketio.Message{Namespace: "/j", Kind: socketio.MessageJSON, Data: json.RawMessage(`{"a":[1,2]}`)}},
		{"n2", socketio.BroadcastOptions{Except: []string{"e"}},
			&socketio.Message{Namespace: "/e", Kind: socketio.MessageEvent, Event: "ev 😀", Args: raws(`1`, `"two"`, `{"x":null}`, `[]`)}},
		{"n3", socketio.BroadcastOptions{}, &socketio.Message{Kind: socketio.MessageEvent, Event: "bin",
			Args:        raws(`{"_placeholder":true,"num":0}`, `{"_placeholder":true,"num":1}`),
			Attachments: [][]byte{{0, 1, 0xff}, {}}}},
	}
	for _, c := range cases {
		b := encodeMessage(c.node, c.opts, c.msg)
		m, err := decodeMessage(b)
		require.NoError(t, err)
		assert.Equal(t, c.node, m.node)
		assert.Equal(t, c.opts, m.opts)
		sameMessage(t, c.msg, m.msg)
		assert.NoError(t, checkMessage(m.msg))
	}
}

func TestMessageMalformed(t *testing.T) {
	good := encodeMessage("node", socketio.BroadcastOptions{Rooms: []string{"a", "b"}, Except: []string{"c"}},
		&socketio.Message{Namespace: "/ns", Kind: socketio.MessageEvent, Event: "e", Args: raws(`1`, `2`)})
	for i := 0; i < len(good); i++ {
		_, err := decodeMessage(good[:i])
		assert.Error(t, err, "truncated to %d bytes", i)
	}
	_, err := decodeMessage(append([]byte{9}, good[1:]...))
	assert.Error(t, err, "unknown version")
	_, err = decodeMessage(append([]byte{1}, good[1:]...))
	assert.Error(t, err, "version 1 (0.9 frames)")
	_, err = decodeMessage([]byte{msgVersion, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	assert.Error(t, err, "huge room count")
	_, err = decodeMessage(append(good, 'x'))
	assert.Error(t, err, "an event with a payload")
	huge := encodeMessage("n", socketio.BroadcastOptions{}, &socketio.Message{Kind: socketio.MessageText, Text: strings.Repeat("x", maxMessageBytes)})
	_, err = decodeMessage(huge)
	assert.ErrorIs(t, err, errTooLarge)
}

// TestMessageInvalidRefused: messages that decode but that no node makes
// are refused by checkMessage, with socketio.ErrInvalidMessage (or
// ErrReservedEvent) inside.
func TestMessageInvalidRefused(t *testing.T) {
	bad := map[string]*socketio.Message{
		"no kind":            {Event: "e"},
		"unknown kind":       {Kind: 9, Event: "e"},
		"empty event":        {Kind: socketio.MessageEvent},
		"reserved event":     {Kind: socketio.MessageEvent, Event: "disconnect"},
		"reserved connect":   {Kind: socketio.MessageEvent, Event: "connect"},
		"long event":         {Kind: socketio.MessageEvent, Event: strings.Repeat("e", socketio.MaxEventNameBytes+1)},
		"invalid UTF-8 name": {Kind: socketio.MessageEvent, Event: "\xff"},
		"bad arg":            {Kind: socketio.MessageEvent, Event: "e", Args: raws(`1`, `{"a":`)},
		"empty arg":          {Kind: socketio.MessageEvent, Event: "e", Args: raws(``)},
		"bad JSON data":      {Kind: socketio.MessageJSON, Data: json.RawMessage(`{`)},
		"empty JSON data":    {Kind: socketio.MessageJSON},
		"event in text":      {Kind: socketio.MessageText, Event: "e", Text: "t"},
		"args in text":       {Kind: socketio.MessageText, Args: raws(`1`)},
		"bad namespace":      {Namespace: "chat", Kind: socketio.MessageText, Text: "t"},
	}
	for name, msg := range bad {
		m, err := decodeMessage(encodeMessage("n1", socketio.BroadcastOptions{}, msg))
		if err != nil {
			continue // refused already
		}
		err = checkMessage(m.msg)
		require.Error(t, err, name)
		assert.ErrorIs(t, err, errBadBroadcast, name)
		if name == "reserved event" || name == "reserved connect" {
			assert.ErrorIs(t, err, socketio.ErrReservedEvent, name)
		} else {
			assert.ErrorIs(t, err, socketio.ErrInvalidMessage, name)
		}
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(encodeMessage("n1", socketio.BroadcastOptions{Rooms: []string{"r"}, Except: []string{"x"}, Volatile: true},
		&socketio.Message{Namespace: "/chat", Kind: socketio.MessageEvent, Event: "e", Args: raws(`{}`, `"s"`)}))
	f.Add(encodeMessage("n1", socketio.BroadcastOptions{}, &socketio.Message{Kind: socketio.MessageJSON, Data: json.RawMessage(`[1]`)}))
	f.Add(encodeMessage("n1", socketio.BroadcastOptions{}, &socketio.Message{Kind: socketio.MessageText, Text: "hi"}))
	f.Add([]byte{msgVersion, 0})
	f.Add([]byte{msgVersion, 1, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		valid := checkMessage(m.msg) == nil
		again, err := decodeMessage(encodeMessage(m.node, m.opts, m.msg))
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if again.node != m.node || again.msg.Namespace != m.msg.Namespace || again.msg.Kind != m.msg.Kind ||
			again.msg.Event != m.msg.Event || again.msg.Text != m.msg.Text || string(again.msg.Data) != string(m.msg.Data) ||
			len(again.msg.Args) != len(m.msg.Args) ||
			again.opts.Volatile != m.opts.Volatile || len(again.opts.Rooms) != len(m.opts.Rooms) ||
			len(again.opts.Except) != len(m.opts.Except) {
			t.Fatalf("round trip changed the message: %+v vs %+v", m, again)
		}
		if (checkMessage(again.msg) == nil) != valid {
			t.Fatalf("round trip changed the validity of %+v", m.msg)
		}
	})
}

// BenchmarkCheckMessage: the decoding and check every received broadcast
// goes through before delivery, on a typical event.
func BenchmarkCheckMessage(b *testing.B) {
	wire := encodeMessage("n1", socketio.BroadcastOptions{Rooms: []string{"room"}}, &socketio.Message{Namespace: "/chat",
		Kind: socketio.MessageEvent, Event: "message", Args: raws(`{"user":"alice","text":"hello, world","ts":1700000000000}`)})
	b.ReportAllocs()
	for b.Loop() {
		m, err := decodeMessage(wire)
		if err != nil {
			b.Fatal(err)
		}
		if err := checkMessage(m.msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeMessage: what publishing a typical event costs before
// it is queued for Redis.
func BenchmarkEncodeMessage(b *testing.B) {
	m := &socketio.Message{Namespace: "/chat", Kind: socketio.MessageEvent, Event: "message",
		Args: raws(`{"user":"alice","text":"hello, world","ts":1700000000000}`)}
	opts := socketio.BroadcastOptions{Rooms: []string{"room"}, Except: []string{"AAAAAAAAAAAAAAAAAAAA"}}
	b.ReportAllocs()
	for b.Loop() {
		_ = encodeMessage("node-1", opts, m)
	}
}
