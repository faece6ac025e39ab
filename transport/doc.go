// Package transport moves Socket.IO 0.9 payloads between a session and a
// client over HTTP: WebSocket (RFC 6455; the upgrade, frame types and
// checks of gobwas/ws), xhr-polling, jsonp-polling and htmlfile.
// flashsocket is not supported.
//
// WebSocket connections are built to be cheap while idle and to batch
// writes under load. On Linux, a plain TCP (or Unix) connection is read
// by an event loop: one epoll instance, itself parked in the Go runtime's
// network poller, starts a reader goroutine with a pooled buffer only
// when bytes arrive, so an idle connection holds no goroutine and no
// buffer. Writes are made without blocking by a few writer goroutines (half
// the CPUs), in the order connections were woken; everything a connection
// has queued goes out in one system call, and while the writers are busy
// more queues up, so fan-out to many connections gets several frames per
// write. A connection whose socket buffer is full is handed to a goroutine
// of its own that waits for it up to the write timeout: a slow client
// never holds up the others. TLS connections and other systems use a
// reading goroutine per connection and blocking writes.
//
// A transport knows nothing of packets' meaning, namespaces or timers. It
// drives a Session: Receive for what the client sent, Take for what to
// send. The socketio package owns the session state machine (buffering
// between polls, superseded polls, close and heartbeat timeouts) and calls
// the functions here from its HTTP handler.
//
// Everything this package writes into a script context (jsonp-polling
// responses, htmlfile chunks) is a JSON string with <, >, &, U+2028 and
// U+2029 escaped, so no payload can end the script early.
package transport

import "context"

// Transport names, as they appear in URLs and in the handshake.
const (
	WebSocket    = "websocket"
	XHRPolling   = "xhr-polling"
	JSONPPolling = "jsonp-polling"
	HTMLFile     = "htmlfile"
	FlashSocket  = "flashsocket" // recognised only to be refused
)

// Session is the part of a session a transport drives. Implementations are
// safe for concurrent use.
type Session interface {
	// Receive hands a payload (one bare packet or several framed ones)
	// received from the client to the session.
	Receive(payload string)
	// Take waits until packets are queued, ctx ends, or the session ends,
	// and returns the encoded packets queued so far (possibly none).
	// closed reports that the session has ended and the returned packets
	// are its last.
	Take(ctx context.Context) (packets [][]byte, closed bool)
}

// WakeableSession is a Session that can run a callback when it has
// something to send, so that a writer needs no goroutine while idle.
type WakeableSession interface {
	Session
	// TakeNow is Take without waiting.
	TakeNow() (packets [][]byte, closed bool)
	// SetWaker registers fn (nil to stop), run without the session's locks
	// after packets are queued and when the session ends.
	SetWaker(fn func())
}

// Polling reports whether the named transport is a long-polling one.
func Polling(name string) bool { return name == XHRPolling || name == JSONPPolling }

// Streaming reports whether the named transport holds one connection for
// the server's writes (websocket, htmlfile).
func Streaming(name string) bool { return name == WebSocket || name == HTMLFile }
