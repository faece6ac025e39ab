package socketio

// Memory of idle websocket sessions over real loopback connections, for
// both client generations: an in-process HTTP server, raw TCP clients
// that do the websocket upgrade by hand (so that the client side costs
// little: a net.Conn each), each client connecting the default namespace
// and joining a shared room as the testapp's "join" does it. The numbers
// include the transport (net/http's connection, the websocket's state),
// unlike BenchmarkIdleSessionMemory's.
//
//	go test -run '^$' -bench 'IdleWebSocketMemory' -benchtime=1x ./socketio
//
// With IDLE_HEAPPROFILE=FILE a heap profile of the idle sessions is
// written to FILE (with -memprofilerate=1 it is exact).

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
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
)

// rawWS is a minimal websocket client over a raw TCP connection: frames
// are written masked with a zero key, and read unmasked (server frames).
type rawWS struct {
	conn net.Conn
	br   *bufio.Reader // during set-up only
}

func dialRawWS(tb testing.TB, addr, path string) *rawWS {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		tb.Fatal(err)
	}
	c := &rawWS{conn: conn, br: bufio.NewReaderSize(conn, 512)}
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			tb.Fatalf("upgrade response: %v", err)
		}
		if strings.HasPrefix(line, "HTTP/") && !strings.Contains(line, " 101 ") {
			tb.Fatalf("upgrade refused: %q", line)
		}
		if line == "\r\n" {
			return c
		}
	}
}

func (c *rawWS) send(tb testing.TB, text string) {
	n := len(text)
	if n > 125 {
		tb.Fatal("rawWS: long frames not supported")
	}
	b := make([]byte, 0, 6+n)
	b = append(b, 0x81, 0x80|byte(n), 0, 0, 0, 0)
	b = append(b, text...)
	if _, err := c.conn.Write(b); err != nil {
		tb.Fatal(err)
	}
}

// read returns the next text frame's payload.
func (c *rawWS) read(tb testing.TB) string {
	_ = c.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	defer func() { _ = c.conn.SetReadDeadline(time.Time{}) }()
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		tb.Fatalf("read frame: %v", err)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, _ = io.ReadFull(c.br, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, _ = io.ReadFull(c.br, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(c.br, p); err != nil {
		tb.Fatalf("read frame: %v", err)
	}
	return string(p)
}

// await reads frames until want.
func (c *rawWS) await(tb testing.TB, want string) {
	for {
		if p := c.read(tb); p == want {
			return
		}
	}
}

// openIdleV5 opens a v4 websocket session, connects "/" and joins
// "bench".
func openIdleV5(tb testing.TB, addr string) *rawWS {
	c := dialRawWS(tb, addr, "/socket.io/?EIO=4&transport=websocket")
	if p := c.read(tb); !strings.HasPrefix(p, "0{") {
		tb.Fatalf("open packet: %q", p)
	}
	c.send(tb, "40")
	if p := c.read(tb); !strings.HasPrefix(p, "40{") {
		tb.Fatalf("connect: %q", p)
	}
	c.send(tb, `421["join","bench"]`)
	c.await(tb, "431[true]")
	c.br = nil
	return c
}

// openIdle09 opens a 0.9 websocket session (handshake, then the
// websocket), which joins "bench".
func openIdle09(tb testing.TB, addr string) *rawWS {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.WriteString(conn, "GET /socket.io/1/?t=1 HTTP/1.1\r\nHost: "+addr+"\r\nConnection: close\r\n\r\n")
	body, err := io.ReadAll(conn)
	_ = conn.Close()
	if err != nil {
		tb.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(body), "\r\n\r\n")
	sid, _, ok := strings.Cut(rest, ":")
	if !ok {
		tb.Fatalf("handshake: %q", body)
	}
	c := dialRawWS(tb, addr, "/socket.io/1/websocket/"+sid)
	c.await(tb, "1::")
	c.send(tb, `5:1+::{"name":"join","args":["bench"]}`)
	c.await(tb, "6:::1+[true]")
	c.br = nil
	return c
}

// rssBytes is the process's resident set size (Linux: /proc/self/statm),
// or 0 where it cannot be read.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// settleGoroutines waits (up to 10 s) until the number of goroutines has
// not gone down for half a second.
func settleGoroutines() {
	deadline := time.Now().Add(10 * time.Second)
	last, since := runtime.NumGoroutine(), time.Now()
	for time.Since(since) < 500*time.Millisecond && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if n := runtime.NumGoroutine(); n < last {
			last, since = n, time.Now()
		}
	}
}

// BenchmarkIdleWebSocketMemory reports the heap and stack each idle
// websocket session retains, server and (small) raw client together, for
// 2,000 sessions per iteration; run it with -benchtime=1x. On Linux it
// reports the process's RSS growth per session too (rssB/session): the
// live heap, the garbage collector's headroom over it, what the runtime
// keeps outside the heap (a descriptor's poll state, stacks) and the
// memory the runtime has not returned; GOGC and GOMEMLIMIT change it.
func BenchmarkIdleWebSocketMemory(b *testing.B) {
	b.Run("v5", func(b *testing.B) { benchmarkIdleWebSocketMemory(b, openIdleV5) })
	b.Run("0.9", func(b *testing.B) { benchmarkIdleWebSocketMemory(b, openIdle09) })
}

func benchmarkIdleWebSocketMemory(b *testing.B, open func(testing.TB, string) *rawWS) {
	const n = 2000
	for b.Loop() {
		b.StopTimer()
		srv := benchServer(true)
		ts := httptest.NewServer(srv)
		addr := ts.Listener.Addr().String()
		warm := open(b, addr)
		settleGoroutines()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&before)
		rss0 := rssBytes()
		g0 := runtime.NumGoroutine()
		b.StartTimer()
		clients := make([]*rawWS, n)
		for i := range clients {
			clients[i] = open(b, addr)
		}
		b.StopTimer()
		settleGoroutines() // the handler goroutines and idle writers end
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&after)
		rss1 := rssBytes()
		g1 := runtime.NumGoroutine()
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n, "heapB/session")
		b.ReportMetric(float64(int64(after.StackInuse)-int64(before.StackInuse))/n, "stackB/session")
		b.ReportMetric(float64(after.HeapObjects-before.HeapObjects)/n, "objects/session")
		b.ReportMetric(float64(g1-g0)/n, "goroutines/session")
		if rss0 > 0 && rss1 > 0 {
			b.ReportMetric(float64(rss1-rss0)/n, "rssB/session")
		}
		if ids, _ := srv.Sockets().Clients("bench"); len(ids) != n+1 {
			b.Fatalf("room has %d members, want %d", len(ids), n+1)
		}
		if f := os.Getenv("IDLE_HEAPPROFILE"); f != "" {
			w, err := os.Create(f)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.Lookup("heap").WriteTo(w, 0); err != nil {
				b.Fatal(err)
			}
			_ = w.Close()
		}
		for _, c := range append(clients, warm) {
			_ = c.conn.Close()
		}
		srv.Close()
		ts.Close()
		if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "goroutines before %d after %d\n", g0, g1)
		}
		b.StartTimer()
	}
}

// BenchmarkNewSessionV5 opens and closes v4 websocket sessions over
// loopback, one at a time: the upgrade with the handshake ("0{...}"),
// the namespace connect ("40", answered "40{...}"), then "41" and the
// connection's close; the server's cost per session, with a raw client's
// (small) on top.
//
//	go test -run '^$' -bench 'NewSessionV5' -benchmem -cpuprofile cpu.out ./socketio
func BenchmarkNewSessionV5(b *testing.B) {
	srv := benchServer(true)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	addr := ts.Listener.Addr().String()
	b.ReportAllocs()
	for b.Loop() {
		c := dialRawWS(b, addr, "/socket.io/?EIO=4&transport=websocket")
		if p := c.read(b); !strings.HasPrefix(p, "0{") {
			b.Fatalf("open packet: %q", p)
		}
		c.send(b, "40")
		if p := c.read(b); !strings.HasPrefix(p, "40{") {
			b.Fatalf("connect: %q", p)
		}
		c.send(b, "41")
		_ = c.conn.Close()
	}
	b.StopTimer()
	deadline := time.Now().Add(10 * time.Second)
	for srv.eio.(interface{ SessionCount() int }).SessionCount() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkBroadcastV5 emits to a room of 1,000 v4 websocket clients
// (and, to compare, 1,000 0.9 clients) over loopback, 100 broadcasts at a time, then waits for every client
// to have read them: the server's broadcast path (encoding, queuing,
// the writers' batched writes) with the clients' reading on top.
//
//	go test -run '^$' -bench 'BroadcastV5' -benchtime=2000x -cpuprofile cpu.out ./socketio
func BenchmarkBroadcastV5(b *testing.B) {
	b.Run("v5", func(b *testing.B) { benchmarkBroadcast(b, openIdleV5, `42["tick",1,"two"]`) })
	b.Run("0.9", func(b *testing.B) { benchmarkBroadcast(b, openIdle09, `5:::{"name":"tick","args":[1,"two"]}`) })
}

func benchmarkBroadcast(b *testing.B, open func(testing.TB, string) *rawWS, frame string) {
	const n, window = 1000, 100
	srv := benchServer(true)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	addr := ts.Listener.Addr().String()
	var got atomic.Int64
	want := []byte(frame)
	clients := make([]*rawWS, n)
	var wg sync.WaitGroup
	for i := range clients {
		c := open(b, addr)
		clients[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for {
				k, err := c.conn.Read(buf)
				got.Add(int64(bytes.Count(buf[:k], want)))
				if err != nil {
					return
				}
			}
		}()
	}
	defer wg.Wait()
	defer func() {
		for _, c := range clients {
			_ = c.conn.Close()
		}
	}()
	room := srv.Sockets().To("bench")
	b.ReportAllocs()
	cpu0 := cpuTime()
	sent := 0
	for b.Loop() {
		if err := room.Emit("tick", 1, "two"); err != nil {
			b.Fatal(err)
		}
		sent++
		if sent%window == 0 {
			deadline := time.Now().Add(30 * time.Second)
			for got.Load() < int64(sent*n) {
				if time.Now().After(deadline) {
					b.Fatalf("delivered %d of %d", got.Load(), sent*n)
				}
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
	// The process's CPU time (server and clients) is less sensitive to a
	// loaded machine than the elapsed time.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/delivery")
}
