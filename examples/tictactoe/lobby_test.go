package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPairingFirstComeFirstPaired(t *testing.T) {
	_, base := startApp(t)
	_, bob, g1 := pair(t, base)

	cy := dial(t, base, "cy")
	dan := dial(t, base, "dan")
	eve := dial(t, base, "eve")
	var r playReply
	cy.call(&r, "play", "  cy  ")
	assert.Equal(t, "waiting", r.Status)
	dan.call(&r, "play", "dan")
	assert.Equal(t, "playing", r.Status)
	g2 := r.Game
	assert.NotEqual(t, g1, g2)
	eve.call(&r, "play", "eve")
	assert.Equal(t, "waiting", r.Status, "eve waits: the lobby is empty again")

	var sc startEvent2
	cy.next("start").decode(t, 0, &sc)
	assert.Equal(t, startEvent2{Game: g2, Mark: "X"}, sc, "cy waited first: she plays X")
	s := cy.game()
	assert.Equal(t, "playing", s.Status)
	assert.Equal(t, "X", s.Turn)
	assert.Equal(t, make([]string, 9), s.Board)
	require.Len(t, s.Players, 2)
	assert.Equal(t, "cy", s.Players[0].Name, "the name is trimmed")
	assert.Equal(t, "dan", s.Players[1].Name)

	// The running games list, as an ack and as the event everyone gets.
	var list []GameSummary
	eve.call(&list, "games")
	require.Len(t, list, 2)
	assert.Equal(t, GameSummary{ID: g1, X: "ann", O: "bob", Status: "playing", Round: 1}, list[0])
	assert.Equal(t, GameSummary{ID: g2, X: "cy", O: "dan", Status: "playing", Round: 1}, list[1])

	// Asking again while waiting keeps the place in the queue; cancelling
	// leaves it.
	eve.call(&r, "play", "eve")
	assert.Equal(t, "waiting", r.Status)
	eve.call(nil, "cancel")
	fred := dial(t, base, "fred")
	fred.call(&r, "play", "fred")
	assert.Equal(t, "waiting", r.Status, "eve cancelled: fred waits")

	// A player in a game cannot queue.
	assert.Equal(t, string(errStillOn), bob.callErr("play", "bob"))
	// Names are checked.
	assert.Equal(t, string(errNameEmpty), eve.callErr("play", "   "))
	assert.Contains(t, eve.callErr("play", "abcdefghijklmnopqrstuvwxyz"), "at most 20")
}

func TestGameToAWin(t *testing.T) {
	_, base := startApp(t)
	ann, bob, _ := pair(t, base)

	var last GameState
	for i, m := range []struct {
		who  *wsClient
		cell int
	}{{ann, 4}, {bob, 0}, {ann, 2}, {bob, 1}, {ann, 6}} {
		move(t, m.who, m.cell)
		last = bob.game()
		assert.Equal(t, i+1, countMarks(last.Board))
		assert.Equal(t, m.cell, last.LastMove)
		assert.Equal(t, last, ann.game(), "both players see the same state")
	}
	assert.Equal(t, "won", last.Status)
	assert.Equal(t, "X", last.Winner)
	assert.Equal(t, []int{2, 4, 6}, last.Line)
	assert.Equal(t, "", last.Turn)
	assert.Equal(t, 1, last.Players[0].Wins)
	assert.Equal(t, 0, last.Players[1].Wins)

	// The game is over: nobody may move, the ACL says so.
	bob.send("move", 8)
	deniedEvent(t, bob, "move")
	ann.send("move", 8)
	deniedEvent(t, ann, "move")
}

func countMarks(board []string) int {
	n := 0
	for _, m := range board {
		if m != "" {
			n++
		}
	}
	return n
}

func TestGameToADraw(t *testing.T) {
	_, base := startApp(t)
	ann, bob, _ := pair(t, base)
	// X O X
	// X O O
	// O X X
	seq := []int{0, 1, 2, 4, 3, 5, 7, 6, 8}
	var s GameState
	for i, cell := range seq {
		p := ann
		if i%2 == 1 {
			p = bob
		}
		move(t, p, cell)
		s = ann.game()
		bob.game()
	}
	assert.Equal(t, "draw", s.Status)
	assert.Equal(t, "", s.Winner)
	assert.Empty(t, s.Line)
	assert.Equal(t, 1, s.Draws)
	assert.Equal(t, []string{"X", "O", "X", "X", "O", "O", "O", "X", "X"}, s.Board)
}

func TestOutOfTurnMoveIsDeniedByTheACL(t *testing.T) {
	_, base := startApp(t)
	ann, bob, _ := pair(t, base)

	// bob (O) moves first: the library refuses it, no handler runs, no ack.
	ack := bob.send("move", 4)
	deniedEvent(t, bob, "move")
	select {
	case res := <-ack:
		t.Fatalf("a refused call was acknowledged: %s", res)
	case <-time.After(100 * time.Millisecond):
	}
	ann.quiet("game")

	move(t, ann, 4)
	assert.Equal(t, "X", bob.game().Board[4])
	ann.game()

	// Now it is bob's turn and ann's move is refused.
	ann.send("move", 0)
	deniedEvent(t, ann, "move")
	move(t, bob, 0)
	s := ann.game()
	assert.Equal(t, "O", s.Board[0])
	assert.Equal(t, "X", s.Turn)
	bob.game()

	// Two moves sent back to back: the second may pass the ACL (checked as
	// the packet is read, before the first one's handler swapped it) but
	// the handler refuses it. Only one X lands either way.
	first := ann.send("move", 1)
	second := ann.send("move", 2)
	assert.Empty(t, ackError(t, <-first))
	timeout := time.After(waitFor)
wait:
	for {
		select {
		case res := <-second:
			assert.Equal(t, string(errNotYourTurn), ackError(t, res), "refused by the handler")
			break wait
		case e := <-ann.events:
			if e.Name == "error" {
				assert.Equal(t, `["method_access_denied","You do not have access to method \"move\""]`,
					string(mustJSON(t, e.Args)), "refused by the ACL")
				break wait
			}
		case <-timeout:
			t.Fatal("the second move was neither refused nor acknowledged")
		}
	}
	s = bob.game()
	assert.Equal(t, []string{"O", "X", "", "", "X", "", "", "", ""}, s.Board)
	assert.Equal(t, "O", s.Turn)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func ackError(t *testing.T, res []json.RawMessage) string {
	t.Helper()
	require.Len(t, res, 1)
	var reply struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(res[0], &reply))
	return reply.Error
}

func TestTakenCellIsRefused(t *testing.T) {
	_, base := startApp(t)
	ann, bob, _ := pair(t, base)
	move(t, ann, 4)
	bob.game()
	assert.Equal(t, string(errTaken), bob.callErr("move", 4))
	assert.Equal(t, string(errBadCell), bob.callErr("move", 9))
	assert.Equal(t, string(errBadCell), bob.callErr("move", -1))
	assert.Equal(t, string(errBadCell), bob.callErr("move", "centre"))
	// Still bob's turn.
	move(t, bob, 0)
	s := bob.gameWhere(func(g GameState) bool { return g.Board[0] != "" })
	assert.Equal(t, "O", s.Board[0])
	assert.Equal(t, "X", s.Turn)
}

func TestSpectatorSeesMovesButCannotMove(t *testing.T) {
	_, base := startApp(t)
	ann, bob, id := pair(t, base)
	cy := dial(t, base, "cy")

	var list []GameSummary
	cy.call(&list, "games")
	require.Len(t, list, 1)
	assert.Equal(t, id, list[0].ID)

	assert.Equal(t, string(errNoGame), cy.callErr("watch", id+1))
	var r watchReply
	cy.call(&r, "watch", id)
	assert.Equal(t, id, r.Game)
	var w watchingEvent
	cy.next("watching").decode(t, 0, &w)
	assert.Equal(t, id, w.Game)
	s := cy.game()
	assert.Equal(t, 1, s.Spectators)
	assert.Equal(t, 1, ann.gameWhere(func(g GameState) bool { return g.Spectators == 1 }).Spectators)

	// The spectator may never move, whoever's turn it is.
	cy.send("move", 0)
	deniedEvent(t, cy, "move")
	move(t, ann, 0)
	s = cy.gameWhere(func(g GameState) bool { return g.Board[0] != "" })
	assert.Equal(t, "X", s.Board[0])
	assert.Equal(t, "O", s.Turn)
	cy.send("move", 1)
	deniedEvent(t, cy, "move")
	move(t, bob, 1)
	s = cy.gameWhere(func(g GameState) bool { return g.Board[1] != "" })
	assert.Equal(t, "O", s.Board[1])

	// A player cannot watch its own game; a spectator stops watching.
	assert.Equal(t, string(errOwnGame), ann.callErr("watch", id))
	cy.call(nil, "leave")
	s = ann.gameWhere(func(g GameState) bool { return g.Spectators == 0 })
	assert.Equal(t, "playing", s.Status)
}

func TestOpponentLeavingEndsTheGame(t *testing.T) {
	_, base := startApp(t)
	ann, bob, id := pair(t, base)
	cy := dial(t, base, "cy")
	cy.call(nil, "watch", id)
	cy.game()
	move(t, ann, 4)
	bob.game()

	bob.close() // the tab is closed
	s := ann.gameWhere(func(g GameState) bool { return g.Status != "playing" })
	assert.Equal(t, "abandoned", s.Status)
	assert.Equal(t, "bob left the game.", s.Message)
	assert.Equal(t, "", s.Turn)
	assert.True(t, s.Players[0].Present)
	assert.False(t, s.Players[1].Present)
	s = cy.gameWhere(func(g GameState) bool { return g.Status != "playing" })
	assert.Equal(t, "abandoned", s.Status)
	assert.Equal(t, "bob left the game.", s.Message)

	// The game is gone from the list, nobody can move or ask for a rematch.
	var list []GameSummary
	cy.next("games").decode(t, 0, &list)
	for len(list) > 0 {
		cy.next("games").decode(t, 0, &list)
	}
	ann.send("move", 0)
	deniedEvent(t, ann, "move")
	assert.Equal(t, string(errOpponentOut), ann.callErr("rematch"))

	// ann may play someone new at once.
	var r playReply
	ann.call(&r, "play", "ann")
	assert.Equal(t, "waiting", r.Status)
}

func TestLeavingAFinishedGameForbidsTheRematch(t *testing.T) {
	_, base := startApp(t)
	ann, bob, _ := pair(t, base)
	for i, cell := range []int{0, 3, 1, 4, 2} {
		p := ann
		if i%2 == 1 {
			p = bob
		}
		move(t, p, cell)
	}
	ann.gameWhere(func(g GameState) bool { return g.Status == "won" })
	bob.call(nil, "leave")
	s := ann.gameWhere(func(g GameState) bool { return g.Message != "" })
	assert.Equal(t, "won", s.Status, "a finished game stays finished")
	assert.Equal(t, "bob left.", s.Message)
	assert.Equal(t, string(errOpponentOut), ann.callErr("rematch"))
}

func TestRematchSwapsTheMarks(t *testing.T) {
	_, base := startApp(t)
	ann, bob, id := pair(t, base)
	assert.Equal(t, string(errNotOver), ann.callErr("rematch"))
	for i, cell := range []int{0, 3, 1, 4, 2} {
		p := ann
		if i%2 == 1 {
			p = bob
		}
		move(t, p, cell)
	}
	bob.gameWhere(func(g GameState) bool { return g.Status == "won" })

	var r rematchReply
	ann.call(&r, "rematch")
	assert.Equal(t, "waiting", r.Status)
	s := bob.gameWhere(func(g GameState) bool { return len(g.Rematch) == 1 })
	assert.Equal(t, []string{"X"}, s.Rematch)
	bob.call(&r, "rematch")
	assert.Equal(t, "started", r.Status)

	var sa, sb startEvent2
	ann.next("start").decode(t, 0, &sa)
	bob.next("start").decode(t, 0, &sb)
	assert.Equal(t, startEvent2{Game: id, Mark: "O"}, sa)
	assert.Equal(t, startEvent2{Game: id, Mark: "X"}, sb)
	s = ann.gameWhere(func(g GameState) bool { return g.Round == 2 })
	assert.Equal(t, "playing", s.Status)
	assert.Equal(t, "X", s.Turn)
	assert.Equal(t, make([]string, 9), s.Board)
	assert.Equal(t, "bob", s.Players[0].Name, "bob plays X now")
	assert.Equal(t, 0, s.Players[0].Wins)
	assert.Equal(t, "ann", s.Players[1].Name)
	assert.Equal(t, 1, s.Players[1].Wins)

	// bob starts; ann's move is refused.
	ann.send("move", 4)
	deniedEvent(t, ann, "move")
	move(t, bob, 4)
}

func TestPagesAreServed(t *testing.T) {
	_, base := startApp(t)
	for path, want := range map[string]string{
		"/":                                    `id="board"`,
		"/app.js":                              "io.connect",
		"/style.css":                           ".board",
		"/socket.io/socket.io.js":              "socket.io.js",
		"/?client=4":                           `<script src="/socket.io-client-4/socket.io.min.js">`,
		"/socket.io-client-4/socket.io.min.js": "socket.io.min.js",
	} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, string(body), want, path)
	}
	resp, err := http.Get(base + "/nope")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
