// eioclient.js — the real engine.io-client 6.x (socket.io-client@4.8.4's
// dependency) against an Engine.IO v4 echo server (every message sent
// back): internal/engineio's TestRealClient.
//
//   node eioclient.js --url http://127.0.0.1:PORT --mode polling|websocket|upgrade
//       [--timeout-ms 15000]
//
// polling: transports ["polling"]; websocket: transports ["websocket"];
// upgrade: polling first, then the upgrade to websocket. Once connected
// (upgraded), it sends a text message, a binary one and a burst of text
// messages, checks that each comes back, in order, then closes.
// Prints one result line ({"check","transport","pass","observed","error"})
// and exits 0 (1 on a failure or after --timeout-ms).
'use strict';

const path = require('path');
const sioClient = path.dirname(require.resolve('socket.io-client-4/package.json'));
const eio = require(require.resolve('engine.io-client', { paths: [sioClient] }));

const args = process.argv.slice(2);
const opts = { timeout: 15000 };
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--url') opts.url = args[i + 1];
  else if (args[i] === '--mode') opts.mode = args[i + 1];
  else if (args[i] === '--timeout-ms') opts.timeout = +args[i + 1];
}
if (!opts.url || !['polling', 'websocket', 'upgrade'].includes(opts.mode)) {
  console.error('usage: node eioclient.js --url URL --mode polling|websocket|upgrade');
  process.exit(2);
}

let socket;
let done = false;
function result(pass, observed, error) {
  if (done) return;
  done = true;
  process.stdout.write(JSON.stringify({
    check: opts.mode, transport: socket && socket.transport ? socket.transport.name : '',
    pass, observed, error: error || '',
  }) + '\n');
  // Let the close packet go out before the process ends.
  setTimeout(() => process.exit(pass ? 0 : 1), 300);
}
setTimeout(() => result(false, null, 'timeout'), opts.timeout).unref();

const transports = opts.mode === 'websocket' ? ['websocket'] : opts.mode === 'polling' ? ['polling'] : ['polling', 'websocket'];
socket = new eio.Socket(opts.url, { path: '/engine.io/', transports, upgrade: opts.mode === 'upgrade' });

const burst = 20;
const expected = ['text:hello', 'binary:1,2,3,255'];
for (let i = 0; i < burst; i++) expected.push('text:m' + i);
const got = [];
const observed = { openTransport: '', upgraded: false };

socket.on('open', () => {
  observed.openTransport = socket.transport.name;
  observed.sid = socket.id;
  if (opts.mode !== 'upgrade') send();
});
socket.on('upgrade', (t) => {
  observed.upgraded = t.name;
  send();
});
socket.on('message', (data) => {
  if (typeof data === 'string') got.push('text:' + data);
  else got.push('binary:' + Array.from(Buffer.from(data)).join(','));
  if (got.length === expected.length) {
    observed.messages = got;
    const ok = JSON.stringify(got) === JSON.stringify(expected) &&
      (opts.mode !== 'upgrade' || observed.upgraded === 'websocket');
    result(ok, observed, ok ? '' : 'unexpected messages');
    socket.close();
  }
});
socket.on('error', (e) => result(false, observed, 'error: ' + String(e)));
socket.on('close', (reason) => result(false, observed, 'closed: ' + reason));

function send() {
  socket.send('hello');
  socket.send(Uint8Array.from([1, 2, 3, 255]));
  for (let i = 0; i < burst; i++) socket.send('m' + i);
}
