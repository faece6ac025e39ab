package transport

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// checkQueryValue compares QueryValue with url.ParseQuery's Get and Has.
func checkQueryValue(t *testing.T, raw, name string) {
	t.Helper()
	q, _ := url.ParseQuery(raw)
	v, ok := QueryValue(raw, name)
	assert.Equal(t, q.Has(name), ok, "Has(%q) of %q", name, raw)
	assert.Equal(t, q.Get(name), v, "Get(%q) of %q", name, raw)
}

func TestQueryValueAsParseQuery(t *testing.T) {
	raws := []string{
		"", "EIO=4&transport=websocket", "EIO=4&transport=polling&t=N8hyd6w&sid=abc",
		"EIO", "EIO=", "EIO=&EIO=4", "=4", "&&EIO=3&", "EIO=4;x=1&EIO=3", "EIO=4&EIO=3",
		"E%49O=4", "EIO=%34", "EIO=%zz&EIO=3", "E%zzIO=1&EIO=2", "b64=1", "b64", "a+b=c+d",
		"sid=a%20b", "transport=web%socket&transport=polling", "j=1&b64=&x",
		strings.Repeat("a=1&", queryScanMax) + "EIO=4",
		strings.Repeat("a=1&", 10001) + "EIO=4",
	}
	names := []string{"EIO", "transport", "sid", "t", "b64", "j", "a b", "a", "", "x"}
	for _, raw := range raws {
		for _, name := range names {
			checkQueryValue(t, raw, name)
		}
	}
}

func TestQueryValueDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters")
	}
	raw := "EIO=4&transport=websocket&t=N8hyd6w&sid=Q2x8vwq3EhLd3TAWAAAB"
	n := testing.AllocsPerRun(100, func() {
		_, _ = QueryValue(raw, "EIO")
		_, _ = QueryValue(raw, "transport")
		_, _ = QueryValue(raw, "sid")
		_, _ = QueryValue(raw, "b64")
	})
	assert.Zero(t, n)
}

func FuzzQueryValue(f *testing.F) {
	f.Add("EIO=4&transport=websocket", "EIO")
	f.Add("E%49O=4;&EIO=%zz&EIO=+3", "EIO")
	f.Add("a+b=c&a%20b=d", "a b")
	f.Fuzz(func(t *testing.T, raw, name string) {
		checkQueryValue(t, raw, name)
	})
}
