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

var (
	// ErrNoDeadline is returned by Selection.EmitWithAck for a context
	// without a deadline: a broadcast with acks must say how long it
	// waits, on every node.
	ErrNoDeadline = errors.New("socketio: a broadcast with acks needs a context with a deadline")
	// ErrNoSocket is returned by RemoteSocket.EmitWithAck when the socket
	// is no longer connected anywhere.
	ErrNoSocket = errors.New("socketio: no such socket")
	// ErrUnknownNamespace is returned by Server.Publish for a namespace
	// that the server has not made (Server.Of).
	ErrUnknownNamespace = errors.New("socketio: unknown namespace")
)

// SocketInfo describes one socket on whichever node holds it: what an
// Adapter's FetchSockets returns.
type SocketInfo struct {
	// ID is the socket's id in its namespace.
	ID string
	// Rooms are the rooms it is in, sorted, without its own-id room.
	Rooms []string
	// User is the session's Handshake.User encoded as JSON; nil when it
	// is nil or cannot be encoded.
	User json.RawMessage
	// Node is the id of the cluster node that holds the socket (a cluster
	// adapter's node id); empty with the in-memory adapter.
	Node string
}

// RemoteSocket is a socket found by Selection.Fetch: on this node or on
// another one. Its methods act on the socket wherever it is connected.
type RemoteSocket struct {
	SocketInfo
	ns *Namespace
}

// Local returns the socket if it is connected to this node, else nil.
func (r *RemoteSocket) Local() *Socket { return r.ns.Socket(r.ID) }

// Emit sends an event to the socket, wherever it is connected
// (ns.To(id).Emit).
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.ns.To(r.ID).Emit(event, args...)
}

// EmitWithAck sends an event asking for an ack and waits for it until
// ctx ends (ctx must have a deadline). It returns the ack's arguments,
// ErrNoSocket if the socket is gone, or an error wrapping ctx's.
func (r *RemoteSocket) EmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	return nil, ErrNotImplemented
}

// Join makes the socket join rooms, wherever it is (ns.To(id).Join).
func (r *RemoteSocket) Join(ctx context.Context, rooms ...string) error {
	return r.ns.To(r.ID).Join(ctx, rooms...)
}

// Leave makes the socket leave rooms, wherever it is (ns.To(id).Leave).
func (r *RemoteSocket) Leave(ctx context.Context, rooms ...string) error {
	return r.ns.To(r.ID).Leave(ctx, rooms...)
}

// Disconnect disconnects the socket, wherever it is
// (ns.To(id).Disconnect).
func (r *RemoteSocket) Disconnect(ctx context.Context, close bool) error {
	return r.ns.To(r.ID).Disconnect(ctx, close)
}

// Fetch describes the selected sockets on every node (Node's
// fetchSockets), sorted by id. A cluster adapter returns once every node
// has answered, or ctx ends.
func (e *Selection) Fetch(ctx context.Context) ([]*RemoteSocket, error) {
	return nil, ErrNotImplemented
}

// SocketAck is one receiver's answer to a broadcast with acks.
type SocketAck struct {
	// ID is the id of the socket that answered.
	ID string
	// Args are the arguments of its ack.
	Args []json.RawMessage
}

// AckResult is what a broadcast with acks collected.
type AckResult struct {
	// Acks are the answers, sorted by socket id.
	Acks []SocketAck
	// Missing are the ids of the selected sockets that did not answer
	// before the deadline, or disconnected first, sorted.
	Missing []string
}

// EmitWithAck emits an event to every selected socket, on every node,
// asking each for an ack (Node's timeout(ms).emitWithAck), and waits until
// every receiver has answered or ctx ends; ctx must have a deadline
// (ErrNoDeadline). The result holds the answers and the sockets that did
// not answer; the error is nil only when every receiver answered, and
// otherwise wraps ctx's error (or the cluster adapter's, such as a node
// that did not answer).
//
// The event is encoded once per protocol: every receiver gets the same
// ack id.
func (e *Selection) EmitWithAck(ctx context.Context, event string, args ...any) (AckResult, error) {
	return AckResult{}, ErrNotImplemented
}

// ServerEmit sends an application message to the other nodes of the
// cluster: each node's handler for event in this namespace
// (OnServerEvent) receives args encoded as JSON. It does not reach
// clients, nor this node's own handler. With the in-memory adapter there
// are no other nodes and it does nothing.
func (ns *Namespace) ServerEmit(ctx context.Context, event string, args ...any) error {
	return ErrNotImplemented
}

// OnServerEvent sets the handler of a server event sent by another node's
// ServerEmit, replacing the previous one. Handlers run one at a time per
// namespace, in arrival order; a panic is recovered and logged.
func (ns *Namespace) OnServerEvent(event string, fn func(args []json.RawMessage)) {
}

// ReceiveServerEvent hands a server event from another node to the
// namespace's handler (OnServerEvent). Cluster adapters call it; it does
// not block (the event is dropped and logged when the namespace's queue
// of server events is full).
func (ns *Namespace) ReceiveServerEvent(event string, args []json.RawMessage) {
}

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

// FetchSockets implements Adapter for this node's sockets.
// CONTRACT: to be implemented.
func (a *memoryAdapter) FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	return nil, ErrNotImplemented
}

// BroadcastWithAck implements Adapter for this node's sockets.
// CONTRACT: to be implemented.
func (a *memoryAdapter) BroadcastWithAck(ctx context.Context, m *Message, opts BroadcastOptions) (AckResult, error) {
	return AckResult{}, ErrNotImplemented
}

// ServerEmit implements Adapter: one node has no other nodes.
func (a *memoryAdapter) ServerEmit(ctx context.Context, event string, args []json.RawMessage) error {
	return nil
}
