package client

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siogo/siogo/internal/eioparser"
)

// upgradeWanted reports whether a v5 polling session moves to websocket
// when the server offers it: websocket comes after polling in
// Options.Transports, as in socket.io-client's ["polling", "websocket"].
func (c *Client) upgradeWanted() bool {
	p, w := slices.Index(c.opts.Transports, Polling), slices.Index(c.opts.Transports, WebSocket)
	return p >= 0 && w > p
}

var (
	frameProbe   = []byte("2probe")
	frameUpgrade = []byte("5")
)

// upgrade5Conn is a v5 polling connection that moves to websocket, the
// Engine.IO upgrade: once the session is open a websocket joins it and
// sends the probe ("2probe"); when the server answers ("3probe") the
// polling pauses (the reader lets the pending GET end, which the server
// ends with a noop, and starts no other; the switch waits for a POST in
// flight) and the client sends the upgrade packet ("5") over websocket,
// which carries everything from then on. A probe that fails leaves the
// session on polling, and so does one that ends before the switch (the
// server gives a probe its upgrade timeout, 10 s in engine.io, then
// closes it: an upgrade packet sent then would be lost, and the session
// with it) or one the switch comes too late for (Options.UpgradeTimeout
// after the probe started: the server may be closing it).
type upgrade5Conn struct {
	*poll5Conn
	probed   chan struct{} // closed by probe when "3probe" arrived
	ended    chan struct{} // closed (endOnce) when the probe's websocket has ended or failed
	endOnce  sync.Once
	wsIn     chan wsRead // what the websocket delivered after "3probe", from its reader (probe)
	began    time.Time   // when the probe started (set by probe before probed is closed)
	gaveUp   bool        // the reader's: the probe was abandoned, the session stays on polling
	upgraded atomic.Bool // reads and writes go over ws

	wmu sync.Mutex // held by write; the switch takes it to pause the POSTs

	mu     sync.Mutex // guards ws (set by probe, cleared by a probe that fails or is given up) and closed
	ws     *ws5Conn
	closed bool
}

// wsRead is one read of the upgrade's websocket.
type wsRead struct {
	pkts []eioparser.Packet
	err  error
}

func newUpgrade5Conn(c *Client) *upgrade5Conn {
	return &upgrade5Conn{poll5Conn: newPoll5Conn(c), probed: make(chan struct{}), ended: make(chan struct{}),
		wsIn: make(chan wsRead, 1)}
}

// endProbe records that the probe's websocket has ended.
func (u *upgrade5Conn) endProbe() { u.endOnce.Do(func() { close(u.ended) }) }

// probeEnded reports whether endProbe was called.
func (u *upgrade5Conn) probeEnded() bool {
	select {
	case <-u.ended:
		return true
	default:
		return false
	}
}

// probe runs on its own goroutine of the session; once the probe is
// answered it is the websocket's reader, until the session ends.
func (u *upgrade5Conn) probe(s *session) {
	u.began = time.Now()
	ws, err := dialWebSocket5(u.ctx, u.c, u.sid)
	if err != nil {
		u.endProbe()
		return
	}
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		ws.close()
		u.endProbe()
		return
	}
	u.ws = ws
	u.mu.Unlock()
	fail := func() {
		u.mu.Lock()
		u.ws = nil
		u.mu.Unlock()
		ws.close()
		u.endProbe()
	}
	if ws.write([][]byte{frameProbe}) != nil {
		fail()
		return
	}
	_ = ws.ws.SetReadDeadline(u.began.Add(min(u.c.opts.ConnectTimeout, u.c.opts.UpgradeTimeout)))
	pkts, err := ws.read5()
	if err != nil || len(pkts) != 1 || pkts[0].Type != eioparser.Pong || string(pkts[0].Data) != "probe" {
		fail()
		return
	}
	_ = ws.ws.SetReadDeadline(time.Time{})
	// A close from the server is recorded before it is answered, so that
	// the answer tells the server the switch will not happen.
	answer := ws.ws.CloseHandler()
	ws.ws.SetCloseHandler(func(code int, text string) error {
		u.endProbe()
		return answer(code, text)
	})
	close(u.probed)
	for {
		pkts, err := ws.read5()
		if err != nil {
			u.endProbe()
		}
		select {
		case u.wsIn <- wsRead{pkts, err}:
		case <-u.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

func (u *upgrade5Conn) read5() ([]eioparser.Packet, error) {
	if u.upgraded.Load() {
		select {
		case r := <-u.wsIn:
			return r.pkts, r.err
		case <-u.ctx.Done():
			return nil, u.ctx.Err()
		}
	}
	pkts, err := u.poll5Conn.read5()
	if err != nil {
		return nil, err
	}
	if u.gaveUp {
		return pkts, nil
	}
	select {
	case <-u.probed:
		// No GET is pending now and none will be, unless the probe has
		// ended or it is too late to switch (the POST in flight may
		// have taken a while): then the session stays on polling.
		u.wmu.Lock()
		if u.probeEnded() || time.Since(u.began) > u.c.opts.UpgradeTimeout {
			u.wmu.Unlock()
			u.giveUp()
			return pkts, nil
		}
		err = u.ws.write([][]byte{frameUpgrade})
		if err == nil {
			u.upgraded.Store(true)
		}
		u.wmu.Unlock()
		if err != nil {
			return nil, err
		}
	default:
	}
	return pkts, nil
}

// giveUp abandons the probe (on the reader goroutine): the session
// stays on polling.
func (u *upgrade5Conn) giveUp() {
	u.gaveUp = true
	u.mu.Lock()
	ws := u.ws
	u.ws = nil
	u.mu.Unlock()
	if ws != nil {
		ws.close()
	}
}

func (u *upgrade5Conn) write(frames [][]byte) error {
	u.wmu.Lock()
	defer u.wmu.Unlock()
	if u.upgraded.Load() {
		return u.ws.write(frames)
	}
	return u.poll5Conn.write(frames)
}

func (u *upgrade5Conn) close() {
	u.mu.Lock()
	u.closed = true
	ws := u.ws
	u.mu.Unlock()
	if ws != nil {
		ws.close()
	}
	u.poll5Conn.close()
}

// name is the transport in use.
func (u *upgrade5Conn) name() string {
	if u.upgraded.Load() {
		return WebSocket
	}
	return Polling
}
