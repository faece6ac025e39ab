package socketio

import (
	"net"
	"sync"
	"time"
)

// addrLimiter allows each remote address a number of handshakes per
// second (a token bucket per address, burst equal to the rate). mu guards
// the buckets; idle buckets are pruned as the map is used.
type addrLimiter struct {
	rate float64

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastPrune time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newAddrLimiter(perSecond int) *addrLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &addrLimiter{rate: float64(perSecond), buckets: make(map[string]*bucket)}
}

// allow reports whether a handshake from remoteAddr ("host:port") may
// proceed now. A nil limiter allows everything.
func (l *addrLimiter) allow(remoteAddr string, now time.Time) bool {
	if l == nil {
		return true
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastPrune) > 10*time.Second {
		for k, b := range l.buckets {
			if now.Sub(b.last) > 10*time.Second {
				delete(l.buckets, k)
			}
		}
		l.lastPrune = now
	}
	b := l.buckets[host]
	if b == nil {
		b = &bucket{tokens: l.rate, last: now}
		l.buckets[host] = b
	}
	b.tokens = min(l.rate, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
