package clustertest

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/internal/testtools"
)

// TestMixedGenerationsAcrossNodes: a 0.9 client (the Go client) on one
// node and a socket.io-client@4.8 on another share a room through Redis:
// each gets the other's to-room emits, the 4.x client's binary argument
// as base64 for the 0.9 client (testdata/v4client.js --mixed).
func TestMixedGenerationsAcrossNodes(t *testing.T) {
	onClientBackends(t, testMixedGenerationsAcrossNodes)
}

func testMixedGenerationsAcrossNodes(t *testing.T, be backend) {
	nodetest.Require(t)
	nodes := startNodes(t, be, 2)
	old, _ := dial(t, nodes[0].URL)
	require.Equal(t, "[true]", call(t, old, "join", "mix"))
	got := make(chan []json.RawMessage, 8)
	require.NoError(t, old.On("room", func(args ...json.RawMessage) {
		got <- args
		var first string
		if json.Unmarshal(args[0], &first) == nil && first == "from4" {
			_ = old.Emit("to-room", "mix", "from09", 3)
		}
	}))
	for _, tr := range []string{"websocket", "polling"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out := nodetest.Run(ctx, t, "v4client.js", "--url", nodes[1].URL, "--transport", tr, "--mixed", "mix")
		cancel()
		require.Len(t, out, 1)
		assert.Truef(t, out[0].Pass, "%s: %s", tr, out[0].Error)
		assert.JSONEq(t, `["from09",3]`, string(out[0].Observed))
		select {
		case args := <-got:
			b, _ := json.Marshal(args)
			assert.JSONEq(t, `["from4","AQI="]`, string(b), "the 0.9 client gets the binary as base64")
		case <-time.After(waitFor):
			t.Fatal("the 0.9 client got nothing from the other node")
		}
		<-got // its own from09
	}
}

// TestThreeGenerationsAcrossNodes: a 0.9 client (the Go client), a
// socket.io-client@2.5.0 and a socket.io-client@4.8, each on a node of
// its own, share a room through Redis: each gets the others' to-room
// emits (testdata/mixed3.js), binary as base64 for the 0.9 client.
func TestThreeGenerationsAcrossNodes(t *testing.T) {
	onClientBackends(t, testThreeGenerationsAcrossNodes)
}

func testThreeGenerationsAcrossNodes(t *testing.T, be backend) {
	nodetest.Require(t)
	nodes := startNodes(t, be, 3)
	old, _ := dial(t, nodes[0].URL)
	require.Equal(t, "[true]", call(t, old, "join", "mix3"))
	got := make(chan string, 16)
	require.NoError(t, old.On("room", func(args ...json.RawMessage) {
		var first string
		_ = json.Unmarshal(args[0], &first)
		if first == "from2" || first == "from4" {
			_ = old.Emit("to-room", "mix3", "from09", 3)
		}
		b, _ := json.Marshal(args)
		got <- string(b)
	}))
	for _, tr := range []string{"websocket", "polling"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		out := nodetest.Run(ctx, t, "mixed3.js", "--url", nodes[1].URL, "--url4", nodes[2].URL, "--transport", tr, "--room", "mix3")
		cancel()
		require.Len(t, out, 1)
		require.Truef(t, out[0].Pass, "%s: %s", tr, out[0].Error)
		assert.JSONEq(t, `{"v2":[["from4",{"bin":[4]}],["from09",3]],"v4":[["from2",{"bin":[2]}],["from09",3]]}`, string(out[0].Observed))
		seen := map[string]bool{}
		deadline := time.After(waitFor)
		for !seen[`["from2","Ag=="]`] || !seen[`["from4","BA=="]`] {
			select {
			case s := <-got:
				seen[s] = true
			case <-deadline:
				t.Fatalf("the 0.9 client did not get both emits over %s: %v", tr, seen)
			}
		}
	drain:
		for {
			select {
			case <-got:
			case <-time.After(200 * time.Millisecond):
				break drain
			}
		}
	}
}

// TestV4BehindNginx runs testdata/v4client.js (the real
// socket.io-client@4.8) through nginx balancing round-robin, not sticky,
// over two nodes: the v4 sessions' requests that reach the node not
// holding them are forwarded to it.
func TestV4BehindNginx(t *testing.T) { onClientBackends(t, testV4BehindNginx) }

func testV4BehindNginx(t *testing.T, be backend) {
	nodetest.Require(t)
	testtools.Require(t, "nginx")
	nodes := startNodes(t, be, 2)
	lb := StartNginx(t, nodes[0].Addr, nodes[1].Addr)
	for _, tr := range []string{"polling", "websocket", "upgrade"} {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			res := nodetest.Run(ctx, t, "v4client.js", "--url", lb.URL, "--transport", tr)
			require.Greater(t, len(res), 10)
			for _, r := range res {
				assert.Truef(t, r.Pass, "%s over %s: %s (observed %s)", r.Check, tr, r.Error, string(r.Observed))
			}
		})
	}
	spread := 0
	bySid := map[string]map[string]bool{}
	for _, line := range strings.Split(lb.AccessLog(), "\n") {
		m := v4Request.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if bySid[m[1]] == nil {
			bySid[m[1]] = map[string]bool{}
		}
		bySid[m[1]][m[2]] = true
	}
	for _, ups := range bySid {
		if len(ups) > 1 {
			spread++
		}
	}
	t.Logf("v4 sessions whose requests reached both nodes: %d of %d", spread, len(bySid))
	assert.Positive(t, spread, "v4 sessions served through both nodes")
}

// v4Request matches an nginx access log line of a v4 session's request:
// its sid and the upstream that served it.
var v4Request = regexp.MustCompile(`EIO=4[^ ]*sid=([A-Za-z0-9_-]{20})[^ ]* -> ([0-9.:]+)`)
