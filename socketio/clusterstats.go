package socketio

// ClusterStats counts what one node of a cluster did to share rooms,
// broadcasts and sessions with the other nodes. A cluster adapter returns
// it (sioredis.Cluster.Stats) and package metrics exports it, without
// either depending on the other. All counters only grow; an adapter
// leaves at zero the counters that do not apply to it.
type ClusterStats struct {
	// Published counts broadcasts sent to the other nodes.
	Published uint64
	// Received counts broadcasts of other nodes received by this node.
	Received uint64
	// Dropped counts broadcasts that were delivered to this node's sockets
	// only: the other nodes could not be reached (the shared store was
	// unreachable, the outgoing queue was full, or the adapter was closed).
	Dropped uint64
	// Malformed counts messages from other nodes that were dropped because
	// they could not be decoded, were too large, or carried a Message
	// that no broadcast makes (Message.Validate).
	Malformed uint64
	// Subscriptions counts the times the node (re)subscribed to the other
	// nodes' broadcasts.
	Subscriptions uint64
	// Resyncs counts the times the node rewrote its whole room membership
	// in the shared store after losing writes (store down or restarted,
	// node taken for dead, membership queue full).
	Resyncs uint64
	// Overflows counts membership changes that found the node's
	// membership queue full; each makes a resync due.
	Overflows uint64
	// Swept counts sockets of dead nodes that this node removed from the
	// shared store.
	Swept uint64
	// RefusedLookups counts session directory entries that were refused
	// because they named an address other than the one their node
	// registered (corrupt or forged entries).
	RefusedLookups uint64
}
