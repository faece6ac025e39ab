#!/usr/bin/env node
// Browser end-to-end test of the tic-tac-toe page: headless Chromium
// (playwright-core from the repository's testdata/node_modules) runs the
// page with the real socket.io.js 0.9.16, or 4.x (?client=4), against a
// running server.
//
//   node examples/tictactoe/testdata/e2e.js --url http://127.0.0.1:8081
//       [--url URL2] [--transports websocket,xhr-polling] [--clients 0.9,4,4]
//       [--screenshot-dir DIR] [--chromium PATH] [--timeout-ms 8000]
//
// --clients lists the client the pages of ann, bob and cy load (default
// 0.9 for all; repeated as needed): "0.9,4,4" has a 0.9 player play a 4.x
// player, watched from a 4.x page. A 4.x page is given the transport
// "polling" for xhr-polling. The transport "auto" forces none: each page
// must end up on a WebSocket (0.9 starts there, 4.x upgrades from polling).
//
// For each transport (forced with ?transport=) two pages play while a third watches: pairing, an
// out-of-turn click refused with method_access_denied, a taken cell
// refused, a win with its line highlighted, a spectator's click refused, a
// rematch with the marks swapped, and the opponent leaving. The lobby pairs
// whoever comes first, so the transports share a server one after the
// other; given one --url per transport (servers of their own) they run at
// the same time. It prints one
// JSON line per transport on stdout:
//   {"scenario":"game","transport":"...","pass":bool,"observed":{...},"error":"..."}
// Exit 0 when the harness ran, 1 when it could not (no browser), 2 on bad usage.

'use strict';

const path = require('path');

const { CHROMIUM_ARGS, findChromium } = require(path.join(__dirname, '..', '..', '..', 'testdata', 'chromium.js'));

function log(...a) { process.stderr.write('[tictactoe e2e] ' + a.join(' ') + '\n'); }

function parseArgs(argv) {
  const o = { urls: [], transports: ['websocket', 'xhr-polling'], clients: ['0.9'], screenshotDir: null, chromium: null, timeoutMs: 8000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) { log('missing value for', k); process.exit(2); }
      return argv[++i];
    };
    switch (k) {
      case '--url': o.urls.push(val().replace(/\/+$/, '')); break;
      case '--transports': o.transports = val().split(',').filter(Boolean); break;
      case '--clients': o.clients = val().split(',').filter(Boolean); break;
      case '--screenshot-dir': o.screenshotDir = val(); break;
      case '--chromium': o.chromium = val(); break;
      case '--timeout-ms': o.timeoutMs = Number(val()); break;
      default: log('unknown argument', k); process.exit(2);
    }
  }
  if (!o.urls.length || (o.urls.length > 1 && o.urls.length !== o.transports.length) ||
      !o.clients.length || o.clients.some((c) => c !== '0.9' && c !== '4')) {
    log('usage: e2e.js --url http://HOST:PORT [--url URL2 (one per transport)] [--transports a,b] [--clients 0.9,4,4] [--screenshot-dir DIR]');
    process.exit(2);
  }
  return o;
}

function loadPlaywright() {
  try {
    return require('playwright-core');
  } catch (e) {
    return require(path.join(__dirname, '..', '..', '..', 'testdata', 'node_modules', 'playwright-core'));
  }
}


class Failure extends Error {}

function check(cond, msg) { if (!cond) throw new Failure(msg); }

// The people, in the order --clients assigns clients to them.
const PEOPLE = ['ann', 'bob', 'cy'];

// label names a run: its transport, and its clients unless all are 0.9.
function label(opts, transport) {
  return transport + (opts.clients.every((c) => c === '0.9') ? '' : '-clients-' + opts.clients.join('+'));
}

// The game scenario over one transport.
async function scenario(browser, opts, base, transport, observed) {
  const contexts = [];
  const pageErrors = [];
  const clientOf = (who) => opts.clients[PEOPLE.indexOf(who) % opts.clients.length];
  // transportOf is the forced transport's name in the client of who.
  const transportOf = (who) => transport === 'auto' ? 'websocket' :
    clientOf(who) === '4' && transport === 'xhr-polling' ? 'polling' : transport;
  const url = (who) => base + '/?' + (transport === 'auto' ? '' : 'transport=' + encodeURIComponent(transportOf(who)) + '&') +
    (clientOf(who) === '4' ? 'client=4' : '');
  const name = label(opts, transport);
  // Each person gets a browser context of their own (a window of their
  // own: pages in background tabs render, and so click, slowly).
  const open = async (who) => {
    const ctx = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    ctx.setDefaultTimeout(opts.timeoutMs);
    contexts.push(ctx);
    const p = await ctx.newPage();
    p.on('pageerror', (e) => pageErrors.push(who + ': ' + e.message));
    await p.goto(url(who));
    await p.waitForSelector('#conn[data-state="connected"]');
    if (transport === 'auto') await p.waitForSelector('body[data-transport="websocket"]').catch(() => {});
    const seen = await p.evaluate(() => [document.body.dataset.client, document.body.dataset.transport]);
    check(seen[0] === clientOf(who) && seen[1] === transportOf(who),
      who + "'s page runs socket.io.js " + seen[0] + ' over ' + seen[1] + ', not ' + clientOf(who) + ' over ' + transportOf(who));
    (observed.pages = observed.pages || {})[who] = seen.join(' over ');
    return p;
  };
  const text = (p, sel) => p.locator(sel).innerText();
  const waitStatus = (p, state) => p.waitForSelector('#status[data-state="' + state + '"]');
  const waitMark = (p, cell, mark) => p.waitForSelector('#board [data-cell="' + cell + '"][data-mark="' + mark + '"]');
  const click = (p, cell) => p.click('#board [data-cell="' + cell + '"]');
  const shot = async (p, step) => {
    if (opts.screenshotDir) await p.screenshot({ path: path.join(opts.screenshotDir, name + '-' + step + '.png') });
  };

  try {
    const ann = await open('ann');
    const bob = await open('bob');
    const cy = await open('cy');

    // Pairing: ann waits, bob comes and is paired with her; ann plays X.
    await ann.fill('#name-input', 'ann');
    await ann.click('#play');
    await waitStatus(ann, 'waiting');
    await bob.fill('#name-input', 'bob');
    await bob.click('#play');
    await waitStatus(ann, 'your-turn');
    await waitStatus(bob, 'their-turn');
    observed.roles = [await ann.getAttribute('#game', 'data-role'), await bob.getAttribute('#game', 'data-role')];
    check(observed.roles.join() === 'X,O', 'roles ' + observed.roles);

    // cy sees the game in the list and watches it.
    await cy.waitForSelector('#games li[data-game] button[data-watch]');
    await cy.click('#games li[data-game] button[data-watch]');
    await cy.waitForSelector('#game[data-role="spectator"]');
    await waitStatus(cy, 'watching');

    // Out of turn: bob's click is refused by the ACL.
    await click(bob, 4);
    await bob.waitForSelector('#message[data-kind="denied"]:not([hidden])');
    observed.denied = await text(bob, '#message-text');
    check((await bob.getAttribute('#board [data-cell="4"]', 'data-mark')) === '', 'the refused move was played');

    await click(ann, 0);
    await waitMark(bob, 0, 'X');
    await waitMark(cy, 0, 'X');
    await waitStatus(bob, 'your-turn');

    // A taken cell is refused with an ack error.
    await click(bob, 0);
    await bob.waitForSelector('#message[data-kind="error"]:not([hidden])');
    observed.taken = await text(bob, '#message-text');
    check(observed.taken === 'That cell is taken.', 'taken: ' + observed.taken);

    // A spectator may not move.
    await click(cy, 8);
    await cy.waitForSelector('#message[data-kind="denied"]:not([hidden])');
    observed.spectatorDenied = await text(cy, '#message-text');

    await click(bob, 3);
    await waitMark(ann, 3, 'O');
    await click(ann, 1);
    await waitMark(bob, 1, 'X');
    await click(bob, 4);
    await waitMark(ann, 4, 'O');
    await click(ann, 2); // 0 1 2: ann wins
    await waitStatus(ann, 'won');
    await waitStatus(bob, 'lost');
    await cy.waitForSelector('#board [data-cell="2"][data-win="true"]');
    observed.line = await ann.$$eval('#board [data-win="true"]', (els) => els.map((e) => Number(e.dataset.cell)));
    check(observed.line.join() === '0,1,2', 'winning line ' + observed.line);
    observed.status = { ann: await text(ann, '#status'), bob: await text(bob, '#status'), cy: await text(cy, '#status') };
    await ann.waitForSelector('#rematch:not([hidden])');
    await Promise.all([shot(ann, 'won'), shot(cy, 'spectator')]);

    // Rematch: both agree, the marks swap and bob starts.
    await ann.click('#rematch');
    await bob.waitForSelector('#rematch[data-state="offered"]');
    await bob.click('#rematch');
    await waitStatus(bob, 'your-turn');
    await ann.waitForSelector('#game[data-role="O"]');
    observed.rematchRoles = [await ann.getAttribute('#game', 'data-role'), await bob.getAttribute('#game', 'data-role')];
    observed.wins = await ann.$$eval('.player', (els) => els.map((e) => e.dataset.mark + ':' + e.dataset.wins));
    check(observed.wins.join() === 'X:0,O:1', 'wins ' + observed.wins); // ann, now O, won round 1
    await cy.waitForSelector('#round:text("2")');

    // Round 2 (bob is X) ends in a draw:  X O X / X O O / O X X.
    const drawMoves = [[bob, 0, 'X'], [ann, 1, 'O'], [bob, 2, 'X'], [ann, 4, 'O'], [bob, 3, 'X'],
      [ann, 5, 'O'], [bob, 7, 'X'], [ann, 6, 'O'], [bob, 8, 'X']];
    for (const [p, cell, mark] of drawMoves) {
      const other = p === ann ? bob : ann;
      await click(p, cell);
      await waitMark(other, cell, mark);
    }
    await Promise.all([waitStatus(ann, 'draw'), waitStatus(bob, 'draw'), waitStatus(cy, 'draw')]);
    observed.draw = await text(ann, '#status');
    check((await ann.$$('#board [data-win="true"]')).length === 0, 'a draw highlights no line');
    await shot(ann, 'draw');

    // Round 3 (ann is X again): bob leaves mid-game; ann and cy are told,
    // the game is over.
    await ann.click('#rematch');
    await bob.waitForSelector('#rematch[data-state="offered"]');
    await bob.click('#rematch');
    await waitStatus(ann, 'your-turn');
    await cy.waitForSelector('#round:text("3")');
    await click(ann, 4);
    await waitMark(bob, 4, 'X');
    await bob.close({ runBeforeUnload: true }); // like closing the tab
    await waitStatus(ann, 'abandoned');
    await ann.waitForSelector('#message[data-kind="warn"]:not([hidden])');
    await waitStatus(cy, 'abandoned');
    observed.left = { ann: await text(ann, '#message-text'), cy: await text(cy, '#message-text') };
    check(observed.left.ann === 'bob left the game.', 'left: ' + observed.left.ann);
    await cy.waitForSelector('#no-games:not([hidden])');

    // Back to the lobby.
    await ann.click('#leave');
    await waitStatus(ann, 'lobby');
    check(pageErrors.length === 0, 'page errors: ' + pageErrors.join('; '));
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const exe = findChromium(opts.chromium);
  if (!exe) { log('chromium not found'); return 1; }
  const { chromium } = loadPlaywright();
  let browser;
  try {
    browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, headless: true, timeout: 20000 });
  } catch (e) {
    log('cannot start browser', exe + ':', String(e && e.message || e).split('\n')[0]);
    return 1;
  }
  if (opts.screenshotDir) require('fs').mkdirSync(opts.screenshotDir, { recursive: true });
  try {
    const run = async (transport, base) => {
      const observed = {};
      const res = { scenario: 'game', transport, pass: false, observed, error: '' };
      try {
        await scenario(browser, opts, base, transport, observed);
        res.pass = true;
      } catch (e) {
        res.error = String(e && e.message || e).split('\n')[0];
      }
      process.stdout.write(JSON.stringify(res) + '\n');
    };
    if (opts.urls.length > 1) {
      await Promise.all(opts.transports.map((tr, i) => run(tr, opts.urls[i])));
    } else {
      for (const tr of opts.transports) await run(tr, opts.urls[0]);
    }
  } finally {
    await browser.close();
  }
  return 0;
}

main().then((code) => process.exit(code), (e) => { log(e && e.stack || e); process.exit(1); });
