package sioredis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	redigo "github.com/gomodule/redigo/redis"
)

// Redis Sentinel (Config.SentinelAddrs): every connection of the node
// asks a Sentinel where the master is, dials it and checks that it is
// one (ROLE). A READONLY reply on any connection (the master was demoted
// by a failover) fails it, and every connection opened before, so that
// they are all made again to the master the Sentinels name then.

// errReadOnly is the error of a command that Redis refused with READONLY:
// the server is a replica now (a failover demoted the master). It is no
// redigo.Error, so that the node treats it as a connection failure.
var errReadOnly = errors.New("sioredis: Redis is a read-only replica now (failover?); reconnecting")

// demotion marks the connections of one dialer as failed once one of
// them got a READONLY reply: gen counts those replies (and the master
// switches, with Sentinels); a connection opened before the last one
// failed.
type demotion struct{ gen atomic.Uint64 }

// wrap returns conn, whose READONLY replies fail it and its generation.
func (d *demotion) wrap(conn redigo.Conn) redigo.Conn {
	return &roConn{Conn: conn, d: d, gen: d.gen.Load()}
}

// roConn is a connection of a dialer with a demotion: a READONLY reply
// closes it and fails (Err) every connection opened before, which the
// pool and the long-lived links then replace.
type roConn struct {
	redigo.Conn
	d   *demotion
	gen uint64
}

// Err is the connection's error, or errReadOnly once a connection got a
// READONLY reply after this one was opened.
func (c *roConn) Err() error {
	if err := c.Conn.Err(); err != nil {
		return err
	}
	if c.d.gen.Load() > c.gen {
		return errReadOnly
	}
	return nil
}

// check turns a READONLY reply into errReadOnly, closing the connection.
func (c *roConn) check(v any, err error) (any, error) {
	var rerr redigo.Error
	if err == nil || !errors.As(err, &rerr) || !strings.HasPrefix(string(rerr), "READONLY") {
		return v, err
	}
	// Every connection opened until now may be to that replica. Each
	// connection fails so once (it is closed), so connections opened
	// since the first READONLY fail at most once per older connection.
	c.d.gen.Add(1)
	_ = c.Conn.Close()
	return nil, fmt.Errorf("%w: %s", errReadOnly, string(rerr))
}

func (c *roConn) Do(cmd string, args ...any) (any, error) { return c.check(c.Conn.Do(cmd, args...)) }

func (c *roConn) Receive() (any, error) { return c.check(c.Conn.Receive()) }

func (c *roConn) DoWithTimeout(timeout time.Duration, cmd string, args ...any) (any, error) {
	return c.check(redigo.DoWithTimeout(c.Conn, timeout, cmd, args...))
}

func (c *roConn) ReceiveWithTimeout(timeout time.Duration) (any, error) {
	return c.check(redigo.ReceiveWithTimeout(c.Conn, timeout))
}

func (c *roConn) DoContext(ctx context.Context, cmd string, args ...any) (any, error) {
	return c.check(redigo.DoContext(c.Conn, ctx, cmd, args...))
}

func (c *roConn) ReceiveContext(ctx context.Context) (any, error) {
	return c.check(redigo.ReceiveContext(c.Conn, ctx))
}

var (
	_ redigo.ConnWithTimeout = (*roConn)(nil)
	_ redigo.ConnWithContext = (*roConn)(nil)
)

// sentinels finds the master named Config.SentinelMaster through the
// Sentinels and opens connections to it.
type sentinels struct {
	master  string
	timeout time.Duration                                      // Config.DialTimeout, per Sentinel and for the master
	opts    []redigo.DialOption                                // of the Sentinel connections
	dial    func(context.Context, string) (redigo.Conn, error) // a data node
	d       demotion
	// onSwitch, if not nil, is called when a connection finds another
	// master than the previous one did.
	onSwitch func()
	mu       sync.Mutex
	addrs    []string // the Sentinels, the last that answered first
	last     string   // the master of the last connection
}

// newSentinels returns the Sentinel dialer of cfg (after connDefaults),
// whose master connections use opts.
func (cfg *Config) newSentinels(opts []redigo.DialOption) *sentinels {
	sopts := append(cfg.baseOptions(cfg.SentinelUsername, cfg.SentinelPassword), cfg.transportOptions()...)
	return &sentinels{
		master:  cfg.SentinelMaster,
		timeout: cfg.DialTimeout,
		opts:    sopts,
		dial:    cfg.addrDialer(opts),
		addrs:   append([]string(nil), cfg.SentinelAddrs...),
	}
}

// errNotMaster is the refusal of a server the Sentinels name whose ROLE
// is not master.
var errNotMaster = errors.New("not a master")

// sentinelError lists why each Sentinel did not lead to the master.
type sentinelError struct {
	master string
	errs   []error
}

func (e *sentinelError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = err.Error()
	}
	return fmt.Sprintf("sioredis: no Redis Sentinel led to a master %q: %s", e.master, strings.Join(msgs, "; "))
}

func (e *sentinelError) Unwrap() []error { return e.errs }

// conn opens a connection to the master: it asks the Sentinels in turn
// (the last one that answered first) for its address, dials it and
// checks that it is a master.
func (s *sentinels) conn(ctx context.Context) (redigo.Conn, error) {
	s.mu.Lock()
	addrs := append([]string(nil), s.addrs...)
	s.mu.Unlock()
	var errs []error
	for _, sa := range addrs {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		master, err := s.ask(ctx, sa)
		if err != nil {
			errs = append(errs, fmt.Errorf("sentinel %s: %w", sa, err))
			continue
		}
		conn, err := s.open(ctx, master)
		if err != nil {
			if errors.Is(err, errNotMaster) {
				s.mu.Lock()
				if s.last == master {
					// The server the node's connections were opened to is
					// a replica now (demoted behind the Sentinels' back,
					// or a failover they have not announced yet): they
					// fail (Err), as on a READONLY reply, which a
					// connection that only reads, or was made again
					// since, never gets. The subscriber's, notably, would
					// stay on the replica and miss every broadcast.
					s.d.gen.Add(1)
				}
				s.mu.Unlock()
			}
			errs = append(errs, fmt.Errorf("master %s (named by sentinel %s): %w", master, sa, err))
			continue
		}
		s.mu.Lock()
		switched := s.last != "" && s.last != master
		s.last = master
		if switched {
			// The connections to the old master fail (Err): the pool
			// and the long-lived links make them again, to this one.
			s.d.gen.Add(1)
		}
		if len(s.addrs) > 0 && s.addrs[0] != sa {
			for i, a := range s.addrs {
				if a == sa {
					copy(s.addrs[1:i+1], s.addrs[:i])
					s.addrs[0] = sa
					break
				}
			}
		}
		rc := s.d.wrap(conn)
		s.mu.Unlock()
		if switched && s.onSwitch != nil {
			s.onSwitch()
		}
		return rc, nil
	}
	return nil, &sentinelError{master: s.master, errs: errs}
}

// ask returns the master's address that the Sentinel at addr knows, and
// adds the other Sentinels it knows to the list.
func (s *sentinels) ask(ctx context.Context, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := redigo.DialContext(ctx, "tcp", addr, s.opts...)
	if err != nil {
		return "", authError(err)
	}
	defer conn.Close()
	hp, err := redigo.Strings(doContext(ctx, conn, "SENTINEL", "get-master-addr-by-name", s.master))
	switch {
	case errors.Is(err, redigo.ErrNil):
		return "", fmt.Errorf("knows no master named %q", s.master)
	case err != nil:
		return "", authError(err)
	case len(hp) != 2:
		return "", fmt.Errorf("unexpected reply %q to SENTINEL get-master-addr-by-name", hp)
	}
	if peers, err := redigo.Values(doContext(ctx, conn, "SENTINEL", "sentinels", s.master)); err == nil {
		s.learn(peers)
	}
	return net.JoinHostPort(hp[0], hp[1]), nil
}

// learn adds the Sentinels of a SENTINEL sentinels reply that the list
// lacks, at its end.
func (s *sentinels) learn(peers []any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range peers {
		m, err := redigo.StringMap(p, nil)
		if err != nil || m["ip"] == "" || m["port"] == "" || strings.Contains(m["flags"], "down") {
			continue
		}
		a := net.JoinHostPort(m["ip"], m["port"])
		known := false
		for _, b := range s.addrs {
			known = known || b == a
		}
		if !known && len(s.addrs) < maxSentinels {
			s.addrs = append(s.addrs, a)
		}
	}
}

// maxSentinels bounds the Sentinels a node learns of.
const maxSentinels = 64

// open dials the master at addr and checks its ROLE: a master that a
// failover is demoting is refused. A user whose ACL forbids ROLE
// (NOPERM) is not checked here; READONLY replies catch a replica later.
func (s *sentinels) open(ctx context.Context, addr string) (redigo.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := s.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	v, err := redigo.Values(doContext(ctx, conn, "ROLE"))
	var rerr redigo.Error
	if errors.As(err, &rerr) && strings.HasPrefix(string(rerr), "NOPERM") {
		return conn, nil
	}
	if err == nil && len(v) == 0 {
		err = errors.New("empty ROLE reply")
	}
	if err == nil {
		var role string
		if role, err = redigo.String(v[0], nil); err == nil && role != "master" {
			err = fmt.Errorf("%w: it is a %s (a failover under way?)", errNotMaster, role)
		}
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// masterSwitched is called when the Sentinels name another master than
// before (a failover): writes that reached the old master after the
// failover began are lost (replication is asynchronous, and it discards
// them when it becomes a replica of the new one), so the node rewrites
// its membership and session entries on the new master.
func (c *Cluster) masterSwitched() {
	c.log.Info("sioredis: the Sentinels name a new master; rewriting this node's rooms")
	c.dirty.Store(true)
	c.kickWriter()
	c.sessionsDue.Store(true)
	c.pokeKeeper()
}

// switchTo records that the Sentinels announced addr as the master (a
// +switch-master event): the connections to the old one fail (Err) and
// onSwitch is called, as when a connection finds the new master.
func (s *sentinels) switchTo(addr string) {
	s.mu.Lock()
	switched := s.last != addr
	if switched {
		s.last = addr
		s.d.gen.Add(1)
	}
	s.mu.Unlock()
	if switched && s.onSwitch != nil {
		s.onSwitch()
	}
}

// dialAny connects to the first Sentinel that answers, the last one that
// answered first.
func (s *sentinels) dialAny(ctx context.Context) (redigo.Conn, error) {
	s.mu.Lock()
	addrs := append([]string(nil), s.addrs...)
	s.mu.Unlock()
	var errs []error
	for _, sa := range addrs {
		dctx, cancel := context.WithTimeout(ctx, s.timeout)
		conn, err := redigo.DialContext(dctx, "tcp", sa, s.opts...)
		cancel()
		if err == nil {
			return conn, nil
		}
		errs = append(errs, fmt.Errorf("sentinel %s: %w", sa, authError(err)))
	}
	return nil, &sentinelError{master: s.master, errs: errs}
}

// sentinelLoop watches a Sentinel for the failovers of the master
// (+switch-master), so that the node's connections move to the new
// master as soon as the Sentinels switch, not when the old master's
// connections fail (its reconfiguration as a replica, about 10 s
// later). It reconnects with backoff.
func (c *Cluster) sentinelLoop() {
	defer c.wg.Done()
	var bo backoff
	for c.ctx.Err() == nil {
		err := c.watchSentinel(&bo)
		if c.ctx.Err() != nil {
			return
		}
		c.warn.warn("sentinel", "sioredis: cannot watch the Sentinels for failovers", "err", err)
		if !c.sleep(bo.fail(time.Now())) {
			return
		}
	}
}

// watchSentinel subscribes to +switch-master on one Sentinel and follows
// its announcements until the connection fails. It pings every TTL/3 and
// gives up after TTL + TTL/3 without a word, as the subscriber does.
func (c *Cluster) watchSentinel(bo *backoff) error {
	conn, err := c.sentinels.dialAny(c.ctx)
	if err != nil {
		return err
	}
	c.connMu.Lock()
	if c.ctx.Err() != nil {
		c.connMu.Unlock()
		_ = conn.Close()
		return ErrClosed
	}
	c.conns[conn] = true
	c.connMu.Unlock()
	defer c.hangUp(conn)
	psc := redigo.PubSubConn{Conn: conn}
	if err := psc.Subscribe("+switch-master"); err != nil {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(c.tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-c.ctx.Done():
				return
			case <-t.C:
				if psc.Ping("") != nil {
					return // the reader fails too
				}
			}
		}
	}()
	for {
		switch v := psc.ReceiveWithTimeout(c.ttl + c.tick).(type) {
		case error:
			return v
		case redigo.Subscription:
			bo.reset()
			c.warn.reset("sentinel")
		case redigo.Message:
			// "<name> <old ip> <old port> <new ip> <new port>"
			f := strings.Fields(string(v.Data))
			if len(f) == 5 && f[0] == c.sentinels.master {
				addr := net.JoinHostPort(f[3], f[4])
				c.log.Info("sioredis: the Sentinels switched the master", "master", c.sentinels.master,
					"from", net.JoinHostPort(f[1], f[2]), "to", addr)
				c.sentinels.switchTo(addr)
			}
		}
	}
}
