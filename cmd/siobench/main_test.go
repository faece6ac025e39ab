package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEndToEnd runs a tiny configuration against the siogo testapp and
// checks that every metric came out positive and nothing went wrong.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and loads it for several seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{
		"-proto", "0.9", "-n", "200", "-runs", "1", "-only", "siogo", "-floor=false", "-json", out,
		"-c", "10", "-warmup", "10", "-settle", "200ms",
		"-broadcast-warmup", "200ms", "-broadcast", "1s",
		"-ack-clients", "2", "-ack-duration", "500ms",
		"-sessions", "300", "-sessions-duration", "1s",
		"-polling", "50", "-polling-warmup", "300ms", "-polling-duration", "2s",
	}, &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	t.Logf("stdout:\n%s", stdout.String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs["siogo"]) != 1 || len(rep.Runs["reference"]) != 0 {
		t.Fatalf("runs: %d siogo, %d reference", len(rep.Runs["siogo"]), len(rep.Runs["reference"]))
	}
	if p := seriousProblems(rep.Runs["siogo"][0].Problems); len(p) > 0 {
		t.Errorf("problems: %q", p)
	}
	for _, m := range rep.Metrics {
		if mayBeZero(m.Key) {
			continue
		}
		if m.Siogo == nil || !(*m.Siogo > 0) {
			t.Errorf("metric %s (%s): %v, want > 0", m.Key, m.Label, m.Siogo)
		}
		if m.Reference != nil || m.Ratio != nil {
			t.Errorf("metric %s has a reference value with -only siogo", m.Key)
		}
	}
	if !bytes.Contains(stdout.Bytes(), []byte("metric")) {
		t.Errorf("no table on stdout")
	}
}

// mayBeZero tells the metrics that may be 0 in a short test run: other
// processes' CPU, and the siobench process's own CPU, which is read in
// clock ticks (10 ms) and rounds to 0 over a phase where the reference
// server answered only a few hundred round trips.
func mayBeZero(key string) bool {
	return strings.HasSuffix(key, "_other_cpu_pct") || strings.HasSuffix(key, "_client_cpu_pct")
}

func TestParseFlags(t *testing.T) {
	var sink bytes.Buffer
	cfg, err := parseFlags([]string{"-n", "50000"}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Addrs) != 4 || cfg.Addrs[3] != "127.0.0.4" {
		t.Errorf("auto source addresses for N=50000 (at least 4): %q", cfg.Addrs)
	}
	big, err := parseFlags([]string{"-n", "100000"}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(big.Addrs) != 5 || big.Addrs[4] != "127.0.0.5" {
		t.Errorf("auto source addresses for N=100000 (20000 a piece): %q", big.Addrs)
	}
	if cfg.BroadcastWindow != 4 {
		t.Errorf("auto window for N=50000: %d", cfg.BroadcastWindow)
	}
	if len(cfg.Protocols) != 2 || cfg.Protocols[0] != "0.9" || cfg.Protocols[1] != "v4" {
		t.Errorf("default generations: %q", cfg.Protocols)
	}
	v4, err := parseFlags([]string{"-proto", "v4, v4"}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if len(v4.Protocols) != 1 || !v4.runs(genV4) || v4.runs(gen09) {
		t.Errorf("-proto v4: %q", v4.Protocols)
	}
	if !cfg.Floor {
		t.Error("-floor is not on by default")
	}
	if fl, err := parseFlags([]string{"-only", "floor", "-floor=false"}, &sink); err != nil || !fl.Floor {
		t.Errorf("-only floor: %v, floor %v", err, fl != nil && fl.Floor)
	}
	if ref, err := parseFlags([]string{"-only", "reference"}, &sink); err != nil || ref.Floor {
		t.Errorf("-only reference runs the floor (%v)", err)
	}
	for _, bad := range [][]string{{"-only", "x"}, {"-n", "0"}, {"extra"}, {"-proto", "v3"}, {"-proto", ""}} {
		if _, err := parseFlags(bad, &sink); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
	if _, err := newDialers([]string{"10.0.0.1"}); err == nil {
		t.Error("a non-loopback source address was accepted")
	}
}

func TestIsEvent(t *testing.T) {
	for f, want := range map[string]bool{
		`5:::{"name":"bench","args":["x"]}`: true,
		`5:::{"name":"bench"}`:              true,
		`5:::{"name":"benchx","args":[]}`:   false,
		`5::/chat:{"name":"bench"}`:         false,
		`6:::1+["bench"]`:                   false,
		`5:::{"name":"`:                     false,
	} {
		if got := isEvent([]byte(f), "bench"); got != want {
			t.Errorf("isEvent(%q) = %v", f, got)
		}
	}
	for f, want := range map[string]bool{
		`42["bench","x"]`:      true,
		`42["bench"]`:          true,
		`42["benchx","x"]`:     false,
		`42/chat,["bench"]`:    false,
		`421["bench"]`:         false,
		`43["bench"]`:          false,
		`42["bench`:            false,
		`5:::{"name":"bench"}`: false,
	} {
		if got := isEventV4([]byte(f), "bench"); got != want {
			t.Errorf("isEventV4(%q) = %v", f, got)
		}
	}
}

func TestParseHeapAlloc(t *testing.T) {
	text := "heap profile: 1: 2 [3: 4] @ heap/1048576\n1: 2 [3: 4] @ 0x1\n\n# runtime.MemStats\n# Alloc = 123\n# TotalAlloc = 456\n# Sys = 789\n# HeapAlloc = 4242\n# HeapSys = 9\n"
	n, err := parseHeapAlloc(strings.NewReader(text))
	if err != nil || n != 4242 {
		t.Fatalf("parseHeapAlloc = %d, %v; want 4242", n, err)
	}
	if _, err := parseHeapAlloc(strings.NewReader("# Alloc = 1\n")); err == nil {
		t.Fatal("no HeapAlloc: want an error")
	}
}

// TestFloor runs the raw floor phases (-only floor) at a small N against
// the real floor server process (siobench -floor-server, built by run) and
// checks that every broadcast frame was delivered and that the server's
// CPU per message, memory per connection and CPU per connect came out
// positive.
func TestFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and loads it for a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{
		"-only", "floor", "-n", "200", "-runs", "1", "-json", out,
		"-c", "10", "-warmup", "10", "-settle", "200ms",
		"-broadcast-warmup", "200ms", "-broadcast", "2s",
		"-sessions", "2000", "-sessions-duration", "1s",
	}, &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	t.Logf("stdout:\n%s", stdout.String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs[nameFloor]) != 1 || len(rep.Runs[nameSiogo]) != 0 || len(rep.Runs[nameReference]) != 0 {
		t.Fatalf("runs: %d floor, %d siogo, %d reference", len(rep.Runs[nameFloor]), len(rep.Runs[nameSiogo]), len(rep.Runs[nameReference]))
	}
	// 2 s of broadcast: the CPU is read in clock ticks (10 ms), and a
	// loaded machine may leave the floor only a few of them.
	for _, p := range rep.Runs[nameFloor][0].Problems {
		// A sender that waited for deliveries is slow, not lossy; any
		// other problem (frames not delivered, connects failed) is one.
		if !strings.HasPrefix(p, "broadcast: sender waited") {
			t.Errorf("problem: %s", p)
		}
	}
	got := map[string]*float64{}
	for _, m := range rep.Metrics {
		got[m.Key] = m.Floor
		if m.Siogo != nil || m.RatioFloor != nil {
			t.Errorf("metric %s has a siogo value with -only floor", m.Key)
		}
	}
	for _, key := range []string{"broadcast_cpu_us_per_msg", "broadcast_msgs_per_sec", "mem_per_conn_kib",
		"connect_per_sec", "sessions_cpu_us", "sessions_per_sec"} {
		if v := got[key]; v == nil || !(*v > 0) {
			t.Errorf("floor %s: %v, want > 0", key, v)
		}
	}
	if got["ack_p50_us"] != nil || got["polling_cpu_pct"] != nil {
		t.Error("the floor reports ack or polling metrics it cannot measure")
	}
	if !bytes.Contains(stdout.Bytes(), []byte("raw floor")) {
		t.Errorf("no raw floor column on stdout")
	}
}

func TestClientFrame(t *testing.T) {
	mask := []byte{1, 2, 3, 4}
	short := append([]byte{0x81, 0x80 | 3}, mask...)
	short = append(short, 'a', 'b', 'c')
	long := append([]byte{0x82, 0x80 | 126, 0x01, 0x00}, mask...)
	long = append(long, make([]byte, 256)...)
	for _, tc := range []struct {
		b    []byte
		op   byte
		size int
		ok   bool
	}{
		{short, 0x1, 9, true},
		{short[:8], 0, 0, false},
		{long, 0x2, 264, true},
		{long[:3], 0, 0, false},
		{append(short, 0x88, 0x80), 0x1, 9, true},
		{[]byte{0x88}, 0, 0, false},
	} {
		op, size, ok := clientFrame(tc.b)
		if byte(op) != tc.op || size != tc.size || ok != tc.ok {
			t.Errorf("clientFrame(% x...) = %v %d %v, want %v %d %v", tc.b[:min(len(tc.b), 4)], op, size, ok, tc.op, tc.size, tc.ok)
		}
	}
}

// TestPrintReportFloor checks the raw floor column and its siogo/floor
// ratio with issue 18's target in the text table.
func TestPrintReportFloor(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cfg := &config{N: 10, Runs: 1, Protocols: []string{"0.9"}, Floor: true}
	rep := &report{Config: cfg, Runs: map[string][]runResult{nameSiogo: {{}}, nameFloor: {{}}},
		Metrics: []reportMetric{{
			metricDef: metricDef{Key: "broadcast_cpu_us_per_msg", Label: "cpu per msg", Unit: "µs", Better: "lower"},
			Siogo:     f(0.5), Floor: f(0.4), RatioFloor: f(1.25), TargetFloor: "<= 2",
		}}}
	var out bytes.Buffer
	printReport(&out, rep)
	if s := out.String(); !strings.Contains(s, "raw floor") || !strings.Contains(s, "0.9/floor") ||
		!strings.Contains(s, "1.250 (<= 2 met)") || strings.Contains(s, "v4/floor") {
		t.Errorf("report:\n%s", s)
	}
}
