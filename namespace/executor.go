package namespace

import "sync"

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
	run     func(func()) // wraps each task (panic recovery)
}

func newExecutor(limit int, run func(func())) *executor {
	e := &executor{limit: limit, run: run}
	e.cond = sync.NewCond(&e.mu)
	return e
}

// submit queues task. It blocks while the queue is full.
func (e *executor) submit(task func()) {
	e.mu.Lock()
	for e.limit > 0 && len(e.queue) >= e.limit {
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
