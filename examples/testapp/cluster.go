package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"time"

	"github.com/siogo/siogo/sioredis"
	"github.com/siogo/siogo/socketio"
)

// The rows "Cluster-wide operations" of the testapp contract: they act on
// the sockets of this namespace on every node (with -redis), and the same
// on one node.

const (
	// clusterOpTimeout bounds the cluster-wide look-ups and
	// disconnects of to-id, kick-id and fetch.
	clusterOpTimeout = 5 * time.Second
	// maxPollMS bounds poll-room's wait: a client's ms is clamped to
	// [0, maxPollMS], so that no client holds a poll (and its goroutine)
	// open longer than 10 s.
	maxPollMS = 10000
)

func registerCluster(ns *socketio.Namespace) {
	// to-id(id, ...args): emit "direct" with args to the socket id of this
	// namespace, wherever it is; ack whether it exists.
	must(ns.OnRaw("to-id", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		id, rest, ok := roomArg(args)
		found := false
		if ok {
			if r := findSocket(ns, id); r != nil {
				found = r.Emit("direct", raw(s, rest)...) == nil
			}
		}
		if ack != nil {
			_ = ack(found)
		}
	}))
	// kick-id(id): disconnect the socket id of this namespace (this
	// namespace only, as kick does), wherever it is; ack whether it
	// existed.
	must(ns.On("kick-id", func(s *socketio.Socket, id string) bool {
		r := findSocket(ns, id)
		if r == nil {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), clusterOpTimeout)
		defer cancel()
		_ = r.Disconnect(ctx, false)
		return true
	}))
	// fetch(room): the sorted ids of the room's sockets on every node.
	must(ns.On("fetch", func(s *socketio.Socket, room string) []string {
		ctx, cancel := context.WithTimeout(context.Background(), clusterOpTimeout)
		defer cancel()
		found, _ := ns.To(room).Fetch(ctx)
		ids := make([]string, 0, len(found))
		for _, r := range found {
			ids = append(ids, r.ID)
		}
		sort.Strings(ids)
		return ids
	}))
	// poll-room(room, ms): emit "q" asking for an ack to every socket in
	// the room, the sender included, and ack what came back within ms.
	must(ns.OnRaw("poll-room", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		room, rest, ok := roomArg(args)
		if !ok {
			if ack != nil {
				_ = ack(map[string]any{"answers": []json.RawMessage{}, "missing": []string{}})
			}
			return
		}
		wait := pollWait(rest)
		// The wait runs on a goroutine of its own: the socket's handlers
		// run one at a time (executor.go), and the sender is one of the
		// receivers, so waiting here could keep its own answer to "q"
		// from being handled until the poll is over.
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			res, err := ns.To(room).EmitWithAck(ctx, "q")
			if errors.Is(err, sioredis.ErrIncomplete) {
				// Say which node did not answer, and why, for whoever
				// reads the logs of a failed conformance run.
				slog.Warn("testapp: poll-room without every node's answer", "err", err)
			}
			if ack != nil {
				_ = ack(pollResult(res))
			}
		}()
	}))
}

// findSocket returns the socket id of ns, on whichever node it is, or nil.
func findSocket(ns *socketio.Namespace, id string) *socketio.RemoteSocket {
	if !socketio.IsSocketID(id) {
		return nil // a room's name, not a socket's id
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterOpTimeout)
	defer cancel()
	found, err := ns.To(id).Fetch(ctx)
	if err != nil {
		return nil
	}
	for _, r := range found {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// pollWait reads poll-room's ms (a JSON number; anything else is 0),
// clamped to [0, maxPollMS].
func pollWait(rest []json.RawMessage) time.Duration {
	var ms float64
	if len(rest) > 0 {
		_ = json.Unmarshal(rest[0], &ms)
	}
	ms = min(max(ms, 0), maxPollMS)
	return time.Duration(ms * float64(time.Millisecond))
}

// pollResult is poll-room's ack: the first argument of each answer
// (null for an ack without arguments), sorted, and the sorted ids of the
// sockets that did not answer.
func pollResult(res socketio.AckResult) map[string]any {
	answers := make([]json.RawMessage, 0, len(res.Acks))
	for _, a := range res.Acks {
		first := json.RawMessage("null")
		if len(a.Args) > 0 {
			first = a.Args[0]
		}
		answers = append(answers, first)
	}
	sort.SliceStable(answers, func(i, j int) bool { return lessJSON(answers[i], answers[j]) })
	missing := append([]string{}, res.Missing...)
	sort.Strings(missing)
	return map[string]any{"answers": answers, "missing": missing}
}

// lessJSON orders two JSON values: strings by their text, before any
// other value; other values by their JSON encoding.
func lessJSON(a, b json.RawMessage) bool {
	// (Not json.Unmarshal's error alone: null decodes into a string.)
	var sa, sb string
	aStr := len(a) > 0 && a[0] == '"' && json.Unmarshal(a, &sa) == nil
	bStr := len(b) > 0 && b[0] == '"' && json.Unmarshal(b, &sb) == nil
	switch {
	case aStr && bStr:
		return sa < sb
	case aStr != bStr:
		return aStr
	default:
		return string(a) < string(b)
	}
}
