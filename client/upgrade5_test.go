package client

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siogo/siogo/internal/sioparser"
)

// fakeUpgrade is a polling Engine.IO v4 server (sid "up1") that offers
// the websocket upgrade and lets a test script the probe: it answers the
// CONNECT of "/" and echo(args...) with an ack of the args, and holds
// every poll until it has something to send. It answers "2probe" only
// while a poll waits, and holds that poll, whatever is queued, until
// probe (which gets the probe's websocket then) returns; the poll then
// ends with what is queued, or a noop, as a server ends it for the
// switch, and so do the next ones while probe said the probe is open
// (until readUpgrade sees it end or the upgrade packet). So the client
// learns of nothing between the probe's answer and the end of probe:
// what probe does happens before the switch.
type fakeUpgrade struct {
	url   string
	probe func(f *fakeUpgrade, ws *websocket.Conn) (open bool)

	mu      sync.Mutex
	queue   []string
	noop    bool          // the waiting poll ends even with nothing queued
	waiting bool          // a poll waits
	holding bool          // the waiting poll may not end (a probe is being scripted)
	probed  bool          // an answered probe is open: polls end at once
	wake    chan struct{} // cap 1: the fields above changed
	probes  int
	upgrade bool            // "5" arrived on a probe
	ws      *websocket.Conn // the upgraded websocket: it carries what send queues (written under mu)

	scripted chan struct{} // closed when the first probe's script has returned and its poll is released
	once     sync.Once
}

func newFakeUpgrade(t *testing.T, probe func(f *fakeUpgrade, ws *websocket.Conn) bool) *fakeUpgrade {
	t.Helper()
	f := &fakeUpgrade{probe: probe, wake: make(chan struct{}, 1), scripted: make(chan struct{})}
	stop := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("EIO") != "4":
			http.Error(w, "bad request", http.StatusBadRequest)
		case q.Get("transport") == WebSocket && q.Get("sid") == "up1":
			f.serveProbe(t, w, r, stop)
		case q.Get("transport") != Polling:
			http.Error(w, "bad request", http.StatusBadRequest)
		case q.Get("sid") == "" && r.Method == http.MethodGet:
			_, _ = io.WriteString(w, `0{"sid":"up1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
		case q.Get("sid") != "up1":
			http.Error(w, `{"code":1,"message":"Session ID unknown"}`, http.StatusBadRequest)
		case r.Method == http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			for _, p := range strings.Split(string(body), "\x1e") {
				f.onPacket(p)
			}
			_, _ = io.WriteString(w, "ok")
		default:
			f.servePoll(w, r, stop)
		}
	}))
	t.Cleanup(func() { close(stop); hs.Close() })
	f.url = hs.URL
	return f
}

func (f *fakeUpgrade) kick() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fakeUpgrade) servePoll(w http.ResponseWriter, r *http.Request, stop chan struct{}) {
	f.mu.Lock()
	f.waiting = true
	f.mu.Unlock()
	f.kick()
	defer func() {
		f.mu.Lock()
		f.waiting = false
		f.mu.Unlock()
	}()
	for {
		f.mu.Lock()
		if !f.holding && (len(f.queue) > 0 || f.noop || f.probed) {
			out := f.queue
			f.queue, f.noop = nil, false
			f.mu.Unlock()
			if len(out) == 0 {
				out = []string{"6"}
			}
			_, _ = io.WriteString(w, strings.Join(out, "\x1e"))
			return
		}
		f.mu.Unlock()
		select {
		case <-f.wake:
		case <-stop:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// send queues packets for the next poll, or sends them over the
// upgraded websocket.
func (f *fakeUpgrade) send(pkts ...string) {
	f.mu.Lock()
	if f.ws != nil {
		for _, p := range pkts {
			_ = f.ws.WriteMessage(websocket.TextMessage, []byte(p))
		}
		f.mu.Unlock()
		return
	}
	f.queue = append(f.queue, pkts...)
	f.mu.Unlock()
	f.kick()
}

func (f *fakeUpgrade) onPacket(p string) {
	switch {
	case p == "40":
		f.send(`40{"sid":"s1"}`)
	case strings.HasPrefix(p, "42"):
		sp, _, err := sioparser.DecodeText(p[1:], sioparser.Options{})
		if err != nil || !sp.HasID {
			return
		}
		name, args, err := sioparser.SplitEvent(sp.Data)
		if err != nil || name != "echo" {
			return
		}
		f.send("43" + strconv.FormatUint(sp.ID, 10) + string(sioparser.AppendArray(nil, args)))
	}
}

func (f *fakeUpgrade) serveProbe(t *testing.T, w http.ResponseWriter, r *http.Request, stop chan struct{}) {
	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	open := false // then the script's goroutine owns ws
	defer func() {
		if !open {
			ws.Close()
		}
	}()
	f.mu.Lock()
	f.probes++
	f.mu.Unlock()
	if _, msg, err := ws.ReadMessage(); err != nil || string(msg) != "2probe" {
		t.Errorf("probe: %q %v", msg, err)
		return
	}
	// Answer while a poll waits, and hold it. The script's goroutine
	// (open) is stopped by the client's end of the websocket, or by the
	// server's Close at the test's end.
	for {
		f.mu.Lock()
		if f.waiting {
			f.holding = true
			f.mu.Unlock()
			break
		}
		f.mu.Unlock()
		select {
		case <-stop:
			return
		case <-time.After(time.Millisecond):
		}
	}
	if ws.WriteMessage(websocket.TextMessage, []byte("3probe")) == nil {
		open = f.probe(f, ws)
	}
	f.mu.Lock()
	f.holding, f.noop, f.probed = false, true, open
	f.mu.Unlock()
	f.kick()
	f.once.Do(func() { close(f.scripted) })
}

// readUpgrade reads the probe until it ends, noting an upgrade packet;
// after it the websocket carries the session: what was queued for
// polling, and the client's packets.
func (f *fakeUpgrade) readUpgrade(ws *websocket.Conn) error {
	for {
		_, msg, err := ws.ReadMessage()
		switch {
		case err != nil:
			f.mu.Lock()
			f.probed = false
			f.mu.Unlock()
			return err
		case string(msg) == "5":
			f.mu.Lock()
			f.probed, f.upgrade, f.ws = false, true, ws
			queued := f.queue
			f.queue = nil
			f.mu.Unlock()
			f.send(queued...)
		case f.upgraded():
			f.onPacket(string(msg))
		}
	}
}

func (f *fakeUpgrade) upgraded() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.upgrade
}

// waitScripted waits until the first probe's script has run.
func (f *fakeUpgrade) waitScripted(t *testing.T) {
	t.Helper()
	select {
	case <-f.scripted:
	case <-time.After(waitFor):
		t.Fatal("no probe")
	}
}

func (f *fakeUpgrade) probeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.probes
}

// echoOverPolling checks that the session still works, over polling.
func echoOverPolling(t *testing.T, c *Client, lc *lifecycle) {
	t.Helper()
	args, err := c.EmitWithAck(ctxFor(t), "echo", "still here")
	require.NoError(t, err)
	assert.Equal(t, `["still here"]`, joinArgs(args))
	assert.Equal(t, Polling, c.Transport())
	assert.Equal(t, "up1", c.SessionID())
	assert.True(t, c.Connected())
	assert.Equal(t, 0, lc.count("disconnect"), lc.history())
}

// TestV5UpgradeProbeClosedBeforeSwitch: the server closes the answered
// probe (its upgrade timeout) while the client waits for its poll to end
// before the switch. The client must notice and stay on polling, not
// send the upgrade packet over the closed websocket and lose the
// session (the soak's "server closed the session (websocket close
// 1000)").
func TestV5UpgradeProbeClosedBeforeSwitch(t *testing.T) {
	t.Parallel()
	f := newFakeUpgrade(t, func(f *fakeUpgrade, ws *websocket.Conn) bool {
		// The upgrade timeout: a close, as the siogo and engine.io
		// servers close an expired probe.
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
			time.Now().Add(waitFor))
		// Until the client answers the close (a client that does not
		// read the probe any more never does: give up after a while,
		// the test fails then anyway).
		_ = ws.SetReadDeadline(time.Now().Add(2 * time.Second))
		_ = f.readUpgrade(ws)
		return false
	})
	lc := newLifecycle()
	c := dial5(t, f.url, "", lc.options(&Options{Transports: []string{Polling, WebSocket}, NoReconnect: true}))
	f.waitScripted(t)
	echoOverPolling(t, c, lc)
	assert.False(t, f.upgraded(), "the upgrade packet went over the closed probe")
	assert.Equal(t, 1, f.probeCount())
}

// TestV5UpgradeTooLate: the poll the switch waits for ends after
// Options.UpgradeTimeout: the client does not switch (the server may be
// closing the probe, and would drop the upgrade packet), closes the
// probe and stays on polling.
func TestV5UpgradeTooLate(t *testing.T) {
	t.Parallel()
	const budget = 300 * time.Millisecond
	probeErr := make(chan error, 1)
	f := newFakeUpgrade(t, func(f *fakeUpgrade, ws *websocket.Conn) bool {
		// Hold the poll past the client's budget (counted from before
		// the probe's dial: waiting it after "3probe" is enough).
		time.Sleep(budget + 50*time.Millisecond)
		go func() { probeErr <- f.readUpgrade(ws) }()
		return true
	})
	lc := newLifecycle()
	c := dial5(t, f.url, "", lc.options(&Options{Transports: []string{Polling, WebSocket}, NoReconnect: true,
		UpgradeTimeout: budget}))
	select {
	case err := <-probeErr: // the client closed the probe
		assert.Error(t, err)
	case <-time.After(waitFor):
		t.Fatal("the client kept the probe open")
	}
	f.waitScripted(t)
	echoOverPolling(t, c, lc)
	assert.False(t, f.upgraded(), "the upgrade packet was sent after UpgradeTimeout")
}

// TestV5UpgradeInTime: the fake, answering in time, is upgraded to (the
// other tests' clients stay on polling for the reasons they test, not
// for want of an upgrade).
func TestV5UpgradeInTime(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	f := newFakeUpgrade(t, func(f *fakeUpgrade, ws *websocket.Conn) bool {
		go func() {
			defer close(done)
			_ = f.readUpgrade(ws)
		}()
		return true
	})
	c := dial5(t, f.url, "", &Options{Transports: []string{Polling, WebSocket}, NoReconnect: true})
	require.Eventually(t, func() bool { return c.Transport() == WebSocket }, waitFor, time.Millisecond)
	require.Eventually(t, f.upgraded, waitFor, time.Millisecond)
	require.NoError(t, c.Close())
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatal("the websocket outlived Close")
	}
}
