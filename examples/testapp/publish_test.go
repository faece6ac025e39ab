package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/socketio"
)

// pushed connects a Go client of proto to /chat of url, joins it to
// room, and returns the events "pushed" it receives (their args as JSON).
func pushed(t *testing.T, url string, proto client.Protocol, room string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
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
	require.Equal(t, `true`, string(ack[0]))
	return got
}

func postPublish(t *testing.T, url, auth, body string) int {
	t.Helper()
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

// TestPublishAPI: with -publish-token the testapp serves the publish API
// at /publish (TESTAPP notes, "Cluster-wide operations"): 202 and the
// event reaches the room's 0.9 and v5 clients; 401 without the token or
// with a wrong one; 400 for a malformed body; the Socket.IO path is
// served as before.
func TestPublishAPI(t *testing.T) {
	cfg := socketio.Config{Logger: quietLogger()}
	srv := newServer(cfg)
	h, err := withPublish(srv, "T")
	require.NoError(t, err)
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	old := pushed(t, hs.URL, client.Protocol09, "r")
	v5 := pushed(t, hs.URL, client.ProtocolV5, "r")
	other := pushed(t, hs.URL, client.ProtocolV5, "elsewhere")

	body := `{"namespace": "/chat", "rooms": ["r"], "except": [], "event": "pushed", "args": [{"n": 1}, "two"]}`
	require.Equal(t, http.StatusAccepted, postPublish(t, hs.URL, "Bearer T", body))
	for _, ch := range []<-chan string{old, v5} {
		select {
		case got := <-ch:
			assert.Equal(t, `[{"n":1},"two"]`, got)
		case <-time.After(5 * time.Second):
			t.Fatal("no pushed event")
		}
	}
	assert.Equal(t, http.StatusUnauthorized, postPublish(t, hs.URL, "", body))
	assert.Equal(t, http.StatusUnauthorized, postPublish(t, hs.URL, "Bearer wrong", body))
	assert.Equal(t, http.StatusBadRequest, postPublish(t, hs.URL, "Bearer T", `{"namespace": "/chat", "event": "pushed", "args": 1}`))
	select {
	case got := <-other:
		t.Fatalf("a socket outside the room got %s", got)
	case got := <-v5:
		t.Fatalf("a refused push arrived: %s", got)
	case <-time.After(200 * time.Millisecond):
	}

	_, err = withPublish(newSuiteServer(quietLogger()), "T")
	assert.Error(t, err, "-suite has no Server to publish through")
	plain, err := withPublish(srv, "")
	require.NoError(t, err)
	assert.Equal(t, http.Handler(srv), plain, "no token: no publish API")
}
