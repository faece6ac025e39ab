package client

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func raws(ss ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(ss))
	for i, s := range ss {
		out[i] = json.RawMessage(s)
	}
	return out
}

// call runs h and returns what it acked (nil when it did not).
func call(t *testing.T, h handler, ns *Namespace, args []json.RawMessage) (string, error) {
	t.Helper()
	var acked *string
	ack := func(a ...any) error {
		raw, err := marshalArgs(a)
		require.NoError(t, err)
		s := argsJSON(raw)
		acked = &s
		return nil
	}
	err := h(ns, args, ack)
	if acked == nil {
		return "", err
	}
	return *acked, err
}

func TestHandlerOf(t *testing.T) {
	ns := &Namespace{name: "/chat"}

	h, err := handlerOf(func(s string, n int, m map[string]int) (string, int) { return s + "!", n * 2 })
	require.NoError(t, err)
	got, err := call(t, h, ns, raws(`"a"`, `21`, `{"x":1}`))
	require.NoError(t, err)
	assert.Equal(t, `["a!",42]`, got)

	// Missing arguments stay zero; extra ones are ignored.
	got, err = call(t, h, ns, nil)
	require.NoError(t, err)
	assert.Equal(t, `["!",0]`, got)
	got, err = call(t, h, ns, raws(`"a"`, `1`, `{}`, `"extra"`))
	require.NoError(t, err)
	assert.Equal(t, `["a!",2]`, got)

	// An argument that does not decode drops the event, no ack.
	got, err = call(t, h, ns, raws(`"a"`, `"not a number"`))
	assert.ErrorContains(t, err, "argument 1")
	assert.Empty(t, got)

	// Optional *Namespace first, variadic rest, raw JSON.
	h, err = handlerOf(func(n *Namespace, first json.RawMessage, rest ...int) []int {
		assert.Same(t, ns, n)
		assert.Equal(t, `{"k":[1]}`, string(first))
		return rest
	})
	require.NoError(t, err)
	got, err = call(t, h, ns, raws(`{"k":[1]}`, `1`, `2`, `3`))
	require.NoError(t, err)
	assert.Equal(t, `[[1,2,3]]`, got)
	got, err = call(t, h, ns, raws(`{"k":[1]}`, `1`, `"x"`))
	assert.ErrorContains(t, err, "argument 2")
	assert.Empty(t, got)

	// A trailing error: nil is not part of the ack; non-nil acks {"error"}.
	h, err = handlerOf(func(fail bool) (string, error) {
		if fail {
			return "", errors.New("it failed")
		}
		return "ok", nil
	})
	require.NoError(t, err)
	got, _ = call(t, h, ns, raws(`false`))
	assert.Equal(t, `["ok"]`, got)
	got, _ = call(t, h, ns, raws(`true`))
	assert.Equal(t, `[{"error":"it failed"}]`, got)

	// No ack requested: the results go nowhere, the handler still runs.
	ran := false
	h, err = handlerOf(func() int { ran = true; return 1 })
	require.NoError(t, err)
	require.NoError(t, h(ns, nil, nil))
	assert.True(t, ran)

	// Raw forms.
	var seen []json.RawMessage
	h, err = rawHandlerOf(RawHandler(func(args []json.RawMessage, ack AckFunc) { seen = args; assert.Nil(t, ack) }))
	require.NoError(t, err)
	require.NoError(t, h(ns, raws(`1`), nil))
	assert.Equal(t, raws(`1`), seen)
	h, err = rawHandlerOf(func(args []json.RawMessage, ack AckFunc) { seen = args })
	require.NoError(t, err)
	require.NoError(t, h(ns, raws(`2`), nil))
	assert.Equal(t, raws(`2`), seen)
	_, err = rawHandlerOf(nil)
	assert.Error(t, err)

	// On refuses the raw forms, pointing to OnRaw.
	for _, raw := range []any{
		RawHandler(func([]json.RawMessage, AckFunc) {}),
		func([]json.RawMessage, AckFunc) {},
		func(*Namespace, []json.RawMessage, AckFunc) {},
		func(string, func(...any) error) {},
	} {
		_, err := handlerOf(raw)
		assert.ErrorIs(t, err, errRawSignature, "%T", raw)
		assert.ErrorIs(t, err, ErrBadHandler, "%T", raw)
		assert.ErrorContains(t, err, "OnRaw", "%T", raw)
	}

	for _, bad := range []any{nil, 42, "x", (func())(nil)} {
		_, err := handlerOf(bad)
		assert.ErrorIs(t, err, ErrBadHandler, "%#v", bad)
	}
	_, err = rawHandlerOf(nil)
	assert.ErrorIs(t, err, ErrBadHandler)
}

func TestMarshalArgs(t *testing.T) {
	raw, err := marshalArgs([]any{"</script>&", json.RawMessage(`{"a":1}`), 1.5, nil, "\u2028"})
	require.NoError(t, err)
	// No HTML escaping; U+2028 always escaped by encoding/json.
	assert.Equal(t, raws(`"</script>&"`, `{"a":1}`, `1.5`, `null`, `"\u2028"`), raw)
	_, err = marshalArgs([]any{json.RawMessage(`{bad`)})
	assert.ErrorContains(t, err, "argument 0 is not valid JSON")
	_, err = marshalArgs([]any{func() {}})
	assert.ErrorContains(t, err, "argument 0")
	raw, err = marshalArgs(nil)
	require.NoError(t, err)
	assert.Nil(t, raw)
}

func TestParseJSONP(t *testing.T) {
	cases := []struct {
		body, want, err string
	}{
		{`io.j[0]("1::");`, "1::", ""},
		{`io.j[0]("\ufffd3\ufffd1::\ufffd3\ufffd2::")`, "\ufffd3\ufffd1::\ufffd3\ufffd2::", ""},
		// Escaped and raw separators, escaped </script>, astral plane.
		{"io.j[0](\"5:::{\\\"name\\\":\\\"a\\\",\\\"args\\\":[\\\"\\u003c/script\\u003e \u2028 \\u2029 😀\\\"]}\");",
			"5:::{\"name\":\"a\",\"args\":[\"</script> \u2028 \u2029 😀\"]}", ""},
		{"", "", ""},
		{`io.j[1]("1::");`, "", "does not start with"},
		{`io.j[0](new Error("handshake unauthorized"));`, "", `server error "handshake unauthorized"`},
		{`io.j[0]('single');`, "", "not a string literal"},
		{`io.j[0]("unterminated`, "", "not a call"},
	}
	for _, tc := range cases {
		got, err := parseJSONP(tc.body, "0")
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, "%q", tc.body)
			continue
		}
		require.NoError(t, err, "%q", tc.body)
		assert.Equal(t, tc.want, got, "%q", tc.body)
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := 100*time.Millisecond, 1600*time.Millisecond
	for n := 1; n <= 70; n++ {
		want := hi
		if n <= 5 {
			want = lo << (n - 1)
		}
		for range 20 {
			d := backoff(n, lo, hi)
			assert.GreaterOrEqual(t, d, want/2, "attempt %d", n)
			assert.LessOrEqual(t, d, want, "attempt %d", n)
		}
	}
	// Jitter: not always the same.
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[backoff(3, lo, hi)] = true
	}
	assert.Greater(t, len(seen), 1)
}

func TestErrorsText(t *testing.T) {
	herr := &HandshakeError{Status: 403, Body: "handshake unauthorized"}
	assert.ErrorIs(t, herr, ErrUnauthorized)
	assert.NotErrorIs(t, herr, ErrBadOrigin)
	assert.ErrorIs(t, &HandshakeError{Status: 403, Body: "handshake bad origin"}, ErrBadOrigin)
	assert.NotErrorIs(t, &HandshakeError{Status: 500, Body: "handshake error"}, ErrUnauthorized)
	nerr := &NamespaceError{Namespace: "/private", Err: ErrUnauthorized}
	assert.Equal(t, "client: namespace /private refused the client: unauthorized", nerr.Error())
	assert.ErrorIs(t, nerr, ErrUnauthorized)
	kerr := &NamespaceError{Namespace: "/chat", Err: ErrKicked}
	assert.Equal(t, "client: namespace /chat: client: disconnected by the server", kerr.Error())
}
