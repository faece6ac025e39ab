package engineio

import (
	"net/http"
	"time"
)

// Echo is a Handler whose sessions send every message back as they got
// it, text or binary: the server the official Engine.IO suite tests.
type Echo struct{}

// Open implements Handler.
func (Echo) Open(c *Conn, _ *http.Request) (Session, error) { return echoSession{c}, nil }

type echoSession struct{ c *Conn }

func (s echoSession) OnMessage(text string) {
	s.c.Send([][]byte{AppendText(nil, []byte(text))}, false)
}

func (s echoSession) OnBinary(data []byte) {
	s.c.Send([][]byte{AppendBinaryFor(s.c.Protocol(), nil, data)}, false)
}

func (echoSession) OnClose(string) {}

// SuiteConfig is the configuration the official Engine.IO v4 suite
// expects of its echo server: ping interval 300 ms, ping timeout 200 ms,
// max payload 1,000,000 bytes, any origin.
func SuiteConfig() Config {
	return Config{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond, MaxPayload: 1_000_000}
}
