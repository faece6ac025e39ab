package transport

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// WebSocketOptions tune ServeWebSocket.
type WebSocketOptions struct {
	// CheckOrigin decides whether the upgrade's Origin is allowed; nil
	// allows any.
	CheckOrigin func(r *http.Request) bool
	// MaxMessageSize bounds one incoming message; larger closes the
	// connection (status 1009). Zero means 1 MiB.
	MaxMessageSize int64
	// WriteTimeout bounds one write. Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// BufferSize is ignored: frames are assembled in pooled buffers sized
	// by what is queued, and reads borrow a pooled buffer only while bytes
	// arrive.
	//
	// Deprecated: kept so that code setting it still compiles.
	BufferSize int
	// OnClose, if set, runs once when the connection has ended (before
	// the session's TransportClosed, if it has one: see ClosingSession).
	OnClose func()
}

// ClosingSession is a WakeableSession that ServeWebSocket tells when the
// connection has ended, as WebSocketOptions.OnClose would be, without a
// func value per connection.
type ClosingSession interface {
	TransportClosed()
}

// ErrOriginNotAllowed is returned by ServeWebSocket when CheckOrigin
// refuses the request (answered with 403).
var ErrOriginNotAllowed = errors.New("transport: websocket origin not allowed")

// IsWebSocketUpgrade reports whether r asks for a WebSocket upgrade.
// Both headers are token lists compared without case (RFC 6455 section
// 4.2.1), as gorilla/websocket and the Node.js ws module compare them.
func IsWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

// headerHasToken reports whether a comma-separated header of h holds token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// ServeWebSocket upgrades r and runs the connection for sess in the
// background; it returns once the connection is established (or, with a
// non-nil error, after the failed upgrade was answered with an HTTP error).
// opts.OnClose runs when the connection ends.
//
// On Linux, for a plain TCP or Unix connection, an idle connection costs
// no goroutine and no buffer: reads are driven by an event loop (epoll)
// shared by all connections, and a reader goroutine serves a connection
// only while bytes keep arriving. Elsewhere (TLS, other systems) each
// connection has a reading goroutine. Everything queued is written with
// one system call, by the shared writers (see the package documentation).
func ServeWebSocket(w http.ResponseWriter, r *http.Request, sess WakeableSession, opts WebSocketOptions) error {
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = 1 << 20
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.CheckOrigin != nil && !opts.CheckOrigin(r) {
		http.Error(w, "websocket: origin not allowed", http.StatusForbidden)
		return ErrOriginNotAllowed
	}
	u := &upgradeCapture{ResponseWriter: w}
	conn, rw, _, err := ws.HTTPUpgrader{}.Upgrade(r, u)
	if err != nil {
		if conn != nil {
			_ = conn.SetWriteDeadline(time.Now().Add(opts.WriteTimeout))
			_, _ = conn.Write(u.out.b) // the error response
			_ = conn.Close()
		}
		return err
	}
	c := &wsConn{conn: conn, sess: sess, timeout: opts.WriteTimeout, onClose: opts.OnClose, rc: rawConn(conn)}
	c.rd.max = opts.MaxMessageSize
	// Bytes the client sent right after its request sit in net/http's
	// reader: take them, then let the reader go.
	var early []byte
	if n := rw.Reader.Buffered(); n > 0 {
		p, _ := rw.Reader.Peek(n)
		early = append([]byte(nil), p...)
	}
	// The upgrade response and what the session queued before it (its
	// "1::") go out in one write, from this goroutine: a writing turn is
	// under way until then.
	c.running = true
	sess.SetWaker(Waker{c})
	pkts, closed := sess.TakeNow()
	out := appendFrames(u.out.b, nil, nil, pkts, closed)
	err = c.writeBlocking(out)
	c.release(PacketBytes(pkts))
	if err != nil || closed {
		c.stop()
		return nil
	}
	if !c.idle() {
		c.turn()
	}
	if len(early) > 0 && !c.input(early) {
		return nil
	}
	c.startReading()
	return nil
}

// upgradeCapture lets gobwas/ws write the upgrade response into memory
// (out) rather than to the connection, so that it can go out together
// with the first frames.
type upgradeCapture struct {
	http.ResponseWriter
	out byteSink
}

type byteSink struct{ b []byte }

func (s *byteSink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// Hijack hijacks the connection but hands back a writer into u.out.
func (u *upgradeCapture) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(u.ResponseWriter).Hijack()
	if err != nil {
		return conn, brw, err
	}
	return conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(&u.out, 256)), nil
}

// wsConn is one WebSocket connection of a WakeableSession.
//
// Reading: one goroutine at a time (an event-loop reader or the fallback
// reader) owns rd and calls input. Writing: one writing turn at a time
// (running), on the shared writers (flush) or, for a connection that
// cannot be written without blocking or whose socket buffer filled up, on
// a goroutine of its own (drain, finish). mu guards the fields below it.
type wsConn struct {
	conn    net.Conn
	sess    WakeableSession
	timeout time.Duration
	onClose func()
	rd      frameReader
	rc      syscall.RawConn // for writes that must not block (Linux); nil: blocking writes

	mu      sync.Mutex
	poll    pollState // event-loop registration (Linux); zero otherwise
	running bool      // a writing turn is under way
	pending bool      // woken while running: look at the queue again
	done    bool      // the connection is closed
	reading bool      // an event-loop reader goroutine runs
	// ctl holds the control frames to write first, made by the first
	// ping or close (an idle connection has none: a Socket.IO client
	// pings in data frames).
	ctl *ctlFrames
}

// ctlFrames are a connection's control frames waiting to be written.
type ctlFrames struct {
	pong []byte // the whole pong frame answering the latest ping; nil: none
	bye  []byte // the whole close frame to write, then close; nil: none (kept: the connection is closing)
}

// closingLocked reports whether a close frame is queued (or written); mu
// is held.
func (c *wsConn) closingLocked() bool { return c.ctl != nil && c.ctl.bye != nil }

// ctlLocked returns the connection's control frames, made on first use;
// mu is held.
func (c *wsConn) ctlLocked() *ctlFrames {
	if c.ctl == nil {
		c.ctl = &ctlFrames{}
	}
	return c.ctl
}

// Waker wakes a websocket connection's writing (WakeableSession.SetWaker):
// a session's handle on its connection, a pointer in size (a func value
// would cost every connection a closure). The zero Waker wakes nothing.
type Waker struct{ c *wsConn }

// FuncWaker returns a Waker that runs fn (for sessions driven by
// something other than ServeWebSocket, such as tests). It is a wsConn
// without a connection whose onClose is fn.
func FuncWaker(fn func()) Waker { return Waker{&wsConn{onClose: fn}} }

// Wake tells the connection that the session has something for it (or
// has ended); a no-op for the zero Waker.
func (w Waker) Wake() {
	switch {
	case w.c == nil:
	case w.c.conn == nil: // FuncWaker's
		w.c.onClose()
	default:
		w.c.wake()
	}
}

// IsZero reports whether w is the zero Waker.
func (w Waker) IsZero() bool { return w.c == nil }

// wake is the session's waker: unless a write is under way, it hands the
// connection to the writers (or, for a connection that cannot be written
// without blocking, starts a drain goroutine).
func (c *wsConn) wake() {
	c.mu.Lock()
	switch {
	case c.done:
	case c.running:
		c.pending = true
	default:
		c.running = true
		c.turn()
	}
	c.mu.Unlock()
}

// turn starts a writing turn: on the writers, or on a drain goroutine for
// a connection that cannot be written without blocking.
func (c *wsConn) turn() {
	if c.rc != nil {
		writers.add(c)
	} else {
		go c.drain()
	}
}

// sendPong queues the answer to a ping, to be written before data. Only
// the latest ping is answered (RFC 6455, section 5.5.3): a pong not yet
// written is replaced, so a client that sends pings and reads nothing
// makes the connection hold one pong, not one per ping. Its bytes count
// against the session's bound (Session.Hold).
func (c *wsConn) sendPong(payload []byte) {
	c.mu.Lock()
	if c.done || c.closingLocked() {
		c.mu.Unlock()
		return
	}
	ctl := c.ctlLocked()
	old := len(ctl.pong)
	if ctl.pong == nil {
		ctl.pong = make([]byte, 0, 2+125) // a control frame's payload is at most 125 bytes
	}
	ctl.pong = append(appendFrameHeader(ctl.pong[:0], ws.OpPong, len(payload)), payload...)
	grown := len(ctl.pong) - old
	c.mu.Unlock()
	if grown != 0 {
		c.sess.Hold(grown)
	}
	c.wake()
}

// sendClose queues a close frame with code, to be written before data;
// the connection closes once it is written. Only the first counts.
func (c *wsConn) sendClose(code ws.StatusCode) {
	c.mu.Lock()
	if c.done || c.closingLocked() {
		c.mu.Unlock()
		return
	}
	ctl := c.ctlLocked()
	ctl.bye = controlFrame(ws.OpClose, ws.NewCloseFrameBody(code, ""))
	n := len(ctl.bye)
	c.mu.Unlock()
	c.sess.Hold(n)
	c.wake()
}

// input feeds bytes read from the client to the frame reader and acts on
// the frames. It returns false when the connection is closing.
func (c *wsConn) input(b []byte) bool {
	open := true
	err := c.rd.feed(b, func(op ws.OpCode, p []byte) bool {
		switch op {
		case ws.OpText:
			c.sess.Receive(string(p))
		case ws.OpBinary:
			if br, ok := c.sess.(BinaryReceiver); ok {
				br.ReceiveBinary(p)
			}
		case ws.OpPing:
			c.sendPong(p)
		case ws.OpClose:
			code, _ := ws.ParseCloseFrameDataUnsafe(p)
			if code.Empty() || ws.CheckCloseFrameData(code, "") != nil {
				code = ws.StatusNormalClosure
			}
			c.sendClose(code)
			open = false
		}
		return open
	})
	if err != nil {
		code := ws.StatusProtocolError
		if errors.Is(err, ErrMessageTooLarge) {
			code = ws.StatusMessageTooBig
		}
		c.sendClose(code)
		return false
	}
	return open
}

// batch is what one write sends: control frames first, then the
// session's packets.
type batch struct {
	pong, bye []byte   // whole control frames; nil: none
	pkts      [][]byte // the session's packets
	closed    bool     // the session has ended: a close frame follows
}

// empty reports whether there is nothing to write.
func (b *batch) empty() bool {
	return b.pong == nil && b.bye == nil && len(b.pkts) == 0 && !b.closed
}

// last reports whether the connection closes after this write.
func (b *batch) last() bool { return b.closed || b.bye != nil }

// held is what the batch holds for the client, as counted by the
// session (Session.Hold): control frames whole, packets without their
// frame headers.
func (b *batch) held() int { return len(b.pong) + len(b.bye) + PacketBytes(b.pkts) }

// appendTo appends the batch's frames to out.
func (b *batch) appendTo(out []byte) []byte {
	return appendFrames(out, b.pong, b.bye, b.pkts, b.closed && b.bye == nil)
}

// next takes what is to be written next: control frames, then (unless a
// close frame ends the connection) the session's packets.
func (c *wsConn) next(pendingToo bool) batch {
	var b batch
	c.mu.Lock()
	if ctl := c.ctl; ctl != nil {
		b.pong, b.bye = ctl.pong, ctl.bye
		ctl.pong = nil
	}
	if pendingToo {
		c.pending = false
	}
	c.mu.Unlock()
	if b.bye == nil {
		b.pkts, b.closed = c.sess.TakeNow()
	}
	return b
}

// release tells the session that n bytes it counts as held (see
// batch.held) are written or given up.
func (c *wsConn) release(n int) {
	if n != 0 {
		c.sess.Hold(-n)
	}
}

// idle ends a writing turn unless the connection was woken meanwhile; it
// reports whether the turn ended.
func (c *wsConn) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending && !c.done {
		c.pending = false
		return false
	}
	c.running = false
	return true
}

// appendFrames appends the control frames pong and bye (nil: none), a
// frame per packet (binary for a packet marked with BinaryMark, text for
// the others) and, with closeFrame, a close frame.
func appendFrames(out []byte, pong, bye []byte, pkts [][]byte, closeFrame bool) []byte {
	out = append(out, pong...)
	out = append(out, bye...)
	for _, p := range pkts {
		op := ws.OpText
		if len(p) > 0 && p[0] == BinaryMark {
			op, p = ws.OpBinary, p[1:]
		}
		out = appendFrameHeader(out, op, len(p))
		out = append(out, p...)
	}
	if closeFrame {
		out = append(out, normalClosure...)
	}
	return out
}

// controlFrame is a whole control frame (server frames are unmasked).
func controlFrame(op ws.OpCode, payload []byte) []byte {
	return append(appendFrameHeader(make([]byte, 0, 2+len(payload)), op, len(payload)), payload...)
}

// normalClosure is the close frame sent when the session ends.
var normalClosure = controlFrame(ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))

// writeBufs pools the buffers frames are assembled in before a write.
var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func putWriteBuf(bp *[]byte) {
	if cap(*bp) <= 256<<10 {
		*bp = (*bp)[:0]
		writeBufs.Put(bp)
	}
}

// drain writes, with blocking writes bounded by the write timeout, until
// there is nothing left to write; then the goroutine ends.
func (c *wsConn) drain() {
	bp := writeBufs.Get().(*[]byte)
	defer putWriteBuf(bp)
	for {
		b := c.next(false)
		if b.empty() {
			if c.idle() {
				return
			}
			continue
		}
		*bp = b.appendTo((*bp)[:0])
		err := c.writeBlocking(*bp)
		c.release(b.held())
		if err != nil || b.last() {
			c.stop()
			return
		}
	}
}

// flush is one writing turn on a writer goroutine: it writes what is
// queued without blocking and reports whether the connection wants
// another turn. What the socket does not take at once is left to a
// goroutine of the connection's own (see finish), so that a slow client
// never holds up the writers.
func (c *wsConn) flush() (again bool) {
	b := c.next(true)
	if b.empty() {
		return !c.idle()
	}
	bp := writeBufs.Get().(*[]byte)
	*bp = b.appendTo((*bp)[:0])
	n, err := writeNow(c.rc, *bp)
	switch {
	case err != nil:
		putWriteBuf(bp)
		c.release(b.held())
		c.stop()
		return false
	case n < len(*bp):
		go c.finish(bp, n, b.held(), b.last())
		return false
	}
	putWriteBuf(bp)
	c.release(b.held())
	if b.last() {
		c.stop()
		return false
	}
	return !c.idle()
}

// finish writes the rest of a write the socket did not take at once,
// waiting for the client up to the write timeout, then drains. held is
// what the write holds for the client (batch.held): it stays counted by
// the session until the write is done.
func (c *wsConn) finish(bp *[]byte, from, held int, last bool) {
	err := c.writeBlocking((*bp)[from:])
	putWriteBuf(bp)
	c.release(held)
	if err != nil || last {
		c.stop()
		return
	}
	c.drain()
}

// writeBlocking writes b, waiting up to the write timeout. The deadline is
// lifted afterwards: it would fail the writers' non-blocking writes too.
func (c *wsConn) writeBlocking(b []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.conn.Write(b)
	if err == nil {
		_ = c.conn.SetWriteDeadline(time.Time{})
	}
	return err
}

// stop closes the connection (once) and runs OnClose.
func (c *wsConn) stop() {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return
	}
	c.done = true
	c.running = false
	ps := c.poll
	c.mu.Unlock()
	ps.unregister()
	_ = c.conn.Close()
	if c.onClose != nil {
		c.onClose()
	}
	if cs, ok := c.sess.(ClosingSession); ok {
		cs.TransportClosed()
	}
}

// readLoop is the fallback reader: a goroutine blocked in Read.
func (c *wsConn) readLoop() {
	buf := make([]byte, 4096)
	for {
		n, err := c.conn.Read(buf)
		if n > 0 && !c.input(buf[:n]) {
			return
		}
		if err != nil {
			c.stop()
			return
		}
	}
}
