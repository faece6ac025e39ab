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
// session on polling.
type upgrade5Conn struct {
	*poll5Conn
	probed   chan struct{} // closed by probe when "3probe" arrived
	upgraded atomic.Bool   // reads and writes go over ws

	wmu sync.Mutex // held by write; the switch takes it to pause the POSTs

	mu     sync.Mutex // guards ws (until probed) and closed
	ws     *ws5Conn
	closed bool
}

// probe runs on its own goroutine of the session.
func (u *upgrade5Conn) probe(s *session) {
	ws, err := dialWebSocket5(u.ctx, u.c, u.sid)
	if err != nil {
		return
	}
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		ws.close()
		return
	}
	u.ws = ws
	u.mu.Unlock()
	fail := func() {
		u.mu.Lock()
		u.ws = nil
		u.mu.Unlock()
		ws.close()
	}
	if ws.write([][]byte{frameProbe}) != nil {
		fail()
		return
	}
	_ = ws.ws.SetReadDeadline(time.Now().Add(u.c.opts.ConnectTimeout))
	pkts, err := ws.read5()
	if err != nil || len(pkts) != 1 || pkts[0].Type != eioparser.Pong || string(pkts[0].Data) != "probe" {
		fail()
		return
	}
	_ = ws.ws.SetReadDeadline(time.Time{})
	close(u.probed)
}

func (u *upgrade5Conn) read5() ([]eioparser.Packet, error) {
	if u.upgraded.Load() {
		return u.ws.read5()
	}
	pkts, err := u.poll5Conn.read5()
	if err != nil {
		return nil, err
	}
	select {
	case <-u.probed:
		// No GET is pending now and none will be.
		u.wmu.Lock()
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
