package main

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"

	"github.com/siogo/siogo/acl"
	"github.com/siogo/siogo/socketio"
)

// setup registers the testapp contract (TESTAPP.md) on srv.
func setup(srv *socketio.Server) {
	for _, name := range []string{"", "/chat", "/private", "/acl"} {
		register(srv.Of(name))
	}
	srv.Of("/private").Authorize(func(ctx context.Context, hs *socketio.Handshake, q url.Values) error {
		// 0.9: the handshake query; v5 clients: it or the CONNECT auth;
		// 2.x clients (EIO=3): it or the namespace's query
		// ("/private?token=secret"), which q holds merged with it.
		var auth struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(socketio.ConnectAuth(ctx), &auth)
		v2 := hs.Query.Get("EIO") == "3" && q.Get("token") == "secret"
		if hs.Query.Get("token") != "secret" && auth.Token != "secret" && !v2 {
			return socketio.ErrUnauthorized
		}
		return nil
	})
	aclNS := srv.Of("/acl")
	aclNS.SetInitialACL(acl.Allow("login", "echo"))
	must(aclNS.On("login", func(s *socketio.Socket, password string) bool {
		if password == "letmein" {
			s.LiftACL()
			return true
		}
		return false
	}))
	must(aclNS.On("secret", func(s *socketio.Socket) string { return "s3cret" }))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// raw turns the raw JSON args of the event (or ack) s is handling into
// emit arguments, binary arguments (v5 clients) as binary.
func raw(s *socketio.Socket, args []json.RawMessage) []any {
	return socketio.ReconstructArgs(args, s.Attachments())
}

func register(ns *socketio.Namespace) {
	must(ns.OnRaw("echo", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		if ack != nil {
			_ = ack(raw(s, args)...)
			return
		}
		_ = s.Emit("echo", raw(s, args)...)
	}))
	ns.OnMessage(func(s *socketio.Socket, text string, ack socketio.AckFunc) {
		_ = s.Send(text)
	})
	ns.OnJSON(func(s *socketio.Socket, v json.RawMessage, ack socketio.AckFunc) {
		_ = s.SendJSON(v)
	})
	// v5 clients: a socket.send with several or binary arguments (the
	// "message" event OnMessage and OnJSON do not take) comes back the
	// same, as socket.send in socket.io 4 sends it.
	ns.OnUnhandled(func(s *socketio.Socket, event string, args []json.RawMessage, ack socketio.AckFunc) {
		if event == "message" {
			_ = s.Emit("message", raw(s, args)...)
		}
	})
	must(ns.On("join", func(s *socketio.Socket, room string) bool {
		return s.Join(room) == nil
	}))
	must(ns.On("leave", func(s *socketio.Socket, room string) bool {
		return s.Leave(room) == nil
	}))
	must(ns.OnRaw("to-room", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		room, rest, ok := roomArg(args)
		if ok {
			_ = ns.To(room).Emit("room", raw(s, rest)...)
		}
	}))
	must(ns.OnRaw("broadcast-room", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		room, rest, ok := roomArg(args)
		if ok {
			_ = s.Broadcast().To(room).Emit("room", raw(s, rest)...)
		}
	}))
	must(ns.OnRaw("broadcast", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		_ = s.Broadcast().Emit("broadcast", raw(s, args)...)
	}))
	must(ns.OnRaw("everyone", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		_ = ns.Emit("everyone", raw(s, args)...)
	}))
	must(ns.OnRaw("ask", func(s *socketio.Socket, args []json.RawMessage, ack socketio.AckFunc) {
		name, rest, ok := roomArg(args)
		if !ok {
			return
		}
		_ = s.EmitWithAckFunc(name, func(answer []json.RawMessage) {
			_ = s.Emit("answer", raw(s, answer)...)
		}, raw(s, rest)...)
	}))
	must(ns.On("kick", func(s *socketio.Socket) { s.Disconnect() }))
	must(ns.On("auth", func(s *socketio.Socket) json.RawMessage {
		if a := s.Auth(); a != nil {
			return a
		}
		return json.RawMessage("null")
	}))
	must(ns.On("burst", func(s *socketio.Socket, n int) {
		for i := 0; i < n; i++ {
			_ = s.Emit("burst", i)
		}
	}))
	must(ns.On("volatile", func(s *socketio.Socket, n int) {
		for i := 0; i < n; i++ {
			_ = s.Volatile().Emit("volatile", i)
		}
	}))
	must(ns.On("handshake", func(s *socketio.Socket) map[string]any {
		q := map[string]string{}
		for k, v := range s.Handshake().Query {
			if len(v) > 0 {
				q[k] = v[0]
			}
		}
		return map[string]any{"query": q}
	}))
	must(ns.On("rooms", func(s *socketio.Socket) []string {
		rooms, _ := s.Rooms()
		sort.Strings(rooms)
		return rooms
	}))
	must(ns.On("count", func(s *socketio.Socket, room string) int {
		ids, _ := ns.Clients(room)
		return len(ids)
	}))
	must(ns.On("set", func(s *socketio.Socket, key string, value json.RawMessage) bool {
		s.Set(key, value)
		return true
	}))
	must(ns.On("get", func(s *socketio.Socket, key string) any {
		v, ok := s.Get(key)
		if !ok {
			return nil
		}
		return v
	}))
	must(ns.On("watch", func(s *socketio.Socket) bool {
		return s.Join("watchers") == nil
	}))
	ns.OnDisconnect(func(s *socketio.Socket, reason string) {
		_ = ns.To("watchers").Emit("gone", s.ID())
	})
	registerCluster(ns)
}

// roomArg splits args into a leading string and the rest.
func roomArg(args []json.RawMessage) (string, []json.RawMessage, bool) {
	if len(args) == 0 {
		return "", nil, false
	}
	var first string
	if err := json.Unmarshal(args[0], &first); err != nil {
		return "", nil, false
	}
	return first, args[1:], true
}
