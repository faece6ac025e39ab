package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/acl"
	"github.com/siogo/siogo/internal/nodetest"
)

// user is what the tests' Authorize attaches to a handshake.
type user struct {
	Name string `json:"name"`
}

// userAuthorize admits a handshake whose query names a user (?user=NAME),
// attaching that user; ?user= missing is refused with a wrapped
// ErrUnauthorized, ?user=fail with another error.
func userAuthorize(_ context.Context, hs *Handshake) (any, error) {
	switch name := hs.Query.Get("user"); name {
	case "":
		return nil, fmt.Errorf("%w: who are you?", ErrUnauthorized)
	case "fail":
		return nil, errors.New("user store down")
	default:
		return &user{Name: name}, nil
	}
}

func TestAuthorizeUserReachesEverySocketOfTheSession(t *testing.T) {
	t.Parallel()
	var nsSaw sync.Map // sid -> the User namespace authorization saw
	ts := newTestServer(t, Config{Authorize: userAuthorize}, func(srv *Server) {
		srv.Of("/chat").Authorize(func(_ context.Context, hs *Handshake, q url.Values) error {
			nsSaw.Store(q.Get("sid"), hs.User)
			if u, _ := hs.User.(*user); u == nil || u.Name == "mallory" {
				return fmt.Errorf("%w: not on this channel", ErrUnauthorized)
			}
			return nil
		})
	})

	sid := ts.connectPolling("&user=ann")
	ts.post("xhr-polling", sid, "1::/chat:?sid="+sid)
	assert.Equal(t, "1::/chat", ts.poll(sid))
	want := &user{Name: "ann"}
	assert.Equal(t, want, ts.socket("", sid).Handshake().User, "the default namespace's socket")
	assert.Same(t, ts.socket("", sid).Handshake().User, ts.socket("/chat", sid).Handshake().User,
		"every socket of the session sees the one value")
	got, _ := nsSaw.Load(sid)
	assert.Equal(t, want, got, "the namespace's authorization sees it")

	// Refused by the namespace (a wrapped ErrUnauthorized): the 0.9
	// error packet, as before.
	sid = ts.connectPolling("&user=mallory")
	ts.post("xhr-polling", sid, "1::/chat:?sid="+sid)
	assert.Equal(t, "7::/chat:2", ts.poll(sid))
}

func TestAuthorizeRefusalsKeepTheirStatusAndBody(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Config{Authorize: userAuthorize}, nil)
	r := ts.get("/socket.io/1/?t=1")
	assert.Equal(t, http.StatusForbidden, r.status, "an error wrapping ErrUnauthorized is a refusal")
	assert.Equal(t, "handshake unauthorized", r.body)
	r = ts.get("/socket.io/1/?t=1&jsonp=3")
	assert.Equal(t, `io.j[3](new Error("handshake unauthorized"));`, r.body)
	r = ts.get("/socket.io/1/?t=1&user=fail")
	assert.Equal(t, http.StatusInternalServerError, r.status, "any other error is a failure")
	assert.Equal(t, "handshake error", r.body)
	assert.Equal(t, 0, ts.srv.SessionCount())
}

// Authorize gets the handshake request's context, and the user it returns
// is kept also when it changed nothing else (the compact handshake).
func TestAuthorizeSeesTheRequestContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	var seen any
	srv := NewServer(Config{Logger: discardLogger, Authorize: func(ctx context.Context, hs *Handshake) (any, error) {
		seen = ctx.Value(key{})
		return "ann", nil
	}})
	defer srv.Close()
	r := httptest.NewRequest("GET", "/socket.io/1/?t=1", nil)
	r = r.WithContext(context.WithValue(r.Context(), key{}, "from the request"))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, r)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "from the request", seen)
	sid, _, _ := strings.Cut(rec.Body.String(), ":")
	sess := srv.lookup(sid)
	require.NotNil(t, sess)
	assert.Equal(t, "ann", sess.Handshake().User)
}

// A namespace's authorization gets a context that ends with the session.
func TestNamespaceAuthorizationContextEndsWithTheSession(t *testing.T) {
	t.Parallel()
	ctxs := make(chan context.Context, 1)
	ts := newTestServer(t, Config{}, func(srv *Server) {
		srv.Of("/chat").Authorize(func(ctx context.Context, _ *Handshake, _ url.Values) error {
			ctxs <- ctx
			return nil
		})
	})
	sid := ts.connectPolling("")
	ts.post("xhr-polling", sid, "1::/chat")
	ctx := <-ctxs
	assert.NoError(t, ctx.Err(), "alive while the session is")
	ts.get(transportPath("xhr-polling", sid) + "?disconnect=1")
	select {
	case <-ctx.Done():
	case <-time.After(waitFor):
		require.FailNow(t, "the context outlived the session")
	}
	assert.ErrorIs(t, context.Cause(ctx), ErrDisconnected)
}

func TestSocketContextIsCancelledWhenTheSocketDisconnects(t *testing.T) {
	ns := newNamespace("/chat", quietOpts())
	s, _ := connect(t, ns, "a")
	ctx := s.Context()
	assert.Same(t, ctx, s.Context(), "one context per socket")
	assert.NoError(t, ctx.Err())
	s.close(ReasonHeartbeatTimeout)
	select {
	case <-ctx.Done():
	default:
		require.FailNow(t, "Close returned and the context is not done")
	}
	var de *DisconnectError
	require.ErrorAs(t, context.Cause(ctx), &de)
	assert.Equal(t, ReasonHeartbeatTimeout, de.Reason)
	assert.ErrorIs(t, context.Cause(ctx), ErrDisconnected)
	assert.Equal(t, "socketio: socket disconnected: heartbeat timeout", de.Error())

	// Asked for only after the socket disconnected: done already, with
	// the same cause.
	late, _ := connect(t, ns, "b")
	late.close(ReasonBooted)
	ctx = late.Context()
	require.Error(t, ctx.Err())
	require.ErrorAs(t, context.Cause(ctx), &de)
	assert.Equal(t, ReasonBooted, de.Reason)
}

func TestSocketContextEndsWhenTheClientGoes(t *testing.T) {
	t.Parallel()
	ctxs := make(chan context.Context, 1)
	ts := newTestServer(t, Config{}, func(srv *Server) {
		srv.Sockets().OnConnect(func(s *Socket) { ctxs <- s.Context() })
	})
	sid := ts.connectPolling("")
	ctx := <-ctxs
	ts.get(transportPath("xhr-polling", sid) + "?disconnect=1")
	select {
	case <-ctx.Done():
	case <-time.After(waitFor):
		require.FailNow(t, "the socket's context outlived it")
	}
	var de *DisconnectError
	require.ErrorAs(t, context.Cause(ctx), &de)
	assert.Equal(t, ReasonForcedClose, de.Reason)
}

func TestOnUnhandledCatchesEventsWithoutAHandler(t *testing.T) {
	ns := newNamespace("/chat", quietOpts())
	ns.SetInitialACL(acl.Allow("known", "other", "replaced"))
	type call struct {
		event string
		args  []string
		ack   bool
	}
	calls := make(chan call, 8)
	require.NoError(t, ns.On("known", func(s *Socket) string { return "handled" }))
	ns.OnUnhandled(func(s *Socket, event string, args []json.RawMessage, ack AckFunc) {
		t.Error("replaced by the second OnUnhandled")
	})
	ns.OnUnhandled(func(s *Socket, event string, args []json.RawMessage, ack AckFunc) {
		c := call{event: event, ack: ack != nil}
		for _, a := range args {
			c.args = append(c.args, string(a))
		}
		calls <- c
		if ack != nil {
			_ = ack("caught " + event)
		}
	})
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:1+:/chat:{"name":"known"}`))
	c.waitExact(t, `6::/chat:1+["handled"]`)
	s.handlePacket(decode(t, `5:2+:/chat:{"name":"other","args":["x",{"n":1}]}`))
	c.waitExact(t, `6::/chat:2+["caught other"]`)
	assert.Equal(t, call{event: "other", args: []string{`"x"`, `{"n":1}`}, ack: true}, <-calls)
	s.handlePacket(decode(t, `5:3:/chat:{"name":"other"}`))
	c.waitExact(t, `6::/chat:3`) // acknowledged on receipt, as a handled event is
	assert.Equal(t, call{event: "other"}, <-calls, "no ack func when none is asked for")

	// The ACL applies first: a refused event is refused, not caught.
	s.handlePacket(decode(t, `5:4+:/chat:{"name":"secret"}`))
	c.waitExact(t, `5::/chat:{"name":"error","args":["method_access_denied","You do not have access to method \"secret\""]}`)
	waitIdle(t, s)
	assert.Empty(t, calls, "the catch-all did not see the refused event")

	ns.OnUnhandled(nil)
	s.handlePacket(decode(t, `5:5+:/chat:{"name":"other"}`))
	waitIdle(t, s)
	assert.Empty(t, calls)
	assert.NotContains(t, c.sent(), `6::/chat:5+[]`, "without a catch-all the event is dropped")
}

// errorSink collects what a Config.OnError hook receives.
type errorSink chan error

func (e errorSink) hook(err error) { e <- err }

// next waits for the next error.
func (e errorSink) next(t *testing.T) *HandlerError {
	t.Helper()
	select {
	case err := <-e:
		var he *HandlerError
		require.ErrorAs(t, err, &he)
		return he
	case <-time.After(waitFor):
		require.FailNow(t, "OnError was not called")
		return nil
	}
}

func TestOnErrorReportsPanicsDenialsAndBadPackets(t *testing.T) {
	t.Parallel()
	errs := make(errorSink, 16)
	ts := newTestServer(t, Config{OnError: errs.hook}, func(srv *Server) {
		ns := srv.Of("/acl")
		ns.SetInitialACL(acl.Allow("boom", "num"))
		require.NoError(t, ns.On("boom", func(s *Socket) { panic(fmt.Errorf("wrapped: %w", context.Canceled)) }))
		require.NoError(t, ns.On("num", func(s *Socket, n int) {}))
	})
	sid := ts.connectPolling("")
	ts.post("xhr-polling", sid, "1::/acl")
	assert.Equal(t, "1::/acl", ts.poll(sid))

	ts.post("xhr-polling", sid, `5::/acl:{"name":"boom"}`)
	he := errs.next(t)
	assert.ErrorIs(t, he, ErrHandlerPanic)
	assert.ErrorIs(t, he, context.Canceled, "a panic with an error wraps it")
	assert.Equal(t, HandlerError{Namespace: "/acl", SocketID: sid, Event: "boom"},
		HandlerError{Namespace: he.Namespace, SocketID: he.SocketID, Event: he.Event})
	assert.NotNil(t, he.Panic)
	assert.Contains(t, string(he.Stack), "hooks_test.go", "the stack of the panic")
	assert.Equal(t, `socketio: handler panicked: wrapped: context canceled (socket `+sid+`, namespace "/acl", event "boom")`, he.Error())

	long := strings.Repeat("x", 5000)
	ts.post("xhr-polling", sid, `5::/acl:{"name":"`+long+`"}`)
	he = errs.next(t)
	assert.ErrorIs(t, he, ErrEventDenied)
	assert.Equal(t, "/acl", he.Namespace)
	assert.Equal(t, strings.Repeat("x", 128)+"…(5000 bytes)", he.Event, "client strings are clipped")

	ts.post("xhr-polling", sid, `5::/acl:{"name":"num","args":["`+long+`"]}`)
	he = errs.next(t)
	assert.ErrorIs(t, he, ErrBadPacket, "an argument that does not decode")
	assert.Less(t, len(he.Error()), 400, "the decode error's text is clipped: %s", he.Error())

	ts.post("xhr-polling", sid, `5::/acl:{"name":`+long)
	he = errs.next(t)
	assert.ErrorIs(t, he, ErrBadPacket, "a packet that does not decode")
	assert.Equal(t, sid, he.SocketID)
	assert.Less(t, len(he.Error()), 400, "the decode error's text is clipped: %s", he.Error())

	ts.post("xhr-polling", sid, "\ufffd5\ufffd2::")
	assert.ErrorIs(t, errs.next(t), ErrBadPacket, "a payload that does not split")

	ts.post("xhr-polling", sid, `5::/acl:{"name":"num","args":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`)
	assert.ErrorIs(t, errs.next(t), ErrBadPacket, "a packet nested too deep")

	// A decode error quoting what the client sent is clipped too.
	err := badPacketError("packet", errors.New(long))
	assert.ErrorIs(t, err, ErrBadPacket)
	assert.Equal(t, "socketio: bad packet: packet: "+strings.Repeat("x", 128)+"…(5000 bytes)", err.Error())
}

// A hook that blocks holds up nothing: the session reads, the socket's
// handlers run and ack; errors beyond the bound are dropped.
func TestOnErrorNeverHoldsUpTheSession(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var mu sync.Mutex
	calls := 0
	ts := newTestServer(t, Config{OnError: func(error) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			entered <- struct{}{}
			<-release
		}
	}}, func(srv *Server) {
		require.NoError(t, srv.Sockets().On("boom", func(s *Socket) { panic("boom") }))
		require.NoError(t, srv.Sockets().On("ping", func(s *Socket) string { return "pong" }))
	})
	defer close(release)
	sid := ts.connectPolling("")
	ts.post("xhr-polling", sid, `5:::{"name":"boom"}`)
	<-entered
	for range maxQueuedErrors + 50 {
		ts.post("xhr-polling", sid, `5:::{"name":"boom"}`)
	}
	ts.post("xhr-polling", sid, `5:1+::{"name":"ping"}`)
	assert.Equal(t, `6:::1+["pong"]`, ts.poll(sid), "handled while the hook blocks")
	mu.Lock()
	assert.Equal(t, 1, calls)
	mu.Unlock()
}

func TestErrorReporterBoundsAndRecovers(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var got []string
	r := newErrorReporter(func(err error) {
		he := err.(*HandlerError)
		if he.Event == "first" {
			close(entered)
			<-release
		}
		if he.Event == "panic" {
			panic("in the hook")
		}
		mu.Lock()
		got = append(got, he.Event)
		mu.Unlock()
	}, discardLogger)
	r.report(&HandlerError{Event: "first", Err: ErrBadPacket})
	<-entered
	r.report(&HandlerError{Event: "panic", Err: ErrBadPacket})
	for i := range maxQueuedErrors + 10 {
		r.report(&HandlerError{Event: fmt.Sprint(i), Err: ErrBadPacket})
	}
	close(release)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == maxQueuedErrors
	}, waitFor, tick)
	assert.Eventually(t, func() bool { r.mu.Lock(); defer r.mu.Unlock(); return !r.running }, waitFor, tick,
		"the goroutine ends when nothing waits")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, "first", got[0], "in order, after a panic in the hook")
	assert.Equal(t, fmt.Sprint(maxQueuedErrors-2), got[len(got)-1], "the ones beyond the bound were dropped")
	var nilReporter *errorReporter
	nilReporter.report(&HandlerError{Err: ErrBadPacket}) // no hook: ignored
}

// TestWhoAmIRealClient: socket.io-client@0.9.16 handshakes with ?user=ann;
// Config.Authorize attaches the user, and a handler answers "whoami" with
// s.Handshake().User, in the default namespace and in one whose own
// authorization requires the user.
func TestWhoAmIRealClient(t *testing.T) {
	nodetest.Require(t)
	ts := newTestServer(t, Config{Authorize: userAuthorize}, func(srv *Server) {
		srv.Of("/chat").Authorize(func(_ context.Context, hs *Handshake, _ url.Values) error {
			if hs.User == nil {
				return ErrUnauthorized
			}
			return nil
		})
		for _, name := range []string{"", "/chat"} {
			require.NoError(t, srv.Of(name).On("whoami", func(s *Socket) any { return s.Handshake().User }))
		}
	})
	for _, tr := range []string{"websocket", "xhr-polling"} {
		for _, ns := range []string{"", "/chat"} {
			t.Run(tr+"/"+ns, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				res := nodetest.Run(ctx, t, "whoami.js", "--url", ts.hs.URL+ns+"?user=ann", "--transport", tr)
				require.Len(t, res, 1)
				require.True(t, res[0].Pass, "%s: observed %s", res[0].Error, res[0].Observed)
				assert.JSONEq(t, `[{"name":"ann"}]`, string(res[0].Observed))
			})
		}
	}
}
