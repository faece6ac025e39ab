// Package linger runs pieces of work on goroutines that, once done, wait a
// little for more before they end. A busy process then does not start a
// goroutine, and grow its stack again, per piece of work, and an idle one
// has none of these goroutines.
package linger

import "time"

// Goroutines runs Run(v) for each v given to Go, each on a goroutine of its
// own: one that finished a piece of work less than Linger ago and is
// waiting for another, or a new one. It is safe for concurrent use; make it
// with New.
type Goroutines[T any] struct {
	linger time.Duration
	run    func(T)
	idle   chan T // unbuffered: a hand-off to a waiting goroutine only
}

// New returns Goroutines that run run and linger for linger.
func New[T any](linger time.Duration, run func(T)) *Goroutines[T] {
	return &Goroutines[T]{linger: linger, run: run, idle: make(chan T)}
}

// Go runs run(v) on a waiting goroutine, or on a new one. It does not wait
// for run to return.
func (g *Goroutines[T]) Go(v T) {
	select {
	case g.idle <- v:
	default:
		go g.loop(v)
	}
}

func (g *Goroutines[T]) loop(v T) {
	var t *time.Timer
	for {
		g.run(v)
		if t == nil {
			t = time.NewTimer(g.linger)
		} else {
			t.Reset(g.linger)
		}
		select {
		case v = <-g.idle:
			t.Stop()
		case <-t.C:
			return
		}
	}
}
