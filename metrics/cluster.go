package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/siogo/siogo/socketio"
)

// ClusterSource is what ClusterCollector reads: a cluster adapter's
// counters. *sioredis.Cluster implements it; package metrics does not
// import sioredis (nor its Redis client).
type ClusterSource interface {
	Stats() socketio.ClusterStats
}

// ClusterCollector is a prometheus.Collector for a cluster adapter:
// broadcasts published, received and dropped (the other nodes
// unreachable), and the adapter's recovery counters.
type ClusterCollector struct {
	c    ClusterSource
	desc *prometheus.Desc
}

// NewClusterCollector returns a collector for c, which it reads at scrape
// time; its metric is siogo_cluster_events_total{event=...}, one series
// per socketio.ClusterStats field.
func NewClusterCollector(c ClusterSource) *ClusterCollector {
	return &ClusterCollector{c: c, desc: prometheus.NewDesc("siogo_cluster_events_total",
		"Cluster adapter events: broadcasts published, received from other nodes, dropped (Redis unreachable), "+
			"malformed or forged; subscriptions, membership resyncs, membership queue overflows, dead nodes' sockets swept, "+
			"session directory entries refused.", []string{"event"}, nil)}
}

// Describe implements prometheus.Collector.
func (cc *ClusterCollector) Describe(ch chan<- *prometheus.Desc) { ch <- cc.desc }

// Collect implements prometheus.Collector.
func (cc *ClusterCollector) Collect(ch chan<- prometheus.Metric) {
	st := cc.c.Stats()
	for _, e := range []struct {
		name string
		v    uint64
	}{
		{"published", st.Published}, {"received", st.Received}, {"dropped", st.Dropped},
		{"malformed", st.Malformed}, {"subscribed", st.Subscriptions}, {"resynced", st.Resyncs}, {"swept", st.Swept},
		{"overflowed", st.Overflows}, {"refused_lookup", st.RefusedLookups},
	} {
		ch <- prometheus.MustNewConstMetric(cc.desc, prometheus.CounterValue, float64(e.v), e.name)
	}
}
