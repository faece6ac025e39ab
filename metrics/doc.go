// Package metrics exports a siogo server's Stats as Prometheus metrics.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(metrics.NewCollector(srv))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// With a cluster adapter such as sioredis.Cluster,
// NewClusterCollector(cluster) adds its counters (socketio.ClusterStats),
// among them the cross-node broadcasts dropped while Redis was
// unreachable. The package does not import the adapter, so a program that
// exports metrics links no Redis client unless it uses one.
//
// The collector reads Server.Stats at scrape time; the server itself does
// not depend on Prometheus.
package metrics
