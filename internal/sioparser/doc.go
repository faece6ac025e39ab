// Package sioparser is the packet codec of the Socket.IO protocol v5 (the
// protocol of socket.io and socket.io-client 3.x and 4.x) and of the v4
// protocol of the 1.x and 2.x clients, as far as the two differ. It is a
// pure wire codec: no I/O, no goroutines; errors are values, encoders
// append, and no input makes it panic (it is fuzzed).
//
// # Format
//
// Each packet is one text frame (carried in an Engine.IO message packet,
// hence the "4" in front of it on the wire):
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// followed, for the binary types, by its attachments as that many binary
// frames. The namespace is left out when it is "/"; the attachment count
// is written only for the binary types. Examples (the protocol's own):
//
//	0                                  CONNECT to "/"
//	0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}   CONNECT to /admin (server reply)
//	4{"message":"Not authorized"}      CONNECT_ERROR
//	2["foo"]                           EVENT
//	2/admin,["bar"]                    EVENT in /admin
//	212["foo"]                         EVENT asking for an ack with id 12
//	3/admin,13["bar"]                  ACK 13
//	51-["baz",{"_placeholder":true,"num":0}]   BINARY_EVENT + 1 binary frame
//	61-15["bar",{"_placeholder":true,"num":0}] BINARY_ACK 15 + 1 binary frame
//	1/admin,                           DISCONNECT from /admin
//
// In v4, a CONNECT to a namespace other than "/" may carry the client's
// query ("0/admin?token=abc,", Packet.Query) and packet 4 (ERROR) is
// usually a string.
//
// # Decoding rules
//
// DecodeText decodes one text frame; a Decoder takes a stream of frames
// and returns each packet complete with its attachments. Beyond the
// format the decoder checks what socket.io-parser 4.x checks: a CONNECT
// payload is an object or absent, a DISCONNECT has none, an EVENT's is an
// array starting with the event name, not a reserved one (v5:
// IsReservedEvent), an ACK's an array, a CONNECT_ERROR's an object or a
// string. It is stricter where the JavaScript parser is lenient, on
// purpose (the differential tests list each case): an EVENT, ACK or
// CONNECT_ERROR needs its payload; an ACK needs its id and only EVENT and
// ACK have one; the event name is a string (the JavaScript parser also
// takes a number); ids and counts are digits only (it takes spaces, which
// Number() reads as 0, and an empty frame as a CONNECT); a payload starts
// with its value; namespaces are UTF-8; payloads nest at most 10,000
// deep (encoding/json's limit).
//
// # Bounds
//
//   - ack ids up to MaxID (2^53-1, what a JavaScript number holds
//     exactly), refused beyond (not rounded);
//   - at most Options.MaxAttachments attachments (DefaultMaxAttachments,
//     10, the JavaScript default) and Options.MaxAttachmentBytes bytes of
//     them per packet (DefaultMaxAttachmentBytes, 8 MiB), ErrTooLarge;
//   - the placeholders of a binary packet are checked as soon as its text
//     frame arrives: their numbers are exactly 0..n-1, each once (a number
//     out of range, used twice, or missing is ErrAttachments; the
//     JavaScript parser only refuses one out of range, at the end);
//   - a text frame while attachments are awaited, or a binary frame when
//     none are, is ErrAttachments, and drops the pending packet.
//
// Every decoding error matches ErrMalformed and one of ErrType,
// ErrNamespace, ErrAckID, ErrPayload, ErrReservedEvent, ErrAttachments or
// ErrTooLarge (errors.Is). The caller closes the connection on any of
// them, as the JavaScript server does.
//
// # Payloads and attachments
//
// Packet.Data is the payload as it travels; in the binary types it holds
// placeholders and Packet.Attachments the bytes. To build one,
// AppendEventData and AppendArray assemble payloads from raw JSON
// arguments, AppendPlaceholder writes a placeholder, and AppendValue
// deconstructs Go values, turning each []byte into a placeholder and an
// attachment. To read one, SplitEvent and SplitArray split a payload
// into its elements, PlaceholderNum tells which attachment an argument
// stands for, and Reconstruct decodes a payload into Go values with the
// attachments put back.
//
// # Under socketio
//
// The server core speaks a protocol-neutral socketio.Message (Namespace,
// Kind, Event, Args []json.RawMessage); this package is what its v5 codec
// will map it to, as proto09.go maps it to the 0.9 packet package: an emit
// is AppendEventData(name, args) then AppendPacket with the ack id (a
// BinaryEvent with the []byte arguments as placeholders and attachments
// when there are any), an ack AppendArray, a namespace join a CONNECT
// with {"sid":...} and a refusal a CONNECT_ERROR {"message":...}. On the
// way in, the Engine.IO session feeds each message to its Decoder
// (AddText for text, AddBinary for binary frames) and hands complete
// packets to the core: SplitEvent gives Message.Event and Message.Args,
// and PlaceholderNum lets a typed handler's []byte parameter take its
// attachment. The same Decoder with Options{Protocol: V4} serves the
// Engine.IO v3 sessions of the 2.x clients.
package sioparser
