package sioredis

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/socketio"
)

func TestMessageRoundTrip(t *testing.T) {
	cases := []struct {
		node, ns string
		opts     socketio.BroadcastOptions
		frame    string
	}{
		{"n1", "", socketio.BroadcastOptions{}, `5:::{"name":"a"}`},
		{"n1", "/chat", socketio.BroadcastOptions{Rooms: []string{"r", ""}, Except: []string{"x"}, Volatile: true}, "3::/chat:\xff\x00 binary"},
		{"", "/a:b", socketio.BroadcastOptions{Rooms: []string{"héllo", "🙂"}}, ""},
	}
	for _, c := range cases {
		b := encodeMessage(c.node, c.ns, c.opts, []byte(c.frame))
		m, err := decodeMessage(b)
		require.NoError(t, err)
		assert.Equal(t, c.node, m.node)
		assert.Equal(t, c.ns, m.ns)
		assert.Equal(t, c.opts, m.opts)
		assert.Equal(t, c.frame, string(m.frame))
	}
}

func TestMessageMalformed(t *testing.T) {
	good := encodeMessage("node", "/ns", socketio.BroadcastOptions{Rooms: []string{"a", "b"}, Except: []string{"c"}}, []byte("frame"))
	for i := 0; i < 17 && i < len(good); i++ {
		_, err := decodeMessage(good[:i])
		assert.Error(t, err, "truncated to %d bytes", i)
	}
	_, err := decodeMessage(append([]byte{9}, good[1:]...))
	assert.Error(t, err, "unknown version")
	_, err = decodeMessage([]byte{msgVersion, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	assert.Error(t, err, "huge room count")
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(encodeMessage("n1", "/chat", socketio.BroadcastOptions{Rooms: []string{"r"}, Except: []string{"x"}, Volatile: true}, []byte("5:::{}")))
	f.Add([]byte{msgVersion, 0})
	f.Add([]byte{msgVersion, 1, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		again, err := decodeMessage(encodeMessage(m.node, m.ns, m.opts, m.frame))
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if again.node != m.node || again.ns != m.ns || string(again.frame) != string(m.frame) ||
			again.opts.Volatile != m.opts.Volatile || len(again.opts.Rooms) != len(m.opts.Rooms) ||
			len(again.opts.Except) != len(m.opts.Except) {
			t.Fatalf("round trip changed the message: %+v vs %+v", m, again)
		}
	})
}

// BenchmarkCheckFrame: the check every received broadcast goes through
// before delivery, on a typical event.
func BenchmarkCheckFrame(b *testing.B) {
	frame := []byte(`5::/chat:{"name":"message","args":[{"user":"alice","text":"hello, world","ts":1700000000000}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkFrame("/chat", frame); err != nil {
			b.Fatal(err)
		}
	}
}
