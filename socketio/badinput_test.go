package socketio

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadInputLeavesBystandersServed sends each kind of hostile or broken
// input a server meets on the internet, then checks that a bystander
// session on another transport is still served (an echo with ack round
// trip) and that the server did not panic. Where the input targets a live
// session, that session must survive too unless closing it is the point.
func TestBadInputLeavesBystandersServed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// send sends the bad input; victim is a live xhr-polling session.
		send func(t *testing.T, ts *testServer, victim string)
		// victimSurvives: the victim session still answers afterwards.
		victimSurvives bool
	}{
		{"malformed packets", func(t *testing.T, ts *testServer, v string) {
			for _, p := range []string{"", ":", "x::", "9::", "5:::not json", `5:::{"args":[]}`, "6:::abc", "1:99999999999999999999999::", "4:::{"} {
				ts.do(http.MethodPost, transportPath("xhr-polling", v), p)
			}
		}, true},
		{"bad payload framing", func(t *testing.T, ts *testServer, v string) {
			for _, p := range []string{"\ufffd", "\ufffd5\ufffd1::", "\ufffdx\ufffd1::", "\ufffd99999999999\ufffd1::", "\ufffd3\ufffd1::\ufffd"} {
				ts.do(http.MethodPost, transportPath("xhr-polling", v), p)
			}
		}, true},
		{"invalid UTF-8", func(t *testing.T, ts *testServer, v string) {
			ts.do(http.MethodPost, transportPath("xhr-polling", v), "5:1+::{\"name\":\"echo\",\"args\":[\"\xff\xfe\"]}")
			ts.do(http.MethodPost, transportPath("xhr-polling", v), "3:::\xc3")
		}, true},
		{"unknown endpoints", func(t *testing.T, ts *testServer, v string) {
			ts.do(http.MethodPost, transportPath("xhr-polling", v), framePayload("5:1+:/nowhere:{\"name\":\"echo\"}", "1::/nowhere", "0::/nowhere", "6::/nowhere:1+[]"))
		}, true},
		{"deeply nested JSON", func(t *testing.T, ts *testServer, v string) {
			ts.do(http.MethodPost, transportPath("xhr-polling", v), `5:1+::{"name":"echo","args":`+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)+`}`)
		}, true},
		{"POST to an unknown sid", func(t *testing.T, ts *testServer, v string) {
			r := ts.do(http.MethodPost, transportPath("xhr-polling", "nosuchsid"), eventPacket("1+", "", "echo", "x"))
			assert.NotEqual(t, http.StatusOK, r.status)
		}, true},
		{"bad JSONP posts", func(t *testing.T, ts *testServer, v string) {
			for _, body := range []string{"", "d=", "d=notjson", "d=%ZZ", "x=1", `d="unterminated`} {
				r := ts.do(http.MethodPost, transportPath("jsonp-polling", v), body, "Content-Type", "application/x-www-form-urlencoded")
				assert.Equal(t, http.StatusBadRequest, r.status, "%q", body)
			}
		}, true},
		{"wrong protocol versions", func(t *testing.T, ts *testServer, v string) {
			for _, p := range []string{"/socket.io/0/", "/socket.io/2/xhr-polling/" + v, "/socket.io/99999999999999999999/"} {
				r := ts.get(p)
				assert.NotEqual(t, http.StatusOK, r.status, p)
			}
		}, true},
		{"path junk", func(t *testing.T, ts *testServer, v string) {
			for _, p := range []string{"/socket.io/1/xhr-polling", "/socket.io/1/flashsocket/" + v, "/socket.io/1/xhr-polling/" + v + "/extra/parts", "/socket.io/1/%00/" + v, "/socket.io/1/../../etc/passwd", "/socket.iox/1/"} {
				r := ts.get(p)
				assert.NotEqual(t, http.StatusOK, r.status, p)
			}
		}, true},
		{"websocket GET without upgrade headers for a live sid", func(t *testing.T, ts *testServer, v string) {
			assert.Equal(t, http.StatusBadRequest, ts.get(transportPath("websocket", v)).status)
		}, true},
		{"a second websocket for a live websocket sid", func(t *testing.T, ts *testServer, v string) {
			sid := ts.handshake("")
			first := ts.dialWS(sid, wsOptions{})
			first.expect("1::")
			_, resp, err := ts.tryDialWS(sid)
			require.Error(t, err)
			if resp != nil {
				assert.NotEqual(t, http.StatusSwitchingProtocols, resp.StatusCode)
			}
			first.send(eventPacket("7+", "", "echo", "still"))
			first.expect(`6:::7+["still"]`)
		}, true},
		{"slowloris headers", func(t *testing.T, ts *testServer, v string) {
			c, err := net.Dial("tcp", ts.hs.Listener.Addr().String())
			require.NoError(t, err)
			defer c.Close()
			_, _ = c.Write([]byte("GET /socket.io/1/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")) // and never finishes
		}, true},
		{"?disconnect for the victim (closing is the point)", func(t *testing.T, ts *testServer, v string) {
			assert.Equal(t, http.StatusOK, ts.get(transportPath("xhr-polling", v)+"?disconnect=1").status)
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := newTestServer(t, Config{PollingDuration: 2 * time.Second}, app(&recorder{}, ""))
			bystanderSid := ts.handshake("")
			bystander := ts.dialWS(bystanderSid, wsOptions{})
			bystander.expect("1::")
			victim := ts.connectPolling("")

			tc.send(t, ts, victim)

			bystander.send(eventPacket("1+", "", "echo", "ok"))
			bystander.expect(`6:::1+["ok"]`)
			if tc.victimSurvives {
				ts.post("xhr-polling", victim, eventPacket("2+", "", "echo", "alive"))
				assert.Contains(t, ts.poll(victim), `6:::2+["alive"]`, "the targeted session keeps working")
			} else {
				assert.Equal(t, "7:::1+0", ts.poll(victim))
			}
			assert.Greater(t, ts.srv.SessionCount(), 0)
		})
	}
}
