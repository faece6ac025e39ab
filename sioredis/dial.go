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
	case cfg.Addr == "" && len(cfg.ClusterAddrs) == 0:
		return errors.New("sioredis: Config.Addr (or ClusterAddrs) is required")
	case cfg.Addr != "" && len(cfg.ClusterAddrs) > 0:
		return errors.New("sioredis: Config.Addr and ClusterAddrs do not go together")
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

// dialer returns the function that opens every connection of the node,
// pooled or long-lived, from cfg (after connDefaults), to Addr.
func (cfg *Config) dialer() func(context.Context) (redigo.Conn, error) {
	dial := cfg.addrDialer(cfg.dialOptions())
	addr := cfg.Addr
	return func(ctx context.Context) (redigo.Conn, error) { return dial(ctx, addr) }
}

// addrDialer returns the function that opens a connection to addr with
// opts (a Redis Cluster master's, or Addr).
func (cfg *Config) addrDialer(opts []redigo.DialOption) func(context.Context, string) (redigo.Conn, error) {
	return func(ctx context.Context, addr string) (redigo.Conn, error) {
		conn, err := redigo.DialContext(ctx, "tcp", addr, opts...)
		return conn, authError(err)
	}
}

// dialOptions returns the redigo options of every connection.
func (cfg *Config) dialOptions() []redigo.DialOption {
	opts := []redigo.DialOption{
		redigo.DialConnectTimeout(cfg.DialTimeout),
		redigo.DialReadTimeout(cfg.ReadTimeout),
		redigo.DialWriteTimeout(cfg.WriteTimeout),
	}
	if cfg.Password != "" {
		opts = append(opts, redigo.DialUsername(cfg.Username), redigo.DialPassword(cfg.Password))
	}
	if cfg.DB != 0 {
		opts = append(opts, redigo.DialDatabase(cfg.DB))
	}
	if cfg.ClientName != "" {
		opts = append(opts, redigo.DialClientName(cfg.ClientName))
	}
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
			if time.Since(lastUsed) < time.Second && (stale == nil || lastUsed.UnixNano() > stale.Load()) {
				return nil
			}
			_, err := doContext(ctx, conn, "PING")
			return err
		},
	}
}
