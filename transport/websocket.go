package transport

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocketOptions tune ServeWebSocket.
type WebSocketOptions struct {
	// CheckOrigin decides whether the upgrade's Origin is allowed; nil
	// allows any.
	CheckOrigin func(r *http.Request) bool
	// MaxMessageSize bounds one incoming message; larger closes the
	// connection. Zero means 1 MiB.
	MaxMessageSize int64
	// WriteTimeout bounds one write. Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// BufferSize is the write buffer size, borrowed from a pool only while
	// writing. Zero means 4096. Reads reuse net/http's buffer.
	BufferSize int
	// OnClose, if set, runs once when the connection has ended.
	OnClose func()
}

var bufferPools sync.Map // int -> *sync.Pool, write buffers shared between connections

func writePool(size int) websocket.BufferPool {
	p, _ := bufferPools.LoadOrStore(size, &sync.Pool{})
	return p.(*sync.Pool)
}

// IsWebSocketUpgrade reports whether r asks for a WebSocket upgrade.
func IsWebSocketUpgrade(r *http.Request) bool { return websocket.IsWebSocketUpgrade(r) }

// ServeWebSocket upgrades r and runs the connection for sess in the
// background; it returns once the connection is established (or, with a
// non-nil error, after the failed upgrade was answered with an HTTP error).
// opts.OnClose runs when the connection ends.
//
// An idle connection costs one goroutine, the reader, and no buffers but
// net/http's read buffer: the writer goroutine exists only while the
// session has something to write.
func ServeWebSocket(w http.ResponseWriter, r *http.Request, sess WakeableSession, opts WebSocketOptions) error {
	if opts.MaxMessageSize <= 0 {
		opts.MaxMessageSize = 1 << 20
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = 4096
	}
	up := websocket.Upgrader{
		// ReadBufferSize zero: reuse the 4 KiB reader net/http already
		// made for the connection instead of allocating a second one.
		WriteBufferSize: opts.BufferSize,
		WriteBufferPool: writePool(opts.BufferSize),
		CheckOrigin:     opts.CheckOrigin,
	}
	if up.CheckOrigin == nil {
		up.CheckOrigin = func(*http.Request) bool { return true }
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return err
	}
	conn.SetReadLimit(opts.MaxMessageSize)
	c := &wsConn{conn: conn, sess: sess, timeout: opts.WriteTimeout}
	sess.SetWaker(c.wake)
	c.wake() // what was queued before the upgrade
	go func() {
		for {
			typ, msg, err := conn.ReadMessage()
			if err != nil {
				break
			}
			if typ == websocket.TextMessage {
				sess.Receive(string(msg))
			}
		}
		c.stop()
		if opts.OnClose != nil {
			opts.OnClose()
		}
	}()
	return nil
}

// wsConn writes a WakeableSession's packets to a connection from a
// goroutine that runs only while there is something to write. mu guards
// running, pending and done.
type wsConn struct {
	conn    *websocket.Conn
	sess    WakeableSession
	timeout time.Duration

	mu      sync.Mutex
	running bool // a drain goroutine is writing
	pending bool // woken while running: look at the queue again
	done    bool // the connection is closed
}

// wake is the session's waker: it starts a drain goroutine unless one runs.
func (c *wsConn) wake() {
	c.mu.Lock()
	switch {
	case c.done:
	case c.running:
		c.pending = true
	default:
		c.running = true
		go c.drain()
	}
	c.mu.Unlock()
}

func (c *wsConn) drain() {
	for {
		pkts, closed := c.sess.TakeNow()
		if len(pkts) > 0 {
			_ = c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
			for _, p := range pkts {
				if err := c.conn.WriteMessage(websocket.TextMessage, p); err != nil {
					c.stop()
					return
				}
			}
		}
		if closed {
			_ = c.conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			c.stop()
			return
		}
		if len(pkts) > 0 {
			continue
		}
		c.mu.Lock()
		if c.pending && !c.done {
			c.pending = false
			c.mu.Unlock()
			continue
		}
		c.running = false
		c.mu.Unlock()
		return
	}
}

// stop closes the connection (which ends the reader) and stops waking.
func (c *wsConn) stop() {
	c.mu.Lock()
	c.done = true
	c.running = false
	c.mu.Unlock()
	_ = c.conn.Close()
}
