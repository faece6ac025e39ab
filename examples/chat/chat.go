package main

import (
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/siogo/siogo/socketio"
)

// Limits of the chat. Lengths count Unicode code points.
const (
	maxNickLen    = 24
	maxRoomLen    = 24
	maxMessageLen = 500
	historySize   = 50  // messages a room keeps and sends to who joins
	maxRooms      = 100 // rooms kept at once; empty ones are dropped first
	defaultRoom   = "lobby"
)

// Message is one line of a room or a private conversation, as the page
// receives it in "message" events and in the history of "joined".
type Message struct {
	ID    uint64 `json:"id"`
	Kind  string `json:"kind"`            // kindChat, kindSystem or kindPrivate
	Room  string `json:"room,omitempty"`  // chat and system messages
	From  string `json:"from,omitempty"`  // chat and private messages
	To    string `json:"to,omitempty"`    // private messages
	Event string `json:"event,omitempty"` // system messages: "join", "leave" or "rename"
	Nick  string `json:"nick,omitempty"`  // system messages: who joined, left or was renamed (new name)
	Text  string `json:"text"`
	Time  int64  `json:"time"` // Unix milliseconds
}

// Message kinds.
const (
	kindChat    = "chat"
	kindSystem  = "system"
	kindPrivate = "private"
)

// Replies of the client's events: the ack's single argument on success.
// A refusal is acked as {"error": "text for the user"} instead.
type (
	nickReply struct {
		Nick  string `json:"nick"`
		Token string `json:"token"` // lets the same page take its nickname back after a reconnect
	}
	joinReply struct {
		Room string `json:"room"`
	}
	sentReply struct {
		ID uint64 `json:"id"`
	}
)

// Server-to-client payloads.
type (
	joinedEvent struct {
		Room    string    `json:"room"`
		Users   []string  `json:"users"`
		History []Message `json:"history"`
	}
	usersEvent struct {
		Room  string   `json:"room"`
		Users []string `json:"users"`
	}
	roomInfo struct {
		Name  string `json:"name"`
		Users int    `json:"users"`
	}
)

// userError is a refusal meant for the user: the handler returns it, the
// library acks it as {"error": text} and the page shows the text.
type userError string

func (e userError) Error() string { return string(e) }

const (
	errNoNick     userError = "Choose a nickname first."
	errNoRoom     userError = "Join a room first."
	errEmpty      userError = "Type a message first."
	errSelf       userError = "You can't send a private message to yourself."
	errTooMany    userError = "There are too many rooms right now; please join an existing one."
	errNickChars  userError = "Nicknames may use only letters, digits, '-', '_' and '.'."
	errRoomChars  userError = "Room names may use only letters, digits, '-' and '_'."
	errNickEmpty  userError = "Please choose a nickname."
	errRoomEmpty  userError = "Please give the room a name."
	errGoneSocket userError = "You are disconnected."
	errNoUser     userError = "There is no one by that name here."
)

type user struct {
	sid   string // socket id
	nick  string
	key   string // nick folded for case-insensitive comparison
	token string // secret returned with the nickname, see Chat.nick
	room  string // "" until the first join
}

type room struct {
	name       string
	members    map[string]*user // by socket id
	history    []Message        // the last historySize messages, oldest first
	lastActive time.Time
}

// Chat is the chat server: its state and its event handlers on one
// namespace.
//
// Concurrency: the library runs the handlers of one socket one at a time,
// but handlers of different sockets run concurrently, so mu guards every
// field below it (users, nicks, rooms, lastID): each handler and the
// disconnect hook hold mu for their whole work. The packets a handler sends
// are sent while it holds mu too: sending only queues a packet on the
// receiver's session, and doing it under the lock makes every client see
// the events of a room in the order of its history, and a joining client
// get its history before any newer message.
type Chat struct {
	ns  *socketio.Namespace
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	users  map[string]*user // by socket id; only sockets that chose a nickname
	nicks  map[string]*user // by folded nickname
	rooms  map[string]*room // by name
	lastID uint64
}

// newChat registers the chat's handlers on ns.
func newChat(ns *socketio.Namespace, log *slog.Logger) *Chat {
	c := &Chat{
		ns:    ns,
		log:   log,
		now:   time.Now,
		users: make(map[string]*user),
		nicks: make(map[string]*user),
		rooms: make(map[string]*room),
	}
	c.rooms[defaultRoom] = &room{name: defaultRoom, members: map[string]*user{}}
	for event, fn := range map[string]any{
		"nick": c.onNick,
		"join": c.onJoin,
		"say":  c.onSay,
		"pm":   c.onPrivate,
	} {
		if err := ns.On(event, fn); err != nil {
			panic(err) // a programming error: the handler's signature is wrong
		}
	}
	ns.OnDisconnect(c.onDisconnect)
	return c
}

// onNick chooses or changes the socket's nickname. token is empty, or the
// token a nick reply gave this page before: with it, a page that lost its
// connection (or was reloaded) takes its nickname back at once, even if the
// server has not noticed yet that the old session is gone (a polling
// session lingers until its close timeout). The old session is sent
// "replaced" and closed; the new user gets a new token.
func (c *Chat) onNick(s *socketio.Socket, name, token string) (nickReply, error) {
	reply, stale, err := c.setNick(s, name, token)
	if stale != "" {
		if old := c.ns.Socket(stale); old != nil {
			old.Disconnect()
		}
	}
	return reply, err
}

func (c *Chat) setNick(s *socketio.Socket, name, token string) (_ nickReply, stale string, _ error) {
	nick, key, err := validNick(name)
	if err != nil {
		return nickReply{}, "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// A handler queued just as its socket disconnected can run after the
	// disconnect hook: it must not bring the user back.
	if s.Disconnected() {
		return nickReply{}, "", errGoneSocket
	}
	u := c.users[s.ID()]
	if holder := c.nicks[key]; holder != nil && holder != u {
		if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(holder.token)) != 1 {
			return nickReply{}, "", userError(fmt.Sprintf("The nickname %q is taken; please choose another one.", nick))
		}
		c.log.Info("nickname taken over with its token", "nick", holder.nick, "old", holder.sid, "new", s.ID())
		_ = c.ns.To(holder.sid).Emit("replaced")
		c.removeLocked(holder)
		stale = holder.sid
	}
	if u == nil {
		u = &user{sid: s.ID(), nick: nick, key: key, token: newToken()}
		c.users[u.sid] = u
		c.nicks[key] = u
		c.log.Info("nickname chosen", "sid", u.sid, "nick", nick)
		return nickReply{Nick: nick, Token: u.token}, stale, nil
	}
	if u.nick == nick {
		return nickReply{Nick: nick, Token: u.token}, stale, nil
	}
	old := u.nick
	delete(c.nicks, u.key)
	u.nick, u.key = nick, key
	c.nicks[key] = u
	c.log.Info("nickname changed", "sid", u.sid, "old", old, "nick", nick)
	if r := c.rooms[u.room]; r != nil {
		c.postLocked(r, Message{Kind: kindSystem, Event: "rename", Nick: nick, Text: old + " is now known as " + nick})
		_ = c.ns.To(roomKey(r.name)).Emit("users", usersEvent{Room: r.name, Users: r.nicks()})
	}
	return nickReply{Nick: nick, Token: u.token}, stale, nil
}

// onJoin moves the socket's user to a room, creating it if needed. The
// user is sent "joined" (the room's users and history), the room's others
// a system message and the new user list, and everyone the room list.
func (c *Chat) onJoin(s *socketio.Socket, name string) (joinReply, error) {
	rname, err := validRoom(name)
	if err != nil {
		return joinReply{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.users[s.ID()]
	if u == nil {
		return joinReply{}, errNoNick
	}
	r := c.rooms[rname]
	if r == nil {
		if r = c.newRoomLocked(rname); r == nil {
			return joinReply{}, errTooMany
		}
	}
	if u.room == rname { // already there: send the room again
		_ = s.Emit("joined", joinedEvent{Room: r.name, Users: r.nicks(), History: r.history})
		return joinReply{Room: r.name}, nil
	}
	if u.room != "" {
		c.leaveLocked(u)
	}
	if err := s.Join(roomKey(r.name)); err != nil {
		return joinReply{}, err
	}
	r.members[u.sid] = u
	u.room = r.name
	c.log.Info("joined room", "nick", u.nick, "room", r.name)
	msg := c.recordLocked(r, Message{Kind: kindSystem, Event: "join", Nick: u.nick, Text: u.nick + " joined"})
	_ = s.Emit("joined", joinedEvent{Room: r.name, Users: r.nicks(), History: r.history})
	_ = c.ns.To(roomKey(r.name)).Except(u.sid).Emit("message", msg)
	_ = c.ns.To(roomKey(r.name)).Except(u.sid).Emit("users", usersEvent{Room: r.name, Users: r.nicks()})
	_ = c.ns.Emit("rooms", c.roomListLocked())
	return joinReply{Room: r.name}, nil
}

// onSay sends a message to the user's room.
func (c *Chat) onSay(s *socketio.Socket, text string) (sentReply, error) {
	if err := validText(text); err != nil {
		return sentReply{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.users[s.ID()]
	if u == nil {
		return sentReply{}, errNoNick
	}
	r := c.rooms[u.room]
	if r == nil {
		return sentReply{}, errNoRoom
	}
	msg := c.postLocked(r, Message{Kind: kindChat, From: u.nick, Text: text})
	return sentReply{ID: msg.ID}, nil
}

// onPrivate sends a private message: only its target and its sender get it,
// wherever they are; it is not kept in any history.
func (c *Chat) onPrivate(s *socketio.Socket, to, text string) (sentReply, error) {
	toNick, key, err := validNick(to)
	if err != nil {
		return sentReply{}, errNoUser
	}
	if err := validText(text); err != nil {
		return sentReply{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.users[s.ID()]
	if u == nil {
		return sentReply{}, errNoNick
	}
	target := c.nicks[key]
	if target == nil {
		return sentReply{}, userError(fmt.Sprintf("No one called %q is here.", toNick))
	}
	if target == u {
		return sentReply{}, errSelf
	}
	c.lastID++
	msg := Message{ID: c.lastID, Kind: kindPrivate, From: u.nick, To: target.nick, Text: text, Time: c.now().UnixMilli()}
	_ = c.ns.To(target.sid).Emit("message", msg)
	_ = s.Emit("message", msg)
	return sentReply{ID: msg.ID}, nil
}

// onDisconnect forgets the socket's user. The library has already taken
// the socket out of its rooms, so it gets nothing more.
func (c *Chat) onDisconnect(s *socketio.Socket, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u := c.users[s.ID()]; u != nil {
		c.log.Info("user left", "nick", u.nick, "reason", reason)
		c.removeLocked(u)
	}
}

// removeLocked forgets u: it leaves its room and frees its nickname.
func (c *Chat) removeLocked(u *user) {
	if u.room != "" {
		c.leaveLocked(u)
		_ = c.ns.Emit("rooms", c.roomListLocked())
	}
	if c.nicks[u.key] == u {
		delete(c.nicks, u.key)
	}
	if c.users[u.sid] == u {
		delete(c.users, u.sid)
	}
}

// leaveLocked takes u out of its room and tells the room. The caller sends
// the new room list.
func (c *Chat) leaveLocked(u *user) {
	r := c.rooms[u.room]
	u.room = ""
	if r == nil {
		return
	}
	delete(r.members, u.sid)
	if err := c.ns.Adapter().Leave(u.sid, roomKey(r.name)); err != nil {
		c.log.Warn("leaving room failed", "room", r.name, "err", err)
	}
	c.postLocked(r, Message{Kind: kindSystem, Event: "leave", Nick: u.nick, Text: u.nick + " left"})
	_ = c.ns.To(roomKey(r.name)).Emit("users", usersEvent{Room: r.name, Users: r.nicks()})
}

// recordLocked stamps msg and adds it to r's history.
func (c *Chat) recordLocked(r *room, msg Message) Message {
	c.lastID++
	msg.ID = c.lastID
	msg.Room = r.name
	now := c.now()
	msg.Time = now.UnixMilli()
	r.lastActive = now
	if len(r.history) == historySize {
		copy(r.history, r.history[1:])
		r.history = r.history[:historySize-1]
	}
	r.history = append(r.history, msg)
	return msg
}

// postLocked records msg in r and sends it to every member of r.
func (c *Chat) postLocked(r *room, msg Message) Message {
	msg = c.recordLocked(r, msg)
	_ = c.ns.To(roomKey(r.name)).Emit("message", msg)
	return msg
}

// newRoomLocked creates a room; when there are maxRooms already, the empty
// room least recently used is dropped (with its history) first. It returns
// nil when every room is in use.
func (c *Chat) newRoomLocked(name string) *room {
	if len(c.rooms) >= maxRooms {
		var victim *room
		for _, r := range c.rooms {
			if len(r.members) == 0 && r.name != defaultRoom && (victim == nil || r.lastActive.Before(victim.lastActive)) {
				victim = r
			}
		}
		if victim == nil {
			return nil
		}
		delete(c.rooms, victim.name)
	}
	r := &room{name: name, members: make(map[string]*user), lastActive: c.now()}
	c.rooms[name] = r
	return r
}

// roomListLocked lists the lobby and every room with someone in it, the
// lobby first.
func (c *Chat) roomListLocked() []roomInfo {
	list := []roomInfo{}
	for _, r := range c.rooms {
		if len(r.members) > 0 || r.name == defaultRoom {
			list = append(list, roomInfo{Name: r.name, Users: len(r.members)})
		}
	}
	slices.SortFunc(list, func(a, b roomInfo) int {
		if (a.Name == defaultRoom) != (b.Name == defaultRoom) {
			if a.Name == defaultRoom {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return list
}

// nicks lists the room's members, sorted case-insensitively.
func (r *room) nicks() []string {
	out := make([]string, 0, len(r.members))
	for _, u := range r.members {
		out = append(out, u.nick)
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(foldNick(a), foldNick(b)), cmp.Compare(a, b))
	})
	return out
}

// roomKey is the library room of a chat room. The prefix keeps chat rooms
// apart from the room every socket has under its own id: a user must not
// be able to join someone's private messages by naming a room after their
// socket id.
func roomKey(name string) string { return "room:" + name }

// foldNick is the form in which nicknames are compared.
func foldNick(nick string) string { return strings.ToLower(strings.TrimSpace(nick)) }

// validNick checks a nickname: 1 to maxNickLen letters, digits, '-', '_'
// or '.', after trimming spaces. It returns it and its folded form.
func validNick(name string) (nick, key string, _ error) {
	nick = strings.TrimSpace(name)
	n := utf8.RuneCountInString(nick)
	switch {
	case n == 0:
		return "", "", errNickEmpty
	case n > maxNickLen:
		return "", "", userError(fmt.Sprintf("Nicknames have at most %d characters.", maxNickLen))
	}
	for _, r := range nick {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			return "", "", errNickChars
		}
	}
	return nick, foldNick(nick), nil
}

// validRoom checks a room name and returns it in its canonical form:
// trimmed, without a leading '#', lower case; 1 to maxRoomLen letters,
// digits, '-' or '_'.
func validRoom(name string) (string, error) {
	name = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "#"))
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return "", errRoomEmpty
	case n > maxRoomLen:
		return "", userError(fmt.Sprintf("Room names have at most %d characters.", maxRoomLen))
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
			return "", errRoomChars
		}
	}
	return name, nil
}

// validText checks a message: not blank, at most maxMessageLen characters.
// The text itself is kept exactly as sent; the page renders it as text.
func validText(text string) error {
	if strings.TrimSpace(text) == "" {
		return errEmpty
	}
	if n := utf8.RuneCountInString(text); n > maxMessageLen {
		return userError(fmt.Sprintf("Messages have at most %d characters (this one has %d).", maxMessageLen, n))
	}
	return nil
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
