package socketio

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/sioparser"
)

// decode4 decodes what the v4 codec made, as a 2.x client would.
func decode4(t *testing.T, buf []byte) sioparser.Packet { return decodeFrames(t, buf, true) }

func TestProto4Encodings(t *testing.T) {
	c := proto4Codec{}
	ev := &Message{Kind: MessageEvent, Event: "chat", Args: []json.RawMessage{json.RawMessage(`"hi"`)}}
	assert.Equal(t, `42["chat","hi"]`, string(c.message(ev, 0, false)))
	assert.Equal(t, `42/chat,3["x"]`, string(c.message(&Message{Namespace: "/chat", Kind: MessageEvent, Event: "x"}, 3, true)))
	assert.Equal(t, `42["message","t"]`, string(c.message(&Message{Kind: MessageText, Text: "t"}, 0, false)))
	assert.Equal(t, `43/a,5[]`, string(c.ack("/a", 5, nil, nil)))
	assert.Equal(t, `40`, string(c.connect("", "ignored")))
	assert.Equal(t, `40/chat,`, string(c.connect("/chat", "ignored")))
	assert.Equal(t, `41`, string(c.disconnect("")))
	assert.Equal(t, `41/chat,`, string(c.disconnect("/chat")))
	assert.Equal(t, `44/admin,"unauthorized"`, string(c.refusal("/admin", "unauthorized")))
	assert.Equal(t, `44/x,{"message":"Invalid namespace"}`, string(proto5Codec{}.connectError("/x", "Invalid namespace")))

	// Every packet decodes as a 2.x client reads it.
	for _, b := range [][]byte{c.connect("", ""), c.connect("/chat", ""), c.disconnect("/chat"), c.refusal("/admin", "unauthorized")} {
		decode4(t, b)
	}
	p := decode4(t, c.refusal("/admin", "no \"way\""))
	assert.Equal(t, sioparser.ConnectError, p.Type)
	assert.Equal(t, "/admin", p.Namespace)
	assert.JSONEq(t, `"no \"way\""`, string(p.Data))

	// Binary: the attachments are v3 binary messages.
	bin := &Message{Namespace: "/chat", Kind: MessageEvent, Event: "bin",
		Args:        []json.RawMessage{json.RawMessage(`{"_placeholder":true,"num":0}`), json.RawMessage(`1`)},
		Attachments: [][]byte{{1, 2, 3}}}
	assert.Equal(t, "451-/chat,[\"bin\",{\"_placeholder\":true,\"num\":0},1] | \xff\x04\x01\x02\x03", joinFrames(c.message(bin, 0, false)))
	p = decode4(t, c.message(bin, 9, true))
	assert.Equal(t, sioparser.BinaryEvent, p.Type)
	assert.Equal(t, uint64(9), p.ID)
	assert.Equal(t, [][]byte{{1, 2, 3}}, p.Attachments)
	p = decode4(t, c.ack("", 2, []json.RawMessage{json.RawMessage(`{"_placeholder":true,"num":0}`)}, [][]byte{{9}}))
	assert.Equal(t, sioparser.BinaryAck, p.Type)
	assert.Equal(t, [][]byte{{9}}, p.Attachments)
	// The v5 codec is unchanged by the sharing.
	assert.Equal(t, "451-/chat,[\"bin\",{\"_placeholder\":true,\"num\":0},1] | \xff\x01\x02\x03", joinFrames(proto5Codec{}.message(bin, 0, false)))

	// A broadcast encodes once per protocol.
	m := &Message{Kind: MessageEvent, Event: "e"}
	assert.Equal(t, `42["e"]`, string(m.encoded(proto4)))
	assert.Equal(t, `42["e"]`, string(m.encoded(proto5)))
}

// joinFrames shows a codec's output as the fake engine records a Send.
func joinFrames(buf []byte) string {
	var one [1][]byte
	out := ""
	for i, f := range splitFrames(buf, &one) {
		if i > 0 {
			out += " | "
		}
		out += string(f)
	}
	return out
}

func TestSockID4(t *testing.T) {
	eid := newSessionID()
	assert.Equal(t, eid, sockID4("", eid))
	assert.Equal(t, "/chat#"+eid, sockID4("/chat", eid))
	assert.True(t, IsSocketID(sockID4("/chat", eid)), "a 2.x socket's own room is reserved")
	assert.True(t, IsSocketID("/a/b#"+eid))
	assert.False(t, IsSocketID("chat#"+eid))
	assert.False(t, IsSocketID("/chat#"+eid[1:]))
	assert.False(t, IsSocketID("/chat#"+eid+"x"))
	assert.False(t, IsSocketID("/#"))
}

// open4 opens a v4 session (a 2.x client over Engine.IO v3) on srv over
// a fakeEIO.
func open4(t *testing.T, srv *Server, query string) (*session5, *fakeEIO) {
	t.Helper()
	c := &fakeEIO{id: newSessionID(), eio: 3}
	r := httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=3&transport=websocket&"+query, nil)
	sess, err := srv.open5(c, r)
	require.NoError(t, err)
	c.sess = sess
	return sess, c
}

func TestSession4ConnectsDefaultNamespaceImplicitly(t *testing.T) {
	srv := newServer5(t, Config{})
	connected := make(chan string, 1)
	srv.Sockets().OnConnect(func(s *Socket) {
		connected <- s.ID()
		_ = s.Emit("welcome", 1)
	})
	sess, c := open4(t, srv, "")
	assert.Equal(t, proto4, sess.protocol())
	assert.Equal(t, c.id, <-connected, "the default namespace's socket id is the engine id")
	c.waitExact(t, `40`)
	c.waitExact(t, `42["welcome",1]`)
	assert.Equal(t, "40", c.sent()[0], "the connect comes first")
	sock := srv.Sockets().Socket(c.id)
	require.NotNil(t, sock)
	assert.Nil(t, sock.Auth())
	assert.Equal(t, 1, srv.Stats().Protocols["eio3"])
	assert.Equal(t, 0, srv.Stats().Protocols["v5"])
	// The room of the socket is private.
	other, _ := open4(t, srv, "")
	assert.ErrorIs(t, srv.Sockets().Socket(other.ID()).Join(c.id), ErrReservedRoom)
}

func TestSession4Namespaces(t *testing.T) {
	srv := newServer5(t, Config{})
	var seen url.Values
	srv.Of("/chat")
	srv.Of("/private").Authorize(func(ctx context.Context, hs *Handshake, q url.Values) error {
		seen = q
		if q.Get("token") != "secret" {
			return ErrUnauthorized
		}
		return nil
	})
	sess, c := open4(t, srv, "hs=1")
	c.waitExact(t, "40")
	sess.OnMessage("0/nope,")
	c.waitExact(t, `44/nope,{"message":"Invalid namespace"}`)
	sess.OnMessage("0/private?token=bad,")
	c.waitExact(t, `44/private,"unauthorized"`)
	assert.Equal(t, "bad", seen.Get("token"))
	assert.Equal(t, "1", seen.Get("hs"), "the handshake query too, as for 0.9")
	sess.OnMessage("0/private?token=secret,")
	c.waitExact(t, `40/private,`)
	priv := srv.Of("/private").Socket("/private#" + c.id)
	require.NotNil(t, priv)
	assert.Nil(t, priv.Auth())
	sess.OnMessage("0/chat,")
	c.waitExact(t, `40/chat,`)
	chat := srv.Of("/chat").Socket("/chat#" + c.id)
	require.NotNil(t, chat)
	other, _ := open4(t, srv, "")
	other.OnMessage("0/chat,")
	require.Eventually(t, func() bool { return srv.Of("/chat").Socket("/chat#"+other.ID()) != nil }, 5*time.Second, time.Millisecond)
	assert.ErrorIs(t, srv.Of("/chat").Socket("/chat#"+other.ID()).Join(chat.ID()), ErrReservedRoom)
}

func TestSession4EventsAcksBinaryKick(t *testing.T) {
	srv := newServer5(t, Config{})
	reasons := make(chan string, 4)
	for _, name := range []string{"", "/chat"} {
		ns := srv.Of(name)
		require.NoError(t, ns.OnRaw("echo", func(s *Socket, args []json.RawMessage, ack AckFunc) {
			if ack != nil {
				_ = ack(ReconstructArgs(args, s.Attachments())...)
				return
			}
			_ = s.Emit("echo", ReconstructArgs(args, s.Attachments())...)
		}))
		require.NoError(t, ns.On("kick", func(s *Socket) { s.Disconnect() }))
		ns.OnDisconnect(func(s *Socket, reason string) { reasons <- s.Namespace().Name() + ":" + reason })
	}
	sess, c := open4(t, srv, "")
	c.waitExact(t, "40")
	sess.OnMessage(`21["echo",1]`)
	c.waitExact(t, `431[1]`)
	sess.OnMessage("0/chat,")
	c.waitExact(t, "40/chat,")
	sess.OnMessage(`2/chat,["echo","a"]`)
	c.waitExact(t, `42/chat,["echo","a"]`)
	// Binary in, binary out: the attachments as v3 binary messages.
	sess.OnMessage(`51-/chat,2["echo",{"_placeholder":true,"num":0}]`)
	sess.OnBinary([]byte{1, 2})
	c.waitExact(t, "461-/chat,2[{\"_placeholder\":true,\"num\":0}] | \xff\x04\x01\x02")
	sess.OnMessage(`51-["echo",{"_placeholder":true,"num":0}]`)
	sess.OnBinary([]byte{3})
	c.waitExact(t, "451-[\"echo\",{\"_placeholder\":true,\"num\":0}] | \xff\x04\x03")

	// The server asks, the client acks.
	sock := srv.Sockets().Socket(c.id)
	require.NotNil(t, sock)
	done := emitWithAckAsync(t, sock, "q", 1)
	c.waitExact(t, `421["q",1]`)
	sess.OnMessage(`31["ans"]`)
	assert.Equal(t, []json.RawMessage{json.RawMessage(`"ans"`)}, <-done)

	// Kick: DISCONNECT for the namespace, the session stays.
	sess.OnMessage(`2/chat,["kick"]`)
	c.waitExact(t, "41/chat,")
	assert.Equal(t, "/chat:"+ReasonBooted, <-reasons)
	assert.False(t, c.isClosed())
	// The client leaves the default namespace.
	sess.OnMessage("1")
	assert.Equal(t, ":"+ReasonPacket, <-reasons)
}

// An EIO=3 request reaches the engine through ServeHTTP: the Engine.IO
// v3 handshake, then the server's own "40" for the default namespace.
func TestServeHTTPEIO3(t *testing.T) {
	srv := newServer5(t, Config{})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/socket.io/?EIO=3&transport=polling")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `:0{"sid":"`)
	assert.True(t, strings.HasSuffix(string(body), "2:40"), "%q", body)
	assert.Equal(t, 1, srv.Stats().Protocols["eio3"])
	assert.Len(t, srv.Sockets().Sockets(), 1)
}
