package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/siogo/siogo/internal/testtools"
)

// TestClusterEndToEnd runs a tiny -cluster measurement (two nodes on a
// standalone redis-server, both channel modes) and checks that every
// number came out and every broadcast reached its room.
func TestClusterEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis and two servers and loads them for seconds")
	}
	testtools.Require(t, "redis-server")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "cluster.json")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"-cluster", "-runs", "1", "-json", out,
		"-cluster-nodes", "2", "-cluster-rooms", "6", "-cluster-members", "2", "-cluster-rate", "100",
		"-cluster-warmup", "300ms", "-cluster-idle", "300ms", "-cluster-duration", "1s"}, &stdout, &stderr)
	t.Logf("stderr:\n%s", stderr.String())
	t.Logf("stdout:\n%s", stdout.String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep clusterReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 {
		t.Fatalf("%d runs, want one per channel mode", len(rep.Runs))
	}
	for _, r := range rep.Runs {
		if len(r.Problems) > 0 {
			t.Errorf("%s: problems %q", r.Channels, r.Problems)
		}
		if r.Broadcasts < 50 || len(r.NodeCPUus) != 2 || r.Publishes < 0.99 || r.RedisOutBytes <= 0 {
			t.Errorf("%s: %+v", r.Channels, r)
		}
		if r.Delivered < 0.999 {
			t.Errorf("%s: %.3f of the room deliveries arrived", r.Channels, r.Delivered)
		}
	}
	if !bytes.Contains(stdout.Bytes(), []byte("publish/bc")) {
		t.Error("no table on stdout")
	}
}

func TestParseClusterFlags(t *testing.T) {
	var sink bytes.Buffer
	cfg, err := parseFlags([]string{"-cluster"}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.Cluster
	if !cfg.ClusterMode || cc.Nodes != 4 || cc.Rooms != 100 || len(cc.Channels) != 2 || len(cc.Redis) != 1 {
		t.Errorf("defaults: %+v", cc)
	}
	for _, bad := range [][]string{{"-cluster", "-cluster-nodes", "1"}, {"-cluster", "-cluster-channels", "x"},
		{"-cluster", "-cluster-redis", "sentinel"}} {
		if _, err := parseFlags(bad, &sink); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}
