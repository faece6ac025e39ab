package client_test

import (
	"context"
	"encoding/json"
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
