package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/siogo/siogo/internal/apptest"
	"github.com/siogo/siogo/internal/nodetest"
)

// browserChecks are the checks testdata/e2e.js runs, in its order; each
// must be reported, and pass, for every transport.
var browserChecks = []string{
	"connect",            // the pages connect over the forced transport
	"two-users-chat",     // two users in one room talk both ways
	"html-as-text",       // <b>x</b> is shown as text
	"room-isolation",     // a user in another room sees nothing of the lobby
	"duplicate-nick",     // a taken nickname is refused with a message
	"private-message",    // only its target gets a private message
	"join-leave-notices", // "joined" and "left" lines
	"reload-restores",    // a reloaded page keeps its nickname and gets the history
	"no-page-errors",     // no exception or console error in any page
}

// TestBrowser runs the chat page in headless Chromium with the real
// socket.io.js 0.9.16 (testdata/e2e.js): four people, each in a browser
// context of their own, over websocket and over xhr-polling (forced with
// ?transport=), each transport against a server of its own. Screenshots of
// every step go to artifacts/chat, which git ignores.
func TestBrowser(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"websocket", "xhr-polling"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			runBrowser(t, transport, "0.9")
		})
	}
}

// TestBrowserMixedClients is TestBrowser with both generations in the same
// rooms: ann and cy load socket.io.js 0.9.16, bob and dan 4.x (?client=4),
// so every check has lines going from one generation to the other (ann
// and bob chat both ways, dan is refused ann's nickname, private messages
// cross, bob reloads his 4.x page), over websocket, xhr-polling (4.x:
// polling) and "auto" (no transport forced: the 4.x pages upgrade from
// polling to a WebSocket).
func TestBrowserMixedClients(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"websocket", "xhr-polling", "auto"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			runBrowser(t, transport, "0.9,4")
		})
	}
}

// runBrowser runs testdata/e2e.js over transport with the people's
// clients (its --clients) against a server of its own.
func runBrowser(t *testing.T, transport, clientList string) {
	nodetest.RequireChromium(t)
	root := filepath.Dir(nodetest.Dir(t))
	shots := filepath.Join(root, "artifacts", "chat")
	dirs := clientDirs{V09: filepath.Join(root, defaultClientDir), V4: filepath.Join(root, defaultClient4Dir)}

	logs := &apptest.LockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	srv, _, handler := newApp(dirs.open(), logger)
	hs := httptest.NewServer(handler)
	t.Cleanup(func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	// nodetest runs scripts from the repository's testdata directory.
	script := filepath.Join("..", "examples", "chat", "testdata", "e2e.js")
	res := nodetest.Run(ctx, t, script, "--url", hs.URL, "--transport", transport, "--clients", clientList,
		"--screenshot-dir", shots)
	t.Logf("%s, clients %s: browser run took %v", transport, clientList, time.Since(start).Round(time.Millisecond))

	seen := map[string]bool{}
	for _, r := range res {
		seen[r.Check] = true
		assert.Equal(t, transport, r.Transport, "check %s", r.Check)
		if assert.Truef(t, r.Pass, "%s over %s: %s", r.Check, r.Transport, r.Error) {
			t.Logf("%-18s ok %5dms %s", r.Check, r.MS, r.Observed)
		}
	}
	for _, c := range browserChecks {
		assert.Truef(t, seen[c], "check %q was not reported", c)
	}
}
