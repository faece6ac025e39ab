// Command siobench compares the siogo testapp (examples/testapp) with the
// Node.js reference server socket.io@0.9.19 running the same contract
// (testdata/reftestapp.js) under load, over loopback only.
//
//	go run ./cmd/siobench [-n 5000] [-runs 3] [-only siogo|reference] [-json out.json]
//	    [-addrs 127.0.0.1,127.0.0.2,...]
//
// It builds the testapp, then for each run starts each server in turn on a
// free loopback port (default heartbeats 25 s / 60 s) and measures, with
// raw-protocol Go clients (gorilla/websocket and net/http for the idle
// connections and polling; hand-written minimal websocket clients for the
// new-sessions and echo phases, so that the load generator, which shares
// the machine, does as little as it can), from source addresses
// 127.0.0.1..4 (or -addrs):
//
//   - server memory per idle websocket connection: VmRSS growth over a
//     post-warm-up baseline, divided by N, once N sockets are connected and
//     have joined a room;
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
// Besides, for most phases, the CPU that siobench
// itself and the rest of the machine (from /proc/stat) used: a phase during
// which other processes took much CPU is not worth much. Problems seen
// (failed connects, connections the server dropped, frames missing or late,
// clients starved of events) and the servers' own log lines, by phase, are
// listed under the table.
//
// Each metric is the median over -runs runs. A table (metric | siogo |
// reference | ratio) goes to stdout, progress to stderr, everything to
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
}

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
	fs.StringVar(&cfg.Only, "only", "", "benchmark only `siogo` or `reference`")
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
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch cfg.Only {
	case "", "siogo", "reference":
	default:
		return nil, fmt.Errorf("-only must be siogo or reference, not %q", cfg.Only)
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
	Runs    map[string][]runResult `json:"runs"`
}

type reportMetric struct {
	metricDef
	Siogo     *float64 `json:"siogo,omitempty"`
	Reference *float64 `json:"reference,omitempty"`
	Ratio     *float64 `json:"ratio_siogo_reference,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
	tmp, err := os.MkdirTemp("", "siobench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var specs []serverSpec
	node := ""
	if cfg.Only != "reference" {
		logf("building ./examples/testapp ...")
		bin, err := buildSiogo(ctx, cfg.Root, tmp)
		if err != nil {
			return err
		}
		specs = append(specs, serverSpec{name: "siogo", path: bin, dir: cfg.Root})
	}
	if cfg.Only != "siogo" {
		if node, err = exec.LookPath(cfg.Node); err != nil {
			return fmt.Errorf("node: %w (or pass -only siogo)", err)
		}
		td := filepath.Join(cfg.Root, "testdata")
		if _, err := os.Stat(filepath.Join(td, "node_modules", "socket.io")); err != nil {
			return errors.New("testdata/node_modules/socket.io is missing; run `make deps-node`")
		}
		specs = append(specs, serverSpec{name: "reference", path: node,
			args: []string{filepath.Join(td, "reftestapp.js")}, dir: td})
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

	for _, def := range metricDefs(cfg) {
		m := reportMetric{metricDef: def}
		m.Siogo = medianOf(rep.Runs["siogo"], def.Key)
		m.Reference = medianOf(rep.Runs["reference"], def.Key)
		if m.Siogo != nil && m.Reference != nil && *m.Reference != 0 {
			r := *m.Siogo / *m.Reference
			m.Ratio = &r
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
	t := newTarget(srv.addr, d, cfg.Polling+2*cfg.Concurrency+cfg.AckClients+16)
	defer t.close()
	b := &bench{cfg: cfg, srv: srv, t: t, logf: logf, res: &res, tokens: make(chan struct{}, cfg.BroadcastWindow+16)}
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

func printReport(w io.Writer, rep *report) {
	m := rep.Machine
	fmt.Fprintf(w, "\nsiobench: N=%d idle ws, %d run(s) per server, medians\n", rep.Config.N, rep.Config.Runs)
	fmt.Fprintf(w, "machine: %s, %d cores, kernel %s, load %s at start\n", m.CPU, m.Cores, m.Kernel, m.LoadAvg)
	fmt.Fprintf(w, "go %s", m.Go)
	if m.Node != "" {
		fmt.Fprintf(w, ", node %s, socket.io %s", m.Node, m.SocketIO)
	}
	fmt.Fprintf(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tunit\tsiogo\treference\tsiogo/ref\tbetter\t")
	for _, x := range rep.Metrics {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", x.Label, x.Unit, fmtNum(x.Siogo), fmtNum(x.Reference), fmtNum(x.Ratio), x.Better)
	}
	_ = tw.Flush()
	for _, name := range []string{"siogo", "reference"} {
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
