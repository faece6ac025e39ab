package sioparser_test

import (
	"fmt"

	"github.com/siogo/siogo/internal/sioparser"
)

// An emit with a []byte argument: the payload with a placeholder, the
// text frame, then the attachment as a binary frame.
func ExampleAppendValue() {
	data, att, err := sioparser.AppendValue(nil, []any{"upload", "a.bin", []byte{1, 2, 3}}, nil)
	if err != nil {
		panic(err)
	}
	p := sioparser.Packet{Type: sioparser.BinaryEvent, Namespace: "/files", ID: 7, HasID: true, Data: data, Attachments: att}
	text, err := sioparser.Encode(&p)
	fmt.Println(text, err)
	fmt.Println(p.Attachments)
	// Output:
	// 51-/files,7["upload","a.bin",{"_placeholder":true,"num":0}] <nil>
	// [[1 2 3]]
}

// A Decoder takes the frames as they come and returns whole packets.
func ExampleDecoder() {
	var d sioparser.Decoder
	_, done, err := d.AddText(`51-/files,7["upload","a.bin",{"_placeholder":true,"num":0}]`)
	fmt.Println(done, err, d.Awaiting())
	p, done, err := d.AddBinary([]byte{1, 2, 3})
	fmt.Println(done, err, p.Type, p.Namespace, p.ID)

	name, args, _ := sioparser.SplitEvent(p.Data)
	n, ok := sioparser.PlaceholderNum(args[1])
	fmt.Println(name, string(args[0]), ok, p.Attachments[n])

	_, _, err = d.AddText(`2["connect"]`)
	fmt.Println(err)
	// Output:
	// false <nil> 1
	// true <nil> BINARY_EVENT /files 7
	// upload "a.bin" true [1 2 3]
	// sioparser: reserved event name: "connect"
}

// The CONNECT of a 2.x client (protocol v4) carries its query.
func ExampleDecodeText_v4() {
	p, _, err := sioparser.DecodeText("0/admin?token=abc,", sioparser.Options{Protocol: sioparser.V4})
	fmt.Printf("%q %q %v\n", p.Namespace, p.Query, err)
	p, _, err = sioparser.DecodeText(`3/admin,13["bar"]`, sioparser.Options{})
	fmt.Println(p.Type, p.ID, string(p.Data), err)
	// Output:
	// "/admin" "token=abc" <nil>
	// ACK 13 ["bar"] <nil>
}
