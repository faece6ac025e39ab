package socketio_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/siogo/siogo/socketio"
)

// The HTTP publish API lets a process in any language push events to the
// server's rooms: POST a JSON PublishRequest with the bearer token. Here
// the requests are served in memory; in an application mount the handler
// beside the server (with a cluster adapter, pushes reach every node).
func ExampleNewPublishHandler() {
	srv := socketio.NewServer(socketio.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer srv.Close()
	srv.Of("/chat") // Publish refuses namespaces the server has not made
	publish, err := socketio.NewPublishHandler(srv, socketio.PublishConfig{Token: "s3cret"})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("/publish", publish)

	post := func(token, body string) {
		req := httptest.NewRequest(http.MethodPost, "/publish", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		reason, _, _ := strings.Cut(strings.TrimSpace(rec.Body.String()), ":")
		fmt.Println(strings.TrimSpace(fmt.Sprint(rec.Code, " ", reason)))
	}
	post("s3cret", `{"namespace": "/chat", "rooms": ["lobby"], "event": "news", "args": [{"title": "hi"}]}`)
	post("wrong", `{"namespace": "/chat", "event": "news"}`)
	post("s3cret", `{"namespace": "/chat", "event": "news", "args": "not an array"}`)
	post("s3cret", `{"namespace": "/nope", "event": "news"}`)
	// Output:
	// 202
	// 401 unauthorized
	// 400 malformed body
	// 400 refused
}
