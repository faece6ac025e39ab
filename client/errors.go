package client

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors returned by the client. Most are wrapped with detail (the
// namespace, the transport, the server's answer); test them with errors.Is.
var (
	// ErrUnauthorized: the server refused the handshake (403 "handshake
	// unauthorized") or a namespace refused the client ("7::/ns:2").
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBadOrigin: the server refused the handshake's Origin (403
	// "handshake bad origin").
	ErrBadOrigin = errors.New("bad origin")
	// ErrClosed: Close was called.
	ErrClosed = errors.New("client: closed")
	// ErrKicked: the server ended the session ("0::") or disconnected
	// the client from a namespace ("0::/ns"). The client does not
	// reconnect after a kick, like socket.io.js.
	ErrKicked = errors.New("client: disconnected by the server")
	// ErrDisconnected: the session was lost while an acknowledgement was
	// awaited, or the namespace is not joined.
	ErrDisconnected = errors.New("client: disconnected")
	// ErrNotHandshaken: the server does not know the session
	// ("7:::1+0", "client not handshaken"); the client reconnects.
	ErrNotHandshaken = errors.New("client: client not handshaken")
	// ErrTransportNotSupported: the server refused the transport
	// ("7:::0").
	ErrTransportNotSupported = errors.New("client: transport not supported")
	// ErrServerClosed (ProtocolV5): the server ended the Engine.IO
	// session without a DISCONNECT (an Engine.IO close packet, or a
	// websocket close frame); the client reconnects. Reported in a
	// *TransportError.
	ErrServerClosed = errors.New("client: the server closed the session")
	// ErrHeartbeatTimeout: nothing was heard from the server within the
	// heartbeat timeout it announced in the handshake (v5: no ping within
	// pingInterval + pingTimeout).
	ErrHeartbeatTimeout = errors.New("client: heartbeat timeout")
	// ErrNoTransport: none of Options.Transports is offered by the
	// server.
	ErrNoTransport = errors.New("client: no usable transport")
	// ErrReconnectFailed: Options.MaxReconnectAttempts were used up.
	ErrReconnectFailed = errors.New("client: reconnect failed")
	// ErrQueueFull: Options.MaxQueuedPackets packets already wait to be
	// sent.
	ErrQueueFull = errors.New("client: outgoing queue full")
	// ErrTooManyAcks: Options.MaxPendingAcks acks are already awaited.
	ErrTooManyAcks = errors.New("client: too many pending acks")
	// ErrAckSent: an AckFunc was called a second time.
	ErrAckSent = errors.New("client: ack already sent")
	// ErrReservedEvent: the event name may not be emitted by a client
	// ("disconnect").
	ErrReservedEvent = errors.New("client: reserved event name")
	// ErrBadHandler: On or OnRaw was given a handler it cannot take
	// (nil, not a func, or a raw handler's signature given to On).
	ErrBadHandler = errors.New("client: invalid handler")
)

// HandshakeError is a handshake the server answered with something other
// than 200. It matches ErrUnauthorized or ErrBadOrigin when the server
// said so.
type HandshakeError struct {
	Status int    // HTTP status
	Body   string // the server's message, e.g. "handshake unauthorized"
}

func (e *HandshakeError) Error() string {
	msg := strings.TrimSpace(e.Body)
	if msg == "" {
		msg = "(no message)"
	}
	return "client: handshake refused: " + strconv.Itoa(e.Status) + " " + msg
}

// Is reports whether the refusal means target.
func (e *HandshakeError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == 403 && strings.Contains(e.Body, "unauthorized")
	case ErrBadOrigin:
		return e.Status == 403 && strings.Contains(e.Body, "bad origin")
	}
	return false
}

// NamespaceError is a namespace that refused the client or disconnected
// it. Err is ErrUnauthorized, ErrKicked or another server error.
type NamespaceError struct {
	Namespace string
	Err       error
}

func (e *NamespaceError) Error() string {
	name := e.Namespace
	if name == "" {
		name = "(default)"
	}
	if errors.Is(e.Err, ErrKicked) {
		return "client: namespace " + name + ": " + e.Err.Error()
	}
	return "client: namespace " + name + " refused the client: " + e.Err.Error()
}

func (e *NamespaceError) Unwrap() error { return e.Err }

// TransportError is a transport that could not be opened or broke.
type TransportError struct {
	Transport string
	Err       error
}

func (e *TransportError) Error() string { return "client: " + e.Transport + ": " + e.Err.Error() }

func (e *TransportError) Unwrap() error { return e.Err }

// connectError lists why every transport tried failed.
type connectError []error

func (e connectError) Error() string {
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

func (e connectError) Unwrap() []error { return e }

// serverError maps an error packet's reason to an error.
func serverError(reason int) error {
	switch reason {
	case 0:
		return ErrTransportNotSupported
	case 1:
		return ErrNotHandshaken
	case 2:
		return ErrUnauthorized
	}
	return fmt.Errorf("client: server error (reason %d)", reason)
}

// clip shortens untrusted text quoted in error messages.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
