package socketio

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// newHandshake makes the Handshake of request r. With lazy set (nobody
// needs the Handshake yet), its Headers and Query are
// left out when that can be done losslessly, and the headers are returned
// as name, value pairs (non-nil) for the session to fill both in when the
// Handshake is first asked for (fillHandshake): two maps cost about 1 KB
// per session, and most sessions are never asked.
func newHandshake(r *http.Request, origin string, lazy bool) (hs *Handshake, header []string) {
	hs = &Handshake{
		Address: r.RemoteAddr,
		Time:    time.Now(),
		XDomain: origin != "",
		Secure:  r.TLS != nil,
		URL:     r.URL.RequestURI(),
	}
	// The query is parsed from hs.URL's copy of it, so that the values,
	// which may be substrings, keep no other string alive (such as the
	// request line).
	query, ok := rawQuery(hs.URL), true
	if query != r.URL.RawQuery {
		query, ok = r.URL.RawQuery, false
	}
	if lazy && ok {
		if header, ok := headerPairs(r.Header); ok {
			return hs, header
		}
	}
	hs.Headers = r.Header.Clone()
	hs.Query, _ = url.ParseQuery(query) // as URL.Query does
	return hs, nil
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
