package engineio

// This file is the contract between the Engine.IO engine and the layers
// above it (package socketio's Socket.IO v5 sessions, the testapp's echo
// server for the official suite). The implementation lives in the other
// files of the package.

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/siogo/siogo/internal/transport"
)

// Transport names, as they appear in the query (transport=) and in the
// handshake's "upgrades".
const (
	Polling   = "polling"
	WebSocket = "websocket"
)

// Disconnect reasons given to Session.OnClose, as the Node.js engine.io
// server names them.
const (
	ReasonTransportClose = "transport close" // the client closed its connection, or sent a close packet
	ReasonTransportError = "transport error" // a transport failed (a write timed out, a duplicate poll, ...)
	ReasonPingTimeout    = "ping timeout"    // no pong within PingTimeout of a ping
	ReasonParseError     = "parse error"     // the client sent a packet that does not decode
	ReasonForcedClose    = "forced close"    // the server closed the session (Conn.Close)
	ReasonSlowConsumer   = "slow consumer"   // the session's queue went over its bounds
	ReasonServerShutdown = "server shutting down"
)

// Defaults of Config's zero fields.
const (
	DefaultPingInterval   = 25 * time.Second
	DefaultPingTimeout    = 20 * time.Second
	DefaultUpgradeTimeout = 10 * time.Second
	DefaultMaxPayload     = 1_000_000
	DefaultMaxQueuedBytes = 4 << 20
	DefaultSendQueueSize  = 1024
)

// Config tunes a Server. The zero value of every field means its default.
type Config struct {
	PingInterval   time.Duration // server ping every PingInterval; default 25s
	PingTimeout    time.Duration // pong awaited for PingTimeout; default 20s
	UpgradeTimeout time.Duration // a websocket probe must finish its upgrade within it; default 10s
	// MaxPayload bounds one incoming HTTP body (polling POST) and one
	// incoming websocket message, in bytes, and is advertised in the
	// handshake; default 1,000,000 (as Node.js engine.io).
	MaxPayload int64
	// Transports enabled, of Polling and WebSocket; default both. The
	// handshake offers "websocket" as an upgrade only when it is enabled.
	Transports []string
	// CheckOrigin decides whether a request's origin is allowed (nil:
	// every origin). A refused request is answered 403
	// {"code":4,"message":"Forbidden"}. An allowed request with an Origin
	// header gets CORS headers: Access-Control-Allow-Origin echoing it,
	// Access-Control-Allow-Credentials: true; preflights (OPTIONS) are
	// answered 204 with the requested headers and Allow-Methods
	// GET,HEAD,PUT,PATCH,POST,DELETE (the default of Node.js's cors
	// middleware: a browser script then reads the 400 a PUT gets).
	CheckOrigin func(r *http.Request) bool
	// WriteTimeout bounds one write to a client; default
	// transport.DefaultWriteTimeout.
	WriteTimeout time.Duration
	// MaxQueuedBytes bounds, per session, what is queued for the client
	// plus what a transport took and has not written, in bytes; going over
	// closes the session as a slow consumer. Default 4 MiB.
	MaxQueuedBytes int
	// SendQueueSize bounds, per session, the number of queued packets;
	// default 1024.
	SendQueueSize int
	// MaxSessions bounds the open sessions (0: no bound); a handshake over
	// it is answered 503.
	MaxSessions int
	// Logger receives the engine's logs (client-supplied strings
	// truncated); nil: slog.Default().
	Logger *slog.Logger
}

// Handler is what the layer above the engine implements.
type Handler interface {
	// Open is called for each handshake, before the client is answered:
	// the Session it returns receives the new session's messages. A
	// non-nil error refuses the handshake: an *HTTPError is answered as
	// it says, any other error with 403 {"code":4,"message":"Forbidden"}.
	// Open may send on c (what it queues follows the handshake packet).
	Open(c *Conn, r *http.Request) (Session, error)
}

// Session receives the messages of one Engine.IO session. The engine
// calls its methods from one goroutine at a time, in the order the
// client sent the packets.
type Session interface {
	// OnMessage is a text message packet ("4" stripped).
	OnMessage(text string)
	// OnBinary is a binary message; data belongs to the callee.
	OnBinary(data []byte)
	// OnClose is called once, when the session has ended.
	OnClose(reason string)
}

// HTTPError is an error Handler.Open returns to choose the answer: the
// status and the Engine.IO error body {"code":Code,"message":Message}.
type HTTPError struct {
	Status  int
	Code    int
	Message string
}

func (e *HTTPError) Error() string { return e.Message }

// ErrClosed is returned for sends on a closed session.
var ErrClosed = errors.New("engineio: session closed")

// AppendText appends the Engine.IO message packet "4"+text to dst: the
// form Conn.Send takes for a text message.
func AppendText(dst []byte, text []byte) []byte {
	return append(append(dst, '4'), text...)
}

// AppendBinary appends a binary message packet to dst (transport.BinaryMark
// and the bytes): the form Conn.Send takes for a binary message on an
// Engine.IO v4 session (Conn.Protocol() == 4).
func AppendBinary(dst []byte, data []byte) []byte {
	return append(append(dst, transport.BinaryMark), data...)
}

// AppendBinaryV3 appends an Engine.IO v3 binary message packet to dst
// (transport.BinaryMark, the message type byte 0x04 and the bytes): the
// form Conn.Send takes for a binary message on an Engine.IO v3 session
// (Conn.Protocol() == 3). A websocket sends it as it is (the frame
// carries the type byte); polling answers encode it as "b4<base64>" or in
// the XHR2 binary payload.
func AppendBinaryV3(dst []byte, data []byte) []byte {
	return append(append(dst, transport.BinaryMark, 0x04), data...)
}

// AppendBinaryFor appends the binary message packet of data in the form a
// session of protocol proto (3 or 4) takes: AppendBinaryV3 for 3,
// AppendBinary otherwise.
func AppendBinaryFor(proto int, dst []byte, data []byte) []byte {
	if proto == 3 {
		return AppendBinaryV3(dst, data)
	}
	return AppendBinary(dst, data)
}

// Conn methods (implemented in conn.go):
//
//	ID() string          the session id (sid)
//	Protocol() int       the Engine.IO protocol of the session: 3 or 4
//	Transport() string   Polling or WebSocket, the transport carrying the session now
//	Send(pkts [][]byte, volatile bool) bool
//	                     queues whole message packets (AppendText /
//	                     AppendBinary forms, AppendBinaryV3 on a v3 session; the bytes may be shared with
//	                     other sessions and are never modified), all or
//	                     none, in order. A volatile send is dropped (false)
//	                     unless a transport can take it now and the queue
//	                     is short; a non-volatile one fails only on a
//	                     closed session or one just closed as a slow
//	                     consumer.
//	Close()              ends the session from the server: what is queued
//	                     is sent, then a close packet (polling) or the
//	                     connection is closed (websocket); OnClose gets
//	                     ReasonForcedClose.
//	QueuedBytes() int    what is held for the client (see MaxQueuedBytes)
//
// Server methods (implemented in server.go):
//
//	NewServer(cfg Config, h Handler) *Server
//	(*Server).ServeHTTP(w, r)   serves every Engine.IO request; the caller
//	                            mounts it at its path and routes EIO=3 and
//	                            EIO=4 to it
//	(*Server).SessionCount() int
//	(*Server).Close()           closes every session (ReasonServerShutdown)

// Conn is one Engine.IO session, as the layer above sees it. Its methods
// are listed above; conn.go implements them.
type Conn struct {
	connState // the engine's side of the session (conn.go), with the protocol (proto, b64)
	id        string
}

// ID is the session id (sid).
func (c *Conn) ID() string { return c.id }

// Protocol is the Engine.IO protocol version of the session, from the
// handshake's EIO query parameter: 3 (socket.io-client 1.x and 2.x) or 4.
// It tells the layer above which binary form Send takes (AppendBinaryV3
// or AppendBinary).
func (c *Conn) Protocol() int { return int(c.proto) }
