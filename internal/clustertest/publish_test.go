package clustertest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/client"
)

// pushedOn connects a Go client of proto to /chat of a node, joins it to
// room and returns the "pushed" events it receives (args as JSON).
func pushedOn(t *testing.T, url string, proto client.Protocol, room string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := client.Dial(ctx, url+"/chat", &client.Options{Protocol: proto})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	got := make(chan string, 16)
	require.NoError(t, c.OnRaw("pushed", func(args []json.RawMessage, _ client.AckFunc) {
		b, _ := json.Marshal(args)
		got <- string(b)
	}))
	ack, err := c.EmitWithAck(ctx, "join", room)
	require.NoError(t, err)
	require.Equal(t, "true", string(ack[0]))
	return got
}

// TestPublishAPIAcrossNodes: the testapp's HTTP publish API
// (-publish-token) on one node reaches the room's 0.9 and v5 clients on
// every node, through Redis; a missing or wrong token reaches nobody.
func TestPublishAPIAcrossNodes(t *testing.T) { onBackends(t, testPublishAPIAcrossNodes) }

func testPublishAPIAcrossNodes(t *testing.T, be backend) {
	nodes := startNodes(t, be, 3, "-publish-token", "T")
	var rooms []<-chan string
	for _, n := range nodes {
		rooms = append(rooms, pushedOn(t, n.URL, client.Protocol09, "r"), pushedOn(t, n.URL, client.ProtocolV5, "r"))
	}
	outside := pushedOn(t, nodes[2].URL, client.ProtocolV5, "other")
	post := func(url, auth, body string) int {
		req, err := http.NewRequest(http.MethodPost, url+"/publish", strings.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for i, n := range nodes {
		body := `{"namespace":"/chat","rooms":["r"],"event":"pushed","args":[` + string(rune('0'+i)) + `]}`
		require.Equal(t, http.StatusAccepted, post(n.URL, "Bearer T", body))
		for j, ch := range rooms {
			select {
			case got := <-ch:
				assert.Equal(t, "["+string(rune('0'+i))+"]", got, "client %d", j)
			case <-time.After(waitFor):
				t.Fatalf("client %d: no push from node %d", j, i)
			}
		}
	}
	body := `{"namespace":"/chat","rooms":["r"],"event":"pushed","args":["no"]}`
	assert.Equal(t, http.StatusUnauthorized, post(nodes[0].URL, "", body))
	assert.Equal(t, http.StatusUnauthorized, post(nodes[0].URL, "Bearer wrong", body))
	for j, ch := range append(rooms, outside) {
		select {
		case got := <-ch:
			t.Fatalf("client %d got %s", j, got)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
