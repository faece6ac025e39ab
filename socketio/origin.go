package socketio

import (
	"net/url"
	"strings"
)

// normalizeOrigin turns "HTTP://Example.com" into "http://example.com:80".
// It returns "" for anything that is not an absolute http(s) origin.
func normalizeOrigin(o string) string {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http", "ws":
			port = "80"
		case "https", "wss":
			port = "443"
		default:
			return ""
		}
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// originChecker matches origins exactly (scheme, host and port); an empty
// list allows everything.
type originChecker struct {
	any     bool
	allowed map[string]struct{}
}

func newOriginChecker(list []string) originChecker {
	if len(list) == 0 {
		return originChecker{any: true}
	}
	oc := originChecker{allowed: make(map[string]struct{}, len(list))}
	for _, o := range list {
		if o == "*" {
			return originChecker{any: true}
		}
		if n := normalizeOrigin(o); n != "" {
			oc.allowed[n] = struct{}{}
		}
	}
	return oc
}

// allows reports whether a request with this Origin header may proceed.
// A missing Origin is allowed (not a cross-origin browser request).
func (oc originChecker) allows(origin string) bool {
	if oc.any || origin == "" {
		return true
	}
	_, ok := oc.allowed[normalizeOrigin(origin)]
	return ok
}
