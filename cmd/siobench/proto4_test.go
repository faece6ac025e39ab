package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
)

// startNode48 starts testdata/<script> (socket.io 4.8) and returns a v4
// target for it.
func startNode48(t *testing.T, ctx context.Context, script string, timers ...string) (*serverProc, *target) {
	t.Helper()
	return startNode48Gen(t, ctx, genV4, script, timers...)
}

// startNode48Gen is startNode48 with a target for generation gen (v4 or v2,
// which socket.io 4.8 serves with allowEIO3).
func startNode48Gen(t *testing.T, ctx context.Context, gen generation, script string, timers ...string) (*serverProc, *target) {
	t.Helper()
	node := nodetest.Require(t)
	td := nodetest.Dir(t)
	srv, err := startServer(ctx, serverSpec{name: nameReferenceV4, path: node, dir: td, gen: genV4, readyV4: true,
		args: append([]string{filepath.Join(td, script), "--ping-interval", "25s", "--ping-timeout", "20s"}, timers...)})
	require.NoError(t, err)
	t.Cleanup(srv.stop)
	d, err := newDialers([]string{"127.0.0.1"})
	require.NoError(t, err)
	tg := newTarget(srv.addr, d, 64, gen)
	t.Cleanup(tg.close)
	return srv, tg
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRawClientV4Node48 drives each piece of the v4 load generator against
// the Node.js socket.io 4.8 servers siobench can use (reftestapp4.js,
// refbench4.js), with a few connections: the raw websocket session (open,
// echo with ack, close), the gorilla-based idle connections (join with
// ack, to-room fan-out, graceful close) and the polling clients
// (handshake, connect, `everyone` events in order).
func TestRawClientV4Node48(t *testing.T) {
	for _, script := range []string{"reftestapp4.js", "refbench4.js"} {
		t.Run(script, func(t *testing.T) { testRawClientV4(t, genV4, script) })
	}
}

// TestRawClientV2Node48 is TestRawClientV4Node48 with the v2 clients
// (Engine.IO v3, as socket.io-client 2.x) against socket.io 4.8 with
// allowEIO3: the server's own "40", v3 polling payloads.
func TestRawClientV2Node48(t *testing.T) {
	testRawClientV4(t, genV2, "reftestapp4.js")
}

func testRawClientV4(t *testing.T, gen generation, script string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, tg := startNode48Gen(t, ctx, gen, script)

	t.Run("raw websocket", func(t *testing.T) {
		require.NoError(t, probe(ctx, tg))
		o := newRawOpener(tg)
		defer o.close()
		w, err := o.open(ctx)
		require.NoError(t, err)
		var buf []byte
		for id := uint64(1); id <= 5; id++ {
			var rtt time.Duration
			buf, rtt, err = w.echo(id, buf)
			require.NoError(t, err)
			assert.Positive(t, rtt)
		}
		w.close()
		for range 3 {
			require.NoError(t, o.session(ctx))
		}
	})

	t.Run("idle connections and to-room", func(t *testing.T) {
		const n = 5
		var delivered atomic.Int64
		onFrame := func(f []byte) bool {
			if isEventV4(f, roomEvent) {
				assert.Equal(t, `42["room",`+broadcastPayload+`]`, string(f))
				delivered.Add(1)
				return true
			}
			return false
		}
		var conns []*wsClient
		for range n {
			c, err := tg.dialWS(ctx, onFrame)
			require.NoError(t, err)
			conns = append(conns, c)
			require.NoError(t, c.write(tg.wire.join))
			f, err := c.await(ctx, 10*time.Second, isJoinAck)
			require.NoError(t, err)
			assert.Equal(t, tg.wire.joinAck, string(f))
		}
		sender, err := tg.dialWS(ctx, nil)
		require.NoError(t, err)
		for range 3 {
			require.NoError(t, sender.write(tg.wire.toRoom))
		}
		waitFor(t, "3 broadcasts to each room member", 10*time.Second, func() bool { return delivered.Load() == 3*n })
		sender.close(true)
		for _, c := range conns {
			assert.False(t, c.droppedByServer())
			c.close(true)
		}
		// "41" and a websocket close: the server ends each connection.
		for _, c := range append(conns, sender) {
			select {
			case <-c.done:
			case <-time.After(10 * time.Second):
				t.Fatal("the server did not close a connection after 41 and a close frame")
			}
		}
	})

	t.Run("polling", func(t *testing.T) {
		b := &bench{t: tg, srv: srv, cfg: &config{}, logf: t.Logf, res: &runResult{Metrics: map[string]float64{}}}
		var events, window atomic.Int64
		var errs errCounter
		pcs := make([]*pollClient, 3)
		loopCtx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for i := range pcs {
			sid, err := tg.handshake(ctx)
			require.NoError(t, err)
			pcs[i] = &pollClient{sid: sid, total: &events, window: &window, last: -1}
			wg.Add(1)
			go func() {
				defer wg.Done()
				b.pollLoopV4(loopCtx, pcs[i], &errs)
			}()
		}
		defer func() {
			stop()
			wg.Wait()
		}()
		waitFor(t, "polling clients connected", 10*time.Second, func() bool {
			for _, pc := range pcs {
				if !pc.connected.Load() {
					return false
				}
			}
			return true
		})
		driver, err := tg.dialWS(ctx, nil)
		require.NoError(t, err)
		defer driver.close(true)
		var msg []byte
		for i := range 10 {
			msg = tg.wire.everyone(msg[:0], i)
			require.NoError(t, driver.write(msg))
			time.Sleep(5 * time.Millisecond)
		}
		waitFor(t, "10 events on each polling client", 10*time.Second, func() bool { return events.Load() == 30 })
		stop()
		wg.Wait()
		for _, pc := range pcs {
			assert.EqualValues(t, 10, pc.events.Load())
			assert.Zero(t, pc.lost.Load())
			assert.Zero(t, pc.disordered.Load())
			assert.EqualValues(t, 9, pc.last)
		}
		assert.Zero(t, errs.count(), "%s", &errs)
	})
}

// TestProbeNotServed: a server that does not speak Engine.IO v4 is told
// apart (probe fails) rather than measured.
func TestProbeNotServed(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown protocol", http.StatusBadRequest)
	}))
	defer hs.Close()
	d, err := newDialers([]string{"127.0.0.1"})
	require.NoError(t, err)
	tg := newTarget(strings.TrimPrefix(hs.URL, "http://"), d, 4, genV4)
	defer tg.close()
	err = probe(context.Background(), tg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "400")
}

// TestPrintReportNotServed: the v4 columns say "not served" for siogo,
// with the reason under the table, and the 0.9 columns are unaffected.
func TestPrintReportNotServed(t *testing.T) {
	cfg, err := parseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	v := func(x float64) *float64 { return &x }
	met := true
	rep := &report{Config: cfg, Runs: map[string][]runResult{
		nameSiogoV4: {{NotServed: "websocket: upgrade: status 400"}},
	}, Metrics: []reportMetric{{
		metricDef: metricDef{Key: "mem_per_conn_kib", Label: "memory per idle ws connection", Unit: "KiB", Better: "lower"},
		Siogo:     v(4), Reference: v(17), Ratio: v(4.0 / 17), ReferenceV4: v(37), TargetV4: "<= 0.2",
	}, {
		metricDef: metricDef{Key: "broadcast_msgs_per_sec", Label: "broadcast", Unit: "msg/s", Better: "higher"},
		SiogoV4:   v(3e6), ReferenceV4: v(2e5), RatioV4: v(15), TargetV4: ">= 10", TargetV4Met: &met,
	}}}
	var out bytes.Buffer
	printReport(&out, rep)
	s := out.String()
	assert.Contains(t, s, "siogo v4: not served (websocket: upgrade: status 400)")
	assert.Contains(t, s, "0.235")
	lines := strings.Split(s, "\n")
	var memLine string
	for _, l := range lines {
		if strings.HasPrefix(l, "memory per idle ws connection") {
			memLine = l
		}
	}
	assert.Contains(t, memLine, "not served")
	assert.Contains(t, memLine, "<= 0.2")
	assert.Contains(t, s, ">= 10 met")

	// All served: no "not served" anywhere.
	rep.Runs[nameSiogoV4] = []runResult{{}}
	out.Reset()
	printReport(&out, rep)
	assert.NotContains(t, out.String(), "not served")
}

// seriousProblems drops from a run's problems those that only say the
// machine was slow (a test shares it with others): the broadcast sender
// waiting, frames arriving late (not lost), polling clients waiting long
// for an event. Failures, drops, losses and disorder stay.
func seriousProblems(problems []string) []string {
	var out []string
	for _, p := range problems {
		switch {
		case strings.HasPrefix(p, "broadcast: sender waited"),
			strings.Contains(p, "not delivered 5 s after the last broadcast"),
			strings.Contains(p, "(late, not lost)"),
			strings.HasPrefix(p, "polling: ") && strings.Contains(p, "without an event while measuring"):
			continue
		}
		out = append(out, p)
	}
	return out
}

// TestEndToEndV4 runs a tiny configuration of the v4 phases against
// siogo's testapp and the Node.js socket.io 4.8 server: every reference
// metric positive and no problems; siogo either measured the same way or,
// until the testapp serves Engine.IO v4, reported as not served.
func TestEndToEndV4(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers and loads them for several seconds")
	}
	nodetest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{
		"-proto", "v4", "-floor=false", "-n", "200", "-runs", "1", "-json", out,
		"-c", "10", "-warmup", "10", "-settle", "200ms",
		"-broadcast-warmup", "200ms", "-broadcast", "1s",
		"-ack-clients", "2", "-ack-duration", "500ms",
		"-sessions", "300", "-sessions-duration", "1s",
		"-polling", "50", "-polling-warmup", "300ms", "-polling-duration", "2s",
	}, &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	t.Logf("stdout:\n%s", stdout.String())
	require.NoError(t, err)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var rep report
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Len(t, rep.Runs[nameReferenceV4], 1)
	require.Len(t, rep.Runs[nameSiogoV4], 1)
	assert.Empty(t, rep.Runs[nameSiogo])
	assert.Empty(t, rep.Runs[nameReference])
	assert.Empty(t, seriousProblems(rep.Runs[nameReferenceV4][0].Problems))
	siogoServed := rep.Runs[nameSiogoV4][0].NotServed == ""
	if siogoServed {
		assert.Empty(t, seriousProblems(rep.Runs[nameSiogoV4][0].Problems))
	} else {
		assert.Contains(t, stdout.String(), "siogo v4: not served")
	}
	targets := 0
	for _, m := range rep.Metrics {
		assert.Nil(t, m.Siogo, m.Key)
		assert.Nil(t, m.Reference, m.Key)
		if m.TargetV4 != "" {
			targets++
		}
		if mayBeZero(m.Key) {
			continue
		}
		if m.Key == heapPerConnKey { // the testapp's only
			assert.Nil(t, m.ReferenceV4, m.Key)
			if siogoServed && assert.NotNil(t, m.SiogoV4, m.Key) {
				assert.Positive(t, *m.SiogoV4, m.Key)
			}
			continue
		}
		if assert.NotNil(t, m.ReferenceV4, m.Key) {
			assert.Positive(t, *m.ReferenceV4, m.Key)
		}
		if siogoServed {
			if assert.NotNil(t, m.SiogoV4, m.Key) {
				assert.Positive(t, *m.SiogoV4, m.Key)
				assert.NotNil(t, m.RatioV4, m.Key)
			}
		} else {
			assert.Nil(t, m.SiogoV4, m.Key)
		}
	}
	assert.Equal(t, len(v4Targets), targets)
	assert.Contains(t, stdout.String(), "node 4.8.4")
}

// TestEndToEndV2 runs siobench -proto v2 small: the testapp and socket.io
// 4.8 (allowEIO3) both serve the socket.io-client 2.x protocol, and every
// metric has both numbers.
func TestEndToEndV2(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two servers and loads them for several seconds")
	}
	nodetest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{
		"-proto", "v2", "-floor=false", "-n", "200", "-runs", "1", "-json", out,
		"-c", "10", "-warmup", "10", "-settle", "200ms",
		"-broadcast-warmup", "200ms", "-broadcast", "1s",
		"-ack-clients", "2", "-ack-duration", "500ms",
		"-sessions", "300", "-sessions-duration", "1s",
		"-polling", "50", "-polling-warmup", "300ms", "-polling-duration", "2s",
	}, &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	t.Logf("stdout:\n%s", stdout.String())
	require.NoError(t, err)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var rep report
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Len(t, rep.Runs[nameReferenceV2], 1)
	require.Len(t, rep.Runs[nameSiogoV2], 1)
	for _, name := range []string{nameSiogo, nameReference, nameSiogoV4, nameReferenceV4} {
		assert.Empty(t, rep.Runs[name], name)
	}
	assert.Empty(t, seriousProblems(rep.Runs[nameReferenceV2][0].Problems))
	assert.Empty(t, rep.Runs[nameSiogoV2][0].NotServed)
	assert.Empty(t, seriousProblems(rep.Runs[nameSiogoV2][0].Problems))
	for _, m := range rep.Metrics {
		assert.Nil(t, m.SiogoV4, m.Key)
		assert.Empty(t, m.TargetV4, m.Key)
		if mayBeZero(m.Key) {
			continue
		}
		if m.Key == heapPerConnKey { // the testapp's only
			assert.Nil(t, m.ReferenceV2, m.Key)
			if assert.NotNil(t, m.SiogoV2, m.Key) {
				assert.Positive(t, *m.SiogoV2, m.Key)
			}
			continue
		}
		for _, v := range []*float64{m.SiogoV2, m.ReferenceV2, m.RatioV2} {
			if assert.NotNil(t, v, m.Key) {
				assert.Positive(t, *v, m.Key)
			}
		}
	}
	assert.Contains(t, stdout.String(), "siogo v2")
	assert.Contains(t, stdout.String(), "node 4.8.4 v2")
}

// TestPingsV2Node48: socket.io 4.8 expecting a v3 client ping every
// 200 ms (timeout 300 ms) keeps a v2 idle connection that pings every
// 100 ms for two seconds, and drops one that does not ping.
func TestPingsV2Node48(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, tg := startNode48Gen(t, ctx, genV2, "reftestapp4.js", "--ping-interval", "200ms", "--ping-timeout", "300ms")
	tg.pingEvery = 100 * time.Millisecond
	idle, err := tg.dialWS(ctx, nil)
	require.NoError(t, err)
	tg.pingEvery = time.Hour
	silent, err := tg.dialWS(ctx, nil)
	require.NoError(t, err)
	waitFor(t, "the silent connection dropped", 10*time.Second, silent.droppedByServer)
	time.Sleep(2 * time.Second)
	assert.False(t, idle.droppedByServer(), "idle connection dropped: %v", idle.readErr)
	require.NoError(t, idle.write(tg.wire.join))
	f, err := idle.await(ctx, 10*time.Second, isJoinAck)
	require.NoError(t, err)
	assert.Equal(t, tg.wire.joinAck, string(f))
	idle.close(true)
	silent.close(false)
}

func TestSeriousProblems(t *testing.T) {
	assert.Equal(t, []string{"idle connect: 1 of 200 failed: x", "broadcast: 5 frames still missing after the ack phase (lost?)"},
		seriousProblems([]string{
			"broadcast: sender waited 500ms for deliveries 1 times",
			"idle connect: 1 of 200 failed: x",
			"broadcast: 5 of 100 frames not delivered 5 s after the last broadcast",
			"broadcast: the missing frames arrived during the ack phase (late, not lost)",
			"broadcast: 5 frames still missing after the ack phase (lost?)",
			"polling: 3 of 50 clients went more than 2s without an event while measuring (longest 2.5s); 0 of them had a poll pending at the end, for up to 0.0s",
		}))
}

// TestPingsV4Node48: with socket.io 4.8 pinging every 200 ms (timeout
// 300 ms), every kind of v4 client of siobench answers the pings and keeps
// its session for two seconds: the raw websocket session, an idle
// connection and a polling client.
func TestPingsV4Node48(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, tg := startNode48(t, ctx, "reftestapp4.js", "--ping-interval", "200ms", "--ping-timeout", "300ms")

	o := newRawOpener(tg)
	defer o.close()
	w, err := o.open(ctx)
	require.NoError(t, err)
	idle, err := tg.dialWS(ctx, nil)
	require.NoError(t, err)
	b := &bench{t: tg, srv: srv, cfg: &config{}, logf: t.Logf, res: &runResult{Metrics: map[string]float64{}}}
	var events, window atomic.Int64
	var errs errCounter
	sid, err := tg.handshake(ctx)
	require.NoError(t, err)
	pc := &pollClient{sid: sid, total: &events, window: &window, last: -1}
	loopCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.pollLoopV4(loopCtx, pc, &errs)
	}()
	defer func() {
		stop()
		<-done
	}()

	end := time.Now().Add(2 * time.Second)
	var buf []byte
	for id := uint64(1); time.Now().Before(end); id++ {
		// The raw session reads (and answers pings) only inside echo.
		buf, _, err = w.echo(id, buf)
		require.NoError(t, err)
		time.Sleep(50 * time.Millisecond)
	}
	assert.False(t, idle.droppedByServer(), "idle connection dropped: %v", idle.readErr)
	require.NoError(t, idle.write(tg.wire.join))
	f, err := idle.await(ctx, 10*time.Second, isJoinAck)
	require.NoError(t, err)
	assert.Equal(t, tg.wire.joinAck, string(f))
	assert.True(t, pc.connected.Load())
	select {
	case <-done:
		t.Fatalf("the polling client stopped: %s", &errs)
	default:
	}
	// The session is still there: an event reaches the polling client.
	require.NoError(t, idle.write(tg.wire.everyone(nil, 0)))
	waitFor(t, "an event on the polling client", 10*time.Second, func() bool { return pc.events.Load() == 1 })
	assert.Zero(t, errs.count(), "%s", &errs)
	w.close()
	idle.close(true)
}
