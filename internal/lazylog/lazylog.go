// Package lazylog writes log records with per-object attributes (a
// session's id, a socket's namespace) that are built only when a record is
// written, instead of a logger made with Logger.With per object, which
// would cost each object a handler of its own.
package lazylog

import (
	"context"
	"log/slog"
	"runtime"
	"time"
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
