package eioparser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
)

// The differential tests run the same inputs through this package and the
// reference parsers (testdata/eioparser.js: engine.io-parser@5.2.3 for v4,
// engine.io-parser@2.2.1, socket.io-client 2.x's, for v3) and compare.
//
// Where the reference is more lenient than the specification, this
// package keeps the specification and the test asserts that the
// reference still differs (so the list below stays true):
//   - base64: Node's Buffer.from(s, "base64") skips invalid characters and
//     accepts missing padding and the URL alphabet; we accept standard,
//     padded base64 only (ErrBase64).
//   - v3 lengths: the reference parses "<length>" with Number(), so " 1",
//     "0x1", "1e0" and "" + spaces pass; we accept 1–10 decimal digits
//     (ErrFraming).
//   - v3 'b' with a bad type digit, and v3 binary records with a type
//     byte over 6: the reference returns a packet of undefined type inside
//     payloads; we refuse it (ErrUnknownType).
//   - v3 binary payloads: the reference truncates a record that runs
//     past the end (and misreads a length "digit" byte over 9); we want
//     bytes 0–9 and a complete record (ErrFraming).
//   - v4 encodePayload joins text holding 0x1E, which then decodes as
//     several packets; AppendPayload refuses it (ErrUnencodable).

// refPacket is a packet as the script writes it.
type refPacket struct {
	Type string  `json:"type,omitempty"`
	Text *string `json:"text,omitempty"`
	Bin  *string `json:"bin,omitempty"`
}

type refRequest struct {
	Op             string      `json:"op"`
	V              int         `json:"v"`
	Text           *string     `json:"text,omitempty"`
	Bin            *string     `json:"bin,omitempty"`
	SupportsBinary bool        `json:"supportsBinary,omitempty"`
	Packet         *refPacket  `json:"packet,omitempty"`
	Packets        []refPacket `json:"packets,omitempty"`
}

type refResult struct {
	Packets   []refPacket `json:"packets"`
	Error     bool        `json:"error"`
	Text      *string     `json:"text"`
	Bin       *string     `json:"bin"`
	Exception string      `json:"exception"`
}

func ptr(s string) *string { return &s }

func toRef(p Packet) refPacket {
	r := refPacket{Type: p.Type.String()}
	switch {
	case p.Binary:
		r.Bin = ptr(base64.StdEncoding.EncodeToString(p.Data))
	case len(p.Data) > 0:
		r.Text = ptr(string(p.Data))
	}
	return r
}

func toRefs(ps []Packet) []refPacket {
	out := make([]refPacket, 0, len(ps))
	for _, p := range ps {
		out = append(out, toRef(p))
	}
	return out
}

// runReference runs the requests through testdata/eioparser.js, one node
// process for all of them.
func runReference(t *testing.T, reqs []refRequest) []refResult {
	t.Helper()
	node := nodetest.Require(t)
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, r := range reqs {
		require.NoError(t, enc.Encode(r))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := nodetest.Dir(t)
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "eioparser.js"))
	cmd.Dir = dir
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "eioparser.js: %s", stderr.String())
	var res []refResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r refResult
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		require.Empty(t, r.Exception, "eioparser.js")
		res = append(res, r)
	}
	require.NoError(t, sc.Err())
	require.Len(t, res, len(reqs), "one answer per request")
	return res
}

// texts are data samples: ASCII, multi-byte and astral UTF-8, the
// separators of both versions, digits and 'b' that look like framing.
var texts = []string{
	"", "hello", "probe", "é", "€", "😀", "a😀b€", "\u2028\u2029", "\x00\x01\x7f", "4", "b", "bAQID",
	":", "1:", "10:b4", `{"sid":"abc","upgrades":["websocket"]}`, `2["event",{"a":1}]`, "\ufffd",
	strings.Repeat("x", 300), strings.Repeat("€😀", 50), " ", "\t\n\r", "a\x1eb",
}

func randomPacket(r *rand.Rand, v3 bool) Packet {
	if r.IntN(3) == 0 {
		data := make([]byte, r.IntN(40))
		for i := range data {
			data[i] = byte(r.IntN(256))
		}
		t := Message
		if v3 {
			t = Type(r.IntN(7))
		}
		return binPacket(t, data...)
	}
	s := texts[r.IntN(len(texts))]
	if r.IntN(2) == 0 {
		s += texts[r.IntN(len(texts))]
	}
	return text(Type(r.IntN(7)), s)
}

func randomPackets(r *rand.Rand, v3 bool) []Packet {
	ps := make([]Packet, 1+r.IntN(10))
	for i := range ps {
		ps[i] = randomPacket(r, v3)
	}
	return ps
}

// decodeCases are wire inputs for both versions' decoders, valid and not.
var decodeCases = []string{
	"", "4", "4hello", "2probe", "3probe", "5", "6", "1", "0{\"sid\":\"x\"}", "7", "9", "x", "b", "4€😀",
	"bAQIDBA==", "bAQIDBA", "bAQ", "bA", "b!!!!", "b_-8=", "bAR==", "bAQ\nID", "b4AQIDBA==", "b4", "b7AA==", "b4AQ",
	"4hello\x1e2\x1e4world", "4hello\x1ebAQIDBA==", "4a\x1e", "\x1e", "\x1e4", "4\x1e4", "4a\x1e\x1e4", "4a\x1e9",
	"6:4hello2:4€", "2:4€10:b4AQIDBA==", "3:4😀", "2:4😀", "0:", "0:0:", "1:6", "01:6", "00001:6", "1:21:3",
	"5:41:2:", ":", "4:", "6:4hello2", "7:4hello", " 1:4", "-1:4", "1e0:4", "0x1:4", "12345678901:4", "1:x",
	"3:b4!", "2:b4", "6:4hello1:", "3:b9A", "2:4\x1e", "1:", "4:4€",
}

func TestDifferentialV4(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	var reqs []refRequest
	var check []func(refResult)

	decode := func(op, wire string, bin bool, goRes func() ([]Packet, error)) {
		req := refRequest{Op: op, V: 4, Text: ptr(wire)}
		if bin {
			req = refRequest{Op: op, V: 4, Bin: ptr(base64.StdEncoding.EncodeToString([]byte(wire)))}
		}
		reqs = append(reqs, req)
		check = append(check, func(ref refResult) {
			ps, err := goRes()
			if errors.Is(err, ErrBase64) && !ref.Error {
				return // the reference's lenient base64, see above
			}
			if !assert.Equal(t, ref.Error, err != nil, "%s %q: error %v", op, wire, err) || err != nil {
				return
			}
			assert.Equal(t, ref.Packets, toRefs(ps), "%s %q", op, wire)
		})
	}
	for _, wire := range decodeCases {
		decode("decodePacket", wire, false, func() ([]Packet, error) {
			p, err := DecodePacket([]byte(wire))
			return []Packet{p}, err
		})
		decode("decodePacket", wire, true, func() ([]Packet, error) {
			p, err := DecodeFrame([]byte(wire), true)
			return []Packet{p}, err
		})
		decode("decodePayload", wire, false, func() ([]Packet, error) {
			return DecodePayload([]byte(wire), Limits{})
		})
	}
	// The lenient-base64 difference is real (so the note stays true).
	for _, wire := range []string{"bAQIDBA", "b_-8=", "bAQ\nID"} {
		_, err := DecodePacket([]byte(wire))
		require.ErrorIs(t, err, ErrBase64)
		reqs = append(reqs, refRequest{Op: "decodePacket", V: 4, Text: ptr(wire)})
		check = append(check, func(ref refResult) {
			assert.False(t, ref.Error, "the reference accepts %q", wire)
		})
	}

	for range 300 {
		ps := randomPackets(r, false)
		for _, p := range ps {
			reqs = append(reqs, refRequest{Op: "encodePacket", V: 4, Packet: ptrRef(toRef(p))})
			check = append(check, func(ref refResult) {
				require.NotNil(t, ref.Text, "%v", p)
				assert.Equal(t, *ref.Text, string(AppendPacket(nil, p)), "encodePacket %v", p)
				got, err := DecodePacket([]byte(*ref.Text))
				require.NoError(t, err)
				assert.Equal(t, p, got, "decodes the reference's encoding")
			})
			reqs = append(reqs, refRequest{Op: "encodePacket", V: 4, SupportsBinary: true, Packet: ptrRef(toRef(p))})
			check = append(check, func(ref refResult) {
				f, bin := AppendFrame(nil, p)
				if bin {
					require.NotNil(t, ref.Bin, "%v", p)
					assert.Equal(t, *ref.Bin, base64.StdEncoding.EncodeToString(f), "frame %v", p)
				} else {
					require.NotNil(t, ref.Text, "%v", p)
					assert.Equal(t, *ref.Text, string(f), "frame %v", p)
				}
				got, err := DecodeFrame(f, bin)
				require.NoError(t, err)
				assert.Equal(t, p, got)
			})
		}
		reqs = append(reqs, refRequest{Op: "encodePayload", V: 4, Packets: toRefs(ps)})
		check = append(check, func(ref refResult) {
			require.NotNil(t, ref.Text)
			b, err := AppendPayload(nil, ps)
			if hasSeparator(ps) {
				require.ErrorIs(t, err, ErrUnencodable)
				got, _ := DecodePayload([]byte(*ref.Text), Limits{})
				assert.NotEqual(t, ps, got, "the reference's payload does not decode to its packets")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, *ref.Text, string(b), "encodePayload %v", ps)
			got, err := DecodePayload(b, Limits{})
			require.NoError(t, err)
			assert.Equal(t, ps, got)
		})
		if b, err := AppendPayload(nil, ps); err == nil {
			reqs = append(reqs, refRequest{Op: "decodePayload", V: 4, Text: ptr(string(b))})
			check = append(check, func(ref refResult) {
				assert.False(t, ref.Error)
				assert.Equal(t, toRefs(ps), ref.Packets, "the reference decodes our payload")
			})
		}
	}
	res := runReference(t, reqs)
	for i, c := range check {
		c(res[i])
	}
}

func TestDifferentialV3(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	var reqs []refRequest
	var check []func(refResult)

	for _, wire := range decodeCases {
		reqs = append(reqs, refRequest{Op: "decodePacket", V: 3, Text: ptr(wire)})
		check = append(check, func(ref refResult) {
			p, err := DecodePacketV3([]byte(wire))
			if errors.Is(err, ErrBase64) && !ref.Error {
				return
			}
			if assert.Equal(t, ref.Error, err != nil, "decodePacket %q: %v", wire, err) && err == nil {
				assert.Equal(t, ref.Packets, toRefs([]Packet{p}), "decodePacket %q", wire)
			}
		})
		reqs = append(reqs, refRequest{Op: "decodePacket", V: 3, Bin: ptr(base64.StdEncoding.EncodeToString([]byte(wire)))})
		check = append(check, func(ref refResult) {
			p, err := DecodeFrameV3([]byte(wire), true)
			if assert.Equal(t, ref.Error, err != nil, "binary frame %q: %v", wire, err) && err == nil {
				assert.Equal(t, ref.Packets, toRefs([]Packet{p}), "binary frame %q", wire)
			}
		})
		reqs = append(reqs, refRequest{Op: "decodePayload", V: 3, Text: ptr(wire)})
		check = append(check, func(ref refResult) {
			ps, err := DecodePayloadV3([]byte(wire), Limits{})
			if !ref.Error && (errors.Is(err, ErrBase64) || errors.Is(err, ErrFraming) || errors.Is(err, ErrUnknownType)) {
				return // the reference's leniencies, see above
			}
			if assert.Equal(t, ref.Error, err != nil, "decodePayload %q: %v", wire, err) && err == nil {
				assert.Equal(t, ref.Packets, toRefs(ps), "decodePayload %q", wire)
			}
		})
	}
	for _, wire := range binaryPayloadCases {
		reqs = append(reqs, refRequest{Op: "decodePayload", V: 3, Bin: ptr(base64.StdEncoding.EncodeToString(wire))})
		check = append(check, func(ref refResult) {
			ps, err := DecodeBinaryPayloadV3(wire, Limits{})
			if !ref.Error && (errors.Is(err, ErrFraming) || errors.Is(err, ErrUnknownType)) {
				return // the reference's lenient framing and types
			}
			if assert.Equal(t, ref.Error, err != nil, "binary payload % x: %v", wire, err) && err == nil {
				assert.Equal(t, ref.Packets, toRefs(ps), "binary payload % x", wire)
			}
		})
	}
	// The leniencies are real.
	for _, wire := range [][]byte{{1, 1, 0xff, 9}, {0, 2, 0xff, '4'}} {
		_, err := DecodeBinaryPayloadV3(wire, Limits{})
		require.Error(t, err, "% x", wire)
		reqs = append(reqs, refRequest{Op: "decodePayload", V: 3, Bin: ptr(base64.StdEncoding.EncodeToString(wire))})
		check = append(check, func(ref refResult) {
			assert.False(t, ref.Error, "the reference accepts % x", wire)
		})
	}
	for _, wire := range []string{" 1:4", "1e0:4", "3:b9A", "5:b4AQI"} {
		_, err := DecodePayloadV3([]byte(wire), Limits{})
		require.Error(t, err, wire)
		reqs = append(reqs, refRequest{Op: "decodePayload", V: 3, Text: ptr(wire)})
		check = append(check, func(ref refResult) {
			assert.False(t, ref.Error, "the reference accepts %q", wire)
		})
	}

	for range 300 {
		ps := randomPackets(r, true)
		for _, p := range ps {
			reqs = append(reqs, refRequest{Op: "encodePacket", V: 3, Packet: ptrRef(toRef(p))})
			check = append(check, func(ref refResult) {
				require.NotNil(t, ref.Text, "%v", p)
				assert.Equal(t, *ref.Text, string(AppendPacketV3(nil, p)), "encodePacket %v", p)
			})
			reqs = append(reqs, refRequest{Op: "encodePacket", V: 3, SupportsBinary: true, Packet: ptrRef(toRef(p))})
			check = append(check, func(ref refResult) {
				f, bin := AppendFrameV3(nil, p)
				if bin {
					require.NotNil(t, ref.Bin, "%v", p)
					assert.Equal(t, *ref.Bin, base64.StdEncoding.EncodeToString(f), "frame %v", p)
				} else {
					require.NotNil(t, ref.Text, "%v", p)
					assert.Equal(t, *ref.Text, string(f), "frame %v", p)
				}
				got, err := DecodeFrameV3(f, bin)
				require.NoError(t, err)
				assert.Equal(t, p, got)
			})
		}
		reqs = append(reqs, refRequest{Op: "encodePayload", V: 3, Packets: toRefs(ps)})
		check = append(check, func(ref refResult) {
			require.NotNil(t, ref.Text)
			b := AppendPayloadV3(nil, ps)
			assert.Equal(t, *ref.Text, string(b), "encodePayload %v", ps)
			got, err := DecodePayloadV3(b, Limits{})
			require.NoError(t, err)
			assert.Equal(t, ps, got)
		})
		reqs = append(reqs, refRequest{Op: "encodePayload", V: 3, SupportsBinary: true, Packets: toRefs(ps)})
		check = append(check, func(ref refResult) {
			if !hasBinary(ps) {
				return // the reference sends the text form then
			}
			require.NotNil(t, ref.Bin, "%v", ps)
			b := AppendBinaryPayloadV3(nil, ps)
			assert.Equal(t, *ref.Bin, base64.StdEncoding.EncodeToString(b), "binary payload %v", ps)
			got, err := DecodeBinaryPayloadV3(b, Limits{})
			require.NoError(t, err)
			assert.Equal(t, ps, got)
		})
		reqs = append(reqs, refRequest{Op: "decodePayload", V: 3, Bin: ptr(base64.StdEncoding.EncodeToString(AppendBinaryPayloadV3(nil, ps)))})
		check = append(check, func(ref refResult) {
			assert.False(t, ref.Error)
			assert.Equal(t, toRefs(ps), ref.Packets, "the reference decodes our binary payload")
		})
		reqs = append(reqs, refRequest{Op: "decodePayload", V: 3, Text: ptr(string(AppendPayloadV3(nil, ps)))})
		check = append(check, func(ref refResult) {
			assert.False(t, ref.Error)
			assert.Equal(t, toRefs(ps), ref.Packets, "the reference decodes our payload")
		})
	}
	res := runReference(t, reqs)
	for i, c := range check {
		c(res[i])
	}
}

// binaryPayloadCases are v3 binary payloads, valid and not.
var binaryPayloadCases = [][]byte{
	{0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x05, 0xff, 0x04, 0x01, 0x02, 0x03, 0x04},
	{0, 1, 0xff, '6'}, {1, 1, 0xff, 6}, {1, 1, 0xff, 4}, {0, 6, 0xff, 'b', '4', 'A', 'Q', 'I', 'D'},
	{0, 1, 0xff, '9'}, {1, 1, 0xff, 9}, {0, 2, 0xff, '4', 0xff}, {0, 3, 0xff, '4', 0xc3, 0xa9},
	{0, 1, 0xff, '4', 0, 1, 0xff, '2'},
}

func hasBinary(ps []Packet) bool {
	for _, p := range ps {
		if p.Binary {
			return true
		}
	}
	return false
}

func ptrRef(p refPacket) *refPacket { return &p }

func hasSeparator(ps []Packet) bool {
	for _, p := range ps {
		if !p.Binary && bytes.IndexByte(p.Data, separator) >= 0 {
			return true
		}
	}
	return false
}
