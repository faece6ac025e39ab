package socketio

import "errors"

// Cluster-wide operations beyond rooms: describing sockets wherever they
// are (Selection.Fetch), broadcasts that collect every receiver's ack
// (Selection.EmitWithAck), application messages between the nodes of a
// cluster (Namespace.ServerEmit, Namespace.OnServerEvent), and pushes from
// processes that run no sessions (Publisher, NewPublishHandler). The
// first are built in cluster_ops.go, the pushes in publish.go.
//
// CONTRACT (session 6): the types and signatures below are fixed; the
// bodies marked "not implemented" are filled in by the work on #17.

// ErrNotImplemented is returned by the parts of the cluster API that are
// not built yet. CONTRACT: removed once every body is filled in.
var ErrNotImplemented = errors.New("socketio: not implemented")

// ErrUnknownNamespace is returned by Server.Publish for a namespace that
// the server has not made (Server.Of).
var ErrUnknownNamespace = errors.New("socketio: unknown namespace")
