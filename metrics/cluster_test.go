package metrics

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/redis"
)

func TestClusterCollector(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	require.NoError(t, err, "redis-server is not installed; run `make deps`")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 5*time.Second, 20*time.Millisecond)

	cluster, err := redis.New(redis.Config{Addr: addr})
	require.NoError(t, err)
	defer cluster.Close()
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(NewClusterCollector(cluster)))
	require.Eventually(t, func() bool { return cluster.Stats().Subscriptions >= 1 }, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP siogo_cluster_events_total Cluster adapter events: broadcasts published, received from other nodes, dropped (Redis unreachable), malformed; subscriptions, membership resyncs, dead nodes' sockets swept.
# TYPE siogo_cluster_events_total counter
siogo_cluster_events_total{event="dropped"} 0
siogo_cluster_events_total{event="malformed"} 0
siogo_cluster_events_total{event="published"} 0
siogo_cluster_events_total{event="received"} 0
siogo_cluster_events_total{event="resynced"} 0
siogo_cluster_events_total{event="subscribed"} 1
siogo_cluster_events_total{event="swept"} 0
`)))
}
