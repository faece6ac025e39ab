package exampleweb

import (
	"net"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFindClientDir(t *testing.T) {
	_, err := FindClientDir(t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "make deps-node", "the error tells the user what to run")
	dir, err := FindClientDir(DefaultClientDir) // installed by make deps-node
	require.NoError(t, err)
	assert.FileExists(t, dir+"/"+ClientFile)
}

func TestPageURL(t *testing.T) {
	assert.Equal(t, "http://localhost:8080/", PageURL(&net.TCPAddr{IP: net.IPv4zero, Port: 8080}))
	assert.Equal(t, "http://localhost:81/", PageURL(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 81}))
	assert.Equal(t, "http://10.1.2.3:80/", PageURL(&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 80}))
}

func TestPageHeaders(t *testing.T) {
	h := Page(fstest.MapFS{"index.html": {Data: []byte("<p>hi</p>")}}, "index.html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, "<p>hi</p>", w.Body.String())
	assert.Contains(t, w.Header().Get("Content-Security-Policy"), "default-src 'self'")
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	assert.Panics(t, func() { Page(fstest.MapFS{}, "missing.html") })
}
