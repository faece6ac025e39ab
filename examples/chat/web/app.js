// siogo chat page. Talks to the server with the socket.io.js client the
// page loaded (the global `io`): 0.9.16 by default, 4.x when the page was
// opened with ?client=4 (the server then serves it a <script> loading that
// one). The two clients' differences are kept to the few branches on
// `modern`; the event protocol is described in README.md.
//
// Everything users type is put in the page with textContent, never as HTML.
(function () {
  'use strict';

  // socket.io.js 4.x is a function, io(url, options); 0.9.16 an object
  // with io.connect(url, options).
  var modern = typeof io === 'function';
  var TRANSPORTS = modern ? ['websocket', 'polling'] : ['websocket', 'htmlfile', 'xhr-polling', 'jsonp-polling'];
  var MAX_SHOWN = 500; // messages kept in the page
  var STORAGE_KEY = 'siogo-chat'; // sessionStorage key of {nick, token}
  var errorTimer = null;          // hides the error toast

  function $(id) { return document.getElementById(id); }

  var ui = {
    app: $('app'),
    status: $('status'),
    reconnecting: $('reconnecting'),
    roomName: $('room-name'),
    whoami: $('whoami'),
    me: $('me'),
    rename: $('rename'),
    rooms: $('rooms'),
    roomForm: $('room-form'),
    roomInput: $('room-input'),
    messages: $('messages'),
    composer: $('composer'),
    pmTarget: $('pm-target'),
    pmNick: $('pm-nick'),
    pmCancel: $('pm-cancel'),
    input: $('message-input'),
    send: $('send'),
    charCount: $('char-count'),
    users: $('users'),
    userCount: $('user-count'),
    login: $('login'),
    loginTitle: $('login-title'),
    loginText: $('login-text'),
    nickForm: $('nick-form'),
    nickInput: $('nick-input'),
    nickCancel: $('nick-cancel'),
    error: $('error')
  };

  var params = new URLSearchParams(location.search);
  var saved = loadSaved();
  var state = {
    nick: null,     // our nickname, once the server accepted it
    token: null,    // lets us take the nickname back after a reconnect or a reload
    replaced: false, // another tab took our nickname over: stay disconnected
    room: params.get('room') || 'lobby',
    joined: false,  // the server has us in state.room on this connection
    connected: false,
    pmTo: null,     // nickname the composer sends private messages to
    users: []
  };

  // ---- connection ---------------------------------------------------------

  var wanted = params.get('client');
  if (typeof io === 'undefined') {
    setStatus('offline', 'no client');
    showError(wanted === '4' ?
      'socket.io.js 4.x did not load: is socket.io-client 4 installed (make deps-node)?' :
      'socket.io.js did not load: is the server running with the client installed?');
    return;
  }
  ui.app.dataset.client = modern ? '4' : '0.9';
  if (wanted && wanted !== '4' && wanted !== '0.9') {
    showError('Unknown client "' + wanted + '": using socket.io.js 0.9.16 (?client=4 loads 4.x).');
  }

  var forced = params.get('transport');
  if (forced && TRANSPORTS.indexOf(forced) < 0) {
    showError('Unknown transport "' + forced + '"; using the default ones (' + TRANSPORTS.join(', ') + ').');
    forced = null;
  }
  var socket;
  if (modern) {
    var options4 = { reconnectionDelay: 500, reconnectionDelayMax: 5000 }; // back off to one try every 5 s
    if (forced) options4.transports = [forced];
    socket = io(location.protocol + '//' + location.host, options4);
  } else {
    var options = {
      'reconnect': true,
      'reconnection delay': 500,
      'reconnection limit': 5000,          // back off to one try every 5 s
      'max reconnection attempts': Infinity
    };
    if (forced) {
      // socket.io.js 0.9.16 merges the options into its defaults element by
      // element, and its default transport list is the shared io.transports:
      // {transports: ['jsonp-polling']} alone would only overwrite the first
      // entry and connect with another transport. Set the defaults too.
      io.transports = [forced];
      options.transports = [forced];
    }
    socket = io.connect(location.protocol + '//' + location.host, options);
  }

  // transportName is the name of the transport the client uses now.
  function transportName() {
    var t = modern ? socket.io.engine && socket.io.engine.transport : socket.socket.transport;
    return t ? t.name : '';
  }

  function showTransport() {
    var name = transportName();
    setStatus('connected', 'connected · ' + name + (modern ? ' · socket.io 4' : ''));
    ui.app.dataset.transport = name;
  }

  // A polling session would only end at the server's timeout when the tab
  // closes (a websocket ends with its connection): tell the server now.
  // (The 0.9 client's own 'sync disconnect on unload' uses a synchronous
  // XHR, which browsers refuse during unload; for 4.x the beacon POSTs the
  // Engine.IO close packet, "1".)
  window.addEventListener('pagehide', function () {
    var name = transportName();
    if (!navigator.sendBeacon || !name || name === 'websocket') return;
    if (modern) {
      if (socket.connected) navigator.sendBeacon('/socket.io/?EIO=4&transport=polling&sid=' + encodeURIComponent(socket.io.engine.id), '1');
      return;
    }
    var s = socket.socket;
    if (s.connected) navigator.sendBeacon('/socket.io/1/' + s.transport.name + '/' + encodeURIComponent(s.sessionid) + '/?disconnect=1');
  });

  // 4.x starts on polling and upgrades to websocket unless forced.
  if (modern) socket.io.on('open', function () { socket.io.engine.on('upgrade', showTransport); });

  var connectedOnce = false; // this page has been connected
  socket.on('connect', function () {
    state.connected = true;
    connectedOnce = true;
    state.joined = false;
    showTransport();
    ui.reconnecting.hidden = true;
    if (state.nick) {
      // A reconnect: the server has forgotten us; tell it who and where we are.
      claimNick(state.nick, true);
    } else if (saved) {
      // A reload of this tab: take the nickname back without asking.
      state.token = saved.token;
      claimNick(saved.nick, true);
      saved = null;
    } else {
      showLogin(false);
    }
    updateComposer();
  });

  socket.on('disconnect', function (reason) {
    state.connected = false;
    state.joined = false;
    setStatus('reconnecting', 'reconnecting…');
    ui.reconnecting.hidden = false;
    updateComposer();
    // The client reconnects by itself after a lost transport, and after
    // the server's "7:::1+0" (0.9: session gone, reconnect: what siogo
    // sends on a graceful shutdown) or the end of the session (4.x). After
    // a plain goodbye (0.9 "0::", "booted"; 4.x "io server disconnect") it
    // does not: then we retry ourselves. Checked after the client's own
    // handling has run, so that we never start a second reconnect loop.
    if (reason === (modern ? 'io server disconnect' : 'booted') && !state.replaced) {
      setTimeout(function () {
        if (state.replaced) return;
        if (modern) {
          if (!socket.connected && !socket.active) socket.connect();
        } else if (!socket.socket.reconnecting && !socket.socket.connected) {
          socket.socket.reconnect();
        }
      }, 0);
    }
    if (state.replaced) {
      setStatus('offline', 'disconnected');
      ui.reconnecting.hidden = true;
    }
  });

  // The same nickname and token were claimed from another tab (a duplicated
  // tab shares our saved token); the server closes this connection next.
  socket.on('replaced', function () {
    state.replaced = true;
    forgetSaved();
    showError('You opened the chat as ' + state.nick + ' somewhere else; this tab is now disconnected. Reload it to chat here again.', true);
  });

  function reconnecting(attempt) {
    setStatus('reconnecting', 'reconnecting… (try ' + attempt + ')');
  }
  function reconnectFailed() {
    setStatus('offline', 'offline');
    showError('Could not reconnect. Reload the page to try again.');
  }

  if (modern) {
    // 4.x: the reconnection events are the Manager's (socket.io), and it
    // retries a failed first connection by itself.
    socket.io.on('reconnect_attempt', reconnecting);
    socket.io.on('reconnect_failed', reconnectFailed);
    socket.on('connect_error', function (err) {
      // After a first connection, a failed attempt of the reconnection
      // (which goes on): "reconnecting… (try n)" says enough.
      if (state.connected || (connectedOnce && socket.active)) return;
      setStatus('offline', socket.active ? 'cannot connect, retrying…' : 'cannot connect');
      // Not active: the server refused the namespace; retrying won't help.
      if (!socket.active) showError('The server refused the connection: ' + err.message, true);
    });
  } else {
    socket.on('reconnecting', function (delay, attempt) { reconnecting(attempt); });
    socket.on('reconnect_failed', reconnectFailed);

    socket.on('connect_failed', function () {
      if (state.connected) return;
      setStatus('offline', 'cannot connect');
      if (forced) showError('This browser cannot use the ' + forced + ' transport; try another one.', true);
    });

    socket.on('error', function (reason) {
      if (state.connected || socket.socket.reconnecting) return;
      // The first connection failed (no reconnect logic runs yet): retry.
      setStatus('offline', 'cannot connect, retrying…');
      setTimeout(function () {
        if (!state.connected && !socket.socket.connecting) socket.socket.connect();
      }, 3000);
    });
  }

  // ---- server events ------------------------------------------------------

  socket.on('joined', function (ev) {
    state.room = ev.room;
    state.joined = true;
    ui.roomName.textContent = ev.room;
    ui.input.placeholder = 'Message #' + ev.room;
    document.title = '#' + ev.room + ' · siogo chat';
    params.set('room', ev.room);
    history.replaceState(null, '', '?' + params.toString());
    ui.messages.textContent = '';
    ev.history.forEach(addMessage);
    renderUsers(ev.users);
    markCurrentRoom();
    updateComposer();
    scrollToEnd(true);
    if (ui.login.hidden) ui.input.focus();
  });

  socket.on('message', function (m) {
    if (m.kind !== 'private' && m.room !== state.room) return;
    addMessage(m);
  });

  socket.on('users', function (ev) {
    if (ev.room === state.room) renderUsers(ev.users);
  });

  socket.on('rooms', renderRooms);

  // ---- actions ------------------------------------------------------------

  // claimNick asks the server for a nickname; quiet is set for the automatic
  // claim after a reconnect.
  function claimNick(nick, quiet) {
    socket.emit('nick', nick, state.token || '', function (res) {
      if (!res || res.error) {
        if (quiet) {
          state.nick = null;
          state.token = null;
          forgetSaved();
          showLogin(false);
          ui.nickInput.value = nick;
        }
        showError(res ? res.error : 'The server did not accept the nickname.');
        ui.nickInput.focus();
        return;
      }
      hideError();
      state.nick = res.nick;
      state.token = res.token;
      save();
      ui.me.textContent = res.nick;
      ui.whoami.hidden = false;
      hideLogin();
      if (!state.joined) joinRoom(state.room);
      renderUsers(state.users);
    });
  }

  function joinRoom(room) {
    socket.emit('join', room, function (res) {
      if (!res || res.error) {
        showError(res ? res.error : 'Could not join the room.');
        if (!state.joined && room !== 'lobby') joinRoom('lobby');
        return;
      }
      hideError();
    });
  }

  function sendText(text) {
    var m;
    if ((m = /^\/join\s+(\S+)\s*$/.exec(text))) {
      joinRoom(m[1]);
      return clearInput();
    }
    if ((m = /^\/nick\s+(\S+)\s*$/.exec(text))) {
      claimNick(m[1], false);
      return clearInput();
    }
    if ((m = /^\/msg\s+(\S+)\s+([\s\S]+)$/.exec(text))) {
      return emitText('pm', [m[1], m[2]]);
    }
    if (state.pmTo) return emitText('pm', [state.pmTo, text]);
    emitText('say', [text]);
  }

  function emitText(event, args) {
    ui.send.disabled = true;
    socket.emit.apply(socket, [event].concat(args, function (res) {
      updateComposer();
      if (!res || res.error) {
        showError(res ? res.error : 'The message was not sent.');
        return;
      }
      hideError();
      clearInput();
    }));
  }

  function clearInput() {
    ui.input.value = '';
    updateCharCount();
  }

  // ---- rendering ----------------------------------------------------------

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // hue gives every nickname a stable colour.
  function hue(nick) {
    var h = 0;
    for (var i = 0; i < nick.length; i++) h = (h * 31 + nick.toLowerCase().charCodeAt(i)) % 360;
    return h;
  }

  function nickSpan(nick, className) {
    var s = el('span', className, nick);
    s.style.setProperty('--hue', hue(nick));
    return s;
  }

  function pad(n) { return n < 10 ? '0' + n : String(n); }

  function addMessage(m) {
    var stick = nearEnd();
    var li = el('li', 'msg msg-' + m.kind);
    li.dataset.kind = m.kind;
    li.dataset.id = m.id;
    if (m.from) li.dataset.from = m.from;
    if (m.to) li.dataset.to = m.to;
    if (m.event) li.dataset.event = m.event;
    if (m.from && m.from === state.nick) li.classList.add('mine');

    var d = new Date(m.time);
    var time = el('time', 'time', pad(d.getHours()) + ':' + pad(d.getMinutes()));
    time.dateTime = d.toISOString();
    time.title = d.toLocaleString();
    li.appendChild(time);

    if (m.kind === 'system') {
      li.appendChild(el('span', 'text', m.text));
    } else {
      var who = el('span', 'who');
      if (m.kind === 'private') {
        li.appendChild(el('span', 'badge', 'private'));
        who.appendChild(nickSpan(m.from, 'nick'));
        who.appendChild(el('span', 'arrow', '→'));
        who.appendChild(nickSpan(m.to, 'nick'));
      } else {
        who.appendChild(nickSpan(m.from, 'nick'));
      }
      li.appendChild(who);
      li.appendChild(el('span', 'text', m.text));
    }
    ui.messages.appendChild(li);
    while (ui.messages.children.length > MAX_SHOWN) ui.messages.removeChild(ui.messages.firstChild);
    scrollToEnd(stick);
  }

  function nearEnd() {
    var m = ui.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
  }

  function scrollToEnd(really) {
    if (really) ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  function renderUsers(users) {
    state.users = users;
    ui.users.textContent = '';
    users.forEach(function (nick) {
      var li = el('li', 'user');
      li.dataset.nick = nick;
      var isMe = nick === state.nick;
      if (isMe) li.classList.add('me');
      if (nick === state.pmTo) li.classList.add('selected');
      var b = el('button', 'user-button');
      b.type = 'button';
      b.appendChild(nickSpan(nick, 'dot'));
      b.appendChild(el('span', 'name', nick));
      if (isMe) {
        b.appendChild(el('span', 'you', 'you'));
        b.disabled = true;
      } else {
        b.title = 'Send ' + nick + ' a private message';
        b.addEventListener('click', function () { setPrivate(nick); });
      }
      li.appendChild(b);
      ui.users.appendChild(li);
    });
    ui.userCount.textContent = users.length ? String(users.length) : '';
  }

  function renderRooms(rooms) {
    ui.rooms.textContent = '';
    rooms.forEach(function (r) {
      var li = el('li', 'room');
      li.dataset.room = r.name;
      li.dataset.users = r.users;
      var b = el('button', 'room-button');
      b.type = 'button';
      b.appendChild(el('span', 'hash', '#'));
      b.appendChild(el('span', 'name', r.name));
      b.appendChild(el('span', 'count', String(r.users)));
      b.addEventListener('click', function () {
        if (r.name !== state.room || !state.joined) joinRoom(r.name);
      });
      li.appendChild(b);
      ui.rooms.appendChild(li);
    });
    markCurrentRoom();
  }

  function markCurrentRoom() {
    Array.prototype.forEach.call(ui.rooms.children, function (li) {
      li.classList.toggle('current', li.dataset.room === state.room);
    });
  }

  function setPrivate(nick) {
    state.pmTo = nick;
    ui.pmTarget.hidden = !nick;
    ui.pmNick.textContent = nick || '';
    ui.composer.classList.toggle('private', !!nick);
    ui.input.placeholder = nick ? 'Private message to ' + nick : 'Message #' + state.room;
    renderUsers(state.users);
    ui.input.focus();
  }

  function setStatus(kind, text) {
    ui.status.dataset.status = kind;
    ui.status.textContent = text;
    ui.app.dataset.status = kind;
  }

  function updateComposer() {
    var ready = state.connected && state.joined;
    ui.input.disabled = !ready;
    ui.send.disabled = !ready;
  }

  function updateCharCount() {
    var n = ui.input.value.length;
    ui.charCount.textContent = n > 400 ? n + ' / 500' : '';
  }

  function showError(text, sticky) {
    ui.error.textContent = text;
    ui.error.hidden = false;
    clearTimeout(errorTimer);
    if (!sticky) errorTimer = setTimeout(hideError, 8000);
  }
  function hideError() {
    clearTimeout(errorTimer);
    ui.error.hidden = true;
  }

  function showLogin(renaming) {
    ui.loginTitle.textContent = renaming ? 'Change your nickname' : 'Welcome to siogo chat';
    ui.nickCancel.hidden = !renaming;
    ui.nickInput.value = renaming ? state.nick : ui.nickInput.value;
    ui.login.hidden = false;
    ui.nickInput.focus();
    ui.nickInput.select();
  }
  function hideLogin() {
    ui.login.hidden = true;
    if (state.joined) ui.input.focus();
  }

  // The nickname and its token are kept in sessionStorage (this tab only),
  // so a reload keeps the nickname.
  function loadSaved() {
    try {
      var v = JSON.parse(sessionStorage.getItem(STORAGE_KEY));
      return v && typeof v.nick === 'string' && typeof v.token === 'string' ? v : null;
    } catch (e) {
      return null;
    }
  }
  function save() {
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ nick: state.nick, token: state.token }));
    } catch (e) { /* storage disabled: a reload asks for the nickname again */ }
  }
  function forgetSaved() {
    try { sessionStorage.removeItem(STORAGE_KEY); } catch (e) { /* ignore */ }
  }

  // ---- wiring -------------------------------------------------------------

  ui.nickForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var nick = ui.nickInput.value.trim();
    if (!nick) {
      showError('Please choose a nickname.');
      return;
    }
    if (!state.connected) {
      showError('Not connected yet; please wait a moment.');
      return;
    }
    claimNick(nick, false);
  });
  ui.nickCancel.addEventListener('click', hideLogin);
  ui.rename.addEventListener('click', function () { showLogin(true); });

  ui.roomForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var room = ui.roomInput.value.trim();
    if (!room) return;
    joinRoom(room);
    ui.roomInput.value = '';
  });

  ui.composer.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = ui.input.value;
    if (!text.trim() || ui.send.disabled) return;
    sendText(text);
  });
  ui.input.addEventListener('input', updateCharCount);
  ui.input.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && state.pmTo) setPrivate(null);
  });
  ui.pmCancel.addEventListener('click', function () { setPrivate(null); });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && !ui.login.hidden && state.nick) hideLogin();
  });
})();
