package socketio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/client"
)

// pushApp serves "join"(room), acked true once joined, on "" and
// "/chat", and creates no other namespace: "/none" stays unknown.
func pushApp(srv *Server) {
	for _, name := range []string{"", "/chat"} {
		if err := srv.Of(name).On("join", func(s *Socket, room string) bool { return s.Join(room) == nil }); err != nil {
			panic(err)
		}
	}
}

// pushClient is a Go client of one protocol connected to a namespace
// (and joined to the room a "?room=" suffix of its URL names), recording
// every event it receives.
type pushClient struct {
	ns     *client.Namespace
	events chan string // "name args-as-JSON"
}

func dialPush(t *testing.T, url string, proto client.Protocol) *pushClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	pc := &pushClient{events: make(chan string, 64)}
	c, err := client.Dial(ctx, strings.Split(url, "?")[0], &client.Options{Protocol: proto})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	pc.ns = c.Namespace()
	pc.ns.OnAny(func(event string, args []json.RawMessage) {
		if args == nil {
			args = []json.RawMessage{}
		}
		b, _ := json.Marshal(args)
		pc.events <- event + " " + string(b)
	})
	require.NoError(t, pc.ns.WaitConnected(ctx))
	if i := strings.Index(url, "?room="); i >= 0 {
		ack, err := pc.ns.EmitWithAck(ctx, "join", url[i+len("?room="):])
		require.NoError(t, err)
		require.Equal(t, "true", string(ack[0]))
	}
	return pc
}

func (pc *pushClient) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-pc.events:
		require.Equal(t, want, got)
	case <-time.After(waitFor):
		t.Fatalf("no event within %v; want %s", waitFor, want)
	}
}

func (pc *pushClient) expectNothing(t *testing.T) {
	t.Helper()
	select {
	case got := <-pc.events:
		t.Fatalf("unexpected event %s", got)
	case <-time.After(quiet):
	}
}

func raws(args ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(args))
	for i, a := range args {
		out[i] = json.RawMessage(a)
	}
	return out
}

// TestServerPublishReachesSelection: Server.Publish emits to the
// namespace's selection (rooms, except) for 0.9 and v5 clients, with
// "" and "/" both the default namespace and "chat" read as "/chat".
func TestServerPublishReachesSelection(t *testing.T) {
	ts := newTestServer(t, Config{}, pushApp)
	ctx := context.Background()
	a := dialPush(t, ts.hs.URL+"/chat?room=r", client.Protocol09)
	b := dialPush(t, ts.hs.URL+"/chat?room=r", client.ProtocolV5)
	c := dialPush(t, ts.hs.URL+"/chat?room=other", client.ProtocolV5)
	d := dialPush(t, ts.hs.URL+"/?room=r", client.ProtocolV5)

	require.NoError(t, ts.srv.Publish(ctx, PublishRequest{Namespace: "/chat", Rooms: []string{"r"},
		Event: "pushed", Args: raws(`{"n":1}`, `"x"`)}))
	a.expect(t, `pushed [{"n":1},"x"]`)
	b.expect(t, `pushed [{"n":1},"x"]`)

	require.NoError(t, ts.srv.Publish(ctx, PublishRequest{Namespace: "chat", Rooms: []string{"r"},
		Except: []string{a.ns.ID()}, Event: "pushed", Args: raws(`2`)}))
	b.expect(t, `pushed [2]`)

	require.NoError(t, ts.srv.Publish(ctx, PublishRequest{Namespace: "/chat", Event: "all"}))
	a.expect(t, `all []`)
	b.expect(t, `all []`)
	c.expect(t, `all []`)

	require.NoError(t, ts.srv.Publish(ctx, PublishRequest{Namespace: "/chat", Rooms: []string{c.ns.ID()}, Event: "one"}))
	c.expect(t, `one []`)

	for _, name := range []string{"", "/"} {
		require.NoError(t, ts.srv.Publish(ctx, PublishRequest{Namespace: name, Rooms: []string{"r"}, Event: "def"}))
		d.expect(t, `def []`)
	}
	a.expectNothing(t)
	b.expectNothing(t)
	c.expectNothing(t)
	d.expectNothing(t)
}

// TestServerPublishRefuses: what Server.Publish refuses, with which
// error, and that nothing is sent then.
func TestServerPublishRefuses(t *testing.T) {
	ts := newTestServer(t, Config{MaxRoomNameBytes: 8}, pushApp)
	a := dialPush(t, ts.hs.URL+"/chat?room=r", client.ProtocolV5)
	ok := PublishRequest{Namespace: "/chat", Rooms: []string{"r"}, Event: "e"}
	with := func(edit func(*PublishRequest)) PublishRequest {
		r := ok
		edit(&r)
		return r
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		r    PublishRequest
		want []error
	}{
		{"unknown namespace", nil, with(func(r *PublishRequest) { r.Namespace = "/none" }), []error{ErrUnknownNamespace}},
		{"empty event", nil, with(func(r *PublishRequest) { r.Event = "" }), []error{ErrInvalidMessage}},
		{"reserved event", nil, with(func(r *PublishRequest) { r.Event = "disconnect" }), []error{ErrInvalidMessage, ErrReservedEvent}},
		{"long event", nil, with(func(r *PublishRequest) { r.Event = strings.Repeat("e", MaxEventNameBytes+1) }), []error{ErrInvalidMessage}},
		{"event not UTF-8", nil, with(func(r *PublishRequest) { r.Event = "\xff" }), []error{ErrInvalidMessage}},
		{"arg not JSON", nil, with(func(r *PublishRequest) { r.Args = raws(`1`, `{`) }), []error{ErrInvalidMessage}},
		{"nil arg", nil, with(func(r *PublishRequest) { r.Args = []json.RawMessage{nil} }), []error{ErrInvalidMessage}},
		{"empty room", nil, with(func(r *PublishRequest) { r.Rooms = []string{"r", ""} }), []error{ErrInvalidMessage}},
		{"long room", nil, with(func(r *PublishRequest) { r.Rooms = []string{"123456789"} }), []error{ErrInvalidMessage, ErrRoomNameTooLong}},
		{"long except", nil, with(func(r *PublishRequest) { r.Except = []string{"123456789"} }), []error{ErrInvalidMessage, ErrRoomNameTooLong}},
		{"canceled", canceled, ok, []error{context.Canceled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			err := ts.srv.Publish(ctx, tc.r)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.ErrorIs(t, err, w)
			}
		})
	}
	a.expectNothing(t)
	// A socket id is no room name: it passes whatever MaxRoomNameBytes.
	require.NoError(t, ts.srv.Publish(context.Background(), with(func(r *PublishRequest) { r.Rooms = []string{a.ns.ID()} })))
	a.expect(t, `e []`)
}

// TestServerPublishCopiesArgs: the caller may reuse the request's
// buffers once Publish returns.
func TestServerPublishCopiesArgs(t *testing.T) {
	ts := newTestServer(t, Config{}, pushApp)
	a := dialPush(t, ts.hs.URL+"/chat?room=r", client.Protocol09)
	buf := []byte(`"first"`)
	rooms := []string{"r"}
	require.NoError(t, ts.srv.Publish(context.Background(), PublishRequest{Namespace: "/chat", Rooms: rooms, Event: "e", Args: []json.RawMessage{buf}}))
	copy(buf, `"XXXXX"`)
	rooms[0] = "nobody"
	a.expect(t, `e ["first"]`)
}

const testToken = "s3cret-token"

// publishServer serves the publish API over the test server.
func publishServer(t *testing.T, ts *testServer, cfg PublishConfig) *httptest.Server {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	h, err := NewPublishHandler(ts.srv, cfg)
	require.NoError(t, err)
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs
}

// publishCall sends one request to the publish API and returns its
// status, headers and body.
func publishCall(t *testing.T, url, method, auth string, body io.Reader) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// TestPublishHandlerAccepts: a good request gets 202 and reaches the
// room's clients of both generations; the scheme's case does not matter.
func TestPublishHandlerAccepts(t *testing.T) {
	ts := newTestServer(t, Config{}, pushApp)
	hs := publishServer(t, ts, PublishConfig{})
	a := dialPush(t, ts.hs.URL+"/chat?room=r", client.Protocol09)
	b := dialPush(t, ts.hs.URL+"/chat?room=r", client.ProtocolV5)
	body := `{"namespace": "/chat", "rooms": ["r"], "except": [], "event": "pushed", "args": [{"n": 1}, [true, null]]}`
	st, _, _ := publishCall(t, hs.URL, http.MethodPost, "Bearer "+testToken, strings.NewReader(body))
	require.Equal(t, http.StatusAccepted, st)
	a.expect(t, `pushed [{"n":1},[true,null]]`)
	b.expect(t, `pushed [{"n":1},[true,null]]`)

	st, _, _ = publishCall(t, hs.URL, http.MethodPost, "bearer "+testToken, strings.NewReader(`{"namespace":"/chat","event":"x"}`))
	require.Equal(t, http.StatusAccepted, st)
	a.expect(t, `x []`)
	b.expect(t, `x []`)
}

// TestPublishHandlerUnauthorized: a missing token, a wrong one, a
// prefix of the right one, another scheme: 401 with WWW-Authenticate,
// and nothing is sent.
func TestPublishHandlerUnauthorized(t *testing.T) {
	ts := newTestServer(t, Config{}, pushApp)
	hs := publishServer(t, ts, PublishConfig{})
	a := dialPush(t, ts.hs.URL+"/chat", client.ProtocolV5)
	body := `{"namespace":"/chat","event":"pushed"}`
	for name, auth := range map[string]string{
		"missing":      "",
		"wrong":        "Bearer wrong",
		"prefix":       "Bearer " + testToken[:len(testToken)-1],
		"longer":       "Bearer " + testToken + "x",
		"empty token":  "Bearer ",
		"basic scheme": "Basic " + testToken,
		"no scheme":    testToken,
	} {
		t.Run(name, func(t *testing.T) {
			st, hdr, _ := publishCall(t, hs.URL, http.MethodPost, auth, strings.NewReader(body))
			require.Equal(t, http.StatusUnauthorized, st)
			assert.Equal(t, "Bearer", hdr.Get("WWW-Authenticate"))
		})
	}
	a.expectNothing(t)
}

// TestPublishHandlerMethod: every method but POST gets 405 with Allow,
// before the token is even looked at.
func TestPublishHandlerMethod(t *testing.T) {
	ts := newTestServer(t, Config{}, nil)
	hs := publishServer(t, ts, PublishConfig{})
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		st, hdr, _ := publishCall(t, hs.URL, m, "", nil)
		require.Equal(t, http.StatusMethodNotAllowed, st, m)
		assert.Equal(t, "POST", hdr.Get("Allow"), m)
	}
}

// TestPublishHandlerTooLarge: a body over MaxBodyBytes gets 413, with or
// without a Content-Length; one of exactly MaxBodyBytes is read.
func TestPublishHandlerTooLarge(t *testing.T) {
	ts := newTestServer(t, Config{}, pushApp)
	const limit = 100
	hs := publishServer(t, ts, PublishConfig{MaxBodyBytes: limit})
	a := dialPush(t, ts.hs.URL+"/chat", client.ProtocolV5)
	fit := `{"namespace":"/chat","event":"e","args":["` // padded to exactly limit bytes
	fit += strings.Repeat("x", limit-len(fit)-3) + `"]}`
	require.Len(t, fit, limit)
	st, _, _ := publishCall(t, hs.URL, http.MethodPost, "Bearer "+testToken, strings.NewReader(fit))
	require.Equal(t, http.StatusAccepted, st)
	a.expect(t, `e ["`+strings.Repeat("x", limit-len(`{"namespace":"/chat","event":"e","args":["`)-3)+`"]`)

	big := strings.Replace(fit, `"x`, `"xx`, 1)
	st, _, msg := publishCall(t, hs.URL, http.MethodPost, "Bearer "+testToken, strings.NewReader(big))
	require.Equal(t, http.StatusRequestEntityTooLarge, st)
	assert.Contains(t, msg, "at most 100 bytes")
	// Chunked: no Content-Length, so the limit is met while reading.
	st, _, _ = publishCall(t, hs.URL, http.MethodPost, "Bearer "+testToken, io.MultiReader(strings.NewReader(big)))
	require.Equal(t, http.StatusRequestEntityTooLarge, st)
	a.expectNothing(t)

	def := publishServer(t, ts, PublishConfig{})
	huge := `{"namespace":"/chat","event":"e","args":["` + strings.Repeat("x", DefaultMaxPublishBytes) + `"]}`
	st, _, _ = publishCall(t, def.URL, http.MethodPost, "Bearer "+testToken, strings.NewReader(huge))
	require.Equal(t, http.StatusRequestEntityTooLarge, st, "the default limit is 1 MiB")
}

// TestPublishHandlerBadRequest: one case per guard of the body and of
// the request; each gets 400 with a plain-text reason, and nothing is sent.
func TestPublishHandlerBadRequest(t *testing.T) {
	ts := newTestServer(t, Config{}, pushApp)
	hs := publishServer(t, ts, PublishConfig{})
	a := dialPush(t, ts.hs.URL+"/chat", client.ProtocolV5)
	for name, tc := range map[string]struct{ body, reason string }{
		"empty":            {``, "malformed body"},
		"not JSON":         {`event=x`, "malformed body"},
		"not an object":    {`["x"]`, "malformed body"},
		"null":             {`null`, "malformed body"},
		"truncated":        {`{"namespace":"/chat","event":"e"`, "malformed body"},
		"unknown field":    {`{"namespace":"/chat","event":"e","volatile":true}`, "unknown field"},
		"trailing data":    {`{"namespace":"/chat","event":"e"} {}`, "data after"},
		"trailing garbage": {`{"namespace":"/chat","event":"e"}x`, "data after"},
		"args not array":   {`{"namespace":"/chat","event":"e","args":{"a":1}}`, "malformed body"},
		"args a string":    {`{"namespace":"/chat","event":"e","args":"x"}`, "malformed body"},
		"event not string": {`{"namespace":"/chat","event":5}`, "malformed body"},
		"rooms not array":  {`{"namespace":"/chat","event":"e","rooms":"r"}`, "malformed body"},
		"no event":         {`{"namespace":"/chat"}`, "refused"},
		"reserved event":   {`{"namespace":"/chat","event":"connect"}`, "reserved"},
		"unknown ns":       {`{"namespace":"/none","event":"e"}`, "unknown namespace"},
		"empty room":       {`{"namespace":"/chat","event":"e","rooms":[""]}`, "empty room"},
		"long room":        {`{"namespace":"/chat","event":"e","rooms":["` + strings.Repeat("r", DefaultMaxRoomNameBytes+1) + `"]}`, "too long"},
	} {
		t.Run(name, func(t *testing.T) {
			st, hdr, msg := publishCall(t, hs.URL, http.MethodPost, "Bearer "+testToken, strings.NewReader(tc.body))
			require.Equal(t, http.StatusBadRequest, st, msg)
			assert.Equal(t, "text/plain", hdr.Get("Content-Type"))
			assert.Contains(t, msg, tc.reason)
			assert.Less(t, len(msg), 400, "a short reason")
		})
	}
	a.expectNothing(t)
}

// failingPublisher refuses every push with its error.
type failingPublisher struct{ err error }

func (p failingPublisher) Publish(context.Context, PublishRequest) error { return p.err }

// TestPublishHandlerPublisherErrors: the publisher's refusals as invalid
// or unknown are 400, anything else 503.
func TestPublishHandlerPublisherErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("wrapped: %w", ErrInvalidMessage), http.StatusBadRequest},
		{fmt.Errorf("wrapped: %w", ErrUnknownNamespace), http.StatusBadRequest},
		{errors.New("redis down"), http.StatusServiceUnavailable},
		{nil, http.StatusAccepted},
	} {
		h, err := NewPublishHandler(failingPublisher{tc.err}, PublishConfig{Token: testToken, Logger: discardLogger})
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPost, "/publish", strings.NewReader(`{"event":"e"}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, tc.want, rec.Code, "%v", tc.err)
		if tc.want == http.StatusServiceUnavailable {
			assert.NotContains(t, rec.Body.String(), "redis down", "internal errors are not shown")
		}
	}
}

// TestNewPublishHandlerConfig: a Token is required; MaxBodyBytes must
// not be negative.
func TestNewPublishHandlerConfig(t *testing.T) {
	srv := NewServer(Config{Logger: discardLogger})
	defer srv.Close()
	_, err := NewPublishHandler(srv, PublishConfig{})
	require.Error(t, err)
	_, err = NewPublishHandler(srv, PublishConfig{Token: "t", MaxBodyBytes: -1})
	require.Error(t, err)
	_, err = NewPublishHandler(nil, PublishConfig{Token: "t"})
	require.Error(t, err)
	_, err = NewPublishHandler(srv, PublishConfig{Token: "t"})
	require.NoError(t, err)
}

// TestDecodePublishRequest: the strict decoder keeps what it decodes.
func TestDecodePublishRequest(t *testing.T) {
	r, err := decodePublishRequest([]byte(" {\"namespace\":\"/chat\",\"rooms\":[\"a\",\"b\"],\"except\":[\"c\"],\"event\":\"e\",\"args\":[1,\"two\",{\"t\":[3]}]}\n"))
	require.NoError(t, err)
	assert.Equal(t, PublishRequest{Namespace: "/chat", Rooms: []string{"a", "b"}, Except: []string{"c"}, Event: "e",
		Args: raws(`1`, `"two"`, `{"t":[3]}`)}, r)
}

// FuzzDecodePublishRequest: the body decoder never panics, and what it
// accepts is one JSON object whose fields survive a round trip.
func FuzzDecodePublishRequest(f *testing.F) {
	for _, s := range []string{
		`{"namespace":"/chat","rooms":["r"],"except":[],"event":"pushed","args":[{"n":1}]}`,
		`{"event":"e"}`, `{}`, `null`, `[]`, `{"event":"e"} {}`, `{"args":{}}`, `{"x":1}`,
		`{"event":"\ud800","args":[1e400]}`, ` {"rooms":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodePublishRequest(b)
		if err != nil {
			return
		}
		require.True(t, json.Valid(b), "accepted %q", b)
		require.Equal(t, byte('{'), bytes.TrimLeft(b, " \t\r\n")[0])
		for _, a := range r.Args {
			require.True(t, json.Valid(a))
		}
		out, err := json.Marshal(r)
		require.NoError(t, err)
		r2, err := decodePublishRequest(out)
		require.NoError(t, err)
		require.Equal(t, len(r.Args), len(r2.Args))
		require.Equal(t, r.Event, r2.Event)
		require.Equal(t, r.Namespace, r2.Namespace)
	})
}
