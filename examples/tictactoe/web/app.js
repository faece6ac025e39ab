// siogo tic-tac-toe page. Talks to the server with the socket.io.js client
// the page loaded (the global `io`): 0.9.16 by default, 4.x when the page
// was opened with ?client=4 (the server then serves it a <script> loading
// that one). The two clients' differences are kept to the few branches on
// `modern`; the event protocol is described in README.md.
//
// The server holds the game: the page only shows the "game" states it is
// sent and forwards clicks. Names are put in the page with textContent,
// never as HTML.
(function () {
  'use strict';

  // socket.io.js 4.x is a function, io(url, options); 0.9.16 an object
  // with io.connect(url, options).
  var modern = typeof io === 'function';
  var TRANSPORTS = modern ? ['websocket', 'polling'] : ['websocket', 'htmlfile', 'xhr-polling', 'jsonp-polling'];
  var NAME_KEY = 'siogo-tictactoe-name'; // localStorage: the last name used

  function $(id) { return document.getElementById(id); }

  var ui = {
    body: document.body,
    conn: $('conn'),
    status: $('status'),
    message: $('message'),
    messageText: $('message-text'),
    messageClose: $('message-close'),
    lobby: $('lobby'),
    nameForm: $('name-form'),
    nameInput: $('name-input'),
    play: $('play'),
    waiting: $('waiting'),
    waitingName: $('waiting-name'),
    cancel: $('cancel'),
    game: $('game'),
    board: $('board'),
    cells: Array.prototype.slice.call(document.querySelectorAll('#board [data-cell]')),
    playerX: $('player-x'),
    playerO: $('player-o'),
    draws: $('draws'),
    rematch: $('rematch'),
    leave: $('leave'),
    gameId: $('game-id'),
    round: $('round'),
    spectators: $('spectators'),
    games: $('games'),
    gamesCount: $('games-count'),
    noGames: $('no-games')
  };

  var state = {
    connected: false,
    view: 'lobby',  // 'lobby', 'waiting' or 'game'
    role: '',       // 'X' or 'O' while playing, 'spectator' while watching
    gameId: 0,      // the game shown
    game: null,     // its last state from the server
    games: [],      // the running games
    name: ''
  };

  try { state.name = localStorage.getItem(NAME_KEY) || ''; } catch (e) { /* storage off */ }
  ui.nameInput.value = state.name;

  // ---- connection ---------------------------------------------------------

  var params = new URLSearchParams(location.search);
  var wanted = params.get('client');
  if (typeof io === 'undefined') {
    setConn('offline', 'no client');
    showMessage(wanted === '4' ?
      'socket.io.js 4.x did not load: is socket.io-client 4 installed (make deps-node)?' :
      'socket.io.js did not load: is the server running with the client installed?', 'error');
    setStatus('offline', 'The game cannot start.');
    return;
  }
  ui.body.dataset.client = modern ? '4' : '0.9';
  if (wanted && wanted !== '4' && wanted !== '0.9') {
    showMessage('Unknown client "' + wanted + '": using socket.io.js 0.9.16 (?client=4 loads 4.x).', 'error');
  }
  var forced = params.get('transport');
  if (forced && TRANSPORTS.indexOf(forced) < 0) {
    showMessage('Unknown transport "' + forced + '": using the default ones (' + TRANSPORTS.join(', ') + ').', 'error');
    forced = null;
  }
  var socket;
  if (modern) {
    var options4 = { reconnectionDelay: 500, reconnectionDelayMax: 5000 };
    if (forced) options4.transports = [forced];
    socket = io(location.protocol + '//' + location.host, options4);
  } else {
    var options = {
      'reconnect': true,
      'reconnection delay': 500,
      'reconnection limit': 5000,
      'max reconnection attempts': Infinity
    };
    if (forced) {
      // socket.io.js 0.9.16 merges the options into its defaults index by
      // index, and the default transport list is the shared io.transports:
      // {transports: ['xhr-polling']} alone would only replace the first
      // entry and still connect over websocket. Set the defaults too.
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
    ui.body.dataset.transport = name;
    setConn('connected', 'connected · ' + name + (modern ? ' · socket.io 4' : ''));
  }

  // 4.x starts on polling and upgrades to websocket unless forced.
  if (modern) socket.io.on('open', function () { socket.io.engine.on('upgrade', showTransport); });

  var connectedOnce = false; // this page has been connected
  socket.on('connect', function () {
    state.connected = true;
    connectedOnce = true;
    showTransport();
    ui.nameInput.disabled = false;
    ui.play.disabled = false;
    // A reconnect: the server has forgotten this page.
    if (state.view === 'waiting') {
      requestGame(state.name);
    } else if (state.view === 'game') {
      showView('lobby');
      showMessage('The connection was lost, so the game has ended.', 'error');
    }
    render();
  });

  socket.on('disconnect', function (reason) {
    state.connected = false;
    setConn('reconnecting', 'reconnecting…');
    ui.play.disabled = true;
    render();
    // The client reconnects by itself unless the server said goodbye
    // (0.9 "booted", 4.x "io server disconnect"): then retry ourselves.
    if (modern) {
      if (reason === 'io server disconnect') socket.connect();
    } else if (reason === 'booted' && !socket.socket.reconnecting) {
      socket.socket.reconnect();
    }
  });

  // Leaving the page ends the game for the others at once. Over a
  // WebSocket the server sees the connection close; a polling session
  // would linger until its close timeout, so tell the server. (The 0.9
  // client's own 'sync disconnect on unload' option does not help: it
  // sends a synchronous XHR, which browsers refuse during unload, to
  // /socket.io/1//SID/?disconnect=1, a URL with an empty transport. For
  // 4.x the beacon POSTs the Engine.IO close packet, "1".)
  window.addEventListener('pagehide', function () {
    var name = transportName();
    if (!navigator.sendBeacon || !name || name === 'websocket') return;
    if (modern) {
      if (socket.connected) navigator.sendBeacon('/socket.io/?EIO=4&transport=polling&sid=' + encodeURIComponent(socket.io.engine.id), '1');
      return;
    }
    var s = socket.socket;
    if (s.connected) navigator.sendBeacon('/socket.io/1/' + name + '/' + encodeURIComponent(s.sessionid) + '/?disconnect=1');
  });

  // 4.x's reconnection events are its Manager's (socket.io). Its
  // connect_error is any failed attempt, which the Manager retries: shown
  // for the first connection only ("reconnecting…" stays up otherwise).
  (modern ? socket.io : socket).on('reconnect_failed', function () { setConn('offline', 'offline'); });
  socket.on(modern ? 'connect_error' : 'connect_failed', function () {
    if (!modern || !connectedOnce) setConn('offline', 'cannot connect');
  });

  // "error" is the server's event for a refused call:
  // ["method_access_denied", text]; with 0.9 also the client's own (a
  // failed handshake: one string).
  socket.on('error', function (reason, text) {
    if (reason === 'method_access_denied') {
      showMessage(deniedText(text), 'denied');
      return;
    }
    if (!state.connected) setConn('offline', 'cannot connect');
  });

  // ---- server events --------------------------------------------------------

  socket.on('games', function (list) {
    state.games = list || [];
    renderGames();
  });

  socket.on('start', function (ev) {
    state.role = ev.mark;
    state.gameId = ev.game;
    state.game = null;
    hideMessage();
    showView('game');
  });

  socket.on('watching', function (ev) {
    state.role = 'spectator';
    state.gameId = ev.game;
    state.game = null;
    hideMessage();
    showView('game');
  });

  socket.on('game', function (g) {
    if (state.view !== 'game' || g.id !== state.gameId) return;
    var before = state.game;
    state.game = g;
    // The server's message says who left; show it once.
    if (g.message && (!before || before.message !== g.message)) {
      showMessage(g.message, 'warn');
    }
    render();
  });

  // ---- user actions ---------------------------------------------------------

  ui.nameForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var name = ui.nameInput.value.trim();
    if (!name) {
      showMessage('Please choose a name first.', 'error');
      ui.nameInput.focus();
      return;
    }
    requestGame(name);
  });

  function requestGame(name) {
    if (!state.connected) return;
    state.name = name;
    try { localStorage.setItem(NAME_KEY, name); } catch (e) { /* storage off */ }
    ui.play.disabled = true;
    socket.emit('play', name, function (res) {
      ui.play.disabled = !state.connected;
      if (res && res.error) {
        showMessage(res.error, 'error');
        return;
      }
      if (res && res.status === 'waiting') {
        hideMessage();
        showView('waiting');
      }
      // "playing": the "start" event came first and showed the game.
    });
  }

  ui.cancel.addEventListener('click', function () {
    socket.emit('cancel', function () { showView('lobby'); });
  });

  ui.board.addEventListener('click', function (e) {
    var cell = e.target.closest('[data-cell]');
    if (!cell || !state.game || state.game.status !== 'playing') return;
    // Send even out of turn: the server is the authority, and its ACL
    // answers an out-of-turn move with "method_access_denied" (and no ack).
    socket.emit('move', Number(cell.dataset.cell), function (res) {
      if (res && res.error) showMessage(res.error, 'error');
      else hideMessage();
    });
  });

  ui.rematch.addEventListener('click', function () {
    ui.rematch.disabled = true;
    socket.emit('rematch', function (res) {
      if (res && res.error) {
        showMessage(res.error, 'error');
        render();
      }
    });
  });

  ui.leave.addEventListener('click', function () {
    socket.emit('leave', function () { });
    state.role = '';
    state.gameId = 0;
    state.game = null;
    hideMessage();
    showView('lobby');
  });

  ui.games.addEventListener('click', function (e) {
    var btn = e.target.closest('button[data-watch]');
    if (!btn) return;
    socket.emit('watch', Number(btn.dataset.watch), function (res) {
      if (res && res.error) showMessage(res.error, 'error');
    });
  });

  ui.messageClose.addEventListener('click', hideMessage);

  // ---- rendering ------------------------------------------------------------

  function showView(view) {
    state.view = view;
    if (view !== 'game') {
      state.role = '';
      state.gameId = 0;
      state.game = null;
    }
    render();
    if (view === 'lobby' && !ui.nameInput.disabled) ui.nameInput.focus();
  }

  function render() {
    var view = state.view;
    ui.body.dataset.view = view;
    ui.lobby.hidden = view === 'game';
    ui.nameForm.hidden = view === 'waiting';
    ui.waiting.hidden = view !== 'waiting';
    ui.waitingName.textContent = state.name;
    ui.game.hidden = view !== 'game';
    renderStatus();
    if (view === 'game') renderGame();
    renderGames();
  }

  function me() { return state.role === 'X' || state.role === 'O' ? state.role : ''; }

  function player(g, mark) {
    for (var i = 0; i < g.players.length; i++) if (g.players[i].mark === mark) return g.players[i];
    return { name: '?', mark: mark, wins: 0, present: false };
  }

  function renderStatus() {
    if (!state.connected && state.view !== 'game') {
      setStatus('offline', 'Connecting…');
      return;
    }
    if (state.view === 'lobby') {
      setStatus('lobby', 'Pick a name and press Play, or watch a game.');
      return;
    }
    if (state.view === 'waiting') {
      setStatus('waiting', 'Waiting for an opponent…');
      return;
    }
    var g = state.game;
    if (!g) {
      setStatus('loading', 'Loading the game…');
      return;
    }
    var mine = me();
    var turn = g.turn ? player(g, g.turn) : null;
    switch (g.status) {
      case 'playing':
        if (mine && g.turn === mine) setStatus('your-turn', 'Your turn — you play ' + mine + '.');
        else if (mine) setStatus('their-turn', turn.name + ' is thinking…');
        else setStatus('watching', turn.name + ' (' + g.turn + ') to play.');
        break;
      case 'won':
        var w = player(g, g.winner);
        if (mine && g.winner === mine) setStatus('won', 'You win!' + rematchNote(g));
        else if (mine) setStatus('lost', w.name + ' wins.' + rematchNote(g));
        else setStatus('won', w.name + ' (' + g.winner + ') wins!');
        break;
      case 'draw':
        setStatus('draw', 'It\'s a draw.' + rematchNote(g));
        break;
      case 'abandoned':
        setStatus('abandoned', 'Game over: a player left.');
        break;
      default:
        setStatus(g.status, g.status);
    }
  }

  // rematchNote tells a player the opponent asked for a rematch, or that
  // the opponent left.
  function rematchNote(g) {
    var mine = me();
    if (!mine) return '';
    var opp = player(g, mine === 'X' ? 'O' : 'X');
    if (!opp.present) return ' ' + opp.name + ' has left.';
    if (g.rematch.indexOf(opp.mark) >= 0 && g.rematch.indexOf(mine) < 0) return ' ' + opp.name + ' wants a rematch!';
    return '';
  }

  function renderGame() {
    var g = state.game;
    var mine = me();
    ui.game.dataset.role = state.role;
    ui.gameId.textContent = '#' + state.gameId;
    if (!g) return;
    ui.game.dataset.status = g.status;
    ui.board.dataset.status = g.status;
    ui.board.dataset.turn = g.turn;
    ui.board.dataset.mine = g.status === 'playing' && mine && g.turn === mine ? 'true' : 'false';
    var win = {};
    g.line.forEach(function (i) { win[i] = true; });
    ui.cells.forEach(function (cell, i) {
      var m = g.board[i];
      cell.textContent = m;
      cell.dataset.mark = m;
      cell.dataset.win = win[i] ? 'true' : 'false';
      cell.classList.toggle('last', g.lastMove === i);
      cell.setAttribute('aria-label', cell.getAttribute('aria-label').replace(/:.*$/, '') + (m ? ': ' + m : ''));
    });
    [['X', ui.playerX], ['O', ui.playerO]].forEach(function (pair) {
      var p = player(g, pair[0]);
      var el = pair[1];
      el.querySelector('.name').textContent = p.name;
      el.querySelector('.wins').textContent = p.wins + (p.wins === 1 ? ' win' : ' wins');
      el.dataset.wins = String(p.wins);
      el.dataset.me = pair[0] === mine ? 'true' : 'false';
      el.dataset.turn = g.turn === pair[0] ? 'true' : 'false';
      el.dataset.present = p.present ? 'true' : 'false';
      el.dataset.winner = g.status === 'won' && g.winner === pair[0] ? 'true' : 'false';
    });
    ui.draws.textContent = g.draws ? g.draws + (g.draws === 1 ? ' draw' : ' draws') : '';
    ui.round.textContent = String(g.round);
    ui.spectators.textContent = g.spectators === 1 ? '1 watching' : g.spectators + ' watching';

    // Rematch: players only, once the round is over and both are still here.
    var over = g.status === 'won' || g.status === 'draw';
    var opp = mine ? player(g, mine === 'X' ? 'O' : 'X') : null;
    ui.rematch.hidden = !(mine && over && opp.present);
    if (!ui.rematch.hidden) {
      var asked = g.rematch.indexOf(mine) >= 0;
      var theyAsked = g.rematch.indexOf(opp.mark) >= 0;
      ui.rematch.disabled = asked || !state.connected;
      ui.rematch.dataset.state = asked ? 'asked' : theyAsked ? 'offered' : 'none';
      ui.rematch.textContent = asked ? 'Waiting for ' + opp.name + '…' :
        theyAsked ? 'Accept rematch' : 'Rematch';
    }
    ui.leave.textContent = state.role === 'spectator' ? 'Stop watching' :
      g.status === 'playing' ? 'Leave game' : 'Back to lobby';
  }

  function renderGames() {
    var list = state.games;
    ui.games.textContent = '';
    ui.noGames.hidden = list.length > 0;
    ui.gamesCount.textContent = list.length ? String(list.length) : '';
    var busy = state.view === 'waiting' ||
      (state.view === 'game' && me() && state.game && state.game.status === 'playing');
    list.forEach(function (g) {
      var li = document.createElement('li');
      li.dataset.game = g.id;
      li.dataset.status = g.status;
      var main = document.createElement('div');
      main.className = 'game-main';
      var names = document.createElement('div');
      names.className = 'game-names';
      names.appendChild(nameTag('X', g.x));
      var vs = document.createElement('span');
      vs.className = 'vs';
      vs.textContent = 'vs';
      names.appendChild(vs);
      names.appendChild(nameTag('O', g.o));
      main.appendChild(names);
      var info = document.createElement('div');
      info.className = 'game-info';
      info.textContent = describe(g);
      main.appendChild(info);
      li.appendChild(main);
      var mineGame = state.gameId === g.id;
      if (mineGame) {
        li.classList.add('current');
        var tag = document.createElement('span');
        tag.className = 'tag';
        tag.textContent = state.role === 'spectator' ? 'watching' : 'your game';
        li.appendChild(tag);
      } else {
        var btn = document.createElement('button');
        btn.type = 'button';
        btn.className = 'watch secondary';
        btn.dataset.watch = g.id;
        btn.textContent = 'Watch';
        btn.disabled = busy || !state.connected;
        li.appendChild(btn);
      }
      ui.games.appendChild(li);
    });
  }

  function nameTag(mark, name) {
    var s = document.createElement('span');
    s.className = 'tagged';
    var m = document.createElement('b');
    m.className = 'mini-mark';
    m.dataset.mark = mark;
    m.textContent = mark;
    s.appendChild(m);
    s.appendChild(document.createTextNode(' ' + name));
    return s;
  }

  function describe(g) {
    var parts = ['#' + g.id, g.status === 'playing' ? 'playing' : g.status === 'won' ? 'finished' : g.status];
    if (g.round > 1) parts.push('round ' + g.round);
    if (g.spectators) parts.push(g.spectators + ' watching');
    return parts.join(' · ');
  }

  function deniedText(text) {
    var g = state.game;
    if (state.role === 'spectator') return 'You are watching this game: only its players can move.';
    if (g && g.status === 'playing' && g.turn) {
      return 'Not so fast — it\'s ' + player(g, g.turn).name + '\'s turn.';
    }
    if (g && g.status !== 'playing') return 'The game is over.';
    return 'That isn\'t allowed right now (' + (text || 'access denied') + ').';
  }

  function setConn(s, text) {
    ui.conn.dataset.state = s;
    ui.conn.textContent = text;
  }

  function setStatus(s, text) {
    ui.status.dataset.state = s;
    ui.status.textContent = text;
  }

  function showMessage(text, kind) {
    ui.message.dataset.kind = kind || 'info';
    ui.messageText.textContent = text;
    ui.message.hidden = false;
  }

  function hideMessage() {
    ui.message.hidden = true;
    ui.messageText.textContent = '';
  }

  render();
})();
