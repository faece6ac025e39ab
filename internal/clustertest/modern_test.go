package clustertest

// Modern clients (Engine.IO v4, socket.io-client 4.x) across nodes:
// non-sticky v4 polling through the session directory, and 0.9 and 4.x
// clients on different nodes sharing rooms through Redis.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
)

// roundRobin is a balancer that is not sticky: each request (a poll, a
// POST, a websocket upgrade) goes to the next node in turn. It records
// which nodes served each session id.
type roundRobin struct {
	URL   string
	nodes []*url.URL
	next  atomic.Uint64
	tr    *http.Transport

	mu  sync.Mutex
	via map[string]map[int]int // sid -> node index -> requests
}

func newRoundRobin(t *testing.T, upstreams []string) *roundRobin {
	t.Helper()
	rr := &roundRobin{tr: &http.Transport{}, via: map[string]map[int]int{}}
	for _, u := range upstreams {
		p, err := url.Parse(u)
		require.NoError(t, err)
		rr.nodes = append(rr.nodes, p)
	}
	hs := httptest.NewServer(rr)
	rr.URL = hs.URL
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		rr.tr.CloseIdleConnections()
	})
	return rr
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(rr.next.Add(1)-1) % len(rr.nodes)
	if sid := r.URL.Query().Get("sid"); sid != "" {
		rr.mu.Lock()
		if rr.via[sid] == nil {
			rr.via[sid] = map[int]int{}
		}
		rr.via[sid][i]++
		rr.mu.Unlock()
	}
	target := rr.nodes[i]
	(&httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport:     rr.tr,
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0), // clients going away mid-poll
	}).ServeHTTP(w, r)
}

// spread returns how many sessions had requests served by more than one
// node, and how many sessions made requests at all.
func (rr *roundRobin) spread() (multi, all int) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	for _, by := range rr.via {
		all++
		if len(by) > 1 {
			multi++
		}
	}
	return multi, all
}

// v4Poller speaks raw Engine.IO v4 polling (Socket.IO v5 packets) to
// whichever node each request names.
type v4Poller struct {
	t   *testing.T
	hc  *http.Client
	sid string
}

func newV4Poller(t *testing.T) *v4Poller {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &v4Poller{t: t, hc: &http.Client{Transport: tr, Timeout: 40 * time.Second}}
}

func (p *v4Poller) do(method, base, body string) (int, string) {
	p.t.Helper()
	u := base + "/socket.io/?EIO=4&transport=polling"
	if p.sid != "" {
		u += "&sid=" + p.sid
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	require.NoError(p.t, err)
	resp, err := p.hc.Do(req)
	require.NoError(p.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(p.t, err)
	return resp.StatusCode, string(b)
}

func (p *v4Poller) handshake(base string) {
	p.t.Helper()
	st, body := p.do(http.MethodGet, base, "")
	require.Equal(p.t, http.StatusOK, st, body)
	var open struct {
		SID string `json:"sid"`
	}
	require.True(p.t, strings.HasPrefix(body, "0"), body)
	require.NoError(p.t, json.Unmarshal([]byte(body[1:]), &open))
	p.sid = open.SID
}

func (p *v4Poller) post(base string, pkts ...string) {
	p.t.Helper()
	st, body := p.do(http.MethodPost, base, strings.Join(pkts, "\x1e"))
	require.Equal(p.t, http.StatusOK, st, body)
	require.Equal(p.t, "ok", body)
}

// poll returns the packets of one poll through base, answering pings.
func (p *v4Poller) poll(base string) []string {
	p.t.Helper()
	st, body := p.do(http.MethodGet, base, "")
	require.Equal(p.t, http.StatusOK, st, body)
	var out []string
	for _, pkt := range strings.Split(body, "\x1e") {
		if pkt == "2" {
			p.post(base, "3")
			continue
		}
		out = append(out, pkt)
	}
	return out
}

// TestNonStickyPollingV4: an Engine.IO v4 polling session handshaken on
// node A is served by requests alternating between A and B (raw HTTP, as
// a round-robin balancer sends them): a burst of 500 server emits arrives
// whole and in order over polls alternating between the nodes, acks flow
// both ways, and room emits from a client on a third node reach it.
func TestNonStickyPollingV4(t *testing.T) { onBackends(t, testNonStickyPollingV4) }

func testNonStickyPollingV4(t *testing.T, be backend) {
	nodes := startNodes(t, be, 3)
	via := []string{nodes[0].URL, nodes[1].URL}
	ws, _ := dial(t, nodes[2].URL)
	p := newV4Poller(t)
	p.handshake(via[0])
	p.post(via[1], "40")
	got := p.poll(via[0])
	require.Len(t, got, 1)
	require.True(t, strings.HasPrefix(got[0], `40{"sid":`), got[0])

	// Acks, POSTed through one node, come back through the other.
	for i := range 6 {
		n := strconv.Itoa(i)
		p.post(via[i%2], "42"+n+`["echo","hi",`+n+`]`)
		assert.Equal(t, []string{"43" + n + `["hi",` + n + `]`}, p.poll(via[(i+1)%2]))
	}

	// A burst, collected by polls alternating between the nodes.
	const burst = 500
	p.post(via[1], `42["burst",`+strconv.Itoa(burst)+`]`)
	var seen []string
	for i := 0; len(seen) < burst && i < 2*burst; i++ {
		seen = append(seen, p.poll(via[i%2])...)
	}
	require.Len(t, seen, burst)
	for i, pkt := range seen {
		require.Equal(t, `42["burst",`+strconv.Itoa(i)+`]`, pkt)
	}

	// Room emits from node 3 reach a poll held through either node.
	p.post(via[0], `421["join","r"]`)
	assert.Equal(t, []string{`431[true]`}, p.poll(via[1]))
	for i := range 4 {
		held := make(chan []string, 1)
		go func() {
			_, body := p.do(http.MethodGet, via[i%2], "")
			held <- strings.Split(body, "\x1e")
		}()
		time.Sleep(50 * time.Millisecond)
		require.NoError(t, ws.Emit("to-room", "r", "from-node-3", i))
		select {
		case pkts := <-held:
			assert.Equal(t, []string{`42["room","from-node-3",` + strconv.Itoa(i) + `]`}, pkts)
		case <-time.After(waitFor):
			t.Fatal("the held poll got nothing")
		}
	}

	// The server asks the client; the answer goes back through the other node.
	p.post(via[0], `42["ask","question",7]`)
	ask := p.poll(via[1])
	require.Len(t, ask, 1)
	m := regexp.MustCompile(`^42([0-9]+)\["question",7\]$`).FindStringSubmatch(ask[0])
	require.NotNil(t, m, "the server asks for an ack: %q", ask[0])
	p.post(via[0], "43"+m[1]+`["yes"]`)
	assert.Equal(t, []string{`42["answer","yes"]`}, p.poll(via[1]))

	// The v4 client's room broadcast reaches the 0.9 client on node 3.
	room := make(chan json.RawMessage, 1)
	require.NoError(t, ws.On("room", func(v json.RawMessage) { room <- v }))
	require.Equal(t, "[true]", call(t, ws, "join", "r"))
	assert.Equal(t, 2, count(t, ws, "r"))
	p.post(via[1], `42["broadcast-room","r","from-v4"]`)
	select {
	case v := <-room:
		assert.JSONEq(t, `"from-v4"`, string(v))
	case <-time.After(waitFor):
		t.Fatal("the v4 client's broadcast did not reach node 3")
	}

	// A close packet through B ends the session on A; both nodes then
	// answer it as unknown.
	p.post(via[1], "1")
	require.Eventually(t, func() bool { return count(t, ws, "r") == 1 }, waitFor, tick)
	for _, base := range via {
		st, body := p.do(http.MethodGet, base, "")
		assert.Equal(t, http.StatusBadRequest, st)
		assert.JSONEq(t, `{"code":1,"message":"Session ID unknown"}`, body)
	}
}

// TestRealV4ClientRoundRobin runs the real socket.io-client@4.8
// (testdata/run-scenarios4.js, every TESTAPP row) over polling and over
// polling upgraded to websocket through a balancer that is not sticky in
// front of two nodes: every request of a session goes to the next node in
// turn, and the directory and forwarding make it work.
func TestRealV4ClientRoundRobin(t *testing.T) { onClientBackends(t, testRealV4ClientRoundRobin) }

func testRealV4ClientRoundRobin(t *testing.T, be backend) {
	nodetest.Require(t)
	nodes := startNodes(t, be, 2)
	rr := newRoundRobin(t, urls(nodes))
	out, err := exec.Command(nodetest.Require(t), filepath.Join(nodetest.Dir(t), "run-scenarios4.js"), "--list").Output()
	require.NoError(t, err)
	var list struct {
		Scenarios []string `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal(out, &list))
	for _, tr := range []string{"polling", "upgrade"} {
		t.Run(tr, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			res := nodetest.Run(ctx, t, "run-scenarios4.js", "--url", rr.URL, "--transport", tr, "--budget-ms", "150000")
			require.Len(t, res, len(list.Scenarios))
			for _, r := range res {
				assert.Truef(t, r.Pass, "%s", r.Describe())
			}
		})
	}
	multi, all := rr.spread()
	t.Logf("%d of %d sessions had requests on both nodes", multi, all)
	assert.Greater(t, multi, all/2, "most sessions were served by both nodes")
}

// TestMixedScenariosAcrossNodes runs testdata/mixed.js with the
// socket.io-client@0.9.16 clients on node A and the socket.io-client@4.8
// clients on node B (Redis between them), for every pair of transports:
// room emits, broadcasts, counts and watch/gone cross the nodes both
// ways, and binary arguments (--binary) sent to the room by a 4.x client
// on A reach the 4.x client on B as binary (and the 0.9 client as base64),
// as do those of B's 4.x client's broadcast.
func TestMixedScenariosAcrossNodes(t *testing.T) { onBackends(t, testMixedScenariosAcrossNodes) }

func testMixedScenariosAcrossNodes(t *testing.T, be backend) {
	nodetest.Require(t)
	nodes := startNodes(t, be, 2)
	out, err := exec.Command(nodetest.Require(t), filepath.Join(nodetest.Dir(t), "mixed.js"), "--list", "--binary").Output()
	require.NoError(t, err)
	var list struct {
		Scenarios []string `json:"scenarios"`
		Pairs     []string `json:"pairs"`
	}
	require.NoError(t, json.Unmarshal(out, &list))
	require.Contains(t, list.Scenarios, "default.binary-room")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res := nodetest.Run(ctx, t, "mixed.js", "--url", nodes[0].URL, "--url-new", nodes[1].URL,
		"--binary", "--budget-ms", "180000")
	seen := map[string]int{}
	for _, r := range res {
		seen[r.Transport]++
		assert.Truef(t, r.Pass, "%s", r.Describe())
	}
	for _, p := range list.Pairs {
		assert.Equal(t, len(list.Scenarios), seen[p], fmt.Sprintf("mixed scenarios over %s", p))
	}
}
