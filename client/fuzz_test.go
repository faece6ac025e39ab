package client

// Fuzz targets for what the client decodes from a server: the handshake
// answer, jsonp-polling answers, and payloads (websocket frames or poll
// bodies) handled by a session. Their seeds run with the unit tests; make
// fuzz runs them (the Makefile finds them itself).

import (
	"encoding/json"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/transport"
	"github.com/siogo/siogo/packet"
)

// A handshake answer either parses into a session id that is one path
// segment of the transport URLs, a heartbeat timeout a Duration holds
// and the transport list, or is refused; nothing panics.
func FuzzParseHandshake(f *testing.F) {
	for _, s := range []string{
		"XkH2nq0RWcXw8pLfZ1aT:60:60:websocket,htmlfile,xhr-polling,jsonp-polling", // siogo
		"1nMpaZ9Ul-Ah_S2kJ5yu:60:60:websocket,htmlfile,xhr-polling,jsonp-polling", // the reference
		"sid::60:xhr-polling", // heartbeats off
		"sid:60:60:",
		"sid:60:60:websocket\n",
		"sid:9223372036:60:websocket", // the largest timeout that fits
		"sid:9223372037:60:websocket", // overflows a Duration
		"sid:99999999999999999999:60:websocket",
		"sid:-1:60:websocket", "sid:+5:60:websocket", "sid:0x10:60:websocket",
		"../x:60:60:websocket", "a/b:60:60:websocket", "a?b:60:60:websocket", "..:60:60:websocket",
		"a%2f:60:60:websocket", "a b:60:60:websocket", "a\x00:60:60:websocket", "é:60:60:websocket",
		":60:60:websocket", "sid:60:60", "sid:60:60:websocket:extra", "", "handshake unauthorized",
	} {
		f.Add(s)
	}
	base := &Client{}
	base.base.Scheme, base.base.Host = "http", "example.com"
	base.base.RawQuery = "token=x"
	base.opts.Resource = "socket.io"
	f.Fuzz(func(t *testing.T, body string) {
		hs, err := parseHandshake(body)
		if err != nil {
			require.Nil(t, hs)
			require.LessOrEqual(t, len(err.Error()), 100+4*64, "the server's text is clipped")
			return
		}
		require.NotEmpty(t, hs.sid)
		require.GreaterOrEqual(t, hs.hbTimeout, time.Duration(0))
		require.Zero(t, hs.hbTimeout%time.Second)
		require.NotEmpty(t, hs.transports)
		// The session id stays one path segment: the URL the client asks
		// for names this session and nothing else.
		u, err := url.Parse(base.transportURL(XHRPolling, hs.sid).String())
		require.NoError(t, err)
		require.Equal(t, "/socket.io/1/xhr-polling/"+hs.sid, u.Path)
		require.Equal(t, path.Clean(u.Path), u.Path, "a server cleaning the path finds the same session")
		require.Len(t, strings.Split(u.Path, "/"), 5)
		require.Equal(t, "token=x", u.RawQuery)
		require.Empty(t, u.Fragment)
	})
}

// A jsonp-polling answer either yields its payload or an error; an
// answer written the way siogo and the reference write it yields exactly
// the payload that was written.
func FuzzParseJSONP(f *testing.F) {
	for _, s := range []string{
		`io.j[0]("1::");`,
		`io.j[0]("\ufffd3\ufffd1::\ufffd3\ufffd2::");`,
		`io.j[0]("5:::{\"name\":\"x\",\"args\":[\"\u003c/script\u003e\"]}");`,
		`io.j[0](new Error("handshake unauthorized"));`,
		`io.j[1]("1::");`, `io.j[0]("1::")`, `io.j[0]('1::');`, `io.j[0](1);`, `io.j[0](`, "", "  \n",
		"1::", `io.j[0]("\ud800");`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		payload, err := parseJSONP(body, jsonpIndex)
		if err == nil {
			// What parsed comes out the same when written again.
			again, err := parseJSONP(jsonpBody(payload), jsonpIndex)
			require.NoError(t, err)
			require.Equal(t, payload, again)
		}
		// The fuzzed text as a payload, written as the server writes it.
		if utf8.ValidString(body) {
			got, err := parseJSONP(jsonpBody(body), jsonpIndex)
			require.NoError(t, err, "%q", body)
			require.Equal(t, body, got)
		}
	})
}

// jsonpBody is a jsonp-polling answer carrying payload, as siogo writes it.
func jsonpBody(payload string) string {
	return "io.j[" + jsonpIndex + "](" + string(transport.AppendScriptString(nil, []byte(payload))) + ");"
}

// Whatever a server sends in a payload, a session handles it without
// panicking, and everything the client queues in answer (acks,
// heartbeats, namespace joins) is a packet a server can decode.
func FuzzReceive(f *testing.F) {
	for _, s := range []string{
		"2::", "0::", "0::/chat", "1::/chat", "8::",
		`5:::{"name":"say","args":["hi",2,{"a":[1]}]}`,
		`5:1+::{"name":"ask","args":["q"]}`,
		`5:2::{"name":"ask","args":["q"]}`,
		`5:3+:/chat:{"name":"ask","args":[1]}`,
		`5:::{"name":"say","args":[1,"x",null]}`,
		`5:::{"name":"say"}`, `5:::{"args":[]}`, `5:::[1]`,
		"3:4+::hello", `4:5+::{"a":1}`, `4:::not json`,
		"6:::7+[1,2]", "6:::8", "6:::9+[", "7:::1+0", "7::/chat:2", "7:::2+1", "7:::",
		payloadOf("2::", `5:::{"name":"say","args":["a"]}`),
		"\ufffd3\ufffd2::", "\ufffd9\ufffd2::", "\ufffd", "9:::", "5:99999999999999999999+::{}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		c, err := newClient("http://127.0.0.1:1/?token=x", &Options{
			NoReconnect:      true,
			MaxQueuedPackets: 1 << 16,
			OnError:          func(error) {},
		})
		require.NoError(t, err)
		_ = c.On("say", func(text string, n int, m map[string]any) {})
		_ = c.On("ask", func(q string) (string, int) { return q + "?", len(q) })
		_ = c.On("any", func(args ...json.RawMessage) {})
		c.OnMessage(func(string) {})
		c.OnJSON(func(json.RawMessage) {})
		chat := c.Of("/chat")
		_ = chat.On("ask", func(n float64) float64 { return n * 2 })
		s := newSession(c, &handshake{sid: "fuzz"}, XHRPolling)
		s.receive([]string{"1::"}) // connected, so that every packet is handled
		parts, err := splitPayload(data)
		if err == nil {
			s.receive(parts)
		} else {
			s.receive([]string{data}) // a websocket frame is one packet
		}
		for _, frame := range c.take(s) {
			_, err := packet.Decode(string(frame))
			require.NoError(t, err, "the client queued %q", frame)
		}
		s.fail(ErrClosed)
		require.NoError(t, c.Close())
	})
}

// payloadOf frames packets as one payload, as a server does.
func payloadOf(pkts ...string) string {
	frames := make([][]byte, len(pkts))
	for i, p := range pkts {
		frames[i] = []byte(p)
	}
	return string(packet.AppendPayload(nil, frames))
}
