// Command chat is siogo's demo: a chat with nicknames, rooms, history and
// private messages, served to browsers running the real socket.io.js 0.9.16
// client, or the modern socket.io.js 4.x with http://localhost:8080/?client=4:
// both generations chat in the same rooms.
//
//	make demo                          # installs the clients, then runs:
//	go run ./examples/chat -addr :8080
//
// With -redis ADDR it joins the nodes sharing that Redis (rooms,
// broadcasts and sessions; see examples/cluster).
//
// See README.md for the event protocol between the page and the server.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/siogo/siogo/sioredis"
	"github.com/siogo/siogo/socketio"
)

//go:embed web
var webFS embed.FS

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("chat", flag.ContinueOnError)
	ef := addWebFlags(flags, "localhost:8080")
	redisAddr := flags.String("redis", "", "Redis address (host:port): join the chat nodes sharing it")
	nodeAddr := flags.String("node-addr", "", "with -redis: the address (host:port) at which the other nodes\n"+
		"reach this one, to forward the requests of its sessions (default: the listening address)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	logger, dirs, err := ef.setup()
	if err != nil {
		return err
	}
	// KeepAlive -1: no per-connection keepalive setsockopt calls; the
	// Socket.IO ping/pong already detects dead peers.
	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", *ef.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	var cfg socketio.Config
	if *redisAddr != "" {
		cluster, err := sioredis.New(sioredis.Config{Addr: *redisAddr, Logger: logger})
		if err != nil {
			return fmt.Errorf("-redis: %w", err)
		}
		defer cluster.Close()
		cfg.Adapter, cfg.Sessions, cfg.NodeAddr = cluster.Adapter, cluster, *nodeAddr
		if cfg.NodeAddr == "" {
			cfg.NodeAddr = ln.Addr().String()
		}
		logger.Info("joined the cluster", "redis", *redisAddr, "node", cluster.NodeID(), "node_addr", cfg.NodeAddr)
	}
	srv, _, handler := newAppWith(cfg, dirs.open(), logger)
	logger.Info("chat is running", "url", pageURL(ln.Addr()), "client", filepath.Join(dirs.V09, clientFile))
	if dirs.V4 != "" {
		logger.Info("with socket.io.js 4.x", "url", pageURL(ln.Addr())+"?client=4", "client", filepath.Join(dirs.V4, client4File))
	}
	return serve(ln, handler, srv, logger)
}

// newApp builds the chat: the Socket.IO server, the chat on its default
// namespace and the HTTP handler serving the pages, the clients and the
// server.
func newApp(c clients, logger *slog.Logger) (*socketio.Server, *Chat, http.Handler) {
	return newAppWith(socketio.Config{}, c, logger)
}

// newAppWith is newApp with the cluster settings of cfg (Adapter,
// Sessions, NodeAddr).
func newAppWith(cfg socketio.Config, c clients, logger *slog.Logger) (*socketio.Server, *Chat, http.Handler) {
	cfg.ClientFS = c.V09
	cfg.Logger = logger
	// Chat packets are small: refuse big bodies early.
	cfg.MaxBodyBytes = 64 << 10
	cfg.MaxMessageBytes = 64 << 10
	srv := socketio.NewServer(cfg)
	chat := newChat(srv.Sockets(), logger)

	web, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	handleWeb(mux, web, c)
	return srv, chat, mux
}
