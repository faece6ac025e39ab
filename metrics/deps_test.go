package metrics

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoRedisClientDependency: a program that exports its server's
// metrics links no Redis client. ClusterCollector reads a ClusterSource
// interface instead of importing the Redis adapter.
func TestNoRedisClientDependency(t *testing.T) {
	// go test puts its own go command first in PATH.
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	require.NoError(t, err, "go list: %s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/siogo/siogo/socketio", "the listing is metrics' dependencies")
	for _, d := range deps {
		assert.False(t, strings.HasPrefix(d, "github.com/gomodule/redigo"), "metrics depends on %s", d)
		assert.NotEqual(t, "github.com/siogo/siogo/sioredis", d, "metrics depends on the Redis adapter")
	}
}
