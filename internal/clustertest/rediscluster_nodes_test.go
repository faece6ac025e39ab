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
			"-redis-cluster", strings.Join(rc.Addrs(), ","), "-redis-ttl", steadyTTL.String(), "-log-level", "warn",
		}, flags...)...)
	}
	return nodes
}

// TestRealClientAcrossRedisClusterNodes runs testdata/cluster.js (see
// TestRealClientAcrossNodes) over websocket against three testapp nodes on
// a Redis Cluster of three masters with -redis-channels sharded: the
// channels per namespace and room are spread over the masters, and a
// master can hold none of a node's channels. (TestRealClientAcrossNodes
// runs the same scenarios on a standalone Redis and on a Redis Cluster
// with the testapp's default, single channels.)
func TestRealClientAcrossRedisClusterNodes(t *testing.T) {
	nodetest.Require(t)
	nodes := startClusterNodes(t, StartRedisCluster(t), 3, "-redis-channels", "sharded")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "cluster.js", "--urls", strings.Join(urls(nodes), ","), "--transport", "websocket")
	var names []string
	for _, r := range res {
		names = append(names, r.Scenario)
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	assert.Equal(t, []string{"room-emit", "broadcast-except", "emit-to-id", "count", "ordering"}, names)
}
