package sioredis

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: the
// publisher, subscriber (and its pinger), membership writer and liveness
// loop of every Cluster must end with Close, also while Redis is down.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
