package main

// Conformance tests for socket.io-client 2.x (TESTAPP.md "Modern clients":
// Engine.IO v3, the Socket.IO protocol v4 as 2.x clients speak it) at the
// same /socket.io/ path as the other generations.
//
// The scenarios (testdata/scenarios2.js with run-scenarios2.js,
// browser2-scenarios.js, mixed3-scenarios.js) are validated now against the Node.js reference
// socket.io@4.8 with allowEIO3 running the same contract
// (testdata/reftestapp4.js; refmixed.js for the three
// generations). The tests against siogo's testapp skip while it does not
// answer an Engine.IO v3 handshake and turn on by themselves once it does.

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
	"github.com/siogo/siogo/socketio"
)

// v2Transports are run-scenarios2.js's transports: websocket only, polling
// only, polling upgraded to websocket, and polling with forceBase64.
var v2Transports = []string{"websocket", "polling", "upgrade", "polling-base64"}

// v2BrowserTransports are browser2-scenarios.js's: the same plus JSONP polling.
var v2BrowserTransports = []string{"websocket", "polling", "upgrade", "polling-base64", "jsonp"}

// startReference2 starts the reference for 2.x clients: reftestapp4.js
// (the contract on socket.io@4.8, with allowEIO3).
func startReference2(t *testing.T, extra ...string) string {
	t.Helper()
	return nodetest.StartServerScript(t, "reftestapp4.js", extra...)
}

// probeV2 reports whether the server at url answers an Engine.IO v3
// polling handshake (GET /socket.io/?EIO=3&transport=polling whose body
// holds an open packet "0{...}", in whichever payload framing), and what it
// answered.
func probeV2(url string) (bool, string) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url + "/socket.io/?EIO=3&transport=polling")
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

// requireV2 skips the test unless the server at url serves Engine.IO v3
// clients.
func requireV2(t *testing.T, url string) {
	t.Helper()
	if ok, got := probeV2(url); !ok {
		t.Skipf("socket.io-client 2.x not served yet: GET /socket.io/?EIO=3&transport=polling answered %s, not an open packet 0{...}", got)
	}
}

// listScenarios2 is what run-scenarios2.js --list prints (the same shape
// as run-scenarios4.js's).
func listScenarios2(t *testing.T) scenarioList4 {
	t.Helper()
	out, err := exec.Command(nodetest.Require(t), filepath.Join(nodetest.Dir(t), "run-scenarios2.js"), "--list").Output()
	require.NoError(t, err)
	var l scenarioList4
	require.NoError(t, json.Unmarshal(out, &l))
	require.Equal(t, v2Transports, l.Transports)
	require.NotEmpty(t, l.Scenarios)
	return l
}

// runScenarios2 runs scenarios2.js with the real socket.io-client@2.5.0
// against url over transport.
func runScenarios2(t *testing.T, url, transport string, extra ...string) []nodetest.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "run-scenarios2.js", append([]string{"--url", url, "--transport", transport}, extra...)...)
	require.NotEmpty(t, res, "the scenario runner reported nothing")
	return res
}

// TestV2DifferentialReference validates scenarios2.js now: every scenario
// passes against the Node.js reference (socket.io@4.8 with allowEIO3
// running the contract), over each transport. The reference runs with a
// 300 ms ping interval so that the heartbeat scenario really checks the
// client's pings and the server's pongs.
func TestV2DifferentialReference(t *testing.T) {
	nodetest.Require(t)
	list := listScenarios2(t)
	ref := startReference2(t, "--ping-interval", "300ms", "--ping-timeout", "10s")
	ok, got := probeV2(ref)
	require.Truef(t, ok, "the v3 probe must recognize the reference: %s", got)
	for _, tr := range v2Transports {
		t.Run(tr, func(t *testing.T) {
			byName := checkReferenceRun(t, list, tr, runScenarios2(t, ref, tr))
			if hb, found := byName["heartbeat"]; assert.True(t, found) {
				var obs struct {
					PingsChecked bool `json:"pingsChecked"`
				}
				require.NoError(t, json.Unmarshal(hb.Observed, &obs))
				assert.True(t, obs.PingsChecked, "heartbeat did not check pings: %s", hb.Observed)
			}
		})
	}
}

// TestV2NodeClient runs scenarios2.js with the real socket.io-client@2.5.0
// against siogo's testapp and against the reference, over each transport:
// every scenario passes on siogo and what the client observed is the same
// as with the reference. Skipped while the testapp does not serve
// Engine.IO v3.
func TestV2NodeClient(t *testing.T) {
	nodetest.Require(t)
	_, url := startTestapp(t, socketio.Config{})
	requireV2(t, url)
	list := listScenarios2(t)
	known := list.knownByRun()
	ref := startReference2(t)
	for _, tr := range v2Transports {
		t.Run(tr, func(t *testing.T) {
			refRes := checkReferenceRun(t, list, tr, runScenarios2(t, ref, tr))
			ours := runScenarios2(t, url, tr)
			require.Len(t, ours, len(refRes), "both runs report every scenario")
			for _, r := range ours {
				assert.Truef(t, r.Pass, "%s", r.Describe())
				rr, ok := refRes[r.Scenario]
				if !assert.Truef(t, ok, "scenario %s missing from the reference run", r.Scenario) {
					continue
				}
				if _, bug := known[r.Scenario+"@"+tr]; bug {
					continue
				}
				assert.JSONEqf(t, string(rr.Observed), string(r.Observed), "%s over %s: siogo and the reference differ", r.Scenario, tr)
			}
		})
	}
}

// browserScenarios2 runs browser2-scenarios.js (the real socket.io-client@2.5.0
// dist file in headless Chromium, page on another origin) against url and
// checks that every scenario passed over each transport, JSONP included.
func browserScenarios2(t *testing.T, url, shotsName string) {
	t.Helper()
	shots := filepath.Join(nodetest.Dir(t), "..", "artifacts", shotsName)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "browser2-scenarios.js", "--url", url, "--screenshot-dir", shots)
	seen := map[string]int{}
	for _, r := range res {
		seen[r.Transport]++
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	for _, tr := range v2BrowserTransports {
		assert.GreaterOrEqualf(t, seen[tr], 20, "browser scenarios over %s", tr)
	}
}

// TestV2BrowserReference validates browser2-scenarios.js now against the reference.
func TestV2BrowserReference(t *testing.T) {
	nodetest.RequireChromium(t)
	browserScenarios2(t, startReference2(t), "browser2-reference")
}

// TestV2BrowserScenarios runs browser2-scenarios.js against siogo's testapp. Skipped while
// the testapp does not serve Engine.IO v3.
func TestV2BrowserScenarios(t *testing.T) {
	nodetest.RequireChromium(t)
	_, url := startTestapp(t, socketio.Config{})
	requireV2(t, url)
	browserScenarios2(t, url, "browser2")
}

// threeGenerations runs testdata/mixed3-scenarios.js against url (with extra flags)
// and checks that every scenario passed for every default triple of
// transports.
func threeGenerations(t *testing.T, url string, extra ...string) {
	t.Helper()
	out, err := exec.Command(nodetest.Require(t), append([]string{filepath.Join(nodetest.Dir(t), "mixed3-scenarios.js"), "--list"}, extra...)...).Output()
	require.NoError(t, err)
	var list struct {
		Scenarios []string `json:"scenarios"`
		Triples   []string `json:"triples"`
	}
	require.NoError(t, json.Unmarshal(out, &list))
	require.NotEmpty(t, list.Triples)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "mixed3-scenarios.js", append([]string{"--url", url, "--budget-ms", "180000"}, extra...)...)
	seen := map[string]int{}
	for _, r := range res {
		seen[r.Transport]++
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	for _, tr := range list.Triples {
		assert.Equalf(t, len(list.Scenarios), seen[tr], "three-generation scenarios over %s", tr)
	}
}

// TestThreeGenerationsBridge validates mixed3-scenarios.js now against
// testdata/refmixed.js: socket.io@0.9.19 and socket.io@4.8 (allowEIO3, so
// 2.x and 4.x clients share its rooms natively) on one port with the rows
// bridged to 0.9. A stand-in, not a reference (no Node.js server serves
// 0.9 next to the others); it only shows that the scenarios can pass.
// Without --binary: the bridge does not turn binary into base64 for 0.9.
func TestThreeGenerationsBridge(t *testing.T) {
	nodetest.Require(t)
	threeGenerations(t, nodetest.StartServerScript(t, "refmixed.js"))
}

// TestThreeGenerationsRoom: a socket.io-client 0.9.16, a 2.5.0 and a 4.8
// client on the same testapp share rooms, broadcasts, count and
// watch/gone, binary included (testdata/mixed3-scenarios.js --binary), over several
// triples of transports. Skipped while the testapp does not serve both
// Engine.IO v3 and v4.
func TestThreeGenerationsRoom(t *testing.T) {
	nodetest.Require(t)
	_, url := startTestapp(t, socketio.Config{})
	requireModern(t, url)
	requireV2(t, url)
	threeGenerations(t, url, "--binary")
}
