package transport

import (
	"net/http"
	"time"
)

// DefaultWriteTimeout bounds one write to a client when the caller gives
// no bound: a client that does not take the data within it is dropped.
const DefaultWriteTimeout = 10 * time.Second

// writeBounded writes b to an HTTP response and flushes it, giving up
// after timeout (zero means DefaultWriteTimeout), so a client that stops
// reading cannot hold the handler forever. With lift, the deadline is
// lifted again after a successful write, for streams that idle between
// writes; without, it stays for the rest of the response (net/http lifts
// it when the response is finished). Response writers without deadline
// support are written without one.
func writeBounded(w http.ResponseWriter, rc *http.ResponseController, timeout time.Duration, b []byte, lift bool) error {
	if timeout <= 0 {
		timeout = DefaultWriteTimeout
	}
	bounded := rc.SetWriteDeadline(time.Now().Add(timeout)) == nil
	if _, err := w.Write(b); err != nil {
		return err
	}
	if err := rc.Flush(); err != nil {
		return err
	}
	if bounded && lift {
		_ = rc.SetWriteDeadline(time.Time{})
	}
	return nil
}
