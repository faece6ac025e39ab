#!/usr/bin/env node
// run-scenarios.js — runs the scenarios of scenarios.js with the real
// socket.io-client@0.9.16 against a testapp server (siogo's
// examples/testapp or the reference, reftestapp.js).
//
//   node run-scenarios.js --url http://127.0.0.1:PORT
//       --transport websocket|xhr-polling|jsonp-polling
//       [--only name1,name2] [--timeout-ms 5000] [--budget-ms 50000]
//   node run-scenarios.js --list
//
// --timeout-ms bounds each scenario; --budget-ms bounds the whole run: once
// it is spent, the remaining scenarios are reported as failed without being
// run, so a dead server cannot make one transport take minutes.
//
// stdout: exactly one JSON line per scenario,
//   {"scenario":NAME,"transport":T,"pass":BOOL,"observed":OBJ,"error":STR}
// and nothing else (logs go to stderr). "observed" is normalized (sorted
// keys, no session ids, timestamps or random room names) so the lines of two
// servers can be compared for equality. The exit status is 0 even when
// scenarios fail; 1 only when the harness itself breaks (bad arguments, a
// crash). --list prints one JSON object {scenarios:[names],
// referenceKnownFailures:[...]} instead.
//
// Transports in Node: socket.io-client 0.9.16 registers only "websocket"
// (via the npm `ws` package) and "xhr-polling" (via the npm `xmlhttprequest`
// package) when it runs under Node (lib/io.js sets
// io.transports = ['websocket', 'xhr-polling']). "jsonp-polling" and
// "htmlfile" need a DOM (script tags, forms, iframes, ActiveX) and are not
// even loaded; a client asking for them alone would just fire connect_failed
// after the handshake. Rather than fake a DOM, an unsupported transport is
// reported as a single line
//   {"scenario":"transport-supported","transport":T,"pass":false,...}
// and the browser tests (real socket.io.js in Chromium) cover it instead.
'use strict';

var lib = require('./scenarios');
var io = lib.io;

function usage(msg) {
  process.stderr.write('run-scenarios: ' + msg + '\n' +
    'usage: node run-scenarios.js --url http://HOST:PORT --transport T ' +
    '[--only a,b] [--timeout-ms N] [--budget-ms N] | --list\n');
  process.exit(1);
}

function parseArgs(argv) {
  var o = { url: '', transport: '', only: null, timeoutMs: 5000, budgetMs: 50000, list: false };
  for (var i = 0; i < argv.length; i++) {
    var m = /^--?([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) usage('unexpected argument ' + argv[i]);
    var key = m[1];
    if (key === 'list') { o.list = true; continue; }
    var v = m[2];
    if (v === undefined) {
      if (i + 1 >= argv.length) usage('missing value for ' + argv[i]);
      v = argv[++i];
    }
    switch (key) {
      case 'url': o.url = v; break;
      case 'transport': o.transport = v; break;
      case 'only': o.only = v.split(',').map(function (s) { return s.trim(); }).filter(Boolean); break;
      case 'timeout-ms': o.timeoutMs = Number(v); break;
      case 'budget-ms': o.budgetMs = Number(v); break;
      default: usage('unknown flag --' + key);
    }
  }
  if (o.list) return o;
  if (!/^https?:\/\/[^\/]+\/?$/.test(o.url)) usage('--url must be http://HOST:PORT');
  if (!o.transport) usage('--transport is required');
  if (!(o.timeoutMs > 0)) usage('--timeout-ms must be positive');
  if (!(o.budgetMs > 0)) usage('--budget-ms must be positive');
  return o;
}

// JSON line for stdout; U+2028/U+2029 escaped so the line is plain ASCII-safe
// for every line-oriented reader.
function line(obj) {
  var s = JSON.stringify(obj).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  process.stdout.write(s + '\n');
}

function runOne(sc, opts) {
  var ctx = new lib.Context({ url: opts.url, transport: opts.transport });
  var timer;
  var started = Date.now();
  var timeout = new Promise(function (resolve, reject) {
    timer = setTimeout(function () {
      reject(new Error('timeout after ' + opts.timeoutMs + 'ms while ' + ctx.where));
    }, opts.timeoutMs);
  });
  var run = Promise.resolve().then(function () { return sc.run(ctx); });
  return Promise.race([run, timeout]).then(function () {
    return null;
  }, function (err) {
    return err && err.message ? err.message : String(err);
  }).then(function (fatal) {
    clearTimeout(timer);
    ctx.cleanup();
    var errors = ctx.errors.slice();
    if (fatal) errors.unshift(fatal);
    var result = {
      scenario: sc.name,
      transport: opts.transport,
      pass: errors.length === 0,
      observed: lib.canonical(ctx.obs),
      error: errors.join('; ')
    };
    line(result);
    process.stderr.write('[' + opts.transport + '] ' + sc.name + ': ' +
      (result.pass ? 'ok' : 'FAIL ' + result.error) + ' (' + (Date.now() - started) + 'ms)\n');
    // Give the disconnect packets a moment to leave before the next
    // scenario starts.
    return new Promise(function (resolve) { setTimeout(resolve, 20); });
  });
}

function main() {
  var opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    line({
      scenarios: lib.scenarios.map(function (s) { return s.name; }),
      referenceKnownFailures: lib.referenceKnownFailures
    });
    return Promise.resolve();
  }

  // Is the transport implemented by the client under Node at all?
  var registered = io.transports.filter(function (t, i, a) { return a.indexOf(t) === i; }).sort();
  var T = io.Transport[opts.transport];
  if (typeof T !== 'function' || typeof T.check !== 'function' || !T.check()) {
    line({
      scenario: 'transport-supported',
      transport: opts.transport,
      pass: false,
      observed: { registered: registered },
      error: 'socket.io-client 0.9.16 does not provide the "' + opts.transport +
        '" transport under Node (it needs a browser DOM); use the browser tests'
    });
    return Promise.resolve();
  }

  var list = lib.scenarios;
  if (opts.only) {
    var unknown = opts.only.filter(function (n) {
      return !list.some(function (s) { return s.name === n; });
    });
    if (unknown.length) usage('unknown scenario(s): ' + unknown.join(', '));
    list = list.filter(function (s) { return opts.only.indexOf(s.name) >= 0; });
  }

  var deadline = Date.now() + opts.budgetMs;
  return list.reduce(function (p, sc) {
    return p.then(function () {
      var left = deadline - Date.now();
      if (left < 200) {
        line({ scenario: sc.name, transport: opts.transport, pass: false, observed: {},
          error: 'not run: the run budget of ' + opts.budgetMs + 'ms was used up' });
        return null;
      }
      return runOne(sc, { url: opts.url, transport: opts.transport,
        timeoutMs: Math.min(opts.timeoutMs, left) });
    });
  }, Promise.resolve());
}

// A stray exception from inside the client library (e.g. a socket error in
// a callback) must not kill the run silently; log it and carry on. The
// scenario it belonged to will time out or fail its checks.
process.on('uncaughtException', function (err) {
  process.stderr.write('run-scenarios: uncaught exception: ' + (err && err.stack || err) + '\n');
});

main().then(function () {
  // Everything was cleaned up; exit explicitly anyway so a stray handle in
  // the client library (keep-alive sockets, timers) cannot hang the run.
  process.stdout.write('', function () { process.exit(0); });
}, function (err) {
  process.stderr.write('run-scenarios: ' + (err && err.stack || err) + '\n');
  process.exit(1);
});
