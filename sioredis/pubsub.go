package sioredis

import (
	"time"

	redigo "github.com/gomodule/redigo/redis"
)

// publish queues an encoded broadcast for the publisher. It never blocks:
// when the queue is full, or the cluster is closed, the broadcast is
// dropped and counted.
func (c *Cluster) publish(msg []byte) {
	if c.closed.Load() {
		c.stats.dropped.Add(1)
		return
	}
	select {
	case c.pubq <- msg:
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
	batch := make([][]byte, 0, publishMax)
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

func (c *Cluster) drainPublish(batch [][]byte) [][]byte {
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
func (c *Cluster) publishRest(l *link, batch [][]byte) {
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

func (c *Cluster) publishBatch(l *link, batch [][]byte) {
	conn, err := c.linkConn(l)
	if err != nil {
		if err == errBackoff {
			err = nil
		}
		c.dropped(len(batch), err)
		return
	}
	ch := c.channel()
	sent := 0
	for _, m := range batch {
		if err = conn.Send("PUBLISH", ch, m); err != nil {
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

// subscribeLoop receives the other nodes' broadcasts and delivers them to
// this node's sockets. It reconnects with backoff and subscribes again
// whenever the connection fails; broadcasts published meanwhile are lost.
// A pinger per connection keeps it honest: no reply within readTimeout
// counts as a failure.
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

func (c *Cluster) subscribeOnce(bo *backoff) error {
	conn, err := c.dial(true)
	if err != nil {
		return err
	}
	defer c.hangUp(conn)
	psc := redigo.PubSubConn{Conn: conn}
	if err := psc.Subscribe(c.channel()); err != nil {
		return err
	}
	stop := make(chan struct{})
	pinged := make(chan struct{})
	go func() {
		defer close(pinged)
		t := time.NewTicker(c.tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if psc.Ping("") != nil {
					return
				}
			}
		}
	}()
	defer func() {
		close(stop)
		<-pinged
	}()
	readTimeout := c.ttl + c.tick
	for {
		switch v := psc.ReceiveWithTimeout(readTimeout).(type) {
		case redigo.Message:
			c.deliver(v.Data)
		case redigo.Subscription:
			if v.Kind == "subscribe" {
				c.stats.subscriptions.Add(1)
				c.subOnce.Do(func() { close(c.subscribed) })
				if bo.failing() {
					c.log.Info("sioredis: subscribed again")
					c.warn.reset("subscribe")
					c.pokeKeeper()
				}
				bo.reset()
			}
		case redigo.Pong:
		case error:
			return v
		}
	}
}

// deliver hands a broadcast of another node to this node's sockets.
func (c *Cluster) deliver(data []byte) {
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
