// Package transport moves Socket.IO 0.9 payloads between a session and a
// client over HTTP: WebSocket (RFC 6455; the upgrade, frame types and
// checks of gobwas/ws), xhr-polling, jsonp-polling and htmlfile.
// flashsocket is not supported.
//
// WebSocket connections are built to be cheap while idle and to batch
// writes under load. On Linux, a plain TCP (or Unix) connection is read
// by an event loop: one epoll instance, itself parked in the Go runtime's
// network poller, holds the idle connections (registered one-shot). When
// bytes arrive, a reader goroutine (a recently idle one, or a new one)
// serves the connection, waiting between reads on the runtime's poller
// and borrowing a pooled buffer only while a read returns bytes; after
// 20ms without bytes it re-arms the registration and leaves. An idle
// connection so holds no goroutine and no buffer, and a busy one does not
// start a goroutine per message. Writes are made without blocking by a
// few writer goroutines (half the CPUs), in the order connections were
// woken; everything a connection has queued goes out in one system call,
// and while the writers are busy more queues up, so fan-out to many
// connections gets several frames per write. A connection whose socket
// buffer is full is handed to a goroutine of its own that waits for it up
// to the write timeout: a slow client never holds up the others. The
// upgrade response goes out in the same write as the session's first
// packets. A connection holds at most one pong (the answer to the latest
// ping) and one close frame of its own; those and whatever it has taken
// from the session but not yet written are reported to the session
// (Session.Hold), which bounds them with its queue. TLS connections and other systems use a reading goroutine per
// connection and blocking writes.
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
	// are its last. The packets' bytes stay counted against the session's
	// bound on what is held for its client until the transport has written
	// them and says so with Hold(-n), n the sum of their lengths.
	Take(ctx context.Context) (packets [][]byte, closed bool)
	// Hold reports that the transport holds n more bytes for the client
	// (n < 0: n fewer): -n once packets Take returned are written (or
	// given up), +n for frames the transport queues of its own accord
	// (a websocket pong or close frame), -n once those are written. The
	// session bounds what it queues and what its transport holds together
	// and closes a session that goes over as a slow consumer.
	Hold(n int)
}

// PacketBytes is the sum of the packets' lengths: what a transport
// releases with Session.Hold(-PacketBytes(pkts)) once it has written
// packets Take returned.
func PacketBytes(pkts [][]byte) int {
	n := 0
	for _, p := range pkts {
		n += len(p)
	}
	return n
}

// BinaryMark, as the first byte of a packet a session queues, makes the
// websocket transport send the rest of the packet as a binary frame; a
// packet without it goes as a text frame. No text packet starts with it
// (0xFF is never part of UTF-8). The mark is counted with the packet by
// Session.Hold, as every byte of a packet is.
const BinaryMark byte = 0xFF

// BinaryReceiver is a Session that takes binary websocket messages:
// ServeWebSocket hands it each one (valid only during the call). A
// Session without it never sees binary messages (they are dropped).
type BinaryReceiver interface {
	ReceiveBinary(payload []byte)
}

// WakeableSession is a Session that can run a callback when it has
// something to send, so that a writer needs no goroutine while idle.
type WakeableSession interface {
	Session
	// TakeNow is Take without waiting.
	TakeNow() (packets [][]byte, closed bool)
	// SetWaker registers w, for the session to Wake, without its locks,
	// after packets are queued and when the session ends.
	SetWaker(w Waker)
}

// Polling reports whether the named transport is a long-polling one.
func Polling(name string) bool { return name == XHRPolling || name == JSONPPolling }

// Streaming reports whether the named transport holds one connection for
// the server's writes (websocket, htmlfile).
func Streaming(name string) bool { return name == WebSocket || name == HTMLFile }
