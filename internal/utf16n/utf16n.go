// Package utf16n measures UTF-8 text in UTF-16 code units, the unit in
// which the Socket.IO 0.9 and Engine.IO v3 payload framings count their
// packets' lengths (JavaScript string lengths). Invalid UTF-8 bytes count
// one unit each, as they do once decoded to U+FFFD. Pure, no allocation;
// runs of ASCII are counted eight bytes at a time.
package utf16n

import (
	"encoding/binary"
	"unicode/utf8"
)

// Len returns the length of b in UTF-16 code units.
func Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		if k := asciiRun(b, len(b)); k > 0 {
			n += k
			b = b[k:]
			continue
		}
		if b[0] < utf8.RuneSelf {
			n++
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		b = b[size:]
	}
	return n
}

// Prefix returns the byte length of the prefix of b that is exactly units
// UTF-16 code units long, or -1 if b is too short or the boundary would
// split a surrogate pair.
func Prefix(b []byte, units int) int {
	i := 0
	for units > 0 {
		if k := asciiRun(b[i:], units); k > 0 {
			units -= k
			i += k
			continue
		}
		if i >= len(b) {
			return -1
		}
		w, size := 1, 1
		if b[i] >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRune(b[i:])
			if r >= 0x10000 {
				w = 2
			}
		}
		if w > units {
			return -1
		}
		units -= w
		i += size
	}
	return i
}

// asciiRun returns a multiple of 8, at most max, of leading bytes of b
// that are all ASCII.
func asciiRun(b []byte, max int) int {
	k := 0
	for k+8 <= len(b) && k+8 <= max && binary.LittleEndian.Uint64(b[k:])&0x8080808080808080 == 0 {
		k += 8
	}
	return k
}
