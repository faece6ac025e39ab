package sioparser

import (
	"testing"

	"go.uber.org/goleak"
)

// The codec starts no goroutines; goleak holds it to that (the
// differential test's node process is waited for).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
