package transport

import (
	"bytes"
	"fmt"
	"testing"
	"unsafe"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clientFrame is a masked frame as a client sends it.
func clientFrame(op ws.OpCode, fin bool, payload string) []byte {
	f := ws.NewFrame(op, fin, []byte(payload))
	f = ws.MaskFrameWith(f, [4]byte{1, 2, 3, 4})
	b, err := ws.CompileFrame(f)
	if err != nil {
		panic(err)
	}
	return b
}

type gotFrame struct {
	op ws.OpCode
	p  string
}

// feedAll feeds b in chunks of size n (0: at once) and collects what comes
// out.
func feedAll(fr *frameReader, b []byte, n int) ([]gotFrame, error) {
	var got []gotFrame
	closed := false
	on := func(op ws.OpCode, p []byte) bool {
		got = append(got, gotFrame{op, string(p)})
		closed = op == ws.OpClose
		return !closed
	}
	if n <= 0 {
		n = len(b) + 1
	}
	for len(b) > 0 && !closed {
		k := min(n, len(b))
		// feed a copy: the reader may unmask in place
		if err := fr.feed(append([]byte(nil), b[:k]...), on); err != nil {
			return got, err
		}
		b = b[k:]
	}
	return got, nil
}

func TestFrameReaderPieces(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), 70000)) // 8-byte length
	mid := string(bytes.Repeat([]byte("y"), 300))    // 2-byte length
	var stream []byte
	stream = append(stream, clientFrame(ws.OpText, true, "5:::{\"name\":\"a\"}")...)
	stream = append(stream, clientFrame(ws.OpText, false, "frag-")...)
	stream = append(stream, clientFrame(ws.OpPing, true, "pp")...)
	stream = append(stream, clientFrame(ws.OpContinuation, false, "men")...)
	stream = append(stream, clientFrame(ws.OpContinuation, true, "ted")...)
	stream = append(stream, clientFrame(ws.OpText, true, mid)...)
	stream = append(stream, clientFrame(ws.OpText, true, long)...)
	stream = append(stream, clientFrame(ws.OpText, true, "")...)
	want := []gotFrame{
		{ws.OpText, "5:::{\"name\":\"a\"}"},
		{ws.OpPing, "pp"},
		{ws.OpText, "frag-mented"},
		{ws.OpText, mid},
		{ws.OpText, long},
		{ws.OpText, ""},
	}
	for _, n := range []int{0, 1, 2, 3, 7, 13, 1000, 65536} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			fr := &frameReader{max: 1 << 20}
			got, err := feedAll(fr, stream, n)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Nil(t, fr.partial(), "nothing kept once every frame is complete")
			assert.Nil(t, fr.msg())
			assert.Nil(t, fr.kept, "an idle reader keeps no state")
		})
	}
}

// A reader keeps state only while a frame or a fragmented message is
// incomplete.
func TestFrameReaderKeepsStateOnlyWhileIncomplete(t *testing.T) {
	fr := &frameReader{max: 1 << 10}
	frame := clientFrame(ws.OpText, true, "hello")
	var got []string
	on := func(_ ws.OpCode, p []byte) bool { got = append(got, string(p)); return true }
	require.NoError(t, fr.feed(append([]byte(nil), frame...), on))
	assert.Nil(t, fr.kept)
	require.NoError(t, fr.feed(append([]byte(nil), frame[:3]...), on))
	assert.NotNil(t, fr.kept, "an incomplete frame is kept")
	require.NoError(t, fr.feed(append([]byte(nil), frame[3:]...), on))
	assert.Nil(t, fr.kept)
	require.NoError(t, fr.feed(clientFrame(ws.OpText, false, "a"), on))
	assert.NotNil(t, fr.kept, "a fragmented message is kept")
	require.NoError(t, fr.feed(clientFrame(ws.OpContinuation, true, "b"), on))
	assert.Nil(t, fr.kept)
	assert.Equal(t, []string{"hello", "hello", "ab"}, got)
}

func TestFrameReaderErrors(t *testing.T) {
	unmasked, err := ws.CompileFrame(ws.NewTextFrame([]byte("hi")))
	require.NoError(t, err)
	for name, c := range map[string]struct {
		in  []byte
		err error
	}{
		"unmasked":              {unmasked, ws.ErrProtocolMaskRequired},
		"reserved opcode":       {clientFrame(ws.OpCode(3), true, "x"), ws.ErrProtocolOpCodeReserved},
		"continuation first":    {clientFrame(ws.OpContinuation, true, "x"), ws.ErrProtocolContinuationUnexpected},
		"text inside fragments": {append(clientFrame(ws.OpText, false, "a"), clientFrame(ws.OpText, true, "b")...), ws.ErrProtocolContinuationExpected},
		"control not final":     {clientFrame(ws.OpPing, false, "x"), ws.ErrProtocolControlNotFinal},
		"too large":             {clientFrame(ws.OpText, true, "0123456789a"), ErrMessageTooLarge},
		"fragments too large":   {append(clientFrame(ws.OpText, false, "012345"), clientFrame(ws.OpContinuation, true, "6789a")...), ErrMessageTooLarge},
		"length msb":            {[]byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0}, ws.ErrHeaderLengthMSB},
	} {
		t.Run(name, func(t *testing.T) {
			fr := &frameReader{max: 10}
			_, err := feedAll(fr, c.in, 0)
			assert.ErrorIs(t, err, c.err)
		})
	}
}

func TestFrameReaderTooLargeBeforePayload(t *testing.T) {
	// The length is refused as soon as the header is in, before any of a
	// huge payload is buffered.
	fr := &frameReader{max: 1 << 10}
	hdr := clientFrame(ws.OpText, true, string(make([]byte, 1<<20)))[:14]
	err := fr.feed(hdr, func(ws.OpCode, []byte) bool { return true })
	assert.ErrorIs(t, err, ErrMessageTooLarge)
}

func TestFrameReaderStopsAtClose(t *testing.T) {
	fr := &frameReader{max: 100}
	in := append(clientFrame(ws.OpClose, true, "\x03\xe8"), clientFrame(ws.OpText, true, "after")...)
	got, err := feedAll(fr, in, 0)
	require.NoError(t, err)
	assert.Equal(t, []gotFrame{{ws.OpClose, "\x03\xe8"}}, got)
}

func TestAppendFrameHeader(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536, 1 << 20} {
		payload := bytes.Repeat([]byte{'a'}, n)
		want, err := ws.CompileFrame(ws.NewTextFrame(payload))
		require.NoError(t, err)
		got := append(appendFrameHeader(nil, ws.OpText, n), payload...)
		assert.Equal(t, want, got, "length %d", n)
	}
}

// FuzzFrameReader feeds arbitrary bytes whole and in pieces: the reader
// must not panic, must give the same frames and verdict either way, and
// must keep no more than a frame's worth of bytes.
func FuzzFrameReader(f *testing.F) {
	f.Add(clientFrame(ws.OpText, true, "5:::{\"name\":\"a\"}"), uint8(1))
	f.Add(append(clientFrame(ws.OpText, false, "ab"), clientFrame(ws.OpContinuation, true, "cd")...), uint8(3))
	f.Add(clientFrame(ws.OpPing, true, "p"), uint8(2))
	f.Add(clientFrame(ws.OpText, true, string(make([]byte, 300))), uint8(5))
	f.Add([]byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0}, uint8(4))
	const max = 4096
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		whole := &frameReader{max: max}
		want, wantErr := feedAll(whole, in, 0)
		pieces := &frameReader{max: max}
		got, gotErr := feedAll(pieces, in, int(chunk))
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("whole: %v, in pieces of %d: %v", wantErr, chunk, gotErr)
		}
		if wantErr == nil && !equalFrames(want, got) {
			t.Fatalf("whole gave %d frames, pieces of %d gave %d", len(want), chunk, len(got))
		}
		if len(pieces.partial()) > max+14+int(chunk) || len(pieces.msg()) > max {
			t.Fatalf("kept %d+%d bytes", len(pieces.partial()), len(pieces.msg()))
		}
	})
}

func equalFrames(a, b []gotFrame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// An idle connection costs its wsConn: what only some connections need
// (control frames, incomplete frames) is made when needed (issue 18).
func TestIdleWebSocketConnSize(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(wsConn{}), uintptr(112))
}
