package socketio

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAutoAcksInOrderOverTheWire: "3:::m" then a packet with an auto-ack
// id ("3:11::n", "4:11::...", "5:11::...") in one POST: the client gets the
// reply to m before "6:::11", and "6:::11" before the reply to the second
// packet — even though m's handler is still running when the second packet
// is read.
func TestAutoAcksInOrderOverTheWire(t *testing.T) {
	for _, tc := range []struct {
		name, second, echo string
	}{
		{"message", "3:11::n", "3:::n"},
		{"json", `4:11::{"n":1}`, `4:::{"n":1}`},
		{"event", eventPacket("11", "", "echo", "n"), `5:::{"name":"echo","args":["n"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gate := make(chan struct{})
			ts := newTestServer(t, Config{}, func(srv *Server) {
				ns := srv.Of("")
				ns.OnMessage(func(s *Socket, text string, ack AckFunc) {
					if text == "m" {
						<-gate
					}
					_ = s.Send(text)
				})
				ns.OnJSON(func(s *Socket, v json.RawMessage, ack AckFunc) { _ = s.SendJSON(v) })
				require.NoError(t, ns.OnRaw("echo", func(s *Socket, args []json.RawMessage, ack AckFunc) {
					_ = s.Emit("echo", rawArgs(args)...)
				}))
			})
			sid := ts.connectPolling("")
			ts.post("xhr-polling", sid, framePayload("3:::m", tc.second))
			close(gate)
			var got []string
			deadline := time.Now().Add(waitFor)
			for len(got) < 3 && time.Now().Before(deadline) {
				got = append(got, decodePayload(t, ts.poll(sid))...)
			}
			assert.Equal(t, []string{"3:::m", "6:::11", tc.echo}, got)
		})
	}
}
