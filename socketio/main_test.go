package socketio

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: held
// polls, htmlfile streams, websocket readers and writers, handler
// executors and timers must all end when a server and its clients close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
