// Package lazylog writes log records with per-object attributes (a
// session's id, a socket's namespace) that are built only when a record is
// written, instead of a logger made with Logger.With per object, which
// would cost each object a handler of its own; and it clips the strings a
// client chose (Client, ClientErr) so that logging them stays cheap.
package lazylog

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"time"
	"unicode/utf8"
)

// Enabled reports whether l writes records at level.
func Enabled(l *slog.Logger, level slog.Level) bool {
	return l.Enabled(context.Background(), level)
}

// Write writes a record to l with attrs first, then args, as a logger made
// with l.With(attrs...) would. Its source is the caller of Write's caller
// (the object's log method). Check Enabled first.
func Write(l *slog.Logger, level slog.Level, msg string, attrs []slog.Attr, args []any) {
	var pc [1]uintptr
	runtime.Callers(3, pc[:]) // the caller of the log method that called Write
	r := slog.NewRecord(time.Now(), level, msg, pc[0])
	r.AddAttrs(attrs...)
	r.Add(args...)
	_ = l.Handler().Handle(context.Background(), r)
}

// ClipBytes is how many bytes of a client-supplied string a log record
// shows.
const ClipBytes = 128

// Client returns a log value for a string the client chose (an event
// name, an endpoint, an Origin header): the string itself when it has at
// most ClipBytes bytes; otherwise its first ClipBytes bytes (cut at a rune
// boundary) followed by "…" and the full length, as in
// `abcd…(1048576 bytes)`, so that one client cannot write
// megabytes into the log. The cut is made only if the record is written.
func Client(s string) slog.LogValuer { return clientString(s) }

// ClientErr is Client for an error whose text may quote what the client
// sent (a decode error). A nil error logs as <nil>.
func ClientErr(err error) slog.LogValuer { return clientErr{err} }

type clientString string

func (s clientString) LogValue() slog.Value { return slog.StringValue(Clip(string(s))) }

type clientErr struct{ err error }

func (e clientErr) LogValue() slog.Value {
	if e.err == nil {
		return slog.StringValue("<nil>")
	}
	return slog.StringValue(Clip(e.err.Error()))
}

// Clip returns s cut as Client describes.
func Clip(s string) string {
	if len(s) <= ClipBytes {
		return s
	}
	n := ClipBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
