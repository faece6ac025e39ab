package transport

import (
	"net/url"
	"strings"
)

// queryScanMax is the number of '&' from which QueryValue leaves the work
// to url.ParseQuery, which refuses queries of too many pairs altogether
// (its limit, 10,000 by default, can be changed with GODEBUG).
const queryScanMax = 1000

// QueryValue returns the first value of name in the raw query string raw
// and whether raw has one: what url.ParseQuery(raw) then Values.Get(name)
// and Values.Has(name) give (pairs with a ';' or a bad escape are
// skipped), without making the map. It allocates only for an escaped
// name or value; the value may be a substring of raw.
//
// A request's handling asks for a few parameters (EIO, transport, sid,
// b64...); parsing the whole query for each cost a map and a slice per
// pair every time.
func QueryValue(raw, name string) (value string, ok bool) {
	if strings.Count(raw, "&") >= queryScanMax {
		q, _ := url.ParseQuery(raw)
		if v, ok := q[name]; ok {
			return v[0], true
		}
		return "", false
	}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			uk, err := url.QueryUnescape(k)
			if err != nil {
				continue
			}
			k = uk
		}
		if k != name {
			continue
		}
		uv, err := url.QueryUnescape(v) // v itself when nothing is escaped
		if err != nil {
			continue
		}
		return uv, true
	}
	return "", false
}
