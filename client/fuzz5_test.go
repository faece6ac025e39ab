package client

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/eioparser"
	"github.com/siogo/siogo/internal/sioparser"
)

// Whatever a v5 server sends (a polling payload, or a websocket frame,
// text or binary), a session handles it without panicking, and everything
// the client queues in answer (pongs, acks, joins) decodes with the
// server's codecs.
func FuzzReceive5(f *testing.F) {
	for _, s := range []string{
		"2", "1", "6", "3probe", "5", "40", "40/chat,{\"sid\":\"x\"}", "41", "41/chat,",
		`42["say","hi",2,{"a":[1]}]`, `421["ask","q"]`, `42/chat,3["ask",1]`,
		`451-["say",{"_placeholder":true,"num":0}]`, "bAQID",
		`44{"message":"nope","data":{"a":1}}`, `44/chat,"text"`, `43/chat,1[1]`,
		`461-7[{"_placeholder":true,"num":0}]`, `42["message","text"]`, `42["message",{"j":1}]`,
		"42[\"say\"]\x1e2\x1e42[\"ask\",\"x\"]", `0{"sid":"again"}`, `4`, `4x`, `49`,
	} {
		f.Add(s, false)
	}
	f.Add("\x01\x02", true)
	f.Fuzz(func(t *testing.T, data string, binary bool) {
		c, err := newClient("http://127.0.0.1:1/?token=x", &Options{
			Protocol:         ProtocolV5,
			NoReconnect:      true,
			MaxQueuedPackets: 1 << 16,
			OnError:          func(error) {},
			Auth:             map[string]string{"token": "t"},
		})
		require.NoError(t, err)
		_ = c.On("say", func(text string, n int, m map[string]any) {})
		_ = c.On("ask", func(q string) (string, []byte) { return q + "?", []byte(q) })
		c.OnMessage(func(string) {})
		c.OnJSON(func(json.RawMessage) {})
		chat := c.Of("/chat")
		_ = chat.On("ask", func(n float64) float64 { return n * 2 })
		s := newSession(c, &handshake{}, Polling)
		cn := newPoll5Conn(c)
		s.conn = cn
		s.handleEIO(cn, eioparser.Packet{Type: eioparser.Open, Data: []byte(`{"sid":"fuzz","pingInterval":60000,"pingTimeout":60000}`)})
		s.handleEIO(cn, eioparser.Packet{Type: eioparser.Message, Data: []byte(`0{"sid":"a"}`)})
		s.handleEIO(cn, eioparser.Packet{Type: eioparser.Message, Data: []byte(`0/chat,{"sid":"b"}`)})
		var pkts []eioparser.Packet
		if binary {
			p, _ := eioparser.DecodeFrame([]byte(data), true)
			pkts = []eioparser.Packet{p}
		} else if pp, err := eioparser.DecodePayload([]byte(data), eioparser.Limits{}); err == nil {
			pkts = pp
		}
		for _, p := range pkts {
			if s.isDone() {
				break
			}
			s.handleEIO(cn, p)
		}
		var dec sioparser.Decoder
		for _, frame := range c.take(s) {
			p := wirePacket(frame)
			if p.Binary {
				_, _, err = dec.AddBinary(p.Data)
				require.NoError(t, err, "the client queued a binary frame out of turn")
				continue
			}
			require.True(t, p.Type.Valid(), "the client queued %q", frame)
			if p.Type == eioparser.Message {
				_, _, err = dec.AddText(string(p.Data))
				require.NoError(t, err, "the client queued %q", frame)
			}
		}
		require.Zero(t, dec.Awaiting())
		s.fail(ErrClosed)
		require.NoError(t, c.Close())
	})
}
