package sioparser

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
)

// reference runs testdata/sioparser.js (socket.io-parser@4.2.7) and
// answers requests one line at a time.
type reference struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
}

func startReference(t *testing.T) *reference {
	t.Helper()
	node := nodetest.Require(t)
	cmd := exec.Command(node, filepath.Join(nodetest.Dir(t), "sioparser.js"))
	cmd.Dir = nodetest.Dir(t)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil || stderr.Len() > 0 {
			t.Errorf("sioparser.js: %v\n%s", err, stderr.String())
		}
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	return &reference{t: t, in: in, out: sc}
}

type frame struct {
	Text   *string `json:"text,omitempty"`
	Binary *string `json:"binary,omitempty"`
}

type refPacket struct {
	Type    int             `json:"type"`
	Nsp     string          `json:"nsp"`
	ID      *float64        `json:"id"`
	Data    json.RawMessage `json:"data"`
	HasData bool            `json:"hasData"`
}

type refAnswer struct {
	OK      bool        `json:"ok"`
	Error   string      `json:"error"`
	Packets []refPacket `json:"packets"`
	Pending bool        `json:"pending"`
	Frames  []frame     `json:"frames"`
}

func (r *reference) ask(req any) refAnswer {
	r.t.Helper()
	b, err := json.Marshal(req)
	require.NoError(r.t, err)
	_, err = r.in.Write(append(b, '\n'))
	require.NoError(r.t, err)
	require.True(r.t, r.out.Scan(), "sioparser.js answered nothing: %v", r.out.Err())
	var a refAnswer
	require.NoError(r.t, json.Unmarshal(r.out.Bytes(), &a), r.out.Text())
	require.False(r.t, strings.HasPrefix(a.Error, "script:"), a.Error)
	return a
}

func textFrame(s string) frame { return frame{Text: &s} }
func binFrame(b []byte) frame {
	s := base64.StdEncoding.EncodeToString(b)
	return frame{Binary: &s}
}

// toWire replaces []byte with {"$binary":BASE64}, the script's form.
func toWire(v any) any {
	switch t := v.(type) {
	case []byte:
		return map[string]any{"$binary": base64.StdEncoding.EncodeToString(t)}
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = toWire(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = toWire(e)
		}
		return out
	}
	return v
}

// canonical is a JSON value as encoding/json decodes it, for comparison.
func canonical(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// goDecode feeds frames to a Decoder and returns the packets and the first
// error, as the script does.
func goDecode(o Options, frames []frame) (packets []Packet, pending bool, err error) {
	d := Decoder{Options: o}
	for _, f := range frames {
		var p Packet
		var done bool
		if f.Text != nil {
			p, done, err = d.AddText(*f.Text)
		} else {
			b, _ := base64.StdEncoding.DecodeString(*f.Binary)
			p, done, err = d.AddBinary(b)
		}
		if err != nil {
			return packets, false, err
		}
		if done {
			packets = append(packets, p)
		}
	}
	return packets, d.Awaiting() > 0, nil
}

func texts(ss ...string) []frame {
	out := make([]frame, len(ss))
	for i, s := range ss {
		out[i] = textFrame(s)
	}
	return out
}

// diffCases are fed to both decoders; they must agree.
var diffCases = [][]frame{
	texts("0"), texts("0/admin,"), texts(`0/admin,{"sid":"x"}`), texts(`0{"token":"123"}`),
	texts("1"), texts("1/admin,"), texts("1/admin"),
	texts(`2["foo"]`), texts(`2/admin,["bar",1,{"a":[true,null]}]`), texts(`212["foo"]`), texts(`2/admin,012["x"]`),
	texts(`2["é😀\u2028","\u0000"]`), texts(`2["a"] `), texts(`2["_placeholder",{"_placeholder":true,"num":0}]`),
	texts(`3/admin,13["bar"]`), texts(`30[]`), texts(`4{"message":"Not authorized"}`), texts(`4"x"`),
	texts(`29007199254740991["a"]`),
	// Refused by both.
	texts("7"), texts("x"), texts("0[]"), texts(`0"x"`), texts("0{"), texts("1{}"), texts("2[]"),
	texts("2{}"), texts(`2"a"`), texts(`2["a"`), texts(`2["connect"]`), texts(`2["disconnecting",1]`),
	texts(`2["newListener"]`), texts("31{}"), texts("4[]"), texts("5"), texts(`5-["a"]`), texts(`50-["a"]`),
	texts(`5x-["a"]`), texts(`511-["a"]`), texts(`2admin,["a"]`),
	// Binary.
	{textFrame(`51-["baz",{"_placeholder":true,"num":0}]`), binFrame([]byte{1, 2, 3, 4})},
	{textFrame(`52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), binFrame([]byte{1, 2}), binFrame([]byte{3, 4})},
	{textFrame(`61-15["bar",{"_placeholder":true,"num":0}]`), binFrame([]byte{1, 2, 3, 4})},
	{textFrame(`52-["a",{"x":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]`), binFrame([]byte{9}), binFrame(nil)},
	{textFrame(`51-["a",{"_placeholder":true,"num":0}]`)}, // pending
	{textFrame(`51-["a",{"_placeholder":true,"num":1}]`), binFrame([]byte{1})},
	{textFrame(`52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), binFrame([]byte{1}), textFrame(`2["a"]`)},
	{binFrame([]byte{1})},
	{textFrame(`2["a"]`), textFrame(`3/x,1[]`), textFrame(`51-["a",{"_placeholder":true,"num":0}]`), binFrame([]byte{5}), textFrame(`1`)},
}

// knownDifferences are inputs the reference accepts and this package
// refuses, deliberately: the spec's rules, or bounds the reference lacks.
var knownDifferences = []struct {
	frames []frame
	want   error
	why    string
}{
	{texts("2"), ErrPayload, "an EVENT without a payload (the reference gives data undefined)"},
	{texts("21"), ErrPayload, "the same with an id"},
	{texts("2[1]"), ErrPayload, "a number as the event name: the spec says a string"},
	{texts(`2 ["a"]`), ErrPayload, "the reference reads the space as ack id 0"},
	{texts(`21 ["a"]`), ErrPayload, "the reference reads \"1 \" as ack id 1"},
	{texts(`2/admin["a"]`), ErrPayload, "no comma: the reference takes the whole rest as the namespace and no payload"},
	{texts(`29007199254740992["a"]`), ErrAckID, "an id a JavaScript number does not hold exactly"},
	{texts(`299999999999999999999999["a"]`), ErrAckID, "the reference rounds it to 1e23"},
	{texts("01{}"), ErrAckID, "an id on a CONNECT"},
	{texts("12"), ErrAckID, "an id on a DISCONNECT"},
	{texts("3"), ErrAckID, "an ACK without id or payload"},
	{texts("3[]"), ErrAckID, "an ACK without an id"},
	{texts("31"), ErrPayload, "an ACK without a payload"},
	{texts("4"), ErrPayload, "a CONNECT_ERROR without a payload"},
	{texts(""), ErrType, "an empty frame: the reference reads Number(\"\") == 0, a CONNECT"},
	{texts("4 5"), ErrPayload, "the reference reads \" 5\" as ack id 5, on a CONNECT_ERROR"},
	{[]frame{textFrame(`5 1-["a",{"_placeholder":true,"num":0}]`), binFrame([]byte{1})}, ErrAttachments, "the reference takes \" 1\" for a count (Number(\" 1\") == 1)"},
	{[]frame{textFrame(`51-["a"]`), binFrame([]byte{1})}, ErrAttachments, "an attachment no placeholder refers to"},
	{[]frame{textFrame(`52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`), binFrame([]byte{1}), binFrame([]byte{2})}, ErrAttachments, "a placeholder used twice, another missing"},
	{[]frame{textFrame(`51-["a",{"_placeholder":true,"num":0.0}]`), binFrame([]byte{1})}, ErrAttachments, "a num that is not an integer literal"},
	{[]frame{textFrame(`51-["a",{"_placeholder":true,"num":-0}]`), binFrame([]byte{1})}, ErrAttachments, "a negative num"},
}

// knownDifferencesV4 are the same for socket.io-parser@3.3.6 (the v4
// protocol's), plus what it takes and v5 refuses alike.
var knownDifferencesV4 = append(knownDifferences[:len(knownDifferences):len(knownDifferences)], []struct {
	frames []frame
	want   error
	why    string
}{
	{texts("0[]"), ErrPayload, "a CONNECT with an array: 3.x takes typeof \"object\""},
	{texts("0null"), ErrPayload, "a CONNECT with null, the same"},
	{texts("4[]"), ErrPayload, "an ERROR with an array"},
	{texts("4null"), ErrPayload, "an ERROR with null"},
}...)

// v4Additions are the v4 forms (the reserved names are refused in v5
// only).
var v4Additions = [][]frame{
	texts("0/admin?token=abc&x=1,"), texts("0/admin?,"), texts(`2/admin?x,["a"]`), texts(`4"Not authorized"`),
	texts(`2["connect"]`), texts(`2["disconnecting",1]`), texts(`2["newListener"]`),
}

func TestDifferentialDecode(t *testing.T) {
	ref := startReference(t)
	t.Run("v5", func(t *testing.T) { differentialDecode(t, ref, "v5", Options{}, diffCases, knownDifferences) })
	t.Run("v4", func(t *testing.T) {
		skip := map[string]bool{}
		for _, kd := range knownDifferencesV4 {
			skip[describe(kd.frames)] = true
		}
		for _, c := range v4Additions {
			skip[describe(c)] = true // the v5 refusals of the same frames
		}
		var cases [][]frame
		for _, c := range diffCases {
			if !skip[describe(c)] {
				cases = append(cases, c)
			}
		}
		differentialDecode(t, ref, "v4", Options{Protocol: V4}, append(cases, v4Additions...), knownDifferencesV4)
	})
}

func differentialDecode(t *testing.T, ref *reference, parser string, o Options, diffCases [][]frame, knownDifferences []struct {
	frames []frame
	want   error
	why    string
}) {
	for _, frames := range diffCases {
		name := describe(frames)
		a := ref.ask(map[string]any{"op": "decode", "parser": parser, "frames": frames})
		packets, pending, err := goDecode(o, frames)
		if !a.OK {
			assert.Error(t, err, "%s: the reference refuses it (%s)", name, a.Error)
			assert.ErrorIs(t, err, ErrMalformed, name)
		} else {
			assert.NoError(t, err, "%s: the reference accepts it", name)
		}
		assert.Equal(t, a.Pending, pending, "%s: pending", name)
		if !assert.Len(t, packets, len(a.Packets), "%s: packets", name) {
			continue
		}
		for i, rp := range a.Packets {
			p := packets[i]
			base := p.Type
			switch base {
			case BinaryEvent:
				base = Event
			case BinaryAck:
				base = Ack
			}
			rt := Type(rp.Type)
			switch rt { // 3.x keeps the binary types
			case BinaryEvent:
				rt = Event
			case BinaryAck:
				rt = Ack
			}
			assert.Equal(t, rt, base, "%s: type", name)
			nsp := p.Namespace
			if p.Query != "" || o.Protocol == V4 && p.Type == Connect && strings.Contains(rp.Nsp, "?") {
				nsp += "?" + p.Query // v4: the reference keeps the query in the namespace
			}
			assert.Equal(t, rp.Nsp, nsp, "%s: namespace", name)
			if rp.ID == nil {
				assert.False(t, p.HasID, "%s: id", name)
			} else if assert.True(t, p.HasID, "%s: id", name) {
				assert.Equal(t, *rp.ID, float64(p.ID), "%s: id", name)
			}
			assert.Equal(t, rp.HasData, p.Data != nil, "%s: data", name)
			if rp.HasData {
				v, err := Reconstruct(p.Data, p.Attachments)
				require.NoError(t, err, name)
				var want any
				require.NoError(t, json.Unmarshal(rp.Data, &want))
				assert.Equal(t, want, canonical(t, toWire(v)), "%s: data", name)
			}
		}
	}
	for _, kd := range knownDifferences {
		name := describe(kd.frames)
		a := ref.ask(map[string]any{"op": "decode", "parser": parser, "frames": kd.frames})
		assert.True(t, a.OK, "%s: the reference now refuses it (%s): drop it from knownDifferences", name, a.Error)
		_, _, err := goDecode(o, kd.frames)
		assert.ErrorIs(t, err, kd.want, "%s: %s", name, kd.why)
	}
}

// TestDifferentialEncode encodes the same packets here (AppendValue,
// AppendPacket) and with the reference's Encoder, v5 and v4 (3.x), which
// must give the same frames byte for byte.
func TestDifferentialEncode(t *testing.T) {
	ref := startReference(t)
	type pk struct {
		typ  Type
		nsp  string
		id   *uint64
		data any
	}
	id := func(n uint64) *uint64 { return &n }
	cases := []pk{
		{Connect, "/", nil, nil},
		{Connect, "/admin", nil, map[string]any{"sid": "oSO0OpakMV_3jnilAAAA"}},
		{Disconnect, "/admin", nil, nil},
		{Event, "/", nil, []any{"foo"}},
		{Event, "/", id(12), []any{"foo", 1, 2.5, true, nil, map[string]any{"a": []any{"b"}}}},
		{Event, "/chat", id(MaxID), []any{"é😀\u2028\u2029", "q\"\\\x00\x1f\x7f\n", "<>&"}},
		{Ack, "/admin", id(13), []any{"bar"}},
		{Ack, "/", id(0), []any{}},
		{ConnectError, "/", nil, map[string]any{"message": "Not authorized", "data": map[string]any{"n": 1}}},
		{ConnectError, "/x", nil, "a string"},
		{Event, "/", nil, []any{"baz", []byte{1, 2, 3, 4}}},
		{Event, "/admin", id(7), []any{"baz", []byte{1, 2}, map[string]any{"x": []byte{3, 4}, "y": []any{[]byte{}, "z"}}, []byte{5}}},
		{Ack, "/", id(15), []any{"bar", []byte{1, 2, 3, 4}}},
	}
	for _, parser := range []string{"v5", "v4"} {
		cases := cases
		if parser == "v4" {
			cases = append(cases[:len(cases):len(cases)], pk{Connect, "/admin?token=a&b=%20", nil, nil})
		}
		for _, c := range cases {
			req := map[string]any{"type": int(c.typ), "nsp": c.nsp}
			if c.id != nil {
				req["id"] = *c.id
			}
			p := Packet{Type: c.typ, Namespace: c.nsp}
			if parser == "v4" {
				p.Namespace, p.Query, _ = strings.Cut(c.nsp, "?")
			}
			if c.id != nil {
				p.ID, p.HasID = *c.id, true
			}
			if c.data != nil {
				req["data"] = toWire(c.data)
				var err error
				p.Data, p.Attachments, err = AppendValue(nil, c.data, nil)
				require.NoError(t, err)
				if len(p.Attachments) > 0 {
					p.Type += BinaryEvent - Event // Event→BinaryEvent, Ack→BinaryAck
				}
			}
			a := ref.ask(map[string]any{"op": "encode", "parser": parser, "packet": req})
			text, err := Encode(&p)
			require.NoError(t, err)
			got := []frame{textFrame(text)}
			for _, b := range p.Attachments {
				got = append(got, binFrame(b))
			}
			assert.Equal(t, describe(a.Frames), describe(got), parser)
		}
	}
}

func describe(frames []frame) string {
	var b strings.Builder
	for i, f := range frames {
		if i > 0 {
			b.WriteString(" + ")
		}
		if f.Text != nil {
			b.WriteString(strconvQuote(*f.Text))
		} else {
			b.WriteString("bin:" + *f.Binary)
		}
	}
	return b.String()
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
