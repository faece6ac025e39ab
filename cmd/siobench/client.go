package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// dialers spreads outgoing connections over several loopback source
// addresses (each has its own ~28k ephemeral ports).
type dialers struct {
	ds   []*net.Dialer
	next atomic.Uint64
}

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (linux/in.h): with a
// source address bound, pick the port at connect time, so that ports are
// shared across destinations instead of reserved at bind time.
const ipBindAddressNoPort = 24

func newDialers(addrs []string) (*dialers, error) {
	d := &dialers{}
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("-addrs: %q is not a loopback IP address", a)
		}
		d.ds = append(d.ds, &net.Dialer{
			Timeout:   10 * time.Second,
			LocalAddr: &net.TCPAddr{IP: ip},
			Control: func(network, address string, c syscall.RawConn) error {
				return c.Control(func(fd uintptr) {
					_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
				})
			},
		})
	}
	if len(d.ds) == 0 {
		d.ds = []*net.Dialer{{Timeout: 10 * time.Second}}
	}
	return d, nil
}

func (d *dialers) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	i := d.next.Add(1) % uint64(len(d.ds))
	return d.ds[i].DialContext(ctx, network, addr)
}

// target is one server under test, with the client plumbing to reach it.
type target struct {
	dialer *dialers
	base   string // http://127.0.0.1:PORT
	hc     *http.Client
	tr     *http.Transport
	wsd    *websocket.Dialer
	wsURL  string // ws://127.0.0.1:PORT/socket.io/1/websocket/
	wsURL4 string // ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket
	gen    generation
	wire   *wire
	// connectedAtOpen holds the v2 polling sids whose "40" came with the
	// handshake (see handshakeV3).
	connectedAtOpen sync.Map
	pingEvery       time.Duration // v2 idle connections' ping period
}

func newTarget(addr string, d *dialers, maxConns int, gen generation) *target {
	tr := &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &target{
		dialer: d,
		base:   "http://" + addr,
		tr:     tr,
		hc:     &http.Client{Transport: tr, Timeout: 40 * time.Second},
		wsd: &websocket.Dialer{
			NetDialContext:   d.DialContext,
			HandshakeTimeout: 10 * time.Second,
			ReadBufferSize:   1024,
			WriteBufferSize:  1024,
			WriteBufferPool:  &sync.Pool{},
		},
		wsURL:     "ws://" + addr + "/socket.io/1/websocket/",
		wsURL4:    "ws://" + addr + gen.eioPath() + "websocket",
		gen:       gen,
		wire:      wireFor(gen),
		pingEvery: v3PingEvery,
	}
}

func (t *target) close() { t.tr.CloseIdleConnections() }

// handshake does GET /socket.io/1/ and returns the session id (v4: see
// handshakeV4).
func (t *target) handshake(ctx context.Context) (string, error) {
	if t.gen.eio() {
		return t.handshakeV4(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", t.base+"/socket.io/1/?t="+strconv.FormatInt(time.Now().UnixMilli(), 10), nil)
	if err != nil {
		return "", err
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("handshake: %s %q", resp.Status, body)
	}
	sid, _, ok := strings.Cut(string(body), ":")
	if !ok || sid == "" {
		return "", fmt.Errorf("handshake: bad body %q", body)
	}
	return sid, nil
}

// wsClient is one raw Socket.IO session over a websocket.
type wsClient struct {
	c  *websocket.Conn
	v4 bool // Engine.IO v4 framing, else 0.9
	v3 bool // and Engine.IO v3 (v2 clients): we ping, see startPings
	// plain: a websocket to the raw floor, closed with a close frame alone
	// (any data frame would be a broadcast).
	plain bool
	// onFrame sees every frame except heartbeats (answered here) on the
	// read goroutine; frames it does not consume (returns false) are
	// copied to frames, or dropped when nobody reads them.
	onFrame func([]byte) bool
	frames  chan []byte
	done    chan struct{} // closed when the read loop ends
	readErr error         // valid after done
	closing atomic.Bool   // closed by us

	wmu   sync.Mutex
	pings *time.Timer // v3: the next ping
}

// startPings sends the Engine.IO v3 client ping "2" every period until
// the connection ends (a timer, not a goroutine per connection).
func (c *wsClient) startPings(period time.Duration) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var ping func()
	ping = func() {
		select {
		case <-c.done:
			return
		default:
		}
		if c.closing.Load() || c.write([]byte(v4Ping)) != nil {
			return
		}
		c.wmu.Lock()
		c.pings = time.AfterFunc(period, ping)
		c.wmu.Unlock()
	}
	c.pings = time.AfterFunc(period, ping)
}

func (c *wsClient) stopPings() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.pings != nil {
		c.pings.Stop()
	}
}

// dialWS handshakes, opens the websocket and waits for "1::" (v4: see
// dialWSV4).
func (t *target) dialWS(ctx context.Context, onFrame func([]byte) bool) (*wsClient, error) {
	if t.gen.eio() {
		return t.dialWSV4(ctx, onFrame)
	}
	sid, err := t.handshake(ctx)
	if err != nil {
		return nil, err
	}
	conn, resp, err := t.wsd.DialContext(ctx, t.wsURL+sid, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket: %v (%s)", err, resp.Status)
		}
		return nil, fmt.Errorf("websocket: %w", err)
	}
	c := &wsClient{c: conn, onFrame: onFrame, frames: make(chan []byte, 16), done: make(chan struct{})}
	go c.readLoop()
	f, err := c.await(ctx, 10*time.Second, func(f []byte) bool { return true })
	if err != nil {
		c.close(false)
		return nil, fmt.Errorf("no connect packet: %w", err)
	}
	if string(f) != "1::" {
		c.close(false)
		return nil, fmt.Errorf("first frame %q is not the connect packet", clip(f))
	}
	return c, nil
}

func (c *wsClient) readLoop() {
	defer close(c.done)
	buf := make([]byte, 256)
	for {
		_, r, err := c.c.NextReader()
		if err != nil {
			c.readErr = err
			return
		}
		n := 0
		for {
			if n == len(buf) {
				buf = append(buf, make([]byte, len(buf))...)
			}
			m, err := r.Read(buf[n:])
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				c.readErr = err
				return
			}
		}
		f := buf[:n]
		if !c.v4 && string(f) == "2::" {
			_ = c.write(f)
			continue
		}
		if c.v4 && !c.v3 && string(f) == v4Ping {
			_ = c.write([]byte(v4Pong))
			continue
		}
		if c.v3 && string(f) == v4Pong {
			continue
		}
		if c.onFrame != nil && c.onFrame(f) {
			continue
		}
		select {
		case c.frames <- bytes.Clone(f):
		default:
		}
	}
}

func (c *wsClient) write(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.c.WriteMessage(websocket.TextMessage, p)
}

// await returns the next frame that match accepts, discarding others.
func (c *wsClient) await(ctx context.Context, timeout time.Duration, match func([]byte) bool) ([]byte, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case f := <-c.frames:
			if match(f) {
				return f, nil
			}
		case <-c.done:
			return nil, fmt.Errorf("connection closed: %v", c.readErr)
		case <-t.C:
			return nil, errors.New("timed out")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// close ends the connection; graceful first sends "0::" (v4: "41" and a
// websocket close) so that the server drops the session now rather than
// after the close timeout, and leaves the TCP close to the server for up
// to 2 s (closing at once makes the server's late writes meet a reset,
// which the reference logs as errors).
func (c *wsClient) close(graceful bool) {
	if !c.closing.CompareAndSwap(false, true) {
		return
	}
	c.stopPings()
	if !graceful || c.goodbye() != nil {
		_ = c.c.Close()
		return
	}
	go func() {
		t := time.NewTimer(2 * time.Second)
		defer t.Stop()
		select {
		case <-c.done:
		case <-t.C:
		}
		_ = c.c.Close()
	}()
}

func (c *wsClient) goodbye() error {
	if !c.v4 && !c.plain {
		return c.write([]byte("0::"))
	}
	if !c.plain {
		if err := c.write([]byte(v4Leave)); err != nil {
			return err
		}
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(10*time.Second))
}

// post sends body to url (which has its query) and expects 200.
func (t *target) post(ctx context.Context, url, body string) error {
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := t.hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("POST: %s", resp.Status)
	}
	return nil
}

// droppedByServer reports whether the connection ended without us closing it.
func (c *wsClient) droppedByServer() bool {
	select {
	case <-c.done:
		return !c.closing.Load()
	default:
		return false
	}
}

// isEvent reports whether frame f is an event packet "5:..." named name
// (default namespace), without decoding it.
func isEvent(f []byte, name string) bool {
	const pre = `5:::{"name":"`
	return len(f) > len(pre)+len(name) && string(f[:len(pre)]) == pre &&
		string(f[len(pre):len(pre)+len(name)]) == name && f[len(pre)+len(name)] == '"'
}

func clip(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}

// errCounter counts errors and keeps the first few distinct messages.
type errCounter struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (e *errCounter) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	msg := err.Error()
	for _, f := range e.first {
		if f == msg {
			return
		}
	}
	if len(e.first) < 3 {
		e.first = append(e.first, msg)
	}
}

func (e *errCounter) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

func (e *errCounter) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return fmt.Sprintf("%d (e.g. %s)", e.n, strings.Join(e.first, "; "))
}

// dialFloor opens a websocket to the raw floor server (floor.go): no
// Socket.IO handshake, nothing to wait for; frames go to onFrame as for
// the idle connections of the other servers.
func (t *target) dialFloor(ctx context.Context, onFrame func([]byte) bool) (*wsClient, error) {
	conn, _, err := t.wsd.DialContext(ctx, "ws"+strings.TrimPrefix(t.base, "http")+"/floor", nil)
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	c := &wsClient{c: conn, plain: true, onFrame: onFrame, frames: make(chan []byte, 16), done: make(chan struct{})}
	go c.readLoop()
	return c, nil
}

// floorSession opens a websocket to the raw floor server and closes it:
// a close frame, the server's answer, then the TCP close.
func (t *target) floorSession(ctx context.Context) error {
	conn, _, err := t.wsd.DialContext(ctx, "ws"+strings.TrimPrefix(t.base, "http")+"/floor", nil)
	if err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(10*time.Second)); err != nil {
		return err
	}
	if _, _, err := conn.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		return fmt.Errorf("close: %v", err)
	}
	return nil
}
