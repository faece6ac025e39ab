package engineio

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/siogo/siogo/internal/eioparser"
	"github.com/siogo/siogo/internal/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fuzzSessionV3 makes a v3 polling session of srv through the handler
// (no network) and returns its sid.
func fuzzSessionV3(t *testing.T, srv *Server, extra string) string {
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/engine.io/?EIO=3&transport=polling"+extra, nil))
	require.Equal(t, 200, w.Code)
	body := w.Body.String()
	if strings.HasPrefix(body, "___eio[") {
		var s string
		require.NoError(t, json.Unmarshal([]byte(strings.TrimSuffix(body[strings.IndexByte(body, '(')+1:], ");")), &s))
		body = s
	}
	return parseOpen(t, splitV3(t, body)[0]).SID
}

// FuzzPostV3 sends any body as a v3 polling POST in each of its forms:
// the text payload, the XHR2 binary payload (application/octet-stream)
// and the JSONP form body (d=…, the input as d's value and as the raw
// body). The engine answers 200, 400 or 413 and never panics; a 400 ends
// the session.
func FuzzPostV3(f *testing.F) {
	f.Add("6:4hello10:b4AQIDBA==", uint8(0))
	f.Add("\x00\x06\xff4hello\x01\x05\xff\x04\x01\x02\x03\x04", uint8(1))
	f.Add("\x00\x02\xff\x62\x34", uint8(1))
	f.Add(`6:4a\nb\\n1:2`, uint8(2))
	f.Add("d=1%3A2&d=3", uint8(3))
	f.Add("abc", uint8(0))
	f.Add("0:", uint8(0))
	f.Add("1:1", uint8(2))
	f.Add("6:2probe1:5", uint8(0))
	srv := NewServer(Config{MaxPayload: 4096, Logger: slog.New(slog.DiscardHandler)}, Echo{})
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, body string, form uint8) {
		q, ct, extra := "", "text/plain;charset=UTF-8", ""
		switch form % 4 {
		case 1:
			ct = "application/octet-stream"
		case 2:
			body = "d=" + url.QueryEscape(body)
			fallthrough
		case 3:
			q, ct, extra = "&j=0", "application/x-www-form-urlencoded", "&j=0"
		}
		sid := fuzzSessionV3(t, srv, extra)
		req := httptest.NewRequest("POST", "/engine.io/?EIO=3&transport=polling&sid="+sid+q, strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		assert.Contains(t, []int{http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge}, w.Code)
		if c := srv.lookup(sid); c != nil {
			assert.NotEqual(t, http.StatusBadRequest, w.Code, "a refused payload ends the session")
			c.closeNow(ReasonForcedClose, nil)
		}
	})
}

// clientEscapeJSONP escapes a payload as engine.io-client 3.x's JSONP
// transport does before it submits its form: \n becomes \\n, then each
// newline \n.
func clientEscapeJSONP(s string) string {
	s = strings.ReplaceAll(s, `\n`, "\\\n")
	return strings.ReplaceAll(s, "\n", `\n`)
}

// FuzzJSONPRoundTrip checks the JSONP POST decoding against the client's
// encoding: text messages (the input split at 0x1E), as a v3 payload
// escaped and form-encoded as the client sends it, come back as they
// went. A backslash before a newline does not survive the client's
// escaping (Node.js engine.io reads it as \n too), so such inputs are
// skipped.
func FuzzJSONPRoundTrip(f *testing.F) {
	f.Add("hello\x1ea\nb\x1ea\\nb\x1e€😀")
	f.Add("\\\\n\n\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		if !utf8.ValidString(in) || strings.Contains(in, "\\\n") {
			t.Skip()
		}
		var want []eioparser.Packet
		for _, part := range strings.Split(in, "\x1e") {
			p := eioparser.Packet{Type: eioparser.Message}
			if part != "" {
				p.Data = []byte(part)
			}
			want = append(want, p)
		}
		payload := string(eioparser.AppendPayloadV3(nil, want))
		body := "d=" + url.QueryEscape(clientEscapeJSONP(payload))
		got, err := decodePostV3([]byte(body), "application/x-www-form-urlencoded", true, eioparser.Limits{})
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
}

// FuzzJSONPAnswer checks that any payload, wrapped as a JSONP answer,
// cannot leave its string or its script: no <, >, raw newline, U+2028 or
// U+2029, and the string literal decodes back to the payload (valid
// UTF-8; invalid bytes become U+FFFD, as encoding/json replaces them).
func FuzzJSONPAnswer(f *testing.F) {
	f.Add([]byte(`30:4</script><script>alert(1)//` + "\u2028\u2029\"\\\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		out := appendJSONP(nil, 12, payload)
		require.True(t, bytes.HasPrefix(out, []byte(`___eio[12]("`)))
		require.True(t, bytes.HasSuffix(out, []byte(`");`)))
		for _, bad := range []string{"<", ">", "\n", "\r", "\u2028", "\u2029"} {
			assert.NotContains(t, string(out), bad)
		}
		var s string
		require.NoError(t, json.Unmarshal(out[len(`___eio[12](`):len(out)-2], &s))
		if utf8.Valid(payload) {
			assert.Equal(t, string(payload), s)
		}
	})
}

// FuzzPollAnswerV3 checks the v3 poll answer encoders against eioparser's
// decoders: the packets split out of the input at 0x1E (binary when they
// start with 0xFF, text otherwise) come back from the text payload
// (b64), the XHR2 binary payload and the JSONP answer.
func FuzzPollAnswerV3(f *testing.F) {
	f.Add([]byte("hello\x1e\xff\x01\x02\x03\x1e€😀"))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var pkts [][]byte
		var want []eioparser.Packet
		for _, part := range bytes.Split(in, []byte{0x1e}) {
			p := eioparser.Packet{Type: eioparser.Message}
			if len(part) > 0 && part[0] == transport.BinaryMark {
				pkts = append(pkts, AppendBinaryV3(nil, part[1:]))
				p.Binary, part = true, part[1:]
			} else {
				if !utf8.Valid(part) {
					t.Skip() // text messages are UTF-8
				}
				pkts = append(pkts, AppendText(nil, part))
			}
			if len(part) > 0 {
				p.Data = part
			}
			want = append(want, p)
		}
		body, ct := pollAnswerV3(pkts, true, -1)
		assert.Equal(t, "text/plain; charset=UTF-8", ct)
		got, err := eioparser.DecodePayloadV3(body, eioparser.Limits{})
		require.NoError(t, err)
		assert.Equal(t, want, got)

		body, ct = pollAnswerV3(pkts, false, -1)
		if ct == "application/octet-stream" {
			got, err = eioparser.DecodeBinaryPayloadV3(body, eioparser.Limits{})
		} else {
			got, err = eioparser.DecodePayloadV3(body, eioparser.Limits{})
		}
		require.NoError(t, err)
		assert.Equal(t, want, got)

		body, _ = pollAnswerV3(pkts, false, 3)
		var s string
		require.NoError(t, json.Unmarshal(bytes.TrimSuffix(bytes.TrimPrefix(body, []byte("___eio[3](")), []byte(");")), &s))
		got, err = eioparser.DecodePayloadV3([]byte(s), eioparser.Limits{})
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
}
