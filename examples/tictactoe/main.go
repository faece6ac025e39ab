// Command tictactoe is a multiplayer tic-tac-toe served to browsers running
// the real socket.io.js 0.9.16 client: a lobby pairs waiting players, the
// server holds the board, and a per-method ACL lets only the player whose
// turn it is call "move". Spectators watch running games live.
//
//	make deps-node                          # installs the client, once
//	go run ./examples/tictactoe -addr :8081
//
// See README.md for the event protocol between the page and the server.
package main

import (
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

	"github.com/siogo/siogo/socketio"
)

//go:embed web
var webFS embed.FS

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "tictactoe:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("tictactoe", flag.ContinueOnError)
	ef := addWebFlags(flags, "localhost:8081")
	if err := flags.Parse(args); err != nil {
		return err
	}
	logger, dir, err := ef.setup()
	if err != nil {
		return err
	}
	srv, _, handler := newApp(os.DirFS(dir), logger)

	ln, err := net.Listen("tcp", *ef.Addr)
	if err != nil {
		return err
	}
	logger.Info("tictactoe is running", "url", pageURL(ln.Addr()), "client", filepath.Join(dir, clientFile))
	return serve(ln, handler, srv, logger)
}

// newApp builds the game: the Socket.IO server, the lobby on its default
// namespace and the HTTP handler serving both the page and the server.
func newApp(clientFS fs.FS, logger *slog.Logger) (*socketio.Server, *Lobby, http.Handler) {
	srv := socketio.NewServer(socketio.Config{
		ClientFS: clientFS,
		Logger:   logger,
		// Game packets are tiny: refuse big bodies early.
		MaxBodyBytes:    16 << 10,
		MaxMessageBytes: 16 << 10,
	})
	lobby := newLobby(srv.Sockets(), logger)

	web, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("GET /{$}", page(web, "index.html"))
	mux.Handle("GET /app.js", page(web, "app.js"))
	mux.Handle("GET /style.css", page(web, "style.css"))
	return srv, lobby, mux
}
