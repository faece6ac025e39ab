package packet

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeEventMap is the straightforward decoding decodeEvent must match:
// the object into a map, then "name" and "args" from it.
func decodeEventMap(data string) (name string, args []json.RawMessage, ok bool) {
	var ev map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &ev); err != nil || ev == nil {
		return "", nil, false
	}
	if err := json.Unmarshal(ev["name"], &name); err != nil || len(ev["name"]) == 0 || ev["name"][0] != '"' {
		return "", nil, false
	}
	if a := ev["args"]; len(a) > 0 && string(a) != "null" {
		if err := json.Unmarshal(a, &args); err != nil {
			return "", nil, false
		}
	}
	return name, args, true
}

var eventSeeds = []string{
	`{"name":"echo","args":["ping",1]}`, `{"name":"a"}`, `{"name":"a","args":[]}`, `{"name":"a","args":null}`,
	` { "args" : [ 1 , { "x" : [ "]" , "\"" ] } , "s\"]" ] , "name" : "b" } `,
	`{"name":"a","name":"b"}`, `{"na\u006de":"esc","args":[true]}`, `{"NAME":"x"}`, `{"name":1}`,
	`{"name":"x","args":{}}`, `{"name":"x","args":"s"}`, `{"name":"x","args":5}`, `{"name":"a\u2028\"b"}`,
	"{\"name\":\"\xff\"}", "{\"name\":\"é😀\u2029\"}", `null`, `[]`, `"x"`, ``, `{`, `{"name":"x",}`,
	`{"name":"x","args":[1,]}`, `{"name":"x"} x`, `{"name":"x","args":[[[]],-1.5e3,false,null,""]}`,
	`{"args":[1],"other":{"name":"no"}}`, "{\"name\":\"x\",\n\t\"args\":[\r1 ]}",
}

func FuzzDecodeEventMatchesMap(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		name, args, ok := decodeEventMap(data)
		var p Packet
		err := decodeEvent(data, &p)
		require.Equal(t, ok, err == nil, "%q: %v", data, err)
		if !ok {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		require.Equal(t, name, p.Name, "%q", data)
		require.Equal(t, args == nil, p.Args == nil, "%q", data)
		require.Equal(t, args, p.Args, "%q", data)
		for i, a := range p.Args {
			require.Equal(t, len(a), cap(a), "arg %d is capped", i)
		}
	})
}

func TestDecodeEventAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	const data = `{"name":"echo","args":["ping",1]}`
	var p Packet
	n := testing.AllocsPerRun(100, func() {
		if err := decodeEvent(data, &p); err != nil {
			t.Fatal(err)
		}
	})
	require.LessOrEqual(t, n, 2.0, "a copy of the data and the args slice")
}
