package clustertest

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// TestStartRedisCluster checks the Redis Cluster starter: three masters
// that agree on all 16384 slots, and again after a restart.
func TestStartRedisCluster(t *testing.T) {
	rc := StartRedisCluster(t)
	check := func() {
		t.Helper()
		for _, a := range rc.Addrs() {
			info := inline(t, a, "CLUSTER INFO")
			for _, want := range []string{"cluster_state:ok", "cluster_slots_assigned:16384", "cluster_known_nodes:3"} {
				if !strings.Contains(info, want) {
					t.Fatalf("%s: CLUSTER INFO lacks %q:\n%s", a, want, info)
				}
			}
		}
	}
	check()
	rc.Restart()
	check()
}

// inline sends one inline command and returns the bulk reply's text.
func inline(t *testing.T, addr, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if strings.HasPrefix(head, "$") {
		for !strings.Contains(b.String(), "\r\n\r\n") && b.Len() < 1<<16 {
			line, err := r.ReadString('\n')
			if err != nil {
				break
			}
			b.WriteString(line)
			if r.Buffered() == 0 {
				break
			}
		}
	}
	return b.String()
}
