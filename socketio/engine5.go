package socketio

import (
	"net/http"

	"github.com/siogo/siogo/internal/engineio"
)

// newEngine5 makes the Engine.IO v4 server of s's v5 sessions, configured
// from s's Config: PingInterval, PingTimeout, MaxPayload, WriteTimeout,
// MaxQueuedBytes, SendQueueSize and the origin policy of the 0.9
// sessions (AllowedOrigins or CheckOrigin). MaxSessions, the handshake
// rate limit and Authorize are applied by open5, for both generations.
func newEngine5(s *Server) engine5 {
	return engineio.NewServer(engineio.Config{
		PingInterval:   s.cfg.PingInterval,
		PingTimeout:    s.cfg.PingTimeout,
		MaxPayload:     s.cfg.MaxPayload,
		CheckOrigin:    s.origins.allows,
		WriteTimeout:   s.cfg.WriteTimeout,
		MaxQueuedBytes: s.cfg.MaxQueuedBytes,
		SendQueueSize:  s.cfg.SendQueueSize,
		Logger:         s.cfg.Logger,
	}, engineHandler{s})
}

// engineHandler opens the v5 sessions of a Server (engineio.Handler).
type engineHandler struct{ srv *Server }

func (h engineHandler) Open(c *engineio.Conn, r *http.Request) (engineio.Session, error) {
	sess, err := h.srv.open5(c, r)
	if err != nil {
		return nil, err
	}
	return sess, nil
}

var (
	_ eioConn          = (*engineio.Conn)(nil)
	_ engineio.Session = (*session5)(nil)
)
