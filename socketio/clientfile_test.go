package socketio

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const clientPath = "/socket.io/socket.io.js"

// clientJS is a compressible stand-in for socket.io.js.
var clientJS = []byte(strings.Repeat("/*! Socket.IO.js build:0.9.16 */ var io = {};\n", 200))

var clientModTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// countingFS counts the opens of a file system.
type countingFS struct {
	fs.FS
	opens atomic.Int32
}

func (c *countingFS) Open(name string) (fs.File, error) {
	c.opens.Add(1)
	return c.FS.Open(name)
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func clientFS(body []byte) fstest.MapFS {
	return fstest.MapFS{"socket.io.js": {Data: body, ModTime: clientModTime}}
}

func clientServer(t *testing.T, cfg Config) (*Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	srv := NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv, logs
}

// fetchClient makes one request to srv; hdr is name, value pairs.
func fetchClient(srv http.Handler, method string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, clientPath, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	return w
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

// TestClientFileServedWithValidators: the file comes with its type, a
// strong ETag, Last-Modified, the default Cache-Control, its length, and
// Vary: Accept-Encoding.
func TestClientFileServedWithValidators(t *testing.T) {
	t.Parallel()
	srv, _ := clientServer(t, Config{ClientFS: clientFS(clientJS)})
	assert.Equal(t, "public, max-age=0", srv.Config().ClientCacheControl)
	assert.Equal(t, int64(4<<20), srv.Config().MaxClientFileBytes)

	w := fetchClient(srv, http.MethodGet)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, clientJS, w.Body.Bytes())
	h := w.Header()
	assert.Equal(t, "application/javascript; charset=utf-8", h.Get("Content-Type"))
	etag := h.Get("ETag")
	assert.Regexp(t, `^"[0-9a-f]{32}"$`, etag, "a strong ETag")
	assert.Equal(t, clientModTime.Format(http.TimeFormat), h.Get("Last-Modified"))
	assert.Equal(t, "public, max-age=0", h.Get("Cache-Control"))
	assert.Contains(t, h.Values("Vary"), "Accept-Encoding")
	assert.Empty(t, h.Get("Content-Encoding"))
	assert.Equal(t, "bytes", h.Get("Accept-Ranges"))
	assert.Equal(t, len(clientJS), atoi(t, h.Get("Content-Length")))

	// The same content, the same tag (another server, same file).
	srv2, _ := clientServer(t, Config{ClientFS: clientFS(clientJS)})
	assert.Equal(t, etag, fetchClient(srv2, http.MethodGet).Header().Get("ETag"))
	// Other content, another tag.
	srv3, _ := clientServer(t, Config{ClientFS: clientFS(append([]byte("x"), clientJS...))})
	assert.NotEqual(t, etag, fetchClient(srv3, http.MethodGet).Header().Get("ETag"))

	// Config.ClientCacheControl replaces the default.
	srv4, _ := clientServer(t, Config{ClientFS: clientFS(clientJS), ClientCacheControl: "public, max-age=3600"})
	assert.Equal(t, "public, max-age=3600", fetchClient(srv4, http.MethodGet).Header().Get("Cache-Control"))
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// TestClientFileReadOnce: the file system is read on the first request
// only; later changes to it are not seen.
func TestClientFileReadOnce(t *testing.T) {
	t.Parallel()
	mfs := clientFS(clientJS)
	cfs := &countingFS{FS: mfs}
	srv, _ := clientServer(t, Config{ClientFS: cfs})
	assert.Zero(t, cfs.opens.Load(), "not read before it is asked for")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := fetchClient(srv, http.MethodGet, "Accept-Encoding", "gzip")
			assert.Equal(t, http.StatusOK, w.Code)
		}()
	}
	wg.Wait()
	mfs["socket.io.js"] = &fstest.MapFile{Data: []byte("changed"), ModTime: time.Now()}
	assert.Equal(t, clientJS, fetchClient(srv, http.MethodGet).Body.Bytes())
	assert.Equal(t, int32(1), cfs.opens.Load())
}

// TestClientFileConditional: If-None-Match and If-Modified-Since get 304
// without a body when the copy is current, the file otherwise.
func TestClientFileConditional(t *testing.T) {
	t.Parallel()
	srv, _ := clientServer(t, Config{ClientFS: clientFS(clientJS)})
	first := fetchClient(srv, http.MethodGet)
	etag := first.Header().Get("ETag")
	lastMod := first.Header().Get("Last-Modified")

	for _, tc := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"same etag", []string{"If-None-Match", etag}, http.StatusNotModified},
		{"etag in a list", []string{"If-None-Match", `"other", ` + etag}, http.StatusNotModified},
		{"any etag", []string{"If-None-Match", "*"}, http.StatusNotModified},
		{"other etag", []string{"If-None-Match", `"other"`}, http.StatusOK},
		{"not modified since", []string{"If-Modified-Since", lastMod}, http.StatusNotModified},
		{"modified since", []string{"If-Modified-Since", clientModTime.Add(-time.Hour).Format(http.TimeFormat)}, http.StatusOK},
		// If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
		{"other etag, not modified since", []string{"If-None-Match", `"other"`, "If-Modified-Since", lastMod}, http.StatusOK},
		{"If-Match mismatch", []string{"If-Match", `"other"`}, http.StatusPreconditionFailed},
	} {
		w := fetchClient(srv, http.MethodGet, tc.hdr...)
		assert.Equal(t, tc.want, w.Code, tc.name)
		switch tc.want {
		case http.StatusNotModified:
			assert.Empty(t, w.Body.Bytes(), tc.name)
			assert.Equal(t, etag, w.Header().Get("ETag"), tc.name)
			assert.Equal(t, "public, max-age=0", w.Header().Get("Cache-Control"), tc.name)
		case http.StatusOK:
			assert.Equal(t, clientJS, w.Body.Bytes(), tc.name)
		}
	}
}

// TestClientFileHEAD: HEAD has the headers of GET and no body, gzipped
// or not.
func TestClientFileHEAD(t *testing.T) {
	t.Parallel()
	srv, _ := clientServer(t, Config{ClientFS: clientFS(clientJS)})
	for _, enc := range []string{"", "gzip"} {
		get := fetchClient(srv, http.MethodGet, "Accept-Encoding", enc)
		head := fetchClient(srv, http.MethodHead, "Accept-Encoding", enc)
		assert.Equal(t, http.StatusOK, head.Code, enc)
		assert.Empty(t, head.Body.Bytes(), enc)
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag", "Last-Modified", "Cache-Control"} {
			assert.Equal(t, get.Header().Get(k), head.Header().Get(k), "%s %s", enc, k)
		}
		assert.Equal(t, get.Body.Len(), atoi(t, head.Header().Get("Content-Length")), enc)
	}
}

// TestClientFileRange: a range of the plain file (even when gzip is
// accepted), 416 outside it, If-Range honoured.
func TestClientFileRange(t *testing.T) {
	t.Parallel()
	srv, _ := clientServer(t, Config{ClientFS: clientFS(clientJS)})
	etag := fetchClient(srv, http.MethodGet).Header().Get("ETag")

	w := fetchClient(srv, http.MethodGet, "Range", "bytes=10-19", "Accept-Encoding", "gzip")
	require.Equal(t, http.StatusPartialContent, w.Code)
	assert.Equal(t, clientJS[10:20], w.Body.Bytes())
	assert.Equal(t, "bytes 10-19/"+strconv.Itoa(len(clientJS)), w.Header().Get("Content-Range"))
	assert.Empty(t, w.Header().Get("Content-Encoding"))
	assert.Equal(t, etag, w.Header().Get("ETag"))

	w = fetchClient(srv, http.MethodGet, "Range", "bytes="+strconv.Itoa(len(clientJS)+10)+"-")
	assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, w.Code)

	w = fetchClient(srv, http.MethodGet, "Range", "bytes=0-4", "If-Range", etag)
	assert.Equal(t, http.StatusPartialContent, w.Code)
	w = fetchClient(srv, http.MethodGet, "Range", "bytes=0-4", "If-Range", `"stale"`)
	assert.Equal(t, http.StatusOK, w.Code, "a stale If-Range gets the whole file")
	assert.Equal(t, clientJS, w.Body.Bytes())
}

// TestClientFileGzip: a client accepting gzip gets the precompressed copy
// with its own strong ETag and its length; one refusing it (q=0) gets the
// plain file; a file gzip does not shrink is always sent plain.
func TestClientFileGzip(t *testing.T) {
	t.Parallel()
	srv, _ := clientServer(t, Config{ClientFS: clientFS(clientJS)})
	plainTag := fetchClient(srv, http.MethodGet).Header().Get("ETag")

	w := fetchClient(srv, http.MethodGet, "Accept-Encoding", "deflate, gzip;q=0.8, br")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "gzip", w.Header().Get("Content-Encoding"))
	assert.Less(t, w.Body.Len(), len(clientJS))
	assert.Equal(t, clientJS, gunzip(t, w.Body.Bytes()))
	assert.Equal(t, w.Body.Len(), atoi(t, w.Header().Get("Content-Length")))
	assert.Contains(t, w.Header().Values("Vary"), "Accept-Encoding")
	gzTag := w.Header().Get("ETag")
	assert.Regexp(t, `^"[0-9a-f]{32}-gzip"$`, gzTag)
	assert.NotEqual(t, plainTag, gzTag)

	nm := fetchClient(srv, http.MethodGet, "Accept-Encoding", "gzip", "If-None-Match", gzTag)
	assert.Equal(t, http.StatusNotModified, nm.Code)
	assert.Empty(t, nm.Header().Get("Content-Encoding"))
	assert.Empty(t, nm.Body.Bytes())

	for _, ae := range []string{"", "identity", "gzip;q=0", "br", "gzip;q=0, *"} {
		w := fetchClient(srv, http.MethodGet, "Accept-Encoding", ae)
		assert.Empty(t, w.Header().Get("Content-Encoding"), ae)
		assert.Equal(t, clientJS, w.Body.Bytes(), ae)
	}

	tiny, _ := clientServer(t, Config{ClientFS: clientFS([]byte("io"))})
	w = fetchClient(tiny, http.MethodGet, "Accept-Encoding", "gzip")
	assert.Empty(t, w.Header().Get("Content-Encoding"))
	assert.Equal(t, "io", w.Body.String())
	assert.Contains(t, w.Header().Values("Vary"), "Accept-Encoding")
}

// TestClientFileGzipOverHTTP: through a real HTTP server and client (the
// transport asks for gzip and decompresses by itself), with a declared
// length, not chunked.
func TestClientFileGzipOverHTTP(t *testing.T) {
	t.Parallel()
	srv, _ := clientServer(t, Config{ClientFS: clientFS(clientJS)})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	resp, err := hs.Client().Get(hs.URL + clientPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, clientJS, body)
	assert.True(t, resp.Uncompressed, "sent gzipped")

	req, err := http.NewRequest(http.MethodGet, hs.URL+clientPath, nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip")
	resp2, err := hs.Client().Do(req)
	require.NoError(t, err)
	defer resp2.Body.Close()
	raw, err := io.ReadAll(resp2.Body)
	require.NoError(t, err)
	assert.Equal(t, int64(len(raw)), resp2.ContentLength)
	assert.Empty(t, resp2.TransferEncoding)
	assert.Equal(t, clientJS, gunzip(t, raw))
}

// TestClientFileMethods: methods other than GET and HEAD get 405 with
// Allow (OPTIONS stays the CORS preflight).
func TestClientFileMethods(t *testing.T) {
	t.Parallel()
	srv, _ := clientServer(t, Config{ClientFS: clientFS(clientJS)})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		w := fetchClient(srv, m)
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"), m)
	}
	assert.Equal(t, http.StatusOK, fetchClient(srv, http.MethodOptions).Code)
}

// TestClientFileTooLarge: a file larger than Config.MaxClientFileBytes
// is not served: 500, and the reason is logged once; one at the limit is
// served. The default limit is 4 MiB.
func TestClientFileTooLarge(t *testing.T) {
	t.Parallel()
	srv, logs := clientServer(t, Config{ClientFS: clientFS(clientJS), MaxClientFileBytes: int64(len(clientJS)) - 1})
	for range 3 {
		w := fetchClient(srv, http.MethodGet)
		assert.Equal(t, http.StatusInternalServerError, w.Code)
		assert.NotContains(t, w.Body.String(), "Socket.IO")
		assert.Empty(t, w.Header().Get("ETag"))
	}
	assert.Equal(t, 1, strings.Count(logs.String(), "cannot serve the client file"), logs.String())
	assert.Contains(t, logs.String(), "larger than Config.MaxClientFileBytes")

	atLimit, _ := clientServer(t, Config{ClientFS: clientFS(clientJS), MaxClientFileBytes: int64(len(clientJS))})
	assert.Equal(t, http.StatusOK, fetchClient(atLimit, http.MethodGet).Code)

	big := make([]byte, 4<<20+1)
	def, _ := clientServer(t, Config{ClientFS: clientFS(big)})
	assert.Equal(t, http.StatusInternalServerError, fetchClient(def, http.MethodGet).Code)
	def2, _ := clientServer(t, Config{ClientFS: clientFS(big[:4<<20])})
	assert.Equal(t, http.StatusOK, fetchClient(def2, http.MethodGet).Code)
}

// TestClientFileMissing: no ClientFS, or no such file in it, is 404 (the
// latter logged: the configuration names a file that is not there).
func TestClientFileMissing(t *testing.T) {
	t.Parallel()
	none, _ := clientServer(t, Config{})
	assert.Equal(t, http.StatusNotFound, fetchClient(none, http.MethodGet).Code)

	srv, logs := clientServer(t, Config{ClientFS: clientFS(clientJS), ClientFile: "dist/socket.io.min.js"})
	assert.Equal(t, http.StatusNotFound, fetchClient(srv, http.MethodGet).Code)
	assert.Equal(t, http.StatusNotFound, fetchClient(srv, http.MethodGet).Code)
	assert.Equal(t, 1, strings.Count(logs.String(), "cannot serve the client file"), logs.String())
}

func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for ae, want := range map[string]bool{
		"":                    false,
		"gzip":                true,
		"GZIP":                true,
		"x-gzip":              true,
		"deflate, gzip":       true,
		"gzip;q=0.001":        true,
		"gzip;q=0":            false,
		"gzip; q=0.0":         false,
		"gzip;q=bad":          false,
		"*":                   true,
		"*;q=0":               false,
		"gzip;q=0, *":         false,
		"br, *;q=0.1":         true,
		"identity":            false,
		"gzipx":               false,
		"deflate;q=1, br;q=1": false,
	} {
		h := http.Header{}
		if ae != "" {
			h.Set("Accept-Encoding", ae)
		}
		assert.Equal(t, want, acceptsGzip(h), "%q", ae)
	}
	// Several header lines count together.
	h := http.Header{"Accept-Encoding": {"br", "gzip"}}
	assert.True(t, acceptsGzip(h))
}
