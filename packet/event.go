package packet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// decodeEvent fills p.Name and p.Args from the data of an event packet, a
// JSON object {"name": "NAME", "args": [...]}. It means exactly what
// decoding the object into a map[string]json.RawMessage and then "name"
// into a string and "args" into a []json.RawMessage would: the object must
// be valid JSON, keys are matched case-sensitively after unescaping, the
// last of duplicate keys wins, other keys are ignored. It costs one copy
// of data, which the args alias (each capped at its own end), and the args
// slice; a name without escapes aliases data.
func decodeEvent(data string, p *Packet) error {
	buf := []byte(data)
	if !json.Valid(buf) {
		return fmt.Errorf("%w: event data is not a JSON object", ErrMalformed)
	}
	i := skipSpace(buf, 0)
	if buf[i] != '{' {
		return fmt.Errorf("%w: event data is not a JSON object", ErrMalformed)
	}
	// Valid JSON: every structural check below is known to pass.
	name, args := -1, -1 // offsets of the values of the last "name" and "args"
	for i = skipSpace(buf, i+1); buf[i] != '}'; {
		keyEnd := skipValue(buf, i)
		key := buf[i:keyEnd]
		i = skipSpace(buf, skipSpace(buf, keyEnd)+1) // past ':'
		switch {
		case isKey(key, "name"):
			name = i
		case isKey(key, "args"):
			args = i
		}
		i = skipSpace(buf, skipValue(buf, i))
		if buf[i] == ',' {
			i = skipSpace(buf, i+1)
		}
	}
	if name < 0 || buf[name] != '"' {
		return fmt.Errorf("%w: event without a name", ErrMalformed)
	}
	raw := data[name:skipValue(buf, name)]
	if s := raw[1 : len(raw)-1]; !strings.Contains(s, `\`) && utf8.ValidString(s) {
		p.Name = s
	} else if err := json.Unmarshal([]byte(raw), &p.Name); err != nil {
		return fmt.Errorf("%w: event without a name", ErrMalformed)
	}
	if args < 0 || strings.HasPrefix(data[args:], "null") {
		return nil
	}
	if buf[args] != '[' {
		return fmt.Errorf("%w: event args are not an array", ErrMalformed)
	}
	p.Args = splitArray(buf, args)
	return nil
}

// isKey reports whether the JSON string key (quotes included) is want.
func isKey(key []byte, want string) bool {
	if len(key) == len(want)+2 && string(key[1:len(key)-1]) == want {
		return true
	}
	if bytes.IndexByte(key, '\\') < 0 {
		return false
	}
	var k string
	return json.Unmarshal(key, &k) == nil && k == want
}

// splitArray returns the elements of the valid JSON array starting at
// buf[i], each a slice of buf capped at its end; an empty array gives an
// empty, non-nil slice.
func splitArray(buf []byte, i int) []json.RawMessage {
	n := 0
	for j := skipSpace(buf, i+1); buf[j] != ']'; n++ {
		j = skipSpace(buf, skipValue(buf, j))
		if buf[j] == ',' {
			j = skipSpace(buf, j+1)
		}
	}
	out := make([]json.RawMessage, 0, n)
	for j := skipSpace(buf, i+1); buf[j] != ']'; {
		end := skipValue(buf, j)
		out = append(out, buf[j:end:end])
		j = skipSpace(buf, end)
		if buf[j] == ',' {
			j = skipSpace(buf, j+1)
		}
	}
	return out
}

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(buf []byte, i int) int {
	for i < len(buf) {
		switch buf[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the index just past the JSON value starting at buf[i],
// which must be valid.
func skipValue(buf []byte, i int) int {
	switch buf[i] {
	case '"':
		for i++; ; i++ {
			switch buf[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch buf[i] {
			case '"':
				i = skipValue(buf, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(buf) {
		switch buf[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}
