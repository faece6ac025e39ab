package transport

import (
	"context"
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
}

var bufferPools sync.Map // int -> *sync.Pool, write buffers shared between connections

func writePool(size int) websocket.BufferPool {
	p, _ := bufferPools.LoadOrStore(size, &sync.Pool{})
	return p.(*sync.Pool)
}

// IsWebSocketUpgrade reports whether r asks for a WebSocket upgrade.
func IsWebSocketUpgrade(r *http.Request) bool { return websocket.IsWebSocketUpgrade(r) }

// ServeWebSocket upgrades r and runs the connection for sess until either
// side ends it. It returns after the connection is closed. A request that
// cannot be upgraded has already been answered with an HTTP error when it
// returns a non-nil error.
func ServeWebSocket(w http.ResponseWriter, r *http.Request, sess Session, opts WebSocketOptions) error {
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
	ctx, cancel := context.WithCancel(context.Background())
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		writeLoop(ctx, conn, sess, opts.WriteTimeout)
		// Unblock the reader: the session ended or a write failed.
		_ = conn.Close()
	}()
	for {
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			break
		}
		if typ != websocket.TextMessage {
			continue
		}
		sess.Receive(string(msg))
	}
	cancel()
	<-writerDone
	_ = conn.Close()
	return nil
}

func writeLoop(ctx context.Context, conn *websocket.Conn, sess Session, timeout time.Duration) {
	for {
		pkts, closed := sess.Take(ctx)
		if len(pkts) > 0 {
			_ = conn.SetWriteDeadline(time.Now().Add(timeout))
			for _, p := range pkts {
				if err := conn.WriteMessage(websocket.TextMessage, p); err != nil {
					return
				}
			}
		}
		if closed {
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}
