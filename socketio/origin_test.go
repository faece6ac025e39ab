package socketio

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://example.com":                  "http://example.com:80",
		"HTTP://Example.COM":                  "http://example.com:80",
		"https://example.com":                 "https://example.com:443",
		"https://example.com:443":             "https://example.com:443",
		"http://example.com:080":              "http://example.com:80",
		"http://example.com:8080/path?q#f":    "http://example.com:8080",
		"https://user:pw@example.com/":        "https://example.com:443",
		"http://example.com@evil.org/":        "http://evil.org:80",
		"http://[::1]:3000/page":              "http://[::1]:3000",
		"http://[::1]":                        "http://[::1]:80",
		"wss://example.com":                   "wss://example.com:443",
		"  http://example.com  ":              "http://example.com:80",
		"http://example.com:0":                "",
		"http://example.com:65536":            "",
		"http://:80":                          "",
		"ftp://example.com":                   "",
		"null":                                "",
		"":                                    "",
		"example.com":                         "",
		"//example.com":                       "",
		"file:///etc/passwd":                  "",
		"http://exa mple.com":                 "",
		"http://evil.example%2F.app.example":  "",
		"http://a!b.example":                  "",
		"http://[fe80::1%25eth0]":             "",
		"javascript:alert(1)//http://a.b:80/": "",
	} {
		assert.Equal(t, want, normalizeOrigin(in), "%q", in)
	}
}

func TestRequestOriginPrefersOriginOverReferer(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	assert.Empty(t, RequestOrigin(r), "neither header")
	r.Header.Set("Referer", "https://app.example/chat/room?x=1")
	assert.Equal(t, "https://app.example:443", RequestOrigin(r), "a Referer stands in for a missing Origin")
	r.Header.Set("Origin", "null")
	assert.Empty(t, RequestOrigin(r), "an Origin, even an opaque one, is never overridden by the Referer")
	r.Header.Set("Origin", "http://other.example")
	assert.Equal(t, "http://other.example:80", RequestOrigin(r))
}

// A Referer stands in for a missing Origin on every kind of request when
// origins are restricted: a <script src> JSONP handshake from another
// site (no Origin, its own Referer) is refused, and so is every request
// of a session made by an allowed page.
func TestRefererChecksRequestsWithoutOrigin(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	ts := newTestServer(t, Config{AllowedOrigins: []string{"https://app.example"}}, app(rec, ""))
	const (
		evil     = "https://evil.example/attack.html"
		sameSite = "https://app.example/chat?room=1"
	)
	bad := func(r response, what string) {
		t.Helper()
		assert.Equal(t, http.StatusForbidden, r.status, "%s: %s", what, r.body)
		assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"), what)
	}

	// Handshakes.
	r := ts.get("/socket.io/1/?t=1", "Referer", evil)
	bad(r, "handshake with a cross-site Referer")
	assert.Equal(t, "handshake bad origin", r.body)
	r = ts.get("/socket.io/1/?t=1&jsonp=0", "Referer", evil)
	assert.Equal(t, `io.j[0](new Error("handshake bad origin"));`, r.body, "a JSONP handshake from another site")
	bad(ts.get("/socket.io/1/?t=1"), "handshake with neither Origin nor Referer")
	bad(ts.get("/socket.io/1/?t=1", "Origin", "https://evil.example", "Referer", sameSite), "the Origin decides when there is one")
	assert.Equal(t, 0, ts.srv.SessionCount())

	r = ts.get("/socket.io/1/?t=1&jsonp=0", "Referer", sameSite)
	assert.True(t, strings.HasPrefix(r.body, `io.j[0]("`), "same-site JSONP handshake: %s", r.body)
	r = ts.get("/socket.io/1/?t=1", "Origin", "https://app.example", "Referer", evil)
	require.Equal(t, http.StatusOK, r.status, "an allowed Origin is not overridden by the Referer: %s", r.body)
	sid, _, _ := strings.Cut(r.body, ":")

	// The session's requests.
	bad(ts.get(transportPath("xhr-polling", sid), "Referer", evil), "polling GET")
	bad(ts.get(transportPath("jsonp-polling", sid)+"?i=0", "Referer", evil), "jsonp GET")
	bad(ts.get(transportPath("xhr-polling", sid)), "polling GET with neither header")
	bad(ts.do(http.MethodPost, transportPath("xhr-polling", sid), eventPacket("", "", "note", "evil"), "Referer", evil), "polling POST")
	bad(ts.do(http.MethodPost, transportPath("jsonp-polling", sid), "d="+url.QueryEscape(jsonString(eventPacket("", "", "note", "evil"))),
		"Referer", evil, "Content-Type", "application/x-www-form-urlencoded"), "jsonp POST")
	bad(ts.get("/socket.io/1//"+sid+"/?disconnect=1", "Referer", evil), "?disconnect")
	ws, resp, err := wsDialer.Dial(ts.wsURL+transportPath("websocket", sid), http.Header{"Referer": {evil}})
	if ws != nil {
		_ = ws.Close()
	}
	require.Error(t, err, "websocket upgrade with a cross-site Referer")
	require.NotNil(t, resp)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.NotNil(t, ts.srv.lookup(sid), "refused requests leave the session alone")
	assert.Zero(t, rec.count("connect  "+sid), "no refused request connected the session")

	// The same requests from the site itself.
	r = ts.get(transportPath("xhr-polling", sid), "Referer", sameSite)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "1::", r.body)
	r = ts.do(http.MethodPost, transportPath("xhr-polling", sid), eventPacket("", "", "note", "ok"), "Referer", sameSite)
	assert.Equal(t, "1", r.body)
	rec.waitCount(t, "note  "+sid+" ok", 1)
	assert.Zero(t, rec.count("note  "+sid+" evil"), "refused posts delivered nothing")

	sid2 := ts.get("/socket.io/1/", "Referer", sameSite).body
	sid2, _, _ = strings.Cut(sid2, ":")
	ws, resp, err = wsDialer.Dial(ts.wsURL+transportPath("websocket", sid2), http.Header{"Referer": {sameSite}})
	require.NoError(t, err, "same-site websocket upgrade without Origin")
	_ = resp.Body.Close()
	_ = ws.Close()
}

// CheckOrigin replaces AllowedOrigins, is asked once per request, and an
// Origin it allows is reflected with credentials.
func TestCheckOriginOverridesAllowedOrigins(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	ts := newTestServer(t, Config{
		AllowedOrigins: []string{"https://listed.example"},
		CheckOrigin: func(r *http.Request) bool {
			calls.Add(1)
			return strings.HasSuffix(RequestOrigin(r), ".custom.example:443")
		},
	}, nil)
	r := ts.get("/socket.io/1/", "Origin", "https://listed.example")
	assert.Equal(t, http.StatusForbidden, r.status, "AllowedOrigins no longer applies")
	assert.Equal(t, int64(1), calls.Load(), "asked once per request")

	const origin = "https://a.custom.example"
	r = ts.get("/socket.io/1/", "Origin", origin)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, origin, r.header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", r.header.Get("Access-Control-Allow-Credentials"))
	sid, _, _ := strings.Cut(r.body, ":")
	assert.Equal(t, int64(2), calls.Load(), "asked once per request")

	assert.Equal(t, http.StatusForbidden, ts.get(transportPath("xhr-polling", sid), "Origin", "https://listed.example").status)
	r = ts.get(transportPath("xhr-polling", sid), "Referer", "https://b.custom.example/page")
	assert.Equal(t, "1::", r.body, "the policy sees the whole request")
	assert.Empty(t, r.header.Get("Access-Control-Allow-Origin"), "no Origin, nothing to reflect")
}

// Answers that depend on the origin say so (Vary), preflights allow only
// the header the transports send, and handshakes are never cached.
func TestCORSHygiene(t *testing.T) {
	t.Parallel()
	open := newTestServer(t, Config{}, nil)
	closed := newTestServer(t, Config{AllowedOrigins: []string{"https://app.example"}}, nil)
	const origin = "https://app.example"
	for _, c := range []struct {
		name string
		ts   *testServer
		vary []string
	}{
		{"any origin", open, []string{"Origin"}},
		{"restricted", closed, []string{"Origin", "Referer"}},
	} {
		ts := c.ts
		varies := func(r response, what string) {
			t.Helper()
			var got []string
			for _, v := range r.header.Values("Vary") {
				for _, f := range strings.Split(v, ",") {
					got = append(got, strings.TrimSpace(f))
				}
			}
			assert.ElementsMatch(t, c.vary, got, "%s, %s: Vary", c.name, what)
		}
		noStore := func(r response, what string) {
			t.Helper()
			assert.Equal(t, "no-store", r.header.Get("Cache-Control"), "%s, %s", c.name, what)
		}
		r := ts.get("/socket.io/1/?t=1", "Origin", origin)
		require.Equal(t, http.StatusOK, r.status)
		varies(r, "handshake")
		noStore(r, "handshake")
		sid, _, _ := strings.Cut(r.body, ":")
		r = ts.get("/socket.io/1/?t=1&jsonp=3", "Origin", origin)
		noStore(r, "JSONP handshake")
		r = ts.get("/socket.io/1/?t=1&deny", "Origin", "https://evil.example")
		varies(r, "handshake from another origin")
		if ts == closed {
			assert.Equal(t, http.StatusForbidden, r.status)
			noStore(r, "refused handshake")
		}

		r = ts.get(transportPath("xhr-polling", sid), "Origin", origin)
		assert.Equal(t, "1::", r.body)
		varies(r, "poll")
		r = ts.do(http.MethodPost, transportPath("xhr-polling", sid), "2::", "Origin", origin)
		varies(r, "post")

		r = ts.do(http.MethodOptions, transportPath("xhr-polling", sid), "",
			"Origin", origin,
			"Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "content-type, x-evil, authorization")
		varies(r, "preflight")
		assert.Equal(t, origin, r.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "Content-Type", r.header.Get("Access-Control-Allow-Headers"), "%s: only the header the transports send", c.name)
	}
}
