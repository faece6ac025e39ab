package socketio

// newEngine5 makes the Engine.IO v4 server of s's v5 sessions. Until the
// engine exists there is none: EIO=4 requests are answered as an
// unsupported version.
func newEngine5(s *Server) engine5 { return nil }
