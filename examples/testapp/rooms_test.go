package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/socketio"
)

// join(room) acks false when the server refuses the room: another
// socket's id, one room too many, a name too long.
func TestJoinRefusalsAckFalse(t *testing.T) {
	_, url := startTestapp(t, socketio.Config{MaxRoomsPerSocket: 2, MaxRoomNameBytes: 16})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func() *client.Client {
		c, err := client.Dial(ctx, url, &client.Options{NoReconnect: true})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	joiner, victim := dial(), dial()
	var mu sync.Mutex
	var leaked []string
	joiner.OnAny(func(event string, args []json.RawMessage) {
		mu.Lock()
		leaked = append(leaked, event)
		mu.Unlock()
	})
	call := func(event string, args ...any) string {
		res, err := joiner.EmitWithAck(ctx, event, args...)
		require.NoError(t, err)
		b, err := json.Marshal(res)
		require.NoError(t, err)
		return string(b)
	}

	assert.Equal(t, "[false]", call("join", victim.SessionID()), "another socket's id")
	assert.Equal(t, "[true]", call("join", "a"))
	assert.Equal(t, "[true]", call("join", "b"))
	assert.Equal(t, "[false]", call("join", "c"), "a third room")
	assert.Equal(t, "[true]", call("join", "a"), "a room it is in already")
	assert.Equal(t, "[true]", call("leave", "b"))
	assert.Equal(t, "[false]", call("join", strings.Repeat("n", 17)), "a name too long")
	assert.Equal(t, "[true]", call("join", strings.Repeat("n", 16)))
	assert.Equal(t, `[["a","nnnnnnnnnnnnnnnn"]]`, call("rooms"))

	// The victim's private room still reaches the victim alone.
	got := make(chan []json.RawMessage, 1)
	require.NoError(t, victim.On("room", func(args ...json.RawMessage) { got <- args }))
	require.NoError(t, joiner.Emit("to-room", victim.SessionID(), "private"))
	select {
	case args := <-got:
		require.Len(t, args, 1)
		assert.JSONEq(t, `"private"`, string(args[0]))
	case <-ctx.Done():
		t.Fatal("the victim never got its private emit")
	}
	assert.Equal(t, `[["a","nnnnnnnnnnnnnnnn"]]`, call("rooms"), "a round trip after the emit")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, leaked, "the joiner got nothing")
}
