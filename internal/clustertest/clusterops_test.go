package clustertest

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
)

// TestClusterOpsAcrossNodes runs testdata/cluster-ops.js against three
// testapp nodes sharing a real Redis: the 0.9 clients of a scenario on
// node A, the 2.x clients on B, the 4.x clients on C, and the other
// clients shifted so that every sender and its target are on different
// nodes. to-id reaches a socket on another node (binary as binary for the
// modern clients, base64 for 0.9) and acks false for unknown, gone and
// other-namespace ids; kick-id disconnects a socket on another node (the
// victim sees its disconnect reason) and then acks false; fetch lists
// every node's members, sorted, after a leave and a disconnect too;
// poll-room collects the answers of every node's members, the sender's
// own included, and names the silent members of every generation after
// the timeout.
func TestClusterOpsAcrossNodes(t *testing.T) { onBackends(t, testClusterOpsAcrossNodes) }

func testClusterOpsAcrossNodes(t *testing.T, be backend) {
	nodetest.Require(t)
	nodes := startNodes(t, be, 3)
	for _, eio := range []int{3, 4} {
		if ok, got := servesEIO(nodes[0].URL, eio); !ok {
			t.Skipf("the testapp does not serve EIO=%d yet: GET /socket.io/?EIO=%d&transport=polling answered %s", eio, eio, got)
		}
	}
	out, err := exec.Command(nodetest.Require(t), filepath.Join(nodetest.Dir(t), "cluster-ops.js"), "--list").Output()
	require.NoError(t, err)
	var list struct {
		Scenarios []string `json:"scenarios"`
		Triples   []string `json:"triples"`
	}
	require.NoError(t, json.Unmarshal(out, &list))
	require.Contains(t, list.Scenarios, "default.poll-room")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "cluster-ops.js", "--urls", strings.Join(urls(nodes), ","), "--budget-ms", "200000")
	seen := map[string]int{}
	for _, r := range res {
		seen[r.Transport]++
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	for _, tr := range list.Triples {
		assert.Equalf(t, len(list.Scenarios), seen[tr], "cluster-ops scenarios over %s", tr)
	}
}
