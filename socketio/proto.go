package socketio

import "encoding/json"

// protocolID names the wire protocol of a session (sessionConn.protocol):
// which codec turns the packets of its sockets into bytes. It indexes the
// per-protocol encodings a Message caches.
type protocolID uint8

const (
	// proto09 is Socket.IO 0.9 (package packet), the protocol of every
	// session today.
	proto09 protocolID = iota
	// proto5 is Socket.IO v5 over Engine.IO v4 (socket.io-client 3.x and
	// 4.x; package internal/sioparser).
	proto5
	// proto4 is Socket.IO v4 over Engine.IO v3 (socket.io-client 1.x
	// and 2.x; package internal/sioparser with Protocol V4).
	proto4
	// numProtocols counts the protocols.
	numProtocols
)

// protocol is the codec of one wire protocol: what the namespace and
// socket core needs to talk to the clients of a session of that protocol,
// knowing nothing of its wire format. Each method returns a fresh buffer
// the session may keep (sessionConn.Send queues it). The Message it is
// given is valid (Message.Validate).
//
// A protocol whose packets take several transport frames (Socket.IO v5's
// binary attachments) returns them as one buffer its own sessions know
// how to split; the core only queues bytes.
//
// Codecs are not called through this interface on the hot path (see
// encodeMessage); it states what a codec of a new protocol implements.
type protocol interface {
	// message encodes m; with id > 0 it asks the client for an
	// acknowledgement under that id, with data when ackData is set
	// (0.9's "5:1+::", Socket.IO v5's "21[...]").
	message(m *Message, id uint64, ackData bool) []byte
	// ack encodes the server's answer to the client's ack request id in
	// namespace ns, with args (nil: an ack without data) whose
	// placeholders refer to att (binary arguments; see marshalArg).
	ack(ns string, id uint64, args []json.RawMessage, att [][]byte) []byte
	// connect encodes the server's confirmation that the client joined
	// namespace ns as socket sid (0.9 sends no id: its socket id is the
	// session id; Socket.IO v5 sends {"sid": ...}).
	connect(ns, sid string) []byte
	// disconnect encodes the server's kick of the client from namespace
	// ns.
	disconnect(ns string) []byte
}

var (
	_ protocol = proto09Codec{}
	_ protocol = proto5Codec{}
	_ protocol = proto4Codec{}
)

// encodeMessage encodes m for protocol p (see protocol.message). It
// dispatches with a switch, not through the protocol interface: an
// interface call makes its arguments escape, and a direct emit builds its
// Message and arguments on the stack. Each new protocol adds its case.
func encodeMessage(p protocolID, m *Message, id uint64, ackData bool) []byte {
	switch p {
	case proto09:
		return proto09Codec{}.message(m, id, ackData)
	case proto5:
		return proto5Codec{}.message(m, id, ackData)
	case proto4:
		return proto4Codec{}.message(m, id, ackData)
	}
	panic("socketio: unknown protocol")
}

// encodeAck encodes an ack for protocol p (see protocol.ack).
func encodeAck(p protocolID, ns string, id uint64, args []json.RawMessage, att [][]byte) []byte {
	switch p {
	case proto09:
		return proto09Codec{}.ack(ns, id, args, att)
	case proto5:
		return proto5Codec{}.ack(ns, id, args, att)
	case proto4:
		return proto4Codec{}.ack(ns, id, args, att)
	}
	panic("socketio: unknown protocol")
}

// codecOf returns the codec of protocol p, for the packets off the hot
// path.
func codecOf(p protocolID) protocol {
	switch p {
	case proto09:
		return proto09Codec{}
	case proto5:
		return proto5Codec{}
	case proto4:
		return proto4Codec{}
	}
	panic("socketio: unknown protocol")
}
