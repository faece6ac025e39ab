package socketio

import (
	"bytes"
	"encoding/json"

	"github.com/siogo/siogo/internal/sioparser"
)

// inlineAttachments returns args with every placeholder replaced by the
// base64 JSON string of its attachment (args itself when there are no
// attachments). An argument holding placeholders is rewritten by
// decoding and re-encoding it (its objects' keys come out sorted, its
// numbers as they were).
// cloneAttachments copies the slice of attachments (not their bytes; nil
// for none). The codecs encode a Message's attachments from the copy, so
// that escape analysis sees only the attachments' bytes leave, not the
// Message's other contents: a direct emit's Message and its args then
// stay on the stack (TestDirectSendsDoNotAllocateMore).
func cloneAttachments(att [][]byte) [][]byte {
	if len(att) == 0 {
		return nil
	}
	return append([][]byte(nil), att...)
}

func inlineAttachments(args []json.RawMessage, att [][]byte) []json.RawMessage {
	if len(att) == 0 {
		return args
	}
	out := make([]json.RawMessage, len(args))
	for i, a := range args {
		out[i] = inlineArg(a, att)
	}
	return out
}

var placeholderKey = []byte(`"_placeholder"`)

// inlineArg is inlineAttachments for one argument.
func inlineArg(a json.RawMessage, att [][]byte) json.RawMessage {
	if !bytes.Contains(a, placeholderKey) {
		return a
	}
	if n, ok := sioparser.PlaceholderNum(a); ok && n < len(att) {
		b, _ := json.Marshal(att[n])
		return b
	}
	v, err := sioparser.Reconstruct(a, att)
	if err != nil {
		return a
	}
	b, err := json.Marshal(v)
	if err != nil {
		return a
	}
	return b
}

// ReconstructArgs turns the arguments of a binary event, as a RawHandler
// sees them (placeholders), and their attachments (Socket.Attachments)
// into emit arguments: an argument without placeholders is its
// json.RawMessage, a placeholder is its []byte, and an argument with
// placeholders inside is its decoded value ([]any and map[string]any,
// numbers as json.Number) with a []byte for each — so emitting them sends
// the same arguments on, binary as binary. Without attachments every
// argument is its json.RawMessage.
func ReconstructArgs(args []json.RawMessage, attachments [][]byte) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
		if len(attachments) == 0 || !bytes.Contains(a, placeholderKey) {
			continue
		}
		if n, ok := sioparser.PlaceholderNum(a); ok && n < len(attachments) {
			out[i] = attachments[n]
			continue
		}
		if v, err := sioparser.Reconstruct(a, attachments); err == nil {
			out[i] = v
		}
	}
	return out
}
