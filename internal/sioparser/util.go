package sioparser

import (
	"bytes"
	"encoding/json"
	"errors"
)

// unmarshalNumbers is json.Unmarshal with numbers as json.Number.
func unmarshalNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}
