package sioredis

import (
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// backoff spaces reconnection attempts: minBackoff doubling up to
// maxBackoff, with ±20 % jitter so that nodes do not reconnect in step.
type backoff struct {
	cur  time.Duration
	next time.Time // no attempt before this
}

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// ready reports whether an attempt may be made now.
func (b *backoff) ready(now time.Time) bool { return !now.Before(b.next) }

// fail records a failed attempt and returns the wait before the next.
func (b *backoff) fail(now time.Time) time.Duration {
	if b.cur == 0 {
		b.cur = minBackoff
	} else {
		b.cur = min(2*b.cur, maxBackoff)
	}
	d := time.Duration(float64(b.cur) * (0.8 + 0.4*rand.Float64()))
	b.next = now.Add(d)
	return d
}

// reset records a success.
func (b *backoff) reset() { b.cur, b.next = 0, time.Time{} }

// failing reports whether the last attempt failed.
func (b *backoff) failing() bool { return b.cur != 0 }

// warnInterval is the least time between two warnings of one kind.
const warnInterval = 5 * time.Second

// rateLog logs a warning of each kind at most once per warnInterval and
// says how many were suppressed in between.
type rateLog struct {
	log *slog.Logger

	mu   sync.Mutex
	last map[string]time.Time
	held map[string]int
}

func newRateLog(log *slog.Logger) *rateLog {
	return &rateLog{log: log, last: make(map[string]time.Time), held: make(map[string]int)}
}

func (r *rateLog) warn(kind, msg string, args ...any) {
	now := time.Now()
	r.mu.Lock()
	if t, ok := r.last[kind]; ok && now.Sub(t) < warnInterval {
		r.held[kind]++
		r.mu.Unlock()
		return
	}
	r.last[kind] = now
	held := r.held[kind]
	r.held[kind] = 0
	r.mu.Unlock()
	if held > 0 {
		args = append(args, "suppressed", held)
	}
	r.log.Warn(msg, args...)
}

// reset lets the next warning of kind through at once (after a recovery).
func (r *rateLog) reset(kind string) {
	r.mu.Lock()
	delete(r.last, kind)
	r.held[kind] = 0
	r.mu.Unlock()
}

// clipLen bounds the strings from Redis or clients that go into logs.
const clipLen = 64

// clip shortens s for a log line.
func clip(s string) string {
	if len(s) <= clipLen {
		return s
	}
	return s[:clipLen] + "…"
}
