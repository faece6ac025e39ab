// Package packet is the Socket.IO 0.9 wire codec: packets
// ("TYPE:ID[+]:ENDPOINT[:DATA]") and multi-packet payloads framed with
// U+FFFD and lengths counted in UTF-16 code units.
//
// The package is pure: no I/O, no goroutines, no global state. Every
// decoder returns an error value for malformed input and never panics; the
// fuzz targets in this package hold it to that.
//
// Encoding appends to a caller-supplied buffer (AppendPacket,
// AppendPayload) so that the hot path can reuse buffers. JSON produced or
// passed through by the encoder never contains a raw U+2028 or U+2029:
// the socket.io.js 0.9.16 client drops data containing them, so the encoder
// rewrites them to their \u escapes (which is always valid inside JSON,
// where these characters can only appear within strings).
package packet
