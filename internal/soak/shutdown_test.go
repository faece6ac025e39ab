package soak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/client"
	"github.com/siogo/siogo/socketio"
)

// TestShutdownCompletesInFlightAcks: Shutdown while handlers are running.
// Clients over websocket, xhr-polling and jsonp-polling each have a slow
// call (the handler takes ~200 ms before acking) in flight on two
// namespaces when srv.Shutdown starts. Graceful means: every one of those
// calls still gets its ack (the handler finishes and its ack goes out
// before the goodbye "7:::1+0"), every client then sees its session end,
// handshakes are refused (503) while the server shuts down, and Shutdown
// returns before its context's deadline.
func TestShutdownCompletesInFlightAcks(t *testing.T) {
	const (
		handlerTime = 200 * time.Millisecond
		// A polling client that never comes back keeps Shutdown waiting
		// this long, so the test can look at the server during shutdown.
		linger   = 3 * time.Second
		deadline = 15 * time.Second
	)
	a := newApp(socketio.Config{ShutdownLinger: linger}, handlerTime)
	// The slow handlers start their 200 ms when Shutdown is called, so they
	// are still running when it begins, however slow the machine.
	gate := make(chan struct{})
	a.slowGate = gate
	ts := httptest.NewServer(a.srv)
	defer ts.Close()
	hc := ts.Client()

	type user struct {
		c    *client.Client
		tr   string
		lost chan error // OnDisconnect of the default namespace
	}
	trs := []string{client.WebSocket, client.WebSocket, client.WebSocket,
		client.XHRPolling, client.XHRPolling, client.XHRPolling,
		client.JSONPPolling, client.JSONPPolling}
	ctx, cancel := context.WithTimeout(context.Background(), 2*deadline)
	defer cancel()
	var users []*user
	for _, tr := range trs {
		u := &user{tr: tr, lost: make(chan error, 1)}
		c, err := client.Dial(ctx, ts.URL, &client.Options{
			Transports:  []string{tr},
			NoReconnect: true, // the client stops once the server said goodbye
			OnDisconnect: func(ns *client.Namespace, err error) {
				if ns.Name() == "" {
					u.lost <- err
				}
			},
		})
		require.NoError(t, err, tr)
		defer c.Close()
		u.c = c
		require.NoError(t, c.Of("/chat").WaitConnected(ctx), tr)
		users = append(users, u)
	}

	// A polling client that connected and then went away: the server
	// lingers ShutdownLinger for it to fetch its goodbye.
	resp, err := hc.Get(ts.URL + "/socket.io/1/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	sid, _, _ := strings.Cut(string(body), ":")
	resp, err = hc.Get(ts.URL + "/socket.io/1/xhr-polling/" + sid)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "1::", string(body))

	// One slow call per user and namespace, in flight.
	type result struct {
		who  string
		want int
		args []json.RawMessage
		err  error
	}
	results := make(chan result, 2*len(users))
	var wg sync.WaitGroup
	n := 0
	for i, u := range users {
		for _, ns := range []*client.Namespace{u.c.Namespace(), u.c.Of("/chat")} {
			n++
			id := n
			who := fmt.Sprintf("client %d (%s) on %q", i, u.tr, ns.Name())
			wg.Go(func() {
				args, err := ns.EmitWithAck(ctx, "slow", id)
				results <- result{who, id, args, err}
			})
		}
	}
	require.Eventually(t, func() bool { return a.slowStarted.Load() == int64(n) },
		10*time.Second, 5*time.Millisecond, "every slow handler runs")
	require.Zero(t, a.slowFinished.Load(), "no slow handler finished before Shutdown")

	sctx, scancel := context.WithTimeout(context.Background(), deadline)
	defer scancel()
	start := time.Now()
	type shutdownResult struct {
		err  error
		took time.Duration
	}
	shutdownDone := make(chan shutdownResult, 1)
	close(gate)
	go func() {
		err := a.srv.Shutdown(sctx)
		shutdownDone <- shutdownResult{err, time.Since(start)}
	}()

	// Every in-flight call gets its ack.
	wg.Wait()
	close(results)
	lost := 0
	for r := range results {
		if r.err != nil {
			lost++
			t.Errorf("%s: slow(%d) in flight at Shutdown got no ack: %v", r.who, r.want, r.err)
			continue
		}
		if assert.Len(t, r.args, 1, r.who) {
			assert.JSONEq(t, fmt.Sprint(r.want), string(r.args[0]), r.who)
		}
	}
	// The server's side of it: what the handlers' AckFunc returned.
	assert.Eventually(t, func() bool { return len(a.slowAckErrors()) == n }, deadline, 5*time.Millisecond,
		"every slow handler finishes and acks")
	undelivered := 0
	for _, err := range a.slowAckErrors() {
		if err != nil {
			undelivered++
			if undelivered == 1 {
				t.Errorf("server: a slow handler's ack(...) returned %v: Shutdown had already queued the goodbye and "+
					"marked the session closing before the handler finished, so Send refused the ack", err)
			}
		}
	}
	if lost > 0 || undelivered > 0 {
		t.Errorf("LIBRARY BUG: %d of %d acks in flight at Shutdown were lost (%d refused by the server); "+
			"Shutdown must let running handlers finish and flush their acks before the goodbye", lost, n, undelivered)
	}

	// Every client sees its session end ("7:::1+0": not handshaken), and
	// stops (NoReconnect).
	firstLost := true
	for i, u := range users {
		select {
		case err := <-u.lost:
			assert.ErrorIs(t, err, client.ErrNotHandshaken, "client %d (%s)", i, u.tr)
		case <-time.After(deadline):
			t.Errorf("client %d (%s) did not see its session end", i, u.tr)
			continue
		}
		select {
		case <-u.c.Done():
		case <-time.After(deadline):
			t.Errorf("client %d (%s) did not stop", i, u.tr)
		}
		if firstLost {
			// The server said goodbye, so Shutdown has begun; the client
			// that went away keeps it lingering. A handshake now is
			// made during shutdown and must be refused.
			firstLost = false
			select {
			case r := <-shutdownDone:
				shutdownDone <- r
				t.Errorf("Shutdown returned after %v, before the lingering session let it (ShutdownLinger %v)", r.took, linger)
			default:
			}
			resp, err := hc.Get(ts.URL + "/socket.io/1/")
			if assert.NoError(t, err) {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "a handshake during Shutdown: %s", body)
			}
			late, err := client.Dial(ctx, ts.URL, &client.Options{Transports: []string{client.WebSocket}, NoReconnect: true})
			if err == nil {
				late.Close()
			}
			var he *client.HandshakeError
			if assert.ErrorAs(t, err, &he, "a client dialing during Shutdown") {
				assert.Equal(t, http.StatusServiceUnavailable, he.Status)
			}
		}
	}

	// Shutdown returns, without error, before its deadline.
	select {
	case r := <-shutdownDone:
		assert.NoError(t, r.err, "Shutdown")
		assert.Less(t, r.took, deadline, "Shutdown returned before ctx's deadline")
		t.Logf("Shutdown took %v (handlers %v, linger %v); %d calls in flight, %d acked", r.took.Round(time.Millisecond),
			handlerTime, linger, n, n-lost)
	case <-time.After(2 * deadline):
		t.Fatal("Shutdown did not return")
	}
	assert.Zero(t, a.srv.SessionCount(), "sessions left after Shutdown")
	assert.Equal(t, int64(n), a.slowFinished.Load(), "every slow handler finished")
	resp, err = hc.Get(ts.URL + "/socket.io/1/")
	if assert.NoError(t, err) {
		resp.Body.Close()
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "a handshake after Shutdown")
	}
	for _, u := range users {
		assert.False(t, errors.Is(u.c.Err(), client.ErrKicked), "7:::1+0 is not a kick")
	}
}

// TestShutdownRefusesHandshakeInProgress: a handshake that passed the
// "shutting down?" check just before Shutdown began, and registers its
// session just after, must be refused too. Otherwise the client gets a
// session Shutdown never says goodbye to (it took its list of sessions
// before), and Shutdown waits for it until ctx ends. The Authorize hook
// holds the handshake between the check and the registration.
func TestShutdownRefusesHandshakeInProgress(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	a := newApp(socketio.Config{
		Authorize: func(_ context.Context, hs *socketio.Handshake) (any, error) {
			switch {
			case hs.Query.Has("probe"):
				return nil, socketio.ErrUnauthorized // 403: this handshake got past the check
			case hs.Query.Has("hold"):
				entered <- struct{}{}
				select {
				case <-release:
				case <-time.After(time.Minute):
				}
			}
			return nil, nil
		},
	}, 0)
	ts := httptest.NewServer(a.srv)
	defer ts.Close()
	hc := ts.Client()
	get := func(query string) (int, string, error) {
		resp, err := hc.Get(ts.URL + "/socket.io/1/?" + query)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}

	type answer struct {
		status int
		body   string
		err    error
	}
	held := make(chan answer, 1)
	go func() {
		status, body, err := get("hold=1")
		held <- answer{status, body, err}
	}()
	<-entered

	const deadline = 3 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	shutdownDone := make(chan error, 1)
	go func() { shutdownDone <- a.srv.Shutdown(ctx) }()
	// Once handshakes are refused (503, not 403 from Authorize), Shutdown
	// has taken its list of sessions.
	require.Eventually(t, func() bool {
		status, _, err := get("probe=1")
		return err == nil && status == http.StatusServiceUnavailable
	}, 10*time.Second, 5*time.Millisecond, "Shutdown refuses new handshakes")
	close(release)

	r := <-held
	require.NoError(t, r.err)
	if !assert.Equal(t, http.StatusServiceUnavailable, r.status,
		"a handshake still in progress when Shutdown began must be refused, got %q", r.body) {
		t.Errorf("LIBRARY BUG: Server.handshake checks shuttingDown under the read lock and registers the session " +
			"later under the write lock without checking again; a handshake in between gets a session that " +
			"Shutdown never closes (Shutdown returns nil with it open, or, when it had sessions to wait for, " +
			"waits until ctx ends)")
	}
	select {
	case err := <-shutdownDone:
		assert.NoError(t, err, "Shutdown")
	case <-time.After(2 * deadline):
		t.Fatal("Shutdown did not return")
	}
	assert.Zero(t, a.srv.SessionCount(), "sessions left after Shutdown")
}
