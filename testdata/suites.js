#!/usr/bin/env node
// Runs one official conformance suite (../shared/suites/<name>, copied to a
// writable folder and `npm ci`-ed there) in headless Chromium:
//
//   node suites.js --suite DIR [--server-url http://localhost:3000]
//       [--timeout-ms 180000] [--json OUT] [--chromium PATH] [--verbose]
//
// DIR holds the suite's test-suite.js and its node_modules. A small static
// server on 127.0.0.1 (its own port, so another origin than the server under
// test: every request is cross-origin, as in upstream's index.html) serves a
// page that loads mocha.js, chai.js and chai-string.js from DIR/node_modules
// as classic scripts (test-suite.js expects the globals `chai` and `mocha`;
// in a browser it imports nothing, node-imports.js is Node-only), calls
// mocha.setup("bdd") and mocha.checkLeaks() like index.html, imports
// DIR/test-suite.js as a module, then runs mocha and reports every test
// back through an exposed function.
//
// The suites hard-code http://localhost:3000. With the default
// --server-url test-suite.js is served unmodified; with another URL its
// `const URL = "http://localhost:3000"` line is rewritten on the fly (only
// for ad-hoc runs: the conformance claim needs the default).
//
// Prints one JSON line per test on stdout,
//   {"suite":NAME,"title":FULL TITLE,"state":"passed"|"failed"|"pending","err":STR,"ms":N}
// then one summary line
//   {"summary":true,"suite":NAME,"passed":N,"failed":N,"pending":N,"total":N,"ms":N}
// (NAME is DIR's base name). --json OUT writes {"suite","tests":[...],"summary"}
// to OUT. Exit 0 when the suite ran, even with failing tests; 1 when the
// harness breaks (no browser, the page or suite does not load, no tests ran,
// --timeout-ms reached before mocha ended); 2 on bad usage.

'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

const { CHROMIUM_ARGS, findChromium } = require('./chromium');
const DEFAULT_URL = 'http://localhost:3000';

function log(...a) { process.stderr.write('[suites.js] ' + a.join(' ') + '\n'); }

function usage(msg) {
  if (msg) log(msg);
  process.stderr.write('usage: node suites.js --suite DIR [--server-url http://localhost:3000] ' +
    '[--timeout-ms 180000] [--json OUT] [--chromium PATH] [--verbose]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { suite: null, serverURL: DEFAULT_URL, timeoutMs: 180000, json: null, chromium: null, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    let k = a, v;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { k = a.slice(0, eq); v = a.slice(eq + 1); }
    const val = () => {
      if (v !== undefined) return v;
      if (i + 1 >= argv.length) usage('missing value for ' + k);
      return argv[++i];
    };
    switch (k) {
      case '--suite': o.suite = val(); break;
      case '--server-url': o.serverURL = val().replace(/\/+$/, ''); break;
      case '--timeout-ms': o.timeoutMs = Number(val()); break;
      case '--json': o.json = val(); break;
      case '--chromium': o.chromium = val(); break;
      case '--verbose': o.verbose = true; break;
      default: usage('unknown argument ' + a);
    }
  }
  if (!o.suite) usage('--suite is required');
  if (!Number.isFinite(o.timeoutMs) || o.timeoutMs <= 0) usage('bad --timeout-ms');
  if (!/^https?:\/\/[^/]+$/.test(o.serverURL)) usage('bad --server-url (want http://host:port)');
  return o;
}


const PAGE = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>conformance suite</title></head>
<body>
<div id="mocha"></div>
<script src="/node_modules/mocha/mocha.js"></script>
<script src="/node_modules/chai/chai.js"></script>
<script src="/node_modules/chai-string/chai-string.js"></script>
<script>
  mocha.setup("bdd");
  mocha.checkLeaks();
</script>
<script type="module">
  const report = (r) => window.__siogoReport(r);
  try {
    await import("/test-suite.js");
  } catch (e) {
    report({ event: "load-error", err: String(e && e.stack || e) });
    throw e;
  }
  const runner = mocha.run();
  const started = new Map();
  const ms = (t) => (typeof t.duration === "number" ? t.duration : 0);
  runner.on("pass", (t) => report({ event: "test", title: t.fullTitle(), state: "passed", ms: ms(t) }));
  runner.on("pending", (t) => report({ event: "test", title: t.fullTitle(), state: "pending", ms: 0 }));
  runner.on("fail", (t, err) => report({
    event: "test", title: t.fullTitle(), state: "failed", ms: ms(t),
    hook: t.type === "hook",
    err: String((err && (err.message || err)) || "failed"),
  }));
  runner.on("end", () => report({ event: "end", stats: runner.stats }));
</script>
</body>
</html>
`;

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.html': 'text/html', '.json': 'application/json' };

function startStatic(dir, serverURL) {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/' || u.pathname === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(PAGE);
      return;
    }
    const file = path.resolve(root, '.' + decodeURIComponent(u.pathname));
    if (!file.startsWith(root + path.sep)) { res.writeHead(403); res.end(); return; }
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404); res.end('not found'); return; }
      if (path.relative(root, file) === 'test-suite.js' && serverURL !== DEFAULT_URL) {
        data = Buffer.from(data.toString('utf8').replace(
          /const URL = "http:\/\/localhost:3000";/, 'const URL = ' + JSON.stringify(serverURL) + ';'));
      }
      res.writeHead(200, {
        'Content-Type': (TYPES[path.extname(file)] || 'application/octet-stream') + '; charset=utf-8',
        'Cache-Control': 'no-store',
      });
      res.end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dir = path.resolve(opts.suite);
  const name = path.basename(dir);
  for (const f of ['test-suite.js', 'node_modules/mocha/mocha.js', 'node_modules/chai/chai.js',
    'node_modules/chai-string/chai-string.js']) {
    if (!fs.existsSync(path.join(dir, f))) { log('missing ' + path.join(dir, f) + ' (copy the suite and npm ci in it)'); return 1; }
  }
  const exe = findChromium(opts.chromium);
  if (!exe) { log('no chromium found (set --chromium or CHROMIUM)'); return 1; }

  const t0 = Date.now();
  const tests = [];
  const byTitle = new Map();
  let ended = null;
  let loadError = null;
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });

  const onReport = (r) => {
    if (r.event === 'load-error') { loadError = r.err; resolveDone(); return; }
    if (r.event === 'end') { ended = r.stats || {}; resolveDone(); return; }
    if (r.event !== 'test') return;
    const prev = byTitle.get(r.title);
    if (prev) {
      // mocha can report a test twice (a failure after a timeout or pass):
      // failing wins, the first error is kept.
      if (r.state === 'failed' && prev.state !== 'failed') { prev.state = 'failed'; prev.err = r.err; }
      return;
    }
    const rec = { suite: name, title: r.title, state: r.state, err: r.err || '', ms: r.ms || 0 };
    byTitle.set(r.title, rec);
    tests.push(rec);
    if (opts.verbose) log(rec.state, rec.title, rec.err);
  };

  const stat = await startStatic(dir, opts.serverURL);
  const pageURL = 'http://127.0.0.1:' + stat.address().port + '/';
  const { chromium } = require('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'siogo-suites-chromium-'));
  let context;
  let code = 0;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: exe, args: CHROMIUM_ARGS, headless: true, timeout: 30000,
    });
    const page = context.pages()[0] || await context.newPage();
    await page.exposeFunction('__siogoReport', onReport);
    page.on('pageerror', (e) => log('page error:', e && e.message));
    page.on('console', (m) => { if (opts.verbose) log('console.' + m.type() + ':', m.text()); });
    await page.goto(pageURL, { waitUntil: 'load', timeout: 30000 });
    let timer;
    const timedOut = new Promise((r) => { timer = setTimeout(() => r('timeout'), Math.max(0, opts.timeoutMs - (Date.now() - t0))); });
    const how = await Promise.race([done, timedOut]);
    clearTimeout(timer);
    if (loadError) { log('the suite did not load:', loadError); code = 1; }
    else if (how === 'timeout') { log('mocha did not end within --timeout-ms ' + opts.timeoutMs); code = 1; }
    else if (tests.length === 0) { log('no tests ran'); code = 1; }
  } catch (e) {
    log('harness error:', e && e.stack || e);
    code = 1;
  } finally {
    if (context) await context.close().catch(() => {});
    stat.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }

  const count = (s) => tests.filter((t) => t.state === s).length;
  const summary = {
    summary: true, suite: name, passed: count('passed'), failed: count('failed'),
    pending: count('pending'), total: tests.length, ms: Date.now() - t0,
  };
  if (code !== 0) summary.error = 'harness error (see stderr)';
  for (const t of tests) process.stdout.write(JSON.stringify(t) + '\n');
  process.stdout.write(JSON.stringify(summary) + '\n');
  if (opts.json) {
    fs.mkdirSync(path.dirname(path.resolve(opts.json)), { recursive: true });
    fs.writeFileSync(opts.json, JSON.stringify({ suite: name, tests, summary }, null, 2) + '\n');
  }
  return code;
}

main().then((code) => process.exit(code), (e) => { log('harness error:', e && e.stack || e); process.exit(1); });
