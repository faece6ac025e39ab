package redis

import (
	"context"
	"errors"
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

const (
	sessionTTLFactor    = 10
	sessionRefreshTicks = sessionTTLFactor // a tick is TTL/3: three refreshes per entry TTL
)

func (c *Cluster) sessionKey(sid string) string { return c.prefix + ":session:" + sid }

func (c *Cluster) sessionTTLms() int64 { return sessionTTLFactor * c.ttl.Milliseconds() }

// lookupScript returns the address of the node holding a session, or nil
// if there is no entry or its node is not alive.
//
// KEYS: P:session:<sid>. ARGV: P.
var lookupScript = redigo.NewScript(1, `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local sp = string.find(v, ' ', 1, true)
if not sp then return false end
if redis.call('EXISTS', ARGV[1] .. ':alive:' .. string.sub(v, sp + 1)) == 0 then return false end
return string.sub(v, 1, sp - 1)
`)

// Register implements socketio.SessionDirectory: it records that this
// node, reachable at addr, holds the session sid, and keeps the entry while
// the node lives, until Unregister. The entry is written before Register
// returns; if Redis cannot be reached, Register returns an error wrapping
// ErrUnavailable and the node writes the entry once Redis is back.
func (c *Cluster) Register(ctx context.Context, sid, addr string) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if addr == "" || strings.ContainsAny(addr, " \r\n") {
		return errors.New("redis: Register: bad node address " + addr)
	}
	c.smu.Lock()
	c.sessions[sid] = addr
	c.smu.Unlock()
	err := c.exec(ctx, false, func(conn redigo.Conn) error {
		_, err := doContext(ctx, conn, "SET", c.sessionKey(sid), addr+" "+c.node, "PX", c.sessionTTLms())
		return err
	})
	if err != nil {
		c.sessionsDue.Store(true)
	}
	return err
}

// Lookup implements socketio.SessionDirectory: the address of the live
// node holding sid, or "" if there is none. If Redis cannot be reached it
// returns an error wrapping ErrUnavailable (ErrClosed after Close).
func (c *Cluster) Lookup(ctx context.Context, sid string) (string, error) {
	var addr string
	err := c.exec(ctx, false, func(conn redigo.Conn) error {
		v, err := redigo.String(scriptContext(ctx, lookupScript, conn, c.sessionKey(sid), c.prefix))
		if errors.Is(err, redigo.ErrNil) {
			return nil
		}
		addr = v
		return err
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
	for len(keys) > 0 {
		k := min(len(keys), writeBatch)
		if _, err := doContext(ctx, conn, "DEL", keys[:k]...); err != nil {
			return err
		}
		keys = keys[k:]
	}
	return nil
}
