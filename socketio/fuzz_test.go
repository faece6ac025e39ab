package socketio

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzServeHTTP throws arbitrary methods, paths, queries and bodies at the
// router, the handshake and the transports' request decoding: the server
// must answer every request (no panic, no hang) with a status.
func FuzzServeHTTP(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"GET", "/socket.io/1/?t=1&jsonp=3", ""},
		{"GET", "/socket.io/1/xhr-polling/nosuchsid?i=7", ""},
		{"POST", "/socket.io/1/jsonp-polling/x", "d=%22abc%22"},
		{"POST", "/socket.io/1/xhr-polling/x", "5:::{\"name\":\"a\"}"},
		{"OPTIONS", "/socket.io/1/", ""},
		{"GET", "/socket.io/1//x/?disconnect=1", ""},
		{"GET", "/socket.io/2/", ""},
		{"GET", "/socket.io/1/websocket/x", ""},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	srv := NewServer(Config{Logger: discardLogger, CloseTimeout: 10 * time.Millisecond, PollingDuration: 10 * time.Millisecond})
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/socket.io/" + path
		}
		u, err := url.ParseRequestURI(path)
		if err != nil || len(method) == 0 || len(method) > 16 || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			return
		}
		req := &http.Request{Method: method, URL: u, RequestURI: path, Header: http.Header{}, Host: "example.com",
			Body: http.NoBody, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		if body != "" {
			req = httptest.NewRequest(http.MethodPost, "http://example.com/", strings.NewReader(body))
			req.Method, req.URL, req.RequestURI = method, u, path
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
	})
}
