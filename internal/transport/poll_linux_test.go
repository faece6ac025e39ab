//go:build linux

package transport

const hasEventLoop = true

// polledConns is the number of connections registered with the event loop.
func polledConns() int {
	p := eventLoop()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}
