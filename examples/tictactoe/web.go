package main

// What a browser example needs around its Socket.IO server: finding the
// npm-installed socket.io.js, serving the embedded pages with a strict
// Content-Security-Policy, and an HTTP server that shuts the Socket.IO
// server down gracefully on SIGINT/SIGTERM. examples/chat has the same
// file: each example stays copyable on its own, with public imports only.

import (
	"bytes"
	"context"
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

	"github.com/siogo/siogo/socketio"
)

// clientFile is the client's file name in its dist directory.
const clientFile = "socket.io.js"

// defaultClientDir is where `make deps-node` installs the real
// socket.io-client 0.9.16, relative to the repository root.
const defaultClientDir = "testdata/node_modules/socket.io-client/dist"

// findClientDir returns the directory holding socket.io.js. A relative dir
// is tried from the working directory, then from the repository root
// (found by walking up to siogo's go.mod), so the default works wherever
// `go run` is started inside the repository.
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
		"The page needs the real socket.io-client 0.9.16, which npm installs into\n"+
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

// contentSecurityPolicy lets a page load only its own files and talk only
// to its own server: a second line of defence behind rendering user text
// as text.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// page serves one embedded file with no-cache and security headers.
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

// serve serves handler on ln until SIGINT or SIGTERM, then shuts srv down
// (each client is told) and the HTTP server, within 5 s. A second signal
// kills the process at once.
func serve(ln net.Listener, handler http.Handler, srv *socketio.Server, logger *slog.Logger) error {
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

// webFlags are the command-line flags the example has.
type webFlags struct {
	Addr      *string // -addr: listen address
	ClientDir *string // -client-dir: where socket.io.js is
	LogLevel  *string // -log-level
}

// addWebFlags defines -addr (defaulting to addr), -client-dir and -log-level
// on fs.
func addWebFlags(fs *flag.FlagSet, addr string) webFlags {
	return webFlags{
		Addr: fs.String("addr", addr, "listen address"),
		ClientDir: fs.String("client-dir", defaultClientDir,
			"directory holding "+clientFile+" from socket.io-client 0.9.16; a relative path is\n"+
				"looked up in the working directory, then in the repository root"),
		LogLevel: fs.String("log-level", "info", "debug, info, warn or error"),
	}
}

// setup turns parsed flags into a logger on stderr and the directory
// holding socket.io.js.
func (f webFlags) setup() (*slog.Logger, string, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(*f.LogLevel)); err != nil {
		return nil, "", fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	dir, err := findClientDir(*f.ClientDir)
	return logger, dir, err
}
