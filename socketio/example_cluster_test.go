package socketio_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/socketio"
)

// A poll of the players in a room: every receiver is asked for an ack,
// and the answers (and who did not answer in time) come back together.
// The two Go clients stand in for browsers, one speaking Socket.IO 0.9
// and one Socket.IO v5 (socket.io-client 4.x); with a cluster adapter
// (package sioredis) the players may be on any node.
func ExampleSelection_EmitWithAck() {
	srv := socketio.NewServer(socketio.Config{})
	game := srv.Of("/game")
	joined := make(chan struct{}, 2)
	game.OnConnect(func(s *socketio.Socket) {
		if s.Join("players") == nil {
			joined <- struct{}{}
		}
	})
	web := httptest.NewServer(srv)
	defer web.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, proto := range []client.Protocol{client.Protocol09, client.ProtocolV5} {
		c, err := client.Dial(ctx, web.URL+"/game", &client.Options{Protocol: proto,
			OnConnect: func(ns *client.Namespace) {
				// The handler's results are the ack.
				_ = ns.On("vote", func(question string) (string, int) { return "yes", i })
			}})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		<-joined
	}

	pollCtx, stop := context.WithTimeout(ctx, 2*time.Second) // how long the poll waits
	defer stop()
	res, err := game.To("players").EmitWithAck(pollCtx, "vote", "more time?")
	if err != nil {
		log.Fatal(err) // it would wrap context.DeadlineExceeded, res.Missing saying who
	}
	total := 0
	for _, a := range res.Acks {
		var n int
		_, _ = fmt.Sscan(string(a.Args[1]), &n)
		total += n
		fmt.Println(string(a.Args[0]))
	}
	fmt.Println("missing:", len(res.Missing), "sum:", total)
	// Output:
	// "yes"
	// "yes"
	// missing: 0 sum: 1
}

// Fetch describes the selected sockets, with their rooms and the user
// Config.Authorize gave their session (as JSON), and acts on each.
func ExampleSelection_Fetch() {
	srv := socketio.NewServer(socketio.Config{
		Authorize: func(ctx context.Context, hs *socketio.Handshake) (any, error) {
			return map[string]string{"name": hs.Query.Get("name")}, nil
		},
	})
	joined := make(chan struct{}, 1)
	srv.Sockets().OnConnect(func(s *socketio.Socket) {
		if s.Join("admins") == nil && s.Join("staff") == nil {
			joined <- struct{}{}
		}
	})
	web := httptest.NewServer(srv)
	defer web.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, web.URL+"/?name=ann", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	<-joined

	admins, err := srv.Sockets().To("admins").Fetch(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range admins {
		fmt.Println(string(a.User), a.Rooms)
		if err := a.Leave(ctx, "admins"); err != nil { // wherever it is connected
			log.Fatal(err)
		}
	}
	left, _ := srv.Sockets().To("admins").SocketIDs(ctx)
	fmt.Println("admins left:", len(left))
	// Output:
	// {"name":"ann"} [admins staff]
	// admins left: 0
}
