#!/usr/bin/env node
// reftestapp.js — the testapp contract (TESTAPP.md, implemented in Go by
// examples/testapp) implemented on the Node.js reference server
// socket.io@0.9.19, so that the same client scenarios (run-scenarios.js, the
// browser tests) can be run against the reference and against siogo and
// their observations compared (differential testing).
//
//   node reftestapp.js --addr 127.0.0.1:PORT [--heartbeat-interval 25s]
//       [--heartbeat-timeout 60s] [--close-timeout 60s] [--polling-duration 20s]
//
// Durations are Go durations ("500ms", "2s", "1m30s"); socket.io 0.9 takes
// whole seconds, so each one is rounded up to at least 1 s.
//
// Prints exactly one line, "listening", on stdout once the port is bound;
// socket.io's own log goes to stderr. Exits on SIGINT / SIGTERM.
//
// Where the reference has no equivalent of a contract feature it is emulated
// here (the /acl per-method ACL; see setupACL). Everything else is plain
// socket.io 0.9.19 API, so what a client observes is the reference's
// behaviour.
'use strict';

var http = require('http');
var sio = require('socket.io');
var Logger = require('socket.io/lib/logger');

// ---------------------------------------------------------------------------
// Command line.

var GO_UNITS = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

// parseGoDuration returns the duration in seconds (a float) or throws.
function parseGoDuration(text) {
  var s = String(text).trim();
  var sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  var re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  var total = 0;
  var m;
  if (s === '') throw new Error('invalid duration ' + JSON.stringify(text));
  while (s.length) {
    m = re.exec(s);
    if (!m) throw new Error('invalid duration ' + JSON.stringify(text));
    total += parseFloat(m[1]) * GO_UNITS[m[2]];
    s = s.slice(m[0].length);
  }
  return sign * total;
}

// wholeSeconds rounds a Go duration up to whole seconds, at least 1.
function wholeSeconds(text) {
  return Math.max(1, Math.ceil(parseGoDuration(text) - 1e-9));
}

function parseArgs(argv) {
  var opts = {
    addr: '127.0.0.1:0',
    'heartbeat-interval': '25s',
    'heartbeat-timeout': '60s',
    'close-timeout': '60s',
    'polling-duration': '20s'
  };
  for (var i = 0; i < argv.length; i++) {
    var a = argv[i];
    var m = /^--?([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !(m[1] in opts)) {
      throw new Error('unknown argument ' + JSON.stringify(a));
    }
    var v = m[2];
    if (v === undefined) {
      if (i + 1 >= argv.length) throw new Error('missing value for ' + a);
      v = argv[++i];
    }
    opts[m[1]] = v;
  }
  return opts;
}

var opts;
try {
  opts = parseArgs(process.argv.slice(2));
  ['heartbeat-interval', 'heartbeat-timeout', 'close-timeout', 'polling-duration']
    .forEach(function (k) { opts[k] = wholeSeconds(opts[k]); });
} catch (e) {
  process.stderr.write('reftestapp: ' + e.message + '\n');
  process.exit(2);
}

var hostPort = /^(.*):(\d+)$/.exec(opts.addr);
if (!hostPort) {
  process.stderr.write('reftestapp: --addr must be HOST:PORT\n');
  process.exit(2);
}
var host = hostPort[1].replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
var port = Number(hostPort[2]);

// ---------------------------------------------------------------------------
// socket.io's logger writes to stdout via console.log; send it to stderr so
// stdout carries nothing but the "listening" line.

var logger = new Logger({ colors: false });
logger.log = function (type) {
  var levels = ['error', 'warn', 'info', 'debug'];
  if (levels.indexOf(type) > this.level || !this.enabled) return this;
  var parts = Array.prototype.slice.call(arguments, 1).map(String);
  process.stderr.write('socket.io ' + type + ': ' + parts.join(' ') + '\n');
  return this;
};

// ---------------------------------------------------------------------------
// Server.

var server = http.createServer(function (req, res) {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
});

// socket.io 0.9 removes its own 'error' listener from a request's TCP
// socket when a polling transport closes (Transport#clearHandlers); on
// Node >= 0.10 a later ECONNRESET on that socket (a client aborting its
// long poll, as the 0.9.16 client does on disconnect) is then an unhandled
// 'error' event and kills the process. That is an artefact of running 0.9.19
// on a modern Node, not protocol behaviour, so every connection gets a no-op
// 'error' listener (socket.io's own listeners still run while attached).
server.on('connection', function (conn) {
  conn.on('error', function (err) {
    process.stderr.write('reftestapp: connection error: ' + err.message + '\n');
  });
});

var io = sio.listen(server, { logger: logger, 'log colors': false, 'log level': 1 });

io.set('log level', 1);
io.set('transports', ['websocket', 'htmlfile', 'xhr-polling', 'jsonp-polling']);
io.set('origins', '*:*');
io.set('heartbeat interval', opts['heartbeat-interval']);
io.set('heartbeat timeout', opts['heartbeat-timeout']);
io.set('close timeout', opts['close-timeout']);
io.set('polling duration', opts['polling-duration']);

// Handshake authorization: query deny=1 -> 403 "handshake unauthorized".
io.set('authorization', function (data, cb) {
  cb(null, !(data.query && data.query.deny === '1'));
});

// ---------------------------------------------------------------------------
// The per-namespace behaviour (TESTAPP.md "Events").

// splitAck separates a trailing ack callback from the event arguments.
function splitAck(args) {
  args = Array.prototype.slice.call(args);
  var ack = null;
  if (args.length && typeof args[args.length - 1] === 'function') {
    ack = args.pop();
  }
  return { args: args, ack: ack };
}

// roomsOf lists the rooms (sorted) a socket is in within its namespace,
// without the namespace room itself. In 0.9 manager.roomClients[id] is keyed
// by "<nsp>/<room>" (and "<nsp>" for the namespace itself). For the default
// namespace ("" + "/" + room) the keys of other namespaces ("/chat",
// "/chat/r") look the same, so those are filtered out by namespace name
// (a default-namespace room called e.g. "chat" would be ambiguous in the
// reference; the scenarios never use such names).
function roomsOf(socket) {
  var nsp = socket.namespace.name;
  var all = io.roomClients[socket.id] || {};
  var others = Object.keys(io.namespaces).filter(function (n) { return n !== '' && n !== nsp; });
  var prefix = nsp + '/';
  var out = [];
  Object.keys(all).forEach(function (key) {
    if (key.indexOf(prefix) !== 0) return;
    if (nsp === '' && others.some(function (n) { return key === n || key.indexOf(n + '/') === 0; })) return;
    var room = key.slice(prefix.length);
    if (room !== '') out.push(room);
  });
  out.sort();
  return out;
}

function attachHandlers(nsp) {
  nsp.on('connection', function (socket) {
    function on(name, fn) {
      socket.on(name, function () {
        var p = splitAck(arguments);
        fn(p.args, p.ack);
      });
    }
    // emitArgs calls target.emit(name, args...).
    function emitArgs(target, name, args) {
      target.emit.apply(target, [name].concat(args));
    }

    on('echo', function (args, ack) {
      if (ack) ack.apply(null, args);
      else emitArgs(socket, 'echo', args);
    });

    // "message" fires for both message (3) and json (4) packets.
    socket.on('message', function (data) {
      if (typeof data === 'string') socket.send(data);
      else socket.json.send(data);
    });

    on('join', function (args, ack) {
      socket.join(args[0]);
      if (ack) ack(true);
    });
    on('leave', function (args, ack) {
      socket.leave(args[0]);
      if (ack) ack(true);
    });

    // TESTAPP: to-room(room, ...args) and broadcast-room emit the event
    // named "room" (the literal name, not the room's) with the args after
    // the room.
    on('to-room', function (args) {
      var n = nsp.in(args[0]);
      emitArgs(n, 'room', args.slice(1));
    });
    on('broadcast-room', function (args) {
      var b = socket.broadcast.to(args[0]);
      emitArgs(b, 'room', args.slice(1));
    });
    on('broadcast', function (args) {
      emitArgs(socket.broadcast, 'broadcast', args);
    });
    on('everyone', function (args) {
      emitArgs(nsp, 'everyone', args);
    });

    on('ask', function (args) {
      // The callback must declare a parameter: 0.9 asks for a data ack
      // ("5:N+") only when the callback's length is non-zero.
      var cb = function (first) { // eslint-disable-line no-unused-vars
        emitArgs(socket, 'answer', Array.prototype.slice.call(arguments));
      };
      socket.emit.apply(socket, [args[0]].concat(args.slice(1), [cb]));
    });

    on('kick', function () {
      socket.disconnect();
    });

    on('burst', function (args) {
      var n = Number(args[0]) || 0;
      for (var i = 0; i < n; i++) socket.emit('burst', i);
    });
    on('volatile', function (args) {
      var n = Number(args[0]) || 0;
      for (var i = 0; i < n; i++) socket.volatile.emit('volatile', i);
    });

    on('handshake', function (args, ack) {
      var hs = socket.handshake || {};
      if (ack) ack({ query: hs.query || {} });
    });
    on('rooms', function (args, ack) {
      if (ack) ack(roomsOf(socket));
    });
    on('count', function (args, ack) {
      if (ack) ack(nsp.clients(args[0]).length);
    });

    on('set', function (args, ack) {
      socket.set(String(args[0]), args[1], function () {
        if (ack) ack(true);
      });
    });
    on('get', function (args, ack) {
      socket.get(String(args[0]), function (err, value) {
        if (ack) ack(err || value === undefined ? null : value);
      });
    });

    on('watch', function (args, ack) {
      socket.join('watchers');
      if (ack) ack(true);
    });

    socket.on('disconnect', function () {
      nsp.in('watchers').emit('gone', socket.id);
    });

    if (nsp.name === '/acl') {
      on('login', function (args, ack) {
        var ok = args[0] === 'letmein';
        if (ok) socket.aclAllowed = null; // lift every restriction
        if (ack) ack(ok);
      });
      on('secret', function (args, ack) {
        if (ack) ack('s3cret');
      });
    }
  });
}

// setupACL emulates gevent-socketio style per-method ACLs on a namespace
// (the reference has none). Each socket starts with the allowed set
// {login, echo}; an event outside the set is answered with
// emit('error', 'method_access_denied', 'You do not have access to method
// "NAME"'), gets no ack and runs no handler. The check sits in front of the
// namespace's packet handler, so only client event packets (type 5) are
// filtered; message/json packets, acks and disconnects pass untouched.
function setupACL(nsp) {
  var blacklist = io.get('blacklist') || [];
  var handlePacket = nsp.handlePacket;
  nsp.handlePacket = function (sessid, packet) {
    if (packet.type === 'event' && blacklist.indexOf(packet.name) === -1) {
      var socket = this.socket(sessid);
      if (socket.aclAllowed === undefined) {
        socket.aclAllowed = { login: true, echo: true };
      }
      if (socket.aclAllowed !== null && !socket.aclAllowed.hasOwnProperty(packet.name)) {
        socket.emit('error', 'method_access_denied',
          'You do not have access to method "' + packet.name + '"');
        return;
      }
    }
    return handlePacket.apply(this, arguments);
  };
}

attachHandlers(io.sockets);
attachHandlers(io.of('/chat'));
attachHandlers(io.of('/private').authorization(function (data, cb) {
  cb(null, !!(data && data.query && data.query.token === 'secret'));
}));
var acl = io.of('/acl');
setupACL(acl);
attachHandlers(acl);

// ---------------------------------------------------------------------------
// Start and stop.

server.on('error', function (err) {
  process.stderr.write('reftestapp: ' + err.message + '\n');
  process.exit(1);
});

server.listen(port, host, function () {
  var a = server.address();
  process.stderr.write('reftestapp: socket.io ' + sio.version + ' (package ' + require('socket.io/package.json').version + ') on ' + a.address + ':' + a.port + '\n');
  process.stdout.write('listening\n');
});

function shutdown(sig) {
  process.stderr.write('reftestapp: ' + sig + ', exiting\n');
  // Exit straight away: held polls and websockets would keep server.close()
  // waiting, and nothing needs flushing.
  process.exit(0);
}
process.on('SIGINT', function () { shutdown('SIGINT'); });
process.on('SIGTERM', function () { shutdown('SIGTERM'); });

// Last resort: log anything else that escapes (the reference has a few
// throw-on-bad-input paths) instead of dying, so one bad request cannot end a
// test run. It is reported on stderr.
process.on('uncaughtException', function (err) {
  process.stderr.write('reftestapp: uncaught exception: ' + (err && err.stack || err) + '\n');
});
