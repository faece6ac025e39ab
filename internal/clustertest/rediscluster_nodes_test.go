package clustertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/siogo/siogo/internal/apptest"
	"github.com/siogo/siogo/internal/nodetest"
)

// startClusterNodes starts n testapp processes joined through the Redis
// Cluster rc (-redis-cluster).
func startClusterNodes(t *testing.T, rc *RedisCluster, n int, flags ...string) []*apptest.Testapp {
	t.Helper()
	nodes := make([]*apptest.Testapp, n)
	for i := range nodes {
		nodes[i] = apptest.StartTestapp(t, append([]string{
			"-redis-cluster", strings.Join(rc.Addrs(), ","), "-redis-ttl", nodeTTL.String(), "-log-level", "warn",
		}, flags...)...)
	}
	return nodes
}

// TestRealClientAcrossRedisClusterNodes runs testdata/cluster.js (see
// TestRealClientAcrossNodes) against three testapp nodes on a Redis
// Cluster of three masters (-redis-cluster, sharded channels), and on a
// standalone Redis with -redis-channels single.
func TestRealClientAcrossRedisClusterNodes(t *testing.T) {
	nodetest.Require(t)
	for name, start := range map[string]func() []*apptest.Testapp{
		"redis-cluster": func() []*apptest.Testapp { return startClusterNodes(t, StartRedisCluster(t), 3) },
		"single-channel": func() []*apptest.Testapp {
			return startNodes(t, standalone{StartRedis(t)}, 3, "-redis-channels", "single")
		},
	} {
		t.Run(name, func(t *testing.T) {
			nodes := start()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res := nodetest.Run(ctx, t, "cluster.js", "--urls", strings.Join(urls(nodes), ","), "--transport", "websocket")
			var names []string
			for _, r := range res {
				names = append(names, r.Scenario)
				assert.Truef(t, r.Pass, "%s", r.Describe())
			}
			assert.Equal(t, []string{"room-emit", "broadcast-except", "emit-to-id", "count", "ordering"}, names)
		})
	}
}
