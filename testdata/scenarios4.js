// scenarios4.js — client scenarios for the testapp contract (TESTAPP.md:
// "Events", "ACL namespace", "Modern clients") driven by the real
// socket.io-client@4.8 (npm alias socket.io-client-4), Engine.IO v4.
//
// Same shape as scenarios.js (the 0.9 scenarios): each scenario is
// { name, run(ctx) }; run() fills ctx.obs with a normalized, deterministic
// observation (no session ids, timestamps or random room names; binary as
// {"$binary": hex} or, when long, {"$binaryLength": n, "$sha256": hex}) so
// that the observations of two servers — the Node reference
// (reftestapp4.js) and siogo (examples/testapp) — can be compared for
// equality, and records failed expectations with ctx.check(). A scenario
// that throws (or times out) fails with that error.
//
// The Client, the Context and the scenarios that socket.io-client 2.x
// runs alike live in modern-scenarios-common.js; this file gives what is
// 4.x's own (GENERATION below): the auth payload, the /private scenarios,
// the error shapes, the server's pings.
//
// Transports (run-scenarios4.js --transport):
//   websocket  transports: ['websocket']             (no polling at all)
//   polling    transports: ['polling']               (never upgrades)
//   upgrade    transports: ['polling', 'websocket']  (handshake over polling,
//              then the upgrade; ctx.connect waits until the upgrade is done
//              so that every scenario runs on the upgraded connection; the
//              scenario "upgrade-midflight" sends traffic during it)
'use strict';

var common = require('./modern-scenarios-common');
var client = require('socket.io-client-4');
var io = client.io;
var Manager = client.Manager;

var canonical = common.canonical;
var sleep = common.sleep;

// Known deviations of the reference (socket.io@4.8) from the contract: none
// so far. Same format as scenarios.js's list.
var referenceKnownFailures = [];

var TRANSPORTS = ['websocket', 'polling', 'upgrade'];

var LIFECYCLE = ['connect', 'connect_error', 'disconnect'];

// ---------------------------------------------------------------------------
// What socket.io-client 4.x does its own way (see modern-scenarios-common.js
// for each field).

var GENERATION = {
  transports: TRANSPORTS,
  io: io,
  Manager: Manager,
  runSuffix: '',
  closeMethod: '_close',
  connectErrorData: true,

  // Every server event through onAny; the lifecycle events are connect,
  // connect_error and disconnect.
  recordEvents: function (socket, push) {
    socket.onAny(function (name) {
      var args = common.slice(arguments, 1);
      push(name, common.plain(args), typeof args[args.length - 1] === 'function');
    });
  },
  isLifecycle: function (e) { return LIFECYCLE.indexOf(e.name) >= 0; },

  // opts.query is an object, opts.auth the CONNECT payload.
  socketOptions: function (opts) {
    return opts.auth !== undefined ? { auth: opts.auth } : {};
  },
  engineOptions: function (o, opts) {
    if (opts.auth !== undefined) o.auth = opts.auth;
  },

  // Heartbeats (Engine.IO v4: the server pings, the client pongs).
  heartbeat: { event: 'ping', count: 'pings', intervalField: '_pingInterval' },

  // The client adds t=<random> to polling requests.
  handshakeQuery: { EIO: '4', pollingKeys: ['EIO', 'foo', 't', 'transport', 'utf', 'x'] },

  auth: function (ns) {
    return async function (ctx) {
      var payload = { token: 'abc', n: [1, '二', null], nested: { ok: true } };
      var a = await ctx.connect(ns, { auth: payload, label: 'with-auth' });
      var b = await ctx.connect(ns, { label: 'without-auth' });
      var e = await ctx.connect(ns, { auth: {}, label: 'empty-auth' });
      ctx.obs.withAuth = await a.call('auth');
      ctx.obs.withoutAuth = await b.call('auth');
      ctx.obs.emptyAuth = await e.call('auth');
      ctx.expectSame('auth ack', ctx.obs.withAuth, [payload]);
      ctx.expectSame('auth ack without payload', ctx.obs.withoutAuth, [null]);
      ctx.expectSame('auth ack with {}', ctx.obs.emptyAuth, [{}]);
    };
  },

  privateScenarios: [
    {
      name: 'private.no-auth',
      run: async function (ctx) {
        var a = ctx.open('/private');
        await a.waitFor('waiting for the refusal', function () { return a.lifecycle().length > 0; });
        await sleep(100);
        ctx.obs.lifecycle = a.lifecycle();
        ctx.expectSame('lifecycle', ctx.obs.lifecycle, [['connect_error', { message: 'unauthorized' }]]);
      }
    },
    {
      name: 'private.wrong-auth',
      run: async function (ctx) {
        var a = ctx.open('/private', { auth: { token: 'wrong' } });
        var b = ctx.open('/private', { auth: { token: ['secret'] } });
        var c = ctx.open('/private', { query: { token: 'wrong' }, auth: { other: 'secret' } });
        for (var x of [a, b, c]) {
          await x.waitFor('waiting for the refusal', function () { return x.lifecycle().length > 0; });
        }
        await sleep(100);
        ctx.obs.lifecycles = [a.lifecycle(), b.lifecycle(), c.lifecycle()];
        var refused = [['connect_error', { message: 'unauthorized' }]];
        ctx.expectSame('lifecycles', ctx.obs.lifecycles, [refused, refused, refused]);
      }
    },
    {
      name: 'private.auth',
      run: async function (ctx) {
        var a = await ctx.connect('/private', { auth: { token: 'secret' } });
        ctx.obs.ack = await a.call('echo', 'in private', 1, Buffer.from([1]));
        ctx.expectSame('echo ack', ctx.obs.ack, ['in private', 1, Buffer.from([1])]);
        a.emit('echo', 'event');
        ctx.obs.event = await a.next('echo');
        ctx.expectSame('echo event', ctx.obs.event, ['event']);
        ctx.obs.auth = await a.call('auth');
        ctx.expectSame('auth ack', ctx.obs.auth, [{ token: 'secret' }]);
      }
    },
    {
      name: 'private.query-token',
      run: async function (ctx) {
        var a = await ctx.connect('/private', { query: { token: 'secret' } });
        ctx.obs.ack = await a.call('echo', 'query token');
        ctx.expectSame('echo ack', ctx.obs.ack, ['query token']);
      }
    },
    {
      // One connection: the default namespace without auth, /private refused,
      // then /private with the token: auth is per namespace (CONNECT packet).
      name: 'private.multiplexed',
      run: async function (ctx) {
        var m = ctx.manager();
        var main = await ctx.connect('/', { manager: m, label: 'default' });
        var denied = ctx.open('/private', { manager: m, auth: { token: 'nope' }, label: 'denied' });
        await denied.waitFor('waiting for the refusal', function () { return denied.lifecycle().length > 0; });
        ctx.obs.denied = denied.lifecycle();
        ctx.obs.defaultStillConnected = main.s.connected;
        ctx.obs.defaultEcho = await main.call('echo', 'still');
        ctx.expectSame('denied', ctx.obs.denied, [['connect_error', { message: 'unauthorized' }]]);
        ctx.expectSame('default still connected', ctx.obs.defaultStillConnected, true);
        ctx.expectSame('default echo', ctx.obs.defaultEcho, ['still']);
        // A second Manager.socket('/private') would return the same client
        // socket; open /chat with auth to check auth is per namespace.
        var chat = await ctx.connect('/chat', { manager: m, auth: { who: 'chat' }, label: 'chat' });
        ctx.obs.chatAuth = await chat.call('auth');
        ctx.obs.defaultAuth = await main.call('auth');
        ctx.obs.sameEngine = main.s.io.engine === chat.s.io.engine;
        ctx.expectSame('chat auth', ctx.obs.chatAuth, [{ who: 'chat' }]);
        ctx.expectSame('default auth', ctx.obs.defaultAuth, [null]);
        ctx.expectSame('one connection', ctx.obs.sameEngine, true);
      }
    }
  ],

  invalidNamespace: [['connect_error', { message: 'Invalid namespace' }]]
};

var gen = common.generation(GENERATION);

module.exports = {
  scenarios: gen.scenarios,
  referenceKnownFailures: referenceKnownFailures,
  transports: TRANSPORTS,
  Context: gen.Context,
  canonical: canonical,
  io: io,
  Manager: Manager
};
