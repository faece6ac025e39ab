package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/siogo/siogo/internal/eioparser"
	"github.com/siogo/siogo/internal/sioparser"
	"github.com/siogo/siogo/packet"
)

// Protocol is the protocol a Client speaks (Options.Protocol).
type Protocol uint8

// The protocols.
const (
	// Protocol09 is Socket.IO 0.9 (socket.io.js 0.9, siogo's 0.9 server):
	// the zero value and the default.
	Protocol09 Protocol = iota
	// ProtocolV5 is Engine.IO v4 carrying Socket.IO v5, the protocol of
	// socket.io and socket.io-client 3.x and 4.x.
	ProtocolV5
	// ProtocolEIO3 is Engine.IO v3 carrying Socket.IO protocol v4, the
	// protocol of socket.io-client 2.x (socket.io 2.x servers, and 3.x/4.x
	// ones with allowEIO3). It shares ProtocolV5's code and API; the
	// differences are on the wire (see the package documentation).
	ProtocolEIO3
)

// String returns "0.9", "v5" or "eio3".
func (p Protocol) String() string {
	switch p {
	case Protocol09:
		return "0.9"
	case ProtocolV5:
		return "v5"
	case ProtocolEIO3:
		return "eio3"
	}
	return "Protocol(" + strconv.Itoa(int(p)) + ")"
}

// Polling is the HTTP long-polling transport of ProtocolV5.
const Polling = "polling"

// DefaultTransportsV5 is the default transport order of ProtocolV5:
// websocket, and polling when websocket cannot be opened. Polling
// before websocket opens with polling and upgrades to websocket.
var DefaultTransportsV5 = []string{WebSocket, Polling}

// DefaultUpgradeTimeout is Options.UpgradeTimeout's default: half of the
// Engine.IO servers' default upgrade timeout (engine.io's and siogo's,
// 10 s), so that a switch made within it reaches the server in time.
const DefaultUpgradeTimeout = 5 * time.Second

// ConnectError is a ProtocolV5 namespace refusal, the server's
// CONNECT_ERROR packet: the message of the error the server's middleware
// passed to next (e.g. "not authorized", or "Invalid namespace") and its
// data, if any. It comes wrapped in a *NamespaceError and matches
// ErrUnauthorized. With ProtocolEIO3 it is the ERROR packet: a JSON
// string is the Message ("unauthorized"); an object is the Data, and the
// Message its "message" field or, without one, the object's JSON text.
type ConnectError struct {
	Message string
	Data    json.RawMessage // the error's data field as JSON; nil without one
}

func (e *ConnectError) Error() string {
	if e.Message == "" {
		return "(no message)"
	}
	return e.Message
}

// Is reports whether target is ErrUnauthorized: every refusal is one.
func (e *ConnectError) Is(target error) bool { return target == ErrUnauthorized }

var (
	framePong  = []byte("3")
	frameClose = []byte("1")
)

// v5 reports whether the client speaks Engine.IO (ProtocolV5 or
// ProtocolEIO3): the v5 code paths.
func (c *Client) v5() bool { return c.opts.Protocol == ProtocolV5 || c.opts.Protocol == ProtocolEIO3 }

// eio3 reports whether the client speaks ProtocolEIO3.
func (c *Client) eio3() bool { return c.opts.Protocol == ProtocolEIO3 }

var framePing = []byte("2")

// OfAuth is Of for ProtocolV5 with the namespace's own auth payload: auth
// (encoded as JSON, an object) is sent with its CONNECT packets instead
// of Options.Auth, from now on. A namespace refused or left is joined
// again with it, so OfAuth retries a refused namespace with other
// credentials.
func (c *Client) OfAuth(name string, auth any) (*Namespace, error) {
	if !c.v5() {
		return nil, errors.New("client: OfAuth needs ProtocolV5")
	}
	if c.eio3() {
		return nil, errors.New("client: OfAuth needs ProtocolV5 (Socket.IO v4 has no CONNECT payload: use Of with a query)")
	}
	raw, err := marshalAuth(auth)
	if err != nil {
		return nil, err
	}
	return c.of(name, raw, true), nil
}

// marshalAuth encodes a CONNECT payload: a JSON object, or nil.
func marshalAuth(auth any) (json.RawMessage, error) {
	if auth == nil {
		return nil, nil
	}
	raw, err := marshalArgs([]any{auth})
	if err != nil {
		return nil, fmt.Errorf("client: auth: %w", err)
	}
	b := bytes.TrimSpace(raw[0])
	if string(b) == "null" {
		return nil, nil
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("client: auth must encode to a JSON object, not %s", clip(string(b)))
	}
	return b, nil
}

// ID returns the namespace's socket id while it is connected ("" when
// not): with ProtocolV5 the sid of the server's CONNECT answer, in 0.9
// the session id (what the 0.9 server calls socket.id).
func (ns *Namespace) ID() string {
	c := ns.c
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case ns.state != nsConnected:
		return ""
	case c.v5():
		return ns.sid
	case c.sess != nil:
		return c.sess.sid
	}
	return ""
}

// ---------------------------------------------------------------------------
// Encoding (always through internal/sioparser and internal/eioparser).

// The frames of the outgoing queue, in v5, are Engine.IO packets in their
// text form ("4" + a Socket.IO packet, "3" a pong, "1" close), except
// binary data: 'b' followed by the raw bytes (not base64). Each transport
// turns them into its wire form with eioparser.
func wirePacket(f []byte) eioparser.Packet {
	if len(f) > 0 && f[0] == 'b' {
		return eioparser.Packet{Type: eioparser.Message, Data: f[1:], Binary: true}
	}
	if len(f) == 0 {
		return eioparser.Packet{Type: eioparser.Noop}
	}
	var data []byte
	if len(f) > 1 {
		data = f[1:]
	}
	return eioparser.Packet{Type: eioparser.Type(f[0] - '0'), Data: data}
}

// encode5 makes the queue item of a Socket.IO packet.
func encode5(p *sioparser.Packet) (*outItem, error) {
	frame, err := sioparser.AppendPacket([]byte{'4'}, p)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	it := &outItem{frame: frame}
	for _, a := range p.Attachments {
		it.more = append(it.more, append([]byte{'b'}, a...))
	}
	return it, nil
}

// encodeArgs5 encodes emit or ack arguments: each []byte, at the top or
// inside a []any or map[string]any, becomes an attachment (a binary
// packet); everything else is encoded as marshalArgs does.
func encodeArgs5(args []any) ([]json.RawMessage, [][]byte, error) {
	out := make([]json.RawMessage, len(args))
	var att [][]byte
	for i, a := range args {
		switch a.(type) {
		case []byte, []any, map[string]any:
			b, more, err := sioparser.AppendValue(nil, a, att)
			if err != nil {
				return nil, nil, fmt.Errorf("client: argument %d: %w", i, err)
			}
			out[i], att = b, more
		default:
			raw, err := marshalArgs([]any{a})
			if err != nil {
				if inner := errors.Unwrap(err); inner != nil {
					return nil, nil, fmt.Errorf("client: argument %d: %w", i, inner)
				}
				return nil, nil, fmt.Errorf("client: argument %d is not valid JSON", i)
			}
			out[i] = raw[0]
		}
	}
	return out, att, nil
}

// event5Item encodes an event of the namespace.
func (ns *Namespace) event5Item(event string, raw []json.RawMessage, att [][]byte, id uint64, hasID bool) (*outItem, error) {
	p := &sioparser.Packet{Type: sioparser.Event, Namespace: ns.name, ID: id, HasID: hasID,
		Data: sioparser.AppendEventData(nil, event, raw), Attachments: att}
	if len(att) > 0 {
		p.Type = sioparser.BinaryEvent
	}
	it, err := encode5(p)
	if err != nil {
		return nil, err
	}
	it.ns = ns
	return it, nil
}

func checkEvent5(event string) error {
	if sioparser.IsReservedEvent(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	return nil
}

func (ns *Namespace) emit5(event string, args []any) error {
	if err := checkEvent5(event); err != nil {
		return err
	}
	raw, att, err := encodeArgs5(args)
	if err != nil {
		return err
	}
	it, err := ns.event5Item(event, raw, att, 0, false)
	if err != nil {
		return err
	}
	c := ns.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ns.usableLocked(); err != nil {
		return err
	}
	return c.queueLocked(it)
}

func (ns *Namespace) eventEncoder5(event string, args []any) (func(uint64) (*outItem, error), error) {
	if err := checkEvent5(event); err != nil {
		return nil, err
	}
	raw, att, err := encodeArgs5(args)
	if err != nil {
		return nil, err
	}
	return func(id uint64) (*outItem, error) { return ns.event5Item(event, raw, att, id, true) }, nil
}

// connectFrame5 is the namespace's CONNECT, with its auth payload.
func (ns *Namespace) connectFrame5() []byte {
	if ns.c.eio3() {
		// Socket.IO v4: "40/ns?query," (the query of the Of name, or for
		// the URL's namespace the URL's).
		query := ns.query
		if query == "" && ns == ns.c.main {
			query = ns.c.base.RawQuery
		}
		name := ns.name
		if query != "" {
			name += "?" + query
		}
		frame, err := sioparser.AppendPacket([]byte{'4'}, &sioparser.Packet{Type: sioparser.Connect, Namespace: name})
		if err != nil {
			return []byte("4")
		}
		return frame
	}
	auth := ns.auth
	if auth == nil {
		auth = ns.c.auth
	}
	frame, err := sioparser.AppendPacket([]byte{'4'}, &sioparser.Packet{Type: sioparser.Connect, Namespace: ns.name, Data: auth})
	if err != nil {
		// A namespace name the protocol cannot carry (a ','): the
		// server refuses the malformed packet and closes the session.
		return []byte("4")
	}
	return frame
}

// disconnectFrame is the namespace's DISCONNECT ("0::/ns"; v5 "41/ns,").
func (ns *Namespace) disconnectFrame() []byte {
	if !ns.c.v5() {
		return packet.AppendPacket(nil, &packet.Packet{Type: packet.Disconnect, Endpoint: ns.name})
	}
	frame, err := sioparser.AppendPacket([]byte{'4'}, &sioparser.Packet{Type: sioparser.Disconnect, Namespace: ns.name})
	if err != nil {
		return []byte("4")
	}
	return frame
}

// writeClose writes the last frames Close sends, on the writer
// goroutine: "0::"; v5, a DISCONNECT for each connected namespace (the
// server then sees "client namespace disconnect", as after
// socket.disconnect() in socket.io-client), then, in a write of its own
// as engine.io-client does (the reference server would handle a close in
// the same POST before the DISCONNECTs), an Engine.IO close.
func (s *session) writeClose() {
	if !s.v5 {
		_ = s.conn.write([][]byte{frameDisconnect})
		return
	}
	c := s.c
	var out [][]byte
	c.mu.Lock()
	for _, ns := range c.nsOrder {
		if ns.state == nsConnected {
			out = append(out, ns.disconnectFrame())
		}
	}
	c.mu.Unlock()
	if len(out) > 0 && s.conn.write(out) != nil {
		return
	}
	_ = s.conn.write([][]byte{frameClose})
}

// ackFunc5 answers the server's event id with an ACK (BINARY_ACK when
// the arguments hold []byte).
func (s *session) ackFunc5(endpoint string, id uint64) AckFunc {
	var once sync.Once
	return func(args ...any) error {
		err := ErrAckSent
		once.Do(func() {
			var raw []json.RawMessage
			var att [][]byte
			if raw, att, err = encodeArgs5(args); err != nil {
				return
			}
			p := &sioparser.Packet{Type: sioparser.Ack, Namespace: endpoint, ID: id, HasID: true,
				Data: sioparser.AppendArray(nil, raw), Attachments: att}
			if len(att) > 0 {
				p.Type = sioparser.BinaryAck
			}
			var it *outItem
			if it, err = encode5(p); err != nil {
				return
			}
			err = s.c.queueBoundItem(s, it)
		})
		return err
	}
}

// deliverMessage5 hands a "message" event without a handler to OnMessage
// (a string first argument) or OnJSON (anything else), then acks it
// without data if the server asked.
func (ns *Namespace) deliverMessage5(args []json.RawMessage, onMessage func(string), onJSON func(json.RawMessage), ack AckFunc) {
	var first json.RawMessage = json.RawMessage("null")
	if len(args) > 0 {
		first = args[0]
	}
	var text string
	switch {
	case onMessage != nil && len(first) > 0 && first[0] == '"' && json.Unmarshal(first, &text) == nil:
		onMessage(text)
	case onJSON != nil:
		onJSON(first)
	}
	if ack != nil {
		_ = ack()
	}
}

// resolveBinary puts the attachments of a binary packet in its arguments'
// placeholders, each as a JSON string holding the bytes in base64 (how
// encoding/json writes a []byte, so that a []byte parameter or field
// decodes them back).
func resolveBinary(args []json.RawMessage, att [][]byte) ([]json.RawMessage, error) {
	if len(att) == 0 {
		return args, nil
	}
	out := make([]json.RawMessage, len(args))
	for i, a := range args {
		if n, ok := sioparser.PlaceholderNum(a); ok && n < len(att) {
			b, err := json.Marshal(att[n])
			if err != nil {
				return nil, err
			}
			out[i] = b
			continue
		}
		if !bytes.Contains(a, []byte(`"_placeholder"`)) {
			out[i] = a
			continue
		}
		v, err := sioparser.Reconstruct(a, att)
		if err != nil {
			return nil, err
		}
		raw, err := marshalArgs([]any{v})
		if err != nil {
			return nil, err
		}
		out[i] = raw[0]
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Connecting.

// connect5 opens an Engine.IO session over each transport in turn until
// one delivers the open packet.
func (c *Client) connect5(ctx context.Context) (*session, error) {
	var errs connectError
	for _, name := range c.opts.Transports {
		s, err := c.openSession5(ctx, name)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil || c.isClosing() {
			break
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, errs
}

func (c *Client) openSession5(ctx context.Context, name string) (*session, error) {
	s := newSession(c, &handshake{}, name)
	var cn conn
	switch {
	case name == WebSocket:
		ws, err := dialWebSocket5(ctx, c, "")
		if err != nil {
			return nil, &TransportError{Transport: name, Err: err}
		}
		cn = ws
	case c.upgradeWanted():
		cn = newUpgrade5Conn(c)
	default:
		cn = newPoll5Conn(c)
	}
	s.start(cn)
	return c.awaitOpen(ctx, s, name)
}

// engineURL is /RESOURCE/?EIO=4&transport=NAME[&sid=SID][&<the URL's
// query>] (ProtocolEIO3: EIO=3, and b64=1 for polling: binary data goes
// in text payloads, base64).
func (c *Client) engineURL(name, sid string, extra string) *url.URL {
	u := c.base
	u.Path = "/" + c.opts.Resource + "/"
	q := "EIO=4&transport=" + name
	if c.eio3() {
		q = "EIO=3&transport=" + name
		if name == Polling {
			q += "&b64=1"
		}
	}
	if extra != "" {
		q += "&" + extra
	}
	if sid != "" {
		q += "&sid=" + url.QueryEscape(sid)
	}
	if c.base.RawQuery != "" {
		q += "&" + c.base.RawQuery
	}
	u.RawQuery = q
	return &u
}

// conn5 is a v5 transport connection.
type conn5 interface {
	conn
	// read5 returns the Engine.IO packets of the next frame or payload.
	read5() ([]eioparser.Packet, error)
}

// ws5Conn is the v5 websocket transport: one Engine.IO packet per frame.
type ws5Conn struct {
	*wsConn
	eio3 bool // the v3 frame forms
}

func dialWebSocket5(ctx context.Context, c *Client, sid string) (*ws5Conn, error) {
	u := c.engineURL(WebSocket, sid, "")
	u.Scheme = c.wsScheme
	ws, resp, err := c.wsDialer.DialContext(ctx, u.String(), c.opts.Header)
	if err != nil {
		if resp != nil {
			// The websocket is the handshake.
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return nil, &HandshakeError{Status: resp.StatusCode, Body: clip(strings.TrimSpace(string(body)))}
		}
		return nil, err
	}
	ws.SetReadLimit(maxPayloadBytes)
	return &ws5Conn{wsConn: &wsConn{ws: ws}, eio3: c.eio3()}, nil
}

func (w *ws5Conn) read5() ([]eioparser.Packet, error) {
	typ, msg, err := w.ws.ReadMessage()
	if err != nil {
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%w (websocket close %d)", ErrServerClosed, ce.Code)
		}
		return nil, err
	}
	decode := eioparser.DecodeFrame
	if w.eio3 {
		decode = eioparser.DecodeFrameV3
	}
	p, err := decode(msg, typ == websocket.BinaryMessage)
	if err != nil {
		return nil, err
	}
	return []eioparser.Packet{p}, nil
}

func (w *ws5Conn) write(frames [][]byte) error {
	_ = w.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	encode := eioparser.AppendFrame
	if w.eio3 {
		encode = eioparser.AppendFrameV3
	}
	for _, f := range frames {
		data, bin := encode(nil, wirePacket(f))
		typ := websocket.TextMessage
		if bin {
			typ = websocket.BinaryMessage
		}
		if err := w.ws.WriteMessage(typ, data); err != nil {
			return err
		}
	}
	return nil
}

// poll5Conn is the v5 polling transport: GETs (the first one opens the
// session) and POSTs of payloads.
type poll5Conn struct {
	c *Client
	// Set by the reader when the open packet arrives, before the writer
	// starts.
	sid        string
	maxPayload int64 // the most bytes a POST may carry (0: no bound)
	ctx        context.Context
	cancel     context.CancelFunc
}

func newPoll5Conn(c *Client) *poll5Conn {
	ctx, cancel := context.WithCancel(c.ctx)
	return &poll5Conn{c: c, ctx: ctx, cancel: cancel}
}

func (p *poll5Conn) setSID(sid string, maxPayload int64) { p.sid, p.maxPayload = sid, maxPayload }

func (p *poll5Conn) url() string {
	return p.c.engineURL(Polling, p.sid, "t="+strconv.FormatInt(time.Now().UnixMilli(), 10)).String()
}

// do makes a request and returns the body of a 200 answer. A first GET
// (no session yet) answered otherwise is a *HandshakeError.
func (p *poll5Conn) do(req *http.Request) ([]byte, error) {
	for k, vs := range p.c.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := p.c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPayloadBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxPayloadBytes {
		return nil, fmt.Errorf("%s response larger than %d bytes", req.Method, maxPayloadBytes)
	}
	if resp.StatusCode != http.StatusOK {
		if p.sid == "" {
			return nil, &HandshakeError{Status: resp.StatusCode, Body: clip(strings.TrimSpace(string(body)))}
		}
		return nil, fmt.Errorf("%s answered %d %s", req.Method, resp.StatusCode, clip(strings.TrimSpace(string(body))))
	}
	return body, nil
}

func (p *poll5Conn) read5() ([]eioparser.Packet, error) {
	req, err := http.NewRequestWithContext(p.ctx, http.MethodGet, p.url(), nil)
	if err != nil {
		return nil, err
	}
	body, err := p.do(req)
	if err != nil {
		return nil, err
	}
	if p.c.eio3() {
		return eioparser.DecodePayloadV3(body, eioparser.Limits{MaxBytes: maxPayloadBytes})
	}
	return eioparser.DecodePayload(body, eioparser.Limits{MaxBytes: maxPayloadBytes})
}

// write posts the frames, in as many POSTs as the server's maxPayload
// requires (a packet larger than it goes alone; the server refuses it).
func (p *poll5Conn) write(frames [][]byte) error {
	pkts := make([]eioparser.Packet, 0, len(frames))
	size := int64(0)
	for _, f := range frames {
		pk := wirePacket(f)
		n := int64(len(pk.Data)) + 1 // the type or 'b', and the separator
		if pk.Binary {
			n = int64(base64Len(len(pk.Data))) + 1
		}
		if p.maxPayload > 0 && len(pkts) > 0 && size+n > p.maxPayload {
			if err := p.post(pkts); err != nil {
				return err
			}
			pkts, size = pkts[:0], 0
		}
		pkts = append(pkts, pk)
		size += n
	}
	return p.post(pkts)
}

func base64Len(n int) int { return (n + 2) / 3 * 4 }

func (p *poll5Conn) post(pkts []eioparser.Packet) error {
	var body []byte
	if p.c.eio3() {
		body = eioparser.AppendPayloadV3(nil, pkts)
	} else {
		var err error
		if body, err = eioparser.AppendPayload(nil, pkts); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(p.ctx, http.MethodPost, p.url(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	_, err = p.do(req)
	return err
}

func (p *poll5Conn) close() { p.cancel() }

// ---------------------------------------------------------------------------
// Receiving.

// maxPingMS bounds pingInterval and pingTimeout (ms): their sum must fit
// a time.Duration.
const maxPingMS = 1 << 40

func (s *session) readLoop5() {
	cn := s.conn.(conn5)
	for {
		pkts, err := cn.read5()
		if err != nil {
			s.fail(&TransportError{Transport: s.transport, Err: err})
			return
		}
		for _, p := range pkts {
			if s.isDone() {
				return
			}
			s.handleEIO(cn, p)
		}
		if s.isDone() {
			return
		}
	}
}

// openPacket is the Engine.IO handshake.
type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

// handleEIO runs on the reader goroutine.
func (s *session) handleEIO(cn conn5, p eioparser.Packet) {
	c := s.c
	switch p.Type {
	case eioparser.Open:
		var o openPacket
		if s.opened {
			c.reportError(errors.New("client: a second open packet ignored"))
			return
		}
		if err := json.Unmarshal(p.Data, &o); err != nil || !validSessionID(o.SID) ||
			o.PingInterval < 0 || o.PingTimeout < 0 || o.PingInterval > maxPingMS || o.PingTimeout > maxPingMS {
			s.fail(&TransportError{Transport: s.transport, Err: fmt.Errorf("bad open packet %q", clip(string(p.Data)))})
			return
		}
		s.opened = true
		s.sid = o.SID
		if pc, ok := cn.(interface{ setSID(string, int64) }); ok {
			pc.setSID(o.SID, o.MaxPayload)
		}
		if uc, ok := cn.(*upgrade5Conn); ok && slices.Contains(o.Upgrades, WebSocket) {
			s.wg.Go(func() { uc.probe(s) })
		}
		if d := time.Duration(o.PingInterval+o.PingTimeout) * time.Millisecond; d > 0 {
			s.mu.Lock()
			s.hbTimeout = d
			if s.err == nil {
				s.watchdog = time.AfterFunc(d, func() { s.fail(ErrHeartbeatTimeout) })
			}
			s.mu.Unlock()
		}
		if c.eio3() && o.PingInterval > 0 {
			// v3: the client pings, the server answers.
			every := time.Duration(o.PingInterval) * time.Millisecond
			s.wg.Go(func() { s.pingLoop3(every) })
		}
		s.onOpen5()
	case eioparser.Pong:
		if c.eio3() && s.opened {
			s.heard()
		}
	case eioparser.Close:
		s.fail(&TransportError{Transport: s.transport, Err: ErrServerClosed})
	case eioparser.Ping:
		if !s.opened {
			return
		}
		// Only a ping restarts the watchdog, as in engine.io-client.
		s.heard()
		if f := c.opts.OnPacket; f != nil {
			c.enqueue(func() { f(packet.Packet{Type: packet.Heartbeat, Reason: -1, Advice: -1}) }, false)
		}
		_ = c.queueBound(s, framePong)
	case eioparser.Message:
		if !s.opened {
			s.fail(&TransportError{Transport: s.transport, Err: errors.New("message before the open packet")})
			return
		}
		var sp sioparser.Packet
		var done bool
		var err error
		if p.Binary {
			sp, done, err = s.dec.AddBinary(p.Data)
		} else {
			sp, done, err = s.dec.AddText(string(p.Data))
		}
		if err != nil {
			// The decoder's state cannot be trusted any more: like
			// socket.io-client, close (and reconnect).
			err = fmt.Errorf("client: malformed packet: %w", err)
			c.reportError(err)
			s.fail(err)
			return
		}
		if done {
			s.handleSIO(sp)
		}
	}
}

// pingLoop3 sends a ProtocolEIO3 session's pings, every pingInterval
// until the session ends; the watchdog (pingInterval+pingTimeout,
// restarted by each pong) ends a session whose server stopped answering.
func (s *session) pingLoop3(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			if s.c.queueBound(s, framePing) != nil {
				return
			}
		}
	}
}

// onOpen5: the open packet arrived, the session is open. Every namespace
// waiting to be joined sends its CONNECT, then what was queued meanwhile
// goes (each namespace's packets once it is connected).
func (s *session) onOpen5() {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil || c.finished || c.closed || s.isDone() {
		return
	}
	c.sess = s
	var q []*outItem
	for _, ns := range c.nsOrder {
		if ns.state == nsIdle || ns.state == nsJoining {
			ns.setStateLocked(nsJoining, nil)
			if c.eio3() && ns.name == "" {
				// v4: the server connects "/" itself ("40").
				continue
			}
			q = append(q, &outItem{frame: ns.connectFrame(), bound: s})
		}
	}
	for _, it := range c.outq {
		if it.bound == nil {
			q = append(q, it)
		}
	}
	c.outq = q
	close(s.connected)
	c.signalOut()
}

func (s *session) packetSeen(p packet.Packet) {
	if f := s.c.opts.OnPacket; f != nil {
		s.c.enqueue(func() { f(p) }, false)
	}
}

// handleSIO handles a complete Socket.IO packet, on the reader goroutine.
// OnPacket sees it in the 0.9 vocabulary of package packet.
func (s *session) handleSIO(p sioparser.Packet) {
	c := s.c
	endpoint := p.Namespace
	if endpoint == "/" {
		endpoint = ""
	}
	switch p.Type {
	case sioparser.Connect:
		var v struct {
			SID string `json:"sid"`
		}
		if len(p.Data) > 0 {
			_ = json.Unmarshal(p.Data, &v)
		}
		s.packetSeen(packet.Packet{Type: packet.Connect, Endpoint: endpoint, Reason: -1, Advice: -1})
		s.onNamespaceConnect5(endpoint, v.SID)
	case sioparser.Disconnect:
		s.packetSeen(packet.Packet{Type: packet.Disconnect, Endpoint: endpoint, Reason: -1, Advice: -1})
		if c.main != nil && endpoint == c.main.name {
			// The URL's namespace is the client's: its kick is final,
			// as 0.9's "0::".
			s.fail(ErrKicked)
			return
		}
		s.onNamespaceKick(endpoint)
	case sioparser.Event, sioparser.BinaryEvent:
		name, args, err := sioparser.SplitEvent(p.Data)
		if err == nil {
			args, err = resolveBinary(args, p.Attachments)
		}
		if err != nil {
			c.reportError(fmt.Errorf("client: dropping an event: %w", err))
			return
		}
		pp := packet.Packet{Type: packet.Event, Endpoint: endpoint, Name: name, Args: args,
			ID: p.ID, HasID: p.HasID, AckData: p.HasID, Reason: -1, Advice: -1}
		s.packetSeen(pp)
		s.onEvent5(pp)
	case sioparser.Ack, sioparser.BinaryAck:
		args, err := sioparser.SplitArray(p.Data)
		if err == nil {
			args, err = resolveBinary(args, p.Attachments)
		}
		if err != nil {
			c.reportError(fmt.Errorf("client: dropping an ack: %w", err))
			return
		}
		s.packetSeen(packet.Packet{Type: packet.Ack, Endpoint: endpoint, AckID: p.ID, Args: args, Reason: -1, Advice: -1})
		c.mu.Lock()
		if pa := c.acks[ackKey{endpoint, p.ID}]; pa != nil {
			delete(c.acks, pa.key)
			c.resolveLocked(pa, ackResult{args: args})
		}
		c.mu.Unlock()
	case sioparser.ConnectError:
		cerr := &ConnectError{}
		if len(p.Data) > 0 && p.Data[0] == '"' {
			_ = json.Unmarshal(p.Data, &cerr.Message)
		} else {
			var v struct {
				Message string          `json:"message"`
				Data    json.RawMessage `json:"data"`
			}
			_ = json.Unmarshal(p.Data, &v)
			cerr.Message, cerr.Data = v.Message, v.Data
			if c.eio3() && len(p.Data) > 0 {
				// v4: the error's data itself (socket.io 2.x next(err)
				// sends err.data, or err.message without it).
				cerr.Data = p.Data
				if cerr.Message == "" {
					cerr.Message = string(p.Data)
				}
			}
		}
		s.packetSeen(packet.Packet{Type: packet.Error, Endpoint: endpoint, Data: string(p.Data), Reason: 2, Advice: -1})
		s.onConnectError5(endpoint, cerr)
	}
}

func (s *session) onNamespaceConnect5(endpoint, sid string) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	ns := c.namespaces[endpoint]
	if c.sess != s || ns == nil || ns.state != nsJoining {
		return
	}
	if sid == "" && c.eio3() {
		// v4's socket id: the session's, "/ns#" + it off "/".
		sid = s.sid
		if endpoint != "" {
			sid = endpoint + "#" + s.sid
		}
	}
	ns.sid = sid
	ns.setStateLocked(nsConnected, nil)
	if f := c.opts.OnConnect; f != nil {
		c.enqueueLocked(func() { f(ns) }, false)
	}
	c.signalOut() // its held packets can go
}

func (s *session) onConnectError5(endpoint string, cerr *ConnectError) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	ns := c.namespaces[endpoint]
	if c.sess != s || ns == nil || ns.state == nsRefused || ns.state == nsLeft {
		return
	}
	nerr := &NamespaceError{Namespace: endpoint, Err: cerr}
	wasConnected := ns.state == nsConnected
	ns.setStateLocked(nsRefused, nerr)
	c.failAcksLocked(endpoint, nerr)
	if wasConnected {
		if f := c.opts.OnDisconnect; f != nil {
			c.enqueueLocked(func() { f(ns, nerr) }, true)
		}
	}
	if f := c.opts.OnConnectFailed; f != nil {
		c.enqueueLocked(func() { f(ns, nerr) }, false)
	}
}

func (s *session) onEvent5(p packet.Packet) {
	c := s.c
	c.mu.Lock()
	ns := c.namespaces[p.Endpoint]
	ok := c.sess == s && ns != nil && (ns.state == nsConnected || ns.state == nsJoining)
	c.mu.Unlock()
	if !ok {
		return
	}
	var ack AckFunc
	if p.HasID {
		ack = s.ackFunc(p.Endpoint, p.ID)
	}
	c.enqueue(func() { ns.deliver(p, ack) }, false)
}
