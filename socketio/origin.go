package socketio

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// normalizeOrigin turns "HTTP://Example.com" into "http://example.com:80".
// It returns "" for anything that is not an absolute http(s) (or ws(s))
// URL with a host. Only the scheme, host and port are kept, so a Referer
// ("https://example.com/page?q") normalises as its origin does.
func normalizeOrigin(o string) string {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || u.Hostname() == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	var port int
	switch scheme {
	case "http", "ws":
		port = 80
	case "https", "wss":
		port = 443
	default:
		return ""
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return ""
		}
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		ip := net.ParseIP(host) // an IPv6 literal (no zone: browsers send none)
		if ip == nil {
			return ""
		}
		host = ip.String()
	} else if !validHostName(host) {
		return ""
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// validHostName reports whether host (lower case) is made of the bytes an
// origin's ASCII host serialisation uses (DNS names, IPv4 addresses),
// so that escapes and odd bytes never make two spellings of one origin.
func validHostName(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// RequestOrigin returns the origin a browser request comes from, as
// "scheme://host:port" (lower case, default port filled in; IPv6 hosts in
// brackets): its Origin header if it has one, else the origin of its
// Referer. It returns "" when the header it uses is not an http(s) URL
// (an Origin of "null", say) or neither is present. This is what
// Config.AllowedOrigins is matched against; a Config.CheckOrigin policy
// may use it too.
func RequestOrigin(r *http.Request) string {
	if o, ok := r.Header["Origin"]; ok && len(o) > 0 {
		return normalizeOrigin(o[0])
	}
	return normalizeOrigin(r.Header.Get("Referer"))
}

// originPolicy decides which requests may handshake and use a session's
// transports: Config.CheckOrigin if set, else Config.AllowedOrigins
// matched exactly (scheme, host and port) against RequestOrigin; an empty
// list allows everything.
type originPolicy struct {
	any     bool
	allowed map[string]struct{}
	check   func(*http.Request) bool
}

func newOriginPolicy(list []string, check func(*http.Request) bool) originPolicy {
	if check != nil {
		return originPolicy{check: check}
	}
	if len(list) == 0 {
		return originPolicy{any: true}
	}
	p := originPolicy{allowed: make(map[string]struct{}, len(list))}
	for _, o := range list {
		if o == "*" {
			return originPolicy{any: true}
		}
		if n := normalizeOrigin(o); n != "" {
			p.allowed[n] = struct{}{}
		}
	}
	return p
}

// restricted reports whether some requests are refused: the answers then
// depend on the Referer as well as the Origin.
func (p originPolicy) restricted() bool { return !p.any }

// allows reports whether request r may proceed.
func (p originPolicy) allows(r *http.Request) bool {
	switch {
	case p.check != nil:
		return p.check(r)
	case p.any:
		return true
	}
	_, ok := p.allowed[RequestOrigin(r)] // "" is never in the map
	return ok
}
