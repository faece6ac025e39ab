package linger

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Work given while a goroutine lingers goes to it; all of it runs; the
// goroutines end once nothing comes for the linger time.
func TestGoroutinesReuseAndEnd(t *testing.T) {
	var mu sync.Mutex
	ran := map[int]int{}
	var wg sync.WaitGroup
	g := New(50*time.Millisecond, func(v int) {
		mu.Lock()
		ran[v]++
		mu.Unlock()
		wg.Done()
	})
	before := runtime.NumGoroutine()
	for i := range 100 {
		wg.Add(1)
		g.Go(i)
		wg.Wait() // one at a time: each finds the last one's goroutine waiting
	}
	assert.Len(t, ran, 100)
	for v, n := range ran {
		require.Equal(t, 1, n, "work %d ran once", v)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+2, "one goroutine served them (give or take one finishing)")

	// Many at once: each runs, on as many goroutines as it takes.
	wg.Add(50)
	for i := range 50 {
		g.Go(1000 + i)
	}
	wg.Wait()
	assert.Len(t, ran, 150)
	goleak.VerifyNone(t) // the goroutines end after the linger time
}
