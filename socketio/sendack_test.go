package socketio

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/internal/nodetest"
)

// sendAckApp asks every client, when it connects to "" or "/chat", to
// acknowledge the message "tobi" (SendWithAck, answered with "tobi 2")
// and the json {"n":1} (SendJSONWithAck, answered with "json 2").
func sendAckApp(srv *Server) {
	for _, name := range []string{"", "/chat"} {
		srv.Of(name).OnConnect(func(s *Socket) {
			_ = s.SendWithAckFunc("tobi", func() { _ = s.Send("tobi 2") })
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), waitFor)
				defer cancel()
				if s.SendJSONWithAck(ctx, map[string]int{"n": 1}) == nil {
					_ = s.Send("json 2")
				}
			}()
		})
	}
}

// TestSendWithAckRealClient: socket.io-client@0.9.16 acknowledges a
// server message asking for an ack (the reference's socket.send('tobi',
// fn), from the client's own test suite) by itself, and the callback runs.
func TestSendWithAckRealClient(t *testing.T) {
	nodetest.Require(t)
	ts := newTestServer(t, Config{}, sendAckApp)
	for _, tr := range []string{"websocket", "xhr-polling"} {
		for _, ns := range []string{"", "/chat"} {
			t.Run(tr+"/"+ns, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				res := nodetest.Run(ctx, t, "send-ack.js", "--url", ts.hs.URL+ns, "--transport", tr)
				require.Len(t, res, 1)
				require.True(t, res[0].Pass, "%s: observed %s", res[0].Error, res[0].Observed)
				var seen []json.RawMessage
				require.NoError(t, json.Unmarshal(res[0].Observed, &seen))
				assert.ElementsMatch(t, []string{`"tobi"`, `{"n":1}`, `"tobi 2"`, `"json 2"`}, rawStrings(seen))
			})
		}
	}
}

// TestSendWithAckGoClient: the Go client acknowledges such messages too.
func TestSendWithAckGoClient(t *testing.T) {
	ts := newTestServer(t, Config{}, sendAckApp)
	for _, tr := range []string{client.WebSocket, client.XHRPolling, client.JSONPPolling} {
		t.Run(tr, func(t *testing.T) {
			seen := make(chan string, 16)
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			c, err := client.Dial(ctx, ts.hs.URL+"/chat", &client.Options{Transports: []string{tr},
				OnConnect: func(ns *client.Namespace) {
					if ns.Name() != "/chat" {
						return
					}
					ns.OnMessage(func(text string) { seen <- text })
					ns.OnJSON(func(v json.RawMessage) { seen <- string(v) })
				}})
			require.NoError(t, err)
			defer c.Close()
			var got []string
			for len(got) < 4 {
				select {
				case m := <-seen:
					got = append(got, m)
				case <-ctx.Done():
					require.FailNow(t, "not every message came", "got %q", got)
				}
			}
			assert.ElementsMatch(t, []string{"tobi", `{"n":1}`, "tobi 2", "json 2"}, got)
		})
	}
}

func rawStrings(raw []json.RawMessage) []string {
	out := make([]string, len(raw))
	for i, r := range raw {
		out[i] = strings.TrimSpace(string(r))
	}
	return out
}
