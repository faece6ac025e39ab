package metrics_test

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/siogo/siogo/metrics"
	"github.com/siogo/siogo/socketio"
)

// The server's Stats exported at /metrics, next to the Socket.IO endpoint.
func ExampleNewCollector() {
	srv := socketio.NewServer(socketio.Config{})
	defer srv.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(srv))
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	_ = http.ListenAndServe(":8080", mux)
}
