package socketio

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the client file's Config fields.
const (
	defaultClientCacheControl = "public, max-age=0"
	defaultMaxClientFileBytes = 4 << 20
)

// clientFile is the client file (Config.ClientFS, Config.ClientFile),
// read on the first request for it and then served from memory, as the
// Node.js reference's static handler does: with a strong ETag,
// Last-Modified, conditional requests (304), ranges, HEAD, and a gzipped
// copy for clients that accept it.
type clientFile struct {
	once sync.Once
	// Set by load under once; read-only after.
	body    []byte
	gz      []byte // nil when gzip does not make it smaller
	etag    string // strong, of body
	gzETag  string // strong, of gz: another representation, another tag
	modTime time.Time
	err     error // why it cannot be served (fs.ErrNotExist: 404, else 500)
}

// get returns the client file, loading it on the first call. A failure
// is kept too (and logged once): the file system is not read again.
func (cf *clientFile) get(s *Server) *clientFile {
	cf.once.Do(func() {
		cf.load(s.cfg.ClientFS, s.cfg.ClientFile, s.cfg.MaxClientFileBytes)
		if cf.err != nil {
			s.log.Error("cannot serve the client file", "file", s.cfg.ClientFile, "err", cf.err)
		}
	})
	return cf
}

func (cf *clientFile) load(fsys fs.FS, name string, limit int64) {
	f, err := fsys.Open(name)
	if err != nil {
		cf.err = err
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		cf.err = err
		return
	}
	tooLarge := fmt.Errorf("socketio: client file %q is larger than Config.MaxClientFileBytes (%d bytes)", name, limit)
	if fi.Size() > limit {
		cf.err = tooLarge
		return
	}
	body, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		cf.err = fmt.Errorf("socketio: reading client file %q: %w", name, err)
		return
	}
	if int64(len(body)) > limit {
		cf.err = tooLarge
		return
	}
	cf.body, cf.modTime = body, fi.ModTime()
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	cf.etag = `"` + tag + `"`
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	_, _ = zw.Write(body)                                    // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	if buf.Len() < len(body) {
		cf.gz = buf.Bytes()
		cf.gzETag = `"` + tag + `-gzip"`
	}
}

// serveClient answers Path+"/socket.io.js": 404 without Config.ClientFS
// or when the file is missing, 405 for methods other than GET and HEAD,
// 500 when the file cannot be read or is larger than
// Config.MaxClientFileBytes (logged once). Range requests get ranges of
// the plain file; other requests from clients that accept gzip get the
// gzipped copy. Every answer with the file varies with Accept-Encoding.
func (s *Server) serveClient(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ClientFS == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	cf := s.client.get(s)
	if cf.err != nil {
		if errors.Is(cf.err, fs.ErrNotExist) {
			http.NotFound(w, r)
		} else {
			plain(w, http.StatusInternalServerError, "client file unavailable")
		}
		return
	}
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	h.Set("Content-Type", "application/javascript; charset=utf-8")
	h.Set("Cache-Control", s.cfg.ClientCacheControl)
	body, etag := cf.body, cf.etag
	if cf.gz != nil && r.Header.Get("Range") == "" && acceptsGzip(r.Header) {
		body, etag = cf.gz, cf.gzETag
		h.Set("Content-Encoding", "gzip")
		// ServeContent leaves Content-Length out when a Content-Encoding
		// is set; the length of the gzipped copy is known.
		w = &gzipLengthWriter{ResponseWriter: w, n: len(body)}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", cf.modTime, bytes.NewReader(body))
}

// gzipLengthWriter sets the Content-Length of a full (200) gzipped answer.
type gzipLengthWriter struct {
	http.ResponseWriter
	n int
}

func (w *gzipLengthWriter) WriteHeader(code int) {
	if code == http.StatusOK && w.Header().Get("Content-Encoding") == "gzip" {
		w.Header().Set("Content-Length", strconv.Itoa(w.n))
	}
	w.ResponseWriter.WriteHeader(code)
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip
// (RFC 9110 §12.5.3): named with a non-zero q, or not named while "*"
// has one.
func acceptsGzip(h http.Header) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, v := range h.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.TrimSpace(name)
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					} else {
						q = 0
					}
				}
			}
			switch {
			case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
				gzipQ = max(gzipQ, q)
			case name == "*":
				starQ = max(starQ, q)
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}
