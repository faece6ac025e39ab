package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/siogo/siogo/acl"
	"github.com/siogo/siogo/socketio"
)

// maxNameLen bounds a display name, in Unicode code points.
const maxNameLen = 20

// The events a client may emit (see README.md for their arguments).
const (
	evPlay    = "play"
	evCancel  = "cancel"
	evMove    = "move"
	evRematch = "rematch"
	evLeave   = "leave"
	evGames   = "games"
	evWatch   = "watch"
)

// The ACLs. Every socket starts with lobbyACL, the namespace's initial ACL,
// which allows every event but "move". A player is given turnACL while it
// is its turn, and lobbyACL again as soon as it is not, so the library
// refuses an out-of-turn "move" with the "method_access_denied" error event
// before any handler runs. Spectators and waiting players never get it.
var (
	lobbyACL = acl.Allow(evPlay, evCancel, evRematch, evLeave, evGames, evWatch)
	turnACL  = lobbyACL.With(evMove)
)

// Game statuses, as the page receives them.
const (
	statusPlaying   = "playing"
	statusWon       = "won"
	statusDraw      = "draw"
	statusAbandoned = "abandoned" // a player left before the end
)

// userError is a refusal meant for the user: the handler returns it, the
// library acknowledges it as {"error": text} and the page shows the text.
type userError string

func (e userError) Error() string { return string(e) }

const (
	errNameEmpty   userError = "Please choose a name."
	errNameChars   userError = "Names may not contain control characters."
	errNotInGame   userError = "You are not playing a game."
	errSpectator   userError = "You are watching this game: spectators can't move."
	errGameOver    userError = "The game is over."
	errNotYourTurn userError = "It's not your turn."
	errBadCell     userError = "Pick a cell from 0 to 8."
	errTaken       userError = "That cell is taken."
	errStillOn     userError = "Finish or leave your game first."
	errNotOver     userError = "The game is still on."
	errOpponentOut userError = "Your opponent has left: play someone new."
	errNoGame      userError = "That game is over or does not exist."
	errOwnGame     userError = "You are playing this game."
)

// Replies: the ack's single argument on success.
type (
	okReply struct {
		OK bool `json:"ok"`
	}
	playReply struct {
		Status string `json:"status"` // "waiting" or "playing"
		Game   int    `json:"game,omitempty"`
	}
	rematchReply struct {
		Status string `json:"status"` // "waiting" (for the opponent) or "started"
	}
	watchReply struct {
		Game int `json:"game"`
	}
)

// Server-to-client payloads.
type (
	// startEvent tells a player a round starts and which mark it plays.
	startEvent struct {
		Game int  `json:"game"`
		Mark Mark `json:"mark"`
	}
	// watchingEvent tells a spectator which game it now watches.
	watchingEvent struct {
		Game int `json:"game"`
	}
	// GameView is the whole state of a game, sent as the "game" event to
	// its players and spectators after every change.
	GameView struct {
		ID         int          `json:"id"`
		Round      int          `json:"round"`
		Board      []string     `json:"board"`   // nine "", "X" or "O"
		Players    []PlayerView `json:"players"` // X first, then O
		Turn       Mark         `json:"turn"`    // "" unless the game is playing
		Status     string       `json:"status"`
		Winner     Mark         `json:"winner"`   // when won
		Line       []int        `json:"line"`     // the winning cells, or []
		LastMove   int          `json:"lastMove"` // the last cell played, or -1
		Draws      int          `json:"draws"`    // draws so far between the two
		Rematch    []Mark       `json:"rematch"`  // who asked for a rematch
		Spectators int          `json:"spectators"`
		Message    string       `json:"message,omitempty"` // who left, once a player did
	}
	// PlayerView is one player of a GameView.
	PlayerView struct {
		Name    string `json:"name"`
		Mark    Mark   `json:"mark"`
		Wins    int    `json:"wins"`
		Present bool   `json:"present"` // false once the player left
	}
	// GameSummary is one entry of the running games list (the "games"
	// event and ack).
	GameSummary struct {
		ID         int    `json:"id"`
		X          string `json:"x"`
		O          string `json:"o"`
		Status     string `json:"status"`
		Round      int    `json:"round"`
		Spectators int    `json:"spectators"`
	}
)

// client is one connected socket.
type client struct {
	sock     *socketio.Socket
	name     string // the display name, once it asked to play
	waiting  bool   // in the lobby queue
	game     *game  // the game it plays, or nil
	seat     int    // its seat in game
	watching *game  // the game it watches, or nil
}

// game is two players and their rounds. The seats stay; the marks swap at
// every rematch, so each player starts every other round.
type game struct {
	id         int
	room       string
	seats      [2]*client // nil once that player left
	names      [2]string  // kept after a player leaves
	wins       [2]int     // by seat
	xSeat      int        // the seat playing X this round
	round      int
	board      Board
	turn       Mark
	outcome    Outcome
	status     string
	lastMove   int
	draws      int
	rematch    [2]bool            // by seat
	left       bool               // a player left: no rematch any more
	message    string             // "NAME left the game." once a player left
	spectators map[string]*client // by socket id
}

func (g *game) markOf(seat int) Mark {
	if seat == g.xSeat {
		return X
	}
	return O
}

func (g *game) seatOf(m Mark) int {
	if m == X {
		return g.xSeat
	}
	return 1 - g.xSeat
}

func (g *game) over() bool { return g.status != statusPlaying }

// Lobby is the tic-tac-toe server: the queue of waiting players, the games
// and the event handlers on one namespace.
//
// Concurrency: the library runs the handlers of one socket one at a time,
// but handlers of different sockets run concurrently. mu guards every field
// below it and everything reachable from them (clients, games, the queue,
// and each client's and game's fields): every handler and the connect and
// disconnect hooks hold mu for their whole work. Events are emitted and
// ACLs changed while mu is held too: that only queues packets or swaps a
// set, never blocks, and it makes every player and spectator see the
// changes of a game in the order they were made. Lock order: mu, then the
// library's own locks; the library never calls in while holding one.
type Lobby struct {
	ns  *socketio.Namespace
	log *slog.Logger

	mu      sync.Mutex
	clients map[string]*client // by socket id
	queue   []*client          // players waiting for an opponent, first come first
	games   map[int]*game      // running games (both players still there), by id
	lastID  int
}

// newLobby registers the game's handlers and initial ACL on ns.
func newLobby(ns *socketio.Namespace, log *slog.Logger) *Lobby {
	l := &Lobby{
		ns:      ns,
		log:     log,
		clients: make(map[string]*client),
		games:   make(map[int]*game),
	}
	ns.SetInitialACL(lobbyACL)
	for event, fn := range map[string]any{
		evPlay:    l.onPlay,
		evCancel:  l.onCancel,
		evMove:    l.onMove,
		evRematch: l.onRematch,
		evLeave:   l.onLeave,
		evGames:   l.onGames,
		evWatch:   l.onWatch,
	} {
		if err := ns.On(event, fn); err != nil {
			panic(err) // a programming error: the handler's signature is wrong
		}
	}
	ns.OnConnect(l.onConnect)
	ns.OnDisconnect(l.onDisconnect)
	return l
}

// clientLocked returns the socket's client, making it if needed.
func (l *Lobby) clientLocked(s *socketio.Socket) *client {
	c := l.clients[s.ID()]
	if c == nil {
		c = &client{sock: s}
		l.clients[s.ID()] = c
	}
	return c
}

// onConnect sends the new socket the running games.
func (l *Lobby) onConnect(s *socketio.Socket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clientLocked(s)
	_ = s.Emit(evGames, l.gameListLocked())
}

// onDisconnect takes the socket out of the queue, its game or the game it
// watches. An opponent leaving ends the game.
func (l *Lobby) onDisconnect(s *socketio.Socket, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[s.ID()]
	if c == nil {
		return
	}
	l.log.Debug("client left", "sid", s.ID(), "name", c.name, "reason", reason)
	l.detachLocked(c)
	delete(l.clients, s.ID())
}

// onPlay sets the player's name and pairs it with the player who waited
// longest, or queues it. A player whose game is over may play again: it
// leaves its game (the opponent is told).
func (l *Lobby) onPlay(s *socketio.Socket, name string) (playReply, error) {
	name, err := validName(name)
	if err != nil {
		return playReply{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clientLocked(s)
	if c.game != nil && !c.game.over() {
		return playReply{}, errStillOn
	}
	c.name = name
	if c.waiting {
		return playReply{Status: "waiting"}, nil
	}
	l.detachLocked(c)
	for len(l.queue) > 0 {
		opp := l.queue[0]
		l.queue = l.queue[1:]
		opp.waiting = false
		if opp.sock.Disconnected() {
			continue // its disconnect hook has not run yet
		}
		g := l.startLocked(opp, c)
		return playReply{Status: "playing", Game: g.id}, nil
	}
	c.waiting = true
	l.queue = append(l.queue, c)
	l.log.Info("player waiting", "sid", s.ID(), "name", name)
	return playReply{Status: "waiting"}, nil
}

// onCancel takes the player out of the queue.
func (l *Lobby) onCancel(s *socketio.Socket) okReply {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.clients[s.ID()]; c != nil && c.waiting {
		l.unqueueLocked(c)
	}
	return okReply{OK: true}
}

// onMove plays the mark of the player whose turn it is in cell. The ACL
// lets only that player call it; the checks here are the server's
// authority all the same (a client may have sent two moves before the
// first one ran and changed its ACL).
func (l *Lobby) onMove(s *socketio.Socket, cell json.RawMessage) (okReply, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[s.ID()]
	switch {
	case c == nil || (c.game == nil && c.watching != nil):
		return okReply{}, errSpectator
	case c.game == nil:
		return okReply{}, errNotInGame
	}
	g := c.game
	if g.over() {
		return okReply{}, errGameOver
	}
	mark := g.markOf(c.seat)
	if mark != g.turn {
		return okReply{}, errNotYourTurn
	}
	var i int
	if err := json.Unmarshal(cell, &i); err != nil || i < 0 || i >= len(g.board) {
		return okReply{}, errBadCell
	}
	if g.board[i] != Empty {
		return okReply{}, errTaken
	}
	g.board[i] = mark
	g.lastMove = i
	g.outcome = g.board.Outcome()
	switch {
	case g.outcome.Winner != Empty:
		g.status = statusWon
		g.turn = Empty
		g.wins[c.seat]++
		l.log.Info("game won", "game", g.id, "round", g.round, "winner", c.name)
	case g.outcome.Draw:
		g.status = statusDraw
		g.turn = Empty
		g.draws++
		l.log.Info("game drawn", "game", g.id, "round", g.round)
	default:
		g.turn = mark.Other()
	}
	l.applyACLLocked(g)
	l.sendGameLocked(g)
	if g.over() {
		l.sendGameListLocked()
	}
	return okReply{OK: true}, nil
}

// onRematch records the player's wish for another round; when both
// players asked, the round starts with the marks swapped.
func (l *Lobby) onRematch(s *socketio.Socket) (rematchReply, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[s.ID()]
	if c == nil || c.game == nil {
		return rematchReply{}, errNotInGame
	}
	g := c.game
	switch {
	case g.left:
		return rematchReply{}, errOpponentOut
	case !g.over():
		return rematchReply{}, errNotOver
	}
	g.rematch[c.seat] = true
	if !g.rematch[1-c.seat] {
		l.sendGameLocked(g)
		return rematchReply{Status: "waiting"}, nil
	}
	g.xSeat = 1 - g.xSeat
	l.newRoundLocked(g)
	return rematchReply{Status: "started"}, nil
}

// onLeave takes the socket out of its game (ending it if it was on), of
// the game it watches, or of the queue.
func (l *Lobby) onLeave(s *socketio.Socket) okReply {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.clients[s.ID()]; c != nil {
		l.detachLocked(c)
	}
	return okReply{OK: true}
}

// onGames returns the running games. Every socket is also sent the
// "games" event whenever the list changes.
func (l *Lobby) onGames(*socketio.Socket) []GameSummary {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gameListLocked()
}

// onWatch makes the socket a spectator of a running game: it is sent
// "watching", then the game's state and every change of it.
func (l *Lobby) onWatch(s *socketio.Socket, id int) (watchReply, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clientLocked(s)
	if c.game != nil {
		if c.game.id == id {
			return watchReply{}, errOwnGame
		}
		if !c.game.over() {
			return watchReply{}, errStillOn
		}
	}
	g := l.games[id]
	if g == nil {
		return watchReply{}, errNoGame
	}
	if c.watching == g {
		l.sendGameToLocked(c, g)
		return watchReply{Game: g.id}, nil
	}
	l.detachLocked(c)
	c.watching = g
	g.spectators[s.ID()] = c
	if err := s.Join(g.room); err != nil {
		l.log.Warn("joining a room failed", "room", g.room, "err", err)
	}
	_ = s.Emit("watching", watchingEvent{Game: g.id})
	l.sendGameLocked(g) // the newcomer gets the state, the others the count
	l.sendGameListLocked()
	return watchReply{Game: g.id}, nil
}

// startLocked pairs a (the one who waited, it plays X first) with b.
func (l *Lobby) startLocked(a, b *client) *game {
	l.lastID++
	g := &game{
		id:         l.lastID,
		room:       "game:" + strconv.Itoa(l.lastID),
		seats:      [2]*client{a, b},
		names:      [2]string{a.name, b.name},
		spectators: make(map[string]*client),
	}
	for seat, c := range g.seats {
		c.game, c.seat = g, seat
		if err := c.sock.Join(g.room); err != nil {
			l.log.Warn("joining a room failed", "room", g.room, "err", err)
		}
	}
	l.games[g.id] = g
	l.log.Info("game started", "game", g.id, "x", a.name, "o", b.name)
	l.newRoundLocked(g)
	return g
}

// newRoundLocked clears the board, gives X the move and tells everyone:
// each player its mark ("start"), then the room the state, then everyone
// the games list.
func (l *Lobby) newRoundLocked(g *game) {
	g.round++
	g.board = Board{}
	g.outcome = Outcome{}
	g.turn = X
	g.status = statusPlaying
	g.lastMove = -1
	g.rematch = [2]bool{}
	g.message = ""
	l.applyACLLocked(g)
	for seat, c := range g.seats {
		_ = c.sock.Emit("start", startEvent{Game: g.id, Mark: g.markOf(seat)})
	}
	l.sendGameLocked(g)
	l.sendGameListLocked()
}

// applyACLLocked lets the player whose turn it is call "move", and no one
// else.
func (l *Lobby) applyACLLocked(g *game) {
	for seat, c := range g.seats {
		if c == nil {
			continue
		}
		if !g.over() && g.markOf(seat) == g.turn {
			c.sock.SetACL(turnACL)
		} else {
			c.sock.SetACL(lobbyACL)
		}
	}
}

// detachLocked takes c out of the queue, the game it watches and the game
// it plays. A player leaving ends its game: the game is abandoned if it
// was on, no rematch is possible any more, and the opponent and the
// spectators are told.
func (l *Lobby) detachLocked(c *client) {
	if c.waiting {
		l.unqueueLocked(c)
	}
	if g := c.watching; g != nil {
		c.watching = nil
		delete(g.spectators, c.sock.ID())
		_ = c.sock.Leave(g.room)
		l.sendGameLocked(g)
		if l.games[g.id] == g {
			l.sendGameListLocked()
		}
	}
	g := c.game
	if g == nil {
		return
	}
	c.game = nil
	g.seats[c.seat] = nil
	_ = c.sock.Leave(g.room)
	c.sock.SetACL(lobbyACL)
	g.left = true
	g.rematch = [2]bool{}
	if g.over() {
		g.message = c.name + " left."
	} else {
		g.status = statusAbandoned
		g.turn = Empty
		g.message = c.name + " left the game."
		l.log.Info("game abandoned", "game", g.id, "round", g.round, "left", c.name)
	}
	l.applyACLLocked(g)
	l.sendGameLocked(g)
	if l.games[g.id] == g {
		delete(l.games, g.id)
		l.sendGameListLocked()
	}
}

func (l *Lobby) unqueueLocked(c *client) {
	c.waiting = false
	if i := slices.Index(l.queue, c); i >= 0 {
		l.queue = slices.Delete(l.queue, i, i+1)
	}
}

// viewLocked renders g for the page.
func (l *Lobby) viewLocked(g *game) GameView {
	v := GameView{
		ID:         g.id,
		Round:      g.round,
		Board:      g.board.Cells(),
		Turn:       g.turn,
		Status:     g.status,
		Winner:     g.outcome.Winner,
		Line:       []int{},
		LastMove:   g.lastMove,
		Draws:      g.draws,
		Rematch:    []Mark{},
		Spectators: len(g.spectators),
		Message:    g.message,
	}
	if g.outcome.Winner != Empty {
		v.Line = g.outcome.Line[:]
	}
	for _, m := range []Mark{X, O} {
		seat := g.seatOf(m)
		v.Players = append(v.Players, PlayerView{
			Name: g.names[seat], Mark: m, Wins: g.wins[seat], Present: g.seats[seat] != nil,
		})
		if g.rematch[seat] {
			v.Rematch = append(v.Rematch, m)
		}
	}
	return v
}

// sendGameLocked sends g's state to its players and spectators.
func (l *Lobby) sendGameLocked(g *game) {
	_ = l.ns.To(g.room).Emit("game", l.viewLocked(g))
}

// sendGameToLocked sends g's state to c only.
func (l *Lobby) sendGameToLocked(c *client, g *game) {
	_ = c.sock.Emit("game", l.viewLocked(g))
}

// gameListLocked lists the running games, oldest first.
func (l *Lobby) gameListLocked() []GameSummary {
	out := make([]GameSummary, 0, len(l.games))
	for _, g := range l.games {
		x, o := g.seatOf(X), g.seatOf(O)
		out = append(out, GameSummary{
			ID: g.id, X: g.names[x], O: g.names[o], Status: g.status,
			Round: g.round, Spectators: len(g.spectators),
		})
	}
	slices.SortFunc(out, func(a, b GameSummary) int { return a.ID - b.ID })
	return out
}

// sendGameListLocked sends every socket the running games.
func (l *Lobby) sendGameListLocked() {
	_ = l.ns.Emit(evGames, l.gameListLocked())
}

// validName trims a display name and checks it: 1 to maxNameLen
// characters, no control characters. The page shows names as text, so
// anything else is fine.
func validName(name string) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return "", errNameEmpty
	case n > maxNameLen:
		return "", userError(fmt.Sprintf("Names have at most %d characters.", maxNameLen))
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "", errNameChars
		}
	}
	return name, nil
}
