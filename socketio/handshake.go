package socketio

import (
	"encoding/binary"
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
// returned packed in one string (non-empty; see headerPairs) for the
// session to fill both in when the Handshake is first asked for
// (fillHandshake): two maps cost about 1 KB per session, and most
// sessions are never asked.
func newHandshake(r *http.Request, origin string, lazy bool, maxBytes int) (hs *Handshake, header packedHeader, dropped []string, err error) {
	uri := r.URL.RequestURI()
	if len(uri) > maxBytes {
		return nil, "", nil, errHandshakeURLTooLong
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
	return hs, "", dropped, nil
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
// hs (with its packed header) gives.
func sameHandshake(full, hs *Handshake, header packedHeader) bool {
	if full.Address != hs.Address || !full.Time.Equal(hs.Time) || full.XDomain != hs.XDomain ||
		full.Secure != hs.Secure || full.URL != hs.URL {
		return false
	}
	if !samePacked(full.Headers, header) {
		return false
	}
	q, _ := url.ParseQuery(rawQuery(hs.URL))
	return sameValues(full.Query, q)
}

// samePacked reports whether h is what headerFromPairs(p) gives (as
// sameValues compares them), without making it.
func samePacked(h http.Header, p packedHeader) bool {
	if len(p) == 0 || p[0] != packedMark || h == nil {
		return false
	}
	keys := 0
	r := packedReader{s: string(p), i: 1}
	for r.i < len(r.s) {
		vv, ok := h[r.str()]
		c := r.uvarint()
		if r.bad || !ok || len(vv) != c {
			return false
		}
		for _, v := range vv {
			if r.str() != v {
				return false
			}
		}
		keys++
	}
	return !r.bad && keys == len(h)
}

// sameValues compares two http.Header or url.Values maps (nil and empty
// differ).
func sameValues(a, b map[string][]string) bool {
	return (a == nil) == (b == nil) && maps.EqualFunc(a, b, slices.Equal[[]string])
}

// fillHandshake fills in the Headers and Query newHandshake left out of
// hs, from the packed header it returned.
func fillHandshake(hs *Handshake, header packedHeader) {
	hs.Headers = headerFromPairs(header)
	hs.Query, _ = url.ParseQuery(rawQuery(hs.URL)) // as URL.Query does
}

// rawQuery returns the query of a request URI (URL.RequestURI: the path
// or opaque part, escaped, so without '?', then '?' and the raw query).
func rawQuery(uri string) string {
	_, q, _ := strings.Cut(uri, "?")
	return q
}

// packedHeader is a Header's names and values in one string (one
// allocation, a few bytes over the text itself, instead of a map, a
// slice per name and, from the request, a string per name and value):
// packedMark, then per name its length (uvarint) and bytes, its number
// of values (uvarint), and each value's length (uvarint) and bytes. ""
// is no header at all (the Handshake has its Headers).
type packedHeader string

// packedMark starts every packedHeader, so that an empty Header packs
// into a non-empty string.
const packedMark = '\x01'

// headerPairs packs h (see packedHeader), the values of one name together
// and in order; an empty h packs too. It reports false for a nil h or a
// name without values, which the packed form cannot represent.
func headerPairs(h http.Header) (packedHeader, bool) {
	if h == nil {
		return "", false
	}
	n := 1
	for k, vv := range h {
		if len(vv) == 0 {
			return "", false
		}
		n += uvarintLen(len(k)) + len(k) + uvarintLen(len(vv))
		for _, v := range vv {
			n += uvarintLen(len(v)) + len(v)
		}
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte(packedMark)
	var tmp [binary.MaxVarintLen64]byte
	put := func(x int) { b.Write(binary.AppendUvarint(tmp[:0], uint64(x))) }
	for k, vv := range h {
		put(len(k))
		b.WriteString(k)
		put(len(vv))
		for _, v := range vv {
			put(len(v))
			b.WriteString(v)
		}
	}
	return packedHeader(b.String()), true
}

// uvarintLen is the length of x as a uvarint.
func uvarintLen(x int) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// packedReader reads a packedHeader.
type packedReader struct {
	s   string
	i   int
	bad bool // p is malformed (only a bug could make one)
}

// uvarint reads a length, at most what is left.
func (r *packedReader) uvarint() int {
	var x uint64
	for shift := 0; r.i < len(r.s) && shift < 64; shift += 7 {
		b := r.s[r.i]
		r.i++
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			if x > uint64(len(r.s)-r.i) {
				break
			}
			return int(x)
		}
	}
	r.bad, r.i = true, len(r.s)
	return 0
}

// str reads a length and that many bytes.
func (r *packedReader) str() string {
	n := r.uvarint()
	v := r.s[r.i : r.i+n]
	r.i += n
	return v
}

// headerFromPairs is the inverse of headerPairs, shaped as Header.Clone
// shapes its copy: the values share one array, each name's capped. The
// names and values are substrings of p.
func headerFromPairs(p packedHeader) http.Header {
	if len(p) == 0 || p[0] != packedMark {
		return nil
	}
	// First the counts, then the copy.
	keys, n := 0, 0
	for r := (packedReader{s: string(p), i: 1}); r.i < len(r.s) && !r.bad; {
		r.str()
		c := r.uvarint()
		for range c {
			r.str()
		}
		keys++
		n += c
	}
	h := make(http.Header, keys)
	all := make([]string, 0, n)
	for r := (packedReader{s: string(p), i: 1}); r.i < len(r.s) && !r.bad; {
		name := r.str()
		c := r.uvarint()
		start := len(all)
		for range c {
			all = append(all, r.str())
		}
		h[name] = all[start:len(all):len(all)]
	}
	return h
}

// packedHandshakeMark starts a packedHeader that holds a whole Handshake
// but for its User (see compactHandshake).
const packedHandshakeMark = '\x02'

// compactHandshake returns what a session keeps of the Handshake hs and
// the packed header newHandshake made for it: hs and header themselves,
// or, when hs is compact (header non-empty) and has no User, no
// Handshake at all and hs's fields packed with the header in one string:
// packedHandshakeMark, the time (UnixNano, 8 bytes), the flags (XDomain
// 1, Secure 2), the address and the URL (each its length as a uvarint,
// then its bytes), then header. That spares every session the
// Handshake (96 bytes) and two strings until the Handshake is asked for
// (expandHandshake).
func compactHandshake(hs *Handshake, header packedHeader) (*Handshake, packedHeader) {
	if header == "" || hs.User != nil || hs.Headers != nil || hs.Query != nil {
		return hs, header
	}
	n := 1 + 8 + 1 + uvarintLen(len(hs.Address)) + len(hs.Address) + uvarintLen(len(hs.URL)) + len(hs.URL) + len(header)
	b := make([]byte, 0, n)
	b = append(b, packedHandshakeMark)
	b = binary.LittleEndian.AppendUint64(b, uint64(hs.Time.UnixNano()))
	var flags byte
	if hs.XDomain {
		flags |= 1
	}
	if hs.Secure {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(hs.Address)))
	b = append(b, hs.Address...)
	b = binary.AppendUvarint(b, uint64(len(hs.URL)))
	b = append(b, hs.URL...)
	b = append(b, header...)
	return nil, packedHeader(b)
}

// expandHandshake returns the whole Handshake of what compactHandshake
// kept: hs filled in from header (a packed header), or the Handshake
// header packs (a packed handshake; hs is nil then).
func expandHandshake(hs *Handshake, header packedHeader) *Handshake {
	if len(header) == 0 || header[0] != packedHandshakeMark {
		fillHandshake(hs, header)
		return hs
	}
	s := string(header)
	if len(s) < 10 {
		return &Handshake{} // only a bug could make one
	}
	hs = &Handshake{
		Time:    time.Unix(0, int64(binary.LittleEndian.Uint64([]byte(s[1:9])))),
		XDomain: s[9]&1 != 0,
		Secure:  s[9]&2 != 0,
	}
	r := packedReader{s: s, i: 10}
	hs.Address = r.str()
	hs.URL = r.str()
	fillHandshake(hs, header[r.i:])
	return hs
}
