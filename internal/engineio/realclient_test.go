package engineio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/siogo/siogo/internal/nodetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealClient runs the real engine.io-client 6.x (testdata/eioclient.js)
// against an echo server: polling only, websocket only, and polling
// upgraded to websocket; text, binary and a burst each way.
func TestRealClient(t *testing.T) {
	nodetest.Require(t)
	h := newRecorder(true)
	srv := NewServer(Config{}, h)
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	hs := httptest.NewServer(mux)
	defer func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
	}()
	for _, mode := range []string{"polling", "websocket", "upgrade"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := nodetest.Run(ctx, t, "eioclient.js", "--url", hs.URL, "--mode", mode)
			require.Len(t, res, 1)
			assert.True(t, res[0].Pass, res[0].Describe())
			want := map[string]string{"polling": Polling, "websocket": WebSocket, "upgrade": WebSocket}[mode]
			assert.Equal(t, want, res[0].Transport)
			var obs struct {
				SID string `json:"sid"`
			}
			require.NoError(t, json.Unmarshal(res[0].Observed, &obs))
			assert.Equal(t, ReasonTransportClose, h.closed(t, obs.SID), "the client's close")
		})
	}
	require.Eventually(t, func() bool { return srv.SessionCount() == 0 }, wait, time.Millisecond)
}
