package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	nodetest.RequireChromium(t)

	// One server per transport, so both play at the same time (the lobby
	// pairs whoever comes first).
	clientDir := filepath.Join(nodetest.Dir(t), "node_modules", "socket.io-client", "dist")
	args := []string{"--transports", "websocket,xhr-polling"}
	for range 2 {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv, _, handler := newApp(os.DirFS(clientDir), logger)
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
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	assert.True(t, seen["websocket"] && seen["xhr-polling"], "both transports ran: %v", seen)
}
