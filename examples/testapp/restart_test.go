package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/socketio"
)

// serveOn serves a fresh testapp on addr until stop is called; stop shuts
// it down gracefully, as the testapp does on SIGTERM.
func serveOn(t *testing.T, addr string) (stop func()) {
	t.Helper()
	var ln net.Listener
	require.Eventually(t, func() bool {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err == nil
	}, 5*time.Second, 20*time.Millisecond, "listen on %s", addr)
	srv := newServer(socketio.Config{Logger: quietLogger()})
	hs := &http.Server{Handler: srv}
	go func() { _ = hs.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = hs.Shutdown(ctx)
		srv.Close()
		_ = hs.Close()
	}
}

// TestRealClientReconnectsAfterGracefulRestart: a graceful shutdown tells
// socket.io.js to reconnect, and it does once the server is back.
func TestRealClientReconnectsAfterGracefulRestart(t *testing.T) {
	node := nodetest.Require(t)
	for _, tr := range nodeTransports {
		t.Run(tr, func(t *testing.T) {
			addr := nodetest.FreeAddr(t)
			stop := serveOn(t, addr)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, filepath.Join(nodetest.Dir(t), "reconnect.js"), "--url", "http://"+addr, "--transport", tr)
			cmd.Dir = nodetest.Dir(t)
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			var events []string
			sc := bufio.NewScanner(stdout)
			restarted := false
			for sc.Scan() {
				var ev struct {
					Event string `json:"event"`
					Value string `json:"value"`
				}
				require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), sc.Text())
				events = append(events, ev.Event)
				if ev.Event == "connect" && !restarted {
					restarted = true
					stop()
					stop = serveOn(t, addr)
				}
			}
			err = cmd.Wait()
			stop()
			require.NoError(t, err, "events: %v", events)
			// connect, disconnect (the goodbye), reconnecting..., reconnect,
			// connect, echo: the reconnected session works.
			assert.Equal(t, []string{"connect", "disconnect"}, events[:2], "%v", events)
			assert.Less(t, slices.Index(events, "reconnect"), slices.Index(events, "echo"), "%v", events)
			assert.Positive(t, slices.Index(events, "reconnect"), "%v", events)
		})
	}
}
