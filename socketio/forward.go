package socketio

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/siogo/siogo/internal/transport"
)

// SessionDirectory records which node of a cluster holds each session, so
// that a node receiving a request for a session it does not hold can
// forward it to the node that does (see Config.Sessions and the package
// documentation, "Several nodes"). Package redis implements it
// (*redis.Cluster). Its methods are called concurrently.
type SessionDirectory interface {
	// Register records that the node at addr (its Config.NodeAddr) holds
	// the session sid. The server calls it once per handshake, before
	// answering the handshake; the directory keeps the entry while that
	// node lives, until Unregister. An error is logged and the session
	// goes on: requests that reach this node work, and the directory may
	// record the session later (the redis Cluster retries).
	Register(ctx context.Context, sid, addr string) error
	// Lookup returns the address of the live node holding sid, or "" if
	// there is none (an unknown, closed or expired session, or one whose
	// node died).
	//
	// The server proxies the client's request there, headers and cookies
	// included, so Lookup must return only addresses that a live node of
	// the cluster registered for itself, never one read unchecked from
	// shared storage: otherwise whoever can write the directory chooses
	// where clients' requests go (server-side request forgery). The redis
	// Cluster answers an entry only with the address its node registered
	// (see "Trust" in package redis).
	Lookup(ctx context.Context, sid string) (addr string, err error)
	// Unregister forgets sid: its session closed on this node. It must
	// not block.
	Unregister(sid string)
}

// ForwardedHeader marks a request that a node forwarded to the node
// holding its session; its value is the forwarding node's NodeAddr. A
// request that carries it is served locally, never forwarded again.
const ForwardedHeader = "X-Siogo-Forwarded"

// directoryTimeout bounds a Register or Lookup.
const directoryTimeout = 2 * time.Second

// forwarder sends requests for sessions held by other nodes to them.
type forwarder struct {
	dir      SessionDirectory
	self     string
	tr       *http.Transport
	errorLog *slog.Logger
	lastWarn atomic.Int64 // unix nanoseconds of the last directory warning
}

func newForwarder(cfg Config) *forwarder {
	if cfg.Sessions == nil {
		return nil
	}
	if cfg.NodeAddr == "" {
		cfg.Logger.Warn("Config.Sessions is set without Config.NodeAddr: sessions are not shared, requests are not forwarded")
		return nil
	}
	return &forwarder{
		dir:  cfg.Sessions,
		self: cfg.NodeAddr,
		tr: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			// A long-poll is answered within PollingDuration (0.9) or
			// PingInterval (v4: the ping answers it; nodes share a
			// configuration); other requests at once. A node that hangs
			// does not hold a forwarded request for ever.
			ResponseHeaderTimeout: max(2*cfg.PollingDuration, cfg.PingInterval+cfg.PingTimeout) + cfg.WriteTimeout,
		},
		errorLog: cfg.Logger,
	}
}

// register records a new session in the directory, if there is one.
func (s *Server) register(ctx context.Context, sid string) {
	f := s.fwd
	if f == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, directoryTimeout)
	defer cancel()
	if err := f.dir.Register(ctx, sid, f.self); err != nil {
		s.directoryWarn("cannot register the session; other nodes cannot forward its requests", "sid", sid, "err", err)
	}
}

// unregister removes a closed session from the directory.
func (s *Server) unregister(sid string) {
	if s.fwd != nil {
		s.fwd.dir.Unregister(sid)
	}
}

// directoryWarn logs a directory or forwarding failure, at most once per
// 5 s (the others at debug level), so that an outage does not flood the
// log.
func (s *Server) directoryWarn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := s.fwd.lastWarn.Load()
	if now-last >= int64(5*time.Second) && s.fwd.lastWarn.CompareAndSwap(last, now) {
		s.log.Warn(msg, args...)
		return
	}
	s.log.Debug(msg, args...)
}

// forward serves a request for session sid, which this node does not hold,
// by proxying it to the node that holds it, and reports true. It reports
// false, having written nothing, when there is no such node: no directory,
// a request already forwarded, an unknown sid, or a directory error. If
// the owner cannot be reached, fallback answers instead (as for an unknown
// session).
func (s *Server) forward(w http.ResponseWriter, r *http.Request, sid string, fallback func(http.ResponseWriter)) bool {
	return s.forwardTo(w, r, sid, fallback, false)
}

// forward5 is forward for an Engine.IO v4 request (polling GET or POST,
// or a websocket upgrade) naming a session this node does not hold. It
// reports false, having written nothing, for a request the local engine
// answers: without a directory, a preflight, a handshake, a session held
// here, or an origin this node refuses. The owner's CORS headers go back
// to the client (it checks the origin with the same configuration).
func (s *Server) forward5(w http.ResponseWriter, r *http.Request) bool {
	if s.fwd == nil || r.Method == http.MethodOptions {
		return false
	}
	sid, _ := transport.QueryValue(r.URL.RawQuery, "sid")
	if sid == "" || s.holds5(sid) || !s.origins.allows(r) {
		return false
	}
	return s.forwardTo(w, r, sid, func(w http.ResponseWriter) {
		// As the engine answers an unknown sid.
		h := w.Header()
		if o := r.Header.Get("Origin"); o != "" {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
		}
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"code":1,"message":"Session ID unknown"}`)
	}, true)
}

// forwardTo is forward; ownerCORS keeps the CORS headers of the owner's
// answer (this node has set none).
func (s *Server) forwardTo(w http.ResponseWriter, r *http.Request, sid string, fallback func(http.ResponseWriter), ownerCORS bool) bool {
	f := s.fwd
	if f == nil || r.Header.Get(ForwardedHeader) != "" || !isSessionID(sid) {
		return false
	}
	ctx, cancel := context.WithTimeout(r.Context(), directoryTimeout)
	addr, err := f.dir.Lookup(ctx, sid)
	cancel()
	if err != nil {
		s.stats.forwardFailures.Add(1)
		s.directoryWarn("session lookup failed; answering as for an unknown session", "sid", sid, "err", err)
		return false
	}
	if addr == "" || addr == f.self {
		return false
	}
	// A POST's body must arrive within PostTimeout here too (the owner's
	// deadline would not stop this node waiting for it). The deadline
	// stays for the rest of the request; a body cut off by it is answered
	// 408, as the owner would.
	var body *postBody
	if r.Method == http.MethodPost && r.Body != nil && r.Body != http.NoBody {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.PostTimeout))
		body = &postBody{ReadCloser: r.Body}
		r.Body = body
	}
	target := &url.URL{Scheme: "http", Host: addr}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// Keep what a balancer in front recorded, and add this hop.
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
			pr.Out.Header.Set(ForwardedHeader, f.self)
		},
		Transport:     f.tr,
		FlushInterval: -1, // htmlfile chunks and poll answers go out at once
		ModifyResponse: func(resp *http.Response) error {
			if ownerCORS {
				return nil
			}
			// This node already checked the origin and set the CORS
			// headers and Vary (same configuration).
			resp.Header.Del("Access-Control-Allow-Origin")
			resp.Header.Del("Access-Control-Allow-Credentials")
			resp.Header.Del("Vary")
			return nil
		},
		ErrorLog: slog.NewLogLogger(f.errorLog.Handler(), slog.LevelDebug),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if body != nil && body.timedOut.Load() {
				w.Header().Set("Connection", "close")
				plain(w, http.StatusRequestTimeout, "request body timeout")
				return
			}
			if r.Context().Err() != nil || errors.Is(err, context.Canceled) {
				return // the client went away
			}
			s.stats.forwardFailures.Add(1)
			s.directoryWarn("cannot forward to the session's node; answering as for an unknown session",
				"sid", sid, "node", addr, "err", err)
			fallback(w)
		},
	}
	s.stats.forwarded.Add(1)
	rp.ServeHTTP(w, r)
	return true
}

// postBody is a forwarded POST's body; it records whether a read failed
// at the read deadline.
type postBody struct {
	io.ReadCloser
	timedOut atomic.Bool
}

func (b *postBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.timedOut.Store(true)
	}
	return n, err
}

// closeForwarder releases the idle connections to other nodes.
func (s *Server) closeForwarder() {
	if s.fwd != nil {
		s.fwd.tr.CloseIdleConnections()
	}
}
