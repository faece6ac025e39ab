package sioredis

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	redigo "github.com/gomodule/redigo/redis"
)

// pubMsg is a message for the publisher and its channel.
type pubMsg struct {
	ch string
	b  []byte
}

// publish queues a room operation or its answer (ops.go) for the
// publisher, on the control channel, or, for an answer in ChannelsSharded
// mode, on the channel of the node that asked (opChannel). It never
// blocks (see publishTo).
func (c *Cluster) publish(msg []byte) { c.publishTo(c.opChannel(msg), msg) }

// opChannel is the channel of an operation message: the requester's node
// channel for an answer in ChannelsSharded mode, else the control channel.
func (c *Cluster) opChannel(msg []byte) string {
	if c.sharded && len(msg) > 3 && msg[0] == opVersion && isReply(msg[1]) {
		r := reader{b: msg[3:]}
		r.uvarint()
		r.string() // the answering node
		if target := r.string(); r.err == nil && target != "" {
			return c.nodeChannel(target)
		}
	}
	return c.controlChannel()
}

// publishTo queues an encoded message for the publisher, to be published
// on channel ch. It never blocks: when the queue is full, or the cluster
// is closed, the message is dropped and counted.
func (c *Cluster) publishTo(ch string, msg []byte) {
	if c.closed.Load() {
		c.stats.dropped.Add(1)
		return
	}
	select {
	case c.pubq <- pubMsg{ch, msg}:
	default:
		c.dropped(1, nil)
	}
}

func (c *Cluster) dropped(n int, err error) {
	c.stats.dropped.Add(uint64(n))
	args := []any{"dropped_total", c.stats.dropped.Load()}
	if err != nil {
		args = append(args, "err", err)
	}
	c.warn.warn("publish", "sioredis: cannot publish; broadcasts reach this node's sockets only", args...)
}

// publishLoop publishes queued broadcasts in queue order on one
// connection, pipelining what has accumulated. While Redis is unreachable
// it drops them (counted) and retries the connection with backoff.
func (c *Cluster) publishLoop() {
	defer c.wg.Done()
	var l link
	defer func() { c.linkFail(&l, nil) }()
	batch := make([]pubMsg, 0, publishMax)
	for {
		select {
		case <-c.ctx.Done():
			c.publishRest(&l, batch[:0])
			return
		case m := <-c.pubq:
			batch = append(batch[:0], m)
		}
		batch = c.drainPublish(batch)
		c.publishBatch(&l, batch)
		clear(batch)
	}
}

func (c *Cluster) drainPublish(batch []pubMsg) []pubMsg {
	for len(batch) < publishMax {
		select {
		case m := <-c.pubq:
			batch = append(batch, m)
		default:
			return batch
		}
	}
	return batch
}

// publishRest publishes what is still queued at Close, on the connection
// already open (no new one is dialed); without one it is dropped.
func (c *Cluster) publishRest(l *link, batch []pubMsg) {
	for {
		batch = c.drainPublish(batch[:0])
		if len(batch) == 0 {
			return
		}
		if l.conn == nil || l.conn.Err() != nil {
			c.stats.dropped.Add(uint64(len(batch)))
			continue
		}
		c.publishBatch(l, batch)
	}
}

func (c *Cluster) publishBatch(l *link, batch []pubMsg) {
	conn, err := c.linkConn(l)
	if err != nil {
		if err == errBackoff {
			err = nil
		}
		c.dropped(len(batch), err)
		return
	}
	sent := 0
	for _, m := range batch {
		if err = conn.Send(c.pubCmd, m.ch, m.b); err != nil {
			break
		}
		sent++
	}
	if err == nil {
		err = conn.Flush()
	}
	ok := 0
	if err == nil {
		for ; ok < sent; ok++ {
			if _, err = conn.Receive(); err != nil {
				break
			}
		}
	}
	c.stats.published.Add(uint64(ok))
	if err != nil {
		c.linkFail(l, err)
		c.dropped(len(batch)-ok, err)
		return
	}
	if l.bo.failing() {
		c.log.Info("sioredis: publishing again")
		c.warn.reset("publish")
	}
	l.bo.reset()
}

// wantChannel records whether this node needs channel ch (a room's or a
// namespace's, ChannelsSharded) and wakes the subscriber, which
// subscribes or unsubscribes in its own time: it never waits for Redis.
// Changes made before the subscriber wakes are handled as one batch.
// It returns the number of the addition (see waitSubscribed), 0 for a
// removal.
func (c *Cluster) wantChannel(ch string, on bool) uint64 {
	var seq uint64
	c.chmu.Lock()
	if on {
		c.want[ch] = struct{}{}
		c.wantSeq++
		seq = c.wantSeq
	} else {
		delete(c.want, ch)
	}
	c.chmu.Unlock()
	select {
	case c.subWake <- struct{}{}:
	default:
	}
	return seq
}

// wanted returns a copy of the channels this node needs and the number
// of the last addition.
func (c *Cluster) wanted() (map[string]struct{}, uint64) {
	c.chmu.Lock()
	defer c.chmu.Unlock()
	out := make(map[string]struct{}, len(c.want))
	for ch := range c.want {
		out[ch] = struct{}{}
	}
	return out, c.wantSeq
}

// subscribedUpTo records that the channels of the additions up to seq
// are subscribed.
func (c *Cluster) subscribedUpTo(seq uint64) {
	c.subMu.Lock()
	if seq > c.subDone {
		c.subDone = seq
		close(c.subDoneCh)
		c.subDoneCh = make(chan struct{})
	}
	c.subMu.Unlock()
}

// waitSubscribed waits until the channels of the additions up to seq are
// subscribed, confirmed by Redis (at most c.subTimeout; not at all while
// the subscriber is down or after Close, nor while an earlier wait ran
// out and the subscriber has confirmed nothing since: a hung Redis). It
// reports false when it gave up on a subscription that is still
// unconfirmed. Join calls it once it has released its adapter's mutex,
// and the writer before writing a join, so that the other nodes see a
// member of a room only once this node receives the room's broadcasts.
// It holds no lock while it waits.
func (c *Cluster) waitSubscribed(seq uint64) bool {
	if seq == 0 {
		return true
	}
	var t *time.Timer
	for c.subUp.Load() {
		c.subMu.Lock()
		done, ch, stall := c.subDone, c.subDoneCh, c.subStall
		c.subMu.Unlock()
		if done >= seq {
			return true
		}
		if stall == done+1 {
			return false // an earlier wait ran out and nothing moved since
		}
		if t == nil {
			t = time.NewTimer(c.subTimeout)
			defer t.Stop()
		}
		select {
		case <-ch:
		case <-t.C:
			c.subMu.Lock()
			if c.subDone < seq {
				c.subStall = c.subDone + 1
			}
			confirmed := c.subDone >= seq
			c.subMu.Unlock()
			return confirmed
		case <-c.ctx.Done():
			return true
		}
	}
	return true
}

// subscribeLoop receives the other nodes' broadcasts and delivers them to
// this node's sockets. It reconnects with backoff and subscribes again
// to every channel the node needs whenever a connection fails;
// broadcasts published meanwhile are lost.
func (c *Cluster) subscribeLoop() {
	defer c.wg.Done()
	var bo backoff
	for c.ctx.Err() == nil {
		err := c.subscribeOnce(&bo)
		if c.ctx.Err() != nil {
			return
		}
		c.warn.warn("subscribe", "sioredis: subscription lost; cross-node broadcasts are not received", "err", err)
		if !c.sleep(bo.fail(time.Now())) {
			return
		}
	}
}

// shard is one subscriber connection: to the Redis (standalone), or to
// one master of a Redis Cluster. Its reader goroutine delivers messages
// and reports (un)subscriptions and the connection's end to the
// subscriber goroutine, which owns have (the channels it subscribed on
// the connection) and waiting. Writes go under wmu: the subscriber's,
// and the fast path of a join (fastSubscribe).
type shard struct {
	addr string
	conn redigo.Conn
	wmu  sync.Mutex
	// heard is when the reader last read a reply (UnixNano).
	heard atomic.Int64
	have  map[string]bool
	// waiting maps the channels subscribed and not yet confirmed to the
	// wantSeq of the sync that sent them (the bookkeeping of subDone).
	waiting map[string]uint64
	// unsub counts the UNSUBSCRIBEs of each channel sent and not yet
	// answered: a subscribe reply read while one is pending answers a
	// SUBSCRIBE sent before it, and confirms nothing.
	unsub map[string]int
	// early holds the channels whose subscribe reply came when none was
	// waiting for it (the answer to a join's fast path, read before the
	// sync that takes the channel on): they are subscribed. Cleared by
	// each sync, and for a channel by its UNSUBSCRIBE.
	early map[string]bool
	stop  chan struct{} // closed to end the reader
	done  chan struct{} // closed when the reader returns
}

// closeShard ends the shard's connection and its reader.
func (c *Cluster) closeShard(sh *shard) {
	close(sh.stop)
	c.hangUp(sh.conn)
	<-sh.done
}

// subEvent is a shard's report: a subscription reply, or err.
type subEvent struct {
	sh      *shard
	kind    string
	channel string
	err     error
}

// fastSubscribe sends the SUBSCRIBE of a channel a join just made this
// node need on the subscriber's connection at once, from the joining
// goroutine, instead of waiting for the subscriber goroutine to be
// scheduled, so that the join's wait for the confirmation (Join,
// waitSubscribed) is about one round trip. It writes a few bytes into the
// connection's socket buffer and never waits for a reply: at most for a
// write of the subscriber in progress (as small), and it is skipped while
// the connection has not heard from Redis for two ticks (a hung Redis,
// whose socket buffer could fill and block the write). The subscriber
// goroutine takes the channel on at its next sync without sending the
// SUBSCRIBE again (the reply to this one confirms it: shard.early), and
// unsubscribes it if it is no longer wanted. It reports whether it wrote
// the SUBSCRIBE; when it did not, the subscriber sends it.
func (c *Cluster) fastSubscribe(ch string) bool {
	view := c.shardView.Load()
	if view == nil {
		return false
	}
	addr := ""
	if c.topo != nil {
		a, err := c.topo.addrOf(ch)
		if err != nil {
			return false
		}
		addr = a
	}
	sh := (*view)[addr]
	if sh == nil || time.Since(time.Unix(0, sh.heard.Load())) > 2*c.tick {
		return false
	}
	sh.wmu.Lock()
	err := sh.conn.Send(c.subCommand(true), ch)
	if err == nil {
		err = sh.conn.Flush()
	}
	sh.wmu.Unlock()
	if err != nil {
		return false
	}
	c.chmu.Lock()
	c.fastSent[ch] = sh
	c.chmu.Unlock()
	return true
}

// subCommand is SUBSCRIBE or UNSUBSCRIBE, sharded (SSUBSCRIBE...) on
// Redis Cluster.
func (c *Cluster) subCommand(on bool) string {
	name := "UNSUBSCRIBE"
	if on {
		name = "SUBSCRIBE"
	}
	if c.topo != nil {
		name = "S" + name
	}
	return name
}

// subscribeOnce runs the subscriber's connections until one fails: it
// subscribes to every channel the node needs (on Redis Cluster, each on
// the master of its slot, with SSUBSCRIBE, one connection per master),
// then follows wantChannel's changes, and pings every TTL/3: a
// connection that hears nothing for TTL + TTL/3 failed.
func (c *Cluster) subscribeOnce(bo *backoff) (err error) {
	shards := make(map[string]*shard)
	events := make(chan subEvent, 64)
	publishView := func() {
		v := make(map[string]*shard, len(shards))
		for a, sh := range shards {
			v[a] = sh
		}
		c.shardView.Store(&v)
	}
	defer func() {
		c.subUp.Store(false)
		c.shardView.Store(nil)
		for _, sh := range shards {
			c.closeShard(sh)
		}
	}()
	synced := uint64(0) // the wantSeq of the last sync
	// progress advances subDone to the last sync all of whose
	// subscriptions are confirmed.
	progress := func() {
		done := synced
		for _, sh := range shards {
			for _, seq := range sh.waiting {
				done = min(done, seq-1)
			}
		}
		c.subscribedUpTo(done)
	}
	readTimeout := c.ttl + c.tick
	open := func(addr string) (*shard, error) {
		var conn redigo.Conn
		var err error
		if c.topo != nil {
			conn, err = c.dialAddr(c.ctx, addr)
		} else {
			conn, err = c.dialFn(c.ctx)
		}
		if err != nil {
			return nil, err
		}
		c.connMu.Lock()
		if c.ctx.Err() != nil {
			c.connMu.Unlock()
			_ = conn.Close()
			return nil, ErrClosed
		}
		c.conns[conn] = true
		c.connMu.Unlock()
		sh := &shard{addr: addr, conn: conn, have: make(map[string]bool), waiting: make(map[string]uint64),
			unsub: make(map[string]int), early: make(map[string]bool), stop: make(chan struct{}), done: make(chan struct{})}
		sh.heard.Store(time.Now().UnixNano())
		go c.readShard(sh, readTimeout, events)
		shards[addr] = sh
		return sh, nil
	}
	sync := func() error {
		want, seq := c.wanted()
		c.chmu.Lock()
		fast := c.fastSent
		c.fastSent = make(map[string]*shard)
		c.chmu.Unlock()
		route := make(map[string][]string)           // address -> channels
		addrOf := make(map[string]string, len(want)) // channel -> address
		if c.topo != nil {
			// A connection to every master, so that a join's fast path
			// finds one wherever its channel lives.
			for _, a := range c.topo.masters() {
				route[a] = nil
			}
		}
		for ch := range want {
			addr := ""
			if c.topo != nil {
				a, err := c.topo.addrOf(ch)
				if err != nil {
					return err
				}
				addr = a
			}
			route[addr] = append(route[addr], ch)
			addrOf[ch] = addr
		}
		for addr, sh := range shards {
			var drop []string
			for ch := range sh.have {
				if a, ok := addrOf[ch]; !ok || a != addr {
					drop = append(drop, ch)
				}
			}
			for _, ch := range drop {
				delete(sh.have, ch)
				delete(sh.waiting, ch)
			}
			for ch, fsh := range fast {
				if a, ok := addrOf[ch]; fsh == sh && !sh.have[ch] && (!ok || a != addr) {
					drop = append(drop, ch) // subscribed by a join's fast path, left since
				}
			}
			if err := c.sendSub(sh, false, drop); err != nil {
				return err
			}
		}
		for addr, chans := range route {
			sh := shards[addr]
			if sh == nil {
				var err error
				if sh, err = open(addr); err != nil {
					return err
				}
			}
			var add []string
			for _, ch := range chans {
				if sh.have[ch] {
					continue
				}
				sh.have[ch] = true
				if fast[ch] == sh {
					// A join's fast path sent its SUBSCRIBE on this
					// connection: its reply confirms it (or did: early).
					if !sh.early[ch] {
						sh.waiting[ch] = seq
					}
					continue
				}
				sh.waiting[ch] = seq
				add = append(add, ch)
			}
			if err := c.sendSub(sh, true, add); err != nil {
				return err
			}
		}
		for addr, sh := range shards {
			if _, ok := route[addr]; !ok && len(sh.have) == 0 {
				delete(shards, addr)
				c.closeShard(sh)
			}
		}
		for _, sh := range shards {
			clear(sh.early)
		}
		synced = seq
		publishView()
		progress()
		return nil
	}
	if err := sync(); err != nil {
		return err
	}
	t := time.NewTicker(c.tick)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return nil
		case <-c.subWake:
			if err := sync(); err != nil {
				return err
			}
		case <-t.C:
			for _, sh := range shards {
				sh.wmu.Lock()
				// A connection failed by another's READONLY reply (roConn:
				// a failover demoted the server) is made again too.
				err := sh.conn.Err()
				if err == nil {
					err = sh.conn.Send("PING")
				}
				if err == nil {
					err = sh.conn.Flush()
				}
				sh.wmu.Unlock()
				if err != nil {
					return err
				}
			}
		case ev := <-events:
			if shards[ev.sh.addr] != ev.sh {
				continue // of a connection closed since
			}
			if ev.err != nil {
				if c.topo != nil && topologyError(ev.err) != nil {
					_ = c.topo.refresh()
				}
				return ev.err
			}
			switch ev.kind {
			case "subscribe", "ssubscribe":
				if ev.sh.unsub[ev.channel] == 0 {
					if _, ok := ev.sh.waiting[ev.channel]; ok {
						delete(ev.sh.waiting, ev.channel)
						progress()
					} else {
						ev.sh.early[ev.channel] = true
					}
				}
				if ev.channel == c.controlChannel() {
					c.subUp.Store(true)
					c.stats.subscriptions.Add(1)
					c.subOnce.Do(func() { close(c.subscribed) })
					if bo.failing() {
						c.log.Info("sioredis: subscribed again")
						c.warn.reset("subscribe")
						c.pokeKeeper()
					}
					bo.reset()
				}
			case "unsubscribe", "sunsubscribe":
				if n := ev.sh.unsub[ev.channel]; n > 0 {
					// The answer to one of ours.
					if n == 1 {
						delete(ev.sh.unsub, ev.channel)
					} else {
						ev.sh.unsub[ev.channel] = n - 1
					}
					continue
				}
				if ev.kind == "sunsubscribe" && ev.sh.have[ev.channel] {
					// Not ours: Redis Cluster moved the channel's slot to
					// another master. Follow it.
					delete(ev.sh.have, ev.channel)
					delete(ev.sh.waiting, ev.channel)
					if c.topo != nil {
						_ = c.topo.refresh()
					}
					if err := sync(); err != nil {
						return err
					}
				}
			}
		}
	}
}

// subBatch bounds the channels of one SUBSCRIBE or UNSUBSCRIBE.
const subBatch = 256

// sendSub subscribes sh to chans (or unsubscribes it): on Redis Cluster
// one SSUBSCRIBE (SUNSUBSCRIBE) per channel, since one command's channels
// must share a slot; on a standalone Redis SUBSCRIBE with up to subBatch
// channels each.
func (c *Cluster) sendSub(sh *shard, on bool, chans []string) error {
	if len(chans) == 0 {
		return nil
	}
	name := c.subCommand(on)
	if !on {
		for _, ch := range chans {
			sh.unsub[ch]++
			delete(sh.early, ch)
		}
	}
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	if c.topo != nil {
		for _, ch := range chans {
			if err := sh.conn.Send(name, ch); err != nil {
				return err
			}
		}
	} else {
		for len(chans) > 0 {
			k := min(len(chans), subBatch)
			args := make([]any, k)
			for i, ch := range chans[:k] {
				args[i] = ch
			}
			if err := sh.conn.Send(name, args...); err != nil {
				return err
			}
			chans = chans[k:]
		}
	}
	return sh.conn.Flush()
}

// readShard reads sh's connection: it delivers messages and reports the
// rest to the subscriber goroutine until the connection fails.
func (c *Cluster) readShard(sh *shard, timeout time.Duration, events chan<- subEvent) {
	defer close(sh.done)
	report := func(ev subEvent) bool {
		select {
		case events <- ev:
			return true
		case <-sh.stop:
			return false
		}
	}
	for {
		reply, err := redigo.ReceiveWithTimeout(sh.conn, timeout)
		if s, ok := reply.(string); ok && s == "PONG" && err == nil {
			// A connection with no subscription (a master that holds
			// none of this node's channels) answers PING plainly.
			sh.heard.Store(time.Now().UnixNano())
			continue
		}
		v, err := redigo.Values(reply, err)
		if err != nil {
			report(subEvent{sh: sh, err: err})
			return
		}
		sh.heard.Store(time.Now().UnixNano())
		if len(v) < 2 {
			report(subEvent{sh: sh, err: errors.New("sioredis: unexpected pub/sub reply")})
			return
		}
		kind, _ := redigo.String(v[0], nil)
		switch kind {
		case "message", "smessage":
			ch, _ := redigo.String(v[1], nil)
			var data []byte
			if len(v) > 2 {
				data, _ = v[2].([]byte)
			}
			c.deliver(ch, data)
		case "pong":
		case "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe":
			ch, _ := redigo.String(v[1], nil)
			if !report(subEvent{sh: sh, kind: kind, channel: ch}) {
				return
			}
		}
	}
}

// deliver hands a broadcast of another node, received on channel ch, to
// this node's sockets.
func (c *Cluster) deliver(ch string, data []byte) {
	if isOp(data) {
		c.handleOp(data) // a room operation or its answer (ops.go)
		return
	}
	m, err := decodeMessage(data)
	if err != nil {
		c.stats.malformed.Add(1)
		c.warn.warn("malformed", "sioredis: dropping a malformed message", "bytes", len(data), "err", err)
		return
	}
	if m.node == c.node {
		return // delivered locally before it was published
	}
	if c.sharded && ch == c.controlChannel() {
		// From a node (or an emitter) of ChannelsSingle mode, or of a
		// version before sharding: deliver it, and say that the modes
		// differ (this node's broadcasts do not reach that node).
		c.warn.warn("channels", "sioredis: a broadcast arrived on the single channel: every node of a cluster must use the same Config.Channels",
			"from", clip(m.node))
	}
	adapters := c.adaptersOf(m.msg.Namespace)
	if len(adapters) == 0 {
		c.stats.received.Add(1)
		return // no such namespace here: nobody to deliver to
	}
	if err := checkMessage(m.msg); err != nil {
		c.stats.malformed.Add(1)
		c.warn.warn("malformed", "sioredis: dropping a cluster message that no node would broadcast",
			"from", clip(m.node), "namespace", clip(m.msg.Namespace), "err", err)
		return
	}
	c.stats.received.Add(1)
	for _, a := range adapters {
		a.deliver(m)
	}
}
