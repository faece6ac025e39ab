package engineio

import (
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/siogo/siogo/internal/eioparser"
	"github.com/siogo/siogo/internal/lazylog"
	"github.com/siogo/siogo/internal/transport"
)

// probeGrace is how long a poll that came while an upgrade was in flight
// waits, once the probe is answered, for the upgrade packet before it
// gets a noop. A client pauses polling once its probe is answered, and
// the poll it had under way when it opened the probe gets the noop at
// once; a poll that comes later is likely one that raced the client's
// upgrade packet (the server reads the two connections concurrently) and
// is refused (400) if the upgrade comes within the grace, as a
// single-threaded Node.js server that read the upgrade packet first
// refuses it.
const probeGrace = 100 * time.Millisecond

// servePoll serves a polling GET: it waits until packets are queued (or
// the session ends, or an upgrade needs the poll to end) and answers them
// as one payload. A second GET while one waits ends the session (as
// Node.js engine.io does): the waiting one gets a close packet, the
// second a 400. A client that drops a waiting GET ends the session too.
func (c *Conn) servePoll(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.pollActive {
		c.mu.Unlock()
		c.logAt(slog.LevelDebug, "closing: overlapping polls")
		c.closeNow(ReasonTransportError, pktClose)
		c.srv.abort(w, r, codeBadRequest)
		return
	}
	if c.closed {
		c.mu.Unlock()
		c.srv.abort(w, r, codeUnknownSID)
		return
	}
	c.pollActive = true
	if c.pollWake == nil {
		c.pollWake = make(chan struct{}, 1)
	}
	pollWake := c.pollWake
	select { // a token left from before this poll
	case <-pollWake:
	default:
	}
	var (
		pkts   [][]byte
		held   int
		ending bool // the packets end a closing session
		// The poll came while an upgrade is in flight: it may race the
		// probe and the upgrade packet (see probeGrace).
		late  = c.probe != nil || c.ws != nil // (upgraded since ServeHTTP looked)
		grace <-chan time.Time
	)
	for {
		if c.closed {
			if c.pollFinal != 0 {
				pkts = [][]byte{{c.pollFinal}}
			}
			break
		}
		if c.ws != nil { // upgraded while waiting
			if late {
				c.pollActive = false
				c.mu.Unlock()
				c.srv.abort(w, r, codeBadRequest)
				return
			}
			pkts = [][]byte{pktNoop}
			break
		}
		if len(c.queue) > 0 {
			pkts, held = c.queue, c.queuedBytes
			c.queue, c.queuedBytes = nil, 0
			c.held += held
			ending = c.closing
			break
		}
		if c.probe != nil && c.probe.probed {
			// The client pauses polling to finish its upgrade: a noop ends
			// the poll. A late poll waits up to probeGrace for the upgrade
			// packet first, to be refused as after the upgrade if it comes.
			if !late {
				pkts = [][]byte{pktNoop}
				break
			}
			if grace == nil {
				t := time.NewTimer(probeGrace)
				defer t.Stop()
				grace = t.C
			}
		}
		c.mu.Unlock()
		select {
		case <-grace:
			c.mu.Lock()
			late = false // an ordinary poll now
		case <-pollWake:
			c.mu.Lock()
		case <-r.Context().Done():
			c.mu.Lock()
			c.pollActive = false
			c.mu.Unlock()
			c.logAt(slog.LevelDebug, "closing: poll connection closed prematurely")
			c.closeNow(ReasonTransportError, nil)
			return
		}
	}
	c.pollActive = false
	c.mu.Unlock()

	var body []byte
	contentType := "text/plain; charset=UTF-8"
	if c.proto == 3 {
		body, contentType = pollAnswerV3(pkts, c.b64, jsonpIndex(r))
	} else {
		body = appendPayload(nil, pkts)
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	err := writeBody(w, c.srv.cfg.WriteTimeout, body)
	if held != 0 {
		c.mu.Lock()
		c.held -= held
		c.mu.Unlock()
	}
	switch {
	case ending:
		c.closeNow(ReasonForcedClose, nil)
	case err != nil:
		c.logAt(slog.LevelDebug, "closing: poll write failed", "err", err)
		c.closeNow(ReasonTransportError, nil)
	}
}

// appendPayload appends the polling payload of pkts (transport form) to
// dst: the packets joined by 0x1E, a binary one as 'b' and base64.
func appendPayload(dst []byte, pkts [][]byte) []byte {
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, 0x1e)
		}
		if len(p) > 0 && p[0] == transport.BinaryMark {
			dst = append(dst, 'b')
			dst = base64.StdEncoding.AppendEncode(dst, p[1:])
			continue
		}
		dst = append(dst, p...)
	}
	return dst
}

// writeBody writes a whole response body, bounded by timeout.
func writeBody(w http.ResponseWriter, timeout time.Duration, body []byte) error {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(timeout))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		return err
	}
	return rc.Flush()
}

// serveData serves a polling POST: the payload's packets, in order. A
// body over MaxPayload (or maxPostPackets) is answered 413 (the session stays, as with
// Node.js engine.io); a payload that does not decode ends the session
// (parse error, 400); a POST while another is read ends it too (400).
// Else the answer is 200 "ok".
func (c *Conn) serveData(w http.ResponseWriter, r *http.Request) {
	contentType := r.Header.Get("Content-Type")
	jsonp := c.proto == 3 && queryFlag(r, "j")
	if c.proto == 4 && contentType == "application/octet-stream" {
		// Engine.IO v4 payloads are text.
		c.logAt(slog.LevelDebug, "closing: binary polling payload")
		c.closeNow(ReasonTransportError, pktClose)
		c.srv.abort(w, r, codeBadRequest)
		return
	}
	c.mu.Lock()
	if c.postActive {
		c.mu.Unlock()
		c.logAt(slog.LevelDebug, "closing: overlapping POSTs")
		c.closeNow(ReasonTransportError, pktClose)
		c.srv.abort(w, r, codeBadRequest)
		return
	}
	c.postActive = true
	c.mu.Unlock()
	// The POST stops being active before its answer goes out: a client
	// that gets "ok" sends its next POST at once, which may be read
	// before this handler would get to run a deferred reset.
	done := false
	endPost := func() {
		if !done {
			done = true
			c.mu.Lock()
			c.postActive = false
			c.mu.Unlock()
		}
	}
	defer endPost()

	max := c.srv.cfg.MaxPayload
	if r.ContentLength > max {
		endPost()
		tooLarge(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			endPost()
			tooLarge(w)
			return
		}
		c.logAt(slog.LevelDebug, "closing: POST read failed", "err", err)
		c.closeNow(ReasonTransportError, pktClose)
		return
	}
	lim := eioparser.Limits{MaxBytes: int(max), MaxPackets: maxPostPackets}
	var pkts []eioparser.Packet
	if c.proto == 3 {
		pkts, err = decodePostV3(body, contentType, jsonp, lim)
		if errors.Is(err, errNoJSONPData) {
			// Node.js engine.io ignores such a body and answers "ok".
			pkts, err = nil, nil
		}
	} else {
		pkts, err = eioparser.DecodePayload(body, lim)
	}
	if err != nil {
		if errors.Is(err, eioparser.ErrTooLarge) {
			endPost()
			tooLarge(w)
			return
		}
		c.logAt(slog.LevelDebug, "bad payload", "payload", lazylog.Client(string(body)))
		c.onBadPacket(err)
		c.srv.abort(w, r, codeBadRequest)
		return
	}
	for _, p := range pkts {
		if p.Type == eioparser.Close {
			c.awaitPoll()
		}
		if !c.onPacket(p) {
			break
		}
	}
	endPost()
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	_ = writeBody(w, c.srv.cfg.WriteTimeout, []byte("ok"))
}

// maxPostPackets bounds the packets of one POST (more: 413), so that a
// body of separators cannot make the decoder allocate some 40 bytes of
// packet per 2 bytes of body. Node.js engine.io has no such bound; a
// client would need a 100,000-message burst in one POST to meet it.
const maxPostPackets = 100_000

// tooLarge answers a POST over MaxPayload.
func tooLarge(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
}

// closeGrace bounds how long a POSTed close packet waits for a poll when
// none is waiting (see awaitPoll).
const closeGrace = 50 * time.Millisecond

// awaitPoll waits, up to closeGrace, until a GET is waiting: a client
// that closes its session while a poll is on its way expects the poll to
// be answered (with a noop), not refused because the session has gone,
// as a single-threaded Node.js server that reads the GET first does.
func (c *Conn) awaitPoll() {
	for deadline := time.Now().Add(closeGrace); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		waiting := c.pollActive || c.closed
		c.mu.Unlock()
		if waiting {
			return
		}
	}
}
