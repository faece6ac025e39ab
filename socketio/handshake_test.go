package socketio

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandshakeBodyUsesConfiguredSecondsRoundedUp(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{
		HeartbeatInterval: 500 * time.Millisecond,
		HeartbeatTimeout:  1500 * time.Millisecond,
		CloseTimeout:      200 * time.Millisecond,
	}, nil)
	r := ts.get("/socket.io/1/?t=1234")
	require.Equal(t, http.StatusOK, r.status)
	assert.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/plain"), r.header.Get("Content-Type"))
	parts := strings.Split(r.body, ":")
	require.Len(t, parts, 4, r.body)
	assert.NotEmpty(t, parts[0])
	assert.Equal(t, "2", parts[1], "heartbeat timeout 1.5 s rounds up to 2")
	assert.Equal(t, "1", parts[2], "close timeout 0.2 s rounds up to 1, never 0")
	assert.Equal(t, "websocket,htmlfile,xhr-polling,jsonp-polling", parts[3])
}

func TestHandshakeDefaultsAndTransportOrder(t *testing.T) {
	t.Parallel()
	def := newTestServer(t, Config{}, nil)
	parts := strings.Split(def.get("/socket.io/1/").body, ":")
	require.Len(t, parts, 4)
	assert.Equal(t, []string{"60", "60", "websocket,htmlfile,xhr-polling,jsonp-polling"}, parts[1:])

	// A configured order is kept; flashsocket and unknown names are dropped.
	custom := newTestServer(t, Config{Transports: []string{"xhr-polling", "flashsocket", "bogus", "websocket"}}, nil)
	parts = strings.Split(custom.get("/socket.io/1/").body, ":")
	require.Len(t, parts, 4)
	assert.Equal(t, "xhr-polling,websocket", parts[3])
	// A transport that is not enabled is refused.
	sid := custom.handshake("")
	r := custom.get(transportPath("jsonp-polling", sid))
	assert.NotEqual(t, http.StatusOK, r.status)
}

func TestHandshakeSessionIDs(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, nil)
	urlSafe := regexp.MustCompile(`^[A-Za-z0-9_-]{16,}$`)
	seen := make(map[string]bool)
	for i := 0; i < 100; i++ {
		sid := ts.handshake("")
		require.Regexp(t, urlSafe, sid)
		require.NotContains(t, sid, ":")
		require.False(t, seen[sid], "session id %q handed out twice", sid)
		seen[sid] = true
	}
	assert.Equal(t, 100, ts.srv.SessionCount())
}

func TestCORSHeaders(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{PollingDuration: 100 * time.Millisecond}, app(rec, ""))
	const origin = "http://app.example:3000"
	checkCORS := func(r response, what string) {
		t.Helper()
		assert.Equal(t, origin, r.header.Get("Access-Control-Allow-Origin"), what)
		assert.Equal(t, "true", r.header.Get("Access-Control-Allow-Credentials"), what)
	}

	r := ts.get("/socket.io/1/", "Origin", origin)
	require.Equal(t, http.StatusOK, r.status)
	checkCORS(r, "handshake")
	sid, _, _ := strings.Cut(r.body, ":")

	r = ts.get(transportPath("xhr-polling", sid), "Origin", origin)
	require.Equal(t, "1::", r.body)
	checkCORS(r, "polling GET")

	r = ts.do(http.MethodPost, transportPath("xhr-polling", sid), eventPacket("", "", "note", "cors"), "Origin", origin)
	require.Equal(t, "1", r.body)
	checkCORS(r, "polling POST")
	rec.waitCount(t, "note  "+sid+" cors", 1)

	r = ts.get(transportPath("jsonp-polling", sid)+"?i=0", "Origin", origin)
	assert.Equal(t, `io.j[0]("8::");`, r.body, "a held poll ends with a noop")
	checkCORS(r, "jsonp GET")

	// No Origin, no CORS headers.
	r = ts.get("/socket.io/1/")
	assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"))
}

func TestOPTIONSPreflightIsAnswered(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, nil)
	sid := ts.handshake("")
	const origin = "http://app.example"
	for _, path := range []string{"/socket.io/1/", transportPath("xhr-polling", sid), transportPath("xhr-polling", "nosuchsid")} {
		ch := ts.async(http.MethodOptions, path, "",
			"Origin", origin,
			"Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "content-type")
		select {
		case r := <-ch:
			require.NoError(t, r.err, path)
			assert.True(t, r.status == http.StatusOK || r.status == http.StatusNoContent, "%s: status %d", path, r.status)
			assert.Equal(t, origin, r.header.Get("Access-Control-Allow-Origin"), path)
			assert.Contains(t, r.header.Get("Access-Control-Allow-Methods"), "POST", path)
			assert.Contains(t, strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), "content-type", path)
		case <-time.After(waitFor):
			t.Fatalf("OPTIONS %s left hanging", path)
		}
	}
	// A preflight does not create, touch or close sessions.
	assert.Equal(t, 1, ts.srv.SessionCount())
}

func TestJSONPHandshake(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{
		Authorize: func(_ context.Context, hs *Handshake) (any, error) {
			if hs.Query.Get("deny") == "1" {
				return nil, ErrUnauthorized
			}
			return nil, nil
		},
	}, nil)

	r := ts.get("/socket.io/1/?t=1&jsonp=7")
	require.Equal(t, http.StatusOK, r.status)
	assert.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "application/javascript"), r.header.Get("Content-Type"))
	body := unJSONP(t, r.body, "7")
	parts := strings.Split(body, ":")
	require.Len(t, parts, 4, body)
	assert.Equal(t, []string{"60", "60", "websocket,htmlfile,xhr-polling,jsonp-polling"}, parts[1:])
	assert.NotNil(t, ts.srv.lookup(parts[0]), "the jsonp handshake made a session")
	// The string literal is exactly the JSON encoding of the plain body.
	assert.Equal(t, `io.j[7](`+jsonString(body)+`);`, r.body)

	// Errors are wrapped too.
	r = ts.get("/socket.io/1/?jsonp=2&deny=1")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, `io.j[2](new Error("handshake unauthorized"));`, r.body)

	// A jsonp index that is not a number is ignored: a plain handshake.
	for _, bad := range []string{"abc", "1);alert(1", "-1", "1e3"} {
		r = ts.get("/socket.io/1/?jsonp=" + urlEscape(bad))
		require.Equal(t, http.StatusOK, r.status, bad)
		assert.NotContains(t, r.body, "io.j", bad)
		assert.NotContains(t, r.body, "alert", bad)
		assert.Len(t, strings.Split(r.body, ":"), 4, bad)
		assert.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "text/plain"), bad)
	}
}

func urlEscape(s string) string {
	r := strings.NewReplacer("(", "%28", ")", "%29", ";", "%3B")
	return r.Replace(s)
}

func TestHandshakeAuthorization(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{
		Authorize: func(_ context.Context, hs *Handshake) (any, error) {
			rec.add("authorize user=%s", hs.Query.Get("user"))
			switch {
			case hs.Query.Get("deny") == "1":
				return nil, ErrUnauthorized
			case hs.Query.Get("fail") == "1":
				return nil, errors.New("backend down")
			case hs.Query.Get("panic") == "1":
				panic("authorize panicked")
			}
			return nil, nil
		},
	}, nil)

	r := ts.get("/socket.io/1/?deny=1")
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "handshake unauthorized", r.body)

	r = ts.get("/socket.io/1/?fail=1")
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Equal(t, "handshake error", r.body)

	r = ts.get("/socket.io/1/?panic=1")
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Equal(t, "handshake error", r.body)

	assert.Equal(t, 0, ts.srv.SessionCount(), "refused handshakes make no session")

	sid := ts.handshake("&user=ann")
	assert.Equal(t, 1, rec.count("authorize user=ann"))
	sess := ts.srv.lookup(sid)
	require.NotNil(t, sess)
	assert.Equal(t, "ann", sess.Handshake().Query.Get("user"), "the handshake query is kept with the session")
}

func TestAllowedOriginsExactMatch(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{AllowedOrigins: []string{"http://example.com", "https://app.example.com:8443"}}, nil)
	cases := []struct {
		origin string
		ok     bool
	}{
		{"", false}, // neither Origin nor Referer: refused when origins are restricted
		{"http://example.com", true},
		{"http://example.com:80", true},
		{"HTTP://EXAMPLE.COM", true},
		{"https://app.example.com:8443", true},
		{"http://example.com.evil.org", false},
		{"http://evil.org/http://example.com", false},
		{"http://evilexample.com", false},
		{"https://example.com", false},
		{"http://example.com:8080", false},
		{"https://app.example.com", false},
		{"null", false},
	}
	for _, c := range cases {
		var hdr []string
		if c.origin != "" {
			hdr = []string{"Origin", c.origin}
		}
		r := ts.get("/socket.io/1/", hdr...)
		if c.ok {
			assert.Equal(t, http.StatusOK, r.status, "origin %q must be allowed: %s", c.origin, r.body)
			if c.origin != "" {
				assert.Equal(t, c.origin, r.header.Get("Access-Control-Allow-Origin"))
			}
			continue
		}
		assert.Equal(t, http.StatusForbidden, r.status, "origin %q must be refused", c.origin)
		assert.Equal(t, "handshake bad origin", r.body, "origin %q", c.origin)
		assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"), "origin %q", c.origin)
	}

	// A refused origin cannot use a transport of a session either.
	r := ts.get("/socket.io/1/", "Origin", "http://example.com")
	require.Equal(t, http.StatusOK, r.status, r.body)
	sid, _, _ := strings.Cut(r.body, ":")
	r = ts.get(transportPath("xhr-polling", sid), "Origin", "http://example.com.evil.org")
	assert.Equal(t, http.StatusForbidden, r.status)
	c, resp, err := wsDialer.Dial(ts.wsURL+transportPath("websocket", sid), http.Header{"Origin": {"http://example.com.evil.org"}})
	if c != nil {
		_ = c.Close()
	}
	if resp != nil {
		_ = resp.Body.Close()
	}
	assert.Error(t, err, "websocket upgrade from a refused origin")
}

func TestPaths(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{}, nil)
	for _, c := range []struct {
		path   string
		status int
		body   string
	}{
		{"/socket.io/", http.StatusOK, "Welcome to socket.io."},
		{"/socket.io", http.StatusOK, "Welcome to socket.io."},
		{"/socket.io/2/", http.StatusInternalServerError, "Protocol version not supported."},
		{"/socket.io/0/", http.StatusInternalServerError, "Protocol version not supported."},
		{"/socket.io/2/xhr-polling/abc", http.StatusInternalServerError, "Protocol version not supported."},
		{"/nope", http.StatusNotFound, ""},
		{"/socket.iox/1/", http.StatusNotFound, ""},
		{"/socket.io/foo", http.StatusNotFound, ""},
		{"/socket.io/1/xhr-polling", http.StatusNotFound, ""},
		{"/socket.io/1/xhr-polling/a/b", http.StatusNotFound, ""},
		{"/socket.io/socket.io.js", http.StatusNotFound, ""}, // no ClientFS configured
	} {
		r := ts.get(c.path)
		assert.Equal(t, c.status, r.status, c.path)
		if c.body != "" {
			assert.Equal(t, c.body, r.body, c.path)
		}
	}
	assert.Equal(t, 0, ts.srv.SessionCount())
}
