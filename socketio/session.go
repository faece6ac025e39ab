package socketio

import (
	"context"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"log/slog"

	"github.com/siogo/siogo/namespace"
	"github.com/siogo/siogo/packet"
	"github.com/siogo/siogo/transport"
)

type sessionState uint8

const (
	stateOpen    sessionState = iota
	stateClosing              // a last "0::" waits for the client; no new sends
	stateClosed
)

var (
	frameHeartbeat = []byte("2::")
	frameGoodbye   = []byte("0::")
	// frameReconnect tells a client its session is gone and it should
	// reconnect: error "client not handshaken", advice "reconnect".
	frameReconnect = []byte("7:::1+0")
)

// session is one handshaken client: its outgoing queue, its transport
// attachment, its timers and its sockets (one per namespace).
//
// mu guards every field below it. Socket and namespace calls are made
// without holding mu (they call back into Send).
type session struct {
	id  string
	srv *Server
	hs  *namespace.Handshake
	log *slog.Logger // with the session id; calls add transportAttr{s}

	transport atomic.Pointer[string] // current transport name; read without mu

	mu          sync.Mutex
	state       sessionState
	queue       [][]byte
	waiter      chan struct{} // closed to wake Take callers
	waker       func()        // wakes an attached websocket writer (no goroutine while idle)
	connected   bool          // "1::" sent, default namespace joined
	connectOnce sync.Once
	streaming   bool // a websocket or htmlfile connection is attached
	pollHeld    bool // a long-poll GET is waiting
	pollGen     uint64
	pollCancel  context.CancelFunc
	sockets     map[string]*namespace.Socket
	closeTimer  *time.Timer
	hbTimer     *time.Timer
	deadTimer   *time.Timer
	done        chan struct{} // closed when the session is closed
}

func newSession(srv *Server, id string, hs *namespace.Handshake) *session {
	s := &session{
		id:      id,
		srv:     srv,
		hs:      hs,
		sockets: make(map[string]*namespace.Socket),
		done:    make(chan struct{}),
	}
	s.log = srv.log.With("sid", id)
	return s
}

// expireUnused starts the close timer of a new session, so a handshake
// that is never used expires like an abandoned poll. The server calls it
// once the session is registered: a timer that fired earlier would close
// the session before it is registered, and registering it afterwards
// would leave a dead session behind. The timer is stored under mu because
// its callback reads it under mu.
func (s *session) expireUnused() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateOpen && s.closeTimer == nil {
		s.closeTimer = time.AfterFunc(s.srv.cfg.CloseTimeout, func() { s.close(namespace.ReasonCloseTimeout, nil) })
	}
}

// ID implements namespace.Conn.
func (s *session) ID() string { return s.id }

// Handshake implements namespace.Conn.
func (s *session) Handshake() *namespace.Handshake { return s.hs }

// Transport implements namespace.Conn. It takes no lock, so it may be
// called from anywhere, logging included.
func (s *session) Transport() string {
	if t := s.transport.Load(); t != nil {
		return *t
	}
	return ""
}

// transportAttr is a lazy slog attribute: the session's transport,
// resolved only when a record is written.
type transportAttr struct{ s *session }

// LogValue implements slog.LogValuer.
func (a transportAttr) LogValue() slog.Value { return slog.StringValue(a.s.Transport()) }

// Close implements namespace.Conn: a server-side kick. The client gets
// "0::" after what is already queued.
func (s *session) Close(reason string) { s.close(reason, frameGoodbye) }

// Send implements namespace.Conn.
func (s *session) Send(frame []byte, volatile bool) bool {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return false
	}
	if volatile && !s.writableLocked() {
		s.mu.Unlock()
		return false
	}
	if len(s.queue) >= s.srv.cfg.SendQueueSize {
		s.mu.Unlock()
		s.log.Warn("closing slow consumer", "transport", transportAttr{s}, "queued", s.srv.cfg.SendQueueSize)
		s.srv.stats.slowConsumers.Add(1)
		s.close(namespace.ReasonSlowConsumer, nil)
		return false
	}
	s.queue = append(s.queue, frame)
	waker := s.wakeLocked()
	s.mu.Unlock()
	if waker != nil {
		waker()
	}
	return true
}

// writableLocked: volatile packets go only to a transport that can take
// them now: an attached stream, or a held poll, with a short queue.
func (s *session) writableLocked() bool {
	return (s.streaming || s.pollHeld) && len(s.queue) < s.srv.cfg.SendQueueSize/4+1
}

// wakeLocked wakes Take callers and returns the waker, which the caller
// must run after unlocking.
func (s *session) wakeLocked() func() {
	if s.waiter != nil {
		close(s.waiter)
		s.waiter = nil
	}
	return s.waker
}

// Take implements transport.Session.
func (s *session) Take(ctx context.Context) ([][]byte, bool) {
	for {
		s.mu.Lock()
		if ctx.Err() != nil {
			closed := s.state == stateClosed
			s.mu.Unlock()
			return nil, closed
		}
		if len(s.queue) > 0 || s.state != stateOpen {
			return s.takeLocked()
		}
		if s.waiter == nil {
			s.waiter = make(chan struct{})
		}
		w := s.waiter
		s.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
		}
	}
}

// TakeNow implements transport.WakeableSession: Take without waiting.
func (s *session) TakeNow() ([][]byte, bool) {
	s.mu.Lock()
	return s.takeLocked()
}

// takeLocked takes the queue; it is called with mu held and releases it.
// A closing session is finished once its last packets are taken.
func (s *session) takeLocked() ([][]byte, bool) {
	pkts := s.queue
	s.queue = nil
	state := s.state
	s.mu.Unlock()
	if state == stateClosing {
		s.finish()
	}
	s.srv.countOut(pkts)
	return pkts, state != stateOpen
}

// SetWaker implements transport.WakeableSession: fn runs, without locks
// held, after every Send and when the session ends.
func (s *session) SetWaker(fn func()) {
	s.mu.Lock()
	s.waker = fn
	s.mu.Unlock()
}

// Receive implements transport.Session.
func (s *session) Receive(payload string) {
	s.touch()
	parts, err := packet.SplitPayload(payload, s.srv.cfg.MaxPacketsPerPayload)
	if err != nil {
		s.srv.stats.decodeErrors.Add(1)
		s.log.Debug("dropping bad payload", "transport", transportAttr{s}, "err", err)
		return
	}
	for _, part := range parts {
		if packet.JSONDepth(part) > s.srv.cfg.MaxJSONDepth {
			s.srv.stats.decodeErrors.Add(1)
			s.log.Debug("dropping packet nested too deep", "transport", transportAttr{s})
			continue
		}
		p, err := packet.Decode(part)
		if err != nil {
			s.srv.stats.decodeErrors.Add(1)
			s.log.Debug("dropping bad packet", "transport", transportAttr{s}, "err", err)
			continue
		}
		s.srv.stats.packetsIn.Add(1)
		s.srv.stats.bytesIn.Add(uint64(len(part)))
		s.handle(&p)
	}
}

func (s *session) handle(p *packet.Packet) {
	switch p.Type {
	case packet.Heartbeat:
		return
	case packet.Disconnect:
		if p.Endpoint == "" {
			s.close(namespace.ReasonPacket, nil)
			return
		}
	case packet.Connect:
		if p.Endpoint != "" {
			s.connectNamespace(p)
		}
		return
	}
	s.mu.Lock()
	sock := s.sockets[p.Endpoint]
	if p.Type == packet.Disconnect {
		delete(s.sockets, p.Endpoint)
	}
	s.mu.Unlock()
	if sock == nil {
		s.log.Debug("packet for an endpoint the client has not joined", "transport", transportAttr{s}, "endpoint", p.Endpoint, "type", p.Type.String())
		return
	}
	sock.HandlePacket(p)
}

func (s *session) connectNamespace(p *packet.Packet) {
	ns := s.srv.namespace(p.Endpoint)
	if s.srv.shutdown.Load() {
		return // Shutdown is stopping the sockets
	}
	if ns == nil {
		s.log.Debug("connect to unknown namespace", "transport", transportAttr{s}, "endpoint", p.Endpoint)
		return
	}
	s.mu.Lock()
	old := s.sockets[p.Endpoint]
	s.mu.Unlock()
	if old != nil && !old.Disconnected() {
		return
	}
	query, _ := url.ParseQuery(p.Data)
	sock, err := ns.Connect(s, query)
	if err != nil {
		s.log.Info("namespace refused client", "transport", transportAttr{s}, "endpoint", p.Endpoint)
		s.Send(packet.AppendPacket(nil, &packet.Packet{Type: packet.Error, Endpoint: p.Endpoint, Reason: packet.ReasonUnauthorized, Advice: -1}), false)
		return
	}
	s.mu.Lock()
	if s.state == stateOpen {
		s.sockets[p.Endpoint] = sock
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	sock.Close(namespace.ReasonSocketEnd)
}

// attach is called at the start of every transport request: it records
// the transport, keeps the session alive and, the first time, connects the
// default-namespace socket (which sends the client its "1::").
func (s *session) attach(name string) bool {
	s.touch()
	s.mu.Lock()
	switch s.state {
	case stateClosed:
		s.mu.Unlock()
		return false
	case stateClosing:
		s.mu.Unlock()
		return true // let the transport deliver the last packets
	}
	s.transport.Store(&name)
	s.mu.Unlock()
	// Every request waits until the default socket exists, so a POST racing
	// the first GET cannot lose its packets.
	s.connectOnce.Do(func() {
		sock, err := s.srv.Sockets().Connect(s, nil)
		s.mu.Lock()
		s.connected = true
		if s.state != stateOpen {
			s.mu.Unlock()
			if err == nil {
				sock.Close(namespace.ReasonSocketEnd)
			}
			return
		}
		if err == nil {
			s.sockets[""] = sock
		}
		s.hbTimer = time.AfterFunc(s.srv.cfg.HeartbeatInterval, s.heartbeat)
		s.mu.Unlock()
		s.log.Debug("session connected", "transport", name)
	})
	return true
}

// startStream marks a websocket or htmlfile connection attached. Only one
// may be attached at a time.
func (s *session) startStream() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen || s.streaming {
		return false
	}
	s.streaming = true
	s.stopTimerLocked(&s.closeTimer)
	if s.pollCancel != nil {
		s.pollCancel()
	}
	return true
}

// startPoll begins a long-poll GET: a poll already held is superseded
// (answered with a noop at once) and the close timer stops while the poll
// is held. end must be called when the response is written.
func (s *session) startPoll(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithTimeout(parent, s.srv.cfg.PollingDuration)
	s.mu.Lock()
	if s.pollCancel != nil {
		s.pollCancel()
	}
	s.pollGen++
	gen := s.pollGen
	s.pollCancel = cancel
	s.pollHeld = true
	s.stopTimerLocked(&s.closeTimer)
	s.mu.Unlock()
	return ctx, func() {
		cancel()
		s.mu.Lock()
		if s.pollGen == gen {
			s.pollHeld = false
			s.pollCancel = nil
			switch {
			case s.state == stateClosing && !s.streaming:
				// The goodbye was queued while this poll was held: linger
				// for the client to fetch it, as close does.
				s.stopTimerLocked(&s.closeTimer)
				s.closeTimer = time.AfterFunc(s.srv.lingerTimeout(), s.finish)
			case s.state == stateOpen && !s.streaming:
				s.closeTimer = time.AfterFunc(s.srv.cfg.CloseTimeout, func() { s.close(namespace.ReasonCloseTimeout, nil) })
			}
		}
		s.mu.Unlock()
	}
}

func (s *session) stopTimerLocked(t **time.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// touch records that the client was heard from.
func (s *session) touch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateClosed {
		return
	}
	if s.deadTimer == nil {
		s.deadTimer = time.AfterFunc(s.srv.cfg.HeartbeatTimeout, func() {
			s.log.Info("heartbeat timeout", "transport", transportAttr{s})
			s.close(namespace.ReasonHeartbeatTimeout, nil)
		})
		return
	}
	s.deadTimer.Reset(s.srv.cfg.HeartbeatTimeout)
}

func (s *session) heartbeat() {
	if !s.Send(frameHeartbeat, false) {
		return
	}
	s.mu.Lock()
	if s.state == stateOpen && s.hbTimer != nil {
		s.hbTimer.Reset(s.srv.cfg.HeartbeatInterval)
	}
	s.mu.Unlock()
}

// close ends the session. With a goodbye packet ("0::", or an error
// advising the client to reconnect), the client is sent it after what is
// queued and the session lingers (closing) until a transport takes it or
// the linger time passes; without (nil), it is closed at once. Either way
// every socket disconnects now, once.
func (s *session) close(reason string, goodbye []byte) {
	tell := goodbye != nil
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		if !tell {
			s.finish()
		}
		return
	}
	var socks []*namespace.Socket
	for _, sock := range s.sockets {
		socks = append(socks, sock)
	}
	s.sockets = make(map[string]*namespace.Socket)
	lingering := tell && (s.streaming || s.connected)
	var waker func()
	if lingering {
		s.queue = append(s.queue, goodbye)
		s.state = stateClosing
		waker = s.wakeLocked()
		if !s.streaming && !s.pollHeld {
			s.stopTimerLocked(&s.closeTimer)
			s.closeTimer = time.AfterFunc(s.srv.lingerTimeout(), s.finish)
		}
	}
	s.mu.Unlock()
	if waker != nil {
		waker()
	}
	s.log.Debug("session closing", "transport", transportAttr{s}, "reason", reason)
	for _, sock := range socks {
		sock.Close(reason)
	}
	if !lingering {
		s.finish()
	}
}

// stopSockets disconnects every socket of the session (no handler starts
// after those already queued; packets for them are dropped) and leaves
// the session open, so that what the remaining handlers send is queued.
func (s *session) stopSockets(reason string) []*namespace.Socket {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return nil
	}
	socks := make([]*namespace.Socket, 0, len(s.sockets))
	for _, sock := range s.sockets {
		socks = append(socks, sock)
	}
	s.sockets = make(map[string]*namespace.Socket)
	s.mu.Unlock()
	for _, sock := range socks {
		sock.Close(reason)
	}
	return socks
}

// finish makes the session closed for good and forgets it.
func (s *session) finish() {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	s.queue = nil
	waker := s.wakeLocked()
	s.waker = nil
	s.stopTimerLocked(&s.closeTimer)
	s.stopTimerLocked(&s.hbTimer)
	s.stopTimerLocked(&s.deadTimer)
	if s.pollCancel != nil {
		s.pollCancel()
	}
	close(s.done)
	socks := s.sockets
	s.sockets = nil
	s.mu.Unlock()
	if waker != nil {
		waker() // the writer sees the end and closes the connection
	}
	for _, sock := range socks {
		sock.Close(namespace.ReasonSocketEnd)
	}
	s.srv.forget(s)
}

// endStream is called when the attached websocket or htmlfile connection
// ends: the session ends with it.
func (s *session) endStream() {
	s.mu.Lock()
	s.streaming = false
	s.waker = nil
	s.mu.Unlock()
	s.close(namespace.ReasonSocketEnd, nil)
}

// deadSession answers transports for an unknown or closed session id with
// "7:::1+0" (client not handshaken, reconnect).
type deadSession struct{}

var frameNotHandshaken = []byte("7:::1+0")

func (deadSession) Receive(string) {}
func (deadSession) Take(context.Context) ([][]byte, bool) {
	return [][]byte{frameNotHandshaken}, true
}
func (d deadSession) TakeNow() ([][]byte, bool) { return d.Take(context.Background()) }
func (deadSession) SetWaker(func())             {}

var _ transport.WakeableSession = (*session)(nil)
var _ namespace.Conn = (*session)(nil)
