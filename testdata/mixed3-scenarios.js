#!/usr/bin/env node
// mixed3-scenarios.js — three client generations in one room (TESTAPP.md "Modern
// clients": rooms, broadcasts and watch/gone are shared by all
// generations). A socket.io-client@0.9.16 client (scenarios.js's Context),
// a socket.io-client@2.5.0 client (scenarios2.js's) and a
// socket.io-client@4.8 client (scenarios4.js's) connect to the same
// testapp, join the same room and each receives the others' `to-room`
// emits; the same for broadcast-room, broadcast, everyone, count and
// watch/gone. --binary adds a scenario with binary arguments (the 2.x and
// 4.x clients get them as binary, the 0.9 client as base64 strings). With
// --url-v2 and --url-v4 the 2.x and the 4.x clients connect to other nodes
// of the same cluster than the 0.9 client (--url), so that every row
// crosses nodes.
//
//   node mixed3-scenarios.js --url http://127.0.0.1:PORT [--url-v2 URL] [--url-v4 URL] [--binary]
//       [--triples websocket+websocket+websocket,...] [--only name1,name2]
//       [--timeout-ms 10000] [--budget-ms 120000]
//   node mixed3-scenarios.js --list [--binary]
//
// A triple is OLD+V2+V4: the 0.9 transport (websocket, xhr-polling), the
// 2.x transport (run-scenarios2.js's) and the 4.x transport
// (run-scenarios4.js's). Default: the four triples of DEFAULT_TRIPLES, so
// that every transport of every generation is in at least one.
//
// Only a server that serves the three generations at /socket.io/ can pass:
// siogo's examples/testapp, or the stand-in refmixed.js (socket.io@0.9.19
// next to socket.io@4.8 with allowEIO3, the rows bridged; its 0.9 bridge
// does not turn binary into base64, so --binary is not for it).
//
// stdout: one JSON line per (triple, scenario), as run-scenarios.js:
//   {"scenario":NAME,"transport":"OLD+V2+V4","pass":BOOL,"observed":OBJ,"error":STR}
// Exit 0 when the harness ran (even with failures), 1 when it broke, 2 on
// bad usage.
'use strict';

var old = require('./scenarios');
var v2 = require('./scenarios2');
var v4 = require('./scenarios4');

var OLD_TRANSPORTS = ['websocket', 'xhr-polling'];

var DEFAULT_TRIPLES = [
  'websocket+websocket+websocket',
  'xhr-polling+polling+polling',
  'websocket+polling-base64+upgrade',
  'xhr-polling+upgrade+websocket'
];

function known(triple) {
  var t = triple.split('+');
  return t.length === 3 && OLD_TRANSPORTS.indexOf(t[0]) >= 0 &&
    v2.transports.indexOf(t[1]) >= 0 && v4.transports.indexOf(t[2]) >= 0;
}

function usage(msg) {
  process.stderr.write('mixed3-scenarios: ' + msg + '\n' +
    'usage: node mixed3-scenarios.js --url http://HOST:PORT [--url-v2 URL] [--url-v4 URL] [--binary] [--triples OLD+V2+V4,...] [--only a,b] ' +
    '[--timeout-ms N] [--budget-ms N] | --list [--binary]\n');
  process.exit(2);
}

function parseArgs(argv) {
  var o = { url: '', urlV2: '', urlV4: '', binary: false, triples: DEFAULT_TRIPLES, only: null, timeoutMs: 10000,
    budgetMs: 120000, list: false };
  for (var i = 0; i < argv.length; i++) {
    var m = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(argv[i]);
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
      case 'url-v2': o.urlV2 = v; break;
      case 'url-v4': o.urlV4 = v; break;
      case 'triples': o.triples = list; break;
      case 'only': o.only = list; break;
      case 'timeout-ms': o.timeoutMs = Number(v); break;
      case 'budget-ms': o.budgetMs = Number(v); break;
      default: usage('unknown flag --' + key);
    }
  }
  if (o.list) return o;
  if (o.urlV2 === '') o.urlV2 = o.url;
  if (o.urlV4 === '') o.urlV4 = o.url;
  [o.url, o.urlV2, o.urlV4].forEach(function (u) {
    if (!/^https?:\/\/[^\/]+\/?$/.test(u)) usage('--url, --url-v2 and --url-v4 must be http://HOST:PORT');
  });
  o.triples.forEach(function (t) { if (!known(t)) usage('unknown triple ' + t); });
  if (!(o.timeoutMs > 0) || !(o.budgetMs > 0)) usage('--timeout-ms and --budget-ms must be positive');
  return o;
}

// ---------------------------------------------------------------------------
// Three contexts on the same server, one observation.

// urls: {old, v2, v4}, the node each generation connects to.
function Mixed3(urls, triple) {
  var t = triple.split('+');
  this.crossNode = urls.old !== urls.v2 || urls.old !== urls.v4;
  this.old = new old.Context({ url: urls.old, transport: t[0] });
  this.v2 = new v2.Context({ url: urls.v2, transport: t[1] });
  this.v4 = new v4.Context({ url: urls.v4, transport: t[2] });
  this.obs = {};
  this.errors = [];
  this.run = this.v4.run;
}

Mixed3.prototype.where = function () {
  return '0.9: ' + this.old.where + ' / 2.x: ' + this.v2.where + ' / 4.x: ' + this.v4.where;
};

Mixed3.prototype.check = function (cond, msg) {
  if (!cond) this.errors.push(msg);
  return !!cond;
};

Mixed3.prototype.expectSame = function (what, got, want) {
  var g = JSON.stringify(v4.canonical(got));
  var w = JSON.stringify(v4.canonical(want));
  return this.check(g === w, what + ': got ' + g + ', want ' + w);
};

// (The '.' keeps a room name from ever looking like a socket id.)
Mixed3.prototype.room = function (l) { return l + '.mixed3-' + this.run; };
Mixed3.prototype.token = function (l) { return 'tok-' + (l || '') + '-mixed3-' + this.run; };

// connect opens one client per generation on namespace ns ('' or '/chat'),
// labels prefixed with prefix: {old, v2, v4}.
Mixed3.prototype.connectAll = async function (ns, prefix) {
  var p = prefix ? prefix + '-' : '';
  var nsNew = ns === '' ? '/' : ns;
  return {
    old: await this.old.connect(ns, { label: p + '0.9' }),
    v2: await this.v2.connect(nsNew, { label: p + '2.x' }),
    v4: await this.v4.connect(nsNew, { label: p + '4.x' })
  };
};

// count asks client c for the room's count. Across nodes a join or leave
// reaches the other nodes' view a moment later (through Redis): the count
// is asked again until it is want (or 5 s have passed), and the last answer
// returned.
Mixed3.prototype.count = async function (c, room, want) {
  var got = await c.call('count', room);
  var until = Date.now() + 5000;
  while (this.crossNode && !(got.length === 1 && got[0] === want) && Date.now() < until) {
    await new Promise(function (resolve) { setTimeout(resolve, 20); });
    got = await c.call('count', room);
  }
  return got;
};

Mixed3.prototype.errorsAll = function () {
  return this.errors.concat(this.old.errors, this.v2.errors, this.v4.errors);
};

Mixed3.prototype.cleanup = function () {
  this.old.cleanup();
  this.v2.cleanup();
  this.v4.cleanup();
};

var GENS = ['old', 'v2', 'v4'];

// beforeSentinel waits until client c got the "everyone" sentinel, then
// returns the events called name tagged with tok before it.
async function beforeSentinel(c, name, sentinel, tok) {
  await c.next('everyone', function (x) { return x[0] === sentinel; });
  return c.before(name, 'everyone', sentinel, tok);
}

// collect: for each client of group (an object of clients), what it got
// called name, tagged tok, before the sentinel.
async function collect(group, name, sentinel, tok) {
  var out = {};
  for (var k of Object.keys(group)) out[k] = await beforeSentinel(group[k], name, sentinel, tok);
  return out;
}

// ---------------------------------------------------------------------------
// Scenarios.

function roomScenarios(label, ns) {
  function s(name, run) { return { name: label + '.' + name, run: run }; }
  return [
    // Every generation sends to-room in turn: the three members get each
    // emit (the sender included), the outsiders nothing.
    s('to-room', async function (m) {
      var members = await m.connectAll(ns, 'member');
      var outsiders = await m.connectAll(ns, 'outsider');
      var r = m.room('r');
      var tok = m.token();
      var joins = [];
      for (var g of GENS) joins.push(await members[g].call('join', r));
      m.obs.joins = joins;
      m.expectSame('joins', joins, [[true], [true], [true]]);
      m.obs.from = {};
      for (var from of GENS) {
        var sentinel = m.token('s-' + from);
        members[from].emit('to-room', r, tok, 'from-' + from, { n: 1, s: '😀' });
        members[from].emit('everyone', sentinel);
        var got = await collect(members, 'room', sentinel, tok);
        var out = await collect(outsiders, 'room', sentinel, tok);
        var want = ['TOKEN', 'from-' + from, { n: 1, s: '😀' }];
        var only = function (list) { return list.filter(function (x) { return x[1] === 'from-' + from; }); };
        m.obs.from[from] = {
          members: { old: only(got.old), v2: only(got.v2), v4: only(got.v4) },
          outsiders: { old: only(out.old), v2: only(out.v2), v4: only(out.v4) }
        };
        m.expectSame('to-room from ' + from, m.obs.from[from], {
          members: { old: [want], v2: [want], v4: [want] },
          outsiders: { old: [], v2: [], v4: [] }
        });
      }
    }),

    // broadcast-room from each generation: the two other members get it.
    s('broadcast-room', async function (m) {
      var members = await m.connectAll(ns, 'member');
      var r = m.room('r');
      var tok = m.token();
      for (var g of GENS) await members[g].call('join', r);
      m.obs.from = {};
      for (var from of GENS) {
        var sentinel = m.token('s-' + from);
        members[from].emit('broadcast-room', r, tok, 'from-' + from);
        members[from].emit('everyone', sentinel);
        var got = await collect(members, 'room', sentinel, tok);
        var want = {};
        m.obs.from[from] = {};
        GENS.forEach(function (k) {
          m.obs.from[from][k] = got[k].filter(function (x) { return x[1] === 'from-' + from; });
          want[k] = k === from ? [] : [['TOKEN', 'from-' + from]];
        });
        m.expectSame('broadcast-room from ' + from, m.obs.from[from], want);
      }
    }),

    // broadcast and everyone from each generation.
    s('broadcast-everyone', async function (m) {
      var c = await m.connectAll(ns);
      var tok = m.token();
      m.obs.broadcast = {};
      m.obs.everyone = {};
      for (var from of GENS) {
        var sentinel = m.token('s-' + from);
        c[from].emit('broadcast', tok, 'b-' + from);
        c[from].emit('everyone', sentinel);
        var got = await collect(c, 'broadcast', sentinel, tok);
        var want = {};
        m.obs.broadcast[from] = {};
        GENS.forEach(function (k) {
          m.obs.broadcast[from][k] = got[k].filter(function (x) { return x[1] === 'b-' + from; });
          want[k] = k === from ? [] : [['TOKEN', 'b-' + from]];
        });
        m.expectSame('broadcast from ' + from, m.obs.broadcast[from], want);
        var etok = m.token('e-' + from);
        c[from].emit('everyone', etok, 'e-' + from);
        m.obs.everyone[from] = {
          old: await c.old.tagged('everyone', etok),
          v2: await c.v2.tagged('everyone', etok),
          v4: await c.v4.tagged('everyone', etok)
        };
        var e = ['TOKEN', 'e-' + from];
        m.expectSame('everyone from ' + from, m.obs.everyone[from], { old: e, v2: e, v4: e });
      }
    }),

    s('count', async function (m) {
      var c = await m.connectAll(ns);
      var r = m.room('r');
      for (var g of GENS) await c[g].call('join', r);
      m.obs.counts = {};
      for (var k of GENS) m.obs.counts[k] = await m.count(c[k], r, 3);
      await c.v2.call('leave', r);
      m.obs.afterV2Left = await m.count(c.old, r, 2);
      m.expectSame('counts', m.obs.counts, { old: [3], v2: [3], v4: [3] });
      m.expectSame('count after the 2.x client left', m.obs.afterV2Left, [2]);
    }),

    // A watcher of each generation sees the gone of a leaver of each.
    s('watch-gone', async function (m) {
      var w = await m.connectAll(ns, 'watcher');
      var l = await m.connectAll(ns, 'leaver');
      for (var g of GENS) await w[g].call('watch');
      m.obs.seen = {};
      for (var gone of GENS) {
        var id = l[gone].sid();
        l[gone].close();
        for (var k of GENS) {
          await w[k].next('gone', function (x) { return x[0] === id; });
        }
        m.obs.seen[gone] = true;
      }
      m.expectSame('gone seen', m.obs.seen, { old: true, v2: true, v4: true });
    })
  ];
}

// binaryScenarios (--binary): binary to-room from the 2.x and the 4.x
// client reach the other modern client as binary and the 0.9 client as
// base64 strings.
function binaryScenarios(label, ns) {
  function s(name, run) { return { name: label + '.' + name, run: run }; }
  return [
    s('binary-room', async function (m) {
      var c = await m.connectAll(ns);
      var r = m.room('r');
      var tok = m.token();
      for (var g of GENS) await c[g].call('join', r);
      m.obs.from = {};
      for (var from of ['v2', 'v4']) {
        var sentinel = m.token('s-' + from);
        c[from].emit('to-room', r, tok, from, Buffer.from([0xde, 0xad]), { b: Buffer.from('x'), n: 1 });
        c[from].emit('everyone', sentinel);
        var got = await collect(c, 'room', sentinel, tok);
        var mine = function (list) { return list.filter(function (x) { return x[1] === from; }); };
        m.obs.from[from] = { old: mine(got.old), v2: mine(got.v2), v4: mine(got.v4) };
        var bin = ['TOKEN', from, Buffer.from([0xde, 0xad]), { b: Buffer.from('x'), n: 1 }];
        m.expectSame('binary to-room from ' + from, m.obs.from[from], {
          old: [['TOKEN', from, '3q0=', { b: 'eA==', n: 1 }]], v2: [bin], v4: [bin] });
      }
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

function runOne(sc, urls, triple, timeoutMs) {
  var m = new Mixed3(urls, triple);
  var timer;
  var started = Date.now();
  var timeout = new Promise(function (resolve, reject) {
    timer = setTimeout(function () {
      reject(new Error('timeout after ' + timeoutMs + 'ms while ' + m.where()));
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
    var result = { scenario: sc.name, transport: triple, pass: errors.length === 0,
      observed: v4.canonical(m.obs), error: errors.join('; ') };
    line(result);
    process.stderr.write('[' + triple + '] ' + sc.name + ': ' + (result.pass ? 'ok' : 'FAIL ' + result.error) +
      ' (' + (Date.now() - started) + 'ms)\n');
    return new Promise(function (resolve) { setTimeout(resolve, 20); });
  });
}

function main() {
  var opts = parseArgs(process.argv.slice(2));
  if (opts.binary) scenarios = withBinary;
  if (opts.list) {
    line({ scenarios: scenarios.map(function (s) { return s.name; }), triples: DEFAULT_TRIPLES });
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
  opts.triples.forEach(function (triple) {
    list.forEach(function (sc) {
      p = p.then(function () {
        var left = deadline - Date.now();
        if (left < 200) {
          line({ scenario: sc.name, transport: triple, pass: false, observed: {},
            error: 'not run: the run budget of ' + opts.budgetMs + 'ms was used up' });
          return null;
        }
        return runOne(sc, { old: opts.url, v2: opts.urlV2, v4: opts.urlV4 }, triple,
          Math.min(opts.timeoutMs, left));
      });
    });
  });
  return p;
}

process.on('uncaughtException', function (err) {
  process.stderr.write('mixed3-scenarios: uncaught exception: ' + (err && err.stack || err) + '\n');
});

main().then(function () {
  process.stdout.write('', function () { process.exit(0); });
}, function (err) {
  process.stderr.write('mixed3-scenarios: ' + (err && err.stack || err) + '\n');
  process.exit(1);
});
