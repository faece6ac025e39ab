package socketio

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// errHandshakeURLTooLong refuses a handshake whose URL is longer than
// Config.MaxHandshakeBytes.
var errHandshakeURLTooLong = errors.New("handshake URL too long")

// newHandshake makes the Handshake of request r, keeping at most maxBytes
// of its URL (else errHandshakeURLTooLong) and of its headers (the names
// of the headers left out are returned in dropped; see packHeader).
//
// With lazy set (nobody needs the Handshake yet), its Headers and Query
// are left out when that can be done losslessly, and the headers are
// returned as name, value pairs (non-nil) for the session to fill both in
// when the Handshake is first asked for (fillHandshake): two maps cost
// about 1 KB per session, and most sessions are never asked.
func newHandshake(r *http.Request, origin string, lazy bool, maxBytes int) (hs *Handshake, header, dropped []string, err error) {
	uri := r.URL.RequestURI()
	if len(uri) > maxBytes {
		return nil, nil, nil, errHandshakeURLTooLong
	}
	hs = &Handshake{
		Address: r.RemoteAddr,
		Time:    time.Now(),
		XDomain: origin != "",
		Secure:  r.TLS != nil,
		URL:     uri,
	}
	kept, dropped := packHeader(r.Header, maxBytes)
	// The query is parsed from hs.URL's copy of it, so that the values,
	// which may be substrings, keep no other string alive (such as the
	// request line).
	query, ok := rawQuery(hs.URL), true
	if query != r.URL.RawQuery {
		query, ok = r.URL.RawQuery, false
	}
	if lazy && ok {
		if header, ok := headerPairs(kept); ok {
			return hs, header, dropped, nil
		}
	}
	hs.Headers = kept.Clone()
	hs.Query, _ = url.ParseQuery(query) // as URL.Query does
	return hs, nil, dropped, nil
}

// keptFirst lists the headers a Handshake keeps first when the request's
// headers do not all fit in Config.MaxHandshakeBytes: those an Authorize
// function or a handler is most likely to need (credentials, the client's
// address behind proxies, where it comes from, what it is).
var keptFirst = [...]string{
	"Cookie", "Authorization",
	"X-Forwarded-For", "X-Real-Ip", "Forwarded", "X-Forwarded-Proto", "X-Forwarded-Host",
	"Origin", "Referer", "User-Agent", "Accept-Language",
}

// headerSize is the size of header name's lines as sent: "Name: value"
// and CRLF for each value (one line for a name without values).
func headerSize(name string, values []string) int {
	if len(values) == 0 {
		return len(name) + 4
	}
	n := 0
	for _, v := range values {
		n += len(name) + len(v) + 4
	}
	return n
}

// packHeader returns the headers of h a Handshake keeps within maxBytes
// (counted by headerSize): h itself when they all fit; otherwise a new
// Header of whole headers (sharing h's values), taken while they fit,
// first in the order of keptFirst then by name, and the names of those
// left out, in that order.
func packHeader(h http.Header, maxBytes int) (kept http.Header, dropped []string) {
	total := 0
	for k, vv := range h {
		total += headerSize(k, vv)
	}
	if total <= maxBytes {
		return h, nil
	}
	rest := make([]string, 0, len(h))
	for k := range h {
		if !slices.Contains(keptFirst[:], k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	kept = make(http.Header)
	left := maxBytes
	take := func(k string) {
		vv, ok := h[k]
		if !ok {
			return
		}
		if n := headerSize(k, vv); n <= left {
			kept[k] = vv
			left -= n
			return
		}
		dropped = append(dropped, k)
	}
	for _, k := range keptFirst {
		take(k)
	}
	for _, k := range rest {
		take(k)
	}
	return kept, dropped
}

// sameHandshake reports whether full is still what filling in the compact
// hs (with its header pairs) gives.
func sameHandshake(full, hs *Handshake, header []string) bool {
	if full.Address != hs.Address || !full.Time.Equal(hs.Time) || full.XDomain != hs.XDomain ||
		full.Secure != hs.Secure || full.URL != hs.URL {
		return false
	}
	want := &Handshake{URL: hs.URL}
	fillHandshake(want, header)
	return sameValues(full.Headers, want.Headers) && sameValues(full.Query, want.Query)
}

// sameValues compares two http.Header or url.Values maps (nil and empty
// differ).
func sameValues(a, b map[string][]string) bool {
	return (a == nil) == (b == nil) && maps.EqualFunc(a, b, slices.Equal[[]string])
}

// fillHandshake fills in the Headers and Query newHandshake left out of
// hs, from the header pairs it returned.
func fillHandshake(hs *Handshake, header []string) {
	hs.Headers = headerFromPairs(header)
	hs.Query, _ = url.ParseQuery(rawQuery(hs.URL)) // as URL.Query does
}

// rawQuery returns the query of a request URI (URL.RequestURI: the path
// or opaque part, escaped, so without '?', then '?' and the raw query).
func rawQuery(uri string) string {
	_, q, _ := strings.Cut(uri, "?")
	return q
}

// headerPairs flattens h into name, value pairs, the values of one name
// together and in order; the pairs are non-nil even when empty. It
// reports false for a nil h or a name without values, which the pairs
// cannot represent.
func headerPairs(h http.Header) ([]string, bool) {
	if h == nil {
		return nil, false
	}
	n := 0
	for _, vv := range h {
		if len(vv) == 0 {
			return nil, false
		}
		n += 2 * len(vv)
	}
	pairs := make([]string, 0, n)
	for k, vv := range h {
		for _, v := range vv {
			pairs = append(pairs, k, v)
		}
	}
	return pairs, true
}

// headerFromPairs is the inverse of headerPairs, shaped as Header.Clone
// shapes its copy: the values share one array, each name's capped.
func headerFromPairs(pairs []string) http.Header {
	keys := 0
	for i := 0; i < len(pairs); i += 2 {
		if i == 0 || pairs[i] != pairs[i-2] {
			keys++
		}
	}
	h := make(http.Header, keys)
	values := make([]string, len(pairs)/2)
	for i := 0; i < len(pairs); {
		k, start := pairs[i], i/2
		for ; i < len(pairs) && pairs[i] == k; i += 2 {
			values[i/2] = pairs[i+1]
		}
		h[k] = values[start : i/2 : i/2]
	}
	return h
}
