package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/siogo/siogo/internal/nodetest"
)

// TestBrowser plays the page in headless Chromium with the real
// socket.io.js 0.9.16 (testdata/e2e.js): two players and a spectator, over
// websocket and over xhr-polling (forced with ?transport=). Screenshots go
// to artifacts/tictactoe, which git ignores.
func TestBrowser(t *testing.T) {
	t.Parallel()
	runBrowser(t, "0.9", "websocket", "xhr-polling")
}

// TestBrowserMixedClients is TestBrowser with a 0.9 player against a 4.x
// one: ann plays with socket.io.js 0.9.16, bob with 4.x (?client=4), and
// cy watches with 4.x, for the whole scenario (the ACL's refusals reach
// both generations, a win, a rematch, a draw, bob leaving), over
// websocket, xhr-polling (4.x: polling) and "auto" (no transport forced:
// the 4.x pages upgrade from polling to a WebSocket).
func TestBrowserMixedClients(t *testing.T) {
	t.Parallel()
	runBrowser(t, "0.9,4,4", "websocket", "xhr-polling", "auto")
}

// runBrowser runs testdata/e2e.js with the people's clients (its
// --clients), over each transport against a server of its own, so all
// play at the same time (the lobby pairs whoever comes first).
func runBrowser(t *testing.T, clientList string, transports ...string) {
	nodetest.RequireChromium(t)
	dirs := clientDirs{
		V09: filepath.Join(nodetest.Dir(t), "node_modules", "socket.io-client", "dist"),
		V4:  filepath.Join(nodetest.Dir(t), "node_modules", "socket.io-client-4", "dist"),
	}
	args := []string{"--transports", strings.Join(transports, ","), "--clients", clientList}
	for range transports {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv, _, handler := newApp(dirs.open(), logger)
		hs := httptest.NewServer(handler)
		t.Cleanup(func() {
			srv.Close()
			hs.CloseClientConnections()
			hs.Close()
		})
		args = append(args, "--url", hs.URL)
	}

	shots := filepath.Join(nodetest.Dir(t), "..", "artifacts", "tictactoe")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// nodetest runs scripts from the repository's testdata directory.
	script := filepath.Join("..", "examples", "tictactoe", "testdata", "e2e.js")
	res := nodetest.Run(ctx, t, script, append(args, "--screenshot-dir", shots)...)
	seen := map[string]bool{}
	for _, r := range res {
		seen[r.Transport] = true
		if assert.Truef(t, r.Pass, "%s", r.Describe()) {
			t.Logf("%s, clients %s: ok %s", r.Transport, clientList, r.Observed)
		}
	}
	for _, tr := range transports {
		assert.True(t, seen[tr], "%s ran: %v", tr, seen)
	}
}
