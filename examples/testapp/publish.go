package main

import (
	"errors"
	"net/http"

	"github.com/siogo/siogo/socketio"
)

// withPublish serves srv and, with a token, the HTTP publish API over it
// at /publish (-publish-token; TESTAPP notes, "Cluster-wide operations").
// Server.Publish goes through the namespaces' adapters, so with -redis a
// push reaches every node.
func withPublish(srv http.Handler, token string) (http.Handler, error) {
	if token == "" {
		return srv, nil
	}
	p, ok := srv.(socketio.Publisher)
	if !ok {
		return nil, errors.New("-publish-token does not go with -suite")
	}
	h, err := socketio.NewPublishHandler(p, socketio.PublishConfig{Token: token})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/publish", h)
	mux.Handle("/", srv)
	return mux, nil
}
