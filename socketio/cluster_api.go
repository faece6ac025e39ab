package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// Cluster-wide operations beyond rooms: describing sockets wherever they
// are (Selection.Fetch), broadcasts that collect every receiver's ack
// (Selection.EmitWithAck), application messages between the nodes of a
// cluster (Namespace.ServerEmit, Namespace.OnServerEvent), and pushes from
// processes that run no sessions (Publisher, NewPublishHandler).
//
// CONTRACT (session 6): the types and signatures below are fixed; the
// bodies marked "not implemented" are filled in by the work on #17.

// ErrNotImplemented is returned by the parts of the cluster API that are
// not built yet. CONTRACT: removed once every body is filled in.
var ErrNotImplemented = errors.New("socketio: not implemented")

// ErrUnknownNamespace is returned by Server.Publish for a namespace that
// the server has not made (Server.Of).
var ErrUnknownNamespace = errors.New("socketio: unknown namespace")

// PublishRequest is one push from outside: the JSON body of the publish
// API (NewPublishHandler), and what a Publisher publishes.
type PublishRequest struct {
	// Namespace is the namespace's name ("" or "/" for the default).
	Namespace string `json:"namespace"`
	// Rooms limits the receivers to members of any of these rooms (or
	// socket ids); empty means the whole namespace.
	Rooms []string `json:"rooms,omitempty"`
	// Except lists socket ids (or rooms) that must not receive it.
	Except []string `json:"except,omitempty"`
	// Event is the event's name, as for Namespace.Emit.
	Event string `json:"event"`
	// Args are the event's arguments, each a JSON value.
	Args []json.RawMessage `json:"args,omitempty"`
}

// Publisher publishes pushes from outside the sessions: Server (through
// its adapters, so cluster-wide with a cluster adapter) and the Redis
// emitter of package sioredis, which needs no server.
type Publisher interface {
	Publish(ctx context.Context, r PublishRequest) error
}

// Publish implements Publisher: it emits r.Event with r.Args to the
// selected sockets of r.Namespace, as ns.To(rooms...).Except(ids...).Emit
// does. The namespace must exist (Of); otherwise ErrUnknownNamespace. An
// invalid event name or an argument that is not JSON fails with an error
// wrapping ErrInvalidMessage.
func (s *Server) Publish(ctx context.Context, r PublishRequest) error {
	return ErrNotImplemented
}

// PublishConfig configures NewPublishHandler.
type PublishConfig struct {
	// Token is the bearer token a request must carry
	// ("Authorization: Bearer <Token>"); required.
	Token string
	// MaxBodyBytes bounds a request's body (default 1 MiB); a larger one
	// gets 413.
	MaxBodyBytes int64
}

// NewPublishHandler returns the HTTP publish API over p: POST a JSON
// PublishRequest with the bearer token; 202 once p accepted it, 401 for a
// missing or wrong token, 400 for a malformed body or request, 405 for
// another method. It fails if Token is empty.
func NewPublishHandler(p Publisher, cfg PublishConfig) (http.Handler, error) {
	return nil, ErrNotImplemented
}
