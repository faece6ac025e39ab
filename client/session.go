package client

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/siogo/siogo/internal/sioparser"
	"github.com/siogo/siogo/packet"
)

var (
	frameHeartbeat  = []byte("2::")
	frameDisconnect = []byte("0::")
)

// session is one handshaken session over one transport connection. Its
// reader goroutine owns the read side of conn and handles every packet
// received; its writer goroutine owns the write side and drains the
// client's outgoing queue while the session is the connected one.
type session struct {
	c         *Client
	sid       string
	transport string
	hbTimeout time.Duration
	conn      conn
	v5        bool

	// v5, owned by the reader goroutine.
	opened bool              // the open packet arrived
	dec    sioparser.Decoder // reassembles binary packets

	connected chan struct{} // closed when "1::" arrives
	done      chan struct{} // closed by fail
	flushReq  chan struct{} // closed by flushAndClose
	flushed   chan struct{} // closed by the writer after the final flush
	wg        sync.WaitGroup
	failOnce  sync.Once

	mu       sync.Mutex // guards err and watchdog
	err      error      // why the session ended
	watchdog *time.Timer
}

func newSession(c *Client, hs *handshake, name string) *session {
	return &session{
		c:         c,
		sid:       hs.sid,
		transport: name,
		hbTimeout: hs.hbTimeout,
		v5:        c.v5(),
		connected: make(chan struct{}),
		done:      make(chan struct{}),
		flushReq:  make(chan struct{}),
		flushed:   make(chan struct{}),
	}
}

func (s *session) start(cn conn) {
	s.conn = cn
	if s.hbTimeout > 0 {
		s.mu.Lock()
		s.watchdog = time.AfterFunc(s.hbTimeout, func() { s.fail(ErrHeartbeatTimeout) })
		s.mu.Unlock()
	}
	s.wg.Go(s.readLoop)
	s.wg.Go(s.writeLoop)
}

// fail ends the session (the first reason sticks) and makes the
// transport's pending calls return.
func (s *session) fail(err error) {
	s.failOnce.Do(func() {
		s.mu.Lock()
		s.err = err
		if s.watchdog != nil {
			s.watchdog.Stop()
		}
		s.mu.Unlock()
		close(s.done)
		if s.conn != nil {
			s.conn.close()
		}
	})
}

func (s *session) error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *session) isDone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// wait waits for the reader and writer goroutines to end.
func (s *session) wait() { s.wg.Wait() }

// heard restarts the heartbeat watchdog: something arrived.
func (s *session) heard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watchdog != nil && s.err == nil {
		s.watchdog.Reset(s.hbTimeout)
	}
}

// flushAndClose sends what is queued and "0::" (for up to a second),
// then ends the session and waits for its goroutines.
func (s *session) flushAndClose() {
	select {
	case <-s.connected:
		if !s.isDone() {
			close(s.flushReq)
			t := time.NewTimer(time.Second)
			select {
			case <-s.flushed:
			case <-s.done:
			case <-t.C:
			}
			t.Stop()
		}
	default:
	}
	s.fail(ErrClosed)
	s.wait()
}

func (s *session) readLoop() {
	if s.v5 {
		s.readLoop5()
		return
	}
	cn := s.conn.(conn09)
	for {
		parts, err := cn.read()
		if err != nil {
			s.fail(&TransportError{Transport: s.transport, Err: err})
			return
		}
		s.heard()
		s.receive(parts)
		if s.isDone() {
			return
		}
	}
}

// receive handles the packets of one payload, in order, until the session
// ends; a packet that does not decode is reported and skipped.
func (s *session) receive(parts []string) {
	for _, part := range parts {
		if s.isDone() {
			return
		}
		p, err := packet.Decode(part)
		if err != nil {
			s.c.reportError(fmt.Errorf("client: dropping a malformed packet %q: %w", clip(part), err))
			continue
		}
		s.handle(p)
	}
}

func (s *session) writeLoop() {
	select {
	case <-s.connected:
	case <-s.done:
		return
	}
	for {
		if frames := s.c.take(s); len(frames) > 0 {
			if err := s.conn.write(frames); err != nil {
				s.fail(&TransportError{Transport: s.transport, Err: err})
				return
			}
			continue
		}
		select {
		case <-s.c.outSignal:
		case <-s.done:
			return
		case <-s.flushReq:
			for {
				frames := s.c.take(s)
				if len(frames) == 0 {
					break
				}
				if s.conn.write(frames) != nil {
					return
				}
			}
			s.writeClose()
			close(s.flushed)
			return
		}
	}
}

// handle runs on the reader goroutine.
func (s *session) handle(p packet.Packet) {
	c := s.c
	if f := c.opts.OnPacket; f != nil {
		c.enqueue(func() { f(p) }, false)
	}
	switch p.Type {
	case packet.Connect:
		if p.Endpoint == "" {
			s.onConnect()
		} else {
			s.onNamespaceConnect(p.Endpoint)
		}
	case packet.Disconnect:
		if p.Endpoint == "" {
			s.fail(ErrKicked)
		} else {
			s.onNamespaceKick(p.Endpoint)
		}
	case packet.Heartbeat:
		_ = c.queueBound(s, frameHeartbeat)
	case packet.Message, packet.JSON, packet.Event:
		s.onData(p)
	case packet.Ack:
		c.mu.Lock()
		if pa := c.acks[ackKey{p.Endpoint, p.AckID}]; pa != nil {
			delete(c.acks, pa.key)
			args := p.Args
			if args == nil {
				args = []json.RawMessage{}
			}
			c.resolveLocked(pa, ackResult{args: args})
		}
		c.mu.Unlock()
	case packet.Error:
		s.onError(p)
	}
}

// onConnect: "1::", the session is open. Namespaces waiting to be joined
// are joined first, then what was queued meanwhile is sent.
func (s *session) onConnect() {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil || c.finished || c.closed || s.isDone() {
		return
	}
	c.sess = s
	var q []*outItem
	for _, ns := range c.nsOrder {
		switch {
		case ns.name == "":
			ns.setStateLocked(nsConnected, nil)
			if f := c.opts.OnConnect; f != nil {
				c.enqueueLocked(func() { f(ns) }, false)
			}
		case ns.state == nsIdle || ns.state == nsJoining:
			ns.setStateLocked(nsJoining, nil)
			q = append(q, &outItem{frame: ns.connectFrame(), bound: s})
		}
	}
	for _, it := range c.outq {
		if it.bound == nil {
			q = append(q, it)
		}
	}
	c.outq = q
	close(s.connected)
	c.signalOut()
}

func (s *session) onNamespaceConnect(endpoint string) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	ns := c.namespaces[endpoint]
	if c.sess != s || ns == nil || ns.state != nsJoining {
		return
	}
	ns.setStateLocked(nsConnected, nil)
	if f := c.opts.OnConnect; f != nil {
		c.enqueueLocked(func() { f(ns) }, false)
	}
}

func (s *session) onNamespaceKick(endpoint string) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	ns := c.namespaces[endpoint]
	if c.sess != s || ns == nil || (ns.state != nsConnected && ns.state != nsJoining) {
		return
	}
	err := &NamespaceError{Namespace: endpoint, Err: ErrKicked}
	if ns.state == nsConnected {
		if f := c.opts.OnDisconnect; f != nil {
			c.enqueueLocked(func() { f(ns, err) }, true)
		}
	}
	ns.setStateLocked(nsLeft, err)
	c.failAcksLocked(endpoint, err)
}

// onError: "7:REASON+ADVICE". A namespace's unauthorized refuses it; an
// advice to reconnect ends the session (the client then reconnects);
// anything else is reported.
func (s *session) onError(p packet.Packet) {
	c := s.c
	err := serverError(p.Reason)
	if p.Endpoint != "" && p.Reason == 2 {
		c.mu.Lock()
		ns := c.namespaces[p.Endpoint]
		if c.sess == s && ns != nil && ns.state != nsRefused && ns.state != nsLeft {
			nerr := &NamespaceError{Namespace: p.Endpoint, Err: err}
			wasConnected := ns.state == nsConnected
			ns.setStateLocked(nsRefused, nerr)
			c.failAcksLocked(p.Endpoint, nerr)
			if wasConnected {
				if f := c.opts.OnDisconnect; f != nil {
					c.enqueueLocked(func() { f(ns, nerr) }, true)
				}
			}
			if f := c.opts.OnConnectFailed; f != nil {
				c.enqueueLocked(func() { f(ns, nerr) }, false)
			}
		}
		c.mu.Unlock()
		return
	}
	if p.Advice == packet.AdviceReconnect {
		s.fail(err)
		return
	}
	if p.Endpoint != "" {
		err = &NamespaceError{Namespace: p.Endpoint, Err: err}
	}
	c.reportError(err)
}

// onData: an event, message or json packet.
func (s *session) onData(p packet.Packet) {
	c := s.c
	if p.HasID && !p.AckData {
		_ = c.queueBound(s, packet.AppendPacket(nil, &packet.Packet{Type: packet.Ack, Endpoint: p.Endpoint, AckID: p.ID}))
	}
	c.mu.Lock()
	ns := c.namespaces[p.Endpoint]
	ok := c.sess == s && ns != nil && (ns.state == nsConnected || ns.state == nsJoining)
	c.mu.Unlock()
	if !ok {
		return
	}
	var ack AckFunc
	if p.HasID && p.AckData {
		ack = s.ackFunc(p.Endpoint, p.ID)
	}
	c.enqueue(func() { ns.deliver(p, ack) }, false)
}

// ackFunc answers the server's packet id on this session only.
func (s *session) ackFunc(endpoint string, id uint64) AckFunc {
	if s.v5 {
		return s.ackFunc5(endpoint, id)
	}
	var once sync.Once
	return func(args ...any) error {
		err := ErrAckSent
		once.Do(func() {
			var raw []json.RawMessage
			if raw, err = marshalArgs(args); err != nil {
				return
			}
			err = s.c.queueBound(s, packet.AppendPacket(nil, &packet.Packet{Type: packet.Ack, Endpoint: endpoint, AckID: id, Args: raw}))
		})
		return err
	}
}

// failAcksLocked fails the acks awaited on a namespace.
func (c *Client) failAcksLocked(endpoint string, err error) {
	for k, pa := range c.acks {
		if k.endpoint == endpoint {
			delete(c.acks, k)
			c.resolveLocked(pa, ackResult{err: err})
		}
	}
}
