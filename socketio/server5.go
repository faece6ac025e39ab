package socketio

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/siogo/siogo/internal/engineio"
	"github.com/siogo/siogo/internal/lazylog"
	"github.com/siogo/siogo/internal/transport"
)

// engine5 is the Engine.IO v4 server of a Server's v5 sessions: what
// ServeHTTP hands the requests with EIO=4 (engine5.go makes it).
type engine5 interface {
	http.Handler
	Close()
}

// Answers to refused Engine.IO v4 handshakes.
var (
	errEIOUnavailable = &engineio.HTTPError{Status: http.StatusServiceUnavailable, Code: 3, Message: "Server unavailable"}
	// errEIOUnauthorized refuses a handshake Config.Authorize refused,
	// with the text 0.9 clients get ("handshake unauthorized").
	errEIOUnauthorized = &engineio.HTTPError{Status: http.StatusForbidden, Code: 4, Message: "handshake unauthorized"}
	errEIOAuthFailed   = &engineio.HTTPError{Status: http.StatusInternalServerError, Code: 3, Message: "handshake error"}
	errEIOURLTooLong   = &engineio.HTTPError{Status: http.StatusRequestURITooLong, Code: 3, Message: "handshake URL too long"}
)

// eioRequest reports whether a request to the server's root is an
// Engine.IO request — it has EIO or transport in its query, which 0.9
// clients never send there — and returns its EIO version ("" when it has
// none). The query is parsed only when it mentions either.
func eioRequest(r *http.Request) (version string, ok bool) {
	q := r.URL.RawQuery
	if !strings.Contains(q, "EIO=") && !strings.Contains(q, "transport=") {
		return "", false
	}
	version, ok = transport.QueryValue(q, "EIO")
	if !ok {
		_, ok = transport.QueryValue(q, "transport")
	}
	return version, ok
}

// serveEIO serves an Engine.IO request with the EIO query parameter v:
// EIO=4 and EIO=3 go to the Engine.IO engine (which serves both; v3
// sessions carry Socket.IO v4, the protocol of socket.io-client 1.x and
// 2.x), any other version (or none) is answered 400
// {"code":5,"message":"Unsupported protocol version"} as the Node.js
// server answers it.
func (s *Server) serveEIO(w http.ResponseWriter, r *http.Request, v string) {
	if v != "4" && v != "3" || s.eio == nil {
		// With CORS headers, as the engine's answers, so that a page on
		// another origin can read the refusal.
		s.checkOrigin(w, r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"code":5,"message":"Unsupported protocol version"}`))
		return
	}
	if s.forward5(w, r) {
		return
	}
	s.eio.ServeHTTP(w, r)
}

// holds5 reports whether this node holds the v5 session sid.
func (s *Server) holds5(sid string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sessions5[sid] != nil
}

// open5 makes the v5 session of a new Engine.IO session (the engine's
// Handler.Open): the handshake limits (shutdown, MaxSessions counting
// both generations, HandshakesPerSecond), the Handshake built from the
// request as for 0.9, and Config.Authorize.
func (s *Server) open5(c eioConn, r *http.Request) (*session5, error) {
	s.mu.RLock()
	down := s.shutdown.Load()
	full := s.cfg.MaxSessions > 0 && len(s.sessions)+len(s.sessions5) >= s.cfg.MaxSessions
	s.mu.RUnlock()
	if down || full || !s.limiter.allow(r.RemoteAddr, time.Now()) {
		s.stats.handshakesRefused.Add(1)
		return nil, errEIOUnavailable
	}
	hs, header, dropped, err := newHandshake(r, r.Header.Get("Origin"), true, s.cfg.MaxHandshakeBytes)
	if err != nil {
		s.stats.handshakesRefused.Add(1)
		s.log.Info("handshake refused", "address", r.RemoteAddr, "err", err)
		return nil, errEIOURLTooLong
	}
	if dropped != nil {
		s.log.Info("handshake headers over MaxHandshakeBytes are not kept", "address", r.RemoteAddr,
			"dropped", lazylog.Client(strings.Join(dropped, ",")))
	}
	if s.cfg.Authorize != nil {
		// As for 0.9 (Server.handshake): Authorize sees the whole
		// handshake; the session keeps the compact form unless Authorize
		// changed it.
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
			return nil, errEIOUnauthorized
		}
		if err != nil {
			s.stats.handshakesRefused.Add(1)
			s.log.Warn("handshake error", "err", err)
			return nil, errEIOAuthFailed
		}
		hs.User = user
	}
	sess := newSession5(s, c, hs, header)
	// A polling session is registered before the client learns its id
	// (Open runs before the handshake is answered), so that its next
	// request finds it from any node. A websocket session makes no other
	// request.
	sess.registered = s.fwd != nil && c.Transport() == engineio.Polling
	if sess.registered {
		s.register(r.Context(), c.ID())
	}
	s.mu.Lock()
	if s.shutdown.Load() {
		s.mu.Unlock()
		if sess.registered {
			s.unregister(c.ID())
		}
		s.stats.handshakesRefused.Add(1)
		return nil, errEIOUnavailable
	}
	s.sessions5[c.ID()] = sess
	s.mu.Unlock()
	s.stats.handshakesAccepted.Add(1)
	if sess.proto == proto4 {
		// A 2.x client is in the default namespace from the start: the
		// server connects it and says so ("40"), as the Node.js server
		// does for Engine.IO v3 clients.
		sess.connectNamespace("/", nil, "")
	}
	sess.startConnectTimeout()
	return sess, nil
}

// forget5 forgets a closed v5 session.
func (s *Server) forget5(sess *session5) {
	s.mu.Lock()
	forgotten := s.sessions5[sess.conn.ID()] == sess
	if forgotten {
		delete(s.sessions5, sess.conn.ID())
	}
	s.checkDrainedLocked()
	s.mu.Unlock()
	if forgotten && sess.registered {
		s.unregister(sess.conn.ID())
	}
}

// checkDrainedLocked closes drained once shutting down with no session
// of either generation left; mu is held.
func (s *Server) checkDrainedLocked() {
	if s.shutdown.Load() && len(s.sessions) == 0 && len(s.sessions5) == 0 && s.drained != nil {
		select {
		case <-s.drained:
		default:
			close(s.drained)
		}
	}
}

// sessions5List returns the open v5 sessions.
func (s *Server) sessions5List() []*session5 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*session5, 0, len(s.sessions5))
	for _, sess := range s.sessions5 {
		out = append(out, sess)
	}
	return out
}
