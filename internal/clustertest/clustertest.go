// Package clustertest starts what the multi-node tests need — a real
// redis-server, a real Redis Cluster of three masters (StartRedisCluster)
// and an nginx load balancer, each on free loopback ports — and holds
// those tests. The multi-node scenarios run once per backend
// (backends_test.go): on a standalone redis-server, and on the Redis
// Cluster with at least four testapp nodes. Those whose subject is a
// client generation or the balancer in front, not the Redis between the
// nodes (TestBehindNginx, TestV4BehindNginx, TestRealV4ClientRoundRobin,
// TestMixedGenerationsAcrossNodes, TestThreeGenerationsAcrossNodes), run
// on the standalone Redis only unless SIOGO_REDIS_BACKENDS is set
// (SIOGO_REDIS_BACKENDS=redis,cluster: every scenario on both). On the
// cluster "Redis restarts" means
// every master killed and started again empty (with its slots), and, in
// TestRedisRestartDuringTraffic, each master alone in turn, faster than
// the cluster-node-timeout — after each, the same guarantees as after a
// standalone restart must hold (delivery resumes, counts and the session
// directory are rewritten). The tests (cluster_test.go): several
// examples/testapp processes joined through Redis (-redis or
// -redis-cluster), driven by the real
// socket.io-client@0.9.16 (testdata/cluster.js, testdata/run-scenarios.js),
// by the Go client and by raw HTTP, with nodes killed and Redis restarted;
// and with modern clients (modern_test.go): socket.io-client@4.8 through a
// balancer that is not sticky, raw Engine.IO v4 polling alternating
// between nodes, and 0.9 and 4.x clients on different nodes in one room;
// and the cluster-wide rows to-id, kick-id, fetch and poll-room with 0.9,
// 2.x and 4.x clients on three nodes (clusterops_test.go,
// testdata/cluster-ops.js).
//
// redis-server (with redis-cli) and nginx are Debian packages (`make deps` installs them); a
// missing one skips the test that needs it, or fails it under CI or make
// test (see testtools).
package clustertest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/siogo/siogo/internal/testtools"
)

// freePort returns a loopback port free right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// process is a started command whose exit is watched.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop sends sig, waits up to 5 s, then kills.
func (p *process) stop(sig os.Signal) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Redis is a redis-server process (no persistence) on a loopback port.
type Redis struct {
	t    testing.TB
	bin  string
	port int
	dir  string

	mu   sync.Mutex
	proc *process
}

// StartRedis starts redis-server on a free port; it is killed when the
// test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	r := &Redis{t: t, bin: testtools.Require(t, "redis-server"), port: freePort(t), dir: t.TempDir()}
	r.Start()
	t.Cleanup(r.Kill)
	return r
}

// Addr is Redis's host:port.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// Start (re)starts redis-server on its port, empty, and waits until it
// answers.
func (r *Redis) Start() {
	r.t.Helper()
	var err error
	for range 3 {
		if err = r.tryStart(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // the port may still be held
	}
	r.t.Fatalf("cannot start redis-server on %s: %v", r.Addr(), err)
}

func (r *Redis) tryStart() error {
	p, err := startRedisProcess(r.bin, r.Addr(), "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--loglevel", "warning")
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.proc = p
	r.mu.Unlock()
	return nil
}

// startRedisProcess runs redis-server (bin) with args and waits, at most
// 5 s, until it answers PING on addr; a server that exits or stays silent
// is an error (and is killed).
func startRedisProcess(bin, addr string, args ...string) (*process, error) {
	p, err := startProcess(exec.Command(bin, args...))
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if !p.running() {
			return nil, errors.New("redis-server exited at once (port taken?)")
		}
		if ping(addr) == nil {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop(syscall.SIGKILL)
			return nil, errors.New("redis-server did not answer PING")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping sends an inline PING and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	b := make([]byte, 7)
	n, err := c.Read(b)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(b[:n]), "+PONG") {
		return fmt.Errorf("unexpected reply %q", b[:n])
	}
	return nil
}

// Kill stops redis-server with SIGKILL, as a crash would; its data is lost.
func (r *Redis) Kill() {
	r.mu.Lock()
	p := r.proc
	r.proc = nil
	r.mu.Unlock()
	if p != nil {
		p.stop(syscall.SIGKILL)
	}
}

// Nginx is an nginx process balancing round-robin (not sticky) over
// upstream nodes, on a loopback port.
type Nginx struct {
	Addr string // host:port
	URL  string // http://host:port
	Dir  string // its prefix: nginx.conf, error.log, access.log
	proc *process
}

// NginxConfig returns an nginx.conf that balances round-robin over the
// upstreams ("host:port"), without stickiness, with what Socket.IO needs:
// WebSocket upgrades, no buffering (long-polls, htmlfile streams) and read
// timeouts longer than a long-poll. It runs nginx in the foreground as one
// process (for tests and trials) with its files under dir. access.log
// records which upstream served each request.
func NginxConfig(dir, listen string, upstreams []string) string {
	var servers strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&servers, "        server %s;\n", u)
	}
	return strings.NewReplacer("DIR", dir, "LISTEN", listen, "SERVERS\n", servers.String()).Replace(nginxTemplate)
}

const nginxTemplate = `daemon off;
master_process off;
pid DIR/nginx.pid;
error_log DIR/error.log warn;
events { worker_connections 1024; }
http {
    log_format upstream '$request_method $request_uri -> $upstream_addr $status';
    access_log DIR/access.log upstream;
    client_body_temp_path DIR/client_body;
    proxy_temp_path DIR/proxy;
    fastcgi_temp_path DIR/fastcgi;
    uwsgi_temp_path DIR/uwsgi;
    scgi_temp_path DIR/scgi;

    # "Connection: upgrade" for WebSocket upgrades; otherwise none, so
    # that connections to the nodes are kept alive.
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      '';
    }
    upstream siogo {
        # Round robin, not sticky: any node serves any request.
SERVERS
        keepalive 32;
    }
    server {
        listen LISTEN;
        location / {
            proxy_pass http://siogo;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # Only nodes mark requests as forwarded.
            proxy_set_header X-Siogo-Forwarded "";
            # Long-polls and htmlfile streams go out as they are written.
            proxy_buffering off;
            proxy_request_buffering off;
            # Longer than a long-poll (20 s) and than a websocket's
            # heartbeat interval (25 s).
            proxy_read_timeout 120s;
            proxy_send_timeout 120s;
        }
    }
}
`

// StartNginx starts nginx in front of upstreams and waits until it serves
// /socket.io/; it is stopped when the test ends (its logs are shown if the
// test failed).
func StartNginx(t testing.TB, upstreams ...string) *Nginx {
	t.Helper()
	bin := testtools.Require(t, "nginx")
	dir := t.TempDir()
	port := freePort(t)
	n := &Nginx{Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir}
	n.URL = "http://" + n.Addr
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(NginxConfig(dir, n.Addr, upstreams)), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	cmd.Stdout, cmd.Stderr = &out, &out
	p, err := startProcess(cmd)
	if err != nil {
		t.Fatalf("starting nginx: %v", err)
	}
	n.proc = p
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM)
		if t.Failed() {
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", out.String(), errLog)
		}
	})
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if !p.running() {
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %s\n%s", out.String(), errLog)
		}
		resp, err := hc.Get(n.URL + "/socket.io/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not serve %s: %v", n.URL, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// AccessLog returns nginx's access log: one "METHOD URI -> UPSTREAM STATUS"
// line per request.
func (n *Nginx) AccessLog() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "access.log"))
	return string(b)
}
