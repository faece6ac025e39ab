package socketio

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/siogo/siogo/acl"
)

// Errors of handler registration.
var (
	// ErrBadHandler refuses a handler On or Register cannot call: not a
	// func of a handler form, a parameter or result JSON cannot carry, a
	// hook method of the wrong signature.
	ErrBadHandler = errors.New("socketio: invalid handler")
	// ErrAlreadyRegistered refuses a Register that would replace a
	// handler or hook already set: an event handler, the connect or
	// disconnect hook, or another Register type's InitialACL.
	ErrAlreadyRegistered = errors.New("socketio: already registered")
)

// checkEvent refuses the event names a handler cannot have: "connect"
// and "disconnect" (the socket's own life, which OnConnect and
// OnDisconnect hook; a client's "disconnect" event is dropped) and
// "message" (plain-text messages, which OnMessage handles).
func checkEvent(event string) error {
	switch event {
	case "connect", "disconnect", "message":
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	return nil
}

// reservedMethods are the On<Name> method names Register refuses besides
// those of reserved events, with why.
var reservedMethods = map[string]string{
	"OnJSON":      "JSON message packets are handled by Namespace.OnJSON, not by Register",
	"OnUnhandled": "events without a handler go to Namespace.OnUnhandled, not to Register",
}

// registration is one Register call: it makes a socket's value, and its
// InitialACL, if its type has one.
type registration struct {
	newValue   func(*Socket) any
	initialACL func(v any, s *Socket) acl.Set // nil: the type has no InitialACL
}

// The hooks a Register type may have, each in two forms: without the
// socket, for a value made per socket (which holds it), and with it, for
// a value shared between sockets.
type (
	connectHook          interface{ OnConnect() }
	connectSocketHook    interface{ OnConnect(*Socket) }
	disconnectHook       interface{ OnDisconnect(reason string) }
	disconnectSocketHook interface {
		OnDisconnect(s *Socket, reason string)
	}
	initialACLHook       interface{ InitialACL() acl.Set }
	initialACLSocketHook interface{ InitialACL(*Socket) acl.Set }
)

// hookMethods are the methods Register treats as hooks, with the forms
// it accepts.
var hookMethods = map[string]struct {
	forms []reflect.Type
	want  string
}{
	"OnConnect":    {[]reflect.Type{reflect.TypeFor[connectHook](), reflect.TypeFor[connectSocketHook]()}, "func() or func(*Socket)"},
	"OnDisconnect": {[]reflect.Type{reflect.TypeFor[disconnectHook](), reflect.TypeFor[disconnectSocketHook]()}, "func(reason string) or func(*Socket, string)"},
	"InitialACL":   {[]reflect.Type{reflect.TypeFor[initialACLHook](), reflect.TypeFor[initialACLSocketHook]()}, "func() acl.Set or func(*Socket) acl.Set"},
}

// Register makes the methods of T the handlers of ns, the way
// gevent-socketio's BaseNamespace does: newT is called once for each
// socket that connects, and that socket's events run the methods of the
// value it returned, so a value holds one client's state (and its socket,
// which newT receives) without locks of its own: a socket's handlers run
// one at a time.
//
// Every exported method named On<Name> (On followed by an upper-case
// letter or a digit) is the handler of the event EventName(method) — see
// EventName for the rule: OnSendMessage handles "send_message",
// OnJSONData "json_data". Its parameters and results are those of a
// typed handler of On without the *Socket: OnSay(text string) (string,
// error) handles ["say", "hi"] and acknowledges its string result; the
// method may take the *Socket first too, which a value shared by every
// socket (newT returning the same value each time) needs. Other methods
// are not looked at, so T may have helpers.
//
// Three methods are hooks, each with or without the *Socket as only or
// first parameter:
//
//   - OnConnect() runs when the socket has connected, as Namespace.OnConnect.
//   - OnDisconnect(reason string) runs once when it disconnects, as
//     Namespace.OnDisconnect.
//   - InitialACL() acl.Set gives the socket's initial ACL (gevent's
//     get_initial_acl), instead of Namespace.SetInitialACL's set; nil
//     allows every event. It governs all the socket's events, not only
//     T's.
//
// T may embed the *Socket, to call its methods as gevent's self.emit:
// type chat struct{ *socketio.Socket }; the Socket has no On<Name>
// methods, so nothing of it becomes a handler.
//
// When a socket connects, newT runs on its handler goroutine, then
// InitialACL, then OnConnect, before any of its events. If newT panics,
// the panic is logged and the socket disconnected.
//
// Register is all or nothing: it sets no handler unless every On<Name>
// method and hook is valid, and it returns every problem joined
// (errors.Join), each naming its method: a reserved event name
// ("connect", "disconnect", "message": ErrReservedEvent) or method name
// (OnJSON), two methods of one event, a hook of the wrong signature or a
// parameter JSON cannot carry (ErrBadHandler). Unlike the On* setters,
// which replace, Register never replaces: an event that already has a
// handler, a hook already set and a second Register type with
// InitialACL fail with ErrAlreadyRegistered. After Register, On and the
// hook setters may still replace what it set. Sockets connected before
// Register get no value, and its events are ignored for them. Several
// Register calls on one namespace, with different T, each make a value
// per socket.
func Register[T any](ns *Namespace, newT func(*Socket) T) error {
	t := reflect.TypeFor[T]()
	if newT == nil {
		return fmt.Errorf("%w: Register[%s]: nil factory", ErrBadHandler, t)
	}
	if t.Kind() == reflect.Interface {
		return fmt.Errorf("%w: Register[%s]: T must be a concrete type, not an interface", ErrBadHandler, t)
	}
	var (
		errs     []error
		idx      int // the registration's index, set before any handler can run
		names    []string
		handlers []eventHandler
		byEvent  = map[string]string{} // event -> method
		has      = map[string]bool{}   // hook method name -> T has it
	)
	fail := func(method string, err error) {
		errs = append(errs, &registerError{fmt.Sprintf("socketio: Register[%s]: method %s: ", t, method), err})
	}
	recv := func(s *Socket) (reflect.Value, bool) {
		v := s.value(idx)
		if v == nil {
			return reflect.Value{}, false
		}
		return reflect.ValueOf(v), true
	}
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		if hook, ok := hookMethods[m.Name]; ok {
			if !t.Implements(hook.forms[0]) && !t.Implements(hook.forms[1]) {
				fail(m.Name, fmt.Errorf("%w: a hook must be %s, is %s", ErrBadHandler, hook.want, methodSignature(m)))
				continue
			}
			has[m.Name] = true
			continue
		}
		if !isHandlerMethod(m.Name) {
			continue
		}
		if why, ok := reservedMethods[m.Name]; ok {
			fail(m.Name, fmt.Errorf("%w: %s", ErrReservedEvent, why))
			continue
		}
		event := EventName(m.Name)
		if err := checkEvent(event); err != nil {
			fail(m.Name, err)
			continue
		}
		if other, dup := byEvent[event]; dup {
			fail(m.Name, fmt.Errorf("%w: %s handles the event %q too", ErrBadHandler, other, event))
			continue
		}
		byEvent[event] = m.Name
		th, err := newTypedHandler(m.Func, 1)
		if err != nil {
			fail(m.Name, err)
			continue
		}
		th.recv = recv
		names = append(names, event)
		handlers = append(handlers, eventHandler{typed: th})
	}
	if t.Kind() != reflect.Pointer {
		pt := reflect.PointerTo(t)
		for i := 0; i < pt.NumMethod(); i++ {
			m := pt.Method(i)
			if _, onValue := t.MethodByName(m.Name); !onValue && (isHandlerMethod(m.Name) || hookMethods[m.Name].want != "") {
				fail(m.Name, fmt.Errorf("%w: it has a pointer receiver, and newT returns a %s, not a *%s", ErrBadHandler, t, t))
			}
		}
	}
	if len(errs) == 0 && len(names) == 0 && len(has) == 0 {
		return fmt.Errorf("%w: Register[%s]: no On<Name> method and no hook", ErrBadHandler, t)
	}
	reg := registration{newValue: func(s *Socket) any { return newT(s) }}
	if has["InitialACL"] {
		reg.initialACL = func(v any, s *Socket) acl.Set {
			if h, ok := v.(initialACLHook); ok {
				return h.InitialACL()
			}
			return v.(initialACLSocketHook).InitialACL(s)
		}
	}

	ns.mu.Lock()
	defer ns.mu.Unlock()
	for i, event := range names {
		if _, taken := ns.handlers[event]; taken {
			fail(byEvent[event], fmt.Errorf("%w: the event %q has a handler", ErrAlreadyRegistered, event))
			names[i] = ""
		}
	}
	if has["OnConnect"] && ns.onConnect != nil {
		fail("OnConnect", fmt.Errorf("%w: the namespace has a connect hook", ErrAlreadyRegistered))
	}
	if has["OnDisconnect"] && ns.onDisconnect != nil {
		fail("OnDisconnect", fmt.Errorf("%w: the namespace has a disconnect hook", ErrAlreadyRegistered))
	}
	if reg.initialACL != nil {
		for _, r := range ns.registered {
			if r.initialACL != nil {
				fail("InitialACL", fmt.Errorf("%w: another Register type has InitialACL", ErrAlreadyRegistered))
				break
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	idx = len(ns.registered)
	ns.registered = append(ns.registered, reg)
	for i, event := range names {
		ns.handlers[event] = handlers[i]
	}
	if has["OnConnect"] {
		ns.onConnect = func(s *Socket) {
			switch v := s.value(idx).(type) {
			case connectHook:
				v.OnConnect()
			case connectSocketHook:
				v.OnConnect(s)
			}
		}
	}
	if has["OnDisconnect"] {
		ns.onDisconnect = func(s *Socket, reason string) {
			switch v := s.value(idx).(type) {
			case disconnectHook:
				v.OnDisconnect(reason)
			case disconnectSocketHook:
				v.OnDisconnect(s, reason)
			}
		}
	}
	return nil
}

// registerError is the error of one method Register refuses: its prefix
// names the type and method, and the "socketio: " of err is not repeated.
type registerError struct {
	prefix string
	err    error
}

func (e *registerError) Error() string {
	return e.prefix + strings.TrimPrefix(e.err.Error(), "socketio: ")
}

func (e *registerError) Unwrap() error { return e.err }

// makeValues makes the socket's values of the namespace's Register types
// and applies the InitialACL of the one that has it. It runs as the
// socket's first job; if a factory panics, the socket is disconnected
// (and the panic logged by runJob).
func (s *Socket) makeValues(regs []registration) {
	if len(regs) == 0 {
		return
	}
	ok := false
	defer func() {
		if !ok {
			s.Disconnect()
		}
	}()
	values := make([]any, len(regs))
	for i, r := range regs {
		values[i] = r.newValue(s)
	}
	s.values = &values
	for i, r := range regs {
		if r.initialACL != nil {
			s.SetACL(r.initialACL(values[i], s))
		}
	}
	ok = true
}

// value returns the socket's value of registration i, or nil.
func (s *Socket) value(i int) any {
	if s.values != nil && i < len(*s.values) {
		return (*s.values)[i]
	}
	return nil
}

// isHandlerMethod reports whether a method named name is an event
// handler for Register: "On" followed by an upper-case letter or a digit.
func isHandlerMethod(name string) bool {
	rest, ok := strings.CutPrefix(name, "On")
	if !ok || rest == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return unicode.IsUpper(r) || unicode.IsDigit(r)
}

// methodSignature is m's signature without the receiver, for errors.
func methodSignature(m reflect.Method) string {
	var b strings.Builder
	b.WriteString("func(")
	for i := 1; i < m.Type.NumIn(); i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		b.WriteString(m.Type.In(i).String())
	}
	b.WriteString(")")
	switch n := m.Type.NumOut(); n {
	case 0:
	case 1:
		b.WriteString(" " + m.Type.Out(0).String())
	default:
		b.WriteString(" (")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(m.Type.Out(i).String())
		}
		b.WriteString(")")
	}
	return b.String()
}

// EventName is the rule by which Register maps a method name to an event:
// the "On" prefix is dropped and the rest, split into words, is written
// in snake_case. A word starts at an upper-case letter that follows a
// lower-case letter or a digit, and at the last upper-case letter of a
// run when a lower-case letter follows it; so an acronym is one word, a
// lower-case "s" ending an acronym (IDs, URLs) stays in it, and digits
// stay with the word before them. An underscore is kept, and no other is
// added next to it.
//
//	OnChat               chat
//	OnSendMessage        send_message
//	OnJSONData           json_data
//	OnGetUserByID        get_user_by_id
//	OnListIDs            list_ids
//	OnHTTP2Ping          http2_ping
//	OnPlayer1Move        player1_move
//	OnV2                 v2
//	OnKick_Ban           kick_ban
//
// Events whose names do not come out of this rule (with a hyphen or a
// space, say) are handled with Namespace.On.
func EventName(method string) string {
	name := []rune(strings.TrimPrefix(method, "On"))
	var b strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) && wordStart(name, i) && name[i-1] != '_' {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// wordStart reports whether the upper-case letter name[i] (i > 0)
// starts a word (see EventName).
func wordStart(name []rune, i int) bool {
	prev := name[i-1]
	if unicode.IsLower(prev) || unicode.IsDigit(prev) {
		return true
	}
	if !unicode.IsUpper(prev) || i+1 >= len(name) || !unicode.IsLower(name[i+1]) {
		return false
	}
	// name[i] ends a run of upper-case letters and a lower-case letter
	// follows: it starts a word (JSONData), unless that letter is the "s"
	// of a plural acronym (IDs, URLsFor).
	plural := name[i+1] == 's' && (i+2 == len(name) || !unicode.IsLower(name[i+2]))
	return !plural
}
