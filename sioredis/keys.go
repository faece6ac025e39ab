package sioredis

import (
	"strconv"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/siogo/siogo/socketio"
)

// Redis layout, with P the configured prefix and NS a namespace name
// written as "<byte length>:<name>" so that no namespace or room name can
// make two keys collide:
//
//	P:room:NS:<room>  set of socket ids in the room (own-id rooms included)
//	P:sid:NS:<sid>    set of rooms of the socket (its own-id room included)
//	P:all:NS          set of socket ids of the namespace
//	P:rooms:NS        set of the namespace's rooms that have members (own-id
//	                  rooms excepted): Adapter.AllRooms reads it with SSCAN
//	P:node:<node>     set of "NS<sid>" members: what the node wrote, so the
//	                  survivors can remove it when the node dies
//	P:alive:<node>    the node's liveness key, refreshed with a TTL; its
//	                  value is the node's address (session directory)
//	P:nodes           set of node ids that may own entries
//	P:sweeper         lock held by the node sweeping dead nodes
//	P:broadcast       the pub/sub channel every node publishes to
//	P:session:<sid>   "<node address> <node>": the session directory
//	                  (sessions.go)
//
// The sweep scripts rebuild the first three from a P:node member, so the
// formats here and in purgeScript must agree.

func nsPart(ns string) string { return strconv.Itoa(len(ns)) + ":" + ns }

func (c *Cluster) roomKey(ns, room string) string {
	return c.prefix + ":room:" + nsPart(ns) + ":" + room
}
func (c *Cluster) sidKey(ns, sid string) string { return c.prefix + ":sid:" + nsPart(ns) + ":" + sid }
func (c *Cluster) allKey(ns string) string      { return c.prefix + ":all:" + nsPart(ns) }
func (c *Cluster) roomsKey(ns string) string    { return c.prefix + ":rooms:" + nsPart(ns) }
func (c *Cluster) nodeKey(node string) string   { return c.prefix + ":node:" + node }
func (c *Cluster) aliveKey(node string) string  { return c.prefix + ":alive:" + node }
func (c *Cluster) nodesKey() string             { return c.prefix + ":nodes" }
func (c *Cluster) lockKey() string              { return c.prefix + ":sweeper" }
func (c *Cluster) channel() string              { return c.prefix + ":broadcast" }
func nodeMember(ns, sid string) string          { return nsPart(ns) + sid }

// luaDropMember defines drop(P, m): it removes the socket that a P:node
// member m ("<len>:<ns>:<sid>", see nodeMember) names from the room,
// socket and namespace sets, and the rooms it leaves empty from the
// namespace's room index. purgeScript and dropSocketsScript share it.
const luaDropMember = `
local function drop(p, m)
  local c = string.find(m, ':', 1, true)
  if not c then return end
  local n = tonumber(string.sub(m, 1, c - 1))
  if not n then return end
  local nsp = string.sub(m, 1, c + n)
  local sid = string.sub(m, c + n + 1)
  local sk = p .. ':sid:' .. nsp .. ':' .. sid
  for _, r in ipairs(redis.call('SMEMBERS', sk)) do
    local rk = p .. ':room:' .. nsp .. ':' .. r
    redis.call('SREM', rk, sid)
    if r ~= sid and redis.call('EXISTS', rk) == 0 then
      redis.call('SREM', p .. ':rooms:' .. nsp, r)
    end
  end
  redis.call('DEL', sk)
  redis.call('SREM', p .. ':all:' .. nsp, sid)
end
`

// purgeScript removes up to ARGV[3] sockets written by node ARGV[2] from
// the room, socket and namespace sets, unless ARGV[4] is "0" and the node
// is alive (then it returns {-1, 0}: a live node is never swept, and the
// check is atomic with the removal). It returns {sockets left, sockets
// removed}; when none are left and the node is being swept (not purging
// itself), the node is forgotten.
//
// KEYS: P:nodes, P:node:<node>, P:alive:<node>. ARGV: P, node, batch, force.
var purgeScript = redigo.NewScript(3, luaDropMember+`
if ARGV[4] ~= '1' and redis.call('EXISTS', KEYS[3]) == 1 then
  return {-1, 0}
end
local members = redis.call('SPOP', KEYS[2], tonumber(ARGV[3]))
for _, m in ipairs(members) do
  drop(ARGV[1], m)
end
local left = redis.call('SCARD', KEYS[2])
if left == 0 and ARGV[4] ~= '1' then
  redis.call('SREM', KEYS[1], ARGV[2])
end
return {left, #members}
`)

// refreshScript sets the node's liveness key to the node's address
// (ARGV[3]: its socketio.Config.NodeAddr, "" until the first Register)
// with a TTL of ARGV[2] ms, registers the node, and returns the key's
// previous value: nil means the key had expired (or Redis lost it), so the
// node may have been swept. The session directory forwards only to the
// address held here (lookupScript). An empty address keeps the one the
// key holds (a refresh that read the address just before the first
// Register wrote it must not erase it), unless ARGV[4] is "1" (New: the
// value may be a previous run's).
//
// KEYS: P:alive:<node>, P:nodes. ARGV: node, ttl ms, address, force.
var refreshScript = redigo.NewScript(2, `
local old = redis.call('GET', KEYS[1])
local v = ARGV[3]
if v == '' and old and ARGV[4] ~= '1' then v = old end
redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return old
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
// meanwhile.
//
// KEYS: P:node:<node>, P:all:NS, P:sid:NS:<sid>, P:rooms:NS. ARGV:
// P:room:NS: (the room key prefix), sid, node member, rooms...
var setSocketScript = redigo.NewScript(4, `
redis.call('SADD', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
local want = {}
for i = 4, #ARGV do want[ARGV[i]] = true end
for _, r in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if not want[r] then
    redis.call('SREM', ARGV[1] .. r, ARGV[2])
    redis.call('SREM', KEYS[3], r)
    if r ~= ARGV[2] and redis.call('EXISTS', ARGV[1] .. r) == 0 then
      redis.call('SREM', KEYS[4], r)
    end
  end
end
for i = 4, #ARGV do
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

// dropSocketsScript removes the given P:node members (sockets this node
// wrote that are gone) from the node's set and their sockets from the
// room, socket and namespace sets, as purgeScript does. It returns how
// many it removed.
//
// KEYS: P:node:<node>. ARGV: P, members...
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

// broadcastChannel names the channel on which a broadcast of namespace
// ns to the sockets opts selects is published, by a node or by an
// emitter. CONTRACT (session 6, #17): today the one channel
// <Prefix>:broadcast; the sharded design changes this body, and both the
// nodes and the emitter follow it.
func broadcastChannel(prefix, ns string, opts socketio.BroadcastOptions) string {
	return prefix + ":broadcast"
}
