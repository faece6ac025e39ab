package socketio

import (
	"context"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/siogo/siogo/internal/sioparser"
	"github.com/siogo/siogo/internal/transport"
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
	// long after the last one ended. Zero means 60 s.
	CloseTimeout time.Duration
	// HandshakeTimeout closes a handshaken session that never opens a
	// transport (no transport request reaches it) this long after its
	// handshake. Zero means 20 s: twice socket.io.js's connect timeout,
	// after which it tries its next transport with the same session. It
	// is at most CloseTimeout.
	HandshakeTimeout time.Duration
	// PollingDuration is how long a long-poll GET is held before it is
	// answered with a noop. Zero means 20 s.
	PollingDuration time.Duration

	// Transports lists the enabled transports in the order the handshake
	// advertises them. Zero means websocket, htmlfile, xhr-polling,
	// jsonp-polling. "flashsocket" is not supported and is ignored.
	Transports []string

	// AllowedOrigins lists the origins ("https://example.com",
	// "http://localhost:8080") allowed to handshake and to use a session
	// (polls, posts, websocket upgrades, ?disconnect); scheme, host and
	// port must match exactly (default ports filled in). A request's
	// origin is its Origin header or, without one, the origin of its
	// Referer (what a <script> tag's JSONP request and a same-origin GET
	// carry; see RequestOrigin). When the list is set, a request with
	// neither header is refused (403): list the site's own origin too, and
	// make non-browser clients send an Origin header (the client package:
	// Options.Header). Zero (empty), or "*" in the list, allows any
	// origin — and, as the Node.js server does, answers every Origin with
	// CORS headers that allow it with credentials (cookies), which
	// cross-domain socket.io.js XHR needs.
	AllowedOrigins []string
	// CheckOrigin, if set, replaces AllowedOrigins: it decides whether a
	// request (a handshake, a preflight, or any request of a session) may
	// proceed. Refused requests are answered 403; allowed ones that carry
	// an Origin header get it back in CORS headers, with credentials. It
	// is called once per request, concurrently; RequestOrigin gives the
	// origin AllowedOrigins would match.
	CheckOrigin func(r *http.Request) bool

	// MaxHandshakeBytes bounds what a session keeps of its handshake
	// request. A handshake whose URL (path and query) is longer is refused
	// (414 "handshake URL too long"). Of its headers, counted as sent
	// ("Name: value" and CRLF per line), the Handshake (what Authorize
	// sees and the sockets get) keeps them all when they fit; otherwise
	// it keeps whole headers while they fit, in this order: Cookie,
	// Authorization, X-Forwarded-For, X-Real-Ip, Forwarded,
	// X-Forwarded-Proto, X-Forwarded-Host, Origin, Referer, User-Agent,
	// Accept-Language, then the others by name; the rest are dropped
	// (logged at info level). Zero means 8 KiB.
	MaxHandshakeBytes int

	// Authorize, if set, decides whether a handshake is accepted, and who
	// the client is. ctx is the handshake request's context. It returns
	// the user: any value (an account, a token's claims), which becomes
	// hs.User, seen by every socket of the session (Socket.Handshake) and
	// by the namespaces' authorization. It refuses the handshake with an
	// error: ErrUnauthorized, or an error wrapping it, answers 403
	// "handshake unauthorized"; any other error (or a panic) answers 500
	// "handshake error", and is logged. It may change hs: the sockets'
	// Handshake is hs as Authorize left it when it returned. It must not
	// keep hs. It is called concurrently, once per handshake.
	Authorize func(ctx context.Context, hs *Handshake) (user any, err error)

	// OnError, if set, is told of the errors met while serving clients,
	// beside the log records written for them: handler panics, events a
	// socket's ACL refused, packets that do not decode. Each is a
	// *HandlerError wrapping ErrHandlerPanic, ErrEventDenied or
	// ErrBadPacket. It is called on a goroutine of the server's, one error
	// at a time, in order, and never holds up a session or a socket: while
	// 256 errors wait for a slow OnError, further ones are dropped (a
	// warning is logged). A panic in it is recovered and logged.
	OnError func(err error)

	// WriteTimeout bounds one write to a client (a websocket message, an
	// htmlfile chunk, a poll's answer). A client that does not take the
	// data within it — one that stopped reading — has its connection
	// dropped, so a closed slow consumer does not hold a connection and
	// its buffers. Zero means 10 s.
	WriteTimeout time.Duration

	// PostTimeout bounds reading a polling (or htmlfile) POST's body,
	// from when its handler starts: a client that sends it slower (a
	// byte now and then, to hold the request open) is answered 408 and
	// its connection closed. (Behind a response writer that cannot set
	// read deadlines, bodies are read without one.) Zero means 10 s.
	PostTimeout time.Duration

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
	// MaxQueuedBytes bounds the bytes held for one session's client: the
	// packets in its queue, plus what its transport has taken and not yet
	// written (a websocket write the client is slow to take, its pending
	// pong and close frames, a poll answer or htmlfile chunk being
	// written). A session that would go past it is closed as a slow
	// consumer, like one whose queue is full. A single packet larger than
	// the bound is queued only when nothing else is held, so keep it above
	// the largest packet the application sends. Zero means 4 MiB.
	MaxQueuedBytes int
	// MaxPendingAcks bounds the acks the server waits for per socket.
	// Zero means 1024.
	MaxPendingAcks int
	// MaxQueuedEvents bounds the client events waiting for one socket's
	// handlers; reading from that client pauses while it is full. Zero
	// means 256.
	MaxQueuedEvents int
	// MaxRoomsPerSocket bounds the rooms one socket may be in (its own-id
	// room not counted); Socket.Join beyond it fails with
	// ErrTooManyRooms. Zero means 1000; negative means no limit.
	MaxRoomsPerSocket int
	// MaxRoomNameBytes bounds the length of a room name Socket.Join
	// accepts; longer names fail with ErrRoomNameTooLong. Zero
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

	// PingInterval is how often the server pings a Socket.IO v5 client
	// (Engine.IO v4's heartbeat; the client is told in the handshake).
	// Zero means 25 s, as the Node.js server.
	PingInterval time.Duration
	// PingTimeout closes a v5 session whose client does not answer a ping
	// within it (its sockets get ReasonHeartbeatTimeout). Zero means
	// 20 s, as the Node.js server.
	PingTimeout time.Duration
	// MaxPayload bounds what a v5 client sends at once: one polling POST
	// body, one websocket message (advertised in the handshake). Zero
	// means 1,000,000 bytes, as the Node.js server's maxHttpBufferSize.
	MaxPayload int64
	// ConnectTimeout closes a v5 session that has connected no namespace
	// this long after its handshake (the Node.js server's
	// connectTimeout). Zero means 45 s.
	ConnectTimeout time.Duration
	// MaxAttachments bounds the binary attachments one v5 packet may
	// announce; a packet with more closes the session as a parse error.
	// Zero means 10, as socket.io-parser.
	MaxAttachments int
	// MaxAttachmentBytes bounds the total bytes of one v5 packet's
	// attachments. Zero means 8 MiB (each attachment is bounded by
	// MaxPayload too).
	MaxAttachmentBytes int

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
	Adapter AdapterFactory

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

	// ClientCacheControl is the Cache-Control header of the client file
	// (ClientFS). Zero means "public, max-age=0": caches keep it and
	// revalidate it on every use, cheaply (ETag, Last-Modified: 304).
	ClientCacheControl string
	// MaxClientFileBytes bounds the client file, which is read once, on
	// its first request, and kept in memory (with a gzipped copy). A
	// larger file is not served: its requests get 500 and the error is
	// logged once. Zero means 4 MiB.
	MaxClientFileBytes int64
}

// Defaults applied for zero Config fields.
const (
	DefaultPath              = "/socket.io"
	DefaultHeartbeatInterval = 25 * time.Second
	DefaultHeartbeatTimeout  = 60 * time.Second
	DefaultCloseTimeout      = 60 * time.Second
	DefaultPollingDuration   = 20 * time.Second
	DefaultPostTimeout       = 10 * time.Second
	DefaultMaxQueuedBytes    = 4 << 20
	DefaultHandshakeTimeout  = 20 * time.Second
	DefaultMaxHandshakeBytes = 8 << 10
	DefaultPingInterval      = 25 * time.Second
	DefaultPingTimeout       = 20 * time.Second
	DefaultMaxPayload        = 1_000_000
	DefaultConnectTimeout    = 45 * time.Second
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
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	c.HandshakeTimeout = min(c.HandshakeTimeout, c.CloseTimeout)
	if c.MaxHandshakeBytes <= 0 {
		c.MaxHandshakeBytes = DefaultMaxHandshakeBytes
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
		c.MaxRoomsPerSocket = DefaultMaxRoomsPerSocket
	}
	if c.MaxRoomNameBytes == 0 {
		c.MaxRoomNameBytes = DefaultMaxRoomNameBytes
	}
	if c.SendQueueSize <= 0 {
		c.SendQueueSize = 4096
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if c.PostTimeout <= 0 {
		c.PostTimeout = DefaultPostTimeout
	}
	if c.ShutdownLinger <= 0 {
		c.ShutdownLinger = 2 * time.Second
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.MaxAttachments <= 0 {
		c.MaxAttachments = sioparser.DefaultMaxAttachments
	}
	if c.MaxAttachmentBytes <= 0 {
		c.MaxAttachmentBytes = sioparser.DefaultMaxAttachmentBytes
	}
	if c.ClientFile == "" {
		c.ClientFile = "socket.io.js"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Adapter == nil {
		c.Adapter = NewMemoryAdapter
	}
	if c.ClientCacheControl == "" {
		c.ClientCacheControl = defaultClientCacheControl
	}
	if c.MaxClientFileBytes <= 0 {
		c.MaxClientFileBytes = defaultMaxClientFileBytes
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
