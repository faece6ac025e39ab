package clustertest

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/siogo/siogo/internal/testtools"
)

// RedisCluster is a real Redis Cluster of RedisClusterSize masters (no
// replicas, no persistence), each a redis-server with cluster-enabled on
// a loopback port, made one cluster with redis-cli --cluster create.
type RedisCluster struct {
	t     testing.TB
	bin   string
	nodes []*clusterNode
}

// RedisClusterSize is how many masters StartRedisCluster starts.
const RedisClusterSize = 3

type clusterNode struct {
	port int
	dir  string

	mu   sync.Mutex
	proc *process
}

func (n *clusterNode) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// StartRedisCluster starts a Redis Cluster of three masters on free
// loopback ports (each with its cluster bus on port+10000), creates it
// and waits until every node reports cluster_state:ok. The processes are
// killed when the test ends. A missing redis-server or redis-cli skips
// the test, or fails it under CI or make test (see testtools). Redis
// 7 or later is needed for sharded pub/sub.
func StartRedisCluster(t testing.TB) *RedisCluster {
	t.Helper()
	rc := &RedisCluster{t: t, bin: testtools.Require(t, "redis-server")}
	cli := testtools.Require(t, "redis-cli")
	t.Cleanup(rc.Kill)
	ports := freeClusterPorts(t, RedisClusterSize)
	for _, p := range ports {
		rc.nodes = append(rc.nodes, &clusterNode{port: p, dir: t.TempDir()})
	}
	for _, n := range rc.nodes {
		if err := rc.startNode(n); err != nil {
			t.Fatalf("redis cluster node %s: %v", n.addr(), err)
		}
	}
	args := []string{"--cluster", "create"}
	args = append(args, rc.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	rc.waitOK()
	return rc
}

// Addrs returns the masters' host:port addresses (the seed nodes).
func (rc *RedisCluster) Addrs() []string {
	out := make([]string, len(rc.nodes))
	for i, n := range rc.nodes {
		out[i] = n.addr()
	}
	return out
}

// Kill stops every node with SIGKILL, as a crash would; the data is lost
// (no persistence), the cluster configuration files are kept.
func (rc *RedisCluster) Kill() {
	for i := range rc.nodes {
		rc.KillNode(i)
	}
}

// KillNode stops node i (of Addrs) alone with SIGKILL; Start starts it
// again, empty, with its slots.
func (rc *RedisCluster) KillNode(i int) {
	n := rc.nodes[i]
	n.mu.Lock()
	p := n.proc
	n.proc = nil
	n.mu.Unlock()
	if p != nil {
		p.stop(syscall.SIGKILL)
	}
}

// Start restarts every node that is not running, on its port and with its
// cluster configuration file, so the cluster comes back with the same
// slots and no data (a Redis Cluster restarted empty), and waits until
// every node reports cluster_state:ok.
func (rc *RedisCluster) Start() {
	rc.t.Helper()
	for _, n := range rc.nodes {
		n.mu.Lock()
		running := n.proc != nil
		n.mu.Unlock()
		if running {
			continue
		}
		var err error
		for range 3 {
			if err = rc.startNode(n); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond) // the port may still be held
		}
		if err != nil {
			rc.t.Fatalf("restarting redis cluster node %s: %v", n.addr(), err)
		}
	}
	rc.waitOK()
}

// Restart kills every node and starts them again (see Start).
func (rc *RedisCluster) Restart() {
	rc.t.Helper()
	rc.Kill()
	rc.Start()
}

func (rc *RedisCluster) startNode(n *clusterNode) error {
	p, err := startRedisProcess(rc.bin, n.addr(), "--port", strconv.Itoa(n.port), "--bind", "127.0.0.1",
		"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(n.dir, "nodes.conf"),
		"--cluster-node-timeout", "2000",
		"--save", "", "--appendonly", "no", "--dir", n.dir, "--loglevel", "warning")
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.proc = p
	n.mu.Unlock()
	return nil
}

// waitOK waits until every node says cluster_state:ok.
func (rc *RedisCluster) waitOK() {
	rc.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var bad error
		for _, n := range rc.nodes {
			if err := clusterOK(n.addr()); err != nil {
				bad = fmt.Errorf("%s: %w", n.addr(), err)
				break
			}
		}
		if bad == nil {
			return
		}
		if time.Now().After(deadline) {
			rc.t.Fatalf("redis cluster not ok: %v", bad)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clusterOK sends CLUSTER INFO inline and checks cluster_state:ok.
func clusterOK(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("CLUSTER INFO\r\n")); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(head, "$") {
		return fmt.Errorf("unexpected reply %q", head)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cluster_state:"); ok {
			if v == "ok" {
				return nil
			}
			return fmt.Errorf("cluster_state:%s", v)
		}
	}
}

// freeClusterPorts returns n loopback ports free right now whose cluster
// bus ports (port+10000) are free too.
func freeClusterPorts(t testing.TB, n int) []int {
	t.Helper()
	var out []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for tries := 0; len(out) < n; tries++ {
		if tries > 1000 {
			t.Fatal("no free port pair for a redis cluster node")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
		p := l.Addr().(*net.TCPAddr).Port
		if p+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		held = append(held, bus)
		out = append(out, p)
	}
	return out
}
