// Package engineio is the Engine.IO server engine for protocols v4 (the
// transport layer of Socket.IO v3/v4 clients) and v3 (socket.io-client
// 1.x/2.x), behaving as the Node.js engine.io 6.x server (with allowEIO3)
// does on the wire. The handshake's EIO (3 or 4) chooses a session's
// protocol (Conn.Protocol); the section "Engine.IO v3" lists what differs. The layer above it implements
// Handler and Session (api.go holds the contract); the engine moves their
// messages over HTTP long-polling and WebSocket, keeps the heartbeat and
// upgrades sessions from polling to WebSocket.
//
// # Requests
//
// Server.ServeHTTP serves every request of every session. It checks, in
// this order, the origin (Config.CheckOrigin; refused: 403 code 4; allowed
// requests with an Origin get CORS headers, preflights a 204), the
// transport (code 0), the protocol version EIO=3 or 4 (code 5), then either a
// handshake (no sid: GET only, code 2; a websocket handshake must be an
// upgrade, code 3) or a request of the session named by sid (unknown:
// code 1; a polling request of a session upgraded to WebSocket: code 3).
// Refusals are 400 {"code":N,"message":"..."} as Node.js engine.io words
// them.
//
// # Sessions
//
// A handshake makes a Conn with a random sid (15 bytes of crypto/rand,
// base64url: 20 characters) and queues the open packet
// 0{"sid","upgrades","pingInterval","pingTimeout","maxPayload"};
// Handler.Open then returns the Session that gets the client's messages
// (and may queue messages: they follow the open packet). The answer to
// the handshake is the first poll, or the websocket's first frames.
//
// The session's outgoing queue holds whole packets in transport form:
// text packets as their text ("4hello", "2"), binary messages as
// transport.BinaryMark and the bytes. It is bounded in packets
// (Config.SendQueueSize) and in bytes (Config.MaxQueuedBytes), the bytes
// counting what is queued plus what a transport took and has not written
// yet (for a websocket, what transport.ServeWebSocket reports with
// Session.Hold, its pong and close frames included). A send over either
// bound closes the session as a slow consumer; a volatile send is dropped
// unless a transport can take it now (a websocket, or a waiting poll) and
// the queue is short.
//
// The client's packets reach the Session one callback at a time, in the
// order they were read: a callback is queued on the session and run by the
// goroutine that queued it, unless another goroutine is running the
// session's callbacks already (a POST and the new websocket can overlap
// during an upgrade; Conn.Close called from a callback queues OnClose
// behind it). OnClose is the last callback.
//
// # Timers
//
// A session has at most four deadlines: the next ping (PingInterval after
// the handshake or the last pong), the pong to the last ping
// (PingTimeout; missed: "ping timeout"; for a v3 session, whose client
// pings, the next client ping instead), the upgrade in flight
// (UpgradeTimeout; missed: the probe websocket is closed) and the end of a
// closing polling session whose client does not poll again. The server
// keeps one min-heap of sessions by earliest deadline and one runtime
// timer for the heap (timers.go, the same design as package socketio's):
// an idle session costs no goroutine and no timer of its own. A deadline
// that moves later (a pong) costs nothing until the earlier wake-up, which
// finds nothing due and asks again.
//
// # Polling
//
// A GET takes everything queued and answers it as one payload, packets
// joined by 0x1E, binary ones as 'b' and base64 (text/plain;
// charset=UTF-8); with nothing queued it waits until something is, or the
// session ends, or an upgrade needs the poll to end. A second GET while
// one waits ends the session ("transport error": the waiting GET gets a
// close packet, the second a 400), and so does a client dropping a waiting
// GET. A POST's body, at most MaxPayload bytes (else 413, the session
// stays, as with Node.js), is decoded by internal/eioparser: messages go
// to the Session, a pong restarts the heartbeat, a close packet ends the
// session ("transport close"; a waiting GET gets a noop), a body that does
// not decode ends it ("parse error", 400); it is answered 200 "ok"
// (text/html). A POST while another is read ends the session.
//
// # WebSocket
//
// WebSocket connections are internal/transport.ServeWebSocket's (its
// epoll reader, batched writers and bounded writes): each connection is a
// wsLink, the transport.WakeableSession it drives. One packet per frame,
// binary messages in binary frames (BinaryMark), incoming messages at most
// MaxPayload bytes. The end of the session's websocket ends the session
// ("transport close"); the end of the session closes the websocket after
// what is queued.
//
// # Upgrade
//
// A websocket request with the sid of a polling session is the probe of
// an upgrade (at most one in flight; another, or one on a session already
// upgraded, is refused with 400). The probe's link carries nothing of the
// session's until the upgrade: "2probe" is answered "3probe" on the probe
// only, and a waiting poll gets a noop so that the client can pause
// polling; the upgrade packet "5" makes the probe the session's websocket
// (the queue now drains to it, and polling requests are refused); any
// other packet, the probe's end or UpgradeTimeout end the probe and the
// session stays on polling. Because the two connections are read
// concurrently, a poll that comes while an upgrade is in flight waits a
// little (probeGrace) for the upgrade packet once the probe is answered,
// and a close packet POSTed with no poll waiting waits a little
// (closeGrace) for the poll under way: both then answer as a Node.js
// server, which reads one connection at a time, does.
//
// # Closing
//
// Conn.Close sends what is queued, then a close packet (polling; the
// session ends when a poll takes it, or PingInterval+PingTimeout later, or
// when the pong to a ping already sent is due if that is sooner) or
// closes the websocket; OnClose gets ReasonForcedClose. Errors (ping
// timeout, parse error, slow consumer, transport error) end the session
// at once, dropping its queue. Server.Close ends every session.
//
// # Engine.IO v3
//
// A session opened with EIO=3 differs from v4 in:
//
//   - Heartbeat: the client pings. "2<data>" is answered "3<data>"
//     (during an upgrade "2probe" on the probe is answered "3probe", as
//     in v4); the session ends (ReasonPingTimeout) PingInterval+
//     PingTimeout after the handshake or the last ping. A pong from the
//     client ends it (ReasonTransportError: wrong heartbeat direction).
//     The open packet is the same JSON as v4's (Node.js sends maxPayload
//     to v3 clients too).
//   - Binary messages are queued as AppendBinaryV3 makes them
//     (transport.BinaryMark, the type byte 0x04, the data): a websocket
//     sends them as they are (a binary frame whose first byte is the
//     type) and receives binary frames the same way; a websocket whose
//     request has b64 (the client's forceBase64) gets them as
//     "b4<base64>" text frames. Text frames may carry "b4<base64>" too.
//   - Polling payloads are "<length>:<packet>" records, the length in
//     UTF-16 code units, binary packets as "b4<base64>" (text/plain;
//     charset=UTF-8). A client whose handshake had no b64 supports XHR2:
//     a poll taking a binary packet is answered the binary payload
//     (application/octet-stream, eioparser.AppendBinaryPayloadV3). A POST
//     is decoded as the binary payload when its Content-Type is
//     application/octet-stream, else as the text payload.
//   - JSONP polling (a handshake, poll or POST with j=N): a poll is
//     answered ___eio[N]("payload"); (text/javascript; N keeps only the
//     digits of j), the payload (always text, binary as base64) written
//     as a JavaScript string whose <, >, &, U+2028 and U+2029 are escaped
//     (transport.AppendScriptString), so that it cannot end the script
//     it is in; a POST body is the form d=<payload>
//     (application/x-www-form-urlencoded), in which the client wrote a
//     newline as the two characters \n and a \n as \\n (undone here); a
//     body without d is ignored, as by Node.js; the answer is "ok".
//
// Error answers are the same as v4's ({"code":N,"message":...}), as
// Node.js answers v3 requests.
//
// Not implemented: HTTP compression of poll answers and WebSocket
// per-message deflate, JSONP polling for v4 clients (they have none)
// (see package socketio's 0.9 transports for the oldest protocol).
package engineio
