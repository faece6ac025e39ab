// modern-scenarios-common.js — what scenarios2.js (socket.io-client@2.5.0)
// and scenarios4.js (socket.io-client@4.8) share: the helpers, the Client
// and Context that scenario bodies use, and the scenarios that are the same
// for both generations of client (TESTAPP.md "Events", "ACL namespace",
// "Modern clients").
//
// A generation is described by an object (see scenarios2.js's and
// scenarios4.js's GENERATION) of what differs between the two clients:
//   transports        the names run-scenarios*.js --transport takes
//   io, Manager       the client library
//   runSuffix         appended to ctx.run (room names, tokens)
//   closeMethod       the Manager method cleanup() closes connections with
//   connectErrorData  whether a connect_error's err.data is observed
//   recordEvents(socket, push)
//                     records server events (and any lifecycle entry other
//                     than connect, connect_error, disconnect) with
//                     push(name, args, ack, lifecycle)
//   isLifecycle(entry)
//                     whether a log entry is a lifecycle entry
//   socketOptions(opts)
//                     the Manager#socket options of ctx.open(ns, opts) on
//                     opts.manager's connection (called for every open: it
//                     may refuse opts)
//   engineOptions(o, opts, ctx)
//                     adds to the Manager options o of ctx.managerOptions
//   heartbeat         {event, count, intervalField}: the engine event that
//                     marks a heartbeat, the engine property counting them,
//                     the engine property of the ping interval
//   handshakeQuery    {EIO, pollingKeys}: what the handshake scenario expects
//   auth              function (ns) giving the run() of <ns>.auth
//   privateScenarios  the /private scenarios
//   invalidNamespace  the lifecycle of a socket of an unknown namespace
//
// generation(desc) gives {Context, scenarios}: a Context constructor
// (new Context({url, transport})) and the scenario list, in the order the
// runners report them: every namespace scenario for "/" ("default.*") and
// for "/chat" ("chat.*"), then handshake.deny, the /private scenarios,
// namespace.invalid, acl.*, multi-namespace*, upgrade-midflight, heartbeat.
'use strict';

var crypto = require('crypto');

// ---------------------------------------------------------------------------
// Helpers.

function slice(a, from) { return Array.prototype.slice.call(a, from || 0); }

function isBinary(v) {
  return (typeof Buffer !== 'undefined' && Buffer.isBuffer(v)) ||
    v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

function bytesOf(v) {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

// canonical returns v as plain JSON data: object keys sorted, recursively,
// undefined as null, functions dropped from arrays (ack callbacks), binary
// as {"$binary": hex} (or, above 64 bytes, {"$binaryLength", "$sha256"}).
function canonical(v) {
  if (v === undefined) return null;
  if (isBinary(v)) {
    var b = bytesOf(v);
    if (b.length <= 64) return { $binary: b.toString('hex') };
    return { $binaryLength: b.length, $sha256: crypto.createHash('sha256').update(b).digest('hex') };
  }
  if (Array.isArray(v)) {
    return v.filter(function (x) { return typeof x !== 'function'; }).map(canonical);
  }
  if (v && typeof v === 'object') {
    var out = {};
    Object.keys(v).sort().forEach(function (k) { out[k] = canonical(v[k]); });
    return out;
  }
  return v;
}

// plain drops functions (ack callbacks) from an argument list and makes the
// rest canonical.
function plain(args) {
  return canonical(slice(args).filter(function (a) { return typeof a !== 'function'; }));
}

function same(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function show(v) {
  var s = JSON.stringify(canonical(v));
  return s.length > 600 ? s.slice(0, 600) + '...' : s;
}

function sleep(ms) {
  return new Promise(function (resolve) { setTimeout(resolve, ms); });
}

// errInfo is what a scenario may compare of a connect_error: the message,
// the HTTP status when the transport reports one (polling) and, with
// withData, the error's data.
function errInfo(err, withData) {
  if (!err || typeof err !== 'object') return { message: String(err) };
  var out = { message: err.message };
  if (withData && err.data !== undefined) out.data = canonical(err.data);
  if (typeof err.description === 'number') out.status = err.description;
  return out;
}

// pattern returns n deterministic bytes.
function pattern(n, seed) {
  var b = Buffer.alloc(n);
  for (var i = 0; i < n; i++) b[i] = (i * 31 + (seed || 7)) & 0xff;
  return b;
}

// ---------------------------------------------------------------------------
// Client wraps one namespace socket and records, in order, every event it
// raises: the lifecycle events and every server event (how: the
// generation's recordEvents).

function Client(ctx, socket, label) {
  var self = this;
  var gen = ctx.spec;
  this.ctx = ctx;
  this.s = socket;
  this.label = label;
  this.log = [];          // [{name, args, ack, lifecycle}] in arrival order
  function push(name, args, ack, lifecycle) {
    self.log.push({ name: name, args: args, ack: !!ack, lifecycle: !!lifecycle });
    ctx.poke();
  }
  gen.recordEvents(socket, push);
  socket.on('connect', function () { push('connect', [], false, true); });
  socket.on('connect_error', function (err) { push('connect_error', [errInfo(err, gen.connectErrorData)], false, true); });
  socket.on('disconnect', function (reason) { push('disconnect', [reason], false, true); });
  watchEngine(ctx, socket.io.engine);
  socket.io.on('open', function () { watchEngine(ctx, socket.io.engine); });
}

// watchEngine pokes the context's waiters on the engine's upgrade and
// heartbeats (counted in eng[gen.heartbeat.count]).
function watchEngine(ctx, eng) {
  if (!eng || eng.__siogoWatched) return;
  var hb = ctx.spec.heartbeat;
  eng.__siogoWatched = true;
  eng[hb.count] = 0;
  eng.on('upgrade', function () { ctx.poke(); });
  eng.on(hb.event, function () { eng[hb.count]++; ctx.poke(); });
  eng.on('handshake', function (data) { eng.handshakeData = data; ctx.poke(); });
}

// sid is this namespace socket's id (what the server reports in "gone").
Client.prototype.sid = function () { return this.s.id; };

Client.prototype.engine = function () { return this.s.io.engine; };

Client.prototype.transportName = function () {
  var e = this.s.io.engine;
  return e && e.transport ? e.transport.name : null;
};

Client.prototype.waitFor = function (desc, cond) {
  return this.ctx.waitFor(this.label + ': ' + desc, cond);
};

// all is the args of every event called name, in order. (A lifecycle entry
// "error", the 2.x error packet, is not the server event "error".)
Client.prototype.all = function (name) {
  var gen = this.ctx.spec;
  return this.log.filter(function (e) { return e.name === name && !(name === 'error' && gen.isLifecycle(e)); })
    .map(function (e) { return e.args; });
};

// before: see scenarios.js (args of events called name before the sentinel
// event, tagged with tok; tok replaced by "TOKEN").
Client.prototype.before = function (name, sentinel, sentinelArg, tok) {
  var out = [];
  for (var i = 0; i < this.log.length; i++) {
    var e = this.log[i];
    if (e.name === sentinel && e.args[0] === sentinelArg) break;
    if (e.name === name && e.args[0] === tok) out.push(['TOKEN'].concat(e.args.slice(1)));
  }
  return out;
};

Client.prototype.tagged = function (name, tok) {
  return this.next(name, function (args) { return args[0] === tok; })
    .then(function (args) { return ['TOKEN'].concat(args.slice(1)); });
};

Client.prototype.nth = function (name, n) {
  var self = this;
  return this.waitFor('waiting for ' + n + ' x "' + name + '"', function () {
    var a = self.all(name);
    return a.length >= n ? { args: a[n - 1] } : null;
  }).then(function (r) { return r.args; });
};

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

Client.prototype.emit = function () {
  this.s.emit.apply(this.s, arguments);
};

// call emits name(args...) asking for an ack; resolves with the ack args
// (canonical).
Client.prototype.call = function (name) {
  var self = this;
  var args = slice(arguments, 1);
  this.ctx.step(this.label + ': waiting for the ack of "' + name + '"');
  return new Promise(function (resolve) {
    self.s.emit.apply(self.s, [name].concat(args, [function () {
      resolve(plain(arguments));
    }]));
  });
};

// callRaw is call() resolving with the ack's arguments as received.
Client.prototype.callRaw = function (name) {
  var self = this;
  var args = slice(arguments, 1);
  this.ctx.step(this.label + ': waiting for the ack of "' + name + '"');
  return new Promise(function (resolve) {
    self.s.emit.apply(self.s, [name].concat(args, [function () {
      resolve(slice(arguments));
    }]));
  });
};

Client.prototype.lifecycle = function () {
  var gen = this.ctx.spec;
  return this.log.filter(function (e) { return gen.isLifecycle(e); })
    .map(function (e) { return [e.name].concat(e.args); });
};

Client.prototype.close = function () {
  try { this.s.disconnect(); } catch (e) { /* never mind */ }
};

// ---------------------------------------------------------------------------
// Context: one scenario's clients, observation and failed expectations.
// A generation's Context (generation(desc).Context) is this one with desc
// as ctx.spec.

function Context(gen, opts, runNumber) {
  if (gen.transports.indexOf(opts.transport) < 0) throw new Error('unknown transport ' + opts.transport);
  // (spec, not gen: the scripts that combine generations tag clients with
  // a c.gen of their own.)
  this.spec = gen;
  this.base = opts.url.replace(/\/+$/, '');
  this.transport = opts.transport;
  this.obs = {};
  this.errors = [];
  this.clients = [];
  this.managers = [];
  this.waiters = [];
  this.where = 'starting';
  this.run = process.pid.toString(36) + '-' + (Date.now() % 1e6).toString(36) + '-' + runNumber + gen.runSuffix;
}

Context.prototype.step = function (desc) { this.where = desc; };

Context.prototype.poke = function () {
  var ws = this.waiters.slice();
  for (var i = 0; i < ws.length; i++) ws[i]();
};

// waitFor resolves with cond()'s value as soon as it is truthy (checked now
// and after every event of every client of this context). The scenario
// timeout bounds it.
Context.prototype.waitFor = function (desc, cond) {
  var self = this;
  this.step(desc);
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

Context.prototype.check = function (cond, msg) {
  if (!cond) this.errors.push(msg);
  return !!cond;
};

Context.prototype.expectSame = function (what, got, want) {
  return this.check(same(got, want), what + ': got ' + show(got) + ', want ' + show(want));
};

Context.prototype.room = function (logical) { return logical + '-' + this.run; };

Context.prototype.token = function (logical) { return 'tok-' + (logical || '') + '-' + this.run; };

// polling is whether this run's transport is long-polling only
// (polling-base64 is polling with forceBase64).
Context.prototype.polling = function () {
  return this.transport === 'polling' || this.transport === 'polling-base64';
};

// finalTransport is the Engine.IO transport a connected client ends up on.
Context.prototype.finalTransport = function () {
  return this.polling() ? 'polling' : 'websocket';
};

// managerOptions are the socket.io-client options for this run's transport;
// opts.query is the Engine.IO handshake query (and what the generation's
// engineOptions adds).
Context.prototype.managerOptions = function (opts) {
  opts = opts || {};
  var o = {
    forceNew: true,
    reconnection: false,
    timeout: 20000,
    transports: this.transport === 'websocket' ? ['websocket'] :
      this.polling() ? ['polling'] : ['polling', 'websocket'],
    upgrade: this.transport === 'upgrade'
  };
  if (opts.query) o.query = opts.query;
  this.spec.engineOptions(o, opts, this);
  return o;
};

// manager opens a Manager (one Engine.IO connection) to multiplex
// namespaces on (ctx.open with opts.manager).
Context.prototype.manager = function (opts) {
  var m = new this.spec.Manager(this.base, this.managerOptions(opts));
  this.managers.push(m);
  return m;
};

// open creates a client for namespace ns ('/', '/chat'...) on its own
// connection, or on opts.manager's (with the generation's socketOptions).
Context.prototype.open = function (ns, opts) {
  opts = opts || {};
  var nsOpts = this.spec.socketOptions(opts);
  var label = opts.label || ('client' + (this.clients.length + 1) + (ns === '/' ? '' : ns));
  var socket;
  if (opts.manager) {
    // (Manager#socket opens the namespace socket at once: autoConnect.)
    socket = opts.manager.socket(ns, nsOpts);
  } else {
    socket = this.spec.io(this.base + ns, this.managerOptions(opts));
  }
  var c = new Client(this, socket, label);
  this.clients.push(c);
  return c;
};

// connect is open() and waiting for "connect" (and, for the upgrade
// transport, for the upgrade to websocket); it rejects on any other
// lifecycle entry before that.
Context.prototype.connect = function (ns, opts) {
  var c = this.open(ns, opts);
  return this.connected(c, opts && opts.noUpgradeWait);
};

Context.prototype.connected = function (c, noUpgradeWait) {
  var self = this;
  return c.waitFor('connecting', function () {
    for (var i = 0; i < c.log.length; i++) {
      var e = c.log[i];
      if (!self.spec.isLifecycle(e)) continue;
      if (e.name === 'connect') {
        if (self.transport === 'upgrade' && !noUpgradeWait) {
          if (c.transportName() !== 'websocket') return false; // upgrade still under way
        }
        return true;
      }
      throw new Error(c.label + ': ' + e.name + ' ' + show(e.args) + ' instead of connect');
    }
    return false;
  }).then(function () {
    var t = c.transportName();
    if (!noUpgradeWait && t !== self.finalTransport()) {
      throw new Error(c.label + ': connected over ' + t + ', not ' + self.finalTransport());
    }
    return c;
  });
};

// verifyTransports checks, at the end of a scenario, that every client that
// is still connected is on the expected transport (and, for
// polling-base64, polls with b64=1).
Context.prototype.verifyTransports = function () {
  var want = this.finalTransport();
  var self = this;
  this.clients.forEach(function (c) {
    if (!c.s.connected) return;
    var t = c.transportName();
    if (t !== want) self.errors.push(c.label + ': ended on transport ' + t + ', not ' + want);
    var eng = c.engine();
    if (eng && self.transport === 'polling-base64' && eng.transport && eng.transport.query &&
        String(eng.transport.query.b64) !== '1') {
      self.errors.push(c.label + ': polling without b64=1');
    }
  });
};

Context.prototype.cleanup = function () {
  var close = this.spec.closeMethod;
  this.waiters = [];
  this.clients.forEach(function (c) { c.close(); });
  this.clients.forEach(function (c) {
    try { if (c.s.io && typeof c.s.io[close] === 'function') c.s.io[close](); } catch (e) { /* ignore */ }
  });
  this.managers.forEach(function (m) {
    try { if (typeof m[close] === 'function') m[close](); } catch (e) { /* ignore */ }
  });
};

// ---------------------------------------------------------------------------
// Scenarios run in every tested namespace ('/' as "default", '/chat' as
// "chat"): every row of TESTAPP.md "Events" plus the rows of "Modern
// clients" (auth — the generation's —, binary, kick reason).

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

function binaryArgs() {
  return [
    'bin',
    Buffer.from([0, 1, 2, 255]),
    { nested: Buffer.from('hi 😀'), list: [Buffer.alloc(0), 1, { deeper: Buffer.from([42]) }] },
    [Buffer.from([9, 8, 7]), 'text', null]
    // (Not { _placeholder: true, num: 0 } as data: socket.io-parser turns
    // it into the attachment, a protocol ambiguity, not server behaviour.)
  ];
}

function namespaceScenarios(gen, label, ns) {
  function s(name, run) { return { name: label + '.' + name, run: run }; }

  return [
    s('echo-ack', async function (ctx) {
      var a = await ctx.connect(ns);
      var sent = ['hello', 42, true, null, { a: [1, 'two', { three: 3 }] }, -0.5, ''];
      var ack = await a.call.apply(a, ['echo'].concat(sent));
      ctx.obs.ack = ack;
      ctx.expectSame('ack args', ack, sent);
      // With an ack the server must not also emit "echo".
      a.emit('echo', 'sentinel');
      await a.next('echo');
      ctx.obs.echoEvents = a.all('echo');
      ctx.expectSame('echo events', a.all('echo'), [['sentinel']]);
      ctx.obs.noArgsAck = await a.call('echo');
      ctx.expectSame('ack of echo()', ctx.obs.noArgsAck, []);
    }),

    s('echo-noack', async function (ctx) {
      var a = await ctx.connect(ns);
      var sent = ['hi', 2, { b: [false, null] }];
      a.emit.apply(a, ['echo'].concat(sent));
      var got = await a.next('echo');
      ctx.obs.event = got;
      ctx.expectSame('echo event args', got, sent);
      a.emit('echo');
      var second = await a.nth('echo', 2);
      ctx.obs.emptyEvent = second;
      ctx.expectSame('echo with no args', second, []);
      var ev = a.log.filter(function (e) { return e.name === 'echo'; });
      ctx.obs.askedForAck = ev.map(function (e) { return e.ack; });
      ctx.expectSame('server asked for acks', ctx.obs.askedForAck, [false, false]);
    }),

    s('echo-unicode', async function (ctx) {
      var a = await ctx.connect(ns);
      ctx.obs.astralAck = await a.call.apply(a, ['echo'].concat(UNICODE_ARGS));
      ctx.expectSame('astral ack', ctx.obs.astralAck, UNICODE_ARGS);
      ctx.obs.u2028Ack = await a.call.apply(a, ['echo'].concat(U2028_ARGS));
      ctx.expectSame('U+2028 ack', ctx.obs.u2028Ack, U2028_ARGS);
      var sent = UNICODE_ARGS.concat(U2028_ARGS);
      a.emit.apply(a, ['echo'].concat(sent));
      ctx.obs.event = await a.next('echo');
      ctx.expectSame('echo event args', ctx.obs.event, sent);
    }),

    s('echo-binary-ack', async function (ctx) {
      var a = await ctx.connect(ns);
      var sent = binaryArgs();
      var raw = await a.callRaw.apply(a, ['echo'].concat(sent));
      ctx.obs.ack = canonical(raw);
      ctx.obs.binaryTypes = [isBinary(raw[1]), isBinary(raw[2] && raw[2].nested),
        isBinary(raw[2] && raw[2].list && raw[2].list[0]), isBinary(raw[3] && raw[3][0])];
      ctx.expectSame('ack args', ctx.obs.ack, sent);
      ctx.expectSame('binary came back as binary', ctx.obs.binaryTypes, [true, true, true, true]);
    }),

    s('echo-binary-event', async function (ctx) {
      var a = await ctx.connect(ns);
      var sent = binaryArgs();
      var raw = null;
      a.s.once('echo', function () { raw = slice(arguments); });
      a.emit.apply(a, ['echo'].concat(sent));
      ctx.obs.event = await a.next('echo');
      ctx.obs.binaryTypes = [isBinary(raw[1]), isBinary(raw[2].nested), isBinary(raw[3][0])];
      ctx.expectSame('echo event args', ctx.obs.event, sent);
      ctx.expectSame('binary came back as binary', ctx.obs.binaryTypes, [true, true, true]);
      // Binary only, several attachments, and a text event right after it:
      // the order of the two events is kept.
      a.emit('echo', Buffer.from([1]), Buffer.from([2]), Buffer.from([3]));
      a.emit('echo', 'after');
      await a.nth('echo', 3);
      ctx.obs.second = a.all('echo').slice(1);
      ctx.expectSame('binary-only then text', ctx.obs.second,
        [[Buffer.from([1]), Buffer.from([2]), Buffer.from([3])], ['after']]);
    }),

    s('echo-binary-large', async function (ctx) {
      var a = await ctx.connect(ns);
      var big = pattern(200 * 1024, 3);
      ctx.obs.ack = await a.call('echo', big, 'tail', pattern(1000, 5));
      ctx.expectSame('large binary ack', ctx.obs.ack, [big, 'tail', pattern(1000, 5)]);
    }),

    s('message', async function (ctx) {
      var a = await ctx.connect(ns);
      var obj = { k: [1, 2, { v: 'w' }], u: '\u2028' };
      a.s.send('plain text 😀');
      a.s.send(obj);
      a.s.send(7, 'two', [3]);
      a.s.send(Buffer.from([1, 2]));
      await a.nth('message', 4);
      ctx.obs.messages = a.all('message');
      ctx.expectSame('messages', ctx.obs.messages,
        [['plain text 😀'], [obj], [7, 'two', [3]], [Buffer.from([1, 2])]]);
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
      a.emit('to-room', r, tok, 'bin', Buffer.from([0xde, 0xad]), { b: Buffer.from('x') });
      // "everyone" from the same sender is a sentinel: anything the
      // to-room emits send to a client arrives before it.
      a.emit('everyone', sentinel);
      await a.next('everyone', function (x) { return x[0] === sentinel; });
      await b.next('everyone', function (x) { return x[0] === sentinel; });
      await c.next('everyone', function (x) { return x[0] === sentinel; });
      ctx.obs.sender = a.before('room', 'everyone', sentinel, tok);
      ctx.obs.member = b.before('room', 'everyone', sentinel, tok);
      ctx.obs.outsider = c.before('room', 'everyone', sentinel, tok);
      var want = [['TOKEN', 'x', { n: 1 }], ['TOKEN', 'bin', Buffer.from([0xde, 0xad]), { b: Buffer.from('x') }]];
      ctx.expectSame('sender got', ctx.obs.sender, want);
      ctx.expectSame('member got', ctx.obs.member, want);
      ctx.expectSame('outsider got', ctx.obs.outsider, []);
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
      a.emit('broadcast', tok, Buffer.from([7]));
      a.emit('everyone', sentinel);
      await a.next('everyone', function (x) { return x[0] === sentinel; });
      await b.next('everyone', function (x) { return x[0] === sentinel; });
      await c.next('everyone', function (x) { return x[0] === sentinel; });
      ctx.obs.sender = a.before('broadcast', 'everyone', sentinel, tok);
      ctx.obs.other1 = b.before('broadcast', 'everyone', sentinel, tok);
      ctx.obs.other2 = c.before('broadcast', 'everyone', sentinel, tok);
      var want = [['TOKEN', 'z', 1], ['TOKEN', Buffer.from([7])]];
      ctx.expectSame('sender got', ctx.obs.sender, []);
      ctx.expectSame('other1 got', ctx.obs.other1, want);
      ctx.expectSame('other2 got', ctx.obs.other2, want);
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
      a.s.on('question', function () {
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
      ctx.check(q.ack, 'the server did not ask for an ack');
      ctx.expectSame('answer args', answer, ['yes', { n: 1 }, '😀']);
    }),

    s('ask-binary', async function (ctx) {
      var a = await ctx.connect(ns);
      var raw = null;
      a.s.on('qbin', function () {
        raw = slice(arguments);
        var ack = arguments[arguments.length - 1];
        if (typeof ack === 'function') ack(Buffer.from([5, 6]), { inner: Buffer.from([7]) }, 'txt');
      });
      a.emit('ask', 'qbin', Buffer.from([1, 2, 3]), { x: Buffer.alloc(0) });
      ctx.obs.answer = await a.next('answer');
      ctx.obs.question = canonical(raw);
      ctx.obs.questionBinary = isBinary(raw[0]);
      ctx.expectSame('question args', ctx.obs.question, [Buffer.from([1, 2, 3]), { x: Buffer.alloc(0) }]);
      ctx.expectSame('question binary', ctx.obs.questionBinary, true);
      ctx.expectSame('answer args', ctx.obs.answer, [Buffer.from([5, 6]), { inner: Buffer.from([7]) }, 'txt']);
    }),

    s('kick', async function (ctx) {
      var a = await ctx.connect(ns);
      await a.call('echo', 'settle');
      a.emit('kick');
      await a.next('disconnect');
      await sleep(50); // anything reported after the disconnect
      ctx.obs.lifecycle = a.lifecycle();
      ctx.obs.connected = a.s.connected;
      ctx.expectSame('lifecycle', ctx.obs.lifecycle, [['connect'], ['disconnect', 'io server disconnect']]);
      ctx.expectSame('connected', ctx.obs.connected, false);
    }),

    // kick sent from the connect handler: on polling it reaches the server
    // while the client has no GET open yet.
    s('kick-immediate', async function (ctx) {
      var a = ctx.open(ns);
      a.s.on('connect', function () { a.s.emit('kick'); });
      await a.next('disconnect');
      await sleep(50);
      ctx.obs.lifecycle = a.lifecycle();
      ctx.expectSame('lifecycle', ctx.obs.lifecycle, [['connect'], ['disconnect', 'io server disconnect']]);
    }),

    s('burst', async function (ctx) {
      var a = await ctx.connect(ns);
      a.emit('burst', 500);
      await a.nth('burst', 500);
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
      a.emit('echo', 'sentinel');
      await a.next('echo');
      var vals = a.all('volatile').map(function (x) { return x[0]; });
      var inc = vals.every(function (v, i) { return i === 0 || v > vals[i - 1]; });
      var subset = vals.every(function (v) { return typeof v === 'number' && v >= 0 && v < n && v % 1 === 0; });
      ctx.obs.strictlyIncreasing = inc;
      ctx.obs.subsetOfRange = subset;
      ctx.check(inc && subset, 'volatile values ' + show(vals));
      process.stderr.write('[' + ctx.transport + '] ' + label + '.volatile: received ' + vals.length + ' of ' + n + '\n');
    }),

    s('handshake-query', async function (ctx) {
      var a = await ctx.connect(ns, { query: { foo: 'bar', x: '1', utf: 'é 😀' } });
      var ack = await a.call('handshake');
      var q = (ack[0] && ack[0].query) || {};
      ctx.obs.queryKeys = Object.keys(q).sort();
      ctx.obs.foo = q.foo === undefined ? null : q.foo;
      ctx.obs.x = q.x === undefined ? null : q.x;
      ctx.obs.utf = q.utf === undefined ? null : q.utf;
      ctx.obs.EIO = q.EIO === undefined ? null : q.EIO;
      ctx.obs.transport = q.transport === undefined ? null : q.transport;
      ctx.obs.ackArgs = ack.length;
      ctx.expectSame('query.foo', ctx.obs.foo, 'bar');
      ctx.expectSame('query.x', ctx.obs.x, '1');
      ctx.expectSame('query.utf', ctx.obs.utf, 'é 😀');
      ctx.expectSame('query.EIO', ctx.obs.EIO, gen.handshakeQuery.EIO);
      // The handshake request: polling for polling and upgrade; the client
      // adds t=<random> (and more: gen.handshakeQuery.pollingKeys) to
      // polling requests.
      var first = ctx.transport === 'websocket' ? 'websocket' : 'polling';
      ctx.expectSame('query.transport', ctx.obs.transport, first);
      ctx.expectSame('query keys', ctx.obs.queryKeys, first === 'polling' ?
        gen.handshakeQuery.pollingKeys : ['EIO', 'foo', 'transport', 'utf', 'x']);
    }),

    s('auth', gen.auth(ns)),

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
      var k = await ctx.connect(ns, { label: 'kicked' });
      ctx.obs.watch = await w.call('watch');
      ctx.expectSame('watch ack', ctx.obs.watch, [true]);
      var xid = x.sid();
      var kid = k.sid();
      x.close();
      await w.next('gone', function (args) { return args[0] === xid; });
      ctx.obs.goneOnClientDisconnect = true;
      k.emit('kick');
      await w.next('gone', function (args) { return args[0] === kid; });
      ctx.obs.goneOnKick = true;
      ctx.obs.watcherOwnGone = w.all('gone').some(function (args) { return args[0] === w.sid(); });
      ctx.expectSame('watcher saw its own gone', ctx.obs.watcherOwnGone, false);
    })
  ];
}

// ---------------------------------------------------------------------------
// The handshake, /private (the generation's), unknown namespaces, /acl,
// several namespaces on one connection, the upgrade, heartbeats.

function globalScenarios(gen) {
  var handshakeDeny = {
    name: 'handshake.deny',
    run: async function (ctx) {
      var a = ctx.open('/', { query: { deny: '1' } });
      await a.waitFor('waiting for the refusal', function () { return a.lifecycle().length > 0; });
      await sleep(200);
      ctx.obs.lifecycle = a.lifecycle();
      ctx.obs.connected = a.s.connected;
      // The client reports a transport error; over polling it carries the
      // HTTP status (403).
      var want = ctx.transport === 'websocket' ? { message: 'websocket error' } :
        { message: 'xhr poll error', status: 403 };
      ctx.expectSame('lifecycle', ctx.obs.lifecycle, [['connect_error', want]]);
      ctx.expectSame('connected', ctx.obs.connected, false);
    }
  };
  return [handshakeDeny].concat(gen.privateScenarios, [
  {
    name: 'namespace.invalid',
    run: async function (ctx) {
      var refused = gen.invalidNamespace;
      var a = ctx.open('/nope');
      await a.waitFor('waiting for the refusal', function () { return a.lifecycle().length > 0; });
      await sleep(100);
      ctx.obs.lifecycle = a.lifecycle();
      ctx.expectSame('lifecycle', ctx.obs.lifecycle, refused);
      // On a connection that has the default namespace, the refusal leaves
      // it alone.
      var m = ctx.manager();
      var main = await ctx.connect('/', { manager: m, label: 'default' });
      var bad = ctx.open('/nope/deeper', { manager: m, label: 'bad' });
      await bad.waitFor('waiting for the refusal', function () { return bad.lifecycle().length > 0; });
      ctx.obs.multiplexed = bad.lifecycle();
      ctx.obs.defaultEcho = await main.call('echo', 'ok');
      ctx.expectSame('multiplexed refusal', ctx.obs.multiplexed, refused);
      ctx.expectSame('default echo', ctx.obs.defaultEcho, ['ok']);
    }
  },
  {
    name: 'acl.denied',
    run: async function (ctx) {
      var a = await ctx.connect('/acl');
      var acked = [];
      a.s.emit('secret', function () { acked.push('secret'); });
      var err = await a.next('error');
      a.s.emit('join', ctx.room('r'), function () { acked.push('join'); });
      var err2 = await a.nth('error', 2);
      a.emit('to-room', ctx.room('r'), 'nope');
      var err3 = await a.nth('error', 3);
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
      ctx.expectSame('still connected', a.s.connected, true);
    }
  },
  {
    name: 'acl.echo',
    run: async function (ctx) {
      var a = await ctx.connect('/acl');
      ctx.obs.ack = await a.call('echo', 'ok', { n: 1 }, Buffer.from([3]));
      a.emit('echo', 'event');
      ctx.obs.event = await a.next('echo');
      ctx.obs.errors = a.all('error');
      ctx.expectSame('echo ack', ctx.obs.ack, ['ok', { n: 1 }, Buffer.from([3])]);
      ctx.expectSame('echo event', ctx.obs.event, ['event']);
      ctx.expectSame('errors', ctx.obs.errors, []);
    }
  },
  {
    name: 'acl.login',
    run: async function (ctx) {
      var a = await ctx.connect('/acl');
      ctx.obs.loginWrong = await a.call('login', 'wrong');
      a.s.emit('secret', function () { ctx.obs.secretAckedBeforeLogin = true; });
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
    // The default namespace and /chat on one connection (one Manager).
    name: 'multi-namespace',
    run: async function (ctx) {
      var watcher = await ctx.connect('/chat', { label: 'chat-watcher' });
      await watcher.call('watch');
      var m = ctx.manager();
      var main = await ctx.connect('/', { manager: m, label: 'default' });
      var chat = await ctx.connect('/chat', { manager: m, label: 'chat' });
      ctx.obs.sameEngine = main.s.io.engine === chat.s.io.engine;
      ctx.obs.distinctIds = main.sid() !== chat.sid();
      ctx.obs.defaultEcho = await main.call('echo', 'd');
      ctx.obs.chatEcho = await chat.call('echo', 'c');
      var tok = ctx.token();
      chat.emit('everyone', tok);
      await chat.tagged('everyone', tok);
      main.emit('echo', 'sentinel');
      await main.next('echo');
      ctx.obs.defaultGotChatEveryone = main.before('everyone', 'echo', 'sentinel', tok).length > 0;
      // Leave /chat only (client side).
      var sid = chat.sid();
      chat.s.disconnect();
      await watcher.next('gone', function (args) { return args[0] === sid; });
      ctx.obs.chatGone = true;
      ctx.obs.chatLifecycle = chat.lifecycle();
      ctx.obs.defaultEchoAfter = await main.call('echo', 'still here');
      ctx.obs.defaultConnected = main.s.connected;
      ctx.expectSame('one connection', ctx.obs.sameEngine, true);
      ctx.expectSame('distinct socket ids', ctx.obs.distinctIds, true);
      ctx.expectSame('default echo', ctx.obs.defaultEcho, ['d']);
      ctx.expectSame('chat echo', ctx.obs.chatEcho, ['c']);
      ctx.expectSame('default got /chat everyone', ctx.obs.defaultGotChatEveryone, false);
      ctx.expectSame('chat lifecycle', ctx.obs.chatLifecycle,
        [['connect'], ['disconnect', 'io client disconnect']]);
      ctx.expectSame('default echo after /chat left', ctx.obs.defaultEchoAfter, ['still here']);
      ctx.expectSame('default connected', ctx.obs.defaultConnected, true);
    }
  },
  {
    // kick disconnects one namespace's socket: the other namespace on the
    // same connection stays connected, in both directions.
    name: 'multi-namespace-kick',
    run: async function (ctx) {
      var m = ctx.manager();
      var main = await ctx.connect('/', { manager: m, label: 'default' });
      var chat = await ctx.connect('/chat', { manager: m, label: 'chat' });
      chat.emit('kick');
      await chat.next('disconnect');
      ctx.obs.chatLifecycle = chat.lifecycle();
      ctx.obs.defaultEcho = await main.call('echo', 'after chat kick');
      ctx.obs.defaultLifecycle = main.lifecycle();
      ctx.expectSame('chat lifecycle', ctx.obs.chatLifecycle, [['connect'], ['disconnect', 'io server disconnect']]);
      ctx.expectSame('default echo', ctx.obs.defaultEcho, ['after chat kick']);
      ctx.expectSame('default lifecycle', ctx.obs.defaultLifecycle, [['connect']]);

      var m2 = ctx.manager();
      var main2 = await ctx.connect('/', { manager: m2, label: 'default2' });
      var chat2 = await ctx.connect('/chat', { manager: m2, label: 'chat2' });
      main2.emit('kick');
      await main2.next('disconnect');
      ctx.obs.default2Lifecycle = main2.lifecycle();
      ctx.obs.chat2Echo = await chat2.call('echo', 'after default kick');
      ctx.obs.chat2Lifecycle = chat2.lifecycle();
      ctx.expectSame('default2 lifecycle', ctx.obs.default2Lifecycle, [['connect'], ['disconnect', 'io server disconnect']]);
      ctx.expectSame('chat2 echo', ctx.obs.chat2Echo, ['after default kick']);
      ctx.expectSame('chat2 lifecycle', ctx.obs.chat2Lifecycle, [['connect']]);
    }
  },
  {
    // Traffic from the first moment, i.e. (for the upgrade transport) while
    // the upgrade is under way: nothing lost, nothing reordered, and the
    // connection ends up on websocket.
    name: 'upgrade-midflight',
    run: async function (ctx) {
      var a = ctx.open('/');
      var acks = [];
      a.s.on('connect', function () {
        a.emit('burst', 300);
        for (var i = 0; i < 20; i++) {
          (function (i) {
            a.s.emit('echo', i, Buffer.from([i]), function (n, b) { acks.push([n, canonical(b)]); ctx.poke(); });
          })(i);
        }
      });
      await ctx.connected(a, true);
      await a.nth('burst', 300);
      await ctx.waitFor('20 echo acks', function () { return acks.length >= 20; });
      var vals = a.all('burst').map(function (x) { return x[0]; });
      ctx.obs.burstInOrder = vals.length === 300 && vals.every(function (v, i) { return v === i; });
      ctx.obs.acks = acks;
      var want = [];
      for (var i = 0; i < 20; i++) want.push([i, canonical(Buffer.from([i]))]);
      ctx.expectSame('burst in order', ctx.obs.burstInOrder, true);
      ctx.expectSame('acks in order', acks, want);
      await a.waitFor('on the final transport', function () { return a.transportName() === ctx.finalTransport(); });
      ctx.obs.finalTransport = a.transportName();
      ctx.obs.echoAfter = await a.call('echo', 'after');
      ctx.expectSame('echo after', ctx.obs.echoAfter, ['after']);
    }
  },
  {
    // Heartbeats (gen.heartbeat: which side pings). Checked only when the
    // server's pingInterval is at most 2s (start the server with
    // -ping-interval 300ms or so); otherwise the observation says
    // pingsChecked: false.
    name: 'heartbeat',
    run: async function (ctx) {
      var hb = gen.heartbeat;
      var a = await ctx.connect('/');
      var eng = a.engine();
      var hs = eng.handshakeData || {};
      var interval = hs.pingInterval || eng[hb.intervalField];
      if (!(interval > 0 && interval <= 2000)) {
        ctx.obs.pingsChecked = false;
        return;
      }
      ctx.obs.pingsChecked = true;
      var start = eng[hb.count];
      await a.waitFor('3 ' + hb.count, function () { return eng[hb.count] >= start + 3; });
      ctx.obs.echo = await a.call('echo', 'alive');
      ctx.obs.lifecycle = a.lifecycle();
      ctx.expectSame('echo', ctx.obs.echo, ['alive']);
      ctx.expectSame('lifecycle', ctx.obs.lifecycle, [['connect']]);
    }
  }
  ]);
}

// generation gives a generation's Context constructor and scenario list
// (see the top of this file for desc).
function generation(desc) {
  var runCounter = 0;
  function GenerationContext(opts) {
    Context.call(this, desc, opts, ++runCounter);
  }
  GenerationContext.prototype = Object.create(Context.prototype);
  GenerationContext.prototype.constructor = GenerationContext;
  var scenarios = namespaceScenarios(desc, 'default', '/')
    .concat(namespaceScenarios(desc, 'chat', '/chat'))
    .concat(globalScenarios(desc));
  return { Context: GenerationContext, scenarios: scenarios };
}

module.exports = {
  generation: generation,
  canonical: canonical,
  plain: plain,
  slice: slice,
  isBinary: isBinary,
  show: show,
  sleep: sleep,
  pattern: pattern
};
