//go:build !linux

package transport

import (
	"net"
	"syscall"
)

// pollState is empty where there is no event loop.
type pollState struct{}

func (pollState) unregister() {}

// startReading starts the connection's reading goroutine.
func (c *wsConn) startReading() { go c.readLoop() }

// rawConn is nil: writes block (on a goroutine of the connection's own).
func rawConn(net.Conn) syscall.RawConn { return nil }

func writeNow(syscall.RawConn, []byte) (int, error) { panic("unreachable") }
