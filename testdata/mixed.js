#!/usr/bin/env node
// mixed.js — mixed client generations on one server (TESTAPP.md "Modern
// clients": rooms, broadcasts and watch/gone are shared by all
// generations). A socket.io-client@0.9.16 client (scenarios.js's Context)
// and a socket.io-client@4.8 client (scenarios4.js's Context) connect to
// the same testapp, join the same room and each receives the other's
// `to-room` emits; the same for broadcast, everyone, count and watch/gone.
// Only a server that serves both generations at /socket.io/ can pass: siogo's
// examples/testapp (the Node references serve one generation each). With
// --url-new the 4.x clients connect to another node of the same cluster
// (and a 4.x client that sends from the 0.9 client's node is there too),
// so that every row crosses nodes; --binary adds the scenarios with binary
// arguments (a 4.x client gets them as binary, a 0.9 client as base64
// strings).
//
//   node mixed.js --url http://127.0.0.1:PORT [--url-new http://127.0.0.1:PORT2]
//       [--binary] [--pairs websocket+websocket,xhr-polling+polling,...]
//       [--only name1,name2] [--timeout-ms 10000] [--budget-ms 90000]
//   node mixed.js --list [--binary]
//
// A pair is OLD+NEW: the 0.9 transport (websocket, xhr-polling) and the
// 4.x transport (websocket, polling, upgrade). Default: every pair.
//
// stdout: one JSON line per (pair, scenario), as run-scenarios.js:
//   {"scenario":NAME,"transport":"OLD+NEW","pass":BOOL,"observed":OBJ,"error":STR}
// Exit 0 when the harness ran (even with failures), 1 when it broke, 2 on
// bad usage.
'use strict';

var old = require('./scenarios');
var modern = require('./scenarios4');

var OLD_TRANSPORTS = ['websocket', 'xhr-polling'];

function allPairs() {
  var out = [];
  OLD_TRANSPORTS.forEach(function (o) {
    modern.transports.forEach(function (n) { out.push(o + '+' + n); });
  });
  return out;
}

function usage(msg) {
  process.stderr.write('mixed: ' + msg + '\n' +
    'usage: node mixed.js --url http://HOST:PORT [--pairs OLD+NEW,...] [--only a,b] ' +
    '[--timeout-ms N] [--budget-ms N] | --list\n');
  process.exit(2);
}

function parseArgs(argv) {
  var o = { url: '', urlNew: '', binary: false, pairs: allPairs(), only: null, timeoutMs: 10000, budgetMs: 90000,
    list: false };
  for (var i = 0; i < argv.length; i++) {
    var m = /^--?([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) usage('unexpected argument ' + argv[i]);
    var key = m[1];
    if (key === 'list') { o.list = true; continue; }
    if (key === 'binary') { o.binary = true; continue; }
    var v = m[2];
    if (v === undefined) {
      if (i + 1 >= argv.length) usage('missing value for ' + argv[i]);
      v = argv[++i];
    }
    var list = v.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    switch (key) {
      case 'url': o.url = v; break;
      case 'url-new': o.urlNew = v; break;
      case 'pairs': o.pairs = list; break;
      case 'only': o.only = list; break;
      case 'timeout-ms': o.timeoutMs = Number(v); break;
      case 'budget-ms': o.budgetMs = Number(v); break;
      default: usage('unknown flag --' + key);
    }
  }
  if (o.list) return o;
  if (!/^https?:\/\/[^\/]+\/?$/.test(o.url)) usage('--url must be http://HOST:PORT');
  if (o.urlNew === '') o.urlNew = o.url;
  if (!/^https?:\/\/[^\/]+\/?$/.test(o.urlNew)) usage('--url-new must be http://HOST:PORT');
  var known = allPairs();
  o.pairs.forEach(function (p) { if (known.indexOf(p) < 0) usage('unknown pair ' + p + ' (known: ' + known.join(', ') + ')'); });
  if (!(o.timeoutMs > 0) || !(o.budgetMs > 0)) usage('--timeout-ms and --budget-ms must be positive');
  return o;
}

// ---------------------------------------------------------------------------
// Mixed context: a 0.9 Context and a 4.x Context on the same server, one
// observation.

function Mixed(url, urlNew, pair) {
  var t = pair.split('+');
  this.crossNode = url !== urlNew;
  this.old = new old.Context({ url: url, transport: t[0] });
  this.modern = new modern.Context({ url: urlNew, transport: t[1] });
  // 4.x clients on the 0.9 client's node (connectNewBeside).
  this.beside = new modern.Context({ url: url, transport: t[1] });
  this.obs = {};
  this.errors = [];
  this.where = 'starting';
  this.run = this.modern.run;
}

Mixed.prototype.where_ = function () {
  return 'old: ' + this.old.where + ' / new: ' + this.modern.where + ' / new beside old: ' + this.beside.where;
};

Mixed.prototype.check = function (cond, msg) {
  if (!cond) this.errors.push(msg);
  return !!cond;
};

Mixed.prototype.expectSame = function (what, got, want) {
  var g = JSON.stringify(modern.canonical(got));
  var w = JSON.stringify(modern.canonical(want));
  return this.check(g === w, what + ': got ' + g + ', want ' + w);
};

// (The '.' keeps a room name from ever looking like a socket id — 20
// characters of [A-Za-z0-9_-] — which Socket.Join refuses.)
Mixed.prototype.room = function (l) { return l + '.mixed-' + this.run; };
Mixed.prototype.token = function (l) { return 'tok-' + (l || '') + '-mixed-' + this.run; };

// connectOld / connectNew: ns is the namespace in the generation-neutral
// form ('' or '/chat').
Mixed.prototype.connectOld = function (ns, opts) { return this.old.connect(ns, opts); };
Mixed.prototype.connectNew = function (ns, opts) { return this.modern.connect(ns === '' ? '/' : ns, opts); };
Mixed.prototype.connectNewBeside = function (ns, opts) { return this.beside.connect(ns === '' ? '/' : ns, opts); };

// count asks client c for the room's count. Across nodes (--url-new) a
// join or leave reaches the other node's view a moment later (through
// Redis): the count is asked again until it is want (or 5 s have passed),
// and the last answer returned.
Mixed.prototype.count = async function (c, room, want) {
  var got = await c.call('count', room);
  var until = Date.now() + 5000;
  while (this.crossNode && !(got.length === 1 && got[0] === want) && Date.now() < until) {
    await new Promise(function (resolve) { setTimeout(resolve, 20); });
    got = await c.call('count', room);
  }
  return got;
};

Mixed.prototype.errorsAll = function () {
  return this.errors.concat(this.old.errors, this.modern.errors, this.beside.errors);
};

Mixed.prototype.cleanup = function () {
  this.old.cleanup();
  this.modern.cleanup();
  this.beside.cleanup();
};

// untilSentinel waits until client c (either generation) got the
// "everyone" sentinel, then returns the tagged events called name before it.
async function beforeSentinel(c, name, sentinel, tok) {
  await c.next('everyone', function (x) { return x[0] === sentinel; });
  return c.before(name, 'everyone', sentinel, tok);
}

// ---------------------------------------------------------------------------
// Scenarios.

function roomScenarios(label, ns) {
  function s(name, run) { return { name: label + '.' + name, run: run }; }
  return [
    s('to-room', async function (m) {
      var a = await m.connectOld(ns, { label: 'old' });
      var b = await m.connectNew(ns, { label: 'new' });
      var oOut = await m.connectOld(ns, { label: 'old-outsider' });
      var nOut = await m.connectNew(ns, { label: 'new-outsider' });
      var r = m.room('r');
      var tok = m.token();
      m.obs.joinOld = await a.call('join', r);
      m.obs.joinNew = await b.call('join', r);
      var s1 = m.token('s1');
      a.emit('to-room', r, tok, 'from-0.9', { n: 1 });
      a.emit('everyone', s1);
      m.obs.fromOld = {
        old: await beforeSentinel(a, 'room', s1, tok),
        new: await beforeSentinel(b, 'room', s1, tok),
        oldOutsider: await beforeSentinel(oOut, 'room', s1, tok),
        newOutsider: await beforeSentinel(nOut, 'room', s1, tok)
      };
      var s2 = m.token('s2');
      b.emit('to-room', r, tok, 'from-4', [2, '😀']);
      b.emit('everyone', s2);
      m.obs.fromNew = {
        old: (await beforeSentinel(a, 'room', s2, tok)).filter(function (x) { return x[1] === 'from-4'; }),
        new: (await beforeSentinel(b, 'room', s2, tok)).filter(function (x) { return x[1] === 'from-4'; }),
        oldOutsider: await beforeSentinel(oOut, 'room', s2, tok),
        newOutsider: await beforeSentinel(nOut, 'room', s2, tok)
      };
      m.expectSame('joins', [m.obs.joinOld, m.obs.joinNew], [[true], [true]]);
      var fromOld = [['TOKEN', 'from-0.9', { n: 1 }]];
      var fromNew = [['TOKEN', 'from-4', [2, '😀']]];
      m.expectSame('to-room from 0.9', m.obs.fromOld, { old: fromOld, new: fromOld, oldOutsider: [], newOutsider: [] });
      m.expectSame('to-room from 4.x', m.obs.fromNew, { old: fromNew, new: fromNew, oldOutsider: [], newOutsider: [] });
    }),

    s('broadcast-room', async function (m) {
      var a = await m.connectOld(ns, { label: 'old' });
      var b = await m.connectNew(ns, { label: 'new' });
      var r = m.room('r');
      var tok = m.token();
      await a.call('join', r);
      await b.call('join', r);
      var s1 = m.token('s1');
      a.emit('broadcast-room', r, tok, 'old-to-new');
      a.emit('everyone', s1);
      var s2 = m.token('s2');
      m.obs.fromOld = { old: await beforeSentinel(a, 'room', s1, tok), new: await beforeSentinel(b, 'room', s1, tok) };
      b.emit('broadcast-room', r, tok, 'new-to-old');
      b.emit('everyone', s2);
      m.obs.fromNew = {
        old: (await beforeSentinel(a, 'room', s2, tok)),
        new: (await beforeSentinel(b, 'room', s2, tok)).filter(function (x) { return x[1] === 'new-to-old'; })
      };
      m.expectSame('broadcast-room from 0.9', m.obs.fromOld, { old: [], new: [['TOKEN', 'old-to-new']] });
      m.expectSame('broadcast-room from 4.x', m.obs.fromNew, { old: [['TOKEN', 'new-to-old']], new: [] });
    }),

    s('broadcast-everyone', async function (m) {
      var a = await m.connectOld(ns, { label: 'old' });
      var b = await m.connectNew(ns, { label: 'new' });
      var tok = m.token();
      a.emit('broadcast', tok, 'b-old');
      b.emit('broadcast', tok, 'b-new');
      m.obs.oldGot = await a.tagged('broadcast', tok);
      m.obs.newGot = await b.tagged('broadcast', tok);
      var etok = m.token('e');
      b.emit('everyone', etok, 'e-new');
      m.obs.everyoneOld = await a.tagged('everyone', etok);
      m.obs.everyoneNew = await b.tagged('everyone', etok);
      m.expectSame('0.9 got the 4.x broadcast', m.obs.oldGot, ['TOKEN', 'b-new']);
      m.expectSame('4.x got the 0.9 broadcast', m.obs.newGot, ['TOKEN', 'b-old']);
      m.expectSame('everyone at 0.9', m.obs.everyoneOld, ['TOKEN', 'e-new']);
      m.expectSame('everyone at 4.x', m.obs.everyoneNew, ['TOKEN', 'e-new']);
    }),

    s('count-rooms', async function (m) {
      var a = await m.connectOld(ns, { label: 'old' });
      var b = await m.connectNew(ns, { label: 'new' });
      var r = m.room('r');
      await a.call('join', r);
      await b.call('join', r);
      m.obs.countFromOld = await m.count(a, r, 2);
      m.obs.countFromNew = await m.count(b, r, 2);
      await a.call('leave', r);
      m.obs.countAfterLeave = await m.count(b, r, 1);
      m.expectSame('count from 0.9', m.obs.countFromOld, [2]);
      m.expectSame('count from 4.x', m.obs.countFromNew, [2]);
      m.expectSame('count after the 0.9 client left', m.obs.countAfterLeave, [1]);
    }),

    s('watch-gone', async function (m) {
      var wOld = await m.connectOld(ns, { label: 'old-watcher' });
      var wNew = await m.connectNew(ns, { label: 'new-watcher' });
      var lOld = await m.connectOld(ns, { label: 'old-leaver' });
      var lNew = await m.connectNew(ns, { label: 'new-leaver' });
      await wOld.call('watch');
      await wNew.call('watch');
      var oldId = lOld.sid();
      var newId = lNew.sid();
      lNew.close();
      await wOld.next('gone', function (x) { return x[0] === newId; });
      await wNew.next('gone', function (x) { return x[0] === newId; });
      lOld.close();
      await wOld.next('gone', function (x) { return x[0] === oldId; });
      await wNew.next('gone', function (x) { return x[0] === oldId; });
      m.obs.goneSeenBothWays = true;
    })
  ];
}

// binaryScenarios (--binary): binary arguments sent to a room by a 4.x
// client reach the other 4.x client (on the other node with --url-new) as
// binary and the 0.9 client as base64 strings.
function binaryScenarios(label, ns) {
  function s(name, run) { return { name: label + '.' + name, run: run }; }
  return [
    s('binary-room', async function (m) {
      var a = await m.connectOld(ns, { label: 'old' });
      var b = await m.connectNew(ns, { label: 'new' });
      var c = await m.connectNewBeside(ns, { label: 'new-beside-old' });
      var r = m.room('r');
      var tok = m.token();
      await a.call('join', r);
      await b.call('join', r);
      await c.call('join', r);
      // to-room from the 4.x client beside the 0.9 one: everyone in the room.
      var s1 = m.token('s1');
      c.emit('to-room', r, tok, 'bin', Buffer.from([0xde, 0xad]), { b: Buffer.from('x'), n: 1 });
      c.emit('everyone', s1);
      m.obs.toRoom = {
        old: await beforeSentinel(a, 'room', s1, tok),
        new: await beforeSentinel(b, 'room', s1, tok),
        beside: await beforeSentinel(c, 'room', s1, tok)
      };
      // A broadcast from the other node's 4.x client: all but the sender.
      var s2 = m.token('s2');
      b.emit('broadcast-room', r, tok, Buffer.from([7]), [Buffer.alloc(0), 'txt']);
      b.emit('everyone', s2);
      m.obs.broadcast = {
        old: (await beforeSentinel(a, 'room', s2, tok)).slice(1),
        new: (await beforeSentinel(b, 'room', s2, tok)).length,
        beside: (await beforeSentinel(c, 'room', s2, tok)).slice(1)
      };
      var bin = ['TOKEN', 'bin', Buffer.from([0xde, 0xad]), { b: Buffer.from('x'), n: 1 }];
      m.expectSame('binary to-room', m.obs.toRoom, {
        old: [['TOKEN', 'bin', '3q0=', { b: 'eA==', n: 1 }]], new: [bin], beside: [bin] });
      m.expectSame('binary broadcast-room', m.obs.broadcast, {
        old: [['TOKEN', 'Bw==', ['', 'txt']]],
        new: 1,
        beside: [['TOKEN', Buffer.from([7]), [Buffer.alloc(0), 'txt']]] });
    })
  ];
}

var scenarios = roomScenarios('default', '').concat(roomScenarios('chat', '/chat'));
var withBinary = scenarios.concat(binaryScenarios('default', ''), binaryScenarios('chat', '/chat'));

// ---------------------------------------------------------------------------
// Runner.

function line(obj) {
  var s = JSON.stringify(obj).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  process.stdout.write(s + '\n');
}

function runOne(sc, url, urlNew, pair, timeoutMs) {
  var m = new Mixed(url, urlNew, pair);
  var timer;
  var started = Date.now();
  var timeout = new Promise(function (resolve, reject) {
    timer = setTimeout(function () {
      reject(new Error('timeout after ' + timeoutMs + 'ms while ' + m.where_()));
    }, timeoutMs);
  });
  var run = Promise.resolve().then(function () { return sc.run(m); });
  return Promise.race([run, timeout]).then(function () { return null; }, function (err) {
    return err && err.message ? err.message : String(err);
  }).then(function (fatal) {
    clearTimeout(timer);
    m.cleanup();
    var errors = m.errorsAll();
    if (fatal) errors.unshift(fatal);
    var result = { scenario: sc.name, transport: pair, pass: errors.length === 0,
      observed: modern.canonical(m.obs), error: errors.join('; ') };
    line(result);
    process.stderr.write('[' + pair + '] ' + sc.name + ': ' + (result.pass ? 'ok' : 'FAIL ' + result.error) +
      ' (' + (Date.now() - started) + 'ms)\n');
    return new Promise(function (resolve) { setTimeout(resolve, 20); });
  });
}

function main() {
  var opts = parseArgs(process.argv.slice(2));
  if (opts.binary) scenarios = withBinary;
  if (opts.list) {
    line({ scenarios: scenarios.map(function (s) { return s.name; }), pairs: allPairs() });
    return Promise.resolve();
  }
  var list = scenarios;
  if (opts.only) {
    var unknown = opts.only.filter(function (n) { return !list.some(function (s) { return s.name === n; }); });
    if (unknown.length) usage('unknown scenario(s): ' + unknown.join(', '));
    list = list.filter(function (s) { return opts.only.indexOf(s.name) >= 0; });
  }
  var deadline = Date.now() + opts.budgetMs;
  var p = Promise.resolve();
  opts.pairs.forEach(function (pair) {
    list.forEach(function (sc) {
      p = p.then(function () {
        var left = deadline - Date.now();
        if (left < 200) {
          line({ scenario: sc.name, transport: pair, pass: false, observed: {},
            error: 'not run: the run budget of ' + opts.budgetMs + 'ms was used up' });
          return null;
        }
        return runOne(sc, opts.url, opts.urlNew, pair, Math.min(opts.timeoutMs, left));
      });
    });
  });
  return p;
}

process.on('uncaughtException', function (err) {
  process.stderr.write('mixed: uncaught exception: ' + (err && err.stack || err) + '\n');
});

main().then(function () {
  process.stdout.write('', function () { process.exit(0); });
}, function (err) {
  process.stderr.write('mixed: ' + (err && err.stack || err) + '\n');
  process.exit(1);
});
