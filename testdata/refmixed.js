#!/usr/bin/env node
// refmixed.js — a Node.js stand-in for a server that serves both client
// generations, only to validate mixed.js (the mixed-generation scenarios)
// before siogo serves Engine.IO v4. It is NOT a reference: no Node.js
// server serves 0.9 and 4.x clients at once. Two real servers,
// socket.io@0.9.19 and socket.io@4.8, share one port (requests for
// /socket.io/1/... go to 0.9, the rest to 4.x), and the testapp rows that
// cross generations (join, leave, to-room, broadcast-room, broadcast,
// everyone, count, watch / gone; namespaces "" and /chat) are bridged by
// emitting on both servers. Nothing else of the contract is here. The 4.x
// server also serves socket.io-client 2.x (allowEIO3), so that mixed3-scenarios.js's
// three generations can be validated too.
//
//   node refmixed.js --addr 127.0.0.1:PORT
//
// Prints "listening" on stdout once bound; logs go to stderr; exits on
// SIGINT / SIGTERM.
'use strict';

var http = require('http');
var sio09 = require('socket.io');
var sio4 = require('socket.io-4');

var addr = '127.0.0.1:0';
for (var i = 2; i < process.argv.length; i++) {
  var m = /^--?addr(?:=(.*))?$/.exec(process.argv[i]);
  if (!m) {
    process.stderr.write('refmixed: unknown argument ' + process.argv[i] + '\n');
    process.exit(2);
  }
  addr = m[1] !== undefined ? m[1] : process.argv[++i];
}
var hp = /^(.*):(\d+)$/.exec(addr || '');
if (!hp) {
  process.stderr.write('refmixed: --addr must be HOST:PORT\n');
  process.exit(2);
}

// Two unbound HTTP servers, fed by the front server.
var s09 = http.createServer();
var s4 = http.createServer();

function target(req) {
  return /^\/socket\.io\/1(\/|\?|$)/.test(req.url) ? s09 : s4;
}

var front = http.createServer(function (req, res) { target(req).emit('request', req, res); });
front.on('upgrade', function (req, socket, head) { target(req).emit('upgrade', req, socket, head); });
// See reftestapp.js: 0.9 on a modern Node leaves request sockets without an
// 'error' listener.
front.on('connection', function (conn) { conn.on('error', function () {}); });

var io09 = sio09.listen(s09, { log: false });
io09.set('transports', ['websocket', 'htmlfile', 'xhr-polling', 'jsonp-polling']);
io09.set('origins', '*:*');
// allowEIO3: socket.io-client 2.x clients (Engine.IO v3) are served by the
// same socket.io@4.8 server, natively in its rooms (mixed3-scenarios.js).
var io4 = new sio4.Server(s4, { cors: { origin: true, credentials: true }, allowEIO3: true });

function slice(a, from) { return Array.prototype.slice.call(a, from || 0); }

function splitAck(args) {
  args = slice(args);
  var ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
  return { args: args, ack: ack };
}

// The two sides of namespace ns ('' or '/chat').
function sides(ns) {
  return { old: io09.of(ns), modern: io4.of(ns === '' ? '/' : ns) };
}

function emitOld(target, name, args) { target.emit.apply(target, [name].concat(args)); }

function count(ns, room) {
  var s = sides(ns);
  var r = s.modern.adapter.rooms.get(room);
  return s.old.clients(room).length + (r ? r.size : 0);
}

// attach wires the bridged rows for one socket of either generation.
// toRoomOthers(room) is the same room on the other generation; self is
// this generation's side.
function attach(ns, socket, gen) {
  var s = sides(ns);
  function on(name, fn) {
    socket.on(name, function () {
      var p = splitAck(arguments);
      fn(p.args, p.ack);
    });
  }
  on('join', function (args, ack) { socket.join(String(args[0])); if (ack) ack(true); });
  on('leave', function (args, ack) { socket.leave(String(args[0])); if (ack) ack(true); });
  on('to-room', function (args) {
    var room = String(args[0]);
    emitOld(s.old.in(room), 'room', args.slice(1));
    emitOld(s.modern.to(room), 'room', args.slice(1));
  });
  on('broadcast-room', function (args) {
    var room = String(args[0]);
    if (gen === 'old') {
      emitOld(socket.broadcast.to(room), 'room', args.slice(1));
      emitOld(s.modern.to(room), 'room', args.slice(1));
    } else {
      emitOld(socket.to(room), 'room', args.slice(1));
      emitOld(s.old.in(room), 'room', args.slice(1));
    }
  });
  on('broadcast', function (args) {
    emitOld(socket.broadcast, 'broadcast', args);
    emitOld(gen === 'old' ? s.modern : s.old, 'broadcast', args);
  });
  on('everyone', function (args) {
    emitOld(s.old, 'everyone', args);
    emitOld(s.modern, 'everyone', args);
  });
  on('count', function (args, ack) { if (ack) ack(count(ns, String(args[0]))); });
  on('watch', function (args, ack) { socket.join('watchers'); if (ack) ack(true); });
  on('echo', function (args, ack) {
    if (ack) ack.apply(null, args);
    else emitOld(socket, 'echo', args);
  });
  socket.on('disconnect', function () {
    s.old.in('watchers').emit('gone', socket.id);
    s.modern.to('watchers').emit('gone', socket.id);
  });
}

['', '/chat'].forEach(function (ns) {
  var s = sides(ns);
  s.old.on('connection', function (socket) { attach(ns, socket, 'old'); });
  s.modern.on('connection', function (socket) { attach(ns, socket, 'modern'); });
});

front.on('error', function (err) {
  process.stderr.write('refmixed: ' + err.message + '\n');
  process.exit(1);
});
front.listen(Number(hp[2]), hp[1].replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', function () {
  process.stdout.write('listening\n');
});
process.on('SIGINT', function () { process.exit(0); });
process.on('SIGTERM', function () { process.exit(0); });
process.on('uncaughtException', function (err) {
  process.stderr.write('refmixed: uncaught exception: ' + (err && err.stack || err) + '\n');
});
