package socketio

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/siogo/siogo/internal/sioparser"
	"github.com/siogo/siogo/internal/transport"
)

// proto5Codec is the Socket.IO v5 codec (socket.io-client 3.x and 4.x,
// over Engine.IO v4). Its output is Engine.IO message packets, ready for
// engineio.Conn.Send: the text form "4"+packet (engineio.AppendText),
// and for a packet with binary attachments its text packet followed by
// one binary packet (transport.BinaryMark and the bytes) per attachment,
// in the multi-frame buffer format (appendFrame, splitFrames) that a v5
// session splits without copying.
//
//	MessageEvent  42[/ns,][id]["event",args...]   (45N-... with N attachments)
//	MessageText   42[/ns,][id]["message","text"]  (as socket.send in socket.io 4)
//	MessageJSON   42[/ns,][id]["message",DATA]
//	ack           43[/ns,]id[args...]              (46N-... with attachments)
//	connect       40[/ns,]{"sid":"..."}
//	disconnect    41[/ns,]
//	connect error 44[/ns,]{"message":"..."}
//
// The default namespace, "" in a Message, is "/" on the v5 wire (and
// written without a prefix).
type proto5Codec struct{}

// frameMulti starts a multi-frame buffer: a v5 packet with binary
// attachments, which takes several Engine.IO packets. After it come the
// packets, each as its length (uvarint) and its bytes. No Engine.IO
// packet a v5 session queues starts with it (text packets start with '4',
// binary ones with transport.BinaryMark, 0xFF; 0xFE is never part of
// UTF-8).
const frameMulti byte = 0xFE

// appendFrame appends one Engine.IO packet to a multi-frame buffer.
func appendFrame(dst, pkt []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(pkt)))
	return append(dst, pkt...)
}

// splitFrames returns the Engine.IO packets of buf: buf itself when it is
// one packet, else the packets of a multi-frame buffer, as sub-slices of
// buf (nothing is copied: the bytes are shared by every receiver of a
// broadcast). A malformed buffer (only a bug could make one) yields nil.
func splitFrames(buf []byte, one *[1][]byte) [][]byte {
	if len(buf) == 0 || buf[0] != frameMulti {
		one[0] = buf
		return one[:]
	}
	var out [][]byte
	for i := 1; i < len(buf); {
		n, k := binary.Uvarint(buf[i:])
		if k <= 0 || n > uint64(len(buf)-i-k) {
			return nil
		}
		i += k
		out = append(out, buf[i:i+int(n):i+int(n)])
		i += int(n)
	}
	return out
}

// ns5 is the v5 wire name of a namespace.
func ns5(ns string) string {
	if ns == "" {
		return "/"
	}
	return ns
}

// nsOf5 is the namespace name of a v5 wire name ("/" is "").
func nsOf5(ns string) string {
	if ns == "/" {
		return ""
	}
	return ns
}

// encode5 encodes p, whose attachments are in att, as Engine.IO v4
// packets: one text packet, or a multi-frame buffer when att is not
// empty. p's header is the codec's own (valid namespace, id, type); an
// error can only be a bug, and yields nil.
func encode5(p *sioparser.Packet, att [][]byte) []byte { return encodeFrames(p, att, false) }

// encodeFrames is encode5, and with v3 set the Engine.IO v3 form of the
// attachments: binary message packets with the v3 message type byte
// (transport.BinaryMark, 4, the bytes), as engineio.AppendBinaryV3 makes
// them.
func encodeFrames(p *sioparser.Packet, att [][]byte, v3 bool) []byte {
	if len(att) == 0 {
		out, err := sioparser.AppendPacket(append(make([]byte, 0, 16+len(p.Namespace)+len(p.Data)), '4'), p)
		if err != nil {
			return nil
		}
		return out
	}
	p.Attachments = att
	if p.Type == sioparser.Event {
		p.Type = sioparser.BinaryEvent
	} else if p.Type == sioparser.Ack {
		p.Type = sioparser.BinaryAck
	}
	text, err := sioparser.AppendPacket(append(make([]byte, 0, 24+len(p.Namespace)+len(p.Data)), '4'), p)
	if err != nil {
		return nil
	}
	markBuf := [2]byte{transport.BinaryMark, 4}
	mark := markBuf[:1]
	if v3 {
		mark = markBuf[:]
	}
	n := 1 + binary.MaxVarintLen64 + len(text)
	for _, a := range att {
		n += binary.MaxVarintLen64 + len(mark) + len(a)
	}
	out := appendFrame(append(make([]byte, 0, n), frameMulti), text)
	for _, a := range att {
		out = binary.AppendUvarint(out, uint64(len(a)+len(mark)))
		out = append(append(out, mark...), a...)
	}
	return out
}

// header5 appends the Engine.IO message mark and the header of a v5
// packet of type typ without attachments (type, namespace, ack id) to
// dst, for the hot path that writes the payload after it in the same
// buffer; ok is false for a namespace the header cannot carry (a ','),
// which encode5 refuses.
func header5(dst []byte, typ sioparser.Type, ns string, id uint64, hasID bool) ([]byte, bool) {
	if ns == "/" {
		ns = ""
	}
	if strings.IndexByte(ns, ',') >= 0 || (ns != "" && ns[0] != '/') {
		return dst, false
	}
	dst = append(dst, '4', '0'+byte(typ))
	if ns != "" {
		dst = append(append(dst, ns...), ',')
	}
	if hasID {
		dst = strconv.AppendUint(dst, id, 10)
	}
	return dst, true
}

func (proto5Codec) message(m *Message, id uint64, _ bool) []byte { return message5(m, id, false) }

// message5 encodes m as a v5 (or, v3 set, v4) EVENT packet with ack id
// id; the two protocols differ only in how the attachments travel.
func message5(m *Message, id uint64, v3 bool) []byte {
	if m.Kind == MessageEvent && len(m.Attachments) == 0 && id <= sioparser.MaxID && validUTF8(m.Namespace) {
		// The common case in one buffer: "42/ns,id[...]".
		n := 32 + len(m.Namespace) + len(m.Event)
		for _, a := range m.Args {
			n += len(a) + 1
		}
		if b, ok := header5(make([]byte, 0, n), sioparser.Event, m.Namespace, id, id > 0); ok {
			return sioparser.AppendEventData(b, m.Event, m.Args)
		}
	}
	p := sioparser.Packet{Type: sioparser.Event, Namespace: ns5(m.Namespace), ID: id, HasID: id > 0}
	var att [][]byte
	switch m.Kind {
	case MessageEvent:
		n := 8 + len(m.Event)
		for _, a := range m.Args {
			n += len(a) + 1
		}
		p.Data = sioparser.AppendEventData(make([]byte, 0, n), m.Event, m.Args)
		att = cloneAttachments(m.Attachments)
	case MessageText:
		p.Data = sioparser.AppendString(append(make([]byte, 0, 16+len(m.Text)), `["message",`...), m.Text)
		p.Data = append(p.Data, ']')
	case MessageJSON:
		p.Data = append(append(append(make([]byte, 0, 16+len(m.Data)), `["message",`...), m.Data...), ']')
	}
	return encodeFrames(&p, att, v3)
}

func (proto5Codec) ack(ns string, id uint64, args []json.RawMessage, att [][]byte) []byte {
	return ack5(ns, id, args, att, false)
}

// ack5 encodes a v5 (or, v3 set, v4) ACK packet.
func ack5(ns string, id uint64, args []json.RawMessage, att [][]byte, v3 bool) []byte {
	n := 2
	for _, a := range args {
		n += len(a) + 1
	}
	if len(att) == 0 && id <= sioparser.MaxID && validUTF8(ns) {
		if b, ok := header5(make([]byte, 0, n+24+len(ns)), sioparser.Ack, ns, id, true); ok {
			return sioparser.AppendArray(b, args)
		}
	}
	p := sioparser.Packet{Type: sioparser.Ack, Namespace: ns5(ns), ID: id, HasID: true,
		Data: sioparser.AppendArray(make([]byte, 0, n), args)}
	return encodeFrames(&p, att, v3)
}

func (proto5Codec) connect(ns, sid string) []byte {
	data := sioparser.AppendString(append(make([]byte, 0, 12+len(sid)), `{"sid":`...), sid)
	p := sioparser.Packet{Type: sioparser.Connect, Namespace: ns5(ns), Data: append(data, '}')}
	return encode5(&p, nil)
}

func (proto5Codec) disconnect(ns string) []byte {
	return encode5(&sioparser.Packet{Type: sioparser.Disconnect, Namespace: ns5(ns)}, nil)
}

// connectError encodes the refusal of a CONNECT to namespace ns (a v5
// wire name, kept as the client sent it) with message.
func (proto5Codec) connectError(ns, message string) []byte {
	data := sioparser.AppendString(append(make([]byte, 0, 16+len(message)), `{"message":`...), message)
	p := sioparser.Packet{Type: sioparser.ConnectError, Namespace: ns, Data: append(data, '}')}
	return encode5(&p, nil)
}
