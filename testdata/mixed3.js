// mixed3.js — a room of three client generations: the real
// socket.io-client@2.5.0 and socket.io-client@4.8 in this process, and a 0.9
// client the caller has already put in the room, which answers the first
// "from2" or "from4" it gets with a to-room emit whose first argument is
// "from09". Both clients join the room, then each emits to it; the check
// passes when each has the other's emit and the 0.9 client's. Prints one
// result line ({"check":"mixed3",...}).
//
//   node mixed3.js --url http://127.0.0.1:PORT --transport polling|websocket --room ROOM [--url4 URL]
//
// --url4 connects the 4.x client to another server (another node of a
// cluster); by default both use --url.
'use strict';
const io2 = require('socket.io-client-2');
const { io: io4 } = require('socket.io-client-4');
const { call, plain, withTimeout } = require('./checklib');

const args = process.argv.slice(2);
const opts = { timeout: 15000 };
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--url') opts.url = args[i + 1];
  else if (args[i] === '--transport') opts.transport = args[i + 1];
  else if (args[i] === '--room') opts.room = args[i + 1];
  else if (args[i] === '--url4') opts.url4 = args[i + 1];
}

function connected(s) {
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => reject(new Error('connect_error: ' + (e && e.message || e))));
  });
}

// collect resolves with the room emits s got, by first argument, once it
// has every one of want.
function collect(s, want) {
  const got = {};
  return new Promise((resolve) => s.on('room', (...a) => {
    got[a[0]] = plain(a);
    if (want.every((w) => got[w])) resolve(got);
  }));
}

async function run() {
  const o = { forceNew: true, reconnection: false, transports: [opts.transport] };
  const c2 = io2(opts.url, o);
  const c4 = io4(opts.url4 || opts.url, o);
  try {
    await Promise.all([connected(c2), connected(c4)]);
    const j = await Promise.all([call(c2, 'join', opts.room), call(c4, 'join', opts.room)]);
    if (JSON.stringify(j) !== '[[true],[true]]') throw new Error('join: ' + JSON.stringify(j));
    const got2 = collect(c2, ['from4', 'from09']);
    const got4 = collect(c4, ['from2', 'from09']);
    c2.emit('to-room', opts.room, 'from2', Buffer.from([2]));
    c4.emit('to-room', opts.room, 'from4', Buffer.from([4]));
    const [r2, r4] = await Promise.all([got2, got4]);
    return { v2: [r2.from4, r2.from09], v4: [r4.from2, r4.from09] };
  } finally {
    c2.close();
    c4.close();
  }
}

withTimeout(run(), opts.timeout)
  .then((observed) => {
    process.stdout.write(JSON.stringify({ check: 'mixed3', transport: opts.transport, pass: true, observed, error: '' }) + '\n');
  }, (e) => {
    process.stdout.write(JSON.stringify({ check: 'mixed3', transport: opts.transport, pass: false, observed: null, error: String(e && e.message || e) }) + '\n');
  })
  .finally(() => process.exit(0));
