package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/apptest"
	"github.com/siogo/siogo/internal/nodetest"
)

// TestProtocolV5 runs siocat -protocol v5 against the Node.js reference
// socket.io@4.8 (testdata/refserver4.js) over each v5 transport.
func TestProtocolV5(t *testing.T) {
	url := nodetest.StartServerScript(t, "refserver4.js")
	for _, tr := range []string{"websocket", "polling"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			v5 := func(args ...string) result {
				return runSiocat(t, append([]string{"-protocol", "v5", "-transport", tr}, args...)...)
			}
			t.Run("emit-ack", func(t *testing.T) {
				r := v5("-emit", "echo", "-ack", url, `"</script> & 😀"`, "1", `{"a":[true,1.5,null]}`, "null")
				assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
				assert.Equal(t, `["</script> & 😀",1,{"a":[true,1.5,null]},null]`+"\n", r.stdout)
				assert.Empty(t, r.stderr)
				r = v5("-emit", "echo", "-ack", url+"/chat")
				assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
				assert.Equal(t, "[]\n", r.stdout)
			})
			t.Run("emit-listen", func(t *testing.T) {
				r := v5("-emit", "burst", "-listen", "3", url+"/chat", "5")
				assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
				assert.Equal(t, `{"name":"burst","args":[0]}`+"\n"+`{"name":"burst","args":[1]}`+"\n"+
					`{"name":"burst","args":[2]}`+"\n", r.stdout)
			})
			t.Run("binary", func(t *testing.T) {
				// Attachments are printed as base64 strings.
				r := v5("-emit", "binary", "-ack", url)
				assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
				assert.Equal(t, `["AQID",{"n":1,"nested":"BAU="}]`+"\n", r.stdout)
			})
			t.Run("auth", func(t *testing.T) {
				r := v5("-emit", "echo", "-ack", url+"/private", "1")
				assert.Equal(t, 1, r.code)
				assert.Empty(t, r.stdout)
				assert.Equal(t, "siocat: client: namespace /private refused the client: not authorized\n", r.stderr)
				r = v5("-auth", `{"token":"secret"}`, "-emit", "echo", "-ack", url+"/private", "1")
				assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
				assert.Equal(t, "[1]\n", r.stdout)
			})
			t.Run("kick", func(t *testing.T) {
				r := v5("-emit", "kick", "-listen", "1", url)
				assert.Equal(t, 1, r.code)
				assert.Equal(t, "siocat: waiting for event 1 of 1: client: disconnected by the server\n", r.stderr)
			})
			t.Run("interactive", func(t *testing.T) { checkInteractiveV5(t, url, tr) })
		})
	}
	t.Run("upgrade", func(t *testing.T) {
		t.Parallel()
		r := runSiocat(t, "-protocol", "v5", "-transport", "polling,websocket", "-emit", "echo", "-ack", url, `"up"`)
		assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.Equal(t, `["up"]`+"\n", r.stdout)
	})
	t.Run("usage", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			msg  string
		}{
			{[]string{"-protocol", "v4", "http://x/"}, `siocat: -protocol must be 0.9, v5 or eio3, not "v4"`},
			{[]string{"-auth", `{}`, "http://x/"}, "siocat: -auth needs -protocol v5"},
			{[]string{"-protocol", "v5", "-auth", `[1]`, "http://x/"}, "siocat: -auth must be a JSON object"},
		} {
			r := runSiocat(t, tc.args...)
			assert.Equal(t, 2, r.code, "%v", tc.args)
			assert.Contains(t, r.stderr, tc.msg, "%v", tc.args)
		}
		r := runSiocat(t, "-protocol", "v5", "-transport", "xhr-polling", url)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, `transport "xhr-polling" is not supported by protocol v5`)
	})
}

// checkInteractiveV5 drives siocat's stdin commands over v5.
func checkInteractiveV5(t *testing.T, url, tr string) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	cmd := siocatCmd(ctx, t, "-protocol", "v5", "-transport", tr, url+"/chat")
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
	// expect waits for the line want; "ID" in want stands for any ack id
	// (the server numbers them per namespace, over every client).
	expect := func(want string) {
		t.Helper()
		re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(want), "ID", `\d+`) + "$")
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "siocat exited; stderr: %s", stderr.String())
				if re.MatchString(l) {
					return
				}
				var v map[string]any
				assert.NoError(t, json.Unmarshal([]byte(l), &v), "not a JSON line: %q", l)
			case <-ctx.Done():
				t.Fatalf("no line %s; stderr: %s", want, stderr.String())
			}
		}
	}
	expect(`{"type":"connect","endpoint":"/chat"}`)
	_, err = io.WriteString(stdin, "emit emit \"echo\" \"hi </script>\" 2 {\"a\": [1, \"😀\"]}\n"+
		"send hello world\n"+
		"bogus\n"+
		"emit ask \"question\" 7\n"+
		"emit kick\n")
	require.NoError(t, err)
	expect(`{"type":"event","endpoint":"/chat","name":"echo","args":["hi </script>",2,{"a":[1,"😀"]}]}`)
	expect(`{"type":"event","endpoint":"/chat","name":"message","args":["hello world"]}`)
	expect(`{"type":"event","endpoint":"/chat","id":ID,"ack":"data","name":"question","args":[7]}`)
	// The kick of the URL's namespace ends siocat.
	expect(`{"type":"disconnect","endpoint":"/chat"}`)
	for range lines {
	}
	err = cmd.Wait()
	require.Error(t, err)
	assert.Contains(t, stderr.String(), `unknown command "bogus"`)
	assert.Contains(t, stderr.String(), "siocat: client: disconnected by the server\n")
	stdin.Close()
}
