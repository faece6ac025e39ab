package socketio

import (
	"encoding/json"

	"github.com/siogo/siogo/packet"
)

// proto09Codec is the Socket.IO 0.9 codec: it maps a Message to the
// packet package's Packet and encodes that.
//
//	MessageEvent  5:[id[+]]:ns:{"name":EVENT[,"args":ARGS]}
//	MessageText   3:[id]:ns:TEXT
//	MessageJSON   4:[id]:ns:DATA
//
// 0.9 has no binary packets: attachments become base64 strings in place
// of their placeholders (inlineAttachments).
type proto09Codec struct{}

func (proto09Codec) message(m *Message, id uint64, ackData bool) []byte {
	p := packet.Packet{Endpoint: m.Namespace, ID: id, HasID: id > 0, AckData: ackData}
	switch m.Kind {
	case MessageEvent:
		p.Type, p.Name, p.Args = packet.Event, m.Event, inlineAttachments(m.Args, cloneAttachments(m.Attachments))
	case MessageText:
		p.Type, p.Data = packet.Message, m.Text
	case MessageJSON:
		p.Type, p.Data = packet.JSON, string(m.Data)
	}
	return encode(&p)
}

func (proto09Codec) ack(ns string, id uint64, args []json.RawMessage, att [][]byte) []byte {
	return encode(&packet.Packet{Type: packet.Ack, Endpoint: ns, AckID: id, Args: inlineAttachments(args, att)})
}

func (proto09Codec) connect(ns, _ string) []byte {
	return encode(&packet.Packet{Type: packet.Connect, Endpoint: ns})
}

func (proto09Codec) disconnect(ns string) []byte {
	return encode(&packet.Packet{Type: packet.Disconnect, Endpoint: ns})
}

// messageOf09 maps a decoded 0.9 message, JSON or event packet to a
// Message (the inverse of proto09Codec.message, the packet's id aside);
// ok is false for the other types. The Message aliases p's strings and
// args.
func messageOf09(p *packet.Packet) (m *Message, ok bool) {
	switch p.Type {
	case packet.Event:
		return &Message{Namespace: p.Endpoint, Kind: MessageEvent, Event: p.Name, Args: p.Args}, true
	case packet.Message:
		return &Message{Namespace: p.Endpoint, Kind: MessageText, Text: p.Data}, true
	case packet.JSON:
		return &Message{Namespace: p.Endpoint, Kind: MessageJSON, Data: json.RawMessage(p.Data)}, true
	}
	return nil, false
}

// encode returns the wire form of p in a buffer allocated once, at the
// size it needs unless escapes lengthen it.
func encode(p *packet.Packet) []byte {
	// Type, ids, separators and the event object's keys take at most 64.
	n := 64 + len(p.Endpoint) + len(p.Data) + len(p.Name)
	for _, a := range p.Args {
		n += len(a) + 1
	}
	return packet.AppendPacket(make([]byte, 0, n), p)
}
