package sioredis

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/siogo/siogo/packet"
	"github.com/siogo/siogo/socketio"
)

// A broadcast travels through Redis as one binary message:
//
//	version (1 byte, msgVersion)
//	flags   (1 byte, bit 0: volatile)
//	node id, namespace: uvarint length + bytes each
//	rooms, except: uvarint count, then uvarint length + bytes each
//	frame:  the rest, the encoded Socket.IO packet, untouched
//
// Binary rather than JSON so that the frame is carried byte for byte (a
// Message packet may hold any bytes) and is not escaped twice.
const msgVersion = 1

const flagVolatile = 1

var (
	errBadMessage = errors.New("redis: malformed cluster message")
	errBadFrame   = errors.New("redis: cluster message carries a packet no broadcast makes")
)

// message is a decoded broadcast.
type message struct {
	node  string
	ns    string
	opts  socketio.BroadcastOptions
	frame []byte
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// encodeMessage encodes a broadcast of frame with opts by node in ns.
func encodeMessage(node, ns string, opts socketio.BroadcastOptions, frame []byte) []byte {
	n := 2 + 2*binary.MaxVarintLen64 + len(node) + len(ns) + len(frame) + 2*binary.MaxVarintLen64
	for _, r := range opts.Rooms {
		n += binary.MaxVarintLen64 + len(r)
	}
	for _, e := range opts.Except {
		n += binary.MaxVarintLen64 + len(e)
	}
	b := make([]byte, 0, n)
	var flags byte
	if opts.Volatile {
		flags |= flagVolatile
	}
	b = append(b, msgVersion, flags)
	b = appendString(b, node)
	b = appendString(b, ns)
	b = appendStrings(b, opts.Rooms)
	b = appendStrings(b, opts.Except)
	return append(b, frame...)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadMessage
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errBadMessage
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) strings() []string {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	// Every string takes at least one byte (its length), which bounds the
	// allocation a hostile count could ask for.
	if n > uint64(len(r.b)) {
		r.err = errBadMessage
		return nil
	}
	out := make([]string, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		out = append(out, r.string())
	}
	return out
}

// decodeMessage decodes a message made by encodeMessage. It never panics;
// anything malformed is errBadMessage. The frame aliases b.
func decodeMessage(b []byte) (message, error) {
	if len(b) < 2 || b[0] != msgVersion {
		return message{}, errBadMessage
	}
	var m message
	m.opts.Volatile = b[1]&flagVolatile != 0
	r := reader{b: b[2:]}
	m.node = r.string()
	m.ns = r.string()
	m.opts.Rooms = r.strings()
	m.opts.Except = r.strings()
	if r.err != nil {
		return message{}, r.err
	}
	m.frame = r.b
	return m, nil
}

// checkFrame tells whether a decoded broadcast carries what an Emitter of
// namespace ns makes: one message, JSON or event packet of that namespace
// (endpoint ns), asking for no ack. Anything else — a disconnect or
// connect packet, an error, an ack, a packet of another namespace, bytes
// that are no packet — did not come from a siogo node (someone else wrote
// to the channel) and must not reach clients.
func checkFrame(ns string, frame []byte) error {
	p, err := packet.Decode(string(frame))
	if err != nil {
		return fmt.Errorf("%w: %w", errBadFrame, err)
	}
	switch {
	case p.Type != packet.Message && p.Type != packet.JSON && p.Type != packet.Event:
		return fmt.Errorf("%w: a %s packet", errBadFrame, p.Type)
	case p.HasID:
		return fmt.Errorf("%w: it asks for an ack", errBadFrame)
	case p.Endpoint != ns:
		return fmt.Errorf("%w: endpoint differs from the namespace", errBadFrame)
	}
	return nil
}
