package sioredis_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/siogo/siogo/sioredis"
	"github.com/siogo/siogo/socketio"
)

// Each node of an application behind a load balancer runs this: rooms and
// broadcasts are shared through Redis (Config.Adapter), and requests for
// another node's session are forwarded to it (Config.Sessions and
// NodeAddr), so the balancer need not be sticky. (Not run: it needs a
// Redis server.)
func ExampleNew() {
	cluster, err := sioredis.New(sioredis.Config{
		Addr:     "127.0.0.1:6379",
		Password: os.Getenv("REDIS_PASSWORD"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	srv := socketio.NewServer(socketio.Config{
		Adapter:  cluster.Adapter,
		Sessions: cluster,
		NodeAddr: "10.0.0.7:8080", // where the other nodes reach this one
	})
	chat := srv.Of("/chat")
	chat.OnConnect(func(s *socketio.Socket) { _ = s.Join("lobby") })
	if err := chat.On("say", func(s *socketio.Socket, text string) {
		// Reaches the room's sockets on every node.
		_ = s.To("lobby").Emit("said", s.ID(), text)
	}); err != nil {
		log.Fatal(err)
	}
	web := &http.Server{Addr: ":8080", Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // clients reconnect to the other nodes
		_ = web.Shutdown(ctx)
	}()
	if err := web.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// A process that runs no server — a cron job, a queue worker — pushes to
// the sockets of every node through the nodes' Redis. Emit returns once
// Redis has taken the message. (Not run: it needs a Redis server.)
func ExampleEmitter() {
	e, err := sioredis.NewEmitter(sioredis.Config{Addr: "127.0.0.1:6379"}) // the nodes' Prefix, if not the default
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// To the room "lobby" of /chat, but one socket; the []byte reaches v5
	// clients as binary, 0.9 clients as base64.
	err = e.Of("/chat").To("lobby").Except("Jk2ZmTn5v9XGm2vTAAAB").Emit(ctx, "news", map[string]string{"title": "hi"}, []byte{0xca, 0xfe})
	if err != nil {
		log.Print(err) // errors.Is(err, sioredis.ErrUnavailable): Redis did not take it
	}
	// The same through the socketio.Publisher interface, or behind the
	// HTTP publish API: socketio.NewPublishHandler(e, ...).
	_ = e.Publish(ctx, socketio.PublishRequest{Namespace: "/chat", Rooms: []string{"lobby"}, Event: "news"})
}
