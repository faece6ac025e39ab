package clustertest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
)

// TestMixedGenerationsAcrossNodes: a 0.9 client (the Go client) on one
// node and a socket.io-client@4.8 on another share a room through Redis:
// each gets the other's to-room emits, the 4.x client's binary argument
// as base64 for the 0.9 client (testdata/v4client.js --mixed).
func TestMixedGenerationsAcrossNodes(t *testing.T) {
	nodetest.Require(t)
	nodes := startNodes(t, StartRedis(t), 2)
	old, _ := dial(t, nodes[0].URL)
	require.Equal(t, "[true]", call(t, old, "join", "mix"))
	got := make(chan []json.RawMessage, 8)
	require.NoError(t, old.On("room", func(args ...json.RawMessage) {
		got <- args
		var first string
		if json.Unmarshal(args[0], &first) == nil && first == "from4" {
			_ = old.Emit("to-room", "mix", "from09", 3)
		}
	}))
	for _, tr := range []string{"websocket", "polling"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out := nodetest.Run(ctx, t, "v4client.js", "--url", nodes[1].URL, "--transport", tr, "--mixed", "mix")
		cancel()
		require.Len(t, out, 1)
		assert.Truef(t, out[0].Pass, "%s: %s", tr, out[0].Error)
		assert.JSONEq(t, `["from09",3]`, string(out[0].Observed))
		select {
		case args := <-got:
			b, _ := json.Marshal(args)
			assert.JSONEq(t, `["from4","AQI="]`, string(b), "the 0.9 client gets the binary as base64")
		case <-time.After(waitFor):
			t.Fatal("the 0.9 client got nothing from the other node")
		}
		<-got // its own from09
	}
}
