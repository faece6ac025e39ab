package client

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/eioparser"
	"github.com/siogo/siogo/internal/sioparser"
)

// fakeEIO is a websocket Engine.IO v4 server that sends open, answers the
// CONNECT of "/" and then runs script.
func fakeEIO(t *testing.T, open string, script func(ws *websocket.Conn)) string {
	t.Helper()
	up := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("EIO") != "4" || r.URL.Query().Get("transport") != "websocket" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, eioparser.AppendPacket(nil, eioparser.Packet{Type: eioparser.Open, Data: []byte(open)}))
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "40" {
			return
		}
		connect, _ := sioparser.AppendPacket([]byte("4"), &sioparser.Packet{Type: sioparser.Connect, Data: []byte(`{"sid":"s1"}`)})
		_ = ws.WriteMessage(websocket.TextMessage, connect)
		script(ws)
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestV5HeartbeatTimeout: a server that stops pinging is given up after
// pingInterval + pingTimeout, even if other packets still come.
func TestV5HeartbeatTimeout(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	u := fakeEIO(t, `{"sid":"abc","upgrades":[],"pingInterval":100,"pingTimeout":100,"maxPayload":1000000}`,
		func(ws *websocket.Conn) {
			_ = ws.WriteMessage(websocket.TextMessage, []byte("2"))
			if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "3" {
				t.Errorf("no pong: %q %v", msg, err)
			}
			// Then events, but no ping.
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-hold:
					return
				case <-tick.C:
					if ws.WriteMessage(websocket.TextMessage, []byte(`42["tick"]`)) != nil {
						return
					}
				}
			}
		})
	start := time.Now()
	c := dial5(t, u, WebSocket, &Options{NoReconnect: true})
	assert.Equal(t, "abc", c.SessionID())
	assert.Equal(t, "s1", c.Namespace().ID())
	select {
	case <-c.Done():
	case <-time.After(waitFor):
		t.Fatal("the client did not give up")
	}
	assert.ErrorIs(t, c.Err(), ErrHeartbeatTimeout)
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
}

// TestV5BadOpen: an open packet the client cannot use fails Dial.
func TestV5BadOpen(t *testing.T) {
	t.Parallel()
	for _, open := range []string{`{"sid":"a/b","pingInterval":1,"pingTimeout":1}`, `{"sid":""}`, `[]`,
		`{"sid":"x","pingInterval":-1,"pingTimeout":1}`, `{"sid":"x","pingInterval":1e300,"pingTimeout":1}`} {
		u := fakeEIO(t, open, func(*websocket.Conn) {})
		_, err := tryDial5(t, u, WebSocket, &Options{NoReconnect: true})
		require.Error(t, err, open)
		assert.ErrorContains(t, err, "open packet", open)
	}
}

// TestV5MalformedPacket: a packet the decoder refuses ends the session.
func TestV5MalformedPacket(t *testing.T) {
	t.Parallel()
	errs := make(chan error, 8)
	u := fakeEIO(t, `{"sid":"abc","pingInterval":10000,"pingTimeout":10000}`, func(ws *websocket.Conn) {
		if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != `42["go"]` {
			t.Errorf("no emit: %q %v", msg, err)
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`42["connect"]`)) // a reserved name
		_, _, _ = ws.ReadMessage()
	})
	c := dial5(t, u, WebSocket, &Options{NoReconnect: true, OnError: func(err error) { errs <- err }})
	require.NoError(t, c.Emit("go"))
	select {
	case <-c.Done():
	case <-time.After(waitFor):
		t.Fatal("the session did not end")
	}
	assert.ErrorIs(t, c.Err(), sioparser.ErrReservedEvent)
	assert.ErrorIs(t, <-errs, sioparser.ErrMalformed)
}
