package socketio

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandshakeDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	assert.Equal(t, DefaultHandshakeTimeout, c.HandshakeTimeout)
	assert.Less(t, c.HandshakeTimeout, c.CloseTimeout)
	assert.Equal(t, 8<<10, c.MaxHandshakeBytes)
	c = Config{CloseTimeout: 5 * time.Second}.withDefaults()
	assert.Equal(t, 5*time.Second, c.HandshakeTimeout, "an unused handshake never outlives an abandoned poll")
}

// retainedSize is what a Handshake's headers count against
// MaxHandshakeBytes.
func retainedSize(h http.Header) int {
	n := 0
	for k, vv := range h {
		n += headerSize(k, vv)
	}
	return n
}

// A handshake carrying far more headers than MaxHandshakeBytes keeps at
// most that much of them: the credentials and the other headers kept
// first, then the others by name while they fit. Authorize sees what the
// session keeps.
func TestHandshakeKeepsBoundedHeaders(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen http.Header
	ts := newTestServer(t, Config{
		Authorize: func(_ context.Context, hs *Handshake) (any, error) {
			mu.Lock()
			seen = hs.Headers.Clone()
			mu.Unlock()
			return nil, nil
		},
	}, nil)
	cookie := "session=" + strings.Repeat("c", 1000)
	auth := "Bearer " + strings.Repeat("a", 200)
	hdr := []string{"Cookie", cookie, "Authorization", auth, "User-Agent", "retention-test"}
	var pads []string
	for i := range 300 { // 900 KB of headers
		name := fmt.Sprintf("X-Pad-%03d", i)
		pads = append(pads, name)
		hdr = append(hdr, name, strings.Repeat("p", 3000))
	}
	r := ts.get("/socket.io/1/?t=1", hdr...)
	require.Equal(t, http.StatusOK, r.status, r.body)
	sid, _, _ := strings.Cut(r.body, ":")
	sess := ts.srv.lookup(sid)
	require.NotNil(t, sess)
	got := sess.Handshake().Headers

	assert.LessOrEqual(t, retainedSize(got), DefaultMaxHandshakeBytes, "retained header bytes")
	assert.Equal(t, cookie, got.Get("Cookie"))
	assert.Equal(t, auth, got.Get("Authorization"))
	assert.Equal(t, "retention-test", got.Get("User-Agent"))
	var kept []string
	for k := range got {
		if strings.HasPrefix(k, "X-Pad-") {
			kept = append(kept, k)
		}
	}
	slices.Sort(kept)
	require.NotEmpty(t, kept, "the others fill what is left")
	assert.Equal(t, pads[:len(kept)], kept, "the others are taken by name")
	next := pads[len(kept)]
	assert.Greater(t, retainedSize(got)+headerSize(next, []string{strings.Repeat("p", 3000)}), DefaultMaxHandshakeBytes,
		"%s would have fit", next)
	mu.Lock()
	assert.Equal(t, seen, got, "Authorize sees what the session keeps")
	mu.Unlock()
}

func TestPackHeaderOrder(t *testing.T) {
	h := http.Header{
		"Cookie":        {strings.Repeat("c", 100)},
		"Authorization": {strings.Repeat("a", 5000)},
		"X-B":           {strings.Repeat("b", 3000)},
		"X-A":           {"1", "2"},
		"User-Agent":    {"ua"},
	}
	kept, dropped := packHeader(h, 1000)
	assert.Equal(t, http.Header{"Cookie": h["Cookie"], "User-Agent": {"ua"}, "X-A": {"1", "2"}}, kept,
		"whole headers, the first ones first; one that does not fit does not stop smaller ones")
	assert.Equal(t, []string{"Authorization", "X-B"}, dropped)
	assert.LessOrEqual(t, retainedSize(kept), 1000)

	kept, dropped = packHeader(h, retainedSize(h))
	assert.Equal(t, h, kept, "everything fits")
	assert.Nil(t, dropped)
}

// A handshake URL longer than MaxHandshakeBytes is refused, as JSONP too.
func TestHandshakeURLBound(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, nil)
	long := "/socket.io/1/?t=1&pad=" + strings.Repeat("q", DefaultMaxHandshakeBytes)
	r := ts.get(long)
	assert.Equal(t, http.StatusRequestURITooLong, r.status)
	assert.Equal(t, "handshake URL too long", r.body)
	r = ts.get(long + "&jsonp=2")
	assert.Equal(t, `io.j[2](new Error("handshake URL too long"));`, r.body)
	assert.Equal(t, 0, ts.srv.SessionCount())

	roomy := newTestServer(t, Config{MaxHandshakeBytes: 2 * DefaultMaxHandshakeBytes}, nil)
	sid := roomy.handshake("&pad=" + strings.Repeat("q", DefaultMaxHandshakeBytes))
	assert.Len(t, roomy.srv.lookup(sid).Handshake().Query.Get("pad"), DefaultMaxHandshakeBytes)
}

// A handshake that never opens a transport is closed after
// HandshakeTimeout; sessions that did (a poll, a websocket, only a POST)
// are not, and live on to the close timeout.
func TestUnusedHandshakeExpiresBeforeCloseTimeout(t *testing.T) {
	t.Parallel()
	// Generous: each used session must reach its transport within it.
	const hst = time.Second
	rec := &recorder{}
	ts := newTestServer(t, Config{
		HandshakeTimeout:  hst,
		CloseTimeout:      time.Minute,
		PollingDuration:   50 * time.Millisecond,
		HeartbeatInterval: 10 * time.Second,
		HeartbeatTimeout:  time.Minute,
	}, app(rec, ""))
	start := time.Now()
	unused := ts.handshake("")
	polled := ts.connectPolling("")
	posted := ts.handshake("")
	ts.post("xhr-polling", posted, "2::")
	ws := ts.dialWS(ts.handshake(""), wsOptions{pong: true})
	ws.expect("1::")

	require.Eventually(t, func() bool { return ts.srv.lookup(unused) == nil }, hst+waitFor, tick, "the unused handshake never expired")
	assert.GreaterOrEqual(t, time.Since(start), hst, "expired before HandshakeTimeout")
	stays(t, 2*hst, func() bool {
		return ts.srv.lookup(polled) != nil && ts.srv.lookup(posted) != nil && !ws.closed()
	}, "a used session expired with the handshake timeout")
	assert.Equal(t, 3, ts.srv.SessionCount())
}

// BenchmarkHandshakeRetainedHeap reports the live heap (after GC) that
// 300 unused handshakes hold when each carries about 1 MiB of headers
// (1,024 headers of 1 KiB, through an http.Server whose MaxHeaderBytes
// lets them in): at most MaxHandshakeBytes of them each.
//
//	go test -run '^$' -bench HandshakeRetainedHeap -benchtime 1x ./socketio
func BenchmarkHandshakeRetainedHeap(b *testing.B) {
	const handshakes = 300
	pad := strings.Repeat("p", 1<<10)
	for range b.N {
		srv := NewServer(Config{Logger: discardLogger})
		hs := httptest.NewUnstartedServer(srv)
		hs.Config.MaxHeaderBytes = 4 << 20
		hs.Start()
		tr := &http.Transport{}
		client := &http.Client{Transport: tr}
		before := liveHeap()
		for range handshakes {
			req, err := http.NewRequest(http.MethodGet, hs.URL+"/socket.io/1/?t=1", nil)
			require.NoError(b, err)
			req.Header.Set("Cookie", "session=abc")
			for j := range 1 << 10 {
				req.Header.Set(fmt.Sprintf("X-Pad-%04d", j), pad)
			}
			resp, err := client.Do(req)
			require.NoError(b, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			require.Equal(b, http.StatusOK, resp.StatusCode)
		}
		tr.CloseIdleConnections()
		hs.CloseClientConnections()
		require.Equal(b, handshakes, srv.SessionCount())
		b.ReportMetric(float64(liveHeap()-before)/(1<<20), "live-MiB")
		srv.Close()
		hs.Close()
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
