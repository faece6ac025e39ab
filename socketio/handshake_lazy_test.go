package socketio

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Handshake whose Headers and Query are filled in on first use equals
// the one made at once, whatever the request.
func TestDeferredHandshakeEqualsEager(t *testing.T) {
	raw := []string{
		"GET /socket.io/1/?t=1 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /socket.io/1/?t=1&a=x%20y&a=2&b=%zz&c HTTP/1.1\r\nHost: a\r\nCookie: k=v\r\nCookie: k2=v2\r\n" +
			"X-Empty:\r\nUser-Agent: Go\r\nx-lower: 1\r\nX-Multi: 1\r\nX-Multi: 2\r\nX-Multi: 3\r\n\r\n",
		"GET /socket.io/1/? HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /socket.io/1/ HTTP/1.0\r\n\r\n",
		"GET http://example.com/socket.io/1/?q=%E2%80%A8 HTTP/1.1\r\nHost: example.com\r\nOrigin: http://o\r\n\r\n",
		"GET /socket.io/%3F/1/?t=%3F HTTP/1.1\r\nHost: a\r\n\r\n",
	}
	for _, wire := range raw {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
		require.NoError(t, err, wire)
		eager, header, _, err := newHandshake(r, r.Header.Get("Origin"), false, DefaultMaxHandshakeBytes)
		require.NoError(t, err)
		assert.Empty(t, header)
		assert.Equal(t, r.Header, eager.Headers, wire)
		assert.Equal(t, r.URL.Query(), eager.Query, wire)
		assert.Equal(t, r.URL.RequestURI(), eager.URL, wire)
		lazy, header, _, err := newHandshake(r, r.Header.Get("Origin"), true, DefaultMaxHandshakeBytes)
		require.NoError(t, err)
		require.NotEmpty(t, header, wire)
		assert.Nil(t, lazy.Headers)
		fillHandshake(lazy, header)
		lazy.Time = eager.Time
		assert.Equal(t, eager, lazy, wire)
		for k, vv := range lazy.Headers {
			assert.Equal(t, len(vv), cap(vv), "each name's values are capped, as Header.Clone caps them")
			lazy.Headers[k] = append(vv, "more")
		}
		for k, vv := range eager.Headers {
			assert.Equal(t, append(slices.Clone(vv), "more"), lazy.Headers[k], "appending to one name's values touches no other")
		}
	}
}

// A header the pairs cannot represent (a name without values) makes the
// Handshake at once.
func TestHandshakeWithEmptyHeaderIsMadeAtOnce(t *testing.T) {
	r := httptest.NewRequest("GET", "/socket.io/1/?t=1", nil)
	r.Header["X-None"] = nil
	r.Header["X-Empty"] = []string{}
	hs, header, _, err := newHandshake(r, "", true, DefaultMaxHandshakeBytes)
	require.NoError(t, err)
	assert.Empty(t, header)
	assert.Equal(t, r.Header, hs.Headers)
	assert.NotNil(t, hs.Headers["X-Empty"])
	assert.Nil(t, hs.Headers["X-None"])
}

// Sessions fill in their Handshake once, for every caller, concurrently.
func TestSessionHandshakeIsFilledInOnce(t *testing.T) {
	srv := NewServer(Config{Logger: discardLogger})
	defer srv.Close()
	r := httptest.NewRequest("GET", "/socket.io/1/?t=1&user=ann", nil)
	r.Header.Set("X-Token", "tok")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, r)
	sid, _, _ := strings.Cut(rec.Body.String(), ":")
	sess := srv.lookup(sid)
	require.NotNil(t, sess)
	got := make([]*Handshake, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = sess.Handshake()
		}()
	}
	wg.Wait()
	for _, hs := range got {
		assert.Same(t, got[0], hs)
	}
	assert.Equal(t, "ann", got[0].Query.Get("user"))
	assert.Equal(t, "tok", got[0].Headers.Get("X-Token"))
	assert.Equal(t, "/socket.io/1/?t=1&user=ann", got[0].URL)
}

// With an Authorize hook, the session keeps the compact handshake when the
// hook changed nothing, and the hook's version when it did.
func TestAuthorizeSeesWholeHandshakeAndChangesAreKept(t *testing.T) {
	var seenToken, seenUser string
	change := ""
	srv := NewServer(Config{Logger: discardLogger, Authorize: func(_ context.Context, hs *Handshake) (any, error) {
		seenToken, seenUser = hs.Headers.Get("X-Token"), hs.Query.Get("user")
		switch change {
		case "header":
			hs.Headers.Set("X-User", "checked")
		case "query":
			hs.Query.Add("role", "admin")
		case "value in place":
			hs.Headers["X-Token"][0] = "redacted"
		}
		return nil, nil
	}})
	defer srv.Close()
	for _, c := range []string{"", "header", "query", "value in place"} {
		t.Run(c, func(t *testing.T) {
			change = c
			r := httptest.NewRequest("GET", "/socket.io/1/?t=1&user=ann", nil)
			r.Header.Set("X-Token", "tok")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, r)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "tok", seenToken, "Authorize sees the headers")
			assert.Equal(t, "ann", seenUser, "and the query")
			sid, _, _ := strings.Cut(rec.Body.String(), ":")
			sess := srv.lookup(sid)
			require.NotNil(t, sess)
			sess.mu.Lock()
			compact := sess.hsHeader != ""
			sess.mu.Unlock()
			assert.Equal(t, c == "", compact, "compact only when unchanged")
			hs := sess.Handshake()
			switch c {
			case "":
				assert.Equal(t, "tok", hs.Headers.Get("X-Token"))
				assert.Equal(t, "ann", hs.Query.Get("user"))
			case "header":
				assert.Equal(t, "checked", hs.Headers.Get("X-User"))
			case "query":
				assert.Equal(t, []string{"admin"}, hs.Query["role"])
			case "value in place":
				assert.Equal(t, "redacted", hs.Headers.Get("X-Token"))
			}
		})
	}
}

// sameHandshake tells a Handshake Authorize left alone from one it
// changed, in any field the compact form keeps.
func TestSameHandshakeSeesChanges(t *testing.T) {
	r := httptest.NewRequest("GET", "/socket.io/1/?t=1&a=x&a=y&b=%20", nil)
	r.Header.Set("X-Token", "tok")
	r.Header.Add("X-Multi", "1")
	r.Header.Add("X-Multi", "2")
	hs, header, _, err := newHandshake(r, "", true, DefaultMaxHandshakeBytes)
	require.NoError(t, err)
	require.NotEmpty(t, header)
	full := func() *Handshake {
		f := *hs
		fillHandshake(&f, header)
		return &f
	}
	assert.True(t, sameHandshake(full(), hs, header))
	changes := map[string]func(*Handshake){
		"header value":   func(f *Handshake) { f.Headers.Set("X-Token", "other") },
		"header added":   func(f *Handshake) { f.Headers.Set("X-New", "1") },
		"header removed": func(f *Handshake) { f.Headers.Del("X-Token") },
		"header values":  func(f *Handshake) { f.Headers["X-Multi"] = []string{"2", "1"} },
		"header nil":     func(f *Handshake) { f.Headers = nil },
		"query value":    func(f *Handshake) { f.Query.Set("t", "2") },
		"query added":    func(f *Handshake) { f.Query.Add("a", "z") },
		"query removed":  func(f *Handshake) { f.Query.Del("b") },
		"query nil":      func(f *Handshake) { f.Query = nil },
		"address":        func(f *Handshake) { f.Address = "10.0.0.1:1" },
		"url":            func(f *Handshake) { f.URL = "/x" },
	}
	for name, change := range changes {
		f := full()
		change(f)
		assert.False(t, sameHandshake(f, hs, header), name)
	}
	if raceEnabled {
		return // allocation counts are the race detector's
	}
	f := full()
	assert.Zero(t, testing.AllocsPerRun(20, func() { _ = samePacked(f.Headers, header) }), "samePacked allocates nothing")
}

// A session without a User keeps its whole Handshake packed in one string
// (no Handshake until asked for), which gives back the Handshake made at
// once, whatever the request; one with a User keeps the Handshake.
func TestCompactHandshakeRoundTrip(t *testing.T) {
	raw := []string{
		"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: a\r\nOrigin: http://o\r\n\r\n",
		"GET /socket.io/1/?t=1&a=x%20y&a=2&b=%zz&c HTTP/1.1\r\nHost: a\r\nCookie: k=v\r\nCookie: k2=v2\r\nX-Empty:\r\n\r\n",
		"GET /socket.io/1/ HTTP/1.0\r\n\r\n",
		"GET /" + strings.Repeat("p", 300) + "?" + strings.Repeat("q", 200) + " HTTP/1.1\r\nHost: a\r\n\r\n",
	}
	for _, wire := range raw {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
		require.NoError(t, err, wire)
		r.RemoteAddr = "192.0.2.1:1234"
		eager, _, _, err := newHandshake(r, r.Header.Get("Origin"), false, DefaultMaxHandshakeBytes)
		require.NoError(t, err)
		lazy, header, _, err := newHandshake(r, r.Header.Get("Origin"), true, DefaultMaxHandshakeBytes)
		require.NoError(t, err)
		require.NotEmpty(t, header)
		hs, packed := compactHandshake(lazy, header)
		assert.Nil(t, hs, "nothing but the string is kept")
		got := expandHandshake(hs, packed)
		assert.True(t, got.Time.Equal(eager.Time) || got.Time.Equal(lazy.Time))
		got.Time = eager.Time
		assert.Equal(t, eager, got, wire)

		lazy.User = "ann"
		hs, packed = compactHandshake(lazy, header)
		assert.Same(t, lazy, hs, "a Handshake with a User is kept")
		assert.Equal(t, header, packed)
	}
	// Secure and XDomain survive too.
	hs, packed := compactHandshake(&Handshake{Address: "a", URL: "/u", Time: time.Unix(5, 6), Secure: true}, "\x01")
	assert.Nil(t, hs)
	got := expandHandshake(nil, packed)
	assert.True(t, got.Secure)
	assert.False(t, got.XDomain)
	assert.True(t, got.Time.Equal(time.Unix(5, 6)))
	assert.Equal(t, "/u", got.URL)
}
