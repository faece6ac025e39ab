package lazylog

import (
	"bytes"
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
