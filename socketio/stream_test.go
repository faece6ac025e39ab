package socketio

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/transport"
)

// activeRequests counts the server's connections in the middle of a
// request (a hijacked websocket is not one).
func (ts *testServer) activeRequests() int {
	ts.connMu.Lock()
	defer ts.connMu.Unlock()
	n := 0
	for _, st := range ts.conns {
		if st == http.StateActive {
			n++
		}
	}
	return n
}

// A session has one stream at a time. While a websocket or htmlfile
// stream is attached, every other transport GET for the session — a
// second stream of either kind, or a poll — is refused with 409 and its
// response ends at once; the attached stream, and what the session says
// its transport is, stay as they were.
func TestOneStreamPerSession(t *testing.T) {
	t.Parallel()
	for _, first := range []string{transport.HTMLFile, transport.WebSocket} {
		for _, second := range []string{transport.HTMLFile, transport.WebSocket, transport.XHRPolling, transport.JSONPPolling} {
			t.Run(first+"+"+second, func(t *testing.T) {
				t.Parallel()
				rec := &recorder{}
				ts := newTestServer(t, Config{PollingDuration: 5 * time.Second}, app(rec, ""))
				sid := ts.handshake("")
				var next func() string // the first stream's next message
				if first == transport.HTMLFile {
					st := ts.openHTMLFile(sid)
					seen := 0 // packets returned so far
					next = func() string {
						t.Helper()
						var pkts []string
						require.Eventually(t, func() bool {
							pkts = nil
							for _, p := range st.payloads(t) {
								pkts = append(pkts, decodePayload(t, p)...)
							}
							return len(pkts) > seen
						}, waitFor, tick, "no packet %d on the htmlfile stream: %q", seen, st.text())
						seen++
						return pkts[seen-1]
					}
				} else {
					ws := ts.dialWS(sid, wsOptions{})
					next = ws.next
				}
				require.Equal(t, "1::", next())

				for range 2 {
					if second == transport.WebSocket {
						c, resp, err := ts.tryDialWS(sid)
						if c != nil {
							_ = c.Close()
						}
						require.Error(t, err, "the second websocket is upgraded")
						require.NotNil(t, resp)
						assert.Equal(t, http.StatusConflict, resp.StatusCode)
					} else {
						// The answer, body and all, comes back at once.
						r := ts.get(transportPath(second, sid) + "?i=0")
						assert.Equal(t, http.StatusConflict, r.status, "answered %q", r.body)
						assert.Equal(t, "session already has a stream", r.body)
						assert.Less(t, r.took, 2*time.Second, "the refused request was held")
					}
				}
				assert.Equal(t, first, ts.srv.lookup(sid).Transport(), "a refused request changed the transport")

				// The first stream carries on, and gets every packet.
				s := ts.socket("", sid)
				for i := range 3 {
					require.NoError(t, s.Emit("still", i))
				}
				for i := range 3 {
					assert.Equal(t, `5:::{"name":"still","args":[`+string(rune('0'+i))+`]}`, next())
				}
				assert.Empty(t, rec.withPrefix("disconnect"))

				// No request is left open but the first stream (a
				// websocket is hijacked, so not a request).
				want := 0
				if first == transport.HTMLFile {
					want = 1
				}
				require.Eventually(t, func() bool { return ts.activeRequests() == want }, waitFor, tick,
					"requests open: %d, want %d", ts.activeRequests(), want)
			})
		}
	}
}

// A websocket upgrade that fails after the session was attached to it
// leaves the session as a poll's end does: it closes after CloseTimeout
// unless the client comes back.
func TestFailedUpgradeStartsCloseTimer(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{CloseTimeout: 300 * time.Millisecond}, app(rec, ""))
	sid := ts.handshake("")
	// An upgrade request without a key or version: refused by the upgrader.
	r := ts.get(transportPath("websocket", sid), "Connection", "Upgrade", "Upgrade", "websocket")
	require.Equal(t, http.StatusBadRequest, r.status, "answered %q", r.body)
	require.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || r.body != "", "an error response")
	rec.waitCount(t, "disconnect  "+sid+" close timeout", 1)
	require.Eventually(t, func() bool { return ts.srv.lookup(sid) == nil }, waitFor, tick)
}
