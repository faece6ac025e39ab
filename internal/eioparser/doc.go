// Package eioparser is the Engine.IO wire codec, protocol versions 4
// (Socket.IO v3/v4 clients) and 3 (Socket.IO v1/v2 clients): packets,
// WebSocket frames and HTTP long-polling payloads.
//
// The package is pure: no I/O, no goroutines, no global state. Every
// decoder returns an error value for malformed input and never panics (the
// fuzz targets hold it to that); errors match ErrMalformed, or a more
// precise sentinel that wraps it (ErrEmpty, ErrUnknownType, ErrBase64,
// ErrFraming), or ErrTooLarge when a payload exceeds its Limits. Encoders
// append to a caller's buffer (AppendPacket, AppendFrame, AppendPayload
// and their V3 forms) and allocate nothing; decoded text data aliases the
// input.
//
// # Packets
//
// A packet is a type, one of open (0), close (1), ping (2), pong (3),
// message (4), upgrade (5) and noop (6), and optional data, text or binary
// (Packet.Binary). The text form is the type digit followed by the data:
//
//	4hello    message "hello"
//	2probe    ping "probe" (the upgrade probe)
//	6         noop
//	0{"sid":"…","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
//
// # Engine.IO v4
//
// Over WebSocket each packet is one frame (AppendFrame, DecodeFrame): text
// packets in text frames as above, binary data as a binary frame holding
// the raw bytes, its type (message) implied.
//
// Over HTTP long-polling, binary data is 'b' and the data in standard,
// padded base64 ("bAQIDBA==" is the message 01 02 03 04), and a payload
// (a POST body or a poll response) is packets joined by the record
// separator 0x1E (AppendPayload, DecodePayload):
//
//	4hello\x1e2\x1e4world     message "hello", ping, message "world"
//	4hello\x1ebAQIDBA==       message "hello", binary message 01 02 03 04
//
// The separator cannot appear in text data: AppendPayload refuses such a
// packet (ErrUnencodable). Socket.IO packets are JSON, whose encoders
// escape it.
//
// # Engine.IO v3
//
// Text packets are the same. Binary data carries its type: over WebSocket a
// binary frame is the type as one byte (0–6) then the data (AppendFrameV3,
// DecodeFrameV3: 04 01 02 is the message 01 02); in text payloads it is
// 'b', the type digit, and the data in base64 ("b4AQIDBA=="), the form used
// for clients without binary support (b64=1). A text polling payload frames
// each packet as "<length>:<packet>", the length counting UTF-16 code
// units, the way JavaScript counts string length (AppendPayloadV3,
// DecodePayloadV3):
//
//	6:4hello2:4€              message "hello", message "€" (1 unit)
//	2:4€10:b4AQIDBA==         message "€", binary message 01 02 03 04
//	0:                        no packets
//
// Clients that support binary over XHR (no b64=1) send and receive a
// binary payload (application/octet-stream) instead: records "<0 text | 1
// binary><the length, one byte 0–9 per decimal digit>0xFF<packet>", text
// packets in UTF-8 (length in bytes), binary packets as the type byte and
// the data (AppendBinaryPayloadV3, DecodeBinaryPayloadV3):
//
//	00 04 ff 34 e2 82 ac 01 05 ff 04 01 02 03 04   message "€", binary message 01 02 03 04
//
// # Bounds
//
// The payload decoders check their Limits before decoding anything: a body longer than Limits.MaxBytes (Engine.IO's maxPayload)
// or with more than Limits.MaxPackets packets gives ErrTooLarge. A v3
// length field has at most 10 digits. Decoding a payload allocates the
// packet slice once, plus one buffer per base64 packet.
//
// # Differences from the reference parser
//
// The decoders follow the specification where the JavaScript
// engine.io-parser is lenient: base64 must be standard and padded (Node's
// decoder skips invalid characters), a v3 length must be decimal digits
// (the reference uses Number(), accepting " 1" or "1e0"), a v3 'b' packet
// or binary record needs a valid type, and a v3 binary record must be
// complete (the reference truncates it). The differential tests (testdata/eioparser.js)
// check everything else against engine.io-parser 5.2.3 (v4) and 2.2.1
// (v3), and that these differences still hold.
package eioparser
