package clustertest

// Three client generations across nodes: a socket.io-client 0.9.16, a
// 2.5.0 (Engine.IO v3) and a 4.8 client, each on its own node, sharing
// rooms through Redis.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
)

// servesEIO reports whether the node at base answers an Engine.IO polling
// handshake of protocol version eio (an open packet "0{...}" in the body,
// in whichever payload framing), and what it answered.
func servesEIO(base string, eio int) (bool, string) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("%s/socket.io/?EIO=%d&transport=polling", base, eio))
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode == http.StatusOK && strings.Contains(string(b), "0{") {
		return true, ""
	}
	return false, fmt.Sprintf("%s %q", resp.Status, b)
}

// TestThreeGenerationScenariosAcrossNodes runs testdata/mixed3-scenarios.js with the 0.9
// clients on node A, the 2.x clients on node B and the 4.x clients on node
// C (Redis between them), over its default triples of transports: room
// emits, broadcasts, counts and watch/gone cross the nodes every way, and
// binary sent to the room by a 2.x or a 4.x client reaches the other
// modern client as binary and the 0.9 client as base64 (--binary).
// Skipped while the testapp does not serve Engine.IO v3.
func TestThreeGenerationScenariosAcrossNodes(t *testing.T) {
	onBackends(t, testThreeGenerationScenariosAcrossNodes)
}

func testThreeGenerationScenariosAcrossNodes(t *testing.T, be backend) {
	nodetest.Require(t)
	nodes := startNodes(t, be, 3)
	for _, eio := range []int{3, 4} {
		if ok, got := servesEIO(nodes[0].URL, eio); !ok {
			t.Skipf("the testapp does not serve EIO=%d yet: GET /socket.io/?EIO=%d&transport=polling answered %s", eio, eio, got)
		}
	}
	out, err := exec.Command(nodetest.Require(t), filepath.Join(nodetest.Dir(t), "mixed3-scenarios.js"), "--list", "--binary").Output()
	require.NoError(t, err)
	var list struct {
		Scenarios []string `json:"scenarios"`
		Triples   []string `json:"triples"`
	}
	require.NoError(t, json.Unmarshal(out, &list))
	require.Contains(t, list.Scenarios, "default.binary-room")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "mixed3-scenarios.js", "--url", nodes[0].URL, "--url-v2", nodes[1].URL,
		"--url-v4", nodes[2].URL, "--binary", "--budget-ms", "180000")
	seen := map[string]int{}
	for _, r := range res {
		seen[r.Transport]++
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	for _, tr := range list.Triples {
		assert.Equalf(t, len(list.Scenarios), seen[tr], "three-generation scenarios over %s", tr)
	}
}
