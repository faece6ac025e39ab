package lazylog

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

type thing struct{ log *slog.Logger }

func (t thing) logAt(level slog.Level, msg string, args ...any) {
	if Enabled(t.log, level) {
		Write(t.log, level, msg, []slog.Attr{slog.String("sid", "s1")}, args)
	}
}

func TestWriteAsWithWould(t *testing.T) {
	var got, want bytes.Buffer
	opts := &slog.HandlerOptions{AddSource: true, Level: slog.LevelInfo}
	th := thing{slog.New(slog.NewTextHandler(&got, opts))}
	th.logAt(slog.LevelInfo, "hello", "k", 1)
	th.logAt(slog.LevelDebug, "not written")
	slog.New(slog.NewTextHandler(&want, opts)).With("sid", "s1").Info("hello", "k", 1)
	line := func(b *bytes.Buffer) string { // without time and source line number
		s := b.String()
		s = s[strings.Index(s, " level="):]
		file, rest, _ := strings.Cut(s, ".go:")
		_, rest, _ = strings.Cut(rest, " ")
		return file + ".go " + rest
	}
	assert.Equal(t, line(&want), line(&got), "same attributes, in the same order, and the caller as source")
	assert.NotContains(t, got.String(), "not written")
	assert.Contains(t, got.String(), "lazylog_test.go")

	var js bytes.Buffer
	thing{slog.New(slog.NewJSONHandler(&js, opts))}.logAt(slog.LevelInfo, "where")
	assert.Contains(t, js.String(), `"function":"github.com/siogo/siogo/internal/lazylog.TestWriteAsWithWould"`,
		"the source is the log method's caller")
}

func TestClientStringsAreClipped(t *testing.T) {
	assert.Equal(t, "short", Clip("short"))
	exact := strings.Repeat("x", ClipBytes)
	assert.Equal(t, exact, Clip(exact), "ClipBytes bytes are shown whole")
	long := strings.Repeat("y", 1<<20)
	assert.Equal(t, strings.Repeat("y", ClipBytes)+"…(1048576 bytes)", Clip(long))
	// A multi-byte rune straddling the cut is dropped whole, not split.
	straddle := strings.Repeat("a", ClipBytes-1) + "é" + "tail"
	assert.Equal(t, strings.Repeat("a", ClipBytes-1)+"…(133 bytes)", Clip(straddle))

	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	l.Info("m", "event", Client(long), "err", ClientErr(errors.New(long)), "none", ClientErr(nil))
	assert.Less(t, buf.Len(), 3*ClipBytes+200, "the record stays small")
	assert.Contains(t, buf.String(), "(1048576 bytes)")
	assert.Contains(t, buf.String(), "none=<nil>")
}
