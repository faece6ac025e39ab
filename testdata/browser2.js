#!/usr/bin/env node
// browser2.js — the real socket.io-client@2.5.0 browser build
// (node_modules/socket.io-client-2/dist/socket.io.js) in headless Chromium
// against a server running the testapp contract (TESTAPP.md "Modern
// clients", 2.x rows), from a page on another origin (CORS polling,
// cross-origin websocket). Transports: websocket, polling, upgrade, and
// jsonp (forceJSONP polling: script tags, POSTs through a form).
//
//   node browser2.js --url http://127.0.0.1:PORT [--transports websocket,polling,upgrade,jsonp]
//
// Prints one JSON line per (transport, check) on stdout:
//   {"check":"...","transport":"...","pass":bool,"observed":...,"error":"..."}
// Exit 0 when the harness ran, 1 when the browser cannot start.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const { CHROMIUM_ARGS, findChromium } = require('./chromium');

const CLIENT_FILE = path.join(__dirname, 'node_modules', 'socket.io-client-2', 'dist', 'socket.io.js');

const opts = { transports: ['websocket', 'polling', 'upgrade', 'jsonp'], timeoutMs: 10000 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  if (argv[i] === '--url') opts.url = new URL(argv[i + 1]).origin;
  else if (argv[i] === '--transports') opts.transports = argv[i + 1].split(',');
}
if (!opts.url) {
  process.stderr.write('usage: node browser2.js --url http://HOST:PORT [--transports a,b]\n');
  process.exit(2);
}

const PAGE = '<!doctype html><meta charset="utf-8"><title>siogo 2.x</title><script src="/socket.io.js"></script>';

// The checks, run in the page: each gets a connect(ns, extra) that opens a
// socket with the transport's options and returns what it observed, or
// throws.
const CHECKS = {
  async connect(h) {
    const s = await h.connected(h.connect(''));
    h.expect(s.id === s.io.engine.id, 'the socket id is the engine id', [s.id, s.io.engine.id]);
    const c = await h.connected(h.connect('/chat'));
    h.expect(c.id === '/chat#' + c.io.engine.id, 'the /chat id', c.id);
    h.expect(h.same(await h.call(c, 'count', c.id), [1]), 'the server knows the /chat id');
    return c.id.slice(0, 6);
  },
  async echoAck(h) {
    const s = await h.connected(h.connect(''));
    const res = await h.call(s, 'echo', 1, 'é', { b: [true, null] });
    h.expect(h.same(res, [1, 'é', { b: [true, null] }]), 'the same args back', res);
    return res;
  },
  async binaryEcho(h) {
    const s = await h.connected(h.connect('/chat'));
    const res = await h.call(s, 'echo', new Uint8Array([1, 2, 255]).buffer, 'x');
    h.expect(res[0] instanceof ArrayBuffer && h.same(res, [{ bin: [1, 2, 255] }, 'x']), 'binary back as binary', h.plain(res));
    return h.plain(res);
  },
  async privateQuery(h) {
    const refused = await h.refusal(h.connect('/private'));
    h.expect(refused === 'unauthorized', 'the error packet "unauthorized"', refused);
    const m = io.Manager(h.url, h.options());
    h.open.push(m.socket('/'));
    const p = m.socket('/private', { query: 'token=secret' });
    h.open.push(p);
    await h.connected(p);
    h.expect(h.same(await h.call(p, 'echo', 'in'), ['in']), 'an echo in /private');
    return refused;
  },
  async invalidNamespace(h) {
    const err = await h.refusal(h.connect('/nope'));
    h.expect(h.same(err, { message: 'Invalid namespace' }), 'Invalid namespace', err);
    return err;
  },
  async kick(h) {
    const s = await h.connected(h.connect('/chat'));
    const got = h.once(s, 'disconnect');
    s.emit('kick');
    const [reason] = await got;
    h.expect(reason === 'io server disconnect', 'io server disconnect', reason);
    return reason;
  },
  async rooms(h) {
    const a = await h.connected(h.connect(''));
    const b = await h.connected(h.connect(''));
    await h.call(a, 'join', 'rb');
    await h.call(b, 'join', 'rb');
    const gotB = h.once(b, 'room');
    a.emit('to-room', 'rb', 'hi', new Uint8Array([7]).buffer);
    const rb = await gotB;
    h.expect(h.same(rb, ['hi', { bin: [7] }]), 'the room emit', h.plain(rb));
    return h.plain(rb);
  },
  async acl(h) {
    const s = await h.connected(h.connect('/acl'));
    const got = h.once(s, 'error');
    s.emit('secret');
    const err = await got;
    h.expect(h.same(err, ['method_access_denied', 'You do not have access to method "secret"']), 'method_access_denied', err);
    return err;
  },
  async transportUsed(h) {
    const s = await h.connected(h.connect(''));
    if (h.transport === 'upgrade' && s.io.engine.transport.name !== 'websocket') {
      await new Promise((resolve) => s.io.engine.once('upgrade', resolve));
    }
    const want = { websocket: 'websocket', upgrade: 'websocket', polling: 'polling', jsonp: 'polling' }[h.transport];
    h.expect(s.io.engine.transport.name === want, 'transport ' + want, s.io.engine.transport.name);
    if (h.transport === 'jsonp') h.expect(s.io.engine.transport.query.j !== undefined, 'JSONP polling (j= in the query)', s.io.engine.transport.query);
    const res = await h.call(s, 'echo', 'after', new Uint8Array([5]).buffer);
    h.expect(h.same(res, ['after', { bin: [5] }]), 'an echo after', h.plain(res));
    return want;
  },
};

// runInPage runs one check in the page.
async function runInPage([name, src, url, transport, timeoutMs]) {
  const open = [];
  const h = {
    url, transport, open,
    options(extra) {
      const o = { forceNew: true, reconnection: false, timeout: timeoutMs };
      if (transport === 'polling') o.transports = ['polling'];
      else if (transport === 'jsonp') { o.transports = ['polling']; o.forceJSONP = true; }
      else if (transport === 'websocket') o.transports = ['websocket'];
      return Object.assign(o, extra || {});
    },
    connect(ns, extra) { const s = io(url + ns, h.options(extra)); open.push(s); return s; },
    connected(s) {
      return new Promise((resolve, reject) => {
        if (s.connected) return resolve(s);
        s.once('connect', () => resolve(s));
        s.once('error', (e) => reject(new Error('error: ' + JSON.stringify(e))));
        s.once('connect_error', (e) => reject(new Error('connect_error: ' + (e && e.message || e))));
      });
    },
    refusal(s) {
      return new Promise((resolve) => { s.once('error', resolve); s.once('connect', () => resolve('connected')); });
    },
    once(s, ev) { return new Promise((resolve) => s.once(ev, (...a) => resolve(a))); },
    call(s, ev, ...a) { return new Promise((resolve) => s.emit(ev, ...a, (...r) => resolve(r))); },
    plain(v) {
      if (v instanceof ArrayBuffer) return { bin: Array.from(new Uint8Array(v)) };
      if (Array.isArray(v)) return v.map(h.plain);
      if (v && typeof v === 'object') { const o = {}; for (const k of Object.keys(v).sort()) o[k] = h.plain(v[k]); return o; }
      return v;
    },
    same(a, b) { return JSON.stringify(h.plain(a)) === JSON.stringify(h.plain(b)); },
    expect(cond, what, observed) { if (!cond) { const e = new Error(what); e.observed = observed; throw e; } },
  };
  // eslint-disable-next-line no-new-func
  const fn = new Function('return (' + src + ')')();
  let t;
  try {
    const observed = await Promise.race([fn(h), new Promise((_, rej) => { t = setTimeout(() => rej(new Error('timeout')), timeoutMs); })]);
    return { pass: true, observed: observed === undefined ? null : observed, error: '' };
  } catch (e) {
    return { pass: false, observed: e.observed === undefined ? null : h.plain(e.observed), error: String(e && e.message || e) };
  } finally {
    clearTimeout(t);
    while (open.length) open.pop().close();
  }
}

(async () => {
  const client = fs.readFileSync(CLIENT_FILE);
  const srv = http.createServer((req, res) => {
    const p = req.url.split('?')[0];
    if (p === '/socket.io.js') { res.writeHead(200, { 'Content-Type': 'application/javascript' }); res.end(client); return; }
    if (p === '/') { res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }); res.end(PAGE); return; }
    res.writeHead(404); res.end();
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const pageURL = 'http://127.0.0.1:' + srv.address().port + '/';
  let browser;
  try {
    const { chromium } = require('playwright-core');
    browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS, headless: true, timeout: 20000 });
  } catch (e) {
    process.stderr.write('browser2.js: cannot start Chromium: ' + e.message + '\n');
    srv.close();
    process.exit(1);
  }
  try {
    await Promise.all(opts.transports.map(async (tr) => {
      const context = await browser.newContext();
      for (const [name, fn] of Object.entries(CHECKS)) {
        const page = await context.newPage();
        let r;
        try {
          await page.goto(pageURL, { waitUntil: 'load', timeout: 10000 });
          r = await page.evaluate(runInPage, [name, fn.toString().replace(/^async \w+\(/, 'async function ('), opts.url, tr, opts.timeoutMs]);
        } catch (e) {
          r = { pass: false, observed: null, error: 'harness: ' + e.message };
        }
        await page.close();
        process.stdout.write(JSON.stringify(Object.assign({ check: name, transport: tr }, r)) + '\n');
      }
      await context.close();
    }));
  } finally {
    await browser.close();
    srv.close();
  }
  process.exit(0);
})();
