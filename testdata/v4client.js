// v4client.js — the real socket.io-client@4.8 (npm alias socket.io-client-4)
// in Node against a server running the testapp contract (TESTAPP.md, "Modern
// clients"). Runs each check with a fresh connection over the given
// transport and prints one result line per check
// ({"check","transport","pass","observed","error"}); exits 0 when all ran.
//
//   node v4client.js --url http://127.0.0.1:PORT --transport polling|websocket|upgrade
//   node v4client.js --url URL --transport T --mixed ROOM   (mixed-room check only)
'use strict';
const { io } = require('socket.io-client-4');
const { once, call, plain, same, expect, runChecks } = require('./checklib');

const args = process.argv.slice(2);
const opts = { timeout: 10000 };
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--url') opts.url = args[i + 1];
  else if (args[i] === '--transport') opts.transport = args[i + 1];
  else if (args[i] === '--mixed') opts.mixed = args[i + 1];
  else if (args[i] === '--timeout-ms') opts.timeout = +args[i + 1];
}
if (!opts.url || !opts.transport) {
  console.error('usage: node v4client.js --url URL --transport polling|websocket|upgrade');
  process.exit(2);
}

function clientOpts(extra) {
  const o = { forceNew: true, reconnection: false, timeout: opts.timeout };
  if (opts.transport === 'polling') o.transports = ['polling'];
  else if (opts.transport === 'websocket') o.transports = ['websocket'];
  return Object.assign(o, extra || {});
}

const open = [];
function connect(ns, extra) {
  const s = io(opts.url + (ns || ''), clientOpts(extra));
  open.push(s);
  return s;
}

function connected(s) {
  return new Promise((resolve, reject) => {
    if (s.connected) return resolve(s);
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => reject(new Error('connect_error: ' + e.message)));
  });
}

const checks = {
  async connect() {
    const s = await connected(connect());
    expect(typeof s.id === 'string' && s.id.length > 0, 'a socket id', s.id);
    expect(s.id !== s.io.engine.id, 'the socket id differs from the engine id', [s.id, s.io.engine.id]);
    return { idLength: s.id.length };
  },
  async echoAck() {
    const s = await connected(connect());
    const res = await call(s, 'echo', 1, 'a', { b: [true, null] });
    expect(same(res, [1, 'a', { b: [true, null] }]), 'the same args back', res);
    return res;
  },
  async echoEvent() {
    const s = await connected(connect());
    const got = once(s, 'echo');
    s.emit('echo', 'x', 2);
    const res = await got;
    expect(same(res, ['x', 2]), 'the echo event', res);
    return res;
  },
  async binaryEcho() {
    const s = await connected(connect());
    const sent = [Buffer.from([1, 2, 3]), 'text', { nested: Buffer.from('hé'), list: [Buffer.alloc(0), 4] }];
    const res = await call(s, 'echo', ...sent);
    expect(same(res, sent), 'the same args back, binary as binary', plain(res));
    expect(Buffer.isBuffer(res[0]) || res[0] instanceof ArrayBuffer, 'binary arrives as binary', plain(res));
    const got = once(s, 'echo');
    s.emit('echo', Buffer.from([255, 0]));
    const ev = await got;
    expect(same(ev, [Buffer.from([255, 0])]), 'a binary echo event', plain(ev));
    return plain(res);
  },
  async authPayload() {
    const s = await connected(connect('', { auth: { token: 'abc', n: 1 } }));
    const res = await call(s, 'auth');
    expect(same(res, [{ token: 'abc', n: 1 }]), 'the auth payload', res);
    const t = await connected(connect('/chat'));
    const none = await call(t, 'auth');
    expect(same(none, [null]), 'null without auth', none);
    return res;
  },
  async privateRefused() {
    const s = connect('/private');
    const err = await new Promise((resolve) => {
      s.once('connect_error', (e) => resolve(e.message));
      s.once('connect', () => resolve('connected'));
    });
    expect(err === 'unauthorized', 'connect error "unauthorized"', err);
    return err;
  },
  async privateAccepted() {
    const s = await connected(connect('/private', { auth: { token: 'secret' } }));
    const res = await call(s, 'echo', 'in');
    expect(same(res, ['in']), 'an echo in /private', res);
    return res;
  },
  async invalidNamespace() {
    const s = connect('/nope');
    const err = await new Promise((resolve) => {
      s.once('connect_error', (e) => resolve(e.message));
      s.once('connect', () => resolve('connected'));
    });
    expect(err === 'Invalid namespace', 'connect error "Invalid namespace"', err);
    return err;
  },
  async kick() {
    const s = await connected(connect('/chat'));
    const got = once(s, 'disconnect');
    s.emit('kick');
    const [reason] = await got;
    expect(reason === 'io server disconnect', 'io server disconnect', reason);
    const d = await connected(connect());
    const got2 = once(d, 'disconnect');
    d.emit('kick');
    const [reason2] = await got2;
    expect(reason2 === 'io server disconnect', 'io server disconnect in /', reason2);
    return [reason, reason2];
  },
  async rooms() {
    const a = await connected(connect());
    const b = await connected(connect());
    expect(same(await call(a, 'join', 'r4'), [true]), 'join acks true');
    expect(same(await call(b, 'join', 'r4'), [true]), 'join acks true');
    const gotA = once(a, 'room'), gotB = once(b, 'room');
    a.emit('to-room', 'r4', 'hello', Buffer.from([9]));
    const [ra, rb] = await Promise.all([gotA, gotB]);
    expect(same(ra, ['hello', Buffer.from([9])]) && same(rb, ra), 'both get the room emit', [plain(ra), plain(rb)]);
    const rooms = await call(a, 'rooms');
    expect(same(rooms, [['r4']]), 'rooms lists r4 without the own-id room', rooms);
    const count = await call(a, 'count', 'r4');
    expect(same(count, [2]), 'two in the room', count);
    const own = await call(a, 'count', a.id);
    expect(same(own, [1]), 'the own-id room is the socket id', own);
    return rooms;
  },
  async ask() {
    const s = await connected(connect());
    s.on('q', (...a) => { const cb = a.pop(); cb('answered', ...a); });
    const got = once(s, 'answer');
    s.emit('ask', 'q', 1, 2);
    const res = await got;
    expect(same(res, ['answered', 1, 2]), 'the server got the ack', res);
    return res;
  },
  async acl() {
    const s = await connected(connect('/acl'));
    const got = once(s, 'error');
    let acked = false;
    s.emit('secret', () => { acked = true; });
    const err = await got;
    expect(same(err, ['method_access_denied', 'You do not have access to method "secret"']), 'method_access_denied', err);
    expect(same(await call(s, 'login', 'letmein'), [true]), 'login acks true');
    const res = await call(s, 'secret');
    expect(same(res, ['s3cret']) && !acked, 'secret after login', res);
    return err;
  },
  async handshake() {
    const s = await connected(connect('', { query: { who: 'me' } }));
    const [res] = await call(s, 'handshake');
    expect(res && res.query && res.query.who === 'me' && res.query.EIO === '4', 'the handshake query', res);
    return { who: res.query.who, EIO: res.query.EIO };
  },
  async burst() {
    const s = await connected(connect());
    const seen = [];
    const done = new Promise((resolve) => s.on('burst', (i) => { seen.push(i); if (seen.length === 50) resolve(); }));
    s.emit('burst', 50);
    await done;
    expect(seen.every((v, i) => v === i), 'in order', seen);
    return seen.length;
  },
  async transportUsed() {
    const s = await connected(connect());
    if (opts.transport === 'upgrade') {
      if (s.io.engine.transport.name !== 'websocket') await new Promise((resolve) => s.io.engine.once('upgrade', resolve));
    }
    const want = opts.transport === 'polling' ? 'polling' : 'websocket';
    const res = await call(s, 'echo', 'after');
    expect(s.io.engine.transport.name === want, 'transport ' + want, s.io.engine.transport.name);
    expect(same(res, ['after']), 'an echo after', res);
    return s.io.engine.transport.name;
  },
};

// mixed: join the room, announce it, and wait for the 0.9 client's emit.
async function mixed(room) {
  const s = await connected(connect());
  expect(same(await call(s, 'join', room), [true]), 'join acks true');
  const got = new Promise((resolve) => s.on('room', (...a) => { if (a[0] === 'from09') resolve(a); }));
  s.emit('to-room', room, 'from4', Buffer.from([1, 2]));
  const res = await got;
  return plain(res);
}

runChecks(opts.mixed ? { mixed: () => mixed(opts.mixed) } : checks, opts.transport, opts.timeout, open);
