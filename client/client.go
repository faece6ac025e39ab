package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/siogo/siogo/packet"
)

// Options configure a Client. The zero value of every field means its
// documented default; a nil *Options is all defaults.
type Options struct {
	// Protocol is the protocol spoken: Protocol09 (the zero value, the
	// default: Socket.IO 0.9) or ProtocolV5 (Engine.IO v4 and Socket.IO
	// v5, the protocol of socket.io 3.x and 4.x) or ProtocolEIO3
	// (Engine.IO v3 and Socket.IO v4, socket.io-client 2.x's). There is
	// no auto-detection.
	Protocol Protocol
	// Transports to try, in order (default DefaultTransports, or
	// DefaultTransportsV5 with ProtocolV5). In 0.9 only those the server
	// offers in its handshake are tried; when one cannot be opened the
	// next is tried. With ProtocolV5, polling listed before websocket
	// upgrades to websocket once open (see the package doc).
	Transports []string
	// Auth (ProtocolV5 only) is sent, encoded as JSON, with the CONNECT
	// packet of every namespace (see Client.OfAuth for one namespace's
	// own), where the server's middleware reads it as
	// socket.handshake.auth. It must encode to a JSON object (or be nil).
	Auth any
	// Header is added to every HTTP request: the handshake, polls, posts
	// and the WebSocket upgrade.
	Header http.Header
	// HTTPClient makes the handshake and polling requests; its Jar (if
	// any) also serves the WebSocket upgrade, so cookies set by the
	// handshake (sticky load balancers) come back on the transport.
	// Default: a private client with its own cookie jar, whose idle
	// connections Close releases. A client with a Timeout shorter than
	// the server's polling duration breaks long polls.
	HTTPClient *http.Client
	// Resource is the server's mount point (default "socket.io").
	Resource string
	// ConnectTimeout bounds opening one transport, up to the server's
	// connect packet ("1::"; v5: the open packet), the v5 upgrade probe,
	// and every reconnect attempt (default 10 s).
	ConnectTimeout time.Duration
	// UpgradeTimeout (ProtocolV5, polling before websocket) bounds a
	// polling session's upgrade to websocket, from the probe's start to
	// the upgrade packet (default DefaultUpgradeTimeout): a switch that
	// would come later is not made, the probe is closed and the session
	// stays on polling. The server gives the probe a deadline of its own
	// (engine.io's upgradeTimeout, 10 s by default) and closes it then,
	// dropping an upgrade packet still on its way, and the session with
	// it: keep UpgradeTimeout well below the server's.
	UpgradeTimeout time.Duration

	// NoReconnect turns reconnection off: when the session is lost the
	// client stops (Done is closed).
	NoReconnect bool
	// ReconnectMinDelay and ReconnectMaxDelay bound the wait before a
	// reconnect attempt (defaults 500 ms and 10 s): the n-th attempt
	// waits a random time between d/2 and d, d = min(max, min·2^(n-1)).
	ReconnectMinDelay time.Duration
	ReconnectMaxDelay time.Duration
	// MaxReconnectAttempts gives up after that many failed attempts in a
	// row (0: never give up).
	MaxReconnectAttempts int

	// MaxQueuedPackets bounds the packets waiting to be sent, including
	// while reconnecting (default 4096); beyond, emits fail with
	// ErrQueueFull.
	MaxQueuedPackets int
	// MaxPendingAcks bounds the acks awaited at once, over every
	// namespace (EmitWithAck, EmitWithAckFunc, SendWithAck and the other
	// ...WithAck forms); beyond, they fail with ErrTooManyAcks. Zero
	// means 1024. An ack stops being awaited when it arrives, when the
	// session carrying its packet is lost, or when the caller of a
	// blocking form gives up (ctx).
	MaxPendingAcks int

	// Lifecycle callbacks. They run on the client's dispatch goroutine,
	// in order with the event handlers (see the package doc).
	//
	// OnConnect: a namespace is connected — the default one when the
	// session opens, others when the server confirms ("1::/ns"); again
	// after every reconnect. Handlers registered here see every event
	// that follows.
	OnConnect func(ns *Namespace)
	// OnDisconnect: a connected namespace is lost, with why (the session
	// ended: transport error, heartbeat timeout, ErrKicked, ErrClosed...).
	OnDisconnect func(ns *Namespace, err error)
	// OnConnectFailed: a namespace refused the client ("7::/ns:2"; v5:
	// CONNECT_ERROR, err wraps a *ConnectError); err matches
	// ErrUnauthorized.
	OnConnectFailed func(ns *Namespace, err error)
	// OnReconnecting: reconnect attempt number attempt starts after
	// delay; err is why the previous session or attempt failed.
	OnReconnecting func(attempt int, delay time.Duration, err error)
	// OnReconnect: attempt succeeded; a new session is open.
	OnReconnect func(attempt int)
	// OnReconnectFailed: the client gave up (MaxReconnectAttempts).
	OnReconnectFailed func(err error)
	// OnError: something went wrong that no call returns: a malformed
	// packet, an event argument that does not decode into a typed
	// handler's parameter, a handler panic, an error packet.
	OnError func(err error)
	// OnPacket sees every packet received, before it is handled (v5:
	// translated to package packet's vocabulary, see the package doc).
	OnPacket func(p packet.Packet)
}

func (o *Options) withDefaults() (Options, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	known := DefaultTransports
	switch opts.Protocol {
	case Protocol09:
	case ProtocolV5, ProtocolEIO3:
		known = DefaultTransportsV5
	default:
		return opts, fmt.Errorf("client: unknown %v", opts.Protocol)
	}
	if len(opts.Transports) == 0 {
		opts.Transports = known
	}
	for _, t := range opts.Transports {
		if !slices.Contains(known, t) {
			return opts, fmt.Errorf("client: transport %q is not supported by protocol %v (want one of %s)", t, opts.Protocol, strings.Join(known, ", "))
		}
	}
	if opts.Auth != nil && opts.Protocol != ProtocolV5 {
		if opts.Protocol == ProtocolEIO3 {
			return opts, errors.New("client: Options.Auth needs ProtocolV5 (Socket.IO v4 has no CONNECT payload: use the URL's query)")
		}
		return opts, errors.New("client: Options.Auth needs ProtocolV5 (0.9 has no CONNECT payload: use the URL's query)")
	}
	opts.Transports = slices.Clone(opts.Transports)
	if opts.Resource == "" {
		opts.Resource = "socket.io"
	}
	opts.Resource = strings.Trim(opts.Resource, "/")
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.UpgradeTimeout <= 0 {
		opts.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if opts.ReconnectMinDelay <= 0 {
		opts.ReconnectMinDelay = 500 * time.Millisecond
	}
	if opts.ReconnectMaxDelay <= 0 {
		opts.ReconnectMaxDelay = 10 * time.Second
	}
	opts.ReconnectMaxDelay = max(opts.ReconnectMaxDelay, opts.ReconnectMinDelay)
	if opts.MaxQueuedPackets <= 0 {
		opts.MaxQueuedPackets = 4096
	}
	if opts.MaxPendingAcks <= 0 {
		opts.MaxPendingAcks = 1024
	}
	return opts, nil
}

// Client is a Socket.IO client (0.9, or v5 with Options.Protocol): one session (re-established after
// failures) carrying one or more namespaces. The methods On, Emit,
// EmitWithAck, Send... act on the namespace named by the URL's path; Of
// gives the others. Make it with Dial; always Close it.
type Client struct {
	// Each piece of state has one owner:
	//
	//   - mu (one mutex) guards the client's shared state: the current
	//     session pointer, the namespaces with their state and handlers, the
	//     outgoing packet queue, the awaited acks (the ...WithAck forms), the
	//     dispatch queue and the closed/finished flags. It is never held while
	//     user code runs or while doing I/O.
	//   - The supervisor goroutine (one per client, from Dial to Close) owns
	//     the connection lifecycle: it waits for the session to end, runs the
	//     backoff timer, handshakes again, and on Close flushes the queue and
	//     ends the session.
	//   - Each session has a reader goroutine, which alone reads from the
	//     transport (websocket reads, long-poll GETs): it decodes packets,
	//     answers heartbeats, resolves acks and queues handler calls; and a
	//     writer goroutine, which alone writes (websocket frames, POSTs),
	//     draining the outgoing queue in order. session.mu guards only the
	//     session's end reason and heartbeat watchdog timer.
	//   - The dispatch goroutine (one per client) runs every handler and
	//     callback (On, OnRaw, OnAny, OnMessage, OnJSON, the ...WithAckFunc
	//     callbacks, the Options callbacks), one
	//     at a time, in the order the packets arrived, so a handler never
	//     races another. Handlers may call any method, including blocking ones
	//     (EmitWithAck, which is resolved by the reader, not the dispatcher)
	//     and Close. A slow handler delays later handlers, never the reading
	//     of packets or heartbeats (the dispatch queue is unbounded).

	opts     Options
	base     url.URL // scheme http or https, host
	wsScheme string
	hc       *http.Client
	ownHTTP  *http.Transport // closed on Close when not the caller's
	wsDialer *websocket.Dialer
	main     *Namespace
	auth     json.RawMessage // v5: Options.Auth encoded

	ctx    context.Context // ends when Close has ended the session; parent of every session
	cancel context.CancelFunc
	// attemptCtx ends as soon as Close is called; it bounds reconnect
	// attempts (a handshake to a hung server must not delay Close).
	attemptCtx    context.Context
	attemptCancel context.CancelFunc

	closing   chan struct{} // closed by Close
	done      chan struct{} // closed when the client stops for good
	supDone   chan struct{} // closed when the supervisor goroutine exits
	dispDone  chan struct{} // closed when the dispatch goroutine exits
	closeDone chan struct{} // closed when Close has finished
	outSignal chan struct{} // cap 1: the outgoing queue grew
	dqSignal  chan struct{} // cap 1: the dispatch queue grew or stops
	dispGID   atomic.Uint64 // id of the dispatch goroutine

	// mu guards everything below and the state and handlers of every
	// Namespace. It is never held while calling user code or doing I/O.
	mu         sync.Mutex
	sess       *session // the connected session, nil between sessions
	namespaces map[string]*Namespace
	nsOrder    []*Namespace // in the order joined
	outq       []*outItem
	nextAckID  uint64
	acks       map[ackKey]*pendingAck
	dq         []dispatchItem
	dispStop   bool
	closed     bool // Close was called
	supStarted bool
	finished   bool  // the client stopped for good (done is closed)
	err        error // why it stopped
}

// outItem is one packet waiting to be sent.
type outItem struct {
	frame []byte
	more  [][]byte    // v5: the frames after frame (binary attachments, see wirePacket)
	ns    *Namespace  // v5: the namespace of an emit, sent once it is connected
	ack   *pendingAck // emit or send with ack: the waiter
	bound *session    // non-nil: only meaningful on that session (heartbeat replies, acks, joins)
}

type ackKey struct {
	endpoint string
	id       uint64
}

type ackResult struct {
	args []json.RawMessage
	err  error
}

// pendingAck is an emit or send waiting for its ack. Guarded by
// Client.mu.
type pendingAck struct {
	key       ackKey
	ch        chan ackResult          // blocking forms: cap 1, written once by resolveLocked
	fn        func([]json.RawMessage) // callback forms (ch nil): run on success, may be nil
	sentOn    *session                // set when a writer took the packet
	cancelled bool                    // the caller gave up before it was sent
}

// resolveLocked delivers the outcome of an ack that was removed from
// c.acks: to the blocked caller, or for the callback forms to fn on the
// dispatch goroutine (only when the ack arrived).
func (c *Client) resolveLocked(pa *pendingAck, r ackResult) {
	if pa.ch != nil {
		pa.ch <- r
		return
	}
	if fn := pa.fn; fn != nil && r.err == nil {
		c.enqueueLocked(func() { fn(r.args) }, false)
	}
}

type dispatchItem struct {
	fn        func()
	lifecycle bool // runs even after Close (disconnect callbacks)
}

// Dial connects to the Socket.IO server at rawURL (0.9, or v5 with
// Options.Protocol) and joins the namespace named by the URL's path (""
// for "/" or none); the URL's query is sent with the handshake (and every
// transport request), where the server's authorization sees it:
//
//	c, err := client.Dial(ctx, "http://localhost:8080/chat?token=x", nil)
//
// Schemes http, https, ws and wss are accepted. Dial makes one attempt
// (each transport in turn) bounded by ctx; it returns once the namespace
// is connected, or an error: a *HandshakeError (errors.Is ErrUnauthorized
// for 403 "handshake unauthorized"), a *NamespaceError for a refused
// namespace (errors.Is ErrUnauthorized; v5: wrapping the server's
// *ConnectError), or why every transport failed.
// Reconnection (unless Options.NoReconnect) applies once Dial succeeded.
func Dial(ctx context.Context, rawURL string, opts *Options) (*Client, error) {
	c, err := newClient(rawURL, opts)
	if err != nil {
		return nil, err
	}
	s, err := c.connect(ctx)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.mu.Lock()
	c.supStarted = true
	c.mu.Unlock()
	go c.supervise(s)
	if err := c.main.WaitConnected(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func newClient(rawURL string, o *Options) (*Client, error) {
	opts, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: bad URL: %w", err)
	}
	c := &Client{opts: opts}
	if opts.Auth != nil {
		if c.auth, err = marshalAuth(opts.Auth); err != nil {
			return nil, err
		}
	}
	switch u.Scheme {
	case "http", "ws":
		c.base.Scheme, c.wsScheme = "http", "ws"
	case "https", "wss":
		c.base.Scheme, c.wsScheme = "https", "wss"
	default:
		return nil, fmt.Errorf("client: bad URL %q: scheme must be http, https, ws or wss", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("client: bad URL %q: no host", rawURL)
	}
	c.base.Host = u.Host
	c.base.RawQuery = u.RawQuery
	name := strings.TrimRight(u.Path, "/")

	c.hc = opts.HTTPClient
	if c.hc == nil {
		jar, _ := cookiejar.New(nil) // never fails without options
		c.ownHTTP = http.DefaultTransport.(*http.Transport).Clone()
		c.hc = &http.Client{Transport: c.ownHTTP, Jar: jar}
	}
	c.wsDialer = &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: opts.ConnectTimeout,
		Jar:              c.hc.Jar,
	}
	if tr, ok := c.hc.Transport.(*http.Transport); ok {
		c.wsDialer.Proxy = tr.Proxy
		c.wsDialer.TLSClientConfig = tr.TLSClientConfig
	}

	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.attemptCtx, c.attemptCancel = context.WithCancel(context.Background())
	c.closing = make(chan struct{})
	c.done = make(chan struct{})
	c.supDone = make(chan struct{})
	c.dispDone = make(chan struct{})
	c.closeDone = make(chan struct{})
	c.outSignal = make(chan struct{}, 1)
	c.dqSignal = make(chan struct{}, 1)
	c.namespaces = make(map[string]*Namespace)
	c.acks = make(map[ackKey]*pendingAck)

	c.mu.Lock()
	if name == "" || !c.v5() {
		// 0.9: the default namespace is the session itself. v5: it is
		// joined only when asked for (the URL's path, or Of).
		c.main = c.newNamespaceLocked("", "", nil)
	}
	if name != "" {
		c.main = c.newNamespaceLocked(name, "", nil)
	}
	c.mu.Unlock()
	go c.dispatchLoop()
	return c, nil
}

// transportURL is /RESOURCE/1/NAME/SID?<the URL's query>.
func (c *Client) transportURL(name, sid string) *url.URL {
	u := c.base
	u.Path = "/" + c.opts.Resource + "/1/" + name + "/" + sid
	return &u
}

// Namespace returns the namespace named by Dial's URL.
func (c *Client) Namespace() *Namespace { return c.main }

// Of returns the namespace called name (which may carry a query sent
// with its 0.9 connect packet: "/chat?x=1"), joining it over the client's
// session if it is not joined: at once when connected, else as soon as
// the session is back. It does not wait; see Namespace.WaitConnected.
func (c *Client) Of(name string) *Namespace { return c.of(name, nil, false) }

// of is Of; with setAuth, auth becomes the namespace's CONNECT payload.
func (c *Client) of(name string, auth json.RawMessage, setAuth bool) *Namespace {
	name, query, _ := strings.Cut(name, "?")
	name = strings.TrimRight(name, "/")
	if name != "" && !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ns := c.namespaces[name]
	if ns == nil {
		return c.newNamespaceLocked(name, query, auth)
	}
	if setAuth {
		ns.auth = auth
	}
	if ns.state == nsRefused || ns.state == nsLeft {
		ns.query = query
		c.joinLocked(ns)
	}
	return ns
}

func (c *Client) newNamespaceLocked(name, query string, auth json.RawMessage) *Namespace {
	ns := &Namespace{
		c:        c,
		name:     name,
		query:    query,
		auth:     auth,
		changed:  make(chan struct{}),
		handlers: make(map[string]handler),
	}
	c.namespaces[name] = ns
	c.nsOrder = append(c.nsOrder, ns)
	if name != "" || c.v5() {
		c.joinLocked(ns)
	}
	return ns
}

// joinLocked queues the connect packet of ns when a session is connected;
// otherwise ns waits (idle) for the next session.
func (c *Client) joinLocked(ns *Namespace) {
	if c.sess == nil || c.finished {
		ns.setStateLocked(nsIdle, nil)
		return
	}
	ns.setStateLocked(nsJoining, nil)
	c.outq = append(c.outq, &outItem{frame: ns.connectFrame(), bound: c.sess})
	c.signalOut()
}

// SessionID returns the current session id ("" between sessions); v5:
// the Engine.IO session id (each namespace's socket id is Namespace.ID).
func (c *Client) SessionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil {
		return ""
	}
	return c.sess.sid
}

// Transport returns the current session's transport ("" between
// sessions); v5: websocket or polling, websocket once a polling session
// has upgraded.
func (c *Client) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil {
		return ""
	}
	if u, ok := c.sess.conn.(*upgrade5Conn); ok {
		return u.name()
	}
	return c.sess.transport
}

// Connected reports whether a session is open.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess != nil
}

// Done is closed when the client stops for good: Close, a kick, a lost
// session with NoReconnect, or reconnection given up. Err says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the client stopped (nil while it runs): ErrClosed,
// ErrKicked, ErrReconnectFailed or the error that ended the session.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// The main namespace's API, on the client.

// On registers the handler of an event on the URL's namespace; see
// Namespace.On.
func (c *Client) On(event string, fn any) error { return c.main.On(event, fn) }

// OnRaw registers the raw handler of an event on the URL's namespace;
// see Namespace.OnRaw.
func (c *Client) OnRaw(event string, fn RawHandler) error { return c.main.OnRaw(event, fn) }

// Off removes the handler of an event on the URL's namespace.
func (c *Client) Off(event string) { c.main.Off(event) }

// OnAny registers a function that sees every event of the URL's
// namespace; see Namespace.OnAny.
func (c *Client) OnAny(fn func(event string, args []json.RawMessage)) { c.main.OnAny(fn) }

// OnMessage registers the handler of plain messages on the URL's
// namespace.
func (c *Client) OnMessage(fn func(text string)) { c.main.OnMessage(fn) }

// OnJSON registers the handler of json messages on the URL's namespace.
func (c *Client) OnJSON(fn func(v json.RawMessage)) { c.main.OnJSON(fn) }

// Emit sends an event on the URL's namespace; see Namespace.Emit.
func (c *Client) Emit(event string, args ...any) error { return c.main.Emit(event, args...) }

// EmitWithAck sends an event on the URL's namespace and waits for the
// server's ack; see Namespace.EmitWithAck.
func (c *Client) EmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	return c.main.EmitWithAck(ctx, event, args...)
}

// EmitWithAckFunc sends an event on the URL's namespace; fn gets the
// server's ack; see Namespace.EmitWithAckFunc.
func (c *Client) EmitWithAckFunc(event string, fn func(args []json.RawMessage), args ...any) error {
	return c.main.EmitWithAckFunc(event, fn, args...)
}

// Send sends a plain message on the URL's namespace.
func (c *Client) Send(text string) error { return c.main.Send(text) }

// SendWithAck sends a plain message on the URL's namespace and waits for
// the server's ack; see Namespace.SendWithAck.
func (c *Client) SendWithAck(ctx context.Context, text string) error {
	return c.main.SendWithAck(ctx, text)
}

// SendWithAckFunc sends a plain message on the URL's namespace; fn runs
// when the server acks it; see Namespace.SendWithAckFunc.
func (c *Client) SendWithAckFunc(text string, fn func()) error {
	return c.main.SendWithAckFunc(text, fn)
}

// SendJSON sends a json message on the URL's namespace.
func (c *Client) SendJSON(v any) error { return c.main.SendJSON(v) }

// SendJSONWithAck sends a json message on the URL's namespace and waits
// for the server's ack; see Namespace.SendJSONWithAck.
func (c *Client) SendJSONWithAck(ctx context.Context, v any) error {
	return c.main.SendJSONWithAck(ctx, v)
}

// SendJSONWithAckFunc sends a json message on the URL's namespace; fn
// runs when the server acks it; see Namespace.SendJSONWithAckFunc.
func (c *Client) SendJSONWithAckFunc(v any, fn func()) error {
	return c.main.SendJSONWithAckFunc(v, fn)
}

// ---------------------------------------------------------------------------
// Handshake and connecting.

type handshake struct {
	sid        string
	hbTimeout  time.Duration
	transports []string
}

func (c *Client) handshake(ctx context.Context) (*handshake, error) {
	u := c.base
	u.Path = "/" + c.opts.Resource + "/1/"
	t := "t=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	if u.RawQuery != "" {
		u.RawQuery += "&" + t
	} else {
		u.RawQuery = t
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("client: handshake: %w", err)
	}
	for k, vs := range c.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: handshake: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("client: handshake: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HandshakeError{Status: resp.StatusCode, Body: clip(string(body))}
	}
	return parseHandshake(string(body))
}

// maxHeartbeatTimeout bounds the heartbeat timeout a server may announce,
// in seconds: beyond it the timeout would overflow a time.Duration.
const maxHeartbeatTimeout = int64(math.MaxInt64 / time.Second)

// parseHandshake parses a handshake answer,
// SID:HEARTBEAT_TIMEOUT:CLOSE_TIMEOUT:TRANSPORTS. The session id goes
// into every transport URL's path, so one that would change the URL's
// meaning (a '/', '?', '#', '%' or a backslash, a space or control character, "."
// or "..") is refused, as is a heartbeat timeout that is not a number of
// seconds a time.Duration holds.
func parseHandshake(body string) (*handshake, error) {
	f := strings.Split(strings.TrimSpace(body), ":")
	if len(f) != 4 || !validSessionID(f[0]) {
		return nil, fmt.Errorf("client: handshake: unexpected answer %q", clip(body))
	}
	hs := &handshake{sid: f[0], transports: strings.Split(f[3], ",")}
	if f[1] != "" {
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 || n > maxHeartbeatTimeout {
			return nil, fmt.Errorf("client: handshake: bad heartbeat timeout %q", clip(f[1]))
		}
		hs.hbTimeout = time.Duration(n) * time.Second
	}
	return hs, nil
}

// validSessionID reports whether sid may be a path segment of the
// transport URLs as it is.
func validSessionID(sid string) bool {
	if sid == "" || sid == "." || sid == ".." {
		return false
	}
	for i := 0; i < len(sid); i++ {
		if c := sid[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("/?#%\\", c) >= 0 {
			return false
		}
	}
	return true
}

// connect makes one session: a handshake, then each transport in turn
// until one delivers the connect packet. ctx bounds it all.
func (c *Client) connect(ctx context.Context) (*session, error) {
	if c.v5() {
		return c.connect5(ctx)
	}
	hs, err := c.handshake(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range c.opts.Transports {
		if slices.Contains(hs.transports, t) {
			names = append(names, t)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: want %s, the server offers %s", ErrNoTransport,
			strings.Join(c.opts.Transports, ","), strings.Join(hs.transports, ","))
	}
	var errs connectError
	for _, name := range names {
		s, err := c.openSession(ctx, hs, name)
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

func (c *Client) openSession(ctx context.Context, hs *handshake, name string) (*session, error) {
	s := newSession(c, hs, name)
	var cn conn
	if name == WebSocket {
		ws, err := dialWebSocket(ctx, c, hs.sid)
		if err != nil {
			return nil, &TransportError{Transport: name, Err: err}
		}
		cn = ws
	} else {
		cn = newPollConn(c, name, hs.sid)
	}
	s.start(cn)
	return c.awaitOpen(ctx, s, name)
}

// awaitOpen waits for the started session s to open ("1::"; v5: the
// open packet), within Options.ConnectTimeout; it ends s on failure.
func (c *Client) awaitOpen(ctx context.Context, s *session, name string) (*session, error) {
	timer := time.NewTimer(c.opts.ConnectTimeout)
	defer timer.Stop()
	var err error
	select {
	case <-s.connected:
		return s, nil
	case <-s.done:
		err = s.error()
	case <-ctx.Done():
		err = ctx.Err()
	case <-c.closing:
		err = ErrClosed
	case <-timer.C:
		err = errConnectTimeout
	}
	s.fail(err)
	s.wait()
	c.sessionEnded(s, err)
	var te *TransportError
	if errors.As(err, &te) {
		return nil, err
	}
	return nil, &TransportError{Transport: name, Err: err}
}

// ---------------------------------------------------------------------------
// The supervisor goroutine: watches the session, reconnects.

func (c *Client) supervise(s *session) {
	defer close(c.supDone)
	for {
		select {
		case <-s.done:
		case <-c.closing:
			s.flushAndClose()
			c.sessionEnded(s, ErrClosed)
			return
		}
		s.wait()
		err := s.error()
		c.sessionEnded(s, err)
		if errors.Is(err, ErrKicked) || c.opts.NoReconnect {
			c.finish(err)
			return
		}
		if s = c.reconnect(err); s == nil {
			return
		}
	}
}

// reconnect retries connect with backoff; nil when closing or given up.
func (c *Client) reconnect(lastErr error) *session {
	for attempt := 1; ; attempt++ {
		if n := c.opts.MaxReconnectAttempts; n > 0 && attempt > n {
			err := fmt.Errorf("%w after %d attempts: %w", ErrReconnectFailed, n, lastErr)
			if f := c.opts.OnReconnectFailed; f != nil {
				c.enqueue(func() { f(err) }, true)
			}
			c.finish(err)
			return nil
		}
		delay := backoff(attempt, c.opts.ReconnectMinDelay, c.opts.ReconnectMaxDelay)
		if f := c.opts.OnReconnecting; f != nil {
			err := lastErr
			c.enqueue(func() { f(attempt, delay, err) }, false)
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-c.closing:
			t.Stop()
			return nil
		}
		ctx, cancel := context.WithTimeout(c.attemptCtx, c.opts.ConnectTimeout)
		s, err := c.connect(ctx)
		cancel()
		if err == nil {
			if f := c.opts.OnReconnect; f != nil {
				c.enqueue(func() { f(attempt) }, false)
			}
			return s
		}
		if c.isClosing() {
			return nil
		}
		lastErr = err
	}
}

// backoff is the wait before reconnect attempt n (from 1): a random
// duration in [d/2, d], d = min(hi, lo·2^(n-1)).
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := hi
	if n-1 < 32 {
		if x := lo << (n - 1); x > 0 && x < hi {
			d = x
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func (c *Client) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// sessionEnded forgets s if it was the connected session: connected
// namespaces get OnDisconnect and wait to be re-joined, acks awaited on s
// fail.
func (c *Client) sessionEnded(s *session, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != s {
		return
	}
	c.sess = nil
	for _, ns := range c.nsOrder {
		if ns.state == nsConnected {
			if f := c.opts.OnDisconnect; f != nil {
				ns := ns
				c.enqueueLocked(func() { f(ns, err) }, true)
			}
		}
		if ns.state == nsConnected || ns.state == nsJoining {
			ns.setStateLocked(nsIdle, nil)
		}
	}
	for k, p := range c.acks {
		if p.sentOn == s {
			delete(c.acks, k)
			c.resolveLocked(p, ackResult{err: fmt.Errorf("%w before the ack arrived: %w", ErrDisconnected, err)})
		}
	}
}

// finish stops the client for good.
func (c *Client) finish(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished {
		return
	}
	c.finished = true
	c.err = err
	close(c.done)
	for k, p := range c.acks {
		delete(c.acks, k)
		c.resolveLocked(p, ackResult{err: err})
	}
	c.outq = nil
	for _, ns := range c.nsOrder {
		ns.setStateLocked(ns.state, ns.err) // wake waiters
	}
}

// Close ends the session (sending what is queued and a disconnect packet
// first, for up to a second) and stops every goroutine of the client
// before it returns — except when called from a handler or callback: the
// dispatch goroutine then ends as soon as that callback returns. Pending
// EmitWithAck calls return ErrClosed. Close always returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		if c.dispGID.Load() != goid() {
			<-c.closeDone
		}
		return nil
	}
	c.closed = true
	close(c.closing)
	c.attemptCancel()
	started := c.supStarted
	c.mu.Unlock()
	if started {
		<-c.supDone
	}
	c.cancel()
	c.finish(ErrClosed)
	c.mu.Lock()
	c.dispStop = true
	c.mu.Unlock()
	c.signalDispatch()
	if c.dispGID.Load() != goid() {
		<-c.dispDone
	}
	if c.ownHTTP != nil {
		c.ownHTTP.CloseIdleConnections()
	}
	close(c.closeDone)
	return nil
}

// ---------------------------------------------------------------------------
// Outgoing queue.

func (c *Client) signalOut() {
	select {
	case c.outSignal <- struct{}{}:
	default:
	}
}

// queueLocked appends a packet for the current or next session.
func (c *Client) queueLocked(it *outItem) error {
	if c.finished {
		return c.err
	}
	if c.closed {
		return ErrClosed
	}
	if len(c.outq) >= c.opts.MaxQueuedPackets {
		return ErrQueueFull
	}
	c.outq = append(c.outq, it)
	c.signalOut()
	return nil
}

// queueBound appends a packet that only makes sense on session s.
func (c *Client) queueBound(s *session, frame []byte) error {
	return c.queueBoundItem(s, &outItem{frame: frame})
}

// queueBoundItem appends it, which only makes sense on session s.
func (c *Client) queueBoundItem(s *session, it *outItem) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != s || c.finished {
		return ErrDisconnected
	}
	it.bound = s
	c.outq = append(c.outq, it)
	c.signalOut()
	return nil
}

const (
	maxBatchPackets = 100
	maxBatchBytes   = 256 << 10
)

// take removes a batch of packets for s from the queue: nothing unless s
// is the connected session. Packets bound to another session and emits
// whose caller gave up are dropped. v5: the packets of a namespace not
// connected yet stay queued (the server drops what comes before its
// CONNECT answer), those of a refused or left one are dropped.
func (c *Client) take(s *session) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != s {
		return nil
	}
	var out [][]byte
	var held []*outItem
	size, i := 0, 0
	for ; i < len(c.outq) && len(out) < maxBatchPackets && size < maxBatchBytes; i++ {
		it := c.outq[i]
		if it.bound != nil && it.bound != s {
			continue
		}
		if it.ns != nil && it.ns.state != nsConnected {
			if it.ns.state != nsRefused && it.ns.state != nsLeft {
				held = append(held, it)
			}
			continue
		}
		if it.ack != nil {
			if it.ack.cancelled {
				continue
			}
			it.ack.sentOn = s
		}
		out = append(out, it.frame)
		out = append(out, it.more...)
		size += len(it.frame)
		for _, m := range it.more {
			size += len(m)
		}
	}
	n := copy(c.outq, held)
	n += copy(c.outq[n:], c.outq[i:])
	clear(c.outq[n:])
	c.outq = c.outq[:n]
	return out
}

// ---------------------------------------------------------------------------
// The dispatch goroutine: runs every handler and callback, one at a time.

func (c *Client) enqueue(fn func(), lifecycle bool) {
	c.mu.Lock()
	c.enqueueLocked(fn, lifecycle)
	c.mu.Unlock()
}

func (c *Client) enqueueLocked(fn func(), lifecycle bool) {
	if c.dispStop {
		return
	}
	c.dq = append(c.dq, dispatchItem{fn: fn, lifecycle: lifecycle})
	c.signalDispatch()
}

func (c *Client) signalDispatch() {
	select {
	case c.dqSignal <- struct{}{}:
	default:
	}
}

func (c *Client) dispatchLoop() {
	defer close(c.dispDone)
	c.dispGID.Store(goid())
	for {
		c.mu.Lock()
		items, stop, closed := c.dq, c.dispStop, c.closed
		c.dq = nil
		c.mu.Unlock()
		if len(items) == 0 {
			if stop {
				return
			}
			<-c.dqSignal
			continue
		}
		for _, it := range items {
			if closed && !it.lifecycle {
				continue
			}
			c.run(it.fn)
			if !closed {
				c.mu.Lock()
				closed = c.closed
				c.mu.Unlock()
			}
		}
	}
}

// run calls a handler, turning a panic into an OnError report.
func (c *Client) run(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			c.reportError(fmt.Errorf("client: handler panicked: %v", r))
		}
	}()
	fn()
}

func (c *Client) reportError(err error) {
	if f := c.opts.OnError; f != nil {
		c.enqueue(func() { f(err) }, false)
	}
}

// goid returns the current goroutine's id, so that Close can tell whether
// it runs on the dispatch goroutine (which it must not wait for).
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	s := strings.TrimPrefix(string(buf[:n]), "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		id, _ := strconv.ParseUint(s[:i], 10, 64)
		return id
	}
	return 0
}
