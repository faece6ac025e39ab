// Package sioredis lets several siogo nodes — processes, each with its
// own socketio.Server, usually behind one load balancer — act as one
// server through a shared Redis: a broadcast made on any node reaches the
// sockets of every node, room queries answer for the whole cluster, and,
// with the session directory, any node can serve any session's requests.
// The package's name keeps it from shadowing the Redis client's redis
// package in your files; it uses github.com/gomodule/redigo underneath,
// but its API shows none of redigo's types.
//
// Make one Cluster per node and hand it to the server:
//
//	cluster, err := sioredis.New(sioredis.Config{Addr: "localhost:6379"})
//	if err != nil {
//		return err // bad configuration, or Redis unreachable right now
//	}
//	srv := socketio.NewServer(socketio.Config{
//		Adapter:  cluster.Adapter,  // rooms and broadcasts
//		Sessions: cluster,          // optional: no sticky sessions needed
//		NodeAddr: "10.0.0.5:8080", // where the other nodes reach this one
//	})
//	// ... register handlers, serve ...
//	_ = srv.Shutdown(ctx)
//	_ = cluster.Close() // the server does not close it
//
// Handlers do not change: Socket.Join, Namespace.To(room).Emit,
// Socket.Broadcast() and Namespace.Clients work as on one node, across
// the nodes. New fails if the configuration is invalid or Redis cannot be
// reached; after New the node survives Redis failures (see "When Redis
// fails"): emits, joins and leaves never wait for Redis, and the room
// queries wait a bounded time, then answer the local view with an error.
//
// # Configuration
//
// Only Config.Addr is required (or Config.ClusterAddrs, the seed nodes of
// a Redis Cluster: see "Redis Cluster"; or Config.SentinelAddrs and
// SentinelMaster, for a master found through Redis Sentinel: see "Redis
// Sentinel"). Every node of a cluster needs the same
// Prefix (default "siogo") and a distinct NodeID (default random);
// clusters that share a Redis need distinct Prefixes. The connection
// fields take plain values: Username and Password (Redis AUTH, ACL users
// included; a refused login fails New with ErrAuth), TLSConfig (TLS, off
// by default), DB, ClientName, DialTimeout (1 s), ReadTimeout and
// WriteTimeout (2 s) and PoolSize (64 query connections). Config.Dial
// replaces the TCP dialer, for a Redis reached some other way: a proxy
// or a Unix socket. TTL (5 s) sets how fast a dead node's
// sockets leave the cluster, and PublishQueue, MembershipQueue and
// ResyncInterval bound the node's work while Redis is slow or away.
// Config.Channels chooses how broadcasts travel (see "Broadcasts"):
// ChannelsSingle, the default, or ChannelsSharded; every node of a
// cluster must use the same.
//
// Each node holds four long-lived connections (publisher, subscriber,
// membership writer, liveness; on Redis Cluster each of them is one
// connection per master it talks to; with Sentinels, one more to a
// Sentinel) and a pool for queries, and runs a
// fixed set of goroutines whatever happens, plus one reader per
// subscriber connection and one per broadcast with acks of another node
// that it is waiting on (at most 256); Close ends them all.
//
// Cluster.Stats counts what the node did (broadcasts published, received
// and dropped, resyncs, sweeps, refused or malformed input); package
// metrics exports it with metrics.NewClusterCollector(cluster).
//
// # Broadcasts
//
// Namespace.Emit, Namespace.To(room).Emit, Socket.Broadcast() and every
// other Selection make one socketio.Message, protocol-neutral. The
// emitting node first delivers it to its own receivers, exactly as the
// in-memory adapter does, then publishes one message (the Message's
// fields — namespace, kind, event name and JSON arguments, JSON value or
// text — with the rooms, excepted ids, volatile flag and its node id)
// over its single publisher connection. The receiving nodes skip the
// messages they published themselves (delivered locally already), check
// each (see Trust) and deliver it to their local receivers, honoring the
// volatile flag. Each node encodes the message once per protocol of its
// receivers: the channels carry no protocol's bytes, so nodes serving
// different client generations share broadcasts. An emit to the own-id
// room of a socket of the emitting node (To(id) of a local socket) is
// not published at all.
//
// Channels (Config.Channels). With ChannelsSharded (opt-in: the default
// is ChannelsSingle, whose joins never wait for Redis, below) a
// broadcast to exactly one ordinary room goes to that room's channel
// {P:NS:<room>}:bc, and every other broadcast (the whole namespace,
// several rooms, a socket's own-id room, Except alone) to its namespace's
// channel {P:NS}:bc. A node subscribes to a room's channel while it has
// members in the room and to a namespace's channel while it has sockets
// in the namespace, so it receives only broadcasts it has receivers
// for: adding nodes no longer adds to every node's load, and Redis sends
// each broadcast to the nodes that need it only. The subscriber
// goroutine owns the subscriptions and follows the local membership:
// joins and leaves record which channels the node needs and wake it; it
// subscribes and unsubscribes in batches, and after a reconnection
// subscribes to all of them again. With ChannelsSingle every broadcast
// goes to the one channel P:broadcast, which every node receives: the
// Redis traffic is the number of broadcasts times the number of nodes,
// fine for a handful of nodes (see the capacity model in the README), and
// a join is in effect for every later broadcast at once. Room operations (see "Rooms and queries")
// travel on P:broadcast in both modes, and their answers, with
// ChannelsSharded, on the asking node's channel {P:node:<id>}:ops.
//
// All the nodes of a cluster must use the same mode: a sharded node
// listens on P:broadcast too, so it receives a single-channel node's
// broadcasts (and logs that the modes differ), but a single-channel node
// never receives a sharded node's room and namespace broadcasts. To
// switch modes, restart all the nodes with the new one.
//
// A join and its subscription (ChannelsSharded): the join changes the
// local state at once and, when it makes the node need a new channel (a
// room's whose first local member it is, or the namespace's, at a
// socket's connect), Join returns only once Redis has confirmed the
// subscription: the subscriber's connection has read Redis's subscribe
// reply for the channel. Every broadcast another node publishes after
// Join returned then reaches the new member (Redis has the subscription
// before it has the broadcast). The cost is one Redis round trip, for
// first-member joins only: a join to a room that already has members on
// the node, and every join with ChannelsSingle, returns without waiting.
// Measured on a loaded 2-core machine (BenchmarkJoin, join and leave of
// a room, one PING round trip 50 µs): about 0.15 ms for a first-member
// join instead of 0.02 ms, on a standalone Redis and on a Redis Cluster
// alike; a join that adds no channel, 5-10 µs. The join sends the SUBSCRIBE on
// the subscriber's connection itself (skipped while the connection has
// heard nothing from Redis for two TTL/3 ticks; then the subscriber
// goroutine sends it), waits holding no lock of the adapter or the
// subscriber, and shares the wait with every join made meanwhile: the
// subscriptions are numbered, and one confirmation covers all the joins
// up to its number. Where it waits: Socket.Join in the socket's handler
// goroutine (that socket's next packets wait too); a namespace connect
// before the CONNECT packet is sent, so a broadcast to the namespace
// after the client's connect reaches it; Selection.Join (SocketsJoin) on
// the other nodes, whose answers, and so the call's return, follow their
// subscriptions. The other nodes' room operations run in a goroutine of
// their own (in the order they arrive), not on the subscriber's reader,
// which reads the confirmations they wait for.
//
// The wait is bounded by Config.SubscribeTimeout (1 s): when it runs out
// (a Redis that hangs), the join has taken effect all the same and Join
// returns nil; the timeout is logged, and the joins after it do not wait
// until Redis confirms a subscription again. While the subscriber is
// down (reconnecting) joins do not wait either. The node writes a join's
// membership to Redis only after its subscription is confirmed (bounded
// by the same timeout), so a node whose join is visible to the others
// (Clients, RoomSize, SocketIDs) receives the room's broadcasts that they
// publish after seeing it. A negative SubscribeTimeout restores the
// behaviour of earlier versions, in which Join returned before the
// confirmation: a broadcast another node published within a fraction of
// a millisecond after the join could miss the new member (the tests saw
// 0 to 115 in 1000 tight tries on a standalone Redis).
//
// Delivery is at most once per socket. On the emitting node it is as
// reliable as the in-memory adapter, Redis or no Redis. A broadcast misses
// the sockets of other nodes when it cannot be published (Redis
// unreachable, or PublishQueue full; counted in Stats().Dropped), when the
// receiving node's subscription is down at the time (Redis pub/sub keeps
// nothing for absent subscribers), when Redis disconnects a subscriber
// that fell too far behind (client-output-buffer-limit pubsub), or, with
// ChannelsSharded, to a member whose join timed out waiting for its
// subscription, until Redis confirms it (above).
//
// Ordering: broadcasts made one after another on one node by one goroutine
// — notably by the handlers of one socket, which run one at a time — reach
// every receiver, on every node, in the order they were made (on a
// standalone Redis across channels too: one publisher and one subscriber
// connection per node). Some may be missing (see above); none is
// reordered. On Redis Cluster the order holds per channel (the
// broadcasts to one room, or to one namespace), not between channels,
// which may live on different masters. There is no order between the
// broadcasts of different nodes, or of concurrent goroutines.
//
// # Rooms and queries
//
// Socket.Join and Socket.Leave, and the leaving of every room when a
// socket disconnects, change the node's local state at once, so its own
// deliveries follow them immediately, and are queued, in order, for
// the node's membership writer, which pipelines them into Redis over one
// connection. Redis keeps per namespace a set per room, a set of rooms per
// socket, the set of all sockets and, per node, the set of sockets it
// wrote there, so that its entries can be removed when it dies; and per
// node the set of namespaces it wrote in.
//
// The queue is bounded (Config.MembershipQueue, 8192 changes). A change
// that finds it full is not lost — the local state has it — but Redis
// now lacks it: the node is marked for a resync, a rewrite of its whole
// membership from its local state (Stats().Overflows and Resyncs), and
// drops queued changes until then. Resyncs run at most once per
// Config.ResyncInterval (1 s), so a client churning through joins, leaves
// and namespace connects faster than Redis takes them costs at most one
// rewrite per interval, not one per packet; between the overflow and the
// rewrite the other nodes see this node's membership as it was. A resync
// sets each local socket's exact rooms (one script per socket, pipelined)
// and only then removes the sockets Redis holds for the node that are
// gone, so the other nodes never see fewer of its members than it has.
//
// Namespace.Clients, Socket.Rooms, Namespace.Rooms and Namespace.RoomSize
// answer cluster-wide (Clients("") lists every socket of the namespace on
// every node). They first wait —
// at most 2 s — until this node's queued writes are in Redis, so a node
// always reads its own writes (unless a resync is pending); the other
// nodes' changes show as soon as their writers have written them,
// normally within a round trip. The rooms of a socket of this node are
// answered from local state. Namespace.Rooms reads a per-namespace index
// of the rooms that have members (kept by every join, leave, resync and
// sweep) with SSCAN, never KEYS or SCAN of the keyspace, and stops at
// Config.MaxListedRooms (10,000) with ErrTruncated. Namespace.RoomSize is
// one SCARD.
//
// Membership is recorded by the node where the socket is connected. To
// act on sockets wherever they are, use the operations of a selection —
// Selection.SocketIDs, Fetch, Join, Leave and Disconnect (the Node.js
// server's fetchSockets, socketsJoin, socketsLeave, disconnectSockets),
// and the RemoteSocket methods of what Fetch returns: the node runs them
// on its own sockets, then publishes a request on P:broadcast, behind its
// earlier broadcasts; each other live node runs it on its sockets, with
// the checks of Socket.Join and its own room limits, and answers (ids;
// for Fetch each socket's id, rooms and Handshake.User as JSON, its Node
// the answering node's id; or an error that the caller's error wraps:
// socketio.ErrTooManyRooms...) on the caller's own channel
// {P:node:<id>}:ops (ChannelsSharded; on P:broadcast with
// ChannelsSingle). Requests reach every node, whatever rooms it has. The
// caller waits for every live node's
// answer, at most 2 s or until its context ends; silent nodes (crashed
// but not swept yet, or with their subscription down) make it return
// ErrIncomplete naming them, after the others have done it. One node's
// answer carries at most 1 MiB (about 50,000 ids; fewer sockets for
// Fetch, as their rooms and users count; beyond, ErrTruncated).
//
// Selection.EmitWithAck (Node's timeout(ms).emitWithAck), and with it
// RemoteSocket.EmitWithAck to a socket of another node, works the same
// way: the node delivers the event to its own receivers and publishes
// the Message with the selection and the time left until the context's
// deadline; each other live node delivers it to its receivers and waits
// for their acks until that deadline less a margin for the request to
// arrive and its answer to travel back (a fifth of the time left,
// between 50 ms and 1 s, so a receiver of another node that answers
// within that margin of the deadline counts as missing; at most 10
// minutes). It passes its receivers' acks on as they come (gathered 5 ms
// at a time), and at the end answers with the ids that did not answer,
// so an answer about the silent ones that comes too late loses none of
// the acks already given. The caller merges them (Acks
// sorted by id, Missing sorted) and, when a receiver did not answer in
// time, returns once the context ends, as on one node; its error then
// wraps the context's, and ErrIncomplete when a node did not answer by
// the deadline: its receivers, as Redis lists its sockets of the
// namespace and the rooms' members, are then in Missing (read once the
// deadline has passed, in at most 500 ms; the error says so should that
// read fail). Each answer carries at most 1 MiB, and a node's acks
// travel in as many answers as they need (up to 64 MiB per broadcast): a
// receiver whose ack alone exceeds an answer is listed in Missing and the
// error wraps ErrTruncated. The request itself is
// bounded by 1 MiB too (ErrOpTooLarge, before any delivery): a broadcast
// with acks carries less than a broadcast. A node waits on at most 256
// broadcasts with acks of other nodes at once; beyond, it answers at once
// with an error (its receivers are then in neither list). A requester
// that gives up early (its context canceled) does not stop the other
// nodes' waits, and a broadcast it makes next may then reach a receiver
// of another node before the one with acks; otherwise a broadcast with
// acks keeps its place among the node's broadcasts as a broadcast does.
//
// Namespace.ServerEmit publishes a server event (its name and JSON
// arguments) on P:broadcast, behind the node's broadcasts; every other
// node hands it to its namespace's handler (Namespace.OnServerEvent,
// through Namespace.ReceiveServerEvent); the sender's own handler and
// the clients never get it. Nothing is answered: like a broadcast, it
// reaches the nodes whose subscription is up, and is dropped (counted in
// Stats().Dropped) when it cannot be published; its message is bounded
// by 1 MiB (ErrOpTooLarge).
//
// Requests, server events and answers reach every node, like
// broadcasts (a node ignores the answers to other nodes' requests).
// Nodes of earlier versions neither keep the room index nor answer these
// requests (they count them in Stats().Malformed): upgrade the nodes of
// a cluster together.
//
// # Session directory
//
// A Cluster is also a socketio.SessionDirectory (socketio.Config.Sessions):
// with it, a request for a session held by another node is forwarded to
// that node (see "Several nodes" in package socketio), so the load
// balancer in front of the nodes need not be sticky.
//
// Register writes P:session:<sid> = "<NodeAddr> <NodeID>" before the
// handshake is answered, so the client's next request finds it from any
// node. The entry has a TTL of 10 × Config.TTL; the node rewrites the
// entries of all its open sessions every 10 liveness ticks (about three
// times per entry TTL, pipelined on the liveness connection), and at once
// when it finds its liveness key gone (Redis restarted empty, or the node
// was swept). Unregister (the session closed) deletes the entry through the
// membership writer, without waiting; Close deletes the entries of the
// node's open sessions.
//
// Lookup is one Lua script (on Redis Cluster, where the entry and the
// liveness key live in different slots, two reads: a node that dies
// between them is answered as alive a moment longer) that returns the
// address only while the node
// named in the entry is alive, and only if it is the address that node
// registered (see "Trust" below), so a crashed node's sessions are unknown to
// the others within its TTL (about TTL + TTL/3: the tests measure 1 s with
// a 1 s TTL) and their requests are answered "7:::1+0" (reconnect); the
// entries themselves expire within 10 × TTL. A stale entry — a session
// closed while Redis was down, or a node restarted at the same address —
// only costs a hop: the node it names does not hold the session and
// answers as for an unknown session (forwarded requests are never
// forwarded again).
//
// When Redis fails, Register returns an error wrapping ErrUnavailable (the
// server logs it and keeps the session; the node writes the entry once
// Redis answers again) and Lookup does too, at once after the first
// failure (the query backoff): requests that reach a session's own node
// keep working, those through other nodes are answered as for an unknown
// session until Redis is back. After a Redis restart the entries are
// rewritten within a liveness tick of Redis answering again (TTL/3).
//
// Cost: one Redis round trip per handshake and per forwarded request (two
// per forwarded request on Redis Cluster), one SET per open session every
// 10/3 × TTL, one DEL per closed session.
//
// # Node liveness
//
// Every node sets the key {<Prefix>:node:<NodeID>}:alive with a TTL
// (Config.TTL, default 5 s) and refreshes it every TTL/3. At the same
// pace each node tries to take a sweeper lock (SET NX with the TTL); the
// holder removes the sockets of every node whose liveness key has
// expired, namespace by namespace, in batches (one Lua script each, on
// the namespace's slot). The liveness key lives in another slot, so the
// check cannot be atomic with the removal (the same scripts run on
// standalone Redis and on Redis Cluster): the sweeper checks it before
// each batch and stops as soon as the node is back, and at the end looks
// once more, atomically with a "swept" mark in the node's own slot. A
// node that came back during its sweep finds the mark at its next refresh
// and rewrites its membership: the others may see fewer of its members
// for about a tick (TTL/3) meanwhile. A node found alive is never swept. The sockets of a crashed node therefore
// leave the cluster-wide rooms and counts within about TTL + TTL/3 (the
// tests measure about 1.3 s with a 1 s TTL). A node that was only cut off
// for longer than its TTL finds its liveness key gone at its next refresh
// and rewrites its whole membership. Close removes the node's entries at
// once; New with the NodeID of a crashed node removes what it left.
//
// # When Redis fails
//
//   - Nothing panics, and no emit, join or leave waits for Redis: they
//     queue their work (bounded queues) and return. Each node runs a fixed
//     set of goroutines (publisher, subscriber and its pinger, membership
//     writer, liveness; with Sentinels, the failover watcher and its
//     pinger) whatever happens, and at most 256 more for the
//     broadcasts with acks of other nodes, each ending by its deadline.
//   - Broadcasts still reach the emitting node's own sockets. Those meant
//     for other nodes are dropped and counted in Stats().Dropped; a warning
//     is logged at most every 5 s for each kind of failure.
//   - The subscriber reconnects with a jittered backoff from 50 ms to 1 s
//     and subscribes again to every channel it needs; the publisher and
//     writer reconnect on demand with the same backoff. Cross-node delivery resumes within about a
//     second of Redis answering again (about 0.7 s in the tests), without
//     restarting anything. What was published in between is lost.
//   - Membership changes made during the outage apply locally at once;
//     once Redis answers again every node rewrites its whole membership,
//     which also repairs a Redis that restarted empty, so the other nodes'
//     counts include them within about a second. A node checks its
//     liveness key as soon as it subscribes again, so after a restart its
//     membership and session entries are back within a round trip of the
//     new subscription (about 0.1 s in the tests), not a tick later. At
//     each liveness tick a node also checks, for every namespace where
//     it has sockets, that Redis still holds its entries
//     ({P:NS}:node:<node>); missing at two ticks in a row, they are
//     rewritten too — on Redis Cluster, a master restarted empty while
//     the one holding the node's liveness key did not (one EXISTS per
//     such namespace per tick).
//     Until then Namespace.Clients, Socket.Rooms, Namespace.Rooms and
//     Namespace.RoomSize return the local view
//     with an error wrapping ErrUnavailable (after the first failure they
//     fail at once, without waiting for a connect timeout, until the
//     backoff allows a new try).
//   - Socket.Join keeps working: whether a room may be joined does not
//     depend on Redis, since the names of the sockets' own rooms are
//     reserved by their format (socketio.IsSocketID), on every node, and
//     refused by the node's local state, which a join changes first.
//     Joins made during the outage are written by the resync once Redis
//     is back.
//   - The long-lived connections (publisher, writer, liveness) are checked
//     with a PING before use when idle for a second or more, so the first
//     broadcast after a quiet Redis restart goes out on a fresh connection
//     instead of being lost on the stale one.
//   - A node that cannot refresh its liveness key for longer than its TTL is
//     swept by the others if they still reach Redis; it rewrites its
//     membership when it reaches Redis again.
//
// A query waits at most 2 s for this node's pending writes and a pooled
// connection together, then at most Config.ReadTimeout (2 s); so when
// Redis hangs (a stopped process, a network partition) the first queries
// take up to a few seconds before failing and the next ones fail at once.
// Close takes at most about 3 s then (the tests measure 2 s with the
// default timeouts).
//
// # Emitting from other processes
//
// A process that runs no server — a cron job, a queue worker — reaches
// the sockets of every node through the same Redis with an Emitter; an
// app server in another language can use the HTTP publish API
// (socketio.NewPublishHandler) over an Emitter or over a node's Server
// (Server.Publish goes through the adapter, so it is cluster-wide too),
// or publish the message below itself:
//
//	e, err := sioredis.NewEmitter(sioredis.Config{Addr: "localhost:6379"}) // the nodes' Prefix
//	if err != nil { ... }
//	defer e.Close()
//	err = e.Of("/chat").To("room").Except(sid).Emit(ctx, "news", item, []byte{1, 2})
//
// NewEmitter uses the connection fields of Config (ClusterAddrs and the
// Sentinel fields included), Prefix and Channels only. The
// emitter holds no sessions, writes no keys and subscribes to nothing:
// each Emit or Publish is one PUBLISH (SPUBLISH), which returns once Redis has taken
// the message, or Redis's error (wrapping ErrUnavailable). Delivery and
// order are those of one node's broadcasts (see Broadcasts), for the
// pushes of one goroutine. A []byte
// argument travels as an attachment: v5 clients receive it as binary,
// 0.9 clients as a base64 string.
//
// The Go emitter also carries out, on every node, what a node's
// Selection does across the cluster, as Node's redis-emitter does:
// Join and Leave of rooms, Disconnect, and a namespace's ServerEmit.
// Each is one PUBLISH of a room operation on <Prefix>:broadcast (in both
// modes: every node subscribes to it), without a request id, which no
// node answers; like a broadcast, it reaches the nodes whose
// subscription is up, and returns once Redis has taken it. The room
// operations' format is this package's own (ops.go), not documented for
// other emitters.
//
// The message, for emitters in other languages, is published with
// PUBLISH (SPUBLISH on Redis Cluster) on the channel the nodes' mode
// (Config.Channels, see Broadcasts) gives it: with ChannelsSharded,
// {<Prefix>:<NS>:<room>}:bc for a broadcast to exactly one room
// that is not of the socket-id format (socketio.IsSocketID: 20 URL-safe
// base64 characters, or those after "<namespace>#"), else
// {<Prefix>:<NS>}:bc, where NS is the namespace as "<byte length>:<name>"
// ("{siogo:5:/chat:lobby}:bc", "{siogo:0:}:bc"); with ChannelsSingle, the
// default, <Prefix>:broadcast ("siogo:broadcast" by default). It is binary, where a uvarint is an unsigned
// LEB128 varint (Go's binary.AppendUvarint, protobuf's varint), a string
// is a uvarint byte length and the bytes, and a list is a uvarint count
// and that many strings:
//
//	byte     version: 2
//	byte     flags: 1 for volatile (receivers may drop it when their
//	         transport is busy), else 0
//	string   sender id: any id no node has (nodes skip their own
//	         broadcasts); the Go emitter uses "emitter-<16 hex digits>"
//	string   namespace: "" for the default one, else "/name"
//	list     rooms: the receivers are the members of any of them (room
//	         names or socket ids); an empty list is the whole namespace
//	list     except: socket ids that do not receive it
//	byte     kind: 1 for an event (2 text, 3 JSON: Send and SendJSON)
//	string   event name ("" for text and JSON)
//	uvarint  number of arguments, then each a string of one JSON value
//	         (0 for text and JSON)
//	rest     an event: nothing, or its binary attachments (a uvarint
//	         count, then each a string of bytes), the arguments holding
//	         {"_placeholder":true,"num":N} where attachment N goes; text:
//	         the text; JSON: the value
//
// The event "hi" with the argument 1, to room "r" of "/chat", from
// sender "e1", is these 22 bytes (hex, quoted ASCII):
//
//	02 00 02 "e1" 05 "/chat" 01 01 "r" 00 01 02 "hi" 01 01 "1"
//
// A node drops a message it cannot decode, over 16 MiB, or one that
// socketio.Message.Validate refuses (an empty or reserved event name such
// as "connect", arguments that are not JSON), counting it in
// Stats().Malformed; it ignores one for a namespace it does not have.
// Versions of the format are not compatible: a change of the layout
// changes the version byte, and emitters must follow. Room operations
// (join, leave, disconnect on a selection) and acks are not part of this
// format; emitters do not make them.
//
// # Trust
//
// Redis is trusted: anything that can write to it can change rooms and
// counts, publish broadcasts and edit the session directory. Protect it
// as the nodes' shared state: Config.Username and Password (AUTH, or an
// ACL user limited to the keys and channels P:* and {P:*),
// Config.TLSConfig on untrusted networks, and network rules. What the nodes check, so that a
// corrupt entry or a stray writer cannot do worse:
//
//   - Session directory (SSRF): a node proxies a client's request, cookies
//     and all, to the address Lookup returns. Each node registers its
//     address as the value of its liveness key; Lookup answers an entry
//     only with the exact address registered by the live node the entry
//     names. An entry naming any other address is answered as an unknown
//     session and counted (Stats().RefusedLookups). A writer that can also
//     forge a node's liveness key defeats this: AUTH is the real fence.
//   - Broadcast channels: every message is bounded (16 MiB), decoded, and
//     its Message checked with socketio.Message.Validate — an event, text
//     or JSON message with the fields of its kind only, an event name the
//     server may send (not empty, not reserved such as "disconnect" or
//     "connect", at most socketio.MaxEventNameBytes), arguments and data
//     that are valid JSON — before delivery; anything else (bytes of
//     another format or version, a reserved event, arguments that are not
//     JSON) is dropped, logged (at most once per 5 s) and counted
//     (Stats().Malformed). Broadcasts never carry ack requests: the format
//     has no place for one (broadcasts with acks are operations, below).
//   - Operations on P:broadcast (answers on the nodes' channels): each
//     is decoded and checked (at most 1 MiB, ErrOpTooLarge; known type and flags; no room of the socket-id
//     format to join or leave, so no request can put a socket into
//     another's private room or out of its own) before anything is done;
//     anything else is dropped and counted (Stats().Malformed). The
//     broadcast of a broadcast with acks must be an event that passes
//     socketio.Message.Validate, as broadcasts do, sent by the node the
//     request names, with a wait between 1 ms and 10 minutes; a server
//     event must have an event name and arguments that Validate takes (not
//     empty, not reserved, at most socketio.MaxEventNameBytes, valid UTF-8,
//     valid JSON). An answer is taken only by the node it names as its
//     target, only when it is of the type the request expects, from a
//     node the request waits for, and only with socket ids where ids
//     belong, each socket at most once, rooms that are no own-id room,
//     users and ack arguments that are valid JSON, and reasons for the
//     missing ones; anything else is dropped and counted. A writer to
//     the channels can still disconnect sockets, move them
//     between ordinary rooms, ask them for acks, send server events to
//     the handlers and forge answers (acks, fetched sockets): AUTH is the
//     fence.
//
// # Limits
//
//   - A session lives on the node that answered its handshake and dies
//     with it. Without the session directory (socketio.Config.Sessions),
//     sticky sessions are required: every later request of a session (the
//     websocket upgrade, each poll and each POST) must reach that node;
//     route on the session id in /socket.io/1/<transport>/<sid>, or on the
//     client address. With it, any node serves any request, through one
//     extra hop when it is not the session's node.
//   - Standalone Redis 5 or later (or the master of a Sentinel setup,
//     Config.SentinelAddrs; see "Redis Sentinel"), or Redis Cluster 7 or
//     later (sharded pub/sub; see "Redis Cluster").
//   - With ChannelsSingle every node receives every broadcast of the
//     cluster, its own included (and discarded): the Redis traffic is
//     the number of broadcasts times the number of nodes. With
//     ChannelsSharded (opt-in) a broadcast to one room reaches the
//     nodes that have members in the room; every other broadcast (to the
//     whole namespace, to several rooms, to a socket id) reaches every
//     node with sockets in the namespace. Each subscribed channel costs
//     an entry in Redis per node that needs it.
//   - Clients reads whole sets (SMEMBERS); Clients("") lists every socket
//     of the namespace in the cluster (RoomSize counts without listing).
//     Socket.Join makes no Redis round trip: its write is queued.
//   - Acks from clients of other nodes are collected by
//     Selection.EmitWithAck and RemoteSocket.EmitWithAck (see "Rooms and
//     queries"), within 1 MiB per ack and at most 10 minutes; a
//     plain broadcast never asks for acks. Sockets of other nodes are
//     kicked with a selection's Disconnect or RemoteSocket.Disconnect.
//   - A session's requests forwarded to its node travel as plain HTTP
//     between the nodes (socketio.Config.NodeAddr).
//   - A broadcast whose message exceeds 16 MiB reaches the emitting node's
//     sockets only (counted in Stats().Dropped).
//   - The broadcast message format changed (version 2 carries the
//     Message's fields; version 1 carried Socket.IO 0.9 frames): nodes of
//     the two versions drop each other's broadcasts (Stats().Malformed), so
//     upgrade all the nodes of a cluster together.
//   - socketio.Server does not close adapters: call Cluster.Close when the
//     node shuts down (before or after the server; it removes this node's
//     entries either way).
//
// # Redis Cluster
//
// With Config.ClusterAddrs (seed nodes) the node uses a Redis Cluster:
// github.com/mna/redisc, the cluster layer on redigo, learns the masters
// and their slots (CLUSTER SLOTS) and hashes keys; the node keeps a
// connection per master for each of its long-lived connections and a
// query pool per master, and routes every command to the master of its
// key's slot (pipelines keep their order per master). Every key of a
// namespace carries the hash tag {P:NS} and a node's liveness keys
// {P:node:<id>}, so every Lua script touches one slot; what used to cross
// slots is split (the sweep's liveness check, see "Node liveness"; the
// session directory's Lookup; Close's deletion of the session entries,
// one DEL per entry). Broadcasts use sharded pub/sub (SPUBLISH and
// SSUBSCRIBE): a channel lives on the master of its slot, and the
// subscriber holds one connection per master. A MOVED, ASK, CLUSTERDOWN
// or TRYAGAIN reply counts as a failure of the connection: the slot map
// is refreshed and the connection made again (the writer then rewrites
// the node's membership, the subscriber subscribes again); a subscription
// that Redis ends because its slot moved is followed to the slot's new
// master, at once or, when a MOVED reply comes first, by subscribing
// everything again after the backoff (the tests measure about 50 ms for
// a moved room channel; broadcasts published in between are lost, the
// first one sent to the old master included). Replicas are not read from; after a failover the new master is
// found through the slot map. DB must be 0.
//
// # Redis Sentinel
//
// With Config.SentinelAddrs and SentinelMaster the node finds its master
// through Redis Sentinel (Redis 6.2 or later for Sentinel AUTH with a
// user; no third-party client: a few commands on redigo). Every
// connection it opens (the query pool's, the publisher's, subscriber's,
// writer's and liveness') asks the Sentinels in turn, the last one that
// answered first, within DialTimeout each: SENTINEL
// get-master-addr-by-name <SentinelMaster>. A Sentinel that does not
// answer, or does not know the name, is skipped; when none leads to a
// master, the error names each one and why (New fails with it: a wrong
// master name reads `sentinel host:port: knows no master named "name"`).
// The node then dials the master with the usual connection fields and
// checks ROLE: a server that says it is not a master (one being demoted)
// is refused and the next Sentinel asked. A user whose ACL forbids ROLE
// (NOPERM) is not checked; READONLY catches a replica then. The Sentinels
// a Sentinel knows of (SENTINEL sentinels) are added to the list, after
// the configured ones. SentinelUsername and SentinelPassword are the
// Sentinels' AUTH; TLSConfig, Dial and the timeouts apply to them too.
//
// Failover: each node holds a connection to one Sentinel, subscribed to
// its +switch-master announcements (pinged every TTL/3, made again with
// backoff when it fails). When the Sentinels switch the master, or when
// a connection finds another master than the previous one, every
// connection of the node to the old master fails: the pool discards
// them as they are borrowed (an idle one stays open until then, or until
// the old master closes it), the long-lived connections (the
// subscriber's at its next TTL/3 ping) are made again, to the new
// master; and the node rewrites its membership and session entries there
// (Stats().Resyncs): what it wrote to the old master after the failover
// began is lost with it (replication is asynchronous). The subscriber
// subscribes again to every channel, as after any reconnection;
// broadcasts published while the nodes' connections move may be lost. A
// READONLY reply (a write to a server that is a replica now) on any
// connection fails it, and every connection of the node opened before,
// likewise. Without the announcement (the watched Sentinel unreachable),
// the connections move when they fail: a Sentinel reconfigures the old
// master as a replica about 10 s after the switch and closes its clients
// then. In the tests (SENTINEL FAILOVER, a 2-core machine) the Sentinels
// name the new master about 1.3 s after the request, and the nodes'
// subscribers are on it 0.2 s later.
//
// # Redis keys
//
// With P the prefix and NS a namespace written as "<byte length>:<name>":
// {P:NS}:room:<room>, {P:NS}:sid:<sid> and {P:NS}:all are sets of socket
// ids or rooms; {P:NS}:rooms is the index of the rooms with members;
// {P:NS}:node:<id> lists the sockets node id wrote in the namespace and
// {P:node:<id>}:ns the namespaces it wrote in; {P:node:<id>}:alive is its
// liveness key, whose value is the node's address (its first
// Register's), and {P:node:<id>}:swept the sweep's mark; P:nodes lists
// the nodes; P:sweeper is the sweeper lock; P:session:<sid> is a session
// directory entry. The channels are P:broadcast (control, and the single
// channel), {P:node:<id>}:ops, {P:NS}:bc and {P:NS:<room>}:bc (see
// "Broadcasts"). The braces are Redis Cluster hash tags, harmless on a
// standalone Redis, which uses the same names; a Prefix may not contain
// braces. Use a distinct prefix per cluster sharing a Redis.
//
// The key format changed with sharding (the hash tags): nodes of earlier
// versions see neither the rooms nor the liveness of later ones, nor the
// other way round, and they publish and listen on P:broadcast only.
// Upgrade all the nodes of a cluster together (stop them all, then start
// the new version; what the old nodes left under the old names is not
// read, and can be deleted). Nodes of versions before the liveness key
// held the address do not interoperate with later ones in the session
// directory either.
package sioredis
