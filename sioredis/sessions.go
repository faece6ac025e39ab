package sioredis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	redigo "github.com/gomodule/redigo/redis"
)

// The session directory: Cluster implements socketio.SessionDirectory,
// so that a node can forward the requests of a session held by another
// node (socketio.Config.Sessions).
//
// P:session:<sid> holds "<addr> <node id>" with a TTL of sessionTTLFactor
// times the node TTL. The node rewrites the entries of its open sessions
// every sessionRefreshTicks liveness ticks (about three times per entry
// TTL), and at once when its liveness key had been lost (Redis restarted
// empty, or the node was swept). Lookup answers an entry only while the
// node named in it is alive, so a dead node's sessions are unknown within
// its TTL; the entries themselves expire later.
//
// Trust: a node proxies a client's request, cookies and all, to the
// address Lookup returns, so an entry must not be able to name just any
// address. Each node writes its own address as the value of its liveness
// key (P:alive:<node>, refreshed every tick), and Lookup answers an
// entry's address only if it is exactly the address the live node named
// in the entry registered. A corrupt or forged entry (written by anything
// but a siogo node) is answered as an unknown session and counted in
// Stats.RefusedLookups.

const (
	sessionTTLFactor    = 10
	sessionRefreshTicks = sessionTTLFactor // a tick is TTL/3: three refreshes per entry TTL
)

func (c *Cluster) sessionKey(sid string) string { return c.prefix + ":session:" + sid }

func (c *Cluster) sessionTTLms() int64 { return sessionTTLFactor * c.ttl.Milliseconds() }

// lookupScript returns {1, address} of the node holding a session, {0}
// if there is no entry or its node is not alive, and {2} if the entry is
// not well-formed or names an address other than the one its node
// registered in its liveness key (see refreshScript): nothing a siogo
// node wrote.
//
// It builds the liveness key's name, of another slot: on a standalone
// Redis only. On Redis Cluster, Lookup reads the entry, then the liveness
// key (lookupSplit): the same answers, two round trips, not atomic (a
// node that dies between the two reads is answered as alive, as it would
// have been a moment earlier).
//
// KEYS: P:session:<sid>. ARGV: P.
var lookupScript = redigo.NewScript(1, `
local v = redis.call('GET', KEYS[1])
if not v then return {0} end
local sp = string.find(v, ' ', 1, true)
if not sp then return {2} end
local addr = string.sub(v, 1, sp - 1)
local registered = redis.call('GET', '{' .. ARGV[1] .. ':node:' .. string.sub(v, sp + 1) .. '}:alive')
if not registered then return {0} end
if registered ~= addr or addr == '' then return {2} end
return {1, addr}
`)

// lookupSplit is lookupScript in two reads, for Redis Cluster.
func (c *Cluster) lookupSplit(ctx context.Context, conn redigo.Conn, sid string) ([]any, error) {
	v, err := redigo.String(doContext(ctx, conn, "GET", c.sessionKey(sid)))
	if errors.Is(err, redigo.ErrNil) {
		return []any{int64(0)}, nil
	}
	if err != nil {
		return nil, err
	}
	addr, node, ok := strings.Cut(v, " ")
	if !ok {
		return []any{int64(2)}, nil
	}
	registered, err := redigo.String(doContext(ctx, conn, "GET", c.aliveKey(node)))
	if errors.Is(err, redigo.ErrNil) {
		return []any{int64(0)}, nil
	}
	if err != nil {
		return nil, err
	}
	if registered != addr || addr == "" {
		return []any{int64(2)}, nil
	}
	return []any{int64(1), []byte(addr)}, nil
}

// nodeAddr returns the address this node registered (the first Register's
// addr), or "" before its first Register.
func (c *Cluster) nodeAddr() string {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.addr
}

// Register implements socketio.SessionDirectory: it records that this
// node, reachable at addr, holds the session sid, and keeps the entry while
// the node lives, until Unregister. The entry is written before Register
// returns; if Redis cannot be reached, Register returns an error wrapping
// ErrUnavailable and the node writes the entry once Redis is back.
//
// The first Register also registers addr as the node's address, the only
// one Lookup forwards to for this node's sessions; a later Register with
// another address is an error (one Cluster serves one Server).
func (c *Cluster) Register(ctx context.Context, sid, addr string) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if addr == "" || strings.ContainsAny(addr, " \r\n") {
		return errors.New("sioredis: Register: bad node address " + strconv.Quote(clip(addr)))
	}
	c.smu.Lock()
	first := c.addr == ""
	if first {
		c.addr = addr
	} else if addr != c.addr {
		c.smu.Unlock()
		return fmt.Errorf("sioredis: Register: node address %q differs from the node's registered address %q", clip(addr), c.addr)
	}
	c.sessions[sid] = addr
	c.smu.Unlock()
	err := c.exec(ctx, false, func(conn redigo.Conn) error {
		if first {
			// XX: a lost liveness key is left for refresh to notice.
			if _, err := doContext(ctx, conn, "SET", c.aliveKey(c.node), addr, "XX", "PX", c.ttl.Milliseconds()); err != nil {
				return err
			}
		}
		_, err := doContext(ctx, conn, "SET", c.sessionKey(sid), addr+" "+c.node, "PX", c.sessionTTLms())
		return err
	})
	if err != nil {
		c.sessionsDue.Store(true)
	}
	return err
}

// Lookup implements socketio.SessionDirectory: the address of the live
// node holding sid, or "" if there is none. The address is always the one
// that node registered (see Register): an entry naming any other address
// is answered "" and counted in Stats.RefusedLookups. If Redis cannot be
// reached it returns an error wrapping ErrUnavailable (ErrClosed after
// Close).
func (c *Cluster) Lookup(ctx context.Context, sid string) (string, error) {
	var addr string
	err := c.exec(ctx, false, func(conn redigo.Conn) error {
		var res []any
		var err error
		if c.topo != nil {
			res, err = c.lookupSplit(ctx, conn, sid)
		} else {
			res, err = redigo.Values(scriptContext(ctx, lookupScript, conn, c.sessionKey(sid), c.prefix))
		}
		if err != nil {
			return err
		}
		var status int
		if _, err := redigo.Scan(res, &status); err != nil {
			return err
		}
		switch status {
		case 1:
			if len(res) == 2 {
				addr, err = redigo.String(res[1], nil)
			}
			return err
		case 2:
			c.stats.refusedLookups.Add(1)
			c.warn.warn("lookup", "sioredis: a session directory entry names an address that is not its node's; not forwarding",
				"sid", clip(sid), "refused_total", c.stats.refusedLookups.Load())
		}
		return nil
	})
	return addr, err
}

// Unregister implements socketio.SessionDirectory: the session closed. The
// entry is removed by the membership writer, so Unregister never waits for
// Redis; if Redis is down the entry expires instead (Lookup then finds it
// until then, and the node it names answers as for an unknown session).
func (c *Cluster) Unregister(sid string) {
	c.smu.Lock()
	_, ok := c.sessions[sid]
	delete(c.sessions, sid)
	c.smu.Unlock()
	if ok {
		c.enqueue([]cmd{{"DEL", []any{c.sessionKey(sid)}}})
	}
}

// sessionCmds returns the commands that write the entries of this node's
// open sessions.
func (c *Cluster) sessionCmds() []cmd {
	ttl := c.sessionTTLms()
	c.smu.Lock()
	defer c.smu.Unlock()
	cmds := make([]cmd, 0, len(c.sessions))
	for sid, addr := range c.sessions {
		cmds = append(cmds, cmd{"SET", []any{c.sessionKey(sid), addr + " " + c.node, "PX", ttl}})
	}
	return cmds
}

// refreshSessions rewrites the entries of this node's open sessions.
func (c *Cluster) refreshSessions(conn redigo.Conn) error {
	cmds := c.sessionCmds()
	for len(cmds) > 0 {
		k := min(len(cmds), 4*writeBatch)
		if err := c.pipeline(conn, cmds[:k]); err != nil {
			return err
		}
		cmds = cmds[k:]
	}
	return nil
}

// deleteSessions removes the entries of this node's open sessions (Close).
func (c *Cluster) deleteSessions(ctx context.Context, conn redigo.Conn) error {
	c.smu.Lock()
	keys := make([]any, 0, len(c.sessions))
	for sid := range c.sessions {
		keys = append(keys, c.sessionKey(sid))
	}
	c.smu.Unlock()
	if c.topo != nil {
		// One slot per key: one DEL each, pipelined.
		cmds := make([]cmd, len(keys))
		for i, k := range keys {
			cmds[i] = cmd{"DEL", []any{k}}
		}
		for len(cmds) > 0 {
			k := min(len(cmds), 4*writeBatch)
			if err := c.pipeline(conn, cmds[:k]); err != nil {
				return err
			}
			cmds = cmds[k:]
		}
		return nil
	}
	for len(keys) > 0 {
		k := min(len(keys), writeBatch)
		if _, err := doContext(ctx, conn, "DEL", keys[:k]...); err != nil {
			return err
		}
		keys = keys[k:]
	}
	return nil
}
