package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// rawOpener opens Socket.IO sessions over websocket with as little client
// work as it takes: handshakes over one kept-alive connection, upgrade
// requests written as fixed bytes, frames parsed by hand. The new-sessions
// phase uses one per worker, so that the numbers measure the server and
// not the load generator (which shares the machine).
type rawOpener struct {
	t    *target
	addr string // host:port
	hs   net.Conn
	hsr  *bufio.Reader
	buf  []byte
}

func newRawOpener(t *target) *rawOpener {
	return &rawOpener{t: t, addr: t.base[len("http://"):]}
}

func (o *rawOpener) close() {
	if o.hs != nil {
		_ = o.hs.Close()
		o.hs = nil
	}
}

// readHead reads an HTTP response head and returns the status code, the
// Content-Length (-1 if absent) and whether the body is chunked.
func readHead(r *bufio.Reader) (status, length int, chunked bool, err error) {
	length = -1
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, 0, false, fmt.Errorf("bad status line %q", clip(line))
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, fmt.Errorf("bad status line %q", clip(line))
	}
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, err
		}
		if len(line) <= 2 {
			return status, length, chunked, nil
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("content-length")):
			length, err = strconv.Atoi(string(v))
			if err != nil {
				return 0, 0, false, fmt.Errorf("bad content-length %q", clip(v))
			}
		case bytes.EqualFold(k, []byte("transfer-encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		}
	}
}

// readBody reads a response body of the given length or chunked, up to
// 4 KiB.
func readBody(r *bufio.Reader, length int, chunked bool) ([]byte, error) {
	if !chunked {
		if length < 0 || length > 4096 {
			return nil, fmt.Errorf("response without a usable length (%d)", length)
		}
		body := make([]byte, length)
		_, err := io.ReadFull(r, body)
		return body, err
	}
	var body []byte
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.ParseUint(string(bytes.TrimSpace(line)), 16, 16)
		if err != nil || len(body)+int(size) > 4096 {
			return nil, fmt.Errorf("bad chunk size %q", clip(line))
		}
		if size == 0 {
			for { // trailers, then the empty line
				line, err := r.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(line) <= 2 {
					return body, nil
				}
			}
		}
		n := len(body)
		body = append(body, make([]byte, size+2)...)
		if _, err := io.ReadFull(r, body[n:]); err != nil {
			return nil, err
		}
		body = body[:len(body)-2] // CRLF
	}
}

// handshake does GET /socket.io/1/ on the kept-alive connection and
// returns the session id.
func (o *rawOpener) handshake(ctx context.Context) (string, error) {
	for attempt := 0; ; attempt++ {
		if o.hs == nil {
			c, err := o.t.dialer.DialContext(ctx, "tcp", o.addr)
			if err != nil {
				return "", err
			}
			o.hs, o.hsr = c, bufio.NewReaderSize(c, 1024)
		}
		sid, err := o.handshakeOnce()
		if err == nil {
			return sid, nil
		}
		o.close()
		if attempt > 0 || ctx.Err() != nil {
			return "", fmt.Errorf("handshake: %w", err)
		}
		// The server may have closed the idle connection: once more on a
		// new one.
	}
}

func (o *rawOpener) handshakeOnce() (string, error) {
	_ = o.hs.SetDeadline(time.Now().Add(10 * time.Second))
	o.buf = append(o.buf[:0], "GET /socket.io/1/?t="...)
	o.buf = strconv.AppendInt(o.buf, time.Now().UnixMilli(), 10)
	o.buf = append(o.buf, " HTTP/1.1\r\nHost: "...)
	o.buf = append(o.buf, o.addr...)
	o.buf = append(o.buf, "\r\n\r\n"...)
	if _, err := o.hs.Write(o.buf); err != nil {
		return "", err
	}
	status, length, chunked, err := readHead(o.hsr)
	if err != nil {
		return "", err
	}
	body, err := readBody(o.hsr, length, chunked)
	if err != nil {
		return "", err
	}
	if status != 200 {
		return "", fmt.Errorf("handshake: status %d %q", status, clip(body))
	}
	sid, _, ok := bytes.Cut(body, []byte(":"))
	if !ok || len(sid) == 0 {
		return "", fmt.Errorf("handshake: bad body %q", clip(body))
	}
	return string(sid), nil
}

// mask is the fixed masking key of the frames the opener sends.
var mask = [4]byte{0x12, 0x34, 0x56, 0x78}

// appendClientFrame appends a masked frame.
func appendClientFrame(dst []byte, op byte, payload []byte) []byte {
	if len(payload) < 126 {
		dst = append(dst, 0x80|op, 0x80|byte(len(payload)))
	} else {
		dst = append(dst, 0x80|op, 0x80|126, byte(len(payload)>>8), byte(len(payload)))
	}
	dst = append(dst, mask[:]...)
	for i := range len(payload) {
		dst = append(dst, payload[i]^mask[i%4])
	}
	return dst
}

// rawWS is a websocket session opened by a rawOpener.
type rawWS struct {
	c   net.Conn
	r   *bufio.Reader
	v4  bool // Engine.IO v4 framing, else 0.9
	out []byte
	in  []byte
}

func newRawWS(c net.Conn, out []byte, v4 bool) *rawWS {
	return &rawWS{c: c, r: bufio.NewReaderSize(c, 512), out: out, v4: v4}
}

// open opens one session: for 0.9 handshake, websocket upgrade, "1::";
// for v4 see openV4.
func (o *rawOpener) open(ctx context.Context) (*rawWS, error) {
	if o.t.gen.eio() {
		return o.openV4(ctx)
	}
	sid, err := o.handshake(ctx)
	if err != nil {
		return nil, err
	}
	c, err := o.t.dialer.DialContext(ctx, "tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := make([]byte, 0, 256)
	req = append(req, "GET /socket.io/1/websocket/"...)
	req = append(req, sid...)
	req = append(req, " HTTP/1.1\r\nHost: "...)
	req = append(req, o.addr...)
	req = append(req, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"...)
	if _, err := c.Write(req); err != nil {
		c.Close()
		return nil, fmt.Errorf("websocket: %w", err)
	}
	w := newRawWS(c, req[:0], false)
	status, _, _, err := readHead(w.r)
	if err != nil || status != 101 {
		c.Close()
		return nil, fmt.Errorf("websocket: upgrade: status %d %v", status, err)
	}
	first, err := w.read()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("no connect packet: %w", err)
	}
	if string(first) != "1::" {
		c.Close()
		return nil, fmt.Errorf("first frame %q is not the connect packet", clip(first))
	}
	return w, nil
}

// read reads the next text frame (server frames are unmasked and not
// fragmented); the result is valid until the next read.
func (w *rawWS) read() ([]byte, error) {
	for {
		var hdr [2]byte
		if _, err := io.ReadFull(w.r, hdr[:]); err != nil {
			return nil, err
		}
		n := int(hdr[1] & 0x7f)
		switch n {
		case 126:
			var ext [2]byte
			if _, err := io.ReadFull(w.r, ext[:]); err != nil {
				return nil, err
			}
			n = int(ext[0])<<8 | int(ext[1])
		case 127:
			return nil, errors.New("frame too long")
		}
		if cap(w.in) < n {
			w.in = make([]byte, n)
		}
		w.in = w.in[:n]
		if _, err := io.ReadFull(w.r, w.in); err != nil {
			return nil, err
		}
		switch hdr[0] {
		case 0x81:
			switch {
			case !w.v4 && string(w.in) == "2::":
				if err := w.write([]byte("2::")); err != nil {
					return nil, err
				}
				continue
			case w.v4 && (string(w.in) == v4Ping || string(w.in) == v4Pong):
				if string(w.in) == v4Pong { // v2: the answer to a client ping
					continue
				}
				if err := w.write([]byte(v4Pong)); err != nil {
					return nil, err
				}
				continue
			}
			return w.in, nil
		case 0x88:
			return nil, io.EOF
		}
	}
}

// write sends a text frame.
func (w *rawWS) write(payload []byte) error {
	w.out = appendClientFrame(w.out[:0], 0x1, payload)
	_, err := w.c.Write(w.out)
	return err
}

// closeFrame is a masked websocket close frame, status 1000.
var closeFrame = appendClientFrame(nil, 0x8, []byte{0x03, 0xe8})

// close says "0::" (0.9), or "41" and a websocket close frame (v4, as
// socket.io-client's disconnect() does), and leaves the TCP close to the
// server (up to 2 s, in the background), like wsClient.close(true).
func (w *rawWS) close() {
	var err error
	if w.v4 {
		w.out = appendClientFrame(w.out[:0], 0x1, []byte(v4Leave))
		w.out = append(w.out, closeFrame...)
		_, err = w.c.Write(w.out)
	} else {
		err = w.write([]byte("0::"))
	}
	if err != nil {
		_ = w.c.Close()
		return
	}
	go func() {
		_ = w.c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = io.Copy(io.Discard, w.r)
		_ = w.c.Close()
	}()
}

// session opens a session and closes it.
func (o *rawOpener) session(ctx context.Context) error {
	w, err := o.open(ctx)
	if err != nil {
		return err
	}
	w.close()
	return nil
}

// echo sends echo("ping", id) asking for an ack and waits for it, without
// allocating.
func (w *rawWS) echo(id uint64, buf []byte) ([]byte, time.Duration, error) {
	if w.v4 {
		return w.echoV4(id, buf)
	}
	buf = append(buf[:0], "5:"...)
	buf = strconv.AppendUint(buf, id, 10)
	buf = append(buf, `+::{"name":"echo","args":["ping",`...)
	buf = strconv.AppendUint(buf, id, 10)
	buf = append(buf, "]}"...)
	start := time.Now()
	if err := w.write(buf); err != nil {
		return buf, 0, err
	}
	want := append(buf[:0], "6:::"...)
	want = strconv.AppendUint(want, id, 10)
	want = append(want, `+["ping",`...)
	want = strconv.AppendUint(want, id, 10)
	want = append(want, ']')
	for {
		f, err := w.read()
		if err != nil {
			return want, 0, fmt.Errorf("echo ack %d: %w", id, err)
		}
		if bytes.Equal(f, want) {
			return want, time.Since(start), nil
		}
		if bytes.HasPrefix(f, []byte("6:::")) {
			return want, 0, fmt.Errorf("echo ack %d: unexpected %q", id, clip(f))
		}
	}
}

// echoV4 is echo in Socket.IO v5: "42N["echo","ping",N]", answered by
// "43N["ping",N]".
func (w *rawWS) echoV4(id uint64, buf []byte) ([]byte, time.Duration, error) {
	buf, split := appendEchoV4(buf, id)
	start := time.Now()
	if err := w.write(buf[:split]); err != nil {
		return buf, 0, err
	}
	want := buf[split:]
	for {
		f, err := w.read()
		if err != nil {
			return buf, 0, fmt.Errorf("echo ack %d: %w", id, err)
		}
		if bytes.Equal(f, want) {
			return buf, time.Since(start), nil
		}
		if bytes.HasPrefix(f, []byte("43")) {
			return buf, 0, fmt.Errorf("echo ack %d: unexpected %q", id, clip(f))
		}
	}
}
