package socketio

import "github.com/siogo/siogo/namespace"

// The namespace package's types, under this package's name, so most
// programs import only socketio.
type (
	// Namespace is an endpoint with its handlers, rooms and sockets.
	Namespace = namespace.Namespace
	// Socket is one client in one namespace.
	Socket = namespace.Socket
	// Handshake is the data of a session's handshake.
	Handshake = namespace.Handshake
	// AckFunc answers a client's ack request.
	AckFunc = namespace.AckFunc
	// RawHandler is the untyped event handler form.
	RawHandler = namespace.RawHandler
)
