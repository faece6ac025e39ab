package packet_test

import (
	"fmt"
	"log"

	"github.com/siogo/siogo/packet"
)

// An event packet with an ack id asking for data, as socket.io.js sends
// socket.emit("say", "hi", fn) in the namespace /chat.
func ExampleDecode() {
	p, err := packet.Decode(`5:1+:/chat:{"name":"say","args":["hi"]}`)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Type == packet.Event, p.ID, p.AckData, p.Endpoint, p.Name, string(p.Args[0]))
	ack := packet.Packet{Type: packet.Ack, Endpoint: p.Endpoint, AckID: p.ID, Args: p.Args}
	fmt.Println(packet.Encode(&ack))
	// Output:
	// true 1 true /chat say "hi"
	// 6::/chat:1+["hi"]
}
