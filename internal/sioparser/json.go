package sioparser

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The scanners below walk JSON that json.Valid has accepted: they rely on
// it and never index past the end of what they are given.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] ('"').
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// unquote returns the value of the JSON string b (quotes included).
func unquote(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	if inner := b[1 : len(b)-1]; !slices.Contains(inner, '\\') && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return "", false
	}
	return s, true
}

// firstString returns the first element of the array d, quotes included,
// if it is a string.
func firstString(d []byte) ([]byte, bool) {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '[' {
		return nil, false
	}
	i = skipSpace(d, i+1)
	if i >= len(d) || d[i] != '"' {
		return nil, false
	}
	return d[i:skipString(d, i)], true
}

// reservedRaw reports whether the JSON string raw is a reserved event
// name, without allocating unless it has escapes.
func reservedRaw(raw []byte) bool {
	if len(raw) < 2 {
		return false
	}
	if inner := raw[1 : len(raw)-1]; !slices.Contains(inner, '\\') {
		return IsReservedEvent(string(inner))
	}
	name, _ := unquote(raw)
	return IsReservedEvent(name)
}

// SplitArray returns the elements of the JSON array data, which the
// decoder has checked (any valid JSON array works); they alias data.
func SplitArray(data json.RawMessage) ([]json.RawMessage, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' || !json.Valid(data) {
		return nil, malformed(ErrPayload, "not a JSON array")
	}
	out := make([]json.RawMessage, 0, 4) // an event's name and a few args
	i = skipSpace(data, i+1)
	for i < len(data) && data[i] != ']' {
		j := skipValue(data, i)
		out = append(out, data[i:j:j])
		i = skipSpace(data, j)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return out, nil
}

// SplitEvent returns the name and the arguments of an Event or
// BinaryEvent payload (["name", args...]); the arguments alias data.
func SplitEvent(data json.RawMessage) (name string, args []json.RawMessage, err error) {
	elems, err := SplitArray(data)
	if err != nil {
		return "", nil, err
	}
	if len(elems) == 0 {
		return "", nil, malformed(ErrPayload, "event without a name")
	}
	name, ok := unquote(elems[0])
	if !ok {
		return "", nil, malformed(ErrPayload, "event name is not a string")
	}
	return name, elems[1:], nil
}

// phScan collects the placeholders of a JSON value.
type phScan struct {
	nums   []int // placeholder numbers found, -1 for an invalid one
	lastPH bool  // the object scanned last (the outermost, at the end) is a placeholder
}

// value scans the value at b[i] and returns the index after it.
func (sc *phScan) value(b []byte, i int) int {
	i = skipSpace(b, i)
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '[':
		i = skipSpace(b, i+1)
		for i < len(b) && b[i] != ']' {
			i = skipSpace(b, sc.value(b, i))
			if i < len(b) && b[i] == ',' {
				i++
			}
			i = skipSpace(b, i)
		}
		return i + 1
	case '{':
		mark := len(sc.nums)
		isPH, num := false, []byte(nil)
		i = skipSpace(b, i+1)
		for i < len(b) && b[i] != '}' {
			ke := skipString(b, i)
			key := b[i:ke]
			i = skipSpace(b, ke)
			i = skipSpace(b, i+1) // ':'
			vs := i
			i = sc.value(b, i)
			v := b[vs:i]
			// Duplicate keys: the last wins, as in JSON.parse.
			switch keyIs(key) {
			case keyPlaceholder:
				isPH = string(v) == "true"
			case keyNum:
				num = v
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
			}
		}
		if isPH {
			// The placeholder stands for its buffer: what it contains
			// is not looked at (nor is it by the JavaScript parser).
			sc.nums = append(sc.nums[:mark], placeholderNum(num))
		}
		sc.lastPH = isPH
		return i + 1
	}
	return skipValue(b, i)
}

const (
	keyOther = iota
	keyPlaceholder
	keyNum
)

func keyIs(raw []byte) int {
	s := string(raw)
	switch s {
	case `"_placeholder"`:
		return keyPlaceholder
	case `"num"`:
		return keyNum
	}
	if !slices.Contains(raw, '\\') {
		return keyOther
	}
	k, _ := unquote(raw)
	switch k {
	case "_placeholder":
		return keyPlaceholder
	case "num":
		return keyNum
	}
	return keyOther
}

// placeholderNum parses a placeholder's num: a non-negative integer
// literal (no fraction, exponent or sign); -1 if it is not one.
func placeholderNum(v []byte) int {
	if len(v) == 0 || len(v) > 9 {
		return -1
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < 0 || v[0] == '-' || v[0] == '+' {
		return -1
	}
	return n
}

// checkPlaceholders checks that data holds placeholders numbered exactly
// 0..n-1, each once.
func checkPlaceholders(data []byte, n int) error {
	var buf [DefaultMaxAttachments]int
	sc := phScan{nums: buf[:0]}
	sc.value(data, 0)
	if len(sc.nums) != n {
		return malformed(ErrAttachments, "%d placeholders for %d attachments", len(sc.nums), n)
	}
	// Each number once and n of them: 0..n-1 are all there.
	var small uint64
	var seen []bool
	if n > 64 {
		seen = make([]bool, n)
	}
	for _, k := range sc.nums {
		if k < 0 || k >= n {
			return malformed(ErrAttachments, "placeholder number out of range")
		}
		var dup bool
		if seen != nil {
			dup, seen[k] = seen[k], true
		} else {
			dup = small&(1<<k) != 0
			small |= 1 << k
		}
		if dup {
			return malformed(ErrAttachments, "placeholder %d used twice", k)
		}
	}
	return nil
}

// PlaceholderNum reports whether the JSON value v is a placeholder
// ({"_placeholder":true,"num":N}) and its number: how a typed handler
// finds that an argument of a binary packet is Attachments[N].
func PlaceholderNum(v json.RawMessage) (num int, ok bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' || !json.Valid(v) {
		return 0, false
	}
	var sc phScan
	sc.value(v, i)
	if !sc.lastPH || len(sc.nums) != 1 || sc.nums[0] < 0 {
		return 0, false
	}
	return sc.nums[0], true
}
