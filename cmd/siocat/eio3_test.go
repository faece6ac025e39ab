package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/siogo/siogo/internal/nodetest"
)

// TestProtocolEIO3 runs siocat -protocol eio3 against the Node.js
// reference socket.io@4.8 with allowEIO3.
func TestProtocolEIO3(t *testing.T) {
	url := nodetest.StartServerScript(t, "refserver4.js", "--allow-eio3")
	for _, tr := range []string{"websocket", "polling", "polling,websocket"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			run := func(args ...string) result {
				return runSiocat(t, append([]string{"-protocol", "eio3", "-transport", tr}, args...)...)
			}
			r := run("-emit", "echo", "-ack", url, `"x"`, "1")
			assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			assert.Equal(t, `["x",1]`+"\n", r.stdout)
			r = run("-emit", "binary", "-ack", url+"/chat")
			assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			assert.Equal(t, `["AQID",{"n":1,"nested":"BAU="}]`+"\n", r.stdout)
			r = run("-emit", "echo", "-ack", url+"/private?token=secret", "1")
			assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			assert.Equal(t, "[1]\n", r.stdout)
			r = run("-emit", "echo", "-ack", url+"/private?token=bad", "1")
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, "namespace /private refused the client")
		})
	}
}
