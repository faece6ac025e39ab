package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/siogo/siogo/socketio"
)

// Collector is a prometheus.Collector for one server.
type Collector struct {
	srv *socketio.Server

	sessions, sockets, pendingAcks *prometheus.Desc
	protocolSessions               *prometheus.Desc
	queuedBytes                    *prometheus.Desc
	handshakes                     *prometheus.Desc
	packets, bytes                 *prometheus.Desc
	decodeErrors, slowConsumers    *prometheus.Desc
	forwarded                      *prometheus.Desc
}

// NewCollector returns a collector for srv. Metric names start with
// "siogo_".
func NewCollector(srv *socketio.Server) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("siogo_"+name, help, labels, nil)
	}
	return &Collector{
		srv:              srv,
		sessions:         d("sessions", "Open sessions by transport (empty: handshaken, not connected).", "transport"),
		sockets:          d("sockets", "Connected sockets by namespace.", "namespace"),
		protocolSessions: d("protocol_sessions", "Open sessions by protocol (0.9, v5).", "protocol"),
		pendingAcks:      d("acks_pending", "Server-to-client acks awaited."),
		queuedBytes:      d("queued_bytes", "Bytes held for clients: queued in sessions or taken by a transport and not yet written."),
		handshakes:       d("handshakes_total", "Handshakes by result.", "result"),
		packets:          d("packets_total", "Packets by direction.", "direction"),
		bytes:            d("bytes_total", "Packet bytes by direction.", "direction"),
		decodeErrors:     d("decode_errors_total", "Malformed payloads and packets dropped."),
		slowConsumers:    d("slow_consumer_closes_total", "Sessions closed because their outgoing queue was full."),
		forwarded:        d("forwarded_requests_total", "Requests for sessions held by other nodes, by result.", "result"),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sessions, c.protocolSessions, c.sockets, c.pendingAcks, c.queuedBytes, c.handshakes, c.packets, c.bytes, c.decodeErrors, c.slowConsumers, c.forwarded} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.srv.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for tr, n := range st.Sessions {
		gauge(c.sessions, float64(n), tr)
	}
	for p, n := range st.Protocols {
		gauge(c.protocolSessions, float64(n), p)
	}
	for ns, n := range st.Sockets {
		gauge(c.sockets, float64(n), ns)
	}
	gauge(c.pendingAcks, float64(st.PendingAcks))
	gauge(c.queuedBytes, float64(st.QueuedBytes))
	counter(c.handshakes, st.HandshakesAccepted, "accepted")
	counter(c.handshakes, st.HandshakesRefused, "refused")
	counter(c.packets, st.PacketsIn, "in")
	counter(c.packets, st.PacketsOut, "out")
	counter(c.bytes, st.BytesIn, "in")
	counter(c.bytes, st.BytesOut, "out")
	counter(c.decodeErrors, st.DecodeErrors)
	counter(c.slowConsumers, st.SlowConsumerCloses)
	counter(c.forwarded, st.Forwarded, "forwarded")
	counter(c.forwarded, st.ForwardFailures, "failed")
}
