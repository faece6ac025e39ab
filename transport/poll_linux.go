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
)

// The event loop: one epoll instance for the process's WebSocket
// connections. Its descriptor is itself registered with the Go runtime's
// network poller (an epoll descriptor is pollable), so the loop is an
// ordinary goroutine parked by the runtime, not a thread blocked in
// epoll_wait. Connections are registered edge-triggered; on an event the
// loop starts a reader goroutine for the connection unless one runs. The
// reader reads without blocking, into a pooled buffer, until the socket
// is empty, then ends: an idle connection has no goroutine and no buffer.
//
// The loop goroutine exists only while connections are registered.

// pollState is a connection's registration with the event loop.
type pollState struct {
	rc  syscall.RawConn
	key uint64 // 0: not registered
}

type poller struct {
	epfd int
	file *os.File // epfd, as seen by the runtime poller
	rc   syscall.RawConn

	mu      sync.Mutex
	conns   map[uint64]*wsConn
	next    uint64
	running bool // the loop goroutine runs
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
	if p == nil || c.rc == nil || !p.add(c, c.rc) {
		go c.readLoop()
	}
}

func (p *poller) add(c *wsConn, rc syscall.RawConn) bool {
	p.mu.Lock()
	p.next++
	key := p.next
	p.mu.Unlock()
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return true // stopped meanwhile: nothing to read
	}
	c.poll = pollState{rc: rc, key: key}
	c.mu.Unlock()
	p.mu.Lock()
	p.conns[key] = c
	if !p.running {
		p.running = true
		go p.loop()
	}
	p.mu.Unlock()
	var err error
	cerr := rc.Control(func(fd uintptr) {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(key), Pad: int32(key >> 32)}
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if cerr != nil || err != nil {
		p.remove(key)
		c.mu.Lock()
		c.poll = pollState{}
		done := c.done
		c.mu.Unlock()
		return done // closed meanwhile (the Control failed): no reader needed
	}
	return true
}

func (p *poller) remove(key uint64) {
	p.mu.Lock()
	delete(p.conns, key)
	if len(p.conns) == 0 && p.running {
		_ = p.file.SetReadDeadline(time.Unix(1, 0)) // wake the loop to end
	}
	p.mu.Unlock()
}

// unregister takes a connection out of the event loop, before its
// descriptor closes.
func (ps pollState) unregister() {
	if ps.key == 0 {
		return
	}
	p := thePoller
	_ = ps.rc.Control(func(fd uintptr) {
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	})
	p.remove(ps.key)
}

func (p *poller) loop() {
	events := make([]unix.EpollEvent, 256)
	ready := make([]*wsConn, 0, len(events))
	for {
		var n int
		err := p.rc.Read(func(uintptr) bool {
			var werr error
			n, werr = unix.EpollWait(p.epfd, events, 0)
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

// readable starts a reader goroutine unless one runs.
func (c *wsConn) readable() {
	c.mu.Lock()
	switch {
	case c.done:
	case c.reading:
		c.rpending = true
	default:
		c.reading = true
		go c.readAvailable(c.poll.rc)
	}
	c.mu.Unlock()
}

// readBufs pools the event-loop readers' buffers.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// readAvailable reads until the socket is empty, without blocking.
func (c *wsConn) readAvailable(rc syscall.RawConn) {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	for {
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			for {
				n, rerr = unix.Read(int(fd), buf)
				if rerr != unix.EINTR {
					return true
				}
			}
		})
		switch {
		case err != nil: // closed
			c.stop()
			return
		case n > 0:
			if !c.input(buf[:n]) {
				return
			}
		case errors.Is(rerr, unix.EAGAIN):
			c.mu.Lock()
			if c.rpending && !c.done {
				c.rpending = false
				c.mu.Unlock()
				continue
			}
			c.reading = false
			c.mu.Unlock()
			return
		default: // end of stream or error
			c.stop()
			return
		}
	}
}
