package acl

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNilSetAllowsEverything(t *testing.T) {
	assert.True(t, All.Allows("anything"))
	assert.True(t, All.Unrestricted())
	assert.Nil(t, All.Names())
}

func TestRestrictedSet(t *testing.T) {
	s := Allow("login", "echo")
	assert.True(t, s.Allows("login"))
	assert.True(t, s.Allows("echo"))
	assert.False(t, s.Allows("secret"))
	assert.False(t, s.Unrestricted())
	assert.Equal(t, []string{"echo", "login"}, s.Names())
}

func TestEmptySetAllowsNothing(t *testing.T) {
	s := Allow()
	assert.False(t, s.Allows("login"))
	assert.Equal(t, []string{}, s.Names())
}

func TestWithAndWithoutReturnNewSets(t *testing.T) {
	s := Allow("login")
	w := s.With("secret")
	assert.True(t, w.Allows("secret"))
	assert.False(t, s.Allows("secret"), "With must not modify the original")
	wo := w.Without("login")
	assert.False(t, wo.Allows("login"))
	assert.True(t, w.Allows("login"), "Without must not modify the original")
	assert.Nil(t, All.With("x"))
	assert.Nil(t, All.Without("x"))
}

func TestDeniedMessage(t *testing.T) {
	assert.Equal(t, `You do not have access to method "secret"`, DeniedMessage("secret"))
	assert.Equal(t, "method_access_denied", DeniedReason)
}
