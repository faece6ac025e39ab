package main

// What a browser example needs around its Socket.IO server: finding the
// npm-installed clients (socket.io.js 0.9.16, and 4.x for pages opened
// with ?client=4), serving the embedded pages with a strict
// Content-Security-Policy, and an HTTP server that shuts the Socket.IO
// server down gracefully on SIGINT/SIGTERM. examples/tictactoe has the same
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

// clientFile is the 0.9 client's file name in its dist directory.
const clientFile = "socket.io.js"

// defaultClientDir is where `make deps-node` installs the real
// socket.io-client 0.9.16, relative to the repository root.
const defaultClientDir = "testdata/node_modules/socket.io-client/dist"

// client4File is the modern client's file name in its dist directory.
const client4File = "socket.io.min.js"

// defaultClient4Dir is where `make deps-node` installs socket.io-client
// 4.x (the npm alias socket.io-client-4), relative to the repository root.
const defaultClient4Dir = "testdata/node_modules/socket.io-client-4/dist"

// client4Prefix is the URL path under which the example serves
// client4File and its source map (the 0.9 client is the Socket.IO
// server's own /socket.io/socket.io.js).
const client4Prefix = "/socket.io-client-4/"

// clientDirs are the directories holding the two clients a page can load.
type clientDirs struct {
	V09 string // socket.io-client 0.9.16's dist directory: the default page
	V4  string // socket.io-client 4.x's (?client=4), or "" when it is not installed
}

// clients are the two clients' dist directories as file systems.
type clients struct {
	V09 fs.FS // Config.ClientFS of the Socket.IO server
	V4  fs.FS // served under client4Prefix; nil: ?client=4 pages cannot connect
}

// open returns the file systems of d.
func (d clientDirs) open() clients {
	c := clients{V09: os.DirFS(d.V09)}
	if d.V4 != "" {
		c.V4 = os.DirFS(d.V4)
	}
	return c
}

// findClientDir returns the directory holding socket.io.js 0.9.16. A
// relative dir is tried from the working directory, then from the
// repository root (found by walking up to siogo's go.mod), so the default
// works wherever `go run` is started inside the repository.
func findClientDir(dir string) (string, error) {
	d, tried := findFileDir(dir, clientFile)
	if d != "" {
		return d, nil
	}
	return "", fmt.Errorf("%s not found in %s\n"+
		"The page needs the real socket.io-client 0.9.16, which npm installs into\n"+
		"testdata/node_modules. In the repository root run\n"+
		"    make demo          (installs it and starts the chat), or\n"+
		"    make deps-node     (installs it only)\n"+
		"or point -client-dir at the dist directory of socket.io-client 0.9.16",
		clientFile, strings.Join(tried, " nor in "))
}

// findClient4Dir is findClientDir for socket.io-client 4.x's
// socket.io.min.js.
func findClient4Dir(dir string) (string, error) {
	d, tried := findFileDir(dir, client4File)
	if d != "" {
		return d, nil
	}
	return "", fmt.Errorf("%s not found in %s: `make deps-node` installs socket.io-client 4.x,\n"+
		"or point -client4-dir at its dist directory", client4File, strings.Join(tried, " nor in "))
}

// findFileDir returns the first of dir and, when dir is relative, dir
// under the repository root that holds the regular file name, or "" and
// the directories it tried.
func findFileDir(dir, name string) (string, []string) {
	tried := []string{dir}
	if !filepath.IsAbs(dir) {
		if root := repoRoot(); root != "" {
			tried = append(tried, filepath.Join(root, dir))
		}
	}
	for _, d := range tried {
		if st, err := os.Stat(filepath.Join(d, name)); err == nil && st.Mode().IsRegular() {
			return d, nil
		}
	}
	for i, d := range tried {
		if abs, err := filepath.Abs(d); err == nil {
			tried[i] = abs
		}
	}
	return "", tried
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
	return content(name, b)
}

// content serves b as the file name with no-cache and security headers.
func content(name string, b []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
}

// The <script> elements of index.html that load a client: the page as
// embedded loads 0.9.16 from the Socket.IO server; with ?client=4 it
// loads 4.x from client4Prefix instead.
const (
	client09Script = `<script src="/socket.io/socket.io.js"></script>`
	client4Script  = `<script src="` + client4Prefix + client4File + `"></script>`
)

// indexPage serves the embedded page name, which loads socket.io.js
// 0.9.16, or with ?client=4 the same page loading socket.io.js 4.x. The
// page's script works with either (any other ?client= gets the 0.9 page,
// which says so).
func indexPage(web fs.FS, name string) http.Handler {
	b, err := fs.ReadFile(web, name)
	if err != nil {
		panic(err) // the file is embedded: a missing one is a build mistake
	}
	if bytes.Count(b, []byte(client09Script)) != 1 {
		panic(name + " must load the client with exactly one " + client09Script)
	}
	v09 := content(name, b)
	v4 := content(name, bytes.Replace(b, []byte(client09Script), []byte(client4Script), 1))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("client") == "4" {
			v4.ServeHTTP(w, r)
			return
		}
		v09.ServeHTTP(w, r)
	})
}

// client4Handler serves client4File and its source map from dist (nil:
// 404 saying what to install) under client4Prefix.
func client4Handler(dist fs.FS) http.Handler {
	return http.StripPrefix(client4Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path
		if name != client4File && name != client4File+".map" {
			http.NotFound(w, r)
			return
		}
		if dist == nil {
			http.Error(w, "socket.io-client 4.x is not installed (make deps-node, or -client4-dir)", http.StatusNotFound)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeFileFS(w, r, dist, name)
	}))
}

// handleWeb adds the page (index.html, app.js, style.css from web) and the
// 4.x client to mux.
func handleWeb(mux *http.ServeMux, web fs.FS, c clients) {
	mux.Handle("GET /{$}", indexPage(web, "index.html"))
	mux.Handle("GET /app.js", page(web, "app.js"))
	mux.Handle("GET /style.css", page(web, "style.css"))
	mux.Handle("GET "+client4Prefix, client4Handler(c.V4))
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
	Addr       *string // -addr: listen address
	ClientDir  *string // -client-dir: where socket.io.js 0.9.16 is
	Client4Dir *string // -client4-dir: where socket.io.min.js 4.x is
	LogLevel   *string // -log-level
}

// addWebFlags defines -addr (defaulting to addr), -client-dir,
// -client4-dir and -log-level on fs.
func addWebFlags(fs *flag.FlagSet, addr string) webFlags {
	return webFlags{
		Addr: fs.String("addr", addr, "listen address"),
		ClientDir: fs.String("client-dir", defaultClientDir,
			"directory holding "+clientFile+" from socket.io-client 0.9.16; a relative path is\n"+
				"looked up in the working directory, then in the repository root"),
		Client4Dir: fs.String("client4-dir", defaultClient4Dir,
			"directory holding "+client4File+" from socket.io-client 4.x, which pages opened\n"+
				"with ?client=4 load (optional); looked up as -client-dir"),
		LogLevel: fs.String("log-level", "info", "debug, info, warn or error"),
	}
}

// setup turns parsed flags into a logger on stderr and the directories
// holding the clients. The 0.9 client is required; without the 4.x one a
// warning is logged and ?client=4 pages cannot connect.
func (f webFlags) setup() (*slog.Logger, clientDirs, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(*f.LogLevel)); err != nil {
		return nil, clientDirs{}, fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	var dirs clientDirs
	var err error
	if dirs.V09, err = findClientDir(*f.ClientDir); err != nil {
		return logger, dirs, err
	}
	if dirs.V4, err = findClient4Dir(*f.Client4Dir); err != nil {
		logger.Warn("pages with ?client=4 cannot connect", "err", err)
	}
	return logger, dirs, nil
}
