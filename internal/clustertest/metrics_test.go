package clustertest

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/apptest"
)

// clusterEvent reads siogo_cluster_events_total{event=...} from a testapp
// node's -metrics address; -1 if it is not there.
func clusterEvent(t *testing.T, metricsAddr, event string) float64 {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get("http://" + metricsAddr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^siogo_cluster_events_total\{event="` + regexp.QuoteMeta(event) + `"\} (\S+)$`).FindSubmatch(b)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	return v
}

// TestTestappMetrics: the testapp's -metrics address serves the cluster
// adapter's counters (what cmd/siobench -cluster reads): a room emit made
// on node A is counted published there and received on node B.
func TestTestappMetrics(t *testing.T) {
	r := StartRedis(t)
	ma, mb := apptest.FreeAddr(t), apptest.FreeAddr(t)
	a := apptest.StartTestapp(t, "-redis", r.Addr(), "-redis-ttl", steadyTTL.String(), "-log-level", "warn", "-metrics", ma)
	b := apptest.StartTestapp(t, "-redis", r.Addr(), "-redis-ttl", steadyTTL.String(), "-log-level", "warn", "-metrics", mb)
	ca, _ := dial(t, a.URL)
	cb, _ := dial(t, b.URL)
	got := make(chan string, 1)
	require.NoError(t, cb.On("room", func(s string) { got <- s }))
	require.Equal(t, "[true]", call(t, cb, "join", "m"))
	require.Eventually(t, func() bool { return count(t, ca, "m") == 1 }, waitFor, tick)
	require.NoError(t, ca.Emit("to-room", "m", "hi"))
	select {
	case s := <-got:
		assert.Equal(t, "hi", s)
	case <-time.After(waitFor):
		t.Fatal("the room emit did not reach node B")
	}
	// Published is counted once Redis has answered the PUBLISH, which may
	// come after B got the message.
	assert.Eventually(t, func() bool { return clusterEvent(t, ma, "published") >= 1 }, waitFor, tick)
	assert.Eventually(t, func() bool { return clusterEvent(t, mb, "received") >= 1 }, waitFor, tick)
	assert.Equal(t, 0.0, clusterEvent(t, mb, "dropped"))
}
