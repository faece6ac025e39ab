// Package metrics exports a siogo server's Stats as Prometheus metrics.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(metrics.NewCollector(srv))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// With the Redis cluster adapter, NewClusterCollector(cluster) adds its
// counters, among them the cross-node broadcasts dropped while Redis was
// unreachable.
//
// The collector reads Server.Stats at scrape time; the server itself does
// not depend on Prometheus.
package metrics
