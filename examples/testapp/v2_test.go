package main

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/socketio"
)

// v2Checks are the checks testdata/v2client.js runs, each of which must
// be reported.
var v2Checks = []string{"connect", "echoAck", "echoEvent", "binaryEcho", "authPayload", "privateRefused",
	"privateAccepted", "invalidNamespace", "kick", "rooms", "ask", "acl", "handshake", "burst", "transportUsed"}

// TestV2ClientDifferential runs the real socket.io-client@2.5.0
// (Socket.IO v4 over Engine.IO v3; testdata/v2client.js, the "Modern
// clients" rows of TESTAPP.md) against the Node.js reference
// socket.io@4.8 with allowEIO3 (reftestapp4.js) and against the testapp,
// over polling only, polling with forceBase64, websocket only, and
// polling upgraded to websocket: every check passes on both and observes
// the same.
func TestV2ClientDifferential(t *testing.T) {
	nodetest.Require(t)
	_, url := startTestapp(t, socketio.Config{})
	ref := startReference4(t)
	for _, tr := range []string{"polling", "polling-b64", "websocket", "upgrade"} {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			refRes := map[string]nodetest.Result{}
			for _, r := range nodetest.Run(ctx, t, "v2client.js", "--url", ref, "--transport", tr) {
				assert.Truef(t, r.Pass, "reference: %s over %s: %s (observed %s)", r.Check, tr, r.Error, string(r.Observed))
				refRes[r.Check] = r
			}
			require.Len(t, refRes, len(v2Checks), "the reference run reports every check")
			ours := nodetest.Run(ctx, t, "v2client.js", "--url", url, "--transport", tr)
			require.Len(t, ours, len(v2Checks), "the testapp run reports every check")
			for _, r := range ours {
				assert.Truef(t, r.Pass, "%s over %s: %s (observed %s)", r.Check, tr, r.Error, string(r.Observed))
				if rr, ok := refRes[r.Check]; assert.Truef(t, ok, "check %s missing from the reference run", r.Check) {
					assert.JSONEqf(t, string(rr.Observed), string(r.Observed), "%s over %s: siogo and the reference differ", r.Check, tr)
				}
			}
		})
	}
}

// v2BrowserChecks are the checks testdata/browser2.js runs per transport.
var v2BrowserChecks = []string{"connect", "echoAck", "binaryEcho", "privateQuery", "invalidNamespace", "kick", "rooms", "acl", "transportUsed"}

// TestV2Browser runs the socket.io-client@2.5.0 browser build in headless
// Chromium (testdata/browser2.js, page on another origin) against the
// testapp and against the Node.js reference with allowEIO3, over
// websocket, polling, the upgrade and JSONP polling (forceJSONP): every
// check passes on both and observes the same.
func TestV2Browser(t *testing.T) {
	nodetest.RequireChromium(t)
	_, url := startTestapp(t, socketio.Config{})
	ref := startReference4(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	want := len(v2BrowserChecks) * 4
	refRes := map[string]nodetest.Result{}
	for _, r := range nodetest.Run(ctx, t, "browser2.js", "--url", ref) {
		assert.Truef(t, r.Pass, "reference: %s over %s: %s (observed %s)", r.Check, r.Transport, r.Error, string(r.Observed))
		refRes[r.Check+"@"+r.Transport] = r
	}
	require.Len(t, refRes, want, "the reference run reports every check")
	ours := nodetest.Run(ctx, t, "browser2.js", "--url", url)
	require.Len(t, ours, want, "the testapp run reports every check")
	for _, r := range ours {
		assert.Truef(t, r.Pass, "%s over %s: %s (observed %s)", r.Check, r.Transport, r.Error, string(r.Observed))
		if rr, ok := refRes[r.Check+"@"+r.Transport]; assert.True(t, ok) {
			assert.JSONEqf(t, string(rr.Observed), string(r.Observed), "%s over %s: siogo and the reference differ", r.Check, r.Transport)
		}
	}
}

// A room holding a 0.9 client (the Go client), a 2.x client and a 4.x
// client (Node): each gets the others' to-room emits, binary included
// (the 0.9 client gets base64).
func TestMixedThreeGenerationRoom(t *testing.T) {
	nodetest.Require(t)
	srv, url := startTestapp(t, socketio.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	old, err := client.Dial(ctx, url, &client.Options{NoReconnect: true})
	require.NoError(t, err)
	defer old.Close()
	res, err := old.EmitWithAck(ctx, "join", "mix3")
	require.NoError(t, err)
	require.Equal(t, []json.RawMessage{json.RawMessage("true")}, res)
	var mu sync.Mutex
	got := map[string]string{}
	require.NoError(t, old.On("room", func(args ...json.RawMessage) {
		var first string
		_ = json.Unmarshal(args[0], &first)
		b, _ := json.Marshal(args)
		mu.Lock()
		defer mu.Unlock()
		if (first == "from2" || first == "from4") && got["from2"] == "" && got["from4"] == "" {
			_ = old.Emit("to-room", "mix3", "from09", 3)
		}
		got[first] = string(b)
	}))
	for _, tr := range []string{"polling", "websocket"} {
		mu.Lock()
		clear(got)
		mu.Unlock()
		out := nodetest.Run(ctx, t, "mixed3.js", "--url", url, "--transport", tr, "--room", "mix3")
		require.Len(t, out, 1)
		require.Truef(t, out[0].Pass, "%s: %s", tr, out[0].Error)
		assert.JSONEq(t, `{"v2":[["from4",{"bin":[4]}],["from09",3]],"v4":[["from2",{"bin":[2]}],["from09",3]]}`, string(out[0].Observed))
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return got["from2"] != "" && got["from4"] != ""
		}, 10*time.Second, 5*time.Millisecond)
		mu.Lock()
		assert.JSONEq(t, `["from2","Ag=="]`, got["from2"], "the 0.9 client gets the binary as base64")
		assert.JSONEq(t, `["from4","BA=="]`, got["from4"])
		mu.Unlock()
	}
	assert.GreaterOrEqual(t, srv.Stats().Protocols["0.9"], 1)
}
