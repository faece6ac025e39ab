package acl_test

import (
	"fmt"

	"github.com/siogo/siogo/acl"
)

// A socket starts allowed to log in only; after a successful login its
// handler widens the set (Socket.SetACL), or lifts it (Socket.LiftACL).
func ExampleAllow() {
	guest := acl.Allow("login")
	member := guest.With("say", "join").Without("login")
	fmt.Println(guest.Allows("say"), member.Allows("say"), member.Names())
	fmt.Println(acl.All.Allows("anything"), acl.DeniedMessage("say"))
	// Output:
	// false true [join say]
	// true You do not have access to method "say"
}
