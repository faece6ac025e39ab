#!/usr/bin/env node
// cluster.js — cross-node scenarios with the real socket.io-client@0.9.16
// against several testapp nodes sharing one Redis (examples/testapp -redis;
// internal/clustertest runs it). Each client connects straight to one node,
// so every delivery checked here crosses nodes through Redis.
//
//   node cluster.js --urls http://127.0.0.1:P1,http://127.0.0.1:P2[,...]
//       --transport websocket|xhr-polling
//       [--only name1,name2] [--timeout-ms 10000] [--events 1000]
//
// stdout: exactly one JSON line per scenario, as run-scenarios.js prints
// them: {"scenario":NAME,"transport":T,"pass":BOOL,"observed":OBJ,"error":STR}.
// Logs (with each scenario's duration) go to stderr. Exit status 0 even when
// scenarios fail; 1 only when the harness breaks.
//
// Scenarios (TESTAPP events join, to-room, broadcast-room, everyone, count):
//   room-emit          to-room from node 1 reaches the members on nodes 2
//                      and 3, not the sender nor an outsider on node 2
//   broadcast-except   broadcast-room reaches every member on every node but
//                      the sender (a member too), including one on its node
//   emit-to-id         to-room with a socket id of node 3 as the room reaches
//                      that socket only
//   count              count(room) is cluster-wide, and drops when a member
//                      on another node disconnects
//   ordering           --events to-room events from one sender on node 1
//                      reach members on nodes 2 and 3 complete and in order
//
// "Nothing else arrived" is checked with a sentinel: after the emit under
// test the sender emits "everyone" with a marker; emits of one sender reach
// every node in order, so whatever the emit sent a client arrives before it.
// With sharded channels on a Redis Cluster that order holds per channel
// only (a room's, the namespace's): the members of a room are checked
// against a later room emit of the sender (roomBarrier) instead.
'use strict';

var lib = require('./scenarios');

function usage(msg) {
  process.stderr.write('cluster: ' + msg + '\n' +
    'usage: node cluster.js --urls URL1,URL2[,...] --transport T ' +
    '[--only a,b] [--timeout-ms N] [--events N]\n');
  process.exit(1);
}

function parseArgs(argv) {
  var o = { urls: [], transport: '', only: null, timeoutMs: 10000, events: 1000 };
  for (var i = 0; i < argv.length; i++) {
    var m = /^--?([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) usage('unexpected argument ' + argv[i]);
    var v = m[2];
    if (v === undefined) {
      if (i + 1 >= argv.length) usage('missing value for ' + argv[i]);
      v = argv[++i];
    }
    switch (m[1]) {
      case 'urls': o.urls = v.split(',').filter(Boolean); break;
      case 'transport': o.transport = v; break;
      case 'only': o.only = v.split(',').filter(Boolean); break;
      case 'timeout-ms': o.timeoutMs = Number(v); break;
      case 'events': o.events = Number(v); break;
      default: usage('unknown flag --' + m[1]);
    }
  }
  if (o.urls.length < 2) usage('--urls needs at least two nodes');
  o.urls.forEach(function (u) {
    if (!/^https?:\/\/[^\/]+\/?$/.test(u)) usage('bad url ' + u);
  });
  if (o.transport !== 'websocket' && o.transport !== 'xhr-polling') usage('--transport must be websocket or xhr-polling');
  if (!(o.timeoutMs > 0) || !(o.events > 0)) usage('--timeout-ms and --events must be positive');
  return o;
}

function line(obj) {
  process.stdout.write(JSON.stringify(obj).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029') + '\n');
}

function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

// Env is one scenario run over several nodes: a scenarios.js Context per
// node (so clients, checks and cleanup work as in run-scenarios.js), with
// the checks and observations of the first one.
function Env(opts) {
  this.opts = opts;
  this.ctxs = opts.urls.map(function (u) { return new lib.Context({ url: u, transport: opts.transport }); });
  this.main = this.ctxs[0];
  this.obs = this.main.obs;
}

// node returns the context of node i (modulo the number of nodes).
Env.prototype.node = function (i) { return this.ctxs[i % this.ctxs.length]; };

// connect opens a client (default namespace) on node i and waits for it.
Env.prototype.connect = function (i, label) {
  var ctx = this.node(i);
  var self = this;
  return ctx.connect('', { label: label + '@node' + (i % this.ctxs.length + 1) }).then(function (c) {
    c.ctx = self.main; // checks and steps go to the main context
    return c;
  });
};

Env.prototype.room = function (l) { return this.main.room(l); };
Env.prototype.token = function (l) { return this.main.token(l); };
Env.prototype.expectSame = function (what, got, want) { return this.main.expectSame(what, got, want); };
Env.prototype.check = function (cond, msg) { return this.main.check(cond, msg); };
Env.prototype.step = function (d) { this.main.step(d); };

// until polls f (async, resolving to a value) every 50 ms until pred(value).
Env.prototype.until = async function (desc, f, pred) {
  this.step(desc);
  for (;;) {
    var v = await f();
    if (pred(v)) return v;
    await sleep(50);
  }
};

Env.prototype.cleanup = function () {
  this.ctxs.forEach(function (c) { c.cleanup(); });
};

Env.prototype.errors = function () {
  return this.ctxs.reduce(function (all, c) { return all.concat(c.errors); }, []);
};

async function joinAll(env, room, clients) {
  for (var i = 0; i < clients.length; i++) {
    env.expectSame(clients[i].label + ' join ack', await clients[i].call('join', room), [true]);
  }
}

// roomBarrier makes sender emit "to-room" to room with a fresh marker and
// waits until every member got it; returns the marker. A broadcast to one
// room travels on that room's channel with sharded channels, and "everyone"
// on the namespace's: on a Redis Cluster the two may live on different
// masters, with no order between them (sioredis' "Ordering"), so what a
// room emit sent a member is known to have arrived once a later room emit
// of the same sender to the same room did, not once "everyone" did.
async function roomBarrier(env, sender, room, members) {
  var end = env.token('room-end');
  sender.emit('to-room', room, end);
  await Promise.all(members.map(function (c) { return c.tagged('room', end); }));
  return end;
}

// sentinel makes sender emit "everyone" with a fresh marker and waits until
// every client got it; returns the marker.
async function sentinel(env, sender, clients) {
  var end = env.token('end');
  sender.emit('everyone', end);
  await Promise.all(clients.map(function (c) { return c.tagged('everyone', end); }));
  return end;
}

var scenarios = [
  { name: 'room-emit', run: async function (env) {
    var a = await env.connect(0, 'sender');
    var b = await env.connect(1, 'member');
    var c = await env.connect(2, 'member2');
    var o = await env.connect(1, 'outsider');
    var r = env.room('r'), tok = env.token();
    await joinAll(env, r, [b, c]);
    a.emit('to-room', r, tok, 'x', { n: 1 });
    var rend = await roomBarrier(env, a, r, [b, c]);
    var end = await sentinel(env, a, [a, b, c, o]);
    var want = [['TOKEN', 'x', { n: 1 }]];
    env.obs.member = b.before('room', 'room', rend, tok);
    env.expectSame('member on node 2', env.obs.member, want);
    env.expectSame('member on node 3', c.before('room', 'room', rend, tok), want);
    env.expectSame('sender (not a member)', a.before('room', 'everyone', end, tok), []);
    env.expectSame('outsider on node 2', o.before('room', 'everyone', end, tok), []);
  } },

  { name: 'broadcast-except', run: async function (env) {
    var a = await env.connect(0, 'sender');
    var a2 = await env.connect(0, 'neighbour');
    var b = await env.connect(1, 'member');
    var c = await env.connect(2, 'member2');
    var r = env.room('r'), tok = env.token();
    await joinAll(env, r, [a, a2, b, c]);
    a.emit('broadcast-room', r, tok, [1, 'two']);
    var rend = await roomBarrier(env, a, r, [a, a2, b, c]);
    var end = await sentinel(env, a, [a, a2, b, c]);
    var want = [['TOKEN', [1, 'two']]];
    env.obs.member = b.before('room', 'room', rend, tok);
    env.expectSame('member on node 2', env.obs.member, want);
    env.expectSame('member on node 3', c.before('room', 'room', rend, tok), want);
    env.expectSame('member on the sender\'s node', a2.before('room', 'room', rend, tok), want);
    env.expectSame('sender', a.before('room', 'everyone', end, tok), []);
  } },

  { name: 'emit-to-id', run: async function (env) {
    var a = await env.connect(0, 'sender');
    var b = await env.connect(1, 'bystander');
    var c = await env.connect(2, 'target');
    var id = c.sid(), tok = env.token();
    a.emit('to-room', id, tok, 'direct');
    var end = await sentinel(env, a, [a, b, c]);
    env.obs.target = c.before('room', 'everyone', end, tok);
    env.expectSame('target on node 3', env.obs.target, [['TOKEN', 'direct']]);
    env.expectSame('bystander', b.before('room', 'everyone', end, tok), []);
    env.expectSame('sender', a.before('room', 'everyone', end, tok), []);
  } },

  { name: 'count', run: async function (env) {
    var a = await env.connect(0, 'a');
    var b = await env.connect(1, 'b');
    var c = await env.connect(2, 'c');
    var r = env.room('r');
    await joinAll(env, r, [a, b, c]);
    var n = 3;
    for (let x of [a, b, c]) {
      await env.until(x.label + ': count of the room reaches ' + n, function () { return x.call('count', r); },
        function (v) { return v[0] === n; });
    }
    env.obs.full = n;
    c.close();
    for (let y of [a, b]) {
      await env.until(y.label + ': count drops to 2 after a member on another node left',
        function () { return y.call('count', r); }, function (v) { return v[0] === 2; });
    }
    env.obs.afterLeave = 2;
  } },

  { name: 'ordering', events: true, run: async function (env) {
    var a = await env.connect(0, 'sender');
    var b = await env.connect(1, 'receiver');
    var c = await env.connect(2, 'receiver2');
    var r = env.room('seq'), tok = env.token(), n = env.opts.events;
    await joinAll(env, r, [b, c]);
    var started = Date.now();
    for (var i = 0; i < n; i++) {
      a.emit('to-room', r, tok, i);
      if (i % 100 === 99) await sleep(1); // let the transport flush
    }
    var want = [];
    for (var k = 0; k < n; k++) want.push(k);
    for (let x of [b, c]) {
      await x.nth('room', n);
      var got = x.all('room').filter(function (args) { return args[0] === tok; }).map(function (args) { return args[1]; });
      var firstBad = -1;
      for (var j = 0; j < Math.max(got.length, n); j++) {
        if (got[j] !== want[j]) { firstBad = j; break; }
      }
      env.check(firstBad < 0, x.label + ': ' + got.length + ' events, first out of order at ' + firstBad +
        ' (got ' + got[firstBad] + ')');
    }
    env.obs.events = n;
    process.stderr.write('[' + env.opts.transport + '] ordering: ' + n + ' events delivered to 2 nodes in ' +
      (Date.now() - started) + 'ms\n');
  } }
];

function runOne(sc, opts) {
  var env = new Env(opts);
  var timer;
  var started = Date.now();
  var limit = sc.events ? opts.timeoutMs * 3 : opts.timeoutMs;
  var timeout = new Promise(function (resolve, reject) {
    timer = setTimeout(function () {
      reject(new Error('timeout after ' + limit + 'ms while ' + env.main.where));
    }, limit);
  });
  var run = Promise.resolve().then(function () { return sc.run(env); });
  return Promise.race([run, timeout]).then(function () { return null; }, function (err) {
    return err && err.message ? err.message : String(err);
  }).then(function (fatal) {
    clearTimeout(timer);
    env.cleanup();
    var errors = env.errors();
    if (fatal) errors.unshift(fatal);
    var result = {
      scenario: sc.name,
      transport: opts.transport,
      pass: errors.length === 0,
      observed: lib.canonical(env.obs),
      error: errors.join('; ')
    };
    line(result);
    process.stderr.write('[' + opts.transport + '] ' + sc.name + ': ' +
      (result.pass ? 'ok' : 'FAIL ' + result.error) + ' (' + (Date.now() - started) + 'ms)\n');
    return sleep(20);
  });
}

process.on('uncaughtException', function (err) {
  process.stderr.write('cluster: uncaught exception: ' + (err && err.stack || err) + '\n');
});

var opts = parseArgs(process.argv.slice(2));
var list = scenarios;
if (opts.only) {
  list = scenarios.filter(function (s) { return opts.only.indexOf(s.name) >= 0; });
  if (list.length !== opts.only.length) usage('unknown scenario in --only');
}
list.reduce(function (p, sc) {
  return p.then(function () { return runOne(sc, opts); });
}, Promise.resolve()).then(function () {
  process.stdout.write('', function () { process.exit(0); });
}, function (err) {
  process.stderr.write('cluster: ' + (err && err.stack || err) + '\n');
  process.exit(1);
});
