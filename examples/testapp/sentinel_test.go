package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSentinelFlags: -redis-sentinel and -redis-sentinel-master go
// together, and reach sioredis.Config: with no Sentinel answering, the
// node does not start and the error names the Sentinel.
func TestSentinelFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-redis-sentinel", "127.0.0.1:1"},
		{"-redis-sentinel-master", "m"},
	} {
		err := run(append([]string{"-addr", "127.0.0.1:0"}, args...))
		require.Error(t, err, "%v", args)
		assert.Contains(t, err.Error(), "-redis-sentinel and -redis-sentinel-master go together")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := l.Addr().String()
	require.NoError(t, l.Close())
	err = run([]string{"-addr", "127.0.0.1:0", "-log-level", "error", "-redis-sentinel", down, "-redis-sentinel-master", "m"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sentinel "+down)
	err = run([]string{"-addr", "127.0.0.1:0", "-log-level", "error", "-redis", down, "-redis-sentinel", down, "-redis-sentinel-master", "m"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SentinelAddrs")
}
