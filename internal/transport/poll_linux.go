//go:build linux

package transport

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/siogo/siogo/internal/linger"
)

// The event loop: one epoll instance for the process's idle WebSocket
// connections. Its descriptor is itself registered with the Go runtime's
// network poller (an epoll descriptor is pollable), so the loop is an
// ordinary goroutine parked by the runtime, not a thread blocked in
// epoll_wait.
//
// A connection is either cold or hot. Cold: registered one-shot with the
// epoll instance, no goroutine, no buffer. When bytes arrive the loop
// starts a reader goroutine and the connection is hot: the reader reads
// and, between reads, waits on the runtime's poller like any blocking
// read, borrowing a buffer only while a read returns bytes. After
// readLinger without bytes it re-arms the registration and ends: the
// connection is cold again. A busy connection so keeps one goroutine
// (whose stack has grown to what handling a message takes) instead of
// starting one per message, and an idle one costs nothing.
//
// The loop goroutine exists only while connections are registered.

// readLinger is how long a reader goroutine waits for more bytes before
// its connection goes cold.
const readLinger = 20 * time.Millisecond

// pollEvents is the registration of a cold connection.
const pollEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

// pollState is a connection's registration with the event loop.
type pollState struct {
	key uint64 // 0: not registered
}

// poller is the event loop: epfd, file and rc are set once; mu guards the
// rest. Lock order: a connection's mu, then the poller's.
type poller struct {
	epfd int
	file *os.File // epfd, as seen by the runtime poller
	rc   syscall.RawConn

	mu      sync.Mutex
	conns   map[uint64]*wsConn
	next    uint64
	running bool // the loop goroutine runs

	// The loop's buffers, made by the first loop and kept: the loop
	// ends whenever the last connection leaves, and a server with a
	// connection now and then would otherwise make them (5 KB) for each.
	// Only the loop goroutine (one at a time) uses them.
	events []unix.EpollEvent
	ready  []*wsConn
}

var (
	pollerOnce sync.Once
	thePoller  *poller
)

// eventLoop returns the process's event loop, or nil where epoll is not
// available.
func eventLoop() *poller {
	pollerOnce.Do(func() {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return
		}
		if err := unix.SetNonblock(fd, true); err != nil {
			_ = unix.Close(fd)
			return
		}
		f := os.NewFile(uintptr(fd), "siogo-epoll")
		rc, err := f.SyscallConn()
		if err != nil || f.SetReadDeadline(time.Time{}) != nil {
			_ = f.Close() // not pollable by the runtime
			return
		}
		thePoller = &poller{epfd: fd, file: f, rc: rc, conns: make(map[uint64]*wsConn)}
	})
	return thePoller
}

// rawConn returns the descriptor access of a plain TCP or Unix
// connection, whose bytes are the WebSocket stream; nil for others (TLS).
func rawConn(conn net.Conn) syscall.RawConn {
	var rc syscall.RawConn
	switch conn := conn.(type) {
	case *net.TCPConn:
		rc, _ = conn.SyscallConn()
	case *net.UnixConn:
		rc, _ = conn.SyscallConn()
	}
	return rc
}

// writeNow writes b without waiting: n < len(b) when the socket buffer is
// full.
func writeNow(rc syscall.RawConn, b []byte) (n int, err error) {
	for n < len(b) {
		var m int
		var werr error
		if cerr := rc.Write(func(fd uintptr) bool {
			for {
				m, werr = unix.Write(int(fd), b[n:])
				if werr != unix.EINTR {
					return true
				}
			}
		}); cerr != nil {
			return n, cerr
		}
		if werr == unix.EAGAIN {
			return n, nil
		}
		if werr != nil {
			return n, werr
		}
		n += m
	}
	return n, nil
}

// startReading registers c with the event loop, or starts a reading
// goroutine when the connection cannot be polled.
func (c *wsConn) startReading() {
	p := eventLoop()
	if p == nil || c.rc == nil || !p.add(c) {
		go c.readLoop()
	}
}

func (p *poller) add(c *wsConn) bool {
	// The key goes into the map and into c.poll together, under c.mu: a
	// stop that sees the key finds it in the map to remove.
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return true // stopped meanwhile: nothing to read
	}
	p.mu.Lock()
	p.next++
	key := p.next
	p.conns[key] = c
	if !p.running {
		p.running = true
		go p.loop()
	}
	p.mu.Unlock()
	c.poll = pollState{key: key}
	c.mu.Unlock()
	if p.arm(c.rc, unix.EPOLL_CTL_ADD, key) != nil {
		p.remove(key)
		c.mu.Lock()
		c.poll = pollState{}
		done := c.done
		c.mu.Unlock()
		return done // closed meanwhile (the Control failed): no reader needed
	}
	return true
}

// arm adds (EPOLL_CTL_ADD) or re-arms (EPOLL_CTL_MOD) the one-shot
// registration of a connection under key.
func (p *poller) arm(rc syscall.RawConn, op int, key uint64) error {
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		ev := unix.EpollEvent{Events: pollEvents, Fd: int32(key), Pad: int32(key >> 32)}
		err = unix.EpollCtl(p.epfd, op, int(fd), &ev)
	}); cerr != nil {
		return cerr // closed
	}
	return err
}

func (p *poller) remove(key uint64) {
	p.mu.Lock()
	delete(p.conns, key)
	if len(p.conns) == 0 && p.running {
		_ = p.file.SetReadDeadline(time.Unix(1, 0)) // wake the loop to end
	}
	p.mu.Unlock()
}

// unregister takes a connection out of the event loop. Closing the
// descriptor removes it from the epoll set, so only the key goes.
func (ps pollState) unregister() {
	if ps.key != 0 {
		thePoller.remove(ps.key)
	}
}

func (p *poller) loop() {
	if p.events == nil {
		p.events = make([]unix.EpollEvent, 256)
		p.ready = make([]*wsConn, 0, len(p.events))
	}
	events, ready := p.events, p.ready
	for {
		var n int
		err := p.rc.Read(func(uintptr) bool {
			var werr error
			for {
				n, werr = unix.EpollWait(p.epfd, events, 0)
				if werr != unix.EINTR {
					break
				}
			}
			if werr != nil {
				n = 0
			}
			return n > 0
		})
		if err != nil {
			// The deadline set when the last connection left.
			p.mu.Lock()
			if len(p.conns) == 0 {
				p.running = false
				p.mu.Unlock()
				return
			}
			_ = p.file.SetReadDeadline(time.Time{})
			p.mu.Unlock()
			continue
		}
		p.mu.Lock()
		for _, ev := range events[:n] {
			if c := p.conns[uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32]; c != nil {
				ready = append(ready, c)
			}
		}
		p.mu.Unlock()
		for i, c := range ready {
			c.readable()
			ready[i] = nil
		}
		ready = ready[:0]
	}
}

// readable starts a reader for c unless one runs.
func (c *wsConn) readable() {
	c.mu.Lock()
	start := !c.done && !c.reading
	c.reading = c.reading || start
	c.mu.Unlock()
	if start {
		readers.Go(c)
	}
}

// readers serve hot connections, on goroutines that linger 100ms to serve
// another: connections that come and go quickly do not each start a
// goroutine and grow its stack again.
var readers = linger.New(100*time.Millisecond, (*wsConn).readHot)

// readBufs pools the readers' buffers.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// hotReader is a reader's state; fn, made once, is what it hands
// RawConn.Read.
type hotReader struct {
	bp  *[]byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

func (r *hotReader) read(fd uintptr) bool {
	if r.bp == nil {
		r.bp = readBufs.Get().(*[]byte)
	}
	for {
		r.n, r.err = unix.Read(int(fd), *r.bp)
		if r.err != unix.EINTR {
			break
		}
	}
	if r.err == unix.EAGAIN {
		readBufs.Put(r.bp)
		r.bp = nil
		return false // wait for bytes (or the deadline)
	}
	return true
}

// hotReaders pools the readers' state.
var hotReaders = sync.Pool{New: func() any { r := &hotReader{}; r.fn = r.read; return r }}

// readHot reads while bytes keep coming (see the event loop's comment).
func (c *wsConn) readHot() {
	r := hotReaders.Get().(*hotReader)
	defer hotReaders.Put(r)
	ps := c.poll // set before the registration that led here
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(readLinger))
		err := c.rc.Read(r.fn)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.cool(ps)
			return
		case err != nil: // closed
			c.stop()
			return
		case r.n <= 0 || r.err != nil: // end of stream or error
			if r.bp != nil {
				readBufs.Put(r.bp)
				r.bp = nil
			}
			c.stop()
			return
		}
		more := c.input((*r.bp)[:r.n])
		readBufs.Put(r.bp)
		r.bp = nil
		if !more {
			return
		}
	}
}

// cool makes a hot connection cold: the reader ends and the one-shot
// registration is re-armed (bytes already there raise an event at once).
func (c *wsConn) cool(ps pollState) {
	c.mu.Lock()
	c.reading = false
	done := c.done
	c.mu.Unlock()
	if done {
		return
	}
	if thePoller.arm(c.rc, unix.EPOLL_CTL_MOD, ps.key) != nil {
		c.stop() // a no-op if the connection was closed meanwhile
	}
}
