// eioclient3.js — the real engine.io-client 3.x (socket.io-client@2.5.0's
// dependency) against an Engine.IO echo server speaking EIO=3 (every
// message sent back): internal/engineio's TestRealClientV3.
//
//   node eioclient3.js --url http://127.0.0.1:PORT --mode polling|websocket|upgrade
//       [--base64] [--timeout-ms 15000]
//
// polling: transports ["polling"]; websocket: transports ["websocket"];
// upgrade: polling first, then the upgrade to websocket. --base64: the
// client's forceBase64 (binary as "b4<base64>", b64=1 in the query).
// Once connected (upgraded), it sends a text message, a non-ASCII one
// (UTF-16 lengths), a binary one and a burst of text messages, checks
// that each comes back, in order, waits for two of its pings to be
// answered, then closes. Prints one result line
// ({"check","transport","pass","observed","error"}) and exits 0 (1 on a
// failure or after --timeout-ms).
'use strict';

const path = require('path');
const sioClient = path.dirname(require.resolve('socket.io-client-2/package.json'));
const eioPath = require.resolve('engine.io-client', { paths: [sioClient] });
const eio = require(eioPath);
const version = require(path.join(path.dirname(eioPath), '..', 'package.json')).version;

const args = process.argv.slice(2);
const opts = { timeout: 15000, base64: false };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--url') opts.url = args[++i];
  else if (args[i] === '--mode') opts.mode = args[++i];
  else if (args[i] === '--timeout-ms') opts.timeout = +args[++i];
  else if (args[i] === '--base64') opts.base64 = true;
}
if (!opts.url || !['polling', 'websocket', 'upgrade'].includes(opts.mode)) {
  console.error('usage: node eioclient3.js --url URL --mode polling|websocket|upgrade [--base64]');
  process.exit(2);
}
if (!version.startsWith('3.')) {
  console.error('engine.io-client ' + version + ' is not 3.x');
  process.exit(2);
}

let socket;
let done = false;
function result(pass, observed, error) {
  if (done) return;
  done = true;
  process.stdout.write(JSON.stringify({
    check: opts.mode + (opts.base64 ? '+base64' : ''),
    transport: socket && socket.transport ? socket.transport.name : '',
    pass, observed, error: error || '',
  }) + '\n');
  // Let the close packet go out before the process ends.
  setTimeout(() => process.exit(pass ? 0 : 1), 300);
}
setTimeout(() => result(false, observed, 'timeout'), opts.timeout).unref();

const transports = opts.mode === 'websocket' ? ['websocket'] : opts.mode === 'polling' ? ['polling'] : ['polling', 'websocket'];
socket = eio(opts.url, {
  path: '/engine.io/', transports, upgrade: opts.mode === 'upgrade', forceBase64: opts.base64,
});
socket.binaryType = 'arraybuffer';

const burst = 20;
const expected = ['text:hello', 'text:€😀 é', 'binary:1,2,3,255'];
for (let i = 0; i < burst; i++) expected.push('text:m' + i);
const got = [];
const observed = { version, openTransport: '', upgraded: false, pongs: 0 };

socket.on('open', () => {
  observed.openTransport = socket.transport.name;
  observed.sid = socket.id;
  observed.pingInterval = socket.pingInterval;
  if (opts.mode !== 'upgrade') send();
});
socket.on('upgrade', (t) => {
  observed.upgraded = t.name;
  send();
});
socket.on('pong', () => {
  observed.pongs++;
  check();
});
socket.on('message', (data) => {
  if (typeof data === 'string') got.push('text:' + data);
  else got.push('binary:' + Array.from(new Uint8Array(data)).join(','));
  check();
});
socket.on('error', (e) => result(false, observed, 'error: ' + String(e)));
socket.on('close', (reason) => result(false, observed, 'closed: ' + reason));

function check() {
  if (got.length < expected.length || observed.pongs < 2) return;
  observed.messages = got;
  const ok = JSON.stringify(got) === JSON.stringify(expected) &&
    (opts.mode !== 'upgrade' || observed.upgraded === 'websocket');
  result(ok, observed, ok ? '' : 'unexpected messages');
  socket.close();
}

function send() {
  socket.send('hello');
  socket.send('€😀 é');
  socket.send(Uint8Array.from([1, 2, 3, 255]));
  for (let i = 0; i < burst; i++) socket.send('m' + i);
}
