package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/siogo/siogo/packet"
)

// Errors from reading a client's POST.
var (
	ErrBodyTooLarge = errors.New("transport: request body too large")
	ErrBadJSONP     = errors.New("transport: malformed jsonp-polling post")
)

// ReadPost reads the payload of a polling or htmlfile POST. For
// jsonp-polling the body is a form whose field d holds the payload as a
// JSON string; the others send the payload as the body.
func ReadPost(r *http.Request, name string, maxBytes int64) (string, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
	if err != nil {
		return "", fmt.Errorf("transport: reading body: %w", err)
	}
	if int64(len(body)) > maxBytes {
		return "", ErrBodyTooLarge
	}
	if name != JSONPPolling {
		return string(body), nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadJSONP, err)
	}
	d, ok := form["d"]
	if !ok || len(d) != 1 {
		return "", fmt.Errorf("%w: no d field", ErrBadJSONP)
	}
	var payload string
	if err := json.Unmarshal([]byte(d[0]), &payload); err != nil {
		return "", fmt.Errorf("%w: d is not a JSON string", ErrBadJSONP)
	}
	return payload, nil
}

// WritePostOK answers an accepted POST the way the reference does.
func WritePostOK(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", "1")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "1")
}

// JSONPIndex returns the callback index of a jsonp request (?i=N), or
// "0". Only digits are accepted, so the index cannot inject script.
func JSONPIndex(r *http.Request) string {
	i, _ := QueryValue(r.URL.RawQuery, "i")
	if i == "" || len(i) > 10 {
		return "0"
	}
	if _, err := strconv.ParseUint(i, 10, 32); err != nil {
		return "0"
	}
	return i
}

// WritePoll answers a polling GET with the packets (a noop when there are
// none), framed as one payload, giving up when the client does not take
// the answer within writeTimeout (zero means DefaultWriteTimeout).
func WritePoll(w http.ResponseWriter, r *http.Request, name string, packets [][]byte, writeTimeout time.Duration) {
	var payload []byte
	if len(packets) == 0 {
		payload = []byte("8::")
	} else {
		payload = packet.AppendPayload(nil, packets)
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache, no-store")
	if name == JSONPPolling {
		out := make([]byte, 0, len(payload)+32)
		out = append(out, "io.j["...)
		out = append(out, JSONPIndex(r)...)
		out = append(out, "]("...)
		out = AppendScriptString(out, payload)
		out = append(out, ");"...)
		h.Set("Content-Type", "text/javascript; charset=UTF-8")
		h.Set("X-XSS-Protection", "0")
		h.Set("Content-Length", strconv.Itoa(len(out)))
		_ = writeBounded(w, http.NewResponseController(w), writeTimeout, out, false)
		return
	}
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(payload)))
	_ = writeBounded(w, http.NewResponseController(w), writeTimeout, payload, false)
}
