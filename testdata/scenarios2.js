// scenarios2.js — client scenarios for the testapp contract (TESTAPP.md:
// "Events", "ACL namespace", "Modern clients") driven by the real
// socket.io-client@2.5.0 (npm alias socket.io-client-2): Engine.IO v3, the
// Socket.IO protocol v4 as 2.x clients speak it.
//
// Same shape and observation format as scenarios4.js (whose canonical() it
// uses): each scenario is { name, run(ctx) }; run() fills ctx.obs with a
// normalized, deterministic observation and records failed expectations
// with ctx.check(), so that the observations of the Node reference
// (reftestapp4.js, socket.io@4.8 with allowEIO3) and of siogo
// (examples/testapp) can be compared for equality. The Client, the Context
// and the scenarios that both generations run alike live in
// modern-scenarios-common.js (scenarios4.js uses them too); this file
// gives what is 2.x's own (GENERATION below).
//
// Where a 2.x client differs from a 4.x one:
//   - no auth payload: /private takes the token from the namespace query
//     (manager.socket('/private', {query: {token: 'secret'}}), sent in the
//     CONNECT packet as "0/private?token=secret,") or from the Engine.IO
//     handshake query; a refusal is the error packet
//     4/private,"unauthorized", which the client raises as its "error"
//     event (recorded in the lifecycle as ["error", "unauthorized"]); the
//     `auth` event acks null;
//   - the default namespace is connected without a CONNECT from the client;
//   - socket ids are "<nsp>#<engine id>" outside the default namespace (the
//     client computes them itself; the server sends none);
//   - heartbeats: the client pings, the server answers (engine "pong").
//
// Transports (run-scenarios2.js --transport):
//   websocket       transports: ['websocket']
//   polling         transports: ['polling'] (XHR2 binary payloads)
//   upgrade         transports: ['polling', 'websocket'] (ctx.connect waits
//                   until the upgrade is done)
//   polling-base64  transports: ['polling'], forceBase64: true (b64=1: text
//                   payloads, binary as "b4<base64>")
// (JSONP polling needs a browser: see browser2-scenarios.js.)
'use strict';

var common = require('./modern-scenarios-common');
var client = require('socket.io-client-2');
var io = client;
var Manager = client.Manager;

var canonical = common.canonical;
var sleep = common.sleep;

// Known deviations of the reference (socket.io@4.8 with allowEIO3) from the
// contract: none so far. Same format as scenarios.js's list.
var referenceKnownFailures = [];

var TRANSPORTS = ['websocket', 'polling', 'upgrade', 'polling-base64'];

// ---------------------------------------------------------------------------
// What socket.io-client 2.x does its own way (see modern-scenarios-common.js
// for each field).
//
// (The default namespace must be the first socket opened on a 2.x Manager,
// in the same tick as the Manager: the server connects it implicitly, and a
// "/" socket opened after its CONNECT arrived waits for ever.)

var GENERATION = {
  transports: TRANSPORTS,
  io: io,
  Manager: Manager,
  // (The ".v2" suffix of run keeps room names from ever being 20 characters
  // long, the shape of a socket id.)
  runSuffix: '.v2',
  closeMethod: 'close',
  connectErrorData: false,

  // The lifecycle of a namespace socket: connect, the namespace's error
  // packet (a refusal), the Manager's connect_error (the Engine.IO
  // connection could not open), disconnect. 2.x has no onAny: Socket#onevent
  // is wrapped. A server event called "error" (the ACL's refusal) is
  // recorded as a server event; the error packet as the lifecycle entry
  // "error".
  recordEvents: function (socket, push) {
    // Socket#onpacket is bound when the socket opens (in its constructor),
    // so the error packet is told from the server event "error" by whether
    // onevent is running.
    var inEvent = false;
    var onevent = socket.onevent;
    socket.onevent = function (packet) {
      var data = packet.data || [];
      push(String(data[0]), common.plain(data.slice(1)), packet.id !== undefined && packet.id !== null);
      inEvent = true;
      try { return onevent.apply(this, arguments); } finally { inEvent = false; }
    };
    socket.on('error', function (data) {
      if (!inEvent) push('error', [canonical(data)], false, true);
    });
  },
  isLifecycle: function (e) { return e.lifecycle; },

  // opts.query is the query of both the Engine.IO handshake and the
  // namespace on its own connection (socket.io-client 2.x sends it in both
  // places); on opts.manager's connection, opts.query is the namespace
  // query only. opts.auth is refused: 2.x has no auth payload.
  socketOptions: function (opts) {
    if (opts.auth !== undefined) throw new Error('socket.io-client 2.x has no auth payload');
    return opts.query ? { query: opts.query } : {};
  },
  engineOptions: function (o, opts, ctx) {
    o.forceBase64 = ctx.transport === 'polling-base64';
  },

  // Heartbeats (Engine.IO v3: the client pings, the server pongs).
  heartbeat: { event: 'pong', count: 'pongs', intervalField: 'pingInterval' },

  // The client adds t=<random> to polling requests and, in Node (no XHR2
  // binary responses there) or with forceBase64, b64=1.
  handshakeQuery: { EIO: '3', pollingKeys: ['EIO', 'b64', 'foo', 't', 'transport', 'utf', 'x'] },

  // A 2.x client sends no CONNECT auth payload: auth acks null, with or
  // without a namespace query (the query is not an auth payload).
  auth: function (ns) {
    return async function (ctx) {
      var a = await ctx.connect(ns, { label: 'plain' });
      var m = ctx.manager();
      var d = await ctx.connect('/', { manager: m, label: 'default' });
      var c = await ctx.connect('/chat', { manager: m, query: { token: 'abc', n: '1' }, label: 'namespace-query' });
      ctx.obs.plain = await a.call('auth');
      ctx.obs.default = await d.call('auth');
      ctx.obs.namespaceQuery = await c.call('auth');
      ctx.expectSame('auth ack', ctx.obs.plain, [null]);
      ctx.expectSame('auth ack (default namespace)', ctx.obs.default, [null]);
      ctx.expectSame('auth ack with a namespace query', ctx.obs.namespaceQuery, [null]);
    };
  },

  privateScenarios: [
    {
      // No token anywhere: the error packet 4/private,"unauthorized".
      name: 'private.no-auth',
      run: async function (ctx) {
        var a = ctx.open('/private');
        await a.waitFor('waiting for the refusal', function () { return a.lifecycle().length > 0; });
        await sleep(100);
        ctx.obs.lifecycle = a.lifecycle();
        ctx.obs.connected = a.s.connected;
        ctx.expectSame('lifecycle', ctx.obs.lifecycle, [['error', 'unauthorized']]);
        ctx.expectSame('connected', ctx.obs.connected, false);
      }
    },
    {
      // Wrong tokens, in the handshake query (and so the namespace query), in
      // the namespace query only, and a token under another key.
      name: 'private.wrong-token',
      run: async function (ctx) {
        var a = ctx.open('/private', { query: { token: 'wrong' }, label: 'handshake-query' });
        var m = ctx.manager({ query: { token: 'wrong' } });
        var b = ctx.open('/private', { manager: m, query: { token: 'nope' }, label: 'namespace-query' });
        var c = ctx.open('/private', { query: { other: 'secret' }, label: 'other-key' });
        for (var x of [a, b, c]) {
          await x.waitFor('waiting for the refusal', function () { return x.lifecycle().length > 0; });
        }
        await sleep(100);
        ctx.obs.lifecycles = [a.lifecycle(), b.lifecycle(), c.lifecycle()];
        var refused = [['error', 'unauthorized']];
        ctx.expectSame('lifecycles', ctx.obs.lifecycles, [refused, refused, refused]);
      }
    },
    {
      // The token in the handshake query (and so in the namespace query too:
      // socket.io-client 2.x sends opts.query in both).
      name: 'private.query-token',
      run: async function (ctx) {
        var a = await ctx.connect('/private', { query: { token: 'secret' } });
        ctx.obs.ack = await a.call('echo', 'query token', 1, Buffer.from([1]));
        ctx.expectSame('echo ack', ctx.obs.ack, ['query token', 1, Buffer.from([1])]);
        a.emit('echo', 'event');
        ctx.obs.event = await a.next('echo');
        ctx.expectSame('echo event', ctx.obs.event, ['event']);
        ctx.obs.auth = await a.call('auth');
        ctx.expectSame('auth ack', ctx.obs.auth, [null]);
      }
    },
    {
      // The token in the Engine.IO handshake query only: the CONNECT packet
      // for /private carries no query.
      name: 'private.handshake-token',
      run: async function (ctx) {
        var m = ctx.manager({ query: { token: 'secret' } });
        var a = await ctx.connect('/private', { manager: m });
        ctx.obs.ack = await a.call('echo', 'handshake token');
        ctx.expectSame('echo ack', ctx.obs.ack, ['handshake token']);
        var hs = await a.call('handshake');
        ctx.obs.handshakeToken = hs[0] && hs[0].query ? hs[0].query.token : null;
        ctx.expectSame('handshake token', ctx.obs.handshakeToken, 'secret');
      }
    },
    {
      // One connection without a token: the default namespace, /private
      // refused, then /chat, and /private on a second connection with the
      // token in the namespace query only (0/private?token=secret,): the
      // namespace query is per namespace.
      name: 'private.namespace-query',
      run: async function (ctx) {
        var m = ctx.manager();
        var main = await ctx.connect('/', { manager: m, label: 'default' });
        var denied = ctx.open('/private', { manager: m, label: 'denied' });
        await denied.waitFor('waiting for the refusal', function () { return denied.lifecycle().length > 0; });
        ctx.obs.denied = denied.lifecycle();
        ctx.obs.defaultStillConnected = main.s.connected;
        ctx.obs.defaultEcho = await main.call('echo', 'still');
        ctx.expectSame('denied', ctx.obs.denied, [['error', 'unauthorized']]);
        ctx.expectSame('default still connected', ctx.obs.defaultStillConnected, true);
        ctx.expectSame('default echo', ctx.obs.defaultEcho, ['still']);
        var m2 = ctx.manager();
        var main2 = await ctx.connect('/', { manager: m2, label: 'default2' });
        var priv = await ctx.connect('/private', { manager: m2, query: { token: 'secret' }, label: 'private' });
        ctx.obs.privateEcho = await priv.call('echo', 'in private', Buffer.from([2]));
        ctx.obs.sameEngine = main2.s.io.engine === priv.s.io.engine;
        var hs = await priv.call('handshake');
        ctx.obs.handshakeToken = hs[0] && hs[0].query && hs[0].query.token !== undefined ? hs[0].query.token : null;
        ctx.expectSame('private echo', ctx.obs.privateEcho, ['in private', Buffer.from([2])]);
        ctx.expectSame('one connection', ctx.obs.sameEngine, true);
        ctx.expectSame('no token in the handshake query', ctx.obs.handshakeToken, null);
      }
    }
  ],

  // An unknown namespace: the error packet socket.io 4 sends 2.x clients,
  // 4/nope,{"message":"Invalid namespace"} (TESTAPP.md gives the v4 form
  // only).
  invalidNamespace: [['error', { message: 'Invalid namespace' }]]
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
