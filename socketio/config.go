package socketio

import (
	"io/fs"
	"log/slog"
	"math"
	"time"

	"github.com/siogo/siogo/namespace"
	"github.com/siogo/siogo/transport"
)

// Config tunes a Server. The zero value of every field means the default
// written beside it, so Config{} is a working configuration.
type Config struct {
	// Path is where the server is mounted. Zero means "/socket.io". The
	// server answers every request whose path starts with it; mount it in
	// a mux with a trailing slash: mux.Handle("/socket.io/", srv).
	Path string

	// HeartbeatInterval is how often the server sends a heartbeat. Zero
	// means 25 s. It must be shorter than HeartbeatTimeout; if it is not,
	// it is set to half of HeartbeatTimeout.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout closes a session from which nothing was heard for
	// this long; the client is told it in the handshake (rounded up to
	// whole seconds) and closes on its side too. Zero means 60 s.
	HeartbeatTimeout time.Duration
	// CloseTimeout closes a polling session when no new poll arrives this
	// long after the last one ended (and a handshaken session that never
	// connects). Zero means 60 s.
	CloseTimeout time.Duration
	// PollingDuration is how long a long-poll GET is held before it is
	// answered with a noop. Zero means 20 s.
	PollingDuration time.Duration

	// Transports lists the enabled transports in the order the handshake
	// advertises them. Zero means websocket, htmlfile, xhr-polling,
	// jsonp-polling. "flashsocket" is not supported and is ignored.
	Transports []string

	// AllowedOrigins lists the origins ("https://example.com",
	// "http://localhost:8080") allowed to handshake and upgrade; scheme,
	// host and port must match exactly (default ports filled in). Zero
	// (empty) allows any origin. Requests without an Origin header are
	// not cross-origin browser requests and are allowed.
	AllowedOrigins []string

	// Authorize, if set, decides whether a handshake is accepted. false
	// answers 403 "handshake unauthorized"; an error answers 500
	// "handshake error". It may change hs: the sockets' Handshake is hs as
	// Authorize left it when it returned. It must not keep hs.
	Authorize func(hs *Handshake) (bool, error)

	// WriteTimeout bounds one write to a client (a websocket message, an
	// htmlfile chunk, a poll's answer). A client that does not take the
	// data within it — one that stopped reading — has its connection
	// dropped, so a closed slow consumer does not hold a connection and
	// its buffers. Zero means 10 s.
	WriteTimeout time.Duration

	// MaxBodyBytes bounds a polling POST body. Zero means 1 MiB.
	MaxBodyBytes int64
	// MaxMessageBytes bounds one incoming WebSocket message. Zero means 1 MiB.
	MaxMessageBytes int64
	// MaxPacketsPerPayload bounds the packets in one incoming payload;
	// a payload with more is dropped whole. Zero means 1000.
	MaxPacketsPerPayload int
	// SendQueueSize bounds the packets queued for one session. A session
	// whose client does not take them fast enough (a slow consumer) is
	// closed when the queue is full, so it can never hold up others.
	// Zero means 4096.
	SendQueueSize int
	// MaxPendingAcks bounds the acks the server waits for per socket.
	// Zero means 1024.
	MaxPendingAcks int
	// MaxQueuedEvents bounds the client events waiting for one socket's
	// handlers; reading from that client pauses while it is full. Zero
	// means 256.
	MaxQueuedEvents int
	// MaxRoomsPerSocket bounds the rooms one socket may be in (its own-id
	// room not counted); Socket.Join beyond it fails with
	// namespace.ErrTooManyRooms. Zero means 1000; negative means no limit.
	MaxRoomsPerSocket int
	// MaxRoomNameBytes bounds the length of a room name Socket.Join
	// accepts; longer names fail with namespace.ErrRoomNameTooLong. Zero
	// means 256; negative means no limit.
	MaxRoomNameBytes int
	// MaxSessions bounds the open sessions; handshakes beyond it get 503.
	// Zero means no limit.
	MaxSessions int
	// HandshakesPerSecond limits the handshakes each remote address
	// (the connection's, not X-Forwarded-For) may make per second; beyond
	// it they get 503. Zero means no limit.
	HandshakesPerSecond int
	// MaxJSONDepth bounds the nesting of arrays and objects in a client's
	// packet; deeper packets are dropped before decoding. Zero means 32.
	MaxJSONDepth int

	// ClientFS, if set, serves the socket.io.js client file at
	// Path+"/socket.io.js" from this file system. siogo ships no
	// third-party JavaScript: point it at an npm-installed
	// socket.io-client's dist directory (os.DirFS).
	ClientFS fs.FS
	// ClientFile is the client file's name in ClientFS. Zero means
	// "socket.io.js".
	ClientFile string

	// ShutdownKick makes Shutdown tell clients they were disconnected
	// ("0::": socket.io.js does not reconnect) instead of telling them to
	// reconnect (the default).
	ShutdownKick bool
	// ShutdownLinger bounds how long Shutdown waits for a polling client to
	// come for its goodbye packet. Zero means 2 s.
	ShutdownLinger time.Duration

	// Logger receives the server's logs. Zero means slog.Default().
	Logger *slog.Logger
	// Adapter makes each namespace's room adapter. Zero means in memory.
	Adapter namespace.AdapterFactory

	// Sessions, with NodeAddr, lets a cluster of nodes serve every session
	// on every node: each session is registered in this directory at its
	// handshake, and a transport request (or ?disconnect) for a session
	// held by another node is forwarded to that node, so the balancer in
	// front need not be sticky (see "Several nodes" in the package
	// documentation). The redis package's Cluster is one. Zero means a
	// single node: requests for sessions this node does not hold are
	// answered as for unknown sessions.
	Sessions SessionDirectory
	// NodeAddr is the address ("host:port", plain HTTP) at which the other
	// nodes reach this node's Server (the address it listens on, or one
	// that routes to it; the Server must answer at Path there). Used only
	// with Sessions, and required by it.
	NodeAddr string
}

// Defaults applied for zero Config fields.
const (
	DefaultPath              = "/socket.io"
	DefaultHeartbeatInterval = 25 * time.Second
	DefaultHeartbeatTimeout  = 60 * time.Second
	DefaultCloseTimeout      = 60 * time.Second
	DefaultPollingDuration   = 20 * time.Second
)

// DefaultTransports is the default transport order.
var DefaultTransports = []string{transport.WebSocket, transport.HTMLFile, transport.XHRPolling, transport.JSONPPolling}

func (c Config) withDefaults() Config {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	for len(c.Path) > 1 && c.Path[len(c.Path)-1] == '/' {
		c.Path = c.Path[:len(c.Path)-1]
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.HeartbeatInterval >= c.HeartbeatTimeout {
		c.HeartbeatInterval = c.HeartbeatTimeout / 2
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = DefaultCloseTimeout
	}
	if c.PollingDuration <= 0 {
		c.PollingDuration = DefaultPollingDuration
	}
	var ts []string
	for _, t := range c.Transports {
		switch t {
		case transport.WebSocket, transport.HTMLFile, transport.XHRPolling, transport.JSONPPolling:
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		ts = DefaultTransports
	}
	c.Transports = ts
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = transport.DefaultWriteTimeout
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 1 << 20
	}
	if c.MaxPacketsPerPayload <= 0 {
		c.MaxPacketsPerPayload = 1000
	}
	if c.MaxJSONDepth <= 0 {
		c.MaxJSONDepth = 32
	}
	if c.MaxRoomsPerSocket == 0 {
		c.MaxRoomsPerSocket = namespace.DefaultMaxRoomsPerSocket
	}
	if c.MaxRoomNameBytes == 0 {
		c.MaxRoomNameBytes = namespace.DefaultMaxRoomNameBytes
	}
	if c.SendQueueSize <= 0 {
		c.SendQueueSize = 4096
	}
	if c.ShutdownLinger <= 0 {
		c.ShutdownLinger = 2 * time.Second
	}
	if c.ClientFile == "" {
		c.ClientFile = "socket.io.js"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Adapter == nil {
		c.Adapter = namespace.NewMemoryAdapter
	}
	return c
}

// seconds renders a duration as the handshake's whole seconds, rounded up.
func seconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

func (c *Config) transportEnabled(name string) bool {
	for _, t := range c.Transports {
		if t == name {
			return true
		}
	}
	return false
}
