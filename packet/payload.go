package packet

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/siogo/siogo/internal/utf16n"
)

// frameMark is U+FFFD, the payload frame separator.
const frameMark = "\ufffd"

// UTF16Len returns the length of s in UTF-16 code units, the unit the
// payload framing counts in. Invalid UTF-8 bytes count one unit each (they
// decode as U+FFFD).
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// utf16Prefix returns the byte length of the longest prefix of s that is
// exactly units UTF-16 code units long, or -1 if s is too short or the
// boundary would split a surrogate pair.
func utf16Prefix(s string, units int) int {
	i := 0
	for units > 0 {
		if i >= len(s) {
			return -1
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if w > units {
			return -1
		}
		units -= w
		i += size
	}
	return i
}

// IsFramed reports whether payload s is framed (starts with U+FFFD), as
// several packets are; otherwise it is one bare packet.
func IsFramed(s string) bool { return strings.HasPrefix(s, frameMark) }

// SplitPayload splits a payload into its packets' wire forms without
// decoding them. A body that does not start with U+FFFD is one bare packet.
// maxPackets > 0 bounds how many packets are accepted.
func SplitPayload(s string, maxPackets int) ([]string, error) {
	if !IsFramed(s) {
		if s == "" {
			return nil, fmt.Errorf("%w: empty payload", ErrPayload)
		}
		return []string{s}, nil
	}
	var out []string
	for len(s) > 0 {
		if !IsFramed(s) {
			return out, fmt.Errorf("%w: expected U+FFFD before a length", ErrPayload)
		}
		s = s[len(frameMark):]
		j := 0
		for j < len(s) && j < 10 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 || len(s) < j+len(frameMark) || s[j:j+len(frameMark)] != frameMark {
			return out, fmt.Errorf("%w: bad length field", ErrPayload)
		}
		n, _ := strconv.Atoi(s[:j])
		s = s[j+len(frameMark):]
		end := utf16Prefix(s, n)
		if end < 0 {
			return out, fmt.Errorf("%w: length %d runs past the end", ErrPayload, n)
		}
		if maxPackets > 0 && len(out) >= maxPackets {
			return out, fmt.Errorf("%w: more than %d packets", ErrPayload, maxPackets)
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out, nil
}

// AppendPayload appends the payload form of the encoded packets to dst: a
// single packet bare, several each framed as U+FFFD LEN U+FFFD PACKET.
func AppendPayload(dst []byte, packets [][]byte) []byte {
	if len(packets) == 1 {
		return append(dst, packets[0]...)
	}
	for _, p := range packets {
		dst = append(dst, frameMark...)
		dst = strconv.AppendInt(dst, int64(utf16n.Len(p)), 10)
		dst = append(dst, frameMark...)
		dst = append(dst, p...)
	}
	return dst
}

// JSONDepth returns the deepest nesting of JSON arrays and objects in s,
// ignoring brackets inside strings. It does not validate; it lets a
// server refuse absurdly nested data before decoding it.
func JSONDepth(s string) int {
	depth, max := 0, 0
	inString, escaped := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth > max {
				max = depth
			}
		case ']', '}':
			depth--
		}
	}
	return max
}
