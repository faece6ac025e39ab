package sioredis

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/siogo/siogo/socketio"
)

// Config configures a Cluster. Addr (or ClusterAddrs, or SentinelAddrs)
// is required; the zero value of every other field means the default
// written beside it.
type Config struct {
	// Addr is the Redis server, "host:port". Required, unless
	// ClusterAddrs or SentinelAddrs is set.
	Addr string
	// ClusterAddrs, if set, makes the node use a Redis Cluster (Redis 7
	// or later: sharded pub/sub) instead of the one server at Addr: they
	// are seed nodes, "host:port" each, from which the node learns the
	// cluster's masters and slots (CLUSTER SLOTS); one is enough, more
	// survive a seed being down. Addr must then be empty. The connection
	// fields (Username, Password, TLSConfig, Dial, timeouts, ClientName)
	// apply to every Redis Cluster node; DB must be 0 (Redis Cluster has
	// one database). See "Redis Cluster" in the package documentation.
	ClusterAddrs []string
	// SentinelAddrs, if set, makes the node find its Redis through Redis
	// Sentinel: they are Sentinels, "host:port" each, asked in turn (the
	// last one that answered first; those they know of are added) for the
	// address of the master monitored as SentinelMaster, at every
	// connection the node opens; one is enough, more survive a Sentinel
	// being down. Addr and ClusterAddrs must then be empty. The connection
	// fields (Username, Password, DB, ClientName, TLSConfig, Dial, the
	// timeouts) apply to the master; TLSConfig, Dial and the timeouts to
	// the Sentinels too, whose AUTH is SentinelUsername and
	// SentinelPassword. Empty means no Sentinel. See "Redis Sentinel" in
	// the package documentation.
	SentinelAddrs []string
	// SentinelMaster is the name the Sentinels monitor the master under
	// (their "sentinel monitor <name> ..." line). Required with
	// SentinelAddrs; no default.
	SentinelMaster string
	// SentinelUsername and SentinelPassword authenticate the connections
	// to the Sentinels (their requirepass, or an ACL user), not those to
	// the master (Username and Password). An empty SentinelPassword means
	// no AUTH; an empty SentinelUsername with one means the "default"
	// user. A refused password makes New fail with an error wrapping
	// ErrAuth.
	SentinelUsername, SentinelPassword string
	// Channels chooses the pub/sub layout of broadcasts: ChannelsSingle
	// (the zero value: one channel that every node receives every
	// broadcast on) or ChannelsSharded (a channel per namespace and per
	// room, each node subscribed to those it has members in; less work
	// per node as nodes are added; a first-member join waits one Redis
	// round trip for its subscription, see "Broadcasts").
	// Every node of a cluster must use the same mode.
	Channels ChannelMode
	// SubscribeTimeout bounds, with ChannelsSharded, how long a join that
	// makes the node need a new channel (the first local member of a
	// room, the first socket of a namespace) waits for Redis to confirm
	// its subscription before Join returns (see "Broadcasts": a join
	// then receives every broadcast published after it returned). It
	// is normally one Redis round trip; when it runs out, the join has
	// taken effect all the same (locally at once, in Redis shortly) and
	// the timeout is logged. Zero means DefaultSubscribeTimeout; negative
	// means joins do not wait (the join window of earlier versions
	// reopens). ChannelsSingle subscribes nothing per join and never waits.
	SubscribeTimeout time.Duration
	// Username and Password authenticate every connection (Redis AUTH).
	// An empty Password means no AUTH; an empty Username with a Password
	// means the "default" user (requirepass). A refused password makes
	// New fail with an error wrapping ErrAuth.
	Username, Password string
	// DB is the Redis database that holds the cluster's keys (SELECT on
	// every connection). Zero means database 0. Pub/sub channels are not
	// per database: clusters that share a Redis need distinct Prefixes,
	// whatever their DB.
	DB int
	// ClientName, if set, names every connection of the node (CLIENT
	// SETNAME), as CLIENT LIST shows them. Empty means unnamed.
	ClientName string
	// TLSConfig, if set, makes every connection use TLS with it (the
	// server name defaults to the host dialed: Addr's, a Redis Cluster
	// node's, a Sentinel's or the master's it names). Nil means plain TCP.
	TLSConfig *tls.Config
	// Dial, if set, opens the network connections instead of a
	// net.Dialer: it is called with "tcp" and Addr (or the address of a
	// Redis Cluster node, a Sentinel or the master it names), and may
	// connect elsewhere (through a proxy, to a Unix socket). Its context ends after DialTimeout. TLS, AUTH,
	// DB and ClientName are applied over the connection it returns. Nil
	// means a net.Dialer to Addr with TCP keep-alives.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialTimeout bounds the opening of a connection, TLS handshake
	// included. Zero means 1 s.
	DialTimeout time.Duration
	// ReadTimeout and WriteTimeout bound each reply read and each command
	// written on the node's connections, so that a hung Redis fails calls
	// instead of blocking them. The subscriber's connection is silent by
	// nature: it pings every TTL/3 and gives up after TTL + TTL/3 without
	// a word instead. Zero means 2 s.
	ReadTimeout, WriteTimeout time.Duration
	// PoolSize bounds the connections that queries (the cluster-wide room
	// queries such as Namespace.Clients, and the session directory's
	// Register and Lookup) use at once; a query that finds them all busy waits for one, within its
	// 2 s bound. Up to 8 of them stay open while idle, for a minute.
	// Besides the pool, a node holds four connections for its life:
	// publisher, subscriber, membership writer and liveness (and one to
	// a Sentinel with SentinelAddrs). Zero means 64.
	PoolSize int

	// NodeID names this node; it must be unique in the cluster. Zero means
	// a random id. A node restarted with the same id first removes what
	// its previous run left in Redis.
	NodeID string
	// Prefix starts every Redis key and channel the cluster uses, so that
	// several clusters can share one Redis. Zero means "siogo".
	Prefix string
	// TTL is how long a node counts as alive after its last liveness
	// refresh; it refreshes every TTL/3. The sockets of a node that stops
	// refreshing are removed from the cluster-wide rooms within about
	// TTL + TTL/3. Zero means DefaultTTL; less than MinTTL is an error.
	TTL time.Duration
	// Logger receives the cluster's logs. Zero means slog.Default().
	Logger *slog.Logger
	// PublishQueue bounds the broadcasts waiting to be published. A
	// broadcast that finds it full is dropped (and counted). Zero means 8192.
	PublishQueue int
	// MembershipQueue bounds the membership changes (Join, Leave,
	// LeaveAll, session directory removals) waiting for the membership
	// writer, in changes. A change that finds it full is not lost: the
	// node's local state has it, the node is marked for a rewrite of its
	// whole membership (counted in Stats().Overflows) and the changes are
	// dropped until that rewrite. Zero means 8192.
	MembershipQueue int
	// ResyncInterval is the least time between two rewrites of the node's
	// whole membership (Stats().Resyncs), however often the queue overflows
	// or writes fail: a client churning through joins and leaves faster
	// than Redis takes them costs at most one rewrite per interval, not
	// one per change. The first rewrite after a quiet interval is not
	// delayed. Zero means DefaultResyncInterval.
	ResyncInterval time.Duration
	// MaxListedRooms bounds the rooms Namespace.Rooms lists (Adapter.AllRooms);
	// with more it returns that many with an error wrapping ErrTruncated.
	// Zero means DefaultMaxListedRooms; negative means no bound.
	MaxListedRooms int
}

// ChannelMode is the pub/sub layout of a cluster's broadcasts
// (Config.Channels).
type ChannelMode int

const (
	// ChannelsSingle publishes every broadcast on one channel that every
	// node subscribes to: each node receives every broadcast of the
	// cluster, and a join takes effect for the other nodes' broadcasts at
	// once. The default.
	ChannelsSingle ChannelMode = iota
	// ChannelsSharded publishes a broadcast to exactly one ordinary room
	// on that room's channel and every other broadcast on its namespace's
	// channel; a node subscribes to the channels of the rooms it has
	// members in and of the namespaces it has sockets in, so it receives
	// only the broadcasts it has receivers for. A join that makes the
	// node need a new channel returns once Redis has confirmed the
	// subscription (one round trip, Config.SubscribeTimeout at most), so
	// that it receives every broadcast published after it returned (see
	// "Broadcasts").
	ChannelsSharded
)

// String returns "sharded" or "single".
func (m ChannelMode) String() string {
	switch m {
	case ChannelsSharded:
		return "sharded"
	case ChannelsSingle:
		return "single"
	}
	return "ChannelMode(" + strconv.Itoa(int(m)) + ")"
}

// ParseChannelMode parses "sharded" or "single" (ChannelMode.String).
func ParseChannelMode(s string) (ChannelMode, error) {
	switch s {
	case "sharded":
		return ChannelsSharded, nil
	case "single":
		return ChannelsSingle, nil
	}
	return 0, fmt.Errorf("sioredis: unknown channel mode %q (want sharded or single)", s)
}

// Defaults and limits.
const (
	DefaultTTL    = 5 * time.Second
	MinTTL        = 300 * time.Millisecond
	DefaultPrefix = "siogo"
	// DefaultResyncInterval is the default Config.ResyncInterval.
	DefaultResyncInterval = time.Second
	// DefaultMaxListedRooms is the default Config.MaxListedRooms.
	DefaultMaxListedRooms = 10000
	// DefaultSubscribeTimeout is the default Config.SubscribeTimeout.
	DefaultSubscribeTimeout = time.Second
)

const (
	// defaultDialTimeout is the default Config.DialTimeout,
	// defaultIOTimeout the default ReadTimeout and WriteTimeout.
	defaultDialTimeout = time.Second
	defaultIOTimeout   = 2 * time.Second
	// defaultPoolSize is the default Config.PoolSize; the pool keeps at
	// most poolIdle connections idle, for poolIdleTimeout.
	defaultPoolSize = 64
	poolIdle        = 8
	poolIdleTimeout = time.Minute
	// opTimeout bounds a query's wait for this node's pending membership
	// writes and for a pooled connection.
	opTimeout = 2 * time.Second
	// sweepBatch is how many sockets one sweep script removes at a time,
	// so that sweeping a large node never blocks Redis for long.
	sweepBatch = 500
	// writeBatch bounds the membership operations pipelined at once.
	writeBatch = 512
	publishMax = 256
	// applyQueue bounds the other nodes' room operations waiting for
	// applyLoop; the subscriber's reader waits when it is full.
	applyQueue = 256
	// defaultQueue is the default PublishQueue and MembershipQueue.
	defaultQueue = 8192
	// closeGrace is how long Close lets the publisher flush.
	closeGrace = time.Second
	// closeTimeout bounds the removal of the node's entries by Close.
	closeTimeout = 2 * time.Second
)

// Errors returned by the cluster and its adapters.
var (
	// ErrUnavailable wraps the Redis error when a cluster-wide query
	// failed; the result returned with it is this node's local view.
	ErrUnavailable = errors.New("sioredis: cluster state unavailable")
	// ErrClosed is returned by queries after Close; the result returned
	// with it is this node's local view.
	ErrClosed = errors.New("sioredis: cluster closed")
	// ErrAuth wraps Redis's refusal of the configured credentials (a
	// wrong Username or Password, or none where Redis requires one).
	ErrAuth = errors.New("sioredis: authentication failed")
	// ErrTruncated says a listing was cut short: Namespace.Rooms beyond
	// Config.MaxListedRooms, or Selection.SocketIDs or Fetch beyond what
	// one node's answer carries (1 MiB: about 50,000 ids). The part
	// returned is sorted. From Selection.EmitWithAck it says a node's
	// acks did not fit in its answer: their sockets are listed as
	// missing.
	ErrTruncated = errors.New("sioredis: listing truncated")
	// ErrIncomplete says an operation on a selection (SocketIDs, Fetch,
	// Join, Leave, Disconnect; EmitWithAck) did not hear from every live
	// node before its context ended or 2 s passed (EmitWithAck: its
	// deadline); the nodes that answered (this one included) have done
	// it. The error names the silent nodes.
	ErrIncomplete = errors.New("sioredis: not every node answered")
	// ErrOpTooLarge refuses an operation whose cluster message would
	// exceed 1 MiB (a huge selection or room list, a broadcast with acks
	// or a server event with large arguments); an incoming one that large
	// is dropped.
	ErrOpTooLarge = errors.New("sioredis: cluster operation too large")
)

// authError wraps err with ErrAuth when it is Redis refusing the
// credentials, so that a misconfiguration reads as one.
func authError(err error) error {
	var rerr redigo.Error
	if err == nil || errors.Is(err, ErrAuth) || !errors.As(err, &rerr) {
		return err
	}
	msg := string(rerr)
	for _, p := range []string{"WRONGPASS", "NOAUTH", "ERR invalid password", "ERR AUTH", "ERR invalid username"} {
		if strings.HasPrefix(msg, p) {
			return fmt.Errorf("%w: %w", ErrAuth, err)
		}
	}
	return err
}

type counters struct {
	published, received, dropped, malformed, subscriptions, resyncs, swept, overflows, refusedLookups atomic.Uint64
}

// Cluster is one node's connection to the Redis shared by the nodes of a
// cluster. Make it with New, pass its Adapter method as the server's
// adapter factory (socketio.Config.Adapter), and Close it after the server.
// One Cluster serves one Server.
type Cluster struct {
	node   string
	prefix string
	ttl    time.Duration
	tick   time.Duration
	log    *slog.Logger
	warn   *rateLog

	pool *redigo.Pool // of queries (standalone); the long-lived connections use dialFn
	// stale is when (Unix ns) a query last failed on a connection: pooled
	// connections used before it are PINGed on borrow (Config.poolStale).
	stale  atomic.Int64
	dialFn func(context.Context) (redigo.Conn, error)
	// topo is the Redis Cluster's slot map and pools (Config.ClusterAddrs),
	// nil on a standalone Redis (route.go).
	topo *topology
	// sentinels finds the master (Config.SentinelAddrs), nil without
	// Sentinels; sentinelLoop watches them for failovers.
	sentinels *sentinels
	// dialAddr opens a connection to one address (the subscriber's per
	// master; Addr on a standalone Redis).
	dialAddr func(context.Context, string) (redigo.Conn, error)
	// sharded is Config.Channels == ChannelsSharded; mode is Config.Channels.
	sharded bool
	mode    ChannelMode
	// pubCmd publishes (PUBLISH, or SPUBLISH on Redis Cluster).
	pubCmd string

	// chmu guards want: the channels this node needs (pubsub.go), which
	// the subscriber follows; subWake wakes it (capacity 1).
	chmu    sync.Mutex
	want    map[string]struct{}
	subWake chan struct{}
	// wantSeq (under chmu) numbers the additions to want; subMu guards
	// subDone, the highest number whose channels are all subscribed
	// (confirmed by Redis), and subDoneCh, closed when it advances. subUp
	// says the subscriber's connections are up. The writer writes a join
	// only once its channels are subscribed (waitSubscribed).
	wantSeq   uint64
	subMu     sync.Mutex
	subDone   uint64
	subDoneCh chan struct{}
	subUp     atomic.Bool
	// subStall (under subMu), if not 0, is subDone+1 when a wait for it
	// ran out: later waits skip while subDone has not moved (a hung Redis
	// would otherwise hold every first-member join for subTimeout).
	subStall uint64
	// subTimeout is how long a join waits for its subscriptions (and the
	// writer before writing it); joinWaits says that Join waits at all
	// (Config.SubscribeTimeout not negative).
	subTimeout time.Duration
	joinWaits  bool
	// applyq feeds applyLoop the other nodes' room operations: they run
	// off the subscriber's reader, whose confirmations their joins wait for.
	applyq chan opMsg
	// shardView is the subscriber's connections for a join's fast path
	// (fastSubscribe), nil while it is down; fastSent (under chmu) the
	// channels that path subscribed since the subscriber's last sync.
	shardView atomic.Pointer[map[string]*shard]
	fastSent  map[string]*shard

	ctx       context.Context // canceled by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// connMu guards conns: the long-lived connections, closed by Close to
	// unblock whatever reads or writes them. The value tells whether Close
	// closes the connection at once (subscriber, writer, liveness) or after
	// closeGrace (the publisher's, which may still flush).
	connMu sync.Mutex
	conns  map[redigo.Conn]bool

	pubq chan pubMsg

	// Membership writer. wmu guards enq, done and doneCh; enqueueing is
	// done under it so that sequence numbers follow queue order.
	ops    chan op
	wmu    sync.Mutex
	enq    uint64        // sequence number of the last queued op
	done   uint64        // sequence number of the last op written or dropped
	doneCh chan struct{} // closed when done advances
	dirty  atomic.Bool   // Redis may lack some of this node's membership
	// resyncGap is Config.ResyncInterval; lastResync (writer goroutine
	// only) is when the last rewrite completed, floor (set under wmu, read
	// by the writer) the sequence number of the last op queued before the
	// last rewrite started.
	resyncGap  time.Duration
	lastResync time.Time
	floor      uint64

	amu      sync.RWMutex
	adapters map[string][]*Adapter

	qmu sync.Mutex
	qbo backoff // of queries: see Cluster.query

	// smu guards sessions: the open sessions of this node (session id to
	// the node's address) for the session directory (sessions.go).
	smu         sync.Mutex
	addr        string // the node's address, set by the first Register
	sessions    map[string]string
	sessionsDue atomic.Bool // rewrite the session entries at the next tick

	poke       chan struct{} // pokeKeeper: refresh now (capacity 1)
	registered bool          // keeper only: the liveness key was set once
	// suspect (keeper only) holds the namespaces whose entries of this
	// node the last refresh found missing in Redis (checkNamespaces).
	suspect    map[string]bool
	subscribed chan struct{} // closed at the first subscription
	subOnce    sync.Once
	stats      counters

	maxRooms int // Config.MaxListedRooms; <= 0: no bound
	// omu guards pending: the room operations of this node waiting for
	// the other nodes' answers, by request id (ops.go).
	omu     sync.Mutex
	pending map[uint64]*call
	opSeq   atomic.Uint64
	// ackSlots counts the broadcasts with acks of other nodes that this
	// node waits on (ackops.go).
	ackSlots chan struct{}
}

// New connects a node to the cluster: it removes what an earlier run with
// the same NodeID left in Redis, marks the node alive and starts the
// publisher, subscriber, membership writer and liveness goroutines. It
// fails if the configuration is invalid or Redis cannot be reached now;
// later Redis failures are survived (see the package documentation).
func New(cfg Config) (*Cluster, error) {
	if err := cfg.connDefaults(); err != nil {
		return nil, err
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < MinTTL {
		return nil, fmt.Errorf("sioredis: Config.TTL %v is below the minimum %v", cfg.TTL, MinTTL)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("sioredis: Config.Prefix %q contains a brace (the keys' hash tags use them)", cfg.Prefix)
	}
	if cfg.NodeID == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("sioredis: node id: %w", err)
		}
		cfg.NodeID = hex.EncodeToString(b[:])
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PublishQueue <= 0 {
		cfg.PublishQueue = defaultQueue
	}
	if cfg.MembershipQueue <= 0 {
		cfg.MembershipQueue = defaultQueue
	}
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = DefaultResyncInterval
	}
	if cfg.MaxListedRooms == 0 {
		cfg.MaxListedRooms = DefaultMaxListedRooms
	}
	subTimeout := cfg.SubscribeTimeout
	if subTimeout <= 0 {
		subTimeout = DefaultSubscribeTimeout
	}
	log := cfg.Logger.With("component", "redis", "node", cfg.NodeID)
	c := &Cluster{
		node:       cfg.NodeID,
		prefix:     cfg.Prefix,
		ttl:        cfg.TTL,
		tick:       cfg.TTL / 3,
		log:        log,
		warn:       newRateLog(log),
		conns:      make(map[redigo.Conn]bool),
		pubq:       make(chan pubMsg, cfg.PublishQueue),
		sharded:    cfg.Channels == ChannelsSharded,
		mode:       cfg.Channels,
		pubCmd:     publishCommand(len(cfg.ClusterAddrs) > 0),
		want:       make(map[string]struct{}),
		subWake:    make(chan struct{}, 1),
		subDoneCh:  make(chan struct{}),
		fastSent:   make(map[string]*shard),
		subTimeout: subTimeout,
		joinWaits:  cfg.SubscribeTimeout >= 0,
		applyq:     make(chan opMsg, applyQueue),
		ops:        make(chan op, cfg.MembershipQueue),
		resyncGap:  cfg.ResyncInterval,
		doneCh:     make(chan struct{}),
		adapters:   make(map[string][]*Adapter),
		sessions:   make(map[string]string),
		subscribed: make(chan struct{}),
		poke:       make(chan struct{}, 1),
		maxRooms:   cfg.MaxListedRooms,
		pending:    make(map[uint64]*call),
		ackSlots:   make(chan struct{}, maxAcksRunning),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	opts := cfg.dialOptions()
	c.dialAddr = cfg.addrDialer(opts)
	if len(cfg.ClusterAddrs) > 0 {
		topo, err := newTopology(&cfg, opts, c.dialAddr)
		if err != nil {
			c.cancel()
			return nil, fmt.Errorf("sioredis: connecting node %s to the Redis Cluster: %w", c.node, err)
		}
		topo.newPool = func(dial func(context.Context) (redigo.Conn, error)) *redigo.Pool {
			return cfg.poolStale(dial, &c.stale)
		}
		c.topo = topo
		c.dialFn = func(ctx context.Context) (redigo.Conn, error) { return topo.newConn(ctx, false), nil }
	} else {
		if len(cfg.SentinelAddrs) > 0 {
			c.sentinels = cfg.newSentinels(opts)
			c.sentinels.onSwitch = c.masterSwitched
			c.dialFn = c.sentinels.conn
		} else {
			c.dialFn = cfg.addrDialerRO()
		}
		c.pool = cfg.poolStale(c.dialFn, &c.stale)
	}
	c.want[c.controlChannel()] = struct{}{}
	if c.sharded {
		c.want[c.nodeChannel(c.node)] = struct{}{}
	}
	if err := c.start(); err != nil {
		c.cancel()
		c.closePools()
		return nil, fmt.Errorf("sioredis: connecting node %s: %w", c.node, authError(err))
	}
	c.wg.Add(5)
	go c.publishLoop()
	go c.subscribeLoop()
	go c.writeLoop()
	go c.keepLoop()
	go c.applyLoop()
	if c.sentinels != nil {
		c.wg.Add(1)
		go c.sentinelLoop()
	}
	// A broadcast published before the subscription would be missed: New
	// returns once the node receives the cluster's broadcasts.
	t := time.NewTimer(opTimeout)
	defer t.Stop()
	select {
	case <-c.subscribed:
		return c, nil
	case <-t.C:
		_ = c.shutdown(true)
		return nil, fmt.Errorf("sioredis: node %s could not subscribe within %v", c.node, opTimeout)
	}
}

// start purges what an earlier run of this node left and marks it alive.
func (c *Cluster) start() error {
	conn, err := c.get()
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := c.purgeOwn(context.Background(), conn); err != nil {
		return err
	}
	if _, err := conn.Do("SADD", c.nodesKey(), c.node); err != nil {
		return err
	}
	if _, err := refreshScript.Do(conn, c.aliveKey(c.node), c.sweptKey(c.node), c.ttl.Milliseconds(), "", "1"); err != nil {
		return err
	}
	c.registered = true
	return nil
}

// closePools closes the query pools.
func (c *Cluster) closePools() {
	if c.topo != nil {
		c.topo.close()
	}
	if c.pool != nil {
		_ = c.pool.Close()
	}
}

// getConn returns a query connection: pooled (on Redis Cluster, a
// cluster connection over the masters' pools), within ctx.
func (c *Cluster) getConn(ctx context.Context) (redigo.Conn, error) {
	if c.topo != nil {
		return c.topo.newConn(ctx, true), nil
	}
	return c.pool.GetContext(ctx)
}

// NodeID returns the node's id.
func (c *Cluster) NodeID() string { return c.node }

// Stats returns the node's counters (see "When Redis fails" and "Trust"
// in the package documentation for what each one means here).
func (c *Cluster) Stats() socketio.ClusterStats {
	return socketio.ClusterStats{
		Published:      c.stats.published.Load(),
		Received:       c.stats.received.Load(),
		Dropped:        c.stats.dropped.Load(),
		Malformed:      c.stats.malformed.Load(),
		Subscriptions:  c.stats.subscriptions.Load(),
		Resyncs:        c.stats.resyncs.Load(),
		Swept:          c.stats.swept.Load(),
		Overflows:      c.stats.overflows.Load(),
		RefusedLookups: c.stats.refusedLookups.Load(),
	}
}

// Close takes the node out of the cluster: it stops the node's goroutines
// (the publisher may take up to a second to publish what is queued), then
// removes the node's sockets from the cluster-wide rooms and its liveness
// key, so the other nodes see it gone at once. If Redis does not answer,
// that cleanup gives up after 2 s and the survivors sweep the node when its
// liveness key expires. After Close the adapters serve this node's own
// sockets only, as the in-memory adapter would; close the server before or
// after, as convenient. Close is idempotent; the error is the cleanup's.
func (c *Cluster) Close() error { return c.shutdown(true) }

// shutdown stops the goroutines; with cleanup it also removes the node's
// state from Redis. Without, the node looks dead to the others once its
// liveness key expires, as after a crash.
func (c *Cluster) shutdown(cleanup bool) error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.cancel()
		c.closeConns(false)
		done := make(chan struct{})
		go func() {
			c.wg.Wait()
			close(done)
		}()
		t := time.NewTimer(closeGrace)
		select {
		case <-done:
		case <-t.C:
			c.closeConns(true)
			<-done
		}
		t.Stop()
		c.closeConns(true)
		if cleanup {
			c.closeErr = c.cleanup()
		}
		c.closePools()
	})
	return c.closeErr
}

func (c *Cluster) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	// A fresh connection: pooled ones may be stale (Redis restarted).
	conn, err := c.dialFn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := c.purgeOwn(ctx, conn); err != nil {
		return err
	}
	if err := c.deleteSessions(ctx, conn); err != nil {
		return err
	}
	if _, err := doContext(ctx, conn, "DEL", c.aliveKey(c.node)); err != nil {
		return err
	}
	_, err = doContext(ctx, conn, "SREM", c.nodesKey(), c.node)
	return err
}

// doContext runs a command bounded by ctx when the connection supports it.
func doContext(ctx context.Context, conn redigo.Conn, cmd string, args ...any) (any, error) {
	if cc, ok := conn.(redigo.ConnWithContext); ok {
		return cc.DoContext(ctx, cmd, args...)
	}
	return conn.Do(cmd, args...)
}

// scriptContext runs a script bounded by ctx when the connection supports it.
func scriptContext(ctx context.Context, s *redigo.Script, conn redigo.Conn, keysAndArgs ...any) (any, error) {
	if _, ok := conn.(redigo.ConnWithContext); ok {
		return s.DoContext(ctx, conn, keysAndArgs...)
	}
	return s.Do(conn, keysAndArgs...)
}

// get borrows a pooled connection, waiting at most opTimeout.
func (c *Cluster) get() (redigo.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	if c.topo != nil {
		// Its connections are opened as commands need them: the context
		// lasts until Close.
		m := c.topo.newConn(ctx, true)
		m.onClose = cancel
		return m, nil
	}
	defer cancel()
	return c.getConn(ctx)
}

// dial makes a long-lived connection and tracks it so that Close can
// close it (at once if now). It fails once the cluster is closed.
func (c *Cluster) dial(now bool) (redigo.Conn, error) {
	if c.ctx.Err() != nil {
		return nil, ErrClosed
	}
	conn, err := c.dialFn(c.ctx)
	if err != nil {
		return nil, err
	}
	c.connMu.Lock()
	if c.ctx.Err() != nil {
		c.connMu.Unlock()
		_ = conn.Close()
		return nil, ErrClosed
	}
	c.conns[conn] = now
	c.connMu.Unlock()
	return conn, nil
}

// closeConns closes the tracked connections Close closes at once, or
// all of them.
func (c *Cluster) closeConns(all bool) {
	c.connMu.Lock()
	for conn, now := range c.conns {
		if now || all {
			_ = conn.Close()
			delete(c.conns, conn)
		}
	}
	c.connMu.Unlock()
}

// hangUp closes a long-lived connection.
func (c *Cluster) hangUp(conn redigo.Conn) {
	if conn == nil {
		return
	}
	c.connMu.Lock()
	delete(c.conns, conn)
	c.connMu.Unlock()
	_ = conn.Close()
}

// sleep waits d or until Close; it reports whether the cluster is open.
func (c *Cluster) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// purgeNS removes up to sweepBatch sockets written by node in the
// namespace of tag (see purgeScript) and returns how many are left.
func (c *Cluster) purgeNS(ctx context.Context, conn redigo.Conn, tag, node string, counted bool) (int, error) {
	res, err := redigo.Ints(scriptContext(ctx, purgeScript, conn, nodeNSTagKey(tag, node), tag, sweepBatch))
	if err != nil {
		return 0, err
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("sioredis: unexpected purge reply %v", res)
	}
	if counted {
		c.stats.swept.Add(uint64(res[1]))
	}
	return res[0], nil
}

// purgeOwn removes everything this node's id wrote (New: a previous
// run's leftovers; Close), and its namespace set.
func (c *Cluster) purgeOwn(ctx context.Context, conn redigo.Conn) error {
	parts, err := redigo.Strings(doContext(ctx, conn, "SMEMBERS", c.spacesKey(c.node)))
	if err != nil {
		return err
	}
	for _, part := range parts {
		for {
			left, err := c.purgeNS(ctx, conn, c.tagOfPart(part), c.node, false)
			if err != nil {
				return err
			}
			if left <= 0 {
				break
			}
		}
	}
	_, err = doContext(ctx, conn, "DEL", c.spacesKey(c.node))
	return err
}

// sweepNode removes the sockets of node if its liveness key is gone. The
// liveness key is of another slot than the namespaces' keys, so the check
// cannot be atomic with the removal (on standalone Redis too: the same
// scripts run everywhere): the sweeper checks it before each batch and
// stops as soon as the node is back; sweepEndScript then looks once more,
// atomically with the swept mark, so that a node that came back while it
// was swept rewrites its membership at its next refresh (the others may
// see fewer of its members until then: at most about a tick, TTL/3).
func (c *Cluster) sweepNode(conn redigo.Conn, node string) error {
	dead, err := redigo.Int(sweepStartScript.Do(conn, c.aliveKey(node)))
	if err != nil || dead == 0 {
		return err
	}
	parts, err := redigo.Strings(conn.Do("SMEMBERS", c.spacesKey(node)))
	if err != nil {
		return err
	}
	ctx := context.Background()
	back := false
spaces:
	for _, part := range parts {
		for c.ctx.Err() == nil {
			alive, err := redigo.Bool(conn.Do("EXISTS", c.aliveKey(node)))
			if err != nil {
				return err
			}
			if alive {
				back = true
				break spaces
			}
			left, err := c.purgeNS(ctx, conn, c.tagOfPart(part), node, true)
			if err != nil {
				return err
			}
			if left <= 0 {
				break
			}
		}
	}
	if c.ctx.Err() != nil {
		return nil
	}
	again, err := redigo.Int(sweepEndScript.Do(conn, c.aliveKey(node), c.sweptKey(node), c.spacesKey(node),
		sessionTTLFactor*c.ttl.Milliseconds()))
	if err != nil {
		return err
	}
	if again == 1 || back {
		c.log.Info("sioredis: a node came back while it was swept; it will rewrite its rooms", "node", clip(node))
		return nil
	}
	_, err = conn.Do("SREM", c.nodesKey(), node)
	return err
}

// keepLoop refreshes the node's liveness key and sweeps dead nodes every
// TTL/3, on a connection of its own, and at once when pokeKeeper asks.
func (c *Cluster) keepLoop() {
	defer c.wg.Done()
	l := link{closeNow: true}
	defer func() { c.linkFail(&l, nil) }()
	t := time.NewTicker(c.tick)
	defer t.Stop()
	for ticks := 0; ; {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			ticks++
			if ticks%sessionRefreshTicks == 0 {
				c.sessionsDue.Store(true)
			}
		case <-c.poke:
		}
		conn, err := c.linkConn(&l)
		if err != nil {
			if err != errBackoff {
				c.warn.warn("refresh", "sioredis: cannot refresh node liveness", "err", err)
			}
			continue
		}
		if err := c.refresh(conn); err != nil {
			c.warn.warn("refresh", "sioredis: cannot refresh node liveness", "err", err)
			c.linkFailed(&l, err)
			continue
		}
		if err := c.sweep(conn); err != nil {
			c.warn.warn("sweep", "sioredis: sweep failed", "err", err)
			c.linkFailed(&l, err)
			continue
		}
		if c.sessionsDue.Swap(false) {
			if err := c.refreshSessions(conn); err != nil {
				c.sessionsDue.Store(true)
				c.warn.warn("sessions", "sioredis: cannot write the session directory", "err", err)
				c.linkFailed(&l, err)
				continue
			}
		}
		l.bo.reset()
	}
}

// pokeKeeper makes the liveness goroutine refresh now rather than at its
// next tick: the subscriber calls it when it subscribes again after
// losing its connection, as Redis may have restarted empty. A refresh
// that finds the liveness key gone has the node rewrite its membership
// and session entries, so they are back within a round trip of Redis
// answering again instead of up to a tick (TTL/3) later.
func (c *Cluster) pokeKeeper() {
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

// refresh sets the liveness key. If it had expired, the node may have been
// swept as dead (or Redis lost its data): the membership writer rewrites
// this node's rooms.
func (c *Cluster) refresh(conn redigo.Conn) error {
	if _, err := conn.Do("SADD", c.nodesKey(), c.node); err != nil {
		return err
	}
	old, err := refreshScript.Do(conn, c.aliveKey(c.node), c.sweptKey(c.node), c.ttl.Milliseconds(), c.nodeAddr(), "0")
	if err != nil {
		return err
	}
	c.warn.reset("refresh")
	if old == nil && c.registered {
		c.log.Info("sioredis: node liveness key had expired or was lost; rewriting this node's rooms")
		c.dirty.Store(true)
		c.kickWriter()
		c.sessionsDue.Store(true)
	}
	c.registered = true
	if c.dirty.Load() {
		return nil // a rewrite is due anyway
	}
	return c.checkNamespaces(conn)
}

// checkNamespaces finds the namespaces where this node has sockets but
// Redis holds none of its entries (its {P:NS}:node:<node> set is gone):
// on Redis Cluster, a master restarted empty while the node's liveness
// key, on another master, survived, so the refresh above saw nothing
// wrong. Found on two refreshes in a row (at one, the write of a
// namespace's first socket may still be queued), it makes the node
// rewrite its membership, as a lost liveness key does. One EXISTS per
// namespace with local sockets per refresh.
func (c *Cluster) checkNamespaces(conn redigo.Conn) error {
	var lost map[string]bool
	rewrite := false
	for _, a := range c.allAdapters() {
		if n, _ := a.mem.RoomSize(context.Background(), ""); n == 0 {
			continue
		}
		n, err := redigo.Int(conn.Do("EXISTS", c.nodeNSKey(a.name, c.node)))
		if err != nil {
			return err
		}
		if n == 0 {
			if lost == nil {
				lost = make(map[string]bool)
			}
			lost[a.name] = true
			rewrite = rewrite || c.suspect[a.name]
		}
	}
	c.suspect = lost
	if rewrite {
		c.log.Info("sioredis: Redis lost this node's entries of a namespace; rewriting this node's rooms")
		c.suspect = nil
		c.dirty.Store(true)
		c.kickWriter()
		c.sessionsDue.Store(true)
	}
	return nil
}

// sweep removes the sockets of nodes whose liveness key expired. A lock
// lets one node sweep at a time; sweepNode re-checks liveness between
// batches and after.
func (c *Cluster) sweep(conn redigo.Conn) error {
	_, err := redigo.String(conn.Do("SET", c.lockKey(), c.node, "NX", "PX", c.ttl.Milliseconds()))
	if errors.Is(err, redigo.ErrNil) {
		return nil // another node sweeps
	}
	if err != nil {
		return err
	}
	defer func() { _, _ = unlockScript.Do(conn, c.lockKey(), c.node) }()
	nodes, err := redigo.Strings(conn.Do("SMEMBERS", c.nodesKey()))
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if n == c.node {
			continue
		}
		before := c.stats.swept.Load()
		if err := c.sweepNode(conn, n); err != nil {
			return err
		}
		if k := c.stats.swept.Load() - before; k > 0 {
			c.log.Info("sioredis: removed the sockets of a dead node", "dead", n, "sockets", k)
		}
	}
	return nil
}
