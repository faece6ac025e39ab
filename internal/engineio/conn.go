package engineio

import (
	"log/slog"
	"sync"
	"time"

	"github.com/siogo/siogo/internal/eioparser"
	"github.com/siogo/siogo/internal/lazylog"
	"github.com/siogo/siogo/internal/transport"
)

// Packets the engine sends of its own accord.
var (
	pktPing      = []byte("2")
	pktNoop      = []byte("6")
	pktClose     = []byte("1")
	pktProbePong = []byte("3probe")
)

// connState is the engine's side of a session (embedded in Conn).
//
// srv and h never change once the session is open (h is set before the
// client gets the handshake). mu guards the fields below it up to the
// delivery fields (dRunning, dEnded, dClose, dmu and dQueue), which have
// a lock of their own, dmu, taken without mu. Lock order: mu, then the
// server's timers.mu, then the server's mu.
//
// The fields are laid out by use: what Send and the transport's takes
// touch first (a broadcast touches it in every receiver), then the
// transports, the deadlines, and the deliveries to h. Small fields share
// words (the reasons are codes, the transport a flag), so that a Conn
// takes 208 bytes: an idle session costs what its fields do.
type connState struct {
	mu          sync.Mutex
	closing     bool            // Close was called: the queue drains, then the session ends
	closed      bool            // the session has ended (OnClose is dispatched)
	pollActive  bool            // a GET is being served
	postActive  bool            // a POST is being read
	timerIndex  int32           // in srv.timers' heap, -1: not in it; guarded by srv.timers.mu
	queue       [][]byte        // packets for the client, in transport form (text, or BinaryMark+bytes)
	queuedBytes int             // the sum of the queue's lengths
	held        int             // bytes a transport took and has not written (transport.Session.Hold)
	wsWaker     transport.Waker // ws's waker (zero: none yet, or no ws)

	ws       *wsLink       // the websocket carrying the session, nil while polling
	probe    *wsLink       // the websocket of the upgrade in flight, nil: none
	pollWake chan struct{} // one token: something changed for a waiting GET; made by the first GET
	srv      *Server
	h        Session

	// Deadlines (clock time of srv.timers; zero: not running).
	nextPing  time.Duration // when the next ping is sent
	pongBy    time.Duration // the pong to the last ping is due by then
	probeBy   time.Duration // the upgrade in flight must finish by then
	closeBy   time.Duration // a closing polling session ends then at the latest
	timerAt   time.Duration // guarded by srv.timers.mu
	pollFinal byte          // the one-byte packet a GET pending when the session ended gets ('1', '6'), 0: nothing
	proto     uint8         // the Engine.IO protocol: 3 or 4; never changes
	b64       bool          // v3: the client asked for text-only polling payloads (b64=1 in the handshake); never changes
	onWS      bool          // a websocket carries the session now (Transport: WebSocket), else polling
	reason    reasonCode    // why it ended or is closing

	// Delivery to h, one callback at a time, in order; guarded by dmu
	// (the first three share a word with the fields above).
	dRunning bool       // a goroutine is running the callbacks
	dEnded   bool       // OnClose is queued: nothing else is
	dClose   reasonCode // the reason of a close during Handler.Open (0: none)
	dmu      sync.Mutex
	dQueue   []delivery // callbacks waiting
}

// reasonCode is a close reason (the Reason constants) in a byte; 0 is
// none.
type reasonCode uint8

// reasons are the close reasons by code.
var reasons = [...]string{"", ReasonTransportClose, ReasonTransportError, ReasonPingTimeout,
	ReasonParseError, ReasonForcedClose, ReasonSlowConsumer, ReasonServerShutdown}

// codeOf is the code of reason, one of the Reason constants.
func codeOf(reason string) reasonCode {
	for i := 1; i < len(reasons); i++ {
		if reasons[i] == reason {
			return reasonCode(i)
		}
	}
	panic("engineio: unknown close reason " + reason)
}

func (r reasonCode) String() string { return reasons[r] }

func newConn(srv *Server, id, tr string, proto int, b64 bool) *Conn {
	c := &Conn{id: id}
	c.proto, c.b64 = uint8(proto), b64
	c.srv = srv
	c.onWS = tr == WebSocket
	c.timerIndex = -1
	return c
}

// Transport is the transport carrying the session now: Polling or
// WebSocket.
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.onWS {
		return WebSocket
	}
	return Polling
}

// QueuedBytes is what is held for the client: the queued packets plus
// what a transport took and has not written (see Config.MaxQueuedBytes).
func (c *Conn) QueuedBytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queuedBytes + c.held
}

// Send queues whole message packets (the AppendText or AppendBinary
// forms; the bytes may be shared and are never modified), all or none,
// in order, and reports whether they were queued. A volatile send is
// dropped unless a transport can take it now (a websocket, or a waiting
// poll) and the queue is short (a quarter of both bounds); a non-volatile
// one fails only on a closed session, or one that the send takes over
// Config.SendQueueSize or Config.MaxQueuedBytes, which is then closed as
// a slow consumer.
func (c *Conn) Send(pkts [][]byte, volatile bool) bool {
	n := transport.PacketBytes(pkts)
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return false
	}
	cfg := &c.srv.cfg
	if volatile && !c.writableLocked() {
		c.mu.Unlock()
		return false
	}
	if len(c.queue)+len(pkts) > cfg.SendQueueSize || c.overLocked(n) {
		queued, bytes := len(c.queue), c.queuedBytes+c.held
		c.mu.Unlock()
		c.logAt(slog.LevelWarn, "closing slow consumer", "queued", queued, "held_bytes", bytes)
		c.closeNow(ReasonSlowConsumer, pktClose)
		return false
	}
	c.queue = append(c.queue, pkts...)
	c.queuedBytes += n
	wake := c.wakeLocked()
	c.mu.Unlock()
	wake.Wake()
	return true
}

// writableLocked reports whether a transport can take packets now and the
// queue is short.
func (c *Conn) writableLocked() bool {
	cfg := &c.srv.cfg
	return (c.ws != nil || c.pollActive) && len(c.queue) < cfg.SendQueueSize/4+1 &&
		c.queuedBytes+c.held < cfg.MaxQueuedBytes/4+1
}

// overLocked reports whether n more bytes would take what is held for the
// client past MaxQueuedBytes. Packets larger than the bound go through
// when nothing else is held, so that they can be sent at all.
func (c *Conn) overLocked(n int) bool {
	h := c.queuedBytes + c.held
	return h > 0 && h+n > c.srv.cfg.MaxQueuedBytes
}

// pushLocked queues an engine packet (ping, close), outside the bounds.
func (c *Conn) pushLocked(p []byte) {
	c.queue = append(c.queue, p)
	c.queuedBytes += len(p)
}

// wakeLocked tells a waiting GET that something changed and returns the
// waker of the websocket carrying the session (zero: none), to be run
// after mu is released.
func (c *Conn) wakeLocked() transport.Waker {
	c.signalPollLocked()
	if c.ws != nil {
		return c.wsWaker
	}
	return transport.Waker{}
}

// signalPollLocked wakes a waiting GET.
func (c *Conn) signalPollLocked() {
	select {
	case c.pollWake <- struct{}{}:
	default:
	}
}

// Close ends the session from the server: what is queued is sent, then a
// close packet (polling) or the websocket is closed; OnClose gets
// ReasonForcedClose. A polling session whose client does not poll again
// ends after PingInterval+PingTimeout, or when the answer to a ping
// already sent is due, if that is sooner (the client is gone then).
func (c *Conn) Close() {
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	c.reason = codeOf(ReasonForcedClose)
	pongBy := c.pongBy
	c.nextPing, c.pongBy = 0, 0
	var probe transport.Waker
	if p := c.probe; p != nil {
		c.probe, c.probeBy = nil, 0
		probe = p.waker
	}
	if c.ws == nil {
		c.pushLocked(pktClose)
	}
	now := c.srv.timers.now()
	c.closeBy = now + c.srv.cfg.PingInterval + c.srv.cfg.PingTimeout
	if pongBy != 0 {
		// A ping is unanswered: a client silent until its pong is due
		// will not poll again either (the Node.js server's heartbeat goes
		// on while a socket closes). Without this a session whose client
		// left right after the handshake, closed by the layer above at
		// its connect timeout just before the pong was due, lived twice
		// PingInterval+PingTimeout.
		c.closeBy = min(c.closeBy, pongBy)
	}
	c.srv.timers.schedule(c, c.closeBy)
	wake := c.wakeLocked()
	c.mu.Unlock()
	probe.Wake()
	wake.Wake()
}

// closeNow ends the session at once (what is queued is dropped): a GET
// waiting then gets final (pktClose or pktNoop; nil: an empty answer),
// the websockets are closed, the session leaves the server and
// OnClose(reason) is dispatched. Only the first call counts.
func (c *Conn) closeNow(reason string, final []byte) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if !c.closing { // a closing session ends as a forced close
		c.reason = codeOf(reason)
	}
	reason = c.reason.String()
	c.queue, c.queuedBytes = nil, 0
	c.pollFinal = 0
	if len(final) == 1 { // pktClose or pktNoop, the only finals
		c.pollFinal = final[0]
	}
	c.nextPing, c.pongBy, c.probeBy, c.closeBy = 0, 0, 0, 0
	c.signalPollLocked()
	var wakes []transport.Waker
	if c.ws != nil {
		wakes = append(wakes, c.ws.waker)
	}
	if c.probe != nil {
		wakes = append(wakes, c.probe.waker)
		c.probe = nil
	}
	c.mu.Unlock()
	c.srv.timers.remove(c)
	c.srv.remove(c)
	c.logAt(slog.LevelDebug, "session closed", "reason", reason)
	for _, w := range wakes {
		w.Wake()
	}
	c.dispatchClose(reason)
}

// onTimer acts on the deadlines that have passed and asks for the next
// wake-up (see timers).
func (c *Conn) onTimer() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	now := c.srv.timers.now()
	switch {
	case c.pongBy != 0 && now >= c.pongBy:
		c.mu.Unlock()
		c.closeNow(ReasonPingTimeout, pktClose)
		return
	case c.closeBy != 0 && now >= c.closeBy:
		c.mu.Unlock()
		c.closeNow(ReasonForcedClose, nil)
		return
	}
	var wakes []transport.Waker
	var expired *wsLink // the probe UpgradeTimeout ended
	if c.probeBy != 0 && now >= c.probeBy {
		c.probeBy = 0
		if p := c.probe; p != nil {
			c.probe, expired = nil, p
			wakes = append(wakes, p.waker) // it finds itself ended and closes
			c.signalPollLocked()
		}
	}
	if c.nextPing != 0 && now >= c.nextPing {
		// The pong is due PingTimeout after the ping was due, not after
		// it went out: a server whose timers run late (a loaded machine)
		// still ends a silent session PingInterval+PingTimeout after the
		// last pong, as the client expects. A ping sent very late still
		// leaves the client half of PingTimeout to answer.
		c.pongBy = max(c.nextPing+c.srv.cfg.PingTimeout, now+c.srv.cfg.PingTimeout/2)
		c.nextPing = 0
		c.pushLocked(pktPing)
		wakes = append(wakes, c.wakeLocked())
	}
	probed := expired != nil && expired.probed
	c.scheduleLocked()
	c.mu.Unlock()
	if expired != nil {
		c.logAt(slog.LevelDebug, "upgrade timed out: probe closed", "probe_answered", probed)
	}
	for _, w := range wakes {
		w.Wake()
	}
}

// timedOut reports whether the session has timed out and the timers
// have not told it yet (under load they can be late): the pong to the
// last ping is overdue, or no ping was sent and PingTimeout has passed
// since it was due (the client, which expects a ping every PingInterval,
// gives up then too). A request of such a session is answered as one of
// a session that has ended.
func (c *Conn) timedOut() bool {
	c.mu.Lock()
	now := c.srv.timers.now()
	late := !c.closed && (c.pongBy != 0 && now >= c.pongBy ||
		c.nextPing != 0 && now >= c.nextPing+c.srv.cfg.PingTimeout)
	c.mu.Unlock()
	if late {
		c.closeNow(ReasonPingTimeout, pktClose)
	}
	return late
}

// scheduleLocked asks the timers for the earliest running deadline.
func (c *Conn) scheduleLocked() {
	var at time.Duration
	for _, d := range [...]time.Duration{c.nextPing, c.pongBy, c.probeBy, c.closeBy} {
		if d != 0 && (at == 0 || d < at) {
			at = d
		}
	}
	if at != 0 {
		c.srv.timers.schedule(c, at)
	}
}

// onPong restarts the heartbeat: the next ping in PingInterval.
func (c *Conn) onPong() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.closing {
		return
	}
	c.pongBy = 0
	if c.nextPing == 0 {
		c.nextPing = c.srv.timers.now() + c.srv.cfg.PingInterval
		c.scheduleLocked()
	}
}

// onClientPing answers an Engine.IO v3 client's ping with a pong of the
// same data and restarts the session's deadline: it ends
// PingInterval+PingTimeout after the last ping (pongBy holds that
// deadline for a v3 session, which never pings).
func (c *Conn) onClientPing(data []byte) {
	c.mu.Lock()
	if c.closed || c.closing {
		c.mu.Unlock()
		return
	}
	c.pongBy = c.srv.timers.now() + c.srv.cfg.PingInterval + c.srv.cfg.PingTimeout
	c.scheduleLocked()
	c.pushLocked(append([]byte{'0' + byte(eioparser.Pong)}, data...))
	wake := c.wakeLocked()
	c.mu.Unlock()
	wake.Wake()
}

// onPacket acts on a packet the client sent on the transport carrying
// the session (a POST's, or the session's websocket's). It reports
// whether the session is still open.
func (c *Conn) onPacket(p eioparser.Packet) bool {
	c.mu.Lock()
	open := !c.closed && !c.closing
	c.mu.Unlock()
	if !open { // a closing session ignores what still comes, as Node.js engine.io's
		return false
	}
	switch p.Type {
	case eioparser.Message:
		if p.Binary {
			data := p.Data
			if data == nil {
				data = []byte{}
			}
			c.dispatch(delivery{kind: deliverBinary, data: data})
		} else {
			c.dispatch(delivery{kind: deliverText, text: string(p.Data)})
		}
	case eioparser.Pong:
		if c.proto == 3 {
			// Engine.IO v3 pings go from the client to the server only.
			c.logAt(slog.LevelDebug, "closing: client pong (invalid heartbeat direction)")
			c.closeNow(ReasonTransportError, pktClose)
			return false
		}
		c.onPong()
	case eioparser.Close:
		c.closeNow(ReasonTransportClose, pktNoop)
		return false
	case eioparser.Ping:
		if c.proto == 3 {
			c.onClientPing(p.Data)
			break
		}
		// Engine.IO v4 pings go from the server to the client only.
		c.logAt(slog.LevelDebug, "closing: client ping (invalid heartbeat direction)")
		c.closeNow(ReasonTransportError, pktClose)
		return false
	}
	// open, upgrade and noop packets are ignored, as by Node.js engine.io.
	return true
}

// onText delivers a text message whose text is already a string (a
// websocket's), sparing onPacket's copy.
func (c *Conn) onText(text string) {
	c.mu.Lock()
	open := !c.closed && !c.closing
	c.mu.Unlock()
	if open {
		c.dispatch(delivery{kind: deliverText, text: text})
	}
}

// onBadPacket closes the session after a packet that does not decode.
func (c *Conn) onBadPacket(err error) {
	c.logAt(slog.LevelDebug, "closing: bad packet", "err", lazylog.ClientErr(err))
	c.closeNow(ReasonParseError, pktClose)
}

// delivery is one callback for the Session: a message, a binary
// message, or the close.
type delivery struct {
	kind uint8  // deliverText, deliverBinary, deliverClose
	text string // the text, or the close reason
	data []byte
}

const (
	deliverText uint8 = iota
	deliverBinary
	deliverClose
)

func (d *delivery) run(h Session) {
	switch d.kind {
	case deliverText:
		h.OnMessage(d.text)
	case deliverBinary:
		h.OnBinary(d.data)
	default:
		h.OnClose(d.text)
	}
}

// dispatch runs d's callback after the callbacks already dispatched, one
// at a time: on this goroutine, or on the one running them already.
// Nothing runs after OnClose.
func (c *Conn) dispatch(d delivery) {
	c.dmu.Lock()
	if c.dEnded {
		c.dmu.Unlock()
		return
	}
	c.enqueueDeliveryLocked(d)
}

// dispatchClose dispatches OnClose(reason), the last callback.
func (c *Conn) dispatchClose(reason string) {
	c.dmu.Lock()
	if c.dEnded {
		c.dmu.Unlock()
		return
	}
	c.dEnded = true
	if c.h == nil { // closed during Handler.Open: setSession dispatches it
		c.dClose = codeOf(reason)
		c.dmu.Unlock()
		return
	}
	c.enqueueDeliveryLocked(delivery{kind: deliverClose, text: reason})
}

// setSession sets the Session Handler.Open returned; a close during
// Open is dispatched to it now. failed: Open refused the session, which
// gets no callback.
func (c *Conn) setSession(h Session, failed bool) {
	c.dmu.Lock()
	if failed {
		c.dEnded = true
		c.dQueue = nil
		c.dmu.Unlock()
		return
	}
	c.h = h
	if c.dClose != 0 {
		c.enqueueDeliveryLocked(delivery{kind: deliverClose, text: c.dClose.String()})
		return
	}
	c.dmu.Unlock()
}

// enqueueDeliveryLocked runs d, and the callbacks queued meanwhile, unless
// another goroutine is running the session's callbacks: then d waits in
// the queue for it. It is called with dmu held and releases it.
func (c *Conn) enqueueDeliveryLocked(d delivery) {
	if c.dRunning {
		c.dQueue = append(c.dQueue, d)
		c.dmu.Unlock()
		return
	}
	c.dRunning = true
	h := c.h
	c.dmu.Unlock()
	d.run(h)
	c.dmu.Lock()
	for len(c.dQueue) > 0 {
		d := c.dQueue[0]
		c.dQueue[0] = delivery{}
		c.dQueue = c.dQueue[1:]
		c.dmu.Unlock()
		d.run(h)
		c.dmu.Lock()
	}
	c.dQueue = nil
	c.dRunning = false
	c.dmu.Unlock()
}

// logAt writes a record with the session's id, if the level is enabled.
func (c *Conn) logAt(level slog.Level, msg string, args ...any) {
	l := c.srv.log
	if !lazylog.Enabled(l, level) {
		return
	}
	lazylog.Write(l, level, msg, []slog.Attr{slog.String("sid", c.id)}, args)
}
