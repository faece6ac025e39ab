package packet

import (
	"testing"

	"go.uber.org/goleak"
)

// The codec starts no goroutines; goleak holds it to that.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
