package transport

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestReadPostJSONP(t *testing.T) {
	body := "d=" + url.QueryEscape(`"5:::{\"name\":\"a\"}"`)
	r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
	got, err := ReadPost(r, JSONPPolling, 1<<10)
	require.NoError(t, err)
	assert.Equal(t, `5:::{"name":"a"}`, got)

	for _, bad := range []string{"", "x=1", "d=notjson", "d=%ZZ", "d=1&d=2", `d=["a"]`} {
		r := httptest.NewRequest("POST", "/x", strings.NewReader(bad))
		_, err := ReadPost(r, JSONPPolling, 1<<10)
		assert.ErrorIs(t, err, ErrBadJSONP, "%q", bad)
	}
}

func TestReadPostLimits(t *testing.T) {
	r := httptest.NewRequest("POST", "/x", strings.NewReader(strings.Repeat("a", 11)))
	_, err := ReadPost(r, XHRPolling, 10)
	assert.ErrorIs(t, err, ErrBodyTooLarge)
	r = httptest.NewRequest("POST", "/x", strings.NewReader(strings.Repeat("a", 10)))
	got, err := ReadPost(r, XHRPolling, 10)
	require.NoError(t, err)
	assert.Len(t, got, 10)
}

func TestWritePollEscapesForScripts(t *testing.T) {
	r := httptest.NewRequest("GET", "/x?i=7", nil)
	w := httptest.NewRecorder()
	WritePoll(w, r, JSONPPolling, [][]byte{[]byte("3:::</script>\u2028\u2029<!--")}, 0)
	body := w.Body.String()
	assert.True(t, strings.HasPrefix(body, `io.j[7]("`), body)
	assert.True(t, strings.HasSuffix(body, `");`), body)
	assert.NotContains(t, body, "</script>")
	assert.NotContains(t, body, "\u2028")
	assert.NotContains(t, body, "\u2029")
	assert.NotContains(t, body, "<!--")
	assert.Equal(t, "text/javascript; charset=UTF-8", w.Header().Get("Content-Type"))

	w = httptest.NewRecorder()
	WritePoll(w, httptest.NewRequest("GET", "/x?i=1);alert(1", nil), JSONPPolling, nil, 0)
	assert.Equal(t, `io.j[0]("8::");`, w.Body.String(), "a non-numeric index is not echoed")

	w = httptest.NewRecorder()
	WritePoll(w, r, XHRPolling, [][]byte{[]byte("1::"), []byte("3:::😀")}, 0)
	assert.Equal(t, "\ufffd3\ufffd1::\ufffd6\ufffd3:::😀", w.Body.String())
}

// FuzzReadPost: a polling POST body of any shape is either a payload or a
// clear error; it never panics and never exceeds the limit.
func FuzzReadPost(f *testing.F) {
	f.Add("d=%22abc%22", true)
	f.Add("5:::{}", false)
	f.Add("d=%22%5Cu2028%22&d=x", true)
	f.Fuzz(func(t *testing.T, body string, jsonp bool) {
		name := XHRPolling
		if jsonp {
			name = JSONPPolling
		}
		r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
		got, err := ReadPost(r, name, 256)
		if err != nil {
			if !errors.Is(err, ErrBadJSONP) && !errors.Is(err, ErrBodyTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if len(body) > 256 {
			t.Fatalf("accepted a body over the limit")
		}
		if !jsonp && got != body {
			t.Fatalf("xhr body changed")
		}
	})
}
