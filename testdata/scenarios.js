// scenarios.js — client scenarios for the testapp contract
// (TESTAPP.md; examples/testapp), driven by the real socket.io-client@0.9.16.
//
// Each scenario is { name, run(ctx) }. run() fills ctx.obs with a
// normalized, deterministic observation (no session ids, timestamps or
// random room names) so that the observations of two servers — the Node
// reference (reftestapp.js) and siogo (examples/testapp) — can be compared
// for equality, and it records failed expectations with ctx.check(). A
// scenario that throws (or times out) fails with that error.
//
// The runner (run-scenarios.js) gives each scenario a fresh ctx, a timeout
// and a cleanup that disconnects every client the scenario opened.
'use strict';

var io = require('socket.io-client');

// ---------------------------------------------------------------------------
// Known deviations of the Node reference (socket.io@0.9.19) from the
// contract. Those scenarios keep asserting the correct behaviour and so fail
// against the reference; siogo is expected to pass them.

var referenceKnownFailures = [
  {
    scenario: 'default.echo-u2028-ack',
    transports: ['websocket', 'xhr-polling'],
    reason: 'the reference writes U+2028/U+2029 raw into ack packets; the 0.9.16 client ' +
      'parses acks with /^([0-9]+)(\\+)?(.*)/, "." stops at the line separator, JSON.parse ' +
      'fails and the ack callback is called with no arguments'
  },
  {
    scenario: 'chat.echo-u2028-ack',
    transports: ['websocket', 'xhr-polling'],
    reason: 'same as default.echo-u2028-ack'
  },
  {
    scenario: 'default.kick-immediate',
    transports: ['xhr-polling'],
    reason: 'a kick that arrives while no GET is held is not delivered (Transport#onForcedDisconnect ' +
      'writes 0:: only if the transport is open); the next GET gets 7:::1+0 and the client reports ' +
      'disconnect "booted" followed by error "client not handshaken"'
  }
];

// ---------------------------------------------------------------------------
// Helpers.

function slice(a, from) { return Array.prototype.slice.call(a, from || 0); }

// plain drops functions (ack callbacks) from an argument list.
function plain(args) {
  return slice(args).filter(function (a) { return typeof a !== 'function'; });
}

// canonical returns v with object keys sorted, recursively, so that
// JSON.stringify is deterministic; undefined becomes null.
function canonical(v) {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    var out = {};
    Object.keys(v).sort().forEach(function (k) { out[k] = canonical(v[k]); });
    return out;
  }
  return v;
}

function same(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function show(v) {
  return JSON.stringify(canonical(v));
}

function sleep(ms) {
  return new Promise(function (resolve) { setTimeout(resolve, ms); });
}

// The lifecycle events the client raises itself (as opposed to server events).
// "connecting" (published with the transport name before connect) is left
// out: it says nothing about the server.
var LIFECYCLE = ['connect', 'connect_failed', 'disconnect', 'error',
  'reconnect', 'reconnecting', 'reconnect_failed'];

// ---------------------------------------------------------------------------
// Client wraps one namespace socket (what io.connect returns) and records,
// in order, every event the client library raises on it.

function Client(ctx, nsp, label) {
  var self = this;
  this.ctx = ctx;
  this.ns = nsp;
  this.label = label;
  this.log = [];          // [{name, args, ack}] in arrival order
  this.waiters = [];      // functions re-run after each event
  var orig = nsp.$emit;
  nsp.$emit = function (name) {
    self.log.push({ name: name, args: plain(slice(arguments, 1)),
      ack: typeof arguments[arguments.length - 1] === 'function' && arguments.length > 1 });
    var r = orig.apply(this, arguments);
    self.poke();
    return r;
  };
}

Client.prototype.poke = function () {
  var ws = this.waiters.slice();
  for (var i = 0; i < ws.length; i++) ws[i]();
};

// sid is the session id (the server's socket.id).
Client.prototype.sid = function () { return this.ns.socket.sessionid; };

// waitFor resolves with cond()'s value as soon as it is truthy (checked now
// and after every event on this client). The scenario timeout bounds it.
Client.prototype.waitFor = function (desc, cond) {
  var self = this;
  this.ctx.step(this.label + ': ' + desc);
  return new Promise(function (resolve, reject) {
    function check() {
      var v;
      try { v = cond(); } catch (e) { done(); reject(e); return; }
      if (v) { done(); resolve(v); }
    }
    function done() {
      var i = self.waiters.indexOf(check);
      if (i >= 0) self.waiters.splice(i, 1);
    }
    self.waiters.push(check);
    check();
  });
};

// all returns the args of every received event called name.
Client.prototype.all = function (name) {
  return this.log.filter(function (e) { return e.name === name; })
    .map(function (e) { return e.args; });
};

// before returns the args of events called name received before the first
// event called sentinel whose first arg is sentinelArg; only events whose
// first arg is tok count, and tok is replaced by "TOKEN" in the result.
// (Scenarios tag namespace-wide emits with a per-run token so that parallel
// runs against the same server cannot see each other's events.)
Client.prototype.before = function (name, sentinel, sentinelArg, tok) {
  var out = [];
  for (var i = 0; i < this.log.length; i++) {
    var e = this.log[i];
    if (e.name === sentinel && e.args[0] === sentinelArg) break;
    if (e.name === name && e.args[0] === tok) out.push(['TOKEN'].concat(e.args.slice(1)));
  }
  return out;
};

// tagged waits for the first event called name whose first arg is tok and
// resolves with its args, tok replaced by "TOKEN".
Client.prototype.tagged = function (name, tok) {
  return this.next(name, function (args) { return args[0] === tok; })
    .then(function (args) { return ['TOKEN'].concat(args.slice(1)); });
};

// nth waits until at least n events called name arrived; resolves with the
// args of the n-th (1-based).
Client.prototype.nth = function (name, n) {
  var self = this;
  return this.waitFor('waiting for ' + n + ' x "' + name + '"', function () {
    var a = self.all(name);
    return a.length >= n ? { args: a[n - 1] } : null;
  }).then(function (r) { return r.args; });
};

// next waits for the first event called name (optionally whose args satisfy
// pred) and resolves with its args.
Client.prototype.next = function (name, pred) {
  var self = this;
  return this.waitFor('waiting for "' + name + '"', function () {
    var a = self.all(name);
    for (var i = 0; i < a.length; i++) {
      if (!pred || pred(a[i])) return { args: a[i] };
    }
    return null;
  }).then(function (r) { return r.args; });
};

// emit sends an event without an ack.
Client.prototype.emit = function () {
  this.ns.emit.apply(this.ns, arguments);
};

// call emits name(args...) asking for an ack; resolves with the ack args.
Client.prototype.call = function (name) {
  var self = this;
  var args = slice(arguments, 1);
  this.ctx.step(this.label + ': waiting for the ack of "' + name + '"');
  return new Promise(function (resolve) {
    self.ns.emit.apply(self.ns, [name].concat(args, [function () {
      resolve(slice(arguments));
    }]));
  });
};

// lifecycle returns the client lifecycle events seen so far, as
// [name, args...] lists.
Client.prototype.lifecycle = function () {
  return this.log.filter(function (e) { return LIFECYCLE.indexOf(e.name) >= 0; })
    .map(function (e) { return [e.name].concat(e.args); });
};

// close disconnects the whole client session. Never throws (the 0.9.16
// client throws from disconnect() after a refused handshake because it has
// no transport yet).
Client.prototype.close = function () {
  try { this.ns.socket.disconnect(); } catch (e) { /* see above */ }
};

// ---------------------------------------------------------------------------
// Context.

var runCounter = 0;

function Context(opts) {
  this.base = opts.url.replace(/\/+$/, '');
  this.transport = opts.transport;
  this.obs = {};
  this.errors = [];
  this.clients = [];
  this.where = 'starting';
  this.run = process.pid.toString(36) + '-' + (Date.now() % 1e6).toString(36) + '-' + (++runCounter);
}

Context.prototype.step = function (desc) { this.where = desc; };

// check records a failed expectation (the scenario goes on).
Context.prototype.check = function (cond, msg) {
  if (!cond) this.errors.push(msg);
  return !!cond;
};

// expectSame checks that got equals want (deep, key order ignored).
Context.prototype.expectSame = function (what, got, want) {
  return this.check(same(got, want), what + ': got ' + show(got) + ', want ' + show(want));
};

// room returns a room name unique to this scenario run; the observation
// uses the logical name.
Context.prototype.room = function (logical) {
  return logical + '-' + this.run;
};

// token returns a marker unique to this scenario run (see Client.before).
Context.prototype.token = function (logical) {
  return 'tok-' + (logical || '') + '-' + this.run;
};

// open creates a client for namespace ns ('' or '/chat'...) with its own
// session unless opts.force === false. opts.query is the URL query string.
Context.prototype.open = function (ns, opts) {
  opts = opts || {};
  var url = this.base + ns + (opts.query ? '?' + opts.query : '');
  var options = {
    transports: [this.transport],
    reconnect: false,
    'force new connection': opts.force !== false
  };
  var label = opts.label || ('client' + (this.clients.length + 1) + (ns || ''));
  // socket.io-client 0.9.16 bug: the Socket constructor deep-merges the
  // options into defaults whose "transports" is the shared io.transports
  // array, index by index, so {transports: ['xhr-polling']} becomes
  // ['xhr-polling', 'xhr-polling', 'websocket', 'xhr-polling'] (and
  // io.transports is overwritten with it). The client then intersects that
  // with the server's list in the *server's* order and picks websocket.
  // Making the shared default exactly [T] gives a client that really uses
  // only T; connect() verifies the transport in use.
  io.transports = [this.transport];
  var c = new Client(this, io.connect(url, options), label);
  this.clients.push(c);
  return c;
};

// connect is open() and waiting for the namespace's "connect"; it rejects on
// connect_failed / error / disconnect before that.
Context.prototype.connect = function (ns, opts) {
  var c = this.open(ns, opts);
  return c.waitFor('connecting', function () {
    for (var i = 0; i < c.log.length; i++) {
      var e = c.log[i];
      if (e.name === 'connect') {
        var t = c.ns.socket.transport && c.ns.socket.transport.name;
        if (t !== c.ctx.transport) {
          throw new Error(c.label + ': connected over ' + t + ', not ' + c.ctx.transport);
        }
        return true;
      }
      if (e.name === 'connect_failed' || e.name === 'error' || e.name === 'disconnect') {
        // (first line only: transport errors arrive as stack traces)
        var why = e.args.map(function (a) { return typeof a === 'string' ? a.split('\n')[0] : a; });
        throw new Error(c.label + ': ' + e.name + ' ' + show(why) + ' instead of connect');
      }
    }
    return false;
  }).then(function () { return c; });
};

Context.prototype.cleanup = function () {
  this.clients.forEach(function (c) { c.close(); });
};

// ---------------------------------------------------------------------------
// Scenarios run in every tested namespace ('' as "default", '/chat' as
// "chat"). Every row of TESTAPP.md "Events".

var UNICODE_ARGS = [
  '😀 grin',
  { nested: { emoji: '😀', deep: [1, { astral: '𝄞' }, null, true, 2.5] } },
  ['x', { y: 'é' }]
];
var U2028_ARGS = [
  'line\u2028sep',
  'para\u2029sep',
  { nested: { ls: '\u2028', list: ['😀\u2028\u2029', { closing: '</script>' }] } }
];

function namespaceScenarios(label, ns) {
  function s(name, run) { return { name: label + '.' + name, run: run }; }

  return [
    s('echo-ack', async function (ctx) {
      var a = await ctx.connect(ns);
      var sent = ['hello', 42, true, null, { a: [1, 'two', { three: 3 }] }];
      var ack = await a.call.apply(a, ['echo'].concat(sent));
      ctx.obs.ack = ack;
      ctx.expectSame('ack args', ack, sent);
      // With an ack the server must not also emit "echo": a later echo
      // without ack must be the first "echo" event.
      a.emit('echo', 'sentinel');
      await a.next('echo');
      ctx.obs.echoEvents = a.all('echo');
      ctx.expectSame('echo events', a.all('echo'), [['sentinel']]);
    }),

    s('echo-noack', async function (ctx) {
      var a = await ctx.connect(ns);
      var sent = ['hi', 2, { b: [false, null] }];
      a.emit.apply(a, ['echo'].concat(sent));
      var got = await a.next('echo');
      ctx.obs.event = got;
      ctx.expectSame('echo event args', got, sent);
      // An event without ack gets no ack packet: nothing else to see here,
      // but a second echo must come back as a separate event.
      a.emit('echo');
      var second = await a.nth('echo', 2);
      ctx.obs.emptyEvent = second;
      ctx.expectSame('echo with no args', second, []);
    }),

    s('echo-astral-ack', async function (ctx) {
      var a = await ctx.connect(ns);
      var ack = await a.call.apply(a, ['echo'].concat(UNICODE_ARGS));
      ctx.obs.ack = ack;
      ctx.expectSame('ack args', ack, UNICODE_ARGS);
    }),

    s('echo-u2028-ack', async function (ctx) {
      var a = await ctx.connect(ns);
      var ack = await a.call.apply(a, ['echo'].concat(U2028_ARGS));
      ctx.obs.ack = ack;
      ctx.expectSame('ack args', ack, U2028_ARGS);
    }),

    s('echo-unicode-event', async function (ctx) {
      var a = await ctx.connect(ns);
      var sent = UNICODE_ARGS.concat(U2028_ARGS);
      a.emit.apply(a, ['echo'].concat(sent));
      var got = await a.next('echo');
      ctx.obs.event = got;
      ctx.expectSame('echo event args', got, sent);
    }),

    s('message-json', async function (ctx) {
      var a = await ctx.connect(ns);
      // message (3) with a string comes back as a message.
      a.ns.send('plain text 😀');
      ctx.obs.message = (await a.nth('message', 1))[0];
      ctx.expectSame('message', ctx.obs.message, 'plain text 😀');
      // json (4) with an object comes back as json.
      var obj = { k: [1, 2, { v: 'w' }], u: '\u2028' };
      a.ns.json.send(obj);
      ctx.obs.json = (await a.nth('message', 2))[0];
      ctx.expectSame('json', ctx.obs.json, obj);
      // json with a number.
      a.ns.json.send(7);
      ctx.obs.jsonNumber = (await a.nth('message', 3))[0];
      ctx.expectSame('json number', ctx.obs.jsonNumber, 7);
    }),

    s('auto-ack-order', async function (ctx) {
      // A packet with an id but no '+' asks for an auto-ack ("3:N::",
      // "4:N::", "5:N::"; socket.send(data, fn) sends one): the server
      // answers it in the socket's order, after its replies to the packets
      // before, before this packet's own.
      var a = await ctx.connect(ns);
      var tok = ctx.token();
      var order = [];
      function mark(what) { order.push(what); a.poke(); }
      a.ns.on('message', function (m) { mark('reply ' + JSON.stringify(m)); });
      a.ns.on('echo', function (x) { if (x === tok) mark('echo'); });
      a.ns.send('m1');
      a.ns.send('n1', function () { mark('ack message'); });
      a.ns.send('m2');
      a.ns.json.send({ n: 2 }, function () { mark('ack json'); });
      a.ns.send('m3');
      // socket.io.js 0.9.16's emit always asks for data ('+'); an event
      // with an auto-ack id goes through its packet method.
      var id = ++a.ns.ackPackets;
      a.ns.acks[id] = function () { mark('ack event'); };
      a.ns.packet({ type: 'event', name: 'echo', args: [tok], id: id, ack: true });
      await a.waitFor('nine replies and acks', function () { return order.length >= 9; });
      ctx.obs.order = order;
      ctx.expectSame('order', order, ['reply "m1"', 'ack message', 'reply "n1"',
        'reply "m2"', 'ack json', 'reply {"n":2}', 'reply "m3"', 'ack event', 'echo']);
    }),

    s('join-leave', async function (ctx) {
      var a = await ctx.connect(ns);
      var r = ctx.room('r');
      ctx.obs.join = await a.call('join', r);
      ctx.expectSame('join ack', ctx.obs.join, [true]);
      ctx.obs.roomsAfterJoin = (await a.call('rooms'))[0].map(function (x) { return x === r ? 'r' : x; });
      ctx.obs.leave = await a.call('leave', r);
      ctx.expectSame('leave ack', ctx.obs.leave, [true]);
      ctx.obs.roomsAfterLeave = (await a.call('rooms'))[0];
      ctx.expectSame('rooms after join', ctx.obs.roomsAfterJoin, ['r']);
      ctx.expectSame('rooms after leave', ctx.obs.roomsAfterLeave, []);
    }),

    s('to-room', async function (ctx) {
      var a = await ctx.connect(ns, { label: 'sender' });
      var b = await ctx.connect(ns, { label: 'member' });
      var c = await ctx.connect(ns, { label: 'outsider' });
      var r = ctx.room('r');
      var tok = ctx.token();
      var sentinel = ctx.token('sentinel');
      await a.call('join', r);
      await b.call('join', r);
      a.emit('to-room', r, tok, 'x', { n: 1 });
      // "everyone" from the same sender is a sentinel: anything the
      // to-room emit sends to a client arrives before it.
      a.emit('everyone', sentinel);
      await a.next('everyone', function (x) { return x[0] === sentinel; });
      await b.next('everyone', function (x) { return x[0] === sentinel; });
      await c.next('everyone', function (x) { return x[0] === sentinel; });
      ctx.obs.sender = a.before('room', 'everyone', sentinel, tok);
      ctx.obs.member = b.before('room', 'everyone', sentinel, tok);
      ctx.obs.outsider = c.before('room', 'everyone', sentinel, tok);
      ctx.expectSame('sender got', ctx.obs.sender, [['TOKEN', 'x', { n: 1 }]]);
      ctx.expectSame('member got', ctx.obs.member, [['TOKEN', 'x', { n: 1 }]]);
      ctx.expectSame('outsider got', ctx.obs.outsider, []);
      // TESTAPP: the event is named "room", never after the room.
      ctx.expectSame('events named after the room', a.all(r).concat(b.all(r), c.all(r)), []);
    }),

    s('broadcast-room', async function (ctx) {
      var a = await ctx.connect(ns, { label: 'sender' });
      var b = await ctx.connect(ns, { label: 'member' });
      var c = await ctx.connect(ns, { label: 'outsider' });
      var r = ctx.room('r');
      var tok = ctx.token();
      var sentinel = ctx.token('sentinel');
      await a.call('join', r);
      await b.call('join', r);
      a.emit('broadcast-room', r, tok, 'y', [2]);
      a.emit('everyone', sentinel);
      await a.next('everyone', function (x) { return x[0] === sentinel; });
      await b.next('everyone', function (x) { return x[0] === sentinel; });
      await c.next('everyone', function (x) { return x[0] === sentinel; });
      ctx.obs.sender = a.before('room', 'everyone', sentinel, tok);
      ctx.obs.member = b.before('room', 'everyone', sentinel, tok);
      ctx.obs.outsider = c.before('room', 'everyone', sentinel, tok);
      ctx.expectSame('sender got', ctx.obs.sender, []);
      ctx.expectSame('member got', ctx.obs.member, [['TOKEN', 'y', [2]]]);
      ctx.expectSame('outsider got', ctx.obs.outsider, []);
      ctx.expectSame('events named after the room', a.all(r).concat(b.all(r), c.all(r)), []);
    }),

    s('broadcast', async function (ctx) {
      var a = await ctx.connect(ns, { label: 'sender' });
      var b = await ctx.connect(ns, { label: 'other1' });
      var c = await ctx.connect(ns, { label: 'other2' });
      var tok = ctx.token();
      var sentinel = ctx.token('sentinel');
      a.emit('broadcast', tok, 'z', 1);
      a.emit('everyone', sentinel);
      await a.next('everyone', function (x) { return x[0] === sentinel; });
      await b.next('everyone', function (x) { return x[0] === sentinel; });
      await c.next('everyone', function (x) { return x[0] === sentinel; });
      ctx.obs.sender = a.before('broadcast', 'everyone', sentinel, tok);
      ctx.obs.other1 = b.before('broadcast', 'everyone', sentinel, tok);
      ctx.obs.other2 = c.before('broadcast', 'everyone', sentinel, tok);
      ctx.expectSame('sender got', ctx.obs.sender, []);
      ctx.expectSame('other1 got', ctx.obs.other1, [['TOKEN', 'z', 1]]);
      ctx.expectSame('other2 got', ctx.obs.other2, [['TOKEN', 'z', 1]]);
    }),

    s('everyone', async function (ctx) {
      var a = await ctx.connect(ns, { label: 'sender' });
      var b = await ctx.connect(ns, { label: 'other' });
      var tok = ctx.token();
      a.emit('everyone', tok, 'e', { two: 2 });
      ctx.obs.sender = await a.tagged('everyone', tok);
      ctx.obs.other = await b.tagged('everyone', tok);
      ctx.expectSame('sender got', ctx.obs.sender, ['TOKEN', 'e', { two: 2 }]);
      ctx.expectSame('other got', ctx.obs.other, ['TOKEN', 'e', { two: 2 }]);
    }),

    s('ask', async function (ctx) {
      var a = await ctx.connect(ns);
      a.ns.on('question', function () {
        var ack = arguments[arguments.length - 1];
        if (typeof ack === 'function') ack('yes', { n: 1 }, '😀');
      });
      a.emit('ask', 'question', 1, 'two', { three: [3] });
      var answer = await a.next('answer');
      var q = a.log.filter(function (e) { return e.name === 'question'; })[0];
      ctx.obs.question = q.args;
      ctx.obs.questionWantsAck = q.ack;
      ctx.obs.answer = answer;
      ctx.expectSame('question args', q.args, [1, 'two', { three: [3] }]);
      ctx.check(q.ack, 'the server did not ask for an ack with data');
      ctx.expectSame('answer args', answer, ['yes', { n: 1 }, '😀']);
    }),

    // kick with the connection settled: on polling transports a GET is
    // being held when the kick arrives.
    s('kick', async function (ctx) {
      var a = await ctx.connect(ns);
      await a.call('echo', 'settle');
      await sleep(100);
      a.emit('kick');
      await a.next('disconnect');
      await sleep(50); // anything reported after the disconnect
      ctx.obs.lifecycle = a.lifecycle();
      ctx.obs.sessionConnected = !!a.ns.socket.connected;
      // Kicking the default namespace ends the session; kicking /chat only
      // leaves that namespace (the client's disconnect has no reason then).
      ctx.expectSame('session still connected', ctx.obs.sessionConnected, ns !== '');
      ctx.expectSame('lifecycle', ctx.obs.lifecycle,
        ns === '' ? [['connect'], ['disconnect', 'booted']] : [['connect'], ['disconnect', null]]);
    }),

    // kick sent the moment the connect packet is handled: on xhr-polling the
    // client posts it before it has re-issued its GET, so the kick usually
    // reaches the server between two polls. The server must still deliver
    // the disconnect packet on the next poll.
    s('kick-immediate', async function (ctx) {
      var a = ctx.open(ns);
      // Emitted synchronously from the connect handler, i.e. while the
      // client is still handling the poll response that carried the connect
      // packet and before it issues its next GET.
      a.ns.on('connect', function () { a.ns.emit('kick'); });
      await a.next('disconnect');
      await sleep(50);
      var t = a.ns.socket.transport && a.ns.socket.transport.name;
      if (t !== ctx.transport) throw new Error('connected over ' + t + ', not ' + ctx.transport);
      ctx.obs.lifecycle = a.lifecycle();
      ctx.obs.sessionConnected = !!a.ns.socket.connected;
      ctx.expectSame('session still connected', ctx.obs.sessionConnected, ns !== '');
      ctx.expectSame('lifecycle', ctx.obs.lifecycle,
        ns === '' ? [['connect'], ['disconnect', 'booted']] : [['connect'], ['disconnect', null]]);
    }),

    s('burst', async function (ctx) {
      var a = await ctx.connect(ns);
      a.emit('burst', 200);
      await a.nth('burst', 200);
      var vals = a.all('burst').map(function (x) { return x[0]; });
      var inOrder = vals.every(function (v, i) { return v === i; });
      ctx.obs.count = vals.length;
      ctx.obs.inOrder = inOrder;
      ctx.check(inOrder, 'burst out of order: ' + show(vals.slice(0, 20)));
    }),

    s('volatile', async function (ctx) {
      var a = await ctx.connect(ns);
      var n = 50;
      a.emit('volatile', n);
      // A non-volatile echo after it: every volatile packet that was sent
      // at all arrives before it.
      a.emit('echo', 'sentinel');
      await a.next('echo');
      var vals = a.all('volatile').map(function (x) { return x[0]; });
      var inc = vals.every(function (v, i) { return i === 0 || v > vals[i - 1]; });
      var subset = vals.every(function (v) { return typeof v === 'number' && v >= 0 && v < n && v % 1 === 0; });
      // Only what is guaranteed goes into the observation.
      ctx.obs.strictlyIncreasing = inc;
      ctx.obs.subsetOfRange = subset;
      ctx.check(inc && subset, 'volatile values ' + show(vals));
      process.stderr.write('[' + ctx.transport + '] ' + label + '.volatile: received ' + vals.length + ' of ' + n + '\n');
    }),

    s('handshake-query', async function (ctx) {
      var a = await ctx.connect(ns, { query: 'foo=bar&x=1' });
      var ack = await a.call('handshake');
      var q = (ack[0] && ack[0].query) || {};
      // The client adds t=<ms> to the handshake URL; keep only its presence.
      ctx.obs.queryKeys = Object.keys(q).sort();
      ctx.obs.foo = q.foo === undefined ? null : q.foo;
      ctx.obs.x = q.x === undefined ? null : q.x;
      ctx.obs.ackArgs = ack.length;
      ctx.expectSame('query.foo', ctx.obs.foo, 'bar');
      ctx.expectSame('query.x', ctx.obs.x, '1');
      ctx.expectSame('query keys', ctx.obs.queryKeys, ['foo', 't', 'x']);
    }),

    s('rooms', async function (ctx) {
      var a = await ctx.connect(ns);
      var names = {};
      names[ctx.room('b')] = 'b';
      names[ctx.room('a')] = 'a';
      names.watchers = 'watchers';
      function logical(list) { return list.map(function (x) { return names[x] || ('?' + x); }); }
      ctx.obs.initial = logical((await a.call('rooms'))[0]);
      await a.call('join', ctx.room('b'));
      await a.call('join', ctx.room('a'));
      await a.call('watch');
      ctx.obs.joined = logical((await a.call('rooms'))[0]);
      await a.call('leave', ctx.room('b'));
      ctx.obs.afterLeave = logical((await a.call('rooms'))[0]);
      ctx.expectSame('initial rooms', ctx.obs.initial, []);
      ctx.expectSame('rooms after joins', ctx.obs.joined, ['a', 'b', 'watchers']);
      ctx.expectSame('rooms after leave', ctx.obs.afterLeave, ['a', 'watchers']);
    }),

    s('count', async function (ctx) {
      var a = await ctx.connect(ns);
      var b = await ctx.connect(ns);
      var r = ctx.room('r');
      ctx.obs.empty = await a.call('count', r);
      await a.call('join', r);
      await b.call('join', r);
      ctx.obs.two = await a.call('count', r);
      await b.call('leave', r);
      ctx.obs.one = await b.call('count', r);
      ctx.expectSame('count of an empty room', ctx.obs.empty, [0]);
      ctx.expectSame('count with two', ctx.obs.two, [2]);
      ctx.expectSame('count after a leave', ctx.obs.one, [1]);
    }),

    s('set-get', async function (ctx) {
      var a = await ctx.connect(ns);
      var b = await ctx.connect(ns);
      var v = { list: [1, 'x', null], s: '😀' };
      ctx.obs.set = await a.call('set', 'k', v);
      ctx.obs.get = await a.call('get', 'k');
      ctx.obs.setNumber = await a.call('set', 'n', 5);
      ctx.obs.getNumber = await a.call('get', 'n');
      ctx.obs.getUnknown = await a.call('get', 'missing');
      ctx.obs.getOtherSocket = await b.call('get', 'k');
      ctx.expectSame('set ack', ctx.obs.set, [true]);
      ctx.expectSame('get ack', ctx.obs.get, [v]);
      ctx.expectSame('get number', ctx.obs.getNumber, [5]);
      ctx.expectSame('get unknown key', ctx.obs.getUnknown, [null]);
      ctx.expectSame('store is per socket', ctx.obs.getOtherSocket, [null]);
    }),

    s('watch-gone', async function (ctx) {
      var w = await ctx.connect(ns, { label: 'watcher' });
      var x = await ctx.connect(ns, { label: 'leaver' });
      ctx.obs.watch = await w.call('watch');
      ctx.expectSame('watch ack', ctx.obs.watch, [true]);
      var xid = x.sid();
      x.close();
      // Other sessions may come and go meanwhile; wait for this one's id.
      await w.next('gone', function (args) { return args[0] === xid; });
      ctx.obs.goneWithDisconnectedId = true;
    })
  ];
}

// ---------------------------------------------------------------------------
// Scenarios for the handshake, /private, /acl and several namespaces over
// one session.

var globalScenarios = [
  {
    name: 'handshake.deny',
    run: async function (ctx) {
      var a = ctx.open('', { query: 'deny=1' });
      await a.waitFor('waiting for the refusal', function () { return a.lifecycle().length > 0; });
      await sleep(300); // anything else it reports
      ctx.obs.lifecycle = a.lifecycle();
      ctx.obs.sessionConnected = !!a.ns.socket.connected;
      // The 0.9.16 client turns the 403 body into an "error" event.
      ctx.expectSame('lifecycle', ctx.obs.lifecycle, [['error', 'handshake unauthorized']]);
      ctx.expectSame('connected', ctx.obs.sessionConnected, false);
    }
  },
  {
    name: 'private.no-token',
    run: async function (ctx) {
      var a = ctx.open('/private');
      await a.waitFor('waiting for the refusal', function () { return a.lifecycle().length > 0; });
      await sleep(200);
      ctx.obs.lifecycle = a.lifecycle();
      ctx.obs.sessionConnected = !!a.ns.socket.connected;
      ctx.expectSame('lifecycle', ctx.obs.lifecycle, [['connect_failed', 'unauthorized']]);
      ctx.expectSame('session connected', ctx.obs.sessionConnected, true);
    }
  },
  {
    name: 'private.token',
    run: async function (ctx) {
      var a = await ctx.connect('/private', { query: 'token=secret' });
      ctx.obs.ack = await a.call('echo', 'in private', 1);
      ctx.expectSame('echo ack', ctx.obs.ack, ['in private', 1]);
      a.emit('echo', 'event');
      ctx.obs.event = await a.next('echo');
      ctx.expectSame('echo event', ctx.obs.event, ['event']);
    }
  },
  {
    name: 'acl.denied',
    run: async function (ctx) {
      var a = await ctx.connect('/acl');
      var acked = [];
      a.ns.emit('secret', function () { acked.push('secret'); });
      var err = await a.next('error');
      a.ns.emit('join', ctx.room('r'), function () { acked.push('join'); });
      var err2 = await a.nth('error', 2);
      a.emit('to-room', ctx.room('r'), 'nope');
      var err3 = await a.nth('error', 3);
      // Sentinel: an allowed call after the refused ones.
      await a.call('echo', 'after');
      await sleep(50);
      ctx.obs.errors = [err, err2, err3];
      ctx.obs.acked = acked;
      ctx.obs.roomEvents = a.all('room');
      ctx.expectSame('error for secret', err,
        ['method_access_denied', 'You do not have access to method "secret"']);
      ctx.expectSame('error for join', err2,
        ['method_access_denied', 'You do not have access to method "join"']);
      ctx.expectSame('error for to-room', err3,
        ['method_access_denied', 'You do not have access to method "to-room"']);
      ctx.expectSame('acks for refused calls', acked, []);
      ctx.expectSame('to-room ran', ctx.obs.roomEvents, []);
    }
  },
  {
    name: 'acl.echo',
    run: async function (ctx) {
      var a = await ctx.connect('/acl');
      ctx.obs.ack = await a.call('echo', 'ok', { n: 1 });
      a.emit('echo', 'event');
      ctx.obs.event = await a.next('echo');
      ctx.obs.errors = a.all('error');
      ctx.expectSame('echo ack', ctx.obs.ack, ['ok', { n: 1 }]);
      ctx.expectSame('echo event', ctx.obs.event, ['event']);
      ctx.expectSame('errors', ctx.obs.errors, []);
    }
  },
  {
    name: 'acl.login',
    run: async function (ctx) {
      var a = await ctx.connect('/acl');
      ctx.obs.loginWrong = await a.call('login', 'wrong');
      a.ns.emit('secret', function () { ctx.obs.secretAckedBeforeLogin = true; });
      ctx.obs.secretBeforeLogin = await a.next('error');
      ctx.obs.loginRight = await a.call('login', 'letmein');
      ctx.obs.secret = await a.call('secret');
      ctx.obs.joinAfterLogin = await a.call('join', ctx.room('r'));
      ctx.obs.errorCount = a.all('error').length;
      ctx.expectSame('login wrong', ctx.obs.loginWrong, [false]);
      ctx.expectSame('secret before login', ctx.obs.secretBeforeLogin,
        ['method_access_denied', 'You do not have access to method "secret"']);
      ctx.check(!ctx.obs.secretAckedBeforeLogin, 'secret acked before login');
      ctx.expectSame('login right', ctx.obs.loginRight, [true]);
      ctx.expectSame('secret', ctx.obs.secret, ['s3cret']);
      ctx.expectSame('join after login', ctx.obs.joinAfterLogin, [true]);
      ctx.expectSame('errors', ctx.obs.errorCount, 1);
    }
  },
  {
    name: 'multi-namespace',
    run: async function (ctx) {
      // Without 'force new connection' io.connect caches one session per
      // host:port in io.sockets; start from an empty cache and leave it so.
      Object.keys(io.sockets).forEach(function (k) { delete io.sockets[k]; });
      try {
        var watcher = await ctx.connect('/chat', { label: 'chat-watcher' });
        await watcher.call('watch');
        var main = await ctx.connect('', { force: false, label: 'default' });
        var chat = await ctx.connect('/chat', { force: false, label: 'chat' });
        ctx.obs.sameSession = main.ns.socket === chat.ns.socket && main.sid() === chat.sid();
        ctx.obs.defaultEcho = await main.call('echo', 'd');
        ctx.obs.chatEcho = await chat.call('echo', 'c');
        // Namespaces are separate: an everyone in /chat does not reach the
        // default namespace of the same session.
        var tok = ctx.token();
        chat.emit('everyone', tok);
        await chat.tagged('everyone', tok);
        main.emit('echo', 'sentinel');
        await main.next('echo');
        ctx.obs.defaultGotChatEveryone = main.before('everyone', 'echo', 'sentinel', tok).length > 0;
        // Leave /chat only.
        var sid = chat.sid();
        chat.ns.disconnect();
        await watcher.next('gone', function (args) { return args[0] === sid; });
        ctx.obs.chatGone = true;
        ctx.obs.chatLifecycle = chat.lifecycle();
        ctx.obs.defaultEchoAfter = await main.call('echo', 'still here');
        ctx.obs.sessionConnected = !!main.ns.socket.connected;
        ctx.check(ctx.obs.sameSession, 'default and /chat are not one session');
        ctx.expectSame('default echo', ctx.obs.defaultEcho, ['d']);
        ctx.expectSame('chat echo', ctx.obs.chatEcho, ['c']);
        ctx.expectSame('default got /chat everyone', ctx.obs.defaultGotChatEveryone, false);
        ctx.expectSame('chat lifecycle', ctx.obs.chatLifecycle, [['connect'], ['disconnect']]);
        ctx.expectSame('default echo after /chat left', ctx.obs.defaultEchoAfter, ['still here']);
        ctx.expectSame('session connected', ctx.obs.sessionConnected, true);
      } finally {
        Object.keys(io.sockets).forEach(function (k) { delete io.sockets[k]; });
      }
    }
  }
];

var scenarios = namespaceScenarios('default', '')
  .concat(namespaceScenarios('chat', '/chat'))
  .concat(globalScenarios);

module.exports = {
  scenarios: scenarios,
  referenceKnownFailures: referenceKnownFailures,
  Context: Context,
  canonical: canonical,
  io: io
};
