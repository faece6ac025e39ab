package transport

import (
	"runtime"
	"sync"
)

// writerPool runs the writing turns of connections that can be written
// without blocking, on a few goroutines, in the order they were woken.
// Few writers (rather than a goroutine per connection) keep the goroutines
// that produce messages scheduled while the writers work: a broadcast to
// many connections then finds earlier messages still queued and each
// connection gets several frames in one system call.
//
// The writer goroutines exist only while there is work. mu guards all
// fields.
type writerPool struct {
	mu     sync.Mutex
	queue  []*wsConn // ring buffer
	head   int
	n      int
	active int
	max    int
}

// writers is the process's writer pool: half the CPUs, at least one.
var writers = &writerPool{max: max(1, runtime.GOMAXPROCS(0)/2)}

func (p *writerPool) add(c *wsConn) {
	p.mu.Lock()
	p.push(c)
	start := p.active < p.max
	if start {
		p.active++
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
	p.mu.Lock()
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
	p.active--
	if len(p.queue) > 1024 && p.n == 0 {
		p.queue, p.head = nil, 0 // let a burst's ring go
	}
	p.mu.Unlock()
}
