// Command tictactoe is a multiplayer tic-tac-toe served to browsers running
// the real socket.io.js 0.9.16 client, or the modern socket.io.js 4.x with
// http://localhost:8081/?client=4 (players of both play each other): a
// lobby pairs waiting players, the server holds the board, and a
// per-method ACL lets only the player whose turn it is call "move".
// Spectators watch running games live.
//
//	make deps-node                          # installs the clients, once
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
	logger, dirs, err := ef.setup()
	if err != nil {
		return err
	}
	srv, _, handler := newApp(dirs.open(), logger)

	ln, err := net.Listen("tcp", *ef.Addr)
	if err != nil {
		return err
	}
	logger.Info("tictactoe is running", "url", pageURL(ln.Addr()), "client", filepath.Join(dirs.V09, clientFile))
	if dirs.V4 != "" {
		logger.Info("with socket.io.js 4.x", "url", pageURL(ln.Addr())+"?client=4", "client", filepath.Join(dirs.V4, client4File))
	}
	return serve(ln, handler, srv, logger)
}

// newApp builds the game: the Socket.IO server, the lobby on its default
// namespace and the HTTP handler serving the page, the clients and the
// server.
func newApp(c clients, logger *slog.Logger) (*socketio.Server, *Lobby, http.Handler) {
	srv := socketio.NewServer(socketio.Config{
		ClientFS: c.V09,
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
	handleWeb(mux, web, c)
	return srv, lobby, mux
}
