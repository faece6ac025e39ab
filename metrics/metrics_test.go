package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/siogo/siogo/socketio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCollectorExportsServerStats(t *testing.T) {
	srv := socketio.NewServer(socketio.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authorize: func(_ context.Context, hs *socketio.Handshake) (any, error) {
			if hs.Query.Get("deny") != "" {
				return nil, socketio.ErrUnauthorized
			}
			return nil, nil
		},
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	get := func(path string) string {
		resp, err := http.Get(hs.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	sid := strings.SplitN(get("/socket.io/1/"), ":", 2)[0]
	get("/socket.io/1/?deny=1")
	assert.Equal(t, "1::", get("/socket.io/1/xhr-polling/"+sid))
	// The poll's answer is released once written, which may be just after
	// the client read it.
	require.Eventually(t, func() bool { return srv.Stats().QueuedBytes == 0 }, 10*time.Second, 5*time.Millisecond)

	reg := prometheus.NewRegistry()
	c := NewCollector(srv)
	require.NoError(t, reg.Register(c))
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	assert.Greater(t, n, 8)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP siogo_handshakes_total Handshakes by result.
# TYPE siogo_handshakes_total counter
siogo_handshakes_total{result="accepted"} 1
siogo_handshakes_total{result="refused"} 1
# HELP siogo_queued_bytes Bytes held for clients: queued in sessions or taken by a transport and not yet written.
# TYPE siogo_queued_bytes gauge
siogo_queued_bytes 0
# HELP siogo_sessions Open sessions by transport (empty: handshaken, not connected).
# TYPE siogo_sessions gauge
siogo_sessions{transport="xhr-polling"} 1
# HELP siogo_sockets Connected sockets by namespace.
# TYPE siogo_sockets gauge
siogo_sockets{namespace=""} 1
`), "siogo_handshakes_total", "siogo_queued_bytes", "siogo_sessions", "siogo_sockets"))
}
