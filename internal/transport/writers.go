package transport

import (
	"runtime"
	"sync"
	"time"
)

// writerPool runs the writing turns of connections that can be written
// without blocking, on a few goroutines, in the order they were woken.
// Few writers (rather than a goroutine per connection) keep the goroutines
// that produce messages scheduled while the writers work: a broadcast to
// many connections then finds earlier messages still queued and each
// connection gets several frames in one system call.
//
// A writer with nothing to do waits writerLinger for more before it ends,
// so steady traffic does not start a goroutine per message; with no
// traffic there are no writer goroutines. mu guards all fields but kick.
type writerPool struct {
	mu     sync.Mutex
	queue  []*wsConn // ring buffer
	head   int
	n      int
	active int // writer goroutines
	idle   int // of which waiting for a kick
	max    int
	kick   chan struct{} // one token per idle writer woken
}

// writerLinger is how long an idle writer waits for work before it ends.
const writerLinger = 100 * time.Millisecond

// writers is the process's writer pool: half the CPUs, at least one.
var writers = newWriterPool(max(1, runtime.GOMAXPROCS(0)/2))

func newWriterPool(n int) *writerPool {
	return &writerPool{max: n, kick: make(chan struct{}, n)}
}

func (p *writerPool) add(c *wsConn) {
	p.mu.Lock()
	p.push(c)
	start := false
	switch {
	case p.idle > 0 && p.n > len(p.kick):
		p.idle--
		p.kick <- struct{}{} // never blocks: fewer tokens than idle writers
	case p.active < p.max && p.idle == 0:
		p.active++
		start = true
	}
	p.mu.Unlock()
	if start {
		go p.work()
	}
}

func (p *writerPool) push(c *wsConn) {
	if p.n == len(p.queue) {
		q := make([]*wsConn, max(64, 2*len(p.queue)))
		for i := range p.n {
			q[i] = p.queue[(p.head+i)%len(p.queue)]
		}
		p.queue, p.head = q, 0
	}
	p.queue[(p.head+p.n)%len(p.queue)] = c
	p.n++
}

func (p *writerPool) work() {
	var linger *time.Timer
	p.mu.Lock()
	for {
		for p.n > 0 {
			c := p.queue[p.head]
			p.queue[p.head] = nil
			p.head = (p.head + 1) % len(p.queue)
			p.n--
			p.mu.Unlock()
			again := c.flush()
			p.mu.Lock()
			if again {
				p.push(c)
			}
		}
		if len(p.queue) > 1024 {
			p.queue, p.head = nil, 0 // let a burst's ring go
		}
		// Nothing queued: wait for a kick, or end.
		p.idle++
		p.mu.Unlock()
		if linger == nil {
			linger = time.NewTimer(writerLinger)
		} else {
			linger.Reset(writerLinger)
		}
		select {
		case <-p.kick:
			p.mu.Lock()
			continue
		case <-linger.C:
		}
		p.mu.Lock()
		select {
		case <-p.kick: // kicked as the timer fired: work after all
			continue
		default:
		}
		p.idle--
		if p.n == 0 {
			p.active--
			p.mu.Unlock()
			return
		}
	}
}
