package socketio

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every session gets its heartbeats from the server's one timer, each on
// its own schedule, and a closed session leaves the timers' queue.
func TestTimersServeEverySession(t *testing.T) {
	t.Parallel()
	srv := NewServer(Config{Logger: discardLogger, HeartbeatInterval: 20 * time.Millisecond, HeartbeatTimeout: time.Minute})
	defer srv.Close()
	const n = 40
	wakes := make([]chan struct{}, n)
	sessions := make([]*session, n)
	for i := range sessions {
		wake := make(chan struct{}, 1)
		wakes[i] = wake
		sessions[i] = openBenchSession(t, srv, func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		})
		time.Sleep(time.Millisecond) // spread the deadlines
	}
	for i, sess := range sessions {
		await(t, sess, wakes[i], "2::")
		await(t, sess, wakes[i], "2::")
	}
	for _, sess := range sessions[:n/2] {
		sess.close("test", nil)
	}
	// An open session is out of the queue only while its onTimer runs.
	require.Eventually(t, func() bool {
		srv.timers.mu.Lock()
		defer srv.timers.mu.Unlock()
		return len(srv.timers.queue) == n/2
	}, 5*time.Second, time.Millisecond)
	srv.timers.mu.Lock()
	assert.LessOrEqual(t, len(srv.timers.queue), n/2)
	for i, s := range srv.timers.queue {
		assert.Equal(t, i, int(s.timerIndex))
		assert.NotContains(t, sessions[:n/2], s, "closed sessions leave the queue")
	}
	srv.timers.mu.Unlock()
	srv.Close()
	srv.timers.mu.Lock()
	defer srv.timers.mu.Unlock()
	require.Empty(t, srv.timers.queue)
	assert.Zero(t, srv.timers.at, "the timer is stopped when nothing waits")
}
