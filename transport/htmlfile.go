package transport

import (
	"context"
	"net/http"
	"strings"

	"github.com/siogo/siogo/packet"
)

// htmlfilePreamble starts the htmlfile document: the callback the client's
// iframe calls, then padding so that browsers start rendering (and running
// scripts) at once.
var htmlfilePreamble = "<html><body><script>var _ = function (msg) { parent.s._(msg, document); };</script>" +
	strings.Repeat(" ", 173)

// ServeHTMLFile holds an htmlfile GET open: it writes the preamble, then
// each batch of packets as <script>_("payload");</script>, flushed at
// once, until ctx ends or the session closes.
func ServeHTMLFile(ctx context.Context, w http.ResponseWriter, sess Session) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=UTF-8")
	h.Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if _, err := w.Write([]byte(htmlfilePreamble)); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	var buf []byte
	for {
		pkts, closed := sess.Take(ctx)
		if len(pkts) > 0 {
			buf = append(buf[:0], "<script>_("...)
			buf = AppendScriptString(buf, packet.AppendPayload(nil, pkts))
			buf = append(buf, ");</script>"...)
			if _, err := w.Write(buf); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		}
		if closed || ctx.Err() != nil {
			return
		}
	}
}
