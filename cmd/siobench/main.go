// Command siobench compares the siogo testapp (examples/testapp) with the
// Node.js reference servers under load, over loopback only, for both
// client generations side by side: Socket.IO 0.9 clients against
// socket.io@0.9.19 running the same contract (testdata/reftestapp.js), and
// Engine.IO v4 / Socket.IO v5 clients (those of socket.io-client 3.x/4.x)
// against socket.io@4.8 running the same contract (testdata/reftestapp4.js;
// -ref4 refbench4.js: a server with only the events the phases use, to see
// what the contract's other handlers cost the reference).
//
//	go run ./cmd/siobench [-n 5000] [-runs 3] [-only siogo|reference|floor] [-proto 0.9,v4,v2] [-floor=false]
//	    [-json out.json] [-addrs 127.0.0.1,127.0.0.2,...]
//
// The v4 phases are the same as the 0.9 ones with v4 clients: websockets
// opened directly (GET /socket.io/?EIO=4&transport=websocket, "0{...}",
// then "40" answered by "40{...}"), pings "2" answered "3", events
// "42[...]", acks "43N[...]", closing with "41" and a websocket close;
// polling with \x1e-separated payloads. The siogo side runs them against
// the same testapp binary in a process of its own; if it does not answer
// a v4 session (before siogo serves Engine.IO v4), its column says "not
// served" instead of numbers. The v4 ratios are printed with the targets
// of issue 15: memory per idle connection <= 0.2, broadcast delivered
// msg/s >= 10, server CPU per new session <= 0.3, paced ack p99 <= 0.5.
//
// -proto v2 adds the clients of socket.io-client 2.x (Engine.IO v3 /
// Socket.IO protocol v4), with the same phases, against the same
// socket.io@4.8 server (it serves them with allowEIO3) and the testapp:
// GET /socket.io/?EIO=3&transport=websocket, "0{...}", then the server's
// own "40"; the client pings "2" every 20 s (answered "3"); events and
// acks as in v4; polling payloads "<len>:<packet>". Not in the default
// -proto (it adds two server runs per -runs).
//
// It builds the testapp, then for each run starts each server in turn on a
// free loopback port (default heartbeats 25 s / 60 s; v4: ping interval
// 25 s, ping timeout 20 s) and measures, with
// raw-protocol Go clients (gorilla/websocket and net/http for the idle
// connections and polling; hand-written minimal websocket clients for the
// new-sessions and echo phases, so that the load generator, which shares
// the machine, does as little as it can), from source addresses
// 127.0.0.1..4 (or -addrs):
//
//   - server memory per idle websocket connection: VmRSS growth over a
//     post-warm-up baseline, divided by N, once N sockets are connected and
//     have joined a room; for the testapp, also its live heap growth per
//     connection (runtime.MemStats HeapAlloc after a collection, read from
//     the net/http/pprof it serves on a port of its own with --pprof): the
//     gap between the two is the garbage collector's headroom and what the
//     runtime and the kernel hold per connection outside the heap;
//   - broadcast fan-out: one sender emits to-room to the room of N sockets
//     (at most -broadcast-window broadcasts in flight); frames delivered per
//     second and server CPU (utime+stime) per delivered frame;
//   - echo-with-ack round trip p50/p99 from -ack-clients clients while the
//     N idle connections stay open: paced at -ack-rate round trips per
//     second per client, then flat out (acks per second, and the latency
//     of a saturated machine);
//   - new sessions per second (handshake + websocket + "1::", then "0::")
//     at concurrency -c, and server CPU per session;
//   - xhr-polling: -polling clients in GET loops receiving `everyone`
//     events a websocket driver emits -polling-rate times a second; server
//     CPU % (of one core) and delivered events per second.
//
// -floor (on by default; not with -only reference; -only floor runs it
// alone) adds the raw floor: a websocket server with no Socket.IO layer
// (floor.go; siobench itself started as `siobench -floor-server -addr
// HOST:PORT`, a process of its own, measured from /proc as the others):
// gobwas/ws upgrades, the connections idle in one epoll instance, a data
// frame from any connection answered by one prepared frame (the 0.9
// `room` event's bytes, encoded once) written to every other connection,
// the broadcasts of one read batched into one write per connection. It
// runs the warm-up, idle-connect (memory per connection), broadcast
// (server CPU per delivered frame, counted when the client reads it) and
// new-sessions (websocket connect and close) phases, not the ack and
// polling ones, and gets a "raw floor" column with siogo/floor ratios
// per generation (issue 18's target: broadcast CPU per message <= 2).
//
// Besides, for most phases, the CPU that siobench
// itself and the rest of the machine (from /proc/stat) used: a phase during
// which other processes took much CPU is not worth much. Problems seen
// (failed connects, connections the server dropped, frames missing or late,
// clients starved of events) and the servers' own log lines, by phase, are
// listed under the table.
//
// -cluster runs another measurement instead, of several nodes: a Redis
// (-cluster-redis standalone, one redis-server; cluster, a three-master
// Redis Cluster made with redis-cli --cluster create) and -cluster-nodes
// testapp processes (4) sharing it, each started with -redis-channels set
// to each of -cluster-channels in turn (single, sharded) and -metrics;
// -cluster-rooms rooms (100), room i held by -cluster-members websocket
// members (10) on node i mod nodes, so that with 4 nodes each holds the
// members of 25 rooms; one sender per node emits to-room to random rooms,
// -cluster-rate broadcasts per second in all (1000). After a warm-up it
// reads each node's idle CPU (-cluster-idle), then broadcasts for
// -cluster-duration and prints, per backend and channel mode: each node's
// CPU per broadcast of the cluster (from /proc/<pid>/stat, less its idle
// CPU), the redis-server processes' CPU, PUBLISH and SPUBLISH commands
// (INFO commandstats), the broadcasts the nodes received from other nodes
// (siogo_cluster_events_total{event="received"} from -metrics), Redis's
// network bytes out and in (INFO stats), per broadcast, and the fraction
// of room deliveries the members got.
//
//	go run ./cmd/siobench -cluster [-runs 3] [-cluster-redis standalone,cluster]
//	    [-cluster-channels single,sharded] [-cluster-rate 1000] [-json out.json]
//
// Each metric is the median over -runs runs. A table (metric | siogo 0.9 |
// node 0.9 | ratio | siogo v4 | node 4.8 | ratio | v4 target [| siogo v2 |
// node 4.8 v2 | ratio v2] [| raw floor | 0.9/floor | v4/floor]) goes to stdout, progress to stderr, everything to
// -json. Every phase is bounded in time; the servers are stopped on exit
// and on SIGINT/SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

type config struct {
	N                int
	Runs             int
	Only             string
	JSONOut          string
	Addrs            []string
	Concurrency      int
	Warmup           int
	Settle           time.Duration
	ConnectTimeout   time.Duration
	BroadcastWarmup  time.Duration
	Broadcast        time.Duration
	BroadcastWindow  int
	AckClients       int
	AckRate          int
	AckDuration      time.Duration
	Sessions         int
	SessionsDuration time.Duration
	Polling          int
	PollingRate      int
	PollingWarmup    time.Duration
	PollingDuration  time.Duration
	Root             string
	Node             string
	Protocols        []string
	Ref4Script       string
	// Floor (-floor) adds the raw floor server (floor.go) to each run.
	Floor bool
	// ClusterMode (-cluster) runs the several-nodes measurement instead.
	ClusterMode bool
	Cluster     clusterConfig
}

// heapPerConnKey is the metric only the testapp reports (its live heap,
// read from its net/http/pprof): the reference columns have no value.
const heapPerConnKey = "heap_per_conn_kib"

// metricDef describes one reported metric.
type metricDef struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Unit   string `json:"unit"`
	Better string `json:"better"` // "lower" or "higher"; "" for context only
}

func metricDefs(cfg *config) []metricDef {
	return []metricDef{
		{"mem_per_conn_kib", "memory per idle ws connection", "KiB", "lower"},
		{heapPerConnKey, "live heap per idle ws connection (after GC; siogo only)", "KiB", "lower"},
		{"rss_idle_mib", fmt.Sprintf("server RSS with %d idle ws", cfg.N), "MiB", ""},
		{"connect_per_sec", fmt.Sprintf("connect+join rate (c=%d)", cfg.Concurrency), "conn/s", "higher"},
		{"broadcast_msgs_per_sec", fmt.Sprintf("broadcast to %d: delivered", cfg.N), "msg/s", "higher"},
		{"broadcast_cpu_us_per_msg", "broadcast: server CPU per msg", "µs", "lower"},
		{"broadcast_server_cpu_pct", "broadcast: server CPU", "% core", ""},
		{"broadcast_client_cpu_pct", "broadcast: siobench CPU", "% core", ""},
		{"broadcast_other_cpu_pct", "broadcast: other processes' CPU", "% core", ""},
		{"ack_p50_us", fmt.Sprintf("echo ack round trip p50 (%d×%d/s)", cfg.AckClients, cfg.AckRate), "µs", "lower"},
		{"ack_p99_us", fmt.Sprintf("echo ack round trip p99 (%d×%d/s)", cfg.AckClients, cfg.AckRate), "µs", "lower"},
		{"ack_server_cpu_pct", "echo ack paced: server CPU", "% core", ""},
		{"ack_max_per_sec", fmt.Sprintf("echo ack flat out (%d clients)", cfg.AckClients), "acks/s", "higher"},
		{"ack_max_p50_us", "echo ack flat out: round trip p50", "µs", "lower"},
		{"ack_max_p99_us", "echo ack flat out: round trip p99", "µs", "lower"},
		{"ack_max_server_cpu_pct", "echo ack flat out: server CPU", "% core", ""},
		{"ack_max_client_cpu_pct", "echo ack flat out: siobench CPU", "% core", ""},
		{"sessions_per_sec", fmt.Sprintf("new sessions (c=%d)", cfg.Concurrency), "sess/s", "higher"},
		{"sessions_cpu_us", "new sessions: server CPU per session", "µs", "lower"},
		{"sessions_server_cpu_pct", "new sessions: server CPU", "% core", ""},
		{"sessions_client_cpu_pct", "new sessions: siobench CPU", "% core", ""},
		{"polling_cpu_pct", fmt.Sprintf("xhr-polling %d×%d ev/s: server CPU", cfg.Polling, cfg.PollingRate), "% core", "lower"},
		{"polling_expected_events_per_sec", "xhr-polling: emitted × clients", "ev/s", ""},
		{"polling_events_per_sec", "xhr-polling: delivered", "ev/s", "higher"},
		{"polling_longest_silence_ms", "xhr-polling: longest wait for an event", "ms", "lower"},
		{"polling_client_cpu_pct", "xhr-polling: siobench CPU", "% core", ""},
		{"polling_other_cpu_pct", "xhr-polling: other processes' CPU", "% core", ""},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second ^C kills siobench; Pdeathsig takes the servers along
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "siobench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("siobench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.N, "n", 5000, "idle websocket connections (memory, broadcast room, ack background)")
	fs.IntVar(&cfg.Runs, "runs", 3, "runs per server; each metric is the median")
	fs.StringVar(&cfg.Only, "only", "", "benchmark only `siogo`, `reference` or `floor` (the raw floor alone)")
	fs.StringVar(&cfg.JSONOut, "json", "", "write the full report as JSON to this `file`")
	addrs := fs.String("addrs", "", "comma-separated loopback source `addresses` for client connections (default: 127.0.0.1..k, k = max(4, N/20000 rounded up))")
	fs.IntVar(&cfg.Concurrency, "c", 50, "concurrency for connecting and for the new-sessions phase")
	fs.IntVar(&cfg.Warmup, "warmup", 100, "sessions opened and closed before the baseline RSS")
	fs.DurationVar(&cfg.Settle, "settle", 2*time.Second, "pause before reading RSS and between phases")
	fs.DurationVar(&cfg.ConnectTimeout, "connect-timeout", 2*time.Minute, "time limit for connecting the N idle connections")
	fs.DurationVar(&cfg.BroadcastWarmup, "broadcast-warmup", time.Second, "broadcast before measuring")
	fs.DurationVar(&cfg.Broadcast, "broadcast", 10*time.Second, "broadcast measuring time")
	fs.IntVar(&cfg.BroadcastWindow, "broadcast-window", 0, "broadcasts in flight (default: about 64k frames' worth, 4 to 1024)")
	fs.IntVar(&cfg.AckClients, "ack-clients", 4, "clients measuring echo-ack round trips")
	fs.IntVar(&cfg.AckRate, "ack-rate", 1000, "echo-ack round trips per second per client in the paced ack phase")
	fs.DurationVar(&cfg.AckDuration, "ack-duration", 5*time.Second, "echo-ack measuring time")
	fs.IntVar(&cfg.Sessions, "sessions", 60000, "new sessions to open (at most)")
	fs.DurationVar(&cfg.SessionsDuration, "sessions-duration", 10*time.Second, "time limit for opening new sessions")
	fs.IntVar(&cfg.Polling, "polling", 1000, "xhr-polling clients")
	fs.IntVar(&cfg.PollingRate, "polling-rate", 10, "everyone events per second")
	fs.DurationVar(&cfg.PollingWarmup, "polling-warmup", time.Second, "events before measuring")
	fs.DurationVar(&cfg.PollingDuration, "polling-duration", 10*time.Second, "xhr-polling measuring time")
	fs.StringVar(&cfg.Root, "root", "", "siogo repository root (default: found from the working directory)")
	fs.StringVar(&cfg.Node, "node", "node", "Node.js executable")
	fs.StringVar(&cfg.Ref4Script, "ref4", "reftestapp4.js", "the socket.io 4.8 server `script` in testdata/ (reftestapp4.js: the testapp contract, as reftestapp.js is for 0.9; refbench4.js: only the events the phases use)")
	fs.BoolVar(&cfg.Floor, "floor", true, "also measure the raw floor: a gobwas/ws + epoll server with no Socket.IO layer (siobench itself in a process of its own) "+
		"under the same idle-connect, broadcast and connect+close phases; its column is \"raw floor\", with siogo/floor ratios (not with -only reference)")
	fs.BoolVar(&cfg.ClusterMode, "cluster", false, "run the several-nodes measurement instead (see -cluster-*): testapp nodes sharing a Redis, per-node CPU and Redis traffic per broadcast, single channel vs sharded")
	var clusterChannels, clusterRedis string
	clusterFlags(fs, &cfg.Cluster, &clusterChannels, &clusterRedis)
	protos := fs.String("proto", "0.9,v4", "comma-separated client `generations` to run: 0.9 (against socket.io@0.9.19), v4 (Engine.IO v4 / Socket.IO v5, against socket.io@4.8), v2 (Engine.IO v3 / Socket.IO protocol v4 as socket.io-client 2.x, against socket.io@4.8 with allowEIO3)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.ClusterMode {
		if err := cfg.Cluster.check(clusterChannels, clusterRedis); err != nil {
			return nil, err
		}
	}
	switch cfg.Only {
	case "", "siogo":
	case "reference":
		cfg.Floor = false
	case "floor":
		cfg.Floor = true
	default:
		return nil, fmt.Errorf("-only must be siogo, reference or floor, not %q", cfg.Only)
	}
	seen := map[string]bool{}
	for _, p := range strings.Split(*protos, ",") {
		p = strings.TrimSpace(p)
		switch p {
		case "0.9", "v4", "v2":
		default:
			return nil, fmt.Errorf("-proto: %q is none of 0.9, v4, v2", p)
		}
		if !seen[p] {
			seen[p] = true
			cfg.Protocols = append(cfg.Protocols, p)
		}
	}
	if cfg.BroadcastWindow == 0 && cfg.N > 0 {
		cfg.BroadcastWindow = min(1024, max(4, (65536+cfg.N-1)/cfg.N))
	}
	if cfg.N < 1 || cfg.Runs < 1 || cfg.Concurrency < 1 || cfg.BroadcastWindow < 1 || cfg.AckClients < 1 ||
		cfg.AckRate < 1 || cfg.Polling < 1 || cfg.PollingRate < 1 || cfg.Sessions < 1 || cfg.Warmup < 0 {
		return nil, errors.New("counts must be positive")
	}
	if *addrs != "" {
		for _, a := range strings.Split(*addrs, ",") {
			cfg.Addrs = append(cfg.Addrs, strings.TrimSpace(a))
		}
	} else {
		// Each source address has ~28k ephemeral ports; keep ~20k a piece
		// for the idle connections. At least 4: the new-sessions phase
		// leaves a closed connection in the server's TIME-WAIT (60 s) per
		// session, and a source address whose ports are mostly taken makes
		// every connect search long for a free one.
		for i := 1; i <= max(4, (cfg.N+19999)/20000); i++ {
			cfg.Addrs = append(cfg.Addrs, fmt.Sprintf("127.0.0.%d", i))
		}
	}
	return cfg, nil
}

// report is the -json output.
type report struct {
	Command string                 `json:"command"`
	Machine machineInfo            `json:"machine"`
	Config  *config                `json:"config"`
	Metrics []reportMetric         `json:"metrics"`
	Runs    map[string][]runResult `json:"runs"` // by server: siogo, reference (0.9), siogo-v4, reference-v4, siogo-v2, reference-v2
}

// reportMetric is one row: the 0.9 generation (siogo against socket.io
// 0.9.19) and the v4 one (siogo against socket.io 4.8).
type reportMetric struct {
	metricDef
	Siogo     *float64 `json:"siogo,omitempty"`
	Reference *float64 `json:"reference,omitempty"`
	Ratio     *float64 `json:"ratio_siogo_reference,omitempty"`
	// Floor is the raw gobwas/ws + epoll server's value (-floor), for the
	// metrics its phases measure; RatioFloor is siogo 0.9 / floor,
	// RatioV4Floor siogo v4 / floor, for the metrics with a "better".
	Floor        *float64 `json:"floor,omitempty"`
	RatioFloor   *float64 `json:"ratio_siogo_floor,omitempty"`
	RatioV4Floor *float64 `json:"ratio_siogo_v4_floor,omitempty"`
	TargetFloor  string   `json:"target_floor,omitempty"` // e.g. "<= 2", issue 18's target for the siogo/floor ratios
	SiogoV4      *float64 `json:"siogo_v4,omitempty"`
	ReferenceV4  *float64 `json:"reference_v4,omitempty"`
	RatioV4      *float64 `json:"ratio_siogo_v4_reference_v4,omitempty"`
	TargetV4     string   `json:"target_v4,omitempty"` // e.g. "<= 0.2", the target for RatioV4
	TargetV4Met  *bool    `json:"target_v4_met,omitempty"`
	SiogoV2      *float64 `json:"siogo_v2,omitempty"`
	ReferenceV2  *float64 `json:"reference_v2,omitempty"` // socket.io 4.8 serving v2 clients (allowEIO3)
	RatioV2      *float64 `json:"ratio_siogo_v2_reference_v2,omitempty"`
}

// ratioTarget is a goal for a siogo/reference ratio.
type ratioTarget struct {
	atMost bool // ratio <= v, else ratio >= v
	v      float64
}

// v4Targets are the targets against Node.js socket.io 4.8 (issue 15).
var v4Targets = map[string]ratioTarget{
	"mem_per_conn_kib":       {atMost: true, v: 0.2},
	"broadcast_msgs_per_sec": {atMost: false, v: 10},
	"sessions_cpu_us":        {atMost: true, v: 0.3},
	"ack_p99_us":             {atMost: true, v: 0.5},
}

// floorTargets are the targets against the raw floor (issue 18).
var floorTargets = map[string]ratioTarget{
	"broadcast_cpu_us_per_msg": {atMost: true, v: 2},
}

func (t ratioTarget) String() string {
	if t.atMost {
		return fmt.Sprintf("<= %g", t.v)
	}
	return fmt.Sprintf(">= %g", t.v)
}

func (t ratioTarget) met(ratio float64) bool {
	if t.atMost {
		return ratio <= t.v
	}
	return ratio >= t.v
}

// Server names, the keys of report.Runs.
const (
	nameSiogo       = "siogo"
	nameReference   = "reference"
	nameSiogoV4     = "siogo-v4"
	nameReferenceV4 = "reference-v4"
	nameSiogoV2     = "siogo-v2"
	nameReferenceV2 = "reference-v2"
	nameFloor       = "floor"
)

func (c *config) runs(g generation) bool {
	for _, p := range c.Protocols {
		if p == g.String() {
			return true
		}
	}
	return false
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-floor-server" || args[0] == "--floor-server") {
		// Not a flag of parseFlags: how siobench starts the raw floor.
		return runFloorServer(ctx, args[1:], stderr)
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	nofile, err := raiseNoFile()
	if err != nil {
		logf("siobench: raising RLIMIT_NOFILE: %v", err)
	}
	if need := uint64(cfg.N + cfg.Polling + 2*cfg.Concurrency + 200); nofile > 0 && need > nofile {
		logf("siobench: warning: about %d file descriptors needed per process, RLIMIT_NOFILE is %d", need, nofile)
	}
	if cfg.Root == "" {
		if cfg.Root, err = moduleRoot(); err != nil {
			return err
		}
	}
	if cfg.ClusterMode {
		return runCluster(ctx, cfg, args, stdout, logf)
	}
	tmp, err := os.MkdirTemp("", "siobench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// The 0.9 servers get the 0.9 timers; the testapp serves both
	// generations from one process (its Engine.IO timers are the 25 s / 20 s
	// defaults, the Node.js server's too).
	hb := []string{"--heartbeat-interval", "25s", "--heartbeat-timeout", "60s",
		"--close-timeout", "60s", "--polling-duration", "20s"}
	var specs []serverSpec
	node := ""
	if cfg.Only != "reference" && cfg.Only != "floor" {
		logf("building ./examples/testapp ...")
		bin, err := buildSiogo(ctx, cfg.Root, tmp)
		if err != nil {
			return err
		}
		if cfg.runs(gen09) {
			specs = append(specs, serverSpec{name: nameSiogo, path: bin, args: hb, dir: cfg.Root, pprof: true})
		}
		if cfg.runs(genV4) {
			specs = append(specs, serverSpec{name: nameSiogoV4, path: bin, args: hb, dir: cfg.Root,
				gen: genV4, probe: true, pprof: true})
		}
		if cfg.runs(genV2) {
			specs = append(specs, serverSpec{name: nameSiogoV2, path: bin, args: hb, dir: cfg.Root,
				gen: genV2, probe: true, pprof: true})
		}
	}
	if cfg.Floor {
		logf("building ./cmd/siobench (the raw floor server) ...")
		bin, err := buildGo(ctx, cfg.Root, tmp, "./cmd/siobench", "siobench")
		if err != nil {
			return err
		}
		specs = append(specs, serverSpec{name: nameFloor, path: bin, args: []string{"-floor-server"}, dir: cfg.Root, floor: true})
	}
	if cfg.Only == "" || cfg.Only == "reference" {
		if node, err = exec.LookPath(cfg.Node); err != nil {
			return fmt.Errorf("node: %w (or pass -only siogo)", err)
		}
		td := filepath.Join(cfg.Root, "testdata")
		if cfg.runs(gen09) {
			if _, err := os.Stat(filepath.Join(td, "node_modules", "socket.io")); err != nil {
				return errors.New("testdata/node_modules/socket.io is missing; run `make deps-node`")
			}
			specs = append(specs, serverSpec{name: nameReference, path: node,
				args: append([]string{filepath.Join(td, "reftestapp.js")}, hb...), dir: td})
		}
		if cfg.runs(genV4) || cfg.runs(genV2) {
			if _, err := os.Stat(filepath.Join(td, "node_modules", "socket.io-4")); err != nil {
				return errors.New("testdata/node_modules/socket.io-4 is missing; run `make deps-node`")
			}
			if _, err := os.Stat(filepath.Join(td, cfg.Ref4Script)); err != nil {
				return fmt.Errorf("-ref4: %w", err)
			}
			ref4 := []string{filepath.Join(td, cfg.Ref4Script), "--ping-interval", "25s", "--ping-timeout", "20s"}
			if cfg.runs(genV4) {
				specs = append(specs, serverSpec{name: nameReferenceV4, path: node, args: ref4,
					dir: td, gen: genV4, readyV4: true})
			}
			if cfg.runs(genV2) {
				specs = append(specs, serverSpec{name: nameReferenceV2, path: node, args: ref4,
					dir: td, gen: genV2, readyV4: true})
			}
		}
	}
	d, err := newDialers(cfg.Addrs)
	if err != nil {
		return err
	}
	rep := report{
		Command: strings.Join(append([]string{"siobench"}, args...), " "),
		Machine: getMachineInfo(cfg.Root, node),
		Config:  cfg,
		Runs:    map[string][]runResult{},
	}

	for r := 1; r <= cfg.Runs && ctx.Err() == nil; r++ {
		for _, spec := range specs {
			if ctx.Err() != nil {
				break
			}
			logf("[%s run %d/%d]", spec.name, r, cfg.Runs)
			res := benchOne(ctx, cfg, spec, d, logf)
			rep.Runs[spec.name] = append(rep.Runs[spec.name], res)
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}

	ratio := func(a, b *float64) *float64 {
		if a == nil || b == nil || *b == 0 {
			return nil
		}
		r := *a / *b
		return &r
	}
	for _, def := range metricDefs(cfg) {
		m := reportMetric{metricDef: def}
		m.Siogo = medianOf(rep.Runs[nameSiogo], def.Key)
		m.Reference = medianOf(rep.Runs[nameReference], def.Key)
		m.Ratio = ratio(m.Siogo, m.Reference)
		m.SiogoV4 = medianOf(rep.Runs[nameSiogoV4], def.Key)
		m.ReferenceV4 = medianOf(rep.Runs[nameReferenceV4], def.Key)
		m.RatioV4 = ratio(m.SiogoV4, m.ReferenceV4)
		m.SiogoV2 = medianOf(rep.Runs[nameSiogoV2], def.Key)
		m.ReferenceV2 = medianOf(rep.Runs[nameReferenceV2], def.Key)
		m.RatioV2 = ratio(m.SiogoV2, m.ReferenceV2)
		m.Floor = medianOf(rep.Runs[nameFloor], def.Key)
		if def.Better != "" { // a ratio of context rows (CPU %) says nothing
			m.RatioFloor = ratio(m.Siogo, m.Floor)
			m.RatioV4Floor = ratio(m.SiogoV4, m.Floor)
		}
		if t, ok := floorTargets[def.Key]; ok && cfg.Floor {
			m.TargetFloor = t.String()
		}
		if t, ok := v4Targets[def.Key]; ok && cfg.runs(genV4) {
			m.TargetV4 = t.String()
			if m.RatioV4 != nil {
				met := t.met(*m.RatioV4)
				m.TargetV4Met = &met
			}
		}
		rep.Metrics = append(rep.Metrics, m)
	}
	printReport(stdout, &rep)
	if cfg.JSONOut != "" {
		b, err := json.MarshalIndent(&rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(cfg.JSONOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// benchOne starts one server, runs every phase against it and stops it.
func benchOne(ctx context.Context, cfg *config, spec serverSpec, d *dialers, logf func(string, ...any)) runResult {
	res := runResult{Metrics: map[string]float64{}}
	start := time.Now()
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	srv, err := startServer(ctx, spec)
	if err != nil {
		res.Problems = append(res.Problems, "start: "+err.Error())
		logf("  problem: start: %v", err)
		return res
	}
	defer srv.stop()
	t := newTarget(srv.addr, d, cfg.Polling+2*cfg.Concurrency+cfg.AckClients+16, spec.gen)
	defer t.close()
	if spec.probe {
		if err := probe(ctx, t); err != nil {
			res.NotServed = err.Error()
			logf("  %s: not served (%v)", spec.name, err)
			return res
		}
	}
	b := &bench{cfg: cfg, srv: srv, t: t, logf: logf, res: &res, tokens: make(chan struct{}, cfg.BroadcastWindow+16),
		floor: spec.floor}
	defer func() {
		for _, c := range b.idle {
			c.close(false)
		}
	}()

	var base int64
	phases := []struct {
		name string
		run  func(context.Context)
	}{
		{"warm-up", func(ctx context.Context) { base = b.warmUp(ctx) }},
		{"idle connect", func(ctx context.Context) { b.connectIdle(ctx, base) }},
		{"broadcast", b.broadcast},
		{"ack", b.ackRTT},
		{"idle close", b.closeIdle},
		{"sessions", b.sessions},
		{"polling", b.polling},
	}
	for _, phase := range phases {
		if ctx.Err() != nil || !srv.alive() {
			break
		}
		if spec.floor && (phase.name == "ack" || phase.name == "polling") {
			continue // no Socket.IO to answer acks or polls
		}
		srv.mark(phase.name)
		phase.run(ctx)
	}
	srv.mark("shut-down")
	if !srv.alive() {
		b.problem("server exited during the run: %v; last output: %s", srv.err, strings.Join(srv.logTail(5), " | "))
	}
	res.Log = srv.notableLogs()
	for _, l := range res.Log {
		logf("  server: %s", l)
	}
	return res
}

// probe opens and closes one session, to tell a server that does not
// serve the generation (siogo before its v4 support) from one that does.
func probe(ctx context.Context, t *target) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	o := newRawOpener(t)
	defer o.close()
	w, err := o.open(ctx)
	if err != nil {
		return err
	}
	w.close()
	return nil
}

func medianOf(runs []runResult, key string) *float64 {
	var v []float64
	for _, r := range runs {
		if x, ok := r.Metrics[key]; ok && !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return nil
	}
	m := median(v)
	return &m
}

func fmtNum(p *float64) string {
	if p == nil {
		return "-"
	}
	v := *p
	switch a := math.Abs(v); {
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 10:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// notServed returns why a server did not serve its generation in any
// run, or "" if it did in at least one.
func notServed(runs []runResult) string {
	why := ""
	for _, r := range runs {
		if r.NotServed == "" {
			return ""
		}
		why = r.NotServed
	}
	return why
}

func printReport(w io.Writer, rep *report) {
	m := rep.Machine
	cfg := rep.Config
	fmt.Fprintf(w, "\nsiobench: N=%d idle ws, %d run(s) per server, medians\n", cfg.N, cfg.Runs)
	fmt.Fprintf(w, "machine: %s, %d cores, kernel %s, load %s at start\n", m.CPU, m.Cores, m.Kernel, m.LoadAvg)
	fmt.Fprintf(w, "go %s", m.Go)
	if m.Node != "" {
		fmt.Fprintf(w, ", node %s", m.Node)
		if m.SocketIO != "" && cfg.runs(gen09) {
			fmt.Fprintf(w, ", socket.io %s", m.SocketIO)
		}
		if m.SocketIO4 != "" && (cfg.runs(genV4) || cfg.runs(genV2)) {
			fmt.Fprintf(w, ", socket.io %s", m.SocketIO4)
		}
	}
	fmt.Fprintf(w, "\n\n")
	v4Missing := ""
	if _, ran := rep.Runs[nameSiogoV4]; ran {
		v4Missing = notServed(rep.Runs[nameSiogoV4])
	}
	v2Missing := ""
	if _, ran := rep.Runs[nameSiogoV2]; ran {
		v2Missing = notServed(rep.Runs[nameSiogoV2])
	}
	ref4 := "node 4.8"
	if m.SocketIO4 != "" {
		ref4 = "node " + m.SocketIO4
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	gens := cfg.Only != "floor"
	_, floor09 := rep.Runs[nameSiogo]
	_, floorV4 := rep.Runs[nameSiogoV4]
	head := "metric\tunit\t"
	if gens && cfg.runs(gen09) {
		head += "siogo 0.9\tnode 0.9\tratio 0.9\t"
	}
	if gens && cfg.runs(genV4) {
		head += "siogo v4\t" + ref4 + "\tratio v4\tv4 target\t"
	}
	if gens && cfg.runs(genV2) {
		head += "siogo v2\t" + ref4 + " v2\tratio v2\t"
	}
	if cfg.Floor {
		head += "raw floor\t"
		if floor09 {
			head += "0.9/floor\t"
		}
		if floorV4 {
			head += "v4/floor\t"
		}
	}
	fmt.Fprintln(tw, head+"better\t")
	floorRatio := func(r *float64, target string) string {
		s := fmtNum(r)
		if r != nil && target != "" {
			if t := floorTargets[target]; t.met(*r) {
				s += " (" + t.String() + " met)"
			} else {
				s += " (" + t.String() + " NOT met)"
			}
		}
		return s
	}
	for _, x := range rep.Metrics {
		row := x.Label + "\t" + x.Unit + "\t"
		if gens && cfg.runs(gen09) {
			row += fmtNum(x.Siogo) + "\t" + fmtNum(x.Reference) + "\t" + fmtNum(x.Ratio) + "\t"
		}
		if gens && cfg.runs(genV4) {
			sv4 := fmtNum(x.SiogoV4)
			if v4Missing != "" {
				sv4 = "not served"
			}
			target := x.TargetV4
			if x.TargetV4Met != nil {
				if *x.TargetV4Met {
					target += " met"
				} else {
					target += " NOT met"
				}
			}
			if target == "" {
				target = "-"
			}
			row += sv4 + "\t" + fmtNum(x.ReferenceV4) + "\t" + fmtNum(x.RatioV4) + "\t" + target + "\t"
		}
		if gens && cfg.runs(genV2) {
			sv2 := fmtNum(x.SiogoV2)
			if v2Missing != "" {
				sv2 = "not served"
			}
			row += sv2 + "\t" + fmtNum(x.ReferenceV2) + "\t" + fmtNum(x.RatioV2) + "\t"
		}
		if cfg.Floor {
			target := ""
			if x.TargetFloor != "" {
				target = x.Key
			}
			row += fmtNum(x.Floor) + "\t"
			if floor09 {
				row += floorRatio(x.RatioFloor, target) + "\t"
			}
			if floorV4 {
				row += floorRatio(x.RatioV4Floor, target) + "\t"
			}
		}
		fmt.Fprintln(tw, row+x.Better+"\t")
	}
	_ = tw.Flush()
	if v4Missing != "" {
		fmt.Fprintf(w, "siogo v4: not served (%s)\n", v4Missing)
	}
	if v2Missing != "" {
		fmt.Fprintf(w, "siogo v2: not served (%s)\n", v2Missing)
	}
	for _, name := range []string{nameSiogo, nameReference, nameSiogoV4, nameReferenceV4, nameSiogoV2, nameReferenceV2, nameFloor} {
		for i, r := range rep.Runs[name] {
			for _, p := range r.Problems {
				fmt.Fprintf(w, "%s run %d: %s\n", name, i+1, p)
			}
			for _, l := range r.Log {
				fmt.Fprintf(w, "%s run %d server log: %s\n", name, i+1, l)
			}
		}
	}
}
