package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverSpec says how to start one of the two servers under test.
type serverSpec struct {
	name string   // siogo, reference, siogo-v4 or reference-v4 (the name* constants)
	path string   // executable
	args []string // before --addr
	dir  string
	gen  generation
	// readyV4: the server serves only Engine.IO v4 (wait for a v4 polling
	// handshake to answer); else it serves 0.9 (wait for GET /socket.io/).
	readyV4 bool
	// probe: check that the server serves gen before the phases, and
	// report "not served" instead of measuring if it does not.
	probe bool
	// pprof: the server is the testapp, told to serve net/http/pprof on
	// a port of its own (--pprof), where its live heap is read (heapAlloc).
	pprof bool
	// floor: the raw floor server (floor.go): ready when it accepts a
	// TCP connection; only the websocket phases run against it.
	floor bool
}

// serverProc is a running server process.
type serverProc struct {
	name string
	addr string // 127.0.0.1:PORT
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done

	readyV4   bool
	floor     bool
	pprofAddr string // where the testapp serves net/http/pprof; "": not asked

	mu       sync.Mutex
	logLines []string // stderr and stdout lines, bounded
	logDrop  int
	marks    []phaseMark
}

// phaseMark records which output lines came during which phase.
type phaseMark struct {
	phase string
	line  int // index of the first line of the phase
}

// mark starts attributing the server's output to phase.
func (p *serverProc) mark(phase string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marks = append(p.marks, phaseMark{phase, len(p.logLines) + p.logDrop})
}

const maxLogLines = 2000

// startServer starts spec on a free loopback port and waits until it
// answers (GET /socket.io/ for 0.9, a v4 polling handshake with readyV4).
func startServer(ctx context.Context, spec serverSpec) (*serverProc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := append(append([]string{}, spec.args...), "--addr", addr)
	var pprofAddr string
	if spec.pprof {
		if pprofAddr, err = freeAddr(); err != nil {
			return nil, err
		}
		args = append(args, "--pprof", pprofAddr)
	}
	cmd := exec.Command(spec.path, args...)
	cmd.Dir = spec.dir
	// Own process group (a terminal ^C reaches only siobench, which then
	// stops the server itself) and SIGKILL if siobench dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProc{name: spec.name, addr: addr, cmd: cmd, done: make(chan struct{}), readyV4: spec.readyV4,
		floor: spec.floor, pprofAddr: pprofAddr}
	var wg sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.collect(r)
		}()
	}
	go func() {
		wg.Wait() // the pipes must be drained before Wait
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ctx, 30*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *serverProc) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		if len(p.logLines) < maxLogLines {
			p.logLines = append(p.logLines, sc.Text())
		} else {
			p.logDrop++
		}
		p.mu.Unlock()
	}
}

func (p *serverProc) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start-up (%v): %s", p.name, p.err, strings.Join(p.logTail(10), " | "))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if p.floor {
			if c, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
				c.Close()
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s did not answer on %s within %v", p.name, p.addr, timeout)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		url := "http://" + p.addr + "/socket.io/"
		if p.readyV4 {
			url += "?EIO=4&transport=polling"
		}
		resp, err := hc.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && (p.readyV4 && strings.HasPrefix(string(body), "0{") ||
				!p.readyV4 && strings.Contains(string(body), "Welcome to socket.io")) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer on %s within %v", p.name, p.addr, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *serverProc) logTail(n int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.logLines) <= n {
		return append([]string(nil), p.logLines...)
	}
	return append([]string(nil), p.logLines[len(p.logLines)-n:]...)
}

// notableLogs returns the server's output lines other than the start-up
// and shut-down chatter, collapsed to "[phase] N× line" (timestamps
// stripped).
func (p *serverProc) notableLogs() []string {
	p.mu.Lock()
	lines := append([]string(nil), p.logLines...)
	drop := p.logDrop
	marks := append([]phaseMark(nil), p.marks...)
	p.mu.Unlock()
	counts := map[string]int{}
	var order []string
	phase := "start-up"
	for i, l := range lines {
		for len(marks) > 0 && marks[0].line <= i {
			phase = marks[0].phase
			marks = marks[1:]
		}
		l = strings.TrimSpace(l)
		if l == "" || l == "listening" || strings.Contains(l, "msg=listening") ||
			strings.HasPrefix(l, "reftestapp: socket.io ") ||
			strings.HasPrefix(l, "refbench4: socket.io ") || strings.HasPrefix(l, "reftestapp4: socket.io ") || strings.Contains(l, "shutting down") ||
			strings.Contains(l, "SIGTERM, exiting") {
			continue
		}
		// slog text lines start with time=...; drop it so repeats collapse.
		if strings.HasPrefix(l, "time=") {
			if i := strings.IndexByte(l, ' '); i > 0 {
				l = l[i+1:]
			}
		}
		l = "[" + phase + "] " + l
		if counts[l] == 0 {
			order = append(order, l)
		}
		counts[l]++
	}
	out := make([]string, 0, len(order)+1)
	for _, l := range order {
		if counts[l] > 1 {
			out = append(out, fmt.Sprintf("%d× %s", counts[l], l))
		} else {
			out = append(out, l)
		}
	}
	if drop > 0 {
		out = append(out, fmt.Sprintf("(%d more lines not kept)", drop))
	}
	return out
}

// alive reports whether the process is still running.
func (p *serverProc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM, then SIGKILL after 3 s, and waits for the exit.
func (p *serverProc) stop() {
	if !p.alive() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *serverProc) pid() int { return p.cmd.Process.Pid }

// heapAlloc returns the server's live heap in bytes (runtime.MemStats
// HeapAlloc right after a collection: the heap profile's debug=1 text
// with gc=1), or ok false for a server without pprofAddr.
func (p *serverProc) heapAlloc(ctx context.Context) (n int64, ok bool, err error) {
	if p.pprofAddr == "" {
		return 0, false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.pprofAddr+"/debug/pprof/heap?debug=1&gc=1", nil)
	if err != nil {
		return 0, false, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer res.Body.Close()
	n, err = parseHeapAlloc(res.Body)
	return n, err == nil, err
}

// parseHeapAlloc finds "# HeapAlloc = N" in a heap profile's debug=1 text.
func parseHeapAlloc(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no HeapAlloc in the heap profile")
}

// rss returns the resident set size of pid in bytes (VmRSS).
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

var clkTck = func() int64 {
	// sysconf(_SC_CLK_TCK) is not in package syscall; getconf asks it.
	// It is 100 on every Linux build that matters.
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}()

// cpuTime returns utime+stime of pid (all its threads).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat times")
	}
	return time.Duration((ut + st) * int64(time.Second) / clkTck), nil
}

// machineBusy returns the busy time of all CPUs together from /proc/stat
// (user, nice, system, irq, softirq, steal).
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("bad /proc/stat")
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += v
	}
	return time.Duration(ticks * int64(time.Second) / clkTck), nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// moduleRoot finds the siogo module root from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/siogo/siogo\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the siogo module root (run from inside the repository or pass -root)")
		}
		dir = parent
	}
}

// buildSiogo builds examples/testapp into dir and returns the binary.
func buildSiogo(ctx context.Context, root, dir string) (string, error) {
	return buildGo(ctx, root, dir, "./examples/testapp", "testapp")
}

// buildGo builds the package pkg of the module at root into dir/name and
// returns the binary.
func buildGo(ctx context.Context, root, dir, pkg, name string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goBin = filepath.Join(root, "bin", "go")
		} else {
			return "", fmt.Errorf("go is not on PATH: %w", err)
		}
	}
	out := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// machineInfo describes where the numbers come from.
type machineInfo struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	Node      string `json:"node,omitempty"`
	SocketIO  string `json:"socket_io,omitempty"`
	SocketIO4 string `json:"socket_io_4,omitempty"`
	LoadAvg   string `json:"loadavg_at_start"`
	NoFile    uint64 `json:"rlimit_nofile"`
	ClkTck    int64  `json:"clk_tck"`
	StartedAt string `json:"started_at"`
}

func getMachineInfo(root, node string) machineInfo {
	m := machineInfo{Cores: runtime.NumCPU(), Go: runtime.Version(), ClkTck: clkTck,
		StartedAt: time.Now().UTC().Format(time.RFC3339)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		m.NoFile = rl.Cur
	}
	if node != "" {
		if out, err := exec.Command(node, "--version").Output(); err == nil {
			m.Node = strings.TrimSpace(string(out))
		}
		version := func(pkgName string) string {
			var pkg struct{ Version string }
			if b, err := os.ReadFile(filepath.Join(root, "testdata", "node_modules", pkgName, "package.json")); err == nil &&
				json.Unmarshal(b, &pkg) == nil {
				return pkg.Version
			}
			return ""
		}
		m.SocketIO = version("socket.io")
		m.SocketIO4 = version("socket.io-4")
	}
	return m
}

// raiseNoFile raises RLIMIT_NOFILE to its hard limit. Calling Setrlimit
// also makes the servers started later inherit the raised limit.
func raiseNoFile() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	return rl.Cur, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
