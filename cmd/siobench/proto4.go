package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/siogo/siogo/internal/eioparser"
	"github.com/siogo/siogo/internal/sioparser"
	"github.com/siogo/siogo/packet"
)

// generation is the protocol the clients of a run speak.
type generation int

const (
	gen09 generation = iota // Socket.IO 0.9 (/socket.io/1/)
	genV4                   // Engine.IO v4 + Socket.IO v5 (/socket.io/?EIO=4), clients 3.x/4.x
	// genV2 is Engine.IO v3 + Socket.IO protocol v4 (/socket.io/?EIO=3),
	// clients 2.x: the client pings ("2", answered "3"), the server
	// connects "/" by itself ("40" after the open packet), polling payloads
	// are "<len>:<packet>"; events and acks are framed as in v4.
	genV2
)

func (g generation) String() string {
	switch g {
	case genV4:
		return "v4"
	case genV2:
		return "v2"
	}
	return "0.9"
}

// eio reports whether g runs over Engine.IO (v3 or v4 framing: "4" +
// Socket.IO packet), not the 0.9 transports.
func (g generation) eio() bool { return g != gen09 }

// eioPath is the Engine.IO request path up to the transport name.
func (g generation) eioPath() string {
	if g == genV2 {
		return eio3Path
	}
	return eio4Path
}

// v3PingEvery is how often a v2 (Engine.IO v3) client pings (target.pingEvery
// by default); the servers' ping interval is 25 s and they wait interval +
// timeout (45 s).
const v3PingEvery = 20 * time.Second

// v3Connected checks the server's own namespace connect in Engine.IO v3:
// "40" (socket.io 2.x/4.x with allowEIO3 send it bare).
func v3Connected(f []byte) error {
	if string(f) != "40" {
		return fmt.Errorf("namespace connect is %q, not 40", clip(f))
	}
	return nil
}

// The Engine.IO v4 / Socket.IO v5 frames the load generator uses, in the
// "/" namespace: "0{...}" open (server), "40" connect, "40{"sid":...}"
// connected, "41" disconnect, "2" ping (server) and "3" pong, events
// "42[...]", "42N[...]" asking for ack N, acks "43N[...]".
const (
	eio4Path   = "/socket.io/?EIO=4&transport="
	eio3Path   = "/socket.io/?EIO=3&transport="
	v4Connect  = "40"
	v4Leave    = "41"
	v4Ping     = "2"
	v4Pong     = "3"
	v4EventPre = `42["`
)

// wire holds the frames of the phases in one generation's encoding.
type wire struct {
	join    []byte // join(roomName) asking for ack 1
	joinAck string // its answer
	toRoom  []byte // to-room(roomName, payload)
	// everyone appends the emit everyone(i) to dst.
	everyone func(dst []byte, i int) []byte
}

const broadcastPayload = `"siobench broadcast payload 0123456789"`

func wireFor(g generation) *wire {
	if g.eio() {
		return &wire{
			join:    v4Frame(sioparser.Event, 1, true, "join", strconv.Quote(roomName)),
			joinAck: "431[true]",
			toRoom:  v4Frame(sioparser.Event, 0, false, "to-room", strconv.Quote(roomName), broadcastPayload),
			everyone: func(dst []byte, i int) []byte {
				return append(dst, v4Frame(sioparser.Event, 0, false, "everyone", strconv.Itoa(i))...)
			},
		}
	}
	return &wire{
		join: encode(&packet.Packet{Type: packet.Event, ID: 1, HasID: true, AckData: true,
			Name: "join", Args: rawArgs(strconv.Quote(roomName))}),
		joinAck: "6:::1+[true]",
		toRoom: encode(&packet.Packet{Type: packet.Event, Name: "to-room",
			Args: rawArgs(strconv.Quote(roomName), broadcastPayload)}),
		everyone: func(dst []byte, i int) []byte {
			return packet.AppendPacket(dst, &packet.Packet{Type: packet.Event, Name: "everyone", Args: rawArgs(strconv.Itoa(i))})
		},
	}
}

// isJoinAck tells a join's answer (right or wrong) from other frames.
func isJoinAck(f []byte) bool {
	return bytes.HasPrefix(f, []byte("6:::1")) || bytes.HasPrefix(f, []byte("431"))
}

// v4Frame is the websocket text frame of a Socket.IO v5 event in "/"
// (Engine.IO message "4" + the Socket.IO packet).
func v4Frame(typ sioparser.Type, id uint64, hasID bool, name string, args ...string) []byte {
	p := &sioparser.Packet{Type: typ, ID: id, HasID: hasID,
		Data: sioparser.AppendEventData(nil, name, rawArgs(args...))}
	b, err := sioparser.AppendPacket(nil, p)
	if err != nil {
		panic(err) // the frames are fixed; a failure is a bug here
	}
	return eioparser.AppendPacket(nil, eioparser.Packet{Type: eioparser.Message, Data: b})
}

// isEventV4 reports whether frame f is a v5 event "42[...]" named name
// ("/" namespace, no ack id), without decoding it.
func isEventV4(f []byte, name string) bool {
	return len(f) > len(v4EventPre)+len(name) && string(f[:len(v4EventPre)]) == v4EventPre &&
		string(f[len(v4EventPre):len(v4EventPre)+len(name)]) == name && f[len(v4EventPre)+len(name)] == '"'
}

// v4Open checks the Engine.IO open packet "0{...}" and returns its sid.
func v4Open(b []byte) (string, error) {
	p, err := eioparser.DecodePacket(b)
	if err != nil || p.Type != eioparser.Open {
		return "", fmt.Errorf("not an Engine.IO open packet: %q", clip(b))
	}
	var hs struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(p.Data, &hs); err != nil || hs.SID == "" {
		return "", fmt.Errorf("bad Engine.IO handshake %q", clip(b))
	}
	return hs.SID, nil
}

// v4Connected checks the answer to "40": "40{"sid":...}" (a connect
// error is "44{...}").
func v4Connected(f []byte) error {
	if !bytes.HasPrefix(f, []byte(`40{`)) {
		return fmt.Errorf("namespace connect answered %q", clip(f))
	}
	return nil
}

// dialWSV4 opens an Engine.IO v4 websocket directly (no polling handshake)
// and connects the "/" namespace; for v2 (Engine.IO v3) it waits for the
// server's own "40" and pings every v3PingEvery.
func (t *target) dialWSV4(ctx context.Context, onFrame func([]byte) bool) (*wsClient, error) {
	conn, resp, err := t.wsd.DialContext(ctx, t.wsURL4, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket: %v (%s)", err, resp.Status)
		}
		return nil, fmt.Errorf("websocket: %w", err)
	}
	c := &wsClient{c: conn, v4: true, v3: t.gen == genV2, onFrame: onFrame, frames: make(chan []byte, 16), done: make(chan struct{})}
	go c.readLoop()
	f, err := c.await(ctx, 10*time.Second, func(f []byte) bool { return true })
	if err != nil {
		c.close(false)
		return nil, fmt.Errorf("no open packet: %w", err)
	}
	if _, err := v4Open(f); err != nil {
		c.close(false)
		return nil, err
	}
	if c.v3 {
		c.startPings(t.pingEvery)
	} else if err := c.write([]byte(v4Connect)); err != nil {
		c.close(false)
		return nil, err
	}
	f, err = c.await(ctx, 10*time.Second, func(f []byte) bool {
		return bytes.HasPrefix(f, []byte("40")) || bytes.HasPrefix(f, []byte("44"))
	})
	if err == nil {
		if c.v3 {
			err = v3Connected(f)
		} else {
			err = v4Connected(f)
		}
	}
	if err != nil {
		c.close(false)
		return nil, fmt.Errorf("connect: %w", err)
	}
	return c, nil
}

// openV4 opens an Engine.IO v4 websocket session with the raw client and
// connects "/": upgrade, "0{...}", "40", "40{...}" (v2: upgrade, "0{...}",
// the server's "40"; these sessions live seconds, so they do not ping).
func (o *rawOpener) openV4(ctx context.Context) (*rawWS, error) {
	c, err := o.t.dialer.DialContext(ctx, "tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := make([]byte, 0, 256)
	req = append(req, "GET "+o.t.gen.eioPath()+"websocket HTTP/1.1\r\nHost: "...)
	req = append(req, o.addr...)
	req = append(req, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"...)
	if _, err := c.Write(req); err != nil {
		c.Close()
		return nil, fmt.Errorf("websocket: %w", err)
	}
	w := newRawWS(c, req[:0], true)
	status, _, _, err := readHead(w.r)
	if err != nil || status != 101 {
		c.Close()
		return nil, fmt.Errorf("websocket: upgrade: status %d %v", status, err)
	}
	first, err := w.read()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("no open packet: %w", err)
	}
	if _, err := v4Open(first); err != nil {
		c.Close()
		return nil, err
	}
	v3 := o.t.gen == genV2
	if !v3 {
		if err := w.write([]byte(v4Connect)); err != nil {
			c.Close()
			return nil, err
		}
	}
	f, err := w.read()
	if err == nil {
		if v3 {
			err = v3Connected(f)
		} else {
			err = v4Connected(f)
		}
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return w, nil
}

// appendEchoV4 appends echo("ping", id) asking for ack id, and the answer
// it expects, without allocating.
func appendEchoV4(buf []byte, id uint64) (msg []byte, wantFrom int) {
	buf = append(buf[:0], "42"...)
	buf = strconv.AppendUint(buf, id, 10)
	buf = append(buf, `["echo","ping",`...)
	buf = strconv.AppendUint(buf, id, 10)
	buf = append(buf, ']')
	wantFrom = len(buf)
	buf = append(buf, "43"...)
	buf = strconv.AppendUint(buf, id, 10)
	buf = append(buf, `["ping",`...)
	buf = strconv.AppendUint(buf, id, 10)
	buf = append(buf, ']')
	return buf, wantFrom
}

// handshakeV4 opens an Engine.IO v4 polling session and asks to connect
// "/" ("40" posted; the server's "40{...}" comes with a later poll).
func (t *target) handshakeV4(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", t.base+t.gen.eioPath()+"polling&t="+strconv.FormatInt(time.Now().UnixMilli(), 10), nil)
	if err != nil {
		return "", err
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("handshake: %s %q", resp.Status, body)
	}
	if t.gen == genV2 {
		return t.handshakeV3(body)
	}
	sid, err := v4Open(body)
	if err != nil {
		return "", err
	}
	if err := t.post(ctx, t.pollURL4(sid), v4Connect); err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	return sid, nil
}

// handshakeV3 reads an Engine.IO v3 handshake payload: the open packet,
// maybe followed by the server's "40" (else it comes with a later poll).
func (t *target) handshakeV3(body []byte) (string, error) {
	parts, err := eioparser.DecodePayloadV3(body, eioparser.Limits{})
	if err != nil || len(parts) == 0 {
		return "", fmt.Errorf("handshake payload %q: %v", clip(body), err)
	}
	sid, err := v4Open(eioparser.AppendPacket(nil, parts[0]))
	if err != nil {
		return "", err
	}
	for _, p := range parts[1:] {
		if p.Type == eioparser.Message && string(p.Data) == "0" {
			t.connectedAtOpen.Store(sid, true)
		}
	}
	return sid, nil
}

func (t *target) pollURL4(sid string) string {
	return t.base + t.gen.eioPath() + "polling&sid=" + sid + "&t=" + strconv.FormatInt(time.Now().UnixMilli(), 10)
}

// pollLoopV4 is one Engine.IO v4 polling client: GET in a loop, pings
// answered by POST "3", `everyone` events counted as in pollLoop. For v2
// (Engine.IO v3 payloads) the client would ping; the polling phase is
// shorter than the servers' 45 s, so it does not.
func (b *bench) pollLoopV4(ctx context.Context, pc *pollClient, errs *errCounter) {
	fail := func(err error) bool {
		if ctx.Err() != nil {
			return true
		}
		errs.add(err)
		return sleep(ctx, 100*time.Millisecond) != nil
	}
	everyone := []byte(`2["everyone",`)
	v3 := b.t.gen == genV2
	decode := eioparser.DecodePayload
	if v3 {
		decode = eioparser.DecodePayloadV3
		if _, ok := b.t.connectedAtOpen.LoadAndDelete(pc.sid); ok {
			pc.connected.Store(true)
		}
	}
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", b.t.pollURL4(pc.sid), nil)
		pc.pollSince.Store(time.Now().UnixNano())
		resp, err := b.t.hc.Do(req)
		if err != nil {
			pc.pollSince.Store(0)
			if fail(err) {
				return
			}
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		pc.pollSince.Store(0)
		if err != nil || resp.StatusCode != 200 {
			if fail(fmt.Errorf("poll: %s %v %q", resp.Status, err, clip(body))) {
				return
			}
			continue
		}
		parts, err := decode(body, eioparser.Limits{})
		if err != nil {
			if fail(fmt.Errorf("poll payload %q: %v", clip(body), err)) {
				return
			}
			continue
		}
		now := time.Now().UnixNano()
		for _, p := range parts {
			switch p.Type {
			case eioparser.Message:
				switch {
				case bytes.HasPrefix(p.Data, everyone):
					digits, _, _ := strings.Cut(string(p.Data[len(everyone):]), "]")
					pc.event(now, digits)
				case bytes.HasPrefix(p.Data, []byte("0{")), v3 && string(p.Data) == "0":
					pc.connected.Store(true)
				case len(p.Data) > 0 && (p.Data[0] == '1' || p.Data[0] == '4'):
					if ctx.Err() == nil {
						errs.add(fmt.Errorf("namespace left by the server: %q", clip(p.Data)))
					}
					return
				}
			case eioparser.Ping:
				if err := b.t.post(ctx, b.t.pollURL4(pc.sid), v4Pong); err != nil && ctx.Err() == nil {
					errs.add(err)
				}
			case eioparser.Close:
				if ctx.Err() == nil {
					errs.add(errors.New("session closed by the server"))
				}
				return
			}
		}
	}
}
