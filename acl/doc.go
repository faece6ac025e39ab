// Package acl is the per-method access policy of siogo namespaces, after
// gevent-socketio's method ACLs: a socket may be limited to a set of event
// names, and the set can be lifted or replaced at run time (for example
// after a "login" event).
//
// The package is pure policy: it decides, package socketio enforces.
// A refused call is answered with the event "error" carrying
// ["method_access_denied", DeniedMessage(name)].
package acl
