#!/usr/bin/env node
// cluster-ops.js — the testapp rows "Cluster-wide operations" (TESTAPP.md:
// to-id, kick-id, fetch, poll-room) with clients of the three
// generations: socket.io-client@0.9.16 (scenarios.js's Context),
// socket.io-client@2.5.0 (scenarios2.js's) and socket.io-client@4.8
// (scenarios4.js's), against one testapp or several nodes of a cluster.
//
//   node cluster-ops.js --urls http://127.0.0.1:A[,http://127.0.0.1:B,...]
//       [--triples websocket+websocket+websocket,...] [--only name1,name2]
//       [--gens old,v2,v4|v2,v4] [--timeout-ms 30000] [--budget-ms 240000]
//   node cluster-ops.js --list
//
// --gens v2,v4 leaves the 0.9 clients out (the 0.9 transport of a triple
// is then unused): the modern clients alone, which the Node.js reference
// (reftestapp4.js, socket.io@4.8) serves too, for a differential run.
//
// Clients are placed on the nodes by index (node i is urls[i % n]): the
// 0.9 client of a scenario on node 0, the 2.x client on node 1, the 4.x
// client on node 2, and the extra clients so that with three nodes every
// operation crosses nodes (a sender and its target are never on the same
// node, but for a client's to-id to itself); with one URL everything runs
// on one node.
//
// A triple is OLD+V2+V4, the transports of the 0.9 (websocket,
// xhr-polling), 2.x (run-scenarios2.js's) and 4.x (run-scenarios4.js's)
// clients. Default: DEFAULT_TRIPLES.
//
// stdout: one JSON line per (triple, scenario), as run-scenarios.js:
//   {"scenario":NAME,"transport":"OLD+V2+V4","pass":BOOL,"observed":OBJ,"error":STR}
// observed names sockets by their labels, not their ids. Exit 0 when the
// harness ran (even with failures), 1 when it broke, 2 on bad usage.
'use strict';

var old = require('./scenarios');
var v2 = require('./scenarios2');
var v4 = require('./scenarios4');

var OLD_TRANSPORTS = ['websocket', 'xhr-polling'];

var DEFAULT_TRIPLES = [
  'websocket+websocket+websocket',
  'xhr-polling+polling+upgrade'
];

// POLL_MS is how long the poll-room scenarios let the server wait when a
// receiver never answers; QUICK_MS the bound of a poll every receiver
// answers (its ack must come before it). The other nodes answer a fifth
// of POLL_MS before it (sioredis' ack margin): at 1500 ms that was 300
// ms, and at load 24 on 2 cores one node's answer came later than that
// (its silent member was in neither list); at 2500 ms it is 500 ms.
var POLL_MS = 2500;
var QUICK_MS = 8000;

// The eventual reads (Ops.settle) are retried for up to SETTLE_MS.
var SETTLE_MS = 5000;

function usage(msg) {
  process.stderr.write('cluster-ops: ' + msg + '\n' +
    'usage: node cluster-ops.js --urls http://HOST:PORT[,...] [--triples OLD+V2+V4,...] [--only a,b] ' +
    '[--gens old,v2,v4|v2,v4] [--timeout-ms N] [--budget-ms N] | --list\n');
  process.exit(2);
}

function known(triple) {
  var t = triple.split('+');
  return t.length === 3 && OLD_TRANSPORTS.indexOf(t[0]) >= 0 &&
    v2.transports.indexOf(t[1]) >= 0 && v4.transports.indexOf(t[2]) >= 0;
}

function parseArgs(argv) {
  var o = { urls: [], gens: ALL_GENS, triples: DEFAULT_TRIPLES, only: null, timeoutMs: 30000, budgetMs: 240000,
    list: false };
  for (var i = 0; i < argv.length; i++) {
    var m = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) usage('unexpected argument ' + argv[i]);
    var key = m[1];
    if (key === 'list') { o.list = true; continue; }
    var v = m[2];
    if (v === undefined) {
      if (i + 1 >= argv.length) usage('missing value for ' + argv[i]);
      v = argv[++i];
    }
    var list = v.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    switch (key) {
      case 'urls': o.urls = list; break;
      case 'gens': o.gens = list; break;
      case 'triples': o.triples = list; break;
      case 'only': o.only = list; break;
      case 'timeout-ms': o.timeoutMs = Number(v); break;
      case 'budget-ms': o.budgetMs = Number(v); break;
      default: usage('unknown flag --' + key);
    }
  }
  if (o.list) return o;
  if (o.urls.length === 0) usage('--urls is required');
  if (!(o.gens.length === 3 && o.gens.join() === ALL_GENS.join() || o.gens.join() === 'v2,v4')) {
    usage('--gens must be old,v2,v4 or v2,v4');
  }
  o.urls.forEach(function (u) {
    if (!/^https?:\/\/[^\/]+\/?$/.test(u)) usage('--urls must be http://HOST:PORT,...');
  });
  o.triples.forEach(function (t) { if (!known(t)) usage('unknown triple ' + t); });
  if (!(o.timeoutMs > 0) || !(o.budgetMs > 0)) usage('--timeout-ms and --budget-ms must be positive');
  return o;
}

function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

function show(v) { return JSON.stringify(v4.canonical(v)); }

// ---------------------------------------------------------------------------
// Ops: the contexts of one scenario run, one per (generation, node), made
// as clients are opened.

// ALL_GENS are the generations; GENS those of this run (--gens).
var ALL_GENS = ['old', 'v2', 'v4'];
var GENS = ALL_GENS;
var GEN_LABEL = { old: '0.9', v2: '2.x', v4: '4.x' };

function Ops(urls, triple) {
  var t = triple.split('+');
  this.urls = urls;
  this.transports = { old: t[0], v2: t[1], v4: t[2] };
  this.contexts = {};
  this.obs = {};
  this.errors = [];
  this.names = {}; // socket id -> label, for the observation
  this.run = process.pid.toString(36) + '-' + (Date.now() % 1e6).toString(36) + '-' + (++Ops.runs);
}
Ops.runs = 0;

Ops.prototype.context = function (gen, node) {
  var key = gen + '@' + (node % this.urls.length);
  if (!this.contexts[key]) {
    var mod = gen === 'old' ? old : gen === 'v2' ? v2 : v4;
    this.contexts[key] = new mod.Context({ url: this.urls[node % this.urls.length], transport: this.transports[gen] });
  }
  return this.contexts[key];
};

Ops.prototype.where = function () {
  var self = this;
  return Object.keys(this.contexts).map(function (k) { return k + ': ' + self.contexts[k].where; }).join(' / ');
};

Ops.prototype.check = function (cond, msg) {
  if (!cond) this.errors.push(msg);
  return !!cond;
};

Ops.prototype.expectSame = function (what, got, want) {
  var g = show(got);
  var w = show(want);
  return this.check(g === w, what + ': got ' + g + ', want ' + w);
};

// (The '.' keeps a room name from ever looking like a socket id.)
Ops.prototype.room = function (l) { return l + '.ops-' + this.run; };
Ops.prototype.token = function (l) { return 'tok-' + (l || '') + '-ops-' + this.run; };

// connect opens a client of generation gen on node to namespace ns ('' or
// '/chat'), labelled label; its id is recorded under the label.
Ops.prototype.connect = async function (gen, node, ns, label) {
  var nsName = gen === 'old' ? ns : (ns === '' ? '/' : ns);
  var c = await this.context(gen, node).connect(nsName, { label: label });
  c.gen = gen;
  this.names[c.sid()] = label;
  return c;
};

// connectAll opens one client per generation to ns, generation i of
// ALL_GENS on node i + shift, labelled prefix-0.9, prefix-2.x, prefix-4.x:
// {old, v2, v4} (the generations of the run).
Ops.prototype.connectAll = async function (ns, prefix, shift) {
  var out = {};
  for (var g of GENS) {
    out[g] = await this.connect(g, ALL_GENS.indexOf(g) + (shift || 0), ns, prefix + '-' + GEN_LABEL[g]);
  }
  return out;
};

// each returns {gen: f(gen)} for the generations of the run.
function each(f) {
  var out = {};
  GENS.forEach(function (g) { out[g] = typeof f === 'function' ? f(g) : f; });
  return out;
}

// name maps a socket id (or a list of them) to its label.
Ops.prototype.name = function (v) {
  var self = this;
  if (Array.isArray(v)) return v.map(function (x) { return self.name(x); });
  return typeof v === 'string' && this.names[v] ? this.names[v] : v;
};

// labels maps an ack [ids] to the sorted labels of those sockets, for a
// deterministic observation.
Ops.prototype.labels = function (ack) {
  return ack.length === 1 && Array.isArray(ack[0]) ? this.name(ack[0]).slice().sort() : ack;
};

// settle calls c's event name with args until the ack is want (or
// SETTLE_MS have passed) and returns the last ack: across nodes a join, a
// leave or a disconnect reaches the other nodes' view a moment later, and
// even on one node a client's close reaches the server a moment later.
Ops.prototype.settle = async function (c, want, name) {
  var args = Array.prototype.slice.call(arguments, 3);
  var got = await c.call.apply(c, [name].concat(args));
  var until = Date.now() + SETTLE_MS;
  while (show(got) !== show(want) && Date.now() < until) {
    await sleep(25);
    got = await c.call.apply(c, [name].concat(args));
  }
  return got;
};

Ops.prototype.errorsAll = function () {
  var out = this.errors.slice();
  for (var k of Object.keys(this.contexts)) out = out.concat(this.contexts[k].errors);
  return out;
};

Ops.prototype.cleanup = function () {
  for (var k of Object.keys(this.contexts)) this.contexts[k].cleanup();
};

// answerQ makes client c answer every "q" with answer.
function answerQ(c, answer) {
  var sock = c.gen === 'old' ? c.ns : c.s;
  sock.on('q', function () {
    var fn = arguments[arguments.length - 1];
    if (typeof fn === 'function') fn(answer);
  });
}

// asked reports whether client c got a "q" that asked for an ack.
function asked(c) {
  return c.log.some(function (e) { return e.name === 'q' && e.ack; });
}

// kickReason is the disconnect a kicked client of generation gen sees in
// namespace ns (a 0.9 client kicked from another namespace than the
// default one has no reason; TESTAPP.md "kick").
function kickReason(gen, ns) {
  if (gen !== 'old') return ['disconnect', 'io server disconnect'];
  return ns === '' ? ['disconnect', 'booted'] : ['disconnect', null];
}

// An id of the socket-id format that no socket has.
var NO_SUCH_ID = 'AAAAAAAAAAAAAAAAAAAA';

// ---------------------------------------------------------------------------
// Scenarios.

function opsScenarios(label, ns) {
  function s(name, run) { return { name: label + '.' + name, run: run }; }
  var otherNs = ns === '' ? '/chat' : '';
  return [
    // to-id from each generation to each (itself included), across nodes:
    // ack true, the target alone gets "direct" with the args; ack false
    // for an unknown id, a room's name, a socket of another namespace and
    // a socket that has gone.
    s('to-id', async function (m) {
      var c = await m.connectAll(ns, 'c');
      var tok = m.token();
      m.obs.acks = {};
      for (var from of GENS) {
        m.obs.acks[from] = {};
        for (var to of GENS) {
          m.obs.acks[from][to] = await c[from].call('to-id', c[to].sid(), tok, 'from-' + from, { n: 1, s: '😀' });
        }
      }
      var want = {};
      GENS.forEach(function (f) { want[f] = each([true]); });
      m.expectSame('acks', m.obs.acks, want);
      m.obs.direct = {};
      for (var g of GENS) {
        await c[g].nth('direct', GENS.length);
        // (a round trip through every sender's node: a stray direct
        // would have come by now)
        for (var f of GENS) await c[f].call('echo', 'sync');
        m.obs.direct[g] = c[g].all('direct').filter(function (x) { return x[0] === tok; })
          .map(function (x) { return ['TOKEN'].concat(x.slice(1)); })
          .sort(function (a, b) { return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0; });
      }
      var all = GENS.map(function (f) { return ['TOKEN', 'from-' + f, { n: 1, s: '😀' }]; });
      m.expectSame('direct', m.obs.direct, each(all));

      // Not sockets of this namespace.
      var elsewhere = await m.connect('v4', 2, otherNs, 'elsewhere-4.x');
      m.obs.unknown = {
        noSuchID: await c[GENS[0]].call('to-id', NO_SUCH_ID, tok, 'x'),
        roomName: await c.v2.call('to-id', m.room('r'), tok, 'x'),
        otherNamespace: await c.v4.call('to-id', elsewhere.sid(), tok, 'x'),
        missingID: await c.v4.call('to-id')
      };
      m.expectSame('unknown ids', m.obs.unknown,
        { noSuchID: [false], roomName: [false], otherNamespace: [false], missingID: [false] });
      // A socket that has gone: false once its node's view has reached
      // the sender's.
      var gone = await m.connect('v2', 2, ns, 'gone-2.x');
      var goneID = gone.sid(); // (a closed client has no id)
      m.obs.beforeGone = await m.settle(c[GENS[0]], [true], 'to-id', goneID, tok, 'before');
      gone.close();
      m.obs.afterGone = await m.settle(c[GENS[0]], [false], 'to-id', goneID, tok, 'after');
      m.expectSame('to-id before and after the target left', [m.obs.beforeGone, m.obs.afterGone], [[true], [false]]);
    }),

    // Binary arguments of to-id from a modern client: binary for the
    // modern targets, base64 strings for the 0.9 one.
    s('to-id-binary', async function (m) {
      var c = await m.connectAll(ns, 'c');
      var tok = m.token();
      m.obs.from = {};
      for (var from of ['v2', 'v4']) {
        m.obs.from[from] = {};
        for (var to of GENS) {
          var ack = await c[from].call('to-id', c[to].sid(), tok, 'bin-' + from, Buffer.from([0xde, 0xad]),
            { b: Buffer.from('x'), n: 1 });
          var got = await c[to].next('direct', function (x) { return x[0] === tok && x[1] === 'bin-' + from; });
          m.obs.from[from][to] = { ack: ack, direct: ['TOKEN'].concat(got.slice(1)) };
        }
        var bin = ['TOKEN', 'bin-' + from, Buffer.from([0xde, 0xad]), { b: Buffer.from('x'), n: 1 }];
        m.expectSame('binary to-id from ' + from, m.obs.from[from], each(function (g) {
          return g === 'old' ? { ack: [true], direct: ['TOKEN', 'bin-' + from, '3q0=', { b: 'eA==', n: 1 }] } :
            { ack: [true], direct: bin };
        }));
      }
    }),

    // kick-id of a client of each generation by a client of another, on
    // another node: ack true, the victim sees its disconnect, the kicker
    // and the bystanders stay; then ack false for the same id, an unknown
    // id and a socket of another namespace.
    s('kick-id', async function (m) {
      var kickers = await m.connectAll(ns, 'kicker');
      var victims = await m.connectAll(ns, 'victim', 1);
      // (A 4.x client: a 0.9 or 2.x session is in the default namespace
      // too, whichever namespace it connects.)
      var elsewhere = await m.connect('v4', 1, otherNs, 'elsewhere-4.x');
      m.obs.kicks = {};
      for (var i = 0; i < GENS.length; i++) {
        var g = GENS[i];
        // (victim i is on node i + 1, kicker i + 2 on node i + 2)
        var kicker = kickers[GENS[(i + 2) % GENS.length]];
        var victim = victims[g];
        var id = victim.sid();
        var ack = await kicker.call('kick-id', id);
        await victim.next('disconnect');
        await sleep(50); // anything reported after the disconnect
        var again = await m.settle(kicker, [false], 'kick-id', id);
        m.obs.kicks[g] = { by: kicker.label, ack: ack, lifecycle: victim.lifecycle(), again: again };
        m.expectSame('kick-id of the ' + GEN_LABEL[g] + ' client', m.obs.kicks[g],
          { by: kicker.label, ack: [true], lifecycle: [['connect'], kickReason(g, ns)], again: [false] });
      }
      m.obs.unknown = {
        noSuchID: await kickers.v2.call('kick-id', NO_SUCH_ID),
        otherNamespace: await kickers.v4.call('kick-id', elsewhere.sid()),
        otherNamespaceStillConnected: (await elsewhere.call('echo', 'here'))
      };
      m.expectSame('kick-id of no socket of this namespace', m.obs.unknown,
        { noSuchID: [false], otherNamespace: [false], otherNamespaceStillConnected: ['here'] });
      m.obs.kickersEcho = {};
      for (var k of GENS) m.obs.kickersEcho[k] = await kickers[k].call('echo', 'still');
      m.expectSame('kickers still connected', m.obs.kickersEcho, each(['still']));
    }),

    // fetch from every generation (and from a client outside the room)
    // lists the sorted ids of every member on every node; after a leave
    // and a disconnect, without them.
    s('fetch', async function (m) {
      var a = await m.connectAll(ns, 'a');
      var b = await m.connectAll(ns, 'b', 1);
      var outsider = await m.connect('v4', 0, ns, 'outsider-4.x');
      var r = m.room('r');
      var members = [];
      for (var g of GENS) {
        m.check(show(await a[g].call('join', r)) === '[true]', 'join of ' + a[g].label);
        m.check(show(await b[g].call('join', r)) === '[true]', 'join of ' + b[g].label);
        members.push(a[g], b[g]);
      }
      var want = members.map(function (x) { return x.sid(); }).sort();
      m.obs.fetch = {};
      var askers = GENS.map(function (g) { return a[g]; }).concat([outsider]);
      for (var x of askers) {
        var got = await m.settle(x, [want], 'fetch', r);
        m.check(show(got) === show([want]), 'fetch by ' + x.label + ': got ' + show(got) + ', want ' + show([want]));
        m.obs.fetch[x.label] = m.labels(got);
      }
      // (ids first: a closed 4.x client has none)
      var leaver = b.v2.sid();
      var closed = b.v4.sid();
      var left = want.filter(function (id) { return id !== leaver && id !== closed; });
      await b.v2.call('leave', r);
      b.v4.close();
      var after = await m.settle(a[GENS[0]], [left], 'fetch', r);
      m.obs.afterLeave = m.labels(after);
      m.expectSame('fetch after a leave and a disconnect', after, [left]);
      m.obs.empty = await a.v4.call('fetch', m.room('empty'));
      m.expectSame('fetch of an empty room', m.obs.empty, [[]]);
    }),

    // poll-room from every generation: the members of each generation on
    // every node answer "q" with their generation's name; three silent
    // members (one per generation) never do. After POLL_MS the sender's
    // ack has every answer, its own included, and the silent members'
    // ids; a poll every receiver answers comes back before QUICK_MS with
    // none missing.
    s('poll-room', async function (m) {
      var talk = await m.connectAll(ns, 'talk');
      var silent = await m.connectAll(ns, 'silent', 1);
      var r = m.room('r');
      var quick = m.room('quick');
      for (var g of GENS) {
        answerQ(talk[g], 'ans-' + GEN_LABEL[g]);
        await talk[g].call('join', r);
        await talk[g].call('join', quick);
        await silent[g].call('join', r);
      }
      var ids = [];
      GENS.forEach(function (k) { ids.push(talk[k].sid(), silent[k].sid()); });
      for (var k of GENS) await m.settle(talk[k], [ids.sort()], 'fetch', r);
      var answers = GENS.map(function (g) { return 'ans-' + GEN_LABEL[g]; }).sort();
      var missing = GENS.map(function (k) { return silent[k].sid(); }).sort();
      m.obs.polls = {};
      for (var from of GENS) {
        var t0 = Date.now();
        var ack = await talk[from].call('poll-room', r, POLL_MS);
        var took = Date.now() - t0;
        m.check(took >= POLL_MS - 50, 'poll-room by ' + GEN_LABEL[from] + ' acked after ' + took + 'ms, before ' + POLL_MS + 'ms');
        m.obs.polls[from] = ack.length === 1 && ack[0] ? { answers: ack[0].answers, missing: m.labels([ack[0].missing]) } : ack;
        m.expectSame('poll-room by ' + GEN_LABEL[from], ack, [{ answers: answers, missing: missing }]);
      }
      m.obs.silentAsked = {};
      GENS.forEach(function (k) { m.obs.silentAsked[k] = asked(silent[k]); });
      m.expectSame('the silent members were asked', m.obs.silentAsked, each(true));
      var talkers = [GENS.map(function (k) { return talk[k].sid(); }).sort()];
      for (var q of GENS) await m.settle(talk[q], talkers, 'fetch', quick);
      for (var f of GENS) {
        var s0 = Date.now();
        var all = await talk[f].call('poll-room', quick, QUICK_MS);
        var ms = Date.now() - s0;
        m.check(ms < QUICK_MS - 500, 'poll-room of a room that all answer by ' + GEN_LABEL[f] + ' took ' + ms + 'ms');
        m.obs['quick-' + f] = all;
        m.expectSame('poll-room of a room that all answer by ' + GEN_LABEL[f], all, [{ answers: answers, missing: [] }]);
      }
      m.obs.empty = await talk.v2.call('poll-room', m.room('empty'), QUICK_MS);
      m.expectSame('poll-room of an empty room', m.obs.empty, [{ answers: [], missing: [] }]);
    })
  ];
}

var scenarios = opsScenarios('default', '').concat(opsScenarios('chat', '/chat'));

// ---------------------------------------------------------------------------
// Runner.

function line(obj) {
  var s = JSON.stringify(obj).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  process.stdout.write(s + '\n');
}

function runOne(sc, urls, triple, timeoutMs) {
  var m = new Ops(urls, triple);
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
    return sleep(20);
  });
}

function main() {
  var opts = parseArgs(process.argv.slice(2));
  GENS = opts.gens;
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
        return runOne(sc, opts.urls, triple, Math.min(opts.timeoutMs, left));
      });
    });
  });
  return p;
}

process.on('uncaughtException', function (err) {
  process.stderr.write('cluster-ops: uncaught exception: ' + (err && err.stack || err) + '\n');
});

main().then(function () {
  process.stdout.write('', function () { process.exit(0); });
}, function (err) {
  process.stderr.write('cluster-ops: ' + (err && err.stack || err) + '\n');
  process.exit(1);
});
