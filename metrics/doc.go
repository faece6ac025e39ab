// Package metrics exports a siogo server's Stats as Prometheus metrics.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(metrics.NewCollector(srv))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The collector reads Server.Stats at scrape time; the server itself does
// not depend on Prometheus.
package metrics
