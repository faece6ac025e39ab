package clustertest

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/siogo/siogo/internal/apptest"
)

// TestMain fails the package if a test leaves a goroutine behind, and
// removes the testapp binaries the tests built.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { apptest.Cleanup() }))
}
