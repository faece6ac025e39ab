package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/clustertest"
	"github.com/siogo/siogo/sioredis"
)

// The Redis adapter is a ClusterSource.
var _ ClusterSource = (*sioredis.Cluster)(nil)

func TestClusterCollector(t *testing.T) {
	addr := clustertest.StartRedis(t).Addr()

	cluster, err := sioredis.New(sioredis.Config{Addr: addr})
	require.NoError(t, err)
	defer cluster.Close()
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(NewClusterCollector(cluster)))
	require.Eventually(t, func() bool { return cluster.Stats().Subscriptions >= 1 }, 5*time.Second, 20*time.Millisecond)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP siogo_cluster_events_total Cluster adapter events: broadcasts published, received from other nodes, dropped (Redis unreachable), malformed or forged; subscriptions, membership resyncs, membership queue overflows, dead nodes' sockets swept, session directory entries refused.
# TYPE siogo_cluster_events_total counter
siogo_cluster_events_total{event="dropped"} 0
siogo_cluster_events_total{event="malformed"} 0
siogo_cluster_events_total{event="overflowed"} 0
siogo_cluster_events_total{event="published"} 0
siogo_cluster_events_total{event="received"} 0
siogo_cluster_events_total{event="refused_lookup"} 0
siogo_cluster_events_total{event="resynced"} 0
siogo_cluster_events_total{event="subscribed"} 1
siogo_cluster_events_total{event="swept"} 0
`)))
}
