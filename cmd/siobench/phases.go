package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siogo/siogo/packet"
)

// runResult is what one run against one server measured.
type runResult struct {
	Metrics  map[string]float64 `json:"metrics"`
	Problems []string           `json:"problems,omitempty"`
	Log      []string           `json:"server_log,omitempty"`
	// NotServed says why the server did not serve the run's generation
	// (siogo v4 before the testapp serves it); no metrics then.
	NotServed string  `json:"not_served,omitempty"`
	Seconds   float64 `json:"seconds"`
}

// bench runs the phases against one server process.
type bench struct {
	cfg  *config
	srv  *serverProc
	t    *target
	logf func(format string, args ...any)
	res  *runResult
	// floor: the server is the raw floor (floor.go): plain websockets,
	// no handshake, no room to join, any frame sent is a broadcast.
	floor bool

	idle []*wsClient // the N idle, room-joined connections
	// heapBase is the server's live heap after the warm-up (heapOK: it
	// could be read; the testapp only).
	heapBase int64
	heapOK   bool

	// broadcast fan-out state, touched by the idle connections' readers
	delivered atomic.Int64
	roomSize  atomic.Int64
	tokens    chan struct{}
	bcastWant int64 // frames the broadcast phase sent but did not see delivered, else 0
}

const (
	roomName       = "bench"
	roomEvent      = "room" // what the testapp's to-room emits (TESTAPP.md)
	everyonePrefix = `5:::{"name":"everyone","args":[`
)

func encode(p *packet.Packet) []byte { return packet.AppendPacket(nil, p) }

func rawArgs(args ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(args))
	for i, a := range args {
		out[i] = json.RawMessage(a)
	}
	return out
}

func (b *bench) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.res.Problems = append(b.res.Problems, msg)
	b.logf("  problem: %s", msg)
}

func (b *bench) metric(key string, v float64) { b.res.Metrics[key] = v }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sample is a point in time with the server's CPU time and a counter.
type sample struct {
	at        time.Time
	cpu       time.Duration // server
	clientCPU time.Duration // siobench itself
	machine   time.Duration // every CPU's busy time, steal included
	count     int64
}

func (b *bench) sample(counter *atomic.Int64) sample {
	cpu, _ := cpuTime(b.srv.pid())
	own, _ := cpuTime(os.Getpid())
	busy, _ := machineBusy()
	return sample{at: time.Now(), cpu: cpu, clientCPU: own, machine: busy, count: counter.Load()}
}

// cpuMetrics records the server's, siobench's and everything else's CPU
// use between s0 and s1, in percent of one core. "Other" is what the rest
// of the machine (and the hypervisor, as steal) took meanwhile: when it is
// high the numbers of that phase are not worth much.
func (b *bench) cpuMetrics(phase string, s0, s1 sample) {
	wall := float64(s1.at.Sub(s0.at))
	if wall <= 0 {
		return
	}
	srv := 100 * float64(s1.cpu-s0.cpu) / wall
	cli := 100 * float64(s1.clientCPU-s0.clientCPU) / wall
	other := 100*float64(s1.machine-s0.machine)/wall - srv - cli
	key := phase + "_server_cpu_pct"
	if phase == "polling" {
		key = "polling_cpu_pct"
	}
	b.metric(key, srv)
	b.metric(phase+"_client_cpu_pct", cli)
	b.metric(phase+"_other_cpu_pct", max(0, other))
}

// forEach runs fn(i) for i in [0, n) on `workers` goroutines until done or
// ctx ends.
func forEach(ctx context.Context, n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// sessionOnce opens a session over websocket, echoes with an ack, and
// disconnects it.
func (b *bench) sessionOnce(ctx context.Context) error {
	if b.floor {
		return b.t.floorSession(ctx)
	}
	o := newRawOpener(b.t)
	defer o.close()
	w, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer w.close()
	_, _, err = w.echo(1, nil)
	return err
}

// warmUp opens and closes a few sessions so that the baseline RSS is taken
// from a server that has run its code paths once.
func (b *bench) warmUp(ctx context.Context) int64 {
	var errs errCounter
	forEach(ctx, b.cfg.Warmup, 10, func(int) {
		if err := b.sessionOnce(ctx); err != nil {
			errs.add(err)
		}
	})
	if errs.count() > 0 {
		b.problem("warm-up sessions failed: %s", &errs)
	}
	_ = sleep(ctx, b.cfg.Settle)
	base, err := rss(b.srv.pid())
	if err != nil {
		b.problem("reading RSS: %v", err)
	}
	b.heapBase, b.heapOK, err = b.srv.heapAlloc(ctx)
	if err != nil {
		b.problem("reading the live heap: %v", err)
	}
	return base
}

// onIdleFrame counts broadcast deliveries on the idle connections.
func (b *bench) onIdleFrame(f []byte) bool {
	if !isEvent(f, roomEvent) && !isEventV4(f, roomEvent) {
		return false
	}
	n := b.delivered.Add(1)
	if rs := b.roomSize.Load(); rs > 0 && n%rs == 0 {
		select {
		case b.tokens <- struct{}{}:
		default:
		}
	}
	return true
}

// connectIdle opens N websockets, each joining the room, and measures the
// server's RSS growth per connection.
func (b *bench) connectIdle(ctx context.Context, base int64) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.ConnectTimeout)
	defer cancel()
	n := b.cfg.N
	conns := make([]*wsClient, n)
	join := b.t.wire.join
	var errs errCounter
	start := time.Now()
	forEach(ctx, n, b.cfg.Concurrency, func(i int) {
		c, err := b.dial(ctx, b.onIdleFrame)
		if err != nil {
			errs.add(err)
			return
		}
		if b.floor {
			conns[i] = c
			return
		}
		if err := c.write(join); err != nil {
			c.close(false)
			errs.add(err)
			return
		}
		f, err := c.await(ctx, 10*time.Second, isJoinAck)
		if err != nil || string(f) != b.t.wire.joinAck {
			c.close(false)
			errs.add(fmt.Errorf("join: %q %v", clip(f), err))
			return
		}
		conns[i] = c
	})
	elapsed := time.Since(start)
	for _, c := range conns {
		if c != nil {
			b.idle = append(b.idle, c)
		}
	}
	b.logf("  idle connect: %d/%d in %.1fs", len(b.idle), n, elapsed.Seconds())
	if errs.count() > 0 {
		b.problem("idle connect: %d of %d failed: %s", n-len(b.idle), n, &errs)
	}
	if len(b.idle) == 0 {
		return
	}
	b.metric("connect_per_sec", float64(len(b.idle))/elapsed.Seconds())
	_ = sleep(ctx, b.cfg.Settle)
	loaded, err := rss(b.srv.pid())
	if err != nil {
		b.problem("reading RSS: %v", err)
		return
	}
	b.metric("rss_idle_mib", float64(loaded)/(1<<20))
	b.metric("mem_per_conn_kib", float64(loaded-base)/float64(len(b.idle))/1024)
	if b.heapOK {
		// Read after RSS: the collection it asks for could let the
		// runtime give memory back.
		if heap, ok, err := b.srv.heapAlloc(ctx); err != nil {
			b.problem("reading the live heap: %v", err)
		} else if ok {
			b.metric(heapPerConnKey, float64(heap-b.heapBase)/float64(len(b.idle))/1024)
		}
	}
	b.checkIdle("after connect")
}

// dial opens an idle connection (or a sender): a Socket.IO session over
// websocket, or a plain websocket to the raw floor.
func (b *bench) dial(ctx context.Context, onFrame func([]byte) bool) (*wsClient, error) {
	if b.floor {
		return b.t.dialFloor(ctx, onFrame)
	}
	return b.t.dialWS(ctx, onFrame)
}

// checkIdle reports idle connections the server closed.
func (b *bench) checkIdle(when string) {
	dropped := 0
	var why error
	for _, c := range b.idle {
		if c.droppedByServer() {
			dropped++
			why = c.readErr
		}
	}
	if dropped > 0 {
		b.problem("%d of %d idle connections closed by the server %s (%v)", dropped, len(b.idle), when, why)
	}
}

// broadcast measures to-room fan-out to the N idle connections.
func (b *bench) broadcast(ctx context.Context) {
	if len(b.idle) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Broadcast+b.cfg.BroadcastWarmup+30*time.Second)
	defer cancel()
	sender, err := b.dial(ctx, nil)
	if err != nil {
		b.problem("broadcast sender: %v", err)
		return
	}
	defer sender.close(true)
	room := int64(len(b.idle))
	b.roomSize.Store(room)
	b.delivered.Store(0)
	msg := b.t.wire.toRoom

	var sent, stalls atomic.Int64
	stop := make(chan struct{})
	senderDone := make(chan error, 1)
	go func() {
		// Keep at most Window broadcasts in flight: a token arrives each
		// time another room's worth of frames has been delivered.
		timer := time.NewTimer(time.Hour)
		defer timer.Stop()
		for range b.cfg.BroadcastWindow {
			if err := sender.write(msg); err != nil {
				senderDone <- err
				return
			}
			sent.Add(1)
		}
		for {
			timer.Reset(500 * time.Millisecond)
			select {
			case <-b.tokens:
			case <-timer.C:
				stalls.Add(1)
			case <-stop:
				senderDone <- nil
				return
			}
			if err := sender.write(msg); err != nil {
				senderDone <- err
				return
			}
			sent.Add(1)
		}
	}()
	_ = sleep(ctx, b.cfg.BroadcastWarmup)
	s0 := b.sample(&b.delivered)
	_ = sleep(ctx, b.cfg.Broadcast)
	s1 := b.sample(&b.delivered)
	close(stop)
	if err := <-senderDone; err != nil {
		b.problem("broadcast sender: %v", err)
	}
	// drain the frames still in flight
	want := sent.Load() * room
	for deadline := time.Now().Add(5 * time.Second); b.delivered.Load() < want && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(20 * time.Millisecond)
	}
	for len(b.tokens) > 0 {
		<-b.tokens
	}
	got := b.delivered.Load()
	n := s1.count - s0.count
	b.logf("  broadcast: %d broadcasts to %d, %d frames in %.1fs", sent.Load(), room, n, s1.at.Sub(s0.at).Seconds())
	if got < want && ctx.Err() == nil {
		b.problem("broadcast: %d of %d frames not delivered 5 s after the last broadcast", want-got, want)
		b.bcastWant = want
	}
	if st := stalls.Load(); st > 0 {
		b.problem("broadcast: sender waited 500ms for deliveries %d times", st)
	}
	if n > 0 {
		b.metric("broadcast_msgs_per_sec", float64(n)/s1.at.Sub(s0.at).Seconds())
		b.metric("broadcast_cpu_us_per_msg", float64((s1.cpu-s0.cpu).Microseconds())/float64(n))
	}
	b.cpuMetrics("broadcast", s0, s1)
	b.checkIdle("during broadcast")
}

// ackRTT measures echo-with-ack round trips from a few clients while the
// idle connections stay open: paced at AckRate round trips per second per
// client ("ack"), then as fast as each client can go ("ack_max", which
// saturates the machine, so its latency is mostly queueing). The clients
// are raw websocket clients that read their own answers (no reader
// goroutine, no allocation per round trip), so that as little as possible
// of the time measured is siobench's.
func (b *bench) ackRTT(ctx context.Context) {
	b.ackPhase(ctx, "ack", b.cfg.AckRate)
	b.ackPhase(ctx, "ack_max", 0)
}

func (b *bench) ackPhase(ctx context.Context, phase string, rate int) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.AckDuration+30*time.Second)
	defer cancel()
	var errs errCounter
	var mu sync.Mutex
	var rtts []time.Duration
	var wg sync.WaitGroup
	var acked atomic.Int64
	// The clients connect first; the clock and the CPU sample start once
	// all of them are open, so a slow connect is not measured as acks.
	var opened sync.WaitGroup
	startc := make(chan struct{})
	var end time.Time // set before startc is closed
	for range b.cfg.AckClients {
		wg.Add(1)
		opened.Add(1)
		go func() {
			defer wg.Done()
			o := newRawOpener(b.t)
			w, err := o.open(ctx)
			o.close()
			opened.Done()
			if err != nil {
				errs.add(err)
				return
			}
			defer w.close()
			<-startc
			_ = w.c.SetDeadline(end.Add(10 * time.Second))
			local := make([]time.Duration, 0, 1<<16)
			buf := make([]byte, 0, 128)
			next := time.Now()
			for id := uint64(1); time.Now().Before(end) && ctx.Err() == nil; id++ {
				if rate > 0 {
					// Paced: the next round trip starts on schedule, or at
					// once if this one ran late.
					next = next.Add(time.Second / time.Duration(rate))
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
				}
				var rtt time.Duration
				buf, rtt, err = w.echo(id, buf)
				if err != nil {
					errs.add(err)
					break
				}
				local = append(local, rtt)
				acked.Add(1)
			}
			mu.Lock()
			rtts = append(rtts, local...)
			mu.Unlock()
		}()
	}
	opened.Wait()
	s0 := b.sample(&acked)
	end = time.Now().Add(b.cfg.AckDuration)
	close(startc)
	wg.Wait()
	s1 := b.sample(&acked)
	b.cpuMetrics(phase, s0, s1)
	if errs.count() > 0 {
		b.problem("%s round trip: %s", phase, &errs)
	}
	if len(rtts) == 0 {
		return
	}
	sort.Slice(rtts, func(i, j int) bool { return rtts[i] < rtts[j] })
	q := func(p float64) float64 {
		i := int(p * float64(len(rtts)-1))
		return float64(rtts[i].Nanoseconds()) / 1e3
	}
	b.logf("  %s: %d round trips, p50 %.0fµs p99 %.0fµs", phase, len(rtts), q(0.5), q(0.99))
	b.metric(phase+"_p50_us", q(0.5))
	b.metric(phase+"_p99_us", q(0.99))
	b.metric(phase+"_per_sec", float64(s1.count-s0.count)/s1.at.Sub(s0.at).Seconds())
	b.checkIdle("during the " + phase + " phase")
}

// closeIdle disconnects the idle connections.
func (b *bench) closeIdle(ctx context.Context) {
	if b.bcastWant > 0 {
		if got := b.delivered.Load(); got < b.bcastWant {
			b.problem("broadcast: %d frames still missing after the ack phase (lost?)", b.bcastWant-got)
		} else {
			b.problem("broadcast: the missing frames arrived during the ack phase (late, not lost)")
		}
	}
	forEach(ctx, len(b.idle), 8, func(i int) { b.idle[i].close(true) })
	b.idle = nil
	_ = sleep(ctx, b.cfg.Settle)
}

// sessions measures new sessions per second: handshake, websocket, "1::"
// (v4: websocket, "0{...}", "40", "40{...}"), then the close, with a lean
// client (rawOpener) on concurrency goroutines.
func (b *bench) sessions(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.SessionsDuration+30*time.Second)
	defer cancel()
	var ok atomic.Int64
	var errs errCounter
	end := time.Now().Add(b.cfg.SessionsDuration)
	start := time.Now()
	s0 := b.sample(&ok)
	var claimed atomic.Int64
	var wg sync.WaitGroup
	for range b.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			session := b.t.floorSession
			if !b.floor {
				o := newRawOpener(b.t)
				defer o.close()
				session = o.session
			}
			for ctx.Err() == nil && time.Now().Before(end) && claimed.Add(1) <= int64(b.cfg.Sessions) {
				if err := session(ctx); err != nil {
					errs.add(err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	s1 := b.sample(&ok)
	b.logf("  sessions: %d in %.1fs", ok.Load(), elapsed.Seconds())
	b.cpuMetrics("sessions", s0, s1)
	if n := s1.count - s0.count; n > 0 {
		b.metric("sessions_cpu_us", float64((s1.cpu-s0.cpu).Microseconds())/float64(n))
	}
	if errs.count() > 0 {
		b.problem("new sessions: %s", &errs)
	}
	if ok.Load() > 0 {
		b.metric("sessions_per_sec", float64(ok.Load())/elapsed.Seconds())
	}
	_ = sleep(ctx, b.cfg.Settle)
}

// polling measures xhr-polling clients receiving `everyone` events that a
// websocket driver emits at a fixed rate.
func (b *bench) polling(ctx context.Context) {
	total := b.cfg.PollingDuration + b.cfg.PollingWarmup
	ctx, cancel := context.WithTimeout(ctx, total+60*time.Second)
	defer cancel()
	n := b.cfg.Polling
	sids := make([]string, n)
	var errs errCounter
	forEach(ctx, n, b.cfg.Concurrency, func(i int) {
		sid, err := b.t.handshake(ctx)
		if err != nil {
			errs.add(err)
			return
		}
		sids[i] = sid
	})
	if errs.count() > 0 {
		b.problem("polling handshakes: %s", &errs)
	}

	loopCtx, stopLoops := context.WithCancel(ctx)
	var events atomic.Int64    // all clients
	var measuring atomic.Int64 // start of the measuring window (unix ns), 0 outside
	var pollErrs errCounter
	var wg sync.WaitGroup
	var clients []*pollClient
	for _, sid := range sids {
		if sid == "" {
			continue
		}
		pc := &pollClient{sid: sid, total: &events, window: &measuring, last: -1}
		clients = append(clients, pc)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b.t.gen.eio() {
				b.pollLoopV4(loopCtx, pc, &pollErrs)
			} else {
				b.pollLoop(loopCtx, pc, &pollErrs)
			}
		}()
	}
	defer func() {
		stopLoops()
		wg.Wait()
	}()
	countConnected := func() int {
		n := 0
		for _, pc := range clients {
			if pc.connected.Load() {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(30 * time.Second); countConnected() < len(clients) && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(20 * time.Millisecond)
	}
	connected := countConnected()
	if connected < n {
		b.problem("polling: only %d of %d clients connected", connected, n)
	}
	driver, err := b.t.dialWS(ctx, nil)
	if err != nil {
		b.problem("polling driver: %v", err)
		return
	}
	defer driver.close(true)
	driverDone := make(chan error, 1)
	stop := make(chan struct{})
	var emitted atomic.Int64
	go func() {
		tick := time.NewTicker(time.Second / time.Duration(b.cfg.PollingRate))
		defer tick.Stop()
		var msg []byte
		for i := 0; ; i++ {
			select {
			case <-tick.C:
			case <-stop:
				driverDone <- nil
				return
			}
			msg = b.t.wire.everyone(msg[:0], i)
			if err := driver.write(msg); err != nil {
				driverDone <- err
				return
			}
			emitted.Add(1)
		}
	}()
	_ = sleep(ctx, b.cfg.PollingWarmup)
	before := make([]int64, len(clients))
	for i, pc := range clients {
		before[i] = pc.events.Load()
	}
	e0 := emitted.Load()
	s0 := b.sample(&events)
	measuring.Store(s0.at.UnixNano())
	_ = sleep(ctx, b.cfg.PollingDuration)
	measuring.Store(0)
	s1 := b.sample(&events)
	e1 := emitted.Load()
	// Per client: events in the window and the longest silence in it.
	starved, longest := 0, time.Duration(0)
	pendingStarved, longestPending := 0, time.Duration(0) // starved clients waiting on a poll

	limit := max(2*time.Second, 20*time.Second/time.Duration(b.cfg.PollingRate))
	for i, pc := range clients {
		if !pc.connected.Load() {
			continue
		}
		silence := time.Duration(pc.maxSilence.Load())
		if last := pc.lastEvent.Load(); last > 0 {
			silence = max(silence, s1.at.Sub(time.Unix(0, max(last, s0.at.UnixNano()))))
		} else {
			silence = s1.at.Sub(s0.at)
		}
		if pc.events.Load() == before[i] || silence > limit {
			starved++
			if since := pc.pollSince.Load(); since > 0 {
				pendingStarved++
				longestPending = max(longestPending, s1.at.Sub(time.Unix(0, since)))
			}
		}
		longest = max(longest, silence)
	}
	b.srv.mark("polling teardown")
	close(stop)
	if err := <-driverDone; err != nil {
		b.problem("polling driver: %v", err)
	}
	stopLoops()
	wg.Wait()
	if pollErrs.count() > 0 {
		b.problem("polling: %s", &pollErrs)
	}
	var lost, disordered int64
	for _, pc := range clients {
		lost += pc.lost.Load()
		disordered += pc.disordered.Load()
	}
	if lost > 0 || disordered > 0 {
		b.problem("polling: %d events missing from the sequences clients saw, %d out of order or repeated", lost, disordered)
	}
	if starved > 0 {
		b.problem("polling: %d of %d clients went more than %v without an event while measuring (longest %.1fs); "+
			"%d of them had a poll pending at the end, for up to %.1fs",
			starved, connected, limit, longest.Seconds(), pendingStarved, longestPending.Seconds())
	}
	wall := s1.at.Sub(s0.at)
	delivered := s1.count - s0.count
	b.logf("  polling: %d clients, %d events emitted, %d delivered in %.1fs", connected, e1-e0, delivered, wall.Seconds())
	b.metric("polling_events_per_sec", float64(delivered)/wall.Seconds())
	b.metric("polling_expected_events_per_sec", float64(connected)*float64(e1-e0)/wall.Seconds())
	b.metric("polling_longest_silence_ms", float64(longest.Milliseconds()))
	b.cpuMetrics("polling", s0, s1)
}

// pollClient is the state of one xhr-polling client.
type pollClient struct {
	sid        string
	total      *atomic.Int64 // events of all clients
	window     *atomic.Int64 // measuring window start (unix ns), 0 outside it
	connected  atomic.Bool
	events     atomic.Int64
	lastEvent  atomic.Int64 // unix ns
	maxSilence atomic.Int64 // ns, within the measuring window
	lost       atomic.Int64
	disordered atomic.Int64
	pollSince  atomic.Int64 // unix ns when the pending GET was sent, 0 if none
	last       int64        // the highest sequence number seen, -1 before; pollLoop's goroutine only
}

// event counts an `everyone` event with sequence number seq, received at
// now (unix ns): checks the sequence for gaps and records the silence
// before it.
func (pc *pollClient) event(now int64, seq string) {
	pc.total.Add(1)
	pc.events.Add(1)
	if w := pc.window.Load(); w > 0 {
		if gap := now - max(pc.lastEvent.Load(), w); gap > pc.maxSilence.Load() {
			pc.maxSilence.Store(gap)
		}
	}
	pc.lastEvent.Store(now)
	if i, err := strconv.ParseInt(seq, 10, 64); err == nil {
		if pc.last >= 0 && i > pc.last+1 {
			pc.lost.Add(i - pc.last - 1)
		} else if pc.last >= 0 && i <= pc.last {
			pc.disordered.Add(1)
		}
		pc.last = max(pc.last, i)
	}
}

// pollLoop is one xhr-polling client: GET in a loop, heartbeats answered
// by POST. It checks that the `everyone` events' sequence numbers have no
// gaps and records how long it went without an event.
func (b *bench) pollLoop(ctx context.Context, pc *pollClient, errs *errCounter) {
	url := b.t.base + "/socket.io/1/xhr-polling/" + pc.sid
	fail := func(err error) bool {
		if ctx.Err() != nil {
			return true
		}
		errs.add(err)
		return sleep(ctx, 100*time.Millisecond) != nil
	}
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", url+"?t="+strconv.FormatInt(time.Now().UnixMilli(), 10), nil)
		pc.pollSince.Store(time.Now().UnixNano())
		resp, err := b.t.hc.Do(req)
		if err != nil {
			pc.pollSince.Store(0)
			if fail(err) {
				return
			}
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		pc.pollSince.Store(0)
		if err != nil || resp.StatusCode != 200 {
			if fail(fmt.Errorf("poll: %s %v %q", resp.Status, err, clip(body))) {
				return
			}
			continue
		}
		parts, err := packet.SplitPayload(string(body), 0)
		if err != nil {
			errs.add(fmt.Errorf("poll payload: %v", err))
			continue
		}
		now := time.Now().UnixNano()
		for _, p := range parts {
			switch {
			case strings.HasPrefix(p, everyonePrefix):
				digits, _, _ := strings.Cut(p[len(everyonePrefix):], "]")
				pc.event(now, digits)
			case p == "8::":
			case p == "1::":
				pc.connected.Store(true)
			case p == "2::":
				if err := b.t.post(ctx, url+"?t="+strconv.FormatInt(time.Now().UnixMilli(), 10), "2::"); err != nil && ctx.Err() == nil {
					errs.add(err)
				}
			case strings.HasPrefix(p, "7:") || strings.HasPrefix(p, "0:"):
				if ctx.Err() == nil {
					errs.add(fmt.Errorf("session ended by the server: %q", p))
				}
				return
			}
		}
	}
}
