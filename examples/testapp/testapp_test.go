package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/socketio"
)

// nodeTransports are the transports socket.io-client@0.9.16 runs in Node
// (jsonp-polling and htmlfile need a DOM: the browser test covers them).
var nodeTransports = []string{"websocket", "xhr-polling"}

// startTestapp serves the testapp in-process (so -race sees the server)
// and returns its base URL.
func startTestapp(t *testing.T, cfg socketio.Config) (*socketio.Server, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	srv := newServer(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		hs.CloseClientConnections()
		hs.Close()
	})
	return srv, hs.URL
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// runScenarios runs every client scenario of testdata/scenarios.js with the
// real socket.io-client@0.9.16 against url.
func runScenarios(t *testing.T, url, transport string) []nodetest.Result {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "run-scenarios.js", "--url", url, "--transport", transport)
	require.NotEmpty(t, res, "the scenario runner reported nothing")
	return res
}

// knownFailure is an entry of scenarios.js's referenceKnownFailures: a
// scenario where the Node.js reference is wrong (PROTOCOL.md §8).
type knownFailure struct {
	Scenario   string   `json:"scenario"`
	Transports []string `json:"transports"`
	Reason     string   `json:"reason"`
}

func referenceKnownFailures(t *testing.T) map[string]knownFailure {
	out, err := exec.Command(nodetest.Require(t), filepath.Join(nodetest.Dir(t), "run-scenarios.js"), "--list").Output()
	require.NoError(t, err)
	var list struct {
		Known []knownFailure `json:"referenceKnownFailures"`
	}
	require.NoError(t, json.Unmarshal(out, &list))
	m := map[string]knownFailure{}
	for _, k := range list.Known {
		for _, tr := range k.Transports {
			m[k.Scenario+"@"+tr] = k
		}
	}
	return m
}

// TestDifferentialAgainstReference runs every scenario of
// testdata/scenarios.js with the real socket.io-client@0.9.16 against the
// Node.js reference socket.io@0.9.19 (testdata/reftestapp.js) and against
// siogo, over each transport: every scenario passes on siogo, and what the
// client observed is the same as with the reference. Where the reference is
// known to be wrong, siogo must pass and the reference must still show the
// bug (so the list stays honest). (It replaces a separate run of the
// scenarios against siogo alone, which checked a subset of this.)
func TestDifferentialAgainstReference(t *testing.T) {
	nodetest.Require(t)
	known := referenceKnownFailures(t)
	refURL := nodetest.StartReference(t)
	_, url := startTestapp(t, socketio.Config{})
	for _, tr := range nodeTransports {
		t.Run(tr, func(t *testing.T) {
			ref := map[string]nodetest.Result{}
			for _, r := range runScenarios(t, refURL, tr) {
				ref[r.Scenario] = r
			}
			ours := runScenarios(t, url, tr)
			require.Len(t, ours, len(ref), "both runs report every scenario")
			for _, r := range ours {
				assert.Truef(t, r.Pass, "%s", r.Describe())
				rr, ok := ref[r.Scenario]
				if !assert.Truef(t, ok, "scenario %s missing from the reference run", r.Scenario) {
					continue
				}
				if k, bug := known[r.Scenario+"@"+tr]; bug {
					assert.Truef(t, r.Pass, "siogo must get right what the reference gets wrong (%s): %s", k.Reason, r.Describe())
					assert.Falsef(t, rr.Pass, "%s is listed as a reference bug but the reference passed; update referenceKnownFailures", r.Scenario)
					continue
				}
				assert.Truef(t, rr.Pass, "reference: %s", rr.Describe())
				assert.JSONEqf(t, string(rr.Observed), string(r.Observed), "%s over %s: siogo and the reference differ", r.Scenario, tr)
			}
		})
	}
}

// TestBrowserScenarios loads the real socket.io.js 0.9.16 in headless
// Chromium from a page on another origin and runs the browser scenarios
// over websocket, xhr-polling and jsonp-polling (testdata/browser.js).
func TestBrowserScenarios(t *testing.T) {
	nodetest.RequireChromium(t)
	_, url := startTestapp(t, socketio.Config{})
	shots := filepath.Join(nodetest.Dir(t), "..", "artifacts", "browser")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "browser.js", "--url", url, "--screenshot-dir", shots)
	seen := map[string]int{}
	for _, r := range res {
		seen[r.Transport]++
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	for _, tr := range []string{"websocket", "xhr-polling", "jsonp-polling"} {
		assert.Greaterf(t, seen[tr], 10, "browser scenarios over %s", tr)
	}
}
