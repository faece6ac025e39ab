package sioparser

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Options configure decoding. The zero value decodes V5 with the default
// bounds.
type Options struct {
	// Protocol is V5 (the zero value) or V4.
	Protocol Protocol
	// MaxAttachments bounds the attachments a packet may announce;
	// 0 means DefaultMaxAttachments.
	MaxAttachments int
	// MaxAttachmentBytes bounds the total bytes of one packet's
	// attachments (Decoder); 0 means DefaultMaxAttachmentBytes.
	MaxAttachmentBytes int
}

func (o *Options) maxAttachments() int {
	if o.MaxAttachments > 0 {
		return o.MaxAttachments
	}
	return DefaultMaxAttachments
}

func (o *Options) maxAttachmentBytes() int {
	if o.MaxAttachmentBytes > 0 {
		return o.MaxAttachmentBytes
	}
	return DefaultMaxAttachmentBytes
}

// DecodeText decodes one text frame. For the binary types it returns the
// number of attachments the packet announced (at least 1), whose
// placeholders in Data have been checked to be exactly 0..n-1, each once;
// the attachments themselves are the next n binary frames (Decoder
// collects them). For the other types attachments is 0. The Namespace
// and Query of the packet alias s; Data is a copy.
//
// Beyond the format, the decoder checks what socket.io-parser 4.x checks,
// a little more strictly (see the package documentation).
func DecodeText(s string, o Options) (p Packet, attachments int, err error) {
	if s == "" {
		return p, 0, malformed(ErrType, "empty packet")
	}
	if s[0] < '0' || s[0] > '0'+byte(BinaryAck) {
		return p, 0, malformed(ErrType, "%q", clip(s[:1]))
	}
	p.Type = Type(s[0] - '0')
	i := 1
	if p.Type.Binary() {
		j := strings.IndexByte(s[i:], '-')
		if j < 0 {
			return p, 0, malformed(ErrAttachments, "%v without an attachment count", p.Type)
		}
		digits := s[i : i+j]
		n, ok := parseCount(digits)
		if !ok {
			return p, 0, malformed(ErrAttachments, "attachment count %q", clip(digits))
		}
		if n > o.maxAttachments() {
			return p, 0, malformed(ErrTooLarge, "%s attachments, at most %d", clip(digits), o.maxAttachments())
		}
		attachments = n
		i += j + 1
	}
	p.Namespace = "/"
	if i < len(s) && s[i] == '/' {
		j := strings.IndexByte(s[i:], ',')
		if j < 0 {
			j = len(s) - i // "1/admin": the namespace runs to the end
		}
		ns := s[i : i+j]
		i = min(len(s), i+j+1)
		if !utf8.ValidString(ns) {
			return p, 0, malformed(ErrNamespace, "namespace not UTF-8")
		}
		if o.Protocol == V4 && p.Type == Connect {
			ns, p.Query, _ = strings.Cut(ns, "?")
		}
		p.Namespace = ns
	}
	if i < len(s) && isDigit(s[i]) {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		id, ok := parseID(s[i:j])
		if !ok {
			return p, 0, malformed(ErrAckID, "ack id %q over %d", clip(s[i:j]), uint64(MaxID))
		}
		switch p.Type {
		case Event, Ack, BinaryEvent, BinaryAck:
		default:
			return p, 0, malformed(ErrAckID, "ack id on a %v packet", p.Type)
		}
		p.ID, p.HasID = id, true
		i = j
	}
	if (p.Type == Ack || p.Type == BinaryAck) && !p.HasID {
		return p, 0, malformed(ErrAckID, "%v without an id", p.Type)
	}
	if i < len(s) {
		p.Data = json.RawMessage(s[i:])
	}
	if err := checkPayload(&p, o.Protocol); err != nil {
		return p, 0, err
	}
	if attachments > 0 {
		if err := checkPlaceholders(p.Data, attachments); err != nil {
			return p, 0, err
		}
	}
	return p, attachments, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseCount parses an attachment count: 1 to 9 digits, not 0.
func parseCount(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n > 0
}

// parseID parses digits (leading zeros allowed, as the JavaScript parser
// allows them) up to MaxID.
func parseID(s string) (uint64, bool) {
	var n uint64
	for i := 0; i < len(s); i++ {
		n = n*10 + uint64(s[i]-'0')
		if n > MaxID {
			return 0, false
		}
	}
	return n, true
}

// checkPayload checks p.Data against p.Type.
func checkPayload(p *Packet, proto Protocol) error {
	d := p.Data
	if len(d) == 0 {
		switch p.Type {
		case Connect, Disconnect:
			return nil
		}
		return malformed(ErrPayload, "%v without a payload", p.Type)
	}
	if p.Type == Disconnect {
		return malformed(ErrPayload, "DISCONNECT with a payload")
	}
	// The JavaScript parser takes spaces after the type as ack id digits;
	// a payload starts with its value.
	if isSpace(d[0]) {
		return malformed(ErrPayload, "payload starts with a space")
	}
	if !json.Valid(d) {
		return malformed(ErrPayload, "payload is not JSON")
	}
	switch p.Type {
	case Connect:
		if d[0] != '{' {
			return malformed(ErrPayload, "CONNECT payload is not an object")
		}
	case ConnectError:
		if d[0] != '{' && d[0] != '"' {
			return malformed(ErrPayload, "CONNECT_ERROR payload is neither an object nor a string")
		}
	case Ack, BinaryAck:
		if d[0] != '[' {
			return malformed(ErrPayload, "%v payload is not an array", p.Type)
		}
	case Event, BinaryEvent:
		name, ok := firstString(d)
		if !ok {
			return malformed(ErrPayload, "%v payload is not an array starting with a string", p.Type)
		}
		if proto == V5 && reservedRaw(name) {
			return malformed(ErrReservedEvent, "%s", name)
		}
	}
	return nil
}

// Decoder decodes a stream of frames: text packets, each binary one
// followed by its attachments as binary frames. It holds at most one
// incomplete packet. A Decoder is not safe for concurrent use; the zero
// value decodes V5 with the default bounds.
type Decoder struct {
	Options Options

	pending Packet // the binary packet whose attachments are awaited
	want    int    // attachments still expected; 0: none pending
	bytes   int    // attachment bytes received for pending
}

// Awaiting returns how many attachments the pending binary packet still
// waits for (0 when none is pending).
func (d *Decoder) Awaiting() int { return d.want }

// Reset drops a pending packet.
func (d *Decoder) Reset() { d.pending, d.want, d.bytes = Packet{}, 0, 0 }

// AddText decodes a text frame. A non-binary packet is returned complete
// (done is true); a binary one becomes pending until its attachments
// arrive through AddBinary. A text frame while attachments are awaited
// is an ErrAttachments error. After any error the pending packet is
// dropped.
func (d *Decoder) AddText(s string) (p Packet, done bool, err error) {
	if want := d.want; want > 0 {
		d.Reset()
		return p, false, malformed(ErrAttachments, "text packet while %d attachments are awaited", want)
	}
	p, n, err := DecodeText(s, d.Options)
	if err != nil {
		return Packet{}, false, err
	}
	if n == 0 {
		return p, true, nil
	}
	p.Attachments = make([][]byte, 0, n)
	d.pending, d.want, d.bytes = p, n, 0
	return Packet{}, false, nil
}

// AddBinary takes a binary frame: the next attachment of the pending
// packet, which it returns (done true) once it has them all. b is kept,
// not copied. A binary frame with no packet pending, or attachments over
// Options.MaxAttachmentBytes, is an error (and drops the pending packet).
func (d *Decoder) AddBinary(b []byte) (p Packet, done bool, err error) {
	if d.want == 0 {
		return p, false, malformed(ErrAttachments, "binary frame with no packet awaiting attachments")
	}
	if len(b) > d.Options.maxAttachmentBytes()-d.bytes {
		d.Reset()
		return p, false, malformed(ErrTooLarge, "attachments over %d bytes", d.Options.maxAttachmentBytes())
	}
	d.bytes += len(b)
	d.pending.Attachments = append(d.pending.Attachments, b)
	d.want--
	if d.want > 0 {
		return p, false, nil
	}
	p = d.pending
	d.Reset()
	return p, true, nil
}
