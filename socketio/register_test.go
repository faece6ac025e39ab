package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/acl"
)

// handlerNames lists the events ns has a handler for.
func handlerNames(ns *Namespace) []string {
	ns.mu.RLock()
	defer ns.mu.RUnlock()
	var names []string
	for name := range ns.handlers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func TestEventNameRule(t *testing.T) {
	for method, want := range map[string]string{
		"OnChat":               "chat",
		"OnSendMessage":        "send_message",
		"OnSendPrivateMessage": "send_private_message",
		"OnJSONData":           "json_data",
		"OnJSON":               "json",
		"OnGetUserByID":        "get_user_by_id",
		"OnListIDs":            "list_ids",
		"OnIDsRequest":         "ids_request",
		"OnURLs":               "urls",
		"OnHTTPServer":         "http_server",
		"OnHTTP2Ping":          "http2_ping",
		"OnPlayer1Move":        "player1_move",
		"OnV2":                 "v2",
		"OnV2Data":             "v2_data",
		"OnKick_Ban":           "kick_ban",
		"OnX":                  "x",
		"OnÉtéChaud":           "été_chaud",
	} {
		assert.Equal(t, want, EventName(method), method)
	}
}

// perSocket is a Register type made per socket: it holds its socket and
// counts its own calls.
type perSocket struct {
	s     *Socket
	calls int
	log   *eventLog
}

type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	l.events = append(l.events, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

func (v *perSocket) OnConnect()                 { v.log.add("connect %s", v.s.ID()) }
func (v *perSocket) OnDisconnect(reason string) { v.log.add("disconnect %s %s", v.s.ID(), reason) }
func (v *perSocket) InitialACL() acl.Set        { return acl.Allow("count", "json_data", "who") }
func (v *perSocket) OnCount() int               { v.calls++; return v.calls }
func (v *perSocket) OnJSONData(p struct{ N int }) (int, error) {
	if p.N < 0 {
		return 0, errors.New("negative")
	}
	return p.N * 2, nil
}
func (v *perSocket) OnWho(s *Socket) bool { return s == v.s } // the *Socket form
func (v *perSocket) OnSecret() string     { return "not in the initial ACL" }
func (v *perSocket) Online() bool         { return true } // not a handler: "On" + lower case

func TestRegisterMakesAValuePerSocket(t *testing.T) {
	ns := newNamespace("", quietOpts())
	log := &eventLog{}
	var made []*perSocket
	require.NoError(t, Register(ns, func(s *Socket) *perSocket {
		v := &perSocket{s: s, log: log}
		made = append(made, v) // newT runs on the sockets' handler goroutines: see waitIdle
		return v
	}))
	assert.Equal(t, []string{"count", "json_data", "secret", "who"}, handlerNames(ns))

	a, ca := connect(t, ns, "a")
	waitIdle(t, a)
	b, cb := connect(t, ns, "b")
	waitIdle(t, b)
	require.Len(t, made, 2, "newT runs once per socket")
	assert.NotSame(t, made[0], made[1])
	assert.Equal(t, []string{"connect a", "connect b"}, log.list(), "OnConnect runs for each socket's own value")

	for i := 1; i <= 3; i++ {
		a.handlePacket(decode(t, fmt.Sprintf(`5:%d+::{"name":"count"}`, i)))
	}
	b.handlePacket(decode(t, `5:1+::{"name":"count"}`))
	ca.waitExact(t, `6:::3+[3]`)
	cb.waitExact(t, `6:::1+[1]`)
	assert.Equal(t, 3, made[0].calls)
	assert.Equal(t, 1, made[1].calls, "each socket has its own value")

	a.handlePacket(decode(t, `5:4+::{"name":"json_data","args":[{"N":21}]}`))
	ca.waitExact(t, `6:::4+[42]`)
	a.handlePacket(decode(t, `5:5+::{"name":"json_data","args":[{"N":-1}]}`))
	ca.waitExact(t, `6:::5+[{"error":"negative"}]`)
	a.handlePacket(decode(t, `5:6+::{"name":"json_data","args":["x"]}`))
	ca.waitFrame(t, func(f string) bool {
		return strings.HasPrefix(f, `6:::6+[{"error":"argument 0: json: cannot unmarshal`)
	})
	a.handlePacket(decode(t, `5:7+::{"name":"who"}`))
	ca.waitExact(t, `6:::7+[true]`)

	// InitialACL applies to each socket, before its first event.
	assert.Equal(t, []string{"count", "json_data", "who"}, a.ACL().Names())
	b.handlePacket(decode(t, `5:2+::{"name":"secret"}`))
	cb.waitExact(t, `5:::{"name":"error","args":["method_access_denied","You do not have access to method \"secret\""]}`)

	a.close(ReasonPacket)
	waitIdle(t, a)
	assert.Equal(t, []string{"connect a", "connect b", "disconnect a " + ReasonPacket}, log.list())
}

// byValue is a Register type without hooks, whose methods are on the value.
type byValue struct{ id string }

func (p byValue) OnID() string { return p.id }

// counter is a second Register type.
type counter struct{ n int }

func (c *counter) OnCount() int { c.n++; return c.n }

func TestRegisterValueTypeAndSeveralTypes(t *testing.T) {
	ns := newNamespace("", quietOpts())
	require.NoError(t, Register(ns, func(s *Socket) byValue { return byValue{id: "p-" + s.ID()} }))
	require.NoError(t, Register(ns, func(s *Socket) *counter { return &counter{} }),
		"a second type whose events are free")
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:1+::{"name":"id"}`))
	c.waitExact(t, `6:::1+["p-a"]`)
	s.handlePacket(decode(t, `5:2+::{"name":"count"}`))
	c.waitExact(t, `6:::2+[1]`)
	s.handlePacket(decode(t, `5:3+::{"name":"count"}`))
	c.waitExact(t, `6:::3+[2]`)
}

// broken has every kind of problem Register reports.
type broken struct{}

func (broken) OnConnect(int)                 {}
func (broken) OnDisconnect()                 {}
func (broken) InitialACL() []string          { return nil }
func (broken) OnMessage(string)              {}
func (broken) OnJSON(json.RawMessage)        {}
func (broken) OnUnhandled(string)            {}
func (broken) OnSendChan(chan int)           {}
func (broken) OnSendFunc() func()            { return nil }
func (broken) OnSocketLater(string, *Socket) {}
func (broken) OnJSONData(int)                {}
func (broken) OnJsonData(int)                {}
func (broken) OnFine(string) string          { return "" }

func TestRegisterIsAllOrNothing(t *testing.T) {
	ns := newNamespace("", quietOpts())
	err := Register(ns, func(*Socket) broken { return broken{} })
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrBadHandler)
	assert.ErrorIs(t, err, ErrReservedEvent)
	msg := err.Error()
	for _, want := range []string{
		"method OnConnect: invalid handler: a hook must be func() or func(*Socket), is func(int)",
		"method OnDisconnect: invalid handler: a hook must be func(reason string) or func(*Socket, string), is func()",
		"method InitialACL: invalid handler: a hook must be func() acl.Set or func(*Socket) acl.Set, is func() []string",
		`method OnMessage: reserved event name: "message"`,
		"method OnJSON: reserved event name: JSON message packets are handled by Namespace.OnJSON",
		"method OnUnhandled: reserved event name: events without a handler go to Namespace.OnUnhandled",
		"method OnSendChan: invalid handler: func(socketio.broken, chan int): parameter 1: type chan int cannot be carried as JSON",
		"method OnSendFunc: invalid handler: func(socketio.broken) func(): result 1: type func() cannot be carried as JSON",
		"method OnSocketLater: invalid handler: func(socketio.broken, string, *socketio.Socket): parameter 2: *Socket can only be the first parameter",
		`method OnJsonData: invalid handler: OnJSONData handles the event "json_data" too`,
	} {
		assert.Contains(t, msg, "socketio: Register[socketio.broken]: "+want)
	}
	assert.NotContains(t, msg, "OnFine")
	assert.Empty(t, handlerNames(ns), "nothing is registered, not even OnFine")
	ns.mu.RLock()
	assert.Nil(t, ns.onConnect)
	assert.Empty(t, ns.registered)
	ns.mu.RUnlock()
}

type pointerMethods struct{}

func (*pointerMethods) OnPing() string { return "pong" }

type noHandlers struct{}

func (noHandlers) Helper() {}

func TestRegisterRefusesTypesItCannotUse(t *testing.T) {
	ns := newNamespace("", quietOpts())
	err := Register(ns, func(*Socket) pointerMethods { return pointerMethods{} })
	assert.ErrorIs(t, err, ErrBadHandler)
	assert.ErrorContains(t, err, "method OnPing: invalid handler: it has a pointer receiver, and newT returns a socketio.pointerMethods, not a *socketio.pointerMethods")
	assert.ErrorIs(t, Register(ns, func(*Socket) noHandlers { return noHandlers{} }), ErrBadHandler)
	assert.ErrorIs(t, Register(ns, func(*Socket) fmt.Stringer { return nil }), ErrBadHandler)
	assert.ErrorIs(t, Register[*perSocket](ns, nil), ErrBadHandler)
	assert.Empty(t, handlerNames(ns))
}

func TestRegisterNeverReplaces(t *testing.T) {
	newSession := func(s *Socket) *perSocket { return &perSocket{s: s, log: &eventLog{}} }

	ns := newNamespace("", quietOpts())
	require.NoError(t, ns.On("count", func(*Socket) string { return "mine" }))
	ns.OnConnect(func(*Socket) {})
	ns.OnDisconnect(func(*Socket, string) {})
	err := Register(ns, newSession)
	assert.ErrorIs(t, err, ErrAlreadyRegistered)
	assert.ErrorContains(t, err, `method OnCount: already registered: the event "count" has a handler`)
	assert.ErrorContains(t, err, "method OnConnect: already registered: the namespace has a connect hook")
	assert.ErrorContains(t, err, "method OnDisconnect: already registered: the namespace has a disconnect hook")
	assert.Equal(t, []string{"count"}, handlerNames(ns), "nothing of the type was registered")

	ns = newNamespace("", quietOpts())
	require.NoError(t, Register(ns, newSession))
	err = Register(ns, newSession)
	assert.ErrorIs(t, err, ErrAlreadyRegistered, "the same type twice")
	assert.ErrorContains(t, err, "method InitialACL: already registered: another Register type has InitialACL")
	ns.mu.RLock()
	assert.Len(t, ns.registered, 1)
	ns.mu.RUnlock()

	// The setters still replace what Register set.
	require.NoError(t, ns.On("count", func(*Socket) string { return "replaced" }))
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:1+::{"name":"count"}`))
	c.waitExact(t, `6:::1+["replaced"]`)
}

func TestRegisterFactoryPanicDisconnects(t *testing.T) {
	ns := newNamespace("/p", quietOpts())
	require.NoError(t, Register(ns, func(*Socket) *perSocket { panic("no database") }))
	s, c := connect(t, ns, "a")
	waitIdle(t, s)
	assert.True(t, s.Disconnected(), "a socket without its value is disconnected")
	assert.Equal(t, []string{"1::/p", "0::/p"}, c.sent())
}

func TestSocketConnectedBeforeRegisterHasNoValue(t *testing.T) {
	ns := newNamespace("", quietOpts())
	s, c := connect(t, ns, "a")
	require.NoError(t, Register(ns, func(s *Socket) *perSocket { return &perSocket{s: s, log: &eventLog{}} }))
	s.handlePacket(decode(t, `5:1+::{"name":"count"}`))
	s.handlePacket(decode(t, `5:2+::{"name":"x"}`))
	waitIdle(t, s)
	assert.Equal(t, []string{"1::"}, c.sent(), "its Register events are ignored, as events without handlers")
	s.close(ReasonPacket) // OnDisconnect finds no value either
	waitIdle(t, s)
}

// Every setter replaces the handler or hook it sets.
func TestSettersReplace(t *testing.T) {
	ns := newNamespace("/r", quietOpts())
	log := &eventLog{}
	ns.OnConnect(func(s *Socket) { log.add("connect 1") })
	ns.OnConnect(func(s *Socket) { log.add("connect 2") })
	ns.OnDisconnect(func(s *Socket, _ string) { log.add("disconnect 1") })
	ns.OnDisconnect(func(s *Socket, _ string) { log.add("disconnect 2") })
	ns.OnMessage(func(s *Socket, _ string, _ AckFunc) { log.add("message 1") })
	ns.OnMessage(func(s *Socket, _ string, _ AckFunc) { log.add("message 2") })
	ns.OnJSON(func(s *Socket, _ json.RawMessage, _ AckFunc) { log.add("json 1") })
	ns.OnJSON(func(s *Socket, _ json.RawMessage, _ AckFunc) { log.add("json 2") })
	require.NoError(t, ns.On("a", func(*Socket) string { return "on 1" }))
	require.NoError(t, ns.OnRaw("a", func(_ *Socket, _ []json.RawMessage, ack AckFunc) { _ = ack("raw 2") }))
	require.NoError(t, ns.OnRaw("b", func(_ *Socket, _ []json.RawMessage, ack AckFunc) { _ = ack("raw 1") }))
	require.NoError(t, Handle(ns, "b", func(*Socket, string) (string, error) { return "handle 2", nil }))
	require.NoError(t, Handle(ns, "c", func(*Socket, string) (string, error) { return "handle 1", nil }))
	require.NoError(t, Handle2(ns, "c", func(*Socket, string, int) (string, error) { return "handle2 2", nil }))
	require.NoError(t, Handle2(ns, "d", func(*Socket, string, int) (string, error) { return "handle2 1", nil }))
	require.NoError(t, ns.On("d", func(*Socket) string { return "on 2" }))

	s, c := connect(t, ns, "x")
	for i, ev := range []string{"a", "b", "c", "d"} {
		s.handlePacket(decode(t, fmt.Sprintf(`5:%d+:/r:{"name":%q}`, i+1, ev)))
	}
	s.handlePacket(decode(t, `3::/r:hi`))
	s.handlePacket(decode(t, `4::/r:{}`))
	waitIdle(t, s)
	s.close(ReasonPacket)
	waitIdle(t, s)
	assert.Equal(t, []string{"1::/r", `6::/r:1+["raw 2"]`, `6::/r:2+["handle 2"]`, `6::/r:3+["handle2 2"]`, `6::/r:4+["on 2"]`}, c.sent())
	assert.Equal(t, []string{"connect 2", "message 2", "json 2", "disconnect 2"}, log.list())

	ns.OnConnect(nil)
	ns.OnDisconnect(nil)
	s2, c2 := connect(t, ns, "y")
	s2.close(ReasonPacket)
	waitIdle(t, s2)
	assert.Equal(t, []string{"1::/r"}, c2.sent())
	assert.Equal(t, []string{"connect 2", "message 2", "json 2", "disconnect 2"}, log.list(), "nil removes a hook")
}

// One way in for typed handlers, one for raw ones: On refuses a raw
// handler, pointing to OnRaw.
func TestOnRefusesRawHandlers(t *testing.T) {
	ns := newNamespace("", quietOpts())
	raw := func(*Socket, []json.RawMessage, AckFunc) {}
	for _, fn := range []any{raw, RawHandler(raw)} {
		err := ns.On("e", fn)
		assert.ErrorIs(t, err, ErrBadHandler)
		assert.EqualError(t, err, "socketio: invalid handler: a handler taking an AckFunc is a raw handler: register it with OnRaw, not On")
	}
	assert.ErrorIs(t, ns.OnRaw("e", nil), ErrBadHandler)
	assert.ErrorIs(t, ns.OnRaw("message", raw), ErrReservedEvent)
	assert.Empty(t, handlerNames(ns))
	require.NoError(t, ns.OnRaw("e", raw))
	assert.Equal(t, []string{"e"}, handlerNames(ns))
}

func TestHandleRefusesReservedEvents(t *testing.T) {
	ns := newNamespace("", quietOpts())
	for _, ev := range []string{"connect", "disconnect", "message"} {
		assert.ErrorIs(t, Handle(ns, ev, func(*Socket, string) (string, error) { return "", nil }), ErrReservedEvent)
		assert.ErrorIs(t, Handle2(ns, ev, func(*Socket, string, string) (string, error) { return "", nil }), ErrReservedEvent)
		assert.ErrorIs(t, ns.On(ev, func(*Socket) {}), ErrReservedEvent)
	}
	assert.Empty(t, handlerNames(ns))
}

// Handle and Handle2 answer every call as On answers it with a typed
// handler of the same signature: the same decoding (or refusal of a bad
// argument), the same ack, the same error answer.
func TestHandleMatchesOn(t *testing.T) {
	type point struct{ X, Y int }
	errBoom := errors.New("boom")
	var saw []string
	seen := func(format string, args ...any) { saw = append(saw, fmt.Sprintf(format, args...)) }
	cases := []struct {
		name   string
		handle func(ns *Namespace) error
		on     any
	}{
		{"string->string",
			func(ns *Namespace) error {
				return Handle(ns, "e", func(_ *Socket, a string) (string, error) { seen("%q", a); return a + "!", nil })
			},
			func(_ *Socket, a string) (string, error) { seen("%q", a); return a + "!", nil }},
		{"int->bool error",
			func(ns *Namespace) error {
				return Handle(ns, "e", func(_ *Socket, a int) (bool, error) {
					seen("%d", a)
					if a == 2 {
						return false, errBoom
					}
					return a > 0, nil
				})
			},
			func(_ *Socket, a int) (bool, error) {
				seen("%d", a)
				if a == 2 {
					return false, errBoom
				}
				return a > 0, nil
			}},
		{"struct->map",
			func(ns *Namespace) error {
				return Handle(ns, "e", func(_ *Socket, p point) (map[string]int, error) {
					seen("%v", p)
					return map[string]int{"sum": p.X + p.Y}, nil
				})
			},
			func(_ *Socket, p point) (map[string]int, error) {
				seen("%v", p)
				return map[string]int{"sum": p.X + p.Y}, nil
			}},
		{"raw,int64->any",
			func(ns *Namespace) error {
				return Handle2(ns, "e", func(_ *Socket, r json.RawMessage, n int64) (any, error) {
					seen("%s %d", r, n)
					return []any{r, n}, nil
				})
			},
			func(_ *Socket, r json.RawMessage, n int64) (any, error) { seen("%s %d", r, n); return []any{r, n}, nil }},
		{"bool,string->chan (does not marshal)",
			func(ns *Namespace) error {
				return Handle2(ns, "e", func(_ *Socket, b bool, s string) (any, error) { seen("%v %q", b, s); return make(chan int), nil })
			},
			func(_ *Socket, b bool, s string) (any, error) { seen("%v %q", b, s); return make(chan int), nil }},
	}
	argLists := []string{``, `,"args":[]`, `,"args":[null]`}
	for _, a := range []string{`"x"`, `"a\"b"`, `2`, `-1`, `1.5`, `true`, `{"X":1,"Y":2}`, `[1]`, `"\u00e9"`} {
		argLists = append(argLists, `,"args":[`+a+`]`)
		for _, b := range []string{`"y"`, `7`, `false`, `{}`} {
			argLists = append(argLists, `,"args":[`+a+`,`+b+`]`, `,"args":[`+a+`,`+b+`,3]`)
		}
	}
	run := func(register func(ns *Namespace) error, args, id string) ([]string, []string) {
		saw = nil
		ns := newNamespace("", quietOpts())
		require.NoError(t, register(ns))
		s, c := connect(t, ns, "a")
		s.handlePacket(decode(t, `5:`+id+`::{"name":"e"`+args+`}`))
		waitIdle(t, s)
		return saw, c.sent()
	}
	for _, tc := range cases {
		for _, args := range argLists {
			for _, id := range []string{"", "1", "1+"} {
				genSaw, genSent := run(tc.handle, args, id)
				onSaw, onSent := run(func(ns *Namespace) error { return ns.On("e", tc.on) }, args, id)
				assert.Equal(t, onSaw, genSaw, "%s %s id %q: the handler saw", tc.name, args, id)
				assert.Equal(t, onSent, genSent, "%s %s id %q: sent", tc.name, args, id)
			}
		}
	}
}

// embedsSocket embeds its socket, as gevent's namespaces reach theirs
// through self.
type embedsSocket struct{ *Socket }

func (e embedsSocket) OnHi(name string) { _ = e.Emit("hi", name, e.ID()) }

func TestRegisterTypeEmbeddingItsSocket(t *testing.T) {
	ns := newNamespace("", quietOpts())
	require.NoError(t, Register(ns, func(s *Socket) embedsSocket { return embedsSocket{s} }))
	assert.Equal(t, []string{"hi"}, handlerNames(ns), "no method of the Socket is a handler")
	s, c := connect(t, ns, "a")
	s.handlePacket(decode(t, `5:::{"name":"hi","args":["ada"]}`))
	c.waitExact(t, `5:::{"name":"hi","args":["ada","a"]}`)
}
