package sioredis

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/socketio"
)

// sid makes a socket id (socketio.IsSocketID) of one repeated letter.
func sid(c byte) string { return strings.Repeat(string(c), 20) }

func ackEvent(ns, name string, args ...string) *socketio.Message {
	return &socketio.Message{Namespace: ns, Kind: socketio.MessageEvent, Event: name, Args: raws(args...)}
}

// The new operations and answers survive encoding as they are.
func TestDecodeOpFetchAckServerEvent(t *testing.T) {
	sel := socketio.BroadcastOptions{Rooms: []string{"r"}, Except: []string{sid('A')}}
	for _, m := range []opMsg{
		{typ: opFetch, id: 1, node: "n1", ns: "/chat", opts: sel},
		{typ: opServerEvent, node: "n1", ns: "/chat", event: "sync", args: raws(`1`, `{"a":"b"}`)},
		{typ: opServerEvent, node: "n1", event: "bare"},
		{typ: opFetchReply, id: 2, node: "n2", target: "n1", sockets: []socketio.SocketInfo{
			{ID: sid('A'), Rooms: []string{"lobby", "x"}, User: json.RawMessage(`{"name":"ann"}`)},
			{ID: sid('B')},
		}},
		{typ: opFetchReply, flags: opFlagTruncated, id: 3, node: "n2", target: "n1", code: codeOther, text: "oops"},
		{typ: opAckReply, flags: opFlagDeadline | opFlagGone, id: 4, node: "n2", target: "n1",
			acks: []socketio.SocketAck{{ID: sid('A'), Args: raws(`"yes"`, `2`)}, {ID: sid('C')}}, missing: []string{sid('B')}},
		{typ: opAckReply, id: 5, node: "n2", target: "n1", acks: []socketio.SocketAck{{ID: sid('A'), Args: raws(`[]`)}}},
		{typ: opAckReply, flags: opFlagPartial, id: 6, node: "n2", target: "n1", acks: []socketio.SocketAck{{ID: sid('A'), Args: raws(`1`)}}},
	} {
		got, err := decodeOp(encodeOp(m))
		require.NoError(t, err, "%+v", m)
		assert.Equal(t, m, got)
	}

	m := opMsg{typ: opAck, id: 9, node: "n1", ns: "/chat", wait: 1500,
		opts: socketio.BroadcastOptions{Rooms: []string{"r"}, Except: []string{sid('A')}, Volatile: true},
		msg:  ackEvent("/chat", "ask", `"q"`)}
	got, err := decodeOp(encodeOp(m))
	require.NoError(t, err)
	assert.Equal(t, m.opts, got.opts)
	assert.Equal(t, "/chat", got.ns)
	assert.Equal(t, uint64(1500), got.wait)
	sameMessage(t, m.msg, got.msg)
	bin := ackEvent("", "bin", `{"_placeholder":true,"num":0}`)
	bin.Attachments = [][]byte{{1, 2, 3}}
	got, err = decodeOp(encodeOp(opMsg{typ: opAck, node: "n1", wait: 1, msg: bin}))
	require.NoError(t, err, "binary arguments travel")
	sameMessage(t, bin, got.msg)
}

// Each check of the new operations refuses what no node sends; every
// case passes all the other checks, so removing its guard fails it.
func TestDecodeOpFetchAckServerEventRefused(t *testing.T) {
	ack := func(m opMsg) opMsg {
		m.typ = opAck
		if m.node == "" {
			m.node = "n"
		}
		if m.wait == 0 {
			m.wait = 1000
		}
		if m.msg == nil {
			m.msg = ackEvent(m.ns, "ask")
		}
		return m
	}
	reply := func(typ byte, m opMsg) opMsg {
		m.typ, m.node, m.target = typ, "n2", "n1"
		return m
	}
	for name, c := range map[string]struct {
		b    []byte
		want error
	}{
		"fetch flags":            {encodeOp(opMsg{typ: opFetch, flags: 1, node: "n"}), errBadOp},
		"fetch rooms":            {encodeOp(opMsg{typ: opFetch, node: "n", rooms: []string{"r"}}), errBadOp},
		"fetch namespace":        {encodeOp(opMsg{typ: opFetch, node: "n", ns: "chat"}), errBadOp},
		"ack flags":              {encodeOp(ack(opMsg{flags: 1})), errBadOp},
		"ack no time":            {encodeOp(opMsg{typ: opAck, node: "n", msg: ackEvent("", "ask")}), errBadOp},
		"ack too long":           {encodeOp(ack(opMsg{wait: uint64(maxAckWait/time.Millisecond) + 1})), errBadOp},
		"ack text message":       {encodeOp(ack(opMsg{msg: &socketio.Message{Kind: socketio.MessageText, Text: "t"}})), errBadOp},
		"ack reserved event":     {encodeOp(ack(opMsg{msg: ackEvent("", "disconnect")})), socketio.ErrReservedEvent},
		"ack args not JSON":      {encodeOp(ack(opMsg{msg: ackEvent("", "ask", `{"a"`)})), socketio.ErrInvalidMessage},
		"ack bad namespace":      {encodeOp(ack(opMsg{msg: ackEvent("chat", "ask")})), errBadOp},
		"ack bad broadcast":      {append(encodeOp(opMsg{typ: opAck, node: "n", wait: 1})[:3+1+2+1], 3, 'x', 'y', 'z'), errBadMessage},
		"ack trailing":           {append(encodeOp(ack(opMsg{})), 0), errBadOp},
		"ack other node":         {ackOtherNode(), errBadOp},
		"event flags":            {encodeOp(opMsg{typ: opServerEvent, flags: 1, node: "n", event: "e"}), errBadOp},
		"event request id":       {encodeOp(opMsg{typ: opServerEvent, id: 3, node: "n", event: "e"}), errBadOp},
		"event no name":          {encodeOp(opMsg{typ: opServerEvent, node: "n"}), socketio.ErrInvalidMessage},
		"event reserved":         {encodeOp(opMsg{typ: opServerEvent, node: "n", event: "connect"}), socketio.ErrReservedEvent},
		"event long name":        {encodeOp(opMsg{typ: opServerEvent, node: "n", event: strings.Repeat("e", socketio.MaxEventNameBytes+1)}), socketio.ErrInvalidMessage},
		"event not UTF-8":        {encodeOp(opMsg{typ: opServerEvent, node: "n", event: "\xff"}), socketio.ErrInvalidMessage},
		"event args not JSON":    {encodeOp(opMsg{typ: opServerEvent, node: "n", event: "e", args: raws(`nope`)}), socketio.ErrInvalidMessage},
		"event namespace":        {encodeOp(opMsg{typ: opServerEvent, node: "n", ns: "chat", event: "e"}), errBadOp},
		"event no node":          {encodeOp(opMsg{typ: opServerEvent, event: "e"}), errBadOp},
		"event too large":        {encodeOp(opMsg{typ: opServerEvent, node: "n", event: "e", args: raws(`"` + strings.Repeat("x", maxOpBytes) + `"`)}), ErrOpTooLarge},
		"fetch reply bad id":     {encodeOp(reply(opFetchReply, opMsg{sockets: []socketio.SocketInfo{{ID: "lobby"}}})), errBadOp},
		"fetch reply repeated":   {encodeOp(reply(opFetchReply, opMsg{sockets: []socketio.SocketInfo{{ID: sid('A')}, {ID: sid('A')}}})), errBadOp},
		"fetch reply id room":    {encodeOp(reply(opFetchReply, opMsg{sockets: []socketio.SocketInfo{{ID: sid('A'), Rooms: []string{sid('B')}}}})), errBadOp},
		"fetch reply user":       {encodeOp(reply(opFetchReply, opMsg{sockets: []socketio.SocketInfo{{ID: sid('A'), User: json.RawMessage(`{`)}}})), errBadOp},
		"fetch reply flags":      {encodeOp(reply(opFetchReply, opMsg{flags: opFlagGone})), errBadOp},
		"fetch reply count":      {binary.AppendUvarint([]byte{opVersion, opFetchReply, 0, 0, 1, 'n', 1, 'm', 0, 0}, 1<<40), errBadOp},
		"ack reply bad id":       {encodeOp(reply(opAckReply, opMsg{acks: []socketio.SocketAck{{ID: "lobby"}}})), errBadOp},
		"ack reply repeated":     {encodeOp(reply(opAckReply, opMsg{flags: opFlagDeadline, acks: []socketio.SocketAck{{ID: sid('A')}}, missing: []string{sid('A')}})), errBadOp},
		"ack reply args":         {encodeOp(reply(opAckReply, opMsg{acks: []socketio.SocketAck{{ID: sid('A'), Args: raws(`x`)}}})), errBadOp},
		"ack reply missing id":   {encodeOp(reply(opAckReply, opMsg{flags: opFlagDeadline, missing: []string{"lobby"}})), errBadOp},
		"ack reply no reason":    {encodeOp(reply(opAckReply, opMsg{missing: []string{sid('B')}})), errBadOp},
		"ack reply reason alone": {encodeOp(reply(opAckReply, opMsg{flags: opFlagGone})), errBadOp},
		"ack reply flags":        {encodeOp(reply(opAckReply, opMsg{flags: 0x40})), errBadOp},
		"ack reply count":        {binary.AppendUvarint([]byte{opVersion, opAckReply, 0, 0, 1, 'n', 1, 'm', 0, 0}, 1<<40), errBadOp},
		"ack reply no target":    {encodeOp(opMsg{typ: opAckReply, node: "n"}), errBadOp},
		"ack reply error":        {encodeOp(reply(opAckReply, opMsg{code: codeOther})), errBadOp},
		"partial missing":        {encodeOp(reply(opAckReply, opMsg{flags: opFlagPartial | opFlagDeadline, missing: []string{sid('B')}})), errBadOp},
		"partial truncated":      {encodeOp(reply(opAckReply, opMsg{flags: opFlagPartial | opFlagTruncated})), errBadOp},
		"partial error":          {encodeOp(reply(opAckReply, opMsg{flags: opFlagPartial, code: codeOther, text: "x"})), errBadOp},
		"partial fetch reply":    {encodeOp(reply(opFetchReply, opMsg{flags: opFlagPartial})), errBadOp},
	} {
		_, err := decodeOp(c.b)
		assert.ErrorIs(t, err, c.want, name)
	}
	// Truncated answers may list missing sockets without a reason.
	_, err := decodeOp(encodeOp(reply(opAckReply, opMsg{flags: opFlagTruncated, missing: []string{sid('B')}})))
	assert.NoError(t, err)
}

// ackOtherNode is an opAck whose broadcast names another node than the
// operation.
func ackOtherNode() []byte {
	inner := encodeMessage("m", socketio.BroadcastOptions{}, ackEvent("", "ask"))
	b := []byte{opVersion, opAck, 0, 0}
	b = appendString(b, "n")
	b = append(b, 100)
	return appendString(b, string(inner))
}

// An answer with acks stays within maxOpBytes: acks that do not fit are
// listed as missing and the answer says it was truncated.
func TestFitAcks(t *testing.T) {
	big := raws(`"` + strings.Repeat("x", maxOpBytes/2) + `"`)
	r := fitAcks(opMsg{typ: opAckReply, node: "n2", target: "n1",
		acks:    []socketio.SocketAck{{ID: sid('C'), Args: big}, {ID: sid('A'), Args: big}, {ID: sid('B'), Args: raws(`1`)}},
		missing: []string{sid('D')}, flags: opFlagDeadline})
	require.Len(t, r.acks, 2)
	assert.Equal(t, sid('A'), r.acks[0].ID, "in id order while they fit")
	assert.Equal(t, sid('B'), r.acks[1].ID, "a small one after a big one that did not fit")
	assert.Equal(t, []string{sid('C'), sid('D')}, r.missing)
	assert.NotZero(t, r.flags&opFlagTruncated)
	b := encodeOp(r)
	assert.LessOrEqual(t, len(b), maxOpBytes)
	got, err := decodeOp(b)
	require.NoError(t, err)
	assert.Equal(t, r, got)

	small := fitAcks(opMsg{typ: opAckReply, node: "n2", target: "n1", acks: []socketio.SocketAck{{ID: sid('B')}, {ID: sid('A')}}})
	assert.Zero(t, small.flags)
	assert.Equal(t, sid('A'), small.acks[0].ID)

	// More ids than an answer carries: as many as fit, truncated.
	many := opMsg{typ: opAckReply, node: "n2", target: "n1", flags: opFlagDeadline}
	for i := range maxOpBytes / 20 {
		many.missing = append(many.missing, idOf(i))
	}
	r = fitAcks(many)
	assert.NotZero(t, r.flags&opFlagTruncated)
	assert.Less(t, len(r.missing), len(many.missing))
	assert.LessOrEqual(t, len(encodeOp(r)), maxOpBytes)
}

// A Fetch answer stays within maxOpBytes: the sockets that do not fit
// are left out and the answer says it was truncated.
func TestFitSockets(t *testing.T) {
	user := json.RawMessage(`"` + strings.Repeat("u", 1000) + `"`)
	reply := opMsg{typ: opFetchReply, node: "n2", target: "n1"}
	for i := range 2000 {
		reply.sockets = append(reply.sockets, socketio.SocketInfo{ID: idOf(i), Rooms: []string{"lobby"}, User: user, Node: "n2"})
	}
	got := fitSockets(reply, replyBudget(reply))
	assert.NotZero(t, got.flags&opFlagTruncated)
	assert.Less(t, len(got.sockets), 2000)
	assert.Greater(t, len(got.sockets), 900)
	b := encodeOp(got)
	assert.LessOrEqual(t, len(b), maxOpBytes)
	m, err := decodeOp(b)
	require.NoError(t, err)
	assert.Equal(t, got.sockets, m.sockets, "Node is not carried: the answer's sender is")

	few := opMsg{typ: opFetchReply, node: "n2", target: "n1", sockets: reply.sockets[:3]}
	got = fitSockets(few, replyBudget(few))
	assert.Zero(t, got.flags)
	assert.Len(t, got.sockets, 3)
}

// idOf makes the i-th of distinct socket ids.
func idOf(i int) string {
	s := itoa36(i)
	return strings.Repeat("_", 20-len(s)) + s
}

func itoa36(i int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 36 {
		b = append([]byte{digits[i%36]}, b...)
	}
	return string(b)
}

// The other nodes wait a fifth less than the requester, within bounds.
func TestAckWait(t *testing.T) {
	for d, want := range map[time.Duration]uint64{
		2 * time.Second:        1600,
		100 * time.Millisecond: 50,
		10 * time.Second:       9000,
		5 * time.Millisecond:   1,
		-time.Second:           1,
		time.Hour:              uint64(maxAckWait / time.Millisecond),
	} {
		assert.Equal(t, want, ackWait(d), "%v", d)
	}
}
