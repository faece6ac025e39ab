package transport

import "encoding/json"

// AppendScriptString appends s as a JSON string literal that is safe inside
// an HTML <script> element and a JavaScript source: encoding/json escapes
// <, >, &, U+2028 and U+2029 and replaces invalid UTF-8.
func AppendScriptString(dst []byte, s []byte) []byte {
	b, _ := json.Marshal(string(s)) // a string always marshals
	return append(dst, b...)
}
