package engineio

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/siogo/siogo/internal/eioparser"
	"github.com/siogo/siogo/internal/transport"
)

// wsLink is one websocket connection of a session, the
// transport.WakeableSession that transport.ServeWebSocket drives: the
// session's websocket (Conn.ws), or the probe of an upgrade in flight
// (Conn.probe), which carries only the probe's answer until the client
// sends the upgrade packet. A link that is neither has ended: it gives
// the connection its close.
//
// The Conn's mu guards every field but c.
type wsLink struct {
	c      *Conn
	b64    bool            // v3: the client wants binary messages as "b4<base64>" text frames (b64 in its query)
	probed bool            // the probe ping was answered
	own    [][]byte        // packets of the link's own (the probe's pong)
	waker  transport.Waker // the transport's (SetWaker); zero until set
}

var _ transport.BinaryReceiver = (*wsLink)(nil)

// newLink makes the link of a websocket request r of session c.
func newLink(c *Conn, r *http.Request) *wsLink {
	return &wsLink{c: c, b64: c.proto == 3 && queryHas(r, "b64")}
}

// textOnly rewrites, for a v3 link whose client has no binary support,
// the binary packets of pkts (BinaryMark, type byte, data) as their
// base64 text form "b<type digit><base64>"; pkts itself is not modified.
func (l *wsLink) textOnly(pkts [][]byte) [][]byte {
	if !l.b64 {
		return pkts
	}
	var out [][]byte
	for i, p := range pkts {
		if len(p) == 0 || p[0] != transport.BinaryMark {
			if out != nil {
				out = append(out, p)
			}
			continue
		}
		if out == nil {
			out = append(make([][]byte, 0, len(pkts)), pkts[:i]...)
		}
		out = append(out, eioparser.AppendPacketV3(nil, packetV3(p)))
	}
	if out == nil {
		return pkts
	}
	return out
}

// SetWaker implements transport.WakeableSession.
func (l *wsLink) SetWaker(w transport.Waker) {
	c := l.c
	c.mu.Lock()
	l.waker = w
	if l == c.ws {
		c.wsWaker = w
	}
	c.mu.Unlock()
}

// wakeLocked returns the link's waker, to be run once the Conn's mu is
// released.
func (l *wsLink) wakeLocked() transport.Waker { return l.waker }

// TakeNow implements transport.WakeableSession: the session's queue for
// the session's websocket, the probe's own packets for a probe; closed
// once the session or the link has ended (or, for a closing session,
// with its last packets).
func (l *wsLink) TakeNow() ([][]byte, bool) {
	c := l.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, true
	case l == c.ws:
		pkts := c.queue
		c.queue = nil
		if l.own != nil { // the probe's answer, not yet taken when the upgrade came
			pkts = append(l.own, pkts...)
			l.own = nil
		}
		if l.b64 {
			pkts = l.textOnly(pkts)
		}
		// What the transport took, as it releases it (Hold).
		c.held += transport.PacketBytes(pkts)
		c.queuedBytes = 0
		return pkts, c.closing
	case l == c.probe:
		pkts := l.own
		l.own = nil
		c.held += transport.PacketBytes(pkts)
		return pkts, false
	}
	return nil, true
}

// Take implements transport.Session. It does not wait: the websocket
// transport takes with TakeNow when the waker runs.
func (l *wsLink) Take(context.Context) ([][]byte, bool) { return l.TakeNow() }

// Hold implements transport.Session: what the transport holds counts
// against MaxQueuedBytes with the queue.
func (l *wsLink) Hold(n int) {
	c := l.c
	c.mu.Lock()
	c.held += n
	over := n > 0 && !c.closed && c.queuedBytes+c.held > c.srv.cfg.MaxQueuedBytes
	c.mu.Unlock()
	if over {
		c.logAt(slog.LevelWarn, "closing slow consumer", "held_bytes", c.QueuedBytes())
		c.closeNow(ReasonSlowConsumer, pktClose)
	}
}

// Receive implements transport.Session: one text frame, one packet.
func (l *wsLink) Receive(payload string) {
	if len(payload) > 0 && payload[0] == '0'+byte(eioparser.Message) {
		// The common case, without a copy: a text message of the
		// session's websocket.
		c := l.c
		c.mu.Lock()
		active := l == c.ws
		c.mu.Unlock()
		if active {
			c.onText(payload[1:])
			return
		}
	}
	var p eioparser.Packet
	var err error
	if l.c.proto == 3 {
		p, err = eioparser.DecodePacketV3([]byte(payload)) // "b4<base64>" too
	} else {
		p, err = eioparser.DecodePacket([]byte(payload))
	}
	l.receive(p, err)
}

// ReceiveBinary implements transport.BinaryReceiver: a binary message
// (v3: the frame's first byte is the packet type).
func (l *wsLink) ReceiveBinary(payload []byte) {
	if l.c.proto == 3 {
		p, err := eioparser.DecodeFrameV3(append([]byte{}, payload...), true)
		l.receive(p, err)
		return
	}
	l.receive(eioparser.Packet{Type: eioparser.Message, Data: append([]byte{}, payload...), Binary: true}, nil)
}

func (l *wsLink) receive(p eioparser.Packet, err error) {
	c := l.c
	c.mu.Lock()
	active, probe := l == c.ws, l == c.probe
	c.mu.Unlock()
	switch {
	case active:
		if err != nil {
			c.onBadPacket(err)
			return
		}
		c.onPacket(p)
	case probe:
		l.probePacket(p, err)
	}
	// A link that has ended ignores what still arrives.
}

// probePacket acts on a packet of an upgrade's probe: the probe ping is
// answered (and a waiting poll ends, so that the client can pause
// polling), the upgrade packet moves the session to the link; anything
// else ends the probe.
func (l *wsLink) probePacket(p eioparser.Packet, err error) {
	c := l.c
	c.mu.Lock()
	if c.probe != l || c.closed {
		c.mu.Unlock()
		return
	}
	switch {
	case err == nil && p.Type == eioparser.Ping && string(p.Data) == "probe":
		l.probed = true
		l.own = append(l.own, pktProbePong)
		c.signalPollLocked()
		w := l.wakeLocked()
		c.mu.Unlock()
		w.Wake()
	case err == nil && p.Type == eioparser.Upgrade && !c.closing:
		c.probe, c.probeBy = nil, 0
		c.ws, c.wsWaker = l, l.waker
		c.onWS = true
		c.signalPollLocked()
		w := l.wakeLocked()
		c.mu.Unlock()
		c.logAt(slog.LevelDebug, "upgraded to websocket")
		w.Wake()
	default:
		c.probe, c.probeBy = nil, 0
		w := l.wakeLocked()
		c.mu.Unlock()
		c.logAt(slog.LevelDebug, "upgrade probe ended: unexpected packet", "packet", p.Type.String())
		w.Wake()
	}
}

// TransportClosed implements transport.ClosingSession: the link's
// connection has ended. The end of the session's websocket ends the
// session; a probe's ends the upgrade.
func (l *wsLink) TransportClosed() {
	c := l.c
	c.mu.Lock()
	switch l {
	case c.probe:
		c.probe, c.probeBy = nil, 0
		c.mu.Unlock()
	case c.ws:
		c.mu.Unlock()
		c.closeNow(ReasonTransportClose, nil)
	default:
		c.mu.Unlock()
	}
}

// serveUpgrade serves a websocket request with the sid of a polling
// session: the probe of an upgrade. A session has at most one upgrade in
// flight; a session already on a websocket, or closing, refuses it (400).
func (c *Conn) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.closed || c.closing || c.ws != nil || c.probe != nil {
		c.mu.Unlock()
		c.srv.abort(w, r, codeBadRequest)
		return
	}
	l := newLink(c, r)
	c.probe = l
	c.probeBy = c.srv.timers.now() + c.srv.cfg.UpgradeTimeout
	c.scheduleLocked()
	c.mu.Unlock()
	if err := transport.ServeWebSocket(w, r, l, c.srv.wsOptions()); err != nil {
		c.mu.Lock()
		if c.probe == l {
			c.probe, c.probeBy = nil, 0
		}
		c.mu.Unlock()
	}
}
