package eioparser_test

import (
	"fmt"

	"github.com/siogo/siogo/internal/eioparser"
)

// A v4 polling POST body holding a text message, a binary message and a
// pong, decoded with the server's bounds; and the poll response that
// answers it.
func Example() {
	body := []byte("4hello\x1ebAQIDBA==\x1e3")
	packets, err := eioparser.DecodePayload(body, eioparser.Limits{MaxBytes: 1e6, MaxPackets: 100})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range packets {
		fmt.Println(p)
	}

	out, err := eioparser.AppendPayload(nil, []eioparser.Packet{
		{Type: eioparser.Message, Data: []byte("hi")},
		{Type: eioparser.Ping},
	})
	fmt.Printf("%q %v\n", out, err)

	_, err = eioparser.DecodePayload([]byte("4ok\x1e9"), eioparser.Limits{})
	fmt.Println(err)
	// Output:
	// message"hello"
	// message<binary 4 bytes>
	// pong
	// "4hi\x1e2" <nil>
	// packet 1 of the payload: eioparser: malformed input: unknown packet type '9'
}

// The same packets over WebSocket: one frame each, binary data raw.
func ExampleAppendFrame() {
	for _, p := range []eioparser.Packet{
		{Type: eioparser.Message, Data: []byte("hello")},
		{Type: eioparser.Message, Data: []byte{1, 2, 3}, Binary: true},
	} {
		frame, binary := eioparser.AppendFrame(nil, p)
		fmt.Printf("%q binary=%v\n", frame, binary)
	}
	// Output:
	// "4hello" binary=false
	// "\x01\x02\x03" binary=true
}

// Engine.IO v3 text payloads count UTF-16 code units.
func ExampleAppendPayloadV3() {
	out := eioparser.AppendPayloadV3(nil, []eioparser.Packet{
		{Type: eioparser.Message, Data: []byte("€")},
		{Type: eioparser.Message, Data: []byte{1, 2, 3, 4}, Binary: true},
	})
	fmt.Println(string(out))
	// Output: 2:4€10:b4AQIDBA==
}
