package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/nodetest"
	"github.com/siogo/siogo/internal/testtools"
)

func TestFindClientDir(t *testing.T) {
	_, err := findClientDir(t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "make deps-node", "the error tells the user what to run")
	testtools.RequireNodeModules(t, nodetest.Dir(t))
	dir, err := findClientDir(defaultClientDir) // installed by make deps-node
	require.NoError(t, err)
	assert.FileExists(t, dir+"/"+clientFile)

	_, err = findClient4Dir(t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "make deps-node")
	dir, err = findClient4Dir(defaultClient4Dir)
	require.NoError(t, err)
	assert.FileExists(t, dir+"/"+client4File)
}

func TestPageURL(t *testing.T) {
	assert.Equal(t, "http://localhost:8080/", pageURL(&net.TCPAddr{IP: net.IPv4zero, Port: 8080}))
	assert.Equal(t, "http://localhost:81/", pageURL(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 81}))
	assert.Equal(t, "http://10.1.2.3:80/", pageURL(&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 80}))
}

func TestPageHeaders(t *testing.T) {
	h := page(fstest.MapFS{"index.html": {Data: []byte("<p>hi</p>")}}, "index.html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, "<p>hi</p>", w.Body.String())
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'self'")
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	assert.Panics(t, func() { page(fstest.MapFS{}, "missing.html") })
}

// TestClientSwitch: / loads socket.io.js 0.9.16 from the Socket.IO server,
// /?client=4 the same page loading 4.x from client4Prefix, with the same
// headers; the 4.x client and its map are served from its dist directory,
// nothing else from there.
func TestClientSwitch(t *testing.T) {
	web := fstest.MapFS{"index.html": {Data: []byte("<head>" + client09Script + "</head>")}}
	v4 := fstest.MapFS{
		client4File:          {Data: []byte("/* 4.x */")},
		client4File + ".map": {Data: []byte("{}")},
		"package.json":       {Data: []byte("{}")},
	}
	mux := http.NewServeMux()
	handleWeb(mux, fstest.MapFS{
		"index.html": web["index.html"], "app.js": {Data: []byte("")}, "style.css": {Data: []byte("")},
	}, clients{V4: v4})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	for path, want := range map[string]string{
		"/":          client09Script,
		"/?client=":  client09Script,
		"/?client=9": client09Script,
		"/?client=4": client4Script,
	} {
		w := get(path)
		assert.Equal(t, http.StatusOK, w.Code, path)
		assert.Equal(t, "<head>"+want+"</head>", w.Body.String(), path)
		assert.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'self'", path)
	}
	w := get(client4Prefix + client4File)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "/* 4.x */", w.Body.String())
	assert.Contains(t, w.Header().Get("Content-Type"), "javascript")
	assert.Equal(t, http.StatusOK, get(client4Prefix+client4File+".map").Code)
	assert.Equal(t, http.StatusNotFound, get(client4Prefix+"package.json").Code)
	assert.Equal(t, http.StatusNotFound, get(client4Prefix).Code)

	// Not installed: a 404 that says what to do.
	w = httptest.NewRecorder()
	client4Handler(nil).ServeHTTP(w, httptest.NewRequest("GET", client4Prefix+client4File, nil))
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Contains(t, w.Body.String(), "make deps-node")

	assert.Panics(t, func() { indexPage(fstest.MapFS{"index.html": {Data: []byte("<p>no client</p>")}}, "index.html") })
}
