package soak

import (
	"io"
	"net"
	"sync"
	"time"
)

// cutter is a TCP forwarder in front of the server for one v5 client: cut
// closes every connection going through it, which the client and the
// server see as a lost network (Engine.IO v4 has no ?disconnect for the
// test to drop a session with). The client reconnects through it.
type cutter struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func newCutter(target string) (*cutter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &cutter{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	c.wg.Add(1)
	go c.accept()
	return c, nil
}

func (c *cutter) addr() string { return c.ln.Addr().String() }

func (c *cutter) accept() {
	defer c.wg.Done()
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.DialTimeout("tcp", c.target, opTimeout)
		if err != nil {
			_ = in.Close()
			continue
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			_ = in.Close()
			_ = out.Close()
			return
		}
		c.conns[in], c.conns[out] = struct{}{}, struct{}{}
		c.wg.Add(2)
		c.mu.Unlock()
		go c.pipe(in, out)
		go c.pipe(out, in)
	}
}

// pipe copies src to dst; when either ends, both connections are closed
// (neither HTTP side half-closes).
func (c *cutter) pipe(dst, src net.Conn) {
	defer c.wg.Done()
	_, _ = io.Copy(dst, src)
	c.mu.Lock()
	delete(c.conns, dst)
	delete(c.conns, src)
	c.mu.Unlock()
	_ = dst.Close()
	_ = src.Close()
}

// cut closes every connection now.
func (c *cutter) cut() {
	c.mu.Lock()
	conns := make([]net.Conn, 0, len(c.conns))
	for cn := range c.conns {
		conns = append(conns, cn)
	}
	c.mu.Unlock()
	for _, cn := range conns {
		// A reset, not a FIN: what a lost network looks like once the
		// peer writes.
		if tc, ok := cn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = cn.Close()
	}
}

// close stops the cutter: no new connection, the current ones cut, its
// goroutines gone.
func (c *cutter) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	_ = c.ln.Close()
	c.cut()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(settleTimeout):
	}
}
