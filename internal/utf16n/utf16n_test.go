package utf16n

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
)

func TestCounting(t *testing.T) {
	for _, s := range []string{"", "a", "hello", "€", "😀", "héllo wörld", "abcdefgh😀abcdefghijklmnop€",
		strings.Repeat("a", 17) + "é", "\xff\xfeabc", "\xe2\x82", "\u2028\u2029"} {
		want := len(utf16.Encode([]rune(s)))
		assert.Equal(t, want, Len([]byte(s)), "%q", s)
		assert.Equal(t, len(s), Prefix([]byte(s), want), "%q", s)
		assert.Equal(t, -1, Prefix([]byte(s), want+1), "%q", s)
	}
	assert.Equal(t, -1, Prefix([]byte("12345678😀"), 9), "splits the pair")
	assert.Equal(t, 8, Prefix([]byte("12345678😀"), 8))
}
