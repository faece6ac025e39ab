package engineio

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/siogo/siogo/internal/eioparser"
	"github.com/siogo/siogo/internal/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzAppendPayload checks the engine's poll answer encoder against
// eioparser's decoder: the packets, split out of the input at 0x1E (text,
// or binary when they start with 0xFF), come back as they went.
func FuzzAppendPayload(f *testing.F) {
	f.Add([]byte("hello\x1e\xff\x01\x02\x03\x1e"))
	f.Add([]byte("\xff"))
	f.Add([]byte("€ \x1e\x1e\xffb"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var pkts [][]byte
		var want []eioparser.Packet
		for _, part := range bytes.Split(in, []byte{0x1e}) {
			if len(part) > 0 && part[0] == transport.BinaryMark {
				pkts = append(pkts, AppendBinary(nil, part[1:]))
				p := eioparser.Packet{Type: eioparser.Message, Binary: true}
				if len(part) > 1 {
					p.Data = part[1:]
				}
				want = append(want, p)
				continue
			}
			pkts = append(pkts, AppendText(nil, part))
			p := eioparser.Packet{Type: eioparser.Message}
			if len(part) > 0 {
				p.Data = part
			}
			want = append(want, p)
		}
		got, err := eioparser.DecodePayload(appendPayload(nil, pkts), eioparser.Limits{})
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
}

// fuzzSession makes a polling session of srv through the handler (no
// network) and returns its sid.
func fuzzSession(t *testing.T, srv *Server) string {
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=polling", nil))
	require.Equal(t, 200, w.Code)
	return parseOpen(t, strings.Split(w.Body.String(), "\x1e")[0]).SID
}

// FuzzPost sends any body as a polling POST: the engine answers 200, 400
// or 413 and never panics; a 400 ends the session.
func FuzzPost(f *testing.F) {
	f.Add("4hello\x1e4world\x1ebAQIDBA==")
	f.Add("3\x1e1\x1e4after")
	f.Add("abc")
	f.Add("b!!!")
	f.Add("\x1e\x1e")
	f.Add("2probe")
	f.Add("5\x1e6\x1e0")
	srv := NewServer(Config{MaxPayload: 4096, Logger: slog.New(slog.DiscardHandler)}, Echo{})
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, body string) {
		sid := fuzzSession(t, srv)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("POST", "/engine.io/?EIO=4&transport=polling&sid="+sid, strings.NewReader(body)))
		assert.Contains(t, []int{http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge}, w.Code)
		if c := srv.lookup(sid); c != nil {
			assert.NotEqual(t, http.StatusBadRequest, w.Code, "a refused payload ends the session")
			c.closeNow(ReasonForcedClose, nil)
		}
	})
}

// FuzzWebSocketFrame hands any text or binary frame to a websocket
// session's link: the engine acts on it or ends the session, and never
// panics.
func FuzzWebSocketFrame(f *testing.F) {
	f.Add("4hello", false)
	f.Add("\x01\x02", true)
	f.Add("abc", false)
	f.Add("1", false)
	f.Add("bAQI=", false)
	f.Add("", false)
	srv := NewServer(Config{Logger: slog.New(slog.DiscardHandler)}, Echo{})
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, frame string, binary bool) {
		sid := fuzzSession(t, srv)
		c := srv.lookup(sid)
		require.NotNil(t, c)
		l := &wsLink{c: c}
		c.mu.Lock()
		c.ws, c.wsWaker, c.onWS = l, l.waker, true // as after an upgrade, without a connection
		c.mu.Unlock()
		if binary {
			l.ReceiveBinary([]byte(frame))
		} else {
			l.Receive(frame)
		}
		pkts, _ := l.TakeNow()
		l.Hold(-transport.PacketBytes(pkts))
		c.closeNow(ReasonForcedClose, nil)
		assert.Equal(t, 0, c.QueuedBytes())
	})
}
