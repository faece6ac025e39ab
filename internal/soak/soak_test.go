package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/socketio"
)

const (
	defaultDuration = 20 * time.Second
	defaultClients  = 200
	numRooms        = 8
	// opTimeout bounds every single operation (a dial, an ack, a room
	// delivery, a reconnect). Generous: the test must hold on a loaded
	// two-core machine under -race; a loopback operation that needs this
	// long is a failure, not slowness.
	opTimeout = 30 * time.Second
	// settleTimeout bounds the wait for goroutines to go.
	settleTimeout = 20 * time.Second
	// sessionSettleTimeout bounds the wait for the server to forget every
	// session. A client gives its goodbye ("0::") a second; on a loaded
	// machine a polling client's goodbye may not make it, and the server
	// then forgets the session at its CloseTimeout (60 s by default, the
	// configuration this test runs), as it must. A v5 session a client
	// gave up (a reconnect attempt cut short by a drop or a Close) ends at
	// its ping timeout (25 s + 20 s by default).
	sessionSettleTimeout = 60*time.Second + settleTimeout
	// goroutineMargin: goroutines allowed above the baseline at the end.
	goroutineMargin = 5
	// heapMargin: heap allowed above the baseline at the end.
	heapMargin = 16 << 20
)

// kind is how a client speaks: a protocol and the transports it is given.
type kind struct {
	name       string
	protocol   client.Protocol
	transports []string
}

// kinds are the clients the workers pick from, at random: half of them
// speak 0.9 (socket.io.js 0.9's transports), half Engine.IO v4 and
// Socket.IO v5 (socket.io-client 3.x/4.x: websocket, polling, polling
// upgraded to websocket).
var kinds = []kind{
	{client.WebSocket, client.Protocol09, []string{client.WebSocket}},
	{client.XHRPolling, client.Protocol09, []string{client.XHRPolling}},
	{client.JSONPPolling, client.Protocol09, []string{client.JSONPPolling}},
	{"v5 websocket", client.ProtocolV5, []string{client.WebSocket}},
	{"v5 polling", client.ProtocolV5, []string{client.Polling}},
	{"v5 upgrade", client.ProtocolV5, []string{client.Polling, client.WebSocket}},
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive Go duration", name, v)
	}
	return d
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// soak is one run: the server, the counters, the observers.
type soak struct {
	t    *testing.T
	url  string
	addr string // the server's host:port
	app  *app
	seed uint64
	// dropHTTP sends the ?disconnect requests that drop sessions.
	dropHTTP *http.Client

	// Counters (figures logged at the end).
	dials, dialErrors     atomic.Int64
	dialsBy               [6]atomic.Int64 // by kind, as in kinds
	closes                atomic.Int64
	drops, reconnects     atomic.Int64
	sent, acked           atomic.Int64 // EmitWithAck calls, and those acked correctly
	lost, wrong           atomic.Int64 // no ack (error) / an ack with other args
	joins, leaves         atomic.Int64
	roomEmits, roomMissed atomic.Int64 // to-room emits whose sender got its own copy / did not
	roomDeliveries        atomic.Int64 // room events received by any client
	unexpectedDisconnects atomic.Int64
	failures              atomic.Int64

	mu        sync.Mutex
	confirmed map[string]string // room emit id → room, for emits the sender saw delivered
}

// fail records a failure; the first few are reported in full.
func (s *soak) fail(format string, args ...any) {
	if s.failures.Add(1) <= 20 {
		s.t.Errorf(format, args...)
	}
}

// conn is one client incarnation (Dial to Close) and what the test
// knows of it.
type conn struct {
	s         *soak
	c         *client.Client
	chat      *client.Namespace // nil unless this incarnation joined /chat
	transport string            // its kind's name
	cut       *cutter           // v5: the connection cutter it dials through (drop)
	name      string
	observer  bool

	gen      atomic.Int64  // default-namespace connects (OnConnect)
	genCh    chan struct{} // cap 1: gen changed
	dropping atomic.Bool   // a drop we caused is in progress
	closing  atomic.Bool   // Close was called

	mu      sync.Mutex
	waiting map[string]chan struct{} // room emit id → closed when it arrives
	seen    map[string]int           // observers: room emit id → times received
}

func (s *soak) dial(name string, k int, observer bool, withChat bool) *conn {
	kd := kinds[k]
	tr := kd.name
	cn := &conn{s: s, transport: tr, name: name, observer: observer,
		genCh: make(chan struct{}, 1), waiting: map[string]chan struct{}{}, seen: map[string]int{}}
	url := s.url
	if kd.protocol == client.ProtocolV5 {
		// A v5 session is dropped by cutting its connections (there is
		// no ?disconnect in Engine.IO v4).
		cut, err := newCutter(s.addr)
		if err != nil {
			s.fail("%s: cutter: %v", name, err)
			return nil
		}
		cn.cut = cut
		url = "http://" + cut.addr()
	}
	opts := &client.Options{
		Protocol:          kd.protocol,
		Transports:        kd.transports,
		ConnectTimeout:    opTimeout,
		ReconnectMinDelay: 20 * time.Millisecond,
		ReconnectMaxDelay: 200 * time.Millisecond,
		OnConnect: func(ns *client.Namespace) {
			if ns.Name() == "" {
				cn.gen.Add(1)
				select {
				case cn.genCh <- struct{}{}:
				default:
				}
			}
		},
		OnDisconnect: func(ns *client.Namespace, err error) {
			if errors.Is(err, client.ErrClosed) && cn.closing.Load() {
				return
			}
			if cn.dropping.Load() && !cn.observer {
				return
			}
			s.unexpectedDisconnects.Add(1)
			s.fail("%s (%s): namespace %q disconnected unexpectedly: %v", cn.name, cn.transport, ns.Name(), err)
		},
		OnError: func(err error) {
			s.fail("%s (%s): client error: %v", cn.name, cn.transport, err)
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	s.dials.Add(1)
	s.dialsBy[k].Add(1)
	c, err := client.Dial(ctx, url, opts)
	if err != nil {
		s.dialErrors.Add(1)
		s.fail("%s: dial over %s: %v", cn.name, tr, err)
		if cn.cut != nil {
			cn.cut.close()
		}
		return nil
	}
	cn.c = c
	c.OnAny(cn.onEvent)
	// OnConnect runs on the dispatch goroutine, maybe after Dial returned:
	// count it now, so that drop sees only the reconnect's.
	for cn.gen.Load() == 0 {
		select {
		case <-cn.genCh:
		case <-ctx.Done():
			s.fail("%s: OnConnect did not run after Dial over %s", cn.name, tr)
			return cn
		}
	}
	if withChat {
		cn.chat = c.Of("/chat")
		if err := cn.chat.WaitConnected(ctx); err != nil {
			s.fail("%s (%s): joining /chat: %v", cn.name, tr, err)
		}
	}
	return cn
}

// onEvent runs on the client's dispatch goroutine for every event of the
// default namespace.
func (cn *conn) onEvent(event string, args []json.RawMessage) {
	if event != "room" {
		return
	}
	cn.s.roomDeliveries.Add(1)
	var id string
	if len(args) != 1 || json.Unmarshal(args[0], &id) != nil {
		cn.s.fail("%s: room event %s with args %s", cn.name, event, args)
		return
	}
	cn.mu.Lock()
	ch := cn.waiting[id]
	delete(cn.waiting, id)
	if cn.observer {
		cn.seen[id]++
	}
	cn.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

func (cn *conn) close() {
	cn.closing.Store(true)
	cn.c.Close()
	if cn.cut != nil {
		cn.cut.close()
	}
	cn.s.closes.Add(1)
}

// call is EmitWithAck with the operation timeout.
func (cn *conn) call(ns *client.Namespace, event string, args ...any) ([]json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return ns.EmitWithAck(ctx, event, args...)
}

// expectTrue calls event(arg) and checks that the ack is [true].
func (cn *conn) expectTrue(event, arg string) bool {
	got, err := cn.call(cn.c.Namespace(), event, arg)
	if err != nil {
		cn.s.fail("%s (%s): %s(%q): %v", cn.name, cn.transport, event, arg, err)
		return false
	}
	if string(bytes.Join(rawBytes(got), []byte(","))) != "true" {
		cn.s.fail("%s (%s): %s(%q) acked %s, want [true]", cn.name, cn.transport, event, arg, got)
		return false
	}
	return true
}

func rawBytes(args []json.RawMessage) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

// worker is one simulated user: it keeps a client (a new one, on a random
// transport, after each Close) and does random things until ctx ends.
type worker struct {
	s      *soak
	id     int
	rng    *rand.Rand
	cn     *conn
	seq    int
	joined map[string]bool
}

func (w *worker) run(ctx context.Context, start time.Duration) {
	defer func() {
		if w.cn != nil {
			w.cn.close()
		}
	}()
	if !sleepCtx(ctx, start) {
		return
	}
	for ctx.Err() == nil {
		if w.cn == nil {
			w.cn = w.s.dial(fmt.Sprintf("worker %d", w.id), w.rng.IntN(len(kinds)), false, w.rng.IntN(3) == 0)
			w.joined = map[string]bool{}
			if w.cn == nil {
				sleepCtx(ctx, time.Second)
				continue
			}
		}
		switch n := w.rng.IntN(100); {
		case n < 45:
			w.echo()
		case n < 57:
			w.join()
		case n < 63:
			w.leave()
		case n < 90:
			w.toRoom()
		case n < 95:
			w.cn.close()
			w.cn = nil
		default:
			w.drop()
		}
		sleepCtx(ctx, time.Duration(w.rng.IntN(50))*time.Millisecond)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *worker) nextID() string {
	w.seq++
	return fmt.Sprintf("w%d-%d", w.id, w.seq)
}

// payload is a random string with what tends to break encoders: quotes,
// backslashes, markup, the line separators JSONP must escape, multi-byte
// UTF-8, the payload framing character; now and then 64 KiB of it.
func (w *worker) payload() string {
	pieces := []string{"a", "Z", "0", " ", `"`, `\`, "<", ">", "&", "</script>", "\u2028", "\u2029",
		"é", "😀", "中", "\ufffd", ":", "\n", "\t", "{}", "[]"}
	n := w.rng.IntN(64)
	if w.rng.IntN(50) == 0 {
		n = 64 << 10 / 4
	}
	var b strings.Builder
	for range n {
		b.WriteString(pieces[w.rng.IntN(len(pieces))])
	}
	return b.String()
}

// echo sends 1–4 concurrent echo(id, payload) calls asking for acks; each
// ack must carry the same two arguments.
func (w *worker) echo() {
	cn := w.cn
	ns := cn.c.Namespace()
	if cn.chat != nil && w.rng.IntN(2) == 0 {
		ns = cn.chat
	}
	k := 1 + w.rng.IntN(4)
	var wg sync.WaitGroup
	for range k {
		id, payload := w.nextID(), w.payload()
		wg.Go(func() {
			w.s.sent.Add(1)
			got, err := cn.call(ns, "echo", id, payload)
			if err != nil {
				w.s.lost.Add(1)
				w.s.fail("%s (%s): echo %s on %q: no ack: %v", cn.name, cn.transport, id, ns.Name(), err)
				return
			}
			var gotID, gotPayload string
			if len(got) != 2 || json.Unmarshal(got[0], &gotID) != nil || json.Unmarshal(got[1], &gotPayload) != nil ||
				gotID != id || gotPayload != payload {
				w.s.wrong.Add(1)
				w.s.fail("%s (%s): echo %s on %q acked with other args (%d args)", cn.name, cn.transport, id, ns.Name(), len(got))
				return
			}
			w.s.acked.Add(1)
		})
	}
	wg.Wait()
}

func (w *worker) join() {
	room := fmt.Sprintf("room-%d", w.rng.IntN(numRooms))
	if w.joined[room] {
		return
	}
	if w.cn.expectTrue("join", room) {
		w.joined[room] = true
		w.s.joins.Add(1)
	}
}

func (w *worker) leave() {
	for room := range w.joined {
		if w.cn.expectTrue("leave", room) {
			delete(w.joined, room)
			w.s.leaves.Add(1)
		}
		return
	}
}

// toRoom emits to-room(room, id) to a room the worker is in and waits for
// its own copy (the sender is included): then the server has processed
// the emit, and every observer must get it too.
func (w *worker) toRoom() {
	if len(w.joined) == 0 {
		w.join()
	}
	var room string
	for r := range w.joined {
		room = r
		break
	}
	if room == "" {
		return
	}
	cn, id := w.cn, w.nextID()
	ch := make(chan struct{})
	cn.mu.Lock()
	cn.waiting[id] = ch
	cn.mu.Unlock()
	if err := cn.c.Emit("to-room", room, id); err != nil {
		w.s.fail("%s (%s): emit to-room: %v", cn.name, cn.transport, err)
		return
	}
	t := time.NewTimer(opTimeout)
	defer t.Stop()
	select {
	case <-ch:
		w.s.roomEmits.Add(1)
		w.s.mu.Lock()
		w.s.confirmed[id] = room
		w.s.mu.Unlock()
	case <-t.C:
		w.s.roomMissed.Add(1)
		w.s.fail("%s (%s): its own emit %s to %s never came back", cn.name, cn.transport, id, room)
	}
}

// drop makes the server forget the session (GET ?disconnect=1, as
// socket.io.js sends on page unload; v5: a close packet POSTed for it and
// its connections cut, a lost network): to the client that is a lost
// session, and it must reconnect by itself with a new one.
func (w *worker) drop() {
	cn := w.cn
	sid := cn.c.SessionID()
	if sid == "" {
		return
	}
	g0 := cn.gen.Load()
	cn.dropping.Store(true)
	defer cn.dropping.Store(false)
	switch {
	case cn.cut != nil:
		// The cut ends a session on websocket; one on polling survives
		// it (net/http retries the poll), and the client's close packet,
		// POSTed by someone else, ends it (a session on websocket, or
		// already gone, refuses it: 400). Both, whatever the client
		// believes its transport is: an upgrade may be under way. In
		// this order: a cut after the close could catch the client's new
		// session being opened, which it would then give up for
		// another, and the server would keep it until its ping timeout.
		cn.cut.cut()
		resp, err := w.s.dropHTTP.Post(w.s.url+"/socket.io/?EIO=4&transport=polling&sid="+sid,
			"text/plain;charset=UTF-8", strings.NewReader("1"))
		if err != nil {
			w.s.fail("%s: drop request: %v", cn.name, err)
			return
		}
		resp.Body.Close()
	default:
		resp, err := w.s.dropHTTP.Get(w.s.url + "/socket.io/1/" + sid + "/?disconnect=1")
		if err != nil {
			w.s.fail("%s: drop request: %v", cn.name, err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			w.s.fail("%s: drop request answered %d", cn.name, resp.StatusCode)
			return
		}
	}
	w.s.drops.Add(1)
	deadline := time.NewTimer(opTimeout)
	defer deadline.Stop()
	for cn.gen.Load() == g0 {
		select {
		case <-cn.genCh:
		case <-deadline.C:
			w.s.fail("%s (%s): no reconnect within %v after its session was dropped", cn.name, cn.transport, opTimeout)
			// Start afresh: this client is of no more use.
			cn.close()
			w.cn = nil
			return
		}
	}
	if cn.c.SessionID() == sid {
		w.s.fail("%s (%s): reconnected with the dropped session id", cn.name, cn.transport)
	}
	w.s.reconnects.Add(1)
	w.joined = map[string]bool{} // a new session is in no room
}

// checkObservers checks that every observer got every confirmed room
// emit exactly once, closes the observers and drops the test's own
// bookkeeping (tens of thousands of ids in a long run), so that the heap
// figure is the library's.
func (s *soak) checkObservers(observers []*conn) {
	s.mu.Lock()
	confirmed := s.confirmed
	s.confirmed = nil
	s.mu.Unlock()
	for _, ob := range observers {
		deadline := time.Now().Add(settleTimeout)
		for {
			ob.mu.Lock()
			n := len(ob.seen)
			ob.mu.Unlock()
			if n >= len(confirmed) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		ob.mu.Lock()
		missing, dup, extra := 0, 0, 0
		for id := range confirmed {
			switch c := ob.seen[id]; {
			case c == 0:
				missing++
			case c > 1:
				dup++
			}
		}
		for id := range ob.seen {
			if _, ok := confirmed[id]; !ok {
				extra++
			}
		}
		ob.mu.Unlock()
		if missing+dup+extra > 0 {
			s.fail("%s: of %d confirmed room emits, %d missing, %d duplicated; %d unconfirmed received",
				ob.name, len(confirmed), missing, dup, extra)
		}
		ob.close()
		ob.mu.Lock()
		ob.seen, ob.waiting = nil, nil
		ob.mu.Unlock()
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// TestSoak runs hundreds of clients against one server for
// SIOGO_SOAK_DURATION and checks that nothing is lost on the way and
// nothing is left behind: every ack arrives with the right args, every
// room emit reaches its sender and every observer exactly once, no
// client is disconnected unless the test did it, and at the end the
// server has no session, and goroutines and heap are back to where they
// started.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test skipped with -short")
	}
	duration := envDuration(t, "SIOGO_SOAK_DURATION", defaultDuration)
	nWorkers := envInt(t, "SIOGO_SOAK_CLIENTS", defaultClients)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SIOGO_SOAK_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("SIOGO_SOAK_SEED=%q: %v", v, err)
		}
	}
	if end, ok := t.Deadline(); ok && time.Until(end) < duration+sessionSettleTimeout+2*settleTimeout+opTimeout {
		t.Fatalf("SIOGO_SOAK_DURATION=%v does not fit in the test binary's -timeout (%v left)", duration, time.Until(end).Round(time.Second))
	}
	t.Logf("seed %d (SIOGO_SOAK_SEED=%d repeats the random choices), %d clients for %v", seed, seed, nWorkers, duration)
	began := time.Now()

	baseGoroutines := runtime.NumGoroutine()
	baseHeap := heapAlloc()

	a := newApp(socketio.Config{}, 0)
	ts := httptest.NewServer(a.srv)
	dropTransport := &http.Transport{}
	s := &soak{t: t, url: ts.URL, addr: ts.Listener.Addr().String(), app: a, seed: seed,
		dropHTTP: &http.Client{Transport: dropTransport, Timeout: opTimeout}, confirmed: map[string]string{}}
	tsClosed := false
	defer func() {
		if !tsClosed {
			ts.Close()
		}
		dropTransport.CloseIdleConnections()
	}()

	// Peaks, sampled.
	var peakGoroutines, peakSessions atomic.Int64
	monitorStop, monitorDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(monitorDone)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if g := int64(runtime.NumGoroutine()); g > peakGoroutines.Load() {
				peakGoroutines.Store(g)
			}
			if n := int64(a.srv.SessionCount()); n > peakSessions.Load() {
				peakSessions.Store(n)
			}
			select {
			case <-tick.C:
			case <-monitorStop:
				return
			}
		}
	}()
	stopMonitor := sync.OnceFunc(func() { close(monitorStop); <-monitorDone })
	defer stopMonitor()

	// Observers: one per kind, in every room from start to end, never
	// dropped. Each must see every confirmed room emit exactly once.
	var observers []*conn
	for k, kd := range kinds {
		ob := s.dial("observer "+kd.name, k, true, false)
		if ob == nil {
			t.FailNow()
		}
		observers = append(observers, ob)
		defer func() {
			if !ob.closing.Load() {
				ob.close()
			}
		}()
		for r := range numRooms {
			if !ob.expectTrue("join", fmt.Sprintf("room-%d", r)) {
				t.FailNow()
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range nWorkers {
		w := &worker{s: s, id: i, rng: rand.New(rand.NewPCG(seed, uint64(i)))}
		start := time.Duration(w.rng.IntN(1000)) * time.Millisecond // a staggered start
		wg.Go(func() { w.run(ctx, start) })
	}
	wg.Wait()
	workersDone := time.Now()

	s.checkObservers(observers)

	// The server forgets every session.
	settleStart := time.Now()
	deadline := settleStart.Add(sessionSettleTimeout)
	lingering := false
	for a.srv.SessionCount() > 0 && time.Now().Before(deadline) {
		if !lingering && time.Since(settleStart) > 3*time.Second {
			lingering = true
			st := a.srv.Stats()
			t.Logf("sessions still open 3s after the workers ended: %v %v", st.Sessions, st.Protocols)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("observers checked %v after the workers ended; sessions settled %v later",
		settleStart.Sub(workersDone).Round(time.Millisecond), time.Since(settleStart).Round(time.Millisecond))
	st := a.srv.Stats()
	if n := a.srv.SessionCount(); n != 0 {
		s.fail("%d sessions still open %v after every client closed: %v", n, sessionSettleTimeout, st.Sessions)
	}
	for name, n := range st.Sockets {
		if n != 0 {
			s.fail("%d sockets still connected in namespace %q", n, name)
		}
	}
	if st.PendingAcks != 0 {
		s.fail("%d server-side acks still pending", st.PendingAcks)
	}
	if st.SlowConsumerCloses != 0 || st.DecodeErrors != 0 {
		s.fail("server counted %d slow-consumer closes and %d decode errors", st.SlowConsumerCloses, st.DecodeErrors)
	}
	warns, hist := a.logs.summary()
	if warns > 0 {
		s.fail("the server logged %d records at Warn or above, first: %q", warns, a.logs.first(5))
	}

	// Goroutines and heap back to their baseline.
	stopMonitor()
	ts.Close()
	tsClosed = true
	dropTransport.CloseIdleConnections()
	deadline = time.Now().Add(settleTimeout)
	goroutines := runtime.NumGoroutine()
	for goroutines > baseGoroutines+goroutineMargin && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		goroutines = runtime.NumGoroutine()
	}
	if goroutines > baseGoroutines+goroutineMargin {
		var b bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
		s.fail("%d goroutines %v after the end, baseline %d:\n%s", goroutines, settleTimeout, baseGoroutines, b.String())
	}
	endHeap := heapAlloc()
	if endHeap > baseHeap+heapMargin {
		s.fail("heap %s at the end, baseline %s (allowed +%s)", mib(endHeap), mib(baseHeap), mib(heapMargin))
	}

	// Hard invariants, whatever fail() already said.
	if s.lost.Load() != 0 || s.wrong.Load() != 0 {
		t.Errorf("acks: %d lost, %d with wrong args, of %d", s.lost.Load(), s.wrong.Load(), s.sent.Load())
	}
	if s.sent.Load() == 0 || s.roomEmits.Load() == 0 || s.drops.Load() == 0 || s.closes.Load() == 0 {
		t.Errorf("the run did too little to mean anything: %d acked calls, %d room emits, %d drops, %d closes",
			s.sent.Load(), s.roomEmits.Load(), s.drops.Load(), s.closes.Load())
	}

	t.Logf("figures after %v of traffic (%v in all):", workersDone.Sub(began).Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	var by []string
	for k, kd := range kinds {
		by = append(by, fmt.Sprintf("%s %d", kd.name, s.dialsBy[k].Load()))
	}
	t.Logf("  clients: %d concurrent workers + %d observers; %d dials (%s), %d dial errors",
		nWorkers, len(observers), s.dials.Load(), strings.Join(by, ", "), s.dialErrors.Load())
	t.Logf("  sessions: %d created (server handshakes), peak %d open, %d at the end; %d closed by clients, %d dropped by the server and reconnected (%d)",
		st.HandshakesAccepted, peakSessions.Load(), a.srv.SessionCount(), s.closes.Load(), s.drops.Load(), s.reconnects.Load())
	t.Logf("  acked messages: %d sent, %d acked, %d lost, %d wrong", s.sent.Load(), s.acked.Load(), s.lost.Load(), s.wrong.Load())
	t.Logf("  rooms: %d joins, %d leaves, %d room emits confirmed (%d missed), %d room deliveries", s.joins.Load(), s.leaves.Load(),
		s.roomEmits.Load(), s.roomMissed.Load(), s.roomDeliveries.Load())
	t.Logf("  server: %d packets in, %d out, %s in, %s out; %d unexpected client disconnects",
		st.PacketsIn, st.PacketsOut, mib(st.BytesIn), mib(st.BytesOut), s.unexpectedDisconnects.Load())
	t.Logf("  goroutines: baseline %d, peak %d, end %d", baseGoroutines, peakGoroutines.Load(), goroutines)
	t.Logf("  heap: before %s, after %s", mib(baseHeap), mib(endHeap))
	t.Logf("  server log records (Info and up): %d at Warn+%s", warns, hist)
}
