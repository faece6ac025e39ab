package packet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Type is a packet type, the first field of every packet.
type Type uint8

// The packet types of protocol 1.
const (
	Disconnect Type = iota // leave a namespace ("0::/chat") or the whole session ("0::")
	Connect                // join a namespace, optional "?query" data
	Heartbeat              // keep-alive, answered by the client
	Message                // plain text
	JSON                   // one JSON value
	Event                  // {"name":"NAME","args":[...]}
	Ack                    // "ID" or "ID+[json args]"
	Error                  // "REASON[+ADVICE]"
	Noop                   // nothing; closes a poll that had nothing to say
)

var typeNames = [...]string{"disconnect", "connect", "heartbeat", "message", "json", "event", "ack", "error", "noop"}

// String returns the protocol's name of the type ("event", "ack"...).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Error reasons (the REASON field of an error packet).
const (
	ReasonTransportNotSupported = 0
	ReasonNotHandshaken         = 1
	ReasonUnauthorized          = 2
)

// AdviceReconnect is the only advice of protocol 1.
const AdviceReconnect = 0

// Packet is one decoded Socket.IO 0.9 packet.
//
// Which fields are meaningful depends on Type:
//   - Message: Data is the text.
//   - JSON: Data is the raw JSON value.
//   - Connect: Data is the query string without its leading '?', if any.
//   - Event: Name and Args.
//   - Ack: AckID and Args (Args is nil when the ack carries no data).
//   - Error: Reason and Advice (-1 when absent).
//
// ID/HasID/AckData belong to the packet header: a packet with an id asks the
// receiver for an acknowledgement, with data when AckData is set ("5:1+::").
type Packet struct {
	Type     Type
	ID       uint64
	HasID    bool
	AckData  bool
	Endpoint string

	Data   string
	Name   string
	Args   []json.RawMessage
	AckID  uint64
	Reason int
	Advice int
}

// Errors returned by the decoders. They are wrapped with detail; test with
// errors.Is.
var (
	ErrMalformed = errors.New("packet: malformed packet")
	ErrPayload   = errors.New("packet: malformed payload framing")
)

// MaxID is the largest message id accepted by the decoder.
const MaxID = 1<<53 - 1 // what a JavaScript number holds exactly

// Decode parses one packet. The returned packet may alias s.
func Decode(s string) (Packet, error) {
	var p Packet
	p.Reason, p.Advice = -1, -1
	// TYPE
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return p, fmt.Errorf("%w: no type field", ErrMalformed)
	}
	t, err := strconv.ParseUint(s[:i], 10, 8)
	if err != nil || t > uint64(Noop) {
		return p, fmt.Errorf("%w: unknown type %q", ErrMalformed, clip(s[:i]))
	}
	p.Type = Type(t)
	s = s[i+1:]
	// ID[+]
	i = strings.IndexByte(s, ':')
	if i < 0 {
		return p, fmt.Errorf("%w: no id field", ErrMalformed)
	}
	id := s[:i]
	s = s[i+1:]
	if strings.HasSuffix(id, "+") {
		id = id[:len(id)-1]
		if id == "" {
			return p, fmt.Errorf("%w: '+' without id", ErrMalformed)
		}
		p.AckData = true
	}
	if id != "" {
		n, err := parseID(id)
		if err != nil {
			return p, err
		}
		p.ID, p.HasID = n, true
	}
	// ENDPOINT[:DATA]
	data := ""
	if i = strings.IndexByte(s, ':'); i >= 0 {
		p.Endpoint, data = s[:i], s[i+1:]
	} else {
		p.Endpoint = s
	}
	switch p.Type {
	case Message:
		p.Data = data
	case JSON:
		if !json.Valid([]byte(data)) {
			return p, fmt.Errorf("%w: json packet with invalid JSON", ErrMalformed)
		}
		p.Data = data
	case Connect:
		p.Data = strings.TrimPrefix(data, "?")
	case Event:
		// Keys are case-sensitive (as with a map; a struct would also
		// accept "NAME"); duplicate keys: the last wins, as in JSON.parse.
		if err := decodeEvent(data, &p); err != nil {
			return p, err
		}
	case Ack:
		idPart, args, hasArgs := strings.Cut(data, "+")
		n, err := parseID(idPart)
		if err != nil {
			return p, err
		}
		p.AckID = n
		if hasArgs {
			if err := json.Unmarshal([]byte(args), &p.Args); err != nil {
				return p, fmt.Errorf("%w: ack args: %v", ErrMalformed, err)
			}
			if p.Args == nil {
				p.Args = []json.RawMessage{}
			}
		}
	case Error:
		if data != "" {
			r, a, hasA := strings.Cut(data, "+")
			if r != "" {
				if p.Reason, err = strconv.Atoi(r); err != nil || p.Reason < 0 {
					return p, fmt.Errorf("%w: error reason %q", ErrMalformed, clip(r))
				}
			}
			if hasA {
				if p.Advice, err = strconv.Atoi(a); err != nil || p.Advice < 0 {
					return p, fmt.Errorf("%w: error advice %q", ErrMalformed, clip(a))
				}
			}
		}
	}
	return p, nil
}

func parseID(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty id", ErrMalformed)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: id %q is not a number", ErrMalformed, clip(s))
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > MaxID {
		return 0, fmt.Errorf("%w: id %q out of range", ErrMalformed, clip(s))
	}
	return n, nil
}

// clip shortens untrusted text quoted in error messages.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// AppendPacket appends the wire form of p to dst.
//
// For Event, Ack and JSON packets the JSON parts (Args, Data) must already
// be valid JSON; the encoder copies them, escaping raw U+2028/U+2029.
func AppendPacket(dst []byte, p *Packet) []byte {
	dst = append(dst, '0'+byte(p.Type), ':')
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
		if p.AckData {
			dst = append(dst, '+')
		}
	}
	dst = append(dst, ':')
	dst = append(dst, p.Endpoint...)
	switch p.Type {
	case Message:
		if p.Data != "" {
			dst = append(dst, ':')
			dst = append(dst, p.Data...)
		}
	case JSON:
		dst = append(dst, ':')
		dst = appendJSON(dst, []byte(p.Data))
	case Connect:
		if p.Data != "" {
			dst = append(dst, ":?"...)
			dst = append(dst, p.Data...)
		}
	case Event:
		dst = append(dst, `:{"name":`...)
		dst = AppendString(dst, p.Name)
		if len(p.Args) > 0 {
			dst = append(dst, `,"args":`...)
			dst = appendArgs(dst, p.Args)
		}
		dst = append(dst, '}')
	case Ack:
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, p.AckID, 10)
		if len(p.Args) > 0 {
			dst = append(dst, '+')
			dst = appendArgs(dst, p.Args)
		}
	case Error:
		if p.Reason >= 0 || p.Advice >= 0 {
			dst = append(dst, ':')
			if p.Reason >= 0 {
				dst = strconv.AppendInt(dst, int64(p.Reason), 10)
			}
			if p.Advice >= 0 {
				dst = append(dst, '+')
				dst = strconv.AppendInt(dst, int64(p.Advice), 10)
			}
		}
	}
	return dst
}

// Encode returns the wire form of p as a string.
func Encode(p *Packet) string { return string(AppendPacket(nil, p)) }

func appendArgs(dst []byte, args []json.RawMessage) []byte {
	dst = append(dst, '[')
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		if len(a) == 0 {
			dst = append(dst, "null"...)
			continue
		}
		dst = appendJSON(dst, a)
	}
	return append(dst, ']')
}

// sepPrefix is the UTF-8 prefix shared by U+2028 and U+2029.
var sepPrefix = []byte{0xe2, 0x80}

// appendJSON appends JSON text, rewriting raw U+2028/U+2029 as escapes.
func appendJSON(dst, js []byte) []byte {
	if !bytes.Contains(js, sepPrefix) {
		return append(dst, js...)
	}
	for len(js) > 0 {
		i := bytes.Index(js, sepPrefix)
		if i < 0 || i+2 >= len(js) {
			return append(dst, js...)
		}
		switch js[i+2] {
		case 0xa8:
			dst = append(append(dst, js[:i]...), `\u2028`...)
			js = js[i+3:]
		case 0xa9:
			dst = append(append(dst, js[:i]...), `\u2029`...)
			js = js[i+3:]
		default:
			dst = append(dst, js[:i+2]...)
			js = js[i+2:]
		}
	}
	return dst
}

// AppendString appends s as a JSON string: the bytes json.Marshal(s)
// gives. Like encoding/json it escapes
// <, >, &, U+2028 and U+2029 and replaces invalid UTF-8 with U+FFFD; unlike
// it, it does not allocate.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
