package socketio

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What every idle session keeps stays in the size classes the layouts
// were made for (issue 18): a field more or a field moved can cost a
// class (16 to 32 bytes per session or socket).
func TestIdleObjectSizes(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(Socket{}), uintptr(192), "Socket")
	assert.LessOrEqual(t, unsafe.Sizeof(session5{}), uintptr(144), "session5")
	assert.LessOrEqual(t, unsafe.Sizeof(session{}), uintptr(208), "session (0.9)")
}

// A socket that never asked for an ack has no ack table (nor a store);
// one that asks for many, one at a time and many at once, gets every
// answer, in any order.
func TestSocketAcksOnFirstUse(t *testing.T) {
	srv := newServer5(t, Config{})
	sess, c := open5(t, srv, "")
	sock := srv.Sockets().Socket(connect5(t, sess, c, "/", ""))
	require.NotNil(t, sock)
	sock.mu.Lock()
	assert.Nil(t, sock.acks, "no ack asked for: no table")
	assert.Nil(t, sock.life, "no Context, no Set: no socketLife")
	sock.mu.Unlock()

	for i := 1; i <= 300; i++ { // one at a time
		done := emitWithAckAsync(t, sock, "q", i)
		c.waitExact(t, fmt.Sprintf(`42%d["q",%d]`, i, i))
		sess.OnMessage(fmt.Sprintf(`3%d[%d]`, i, i))
		assert.Equal(t, []json.RawMessage{json.RawMessage(strconv.Itoa(i))}, <-done)
	}
	const many = 20 // at once, answered in reverse
	dones := make([]<-chan []json.RawMessage, many)
	for k := range dones {
		dones[k] = emitWithAckAsync(t, sock, "m", k)
		c.waitExact(t, fmt.Sprintf(`42%d["m",%d]`, 301+k, k))
	}
	assert.Equal(t, many, sock.PendingAcks())
	for k := many - 1; k >= 0; k-- {
		sess.OnMessage(fmt.Sprintf(`3%d[%d]`, 301+k, k))
		assert.Equal(t, []json.RawMessage{json.RawMessage(strconv.Itoa(k))}, <-dones[k])
	}
	assert.Zero(t, sock.PendingAcks())

	// Pending acks are dropped when the socket disconnects.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := sock.EmitWithAck(ctx, "x"); errs <- err }()
	}
	require.Eventually(t, func() bool { return sock.PendingAcks() == 2 }, 5*time.Second, time.Millisecond)
	sock.Disconnect()
	for range 2 {
		assert.ErrorIs(t, <-errs, ErrDisconnected)
	}
	assert.Zero(t, sock.PendingAcks())
}

// The store lives in the socket's lazily made socketLife, with its
// context: Set, Get and Del before and after Context, and the socket
// still disconnects and cancels that context.
func TestSocketStoreOnFirstUse(t *testing.T) {
	srv := newServer5(t, Config{})
	sess, c := open5(t, srv, "")
	sock := srv.Sockets().Socket(connect5(t, sess, c, "/", ""))
	require.NotNil(t, sock)
	_, ok := sock.Get("k")
	assert.False(t, ok)
	sock.Del("k") // nothing to delete: no store made
	sock.mu.Lock()
	assert.Nil(t, sock.life)
	sock.mu.Unlock()
	sock.Set("k", 1)
	v, ok := sock.Get("k")
	assert.True(t, ok)
	assert.Equal(t, 1, v)
	ctx := sock.Context()
	sock.Set("j", 2)
	sock.Del("k")
	_, ok = sock.Get("k")
	assert.False(t, ok)
	v, _ = sock.Get("j")
	assert.Equal(t, 2, v)
	sock.Disconnect()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the context was not cancelled")
	}
	assert.True(t, sock.Disconnected())
}
