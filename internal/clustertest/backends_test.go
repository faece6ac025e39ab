package clustertest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/siogo/siogo/internal/apptest"
)

// backend is the Redis a scenario's nodes share: a standalone redis-server
// or a Redis Cluster. Every scenario body takes one and runs on each (see
// onBackends), so the same checks hold on both.
type backend interface {
	// flags point a testapp node at the backend.
	flags() []string
	// kill kills every redis-server process of the backend (SIGKILL, data
	// lost); start starts them again, empty, and waits until the backend
	// serves again (a cluster: every slot served, cluster_state:ok).
	kill()
	start()
	// partialOutages are restarts of some of the backend's processes,
	// the others kept running (none for a standalone Redis).
	partialOutages() []outage
	// standalone reports whether the backend is one redis-server.
	standalone() bool
	// minNodes is the least number of testapp nodes a scenario runs with.
	minNodes() int
}

// standalone is one redis-server.
type standalone struct{ r *Redis }

func (s standalone) flags() []string { return []string{"-redis", s.r.Addr()} }
func (s standalone) kill()           { s.r.Kill() }
func (s standalone) start()          { s.r.Start() }
func (s standalone) minNodes() int   { return 1 }

func (s standalone) partialOutages() []outage { return nil }

func (standalone) standalone() bool { return true }

// cluster is a three-master Redis Cluster; the scenarios run at least
// four testapp nodes on it, so that the nodes' subscriptions and the
// keys they write are spread over every master.
type cluster struct{ c *RedisCluster }

func (c cluster) flags() []string {
	return []string{"-redis-cluster", strings.Join(c.c.Addrs(), ",")}
}

// kill and start restart every master: the cluster comes back empty,
// with its slots (each master keeps its nodes.conf), as a standalone
// Redis restarted without persistence.
func (c cluster) kill()         { c.c.Kill() }
func (c cluster) start()        { c.c.Start() }
func (c cluster) minNodes() int { return 4 }

func (cluster) standalone() bool { return false }

// partialOutages restart each master alone: its slots' keys are lost,
// the other masters' kept. The restart (300 ms) is quicker than the
// cluster-node-timeout (2 s), so the other masters never mark it failed
// and the cluster never refuses commands.
func (c cluster) partialOutages() []outage {
	var out []outage
	for i := range c.c.Addrs() {
		out = append(out, outage{
			name:  fmt.Sprintf("cluster master %d", i),
			kill:  func() { c.c.KillNode(i) },
			start: c.c.Start,
		})
	}
	return out
}

// backendKinds are the backends of onBackends, by subtest name.
var backendKinds = []struct {
	name  string
	start func(testing.TB) backend
}{
	{"redis", func(t testing.TB) backend { return standalone{StartRedis(t)} }},
	{"cluster", func(t testing.TB) backend { return cluster{StartRedisCluster(t)} }},
}

// onBackends runs body as one subtest per backend: "redis" (a standalone
// redis-server) and "cluster" (a three-master Redis Cluster), each started
// for the subtest. SIOGO_REDIS_BACKENDS (comma-separated names) limits
// which run, for a quicker focused run.
func onBackends(t *testing.T, body func(t *testing.T, be backend)) {
	runBackends(t, os.Getenv("SIOGO_REDIS_BACKENDS"), body)
}

// onClientBackends is onBackends for the scenarios whose subject is a
// client generation or a balancer in front of the nodes, not the Redis
// between them: what they need of Redis (room emits, counts, the session
// directory and the forwarding of a session's requests to its node) runs
// on both backends in other scenarios. They run on the standalone Redis
// ("redis") only, unless SIOGO_REDIS_BACKENDS is set:
// SIOGO_REDIS_BACKENDS=redis,cluster runs the full matrix.
func onClientBackends(t *testing.T, body func(t *testing.T, be backend)) {
	only := os.Getenv("SIOGO_REDIS_BACKENDS")
	if only == "" {
		only = "redis"
	}
	runBackends(t, only, body)
}

// runBackends runs body on each backend named in only (comma-separated;
// empty: every backend).
func runBackends(t *testing.T, only string, body func(t *testing.T, be backend)) {
	for _, k := range backendKinds {
		if only != "" && !strings.Contains(","+only+",", ","+k.name+",") {
			continue
		}
		t.Run(k.name, func(t *testing.T) { body(t, k.start(t)) })
	}
}

// outageTTL are startNodes' flags for the scenarios where a node dies or
// Redis restarts: the short nodeTTL (the others run with steadyTTL).
var outageTTL = []string{"-redis-ttl", nodeTTL.String()}

// startNodes starts testapp processes sharing be (each forwards the
// requests of sessions it does not hold to their node): n of them, or
// be.minNodes() if more; with a liveness TTL of steadyTTL (a -redis-ttl
// in flags wins: outageTTL), and with -redis-channels
// $SIOGO_REDIS_CHANNELS if that is set (single or sharded; unset, the
// testapp's default). Scenarios use the first n; the others take part as
// a deployment's idle nodes do (they receive broadcasts and answer
// cluster-wide requests).
func startNodes(t *testing.T, be backend, n int, flags ...string) []*apptest.Testapp {
	t.Helper()
	nodes := make([]*apptest.Testapp, max(n, be.minNodes()))
	common := append(be.flags(), "-redis-ttl", steadyTTL.String(), "-log-level", "warn")
	if ch := os.Getenv("SIOGO_REDIS_CHANNELS"); ch != "" {
		common = append(common, "-redis-channels", ch)
	}
	for i := range nodes {
		nodes[i] = apptest.StartTestapp(t, append(append([]string{}, common...), flags...)...)
	}
	return nodes
}

// outage is a way to restart a backend's Redis: kill, then start again.
type outage struct {
	name        string
	kill, start func()
}
