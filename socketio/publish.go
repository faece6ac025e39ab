package socketio

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/siogo/siogo/internal/lazylog"
)

// Pushes from outside the sessions: Server.Publish, the Publisher
// interface that package sioredis's Emitter implements too, and the HTTP
// publish API over any Publisher (NewPublishHandler).

// ErrUnknownNamespace is returned by Server.Publish for a namespace that
// the server has not made (Server.Of).
var ErrUnknownNamespace = errors.New("socketio: unknown namespace")

// PublishRequest is one push from outside: the JSON body of the publish
// API (NewPublishHandler), and what a Publisher publishes.
type PublishRequest struct {
	// Namespace is the namespace's name ("" or "/" for the default).
	Namespace string `json:"namespace"`
	// Rooms limits the receivers to members of any of these rooms (or
	// socket ids); empty means the whole namespace.
	Rooms []string `json:"rooms,omitempty"`
	// Except lists socket ids (or rooms) that must not receive it.
	Except []string `json:"except,omitempty"`
	// Event is the event's name, as for Namespace.Emit.
	Event string `json:"event"`
	// Args are the event's arguments, each a JSON value.
	Args []json.RawMessage `json:"args,omitempty"`
}

// Publisher publishes pushes from outside the sessions: Server (through
// its adapters, so cluster-wide with a cluster adapter) and the Redis
// emitter of package sioredis, which needs no server.
type Publisher interface {
	Publish(ctx context.Context, r PublishRequest) error
}

var _ Publisher = (*Server)(nil)

// Publish implements Publisher: it emits r.Event with r.Args to the
// selected sockets of r.Namespace, as ns.To(rooms...).Except(ids...).Emit
// does. The namespace must exist (Of); otherwise ErrUnknownNamespace. An
// invalid event name or an argument that is not JSON fails with an error
// wrapping ErrInvalidMessage.
//
// The namespace is named as for Of ("chat" is "/chat"), and "/" is the
// default namespace, "". Each room and excepted id must be non-empty and,
// unless it has the socket-id format (IsSocketID), at most
// Config.MaxRoomNameBytes long, else the error wraps ErrInvalidMessage
// (and ErrRoomNameTooLong for a long one). With a cluster adapter the
// push reaches every node, as any broadcast does; like Emit, Publish does
// not wait for Redis, so while Redis is down it succeeds and the push
// reaches this node's sockets only (package sioredis counts it in
// Stats().Dropped). r's slices are copied: the caller may reuse them.
func (s *Server) Publish(ctx context.Context, r PublishRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name := publishNamespace(r.Namespace)
	ns := s.namespace(name)
	if ns == nil {
		return fmt.Errorf("%w: %q", ErrUnknownNamespace, clipName(r.Namespace))
	}
	m, opts, err := publishMessage(name, r, ns.opts.MaxRoomNameBytes)
	if err != nil {
		return err
	}
	return ns.adapter.Broadcast(m, opts)
}

// NewPublishMessage checks r and makes the Message and the selection
// that publish it, as Server.Publish does: the namespace named as for Of
// ("chat" is "/chat", "/" is the default ""), an event name the server
// may send, arguments that are valid JSON (copied: the caller may reuse
// r), rooms and excepted ids not empty and, unless of the socket-id
// format, at most maxRoomBytes long (<= 0: no bound). Errors wrap
// ErrInvalidMessage (and ErrReservedEvent or ErrRoomNameTooLong where
// that is the reason). It is for Publishers other than Server (package
// sioredis's Emitter); the Message may be completed (Attachments) before
// it is handed on.
func NewPublishMessage(r PublishRequest, maxRoomBytes int) (*Message, BroadcastOptions, error) {
	return publishMessage(publishNamespace(r.Namespace), r, maxRoomBytes)
}

// publishNamespace is the namespace a PublishRequest names.
func publishNamespace(name string) string {
	switch {
	case name == "" || name == "/":
		return ""
	case !strings.HasPrefix(name, "/"):
		return "/" + name
	}
	return name
}

// publishMessage is NewPublishMessage in namespace ns.
func publishMessage(ns string, r PublishRequest, maxRoom int) (*Message, BroadcastOptions, error) {
	if err := checkEventName(r.Event); err != nil {
		return nil, BroadcastOptions{}, invalid(err)
	}
	var opts BroadcastOptions
	var err error
	if opts.Rooms, err = publishRooms(r.Rooms, "room", maxRoom); err != nil {
		return nil, opts, err
	}
	if opts.Except, err = publishRooms(r.Except, "excepted id", maxRoom); err != nil {
		return nil, opts, err
	}
	m := &Message{Namespace: ns, Kind: MessageEvent, Event: r.Event}
	if len(r.Args) > 0 {
		n := 0
		for i, a := range r.Args {
			if !json.Valid(a) {
				return nil, opts, fmt.Errorf("%w: argument %d is not valid JSON", ErrInvalidMessage, i)
			}
			n += len(a)
		}
		// One copy of every argument: the Message outlives the call.
		buf := make([]byte, 0, n)
		m.Args = make([]json.RawMessage, len(r.Args))
		for i, a := range r.Args {
			buf = append(buf, a...)
			m.Args[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
		}
	}
	return m, opts, nil
}

// publishRooms checks and copies the rooms (or excepted ids) of a
// PublishRequest; nil for none.
func publishRooms(rooms []string, what string, maxRoom int) ([]string, error) {
	if len(rooms) == 0 {
		return nil, nil
	}
	for i, r := range rooms {
		if err := checkPublishRoom(r, maxRoom); err != nil {
			return nil, fmt.Errorf("%s %d: %w", what, i, err)
		}
	}
	return append([]string(nil), rooms...), nil
}

// checkPublishRoom checks a room (or socket id) a push selects or
// excepts.
func checkPublishRoom(room string, maxRoom int) error {
	if room == "" {
		return fmt.Errorf("%w: empty room name", ErrInvalidMessage)
	}
	if maxRoom > 0 && len(room) > maxRoom && !IsSocketID(room) {
		return fmt.Errorf("%w: %w: %d bytes, at most %d", ErrInvalidMessage, ErrRoomNameTooLong, len(room), maxRoom)
	}
	return nil
}

// invalid makes err (a refused event name) wrap ErrInvalidMessage.
func invalid(err error) error {
	if errors.Is(err, ErrInvalidMessage) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrInvalidMessage, err)
}

// MarshalArgs encodes emit arguments as Emit does: a json.RawMessage as
// it is (if valid), a []byte — at the top or inside a []any or
// map[string]any — as a binary attachment whose place in its argument
// holds the placeholder {"_placeholder":true,"num":N}, anything else with
// json.Marshal. It returns the arguments and the attachments (nil for
// none): the Args and Attachments of a Message. It is for publishers that
// build Messages without a Server (package sioredis's Emitter).
func MarshalArgs(args ...any) ([]json.RawMessage, [][]byte, error) {
	return marshalArgsBin(args)
}

// PublishConfig configures NewPublishHandler.
type PublishConfig struct {
	// Token is the bearer token a request must carry
	// ("Authorization: Bearer <Token>"); required.
	Token string
	// MaxBodyBytes bounds a request's body (default 1 MiB); a larger one
	// gets 413.
	MaxBodyBytes int64
	// Logger receives the handler's logs (refused requests at Info,
	// publisher failures at Warn). Zero means the server's logger when
	// the Publisher is a *Server, else slog.Default().
	Logger *slog.Logger
}

// DefaultMaxPublishBytes is the default PublishConfig.MaxBodyBytes.
const DefaultMaxPublishBytes = 1 << 20

// NewPublishHandler returns the HTTP publish API over p: POST a JSON
// PublishRequest with the bearer token; 202 once p accepted it, 401 for a
// missing or wrong token, 400 for a malformed body or request, 405 for
// another method. It fails if Token is empty.
//
// In detail: a method other than POST gets 405 with "Allow: POST"; a
// request without "Authorization: Bearer <Token>" (the scheme's case
// ignored, the token compared in constant time) 401 with
// "WWW-Authenticate: Bearer"; a body over MaxBodyBytes 413. The body is
// one JSON object decoded strictly: an unknown field, a field of the
// wrong type (args must be an array), trailing data after the object or
// anything but an object get 400. A request p refuses as invalid
// (ErrInvalidMessage: a bad event name, room or argument) or for an
// unknown namespace (ErrUnknownNamespace) gets 400 too; every 400 and 413
// carries a short plain-text reason. Any other error of p (Redis
// unreachable, say) gets 503. The body's Content-Type is not checked.
//
//	curl -X POST -H 'Authorization: Bearer T' \
//	  -d '{"namespace":"/chat","rooms":["r"],"event":"pushed","args":[{"n":1}]}' \
//	  http://localhost:8080/publish
func NewPublishHandler(p Publisher, cfg PublishConfig) (http.Handler, error) {
	if p == nil {
		return nil, errors.New("socketio: NewPublishHandler needs a Publisher")
	}
	if cfg.Token == "" {
		return nil, errors.New("socketio: PublishConfig.Token is required")
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("socketio: PublishConfig.MaxBodyBytes %d is negative", cfg.MaxBodyBytes)
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxPublishBytes
	}
	log := cfg.Logger
	if log == nil {
		if s, ok := p.(*Server); ok {
			log = s.log
		} else {
			log = slog.Default()
		}
	}
	return &publishHandler{p: p, token: sha256.Sum256([]byte(cfg.Token)), max: cfg.MaxBodyBytes, log: log}, nil
}

type publishHandler struct {
	p     Publisher
	token [sha256.Size]byte // of the token: comparing digests hides its length
	max   int64
	log   *slog.Logger
}

func (h *publishHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plain(w, http.StatusMethodNotAllowed, "method not allowed: POST only\n")
		return
	}
	if !h.authorized(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		plain(w, http.StatusUnauthorized, "unauthorized\n")
		h.log.Info("publish unauthorized", "address", r.RemoteAddr)
		return
	}
	if r.ContentLength > h.max {
		h.tooLarge(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.max))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			h.tooLarge(w, r)
			return
		}
		plain(w, http.StatusBadRequest, "cannot read the body\n")
		h.log.Info("publish body unreadable", "address", r.RemoteAddr, "err", err)
		return
	}
	req, err := decodePublishRequest(body)
	if err != nil {
		plain(w, http.StatusBadRequest, "malformed body: "+lazylog.Clip(err.Error())+"\n")
		h.log.Info("publish malformed body", "address", r.RemoteAddr, "err", lazylog.ClientErr(err))
		return
	}
	if err := h.p.Publish(r.Context(), req); err != nil {
		if errors.Is(err, ErrInvalidMessage) || errors.Is(err, ErrUnknownNamespace) {
			plain(w, http.StatusBadRequest, "refused: "+lazylog.Clip(err.Error())+"\n")
			h.log.Info("publish refused", "address", r.RemoteAddr, "namespace", lazylog.Client(req.Namespace),
				"event", lazylog.Client(req.Event), "err", lazylog.ClientErr(err))
			return
		}
		plain(w, http.StatusServiceUnavailable, "cannot publish now\n")
		h.log.Warn("publish failed", "address", r.RemoteAddr, "namespace", lazylog.Client(req.Namespace),
			"event", lazylog.Client(req.Event), "err", lazylog.ClientErr(err))
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (h *publishHandler) tooLarge(w http.ResponseWriter, r *http.Request) {
	plain(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body too large: at most %d bytes\n", h.max))
	h.log.Info("publish body too large", "address", r.RemoteAddr, "max", h.max)
}

// authorized tells whether an Authorization header carries the token:
// "Bearer" (any case), spaces, the token.
func (h *publishHandler) authorized(v string) bool {
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimLeft(token, " ")))
	return subtle.ConstantTimeCompare(got[:], h.token[:]) == 1
}

// decodePublishRequest decodes a publish API body strictly: one JSON
// object with the fields of PublishRequest only, each of its type, and
// nothing after it but white space.
func decodePublishRequest(b []byte) (PublishRequest, error) {
	var req PublishRequest
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return req, errors.New("the body is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return PublishRequest{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return PublishRequest{}, errors.New("data after the JSON object")
	}
	return req, nil
}
