// Command siocat talks to a Socket.IO server from the command line, built
// on the siogo client package: a 0.9 server by default, a Socket.IO
// 3.x/4.x one (Engine.IO v4, Socket.IO v5) with -protocol v5, and with
// -protocol eio3 what socket.io-client 2.x speaks (Engine.IO v3,
// Socket.IO protocol v4).
//
//	siocat [-protocol 0.9|v5|eio3] [-transport NAME] [-auth JSON]
//	       [-emit NAME [-ack]] [-listen N] [-timeout D] URL [JSON-ARG...]
//
// -protocol picks the protocol: 0.9 (the default; transports websocket,
// xhr-polling, jsonp-polling) or v5 (transports websocket, polling; -auth
// is the CONNECT payload, a JSON object, the server's
// socket.handshake.auth) or eio3 (transports as v5, no -auth: the URL's
// query goes with the namespace's CONNECT). -transport restricts siocat to one transport,
// or a comma-separated list tried in order (default: each in turn); with
// v5, "polling,websocket" opens with polling and upgrades to websocket.
//
// The URL's path picks the namespace, its query goes with the handshake:
// http://localhost:8080/private?token=secret.
//
//   - -emit NAME emits NAME with the JSON arguments given after the URL
//     ('"text"' for a string). With -ack it waits for the server's ack and
//     prints its arguments as one JSON array line.
//   - -listen N prints the first N events received on the URL's namespace
//     (after the emit's ack line, if any), one JSON line each:
//     {"name":"…","args":[…]}.
//   - Without -emit and -listen, siocat is interactive: it reads commands
//     from stdin — "emit NAME [JSON-ARG...]", "send TEXT", "json VALUE",
//     "quit" — and prints every packet it receives as a JSON line
//     ({"type":"event","endpoint":"","name":…,"args":…}, …).
//
// -timeout (default 10s) bounds every wait: connecting, an ack, each
// event. JSON is printed without HTML escaping. Exit status: 0 on success,
// 1 on failure (a refused handshake or namespace, a timeout, a lost
// connection: the reason is printed on stderr, nothing on stdout), 2 for
// bad usage.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/packet"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: siocat [-protocol 0.9|v5|eio3] [-transport NAME] [-auth JSON]
              [-emit NAME [-ack]] [-listen N] [-timeout D] URL [JSON-ARG...]

  -protocol 0.9            Socket.IO 0.9 (default): transports websocket,
                           xhr-polling, jsonp-polling
  -protocol v5             Socket.IO 3.x/4.x (Engine.IO v4, Socket.IO v5):
                           transports websocket, polling (-transport
                           polling,websocket upgrades); -auth JSON is the
                           CONNECT payload (an object)
  -protocol eio3           Socket.IO 2.x (Engine.IO v3, Socket.IO v4):
                           transports as v5; no -auth (use the URL's query)

  -emit NAME URL ARGS...   emit NAME with the JSON arguments; with -ack wait
                           for the ack and print its arguments as a JSON array
  -listen N                print the first N events as {"name":…,"args":[…]} lines
  (neither)                interactive: stdin commands "emit NAME ARG...",
                           "send TEXT", "json VALUE", "quit"; every packet
                           received is printed as a JSON line
`

// cli is one run of siocat.
type cli struct {
	stdout, stderr io.Writer
	outMu          sync.Mutex // serializes stdout lines
	timeout        time.Duration
}

func (c *cli) failf(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "siocat: "+format+"\n", args...)
	return 1
}

// printLine writes v as one JSON line, without HTML escaping.
func (c *cli) printLine(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	c.outMu.Lock()
	defer c.outMu.Unlock()
	_, err := c.stdout.Write(buf.Bytes())
	return err
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("siocat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	protocol := fs.String("protocol", "0.9", "the protocol: 0.9, v5 (Socket.IO 3.x/4.x) or eio3 (Socket.IO 2.x)")
	transport := fs.String("transport", "", "the transport to use, or a comma-separated list tried in order: websocket, xhr-polling, jsonp-polling; with -protocol v5 websocket, polling (polling,websocket: the upgrade) (default: each in turn)")
	auth := fs.String("auth", "", "with -protocol v5: the CONNECT payload, a JSON object")
	emit := fs.String("emit", "", "emit this event with the JSON arguments after the URL")
	ack := fs.Bool("ack", false, "with -emit: wait for the ack and print its arguments")
	listen := fs.Int("listen", 0, "print the first N events received, then exit")
	timeout := fs.Duration("timeout", 10*time.Second, "bound on every wait")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "siocat: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	rest := fs.Args()
	switch {
	case len(rest) == 0:
		return bad("no URL")
	case *ack && *emit == "":
		return bad("-ack needs -emit")
	case *listen < 0:
		return bad("-listen must be positive")
	case *timeout <= 0:
		return bad("-timeout must be positive")
	case len(rest) > 1 && *emit == "":
		return bad("JSON arguments need -emit")
	}
	var proto client.Protocol
	switch *protocol {
	case "0.9":
		proto = client.Protocol09
	case "v5", "5":
		proto = client.ProtocolV5
	case "eio3":
		proto = client.ProtocolEIO3
	default:
		return bad("-protocol must be 0.9, v5 or eio3, not %q", *protocol)
	}
	var authArg any
	if *auth != "" {
		if proto != client.ProtocolV5 {
			return bad("-auth needs -protocol v5 (eio3: put the credentials in the URL's query)")
		}
		if a := strings.TrimSpace(*auth); !json.Valid([]byte(a)) || a[0] != '{' {
			return bad("-auth must be a JSON object: %q", *auth)
		}
		authArg = json.RawMessage(*auth)
	}
	rawURL := rest[0]
	emitArgs := make([]any, 0, len(rest)-1)
	for i, a := range rest[1:] {
		if !json.Valid([]byte(a)) {
			return bad("argument %d is not JSON: %q (write a string as '\"text\"')", i+1, a)
		}
		emitArgs = append(emitArgs, json.RawMessage(a))
	}
	c := &cli{stdout: stdout, stderr: stderr, timeout: *timeout}
	interactive := *emit == "" && *listen == 0

	// Everything received goes through OnPacket, registered before Dial so
	// nothing is missed. OnDisconnect of the default namespace runs after
	// every packet of the session was handled: the end of the output.
	events := make(chan packet.Packet, 1<<16)
	lost := make(chan error, 1)
	opts := &client.Options{
		Protocol:       proto,
		Auth:           authArg,
		NoReconnect:    true,
		ConnectTimeout: *timeout,
		OnDisconnect: func(ns *client.Namespace, err error) {
			// The end of the session (0.9: the default namespace's), or
			// in v5 of the URL's namespace.
			if (proto == client.Protocol09 && ns.Name() == "") || (proto != client.Protocol09 && ns == ns.Client().Namespace()) {
				select {
				case lost <- err:
				default:
				}
			}
		},
		OnError: func(err error) { fmt.Fprintln(stderr, "siocat:", err) },
	}
	if *transport != "" {
		opts.Transports = strings.Split(*transport, ",")
	}
	var endpoint string // the URL's namespace, known once Dial returns
	if interactive {
		opts.OnPacket = func(p packet.Packet) {
			if err := c.printLine(packetLine(p)); err != nil {
				fmt.Fprintln(stderr, "siocat:", err)
			}
		}
	} else {
		opts.OnPacket = func(p packet.Packet) {
			if p.Type == packet.Event {
				events <- p
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	sc, err := client.Dial(ctx, rawURL, opts)
	cancel()
	if err != nil {
		return c.failf("%v", err)
	}
	defer sc.Close()
	endpoint = sc.Namespace().Name()

	if interactive {
		return c.interactive(sc, stdin, lost)
	}
	if *emit != "" {
		if *ack {
			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			res, err := sc.EmitWithAck(ctx, *emit, emitArgs...)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				return c.failf("timed out after %s waiting for the ack of %q", *timeout, *emit)
			}
			if err != nil {
				return c.failf("%v", err)
			}
			if err := c.printLine(plainArgs(res)); err != nil {
				return c.failf("%v", err)
			}
		} else if err := sc.Emit(*emit, emitArgs...); err != nil {
			return c.failf("%v", err)
		}
	}
	for i := 0; i < *listen; i++ {
		p, err := c.nextEvent(events, lost, endpoint)
		if err != nil {
			return c.failf("waiting for event %d of %d: %v", i+1, *listen, err)
		}
		if err := c.printLine(eventLine{Name: p.Name, Args: plainArgs(p.Args)}); err != nil {
			return c.failf("%v", err)
		}
	}
	return 0
}

// nextEvent waits for the next event on endpoint.
func (c *cli) nextEvent(events <-chan packet.Packet, lost <-chan error, endpoint string) (packet.Packet, error) {
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	for {
		select {
		case p := <-events:
			if p.Endpoint == endpoint {
				return p, nil
			}
		case err := <-lost:
			// Events received before the session ended are already queued.
			for {
				select {
				case p := <-events:
					if p.Endpoint == endpoint {
						return p, nil
					}
				default:
					return packet.Packet{}, err
				}
			}
		case <-timer.C:
			return packet.Packet{}, fmt.Errorf("timed out after %s", c.timeout)
		}
	}
}

func (c *cli) interactive(sc *client.Client, stdin io.Reader, lost <-chan error) int {
	lines := make(chan string)
	go func() {
		defer close(lines)
		in := bufio.NewScanner(stdin)
		in.Buffer(make([]byte, 64<<10), 16<<20)
		for in.Scan() {
			lines <- in.Text()
		}
	}()
	for {
		select {
		case err := <-lost:
			return c.failf("%v", err)
		case line, ok := <-lines:
			if !ok {
				return 0
			}
			quit, err := command(sc, line)
			if err != nil {
				fmt.Fprintln(c.stderr, "siocat:", err)
			}
			if quit {
				return 0
			}
		}
	}
}

// command runs one interactive command line.
func command(sc *client.Client, line string) (quit bool, err error) {
	line = strings.TrimRight(line, "\r")
	verb, rest, _ := strings.Cut(strings.TrimLeft(line, " \t"), " ")
	switch verb {
	case "":
		return false, nil
	case "quit", "exit":
		return true, nil
	case "send":
		return false, sc.Send(rest)
	case "json":
		rest = strings.TrimSpace(rest)
		if !json.Valid([]byte(rest)) {
			return false, fmt.Errorf("json: not a JSON value: %q", rest)
		}
		return false, sc.SendJSON(json.RawMessage(rest))
	case "emit":
		name, argText, _ := strings.Cut(strings.TrimLeft(rest, " \t"), " ")
		if name == "" {
			return false, errors.New("emit: no event name")
		}
		args, err := jsonValues(argText)
		if err != nil {
			return false, fmt.Errorf("emit: %w", err)
		}
		return false, sc.Emit(name, args...)
	}
	return false, fmt.Errorf("unknown command %q (emit NAME ARG..., send TEXT, json VALUE, quit)", verb)
}

// jsonValues parses whitespace-separated JSON values.
func jsonValues(s string) ([]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	var out []any
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("argument %d is not JSON: %v", len(out)+1, err)
		}
		out = append(out, v)
	}
}

// eventLine is what -listen prints.
type eventLine struct {
	Name string            `json:"name"`
	Args []json.RawMessage `json:"args"`
}

// packetLineJSON is what interactive mode prints for a packet.
type packetLineJSON struct {
	Type     string          `json:"type"`
	Endpoint string          `json:"endpoint"`
	ID       *uint64         `json:"id,omitempty"`
	Ack      string          `json:"ack,omitempty"` // "data" when the server wants an ack with data
	Name     *string         `json:"name,omitempty"`
	Args     json.RawMessage `json:"args,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	AckID    *uint64         `json:"ack_id,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Advice   string          `json:"advice,omitempty"`
}

var reasons = []string{"transport not supported", "client not handshaken", "unauthorized"}

func packetLine(p packet.Packet) packetLineJSON {
	l := packetLineJSON{Type: p.Type.String(), Endpoint: p.Endpoint}
	if p.HasID {
		id := p.ID
		l.ID = &id
		if p.AckData {
			l.Ack = "data"
		}
	}
	switch p.Type {
	case packet.Event:
		name := p.Name
		l.Name = &name
		l.Args = marshalArgs(plainArgs(p.Args))
	case packet.Ack:
		id := p.AckID
		l.AckID = &id
		if p.Args != nil {
			l.Args = marshalArgs(plainArgs(p.Args))
		}
	case packet.Message:
		l.Data, _ = marshalNoEscape(p.Data)
	case packet.JSON:
		l.Data = plain(json.RawMessage(p.Data))
	case packet.Connect:
		if p.Data != "" {
			l.Data, _ = marshalNoEscape("?" + p.Data)
		}
	case packet.Error:
		if p.Reason >= 0 {
			l.Reason = strconv.Itoa(p.Reason)
			if p.Reason < len(reasons) {
				l.Reason = reasons[p.Reason]
			}
		}
		if p.Advice == packet.AdviceReconnect {
			l.Advice = "reconnect"
		} else if p.Advice > 0 {
			l.Advice = strconv.Itoa(p.Advice)
		}
	}
	return l
}

func marshalArgs(args []json.RawMessage) json.RawMessage {
	b, _ := marshalNoEscape(args)
	return b
}

func marshalNoEscape(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// plainArgs rewrites each argument with plain (never HTML-escaped)
// strings; a nil list becomes an empty one.
func plainArgs(args []json.RawMessage) []json.RawMessage {
	out := make([]json.RawMessage, len(args))
	for i, a := range args {
		out[i] = plain(a)
	}
	return out
}

// plain re-encodes JSON text canonically: strings without HTML escapes
// ("\u003c/script\u003e" becomes "</script>") but with U+2028/U+2029
// escaped, whatever the server sent; key order and number text are kept.
// Invalid input is returned as is.
func plain(raw json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	type level struct {
		object bool
		n      int // tokens so far at this level
	}
	var stack []level
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return raw
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			out.WriteByte(byte(d))
			continue
		}
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			switch {
			case top.object && top.n%2 == 1:
				out.WriteByte(':')
			case top.n > 0:
				out.WriteByte(',')
			}
			top.n++
		}
		switch v := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(v))
			stack = append(stack, level{object: v == '{'})
		case string:
			b, _ := marshalNoEscape(v)
			out.Write(b)
		case json.Number:
			out.WriteString(string(v))
		case bool:
			out.WriteString(strconv.FormatBool(v))
		case nil:
			out.WriteString("null")
		}
	}
	return out.Bytes()
}
