package engineio

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/siogo/siogo/internal/eioparser"
	"github.com/siogo/siogo/internal/transport"
)

// Engine.IO v3 polling: the answer and body forms of socket.io-client
// 1.x/2.x (engine.io-client 3.x), as Node.js engine.io with allowEIO3
// reads and writes them.

// packetV3 is the eioparser form of a queued packet of a v3 session
// (transport form: text "<type digit><data>", or transport.BinaryMark,
// the type byte and the data); the data aliases p.
func packetV3(p []byte) eioparser.Packet {
	if len(p) > 0 && p[0] == transport.BinaryMark {
		if len(p) < 2 {
			return eioparser.Packet{Type: eioparser.Message, Data: []byte{}, Binary: true}
		}
		return eioparser.Packet{Type: eioparser.Type(p[1]), Data: p[2:], Binary: true}
	}
	if len(p) == 0 {
		return eioparser.Packet{Type: eioparser.Noop}
	}
	return eioparser.Packet{Type: eioparser.Type(p[0] - '0'), Data: p[1:]}
}

// pollAnswerV3 encodes the answer to a v3 poll: for a JSONP request
// (jsonp >= 0, its j index) the text payload as the JavaScript call
// ___eio[j]("…"); else, when the client supports binary and a packet is
// binary, the XHR2 binary payload; else the text payload
// ("<length>:<packet>", binary packets as "b4<base64>"). No packet: an
// empty body (the session has ended).
func pollAnswerV3(pkts [][]byte, b64 bool, jsonp int) (body []byte, contentType string) {
	if len(pkts) == 0 {
		if jsonp >= 0 {
			return nil, "text/javascript; charset=UTF-8"
		}
		return nil, "text/plain; charset=UTF-8"
	}
	ps := make([]eioparser.Packet, len(pkts))
	binary := false
	for i, p := range pkts {
		ps[i] = packetV3(p)
		binary = binary || ps[i].Binary
	}
	if jsonp >= 0 {
		return appendJSONP(nil, jsonp, eioparser.AppendPayloadV3(nil, ps)), "text/javascript; charset=UTF-8"
	}
	if binary && !b64 {
		return eioparser.AppendBinaryPayloadV3(nil, ps), "application/octet-stream"
	}
	return eioparser.AppendPayloadV3(nil, ps), "text/plain; charset=UTF-8"
}

// appendJSONP appends the JSONP answer ___eio[j]("payload"); to dst: the
// payload as a JavaScript string literal escaped so that it cannot end
// the string or the script it is in (<, >, &, U+2028, U+2029 escaped, as
// 0.9's jsonp transport does; Node.js escapes only U+2028 and U+2029).
func appendJSONP(dst []byte, j int, payload []byte) []byte {
	dst = append(dst, "___eio["...)
	dst = strconv.AppendInt(dst, int64(j), 10)
	dst = append(dst, "]("...)
	dst = transport.AppendScriptString(dst, payload)
	return append(dst, ");"...)
}

// jsonpIndex is the JSONP index of a v3 polling request: its j query
// parameter's digits (Node.js engine.io drops the others), -1 for a
// request without j (not JSONP).
func jsonpIndex(r *http.Request) int {
	j, ok := transport.QueryValue(r.URL.RawQuery, "j")
	if !ok {
		return -1
	}
	n := 0
	for _, c := range []byte(j) {
		if c >= '0' && c <= '9' && n < 1e8 {
			n = n*10 + int(c-'0')
		}
	}
	return n
}

// errNoJSONPData is a JSONP POST body without a d field.
var errNoJSONPData = errors.New("engineio: JSONP POST body without d")

// decodePostV3 decodes the body of a v3 POST: the XHR2 binary payload
// (Content-Type application/octet-stream), a JSONP form body d=<payload>
// (jsonp: the request has j), or the text payload.
func decodePostV3(body []byte, contentType string, jsonp bool, lim eioparser.Limits) ([]eioparser.Packet, error) {
	switch {
	case strings.HasPrefix(contentType, "application/octet-stream"):
		return eioparser.DecodeBinaryPayloadV3(body, lim)
	case jsonp:
		d, err := jsonpData(body)
		if err != nil {
			return nil, err
		}
		return eioparser.DecodePayloadV3(d, lim)
	}
	return eioparser.DecodePayloadV3(body, lim)
}

// jsonpData is the payload of a JSONP POST body
// (application/x-www-form-urlencoded, its d field). The client, whose
// form could turn "\n" into "\r\n", sends a newline as the two characters
// \n and a \n of the payload as \\n: both are undone here, as by Node.js
// engine.io.
func jsonpData(body []byte) ([]byte, error) {
	vals, _ := url.ParseQuery(string(body)) // lenient, as Node.js's querystring: bad pairs are skipped
	if !vals.Has("d") {
		return nil, errNoJSONPData
	}
	return unescapeJSONP([]byte(vals.Get("d"))), nil
}

// unescapeJSONP undoes the client's newline escaping: \n (not preceded
// by a backslash) is a newline, \\n is \n.
func unescapeJSONP(d []byte) []byte {
	if !bytes.Contains(d, []byte(`\n`)) {
		return d
	}
	out := make([]byte, 0, len(d))
	for i := 0; i < len(d); i++ {
		switch {
		case d[i] == '\\' && i+2 < len(d) && d[i+1] == '\\' && d[i+2] == 'n':
			out = append(out, '\\', 'n')
			i += 2
		case d[i] == '\\' && i+1 < len(d) && d[i+1] == 'n':
			out = append(out, '\n')
			i++
		default:
			out = append(out, d[i])
		}
	}
	return out
}
