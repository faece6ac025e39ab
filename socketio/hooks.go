package socketio

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/siogo/siogo/internal/lazylog"
)

// Errors a Config.OnError hook receives, wrapped in a *HandlerError; test
// them with errors.Is.
var (
	// ErrHandlerPanic: a handler (an event handler, a connect or
	// disconnect hook, an ack callback, a message handler, OnUnhandled,
	// a server event's handler) panicked. The panic was recovered; the
	// socket (or the namespace's server events) goes on.
	ErrHandlerPanic = errors.New("socketio: handler panicked")
	// ErrEventDenied: the client called an event that its socket's ACL
	// does not allow; it got the "method_access_denied" error event.
	ErrEventDenied = errors.New("socketio: event denied by the socket's ACL")
	// ErrBadPacket: the client sent a payload or packet that does not
	// decode (or is nested deeper than Config.MaxJSONDepth), which was
	// dropped, or event arguments that do not decode into a typed
	// handler's parameters, which did not run.
	ErrBadPacket = errors.New("socketio: bad packet")
)

// HandlerError is what Config.OnError receives: an error met while serving
// a client, beside the log record written for it. Err wraps one of
// ErrHandlerPanic, ErrEventDenied or ErrBadPacket (errors.Is reaches them
// through the HandlerError).
//
// The strings a client chose (Event, and the text of a decode error in
// Err) are clipped as in the logs: 128 bytes at most, then "…" and the
// full length.
type HandlerError struct {
	Namespace string // the socket's namespace; "" also for a packet that did not decode
	SocketID  string // the socket's (and session's) id; "" for a server event's handler (Namespace.OnServerEvent)
	Event     string // the event called; "" for a hook, an ack callback, a message, or a packet or argument that did not decode
	Err       error  // wraps ErrHandlerPanic, ErrEventDenied or ErrBadPacket
	Panic     any    // the value the handler panicked with, for ErrHandlerPanic
	Stack     []byte // the panicking goroutine's stack, for ErrHandlerPanic
}

// Error is Err's text followed by where it happened, as in
// `socketio: handler panicked: boom (socket ID, namespace "/chat", event "move")`.
func (e *HandlerError) Error() string {
	s := e.Err.Error() + " (socket " + e.SocketID
	if e.SocketID == "" {
		s = e.Err.Error() + " (server event"
	}
	if e.Namespace != "" {
		s += ", namespace " + strconv.Quote(e.Namespace)
	}
	if e.Event != "" {
		s += ", event " + strconv.Quote(e.Event)
	}
	return s + ")"
}

// Unwrap returns Err.
func (e *HandlerError) Unwrap() error { return e.Err }

// panicError is the Err of a HandlerError for a panic with value r: it
// wraps ErrHandlerPanic and, if r is an error, r too.
func panicError(r any) error {
	if err, ok := r.(error); ok {
		return fmt.Errorf("%w: %w", ErrHandlerPanic, err)
	}
	return fmt.Errorf("%w: %v", ErrHandlerPanic, r)
}

// badPacketError is the Err of a HandlerError for a decode error err (nil
// for none beyond ErrBadPacket), its text clipped.
func badPacketError(what string, err error) error {
	if err == nil {
		return fmt.Errorf("%w: %s", ErrBadPacket, what)
	}
	return fmt.Errorf("%w: %s: %s", ErrBadPacket, what, lazylog.Clip(err.Error()))
}

// DisconnectError is the cause (context.Cause) of a Socket's Context once
// the socket has disconnected. errors.Is(err, ErrDisconnected) is true.
type DisconnectError struct {
	Reason string // why the socket disconnected: one of the Reason constants
}

// Error says that the socket disconnected, and why.
func (e *DisconnectError) Error() string { return ErrDisconnected.Error() + ": " + e.Reason }

// Is reports whether target is ErrDisconnected.
func (e *DisconnectError) Is(target error) bool { return target == ErrDisconnected }

// maxQueuedErrors bounds the errors waiting for a slow Config.OnError hook;
// beyond it they are dropped (they were logged).
const maxQueuedErrors = 256

// errorReporter calls Config.OnError with the errors reported to it, one
// at a time and in order, on a goroutine that runs only while errors wait
// (none when idle), so a slow hook never holds up a session or a socket:
// when maxQueuedErrors wait, later ones are dropped. A nil *errorReporter
// (no hook) ignores everything.
//
// fn and log never change; mu guards the rest.
type errorReporter struct {
	fn  func(error)
	log *slog.Logger

	mu      sync.Mutex
	queue   []*HandlerError
	running bool
	dropped int // errors dropped since the last warning about it
}

// newErrorReporter returns the reporter calling fn, or nil for a nil fn.
func newErrorReporter(fn func(error), log *slog.Logger) *errorReporter {
	if fn == nil {
		return nil
	}
	return &errorReporter{fn: fn, log: log}
}

// report queues e for the hook. It never blocks.
func (r *errorReporter) report(e *HandlerError) {
	if r == nil {
		return
	}
	e.Event = lazylog.Clip(e.Event)
	r.mu.Lock()
	if len(r.queue) >= maxQueuedErrors {
		r.dropped++
		r.mu.Unlock()
		return
	}
	r.queue = append(r.queue, e)
	if !r.running {
		r.running = true
		go r.loop()
	}
	r.mu.Unlock()
}

func (r *errorReporter) loop() {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			r.running = false
			r.queue = nil
			r.mu.Unlock()
			return
		}
		e := r.queue[0]
		r.queue[0] = nil
		r.queue = r.queue[1:]
		dropped := r.dropped
		r.dropped = 0
		r.mu.Unlock()
		if dropped > 0 {
			r.log.Warn("Config.OnError is too slow: errors dropped", "dropped", dropped)
		}
		r.call(e)
	}
}

// call runs the hook, recovering (and logging) a panic in it.
func (r *errorReporter) call(e *HandlerError) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("Config.OnError panicked", "panic", p)
		}
	}()
	r.fn(e)
}
