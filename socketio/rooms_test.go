package socketio

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/apptest"
)

// The ids the server makes have the format namespace reserves for the
// sockets' own rooms: that is what keeps To(id) private.
func TestSessionIDsHaveTheReservedFormat(t *testing.T) {
	for range 10000 {
		sid := newSessionID()
		require.True(t, IsSocketID(sid), "%q", sid)
	}
	ts := newTestServer(t, Config{}, nil)
	sid := ts.connectPolling("")
	assert.True(t, IsSocketID(sid))
	s := ts.socket("", sid)
	other := newSessionID()
	assert.ErrorIs(t, s.Join(other), ErrReservedRoom, "any id the server could hand out is refused")
}

func TestRoomLimitsComeFromConfig(t *testing.T) {
	assert.Equal(t, DefaultMaxRoomsPerSocket, NewServer(Config{Logger: discardLogger}).Config().MaxRoomsPerSocket)
	assert.Equal(t, DefaultMaxRoomNameBytes, NewServer(Config{Logger: discardLogger}).Config().MaxRoomNameBytes)

	ts := newTestServer(t, Config{MaxRoomsPerSocket: 2, MaxRoomNameBytes: 8}, func(srv *Server) { srv.Of("/chat") })
	sid := ts.connectPolling("")
	for _, ns := range []string{"", "/chat"} {
		if ns != "" {
			ts.post("xhr-polling", sid, "1::"+ns)
		}
		s := ts.socket(ns, sid)
		require.NoError(t, s.Join("r1"))
		require.NoError(t, s.Join("r2"))
		assert.ErrorIs(t, s.Join("r3"), ErrTooManyRooms, "namespace %q", ns)
		require.NoError(t, s.Leave("r2"))
		assert.ErrorIs(t, s.Join("123456789"), ErrRoomNameTooLong, "namespace %q", ns)
		assert.NoError(t, s.Join("12345678"))
	}
}

func jsonLogger(w *apptest.LockedBuffer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func TestBadOriginIsLoggedClipped(t *testing.T) {
	var logs apptest.LockedBuffer
	ts := newTestServer(t, Config{AllowedOrigins: []string{"http://example.com"}, Logger: jsonLogger(&logs, slog.LevelInfo)}, nil)
	origin := "http://evil.org/" + strings.Repeat("o", 64<<10-16)
	r := ts.get("/socket.io/1/", "Origin", origin)
	require.Equal(t, http.StatusForbidden, r.status)
	recs := logs.Records(t, "handshake bad origin")
	require.Len(t, recs, 1)
	got, _ := recs[0]["origin"].(string)
	assert.True(t, strings.HasPrefix(got, "http://evil.org/ooo"), "%q", got)
	assert.True(t, strings.HasSuffix(got, "…(65536 bytes)"), "%q", got)
	assert.Less(t, len(got), 200)
}

// A client asking again and again for a namespace that refuses it gets
// one info line for its session; the others are at debug level.
func TestRepeatedNamespaceRefusalsLogOnceAtInfo(t *testing.T) {
	var logs apptest.LockedBuffer
	ts := newTestServer(t, Config{Logger: jsonLogger(&logs, slog.LevelDebug)}, func(srv *Server) {
		srv.Of("/private").Authorize(func(context.Context, *Handshake, url.Values) error { return ErrUnauthorized })
	})
	sid := ts.connectPolling("")
	const tries = 20
	for range tries {
		ts.post("xhr-polling", sid, "1::/private")
	}
	require.Eventually(t, func() bool { return len(logs.Records(t, "namespace refused client")) == tries }, waitFor, tick)
	var info int
	for _, r := range logs.Records(t, "namespace refused client") {
		if r["level"] == "INFO" {
			info++
		}
	}
	assert.Equal(t, 1, info)
}
