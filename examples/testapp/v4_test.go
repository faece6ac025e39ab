package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/socketio"
)

// v4Checks are the checks testdata/v4client.js runs, each of which must
// be reported.
var v4Checks = []string{"connect", "echoAck", "echoEvent", "binaryEcho", "authPayload", "privateRefused",
	"privateAccepted", "invalidNamespace", "kick", "rooms", "ask", "acl", "handshake", "burst", "transportUsed"}

// TestV4ClientScenarios runs the real socket.io-client@4.8 in Node
// against the testapp (the "Modern clients" rows of TESTAPP.md) over
// polling only, websocket only, and polling upgraded to websocket.
func TestV4ClientScenarios(t *testing.T) {
	nodetest.Require(t)
	_, url := startTestapp(t, socketio.Config{})
	runClientChecks(t, "v4client.js", url, []string{"polling", "websocket", "upgrade"}, v4Checks)
}

// runClientChecks runs a client script (v4client.js, v2client.js) against
// url once per transport, in subtests: every check it reports must pass,
// and every one of want must be reported.
func runClientChecks(t *testing.T, script, url string, transports, want []string) {
	t.Helper()
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res := nodetest.Run(ctx, t, script, "--url", url, "--transport", tr)
			seen := map[string]bool{}
			for _, r := range res {
				seen[r.Check] = true
				assert.Truef(t, r.Pass, "%s over %s: %s (observed %s)", r.Check, tr, r.Error, string(r.Observed))
			}
			for _, c := range want {
				assert.Truef(t, seen[c], "check %s not reported", c)
			}
		})
	}
}

// A room holding a 0.9 client (the Go client) and a 4.x client (Node):
// each gets the other's to-room emits, binary included (the 0.9 client
// gets base64).
func TestMixedGenerationRoom(t *testing.T) {
	nodetest.Require(t)
	srv, url := startTestapp(t, socketio.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	old, err := client.Dial(ctx, url, &client.Options{NoReconnect: true})
	require.NoError(t, err)
	defer old.Close()
	res, err := old.EmitWithAck(ctx, "join", "mix")
	require.NoError(t, err)
	require.Equal(t, []json.RawMessage{json.RawMessage("true")}, res)
	got := make(chan []json.RawMessage, 4)
	require.NoError(t, old.On("room", func(args ...json.RawMessage) {
		got <- args
		var first string
		if json.Unmarshal(args[0], &first) == nil && first == "from4" {
			_ = old.Emit("to-room", "mix", "from09", 3)
		}
	}))
	for _, tr := range []string{"polling", "websocket"} {
		out := nodetest.Run(ctx, t, "v4client.js", "--url", url, "--transport", tr, "--mixed", "mix")
		require.Len(t, out, 1)
		assert.Truef(t, out[0].Pass, "%s: %s", tr, out[0].Error)
		assert.JSONEq(t, `["from09",3]`, string(out[0].Observed))
		select {
		case args := <-got:
			b, _ := json.Marshal(args)
			assert.JSONEq(t, `["from4","AQI="]`, string(b), "the 0.9 client gets the binary as base64")
		case <-ctx.Done():
			t.Fatal("the 0.9 client got nothing")
		}
		<-got // its own from09
	}
	assert.GreaterOrEqual(t, srv.Stats().Protocols["0.9"], 1)
}
