package sioredis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/mna/redisc"
)

// Redis Cluster (Config.ClusterAddrs). github.com/mna/redisc, the
// cluster layer on redigo, learns the masters and their slots (CLUSTER
// SLOTS, from the seed nodes, again after every MOVED) and hashes keys to
// slots; the node opens its connections to each master itself (redigo,
// with the node's dial options) and routes every command by its key:
//
//   - a cluster connection (multiConn) implements redigo.Conn over one
//     connection per master, opened as commands need them; Send routes a
//     command to the master of its key's slot, Receive returns the
//     replies in the order of the Sends, so pipelines work as on one
//     server (their commands to one master keep their order; a node's
//     membership changes of one namespace are of one slot);
//   - the query pool is a pool per master;
//   - the subscriber holds one connection per master that owns the slot
//     of a subscribed channel (pubsub.go).
//
// A MOVED or ASK reply (a resharding), CLUSTERDOWN or TRYAGAIN is not a
// refused command but a failure of the connection: the slot map is
// refreshed and the caller reconnects as after any failure (the writer
// then rewrites the node's membership).

// errTopology wraps a reply that says the slot map is stale or the
// cluster unsettled.
var errTopology = errors.New("sioredis: Redis Cluster topology changed")

// topology is the slot map of a Redis Cluster and the node's pools.
type topology struct {
	rc    *redisc.Cluster
	slots atomic.Pointer[[redisc.HashSlots]string] // master address per slot
	// mastersOf caches masters() for one slot map.
	mastersOf atomic.Pointer[masterList]
	dial      func(ctx context.Context, addr string) (redigo.Conn, error)

	refreshing atomic.Bool
	wg         sync.WaitGroup // background refreshes

	mu       sync.Mutex
	pools    map[string]*redigo.Pool
	newPool  func(dial func(context.Context) (redigo.Conn, error)) *redigo.Pool
	isClosed bool
}

// newTopology reads the slot map from the seed nodes.
func newTopology(cfg *Config, opts []redigo.DialOption, dial func(ctx context.Context, addr string) (redigo.Conn, error)) (*topology, error) {
	t := &topology{dial: dial, pools: make(map[string]*redigo.Pool)}
	t.newPool = cfg.pool
	t.rc = &redisc.Cluster{
		StartupNodes: cfg.ClusterAddrs,
		DialOptions:  opts,
		LayoutRefresh: func(_, m [redisc.HashSlots][]string) {
			var a [redisc.HashSlots]string
			for i := range m {
				if len(m[i]) > 0 {
					a[i] = m[i][0]
				}
			}
			t.slots.Store(&a)
		},
	}
	if err := t.rc.Refresh(); err != nil {
		_ = t.rc.Close()
		return nil, authError(unwrapRedisc(err))
	}
	if t.slots.Load() == nil {
		_ = t.rc.Close()
		return nil, errors.New("sioredis: Redis Cluster sent no slot map")
	}
	return t, nil
}

// unwrapRedisc keeps a redigo.Error readable by authError: redisc joins
// the errors of every seed into one text.
func unwrapRedisc(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, p := range []string{"WRONGPASS", "NOAUTH"} {
		if i := strings.Index(msg, p); i >= 0 {
			return fmt.Errorf("%w: %w", redigo.Error(msg[i:]), err)
		}
	}
	return err
}

// addrOf returns the master that holds key's slot.
func (t *topology) addrOf(key string) (string, error) {
	a := t.slots.Load()[redisc.Slot(key)]
	if a == "" {
		t.refreshLater()
		return "", fmt.Errorf("%w: no master for slot %d", errTopology, redisc.Slot(key))
	}
	return a, nil
}

// masters returns every master's address (not to be modified: it is
// computed once per slot map, which the subscriber's every sync asks).
func (t *topology) masters() []string {
	a := t.slots.Load()
	if m := t.mastersOf.Load(); m != nil && m.slots == a {
		return m.addrs
	}
	seen := make(map[string]bool)
	var out []string
	for _, addr := range a {
		if addr != "" && !seen[addr] {
			seen[addr] = true
			out = append(out, addr)
		}
	}
	t.mastersOf.Store(&masterList{slots: a, addrs: out})
	return out
}

// masterList is the masters of one slot map.
type masterList struct {
	slots *[redisc.HashSlots]string
	addrs []string
}

// refresh reads the slot map again, now.
func (t *topology) refresh() error { return t.rc.Refresh() }

// refreshLater refreshes the slot map in the background, once at a time.
func (t *topology) refreshLater() {
	if !t.refreshing.CompareAndSwap(false, true) {
		return
	}
	t.mu.Lock()
	if t.isClosed {
		t.mu.Unlock()
		t.refreshing.Store(false)
		return
	}
	t.wg.Add(1)
	t.mu.Unlock()
	go func() {
		defer t.wg.Done()
		defer t.refreshing.Store(false)
		_ = t.rc.Refresh()
	}()
}

// pool returns the query pool of the master at addr.
func (t *topology) pool(addr string) (*redigo.Pool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.isClosed {
		return nil, ErrClosed
	}
	p := t.pools[addr]
	if p == nil {
		p = t.newPool(func(ctx context.Context) (redigo.Conn, error) { return t.dial(ctx, addr) })
		t.pools[addr] = p
	}
	return p, nil
}

func (t *topology) close() {
	t.mu.Lock()
	t.isClosed = true
	pools := t.pools
	t.pools = nil
	t.mu.Unlock()
	for _, p := range pools {
		_ = p.Close()
	}
	t.wg.Wait()
	_ = t.rc.Close()
}

// newConn returns a cluster connection whose per-master connections are
// dialed (long-lived) or taken from the pools, within ctx.
func (t *topology) newConn(ctx context.Context, pooled bool) *multiConn {
	m := &multiConn{t: t, subs: make(map[string]redigo.Conn)}
	if pooled {
		m.open = func(addr string) (redigo.Conn, error) {
			p, err := t.pool(addr)
			if err != nil {
				return nil, err
			}
			return p.GetContext(ctx)
		}
	} else {
		m.open = func(addr string) (redigo.Conn, error) { return t.dial(ctx, addr) }
	}
	return m
}

// multiConn is a redigo.Conn over one connection per master (see above).
// Like a redigo connection it allows one writer (Send, Flush) and one
// reader (Receive) at a time; Close may come from any goroutine.
type multiConn struct {
	t    *topology
	open func(addr string) (redigo.Conn, error)

	mu     sync.Mutex // guards subs and err against Close
	subs   map[string]redigo.Conn
	err    error
	order  []string // the master of each reply still to receive
	closed bool
	// onClose, if set, runs at Close (ends the context of the opens).
	onClose func()
}

var _ redigo.Conn = (*multiConn)(nil)

// cmdKey returns the key that routes a command: its first argument, or
// the first key of a script.
func cmdKey(cmd string, args []any) (string, bool) {
	switch strings.ToUpper(cmd) {
	case "EVAL", "EVALSHA":
		if len(args) >= 3 {
			n := 0
			switch v := args[1].(type) {
			case int:
				n = v
			case int64:
				n = int(v)
			case string:
				n, _ = strconv.Atoi(v)
			}
			if n > 0 {
				return fmt.Sprint(args[2]), true
			}
		}
		return "", false
	case "PING", "SCRIPT", "":
		return "", false
	}
	if len(args) == 0 {
		return "", false
	}
	switch a := args[0].(type) {
	case string:
		return a, true
	case []byte:
		return string(a), true
	}
	return fmt.Sprint(args[0]), true
}

func (m *multiConn) sub(addr string) (redigo.Conn, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if c := m.subs[addr]; c != nil {
		m.mu.Unlock()
		return c, nil
	}
	m.mu.Unlock()
	c, err := m.open(addr)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		_ = c.Close()
		return nil, ErrClosed
	}
	m.subs[addr] = c
	return c, nil
}

// targets returns the masters a command goes to: its key's, every
// master for SCRIPT (so that EVALSHA finds the script wherever it runs),
// every open connection (or any master) for PING.
func (m *multiConn) targets(cmd string, args []any) ([]string, error) {
	if key, ok := cmdKey(cmd, args); ok {
		a, err := m.t.addrOf(key)
		if err != nil {
			return nil, err
		}
		return []string{a}, nil
	}
	if strings.EqualFold(cmd, "SCRIPT") {
		return m.t.masters(), nil
	}
	m.mu.Lock()
	out := make([]string, 0, len(m.subs))
	for a := range m.subs {
		out = append(out, a)
	}
	m.mu.Unlock()
	if len(out) == 0 {
		ms := m.t.masters()
		if len(ms) == 0 {
			return nil, fmt.Errorf("%w: no master known", errTopology)
		}
		out = append(out, ms[rand.IntN(len(ms))])
	}
	return out, nil
}

func (m *multiConn) fail(err error) error {
	m.mu.Lock()
	if m.err == nil {
		m.err = err
	}
	m.mu.Unlock()
	return err
}

// Send implements redigo.Conn.
func (m *multiConn) Send(cmd string, args ...any) error {
	if err := m.Err(); err != nil {
		return err
	}
	addrs, err := m.targets(cmd, args)
	if err != nil {
		return m.fail(err)
	}
	for _, a := range addrs {
		c, err := m.sub(a)
		if err != nil {
			return m.fail(err)
		}
		if err := c.Send(cmd, args...); err != nil {
			return m.fail(err)
		}
		m.order = append(m.order, a)
	}
	return nil
}

// Flush implements redigo.Conn.
func (m *multiConn) Flush() error {
	m.mu.Lock()
	subs := make([]redigo.Conn, 0, len(m.subs))
	for _, c := range m.subs {
		subs = append(subs, c)
	}
	m.mu.Unlock()
	for _, c := range subs {
		if err := c.Flush(); err != nil {
			return m.fail(err)
		}
	}
	return nil
}

// Receive implements redigo.Conn: the reply to the oldest Send not yet
// received. A reply that says the slot map is stale fails the connection.
func (m *multiConn) Receive() (any, error) {
	if len(m.order) == 0 {
		return nil, errors.New("sioredis: no reply pending")
	}
	a := m.order[0]
	m.order = m.order[1:]
	m.mu.Lock()
	c := m.subs[a]
	m.mu.Unlock()
	if c == nil {
		return nil, m.fail(ErrClosed)
	}
	v, err := c.Receive()
	if err != nil {
		if terr := topologyError(err); terr != nil {
			m.t.refreshLater()
			return nil, m.fail(terr)
		}
		var rerr redigo.Error
		if !errors.As(err, &rerr) {
			return nil, m.fail(err)
		}
	}
	return v, err
}

// topologyError wraps a MOVED, ASK, CLUSTERDOWN or TRYAGAIN reply with
// errTopology (not a redigo.Error: a failure, not a refused command).
func topologyError(err error) error {
	var rerr redigo.Error
	if !errors.As(err, &rerr) {
		return nil
	}
	msg := string(rerr)
	for _, p := range []string{"MOVED ", "ASK ", "CLUSTERDOWN", "TRYAGAIN"} {
		if strings.HasPrefix(msg, p) {
			return fmt.Errorf("%w: %s", errTopology, msg)
		}
	}
	return nil
}

// Do implements redigo.Conn: Send, Flush, and receive every pending
// reply; it returns the last, or the first error.
func (m *multiConn) Do(cmd string, args ...any) (any, error) {
	if cmd != "" {
		if err := m.Send(cmd, args...); err != nil {
			return nil, err
		}
	}
	if err := m.Flush(); err != nil {
		return nil, err
	}
	var last any
	var first error
	for len(m.order) > 0 {
		v, err := m.Receive()
		if err != nil && first == nil {
			first = err
		}
		last = v
	}
	return last, first
}

// Err implements redigo.Conn.
func (m *multiConn) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.closed {
		return ErrClosed
	}
	for _, c := range m.subs {
		if err := c.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Close implements redigo.Conn: it closes (or returns to their pools)
// the per-master connections.
func (m *multiConn) Close() error {
	m.mu.Lock()
	subs := m.subs
	m.subs = map[string]redigo.Conn{}
	m.closed = true
	m.mu.Unlock()
	for _, c := range subs {
		_ = c.Close()
	}
	if m.onClose != nil {
		m.onClose()
	}
	return nil
}
