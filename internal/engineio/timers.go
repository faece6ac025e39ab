package engineio

import (
	"container/heap"
	"sync"
	"time"
)

// timers calls each session's onTimer when its next deadline comes, with
// one runtime timer per Server (a time.Timer per session would cost each
// one its own runtime timer and, with AfterFunc, a goroutine when it
// fires). Sessions wait in a min-heap by deadline; when the timer fires,
// the sessions due leave the heap and each gets its onTimer on a
// goroutine of its own. A session asks for its earliest deadline only: a
// deadline that moves later costs nothing until the earlier wake-up, when
// onTimer finds nothing due and asks again.
//
// mu guards every field, and each Conn's timerAt and timerIndex. Lock
// order: a Conn's mu, then timers.mu; onTimer is called without holding
// timers.mu.
type timers struct {
	start time.Time // the clock's origin (monotonic)

	mu    sync.Mutex
	queue connHeap
	timer *time.Timer   // made on first use; fires at at
	at    time.Duration // when timer fires; zero: stopped
}

// now is the clock: the time since start, never zero.
func (t *timers) now() time.Duration { return time.Since(t.start) + 1 }

// schedule makes c's onTimer run at the latest at at (clock time). A
// session already due earlier keeps its place.
func (t *timers) schedule(c *Conn, at time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case c.timerIndex < 0:
		c.timerAt = at
		heap.Push(&t.queue, c)
	case at < c.timerAt:
		c.timerAt = at
		heap.Fix(&t.queue, int(c.timerIndex))
	default:
		return
	}
	if t.at == 0 || at < t.at {
		t.armLocked()
	}
}

// remove takes c out of the queue (its onTimer will not be called, unless
// it is already due).
func (t *timers) remove(c *Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.timerIndex >= 0 {
		heap.Remove(&t.queue, int(c.timerIndex))
	}
	if len(t.queue) == 0 && t.timer != nil {
		t.timer.Stop()
		t.at = 0
	}
}

// armLocked makes the timer fire at the first session's deadline.
func (t *timers) armLocked() {
	t.at = t.queue[0].timerAt
	d := t.at - t.now()
	if t.timer == nil {
		t.timer = time.AfterFunc(d, t.fire)
		return
	}
	t.timer.Reset(d)
}

// fire runs when the timer does: the sessions due leave the queue and are
// told.
func (t *timers) fire() {
	t.mu.Lock()
	now := t.now()
	var due []*Conn
	for len(t.queue) > 0 && t.queue[0].timerAt <= now {
		due = append(due, heap.Pop(&t.queue).(*Conn))
	}
	t.at = 0
	if len(t.queue) > 0 {
		t.armLocked()
	}
	t.mu.Unlock()
	for _, c := range due {
		go c.onTimer()
	}
}

// connHeap orders sessions by timerAt (container/heap).
type connHeap []*Conn

func (h connHeap) Len() int           { return len(h) }
func (h connHeap) Less(i, j int) bool { return h[i].timerAt < h[j].timerAt }
func (h connHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].timerIndex = int32(i)
	h[j].timerIndex = int32(j)
}

func (h *connHeap) Push(x any) {
	c := x.(*Conn)
	c.timerIndex = int32(len(*h))
	*h = append(*h, c)
}

func (h *connHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.timerIndex = -1
	return c
}
