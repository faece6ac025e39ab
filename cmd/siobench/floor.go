package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

// The raw floor: a websocket server with no Socket.IO layer, to print what
// the same fan-out costs on the machine with nothing but gobwas/ws and
// epoll. siobench starts it as a process of its own (siobench itself,
// built into the temporary directory, run as `siobench -floor-server
// -addr HOST:PORT`), so that its CPU and RSS are read from /proc exactly
// as the other servers'.
//
// It accepts websocket upgrades on any path (gobwas/ws, straight on the
// TCP connection), registers each connection with one epoll instance of
// its own (level-triggered, read by one goroutine) and keeps it idle: no
// goroutine, no buffer per connection. A text or binary frame from a
// connection is a trigger: for the k triggers one read brought, every
// other connection gets k copies of one prepared frame (encoded once, the
// bytes of the 0.9 `room` event the testapp sends) in one write(2). A
// close frame is answered with a close frame and the connection closed.

// floorFrame is the frame the floor broadcasts: what a 0.9 client of the
// testapp receives for a to-room, so that the load generator counts it
// (onIdleFrame) and reads the same bytes.
var floorFrame = ws.MustCompileFrame(ws.NewTextFrame([]byte(`5:::{"name":"` + roomEvent + `","args":[` + broadcastPayload + `]}`)))

// floorClose is the server's close frame (1000, no reason).
var floorClose = ws.MustCompileFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))

// runFloorServer serves the raw floor on the address of args' -addr until
// ctx ends.
func runFloorServer(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("siobench -floor-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen `address`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		ln.Close()
		return err
	}
	s := &floorServer{epfd: epfd, conns: map[int32]*floorConn{}}
	go s.loop()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	fmt.Fprintln(stderr, "listening")
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		go s.upgrade(c)
	}
}

type floorServer struct {
	epfd int

	mu    sync.Mutex
	conns map[int32]*floorConn // by descriptor
}

// floorConn is one idle websocket: the net.Conn is kept so that the
// descriptor stays open; the loop reads and writes the descriptor itself
// (it is non-blocking, as the Go runtime made it).
type floorConn struct {
	c    net.Conn
	fd   int32
	buf  []byte // the bytes of an incomplete client frame, rarely any
	dead bool   // dropped; the loop's goroutine only
}

func (s *floorServer) upgrade(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := ws.Upgrade(c); err != nil {
		c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	tc, ok := c.(*net.TCPConn)
	if !ok {
		c.Close()
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		c.Close()
		return
	}
	fc := &floorConn{c: c}
	_ = rc.Control(func(fd uintptr) { fc.fd = int32(fd) })
	// In the map before epoll can report it; out again if it cannot.
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns[fc.fd] = fc
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: fc.fd}
	if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, int(fc.fd), &ev); err != nil {
		delete(s.conns, fc.fd)
		c.Close()
	}
}

// drop unregisters and closes fc; the loop's goroutine only.
func (s *floorServer) drop(fc *floorConn) {
	if fc.dead {
		return
	}
	fc.dead = true
	_ = unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, int(fc.fd), nil)
	s.mu.Lock()
	delete(s.conns, fc.fd)
	s.mu.Unlock()
	fc.c.Close()
}

// loop waits for readable connections; a blocking epoll_wait on a thread
// of its own, since the process does nothing else.
func (s *floorServer) loop() {
	events := make([]unix.EpollEvent, 256)
	rbuf := make([]byte, 64<<10)
	var batch []byte
	var all []*floorConn
	for {
		n, err := unix.EpollWait(s.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			s.mu.Lock()
			fc := s.conns[ev.Fd]
			s.mu.Unlock()
			if fc == nil {
				continue
			}
			triggers, closed := s.readFrom(fc, rbuf)
			if closed {
				s.drop(fc)
			}
			if triggers == 0 {
				continue
			}
			batch = batch[:0]
			for range triggers {
				batch = append(batch, floorFrame...)
			}
			s.mu.Lock()
			all = all[:0]
			for _, c := range s.conns {
				if c != fc {
					all = append(all, c)
				}
			}
			s.mu.Unlock()
			for _, c := range all {
				if !c.dead {
					s.send(c, batch)
				}
			}
		}
	}
}

// send writes b to c at once, or, when the socket buffer is full, waits
// for it through the runtime (a floor on loopback with small frames
// practically never does).
func (s *floorServer) send(c *floorConn, b []byte) {
	for len(b) > 0 {
		n, err := unix.Write(int(c.fd), b)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			_ = c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			_, err = c.c.Write(b)
			if err != nil {
				s.drop(c)
			}
			return
		}
		if err != nil {
			s.drop(c)
			return
		}
		b = b[n:]
	}
}

// readFrom reads what c has and returns the data frames in it; closed:
// the peer closed (a close frame, which is answered, or EOF or an error).
func (s *floorServer) readFrom(c *floorConn, rbuf []byte) (triggers int, closed bool) {
	n, err := unix.Read(int(c.fd), rbuf)
	if err == unix.EAGAIN || err == unix.EINTR {
		return 0, false
	}
	if err != nil || n == 0 {
		return 0, true
	}
	b := rbuf[:n]
	if len(c.buf) > 0 {
		c.buf = append(c.buf, b...)
		b = c.buf
	}
	for {
		op, size, ok := clientFrame(b)
		if !ok {
			break
		}
		switch op {
		case ws.OpText, ws.OpBinary:
			triggers++
		case ws.OpClose:
			s.send(c, floorClose)
			return triggers, true
		}
		b = b[size:]
	}
	if len(b) > 0 {
		c.buf = append(c.buf[:0], b...)
	} else {
		c.buf = nil
	}
	return triggers, false
}

// clientFrame parses the header of the masked frame at the start of b:
// its opcode and its whole size, ok false while b holds less than one
// frame.
func clientFrame(b []byte) (op ws.OpCode, size int, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	op = ws.OpCode(b[0] & 0x0f)
	n, h := int(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, 0, false
		}
		n, h = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, 0, false
		}
		n, h = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	if b[1]&0x80 != 0 {
		h += 4
	}
	if len(b) < h+n {
		return 0, 0, false
	}
	return op, h + n, true
}
