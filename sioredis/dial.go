package sioredis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	redigo "github.com/gomodule/redigo/redis"
)

// connDefaults checks the connection fields of cfg and fills in their
// defaults.
func (cfg *Config) connDefaults() error {
	switch {
	case cfg.Addr == "" && len(cfg.ClusterAddrs) == 0 && len(cfg.SentinelAddrs) == 0:
		return errors.New("sioredis: Config.Addr (or ClusterAddrs, or SentinelAddrs) is required")
	case cfg.Addr != "" && len(cfg.ClusterAddrs) > 0:
		return errors.New("sioredis: Config.Addr and ClusterAddrs do not go together")
	case len(cfg.SentinelAddrs) > 0 && (cfg.Addr != "" || len(cfg.ClusterAddrs) > 0):
		return errors.New("sioredis: Config.SentinelAddrs goes with neither Addr nor ClusterAddrs (the Sentinels name the master)")
	case len(cfg.SentinelAddrs) > 0 && cfg.SentinelMaster == "":
		return errors.New("sioredis: Config.SentinelMaster (the name the Sentinels monitor the master under) is required with SentinelAddrs")
	case len(cfg.SentinelAddrs) == 0 && (cfg.SentinelMaster != "" || cfg.SentinelPassword != ""):
		return errors.New("sioredis: Config.SentinelMaster and SentinelPassword need SentinelAddrs")
	case cfg.SentinelUsername != "" && cfg.SentinelPassword == "":
		return errors.New("sioredis: Config.SentinelUsername needs a Config.SentinelPassword")
	case len(cfg.ClusterAddrs) > 0 && cfg.DB != 0:
		return errors.New("sioredis: Config.DB must be 0 with ClusterAddrs (Redis Cluster has one database)")
	case cfg.Channels != ChannelsSharded && cfg.Channels != ChannelsSingle:
		return fmt.Errorf("sioredis: unknown Config.Channels %d", int(cfg.Channels))
	case cfg.Username != "" && cfg.Password == "":
		return errors.New("sioredis: Config.Username needs a Config.Password")
	case cfg.DB < 0:
		return fmt.Errorf("sioredis: Config.DB %d is negative", cfg.DB)
	case cfg.DialTimeout < 0, cfg.ReadTimeout < 0, cfg.WriteTimeout < 0:
		return errors.New("sioredis: Config.DialTimeout, ReadTimeout and WriteTimeout must not be negative")
	case cfg.PoolSize < 0:
		return fmt.Errorf("sioredis: Config.PoolSize %d is negative", cfg.PoolSize)
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = defaultDialTimeout
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = defaultIOTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = defaultIOTimeout
	}
	if cfg.PoolSize == 0 {
		cfg.PoolSize = defaultPoolSize
	}
	return nil
}

// dialer returns the function that opens every connection of an emitter
// (a node's: New), from cfg (after connDefaults): to Addr, or to the
// master the Sentinels name (SentinelAddrs). A READONLY reply on one of
// its connections fails that connection and every one it opened before
// (roConn): the server was demoted to a replica. With Sentinels, when a
// connection finds another master than the one before (a failover), the
// connections to the old one fail too.
func (cfg *Config) dialer() func(context.Context) (redigo.Conn, error) {
	if len(cfg.SentinelAddrs) > 0 {
		return cfg.newSentinels(cfg.dialOptions()).conn
	}
	return cfg.addrDialerRO()
}

// addrDialerRO returns the dialer of Addr, whose connections fail on
// READONLY (roConn).
func (cfg *Config) addrDialerRO() func(context.Context) (redigo.Conn, error) {
	dial := cfg.addrDialer(cfg.dialOptions())
	addr := cfg.Addr
	d := new(demotion)
	return func(ctx context.Context) (redigo.Conn, error) {
		conn, err := dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		return d.wrap(conn), nil
	}
}

// addrDialer returns the function that opens a connection to addr with
// opts (a Redis Cluster master's, or Addr).
func (cfg *Config) addrDialer(opts []redigo.DialOption) func(context.Context, string) (redigo.Conn, error) {
	return func(ctx context.Context, addr string) (redigo.Conn, error) {
		conn, err := redigo.DialContext(ctx, "tcp", addr, opts...)
		return conn, authError(err)
	}
}

// baseOptions are the redigo options of every connection, to a data node
// or to a Sentinel: the timeouts, and AUTH with user and password (none
// with an empty password).
func (cfg *Config) baseOptions(user, password string) []redigo.DialOption {
	opts := []redigo.DialOption{
		redigo.DialConnectTimeout(cfg.DialTimeout),
		redigo.DialReadTimeout(cfg.ReadTimeout),
		redigo.DialWriteTimeout(cfg.WriteTimeout),
	}
	if password != "" {
		opts = append(opts, redigo.DialUsername(user), redigo.DialPassword(password))
	}
	return opts
}

// dialOptions returns the redigo options of every connection to a data node.
func (cfg *Config) dialOptions() []redigo.DialOption {
	opts := cfg.baseOptions(cfg.Username, cfg.Password)
	if cfg.DB != 0 {
		opts = append(opts, redigo.DialDatabase(cfg.DB))
	}
	if cfg.ClientName != "" {
		opts = append(opts, redigo.DialClientName(cfg.ClientName))
	}
	return append(opts, cfg.transportOptions()...)
}

// transportOptions returns the redigo options of TLSConfig and Dial, which
// apply to the Sentinels' connections too.
func (cfg *Config) transportOptions() []redigo.DialOption {
	var opts []redigo.DialOption
	if cfg.TLSConfig != nil {
		opts = append(opts, redigo.DialUseTLS(true), redigo.DialTLSConfig(cfg.TLSConfig),
			redigo.DialTLSHandshakeTimeout(cfg.DialTimeout))
	}
	if dial := cfg.Dial; dial != nil {
		// redigo applies DialConnectTimeout to its own net.Dialer only.
		timeout := cfg.DialTimeout
		opts = append(opts, redigo.DialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return dial(ctx, network, addr)
		}))
	}
	return opts
}

// pool returns the pool of the node's queries, whose connections dial
// opens (see Config.PoolSize). A connection idle for a second or more is
// checked with a PING before use, so that a query after a quiet Redis
// restart does not fail on a stale connection.
func (cfg *Config) pool(dial func(context.Context) (redigo.Conn, error)) *redigo.Pool {
	return cfg.poolStale(dial, nil)
}

// poolStale is pool, where a connection last used before the time in
// stale (Unix nanoseconds, set when a query failed on a connection of
// the node: Redis, or one master of a Redis Cluster, restarted while
// traffic kept the connections busy) is also checked with a PING before
// use. A nil stale is pool.
func (cfg *Config) poolStale(dial func(context.Context) (redigo.Conn, error), stale *atomic.Int64) *redigo.Pool {
	return &redigo.Pool{
		DialContext: dial,
		MaxIdle:     min(poolIdle, cfg.PoolSize),
		MaxActive:   cfg.PoolSize,
		Wait:        true,
		IdleTimeout: poolIdleTimeout,
		TestOnBorrowContext: func(ctx context.Context, conn redigo.Conn, lastUsed time.Time) error {
			if err := conn.Err(); err != nil {
				return err // another connection got READONLY (roConn)
			}
			if time.Since(lastUsed) < time.Second && (stale == nil || lastUsed.UnixNano() > stale.Load()) {
				return nil
			}
			_, err := doContext(ctx, conn, "PING")
			return err
		},
	}
}
