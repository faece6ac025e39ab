package sioredis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests on Redis Sentinel: a master redis-server, a replica and three
// `redis-server --sentinel` processes started by the test (real
// processes, no mocks); the nodes use Config.SentinelAddrs.

// failoverWait bounds what a failover takes: the Sentinels' agreement,
// the promotion, and the reconfiguration of the old master (about 10 s
// after the switch), on a loaded machine.
const failoverWait = 60 * time.Second

// sentinelSetup is a master, its replicas and the Sentinels that monitor
// it as "m".
type sentinelSetup struct {
	master    *redisServer
	replicas  []*redisServer
	sentinels []*redisServer
}

type sentinelOpts struct {
	replicas, sentinels int
	// password is the Sentinels' requirepass; dataPassword the master's
	// and replicas' (the Sentinels then monitor with auth-pass).
	password, dataPassword string
	// masterArgs are added to the master's command line.
	masterArgs []string
}

// startSentinels starts the master, its replicas and the Sentinels, and
// waits until every Sentinel knows every replica.
func startSentinels(t *testing.T, o sentinelOpts) *sentinelSetup {
	t.Helper()
	var dataArgs []string
	if o.dataPassword != "" {
		dataArgs = []string{"--requirepass", o.dataPassword, "--masterauth", o.dataPassword}
	}
	s := &sentinelSetup{master: startRedisWith(t, o.dataPassword, append(o.masterArgs, dataArgs...)...)}
	for range o.replicas {
		args := append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(s.master.port)}, dataArgs...)
		s.replicas = append(s.replicas, startRedisWith(t, o.dataPassword, args...))
	}
	conf := fmt.Sprintf("sentinel resolve-hostnames no\nsentinel monitor m 127.0.0.1 %d 2\n"+
		"sentinel down-after-milliseconds m 1000\nsentinel failover-timeout m 5000\n", s.master.port)
	if o.dataPassword != "" {
		conf += "sentinel auth-pass m " + o.dataPassword + "\n"
	}
	if o.password != "" {
		conf += "requirepass " + o.password + "\nsentinel sentinel-pass " + o.password + "\n"
	}
	for range o.sentinels {
		s.sentinels = append(s.sentinels, startRedisServer(t, &redisServer{conf: conf, password: o.password, args: []string{"--sentinel"}}))
	}
	for _, sn := range s.sentinels {
		require.Eventually(t, func() bool {
			v, err := redigo.Values(sn.do("SENTINEL", "replicas", "m"))
			return err == nil && len(v) == o.replicas
		}, failoverWait, 50*time.Millisecond, "sentinel %s never saw the replicas", sn.addr())
	}
	return s
}

func (s *sentinelSetup) addrs() []string {
	out := make([]string, len(s.sentinels))
	for i, sn := range s.sentinels {
		out[i] = sn.addr()
	}
	return out
}

// named returns the connections named name that r has (CLIENT LIST
// lines) and how many of them subscribe.
func named(r *redisServer, name string) (n, subscribers int, err error) {
	list, err := redigo.String(r.do("CLIENT", "LIST"))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(list, "\n") {
		if strings.Contains(line, " name="+name+" ") {
			n++
			if strings.Contains(line, " flags=P ") {
				subscribers++
			}
		}
	}
	return n, subscribers, nil
}

// sentinelNode starts a node through the Sentinels of s, its connections
// named "sn-<name>".
func sentinelNode(t *testing.T, s *sentinelSetup, name string, edit func(*Config)) *node {
	t.Helper()
	return newNode(t, nil, name, nodeOpts{cfg: func(c *Config) {
		c.SentinelAddrs, c.SentinelMaster = s.addrs(), "m"
		c.ClientName = "sn-" + name
		if edit != nil {
			edit(c)
		}
	}})
}

// sentinelPair starts nodes n1 and n2 through the Sentinels of s, with
// client a on n1 and b on n2 in room "r", and checks that a broadcast
// from a reaches b.
func sentinelPair(t *testing.T, s *sentinelSetup) (n1, n2 *node, a, b *client) {
	t.Helper()
	n1, n2 = sentinelNode(t, s, "n1", nil), sentinelNode(t, s, "n2", nil)
	a, b = n1.dial(), n2.dial()
	b.join("", "r")
	a.emit("", "to-room", "r", "before")
	b.expectMsg("", "before")
	return n1, n2, a, b
}

// connsOn says whether the node named name has its subscriber and
// another connection (the liveness one, which refreshes every TTL/3; the
// publisher and the writer connect when they have work) on want, and no
// connection on any of others.
func connsOn(name string, want *redisServer, others ...*redisServer) func() (bool, error) {
	return func() (bool, error) {
		n, subs, err := named(want, "sn-"+name)
		if err != nil || n < 2 || subs != 1 {
			return false, err
		}
		for _, o := range others {
			if k, _, err := named(o, "sn-"+name); err != nil || k != 0 {
				return false, err
			}
		}
		return true, nil
	}
}

// deliver emits to room from a until b receives it, within d: after a
// failover a broadcast may be lost while the nodes' connections move.
// Frames of earlier tries that b receives late are skipped.
func deliver(t *testing.T, a, b *client, room, payload string, d time.Duration) {
	t.Helper()
	want := msgFrame("", "msg", payload)
	deadline := time.Now().Add(d)
	for try := 0; ; try++ {
		a.emit("", "to-room", room, payload)
		for {
			f, ok := b.nextWithin(300 * time.Millisecond)
			if !ok {
				break
			}
			if f == want {
				drain(b)
				return
			}
			require.True(t, strings.HasPrefix(f, "5::"), "unexpected frame %q", f)
		}
		require.True(t, time.Now().Before(deadline), "%q never reached the room in %v (%d tries)", payload, d, try+1)
	}
}

// drain reads b's frames until it has heard nothing for quiet.
func drain(b *client) {
	for {
		if _, ok := b.nextWithin(quiet); !ok {
			return
		}
	}
}

// TestSentinelBroadcast: two nodes find the master through the
// Sentinels; broadcasts cross, counts are cluster-wide, an emitter
// reaches the nodes, and every connection of the nodes is on the master,
// none on the replica.
func TestSentinelBroadcast(t *testing.T) {
	s := startSentinels(t, sentinelOpts{replicas: 1, sentinels: 3})
	n1, n2 := sentinelNode(t, s, "n1", nil), sentinelNode(t, s, "n2", nil)
	a, b, c := n1.dial(), n2.dial(), n2.dial()
	b.join("", "r")
	c.join("", "r")
	a.emit("", "to-room", "r", "hello")
	b.expectMsg("", "hello")
	c.expectMsg("", "hello")
	a.expectNothing()
	b.emit("", "all", "everyone")
	for _, x := range []*client{a, b, c} {
		x.expectMsg("", "everyone")
	}
	n, err := n1.srv.Of("").RoomSize(context.Background(), "r")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	eventuallyEqual(t, ids(a, b, c), clients(n1, "", ""))
	// An emitter finds the master the same way.
	e, err := NewEmitter(Config{SentinelAddrs: s.addrs(), SentinelMaster: "m", Prefix: "test", Channels: ChannelsSharded})
	require.NoError(t, err)
	defer e.Close()
	require.NoError(t, e.Of("").To("r").Emit(context.Background(), "msg", "emitted"))
	b.expectMsg("", "emitted")
	c.expectMsg("", "emitted")
	for _, name := range []string{"n1", "n2"} {
		eventuallyEqual(t, true, connsOn(name, s.master, s.replicas...), "the connections of %s", name)
	}
}

// triggerFailover asks a Sentinel for a failover until it takes it (it
// refuses while it has not yet judged the replica fit) and waits until
// every Sentinel names the replica r as the master.
func triggerFailover(t *testing.T, s *sentinelSetup, r *redisServer) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := s.sentinels[0].do("SENTINEL", "failover", "m")
		return err == nil
	}, failoverWait, 200*time.Millisecond, "the sentinel never took the failover")
	waitMaster(t, s, r)
}

// waitMaster waits until every Sentinel names r as the master.
func waitMaster(t *testing.T, s *sentinelSetup, r *redisServer) {
	t.Helper()
	for _, sn := range s.sentinels {
		require.Eventually(t, func() bool {
			hp, err := redigo.Strings(sn.do("SENTINEL", "get-master-addr-by-name", "m"))
			return err == nil && len(hp) == 2 && net.JoinHostPort(hp[0], hp[1]) == r.addr()
		}, failoverWait, 100*time.Millisecond, "sentinel %s never named %s", sn.addr(), r.addr())
	}
}

// TestSentinelFailover: after SENTINEL FAILOVER the replica is the
// master; both nodes move all their connections to it (the old master,
// demoted, is refused), broadcasts cross again, the subscriber follows,
// and joins and counts work on the new master.
func TestSentinelFailover(t *testing.T) {
	s := startSentinels(t, sentinelOpts{replicas: 1, sentinels: 3})
	n1, n2, a, b := sentinelPair(t, s)

	old, next := s.master, s.replicas[0]
	resyncs := []uint64{n1.cluster.Stats().Resyncs, n2.cluster.Stats().Resyncs}
	start := time.Now()
	triggerFailover(t, s, next)
	t.Logf("the sentinels name the new master after %v", time.Since(start))
	deliver(t, a, b, "r", "after", failoverWait)
	t.Logf("a broadcast crossed after %v", time.Since(start))
	for _, name := range []string{"n1", "n2"} {
		require.Eventually(t, func() bool {
			ok, err := connsOn(name, next, old)()
			return err == nil && ok
		}, failoverWait, 100*time.Millisecond, "the connections of %s never all moved to the new master", name)
	}
	t.Logf("the connections moved after %v", time.Since(start))
	role, err := redigo.Values(old.do("ROLE"))
	require.NoError(t, err)
	assert.Equal(t, "slave", string(role[0].([]byte)), "the old master is a replica")
	deliver(t, a, b, "r", "moved", failoverWait)
	// Each node rewrote its membership on the new master (what reached
	// the old one after the failover began is lost with it).
	for i, n := range []*node{n1, n2} {
		eventuallyEqual(t, true, func() (bool, error) { return n.cluster.Stats().Resyncs > resyncs[i], nil },
			"%s rewrote its rooms", n.name)
	}

	// Joins and counts on the new master.
	c := n2.dial()
	c.join("", "r2")
	eventuallyEqual(t, ids(c), clients(n1, "", "r2"))
	eventuallyEqual(t, ids(b), clients(n1, "", "r"))
	a.emit("", "to-room", "r2", "r2")
	c.expectMsg("", "r2")
	n, err := redigo.Int(next.do("SCARD", "{test:0:}:room:r2"))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the join is on the new master")
}

// TestSentinelSwitchWatched: the nodes follow the Sentinels' announcement
// of the failover (+switch-master): here the old master cannot be
// demoted (its SLAVEOF is disabled), so it keeps its clients and stays a
// master, and only the announcement moves the nodes' connections (the
// subscriber's included) to the new master.
func TestSentinelSwitchWatched(t *testing.T) {
	s := startSentinels(t, sentinelOpts{replicas: 1, sentinels: 3, masterArgs: []string{"--rename-command", "SLAVEOF", ""}})
	n1, n2, a, b := sentinelPair(t, s)

	old, next := s.master, s.replicas[0]
	start := time.Now()
	triggerFailover(t, s, next)
	t.Logf("the sentinels name the new master after %v", time.Since(start))
	for _, name := range []string{"n1", "n2"} {
		require.Eventually(t, func() bool {
			_, subsOld, err := named(old, "sn-"+name)
			if err != nil || subsOld != 0 {
				return false
			}
			_, subsNext, err := named(next, "sn-"+name)
			return err == nil && subsNext == 1
		}, failoverWait, 50*time.Millisecond, "the subscriber of %s never moved to the new master", name)
	}
	t.Logf("the subscribers moved after %v", time.Since(start))
	role, err := redigo.Values(old.do("ROLE"))
	require.NoError(t, err)
	require.Equal(t, "master", string(role[0].([]byte)), "the old master could not be demoted")
	deliver(t, a, b, "r", "after", failoverWait)
	c := n2.dial()
	c.join("", "r2")
	eventuallyEqual(t, ids(c), clients(n1, "", "r2"))
	n, err := redigo.Int(next.do("SCARD", "{test:0:}:room:r2"))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the join is on the new master")
}

// TestSentinelDemotedMaster: the master becomes a replica of another
// server behind the Sentinels' back (REPLICAOF, which keeps its clients
// connected): the nodes' writes get READONLY, which fails all their
// connections; the demoted master is refused (ROLE) though the Sentinels
// still name it. After a failover to the replica the nodes are there and
// broadcasts cross again.
func TestSentinelDemotedMaster(t *testing.T) {
	s := startSentinels(t, sentinelOpts{replicas: 1, sentinels: 3})
	other := startRedis(t)
	n1, n2, a, b := sentinelPair(t, s)

	old, next := s.master, s.replicas[0]
	_, err := old.do("REPLICAOF", "127.0.0.1", strconv.Itoa(other.port))
	require.NoError(t, err)
	// The Sentinels still name the demoted master (they take it for
	// down only after about 20 s): a new node refuses it (ROLE).
	hp, err := redigo.Strings(s.sentinels[0].do("SENTINEL", "get-master-addr-by-name", "m"))
	require.NoError(t, err)
	require.Equal(t, old.addr(), net.JoinHostPort(hp[0], hp[1]), "the Sentinels still name the demoted master")
	_, err = New(Config{SentinelAddrs: s.addrs(), SentinelMaster: "m", Logger: discardLogger})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a master: it is a slave")
	// The next write (a join's, or the liveness refresh every TTL/3) gets
	// READONLY: the node's connections fail, the subscriber's too, and
	// are not made again to the demoted master. A node whose connections
	// happened to be made again first gets no READONLY but a refused dial
	// (ROLE), which fails its subscriber's connection just the same
	// (TestSentinelRefusalFailsOlderConnections; before, that subscriber
	// stayed on the replica).
	a.join("", "r-a")
	b.join("", "r-b")
	for _, name := range []string{"n1", "n2"} {
		require.Eventually(t, func() bool {
			_, subs, err := named(old, "sn-"+name)
			return err == nil && subs == 0
		}, failoverWait, 50*time.Millisecond, "the subscriber of %s left the demoted master", name)
	}
	triggerFailover(t, s, next)
	deliver(t, a, b, "r", "after", failoverWait)
	for _, name := range []string{"n1", "n2"} {
		require.Eventually(t, func() bool {
			ok, err := connsOn(name, next, old, other)()
			return err == nil && ok
		}, failoverWait, 100*time.Millisecond, "the connections of %s never all moved to the new master", name)
	}
	c := n1.dial()
	c.join("", "r")
	eventuallyEqual(t, ids(b, c), clients(n2, "", "r"))
}

// TestReadOnlyFailsConnections: a READONLY reply fails the connection
// it came on and every connection its dialer opened before (their Err),
// as a connection error (no redigo.Error), so that the pool discards
// them; connections opened after are fine.
func TestReadOnlyFailsConnections(t *testing.T) {
	r, other := startRedis(t), startRedis(t)
	cfg := Config{Addr: r.addr()}
	require.NoError(t, cfg.connDefaults())
	dial := cfg.dialer()
	c1, err := dial(context.Background())
	require.NoError(t, err)
	defer c1.Close()
	c2, err := dial(context.Background())
	require.NoError(t, err)
	defer c2.Close()
	pool := cfg.pool(dial)
	defer pool.Close()
	pc := pool.Get()
	_, err = pc.Do("SET", "k", "v")
	require.NoError(t, err)
	require.NoError(t, pc.Close())
	require.Equal(t, 1, pool.Stats().IdleCount)

	_, err = r.do("REPLICAOF", "127.0.0.1", strconv.Itoa(other.port))
	require.NoError(t, err)
	_, err = c1.Do("SET", "k", "v")
	require.ErrorIs(t, err, errReadOnly)
	var rerr redigo.Error
	assert.False(t, errors.As(err, &rerr), "not a refused command: %v", err)
	assert.Contains(t, err.Error(), "READONLY")
	require.Error(t, c1.Err(), "closed")
	require.ErrorIs(t, c2.Err(), errReadOnly, "the other connection of its generation")
	_, err = redigo.DoContext(c2, context.Background(), "PING")
	require.NoError(t, err, "failed, but not closed: only the one that got READONLY is")

	// The pool's idle connection is of that generation: borrowing
	// discards it and dials a fresh one.
	pc = pool.Get()
	require.NoError(t, pc.Err())
	_, err = redigo.String(pc.Do("GET", "k"))
	require.NoError(t, err)
	_, err = pc.Do("SET", "k", "w")
	require.ErrorIs(t, err, errReadOnly)
	require.NoError(t, pc.Close())
	assert.Equal(t, 0, pool.Stats().IdleCount, "a failed connection is not kept")

	c3, err := dial(context.Background())
	require.NoError(t, err)
	defer c3.Close()
	require.NoError(t, c3.Err(), "a connection opened after READONLY")
	// Scripts' READONLY too (redigo's Script runs EVALSHA, then EVAL).
	_, err = redigo.NewScript(1, "return redis.call('SET', KEYS[1], 'x')").Do(c3, "k")
	require.ErrorIs(t, err, errReadOnly)
}

// TestSentinelSkipsDownSentinel: a Sentinel that does not answer (a
// closed port, listed first) is skipped; the one that answered is asked
// first from then on, and the Sentinels it knows of are learned.
func TestSentinelSkipsDownSentinel(t *testing.T) {
	s := startSentinels(t, sentinelOpts{sentinels: 3})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := l.Addr().String()
	require.NoError(t, l.Close())

	n1 := sentinelNode(t, s, "n1", func(c *Config) { c.SentinelAddrs = []string{down, s.sentinels[0].addr()} })
	n2 := sentinelNode(t, s, "n2", func(c *Config) { c.SentinelAddrs = []string{down, s.sentinels[1].addr()} })
	a, b := n1.dial(), n2.dial()
	b.join("", "r")
	a.emit("", "to-room", "r", "hello")
	b.expectMsg("", "hello")

	cfg := Config{SentinelAddrs: []string{down, s.sentinels[0].addr()}, SentinelMaster: "m"}
	require.NoError(t, cfg.connDefaults())
	sn := cfg.newSentinels(cfg.dialOptions())
	// The Sentinels find each other through the master (hello messages,
	// every 2 s): until then the first knows of none.
	require.Eventually(t, func() bool {
		conn, err := sn.conn(context.Background())
		if err != nil {
			return false
		}
		_ = conn.Close()
		sn.mu.Lock()
		defer sn.mu.Unlock()
		return len(sn.addrs) == 4
	}, failoverWait, 100*time.Millisecond, "the other sentinels were never learned")
	sn.mu.Lock()
	assert.Equal(t, []string{s.sentinels[0].addr(), down}, sn.addrs[:2], "the one that answered first")
	assert.ElementsMatch(t, s.addrs(), append([]string{sn.addrs[0]}, sn.addrs[2:]...))
	sn.mu.Unlock()

	// Every Sentinel down: New fails, naming each.
	_, err = New(Config{SentinelAddrs: []string{down}, SentinelMaster: "m", Logger: discardLogger})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sentinel "+down)
}

// TestSentinelUnknownMaster: a master name the Sentinels do not monitor
// fails New with an error that says so; the configuration is checked.
func TestSentinelUnknownMaster(t *testing.T) {
	s := startSentinels(t, sentinelOpts{sentinels: 1})
	_, err := New(Config{SentinelAddrs: s.addrs(), SentinelMaster: "nope", Logger: discardLogger})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `knows no master named "nope"`)
	assert.Contains(t, err.Error(), s.sentinels[0].addr())

	for _, bad := range []Config{
		{SentinelAddrs: s.addrs()},
		{SentinelAddrs: s.addrs(), SentinelMaster: "m", Addr: s.master.addr()},
		{SentinelAddrs: s.addrs(), SentinelMaster: "m", ClusterAddrs: []string{s.master.addr()}},
		{Addr: s.master.addr(), SentinelMaster: "m"},
		{SentinelAddrs: s.addrs(), SentinelMaster: "m", SentinelUsername: "u"},
	} {
		_, err := New(bad)
		assert.Error(t, err, "%+v", bad)
	}
}

// TestSentinelAuth: SentinelPassword authenticates to the Sentinels and
// Password to the master; a wrong or missing Sentinel password fails New
// with ErrAuth.
func TestSentinelAuth(t *testing.T) {
	s := startSentinels(t, sentinelOpts{sentinels: 1, password: "sentinel-pw", dataPassword: "data-pw"})
	n1 := sentinelNode(t, s, "n1", func(c *Config) { c.SentinelPassword, c.Password = "sentinel-pw", "data-pw" })
	n2 := sentinelNode(t, s, "n2", func(c *Config) { c.SentinelPassword, c.Password = "sentinel-pw", "data-pw" })
	a, b := n1.dial(), n2.dial()
	b.join("", "r")
	a.emit("", "to-room", "r", "hello")
	b.expectMsg("", "hello")

	for _, pw := range []string{"", "wrong"} {
		_, err := New(Config{SentinelAddrs: s.addrs(), SentinelMaster: "m", SentinelPassword: pw, Password: "data-pw", Logger: discardLogger})
		require.ErrorIs(t, err, ErrAuth, "sentinel password %q", pw)
	}
	// The master's password is its own.
	_, err := New(Config{SentinelAddrs: s.addrs(), SentinelMaster: "m", SentinelPassword: "sentinel-pw", Password: "sentinel-pw", Logger: discardLogger})
	require.ErrorIs(t, err, ErrAuth)
}

// TestSentinelRoleForbidden: an ACL user that may not run ROLE still
// connects (the check is skipped on NOPERM); READONLY would catch a
// replica.
func TestSentinelRoleForbidden(t *testing.T) {
	s := startSentinels(t, sentinelOpts{sentinels: 1,
		masterArgs: []string{"--user", "app", "on", ">app-pw", "~*", "&*", "+@all", "-role"}})
	conn, err := redigo.Dial("tcp", s.master.addr(), redigo.DialUsername("app"), redigo.DialPassword("app-pw"))
	require.NoError(t, err)
	_, err = conn.Do("ROLE")
	require.ErrorContains(t, err, "NOPERM")
	require.NoError(t, conn.Close())
	n1 := sentinelNode(t, s, "n1", func(c *Config) { c.Username, c.Password = "app", "app-pw" })
	n2 := sentinelNode(t, s, "n2", func(c *Config) { c.Username, c.Password = "app", "app-pw" })
	a, b := n1.dial(), n2.dial()
	b.join("", "r")
	a.emit("", "to-room", "r", "hello")
	b.expectMsg("", "hello")
}

// A server the Sentinels still name but that is a replica now is refused
// (ROLE), and the connections opened to it before fail (Err) at that
// refusal, as on a READONLY reply: a connection that only reads — the
// subscriber's — never gets one, and would stay on the replica.
func TestSentinelRefusalFailsOlderConnections(t *testing.T) {
	s := startSentinels(t, sentinelOpts{sentinels: 3})
	other := startRedis(t)
	cfg := Config{SentinelAddrs: s.addrs(), SentinelMaster: "m"}
	require.NoError(t, cfg.connDefaults())
	sn := cfg.newSentinels(cfg.dialOptions())
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	reader, err := sn.conn(ctx)
	require.NoError(t, err)
	defer reader.Close()
	_, err = reader.Do("PING")
	require.NoError(t, err)
	require.NoError(t, reader.Err())

	_, err = s.master.do("REPLICAOF", "127.0.0.1", strconv.Itoa(other.port))
	require.NoError(t, err)
	_, err = sn.conn(ctx)
	require.ErrorIs(t, err, errNotMaster, "the Sentinels still name the demoted master")
	assert.ErrorIs(t, reader.Err(), errReadOnly, "the connection opened to it before fails")
	_, err = reader.Do("PING") // it still answers: only Err says it failed
	assert.NoError(t, err)
}
