package sioredis

import (
	"strconv"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/siogo/siogo/socketio"
)

// Redis layout, with P the configured prefix and NS a namespace name
// written as "<byte length>:<name>" so that no namespace or room name can
// make two keys collide. Every key of a namespace starts with the hash tag
// {P:NS}, so that on Redis Cluster they all live in one slot and every
// script touches one slot only; a node's liveness keys share the tag
// {P:node:<node>}:
//
//	{P:NS}:room:<room>  set of socket ids in the room (own-id rooms included)
//	{P:NS}:sid:<sid>    set of rooms of the socket (its own-id room included)
//	{P:NS}:all          set of socket ids of the namespace
//	{P:NS}:rooms        set of the namespace's rooms that have members (own-id
//	                    rooms excepted): Adapter.AllRooms reads it with SSCAN
//	{P:NS}:node:<node>  set of the socket ids the node wrote in the
//	                    namespace, so the survivors can remove them when the
//	                    node dies
//	{P:node:<node>}:ns     set of the NS the node wrote in (the sweep visits
//	                       their {P:NS}:node:<node>)
//	{P:node:<node>}:alive  the node's liveness key, refreshed with a TTL; its
//	                       value is the node's address (session directory)
//	{P:node:<node>}:swept  set by a sweep that found the node back while it
//	                       swept it: the node's next refresh rewrites its rooms
//	P:nodes             set of node ids that may own entries
//	P:sweeper           lock held by the node sweeping dead nodes
//	P:session:<sid>     "<node address> <node>": the session directory
//	                    (sessions.go)
//
// Channels: see broadcastChannel, controlChannel and nodeChannel.
//
// The sweep scripts rebuild the first three from a namespace tag and a
// socket id, so the formats here and in luaDropMember must agree.

func nsPart(ns string) string { return strconv.Itoa(len(ns)) + ":" + ns }

// nsTag is the hash tag that starts every key of namespace ns.
func nsTag(prefix, ns string) string { return "{" + prefix + ":" + nsPart(ns) + "}" }

// nodeTag is the hash tag of a node's liveness keys.
func nodeTag(prefix, node string) string { return "{" + prefix + ":node:" + node + "}" }

func (c *Cluster) tag(ns string) string { return nsTag(c.prefix, ns) }
func (c *Cluster) roomKey(ns, room string) string {
	return c.tag(ns) + ":room:" + room
}
func (c *Cluster) sidKey(ns, sid string) string { return c.tag(ns) + ":sid:" + sid }
func (c *Cluster) allKey(ns string) string      { return c.tag(ns) + ":all" }
func (c *Cluster) roomsKey(ns string) string    { return c.tag(ns) + ":rooms" }

// nodeNSKey is the set of socket ids node wrote in ns.
func (c *Cluster) nodeNSKey(ns, node string) string { return c.tag(ns) + ":node:" + node }

// nodeNSTagKey is nodeNSKey for a namespace tag read from Redis.
func nodeNSTagKey(tag, node string) string { return tag + ":node:" + node }

// spacesKey is the set of the namespaces (nsPart) node wrote in.
func (c *Cluster) spacesKey(node string) string { return nodeTag(c.prefix, node) + ":ns" }
func (c *Cluster) aliveKey(node string) string  { return nodeTag(c.prefix, node) + ":alive" }
func (c *Cluster) sweptKey(node string) string  { return nodeTag(c.prefix, node) + ":swept" }
func (c *Cluster) nodesKey() string             { return c.prefix + ":nodes" }
func (c *Cluster) lockKey() string              { return c.prefix + ":sweeper" }

// tagOfPart is the namespace tag of an nsPart read from a spaces set.
func (c *Cluster) tagOfPart(part string) string { return "{" + c.prefix + ":" + part + "}" }

// luaDropMember defines drop(t, sid): it removes socket sid of the
// namespace whose tag is t from the room, socket and namespace sets, and
// the rooms it leaves empty from the namespace's room index. Every key it
// touches carries the tag t: one slot. purgeScript and dropSocketsScript
// share it.
const luaDropMember = `
local function drop(t, sid)
  local sk = t .. ':sid:' .. sid
  for _, r in ipairs(redis.call('SMEMBERS', sk)) do
    local rk = t .. ':room:' .. r
    redis.call('SREM', rk, sid)
    if r ~= sid and redis.call('EXISTS', rk) == 0 then
      redis.call('SREM', t .. ':rooms', r)
    end
  end
  redis.call('DEL', sk)
  redis.call('SREM', t .. ':all', sid)
end
`

// purgeScript removes up to ARGV[2] sockets of the node set KEYS[1] (a
// {P:NS}:node:<node>) from the namespace's room, socket and namespace
// sets. It returns {sockets left, sockets removed}. It does not look at
// the node's liveness (another slot): the sweeper checks it between
// batches (Cluster.sweepNode).
//
// KEYS: {P:NS}:node:<node>. ARGV: {P:NS}, batch.
var purgeScript = redigo.NewScript(1, luaDropMember+`
local members = redis.call('SPOP', KEYS[1], tonumber(ARGV[2]))
for _, sid in ipairs(members) do
  drop(ARGV[1], sid)
end
return {redis.call('SCARD', KEYS[1]), #members}
`)

// refreshScript sets the node's liveness key to the node's address
// (ARGV[2]: its socketio.Config.NodeAddr, "" until the first Register)
// with a TTL of ARGV[1] ms and returns the key's previous value: nil
// means the key had expired (or Redis lost it), so the node may have been
// swept; nil is also returned when a sweep left the swept mark (KEYS[2]),
// which it clears. The session directory forwards only to the address
// held here (Lookup). An empty address keeps the one the key holds (a
// refresh that read the address just before the first Register wrote it
// must not erase it), unless ARGV[3] is "1" (New: the value may be a
// previous run's). The caller adds the node to P:nodes (another slot).
//
// KEYS: {P:node:<node>}:alive, {P:node:<node>}:swept. ARGV: ttl ms, address, force.
var refreshScript = redigo.NewScript(2, `
local old = redis.call('GET', KEYS[1])
local v = ARGV[2]
if v == '' and old and ARGV[3] ~= '1' then v = old end
redis.call('SET', KEYS[1], v, 'PX', ARGV[1])
if redis.call('DEL', KEYS[2]) == 1 then return false end
return old
`)

// sweepStartScript tells whether node may be swept: 1 if its liveness
// key is gone, 0 if it is alive.
//
// KEYS: {P:node:<node>}:alive.
var sweepStartScript = redigo.NewScript(1, `
return 1 - redis.call('EXISTS', KEYS[1])
`)

// sweepEndScript ends the sweep of a node, atomically with a last look at
// its liveness: if the node came back while it was swept (its liveness
// key exists again), it sets the swept mark for ARGV[1] ms, so that the
// node's next refresh rewrites its membership, and returns 1; else it
// forgets the node's namespace set and returns 0 (the caller then removes
// the node from P:nodes).
//
// KEYS: {P:node:<node>}:alive, {P:node:<node>}:swept, {P:node:<node>}:ns.
// ARGV: mark ttl ms.
var sweepEndScript = redigo.NewScript(3, `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
  return 1
end
redis.call('DEL', KEYS[3])
return 0
`)

// unlockScript releases the sweeper lock if this node still holds it.
//
// KEYS: P:sweeper. ARGV: node.
var unlockScript = redigo.NewScript(1, `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// setSocketScript makes Redis hold exactly the given rooms for one socket
// of this node (resync): it records the socket in the node's and the
// namespace's sets, removes it from the rooms it is no longer in and adds
// it to the others, keeping the room index. Unlike a purge followed by a
// rewrite, the socket's membership never looks smaller than it is
// meanwhile. Every key is of the namespace's slot.
//
// KEYS: {P:NS}:node:<node>, {P:NS}:all, {P:NS}:sid:<sid>, {P:NS}:rooms.
// ARGV: {P:NS}:room: (the room key prefix), sid, rooms...
var setSocketScript = redigo.NewScript(4, `
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[2])
local want = {}
for i = 3, #ARGV do want[ARGV[i]] = true end
for _, r in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if not want[r] then
    redis.call('SREM', ARGV[1] .. r, ARGV[2])
    redis.call('SREM', KEYS[3], r)
    if r ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. r) == 0 then
      redis.call('SREM', KEYS[4], r)
    end
  end
end
for i = 3, #ARGV do
  redis.call('SADD', KEYS[3], ARGV[i])
  redis.call('SADD', ARGV[1] .. ARGV[i], ARGV[2])
  if ARGV[i] ~= ARGV[2] then redis.call('SADD', KEYS[4], ARGV[i]) end
end
return 0
`)

// luaForgetRoom removes ARGV[1] from the room index KEYS[2] if its room
// set KEYS[1] is empty, atomically: a join on another node writes the
// room set before the index (Adapter.joinCmds), so the index never loses
// a room that has members. Leave and LeaveAll run it with EVAL (always
// valid, even on a Redis that restarted without the script cache).
const luaForgetRoom = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 0
`

// dropSocketsScript removes the given sockets (sockets this node wrote in
// the namespace that are gone) from the node's set of the namespace and
// from the room, socket and namespace sets, as purgeScript does. It
// returns how many it removed.
//
// KEYS: {P:NS}:node:<node>. ARGV: {P:NS}, sids...
var dropSocketsScript = redigo.NewScript(1, luaDropMember+`
local n = 0
for i = 2, #ARGV do
  if redis.call('SREM', KEYS[1], ARGV[i]) == 1 then
    n = n + 1
    drop(ARGV[1], ARGV[i])
  end
end
return n
`)

// Channels. In ChannelsSharded mode a broadcast goes to the channel
// broadcastChannel names; every node subscribes to controlChannel (room
// operations and their requests, and every broadcast in ChannelsSingle
// mode) and to its nodeChannel (answers to its room operations).
//
//	P:broadcast          the control channel (and the single channel)
//	{P:node:<node>}:ops  answers for node
//	{P:NS}:bc            broadcasts of namespace NS but to exactly one room
//	{P:NS:<room>}:bc     broadcasts of namespace NS to exactly one ordinary
//	                     room (not of the socket-id format)
//
// The hash tags put a namespace's channel in its keys' slot, and each
// room's channel in a slot of its own, so that on Redis Cluster (sharded
// pub/sub) the rooms of a namespace spread over the masters, and a given
// (namespace, room) always lands in one slot.

// broadcastChannel names the channel on which a broadcast of namespace
// ns to the sockets opts selects is published in ChannelsSharded mode, by
// a node or by an emitter (CONTRACT, session 6, #17: both follow it): the
// room's channel for a broadcast to exactly one ordinary room (its
// Except list does not matter), the namespace's channel for anything
// else (the whole namespace, several rooms, a socket's own-id room). A
// node receives a room's channel while it has members in the room, the
// namespace's while it has sockets in the namespace. In ChannelsSingle
// mode every broadcast goes to singleChannel instead (channelFor).
func broadcastChannel(prefix, ns string, opts socketio.BroadcastOptions) string {
	if len(opts.Rooms) == 1 && !socketio.IsSocketID(opts.Rooms[0]) {
		return roomChannel(prefix, ns, opts.Rooms[0])
	}
	return nsChannel(prefix, ns)
}

// channelFor is the channel of a broadcast in mode: broadcastChannel's
// in ChannelsSharded mode, singleChannel's in ChannelsSingle mode.
func channelFor(mode ChannelMode, prefix, ns string, opts socketio.BroadcastOptions) string {
	if mode == ChannelsSingle {
		return singleChannel(prefix)
	}
	return broadcastChannel(prefix, ns, opts)
}

// publishCommand is the command that publishes on the channels above:
// SPUBLISH (sharded pub/sub, Redis 7) on Redis Cluster, PUBLISH on a
// standalone Redis (or a Sentinel's primary). Subscribers use SSUBSCRIBE
// and SUBSCRIBE respectively; a message published one way is not
// received the other way.
func publishCommand(cluster bool) string {
	if cluster {
		return "SPUBLISH"
	}
	return "PUBLISH"
}

// singleChannel is the one channel of ChannelsSingle mode, which is also
// the control channel of ChannelsSharded mode.
func singleChannel(prefix string) string { return prefix + ":broadcast" }

func roomChannel(prefix, ns, room string) string {
	return "{" + prefix + ":" + nsPart(ns) + ":" + room + "}:bc"
}
func nsChannel(prefix, ns string) string { return nsTag(prefix, ns) + ":bc" }

func (c *Cluster) controlChannel() string { return singleChannel(c.prefix) }

// nodeChannel is where the answers to node's room operations go in
// ChannelsSharded mode.
func (c *Cluster) nodeChannel(node string) string { return nodeTag(c.prefix, node) + ":ops" }
