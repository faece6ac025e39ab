package sioredis

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	redigo "github.com/gomodule/redigo/redis"

	"github.com/siogo/siogo/socketio"
)

// The cluster-wide operations beyond rooms: FetchSockets, broadcasts with
// acks and server events, on the request mechanism of ops.go.

const (
	// maxAckWait bounds the time the other nodes wait for the acks of one
	// broadcast: a request asking for longer is malformed, and a
	// requester with a later deadline asks for this long.
	maxAckWait = 10 * time.Minute
	// minAckMargin and maxAckMargin bound the part of a broadcast's
	// remaining time that the other nodes leave for the request to reach
	// them and their answers to reach the requester (a fifth of it): on a
	// loaded machine that round trip takes hundreds of ms (the npm
	// clients' poll-room of internal/clustertest, 1.5 s with a tenth,
	// missed answers under load).
	minAckMargin = 50 * time.Millisecond
	maxAckMargin = time.Second
	// maxAcksRunning bounds the broadcasts with acks of other nodes that
	// one node waits on at once (a goroutine each); beyond, it answers
	// at once with an error.
	maxAcksRunning = 256
)

// errAckBusy is the answer of a node that already waits on
// maxAcksRunning broadcasts with acks.
var errAckBusy = errors.New("sioredis: too many broadcasts with acks in progress on this node")

// reply publishes an answer to a request of another node. It never
// blocks (see publish): an answer that cannot be published is dropped and
// counted, and the requester reports this node as silent.
func (c *Cluster) reply(m opMsg) { c.publish(encodeOp(m)) }

// FetchSockets implements socketio.Adapter: this node's selected sockets
// (their Node this node's id) and those the other live nodes answer with,
// sorted by id. On failure the sockets gathered so far come with the
// error, as for SocketIDs: ErrIncomplete, ErrUnavailable, ErrTruncated (a
// node had more than its answer carries: 1 MiB) or ErrClosed.
func (a *Adapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]socketio.SocketInfo, error) {
	local, err := a.mem.FetchSockets(ctx, opts)
	if err != nil {
		return local, err
	}
	out := make([]socketio.SocketInfo, 0, len(local))
	for _, si := range local {
		si.Node = a.c.node
		out = append(out, si)
	}
	if a.localOnly(opts) {
		return out, nil
	}
	replies, err := a.c.request(ctx, opMsg{typ: opFetch, ns: a.name, opts: opts})
	truncated := false
	for _, r := range replies {
		for _, si := range r.sockets {
			si.Node = r.node
			out = append(out, si)
		}
		truncated = truncated || r.flags&opFlagTruncated != 0
	}
	slices.SortFunc(out, func(x, y socketio.SocketInfo) int {
		return cmp.Or(cmp.Compare(x.ID, y.ID), cmp.Compare(x.Node, y.Node))
	})
	if err == nil && truncated {
		err = fmt.Errorf("%w: a node had more sockets than its answer carries", ErrTruncated)
	}
	return out, err
}

// ackWait is how long the other nodes wait for the acks of a broadcast
// whose requester waits d: d less a margin for the answers to travel
// back (a fifth of d, within minAckMargin and maxAckMargin), at least a
// millisecond and at most maxAckWait, in ms.
func ackWait(d time.Duration) uint64 {
	d -= min(max(d/5, minAckMargin), maxAckMargin)
	d = min(max(d, time.Millisecond), maxAckWait)
	return uint64(d / time.Millisecond)
}

// BroadcastWithAck implements socketio.Adapter: m is delivered to this
// node's selected sockets at once (the in-memory adapter's
// BroadcastWithAck) and travels as a request, behind this node's earlier
// broadcasts, to every other live node, which delivers it to its own
// selected sockets, passes their acks on as they come (partial answers,
// ackFlushDelay apart) and waits for the others until ctx's deadline
// less a margin for its answer to travel back (a fifth of the remaining
// time, between 50 ms and 1 s; at most 10 minutes), then answers with
// the ids that did not answer.
//
// The result merges every node's: Acks sorted by id, Missing sorted; when
// a receiver did not answer in time it is returned once ctx ends, as on
// one node, although the other nodes stopped waiting a margin earlier.
// The error joins this node's (wrapping ctx's when one of its sockets did
// not answer), an error wrapping ctx's when a socket of another node did
// not answer in time (or the reason its node gave:
// socketio.ErrDisconnected, ErrNotDelivered, ErrTooManyAcks), each
// node's own failure, ErrIncomplete when a node did not answer before ctx
// ended (its receivers, as Redis lists them, are then in Missing: see
// silentMembers), ErrTruncated when a
// receiver's ack did not fit in an answer (1 MiB: those sockets are
// listed in Missing), and ErrUnavailable or ErrClosed when the request could not
// be sent. A broadcast whose request would exceed 1 MiB is refused with
// ErrOpTooLarge, before any delivery.
func (a *Adapter) BroadcastWithAck(ctx context.Context, m *socketio.Message, opts socketio.BroadcastOptions) (socketio.AckResult, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return socketio.AckResult{}, socketio.ErrNoDeadline
	}
	if err := ctx.Err(); err != nil {
		return socketio.AckResult{}, err
	}
	if a.localOnly(opts) {
		return a.mem.BroadcastWithAck(ctx, m, opts)
	}
	if m.Kind != socketio.MessageEvent {
		return socketio.AckResult{}, fmt.Errorf("%w: a broadcast with acks of a %v message", socketio.ErrInvalidMessage, m.Kind)
	}
	req := opMsg{typ: opAck, ns: a.name, opts: opts, msg: m, wait: ackWait(time.Until(deadline))}
	msg, err := a.c.encodeRequest(&req)
	if err != nil {
		return socketio.AckResult{}, err
	}
	type result struct {
		res socketio.AckResult
		err error
	}
	local := make(chan result, 1)
	go func() {
		res, err := a.mem.BroadcastWithAck(ctx, m, opts)
		local <- result{res, err}
	}()
	var replies []opMsg
	var silent []string
	var silentErr error
	call, reqErr := a.c.sendEncoded(ctx, req, msg)
	if call != nil {
		replies, reqErr = call.wait(ctx, 0)
		if len(call.silent) > 0 {
			silent, silentErr = a.silentMembers(call.silent, opts)
		}
	}
	mine := <-local
	res := mine.res
	errs := []error{mine.err, silentErr}
	var reasons byte
	missing := 0
	for _, r := range replies {
		res.Acks = append(res.Acks, r.acks...)
		res.Missing = append(res.Missing, r.missing...)
		missing += len(r.missing)
		reasons |= r.flags &^ opFlagPartial
		errs = append(errs, r.err())
	}
	if missing > 0 && reasons&opFlagDeadline != 0 {
		// Other nodes stopped waiting a margin before the deadline; the
		// broadcast waits until ctx ends, as for this node's receivers.
		select {
		case <-ctx.Done():
		case <-a.c.ctx.Done():
		}
	}
	if missing > 0 {
		errs = append(errs, missingError(ctx, missing, reasons))
	}
	if reasons&opFlagTruncated != 0 {
		errs = append(errs, fmt.Errorf("%w: a node had more acks than its answer carries; their sockets are listed as missing", ErrTruncated))
	}
	errs = append(errs, reqErr)
	slices.SortFunc(res.Acks, func(x, y socketio.SocketAck) int { return cmp.Compare(x.ID, y.ID) })
	if len(silent) > 0 {
		// Those of the silent nodes' receivers whose acks came before
		// their node fell silent answered.
		silent = slices.DeleteFunc(silent, func(id string) bool {
			_, found := slices.BinarySearchFunc(res.Acks, id, func(a socketio.SocketAck, id string) int { return cmp.Compare(a.ID, id) })
			return found
		})
		res.Missing = append(res.Missing, silent...)
	}
	slices.Sort(res.Missing)
	res.Missing = slices.Compact(res.Missing)
	return res, errors.Join(errs...)
}

// silentLookupTimeout bounds the Redis read of the receivers of the
// nodes that did not answer a broadcast with acks (silentMembers), made
// once the broadcast's own time is up.
const silentLookupTimeout = 500 * time.Millisecond

// silentMembersScript returns the members of KEYS[1] (the socket ids a
// node wrote in a namespace) that are in any of the rooms KEYS[2..] (all
// of them with no room). Every key carries the namespace's tag: one slot.
var silentMembersScript = redigo.NewScript(-1, `
if #KEYS == 1 then
  return redis.call('SMEMBERS', KEYS[1])
end
local out, seen = {}, {}
for i = 2, #KEYS do
  for _, sid in ipairs(redis.call('SINTER', KEYS[i], KEYS[1])) do
    if not seen[sid] then
      seen[sid] = true
      out[#out + 1] = sid
    end
  end
end
return out
`)

// silentMembers returns the receivers of a broadcast with acks on the
// nodes that did not answer it, as Redis lists them: their sockets of the
// namespace in any of opts.Rooms (every one with no room), less
// opts.Except. They did not answer in time as far as the broadcast can
// tell, so they go into its Missing (beside ErrIncomplete).
func (a *Adapter) silentMembers(nodes []string, opts socketio.BroadcastOptions) ([]string, error) {
	ctx, cancel := context.WithTimeout(a.c.ctx, silentLookupTimeout)
	defer cancel()
	var ids []string
	err := a.c.exec(ctx, false, func(conn redigo.Conn) error {
		ids = ids[:0] // exec may run this twice
		args := make([]any, 0, 2+len(opts.Rooms))
		for _, n := range nodes {
			args = append(args[:0], 1+len(opts.Rooms), a.c.nodeNSKey(a.name, n))
			for _, r := range opts.Rooms {
				args = append(args, a.c.roomKey(a.name, r))
			}
			got, err := redigo.Strings(silentMembersScript.Do(conn, args...))
			if err != nil {
				return err
			}
			ids = append(ids, got...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sioredis: the receivers of the nodes that did not answer are not listed in Missing: %w", err)
	}
	if len(opts.Except) == 0 {
		return ids, nil
	}
	except := make(map[string]bool, len(opts.Except))
	for _, id := range opts.Except {
		except[id] = true
	}
	return slices.DeleteFunc(ids, func(id string) bool { return except[id] }), nil
}

// missingError says that sockets of other nodes did not answer, wrapping
// the reasons their nodes gave: ctx's error (context.DeadlineExceeded
// should ctx not have ended: the cluster closed), socketio.ErrDisconnected,
// ErrNotDelivered, ErrTooManyAcks.
func missingError(ctx context.Context, n int, reasons byte) error {
	var errs []error
	if reasons&opFlagDeadline != 0 {
		cause := ctx.Err()
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		errs = append(errs, cause)
	}
	if reasons&opFlagGone != 0 {
		errs = append(errs, socketio.ErrDisconnected)
	}
	if reasons&opFlagUnsent != 0 {
		errs = append(errs, socketio.ErrNotDelivered)
	}
	if reasons&opFlagTooMany != 0 {
		errs = append(errs, socketio.ErrTooManyAcks)
	}
	if len(errs) == 0 { // truncated: acks left out
		errs = append(errs, ErrTruncated)
	}
	return fmt.Errorf("sioredis: %d sockets of other nodes did not answer: %w", n, errors.Join(errs...))
}

// ackReasons are the answer's flags for the error of the in-memory
// adapter's BroadcastWithAck.
func ackReasons(err error) byte {
	var f byte
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		f |= opFlagDeadline
	}
	if errors.Is(err, socketio.ErrDisconnected) {
		f |= opFlagGone
	}
	if errors.Is(err, socketio.ErrNotDelivered) {
		f |= opFlagUnsent
	}
	if errors.Is(err, socketio.ErrTooManyAcks) {
		f |= opFlagTooMany
	}
	return f
}

// startAck runs a broadcast with acks of another node on this node's
// sockets, in a goroutine of its own (at most maxAcksRunning at once),
// and answers once every receiver has answered or the request's time is
// up.
func (c *Cluster) startAck(m opMsg) {
	reply := opMsg{typ: opAckReply, id: m.id, node: c.node, target: m.node}
	adapters := c.adaptersOf(m.ns)
	if len(adapters) == 0 {
		c.reply(reply) // no such namespace here: nobody to ask
		return
	}
	select {
	case c.ackSlots <- struct{}{}:
	default:
		c.warn.warn("acks", "sioredis: too many broadcasts with acks in progress; refusing one", "from", clip(m.node), "max", maxAcksRunning)
		reply.code, reply.text = errorCode(errAckBusy)
		c.reply(reply)
		return
	}
	// Called by the subscriber, which holds its own count: Close cannot
	// be waiting on a zero count.
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() { <-c.ackSlots }()
		ctx, cancel := context.WithTimeout(c.ctx, time.Duration(m.wait)*time.Millisecond)
		defer cancel()
		st := startAckStream(c, reply)
		var first error
		for _, a := range adapters {
			var res socketio.AckResult
			var err error
			if s, ok := a.mem.(socketio.AckStreamer); ok {
				res, err = s.BroadcastWithAckEach(ctx, m.msg, m.opts, st.add)
			} else {
				res, err = a.mem.BroadcastWithAck(ctx, m.msg, m.opts)
			}
			reply.acks = append(reply.acks, res.Acks...)
			reply.missing = append(reply.missing, res.Missing...)
			// The missing are told by their ids and the reasons, not by
			// an error.
			if len(res.Missing) > 0 {
				f := ackReasons(err)
				if f == 0 {
					f = opFlagDeadline
				}
				reply.flags |= f
			} else if first == nil && err != nil {
				first = err
			}
		}
		sent := st.stop()
		if c.ctx.Err() != nil {
			return // closing: no one to answer through
		}
		// The last answer: the acks not answered yet, the missing. Should
		// they not fit in one answer, the acks go ahead in partial ones.
		answered := func(a socketio.SocketAck) bool { return sent[a.ID] }
		reply.acks = slices.DeleteFunc(reply.acks, answered)
		if !fits(reply) {
			st.send(reply.acks)
			reply.acks = slices.DeleteFunc(reply.acks, answered)
		}
		reply.code, reply.text = errorCode(first)
		c.reply(fitAcks(reply))
	}()
}

// ackFlushDelay is how long a node gathers its receivers' acks of a
// broadcast of another node before it answers them (a partial answer),
// after the first one of a batch came in.
const ackFlushDelay = 5 * time.Millisecond

// ackStream answers the acks of a broadcast with acks of another node as
// they come in, in partial answers (opFlagPartial) a few ms apart, so
// that the requester has them even if the node's last answer, about the
// receivers still silent when its wait ends, comes too late. Its loop
// runs on a goroutine of its own until stop.
type ackStream struct {
	c    *Cluster
	head opMsg // the answers' type, request id, node and target

	mu    sync.Mutex // guards batch
	batch []socketio.SocketAck

	sent map[string]bool // the acks answered; the loop's until done
	kick chan struct{}   // an ack came in (capacity 1)
	quit chan struct{}   // closed by stop
	done chan struct{}   // closed when the loop returned
}

func startAckStream(c *Cluster, head opMsg) *ackStream {
	st := &ackStream{c: c, head: head, sent: map[string]bool{},
		kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go st.loop()
	return st
}

// add takes an ack (socketio.AckStreamer's each: it never blocks).
func (st *ackStream) add(a socketio.SocketAck) {
	st.mu.Lock()
	st.batch = append(st.batch, a)
	st.mu.Unlock()
	select {
	case st.kick <- struct{}{}:
	default:
	}
}

// stop ends the loop and returns the ids of the acks it answered; the
// others (those that came in since its last answer) are for the last
// answer.
func (st *ackStream) stop() map[string]bool {
	close(st.quit)
	<-st.done
	return st.sent
}

func (st *ackStream) loop() {
	defer close(st.done)
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-st.kick:
		case <-st.quit:
			return
		}
		t.Reset(ackFlushDelay)
		select {
		case <-t.C:
		case <-st.quit:
			t.Stop()
			return
		}
		st.flush()
	}
}

// flush answers the acks that came in since the last flush.
func (st *ackStream) flush() {
	st.mu.Lock()
	batch := st.batch
	st.batch = nil
	st.mu.Unlock()
	st.send(batch)
}

// send answers acks in as many partial answers as their size needs (each
// within maxOpBytes), and records them in sent. An ack too large for an
// answer of its own is left for the last answer, which lists it as
// missing (see fitAcks). It runs on the loop's goroutine, or once the
// loop is done.
func (st *ackStream) send(batch []socketio.SocketAck) {
	full := replyBudget(st.head)
	part := st.head
	part.flags = opFlagPartial
	budget := full
	for _, a := range batch {
		cost := idCost(a.ID) + sizeRaws(a.Args)
		if cost > full {
			continue
		}
		if cost > budget {
			st.c.reply(part)
			part.acks, budget = nil, full
		}
		part.acks = append(part.acks, a)
		budget -= cost
		st.sent[a.ID] = true
	}
	if len(part.acks) > 0 {
		st.c.reply(part)
	}
}

// idCost is the most bytes a socket id takes in an answer (its length
// and itself).
func idCost(id string) int { return binary.MaxVarintLen64 + len(id) }

// fits reports whether an answer with acks is within maxOpBytes as it is
// (fitAcks would leave nothing out).
func fits(reply opMsg) bool {
	budget := replyBudget(reply)
	for _, a := range reply.acks {
		budget -= idCost(a.ID) + sizeRaws(a.Args)
	}
	for _, id := range reply.missing {
		budget -= idCost(id)
	}
	return budget >= 0
}

// fitAcks keeps an answer with acks within maxOpBytes: every id is
// carried, each acked socket's in Acks while its arguments fit, in
// Missing beyond (the answer is then flagged truncated). Should the ids
// alone not fit, the last ones are left out (truncated too).
func fitAcks(reply opMsg) opMsg {
	slices.SortFunc(reply.acks, func(x, y socketio.SocketAck) int { return cmp.Compare(x.ID, y.ID) })
	slices.Sort(reply.missing)
	reply.missing = slices.Compact(reply.missing)
	budget := replyBudget(reply)
	for _, a := range reply.acks {
		budget -= idCost(a.ID)
	}
	for _, id := range reply.missing {
		budget -= idCost(id)
	}
	if budget < 0 {
		// Ids only, as many as fit.
		for _, a := range reply.acks {
			reply.missing = append(reply.missing, a.ID)
		}
		reply.acks = nil
		slices.Sort(reply.missing)
		budget = replyBudget(reply)
		for i, id := range reply.missing {
			if budget -= idCost(id); budget < 0 {
				reply.missing = reply.missing[:i]
				break
			}
		}
		reply.flags |= opFlagTruncated
		return reply
	}
	kept := reply.acks[:0]
	for _, a := range reply.acks {
		if cost := sizeRaws(a.Args); cost <= budget {
			budget -= cost
			kept = append(kept, a)
			continue
		}
		reply.missing = append(reply.missing, a.ID)
		reply.flags |= opFlagTruncated
	}
	reply.acks = kept
	slices.Sort(reply.missing)
	return reply
}

// ServerEmit implements socketio.Adapter: the event is published on the
// broadcast channel, behind this node's broadcasts, and every other node
// hands it to its namespace's handler (Namespace.ReceiveServerEvent).
// Nothing is answered: like a broadcast, a server event reaches the nodes
// whose subscription is up, and is dropped (Stats().Dropped) when it
// cannot be published. The event must be one a server may emit
// (socketio.Message.Validate: the error wraps socketio.ErrInvalidMessage
// or socketio.ErrReservedEvent) and its message at most 1 MiB
// (ErrOpTooLarge); after Close it is ErrClosed.
func (a *Adapter) ServerEmit(ctx context.Context, event string, args []json.RawMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkServerEvent(a.name, event, args); err != nil {
		return err
	}
	if a.c.closed.Load() {
		return ErrClosed
	}
	b, err := encodeBounded(opMsg{typ: opServerEvent, node: a.c.node, ns: a.name, event: event, args: args})
	if err != nil {
		return err
	}
	a.c.publish(b)
	return nil
}
