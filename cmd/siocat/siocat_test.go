package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/internal/apptest"
	"github.com/siogo/siogo/internal/nodetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { apptest.Cleanup() }))
}

const waitFor = 15 * time.Second

type target struct{ name, url string }

// startTargets starts the siogo testapp binary and the Node.js reference.
func startTargets(t *testing.T) []target {
	nodetest.Require(t)
	app := apptest.StartTestapp(t)
	return []target{{"siogo", app.URL}, {"reference", nodetest.StartReference(t)}}
}

func siocat(t *testing.T) string { return apptest.Build(t, "./cmd/siocat", raceEnabled) }

// siocatCmd makes a siocat process. When built with -race it must not
// sleep at exit (the race runtime's default) and a race makes it fail.
func siocatCmd(ctx context.Context, t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, siocat(t), args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0 exitcode=66")
	return cmd
}

// result is what one siocat run printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

func runSiocat(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	cmd := siocatCmd(ctx, t, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{stdout.String(), stderr.String(), code}
}

var transports = []string{client.WebSocket, client.XHRPolling, client.JSONPPolling}

// TestEndToEnd runs the siocat binary against the siogo testapp binary
// and the Node.js reference over each transport. Both servers must give
// byte-identical output.
func TestEndToEnd(t *testing.T) {
	targets := startTargets(t)
	for _, tg := range targets {
		for _, tr := range transports {
			t.Run(tg.name+"/"+tr, func(t *testing.T) {
				t.Parallel()
				t.Run("emit-ack", func(t *testing.T) {
					r := runSiocat(t, "-transport", tr, "-emit", "echo", "-ack", tg.url,
						`"</script> & 😀 \u2028"`, "1", `{"a":[true,1.5,null],"b":"\u003c"}`, "null")
					assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
					assert.Equal(t, "[\"</script> & 😀 \\u2028\",1,{\"a\":[true,1.5,null],\"b\":\"<\"},null]\n", r.stdout)
					assert.Empty(t, r.stderr)
				})
				t.Run("emit-ack-no-args", func(t *testing.T) {
					r := runSiocat(t, "-transport", tr, "-emit", "join", "-ack", tg.url+"/chat", `"room"`)
					assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
					assert.Equal(t, "[true]\n", r.stdout)
					r = runSiocat(t, "-transport", tr, "-emit", "echo", "-ack", tg.url)
					assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
					assert.Equal(t, "[]\n", r.stdout)
				})
				t.Run("emit-listen", func(t *testing.T) {
					// The default namespace: the listen subtests of the
					// other transports, running at the same time on the
					// same servers, broadcast in /chat.
					r := runSiocat(t, "-transport", tr, "-emit", "burst", "-listen", "3", tg.url, "5")
					assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
					assert.Equal(t, `{"name":"burst","args":[0]}`+"\n"+`{"name":"burst","args":[1]}`+"\n"+
						`{"name":"burst","args":[2]}`+"\n", r.stdout)
				})
				t.Run("emit-ack-then-listen", func(t *testing.T) {
					r := runSiocat(t, "-transport", tr, "-emit", "ask", "-listen", "1", tg.url, `"q"`, "1")
					// Nobody answers "q": the server's question is printed.
					assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
					assert.Equal(t, `{"name":"q","args":[1]}`+"\n", r.stdout)
				})
				t.Run("listen", func(t *testing.T) { checkListen(t, tg, tr) })
				t.Run("refused-namespace", func(t *testing.T) {
					for _, u := range []string{tg.url + "/private", tg.url + "/private?token=nope"} {
						r := runSiocat(t, "-transport", tr, "-emit", "echo", "-ack", u, "1")
						assert.Equal(t, 1, r.code)
						assert.Empty(t, r.stdout)
						assert.Equal(t, "siocat: client: namespace /private refused the client: unauthorized\n", r.stderr)
					}
					r := runSiocat(t, "-transport", tr, "-emit", "echo", "-ack", tg.url+"/private?token=secret", "1")
					assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
					assert.Equal(t, "[1]\n", r.stdout)
				})
				t.Run("refused-handshake", func(t *testing.T) {
					for _, args := range [][]string{
						{"-emit", "echo", "-ack", tg.url + "/?deny=1", "1"},
						{"-listen", "1", tg.url + "/chat?deny=1"},
						{tg.url + "?deny=1"},
					} {
						r := runSiocat(t, append([]string{"-transport", tr}, args...)...)
						assert.Equal(t, 1, r.code, "%v", args)
						assert.Empty(t, r.stdout, "%v", args)
						assert.Equal(t, "siocat: client: handshake refused: 403 handshake unauthorized\n", r.stderr, "%v", args)
					}
				})
				t.Run("interactive", func(t *testing.T) { checkInteractive(t, tg, tr) })
			})
		}
	}
}

// checkListen: siocat -listen prints events another client causes.
func checkListen(t *testing.T, tg target, tr string) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	cmd := siocatCmd(ctx, t, "-transport", tr, "-listen", "2", tg.url+"/chat")
	var stdout, stderr apptest.LockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	c, err := client.Dial(ctx, tg.url+"/chat", nil)
	require.NoError(t, err)
	defer c.Close()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case err := <-exited:
			require.NoError(t, err, "stderr: %s", stderr.String())
			lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			require.Len(t, lines, 2, "stdout: %s", stdout.String())
			for _, l := range lines {
				assert.Regexp(t, `^\{"name":"broadcast","args":\["</script>",\d+\]\}$`, l)
			}
			return
		case <-tick.C:
			require.NoError(t, c.Emit("broadcast", "</script>", n))
		}
	}
}

// checkInteractive drives siocat's stdin commands.
func checkInteractive(t *testing.T, tg target, tr string) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	cmd := siocatCmd(ctx, t, "-transport", tr, tg.url+"/chat")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdoutPipe, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr apptest.LockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdoutPipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	expect := func(want string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "siocat exited; stderr: %s", stderr.String())
				if l == want {
					return
				}
				var v map[string]any
				assert.NoError(t, json.Unmarshal([]byte(l), &v), "not a JSON line: %q", l)
			case <-ctx.Done():
				t.Fatalf("no line %s; stderr: %s", want, stderr.String())
			}
		}
	}
	expect(`{"type":"connect","endpoint":""}`)
	expect(`{"type":"connect","endpoint":"/chat"}`)
	_, err = io.WriteString(stdin, "emit echo \"hi </script>\" 2 {\"a\": [1, \"😀\"]}\n"+
		"send hello world\n"+
		"json {\"x\":\"</script>\"}\n"+
		"bogus\n"+
		"emit ask \"question\" 7\n")
	require.NoError(t, err)
	expect(`{"type":"event","endpoint":"/chat","name":"echo","args":["hi </script>",2,{"a":[1,"😀"]}]}`)
	expect(`{"type":"message","endpoint":"/chat","data":"hello world"}`)
	expect(`{"type":"json","endpoint":"/chat","data":{"x":"</script>"}}`)
	expect(`{"type":"event","endpoint":"/chat","id":1,"ack":"data","name":"question","args":[7]}`)
	_, err = io.WriteString(stdin, "quit\n")
	require.NoError(t, err)
	for range lines {
	}
	require.NoError(t, cmd.Wait(), "stderr: %s", stderr.String())
	assert.Contains(t, stderr.String(), `unknown command "bogus"`)
}

func TestInteractiveKick(t *testing.T) {
	t.Parallel()
	app := apptest.StartTestapp(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	// stdin stays open: the kick, not end of input, ends siocat.
	cmd := siocatCmd(ctx, t, app.URL)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	_, err = io.WriteString(stdin, "emit kick\n")
	require.NoError(t, err)
	err = cmd.Wait()
	stdin.Close()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Equal(t, `{"type":"connect","endpoint":""}`+"\n"+`{"type":"disconnect","endpoint":""}`+"\n", stdout.String())
	assert.Equal(t, "siocat: client: disconnected by the server\n", stderr.String())
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	app := apptest.StartTestapp(t)
	// Each run ends well before the default timeout (10 s) would end it;
	// the rest of the bound is margin for a loaded machine.
	start := time.Now()
	r := runSiocat(t, "-timeout", "300ms", "-emit", "never-acked", "-ack", app.URL)
	assert.Less(t, time.Since(start), 8*time.Second)
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "siocat: timed out after 300ms waiting for the ack of \"never-acked\"\n", r.stderr)
	start = time.Now()
	r = runSiocat(t, "-timeout", "300ms", "-listen", "1", app.URL)
	assert.Less(t, time.Since(start), 8*time.Second)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "siocat: waiting for event 1 of 1: timed out after 300ms\n", r.stderr)

	// Nothing listening.
	r = runSiocat(t, "-timeout", "2s", "-emit", "x", "http://"+apptest.FreeAddr(t))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "connection refused")
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "siocat: no URL"},
		{[]string{"-ack", "http://x/"}, "siocat: -ack needs -emit"},
		{[]string{"-emit", "e", "http://x/", "notjson"}, `siocat: argument 1 is not JSON: "notjson"`},
		{[]string{"http://x/", "1"}, "siocat: JSON arguments need -emit"},
		{[]string{"-listen", "-1", "http://x/"}, "siocat: -listen must be positive"},
		{[]string{"-bogus", "http://x/"}, "flag provided but not defined: -bogus"},
	} {
		r := runSiocat(t, tc.args...)
		assert.Equal(t, 2, r.code, "%v", tc.args)
		assert.Empty(t, r.stdout)
		assert.Contains(t, r.stderr, tc.msg, "%v", tc.args)
		assert.Contains(t, r.stderr, "usage: siocat", "%v", tc.args)
	}
}

func TestPlain(t *testing.T) {
	for in, want := range map[string]string{
		`"\u003c/script\u003e \u0026"`:               `"</script> &"`,
		`{"b":[1.50,-0,1e3,true,false,null],"a":{}}`: `{"b":[1.50,-0,1e3,true,false,null],"a":{}}`,
		`"back\\u003c"`:                              `"back\\u003c"`,
		"\"raw \u2028\"":                             `"raw \u2028"`,
		`[[],{},[{}],"😀"]`:                           `[[],{},[{}],"😀"]`,
		`{"k\u003c":{"x":[1,{"y":"\u003e"}]}}`:       `{"k<":{"x":[1,{"y":">"}]}}`,
		`not json`:                                   `not json`,
	} {
		assert.Equal(t, want, string(plain(json.RawMessage(in))), "%s", in)
	}
}
