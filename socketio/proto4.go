package socketio

import (
	"encoding/json"

	"github.com/siogo/siogo/internal/sioparser"
)

// proto4Codec is the Socket.IO v4 codec (socket.io-client 1.x and 2.x,
// over Engine.IO v3). Its packets are those of proto5Codec but for the
// namespace handshake and the errors, and the attachments of a binary
// packet travel as Engine.IO v3 binary messages (transport.BinaryMark,
// the message type 4, the bytes), in the same multi-frame buffer:
//
//	MessageEvent  42[/ns,][id]["event",args...]   (45N-... with N attachments)
//	ack           43[/ns,]id[args...]              (46N-... with attachments)
//	connect       40 for the default namespace, 40/ns, for another one
//	disconnect    41[/ns,]
//	refusal       44/ns,"message"                  (the client's "error" event gets the string)
//	unknown ns    44/ns,{"message":"Invalid namespace"} (proto5Codec.connectError)
//
// These are the packets the Node.js socket.io 4.x server (allowEIO3)
// sends to a 2.x client.
type proto4Codec struct{}

func (proto4Codec) message(m *Message, id uint64, _ bool) []byte { return message5(m, id, true) }

func (proto4Codec) ack(ns string, id uint64, args []json.RawMessage, att [][]byte) []byte {
	return ack5(ns, id, args, att, true)
}

// connect: v4 sends no socket id; the client makes it (see sockID4).
func (proto4Codec) connect(ns, _ string) []byte {
	return encode5(&sioparser.Packet{Type: sioparser.Connect, Namespace: ns5(ns)}, nil)
}

func (proto4Codec) disconnect(ns string) []byte {
	return encode5(&sioparser.Packet{Type: sioparser.Disconnect, Namespace: ns5(ns)}, nil)
}

// refusal encodes the ERROR packet refusing the connection to namespace
// ns (a v4 wire name, without its query) with message, a JSON string:
// what a 2.x client's socket gets as its "error" event.
func (proto4Codec) refusal(ns, message string) []byte {
	p := sioparser.Packet{Type: sioparser.ConnectError, Namespace: ns,
		Data: sioparser.AppendString(make([]byte, 0, 2+len(message)), message)}
	return encode5(&p, nil)
}

// sockID4 is the id of the socket of a v4 session with Engine.IO id eid
// in namespace ns: eid in the default namespace, "/ns#eid" in another,
// the id a 2.x client computes for its socket (and the Node.js server
// gives it). IsSocketID recognizes both forms, so that the socket's
// own-id room stays private.
func sockID4(ns, eid string) string {
	if ns == "" {
		return eid
	}
	return ns + "#" + eid
}
