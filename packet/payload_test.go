package packet

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/utf16n"
)

// fm is the frame mark, U+FFFD.
const fm = "\ufffd"

func bytesOf(packets ...string) [][]byte {
	out := make([][]byte, len(packets))
	for i, p := range packets {
		out[i] = []byte(p)
	}
	return out
}

func TestUTF16Len(t *testing.T) {
	cases := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"é", 1},          // 2 bytes, 1 unit
		{"€", 1},          // 3 bytes, 1 unit
		{"\ufffd", 1},     // the frame mark itself
		{"😀", 2},          // 4 bytes, a surrogate pair
		{"a😀é", 4},        // 1 + 2 + 1
		{"\U0010FFFF", 2}, // last code point
		{"\xff", 1},       // invalid byte: one unit (decodes as U+FFFD)
		{"\xf0\x9f\x98", 3},
		{"5:::{\"name\":\"😀\"}", 17},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, UTF16Len(tc.s), "%q", tc.s)
		assert.Equal(t, tc.want, utf16n.Len([]byte(tc.s)), "%q", tc.s)
	}
	// Valid UTF-8: the same as encoding to UTF-16.
	for _, s := range []string{"", "hello", "é😀\ufffd€", "3:::日本語👍🏽"} {
		assert.Equal(t, len(utf16.Encode([]rune(s))), UTF16Len(s), "%q", s)
	}
}

func TestAppendPayloadSingleIsBare(t *testing.T) {
	assert.Equal(t, "3:::hi", string(AppendPayload(nil, bytesOf("3:::hi"))))
	assert.Equal(t, "x|1::", string(AppendPayload([]byte("x|"), bytesOf("1::"))))
}

func TestSplitPayloadBare(t *testing.T) {
	for _, s := range []string{"3:::hi", "1::", "5:::{\"name\":\"😀\"}", "3:::a" + fm + "b"} {
		got, err := SplitPayload(s, 0)
		require.NoError(t, err)
		assert.Equal(t, []string{s}, got)
		got, err = SplitPayload(s, 1)
		require.NoError(t, err)
		assert.Equal(t, []string{s}, got)
	}
}

func TestPayloadFraming(t *testing.T) {
	cases := []struct {
		name    string
		packets []string
		wire    string
	}{
		{"two ascii", []string{"1::", `5:::{"name":"a"}`},
			fm + "3" + fm + "1::" + fm + "16" + fm + `5:::{"name":"a"}`},
		// The astral character counts 2 (a surrogate pair in UTF-16), not
		// 4 bytes and not 1 rune. Same as the reference's encodePayload.
		{"astral counts two", []string{"3:::😀", "2::"},
			fm + "6" + fm + "3:::😀" + fm + "3" + fm + "2::"},
		// é is 2 bytes but one UTF-16 unit; U+FFFD inside data is one unit
		// and must not confuse the framing.
		{"bmp counts one", []string{"3:::é", "3:::a" + fm + "b", `5:::{"name":"a"}`},
			fm + "5" + fm + "3:::é" + fm + "7" + fm + "3:::a" + fm + "b" + fm + "16" + fm + `5:::{"name":"a"}`},
		{"data looks like framing", []string{"3:::" + fm + "3" + fm, "8::"},
			fm + "7" + fm + "3:::" + fm + "3" + fm + fm + "3" + fm + "8::"},
		{"ten packets", []string{"2::", "2::", "2::", "2::", "2::", "2::", "2::", "2::", "2::", "3:::0123456789"},
			strings.Repeat(fm+"3"+fm+"2::", 9) + fm + "14" + fm + "3:::0123456789"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wire := string(AppendPayload(nil, bytesOf(tc.packets...)))
			assert.Equal(t, tc.wire, wire)
			assert.Equal(t, "pre"+tc.wire, string(AppendPayload([]byte("pre"), bytesOf(tc.packets...))))
			got, err := SplitPayload(wire, 0)
			require.NoError(t, err)
			assert.Equal(t, tc.packets, got)
			got, err = SplitPayload(wire, len(tc.packets))
			require.NoError(t, err)
			assert.Equal(t, tc.packets, got)
		})
	}
}

func TestSplitPayloadInvalidUTF8CountsOnePerByte(t *testing.T) {
	packets := []string{"3:::\xff\xfe", "3:::\xf0\x9f\x98", "3:::ok"}
	wire := string(AppendPayload(nil, bytesOf(packets...)))
	assert.Equal(t, fm+"6"+fm+"3:::\xff\xfe"+fm+"7"+fm+"3:::\xf0\x9f\x98"+fm+"6"+fm+"3:::ok", wire)
	got, err := SplitPayload(wire, 0)
	require.NoError(t, err)
	assert.Equal(t, packets, got)
}

func TestSplitPayloadMaxPackets(t *testing.T) {
	wire := string(AppendPayload(nil, bytesOf("1::", "2::", "3:::x")))
	for _, max := range []int{0, 3, 4, 100} {
		got, err := SplitPayload(wire, max)
		require.NoError(t, err, "max %d", max)
		assert.Equal(t, []string{"1::", "2::", "3:::x"}, got)
	}
	for _, max := range []int{1, 2} {
		_, err := SplitPayload(wire, max)
		assert.ErrorIs(t, err, ErrPayload, "max %d", max)
	}
}

func TestSplitPayloadErrors(t *testing.T) {
	cases := []struct {
		name string
		s    string
	}{
		{"empty payload", ""},
		{"lone mark", fm},
		{"truncated length", fm + "5"},
		{"length without closing mark", fm + "3" + "1::"},
		{"empty length", fm + fm + "1::"},
		{"non-digit length", fm + "x" + fm + "1::"},
		{"negative length", fm + "-3" + fm + "1::"},
		{"signed length", fm + "+3" + fm + "1::"},
		{"space in length", fm + " 3" + fm + "1::"},
		{"hex length", fm + "0x3" + fm + "1::"},
		{"length past end", fm + "4" + fm + "1::"},
		{"huge length", fm + "9999999999" + fm + "1::"},
		{"too many length digits", fm + "00000000003" + fm + "1::"},
		{"second length past end", fm + "3" + fm + "1::" + fm + "10" + fm + "2::"},
		{"garbage after packet", fm + "3" + fm + "1::junk"},
		{"short by one", fm + "3" + fm + "1::" + fm + "3" + fm + "2:"},
		{"trailing mark", fm + "3" + fm + "1::" + fm},
		// 3:::😀 is 6 units; a length of 5 ends inside the surrogate pair.
		{"length splits a surrogate pair", fm + "5" + fm + "3:::😀" + fm + "3" + fm + "2::"},
		{"length 1 on astral", fm + "1" + fm + "😀"},
		// Counting bytes instead of units would give 8 here.
		{"byte length of astral", fm + "8" + fm + "3:::😀" + fm + "3" + fm + "2::"},
		{"byte length of é", fm + "6" + fm + "3:::é" + fm + "3" + fm + "2::"},
		// An invalid UTF-8 prefix of U+FFFD is not a mark.
		{"broken mark", "\xef\xbf" + "3" + fm + "1::" + fm + "3" + fm + "2::x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = SplitPayload(tc.s, 0) })
			if tc.name == "broken mark" {
				// Not framed at all: accepted as one bare packet, which
				// the packet decoder then rejects.
				require.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, ErrPayload)
			assert.NotErrorIs(t, err, ErrMalformed)
		})
	}
}

// Every packet of a payload is then decodable, and framing the decoded
// packets again gives the same payload.
func TestPayloadOfDecodedPackets(t *testing.T) {
	packets := []string{"1::/chat:?token=x", `5:1+:/chat:{"name":"msg","args":["😀 é"]}`, `6:::3+["ok"]`, "2::"}
	wire := string(AppendPayload(nil, bytesOf(packets...)))
	parts, err := SplitPayload(wire, 10)
	require.NoError(t, err)
	var encoded [][]byte
	for _, part := range parts {
		p, err := Decode(part)
		require.NoError(t, err)
		encoded = append(encoded, AppendPacket(nil, &p))
	}
	assert.Equal(t, wire, string(AppendPayload(nil, encoded)))
}

func TestJSONDepth(t *testing.T) {
	for s, want := range map[string]int{
		``:                         0,
		`5:::{"name":"a"}`:         1,
		`5:::{"name":"[[[{{"}`:     1,
		`5:::{"args":[[1,[2]]]}`:   4,
		`5:::{"name":"\"[["}`:      1,
		`4:::[[[[[[[[[[]]]]]]]]]]`: 10,
	} {
		assert.Equal(t, want, JSONDepth(s), s)
	}
}
