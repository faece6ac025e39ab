package client

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/socketio"
)

// TestRestrictedOrigins: against a server with AllowedOrigins, the client
// works on every transport when Options.Header carries an allowed Origin,
// and its handshake is refused (ErrBadOrigin) without one.
func TestRestrictedOrigins(t *testing.T) {
	t.Parallel()
	_, u := startServer(t, socketio.Config{AllowedOrigins: []string{"https://app.example"}}, nil)
	for _, tr := range allTransports {
		t.Run(tr, func(t *testing.T) {
			c := dial(t, u, tr, &Options{Header: http.Header{"Origin": {"https://app.example"}}})
			got, err := c.EmitWithAck(ctxFor(t), "echo", "allowed")
			require.NoError(t, err)
			assert.JSONEq(t, `["allowed"]`, argsJSON(got))

			_, err = tryDial(t, u, tr, &Options{})
			assert.ErrorIs(t, err, ErrBadOrigin, "no Origin header")
			_, err = tryDial(t, u, tr, &Options{Header: http.Header{"Origin": {"https://evil.example"}}})
			assert.ErrorIs(t, err, ErrBadOrigin, "another origin")
		})
	}
}
