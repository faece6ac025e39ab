#!/usr/bin/env node
// run-scenarios2.js — runs the scenarios of scenarios2.js with the real
// socket.io-client@2.5.0 (Engine.IO v3) against a testapp server (siogo's
// examples/testapp once it serves Engine.IO v3, or the reference,
// reftestapp4.js).
//
//   node run-scenarios2.js --url http://127.0.0.1:PORT
//       --transport websocket|polling|upgrade|polling-base64
//       [--only name1,name2] [--timeout-ms 10000] [--budget-ms 120000]
//   node run-scenarios2.js --list
//
// --transport: websocket = websocket only; polling = HTTP long-polling
// only; upgrade = polling then the upgrade to websocket; polling-base64 =
// polling only with forceBase64 (see scenarios2.js).
// --timeout-ms bounds each scenario; --budget-ms bounds the whole run: once
// it is spent, the remaining scenarios are reported as failed without being
// run.
//
// stdout: exactly one JSON line per scenario,
//   {"scenario":NAME,"transport":T,"pass":BOOL,"observed":OBJ,"error":STR}
// and nothing else (logs go to stderr), as run-scenarios.js. "observed" is
// normalized so that the lines of two servers can be compared for equality.
// The exit status is 0 even when scenarios fail; 1 only when the harness
// itself breaks, 2 on bad usage. --list prints one JSON object
// {scenarios:[names], transports:[names], referenceKnownFailures:[...]}.
'use strict';

var lib = require('./scenarios2');

function usage(msg) {
  process.stderr.write('run-scenarios2: ' + msg + '\n' +
    'usage: node run-scenarios2.js --url http://HOST:PORT --transport websocket|polling|upgrade|polling-base64 ' +
    '[--only a,b] [--timeout-ms N] [--budget-ms N] | --list\n');
  process.exit(2);
}

function parseArgs(argv) {
  var o = { url: '', transport: '', only: null, timeoutMs: 10000, budgetMs: 120000, list: false };
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
  if (lib.transports.indexOf(o.transport) < 0) usage('--transport must be one of ' + lib.transports.join(', '));
  if (!(o.timeoutMs > 0)) usage('--timeout-ms must be positive');
  if (!(o.budgetMs > 0)) usage('--budget-ms must be positive');
  return o;
}

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
    ctx.verifyTransports();
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
    // Let the disconnect packets leave before the next scenario starts.
    return new Promise(function (resolve) { setTimeout(resolve, 20); });
  });
}

function main() {
  var opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    line({
      scenarios: lib.scenarios.map(function (s) { return s.name; }),
      transports: lib.transports,
      referenceKnownFailures: lib.referenceKnownFailures
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

process.on('uncaughtException', function (err) {
  process.stderr.write('run-scenarios2: uncaught exception: ' + (err && err.stack || err) + '\n');
});

main().then(function () {
  process.stdout.write('', function () { process.exit(0); });
}, function (err) {
  process.stderr.write('run-scenarios2: ' + (err && err.stack || err) + '\n');
  process.exit(1);
});
