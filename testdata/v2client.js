// v2client.js — the real socket.io-client@2.5.0 (npm alias socket.io-client-2,
// Socket.IO protocol v4 over Engine.IO v3) in Node against a server running
// the testapp contract (TESTAPP.md, "Modern clients"). Runs each check with
// fresh connections over the given transport and prints one result line per
// check ({"check","transport","pass","observed","error"}); exits 0 when all
// ran.
//
//   node v2client.js --url http://127.0.0.1:PORT --transport polling|websocket|upgrade|polling-b64
'use strict';
const io = require('socket.io-client-2');
const { once, call, plain, same, expect, runChecks } = require('./checklib');

const args = process.argv.slice(2);
const opts = { timeout: 10000 };
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--url') opts.url = args[i + 1];
  else if (args[i] === '--transport') opts.transport = args[i + 1];
  else if (args[i] === '--timeout-ms') opts.timeout = +args[i + 1];
}
if (!opts.url || !opts.transport) {
  console.error('usage: node v2client.js --url URL --transport polling|websocket|upgrade|polling-b64');
  process.exit(2);
}

function clientOpts(extra) {
  const o = { forceNew: true, reconnection: false, timeout: opts.timeout };
  if (opts.transport === 'polling') o.transports = ['polling'];
  else if (opts.transport === 'polling-b64') { o.transports = ['polling']; o.forceBase64 = true; }
  else if (opts.transport === 'websocket') o.transports = ['websocket'];
  return Object.assign(o, extra || {});
}

const open = [];
function connect(ns, extra) {
  const s = io(opts.url + (ns || ''), clientOpts(extra));
  open.push(s);
  return s;
}

// connected resolves on connect; a namespace ERROR packet (the socket's
// "error" event) or an Engine.IO failure rejects.
function connected(s) {
  return new Promise((resolve, reject) => {
    if (s.connected) return resolve(s);
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new Error('error: ' + JSON.stringify(e))));
    s.once('connect_error', (e) => reject(new Error('connect_error: ' + (e && e.message || e))));
  });
}

// refusal resolves with what the socket's "error" event gets, or
// "connected".
function refusal(s) {
  return new Promise((resolve) => {
    s.once('error', (e) => resolve(e));
    s.once('connect', () => resolve('connected'));
  });
}

const checks = {
  async connect() {
    const s = await connected(connect());
    expect(s.id === s.io.engine.id, 'the default namespace socket id is the engine id', [s.id, s.io.engine.id]);
    const own = await call(s, 'count', s.id);
    expect(same(own, [1]), 'the server knows the socket by that id', own);
    const c = await connected(connect('/chat'));
    expect(c.id === '/chat#' + c.io.engine.id, 'the /chat socket id is /chat#<engine id>', c.id);
    const ownChat = await call(c, 'count', c.id);
    expect(same(ownChat, [1]), 'the server knows the /chat socket by that id', ownChat);
    return { idLength: s.id.length, chat: c.id.slice(0, 6) };
  },
  async echoAck() {
    const s = await connected(connect());
    const res = await call(s, 'echo', 1, 'a', { b: [true, null] });
    expect(same(res, [1, 'a', { b: [true, null] }]), 'the same args back', res);
    return res;
  },
  async echoEvent() {
    const s = await connected(connect('/chat'));
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
    const c = await connected(connect('/chat'));
    const got = once(c, 'echo');
    c.emit('echo', Buffer.from([255, 0]));
    const ev = await got;
    expect(same(ev, [Buffer.from([255, 0])]), 'a binary echo event in /chat', plain(ev));
    return plain(res);
  },
  async authPayload() {
    const s = await connected(connect());
    const res = await call(s, 'auth');
    expect(same(res, [null]), 'null: a 2.x client sends no auth payload', res);
    return res;
  },
  async privateRefused() {
    const err = await refusal(connect('/private'));
    expect(err === 'unauthorized', 'the error packet "unauthorized"', err);
    const err2 = await refusal(connect('/private?token=bad'));
    expect(err2 === 'unauthorized', 'the error packet "unauthorized" with a bad token', err2);
    return err;
  },
  async privateAccepted() {
    // The token in the namespace's query only: the socket shares a
    // Manager whose Engine.IO handshake has no token.
    const m = new io.Manager(opts.url, clientOpts());
    const d = m.socket('/');
    open.push(d);
    await connected(d);
    const s = m.socket('/private', { query: { token: 'secret' } });
    open.push(s);
    await connected(s);
    const res = await call(s, 'echo', 'in');
    expect(same(res, ['in']), 'an echo in /private', res);
    const [hs] = await call(s, 'handshake');
    expect(hs && hs.query && hs.query.token === undefined, 'no token in the handshake query', hs);
    // The handshake query works too, as for 0.9.
    const t = await connected(connect('/private', { query: 'token=secret' }));
    expect(same(await call(t, 'echo', 2), [2]), 'an echo in /private (handshake query)');
    return res;
  },
  async invalidNamespace() {
    const err = await refusal(connect('/nope'));
    expect(same(err, { message: 'Invalid namespace' }), 'the error {"message":"Invalid namespace"}', err);
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
    const a = await connected(connect('/chat'));
    const b = await connected(connect('/chat'));
    expect(same(await call(a, 'join', 'r2'), [true]), 'join acks true');
    expect(same(await call(b, 'join', 'r2'), [true]), 'join acks true');
    const gotA = once(a, 'room'), gotB = once(b, 'room');
    a.emit('to-room', 'r2', 'hello', Buffer.from([9]));
    const [ra, rb] = await Promise.all([gotA, gotB]);
    expect(same(ra, ['hello', Buffer.from([9])]) && same(rb, ra), 'both get the room emit', [plain(ra), plain(rb)]);
    const rooms = await call(a, 'rooms');
    expect(same(rooms, [['r2']]), 'rooms lists r2 without the own-id room', rooms);
    const count = await call(a, 'count', 'r2');
    expect(same(count, [2]), 'two in the room', count);
    const gotB2 = once(b, 'room');
    a.emit('broadcast-room', 'r2', 'not-me');
    expect(same(await gotB2, ['not-me']), 'broadcast-room reaches the other');
    return rooms;
  },
  async ask() {
    const s = await connected(connect());
    s.on('q', (...a) => { const cb = a.pop(); cb('answered', ...a); });
    const got = once(s, 'answer');
    s.emit('ask', 'q', 1, 2);
    const res = await got;
    expect(same(res, ['answered', 1, 2]), 'the server got the ack', res);
    const b = once(s, 'answer');
    s.off('q');
    s.on('q', (...a) => { const cb = a.pop(); cb(Buffer.from([4, 5])); });
    s.emit('ask', 'q');
    const bres = await b;
    expect(same(bres, [Buffer.from([4, 5])]), 'a binary ack reaches the server', plain(bres));
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
    expect(res && res.query && res.query.who === 'me' && res.query.EIO === '3', 'the handshake query', res);
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
    const want = opts.transport.startsWith('polling') ? 'polling' : 'websocket';
    const res = await call(s, 'echo', 'after', Buffer.from([7]));
    expect(s.io.engine.transport.name === want, 'transport ' + want, s.io.engine.transport.name);
    expect(same(res, ['after', Buffer.from([7])]), 'an echo after', plain(res));
    return s.io.engine.transport.name;
  },
};

runChecks(checks, opts.transport, opts.timeout, open);
