package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/siogo/siogo/internal/engineio"
	"github.com/siogo/siogo/internal/lazylog"
	"github.com/siogo/siogo/internal/sioparser"
	"github.com/siogo/siogo/packet"
)

// Disconnect reasons of Socket.IO v5 sockets that have no 0.9
// counterpart. The others map to the constants above (see "Modern
// clients" in the package documentation): the Node.js server's "server
// namespace disconnect" is ReasonBooted, "client namespace disconnect"
// ReasonPacket, "transport close" ReasonSocketEnd, "ping timeout"
// ReasonHeartbeatTimeout, "server shutting down" ReasonShutdown, and a
// session closed as a slow consumer ReasonSlowConsumer.
const (
	ReasonTransportError = "transport error" // a v5 transport failed (a write timed out, a duplicate poll, ...)
	ReasonParseError     = "parse error"     // a v5 client sent a packet that does not decode
)

// Engine.IO close reasons (engineio's Reason constants), mapped by
// reason5.
const (
	eioTransportClose = "transport close"
	eioTransportError = "transport error"
	eioPingTimeout    = "ping timeout"
	eioParseError     = "parse error"
	eioForcedClose    = "forced close"
	eioSlowConsumer   = "slow consumer"
	eioServerShutdown = "server shutting down"
)

// reason5 maps an Engine.IO close reason to the disconnect reason the
// sockets of the session get.
func reason5(eio string) string {
	switch eio {
	case eioTransportClose:
		return ReasonSocketEnd
	case eioTransportError:
		return ReasonTransportError
	case eioPingTimeout:
		return ReasonHeartbeatTimeout
	case eioParseError:
		return ReasonParseError
	case eioForcedClose:
		return ReasonForcedClose
	case eioSlowConsumer:
		return ReasonSlowConsumer
	case eioServerShutdown:
		return ReasonShutdown
	}
	return eio
}

// eioConn is what a v5 session needs of its Engine.IO session: the
// methods of engineio.Conn (see internal/engineio/api.go).
type eioConn interface {
	ID() string
	Transport() string
	Send(pkts [][]byte, volatile bool) bool
	Close()
	QueuedBytes() int
	Protocol() int
}

// protocolOf is the Socket.IO protocol of the sessions of conn: v4 over
// an Engine.IO v3 session (Protocol() 3), v5 over Engine.IO v4.
func protocolOf(conn eioConn) protocolID {
	if conn.Protocol() == 3 {
		return proto4
	}
	return proto5
}

// protocolName names a session's protocol in the logs and in
// Stats.Protocols: "v5" for the 3.x/4.x clients, "eio3" for the 1.x/2.x
// ones (whose Socket.IO protocol is v4, a name the 4.x clients would be
// mistaken for).
func protocolName(p protocolID) string {
	switch p {
	case proto4:
		return "eio3"
	case proto5:
		return "v5"
	}
	return "0.9"
}

// session5 is one Socket.IO v5 client: an Engine.IO v4 session
// (engineio.Session: the engine calls OnMessage, OnBinary and OnClose
// from one goroutine at a time) and the sessionConn of its sockets, one
// per namespace, each with an id of its own.
//
// With proto set to proto4 it is a Socket.IO v4 client (socket.io-client
// 1.x and 2.x) over an Engine.IO v3 session instead: the same but for
// the namespace handshake (connectNamespace), the errors (proto4Codec)
// and the socket ids (sockID4).
//
// conn, srv, proto and registered never change; dec is the engine
// goroutine's; mu guards the rest, closed and refusedLogged (which share
// a word with proto, registered and mu), and hs (nil, or without its
// Headers and Query, until the Handshake is first asked for: see
// compactHandshake).
//
// An idle session is kept small (144 bytes): the sockets are a slice (a
// session has one namespace or a few), the decoder exists only while a
// binary packet awaits its attachments, and the authorization context
// only once a namespace's authorization asked for it.
type session5 struct {
	srv  *Server
	conn eioConn
	// eng is conn when it is an *engineio.Conn (always, but in tests):
	// Send calls it directly, so that the packets' slice stays on the
	// stack.
	eng *engineio.Conn
	hs  *Handshake
	// dec is the decoder of a binary packet awaiting its attachments;
	// nil when none is pending (text packets are decoded by a decoder
	// on the stack).
	dec   *sioparser.Decoder
	proto protocolID
	// registered: the session is in Config.Sessions (set before the
	// session is published).
	registered bool
	closed     bool
	// refusedLogged: a namespace refusal was logged at info level.
	refusedLogged bool

	mu sync.Mutex
	// hsHeader is non-empty until the Handshake is first asked for:
	// what compactHandshake kept (see session.Handshake).
	hsHeader packedHeader
	sockets  []nsSocket // one per connected namespace
	// reason is the disconnect reason Close gave, for OnClose (which
	// gets the engine's "forced close").
	reason string
	timer  *time.Timer // the connect timeout; nil once stopped
	// auth holds the context of the namespaces' authorization, made on
	// first use and cancelled when the session ends; nil before.
	auth *authContext
}

// authContext is a session's context for the namespaces' authorization.
type authContext struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// nsSocket is a session's socket in a namespace.
type nsSocket struct {
	ns   string // the namespace's name ("" is "/")
	sock *Socket
}

func newSession5(srv *Server, conn eioConn, hs *Handshake, header packedHeader) *session5 {
	hs, header = compactHandshake(hs, header)
	s := &session5{srv: srv, conn: conn, proto: protocolOf(conn), hs: hs, hsHeader: header}
	s.eng, _ = conn.(*engineio.Conn)
	return s
}

// decoderOptions are the options of the session's decoders.
func (s *session5) decoderOptions() sioparser.Options {
	o := sioparser.Options{Protocol: sioparser.V5, MaxAttachments: s.srv.cfg.MaxAttachments,
		MaxAttachmentBytes: s.srv.cfg.MaxAttachmentBytes}
	if s.proto == proto4 {
		o.Protocol = sioparser.V4
	}
	return o
}

// socketLocked returns the socket of namespace ns, or nil; mu is held.
func (s *session5) socketLocked(ns string) *Socket {
	for i := range s.sockets {
		if s.sockets[i].ns == ns {
			return s.sockets[i].sock
		}
	}
	return nil
}

// setSocketLocked makes sock the socket of namespace ns; mu is held.
func (s *session5) setSocketLocked(ns string, sock *Socket) {
	for i := range s.sockets {
		if s.sockets[i].ns == ns {
			s.sockets[i].sock = sock
			return
		}
	}
	s.sockets = append(s.sockets, nsSocket{ns, sock})
}

// removeSocketLocked forgets the socket of namespace ns and returns it
// (nil: none); mu is held.
func (s *session5) removeSocketLocked(ns string) *Socket {
	for i := range s.sockets {
		if s.sockets[i].ns == ns {
			sock := s.sockets[i].sock
			s.sockets = slices.Delete(s.sockets, i, i+1)
			if len(s.sockets) == 0 {
				s.sockets = nil
			}
			return sock
		}
	}
	return nil
}

// takeSocketsLocked forgets every socket and returns them; mu is held.
func (s *session5) takeSocketsLocked() []*Socket {
	socks := make([]*Socket, len(s.sockets))
	for i := range s.sockets {
		socks[i] = s.sockets[i].sock
	}
	s.sockets = nil
	return socks
}

// startConnectTimeout closes the session if it has not connected a
// namespace ConnectTimeout from now (as the Node.js server's
// connectTimeout).
func (s *session5) startConnectTimeout() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.timer = time.AfterFunc(s.srv.cfg.ConnectTimeout, func() {
		s.mu.Lock()
		idle := !s.closed && len(s.sockets) == 0
		s.timer = nil
		s.mu.Unlock()
		if idle {
			s.logAt(slog.LevelDebug, "no namespace connected in time, closing")
			s.conn.Close()
		}
	})
}

func (s *session5) logAt(level slog.Level, msg string, args ...any) {
	if lazylog.Enabled(s.srv.log, level) {
		lazylog.Write(s.srv.log, level, msg, []slog.Attr{slog.String("sid", s.conn.ID()), slog.String("protocol", protocolName(s.proto))}, args)
	}
}

// ID implements sessionConn: the Engine.IO session id. The sockets have
// ids of their own.
func (s *session5) ID() string { return s.conn.ID() }

// Handshake implements sessionConn. It fills in what newHandshake left
// out the first time it is called.
func (s *session5) Handshake() *Handshake {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hsHeader != "" {
		s.hs = expandHandshake(s.hs, s.hsHeader)
		s.hsHeader = ""
	}
	return s.hs
}

// Transport implements sessionConn: "polling" or "websocket".
func (s *session5) Transport() string { return s.conn.Transport() }

func (s *session5) protocol() protocolID { return s.proto }

// authContext is the context of a namespace's authorization: cancelled
// when the session ends (already, if it has).
func (s *session5) authContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth == nil {
		a := &authContext{}
		a.ctx, a.cancel = context.WithCancelCause(context.Background())
		if s.closed {
			a.cancel(&DisconnectError{Reason: s.reason})
		}
		s.auth = a
	}
	return s.auth.ctx
}

// Send implements sessionConn: frame is one Engine.IO packet or a
// multi-frame buffer (proto5Codec), queued all or nothing.
func (s *session5) Send(frame []byte, volatile bool) bool {
	var n int
	if s.eng != nil {
		n = send5(s.eng, frame, volatile)
	} else {
		var one [1][]byte
		if pkts := splitFrames(frame, &one); pkts != nil && s.conn.Send(append([][]byte(nil), pkts...), volatile) {
			n = len(pkts)
		}
	}
	if n == 0 {
		return false
	}
	s.srv.stats.packetsOut.Add(uint64(n))
	s.srv.stats.bytesOut.Add(uint64(len(frame)))
	return true
}

// send5 queues frame (one Engine.IO packet or a multi-frame buffer) on c,
// all or nothing, and returns the number of packets queued (0: none).
func send5(c *engineio.Conn, frame []byte, volatile bool) int {
	var one [1][]byte
	pkts := splitFrames(frame, &one)
	if pkts == nil || !c.Send(pkts, volatile) {
		return 0
	}
	return len(pkts)
}

// Close implements sessionConn: the whole Engine.IO session ends (what
// is queued is sent first) and every socket disconnects with reason.
func (s *session5) Close(reason string) {
	s.mu.Lock()
	if s.reason == "" {
		s.reason = reason
	}
	s.mu.Unlock()
	s.conn.Close()
}

// OnMessage implements engineio.Session: a text packet.
func (s *session5) OnMessage(text string) {
	s.srv.stats.packetsIn.Add(1)
	s.srv.stats.bytesIn.Add(uint64(len(text)))
	if packet.JSONDepth(text) > s.srv.cfg.MaxJSONDepth {
		s.bad(errors.New("packet nested deeper than Config.MaxJSONDepth"))
		return
	}
	var p sioparser.Packet
	var done bool
	var err error
	if s.dec != nil {
		p, done, err = s.dec.AddText(text)
		if s.dec.Awaiting() == 0 {
			s.dec = nil
		}
	} else {
		var dec sioparser.Decoder
		dec.Options = s.decoderOptions()
		p, done, err = dec.AddText(text)
		if dec.Awaiting() > 0 {
			pending := dec // dec itself stays on the stack
			s.dec = &pending
		}
	}
	if err != nil {
		s.bad(err)
		return
	}
	if done {
		s.handle(&p)
	}
}

// OnBinary implements engineio.Session: a binary packet, an attachment
// of the pending binary packet.
func (s *session5) OnBinary(data []byte) {
	s.srv.stats.packetsIn.Add(1)
	s.srv.stats.bytesIn.Add(uint64(len(data)))
	if s.dec == nil {
		s.dec = &sioparser.Decoder{Options: s.decoderOptions()}
	}
	p, done, err := s.dec.AddBinary(data)
	if s.dec.Awaiting() == 0 {
		s.dec = nil
	}
	if err != nil {
		s.bad(err)
		return
	}
	if done {
		s.handle(&p)
	}
}

// bad closes the session after a packet that does not decode, as the
// Node.js server does (its sockets get ReasonParseError).
func (s *session5) bad(err error) {
	s.srv.stats.decodeErrors.Add(1)
	s.logAt(slog.LevelDebug, "closing after a bad packet", "transport", s.conn.Transport(), "err", lazylog.ClientErr(err))
	if s.srv.errs != nil {
		s.srv.errs.report(&HandlerError{SocketID: s.conn.ID(), Err: badPacketError("packet", err)})
	}
	s.Close(ReasonParseError)
}

func (s *session5) socket(ns string) *Socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.socketLocked(ns)
}

func (s *session5) handle(p *sioparser.Packet) {
	ns := nsOf5(p.Namespace)
	switch p.Type {
	case sioparser.Connect:
		if s.proto == proto4 {
			s.connectNamespace(p.Namespace, nil, p.Query)
		} else {
			s.connectNamespace(p.Namespace, p.Data, "")
		}
		return
	case sioparser.Disconnect:
		s.mu.Lock()
		sock := s.removeSocketLocked(ns)
		s.mu.Unlock()
		if sock != nil {
			sock.close(ReasonPacket)
		}
		return
	case sioparser.ConnectError:
		return // the server's to send, not the client's
	}
	sock := s.socket(ns)
	if sock == nil {
		s.logAt(slog.LevelDebug, "packet for a namespace the client has not joined", "namespace", lazylog.Client(p.Namespace), "type", p.Type.String())
		return
	}
	var pp packet.Packet
	var err error
	switch p.Type {
	case sioparser.Event, sioparser.BinaryEvent:
		pp.Type, pp.ID, pp.HasID, pp.AckData = packet.Event, p.ID, p.HasID, p.HasID
		pp.Name, pp.Args, err = sioparser.SplitEvent(p.Data)
	case sioparser.Ack, sioparser.BinaryAck:
		pp.Type, pp.AckID = packet.Ack, p.ID
		pp.Args, err = sioparser.SplitArray(p.Data)
	default:
		return
	}
	if err != nil { // the decoder checked the payload: not expected
		s.bad(err)
		return
	}
	if len(pp.Args) == 0 {
		pp.Args = nil
	}
	sock.handlePacketAtt(&pp, p.Attachments)
}

// connectNamespace handles a CONNECT to wire namespace name with auth
// payload auth (nil: none; v5) or query string query (v4: what
// Namespace.Authorize gets, as a 0.9 client's namespace query).
func (s *session5) connectNamespace(name string, auth json.RawMessage, query string) {
	if s.srv.shutdown.Load() {
		return // Shutdown is stopping the sockets
	}
	nsName := nsOf5(name)
	ns := s.srv.namespace(nsName)
	if ns == nil {
		s.logAt(slog.LevelDebug, "connect to unknown namespace", "namespace", lazylog.Client(name))
		// v4 too: the Node.js server sends a 2.x client the object.
		s.Send(proto5Codec{}.connectError(name, "Invalid namespace"), false)
		return
	}
	if old := s.socket(nsName); old != nil && !old.Disconnected() {
		return
	}
	if len(auth) == 0 {
		auth = nil
	}
	var q url.Values
	id := ""
	if s.proto == proto4 {
		q, _ = url.ParseQuery(query) // what parses, as for 0.9
		id = sockID4(nsName, s.conn.ID())
	} else {
		id = newSessionID()
	}
	sock, err := ns.connectAs(s, q, id, auth)
	if err != nil {
		s.mu.Lock()
		level := slog.LevelDebug
		if !s.refusedLogged {
			s.refusedLogged, level = true, slog.LevelInfo
		}
		s.mu.Unlock()
		s.logAt(level, "namespace refused client", "namespace", lazylog.Client(name))
		if s.proto == proto4 {
			s.Send(proto4Codec{}.refusal(name, connectErrorMessage(err)), false)
		} else {
			s.Send(proto5Codec{}.connectError(name, connectErrorMessage(err)), false)
		}
		return
	}
	s.mu.Lock()
	if !s.closed {
		s.setSocketLocked(nsName, sock)
		if s.timer != nil {
			s.timer.Stop()
			s.timer = nil
		}
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	sock.close(ReasonSocketEnd)
}

// connectErrorMessage is the message of the CONNECT_ERROR answering a
// refused CONNECT: the authorization's error text without the package's
// "socketio: " prefix ("unauthorized" for ErrUnauthorized itself,
// "unauthorized: bad token" for fmt.Errorf("%w: bad token",
// ErrUnauthorized)). Errors that do not wrap ErrUnauthorized, which
// connect logs as failures, reach it as ErrUnauthorized: their text is
// not for the client.
func connectErrorMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "socketio: ")
}

// OnClose implements engineio.Session: the Engine.IO session ended.
func (s *session5) OnClose(reason string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	if reason == eioSlowConsumer {
		s.srv.stats.slowConsumers.Add(1)
	}
	if s.reason != "" {
		reason = s.reason
	} else {
		reason = reason5(reason)
	}
	s.reason = reason
	var cancel context.CancelCauseFunc
	if s.auth != nil {
		cancel = s.auth.cancel
	}
	socks := s.takeSocketsLocked()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	if cancel != nil {
		cancel(&DisconnectError{Reason: reason})
	}
	s.logAt(slog.LevelDebug, "session closed", "reason", reason)
	for _, sock := range socks {
		sock.close(reason)
	}
	s.srv.forget5(s)
}

// stopSockets disconnects every socket of the session (no handler starts
// after those already queued) and leaves the session open, so that what
// the remaining handlers send is queued; see Server.Shutdown.
func (s *session5) stopSockets(reason string) []*Socket {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	socks := s.takeSocketsLocked()
	if s.reason == "" {
		s.reason = reason
	}
	s.mu.Unlock()
	for _, sock := range socks {
		sock.close(reason)
	}
	return socks
}

var _ sessionConn = (*session5)(nil)
