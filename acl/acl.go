package acl

import "sort"

// DeniedReason is the first argument of the error event sent for a
// refused call.
const DeniedReason = "method_access_denied"

// DeniedMessage is the human-readable second argument of the error event
// sent when name is refused.
func DeniedMessage(name string) string {
	return `You do not have access to method "` + name + `"`
}

// Set is a set of allowed event names. The nil Set allows everything; a
// non-nil empty Set allows nothing.
//
// A Set is a value: it is never modified after creation, so it may be
// shared between goroutines and sockets freely.
type Set map[string]struct{}

// Allow returns a Set allowing exactly the given names.
func Allow(names ...string) Set {
	s := make(Set, len(names))
	for _, n := range names {
		s[n] = struct{}{}
	}
	return s
}

// All is the Set that allows every event (nil).
var All Set

// Allows reports whether an event called name may run.
func (s Set) Allows(name string) bool {
	if s == nil {
		return true
	}
	_, ok := s[name]
	return ok
}

// Unrestricted reports whether s allows every event.
func (s Set) Unrestricted() bool { return s == nil }

// With returns a new Set that also allows names. It leaves an unrestricted
// set unrestricted.
func (s Set) With(names ...string) Set {
	if s == nil {
		return nil
	}
	n := make(Set, len(s)+len(names))
	for k := range s {
		n[k] = struct{}{}
	}
	for _, k := range names {
		n[k] = struct{}{}
	}
	return n
}

// Without returns a new Set that no longer allows names. Removing names
// from the unrestricted set is not expressible (it has no list), so the
// result of All.Without is All; use Allow to restrict first.
func (s Set) Without(names ...string) Set {
	if s == nil {
		return nil
	}
	n := make(Set, len(s))
	for k := range s {
		n[k] = struct{}{}
	}
	for _, k := range names {
		delete(n, k)
	}
	return n
}

// Names returns the allowed names sorted, or nil for the unrestricted set.
func (s Set) Names() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
