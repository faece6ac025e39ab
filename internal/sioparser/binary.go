package sioparser

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendPlaceholder appends the placeholder of attachment num,
// {"_placeholder":true,"num":N}.
func AppendPlaceholder(dst []byte, num int) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(num), 10)
	return append(dst, '}')
}

// AppendString appends s as a JSON string, escaped as JSON.stringify
// escapes it ('"', '\\' and control characters; invalid UTF-8 becomes
// U+FFFD).
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendEventData appends the payload of an Event, [name, args...]. The
// args are trusted JSON (placeholders included, for a BinaryEvent).
func AppendEventData(dst []byte, name string, args []json.RawMessage) []byte {
	dst = append(dst, '[')
	dst = AppendString(dst, name)
	for _, a := range args {
		dst = append(dst, ',')
		dst = append(dst, a...)
	}
	return append(dst, ']')
}

// AppendArray appends the payload of an Ack, [args...].
func AppendArray(dst []byte, args []json.RawMessage) []byte {
	dst = append(dst, '[')
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, a...)
	}
	return append(dst, ']')
}

// AppendValue appends v as JSON with every []byte in it replaced by a
// placeholder, appending the bytes to attachments (numbered from
// len(attachments)): the deconstruction of a binary packet. []byte is
// found at the top, in []any and in map[string]any (keys sorted, so the
// numbering is deterministic); json.RawMessage is copied verbatim; any
// other value is written by encoding/json (where a []byte would become
// base64, as it does not travel as an attachment).
func AppendValue(dst []byte, v any, attachments [][]byte) ([]byte, [][]byte, error) {
	switch v := v.(type) {
	case []byte:
		dst = AppendPlaceholder(dst, len(attachments))
		return dst, append(attachments, v), nil
	case json.RawMessage:
		if !json.Valid(v) {
			return dst, attachments, fmt.Errorf("%w: invalid json.RawMessage", ErrInvalidPacket)
		}
		return append(dst, v...), attachments, nil
	case []any:
		var err error
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, attachments, err = AppendValue(dst, e, attachments); err != nil {
				return dst, attachments, err
			}
		}
		return append(dst, ']'), attachments, nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var err error
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, k)
			dst = append(dst, ':')
			if dst, attachments, err = AppendValue(dst, v[k], attachments); err != nil {
				return dst, attachments, err
			}
		}
		return append(dst, '}'), attachments, nil
	case string:
		return AppendString(dst, v), attachments, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return dst, attachments, fmt.Errorf("%w: %w", ErrInvalidPacket, err)
	}
	return append(dst, b...), attachments, nil
}

// Reconstruct decodes data into Go values (encoding/json's, numbers as
// json.Number) with every placeholder replaced by its attachment, a
// []byte: the inverse of AppendValue. Placeholders must refer to
// attachments that exist. Without attachments (a packet of a non-binary
// type) nothing is replaced: there, as for the JavaScript parser, an
// object that looks like a placeholder is just an object.
func Reconstruct(data json.RawMessage, attachments [][]byte) (any, error) {
	var v any
	if err := unmarshalNumbers(data, &v); err != nil {
		return nil, malformed(ErrPayload, "%v", err)
	}
	if len(attachments) == 0 {
		return v, nil
	}
	return resolve(v, attachments)
}

func resolve(v any, att [][]byte) (any, error) {
	switch t := v.(type) {
	case []any:
		for i, e := range t {
			r, err := resolve(e, att)
			if err != nil {
				return nil, err
			}
			t[i] = r
		}
	case map[string]any:
		if ph, _ := t["_placeholder"].(bool); ph {
			n, ok := t["num"].(json.Number)
			k := -1
			if ok {
				k = placeholderNum([]byte(n))
			}
			if k < 0 || k >= len(att) {
				return nil, malformed(ErrAttachments, "placeholder number %v out of range", t["num"])
			}
			return att[k], nil
		}
		for key, e := range t {
			r, err := resolve(e, att)
			if err != nil {
				return nil, err
			}
			t[key] = r
		}
	}
	return v, nil
}
