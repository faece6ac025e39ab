// Command chat is siogo's demo: a chat with nicknames, rooms, history and
// private messages, served to browsers running the real socket.io.js 0.9.16
// client.
//
//	make demo                          # installs the client, then runs:
//	go run ./examples/chat -addr :8080
//
// With -redis ADDR it joins the nodes sharing that Redis (rooms,
// broadcasts and sessions; see examples/cluster).
//
// See README.md for the event protocol between the page and the server.
package main

import (
	"bytes"
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
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/siogo/siogo/redis"
	"github.com/siogo/siogo/socketio"
)

// defaultClientDir is where `make deps-node` installs socket.io-client's
// browser build, relative to the repository root.
const defaultClientDir = "testdata/node_modules/socket.io-client/dist"

// clientFile is the client's file name in the client directory.
const clientFile = "socket.io.js"

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
	addr := flags.String("addr", "localhost:8080", "listen address")
	clientDir := flags.String("client-dir", defaultClientDir,
		"directory holding "+clientFile+" from socket.io-client 0.9.16; a relative path is\n"+
			"looked up in the working directory, then in the repository root")
	logLevel := flags.String("log-level", "info", "debug, info, warn or error")
	redisAddr := flags.String("redis", "", "Redis address (host:port): join the chat nodes sharing it")
	nodeAddr := flags.String("node-addr", "", "with -redis: the address (host:port) at which the other nodes\n"+
		"reach this one, to forward the requests of its sessions (default: the listening address)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir, err := findClientDir(*clientDir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	var cfg socketio.Config
	if *redisAddr != "" {
		cluster, err := redis.New(redis.Config{Addr: *redisAddr, Logger: logger})
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
	srv, _, handler := newAppWith(cfg, os.DirFS(dir), logger)
	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No ReadTimeout or WriteTimeout: long polls and WebSockets last.
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("chat is running", "url", pageURL(ln.Addr()), "client", filepath.Join(dir, clientFile))

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills the process at once
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// First the Socket.IO sessions (each client is told), then HTTP.
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("some sessions did not close in time", "err", err)
	}
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	logger.Info("bye")
	return nil
}

// newApp builds the chat: the Socket.IO server, the chat on its default
// namespace and the HTTP handler serving both the pages and the server.
func newApp(clientFS fs.FS, logger *slog.Logger) (*socketio.Server, *Chat, http.Handler) {
	return newAppWith(socketio.Config{}, clientFS, logger)
}

// newAppWith is newApp with the cluster settings of cfg (Adapter,
// Sessions, NodeAddr).
func newAppWith(cfg socketio.Config, clientFS fs.FS, logger *slog.Logger) (*socketio.Server, *Chat, http.Handler) {
	cfg.ClientFS = clientFS
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
	mux.Handle("GET /{$}", page(web, "index.html"))
	mux.Handle("GET /app.js", page(web, "app.js"))
	mux.Handle("GET /style.css", page(web, "style.css"))
	return srv, chat, mux
}

// contentSecurityPolicy lets the page load only its own files and talk only
// to its own server: a second line of defence behind rendering user text
// as text.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// page serves one embedded file.
func page(web fs.FS, name string) http.Handler {
	b, err := fs.ReadFile(web, name)
	if err != nil {
		panic(err) // the file is embedded: a missing one is a build mistake
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
}

// findClientDir returns the directory holding the socket.io.js client. A
// relative dir is tried from the working directory, then from the
// repository root (found by walking up to siogo's go.mod), so the default
// works wherever `go run` is started inside the repository.
func findClientDir(dir string) (string, error) {
	tried := []string{dir}
	if !filepath.IsAbs(dir) {
		if root := repoRoot(); root != "" {
			tried = append(tried, filepath.Join(root, dir))
		}
	}
	for _, d := range tried {
		if st, err := os.Stat(filepath.Join(d, clientFile)); err == nil && st.Mode().IsRegular() {
			return d, nil
		}
	}
	for i, d := range tried {
		if abs, err := filepath.Abs(d); err == nil {
			tried[i] = abs
		}
	}
	return "", fmt.Errorf("%s not found in %s\n"+
		"The chat page needs the real socket.io-client 0.9.16, which npm installs into\n"+
		"testdata/node_modules. In the repository root run\n"+
		"    make demo          (installs it and starts the chat), or\n"+
		"    make deps-node     (installs it only)\n"+
		"or point -client-dir at the dist directory of socket.io-client 0.9.16",
		clientFile, strings.Join(tried, " nor in "))
}

// repoRoot returns the nearest directory at or above the working directory
// whose go.mod is siogo's, or "".
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.HasPrefix(b, []byte("module github.com/siogo/siogo\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// pageURL is the address to open in a browser.
func pageURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() || ip.IsLoopback() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
