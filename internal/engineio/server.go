package engineio

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/siogo/siogo/internal/lazylog"
	"github.com/siogo/siogo/internal/transport"
)

// The Engine.IO error codes, as Node.js engine.io numbers them.
const (
	codeUnknownTransport = 0
	codeUnknownSID       = 1
	codeBadHandshake     = 2
	codeBadRequest       = 3
	codeForbidden        = 4
	codeUnsupported      = 5
)

var errorMessages = [...]string{
	codeUnknownTransport: "Transport unknown",
	codeUnknownSID:       "Session ID unknown",
	codeBadHandshake:     "Bad handshake method",
	codeBadRequest:       "Bad request",
	codeForbidden:        "Forbidden",
	codeUnsupported:      "Unsupported protocol version",
}

// Server is an Engine.IO server (protocols v3 and v4, chosen per session
// by the handshake's EIO): it serves the requests of every
// session (ServeHTTP) and drives their heartbeats.
type Server struct {
	cfg     Config
	h       Handler
	log     *slog.Logger
	polling bool // the polling transport is enabled
	websock bool // the websocket transport is enabled
	timers  timers

	mu       sync.Mutex
	sessions map[string]*Conn
	closed   bool
}

// NewServer returns a Server with cfg (zero fields take their defaults)
// whose sessions h opens.
func NewServer(cfg Config, h Handler) *Server {
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = DefaultPingTimeout
	}
	if cfg.UpgradeTimeout <= 0 {
		cfg.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = DefaultMaxPayload
	}
	if cfg.MaxQueuedBytes <= 0 {
		cfg.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if cfg.SendQueueSize <= 0 {
		cfg.SendQueueSize = DefaultSendQueueSize
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = transport.DefaultWriteTimeout
	}
	if len(cfg.Transports) == 0 {
		cfg.Transports = []string{Polling, WebSocket}
	}
	s := &Server{cfg: cfg, h: h, log: cfg.Logger, sessions: map[string]*Conn{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.polling = slices.Contains(cfg.Transports, Polling)
	s.websock = slices.Contains(cfg.Transports, WebSocket)
	s.timers.start = time.Now()
	return s
}

// SessionCount is the number of open sessions.
func (s *Server) SessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close closes every session (OnClose gets ReasonServerShutdown) and
// refuses new handshakes (503).
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	all := make([]*Conn, 0, len(s.sessions))
	for _, c := range s.sessions {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.closeNow(ReasonServerShutdown, pktClose)
	}
}

func (s *Server) lookup(sid string) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[sid]
}

func (s *Server) remove(c *Conn) {
	s.mu.Lock()
	if s.sessions[c.id] == c {
		delete(s.sessions, c.id)
	}
	s.mu.Unlock()
}

// ServeHTTP serves every Engine.IO request: handshakes, polls, POSTs,
// websockets and preflights. The query names the protocol (EIO=4), the
// transport and, but for a handshake, the session (sid). Refusals are
// answered as Node.js engine.io answers them: 400 (403 for a refused
// origin) with {"code":N,"message":"..."}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The origin first, so that the refusals below carry CORS headers
	// and a browser's script can read them (as with Node.js engine.io's
	// cors middleware).
	if s.cfg.CheckOrigin != nil && !s.cfg.CheckOrigin(r) {
		s.logAt(slog.LevelDebug, "origin refused", "origin", lazylog.Client(r.Header.Get("Origin")))
		s.abort(w, r, codeForbidden)
		return
	}
	setCORS(w, r)
	// The parameters are read from the raw query one by one
	// (transport.QueryValue): parsing it into a map cost a map and a
	// slice per pair, for each of the few reads of every request.
	raw := r.URL.RawQuery
	var tr string // a constant: the query's value would keep the request line alive
	switch v, _ := transport.QueryValue(raw, "transport"); v {
	case Polling:
		tr = Polling
	case WebSocket:
		tr = WebSocket
	}
	if !(tr == Polling && s.polling || tr == WebSocket && s.websock) {
		s.abort(w, r, codeUnknownTransport)
		return
	}
	var proto int
	switch v, _ := transport.QueryValue(raw, "EIO"); v {
	case "4":
		proto = 4
	case "3":
		proto = 3
	default:
		s.abort(w, r, codeUnsupported)
		return
	}
	if r.Method == http.MethodOptions {
		h := w.Header()
		// The methods of Node.js's cors middleware by default: a refused
		// method (PUT...) then gets its 400 rather than a CORS failure.
		h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
		if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
			h.Set("Access-Control-Allow-Headers", rh)
		}
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	upgrade := transport.IsWebSocketUpgrade(r)
	sid, _ := transport.QueryValue(raw, "sid")
	if sid == "" {
		if r.Method != http.MethodGet {
			s.abort(w, r, codeBadHandshake)
			return
		}
		if tr == WebSocket && !upgrade {
			s.abort(w, r, codeBadRequest)
			return
		}
		s.handshake(w, r, tr, proto)
		return
	}
	c := s.lookup(sid)
	if c == nil || c.timedOut() {
		s.logAt(slog.LevelDebug, "unknown sid", "sid", lazylog.Client(sid))
		s.abort(w, r, codeUnknownSID)
		return
	}
	if tr == WebSocket {
		if !upgrade {
			s.abort(w, r, codeBadRequest)
			return
		}
		c.serveUpgrade(w, r)
		return
	}
	if c.Transport() != Polling {
		// The session was upgraded: its polling requests are refused.
		s.abort(w, r, codeBadRequest)
		return
	}
	switch r.Method {
	case http.MethodGet:
		c.servePoll(w, r)
	case http.MethodPost:
		c.serveData(w, r)
	default:
		s.abort(w, r, codeBadRequest)
	}
}

// setCORS adds the CORS headers of an allowed request with an Origin.
func setCORS(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	}
}

// abort answers an Engine.IO error: 400 (403 for codeForbidden) and
// {"code":code,"message":...}.
func (s *Server) abort(w http.ResponseWriter, r *http.Request, code int) {
	status := http.StatusBadRequest
	if code == codeForbidden {
		status = http.StatusForbidden
	}
	writeError(w, status, code, errorMessages[code])
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	b := strconv.AppendInt([]byte(`{"code":`), int64(code), 10)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, message)
	b = append(b, '}')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newSID returns a random session id: 15 bytes from crypto/rand in
// base64url, 20 characters, as Node.js engine.io's base64id makes them.
func newSID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}

// handshake opens a session over tr: the open packet, what Handler.Open
// queues, then the transport's serving.
func (s *Server) handshake(w http.ResponseWriter, r *http.Request, tr string, proto int) {
	// A v3 client without binary support says so with b64 (any value, as
	// Node.js engine.io reads it) in its handshake; JSONP polling is
	// text-only too.
	b64 := proto == 3 && (queryHas(r, "b64") || queryFlag(r, "j"))
	c := newConn(s, newSID(), tr, proto, b64)
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, codeBadRequest, "Server shutting down")
		return
	case s.cfg.MaxSessions > 0 && len(s.sessions) >= s.cfg.MaxSessions:
		s.mu.Unlock()
		s.logAt(slog.LevelWarn, "handshake refused: too many sessions", "max", s.cfg.MaxSessions)
		writeError(w, http.StatusServiceUnavailable, codeBadRequest, "Too many sessions")
		return
	}
	s.sessions[c.id] = c
	s.mu.Unlock()

	c.mu.Lock()
	c.pushLocked(s.openPacket(c.id, tr == Polling && s.websock))
	c.mu.Unlock()
	sess, err := s.h.Open(c, r)
	if err != nil {
		c.setSession(nil, true)
		c.closeNow(ReasonForcedClose, nil)
		var he *HTTPError
		if errors.As(err, &he) {
			writeError(w, he.Status, he.Code, he.Message)
		} else {
			s.abort(w, r, codeForbidden)
		}
		return
	}
	c.setSession(sess, false)
	c.mu.Lock()
	if !c.closed && !c.closing {
		if proto == 3 {
			// The v3 client pings; the session ends without one for
			// PingInterval+PingTimeout.
			c.pongBy = s.timers.now() + s.cfg.PingInterval + s.cfg.PingTimeout
		} else {
			c.nextPing = s.timers.now() + s.cfg.PingInterval
		}
		c.scheduleLocked()
	}
	c.mu.Unlock()
	c.logAt(slog.LevelDebug, "session opened", "transport", tr, "protocol", proto)
	if tr == Polling {
		c.servePoll(w, r)
		return
	}
	l := newLink(c, r)
	c.mu.Lock()
	c.ws = l
	c.mu.Unlock()
	if err := transport.ServeWebSocket(w, r, l, s.wsOptions()); err != nil {
		c.logAt(slog.LevelDebug, "websocket handshake failed", "err", err)
		c.closeNow(ReasonTransportError, nil)
	}
}

// openPacket is the handshake packet.
func (s *Server) openPacket(sid string, upgrades bool) []byte {
	b := append([]byte(`0{"sid":`), strconv.Quote(sid)...)
	if upgrades {
		b = append(b, `,"upgrades":["websocket"]`...)
	} else {
		b = append(b, `,"upgrades":[]`...)
	}
	b = append(b, `,"pingInterval":`...)
	b = strconv.AppendInt(b, s.cfg.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, s.cfg.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, s.cfg.MaxPayload, 10)
	return append(b, '}')
}

func (s *Server) wsOptions() transport.WebSocketOptions {
	return transport.WebSocketOptions{
		MaxMessageSize: s.cfg.MaxPayload,
		WriteTimeout:   s.cfg.WriteTimeout,
	}
}

func (s *Server) logAt(level slog.Level, msg string, args ...any) {
	if lazylog.Enabled(s.log, level) {
		lazylog.Write(s.log, level, msg, nil, args)
	}
}

// queryHas reports whether r's query has a non-empty value of name (as
// Query().Get(name) != "").
func queryHas(r *http.Request, name string) bool {
	v, _ := transport.QueryValue(r.URL.RawQuery, name)
	return v != ""
}

// queryFlag reports whether r's query has name, with any value (as
// Query().Has(name)).
func queryFlag(r *http.Request, name string) bool {
	_, ok := transport.QueryValue(r.URL.RawQuery, name)
	return ok
}
