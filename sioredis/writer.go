package sioredis

import (
	"context"
	"errors"
	"slices"
	"time"

	redigo "github.com/gomodule/redigo/redis"
)

// cmd is one Redis command of a membership operation.
type cmd struct {
	name string
	args []any
}

// op is one membership change (a Join, Leave or LeaveAll) as the Redis
// commands that record it, numbered in queue order.
type op struct {
	seq  uint64
	cmds []cmd
	// sub, if not 0, is the wantSeq of the channels the change made this
	// node need (a join): the writer writes it once they are subscribed.
	sub uint64
}

var errBackoff = errors.New("sioredis: waiting before reconnecting")

// enqueue queues a membership change for the writer. It never blocks: if
// the queue is full the change is dropped and the node is marked dirty,
// so the writer rewrites the whole membership later. Adapters call it
// while holding their mutex, so the queue follows the order of the local
// changes.
func (c *Cluster) enqueue(cmds []cmd) { c.enqueueSub(cmds, 0) }

// enqueueSub is enqueue for a change whose write waits for the
// subscriptions numbered up to sub (see op.sub).
func (c *Cluster) enqueueSub(cmds []cmd, sub uint64) {
	if c.closed.Load() {
		return
	}
	c.wmu.Lock()
	select {
	case c.ops <- op{seq: c.enq + 1, cmds: cmds, sub: sub}:
		c.enq++
	default:
		c.dirty.Store(true)
		c.stats.overflows.Add(1)
		c.warn.warn("opqueue", "sioredis: membership queue full; the node's rooms will be rewritten",
			"overflows_total", c.stats.overflows.Load())
	}
	c.wmu.Unlock()
}

// markDone records that the ops up to seq were written or dropped.
func (c *Cluster) markDone(seq uint64) {
	c.wmu.Lock()
	if seq > c.done {
		c.done = seq
		close(c.doneCh)
		c.doneCh = make(chan struct{})
	}
	c.wmu.Unlock()
}

// barrier waits until the writer has handled every membership change
// queued before the call, so that a node reads its own writes, or until
// ctx ends.
func (c *Cluster) barrier(ctx context.Context) {
	if c.dirty.Load() {
		return // Redis lacks some of this node's writes anyway
	}
	c.wmu.Lock()
	target := c.enq
	c.wmu.Unlock()
	for {
		c.wmu.Lock()
		if c.done >= target {
			c.wmu.Unlock()
			return
		}
		ch := c.doneCh
		c.wmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// kickWriter wakes the writer so it resyncs without waiting for an op.
// An empty op is enough.
func (c *Cluster) kickWriter() { c.enqueue(nil) }

// link is a long-lived connection with its reconnection backoff. Close
// closes its connection at once if closeNow, else after closeGrace.
type link struct {
	conn     redigo.Conn
	bo       backoff
	closeNow bool
	used     time.Time // when linkConn last handed out conn
}

// linkIdleCheck is how long a link's connection may sit unused before
// linkConn checks it with a PING. A connection to a Redis that restarted
// meanwhile looks fine until a command fails on it: without the check the
// first broadcast (or write) after a quiet restart would be lost on it.
const linkIdleCheck = time.Second

// linkConn returns the link's connection, dialing if needed and allowed.
// A connection idle for linkIdleCheck is checked first and replaced if
// the check fails.
func (c *Cluster) linkConn(l *link) (redigo.Conn, error) {
	if l.conn != nil && l.conn.Err() == nil {
		if time.Since(l.used) < linkIdleCheck {
			l.used = time.Now()
			return l.conn, nil
		}
		if _, err := l.conn.Do("PING"); err == nil {
			l.used = time.Now()
			return l.conn, nil
		}
		// Stale (Redis restarted, or the connection was cut): dial
		// again at once, without backing off, as for a first failure.
	}
	c.linkFail(l, nil)
	if !l.bo.ready(time.Now()) {
		return nil, errBackoff
	}
	conn, err := c.dial(l.closeNow)
	if err != nil {
		l.bo.fail(time.Now())
		return nil, err
	}
	l.conn, l.used = conn, time.Now()
	return conn, nil
}

// linkFail drops the link's connection; with err, it also backs off.
func (c *Cluster) linkFail(l *link, err error) {
	if l.conn != nil {
		c.hangUp(l.conn)
		l.conn = nil
	}
	if err != nil {
		l.bo.fail(time.Now())
	}
}

// writeLoop writes membership changes to Redis in queue order, pipelined.
// While Redis is unreachable, changes are dropped and the node is marked
// dirty; once Redis answers again the writer first rewrites all of this
// node's membership (resync), then goes on with the queue.
func (c *Cluster) writeLoop() {
	defer c.wg.Done()
	l := link{closeNow: true}
	defer func() { c.linkFail(&l, nil) }()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	batch := make([]op, 0, writeBatch)
	for {
		var retryC <-chan time.Time
		if c.dirty.Load() {
			c.resyncIfDue(&l)
			if c.dirty.Load() {
				retry.Reset(max(time.Until(l.bo.next), time.Until(c.lastResync.Add(c.resyncGap)), minBackoff))
				retryC = retry.C
			}
		}
		select {
		case <-c.ctx.Done():
			return
		case <-retryC:
			continue
		case o := <-c.ops:
			batch = append(batch[:0], o)
		}
		retry.Stop()
	drain:
		for len(batch) < writeBatch {
			select {
			case o := <-c.ops:
				batch = append(batch, o)
			default:
				break drain
			}
		}
		if c.dirty.Load() {
			c.resyncIfDue(&l)
		}
		// While dirty, the changes are dropped: the next resync writes the
		// state they led to.
		if !c.dirty.Load() {
			if err := c.write(&l, batch); err != nil {
				c.dirty.Store(true)
				c.warn.warn("write", "sioredis: cannot write room membership; will rewrite it when Redis is back", "err", err)
			}
		}
		c.markDone(batch[len(batch)-1].seq)
	}
}

// write pipelines the commands of ops on the writer's connection, but
// those of ops queued before the last resync, which the resync wrote.
func (c *Cluster) write(l *link, ops []op) error {
	var cmds []cmd
	var sub uint64
	for _, o := range ops {
		if o.seq > c.floor {
			cmds = append(cmds, o.cmds...)
			sub = max(sub, o.sub)
		}
	}
	if len(cmds) == 0 {
		return nil
	}
	c.waitSubscribed(sub)
	conn, err := c.linkConn(l)
	if err != nil {
		return err
	}
	if err := c.pipeline(conn, cmds); err != nil {
		c.linkFail(l, err)
		return err
	}
	l.bo.reset()
	return nil
}

// pipeline sends cmds and reads their replies. A command that Redis
// refuses (a key of the wrong type, say) is logged, not fatal.
func (c *Cluster) pipeline(conn redigo.Conn, cmds []cmd) error {
	for _, m := range cmds {
		if err := conn.Send(m.name, m.args...); err != nil {
			return err
		}
	}
	if err := conn.Flush(); err != nil {
		return err
	}
	for range cmds {
		if _, err := conn.Receive(); err != nil {
			var rerr redigo.Error
			if errors.As(err, &rerr) {
				c.warn.warn("refused", "sioredis: command refused", "err", err)
				continue
			}
			return err
		}
	}
	return nil
}

// resyncIfDue resyncs unless the last resync completed less than
// Config.ResyncInterval ago: however often the membership queue overflows,
// the node rewrites its whole membership at most once per interval.
func (c *Cluster) resyncIfDue(l *link) {
	if time.Since(c.lastResync) >= c.resyncGap {
		c.resync(l)
	}
}

// resync replaces what Redis holds for this node with the node's current
// local membership. It clears dirty before reading the local state, so a
// change dropped meanwhile makes it run again.
func (c *Cluster) resync(l *link) {
	conn, err := c.linkConn(l)
	if err != nil {
		return
	}
	// Clearing dirty and taking the floor together, under wmu, splits the
	// ops in two: those queued before, whose effects the snapshot below
	// includes and which must not be applied after it (an op dropped
	// among them would be missing from the sequence), and those queued
	// after, applied in order on top of the snapshot.
	c.wmu.Lock()
	c.dirty.Store(false)
	c.floor = c.enq
	c.wmu.Unlock()
	fail := func(err error) {
		c.dirty.Store(true)
		c.linkFail(l, err)
		c.warn.warn("write", "sioredis: cannot rewrite room membership", "err", err)
	}
	// First every local socket's exact membership, then the removal of
	// the sockets Redis holds for this node that are gone: the other nodes
	// never see fewer of this node's members than it has, nor a socket of
	// it out of a room it is in.
	for _, s := range []*redigo.Script{setSocketScript, dropSocketsScript} {
		if err := s.Load(conn); err != nil {
			fail(err)
			return
		}
	}
	local := make(map[string]map[string]bool) // nsPart -> sids
	sockets := 0
	for _, a := range c.allAdapters() {
		cmds, sids := a.snapshot()
		part := nsPart(a.name)
		if local[part] == nil {
			local[part] = make(map[string]bool, len(sids))
		}
		for _, sid := range sids {
			local[part][sid] = true
		}
		sockets += len(sids)
		for len(cmds) > 0 {
			k := min(len(cmds), writeBatch)
			if err := c.pipeline(conn, cmds[:k]); err != nil {
				fail(err)
				return
			}
			cmds = cmds[k:]
		}
	}
	parts, err := redigo.Strings(conn.Do("SMEMBERS", c.spacesKey(c.node)))
	if err != nil {
		fail(err)
		return
	}
	for _, part := range parts {
		tag := c.tagOfPart(part)
		written, err := redigo.Strings(conn.Do("SMEMBERS", nodeNSTagKey(tag, c.node)))
		if err != nil {
			fail(err)
			return
		}
		gone := slices.DeleteFunc(written, func(sid string) bool { return local[part][sid] })
		for len(gone) > 0 {
			k := min(len(gone), sweepBatch)
			args := make([]any, 0, 2+k)
			args = append(args, nodeNSTagKey(tag, c.node), tag)
			for _, sid := range gone[:k] {
				args = append(args, sid)
			}
			if _, err := dropSocketsScript.Do(conn, args...); err != nil {
				fail(err)
				return
			}
			gone = gone[k:]
		}
	}
	// The interval runs from a completed rewrite: a failed one is retried
	// after the link's backoff (a stale connection, at once on a new one).
	c.lastResync = time.Now()
	l.bo.reset()
	c.warn.reset("write")
	c.stats.resyncs.Add(1)
	c.log.Info("sioredis: rewrote this node's room membership", "sockets", sockets)
}

// linkFailed handles an error of a command on the link: a refused command
// (a Redis error reply) leaves the connection usable; anything else drops
// it and backs off.
func (c *Cluster) linkFailed(l *link, err error) {
	var refused redigo.Error
	if errors.As(err, &refused) {
		return
	}
	c.linkFail(l, err)
}
