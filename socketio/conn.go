package socketio

import (
	"net/http"
	"net/url"
	"time"
)

// Handshake is what the server learned about a session when it was
// handshaken. It is shared, read-only, by every socket of the session and
// shown to authorization hooks.
type Handshake struct {
	Headers http.Header // request headers of the handshake (socketio keeps up to Config.MaxHandshakeBytes of them)
	Address string      // remote address, "host:port"
	Query   url.Values  // query of the handshake URL
	Time    time.Time   // when the handshake was made
	XDomain bool        // the request carried an Origin header
	Secure  bool        // the handshake came over TLS
	URL     string      // request URI of the handshake

	// User is the value Config.Authorize returned for the handshake (nil
	// without Authorize): who the client is, for every socket of the
	// session and for the namespaces' authorization. It stays in this
	// process, as it is: a session lives on the node that took its
	// handshake (with Config.Sessions, the other nodes forward its
	// requests there), so its sockets see User on every node the client
	// reaches, and User need not be serialisable. Only Selection.Fetch
	// encodes it, as JSON (SocketInfo.User; nil if it does not encode),
	// which a cluster adapter sends to the node that fetched.
	User any
}

// sessionConn is the session side of a socket: what a Socket needs from the
// session that carries it. The socketio package implements it; tests and
// other front ends may too. All methods must be safe for concurrent use.
type sessionConn interface {
	// ID is the session id. The sockets of a 0.9 session take it as
	// their id (those of a v5 session have ids of their own; see
	// Namespace.connectAs). Give it the socket-id format (IsSocketID), as
	// package socketio does: the names of that format are the ones
	// Socket.Join reserves, which is what keeps a socket's own-id room
	// private.
	ID() string
	// Handshake returns the session's handshake data.
	Handshake() *Handshake
	// Transport names the transport currently carrying the session. It
	// must not block (loggers call it).
	Transport() string
	// protocol is the session's wire protocol, fixed for its life: the
	// codec that encodes what its sockets send (see protocol).
	protocol() protocolID
	// Send queues one encoded packet for the client (made by the codec of
	// protocol(); a broadcast's bytes are shared by its receivers and
	// must not be modified). A volatile packet is
	// dropped (false) when the transport cannot take it right now; a
	// non-volatile one only when the session is closed or has just been
	// closed as a slow consumer.
	Send(frame []byte, volatile bool) bool
	// Close ends the whole session: the client is told ("0::") after what
	// is already queued, and every socket of the session disconnects
	// with reason.
	Close(reason string)
}

// Disconnect reasons passed to disconnect handlers. They are the strings
// the Node.js reference uses where it has one.
const (
	ReasonBooted           = "booted"            // the server disconnected the socket
	ReasonPacket           = "packet"            // the client left the namespace or the session
	ReasonSocketEnd        = "socket end"        // the transport's connection closed
	ReasonHeartbeatTimeout = "heartbeat timeout" // the client went silent
	ReasonCloseTimeout     = "close timeout"     // a polling client stopped polling
	ReasonForcedClose      = "forced close"      // ?disconnect=1 or a client "0::"
	ReasonSlowConsumer     = "slow consumer"     // the outgoing queue overflowed
	ReasonShutdown         = "server shutdown"   // Server.Shutdown
)
