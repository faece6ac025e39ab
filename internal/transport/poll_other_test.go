//go:build !linux

package transport

const hasEventLoop = false

// polledConns is zero: there is no event loop here.
func polledConns() int { return 0 }
