package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/socketio"
)

// A chat namespace: every socket joins the room "lobby"; "say" is
// broadcast to the room (the sender excepted) and acknowledged with true.
// The Go client here stands in for a browser running socket.io.js 0.9.
func Example() {
	srv := socketio.NewServer(socketio.Config{})
	chat := srv.Of("/chat")
	chat.OnConnect(func(s *socketio.Socket) {
		if err := s.Join("lobby"); err != nil {
			s.Disconnect()
		}
	})
	// Arguments are decoded from JSON; the results become the ack.
	if err := chat.On("say", func(s *socketio.Socket, text string) bool {
		_ = s.To("lobby").Emit("said", s.ID(), text)
		return true
	}); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	web := httptest.NewServer(mux)
	defer web.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, web.URL+"/chat", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ack, err := c.EmitWithAck(ctx, "say", "hello")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(ack[0]))
	// Output: true
}

// Shutdown stops taking new sessions, disconnects the sockets (their
// clients see the disconnect packet) and waits for the handlers to return.
func ExampleServer_Shutdown() {
	srv := socketio.NewServer(socketio.Config{})
	srv.Sockets().OnDisconnect(func(s *socketio.Socket, reason string) {
		fmt.Println("disconnected:", reason)
	})
	web := httptest.NewServer(srv)
	defer web.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, web.URL, &client.Options{NoReconnect: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := srv.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	<-c.Done()
	fmt.Println("sessions left:", srv.SessionCount())
	// Output:
	// disconnected: server shutdown
	// sessions left: 0
}

// Config.Authorize decides on the handshake and returns who the client
// is; every socket of the session reads it as Handshake().User, and a
// namespace's own authorization sees it too.
func ExampleConfig_authorize() {
	type user struct{ Name string }
	tokens := map[string]*user{"t1": {Name: "ann"}}
	srv := socketio.NewServer(socketio.Config{
		Authorize: func(ctx context.Context, hs *socketio.Handshake) (any, error) {
			u, ok := tokens[hs.Query.Get("token")]
			if !ok {
				return nil, socketio.ErrUnauthorized // 403: the client sees "handshake unauthorized"
			}
			return u, nil
		},
	})
	admin := srv.Of("/admin")
	admin.Authorize(func(ctx context.Context, hs *socketio.Handshake, query url.Values) error {
		if hs.User.(*user).Name != "root" {
			return socketio.ErrUnauthorized
		}
		return nil
	})
	if err := srv.Sockets().On("whoami", func(s *socketio.Socket) string {
		return s.Handshake().User.(*user).Name
	}); err != nil {
		log.Fatal(err)
	}
	web := httptest.NewServer(srv)
	defer web.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.Dial(ctx, web.URL+"/?token=bad", &client.Options{NoReconnect: true}); errors.Is(err, client.ErrUnauthorized) {
		fmt.Println("bad token refused")
	}
	c, err := client.Dial(ctx, web.URL+"/?token=t1", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ack, err := c.EmitWithAck(ctx, "whoami")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(ack[0]))
	if err := c.Of("/admin").WaitConnected(ctx); errors.Is(err, client.ErrUnauthorized) {
		fmt.Println("/admin refused")
	}
	// Output:
	// bad token refused
	// "ann"
	// /admin refused
}
