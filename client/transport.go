package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/siogo/siogo/packet"
)

// Transport names.
const (
	WebSocket    = "websocket"
	XHRPolling   = "xhr-polling"
	JSONPPolling = "jsonp-polling"
)

// DefaultTransports is the default transport order.
var DefaultTransports = []string{WebSocket, XHRPolling, JSONPPolling}

const (
	maxPayloadBytes = 32 << 20 // one poll response or websocket message
	writeTimeout    = 10 * time.Second
	jsonpIndex      = "0" // the i=N of every jsonp-polling GET
)

// conn is one transport connection of a session. read is called only by
// the session's reader goroutine and write only by its writer goroutine;
// close may be called at any time, from anywhere, more than once, and
// makes pending reads and writes return.
type conn interface {
	// write sends encoded packets, in order.
	write(frames [][]byte) error
	close()
}

// conn09 is a 0.9 transport connection.
type conn09 interface {
	conn
	// read returns the packets of the next payload (possibly none).
	read() ([]string, error)
}

func splitPayload(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	return packet.SplitPayload(s, 0)
}

// ---------------------------------------------------------------------------
// websocket

type wsConn struct {
	ws   *websocket.Conn
	once sync.Once
}

func dialWebSocket(ctx context.Context, c *Client, sid string) (*wsConn, error) {
	u := c.transportURL(WebSocket, sid)
	u.Scheme = c.wsScheme
	ws, resp, err := c.wsDialer.DialContext(ctx, u.String(), c.opts.Header)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return nil, fmt.Errorf("upgrade refused: %d %s", resp.StatusCode, clip(strings.TrimSpace(string(body))))
		}
		return nil, err
	}
	ws.SetReadLimit(maxPayloadBytes)
	return &wsConn{ws: ws}, nil
}

func (w *wsConn) read() ([]string, error) {
	for {
		typ, msg, err := w.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		if typ != websocket.TextMessage {
			continue
		}
		return splitPayload(string(msg))
	}
}

// write sends one packet per frame: the reference server decodes each
// frame as a single packet.
func (w *wsConn) write(frames [][]byte) error {
	_ = w.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	for _, f := range frames {
		if err := w.ws.WriteMessage(websocket.TextMessage, f); err != nil {
			return err
		}
	}
	return nil
}

func (w *wsConn) close() {
	w.once.Do(func() {
		_ = w.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(200*time.Millisecond))
		_ = w.ws.Close()
	})
}

// ---------------------------------------------------------------------------
// xhr-polling and jsonp-polling

type pollConn struct {
	c      *Client
	name   string
	sid    string
	ctx    context.Context
	cancel context.CancelFunc
}

func newPollConn(c *Client, name, sid string) *pollConn {
	ctx, cancel := context.WithCancel(c.ctx)
	return &pollConn{c: c, name: name, sid: sid, ctx: ctx, cancel: cancel}
}

func (p *pollConn) url() string {
	u := p.c.transportURL(p.name, p.sid)
	q := "t=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
	if p.name == JSONPPolling {
		q += "&i=" + jsonpIndex
	}
	if u.RawQuery != "" {
		u.RawQuery += "&" + q
	} else {
		u.RawQuery = q
	}
	return u.String()
}

func (p *pollConn) do(req *http.Request) (string, error) {
	for k, vs := range p.c.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := p.c.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPayloadBytes+1))
	if err != nil {
		return "", err
	}
	if len(body) > maxPayloadBytes {
		return "", fmt.Errorf("%s response larger than %d bytes", req.Method, maxPayloadBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered %d %s", req.Method, resp.StatusCode, clip(strings.TrimSpace(string(body))))
	}
	return string(body), nil
}

func (p *pollConn) read() ([]string, error) {
	req, err := http.NewRequestWithContext(p.ctx, http.MethodGet, p.url(), nil)
	if err != nil {
		return nil, err
	}
	body, err := p.do(req)
	if err != nil {
		return nil, err
	}
	if p.name == JSONPPolling {
		if body, err = parseJSONP(body, jsonpIndex); err != nil {
			return nil, err
		}
	}
	return splitPayload(body)
}

// write posts the frames as one payload: the body itself for xhr-polling,
// a form field d holding the payload as a JSON string for jsonp-polling.
func (p *pollConn) write(frames [][]byte) error {
	payload := packet.AppendPayload(nil, frames)
	var body, ctype string
	if p.name == JSONPPolling {
		js, err := json.Marshal(string(payload))
		if err != nil {
			return err
		}
		// %20, not '+', for spaces: every form decoder agrees on it.
		body = "d=" + strings.ReplaceAll(url.QueryEscape(string(js)), "+", "%20")
		ctype = "application/x-www-form-urlencoded"
	} else {
		body = string(payload)
		ctype = "text/plain;charset=UTF-8"
	}
	req, err := http.NewRequestWithContext(p.ctx, http.MethodPost, p.url(), strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	_, err = p.do(req)
	return err
}

func (p *pollConn) close() { p.cancel() }

// parseJSONP extracts the payload from a jsonp-polling answer,
// io.j[N]("payload"); — the argument is a JavaScript string literal,
// which both siogo and the reference write as a JSON string.
func parseJSONP(body, index string) (string, error) {
	s := strings.TrimSpace(body)
	if s == "" {
		return "", nil
	}
	head := "io.j[" + index + "]("
	if !strings.HasPrefix(s, head) {
		return "", fmt.Errorf("jsonp-polling answer does not start with %q: %q", head, clip(s))
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, head), ";")
	if !strings.HasSuffix(s, ")") {
		return "", fmt.Errorf("jsonp-polling answer is not a call: %q", clip(body))
	}
	s = strings.TrimSuffix(s, ")")
	if strings.HasPrefix(s, "new Error(") {
		var msg string
		_ = json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(s, "new Error("), ")")), &msg)
		return "", fmt.Errorf("jsonp-polling: server error %q", msg)
	}
	var payload string
	if err := json.Unmarshal([]byte(s), &payload); err != nil {
		return "", fmt.Errorf("jsonp-polling answer's argument is not a string literal: %w", err)
	}
	return payload, nil
}

var errConnectTimeout = errors.New("no connect packet within the connect timeout")
