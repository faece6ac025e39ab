package packet

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/utf16n"
)

var decodeSeeds = []string{
	"0::", "0::/chat", "1::", "1::/chat:?token=x", "1::/chat:token=x", "2::", "8::",
	"3:::hello", "3:1+:/chat:a:b:c", "3:::", "3:::é😀",
	`4:::{"a":[1,2]}`, `4:::"x` + "\u2028" + `"`,
	`5:::{"name":"ping"}`,
	`5:1+::{"name":"chat","args":["hi",{"n":1}]}`,
	`5:7:/chat:{"name":"a","args":[]}`,
	"5:::{\"name\":\"x\u2029\",\"args\":[\"\u2028😀\"]}",
	"6:::1", `6:::1+["a"]`, "6::/chat:4+[]", "6:::2+null",
	"7:::1+0", "7::/private:2", "7:::", "7:::+0",
	"", ":", "x::", "9::", "5:::not json", `5:::{"args":[]}`, "6:::abc",
	"1:99999999999999999999999::", "4:::{", "05::", "7:::-0",
}

// escapeSeparators is what the encoder does to JSON it passes through.
func escapeSeparators(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\u2028"), []byte(`\u2028`))
	return bytes.ReplaceAll(b, []byte("\u2029"), []byte(`\u2029`))
}

// normalized is the packet that Decode(Encode(p)) gives for a packet p that
// Decode produced.
//
// Decode(Encode(p)) == p does NOT hold for every decoded p, because the
// decoder accepts several wire forms of one packet and the encoder writes
// one of them:
//   - an empty args list ("args":[] on an event, "+[]" or "+null" on an
//     ack) decodes to a non-nil empty Args, but is sent as no list at all
//     (like the reference), which decodes to nil Args;
//   - raw U+2028/U+2029 in passed-through JSON (Args, json Data) come back
//     as their \u escapes: the same JSON value, different bytes.
//
// Other normalizations (connect data with or without '?', leading zeros in
// ids and numbers, "3:::" vs "3::", data on packet types that carry none,
// key order or escapes in the event object) are invisible at the Packet
// level: the decoded fields are already equal. So the property checked is
// Decode(Encode(p)) == normalized(p), plus that the encoding is a fixed
// point: Encode(Decode(Encode(p))) == Encode(p).
func normalized(p Packet) Packet {
	if len(p.Args) == 0 {
		p.Args = nil
	} else {
		args := make([]json.RawMessage, len(p.Args))
		for i, a := range p.Args {
			args[i] = escapeSeparators(a)
		}
		p.Args = args
	}
	if p.Type == JSON {
		p.Data = string(escapeSeparators([]byte(p.Data)))
	}
	return p
}

func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Decode(s)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		require.LessOrEqual(t, p.Type, Noop)
		require.LessOrEqual(t, p.ID, uint64(MaxID))
		require.LessOrEqual(t, p.AckID, uint64(MaxID))
		require.False(t, p.AckData && !p.HasID, "'+' without an id")
		require.NotContains(t, p.Endpoint, ":")

		wire := Encode(&p)
		switch p.Type {
		case JSON, Event, Ack:
			// No raw separator in the JSON part. (Endpoints, message
			// text and connect queries are not JSON and pass as they are.)
			header := Packet{ID: p.ID, HasID: p.HasID, AckData: p.AckData, Endpoint: p.Endpoint}
			jsonPart := wire[len(Encode(&header)):]
			require.NotContains(t, jsonPart, "\u2028")
			require.NotContains(t, jsonPart, "\u2029")
		}
		require.Equal(t, "pre"+wire, string(AppendPacket([]byte("pre"), &p)))

		again, err := Decode(wire)
		require.NoError(t, err, "Decode(%q) ok, re-encoded as %q which does not decode", s, wire)
		require.Equal(t, normalized(p), again, "wire %q re-encoded as %q", s, wire)
		require.Equal(t, wire, Encode(&again), "encoding is not a fixed point")
	})
}

func FuzzSplitPayload(f *testing.F) {
	f.Add("3:::hi")
	f.Add(fm + "3" + fm + "1::" + fm + "16" + fm + `5:::{"name":"a"}`)
	f.Add(fm + "6" + fm + "3:::😀" + fm + "3" + fm + "2::")
	f.Add(fm + "5" + fm + "3:::é" + fm + "7" + fm + "3:::a" + fm + "b")
	f.Add(fm + "5" + fm + "3:::😀" + fm + "3" + fm + "2::")
	f.Add(fm + "0" + fm + fm + "3" + fm + "2::")
	f.Add(fm + "6" + fm + "3:::\xff\xfe" + fm + "3" + fm + "2::")
	f.Add(fm + "4" + fm + "1::")
	f.Add(fm + "x" + fm)
	f.Add(fm)
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		// The two length counters must agree on every input.
		require.Equal(t, UTF16Len(s), utf16n.Len([]byte(s)))

		parts, err := SplitPayload(s, 0)
		if err != nil {
			require.ErrorIs(t, err, ErrPayload)
			return
		}
		require.NotEmpty(t, parts)
		if !strings.HasPrefix(s, fm) {
			require.Equal(t, []string{s}, parts, "an unframed body is one bare packet")
			return
		}

		// maxPackets bounds the count exactly.
		n := len(parts)
		_, err = SplitPayload(s, n)
		require.NoError(t, err)
		if n > 1 {
			_, err = SplitPayload(s, n-1)
			require.ErrorIs(t, err, ErrPayload)
		}

		// Framing the parts again gives the same parts. With a single part
		// the payload is written bare, which only splits back to the same
		// part when that part is non-empty and does not itself start with
		// U+FFFD, so only >= 2 parts are checked.
		if n < 2 {
			return
		}
		reframed := AppendPayload(nil, bytesOfStrings(parts))
		again, err := SplitPayload(string(reframed), 0)
		require.NoError(t, err, "reframed %q", reframed)
		require.Equal(t, parts, again)
		// Canonical lengths (no leading zeros) reproduce the input exactly.
		if canonicalLengths(s) {
			require.Equal(t, s, string(reframed))
		}
	})
}

func bytesOfStrings(ss []string) [][]byte { return bytesOf(ss...) }

// canonicalLengths reports whether no length field of a framed payload has
// a leading zero (the encoder never writes one). Only called on payloads
// SplitPayload accepted, so a digit run right after a mark that is
// followed by another mark is a length field only when at a frame start;
// a cheap conservative check suffices: reject any "\ufffd0<digit>".
func canonicalLengths(s string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], fm+"0")
		if j < 0 {
			return true
		}
		k := i + j + len(fm) + 1
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			return false
		}
		i = k
	}
}
