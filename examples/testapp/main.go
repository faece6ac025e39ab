// Command testapp is the server the conformance tests drive: every
// client-visible feature of siogo behind the fixed contract described in
// the project's TESTAPP notes (events echo, join, to-room, broadcast, ask,
// kick, burst, volatile, handshake, rooms, count, set/get, watch, and the
// cluster-wide to-id, kick-id, fetch, poll-room; the namespaces "", /chat,
// /private and /acl).
//
// With -redis ADDR the node joins the nodes sharing that Redis: rooms and
// broadcasts are shared, and requests for sessions held by another node are
// forwarded to it (-node-addr, default the listening address, is where the
// others reach this node; -redis-ttl its liveness TTL). -redis-cluster
// SEEDS joins through a Redis Cluster instead, -redis-sentinel ADDRS with
// -redis-sentinel-master NAME through the master Redis Sentinel names;
// -redis-channels single|sharded
// picks the broadcast channels (the same on every node). -metrics ADDR
// serves Prometheus metrics (the server's and the cluster adapter's) at
// /metrics.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/siogo/siogo/metrics"
	"github.com/siogo/siogo/sioredis"
	"github.com/siogo/siogo/socketio"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "testapp:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("testapp", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	hbInterval := fs.Duration("heartbeat-interval", socketio.DefaultHeartbeatInterval, "heartbeat interval")
	hbTimeout := fs.Duration("heartbeat-timeout", socketio.DefaultHeartbeatTimeout, "heartbeat timeout")
	closeTimeout := fs.Duration("close-timeout", socketio.DefaultCloseTimeout, "close timeout")
	polling := fs.Duration("polling-duration", socketio.DefaultPollingDuration, "polling duration")
	pingInterval := fs.Duration("ping-interval", socketio.DefaultPingInterval, "Engine.IO ping interval (v4 clients)")
	pingTimeout := fs.Duration("ping-timeout", socketio.DefaultPingTimeout, "Engine.IO ping timeout (v4 clients)")
	redisAddr := fs.String("redis", "", "Redis address (host:port) to join the nodes sharing it")
	nodeAddr := fs.String("node-addr", "", "with -redis: the address (host:port) at which the other nodes reach this one, to forward requests for its sessions (default: the listening address)")
	redisCluster := fs.String("redis-cluster", "", "Redis Cluster seed nodes (host:port,host:port...) to join the nodes sharing it, instead of -redis")
	redisSentinel := fs.String("redis-sentinel", "", "Redis Sentinel addresses (host:port,host:port...) through which to find the master of the nodes' Redis, instead of -redis (with -redis-sentinel-master)")
	redisSentinelMaster := fs.String("redis-sentinel-master", "", "with -redis-sentinel: the name the Sentinels monitor the master under")
	redisChannels := fs.String("redis-channels", "single", "with -redis, -redis-cluster or -redis-sentinel: broadcast channels, sharded (per namespace and room) or single (one channel for all); the same on every node")
	redisTTL := fs.Duration("redis-ttl", sioredis.DefaultTTL, "with -redis: node liveness TTL (a dead node's sockets leave the cluster within about TTL + TTL/3)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	metricsAddr := fs.String("metrics", "", "serve the server's and, with -redis, -redis-cluster or -redis-sentinel, the cluster adapter's Prometheus metrics (package metrics) at /metrics on this address (empty: off)")
	pprofAddr := fs.String("pprof", os.Getenv("TESTAPP_PPROF"), "serve net/http/pprof on this address (default $TESTAPP_PPROF; empty: off)")
	publishToken := fs.String("publish-token", "", "serve the HTTP publish API at /publish with this bearer token (empty: off)")
	suite := fs.Bool("suite", false, "serve what the official suites expect instead: the Engine.IO echo server at /engine.io/ and the Socket.IO v5 suite's server at /socket.io/ (listen on :3000 for them)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *suite && (*redisAddr != "" || *redisCluster != "" || *redisSentinel != "") {
		return fmt.Errorf("-suite and -redis do not go together")
	}
	channels, err := sioredis.ParseChannelMode(*redisChannels)
	if err != nil {
		return fmt.Errorf("-redis-channels: %w", err)
	}
	var seeds, sentinels []string
	if *redisCluster != "" {
		seeds = strings.Split(*redisCluster, ",")
	}
	if *redisSentinel != "" {
		sentinels = strings.Split(*redisSentinel, ",")
	}
	if (*redisSentinel == "") != (*redisSentinelMaster == "") {
		return fmt.Errorf("-redis-sentinel and -redis-sentinel-master go together")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger) // the handlers' own logs (cluster.go)
	cfg := socketio.Config{
		HeartbeatInterval: *hbInterval,
		HeartbeatTimeout:  *hbTimeout,
		CloseTimeout:      *closeTimeout,
		PollingDuration:   *polling,
		PingInterval:      *pingInterval,
		PingTimeout:       *pingTimeout,
		Logger:            logger,
	}
	if *pprofAddr != "" {
		pl, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			return fmt.Errorf("-pprof: %w", err)
		}
		defer pl.Close()
		go func() { _ = http.Serve(pl, pprofMux()) }()
		logger.Info("pprof", "addr", pl.Addr().String())
	}
	// KeepAlive -1: no per-connection keepalive setsockopt calls; the
	// Socket.IO ping/pong already detects dead peers.
	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	var clusterStats metrics.ClusterSource
	if *redisAddr != "" || len(seeds) > 0 || len(sentinels) > 0 {
		cluster, err := sioredis.New(sioredis.Config{Addr: *redisAddr, ClusterAddrs: seeds,
			SentinelAddrs: sentinels, SentinelMaster: *redisSentinelMaster,
			Channels: channels, TTL: *redisTTL, Logger: logger})
		if err != nil {
			return fmt.Errorf("-redis: %w", err)
		}
		defer cluster.Close()
		clusterStats = cluster
		cfg.Adapter = cluster.Adapter
		cfg.Sessions = cluster
		cfg.NodeAddr = *nodeAddr
		if cfg.NodeAddr == "" {
			cfg.NodeAddr = ln.Addr().String()
		}
		logger.Info("joined cluster", "redis", *redisAddr, "redis_cluster", *redisCluster, "redis_sentinel", *redisSentinel, "channels", channels, "node", cluster.NodeID(), "node_addr", cfg.NodeAddr)
	}
	var srv interface {
		http.Handler
		Shutdown(context.Context) error
	}
	if *suite {
		srv = newSuiteServer(logger)
	} else {
		sio := newServer(cfg)
		srv = sio
		if *metricsAddr != "" {
			ml, err := net.Listen("tcp", *metricsAddr)
			if err != nil {
				return fmt.Errorf("-metrics: %w", err)
			}
			defer ml.Close()
			go func() { _ = http.Serve(ml, metricsMux(sio, clusterStats)) }()
			logger.Info("metrics", "addr", ml.Addr().String())
		}
	}
	handler, err := withPublish(srv, *publishToken)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return hs.Shutdown(sctx)
}

// metricsMux serves /metrics for -metrics: the server's collector and,
// if cluster is not nil, the cluster adapter's.
func metricsMux(srv *socketio.Server, cluster metrics.ClusterSource) *http.ServeMux {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(srv))
	if cluster != nil {
		reg.MustRegister(metrics.NewClusterCollector(cluster))
	}
	m := http.NewServeMux()
	m.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return m
}

// pprofMux serves the runtime profiles (net/http/pprof) for -pprof.
func pprofMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}

// newServer builds the testapp server (also used by in-process tests).
func newServer(cfg socketio.Config) *socketio.Server {
	cfg.Transports = socketio.DefaultTransports
	cfg.AllowedOrigins = nil
	cfg.Authorize = func(_ context.Context, hs *socketio.Handshake) (any, error) {
		if hs.Query.Get("deny") == "1" {
			return nil, socketio.ErrUnauthorized
		}
		return nil, nil
	}
	srv := socketio.NewServer(cfg)
	setup(srv)
	return srv
}
