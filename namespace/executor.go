package namespace

import (
	"context"
	"sync"
)

// executor runs the handlers of one socket one at a time, in arrival order,
// on a goroutine that exists only while there is work: an idle socket costs
// no goroutine. When more than limit tasks wait, submit blocks the caller
// (the session's reader), which pushes back on the client instead of
// buffering without bound.
//
// mu guards every field.
type executor struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []func()
	running bool
	limit   int
	run     func(func())    // wraps each task (panic recovery)
	idle    []chan struct{} // closed when nothing is queued or running
}

func newExecutor(limit int, run func(func())) *executor {
	e := &executor{limit: limit, run: run}
	e.cond = sync.NewCond(&e.mu)
	return e
}

// submit queues task. It blocks while the queue is full.
func (e *executor) submit(task func()) { e.enqueue(task, true) }

// submitNow queues task even when the queue is full. It is for work that
// must not wait — the disconnect hooks, which may be queued from the
// executor's own goroutine (a handler kicking its socket), where waiting
// for room would wait forever.
func (e *executor) submitNow(task func()) { e.enqueue(task, false) }

func (e *executor) enqueue(task func(), wait bool) {
	e.mu.Lock()
	for wait && e.limit > 0 && len(e.queue) >= e.limit {
		e.cond.Wait()
	}
	e.queue = append(e.queue, task)
	if !e.running {
		e.running = true
		go e.loop()
	}
	e.mu.Unlock()
}

func (e *executor) loop() {
	for {
		e.mu.Lock()
		if len(e.queue) == 0 {
			e.running = false
			e.queue = nil
			for _, ch := range e.idle {
				close(ch)
			}
			e.idle = nil
			e.mu.Unlock()
			return
		}
		task := e.queue[0]
		e.queue[0] = nil
		e.queue = e.queue[1:]
		e.cond.Broadcast()
		e.mu.Unlock()
		e.run(task)
	}
}

// wait returns when no task is queued or running, or ctx ends.
func (e *executor) wait(ctx context.Context) error {
	e.mu.Lock()
	if !e.running {
		e.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	e.idle = append(e.idle, ch)
	e.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
