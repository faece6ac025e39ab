package sioredis

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/socketio"
)

// TestForwardOnlyToRegisteredNodeAddress: a session directory entry
// that names a live node but an address other than the one that node
// registered (a forged or corrupt entry) is not forwarded to; the request
// is answered as for an unknown session. A live node's own entry is.
func TestForwardOnlyToRegisteredNodeAddress(t *testing.T) {
	r := startRedis(t)
	o := nodeOpts{sessions: true}
	n1, n2 := newNode(t, r, "n1", o), newNode(t, r, "n2", o)

	var hits atomic.Int64
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("1::"))
	}))
	defer trap.Close()
	trapAddr := strings.TrimPrefix(trap.URL, "http://")

	// A real session on n1, polled through n2: forwarded.
	st, body := httpDo(t, n1, http.MethodGet, "/socket.io/1/", "")
	require.Equal(t, http.StatusOK, st)
	p := &pollingClient{t: t, sid: strings.Split(body, ":")[0]}
	require.Equal(t, "1::", p.poll(n2))
	require.Positive(t, n2.srv.Stats().Forwarded)

	// Forged entries: a live node's id with the trap's address, a
	// malformed value, and an unknown node.
	forged := map[string]string{
		"AAAAAAAAAAAAAAAAAAAA": trapAddr + " n1",
		"BBBBBBBBBBBBBBBBBBBB": trapAddr,
		"CCCCCCCCCCCCCCCCCCCC": trapAddr + " ghost",
	}
	for sid, v := range forged {
		_, err := r.do("SET", "test:session:"+sid, v, "PX", 60000)
		require.NoError(t, err)
	}
	for sid := range forged {
		st, body := httpDo(t, n2, http.MethodGet, "/socket.io/1/xhr-polling/"+sid, "")
		assert.Equal(t, http.StatusOK, st)
		assert.Equal(t, "7:::1+0", body, "entry %q is answered as an unknown session", forged[sid])
	}
	assert.Zero(t, hits.Load(), "the node forwarded a client's request to an address no node registered")
	assert.Equal(t, uint64(2), n2.cluster.Stats().RefusedLookups)

	// The real session still goes through n2.
	p.post(n2, `5:1+::{"name":"join","args":["r"]}`)
	assert.Equal(t, "6:::1+[true]", p.poll(n2))
}

// TestForgedBroadcastsDropped: a message on the broadcast channel that
// does not decode (garbage, the version 1 format, which carried 0.9
// frames), or carries a broadcast no Selection makes (a reserved or
// empty event name, arguments that are not JSON, an unknown kind, a text
// message with an event), is dropped and counted; a good one is delivered.
func TestForgedBroadcastsDropped(t *testing.T) {
	r := startRedis(t)
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	_ = n1
	b := n2.dial()
	b.connectNS("/chat")
	ch := "test:broadcast"
	v1 := append([]byte{1, 0}, encodeMessage("n1", socketio.BroadcastOptions{},
		&socketio.Message{Kind: socketio.MessageText, Text: "x"})[2:]...)
	ev := func(name string, args ...string) *socketio.Message {
		return &socketio.Message{Kind: socketio.MessageEvent, Event: name, Args: raws(args...)}
	}
	bad := [][]byte{
		[]byte("garbage"),
		v1,
		encodeMessage("n1", socketio.BroadcastOptions{}, ev("disconnect")),
		encodeMessage("n1", socketio.BroadcastOptions{}, &socketio.Message{Namespace: "/chat", Kind: socketio.MessageEvent, Event: "connect"}),
		encodeMessage("n1", socketio.BroadcastOptions{}, ev("")),
		encodeMessage("n1", socketio.BroadcastOptions{}, ev("msg", `"ok"`, `{"name":"msg"`)),
		encodeMessage("n1", socketio.BroadcastOptions{}, &socketio.Message{Kind: 7, Text: "what"}),
		encodeMessage("n1", socketio.BroadcastOptions{}, &socketio.Message{Kind: socketio.MessageText, Event: "msg", Text: "t"}),
	}
	for _, m := range bad {
		_, err := r.do("PUBLISH", ch, m)
		require.NoError(t, err)
	}
	good := msgFrame("", "msg", "good")
	_, err := r.do("PUBLISH", ch, encodeMessage("n1", socketio.BroadcastOptions{}, ev("msg", `"good"`)))
	require.NoError(t, err)
	assert.Equal(t, good, b.next(), "the forged messages were delivered")
	assert.Equal(t, uint64(len(bad)), n2.cluster.Stats().Malformed)
	assert.Equal(t, uint64(1), n2.cluster.Stats().Received)
	b.expectNothing()
}

// TestAuth: with Redis AUTH (requirepass and an ACL user) the nodes
// work; a wrong or missing password fails New with ErrAuth.
func TestAuth(t *testing.T) {
	r := startRedisWith(t, "s3cret", "--requirepass", "s3cret", "--user", "alice", "on", ">alicepw", "~*", "&*", "+@all")
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{cfg: func(c *Config) {
		c.Username, c.Password = "alice", "alicepw"
	}})
	a, b := n1.dial(), n2.dial()
	b.join("", "r")
	a.emit("", "to-room", "r", "authenticated")
	b.expectMsg("", "authenticated")

	for name, cfg := range map[string]Config{
		"wrong password":      {Password: "wrong"},
		"wrong user password": {Username: "alice", Password: "wrong"},
		"unknown user":        {Username: "bob", Password: "alicepw"},
		"no password":         {},
	} {
		cfg.Addr, cfg.Logger = r.addr(), discardLogger
		_, err := New(cfg)
		require.ErrorIs(t, err, ErrAuth, name)
		t.Logf("%s: %v", name, err)
	}
	_, err := New(Config{Addr: r.addr(), Username: "alice", Logger: discardLogger})
	require.ErrorContains(t, err, "Password", "a user without a password is a configuration error")
}

// TestTLS: the nodes talk to a TLS-only redis-server.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	pool := writeTestCerts(t, dir)
	r := startRedisServer(t, &redisServer{tls: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, certDir: dir})
	n1, n2 := newNode(t, r, "n1", nodeOpts{}), newNode(t, r, "n2", nodeOpts{})
	a, b := n1.dial(), n2.dial()
	b.join("", "r")
	a.emit("", "to-room", "r", "over tls")
	b.expectMsg("", "over tls")

	// A client that does not trust the server's certificate is refused.
	_, err := New(Config{Addr: r.addr(), TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}, Logger: discardLogger})
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown)
	// Plain TCP to the TLS port fails too.
	_, err = New(Config{Addr: r.addr(), Logger: discardLogger})
	require.Error(t, err)
}

// writeTestCerts writes ca.crt, server.crt and server.key (for
// 127.0.0.1) into dir and returns a pool trusting the CA.
func writeTestCerts(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "siogo test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	write := func(name, typ string, b []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600))
	}
	write("ca.crt", "CERTIFICATE", caDER)
	write("server.crt", "CERTIFICATE", der)
	write("server.key", "PRIVATE KEY", keyDER)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pool
}

// TestRefreshKeepsRegisteredAddress: a liveness refresh that read the
// node's address before the first Register set it does not erase the
// address Register wrote (the node's sessions would be refused by the
// other nodes until the next refresh); New's first refresh does.
func TestRefreshKeepsRegisteredAddress(t *testing.T) {
	r := startRedis(t)
	conn, err := redigo.Dial("tcp", r.addr())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Do("SET", "{t:node:n}:alive", "10.0.0.1:80", "PX", 60000)
	require.NoError(t, err)
	_, err = refreshScript.Do(conn, "{t:node:n}:alive", "{t:node:n}:swept", 60000, "", "0")
	require.NoError(t, err)
	v, err := redigo.String(conn.Do("GET", "{t:node:n}:alive"))
	require.NoError(t, err)
	assert.Equal(t, "10.0.0.1:80", v)
	_, err = refreshScript.Do(conn, "{t:node:n}:alive", "{t:node:n}:swept", 60000, "", "1")
	require.NoError(t, err)
	v, err = redigo.String(conn.Do("GET", "{t:node:n}:alive"))
	require.NoError(t, err)
	assert.Empty(t, v, "New starts without an address")
}

// TestOversizedBroadcastNotPublished: a broadcast whose cluster message
// would exceed maxMessageBytes reaches the emitting node's sockets but is
// not published (counted as dropped); the next one is.
func TestOversizedBroadcastNotPublished(t *testing.T) {
	r := startRedis(t)
	// The emitting node's socket must take the large broadcast whatever
	// its transport still holds (its "1::" may not be released yet): a
	// session's byte bound above the message's size.
	big := nodeOpts{srv: func(c *socketio.Config) { c.MaxQueuedBytes = 2 * maxMessageBytes }}
	n1, n2 := newNode(t, r, "n1", big), newNode(t, r, "n2", nodeOpts{})
	a, b := n1.dial(), n2.dial()
	before := n1.cluster.Stats()
	require.NoError(t, n1.srv.Sockets().Send(strings.Repeat("x", maxMessageBytes)))
	require.NoError(t, n1.srv.Sockets().Emit("msg", "small"))
	assert.Equal(t, msgFrame("", "msg", "small"), b.next(), "the other node got the small broadcast only")
	assert.Len(t, a.next(), len("3:::")+maxMessageBytes, "the emitting node's socket got the large one")
	after := n1.cluster.Stats()
	assert.Equal(t, before.Dropped+1, after.Dropped)
	assert.Equal(t, before.Published+1, after.Published)
}
