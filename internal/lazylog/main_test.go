package lazylog

import (
	"testing"

	"go.uber.org/goleak"
)

// The package starts no goroutines; goleak holds it to that.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
