package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/siogo/siogo/acl"
	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/socketio"
)

// chatSession is one client's state in "/chat": Register makes one per
// socket, so its fields need no lock.
type chatSession struct {
	s    *socketio.Socket
	name string
}

// InitialACL: a new socket may only log in.
func (c *chatSession) InitialACL() acl.Set { return acl.Allow("login") }

// OnLogin handles "login".
func (c *chatSession) OnLogin(name string) (bool, error) {
	if name == "" {
		return false, errors.New("a name, please")
	}
	c.name = name
	c.s.LiftACL()
	return true, nil
}

// OnWhoAmI handles "who_am_i".
func (c *chatSession) OnWhoAmI() string { return c.name }

// Register the gevent-socketio way: a value per socket whose On<Name>
// methods handle the events.
func ExampleRegister() {
	srv := socketio.NewServer(socketio.Config{})
	defer srv.Close()
	err := socketio.Register(srv.Of("/chat"), func(s *socketio.Socket) *chatSession {
		return &chatSession{s: s}
	})
	if err != nil {
		log.Fatal(err)
	}
	web := httptest.NewServer(srv)
	defer web.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, web.URL+"/chat", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, call := range [][]any{{"login", ""}, {"login", "ada"}, {"who_am_i"}} {
		ack, err := c.EmitWithAck(ctx, call[0].(string), call[1:]...)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(call[0], string(ack[0]))
	}
	// Output:
	// login {"error":"a name, please"}
	// login true
	// who_am_i "ada"
}

type point struct{ X, Y int }

// Handle sets a typed handler checked by the compiler and called without
// reflection: the argument is decoded from JSON, the result is the ack.
func ExampleHandle() {
	srv := socketio.NewServer(socketio.Config{})
	defer srv.Close()
	err := socketio.Handle(srv.Sockets(), "norm1", func(s *socketio.Socket, p point) (int, error) {
		return max(p.X, -p.X) + max(p.Y, -p.Y), nil
	})
	if err != nil {
		log.Fatal(err)
	}
	web := httptest.NewServer(srv)
	defer web.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, web.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, arg := range []any{point{3, -4}, "not a point"} {
		ack, err := c.EmitWithAck(ctx, "norm1", arg)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(ack[0]))
	}
	// Output:
	// 7
	// {"error":"argument 0: json: cannot unmarshal string into Go value of type socketio_test.point"}
}
