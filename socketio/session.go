package socketio

import (
	"context"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siogo/siogo/internal/lazylog"
	"github.com/siogo/siogo/internal/transport"
	"github.com/siogo/siogo/packet"
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
// id and srv never change; transport is atomic; mu guards every field
// below it, and hs (nil, or without its Headers and Query, until the
// Handshake is first asked for: see newHandshake and compactHandshake). Socket and namespace calls are made
// without holding mu (they call back into Send).
//
// The session's three timeouts share one wake-up: each has a deadline
// (closeAt, hbAt, deadAt; zero when not running), and the server's timers
// call onTimer at the earliest (or earlier). onTimer acts on the deadlines
// that have passed and asks for the next wake-up, so a deadline that moves
// later (touch, on every packet) costs nothing but the move.
type session struct {
	id  string
	srv *Server
	hs  *Handshake

	transport     atomic.Pointer[string] // current transport name; read without mu
	refusedLogged atomic.Bool            // a namespace refusal was logged at info level
	// Guarded by the server's timers.mu (like timerQueued below): the
	// session's index in the timers' queue (-1: not queued). An int32
	// beside refusedLogged, so that a session fits in 208 bytes.
	timerIndex int32

	mu          sync.Mutex
	hsHeader    packedHeader // non-empty until the Handshake is first asked for: what compactHandshake kept
	state       sessionState
	connected   bool // "1::" sent, default namespace joined
	streaming   bool // a websocket or htmlfile connection is attached
	pollHeld    bool // a long-poll GET is waiting
	connectOnce sync.Once
	queue       [][]byte
	held        int             // bytes held for the client: queued, taken and not yet written, a transport's own frames (see Hold)
	waiter      chan struct{}   // closed to wake Take callers
	waker       transport.Waker // wakes an attached websocket writer (no goroutine while idle); zero: none
	pollGen     uint64
	pollCancel  context.CancelFunc
	main        *Socket            // the default namespace's socket
	others      map[string]*Socket // the other namespaces' sockets; made on first use
	timerAt     time.Duration      // onTimer runs by then (Server.clock); zero: not asked
	closeAt     time.Duration      // open: close timeout; closing: end of the linger
	hbAt        time.Duration      // next heartbeat
	deadAt      time.Duration      // heartbeat timeout

	// Guarded by the server's timers.mu: the deadline the session waits
	// for in the timers' queue (its index there is timerIndex).
	timerQueued time.Duration
}

func newSession(srv *Server, id string, hs *Handshake, header packedHeader) *session {
	hs, header = compactHandshake(hs, header)
	return &session{id: id, srv: srv, hs: hs, hsHeader: header, timerIndex: -1}
}

// logAt logs with the session id first, as a logger made with Logger.With
// would, without the cost of such a logger per session.
func (s *session) logAt(level slog.Level, msg string, args ...any) {
	if lazylog.Enabled(s.srv.log, level) {
		lazylog.Write(s.srv.log, level, msg, []slog.Attr{slog.String("sid", s.id)}, args)
	}
}

// socketLocked returns the session's socket in namespace ep, or nil.
func (s *session) socketLocked(ep string) *Socket {
	if ep == "" {
		return s.main
	}
	return s.others[ep]
}

func (s *session) setSocketLocked(ep string, sock *Socket) {
	if ep == "" {
		s.main = sock
		return
	}
	if s.others == nil {
		s.others = make(map[string]*Socket)
	}
	s.others[ep] = sock
}

func (s *session) deleteSocketLocked(ep string) {
	if ep == "" {
		s.main = nil
		return
	}
	delete(s.others, ep)
}

// takeSocketsLocked forgets every socket of the session and returns them.
func (s *session) takeSocketsLocked() []*Socket {
	socks := make([]*Socket, 0, 1+len(s.others))
	if s.main != nil {
		socks = append(socks, s.main)
	}
	for _, sock := range s.others {
		socks = append(socks, sock)
	}
	s.main, s.others = nil, nil
	return socks
}

// expireUnused starts the handshake timeout of a new session (in closeAt,
// which its first transport request resets; see attach), so a handshake
// that is never used expires, sooner than an abandoned poll. The server
// calls it once the session is registered: a timeout that fired earlier
// would close the session before it is registered, and registering it
// afterwards would leave a dead session behind.
func (s *session) expireUnused() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateOpen && s.closeAt == 0 && !s.connected {
		s.setDeadlineLocked(&s.closeAt, s.srv.cfg.HandshakeTimeout)
	}
}

// setDeadlineLocked sets deadline *at to d from now and asks for the
// wake-up it needs.
func (s *session) setDeadlineLocked(at *time.Duration, d time.Duration) {
	*at = s.srv.clock() + d
	s.armLocked()
}

// armLocked asks the server's timers to call onTimer at the earliest
// deadline, unless they already call it no later (a call that comes early
// only asks again).
func (s *session) armLocked() {
	next := time.Duration(0)
	for _, at := range [...]time.Duration{s.closeAt, s.hbAt, s.deadAt} {
		if at != 0 && (next == 0 || at < next) {
			next = at
		}
	}
	if next == 0 || (s.timerAt != 0 && s.timerAt <= next) {
		return
	}
	s.timerAt = next
	s.srv.timers.schedule(s, next)
}

// onTimer runs when the server's timers call it: it acts on the deadline
// that has passed (the close timeout or the end of a linger first, then the
// heartbeat timeout, then the heartbeat) and asks for the next call.
func (s *session) onTimer() {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	now := s.srv.clock()
	s.timerAt = 0
	due := func(at *time.Duration) bool {
		if *at == 0 || now < *at {
			return false
		}
		*at = 0
		return true
	}
	closeDue, deadDue, hbDue := due(&s.closeAt), due(&s.deadAt), due(&s.hbAt)
	lingering := s.state == stateClosing
	if lingering {
		hbDue = false // a closing session sends nothing new
	} else if hbDue {
		s.hbAt = now + s.srv.cfg.HeartbeatInterval
	}
	s.armLocked()
	s.mu.Unlock()
	switch {
	case closeDue && lingering:
		s.finish()
	case closeDue:
		s.close(ReasonCloseTimeout, nil)
	case deadDue:
		s.logAt(slog.LevelInfo, "heartbeat timeout", "transport", transportAttr{s})
		s.close(ReasonHeartbeatTimeout, nil)
	case hbDue:
		s.Send(frameHeartbeat, false)
	}
}

// ID implements Conn.
func (s *session) ID() string { return s.id }

// Handshake implements Conn. It fills in what newHandshake left
// out the first time it is called.
func (s *session) Handshake() *Handshake {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hsHeader != "" {
		s.hs = expandHandshake(s.hs, s.hsHeader)
		s.hsHeader = ""
	}
	return s.hs
}

// authContext is the context of a namespace's authorization: the default
// namespace's socket's, which is cancelled when the session ends.
func (s *session) authContext() context.Context {
	s.mu.Lock()
	main := s.main
	s.mu.Unlock()
	if main == nil {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(&DisconnectError{Reason: ReasonSocketEnd})
		return ctx
	}
	return main.Context()
}

// Transport implements Conn. It takes no lock, so it may be
// called from anywhere, logging included.
func (s *session) Transport() string {
	if t := s.transport.Load(); t != nil {
		return *t
	}
	return ""
}

// protocol implements sessionConn: the sessions of this package speak
// Socket.IO 0.9.
func (s *session) protocol() protocolID { return proto09 }

// transportAttr is a lazy slog attribute: the session's transport,
// resolved only when a record is written.
type transportAttr struct{ s *session }

// LogValue implements slog.LogValuer.
func (a transportAttr) LogValue() slog.Value { return slog.StringValue(a.s.Transport()) }

// Close implements Conn: a server-side kick. The client gets
// "0::" after what is already queued.
func (s *session) Close(reason string) { s.close(reason, frameGoodbye) }

// Send implements Conn.
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
	if len(s.queue) >= s.srv.cfg.SendQueueSize || s.overLocked(len(frame)) {
		s.closeSlowLocked()
		return false
	}
	s.queue = append(s.queue, frame)
	s.held += len(frame)
	waker := s.wakeLocked()
	s.mu.Unlock()
	waker.Wake()
	return true
}

// overLocked reports whether n more bytes would take what is held for the
// client past MaxQueuedBytes. A packet larger than the bound goes through
// when nothing else is held, so that it can be sent at all.
func (s *session) overLocked(n int) bool {
	return s.held > 0 && s.held+n > s.srv.cfg.MaxQueuedBytes
}

// closeSlowLocked closes the session as a slow consumer; it is called
// with mu held and releases it.
func (s *session) closeSlowLocked() {
	packets, bytes := len(s.queue), s.held
	s.mu.Unlock()
	s.logAt(slog.LevelWarn, "closing slow consumer", "transport", transportAttr{s}, "queued", packets, "held_bytes", bytes)
	s.srv.stats.slowConsumers.Add(1)
	s.close(ReasonSlowConsumer, nil)
}

// writableLocked: volatile packets go only to a transport that can take
// them now: an attached stream, or a held poll, with a short queue (a
// quarter of both bounds).
func (s *session) writableLocked() bool {
	return (s.streaming || s.pollHeld) && len(s.queue) < s.srv.cfg.SendQueueSize/4+1 &&
		s.held < s.srv.cfg.MaxQueuedBytes/4+1
}

// wakeLocked wakes Take callers and returns the waker, which the caller
// must run after unlocking.
func (s *session) wakeLocked() transport.Waker {
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
// A closing session is finished once its last packets are taken. The
// packets stay counted in held until the transport has written them
// (Hold).
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

// Hold implements transport.Session: what the transport holds for the
// client changed by n bytes. Going over MaxQueuedBytes closes the session
// as a slow consumer, as Send does.
func (s *session) Hold(n int) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	if n > 0 && s.state == stateOpen && s.overLocked(n) {
		s.closeSlowLocked()
		return
	}
	s.held += n
	s.mu.Unlock()
}

// heldBytes returns the bytes held for the client (see Hold).
func (s *session) heldBytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// SetWaker implements transport.WakeableSession: w is woken, without
// locks held, after every Send and when the session ends.
func (s *session) SetWaker(w transport.Waker) {
	s.mu.Lock()
	s.waker = w
	s.mu.Unlock()
}

// Receive implements transport.Session.
func (s *session) Receive(payload string) {
	s.touch()
	if payload != "" && !packet.IsFramed(payload) {
		s.receivePacket(payload) // one bare packet, the usual case
		return
	}
	parts, err := packet.SplitPayload(payload, s.srv.cfg.MaxPacketsPerPayload)
	if err != nil {
		s.srv.stats.decodeErrors.Add(1)
		s.logAt(slog.LevelDebug, "dropping bad payload", "transport", transportAttr{s}, "err", lazylog.ClientErr(err))
		if s.srv.errs != nil {
			s.srv.errs.report(&HandlerError{SocketID: s.id, Err: badPacketError("payload", err)})
		}
		return
	}
	for _, part := range parts {
		s.receivePacket(part)
	}
}

func (s *session) receivePacket(part string) {
	if packet.JSONDepth(part) > s.srv.cfg.MaxJSONDepth {
		s.srv.stats.decodeErrors.Add(1)
		s.logAt(slog.LevelDebug, "dropping packet nested too deep", "transport", transportAttr{s})
		if s.srv.errs != nil {
			s.srv.errs.report(&HandlerError{SocketID: s.id, Err: badPacketError("packet nested deeper than Config.MaxJSONDepth", nil)})
		}
		return
	}
	p, err := packet.Decode(part)
	if err != nil {
		s.srv.stats.decodeErrors.Add(1)
		s.logAt(slog.LevelDebug, "dropping bad packet", "transport", transportAttr{s}, "err", lazylog.ClientErr(err))
		if s.srv.errs != nil {
			s.srv.errs.report(&HandlerError{SocketID: s.id, Err: badPacketError("packet", err)})
		}
		return
	}
	s.srv.stats.packetsIn.Add(1)
	s.srv.stats.bytesIn.Add(uint64(len(part)))
	s.handle(&p)
}

func (s *session) handle(p *packet.Packet) {
	switch p.Type {
	case packet.Heartbeat:
		return
	case packet.Disconnect:
		if p.Endpoint == "" {
			s.close(ReasonPacket, nil)
			return
		}
	case packet.Connect:
		if p.Endpoint != "" {
			s.connectNamespace(p)
		}
		return
	}
	s.mu.Lock()
	sock := s.socketLocked(p.Endpoint)
	if p.Type == packet.Disconnect {
		s.deleteSocketLocked(p.Endpoint)
	}
	s.mu.Unlock()
	if sock == nil {
		s.logAt(slog.LevelDebug, "packet for an endpoint the client has not joined", "transport", transportAttr{s}, "endpoint", lazylog.Client(p.Endpoint), "type", p.Type.String())
		return
	}
	sock.handlePacket(p)
}

func (s *session) connectNamespace(p *packet.Packet) {
	ns := s.srv.namespace(p.Endpoint)
	if s.srv.shutdown.Load() {
		return // Shutdown is stopping the sockets
	}
	if ns == nil {
		s.logAt(slog.LevelDebug, "connect to unknown namespace", "transport", transportAttr{s}, "endpoint", lazylog.Client(p.Endpoint))
		return
	}
	s.mu.Lock()
	old := s.socketLocked(p.Endpoint)
	s.mu.Unlock()
	if old != nil && !old.Disconnected() {
		return
	}
	query, _ := url.ParseQuery(p.Data)
	sock, err := ns.connect(s, query)
	if err != nil {
		// The session's first refusal at info level, the others (a
		// client retrying in a loop) at debug level.
		level := slog.LevelDebug
		if !s.refusedLogged.Swap(true) {
			level = slog.LevelInfo
		}
		s.logAt(level, "namespace refused client", "transport", transportAttr{s}, "endpoint", lazylog.Client(p.Endpoint))
		s.Send(packet.AppendPacket(nil, &packet.Packet{Type: packet.Error, Endpoint: p.Endpoint, Reason: packet.ReasonUnauthorized, Advice: -1}), false)
		return
	}
	s.mu.Lock()
	if s.state == stateOpen {
		s.setSocketLocked(p.Endpoint, sock)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	sock.close(ReasonSocketEnd)
}

// attach is called at the start of every transport POST: it records the
// transport, keeps the session alive and, the first time, connects the
// default-namespace socket (which sends the client its "1::").
func (s *session) attach(name string) bool { return s.attachAs(name, attachPost) == attachOK }

// attachKind is the kind of transport request attachAs attaches.
type attachKind uint8

const (
	attachPost   attachKind = iota // a POST: packets from the client
	attachPoll                     // a polling GET
	attachStream                   // a websocket or htmlfile GET
)

// attachResult is what attachAs made of a request.
type attachResult uint8

const (
	attachDead attachResult = iota // closed: answer as for an unknown session
	attachOK
	attachBusy // refused: the session already has a stream
)

// attachAs is attach for a request of kind k. A session has at most one
// stream: a GET (stream or poll) while a stream is attached is refused,
// and leaves the session as it was — a poll beside the stream would race
// it for the queue, and a second stream would leave one of the two
// holding a request with nothing to write. A stream is attached in the
// same step (startStreamLocked), so two racing streams cannot both be.
func (s *session) attachAs(name string, k attachKind) attachResult {
	s.mu.Lock()
	switch {
	case s.state == stateClosed:
		s.mu.Unlock()
		return attachDead
	case k != attachPost && s.streaming, k == attachStream && !s.startStreamLocked():
		s.mu.Unlock()
		return attachBusy
	case s.state == stateClosing:
		s.mu.Unlock()
		s.touch()
		return attachOK // let the transport deliver the last packets
	}
	s.setTransportLocked(name)
	s.mu.Unlock()
	s.touch()
	// Every request waits until the default socket exists, so a POST racing
	// the first GET cannot lose its packets.
	s.connectOnce.Do(func() {
		sock, err := s.srv.Sockets().connect(s, nil)
		s.mu.Lock()
		s.connected = true
		if s.state != stateOpen {
			s.mu.Unlock()
			if err == nil {
				sock.close(ReasonSocketEnd)
			}
			return
		}
		if err == nil {
			s.main = sock
		}
		if s.closeAt != 0 {
			// The handshake timeout is over: the session is used. A
			// poll or stream starting now stops the close timeout; a
			// session only posted to expires as an abandoned poll does.
			s.setDeadlineLocked(&s.closeAt, s.srv.cfg.CloseTimeout)
		}
		s.setDeadlineLocked(&s.hbAt, s.srv.cfg.HeartbeatInterval)
		s.mu.Unlock()
		s.logAt(slog.LevelDebug, "session connected", "transport", name)
	})
	return attachOK
}

// transportNames are the names setTransportLocked stores, so that the
// session keeps neither a copy of the name nor the request path it was
// cut from.
var transportNames = [...]string{transport.WebSocket, transport.HTMLFile, transport.XHRPolling, transport.JSONPPolling}

func (s *session) setTransportLocked(name string) {
	for i := range transportNames {
		if transportNames[i] == name {
			s.transport.Store(&transportNames[i])
			return
		}
	}
	s.transport.Store(&name)
}

// startStreamLocked marks a websocket or htmlfile connection attached;
// it is called with mu held, by attachAs. Only one may be attached at a
// time. The stream supersedes a held poll, which is answered at once.
func (s *session) startStreamLocked() bool {
	if s.state != stateOpen || s.streaming {
		return false
	}
	s.streaming = true
	s.closeAt = 0
	if s.pollCancel != nil {
		s.pollCancel()
	}
	return true
}

// streamFailed undoes startStreamLocked when the stream could not be opened
// after all (a failed websocket upgrade): the session waits for another
// transport request for CloseTimeout, as after a poll.
func (s *session) streamFailed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streaming = false
	if s.state == stateOpen && !s.pollHeld {
		s.setDeadlineLocked(&s.closeAt, s.srv.cfg.CloseTimeout)
	}
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
	s.closeAt = 0
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
				s.setDeadlineLocked(&s.closeAt, s.srv.lingerTimeout())
			case s.state == stateOpen && !s.streaming:
				s.setDeadlineLocked(&s.closeAt, s.srv.cfg.CloseTimeout)
			}
		}
		s.mu.Unlock()
	}
}

// touch records that the client was heard from.
func (s *session) touch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateClosed {
		return
	}
	s.setDeadlineLocked(&s.deadAt, s.srv.cfg.HeartbeatTimeout)
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
	socks := s.takeSocketsLocked()
	lingering := tell && (s.streaming || s.connected)
	var waker transport.Waker
	if lingering {
		s.queue = append(s.queue, goodbye)
		s.held += len(goodbye)
		s.state = stateClosing
		s.hbAt = 0
		waker = s.wakeLocked()
		if !s.streaming && !s.pollHeld {
			s.setDeadlineLocked(&s.closeAt, s.srv.lingerTimeout())
		}
	}
	s.mu.Unlock()
	waker.Wake()
	s.logAt(slog.LevelDebug, "session closing", "transport", transportAttr{s}, "reason", reason)
	for _, sock := range socks {
		sock.close(reason)
	}
	if !lingering {
		s.finish()
	}
}

// stopSockets disconnects every socket of the session (no handler starts
// after those already queued; packets for them are dropped) and leaves
// the session open, so that what the remaining handlers send is queued.
func (s *session) stopSockets(reason string) []*Socket {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return nil
	}
	socks := s.takeSocketsLocked()
	s.mu.Unlock()
	for _, sock := range socks {
		sock.close(reason)
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
	s.queue, s.held = nil, 0
	waker := s.wakeLocked()
	s.waker = transport.Waker{}
	s.srv.timers.remove(s)
	s.timerAt, s.closeAt, s.hbAt, s.deadAt = 0, 0, 0, 0
	if s.pollCancel != nil {
		s.pollCancel()
	}
	socks := s.takeSocketsLocked()
	s.mu.Unlock()
	waker.Wake() // the writer sees the end and closes the connection
	for _, sock := range socks {
		sock.close(ReasonSocketEnd)
	}
	s.srv.forget(s)
}

// TransportClosed implements transport.ClosingSession: the attached
// websocket has ended, and the session with it (endStream).
func (s *session) TransportClosed() { s.endStream() }

// endStream is called when the attached websocket or htmlfile connection
// ends: the session ends with it.
func (s *session) endStream() {
	s.mu.Lock()
	s.streaming = false
	s.waker = transport.Waker{}
	s.mu.Unlock()
	s.close(ReasonSocketEnd, nil)
}

// deadSession answers transports for an unknown or closed session id with
// "7:::1+0" (client not handshaken, reconnect).
type deadSession struct{}

var frameNotHandshaken = []byte("7:::1+0")

func (deadSession) Receive(string) {}
func (deadSession) Hold(int)       {}
func (deadSession) Take(context.Context) ([][]byte, bool) {
	return [][]byte{frameNotHandshaken}, true
}
func (d deadSession) TakeNow() ([][]byte, bool) { return d.Take(context.Background()) }
func (deadSession) SetWaker(transport.Waker)    {}

var _ transport.WakeableSession = (*session)(nil)
var _ sessionConn = (*session)(nil)
