#!/usr/bin/env node
// reftestapp4.js — the testapp contract (TESTAPP.md, "Events", "ACL
// namespace", "Modern clients" and, on one node, "Cluster-wide
// operations") implemented on the Node.js reference
// server socket.io@4.8 (npm alias socket.io-4), so that the modern-client
// scenarios (run-scenarios4.js, browser4.js) can be validated against the
// reference now and run against siogo's examples/testapp once it serves
// Engine.IO v4 at the same path.
//
//   node reftestapp4.js --addr 127.0.0.1:PORT [--ping-interval 25s]
//       [--ping-timeout 20s]
//
// Every flag can also come from the environment: TESTAPP_ADDR,
// TESTAPP_PING_INTERVAL, TESTAPP_PING_TIMEOUT (a flag wins). Durations are
// Go durations ("300ms", "2s", "1m30s"). Other testapp flags
// (-heartbeat-interval, -heartbeat-timeout, -close-timeout,
// -polling-duration) are accepted and ignored: they are 0.9 settings.
//
// Prints exactly one line, "listening", on stdout once the port is bound;
// logs go to stderr. Exits on SIGINT / SIGTERM.
//
// Where TESTAPP.md describes 0.9 behaviour without a v4 spelling, the
// natural socket.io 4 behaviour is used (each choice is commented where it is
// made):
//   - message: socket.send(...args) on the client is the event "message";
//     the server sends the same args back with socket.send (event
//     "message"); an ack, if asked for, is not answered.
//   - kick: socket.disconnect() — only this namespace's socket is
//     disconnected (the client sees "io server disconnect"); the other
//     namespaces multiplexed on the same connection stay connected.
//   - handshake: ack {query: socket.handshake.query}, i.e. the query of the
//     Engine.IO handshake request as the server received it (EIO, transport,
//     and t for polling included).
//   - handshake deny=1: Engine.IO's allowRequest refuses the request with
//     403 {"code":4,"message":"handshake unauthorized"} (polling and
//     websocket alike).
//   - auth: ack the CONNECT payload, or null when the CONNECT packet had
//     none (socket.io itself turns a missing payload into {}; see
//     NoAuthDecoder).
//   - ACL refusal: socket.emit("error", "method_access_denied", msg) — in v4
//     "error" is an ordinary event name.
//
// socket.io-client 2.x (Engine.IO v3, Socket.IO protocol v4) is served too
// (allowEIO3), the reference of scenarios2.js and browser2-scenarios.js. For
// those clients:
//   - /private: the namespace query (/private?token=secret, sent in the
//     CONNECT packet, which socket.io 4 hands to the namespace as
//     socket.handshake.auth) or the Engine.IO handshake query; a refused
//     client gets the error packet 4/private,"unauthorized" (the client's
//     "error" event); an unknown namespace 4/nope,{"message":"Invalid
//     namespace"} (socket.io's own).
//   - auth: null — a 2.x client sends no CONNECT auth payload.
'use strict';

var http = require('http');
var parser = require('socket.io-parser');
var sio = require('socket.io-4');

// ---------------------------------------------------------------------------
// Command line.

var GO_UNITS = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1e3, m: 6e4, h: 36e5 };

// parseGoDuration returns the duration in milliseconds or throws.
function parseGoDuration(text) {
  var s = String(text).trim();
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
  return total;
}

var IGNORED = ['heartbeat-interval', 'heartbeat-timeout', 'close-timeout', 'polling-duration'];

function parseArgs(argv, env) {
  var opts = {
    addr: env.TESTAPP_ADDR || '127.0.0.1:0',
    'ping-interval': env.TESTAPP_PING_INTERVAL || '25s',
    'ping-timeout': env.TESTAPP_PING_TIMEOUT || '20s'
  };
  for (var i = 0; i < argv.length; i++) {
    var a = argv[i];
    var m = /^--?([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !(m[1] in opts || IGNORED.indexOf(m[1]) >= 0)) {
      throw new Error('unknown argument ' + JSON.stringify(a));
    }
    var v = m[2];
    if (v === undefined) {
      if (i + 1 >= argv.length) throw new Error('missing value for ' + a);
      v = argv[++i];
    }
    if (m[1] in opts) opts[m[1]] = v;
  }
  opts.pingInterval = Math.max(1, Math.round(parseGoDuration(opts['ping-interval'])));
  opts.pingTimeout = Math.max(1, Math.round(parseGoDuration(opts['ping-timeout'])));
  var hp = /^(.*):(\d+)$/.exec(opts.addr);
  if (!hp) throw new Error('--addr must be HOST:PORT');
  opts.host = hp[1].replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
  opts.port = Number(hp[2]);
  return opts;
}

var opts;
try {
  opts = parseArgs(process.argv.slice(2), process.env);
} catch (e) {
  process.stderr.write('reftestapp4: ' + e.message + '\n');
  process.exit(2);
}

// ---------------------------------------------------------------------------
// NoAuthDecoder: socket.io 4 hands a CONNECT packet without payload to the
// namespace as auth {} (Client#connect(name, auth = {})), so "no payload"
// and "payload {}" look the same to a handler. The contract's `auth` event
// tells them apart (null vs {}), so the decoder marks a payload-less CONNECT
// with a symbol-keyed property (invisible to JSON) before socket.io sees it.
// Its "decoded" listener is registered in the constructor, i.e. before
// socket.io's own, and so runs first on the same packet object.

var NO_AUTH = Symbol('no CONNECT payload');

class NoAuthDecoder extends parser.Decoder {
  constructor(opts) {
    super(opts);
    this.on('decoded', function (packet) {
      if (packet.type === parser.PacketType.CONNECT && packet.data === undefined) {
        var marker = {};
        marker[NO_AUTH] = true;
        packet.data = marker;
      }
    });
  }
}

// ---------------------------------------------------------------------------
// Server.

var server = http.createServer();

var io = new sio.Server(server, {
  path: '/socket.io/',
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  // TESTAPP: any page origin is allowed.
  cors: { origin: true, credentials: true },
  // TESTAPP "Modern clients": socket.io-client 2.x (Engine.IO v3) too.
  allowEIO3: true,
  parser: { Encoder: parser.Encoder, Decoder: NoAuthDecoder, protocol: parser.protocol },
  // TESTAPP: query deny=1 -> 403 "handshake unauthorized". Engine.IO answers
  // {"code":4,"message":"handshake unauthorized"} with status 403.
  allowRequest: function (req, cb) {
    var q = new URL(req.url, 'http://x').searchParams;
    if (q.get('deny') === '1') return cb('handshake unauthorized', false);
    cb(null, true);
  }
});

// splitAck separates a trailing ack callback from the event arguments.
function splitAck(args) {
  args = Array.prototype.slice.call(args);
  var ack = null;
  if (args.length && typeof args[args.length - 1] === 'function') ack = args.pop();
  return { args: args, ack: ack };
}

// stringQuery returns the handshake query as an object of strings (a
// repeated key keeps its first value).
function stringQuery(q) {
  var out = {};
  Object.keys(q || {}).forEach(function (k) {
    var v = q[k];
    out[k] = Array.isArray(v) ? String(v[0]) : String(v);
  });
  return out;
}

// lessJSON orders poll-room's answers as the testapp does: strings first,
// by their text; any other value after them, by its JSON.
function lessJSON(a, b) {
  var as = typeof a === 'string';
  var bs = typeof b === 'string';
  if (as !== bs) return as ? -1 : 1;
  var x = as ? a : JSON.stringify(a);
  var y = bs ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function attachHandlers(nsp) {
  nsp.on('connection', function (socket) {
    var store = new Map();

    function on(name, fn) {
      socket.on(name, function () {
        var p = splitAck(arguments);
        fn(p.args, p.ack);
      });
    }

    on('echo', function (args, ack) {
      if (ack) ack.apply(null, args);
      else socket.emit.apply(socket, ['echo'].concat(args));
    });

    // v4: client socket.send(...args) is the event "message"; the same
    // args go back with socket.send.
    on('message', function (args) {
      socket.send.apply(socket, args);
    });

    on('join', function (args, ack) {
      socket.join(String(args[0]));
      if (ack) ack(true);
    });
    on('leave', function (args, ack) {
      socket.leave(String(args[0]));
      if (ack) ack(true);
    });

    // TESTAPP: to-room / broadcast-room emit the event named "room" (the
    // literal name) with the args after the room.
    on('to-room', function (args) {
      var to = nsp.to(String(args[0]));
      to.emit.apply(to, ['room'].concat(args.slice(1)));
    });
    on('broadcast-room', function (args) {
      var to = socket.to(String(args[0]));
      to.emit.apply(to, ['room'].concat(args.slice(1)));
    });
    on('broadcast', function (args) {
      socket.broadcast.emit.apply(socket.broadcast, ['broadcast'].concat(args));
    });
    on('everyone', function (args) {
      nsp.emit.apply(nsp, ['everyone'].concat(args));
    });

    on('ask', function (args) {
      socket.emit.apply(socket, [String(args[0])].concat(args.slice(1), [function () {
        socket.emit.apply(socket, ['answer'].concat(Array.prototype.slice.call(arguments)));
      }]));
    });

    // v4: disconnect this namespace's socket only (DISCONNECT packet; the
    // client reports "io server disconnect").
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
      if (ack) ack({ query: stringQuery(socket.handshake.query) });
    });
    on('auth', function (args, ack) {
      var a = socket.handshake.auth;
      // A 2.x client sends no auth payload (socket.io makes its
      // namespace query the auth): null.
      if (socket.conn.protocol === 3) a = null;
      if (ack) ack(a === undefined || a === null || a[NO_AUTH] ? null : a);
    });
    on('rooms', function (args, ack) {
      var list = Array.from(socket.rooms).filter(function (r) { return r !== socket.id; }).sort();
      if (ack) ack(list);
    });
    on('count', function (args, ack) {
      var r = nsp.adapter.rooms.get(String(args[0]));
      if (ack) ack(r ? r.size : 0);
    });

    on('set', function (args, ack) {
      store.set(String(args[0]), args[1]);
      if (ack) ack(true);
    });
    on('get', function (args, ack) {
      var k = String(args[0]);
      if (ack) ack(store.has(k) && store.get(k) !== undefined ? store.get(k) : null);
    });

    on('watch', function (args, ack) {
      socket.join('watchers');
      if (ack) ack(true);
    });

    socket.on('disconnect', function () {
      nsp.to('watchers').emit('gone', socket.id);
    });

    // TESTAPP "Cluster-wide operations" (one node here): fetchSockets,
    // disconnectSockets and, for poll-room, one timeout(ms).emitWithAck
    // per member, so that the members that did not answer are known by
    // id (a broadcast's timeout().emit gives only the answers).
    function findSocket(id) {
      return nsp.in(id).fetchSockets().then(function (list) {
        return list.some(function (x) { return x.id === id; });
      });
    }
    on('to-id', function (args, ack) {
      if (typeof args[0] !== 'string') { if (ack) ack(false); return; }
      var id = args[0];
      findSocket(id).then(function (found) {
        if (found) {
          var to = nsp.to(id);
          to.emit.apply(to, ['direct'].concat(args.slice(1)));
        }
        if (ack) ack(found);
      });
    });
    on('kick-id', function (args, ack) {
      if (typeof args[0] !== 'string') { if (ack) ack(false); return; }
      var id = args[0];
      findSocket(id).then(function (found) {
        if (found) nsp.in(id).disconnectSockets(false);
        if (ack) ack(found);
      });
    });
    on('fetch', function (args, ack) {
      nsp.in(String(args[0])).fetchSockets().then(function (list) {
        if (ack) ack(list.map(function (x) { return x.id; }).sort());
      });
    });
    on('poll-room', function (args, ack) {
      if (typeof args[0] !== 'string') { if (ack) ack({ answers: [], missing: [] }); return; }
      // The testapp clamps ms to [0, 10000].
      var ms = Math.min(Math.max(typeof args[1] === 'number' ? args[1] : 0, 0), 10000);
      nsp.in(args[0]).fetchSockets().then(function (list) {
        var answers = [];
        var missing = [];
        return Promise.all(list.map(function (x) {
          return x.timeout(ms).emitWithAck('q').then(function (first) {
            answers.push(first === undefined ? null : first);
          }, function () { missing.push(x.id); });
        })).then(function () {
          if (ack) ack({ answers: answers.sort(lessJSON), missing: missing.sort() });
        });
      });
    });

    if (nsp.name === '/acl') {
      on('login', function (args, ack) {
        var ok = args[0] === 'letmein';
        if (ok) socket.data.aclLifted = true;
        if (ack) ack(ok);
      });
      on('secret', function (args, ack) {
        if (ack) ack('s3cret');
      });
    }
  });
}

// setupACL: only login and echo until a successful login; any other event is
// answered with the event "error" ["method_access_denied", "You do not have
// access to method \"NAME\""], gets no ack and runs nothing.
function setupACL(nsp) {
  nsp.on('connection', function (socket) {
    socket.use(function (packet, next) {
      var name = packet[0];
      if (socket.data.aclLifted || name === 'login' || name === 'echo') return next();
      socket.emit('error', 'method_access_denied', 'You do not have access to method "' + name + '"');
    });
  });
}

attachHandlers(io.of('/'));
attachHandlers(io.of('/chat'));

// TESTAPP: /private accepts the handshake query token=secret or (v4) the
// CONNECT auth payload {"token":"secret"} or (v2) the namespace query
// token=secret (which socket.io 4 makes a v2 socket's auth); otherwise a
// connect error with the message "unauthorized" (CONNECT_ERROR
// {"message":"unauthorized"}; v2: the error packet "unauthorized").
var priv = io.of('/private');
priv.use(function (socket, next) {
  var q = socket.handshake.query || {};
  var a = socket.handshake.auth || {};
  if (q.token === 'secret' || a.token === 'secret') return next();
  next(new Error('unauthorized'));
});
attachHandlers(priv);

var acl = io.of('/acl');
setupACL(acl); // first, so that its middleware is in place before any handler
attachHandlers(acl);

// Unknown namespaces: socket.io 4's own CONNECT_ERROR {"message":"Invalid namespace"}.

// ---------------------------------------------------------------------------
// Start and stop.

server.on('error', function (err) {
  process.stderr.write('reftestapp4: ' + err.message + '\n');
  process.exit(1);
});

server.listen(opts.port, opts.host, function () {
  var a = server.address();
  process.stderr.write('reftestapp4: socket.io ' + require('socket.io-4/package.json').version +
    ' on ' + a.address + ':' + a.port + ' (pingInterval ' + opts.pingInterval +
    'ms, pingTimeout ' + opts.pingTimeout + 'ms)\n');
  process.stdout.write('listening\n');
});

function shutdown(sig) {
  process.stderr.write('reftestapp4: ' + sig + ', exiting\n');
  process.exit(0);
}
process.on('SIGINT', function () { shutdown('SIGINT'); });
process.on('SIGTERM', function () { shutdown('SIGTERM'); });

process.on('uncaughtException', function (err) {
  process.stderr.write('reftestapp4: uncaught exception: ' + (err && err.stack || err) + '\n');
});
