package main

// Conformance tests for modern clients (TESTAPP.md "Modern clients":
// Engine.IO v4, socket.io-client 4.x) at the same /socket.io/ path as the
// 0.9 clients.
//
// The scenarios (testdata/scenarios4.js with run-scenarios4.js,
// browser4.js, mixed.js) are validated now against the Node.js reference
// socket.io@4.8 running the same contract (testdata/reftestapp4.js). The
// tests against siogo's testapp skip while it does not answer an Engine.IO
// v4 handshake and turn on by themselves once it does.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/internal/testtools"
	"github.com/siogo/siogo/socketio"
)

// modernTransports are run-scenarios4.js's transports: websocket only,
// polling only, and polling upgraded to websocket.
var modernTransports = []string{"websocket", "polling", "upgrade"}

// startReference4 starts testdata/reftestapp4.js (the contract on
// socket.io@4.8) and returns its base URL.
func startReference4(t *testing.T, extra ...string) string {
	t.Helper()
	return nodetest.StartServerScript(t, "reftestapp4.js", extra...)
}

// probeModern reports whether the server at url answers an Engine.IO v4
// polling handshake (GET /socket.io/?EIO=4&transport=polling answered with
// an open packet "0{...}"), and what it answered.
func probeModern(url string) (bool, string) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode == http.StatusOK && strings.HasPrefix(string(b), "0{") {
		return true, ""
	}
	return false, fmt.Sprintf("%s %q", resp.Status, b)
}

// requireModern skips the test unless the server at url serves Engine.IO v4
// clients.
func requireModern(t *testing.T, url string) {
	t.Helper()
	if ok, got := probeModern(url); !ok {
		t.Skipf("modern clients not served yet: GET /socket.io/?EIO=4&transport=polling answered %s, not an open packet 0{...}", got)
	}
}

// scenarioList4 is what run-scenarios4.js --list prints.
type scenarioList4 struct {
	Scenarios  []string       `json:"scenarios"`
	Transports []string       `json:"transports"`
	Known      []knownFailure `json:"referenceKnownFailures"`
}

func listScenarios4(t *testing.T) scenarioList4 {
	t.Helper()
	out, err := exec.Command(nodetest.Require(t), filepath.Join(nodetest.Dir(t), "run-scenarios4.js"), "--list").Output()
	require.NoError(t, err)
	var l scenarioList4
	require.NoError(t, json.Unmarshal(out, &l))
	require.Equal(t, modernTransports, l.Transports)
	require.NotEmpty(t, l.Scenarios)
	return l
}

// knownByRun maps scenario@transport to the reference's known failures.
func (l scenarioList4) knownByRun() map[string]knownFailure {
	m := map[string]knownFailure{}
	for _, k := range l.Known {
		for _, tr := range k.Transports {
			m[k.Scenario+"@"+tr] = k
		}
	}
	return m
}

// runScenarios4 runs scenarios4.js with the real socket.io-client@4.8
// against url over transport.
func runScenarios4(t *testing.T, url, transport string, extra ...string) []nodetest.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "run-scenarios4.js", append([]string{"--url", url, "--transport", transport}, extra...)...)
	require.NotEmpty(t, res, "the scenario runner reported nothing")
	return res
}

// checkReferenceRun checks a run against the reference: every scenario
// reported once, each passes except the known reference bugs, which must
// still fail (so that the list stays honest).
func checkReferenceRun(t *testing.T, list scenarioList4, transport string, res []nodetest.Result) map[string]nodetest.Result {
	t.Helper()
	known := list.knownByRun()
	byName := map[string]nodetest.Result{}
	for _, r := range res {
		assert.Equal(t, transport, r.Transport)
		_, dup := byName[r.Scenario]
		assert.Falsef(t, dup, "scenario %s reported twice", r.Scenario)
		byName[r.Scenario] = r
		if k, bug := known[r.Scenario+"@"+transport]; bug {
			assert.Falsef(t, r.Pass, "%s is listed as a reference bug (%s) but the reference passed; update referenceKnownFailures", r.Scenario, k.Reason)
			continue
		}
		assert.Truef(t, r.Pass, "reference: %s", r.Describe())
	}
	for _, name := range list.Scenarios {
		assert.Containsf(t, byName, name, "scenario %s not reported", name)
	}
	return byName
}

// TestModernDifferentialReference validates scenarios4.js now: every
// scenario passes against the Node.js reference socket.io@4.8 running the
// contract (reftestapp4.js), over each transport. The reference runs with a
// 300 ms ping interval so that the heartbeat scenario really checks pings.
func TestModernDifferentialReference(t *testing.T) {
	nodetest.Require(t)
	list := listScenarios4(t)
	ref := startReference4(t, "--ping-interval", "300ms", "--ping-timeout", "10s")
	ok, got := probeModern(ref)
	require.Truef(t, ok, "the v4 probe must recognize the reference: %s", got)
	for _, tr := range modernTransports {
		t.Run(tr, func(t *testing.T) {
			byName := checkReferenceRun(t, list, tr, runScenarios4(t, ref, tr))
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

// TestModernNodeClient runs scenarios4.js with the real
// socket.io-client@4.8 against siogo's testapp and against the reference,
// over each transport: every scenario passes on siogo (the reference's
// known bugs included) and what the client observed is the same as with
// the reference. Skipped while the testapp does not serve Engine.IO v4.
func TestModernNodeClient(t *testing.T) {
	nodetest.Require(t)
	_, url := startTestapp(t, socketio.Config{})
	requireModern(t, url)
	modernDifferential(t, url)
}

// modernDifferential runs scenarios4.js against url and against the
// reference (default ping settings on both sides, like the in-process
// testapp) and compares them (see TestModernNodeClient).
func modernDifferential(t *testing.T, url string) {
	t.Helper()
	list := listScenarios4(t)
	known := list.knownByRun()
	ref := startReference4(t)
	for _, tr := range modernTransports {
		t.Run(tr, func(t *testing.T) {
			refRes := checkReferenceRun(t, list, tr, runScenarios4(t, ref, tr))
			ours := runScenarios4(t, url, tr)
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

// TestModernPingFlags runs the testapp binary with -ping-interval 300ms
// -ping-timeout 10s (TESTAPP.md "Modern clients": Engine.IO's timers) and
// checks with the real client that pings arrive at that pace and the
// connection stays up. Skipped while the testapp does not serve v4.
func TestModernPingFlags(t *testing.T) {
	nodetest.Require(t)
	_, inproc := startTestapp(t, socketio.Config{})
	requireModern(t, inproc)
	goTool := testtools.Require(t, "go")
	bin := filepath.Join(t.TempDir(), "testapp")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoErrorf(t, err, "go build: %s", out)

	addr := nodetest.FreeAddr(t)
	cmd := exec.Command(bin, "-addr", addr, "-ping-interval", "300ms", "-ping-timeout", "10s", "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "the testapp binary did not listen on %s", addr)
	url := "http://" + addr
	requireModern(t, url)
	checkPings(t, url)
}

// checkPings runs the heartbeat scenario against url, a server with a ping
// interval of at most 2s, over each transport.
func checkPings(t *testing.T, url string) {
	t.Helper()
	for _, tr := range modernTransports {
		t.Run(tr, func(t *testing.T) {
			res := runScenarios4(t, url, tr, "--only", "heartbeat,default.echo-ack")
			require.Len(t, res, 2)
			for _, r := range res {
				assert.Truef(t, r.Pass, "%s", r.Describe())
				if r.Scenario == "heartbeat" {
					assert.JSONEq(t, `{"echo":["alive"],"lifecycle":[["connect"]],"pingsChecked":true}`, string(r.Observed))
				}
			}
		})
	}
}

// browserScenarios4 runs browser4.js (the real socket.io-client@4.8 browser
// build in headless Chromium, page on another origin) against url and
// checks that every scenario passed over each transport.
func browserScenarios4(t *testing.T, url, shotsName string) {
	t.Helper()
	shots := filepath.Join(nodetest.Dir(t), "..", "artifacts", shotsName)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "browser4.js", "--url", url, "--screenshot-dir", shots)
	seen := map[string]int{}
	for _, r := range res {
		seen[r.Transport]++
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	for _, tr := range modernTransports {
		assert.GreaterOrEqualf(t, seen[tr], 20, "browser scenarios over %s", tr)
	}
}

// TestModernBrowserReference validates browser4.js now against the
// reference.
func TestModernBrowserReference(t *testing.T) {
	nodetest.RequireChromium(t)
	browserScenarios4(t, startReference4(t), "browser4-reference")
}

// TestModernBrowser runs browser4.js against siogo's testapp. Skipped while
// the testapp does not serve Engine.IO v4.
func TestModernBrowser(t *testing.T) {
	nodetest.RequireChromium(t)
	_, url := startTestapp(t, socketio.Config{})
	requireModern(t, url)
	browserScenarios4(t, url, "browser4")
}

// mixedScenarios runs testdata/mixed.js against url and checks that every
// scenario passed for every pair of transports.
func mixedScenarios(t *testing.T, url string) {
	t.Helper()
	out, err := exec.Command(nodetest.Require(t), filepath.Join(nodetest.Dir(t), "mixed.js"), "--list").Output()
	require.NoError(t, err)
	var list struct {
		Scenarios []string `json:"scenarios"`
		Pairs     []string `json:"pairs"`
	}
	require.NoError(t, json.Unmarshal(out, &list))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "mixed.js", "--url", url, "--budget-ms", "180000")
	seen := map[string]int{}
	for _, r := range res {
		seen[r.Transport]++
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	for _, p := range list.Pairs {
		assert.Equalf(t, len(list.Scenarios), seen[p], "mixed scenarios over %s", p)
	}
}

// TestMixedGenerationsBridge validates mixed.js now against
// testdata/refmixed.js: socket.io@0.9.19 and socket.io@4.8 on one port with
// the cross-generation rows bridged. It is a stand-in, not a reference (no
// Node.js server serves both generations); it only shows that the
// scenarios can pass.
func TestMixedGenerationsBridge(t *testing.T) {
	nodetest.Require(t)
	mixedScenarios(t, nodetest.StartServerScript(t, "refmixed.js"))
}

// TestMixedGenerationsRoom: a socket.io-client 0.9.16 client and a
// socket.io-client 4.8 client on the same testapp share rooms, broadcasts
// and watch/gone (testdata/mixed.js), for every pair of transports.
// Skipped while the testapp does not serve Engine.IO v4.
func TestMixedGenerationsRoom(t *testing.T) {
	nodetest.Require(t)
	_, url := startTestapp(t, socketio.Config{})
	requireModern(t, url)
	mixedScenarios(t, url)
}
