//go:build !unix

package socketio

import "time"

// cpuTime is the process's CPU time where it is not measured: zero.
func cpuTime() time.Duration { return 0 }
