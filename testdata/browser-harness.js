// browser-harness.js — what browser2-scenarios.js (socket.io-client@2.5.0)
// and browser4.js (socket.io-client@4.8) share: the command line, the static
// server for the page and the client file, Chromium, running the page's
// scenarios per transport and printing one JSON line each. Each script gives
// its page, client file and defaults to run() (see its header for the flags,
// the transports and the output).
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

const { CHROMIUM_ARGS, findChromium } = require('./chromium');

// The harness's settings (see run); set once by run.
let cfg = null;

function log(...a) { process.stderr.write('[' + cfg.logTag + '] ' + a.join(' ') + '\n'); }

function usage(msg) {
  if (msg) log(msg);
  process.stderr.write('usage: node ' + cfg.script + ' --url http://HOST:PORT ' +
    '[--transports ' + cfg.transports.join(',') + '] [--scenarios a,b] ' +
    '[--timeout-ms 8000] [--budget-ms ' + cfg.budgetMs + '] [--screenshot-dir DIR] [--chromium PATH] [--verbose]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = {
    url: null,
    transports: cfg.transports.slice(),
    scenarios: null,
    timeoutMs: 8000,
    budgetMs: cfg.budgetMs,
    screenshotDir: null,
    chromium: null,
    verbose: false,
  };
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
    const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);
    switch (k) {
      case '--url': o.url = val(); break;
      case '--transports': o.transports = list(val()); break;
      case '--scenarios': o.scenarios = list(val()); break;
      case '--timeout-ms': o.timeoutMs = Number(val()); break;
      case '--budget-ms': o.budgetMs = Number(val()); break;
      case '--screenshot-dir': o.screenshotDir = val(); break;
      case '--chromium': o.chromium = val(); break;
      case '--verbose': o.verbose = true; break;
      case '-h': case '--help': usage(); break;
      default: usage('unknown argument ' + a);
    }
  }
  if (!o.url) usage('--url is required');
  let u;
  try { u = new URL(o.url); } catch (e) { usage('bad --url ' + o.url); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') usage('--url must be http(s)');
  o.url = u.origin; // the client appends /socket.io/ itself
  if (!(o.timeoutMs > 0)) usage('bad --timeout-ms');
  if (!(o.budgetMs > 0)) usage('bad --budget-ms');
  if (!o.transports.length) usage('no transports');
  return o;
}


// Static server for the page and the real client file (read at run time).
function startStatic() {
  const page = fs.readFileSync(cfg.pageFile);
  const client = fs.readFileSync(cfg.clientFile);
  const pagePath = '/' + path.basename(cfg.pageFile);
  const clientPath = '/' + path.basename(cfg.clientFile);
  const srv = http.createServer((req, res) => {
    const p = req.url.split('?')[0];
    let body = null, type = null;
    if (p === '/' || p === pagePath) { body = page; type = 'text/html; charset=utf-8'; }
    else if (p === clientPath) { body = client; type = 'application/javascript; charset=utf-8'; }
    if (p === '/favicon.ico') { res.writeHead(204); res.end(); return; }
    if (!body) { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('not found'); return; }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error(what + ': no answer after ' + ms + 'ms')), ms); }),
  ]).finally(() => clearTimeout(t));
}

async function runTransport(browser, opts, transport, pageURL, scenarioNames, deadline) {
  const tag = '[' + transport + ']';
  const results = [];
  const context = await browser.newContext({ viewport: { width: 960, height: 720 } });
  try {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning' || opts.verbose) {
        const loc = m.location && m.location();
        const url = loc && loc.url || '';
        // The handshake-deny scenario provokes a 403 on purpose.
        const expected = /[?&]deny=1(&|$)/.test(url) ? ' [expected]' : '';
        log(tag, 'console.' + m.type() + ':', m.text(), url ? '(' + url + ')' : '', expected);
      }
    });
    page.on('pageerror', (e) => log(tag, 'page error:', e && e.stack || e));
    page.on('crash', () => log(tag, 'page crashed'));
    if (opts.verbose) {
      page.on('request', (r) => {
        if (r.url().startsWith(opts.url + '/')) log(tag, 'request:', r.method(), r.resourceType(), r.url().slice(opts.url.length));
      });
      page.on('websocket', (ws) => log(tag, 'websocket:', ws.url()));
      page.on('requestfailed', (r) => log(tag, 'request failed:', r.method(), r.url(), r.failure() && r.failure().errorText));
    }

    const load = async () => {
      await page.goto(pageURL, { waitUntil: 'load', timeout: 10000 });
      const ready = await page.evaluate(() => window.siogo && window.siogo.ready);
      if (!ready) throw new Error('page loaded but ' + path.basename(cfg.clientFile) + ' / harness not ready');
    };

    for (const name of scenarioNames) {
      const left = deadline - Date.now();
      if (left < 500) {
        results.push({ scenario: name, transport, pass: false, observed: null,
          error: 'skipped: run budget (--budget-ms) exhausted' });
        continue;
      }
      const t = Math.min(opts.timeoutMs, left);
      const started = Date.now();
      let r;
      try {
        await load();
        await page.evaluate(([u, tr]) => window.siogo.setMeta(u, tr), [opts.url, transport]);
        r = await withTimeout(
          page.evaluate(([n, o]) => window.siogo.run(n, o), [name, { url: opts.url, transport, timeoutMs: t }]),
          t + 3000, 'page');
      } catch (e) {
        r = { scenario: name, transport, pass: false, observed: null,
          error: 'harness: ' + String(e && e.message || e).split('\n')[0] };
      }
      log(tag, (r.pass ? 'PASS' : 'FAIL'), name, (Date.now() - started) + 'ms', r.error ? '- ' + r.error : '');
      results.push({ scenario: r.scenario, transport: r.transport, pass: !!r.pass,
        observed: r.observed === undefined ? null : r.observed, error: r.error || '' });
    }

    if (opts.screenshotDir) {
      try {
        await load();
        await page.evaluate(([u, tr, rs]) => { window.siogo.setMeta(u, tr); window.siogo.render(rs, false); },
          [opts.url, transport, results]);
        fs.mkdirSync(opts.screenshotDir, { recursive: true });
        const file = path.join(opts.screenshotDir, cfg.screenshotPrefix + transport + '.png');
        await page.screenshot({ path: file, fullPage: true, timeout: 10000 });
        log(tag, 'screenshot', file);
      } catch (e) {
        log(tag, 'screenshot failed:', e && e.message || e);
      }
    }
  } finally {
    await context.close().catch(() => {});
  }
  return results;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const deadline = t0 + opts.budgetMs;
  let browser = null, staticSrv = null;

  const hard = setTimeout(() => {
    log('hard time limit reached (' + cfg.hardLimitMs + 'ms); giving up');
    if (browser) browser.close().catch(() => {});
    process.exit(1);
  }, cfg.hardLimitMs);
  hard.unref();

  try {
    staticSrv = await startStatic();
    const pageURL = 'http://127.0.0.1:' + staticSrv.address().port + '/';
    log('page served at', pageURL, '- server under test', opts.url);

    const exe = findChromium(opts.chromium);
    if (!exe) { log('no chromium found (set --chromium or CHROMIUM)'); return 1; }
    const { chromium } = require('playwright-core');
    try {
      browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, headless: true, timeout: 20000 });
    } catch (e) {
      log('cannot start browser', exe + ':', String(e && e.message || e).split('\n')[0]);
      return 1;
    }
    log('browser', exe, browser.version());

    // Scenario names come from the page itself.
    let all, known;
    {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.goto(pageURL, { waitUntil: 'load', timeout: 10000 });
      all = await p.evaluate(() => window.siogo && window.siogo.ready ? window.siogo.scenarios : null);
      known = all && await p.evaluate(() => window.siogo.transports);
      await ctx.close();
      if (!all) { log('harness page did not load ' + path.basename(cfg.clientFile)); return 1; }
    }
    const badTransports = opts.transports.filter((t) => !known.includes(t));
    if (badTransports.length) { log('unknown transports:', badTransports.join(','), '- known:', known.join(',')); return 2; }
    let names = all;
    if (opts.scenarios) {
      const unknown = opts.scenarios.filter((s) => !all.includes(s));
      if (unknown.length) { log('unknown scenarios:', unknown.join(','), '- known:', all.join(',')); return 2; }
      names = all.filter((n) => opts.scenarios.includes(n)); // page order
    }

    const namesFor = () => names;
    const perTransport = await Promise.all(
      opts.transports.map((tr) => runTransport(browser, opts, tr, pageURL, namesFor(tr), deadline)));

    let pass = 0, total = 0;
    for (const rs of perTransport) {
      for (const r of rs) {
        total++; if (r.pass) pass++;
        process.stdout.write(JSON.stringify(r) + '\n');
      }
    }
    log(pass + '/' + total + ' passed in ' + (Date.now() - t0) + 'ms');
    return 0;
  } catch (e) {
    log('harness error:', e && e.stack || e);
    return 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (staticSrv) staticSrv.close();
  }
}

// run runs the harness with settings c and exits:
//   script            the script's name (usage)
//   logTag            the prefix of log lines
//   pageFile          the harness page (served at / and at its own name)
//   clientFile        the client's browser build (served at its own name)
//   transports        the default --transports
//   budgetMs          the default --budget-ms
//   hardLimitMs       the time after which the process gives up (exit 1)
//   screenshotPrefix  screenshots are <dir>/<prefix><transport>.png
function run(c) {
  cfg = c;
  main().then((code) => {
    // Flush stdout before exiting.
    process.stdout.write('', () => process.exit(code));
  }, (e) => { log('fatal:', e && e.stack || e); process.exit(1); });
}

module.exports = { run };
