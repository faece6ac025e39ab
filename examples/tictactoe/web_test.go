package main

import (
	"net"
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
