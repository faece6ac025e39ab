package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/socketio"
)

// Dial connects to a Socket.IO 0.9 server (here an in-process siogo
// server whose "add" event acknowledges with the sum), and EmitWithAck
// waits for the server's acknowledgement.
func ExampleDial() {
	srv := socketio.NewServer(socketio.Config{})
	if err := srv.Sockets().On("add", func(s *socketio.Socket, a, b int) int { return a + b }); err != nil {
		log.Fatal(err)
	}
	web := httptest.NewServer(srv)
	defer web.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, web.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ack, err := c.EmitWithAck(ctx, "add", 2, 3)
	if err != nil {
		log.Fatal(err)
	}
	var sum int
	if err := json.Unmarshal(ack[0], &sum); err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Transport(), sum)
	// Output: websocket 5
}

// With ProtocolV5 the client speaks to Socket.IO 3.x/4.x servers
// (Engine.IO v4): here a socket.io 4 server whose /admin namespace checks
// the CONNECT auth payload and whose "thumbnail" event acks with bytes.
func ExampleDial_protocolV5() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "http://localhost:3000/admin", &client.Options{
		Protocol: client.ProtocolV5,
		Auth:     map[string]string{"token": "secret"},
	})
	var ce *client.ConnectError
	if errors.As(err, &ce) {
		log.Fatalf("refused: %s", ce.Message) // the server's next(new Error(...))
	}
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("socket id", c.Namespace().ID())
	// []byte arguments travel as binary attachments, and come back into
	// []byte parameters or fields.
	ack, err := c.EmitWithAck(ctx, "thumbnail", []byte{0x89, 'P', 'N', 'G'})
	if err != nil {
		log.Fatal(err)
	}
	var img []byte
	if err := json.Unmarshal(ack[0], &img); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(img), "bytes")
}
