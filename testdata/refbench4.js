#!/usr/bin/env node
// refbench4.js — the Node.js socket.io@4.8 (npm alias socket.io-4) server
// that cmd/siobench measures siogo's Engine.IO v4 / Socket.IO v5 side
// against: the testapp events (TESTAPP.md) that the benchmark phases use,
// in every namespace's default ("/"), on plain socket.io 4.8 API.
//
//   node refbench4.js --addr 127.0.0.1:PORT [--ping-interval 25s]
//       [--ping-timeout 20s]
//
// Durations are Go durations ("500ms", "2s"); the defaults are socket.io's.
// Events (from a client, "/" namespace):
//
//   echo(...args)          ack the args, or emit "echo" with them without an ack
//   join(room)             join room; ack true
//   leave(room)            leave room; ack true
//   to-room(room, ...args) emit "room" with args to everyone in room
//   broadcast(...args)     emit "broadcast" to everyone but the sender
//   everyone(...args)      emit "everyone" to every socket of the namespace
//
// Prints exactly one line, "listening", on stdout once the port is bound;
// everything else goes to stderr. Exits on SIGINT / SIGTERM.
'use strict';

const http = require('http');
const { Server } = require('socket.io-4');

const GO_UNITS = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

// goDurationMs returns a Go duration in milliseconds or throws.
function goDurationMs(text) {
  let s = String(text).trim();
  if (s === '0') return 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  let total = 0;
  if (s === '') throw new Error('invalid duration ' + JSON.stringify(text));
  while (s.length) {
    const m = re.exec(s);
    if (!m) throw new Error('invalid duration ' + JSON.stringify(text));
    total += parseFloat(m[1]) * GO_UNITS[m[2]];
    s = s.slice(m[0].length);
  }
  return Math.round(total);
}

function fail(msg) {
  process.stderr.write('refbench4: ' + msg + '\n');
  process.exit(2);
}

const opts = { addr: '127.0.0.1:0', 'ping-interval': '25s', 'ping-timeout': '20s' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
  if (!m || !(m[1] in opts)) fail('unknown argument ' + JSON.stringify(argv[i]));
  let v = m[2];
  if (v === undefined) {
    if (i + 1 >= argv.length) fail('missing value for ' + argv[i]);
    v = argv[++i];
  }
  opts[m[1]] = v;
}
let pingInterval, pingTimeout;
try {
  pingInterval = goDurationMs(opts['ping-interval']);
  pingTimeout = goDurationMs(opts['ping-timeout']);
} catch (e) {
  fail(e.message);
}
const hostPort = /^(.*):(\d+)$/.exec(opts.addr);
if (!hostPort) fail('--addr must be HOST:PORT');
const host = hostPort[1].replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
const port = Number(hostPort[2]);

const server = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
});
server.on('connection', (conn) => {
  conn.on('error', (err) => {
    process.stderr.write('refbench4: connection error: ' + err.message + '\n');
  });
});

const io = new Server(server, {
  pingInterval,
  pingTimeout,
  cors: { origin: '*' },
  serveClient: false,
});

// splitAck separates a trailing ack callback from the event arguments.
function splitAck(args) {
  const a = Array.from(args);
  const ack = a.length && typeof a[a.length - 1] === 'function' ? a.pop() : null;
  return { args: a, ack };
}

io.on('connection', (socket) => {
  const on = (name, fn) => socket.on(name, function () {
    const p = splitAck(arguments);
    fn(p.args, p.ack);
  });
  on('echo', (args, ack) => {
    if (ack) ack(...args);
    else socket.emit('echo', ...args);
  });
  on('join', (args, ack) => {
    socket.join(String(args[0]));
    if (ack) ack(true);
  });
  on('leave', (args, ack) => {
    socket.leave(String(args[0]));
    if (ack) ack(true);
  });
  on('to-room', (args) => { io.to(String(args[0])).emit('room', ...args.slice(1)); });
  on('broadcast', (args) => { socket.broadcast.emit('broadcast', ...args); });
  on('everyone', (args) => { io.emit('everyone', ...args); });
});

server.on('error', (err) => {
  process.stderr.write('refbench4: ' + err.message + '\n');
  process.exit(1);
});
server.listen(port, host, () => {
  const a = server.address();
  const version = require('socket.io-4/package.json').version;
  process.stderr.write('refbench4: socket.io ' + version + ' on ' + a.address + ':' + a.port + '\n');
  process.stdout.write('listening\n');
});

function shutdown(sig) {
  process.stderr.write('refbench4: ' + sig + ', exiting\n');
  process.exit(0);
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('uncaughtException', (err) => {
  process.stderr.write('refbench4: uncaught exception: ' + (err && err.stack || err) + '\n');
});
