package socketio_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
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
