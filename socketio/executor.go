package socketio

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/siogo/siogo/internal/linger"
)

// job is one unit of a socket's handler work: a client event to dispatch,
// or fn (a connect or disconnect hook, an ack callback, a message handler).
// An event is carried by value so that queuing it allocates nothing of its
// own.
type job struct {
	fn      func() // nil for an event
	name    string // the event's name
	args    []json.RawMessage
	id      uint64 // the event's message id, when hasID
	hasID   bool
	ackData bool     // the client asked for an ack with data ("5:1+::")
	att     [][]byte // the event's binary attachments (v5), to which placeholders in args refer
}

// executor runs the jobs of one socket one at a time, in arrival order, on
// a goroutine that runs it only while there is work (a runner: one that
// ran another socket's jobs lately, or a new one): an idle socket costs no
// goroutine, and nothing beyond the executor's fields, which live inside
// the Socket. When more than limit jobs wait, submit blocks the caller (the
// session's reader), which pushes back on the client instead of buffering
// without bound.
//
// sock and limit are set before first use and never change; mu guards
// every other field.
type executor struct {
	sock *Socket // runs each job (Socket.runJob: panic recovery); its namespace's MaxQueuedEvents bounds the queue

	mu      sync.Mutex
	queue   []job
	running bool
	closed  bool          // the final job is queued: later jobs are dropped
	space   chan struct{} // made by a blocked submitter; closed when a job leaves the queue
	idle    chan struct{} // made by wait; closed when nothing is queued or running
}

// submit queues j. It blocks while the queue is full.
func (e *executor) submit(j job) { e.enqueue(j, false) }

// submitFinal queues j as the last job: jobs submitted after it are
// dropped, so none runs after it. It does not wait for room: it is for the
// disconnect hooks, which may be queued from the executor's own goroutine
// (a handler kicking its socket), where waiting for room would wait
// forever.
func (e *executor) submitFinal(j job) { e.enqueue(j, true) }

func (e *executor) enqueue(j job, final bool) {
	e.mu.Lock()
	limit := e.sock.ns.opts.MaxQueuedEvents
	for !final && !e.closed && limit > 0 && len(e.queue) >= limit {
		if e.space == nil {
			e.space = make(chan struct{})
		}
		space := e.space
		e.mu.Unlock()
		<-space
		e.mu.Lock()
	}
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.queue = append(e.queue, j)
	e.closed = final
	if !e.running {
		e.running = true
		runners.Go(e)
	}
	e.mu.Unlock()
}

func (e *executor) loop() {
	for {
		e.mu.Lock()
		if len(e.queue) == 0 {
			e.running = false
			e.queue = nil
			if e.idle != nil {
				close(e.idle)
				e.idle = nil
			}
			e.mu.Unlock()
			return
		}
		j := e.queue[0]
		e.queue[0] = job{}
		e.queue = e.queue[1:]
		if e.space != nil {
			close(e.space)
			e.space = nil
		}
		e.mu.Unlock()
		e.sock.runJob(&j)
	}
}

// runners run executors' loops on goroutines that linger 100ms to
// run another: on a busy server a burst of events does not start a
// goroutine (and grow its stack again) of its own.
var runners = linger.New(100*time.Millisecond, (*executor).loop)

// wait returns when no job is queued or running, or ctx ends.
func (e *executor) wait(ctx context.Context) error {
	e.mu.Lock()
	if !e.running {
		e.mu.Unlock()
		return nil
	}
	if e.idle == nil {
		e.idle = make(chan struct{})
	}
	idle := e.idle
	e.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
