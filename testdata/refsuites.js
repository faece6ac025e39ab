#!/usr/bin/env node
// The reference servers of the official conformance suites
// (../shared/suites/*/UPSTREAM-README-test-suite.md), on the Node.js
// socket.io@4.8.4 (npm alias socket.io-4) and its engine.io 6.x:
//
//   node refsuites.js --kind engineio-v4|engineio-v3|socketio-v5 [--port 3000]
//       [--allow-eio3]
//
//   engineio-v4  engine.io listen(port, {pingInterval: 300, pingTimeout: 200,
//                maxPayload: 1e6, cors: {origin: "*"}}): an echo server at
//                /engine.io/ (every message it gets it sends back)
//   engineio-v3  the same echo server with allowEIO3: true
//   socketio-v5  socket.io Server(port, {pingInterval: 300, pingTimeout: 200,
//                maxPayload: 1e6, connectTimeout: 1000, cors: {origin: "*"}})
//                with the handlers of the socket.io-v5 README (emit "auth",
//                "message" -> "message-back", "message-with-ack" acked; /custom
//                emits "auth"), exactly as the README
//   --allow-eio3 adds allowEIO3: true (implied by engineio-v3); with it
//                engine.io takes a missing EIO for v3, so the socket.io-v5
//                suite's "invalid 'EIO' query parameter" fails (the 78-of-79
//                measurement the suites README quotes)
//
// Prints "listening" on stdout when ready; logs go to stderr; exits on
// SIGINT/SIGTERM.

'use strict';

const path = require('path');

function usage(msg) {
  if (msg) process.stderr.write('[refsuites.js] ' + msg + '\n');
  process.stderr.write('usage: node refsuites.js --kind engineio-v4|engineio-v3|socketio-v5 [--port 3000] [--allow-eio3]\n');
  process.exit(2);
}

let kind = null;
let port = 3000;
let allowEIO3 = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => { if (i + 1 >= argv.length) usage('missing value for ' + a); return argv[++i]; };
  switch (a) {
    case '--kind': kind = val(); break;
    case '--port': port = Number(val()); break;
    case '--allow-eio3': allowEIO3 = true; break;
    default: usage('unknown argument ' + a);
  }
}
if (!Number.isInteger(port) || port < 0 || port > 65535) usage('bad --port');

const sio = path.dirname(require.resolve('socket.io-4/package.json'));
const engineio = require(require.resolve('engine.io', { paths: [sio] }));

let server;
switch (kind) {
  case 'engineio-v4':
  case 'engineio-v3': {
    const opts = { pingInterval: 300, pingTimeout: 200, maxPayload: 1e6, cors: { origin: '*' } };
    if (kind === 'engineio-v3' || allowEIO3) opts.allowEIO3 = true;
    server = engineio.listen(port, opts, () => console.log('listening'));
    server.on('connection', (socket) => {
      socket.on('data', (...args) => socket.send(...args));
    });
    break;
  }
  case 'socketio-v5': {
    const { Server } = require('socket.io-4');
    const io = new Server(port, {
      pingInterval: 300,
      pingTimeout: 200,
      maxPayload: 1000000,
      connectTimeout: 1000,
      allowEIO3,
      cors: { origin: '*' },
    });
    io.on('connection', (socket) => {
      socket.emit('auth', socket.handshake.auth);
      socket.on('message', (...args) => {
        socket.emit.apply(socket, ['message-back', ...args]);
      });
      socket.on('message-with-ack', (...args) => {
        const ack = args.pop();
        ack(...args);
      });
    });
    io.of('/custom').on('connection', (socket) => {
      socket.emit('auth', socket.handshake.auth);
    });
    server = io;
    io.httpServer.on('listening', () => console.log('listening'));
    break;
  }
  default:
    usage('--kind must be engineio-v4, engineio-v3 or socketio-v5');
}

function stop() {
  try { server.close(); } catch (e) { /* closing anyway */ }
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
