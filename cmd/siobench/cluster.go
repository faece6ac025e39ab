package main

// The -cluster measurement: several testapp nodes sharing a Redis (or a
// Redis Cluster), rooms each held by one node, broadcasts to the rooms at
// a fixed rate; per-node CPU and Redis traffic per broadcast, for each
// channel mode (one channel for all broadcasts, or sharded per room).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/siogo/siogo/client"
)

// clusterConfig is the -cluster measurement's configuration.
type clusterConfig struct {
	Nodes    int           `json:"nodes"`
	Rooms    int           `json:"rooms"`
	Members  int           `json:"members_per_room"`
	Rate     int           `json:"broadcasts_per_sec"`
	Warmup   time.Duration `json:"warmup"`
	Idle     time.Duration `json:"idle"`
	Duration time.Duration `json:"duration"`
	Payload  int           `json:"payload_bytes"`
	Channels []string      `json:"channels"` // single, sharded
	Redis    []string      `json:"redis"`    // standalone, cluster
}

func clusterFlags(fs interface {
	IntVar(*int, string, int, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	StringVar(*string, string, string, string)
}, cc *clusterConfig, channels, redis *string) {
	fs.IntVar(&cc.Nodes, "cluster-nodes", 4, "with -cluster: testapp nodes")
	fs.IntVar(&cc.Rooms, "cluster-rooms", 100, "with -cluster: rooms, each held by one node (room i by node i mod nodes)")
	fs.IntVar(&cc.Members, "cluster-members", 10, "with -cluster: websocket members per room")
	fs.IntVar(&cc.Rate, "cluster-rate", 1000, "with -cluster: broadcasts per second, all nodes together (one sender per node, to random rooms)")
	fs.DurationVar(&cc.Warmup, "cluster-warmup", 2*time.Second, "with -cluster: broadcasts before measuring")
	fs.DurationVar(&cc.Idle, "cluster-idle", 3*time.Second, "with -cluster: time without broadcasts, before measuring, to measure the nodes' idle CPU (subtracted)")
	fs.DurationVar(&cc.Duration, "cluster-duration", 10*time.Second, "with -cluster: measuring time")
	fs.IntVar(&cc.Payload, "cluster-payload", 100, "with -cluster: bytes of the broadcast's string argument")
	fs.StringVar(channels, "cluster-channels", "single,sharded", "with -cluster: comma-separated channel `modes` (the testapp's -redis-channels)")
	fs.StringVar(redis, "cluster-redis", "standalone", "with -cluster: comma-separated `backends`: standalone (one redis-server), cluster (a three-master Redis Cluster)")
}

func (cc *clusterConfig) check(channels, redis string) error {
	if cc.Nodes < 2 || cc.Rooms < 1 || cc.Members < 1 || cc.Rate < 1 || cc.Payload < 0 || cc.Duration <= 0 || cc.Idle <= 0 {
		return errors.New("-cluster: -cluster-nodes must be at least 2, the other counts positive")
	}
	for _, c := range strings.Split(channels, ",") {
		switch c = strings.TrimSpace(c); c {
		case "single", "sharded":
			cc.Channels = append(cc.Channels, c)
		default:
			return fmt.Errorf("-cluster-channels: %q is neither single nor sharded", c)
		}
	}
	for _, r := range strings.Split(redis, ",") {
		switch r = strings.TrimSpace(r); r {
		case "standalone", "cluster":
			cc.Redis = append(cc.Redis, r)
		default:
			return fmt.Errorf("-cluster-redis: %q is neither standalone nor cluster", r)
		}
	}
	return nil
}

// clusterResult is one run of one (backend, channel mode) case.
type clusterResult struct {
	Redis      string  `json:"redis"`
	Channels   string  `json:"channels"`
	Broadcasts int64   `json:"broadcasts"`
	Seconds    float64 `json:"seconds"`
	// NodeCPUus is each node's CPU per broadcast, less its idle CPU
	// (NodeIdleUsPerSec, measured just before, without broadcasts).
	NodeCPUus        []float64 `json:"node_cpu_us_per_broadcast"` // by node
	NodeIdleUsPerSec []float64 `json:"node_idle_cpu_us_per_sec"`  // by node
	// RedisCPUus is the redis-server processes' CPU (all masters).
	RedisCPUus float64 `json:"redis_cpu_us_per_broadcast"`
	// Publishes counts PUBLISH and SPUBLISH commands (all masters).
	Publishes float64 `json:"publishes_per_broadcast"`
	// RedisOutBytes is total_net_output_bytes (all masters): mostly
	// pub/sub messages to the nodes' subscribers, plus replies.
	RedisOutBytes float64 `json:"redis_out_bytes_per_broadcast"`
	// RedisInBytes is total_net_input_bytes (all masters).
	RedisInBytes float64 `json:"redis_in_bytes_per_broadcast"`
	// Received counts broadcasts the nodes received from other nodes
	// (siogo_cluster_events_total{event="received"}, summed).
	Received []float64 `json:"received_per_broadcast"` // by node
	// Delivered is the fraction of the expected room deliveries (members
	// × broadcasts) the members received.
	Delivered float64  `json:"delivered_fraction"`
	Problems  []string `json:"problems,omitempty"`
}

type clusterReport struct {
	Command string          `json:"command"`
	Machine machineInfo     `json:"machine"`
	Config  clusterConfig   `json:"config"`
	Runs    []clusterResult `json:"runs"`
}

// runCluster runs the -cluster measurement: for each backend and channel
// mode, -runs runs; prints a table of medians.
func runCluster(ctx context.Context, cfg *config, args []string, stdout io.Writer, logf func(string, ...any)) error {
	cc := &cfg.Cluster
	tmp, err := os.MkdirTemp("", "siobench-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	logf("building ./examples/testapp ...")
	bin, err := buildSiogo(ctx, cfg.Root, tmp)
	if err != nil {
		return err
	}
	rep := clusterReport{Command: strings.Join(append([]string{"siobench"}, args...), " "),
		Machine: getMachineInfo(cfg.Root, ""), Config: *cc}
	for r := 1; r <= cfg.Runs; r++ {
		for _, backend := range cc.Redis {
			for _, mode := range cc.Channels {
				if ctx.Err() != nil {
					return errors.New("interrupted")
				}
				logf("[cluster %s channels=%s run %d/%d]", backend, mode, r, cfg.Runs)
				res := clusterRun(ctx, cc, bin, tmp, backend, mode, logf)
				for _, p := range res.Problems {
					logf("  problem: %s", p)
				}
				rep.Runs = append(rep.Runs, res)
			}
		}
	}
	printClusterReport(stdout, &rep, cfg.Runs)
	if cfg.JSONOut != "" {
		b, err := json.MarshalIndent(&rep, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(cfg.JSONOut, append(b, '\n'), 0o644)
	}
	return nil
}

// redisProc is a redis-server started by the measurement.
type redisProc struct {
	addr string
	cmd  *exec.Cmd
}

func startRedisProc(ctx context.Context, dir string, clusterMode bool) (*redisProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	args := []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--loglevel", "warning"}
	if clusterMode {
		p, _ := strconv.Atoi(port)
		if p+10000 > 65535 {
			return startRedisProc(ctx, dir, clusterMode) // its bus port would not exist
		}
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"))
	}
	cmd := exec.Command("redis-server", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	rp := &redisProc{addr: addr, cmd: cmd}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if c, err := redigo.Dial("tcp", addr); err == nil {
			_, err = c.Do("PING")
			c.Close()
			if err == nil {
				return rp, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			rp.stop()
			return nil, fmt.Errorf("redis-server on %s did not answer", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (rp *redisProc) stop() {
	_ = rp.cmd.Process.Kill()
	_ = rp.cmd.Wait()
}

// startRedisBackend starts one redis-server, or a three-master Redis
// Cluster (redis-cli --cluster create), and returns its processes.
func startRedisBackend(ctx context.Context, tmp, backend string) ([]*redisProc, error) {
	n := 1
	if backend == "cluster" {
		n = 3
	}
	var procs []*redisProc
	stopAll := func() {
		for _, p := range procs {
			p.stop()
		}
	}
	for i := range n {
		dir := filepath.Join(tmp, fmt.Sprintf("redis-%d-%d", time.Now().UnixNano(), i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			stopAll()
			return nil, err
		}
		p, err := startRedisProc(ctx, dir, backend == "cluster")
		if err != nil {
			stopAll()
			return nil, err
		}
		procs = append(procs, p)
	}
	if backend != "cluster" {
		return procs, nil
	}
	args := []string{"--cluster", "create"}
	for _, p := range procs {
		args = append(args, p.addr)
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		stopAll()
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		ok := 0
		for _, p := range procs {
			if info, err := redisInfo(p.addr, "CLUSTER", "INFO"); err == nil && strings.Contains(info, "cluster_state:ok") {
				ok++
			}
		}
		if ok == len(procs) {
			return procs, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stopAll()
			return nil, errors.New("the Redis Cluster did not reach cluster_state:ok")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func redisInfo(addr string, cmd ...any) (string, error) {
	c, err := redigo.Dial("tcp", addr, redigo.DialConnectTimeout(time.Second), redigo.DialReadTimeout(2*time.Second))
	if err != nil {
		return "", err
	}
	defer c.Close()
	return redigo.String(c.Do(cmd[0].(string), cmd[1:]...))
}

// redisCounters are what one measurement reads from the masters.
type redisCounters struct {
	cpu           time.Duration
	publishes     int64
	netOut, netIn int64
}

var (
	publishCalls = regexp.MustCompile(`(?m)^cmdstat_s?publish:calls=(\d+)`)
	netOutRe     = regexp.MustCompile(`(?m)^total_net_output_bytes:(\d+)`)
	netInRe      = regexp.MustCompile(`(?m)^total_net_input_bytes:(\d+)`)
)

func readRedis(procs []*redisProc) (redisCounters, error) {
	var rc redisCounters
	for _, p := range procs {
		cpu, err := cpuTime(p.cmd.Process.Pid)
		if err != nil {
			return rc, err
		}
		rc.cpu += cpu
		info, err := redisInfo(p.addr, "INFO", "all")
		if err != nil {
			return rc, err
		}
		for _, m := range publishCalls.FindAllStringSubmatch(info, -1) {
			v, _ := strconv.ParseInt(m[1], 10, 64)
			rc.publishes += v
		}
		if m := netOutRe.FindStringSubmatch(info); m != nil {
			v, _ := strconv.ParseInt(m[1], 10, 64)
			rc.netOut += v
		}
		if m := netInRe.FindStringSubmatch(info); m != nil {
			v, _ := strconv.ParseInt(m[1], 10, 64)
			rc.netIn += v
		}
	}
	return rc, nil
}

var receivedRe = regexp.MustCompile(`(?m)^siogo_cluster_events_total\{event="received"\} (\S+)$`)

// nodeReceived reads a node's received counter from its -metrics address.
func nodeReceived(hc *http.Client, metricsAddr string) (float64, error) {
	resp, err := hc.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	m := receivedRe.FindSubmatch(b)
	if m == nil {
		return 0, errors.New("no siogo_cluster_events_total{event=\"received\"} in /metrics")
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// clusterRun measures one (backend, channel mode) case: it starts the
// Redis backend and the nodes, connects the members and the senders,
// broadcasts, and stops everything.
func clusterRun(ctx context.Context, cc *clusterConfig, bin, tmp, backend, mode string, logf func(string, ...any)) (res clusterResult) {
	res = clusterResult{Redis: backend, Channels: mode}
	problem := func(format string, a ...any) { res.Problems = append(res.Problems, fmt.Sprintf(format, a...)) }
	procs, err := startRedisBackend(ctx, tmp, backend)
	if err != nil {
		problem("%v", err)
		return res
	}
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	redisFlag := []string{"-redis", procs[0].addr}
	if backend == "cluster" {
		var seeds []string
		for _, p := range procs {
			seeds = append(seeds, p.addr)
		}
		redisFlag = []string{"-redis-cluster", strings.Join(seeds, ",")}
	}
	type node struct {
		srv     *serverProc
		metrics string
	}
	nodes := make([]node, cc.Nodes)
	for i := range nodes {
		maddr, err := freeAddr()
		if err != nil {
			problem("%v", err)
			return res
		}
		args := append(append([]string{}, redisFlag...), "-redis-channels", mode, "-metrics", maddr, "-log-level", "warn")
		srv, err := startServer(ctx, serverSpec{name: fmt.Sprintf("node%d", i), path: bin, args: args})
		if err != nil {
			problem("starting node %d: %v", i, err)
			return res
		}
		defer srv.stop()
		nodes[i] = node{srv: srv, metrics: maddr}
	}

	// Members: room i's on node i mod nodes; one sender per node, in no room.
	var delivered atomic.Int64
	var clients []*client.Client
	var cmu sync.Mutex
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	dialOne := func(i int) (*client.Client, error) {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c, err := client.Dial(dctx, "http://"+nodes[i].srv.addr+"/", &client.Options{
			Transports: []string{"websocket"}, NoReconnect: true})
		if err != nil {
			return nil, err
		}
		cmu.Lock()
		clients = append(clients, c)
		cmu.Unlock()
		return c, nil
	}
	var failed atomic.Int64
	var firstErr atomic.Value
	forEach(ctx, cc.Rooms*cc.Members, 32, func(k int) {
		room := k / cc.Members
		c, err := dialOne(room % cc.Nodes)
		if err == nil {
			err = c.On("room", func(...json.RawMessage) { delivered.Add(1) })
		}
		if err == nil {
			actx, cancel := context.WithTimeout(ctx, 30*time.Second)
			_, err = c.EmitWithAck(actx, "join", "room"+strconv.Itoa(room))
			cancel()
		}
		if err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
		}
	})
	if n := failed.Load(); n > 0 {
		problem("%d members failed to connect or join (first: %v)", n, firstErr.Load())
		return res
	}
	senders := make([]*client.Client, cc.Nodes)
	for i := range senders {
		if senders[i], err = dialOne(i); err != nil {
			problem("sender %d: %v", i, err)
			return res
		}
	}
	logf("  %d members in %d rooms on %d nodes, %d senders", cc.Rooms*cc.Members, cc.Rooms, cc.Nodes, cc.Nodes)

	payload := strings.Repeat("x", cc.Payload)
	var sent atomic.Int64
	pump := func(ctx context.Context, d time.Duration) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		var wg sync.WaitGroup
		for i, s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
				interval := time.Duration(int64(time.Second) * int64(cc.Nodes) / int64(cc.Rate))
				tk := time.NewTicker(interval)
				defer tk.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tk.C:
					}
					room := "room" + strconv.Itoa(rng.IntN(cc.Rooms))
					if s.Emit("to-room", room, payload) == nil {
						sent.Add(1)
					}
				}
			}()
		}
		wg.Wait()
	}
	pump(ctx, cc.Warmup)
	if err := sleep(ctx, 500*time.Millisecond); err != nil {
		return res
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	snapshot := func() (cpu []time.Duration, recv []float64, rc redisCounters, err error) {
		for _, n := range nodes {
			c, err := cpuTime(n.srv.pid())
			if err != nil {
				return nil, nil, rc, err
			}
			r, err := nodeReceived(hc, n.metrics)
			if err != nil {
				return nil, nil, rc, err
			}
			cpu, recv = append(cpu, c), append(recv, r)
		}
		rc, err = readRedis(procs)
		return cpu, recv, rc, err
	}
	idle0, _, _, err := snapshot()
	if err != nil {
		problem("reading counters: %v", err)
		return res
	}
	idleStart := time.Now()
	if err := sleep(ctx, cc.Idle); err != nil {
		return res
	}
	cpu0, recv0, rc0, err := snapshot()
	if err != nil {
		problem("reading counters: %v", err)
		return res
	}
	idleSecs := time.Since(idleStart).Seconds()
	sent0, del0 := sent.Load(), delivered.Load()
	start := time.Now()
	pump(ctx, cc.Duration)
	b := sent.Load() - sent0
	// Let the last broadcasts arrive (deliveries are counted up to here).
	for deadline := time.Now().Add(3 * time.Second); delivered.Load()-del0 < b*int64(cc.Members) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	res.Seconds = time.Since(start).Seconds()
	cpu1, recv1, rc1, err := snapshot()
	if err != nil {
		problem("reading counters: %v", err)
		return res
	}
	res.Broadcasts = b
	if b == 0 {
		problem("no broadcast sent")
		return res
	}
	fb := float64(b)
	for i := range nodes {
		idle := float64((cpu0[i] - idle0[i]).Microseconds()) / idleSecs
		res.NodeIdleUsPerSec = append(res.NodeIdleUsPerSec, idle)
		res.NodeCPUus = append(res.NodeCPUus, (float64((cpu1[i]-cpu0[i]).Microseconds())-idle*res.Seconds)/fb)
		res.Received = append(res.Received, (recv1[i]-recv0[i])/fb)
	}
	res.RedisCPUus = float64((rc1.cpu - rc0.cpu).Microseconds()) / fb
	res.Publishes = float64(rc1.publishes-rc0.publishes) / fb
	res.RedisOutBytes = float64(rc1.netOut-rc0.netOut) / fb
	res.RedisInBytes = float64(rc1.netIn-rc0.netIn) / fb
	res.Delivered = float64(delivered.Load()-del0) / (fb * float64(cc.Members))
	for _, n := range nodes {
		if !n.srv.alive() {
			problem("%s exited: %v", n.srv.name, n.srv.err)
		}
		for _, l := range n.srv.notableLogs() {
			problem("%s: %s", n.srv.name, l)
		}
	}
	return res
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func printClusterReport(w io.Writer, rep *clusterReport, runs int) {
	cc := rep.Config
	m := rep.Machine
	fmt.Fprintf(w, "\nsiobench -cluster: %d nodes, %d rooms × %d members (room i on node i mod %d), %d broadcasts/s to random rooms for %v, %d-byte payload; medians of %d run(s)\n",
		cc.Nodes, cc.Rooms, cc.Members, cc.Nodes, cc.Rate, cc.Duration, cc.Payload, runs)
	fmt.Fprintf(w, "machine: %s, %d cores, kernel %s, load %s at start, go %s\n\n", m.CPU, m.Cores, m.Kernel, m.LoadAvg, m.Go)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "redis\tchannels\tbroadcasts\t"
	for i := range cc.Nodes {
		head += fmt.Sprintf("node%d µs/bc\t", i)
	}
	head += "nodes µs/bc\tredis µs/bc\tpublish/bc\treceived/bc\tredis out B/bc\tredis in B/bc\tdelivered\t"
	fmt.Fprintln(tw, head)
	for _, backend := range cc.Redis {
		for _, mode := range cc.Channels {
			var rs []clusterResult
			for _, r := range rep.Runs {
				if r.Redis == backend && r.Channels == mode && r.Broadcasts > 0 && len(r.NodeCPUus) == cc.Nodes {
					rs = append(rs, r)
				}
			}
			row := backend + "\t" + mode + "\t"
			if len(rs) == 0 {
				fmt.Fprintln(tw, row+"failed\t")
				continue
			}
			med := func(f func(clusterResult) float64) *float64 {
				var v []float64
				for _, r := range rs {
					v = append(v, f(r))
				}
				x := median(v)
				return &x
			}
			row += fmtNum(med(func(r clusterResult) float64 { return float64(r.Broadcasts) })) + "\t"
			for i := range cc.Nodes {
				row += fmtNum(med(func(r clusterResult) float64 { return r.NodeCPUus[i] })) + "\t"
			}
			row += fmtNum(med(func(r clusterResult) float64 { return sum(r.NodeCPUus) })) + "\t"
			row += fmtNum(med(func(r clusterResult) float64 { return r.RedisCPUus })) + "\t"
			row += fmtNum(med(func(r clusterResult) float64 { return r.Publishes })) + "\t"
			row += fmtNum(med(func(r clusterResult) float64 { return sum(r.Received) })) + "\t"
			row += fmtNum(med(func(r clusterResult) float64 { return r.RedisOutBytes })) + "\t"
			row += fmtNum(med(func(r clusterResult) float64 { return r.RedisInBytes })) + "\t"
			row += fmtNum(med(func(r clusterResult) float64 { return r.Delivered })) + "\t"
			fmt.Fprintln(tw, row)
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nµs/bc: CPU (utime+stime, /proc) per broadcast made anywhere in the cluster, less the node's idle CPU; nodes: the %d nodes together.\n", cc.Nodes)
	fmt.Fprintln(w, "publish/bc: PUBLISH+SPUBLISH commands per broadcast; received/bc: broadcasts the nodes got from other nodes")
	fmt.Fprintln(w, "(siogo_cluster_events_total{event=\"received\"}, all nodes); redis out/in: total_net_output/input_bytes, all masters;")
	fmt.Fprintln(w, "delivered: room frames the members got / (broadcasts × members per room).")
	for _, r := range rep.Runs {
		for _, p := range r.Problems {
			fmt.Fprintf(w, "%s %s: %s\n", r.Redis, r.Channels, p)
		}
	}
}
