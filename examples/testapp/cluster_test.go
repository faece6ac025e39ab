package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/socketio"
)

// clusterOpsList is what testdata/cluster-ops.js --list prints.
type clusterOpsList struct {
	Scenarios []string `json:"scenarios"`
	Triples   []string `json:"triples"`
}

// TestClusterOpsOneNode runs testdata/cluster-ops.js against one testapp
// (no Redis): the rows "Cluster-wide operations" — to-id (binary
// included), kick-id, fetch and poll-room with silent receivers and the
// sender among the receivers — with socket.io-client 0.9.16, 2.5.0 and
// 4.8 clients, in the default namespace and /chat, over the script's
// triples of transports.
func TestClusterOpsOneNode(t *testing.T) {
	nodetest.Require(t)
	_, url := startTestapp(t, socketio.Config{})
	requireModern(t, url)
	requireV2(t, url)
	out, err := exec.Command(nodetest.Require(t), filepath.Join(nodetest.Dir(t), "cluster-ops.js"), "--list").Output()
	require.NoError(t, err)
	var list clusterOpsList
	require.NoError(t, json.Unmarshal(out, &list))
	require.Contains(t, list.Scenarios, "default.poll-room")
	require.Contains(t, list.Scenarios, "chat.kick-id")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "cluster-ops.js", "--urls", url, "--budget-ms", "200000")
	seen := map[string]int{}
	for _, r := range res {
		seen[r.Transport]++
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	for _, tr := range list.Triples {
		assert.Equalf(t, len(list.Scenarios), seen[tr], "cluster-ops scenarios over %s", tr)
	}
}

// TestClusterOpsDifferentialReference runs cluster-ops.js with the
// modern clients only (--gens v2,v4: socket.io-client 2.5.0 and 4.8)
// against the Node.js reference (testdata/reftestapp4.js, socket.io@4.8:
// fetchSockets, disconnectSockets, timeout().emitWithAck) and against the
// testapp: every scenario passes on both, and their observations are the
// same.
func TestClusterOpsDifferentialReference(t *testing.T) {
	nodetest.Require(t)
	ref := nodetest.StartServerScript(t, "reftestapp4.js")
	_, url := startTestapp(t, socketio.Config{})
	requireModern(t, url)
	requireV2(t, url)
	run := func(url string) map[string]nodetest.Result {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		res := nodetest.Run(ctx, t, "cluster-ops.js", "--urls", url, "--gens", "v2,v4", "--budget-ms", "200000")
		out := map[string]nodetest.Result{}
		for _, r := range res {
			out[r.Scenario+"@"+r.Transport] = r
		}
		return out
	}
	want, got := run(ref), run(url)
	require.NotEmpty(t, want)
	assert.Len(t, got, len(want))
	for key, w := range want {
		assert.Truef(t, w.Pass, "reference: %s", w.Describe())
		g, ok := got[key]
		if !assert.Truef(t, ok, "%s: no result from the testapp", key) {
			continue
		}
		assert.Truef(t, g.Pass, "testapp: %s", g.Describe())
		assert.JSONEqf(t, string(w.Observed), string(g.Observed), "%s: the testapp's observation against the reference's", key)
	}
}

// poll-room's ms is clamped to [0, 10 s]; what is not a number waits 0.
func TestPollWaitClamp(t *testing.T) {
	for in, want := range map[string]time.Duration{
		`1500`:       1500 * time.Millisecond,
		`0.5`:        500 * time.Microsecond,
		`-3`:         0,
		`1e9`:        10 * time.Second,
		`"1000"`:     0,
		`null`:       0,
		`10000`:      10 * time.Second,
		`[1]`:        0,
		`99999999e9`: 10 * time.Second,
	} {
		assert.Equalf(t, want, pollWait([]json.RawMessage{json.RawMessage(in)}), "ms %s", in)
	}
	assert.Equal(t, time.Duration(0), pollWait(nil), "no ms")
}

// poll-room's ack: the answers' first args sorted (strings first, by
// their text), null for an ack without args, and the missing ids sorted.
func TestPollResult(t *testing.T) {
	res := socketio.AckResult{
		Acks: []socketio.SocketAck{
			{ID: "a", Args: []json.RawMessage{json.RawMessage(`"b"`), json.RawMessage(`1`)}},
			{ID: "b", Args: []json.RawMessage{json.RawMessage(`2`)}},
			{ID: "c"},
			{ID: "d", Args: []json.RawMessage{json.RawMessage(`"a"`)}},
			{ID: "e", Args: []json.RawMessage{json.RawMessage(`"\u00e9"`)}},
		},
		Missing: []string{"z", "y"},
	}
	b, err := json.Marshal(pollResult(res))
	require.NoError(t, err)
	assert.JSONEq(t, `{"answers":["a","b","é",2,null],"missing":["y","z"]}`, string(b))
	b, err = json.Marshal(pollResult(socketio.AckResult{}))
	require.NoError(t, err)
	assert.JSONEq(t, `{"answers":[],"missing":[]}`, string(b), "empty lists, not null")
}
