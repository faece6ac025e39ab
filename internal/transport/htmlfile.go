package transport

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/siogo/siogo/packet"
)

// htmlfilePreamble starts the htmlfile document: the callback the client's
// iframe calls, then padding so that browsers start rendering (and running
// scripts) at once.
var htmlfilePreamble = "<html><body><script>var _ = function (msg) { parent.s._(msg, document); };</script>" +
	strings.Repeat(" ", 173)

// ServeHTMLFile holds an htmlfile GET open: it writes the preamble, then
// each batch of packets as <script>_("payload");</script>, flushed at
// once, until ctx ends, the session closes or a write does not complete
// within writeTimeout (zero means DefaultWriteTimeout). It tells the
// session (Hold) when what it took is written.
func ServeHTMLFile(ctx context.Context, w http.ResponseWriter, sess Session, writeTimeout time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if writeBounded(w, rc, writeTimeout, []byte(htmlfilePreamble), true) != nil {
		return
	}
	var buf []byte
	for {
		pkts, closed := sess.Take(ctx)
		if len(pkts) > 0 {
			buf = append(buf[:0], "<script>_("...)
			buf = AppendScriptString(buf, packet.AppendPayload(nil, pkts))
			buf = append(buf, ");</script>"...)
			err := writeBounded(w, rc, writeTimeout, buf, true)
			sess.Hold(-PacketBytes(pkts))
			if err != nil {
				return
			}
		}
		if closed || ctx.Err() != nil {
			return
		}
	}
}
