#!/usr/bin/env node
// refserver4.js — a small socket.io@4.8 server (the modern reference:
// Engine.IO v4, Socket.IO v5) for the tests of the Go client's v5 protocol
// (client.ProtocolV5) and of siocat -protocol v5.
//
//   node refserver4.js --addr 127.0.0.1:PORT [--ping-interval MS]
//       [--ping-timeout MS] [--transports websocket,polling]
//       [--max-payload BYTES] [--allow-eio3]
//
// A request whose query has deny=1 is refused (allowRequest: 403).
//
// Prints exactly one line, "listening", on stdout once the port is bound;
// exits on SIGINT / SIGTERM.
//
// Namespaces "/" and "/chat" have the same handlers:
//   echo(...args, cb)      cb(...args) (Buffers come back as binary)
//   whoami(cb)             cb({id, nsp, query, auth, transport})
//   emit(name, ...args)    the server emits name with args
//   ask(name, ...args)     the server emits name with args asking for an ack,
//                          then emits "answer" with the ack's arguments
//   binary(cb)             cb(Buffer 01 02 03, {nested: Buffer 04 05, n: 1})
//                          and emits "bin" with the same arguments
//   burst(n)               emits "burst" i for i in 0..n-1
//   kick()                 socket.disconnect() (this namespace only)
//   close()                socket.disconnect(true) (every namespace, then the
//                          connection)
//   drop()                 socket.conn.close(): the Engine.IO session ends
//                          without a DISCONNECT
//   message (send)         sends the arguments back with socket.send
//   reason(id, cb)         cb(the reason the socket id of this namespace
//                          disconnected with, or null while it has not)
// "/private" accepts only auth {token: "secret"}; otherwise the connect
// error is "not authorized" with data {reason: "bad token"}.
'use strict';

var http = require('http');
var { Server } = require('socket.io-4');

function parseArgs(argv) {
  var opts = { addr: '127.0.0.1:0', pingInterval: 25000, pingTimeout: 20000, transports: ['polling', 'websocket'], maxPayload: 1e6 };
  for (var i = 0; i < argv.length; i++) {
    var a = argv[i];
    var v = argv[i + 1];
    switch (a) {
      case '--addr': opts.addr = v; i++; break;
      case '--ping-interval': opts.pingInterval = Number(v); i++; break;
      case '--ping-timeout': opts.pingTimeout = Number(v); i++; break;
      case '--transports': opts.transports = v.split(','); i++; break;
      case '--max-payload': opts.maxPayload = Number(v); i++; break;
      case '--allow-eio3': opts.allowEIO3 = true; break;
      default:
        process.stderr.write('refserver4.js: unknown argument ' + a + '\n');
        process.exit(2);
    }
  }
  return opts;
}

var opts = parseArgs(process.argv.slice(2));
var httpServer = http.createServer();
var io = new Server(httpServer, {
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  transports: opts.transports,
  maxHttpBufferSize: opts.maxPayload,
  allowEIO3: !!opts.allowEIO3,
  allowRequest: function (req, cb) { cb(null, !/[?&]deny=1(&|$)/.test(req.url)); },
});

function lastFn(args) {
  return args.length && typeof args[args.length - 1] === 'function' ? args.pop() : null;
}

// reasons: namespace name -> socket id -> disconnect reason.
var reasons = {};

function handlers(socket) {
  var nsp = socket.nsp.name;
  socket.on('disconnect', function (reason) {
    (reasons[nsp] = reasons[nsp] || {})[socket.id] = reason;
  });
  socket.on('reason', function (id, cb) {
    var r = reasons[nsp] && reasons[nsp][id];
    cb(r === undefined ? null : r);
  });
  socket.on('echo', function () {
    var args = Array.prototype.slice.call(arguments);
    var cb = lastFn(args);
    if (cb) cb.apply(null, args);
  });
  socket.on('whoami', function (cb) {
    cb({
      id: socket.id,
      nsp: socket.nsp.name,
      query: socket.handshake.query,
      auth: socket.handshake.auth,
      transport: socket.conn.transport.name,
    });
  });
  socket.on('emit', function () {
    socket.emit.apply(socket, arguments);
  });
  socket.on('ask', function () {
    var args = Array.prototype.slice.call(arguments);
    args.push(function () {
      socket.emit.apply(socket, ['answer'].concat(Array.prototype.slice.call(arguments)));
    });
    socket.emit.apply(socket, args);
  });
  socket.on('binary', function (cb) {
    var a = Buffer.from([1, 2, 3]);
    var b = { nested: Buffer.from([4, 5]), n: 1 };
    socket.emit('bin', a, b);
    if (typeof cb === 'function') cb(a, b);
  });
  socket.on('burst', function (n) {
    for (var i = 0; i < n; i++) socket.emit('burst', i);
  });
  socket.on('kick', function () { socket.disconnect(); });
  socket.on('close', function () { socket.disconnect(true); });
  socket.on('drop', function () { socket.conn.close(); });
  socket.on('message', function () {
    var args = Array.prototype.slice.call(arguments);
    var cb = lastFn(args);
    socket.send.apply(socket, args);
    if (cb) cb('got');
  });
}

io.of('/').on('connection', handlers);
io.of('/chat').on('connection', handlers);
var priv = io.of('/private');
priv.use(function (socket, next) {
  var auth = socket.handshake.auth || {};
  if (auth.token === 'secret') return next();
  var err = new Error('not authorized');
  err.data = { reason: 'bad token' };
  next(err);
});
priv.on('connection', handlers);

var hp = opts.addr.lastIndexOf(':');
httpServer.listen(Number(opts.addr.slice(hp + 1)), opts.addr.slice(0, hp), function () {
  process.stdout.write('listening\n');
});

function stop() {
  io.close();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
