package socketio

import (
	"container/heap"
	"sync"
	"time"
)

// timers calls each session's onTimer when its next deadline comes, with
// one runtime timer for the whole server: a time.Timer per session would
// cost each about 150 bytes. Sessions wait in a min-heap by deadline; when
// the timer fires, the sessions due leave the heap and each gets its
// onTimer on a goroutine of its own, as with time.AfterFunc.
//
// mu guards every field, and each session's timerQueued and timerIndex.
// Lock order: a session's mu, then timers.mu; onTimer is called without
// holding timers.mu.
type timers struct {
	clock func() time.Duration

	mu    sync.Mutex
	queue sessionHeap
	timer *time.Timer   // made on first use; fires at at
	at    time.Duration // when timer fires; zero: stopped
}

// schedule makes s's onTimer run at the latest at at (clock time). A
// session already due earlier keeps its place.
func (t *timers) schedule(s *session, at time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case s.timerIndex < 0:
		s.timerQueued = at
		heap.Push(&t.queue, s)
	case at < s.timerQueued:
		s.timerQueued = at
		heap.Fix(&t.queue, int(s.timerIndex))
	default:
		return
	}
	if t.at == 0 || at < t.at {
		t.armLocked()
	}
}

// remove takes s out of the queue (its onTimer will not be called, unless
// it is already due).
func (t *timers) remove(s *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.timerIndex >= 0 {
		heap.Remove(&t.queue, int(s.timerIndex))
	}
	if len(t.queue) == 0 && t.timer != nil {
		t.timer.Stop()
		t.at = 0
	}
}

// armLocked makes the timer fire at the first session's deadline.
func (t *timers) armLocked() {
	t.at = t.queue[0].timerQueued
	d := t.at - t.clock()
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
	now := t.clock()
	var due []*session
	for len(t.queue) > 0 && t.queue[0].timerQueued <= now {
		due = append(due, heap.Pop(&t.queue).(*session))
	}
	t.at = 0
	if len(t.queue) > 0 {
		t.armLocked()
	}
	t.mu.Unlock()
	for _, s := range due {
		go s.onTimer()
	}
}

// sessionHeap orders sessions by timerQueued (container/heap).
type sessionHeap []*session

func (h sessionHeap) Len() int           { return len(h) }
func (h sessionHeap) Less(i, j int) bool { return h[i].timerQueued < h[j].timerQueued }
func (h sessionHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].timerIndex = int32(i)
	h[j].timerIndex = int32(j)
}

func (h *sessionHeap) Push(x any) {
	s := x.(*session)
	s.timerIndex = int32(len(*h))
	*h = append(*h, s)
}

func (h *sessionHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	s.timerIndex = -1
	return s
}
