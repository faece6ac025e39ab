package socketio

import "sync/atomic"

// Stats is a snapshot of a server's counters and gauges, for logs and for
// metrics exporters (package metrics turns it into Prometheus metrics).
type Stats struct {
	// Sessions counts open sessions by the transport they use now; ""
	// counts sessions handshaken but not yet connected.
	Sessions map[string]int
	// Protocols counts open sessions by protocol: "0.9", "v5"
	// (Socket.IO v5 over Engine.IO v4: socket.io-client 3.x and 4.x; its
	// transports, counted in Sessions too, are "polling" and "websocket")
	// and "eio3" (Socket.IO v4 over Engine.IO v3: socket.io-client 1.x
	// and 2.x; named after its Engine.IO revision, as "v4" would read as
	// the 4.x clients).
	Protocols map[string]int
	// Sockets counts connected sockets by namespace on this node.
	Sockets map[string]int
	// PendingAcks is the number of server-to-client acks awaited.
	PendingAcks int
	// QueuedBytes is the bytes held for clients: queued in sessions and
	// taken by transports but not yet written (see
	// Config.MaxQueuedBytes).
	QueuedBytes int

	HandshakesAccepted uint64 // handshakes that created a session
	HandshakesRefused  uint64 // handshakes refused (origin, authorization, limits)
	PacketsIn          uint64 // packets received from clients
	PacketsOut         uint64 // packets handed to transports for clients
	BytesIn            uint64 // bytes of received packets
	BytesOut           uint64 // bytes of packets handed to transports
	DecodeErrors       uint64 // malformed payloads and packets dropped
	SlowConsumerCloses uint64 // sessions closed because their queue was full (SendQueueSize or MaxQueuedBytes)
	Forwarded          uint64 // requests forwarded to the node holding their session
	ForwardFailures    uint64 // session lookups that failed and forwards whose node could not be reached
}

// counters are the server's monotonic counters, updated atomically.
type counters struct {
	handshakesAccepted atomic.Uint64
	handshakesRefused  atomic.Uint64
	packetsIn          atomic.Uint64
	packetsOut         atomic.Uint64
	bytesIn            atomic.Uint64
	bytesOut           atomic.Uint64
	decodeErrors       atomic.Uint64
	slowConsumers      atomic.Uint64
	forwarded          atomic.Uint64
	forwardFailures    atomic.Uint64
}

// Stats returns a snapshot of the server's counters and gauges. It walks
// the sessions and sockets, so call it at scrape intervals, not per packet.
func (s *Server) Stats() Stats {
	st := Stats{
		Sessions:           map[string]int{},
		Protocols:          map[string]int{"0.9": 0, "v5": 0, "eio3": 0},
		Sockets:            map[string]int{},
		HandshakesAccepted: s.stats.handshakesAccepted.Load(),
		HandshakesRefused:  s.stats.handshakesRefused.Load(),
		PacketsIn:          s.stats.packetsIn.Load(),
		PacketsOut:         s.stats.packetsOut.Load(),
		BytesIn:            s.stats.bytesIn.Load(),
		BytesOut:           s.stats.bytesOut.Load(),
		DecodeErrors:       s.stats.decodeErrors.Load(),
		SlowConsumerCloses: s.stats.slowConsumers.Load(),
		Forwarded:          s.stats.forwarded.Load(),
		ForwardFailures:    s.stats.forwardFailures.Load(),
	}
	s.mu.RLock()
	sessions := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	namespaces := make([]*Namespace, 0, len(s.namespaces))
	for _, ns := range s.namespaces {
		namespaces = append(namespaces, ns)
	}
	sessions5 := make([]*session5, 0, len(s.sessions5))
	for _, sess := range s.sessions5 {
		sessions5 = append(sessions5, sess)
	}
	s.mu.RUnlock()
	for _, sess := range sessions {
		st.Sessions[sess.Transport()]++
		st.QueuedBytes += sess.heldBytes()
	}
	for _, sess := range sessions5 {
		st.Sessions[sess.Transport()]++
		st.QueuedBytes += sess.conn.QueuedBytes()
	}
	st.Protocols["0.9"] = len(sessions)
	for _, sess := range sessions5 {
		st.Protocols[protocolName(sess.proto)]++
	}
	for _, ns := range namespaces {
		socks := ns.Sockets()
		st.Sockets[ns.Name()] = len(socks)
		for _, sock := range socks {
			st.PendingAcks += sock.PendingAcks()
		}
	}
	return st
}
