package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siogo/siogo/internal/lazylog"
	"github.com/siogo/siogo/internal/transport"
)

// Server is a Socket.IO server and an http.Handler: it serves Socket.IO
// 0.9 clients and, on the same path, Socket.IO v5 clients
// (socket.io-client 3.x and 4.x, over Engine.IO v4), with one set of
// namespaces, rooms and handlers. Make it with NewServer, register
// handlers on its namespaces (Of), and mount it.
//
// mu guards namespaces, sessions, sessions5 and drained.
type Server struct {
	cfg     Config
	log     *slog.Logger
	epoch   time.Time // the origin of clock
	timers  timers    // the sessions' timeouts and heartbeats
	origins originPolicy
	limiter *addrLimiter
	nsOpts  nsOptions
	stats   counters
	fwd     *forwarder     // nil without Config.Sessions
	errs    *errorReporter // nil without Config.OnError
	// shutdown is set by Shutdown and Close: no new sessions or namespace
	// joins. Read without locks; set before mu is taken to list the
	// sessions, so a handshake registering under mu either is listed or
	// sees it.
	shutdown atomic.Bool

	mu         sync.RWMutex
	namespaces map[string]*Namespace
	sessions   map[string]*session
	sessions5  map[string]*session5 // the v5 sessions, by Engine.IO session id
	drained    chan struct{}        // closed when shutting down and no session is left

	eio engine5 // the Engine.IO v4 server of the v5 sessions

	client clientFile // the socket.io.js client file, loaded on first request (clientfile.go)
}

// NewServer makes a server with cfg (zero fields take their defaults).
func NewServer(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:        cfg,
		log:        cfg.Logger,
		epoch:      time.Now(),
		origins:    newOriginPolicy(cfg.AllowedOrigins, cfg.CheckOrigin),
		limiter:    newAddrLimiter(cfg.HandshakesPerSecond),
		namespaces: make(map[string]*Namespace),
		sessions:   make(map[string]*session),
		sessions5:  make(map[string]*session5),
		fwd:        newForwarder(cfg),
		errs:       newErrorReporter(cfg.OnError, cfg.Logger),
	}
	s.timers.clock = s.clock
	s.nsOpts = nsOptions{
		Logger:          cfg.Logger,
		Adapter:         cfg.Adapter,
		MaxPendingAcks:  cfg.MaxPendingAcks,
		MaxQueuedEvents: cfg.MaxQueuedEvents,

		MaxRoomsPerSocket: cfg.MaxRoomsPerSocket,
		MaxRoomNameBytes:  cfg.MaxRoomNameBytes,
		errs:              s.errs,
	}
	s.Of("")
	s.eio = newEngine5(s)
	return s
}

// Config returns the server's configuration with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Of returns the namespace called name ("" is the default, others start
// with "/"), creating it on first use.
func (s *Server) Of(name string) *Namespace {
	if name != "" && !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.namespaces[name]
	if ns == nil {
		ns = newNamespace(name, s.nsOpts)
		s.namespaces[name] = ns
	}
	return ns
}

// Sockets returns the default namespace, like io.sockets.
func (s *Server) Sockets() *Namespace { return s.Of("") }

func (s *Server) namespace(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.namespaces[name]
}

// SessionCount returns the number of open sessions, of both generations.
func (s *Server) SessionCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.sessions) + len(s.sessions5)
}

func (s *Server) lookup(sid string) *session {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sessions[sid]
}

func (s *Server) forget(sess *session) {
	s.mu.Lock()
	forgotten := s.sessions[sess.id] == sess
	if forgotten {
		delete(s.sessions, sess.id)
	}
	s.checkDrainedLocked()
	s.mu.Unlock()
	if forgotten {
		s.unregister(sess.id)
	}
}

// newSessionID returns 20 URL-safe random characters from crypto/rand:
// the socket-id format IsSocketID describes, whose names
// Socket.Join reserves for the sockets' own rooms.
func newSessionID() string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("socketio: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, s.cfg.Path)
	if !ok || (rest != "" && rest[0] != '/') {
		http.NotFound(w, r)
		return
	}
	if rest == "" || rest == "/" {
		// Engine.IO (v4 and later clients) is served at the root with
		// EIO in the query; 0.9 clients never send it.
		if v, ok := eioRequest(r); ok {
			s.serveEIO(w, r, v)
			return
		}
	}
	originOK := s.checkOrigin(w, r)
	if r.Method == http.MethodOptions {
		s.preflight(w, r)
		return
	}
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case rest == "" || rest == "/":
		plain(w, http.StatusOK, "Welcome to socket.io.")
	case len(parts) == 1 && parts[0] == "socket.io.js":
		s.serveClient(w, r)
	case parts[0] != "1":
		if _, err := strconv.Atoi(parts[0]); err == nil {
			plain(w, http.StatusInternalServerError, "Protocol version not supported.")
			return
		}
		http.NotFound(w, r)
	case len(parts) == 1:
		s.handshake(w, r, originOK)
	case len(parts) > 3:
		http.NotFound(w, r)
	case !originOK:
		// Every request of a session is held to the handshake's rule.
		plain(w, http.StatusForbidden, "bad origin")
	case (len(parts) == 2 || len(parts) == 3) && queryHas(r, "disconnect"):
		// socket.io.js's disconnect-on-unload asks for /1//SID/?disconnect
		// (no transport); a mux that cleans paths turns that into /1/SID/.
		s.forceDisconnect(w, r, parts[len(parts)-1])
	case len(parts) == 3:
		s.serveTransport(w, r, parts[1], parts[2])
	default:
		http.NotFound(w, r)
	}
}

// checkOrigin applies the origin policy (Config.AllowedOrigins or
// CheckOrigin) to r and reports whether r may proceed. An allowed request
// with an Origin header gets it back in CORS headers, with credentials.
// Either way the answer says it varies with Origin (and, when some
// origins are refused, with Referer, which stands in for a missing
// Origin), so that no cache serves one origin's answer to another.
func (s *Server) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	if s.origins.restricted() {
		h.Add("Vary", "Origin, Referer")
	} else {
		h.Add("Vary", "Origin")
	}
	if !s.origins.allows(r) {
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	return true
}

// preflightAllowedHeaders are the request headers a preflight allows:
// the only one socket.io.js's XHR transports set.
const preflightAllowedHeaders = "Content-Type"

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", preflightAllowedHeaders)
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func jsonpIndex(r *http.Request) (string, bool) {
	j, _ := transport.QueryValue(r.URL.RawQuery, "jsonp")
	if j == "" || len(j) > 10 {
		return "", false
	}
	for _, c := range j {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return j, true
}

// handshake answers a handshake request; originOK is checkOrigin's
// verdict on it.
func (s *Server) handshake(w http.ResponseWriter, r *http.Request, originOK bool) {
	jsonp, isJSONP := jsonpIndex(r)
	// A handshake answer (a new session id, or a refusal) is never reused.
	w.Header().Set("Cache-Control", "no-store")
	fail := func(status int, msg string) {
		if isJSONP {
			w.Header().Set("Content-Type", "application/javascript")
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "io.j["+jsonp+"](new Error(\""+msg+"\"));")
			return
		}
		plain(w, status, msg)
	}
	origin := r.Header.Get("Origin")
	if !originOK {
		s.stats.handshakesRefused.Add(1)
		s.log.Info("handshake bad origin", "origin", lazylog.Client(origin), "referer", lazylog.Client(r.Header.Get("Referer")))
		fail(http.StatusForbidden, "handshake bad origin")
		return
	}
	s.mu.RLock()
	down, full := s.shutdown.Load(), s.cfg.MaxSessions > 0 && len(s.sessions)+len(s.sessions5) >= s.cfg.MaxSessions
	s.mu.RUnlock()
	if down || full || !s.limiter.allow(r.RemoteAddr, time.Now()) {
		s.stats.handshakesRefused.Add(1)
		fail(http.StatusServiceUnavailable, "handshake unavailable")
		return
	}
	hs, header, dropped, err := newHandshake(r, origin, true, s.cfg.MaxHandshakeBytes)
	if err != nil {
		s.stats.handshakesRefused.Add(1)
		s.log.Info("handshake refused", "address", r.RemoteAddr, "err", err)
		fail(http.StatusRequestURITooLong, err.Error())
		return
	}
	if dropped != nil {
		s.log.Info("handshake headers over MaxHandshakeBytes are not kept", "address", r.RemoteAddr,
			"dropped", lazylog.Client(strings.Join(dropped, ",")))
	}
	if s.cfg.Authorize != nil {
		// Authorize sees the whole handshake (as MaxHandshakeBytes bounds
		// it). When it changes nothing, the session keeps the compact
		// form (see newHandshake); otherwise what Authorize made of it.
		seen := hs
		if header != "" {
			full := *hs
			fillHandshake(&full, header)
			seen = &full
		}
		user, err := s.authorize(r.Context(), seen)
		if seen != hs && !sameHandshake(seen, hs, header) {
			hs, header = seen, ""
		}
		if errors.Is(err, ErrUnauthorized) {
			s.stats.handshakesRefused.Add(1)
			s.log.Info("handshake unauthorized", "address", hs.Address, "err", err)
			fail(http.StatusForbidden, "handshake unauthorized")
			return
		}
		if err != nil {
			s.stats.handshakesRefused.Add(1)
			s.log.Warn("handshake error", "err", err)
			fail(http.StatusInternalServerError, "handshake error")
			return
		}
		hs.User = user
	}
	sid := newSessionID()
	sess := newSession(s, sid, hs, header)
	s.mu.Lock()
	if s.shutdown.Load() {
		// Shutdown began while this handshake was being authorized: it
		// has taken its list of sessions and would never close this one.
		s.mu.Unlock()
		s.stats.handshakesRefused.Add(1)
		fail(http.StatusServiceUnavailable, "handshake unavailable")
		return
	}
	s.sessions[sid] = sess
	s.mu.Unlock()
	sess.expireUnused()
	// Registered before the client learns the id, so that its next
	// request finds the session from any node.
	s.register(r.Context(), sid)
	s.stats.handshakesAccepted.Add(1)
	body := sid + ":" + strconv.Itoa(seconds(s.cfg.HeartbeatTimeout)) + ":" +
		strconv.Itoa(seconds(s.cfg.CloseTimeout)) + ":" + strings.Join(s.cfg.Transports, ",")
	if isJSONP {
		js, _ := json.Marshal(body)
		w.Header().Set("Content-Type", "application/javascript")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "io.j["+jsonp+"]("+string(js)+");")
		return
	}
	plain(w, http.StatusOK, body)
}

// authorize runs Config.Authorize, turning a panic into an error (which
// answers 500, as the refusals that are not ErrUnauthorized do).
func (s *Server) authorize(ctx context.Context, hs *Handshake) (user any, err error) {
	defer func() {
		if r := recover(); r != nil {
			user, err = nil, fmt.Errorf("authorization panicked: %v", r)
		}
	}()
	return s.cfg.Authorize(ctx, hs)
}

// forceDisconnect closes a session synchronously (?disconnect on any
// transport URL), whether or not a poll is pending.
func (s *Server) forceDisconnect(w http.ResponseWriter, r *http.Request, sid string) {
	if sess := s.lookup(sid); sess != nil {
		sess.close(ReasonForcedClose, nil)
	} else if s.forward(w, r, sid, func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }) {
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) serveTransport(w http.ResponseWriter, r *http.Request, name, sid string) {
	if !s.cfg.transportEnabled(name) {
		plain(w, http.StatusBadRequest, "transport not supported")
		return
	}
	sess := s.lookup(sid)
	if sess == nil && s.forward(w, r, sid, func(w http.ResponseWriter) { s.serveSession(w, r, name, nil) }) {
		return
	}
	s.serveSession(w, r, name, sess)
}

// serveSession serves a transport request for sess (nil: an unknown or
// closed session).
func (s *Server) serveSession(w http.ResponseWriter, r *http.Request, name string, sess *session) {
	if r.Method == http.MethodPost {
		s.servePost(w, r, name, sess)
		return
	}
	if r.Method != http.MethodGet {
		plain(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if name == transport.WebSocket && !transport.IsWebSocketUpgrade(r) {
		plain(w, http.StatusBadRequest, "websocket upgrade required")
		return
	}
	var ts transport.WakeableSession = deadSession{}
	if sess != nil {
		kind := attachPoll
		if name == transport.WebSocket || name == transport.HTMLFile {
			kind = attachStream
		}
		switch sess.attachAs(name, kind) {
		case attachBusy:
			// One stream per session: see attachAs and the package doc.
			plain(w, http.StatusConflict, "session already has a stream")
			return
		case attachOK:
			ts = sess
		}
	}
	switch name {
	case transport.WebSocket:
		s.serveWebSocket(w, r, ts)
	case transport.HTMLFile:
		if live, ok := ts.(*session); ok {
			defer live.endStream()
		}
		transport.ServeHTMLFile(r.Context(), w, ts, s.cfg.WriteTimeout)
	default: // polling
		ctx := r.Context()
		if live, ok := ts.(*session); ok {
			var end func()
			ctx, end = live.startPoll(ctx)
			defer end()
		}
		pkts, _ := ts.Take(ctx)
		transport.WritePoll(w, r, name, pkts, s.cfg.WriteTimeout)
		ts.Hold(-transport.PacketBytes(pkts))
	}
}

// serveWebSocket upgrades the request; a live session is already attached
// as its stream (attachAs).
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request, ts transport.WakeableSession) {
	live, ok := ts.(*session)
	opts := transport.WebSocketOptions{
		// The origin was checked by ServeHTTP, as for every request.
		MaxMessageSize: s.cfg.MaxMessageBytes,
		WriteTimeout:   s.cfg.WriteTimeout,
	}
	// A live session ends with its websocket (session.TransportClosed).
	//
	// The connection runs in the background; the handler returns, so the
	// idle connection keeps no net/http goroutine or buffers but the reader's.
	if err := transport.ServeWebSocket(w, r, ts, opts); err != nil && ok {
		// The upgrade failed: nothing was attached after all.
		live.streamFailed()
	}
}

func (s *Server) servePost(w http.ResponseWriter, r *http.Request, name string, sess *session) {
	if sess == nil {
		plain(w, http.StatusBadRequest, "client not handshaken")
		return
	}
	// A client that trickles its body cannot hold the request open: the
	// body must arrive within PostTimeout. The deadline is lifted once it
	// has; after a failed read it stays, so that net/http does not wait
	// for the rest of the body either.
	rc := http.NewResponseController(w)
	bounded := rc.SetReadDeadline(time.Now().Add(s.cfg.PostTimeout)) == nil
	payload, err := transport.ReadPost(r, name, s.cfg.MaxBodyBytes)
	if err != nil {
		s.log.Debug("bad post", "sid", sess.id, "err", lazylog.ClientErr(err))
		status, msg := http.StatusBadRequest, err.Error()
		switch {
		case errors.Is(err, transport.ErrBodyTooLarge):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(err, os.ErrDeadlineExceeded):
			status, msg = http.StatusRequestTimeout, "request body timeout"
			w.Header().Set("Connection", "close")
		}
		plain(w, status, msg)
		return
	}
	if bounded {
		_ = rc.SetReadDeadline(time.Time{})
	}
	if !sess.attach(name) {
		plain(w, http.StatusBadRequest, "client not handshaken")
		return
	}
	sess.Receive(payload)
	transport.WritePostOK(w)
}

// Shutdown stops accepting handshakes, tells every client its session is
// over and waits until every session has closed or ctx ends; then it
// closes what is left. Clients are told to reconnect ("7:::1+0", which
// socket.io.js answers by reconnecting — to this node once it is back, or
// to another behind the same balancer), or, with Config.ShutdownKick, that
// they were disconnected ("0::", no reconnect). Each client gets what was
// queued for it before the goodbye. A polling session whose client does
// not poll again within ShutdownLinger is closed without waiting for the
// close timeout.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdown.Store(true)
	s.mu.Lock()
	if s.drained == nil {
		s.drained = make(chan struct{})
		if len(s.sessions) == 0 && len(s.sessions5) == 0 {
			close(s.drained)
		}
	}
	drained := s.drained
	sessions := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	sessions5 := make([]*session5, 0, len(s.sessions5))
	for _, sess := range s.sessions5 {
		sessions5 = append(sessions5, sess)
	}
	s.mu.Unlock()
	goodbye := frameReconnect
	if s.cfg.ShutdownKick {
		goodbye = frameGoodbye
	}
	// Handlers still running finish first, so their acks and emits are
	// queued before the goodbye: stop every socket (nothing new starts),
	// wait for what runs (bounded by ctx), then say goodbye.
	stopped := make([][]*Socket, len(sessions), len(sessions)+len(sessions5))
	for i, sess := range sessions {
		stopped[i] = sess.stopSockets(ReasonShutdown)
	}
	for _, sess := range sessions5 {
		stopped = append(stopped, sess.stopSockets(ReasonShutdown))
	}
	for _, socks := range stopped {
		for _, sock := range socks {
			_ = sock.drain(ctx)
		}
	}
	for _, sess := range sessions {
		sess.close(ReasonShutdown, goodbye)
	}
	// v5 clients whose connection closes reconnect by themselves; with
	// ShutdownKick they are told first that the server disconnected each
	// of their sockets ("io server disconnect": no reconnect).
	for i, sess := range sessions5 {
		if s.cfg.ShutdownKick {
			for _, sock := range stopped[len(sessions)+i] {
				sess.Send(codecOf(sess.proto).disconnect(sock.ns.name), false)
			}
		}
		sess.conn.Close()
	}
	defer s.closeForwarder()
	if s.eio != nil {
		defer s.eio.Close()
	}
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
		s.Close()
		return ctx.Err()
	}
}

// clock is the time since the server was made, on the monotonic clock:
// sessions keep their deadlines in it.
func (s *Server) clock() time.Duration { return time.Since(s.epoch) }

// lingerTimeout is how long a closing polling session waits for its client
// to come for the goodbye packet.
func (s *Server) lingerTimeout() time.Duration {
	if s.shutdown.Load() {
		return min(s.cfg.CloseTimeout, s.cfg.ShutdownLinger)
	}
	return s.cfg.CloseTimeout
}

// countOut counts packets handed to a transport.
func (s *Server) countOut(pkts [][]byte) {
	if len(pkts) == 0 {
		return
	}
	n := 0
	for _, p := range pkts {
		n += len(p)
	}
	s.stats.packetsOut.Add(uint64(len(pkts)))
	s.stats.bytesOut.Add(uint64(n))
}

// Close closes every session at once, without waiting.
func (s *Server) Close() {
	s.shutdown.Store(true)
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.close(ReasonShutdown, nil)
	}
	for _, sess := range s.sessions5List() {
		sess.Close(ReasonShutdown)
	}
	if s.eio != nil {
		s.eio.Close()
	}
	s.closeForwarder()
}

// queryHas reports whether r's query has name, with any value (as
// Query().Has(name), without parsing the whole query).
func queryHas(r *http.Request, name string) bool {
	_, ok := transport.QueryValue(r.URL.RawQuery, name)
	return ok
}
