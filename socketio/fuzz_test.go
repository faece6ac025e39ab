package socketio

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzServeHTTP throws arbitrary methods, paths, queries, bodies and
// headers (a websocket upgrade's, Origin, Referer, Cookie) at the router,
// the origin policy, the handshake and the transports' request decoding,
// on a server that allows any origin and on one that restricts them: the
// server must answer every request (no panic, no hang) with a status, and
// the restricted one must refuse what its policy refuses.
func FuzzServeHTTP(f *testing.F) {
	for _, seed := range []struct {
		method, path, body      string
		upgrade, restricted     bool
		origin, referer, cookie string
	}{
		{"GET", "/socket.io/1/?t=1&jsonp=3", "", false, false, "", "", ""},
		{"GET", "/socket.io/1/xhr-polling/nosuchsid?i=7", "", false, false, "http://a.example", "", "k=v"},
		{"POST", "/socket.io/1/jsonp-polling/x", "d=%22abc%22", false, true, "", "http://example.com/page", ""},
		{"POST", "/socket.io/1/xhr-polling/x", "5:::{\"name\":\"a\"}", false, true, "http://example.com", "", ""},
		{"OPTIONS", "/socket.io/1/", "", false, true, "http://example.com", "", ""},
		{"GET", "/socket.io/1//x/?disconnect=1", "", false, true, "", "http://evil.example/", "sid=1"},
		{"GET", "/socket.io/2/", "", false, false, "null", "", ""},
		{"GET", "/socket.io/1/websocket/x", "", true, false, "http://example.com", "", ""},
		{"GET", "/socket.io/1/websocket/x", "", true, true, "", "http://example.com:80/", ""},
		{"GET", "/socket.io/1/?t=1", "", false, true, "HTTP://EXAMPLE.COM", "https://evil.example", ""},
	} {
		f.Add(seed.method, seed.path, seed.body, seed.upgrade, seed.restricted, seed.origin, seed.referer, seed.cookie)
	}
	cfg := Config{Logger: discardLogger, CloseTimeout: 10 * time.Millisecond, PollingDuration: 10 * time.Millisecond}
	open := NewServer(cfg)
	f.Cleanup(open.Close)
	cfg.AllowedOrigins = []string{"http://example.com"}
	restricted := NewServer(cfg)
	f.Cleanup(restricted.Close)
	handshakeAnswer := regexp.MustCompile(`^(io\.j\[\d+\]\(")?[A-Za-z0-9_-]{20}:\d+:\d+:`)
	f.Fuzz(func(t *testing.T, method, path, body string, upgrade, strict bool, origin, referer, cookie string) {
		if !strings.HasPrefix(path, "/") {
			path = "/socket.io/" + path
		}
		u, err := url.ParseRequestURI(path)
		if err != nil || len(method) == 0 || len(method) > 16 || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			return
		}
		header := http.Header{}
		for _, h := range [][2]string{{"Origin", origin}, {"Referer", referer}, {"Cookie", cookie}} {
			if strings.ContainsAny(h[1], "\r\n\x00") {
				return // cannot come over the wire
			}
			if h[1] != "" {
				header.Set(h[0], h[1])
			}
		}
		if upgrade {
			header.Set("Connection", "Upgrade")
			header.Set("Upgrade", "websocket")
			header.Set("Sec-WebSocket-Version", "13")
			header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		}
		req := &http.Request{Method: method, URL: u, RequestURI: path, Header: header, Host: "example.com",
			Body: http.NoBody, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		if body != "" {
			req = httptest.NewRequest(http.MethodPost, "http://example.com/", strings.NewReader(body))
			req.Method, req.URL, req.RequestURI, req.Header = method, u, path, header
		}
		srv := open
		if strict {
			srv = restricted
		}
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.ServeHTTP(w, req)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s %q did not answer", method, path)
		}
		if w.Code < 100 || w.Code > 599 {
			t.Fatalf("%s %q answered status %d", method, path, w.Code)
		}
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" && got != origin {
			t.Fatalf("%s %q: Access-Control-Allow-Origin %q for Origin %q", method, path, got, origin)
		}
		if strict && RequestOrigin(req) != "http://example.com:80" {
			if w.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("%s %q: CORS headers for a refused origin (%q, %q)", method, path, origin, referer)
			}
			if handshakeAnswer.MatchString(w.Body.String()) {
				t.Fatalf("%s %q: a refused origin (%q, %q) got %q", method, path, origin, referer, w.Body.String())
			}
		}
	})
}

// FuzzNormalizeOrigin: normalisation is idempotent, yields only
// "scheme://host:port" in lower case, and a Referer (the origin with a
// path and query) normalises as its origin does, through RequestOrigin
// too.
func FuzzNormalizeOrigin(f *testing.F) {
	for _, s := range []string{
		"http://example.com", "HTTPS://Example.COM:443", "http://example.com:080/x?y#z", "http://[::1]:3000",
		"http://[0:0::1]", "https://user:pw@example.com", "http://ex%41mple.com", "null", "", "ws://a.b:1",
		"http://a.b:65536", "http://:80", "file:///x", "http://exa mple.com", "http://[::ffff:1.2.3.4]:8080",
	} {
		f.Add(s)
	}
	shape := regexp.MustCompile(`^(https?|wss?)://([a-z0-9._-]+|\[[0-9a-f:.]+\]):[0-9]{1,5}$`)
	f.Fuzz(func(t *testing.T, s string) {
		n := normalizeOrigin(s)
		if n == "" {
			return
		}
		if !shape.MatchString(n) {
			t.Fatalf("normalizeOrigin(%q) = %q: not scheme://host:port", s, n)
		}
		if again := normalizeOrigin(n); again != n {
			t.Fatalf("normalizeOrigin(%q) = %q, but normalizeOrigin(%q) = %q", s, n, n, again)
		}
		if ref := normalizeOrigin(n + "/page?q=1#f"); ref != n {
			t.Fatalf("the Referer %q normalises to %q, its origin to %q", n+"/page?q=1#f", ref, n)
		}
		r := &http.Request{Header: http.Header{"Referer": {n + "/page"}}}
		if got := RequestOrigin(r); got != n {
			t.Fatalf("RequestOrigin with Referer %q = %q, want %q", n+"/page", got, n)
		}
		r.Header.Set("Origin", s)
		if got := RequestOrigin(r); got != n {
			t.Fatalf("RequestOrigin with Origin %q = %q, want %q", s, got, n)
		}
	})
}

// FuzzHandshakeHeaders: whatever headers a handshake request carries and
// whatever the bound, the Handshake keeps at most MaxHandshakeBytes of
// them, whole and unchanged, drops only what would not fit, and the
// compact form the session keeps (header pairs) fills in to exactly the
// Handshake made at once.
func FuzzHandshakeHeaders(f *testing.F) {
	f.Add("t=1", "Cookie: a=b\r\nUser-Agent: x\r\n", uint16(8192))
	f.Add("t=1&a=%zz", "X-Big: "+strings.Repeat("b", 300)+"\r\nCookie: k=v\r\nCookie: k2=v2\r\nX-A: 1\r\nX-A: 2\r\n", uint16(100))
	f.Add("", "Authorization: Bearer t\r\nX-Empty:\r\nx-lower: 1\r\n", uint16(0))
	f.Add("q=%E2%80%A8", "Origin: http://o\r\nReferer: http://o/p\r\n", uint16(30))
	f.Fuzz(func(t *testing.T, query, headers string, bound uint16) {
		maxBytes := int(bound)%(16<<10) + 1
		wire := "GET /socket.io/1/?" + query + " HTTP/1.1\r\nHost: a\r\n" + headers + "\r\n"
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
		if err != nil {
			return
		}
		eager, header, dropped, err := newHandshake(r, "", false, maxBytes)
		if err != nil {
			if len(r.URL.RequestURI()) <= maxBytes {
				t.Fatalf("refused %q (bound %d): %v", r.URL.RequestURI(), maxBytes, err)
			}
			return
		}
		if header != "" {
			t.Fatalf("an eager handshake returned pairs")
		}
		if size := retainedSize(eager.Headers); size > maxBytes {
			t.Fatalf("kept %d header bytes, bound %d", size, maxBytes)
		}
		for k, vv := range eager.Headers {
			if !slices.Equal(vv, r.Header[k]) {
				t.Fatalf("header %q kept as %q, sent as %q", k, vv, r.Header[k])
			}
		}
		for _, k := range dropped {
			if _, ok := eager.Headers[k]; ok {
				t.Fatalf("header %q both kept and dropped", k)
			}
			if retainedSize(eager.Headers)+headerSize(k, r.Header[k]) <= maxBytes {
				t.Fatalf("header %q dropped though it fits", k)
			}
		}
		if len(eager.Headers)+len(dropped) != len(r.Header) {
			t.Fatalf("kept %d and dropped %d of %d headers", len(eager.Headers), len(dropped), len(r.Header))
		}
		lazy, header, _, err := newHandshake(r, "", true, maxBytes)
		if err != nil {
			t.Fatal(err)
		}
		if header != "" {
			fillHandshake(lazy, header)
		}
		lazy.Time = eager.Time
		if !reflect.DeepEqual(eager, lazy) {
			t.Fatalf("the compact handshake fills in to %+v, not %+v", lazy, eager)
		}
	})
}
