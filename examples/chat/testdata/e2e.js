#!/usr/bin/env node
// Browser end-to-end test of the chat page: headless Chromium
// (playwright-core from the repository's testdata/node_modules) runs the
// page with the real socket.io.js 0.9.16, or 4.x (?client=4), against a
// running chat server.
//
//   node examples/chat/testdata/e2e.js --url http://127.0.0.1:8080
//       [--transport websocket] [--clients 0.9,4] [--screenshot-dir DIR]
//       [--chromium PATH] [--timeout-ms 10000]
//
// --clients lists the client each person's page loads, in the order ann,
// bob, cy, dan, repeated as needed (default 0.9 for all): "0.9,4" mixes the
// generations in the same rooms. The transport is forced with ?transport=
// (the 0.9 name; a 4.x page is given "polling" for xhr-polling), except
// with --transport auto: then the clients choose, and each page must end
// up on a WebSocket (0.9 starts there, 4.x upgrades from polling). Four people, each in a browser
// context of their own (their own window and sessionStorage): ann and bob
// chat in the lobby, cy is in room "dev", dan tries ann's nickname and then
// watches. The checks run in order, as one story; after the first failure
// the rest are reported as not run (they would only time out). One JSON line
// per check on stdout:
//   {"check":"...","transport":"...","pass":bool,"error":"...","ms":N,"observed":{...}}
// Exit 0 when the harness ran, 1 when it could not (no browser), 2 on bad usage.

'use strict';

const fs = require('fs');
const path = require('path');

const { CHROMIUM_ARGS, findChromium } = require(path.join(__dirname, '..', '..', '..', 'testdata', 'chromium.js'));

// The checks, in the order they run. browser_test.go expects every one.
const CHECKS = [
  'connect',            // the pages load and connect over the forced transport
  'two-users-chat',     // ann and bob exchange messages both ways
  'html-as-text',       // <b>x</b> is shown as text, no element is made
  'room-isolation',     // cy in "dev" sees nothing of the lobby, and the lobby nothing of dev
  'duplicate-nick',     // dan asking for "ANN" is refused with a message; "dan" works
  'private-message',    // only the target (and the sender) get a private message
  'join-leave-notices', // "x joined" / "x left" lines, and the user lists follow
  'reload-restores',    // bob reloads: same nickname (token), same room, the history
  'no-page-errors'      // no uncaught exception or console error in any page
];

let prefix = '[chat e2e]';
function log(...a) { process.stderr.write(prefix + ' ' + a.join(' ') + '\n'); }

function parseArgs(argv) {
  const o = { url: null, transport: 'websocket', clients: ['0.9'], screenshotDir: null, chromium: null, timeoutMs: 10000 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) { log('missing value for', k); process.exit(2); }
      return argv[++i];
    };
    switch (k) {
      case '--url': o.url = val().replace(/\/+$/, ''); break;
      case '--transport': o.transport = val(); break;
      case '--clients': o.clients = val().split(',').filter(Boolean); break;
      case '--screenshot-dir': o.screenshotDir = val(); break;
      case '--chromium': o.chromium = val(); break;
      case '--timeout-ms': o.timeoutMs = Number(val()); break;
      default: log('unknown argument', k); process.exit(2);
    }
  }
  if (!o.url || !(o.timeoutMs > 0) || !o.clients.length || o.clients.some((c) => c !== '0.9' && c !== '4')) {
    log('usage: e2e.js --url http://HOST:PORT [--transport websocket|xhr-polling|jsonp-polling] [--clients 0.9,4] [--screenshot-dir DIR]');
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

function firstLine(e) { return String(e && e.message || e).split('\n')[0]; }

// The people, in the order --clients assigns clients to them.
const PEOPLE = ['ann', 'bob', 'cy', 'dan'];

// label names a run: its transport, and its clients unless all are 0.9.
function label(opts) {
  return opts.transport + (opts.clients.every((c) => c === '0.9') ? '' : '-clients-' + opts.clients.join('+'));
}

// Chat is the story over one transport: the people, their pages and helpers.
class Chat {
  constructor(browser, opts) {
    this.browser = browser;
    this.opts = opts;
    this.transport = opts.transport;
    this.label = label(opts);
    this.contexts = [];
    this.pages = {};      // by person
    this.pageErrors = []; // uncaught exceptions and console errors
  }

  // client is the client whose page loads: "0.9" or "4".
  client(who) {
    const cs = this.opts.clients;
    return cs[PEOPLE.indexOf(who) % cs.length];
  }

  // transportOf is the name of the forced transport in who's client.
  transportOf(who) {
    if (this.transport === 'auto') return 'websocket';
    return this.client(who) === '4' && this.transport === 'xhr-polling' ? 'polling' : this.transport;
  }

  url(who, query) {
    const q = new URLSearchParams(Object.assign(this.transport === 'auto' ? {} : { transport: this.transportOf(who) },
      this.client(who) === '4' ? { client: '4' } : {}, query || {}));
    return this.opts.url + '/?' + q.toString();
  }

  // open gives who a window of their own (pages in background tabs render,
  // and so click, slowly) and waits until the page is connected.
  async open(who, query) {
    const ctx = await this.browser.newContext({ viewport: { width: 1100, height: 640 }, colorScheme: 'light' });
    ctx.setDefaultTimeout(this.opts.timeoutMs);
    this.contexts.push(ctx);
    const p = await ctx.newPage();
    p.on('pageerror', (e) => this.pageErrors.push(who + ': ' + firstLine(e)));
    p.on('console', (m) => { if (m.type() === 'error') this.pageErrors.push(who + ' console: ' + m.text()); });
    await p.goto(this.url(who, query));
    await this.connected(p, who);
    this.pages[who] = p;
    return p;
  }

  async connected(p, who) {
    try {
      await p.waitForSelector('#status[data-status="connected"]');
    } catch (e) {
      throw new Failure(who + ' did not connect: status ' + JSON.stringify(await p.textContent('#status').catch(() => '?')));
    }
    if (this.transport === 'auto') {
      await p.waitForSelector('#app[data-transport="websocket"]').catch(() => {});
    }
    const tr = await p.getAttribute('#app', 'data-transport');
    check(tr === this.transportOf(who), who + ' connected over ' + tr + ', not ' + this.transportOf(who));
    const client = await p.getAttribute('#app', 'data-client');
    check(client === this.client(who), who + "'s page runs socket.io.js " + client + ', not ' + this.client(who));
  }

  // login picks a nickname in the dialog and waits until the room is joined.
  async login(p, nick, room) {
    await p.fill('#nick-input', nick);
    await p.click('#nick-submit');
    await this.inRoom(p, nick, room);
  }

  async inRoom(p, nick, room) {
    try {
      await p.waitForSelector('#login', { state: 'hidden' });
      await p.waitForSelector('#message-input:not([disabled])');
      await p.waitForFunction((a) => document.getElementById('me').textContent === a.nick &&
        document.getElementById('room-name').textContent === a.room, { nick, room }, { polling: 50 });
    } catch (e) {
      const err = await p.isVisible('#error') ? await p.textContent('#error') : '';
      const dialog = await p.isVisible('#login') ? '; the nickname dialog is open' : '';
      throw new Failure(nick + ' is not in #' + room + ' (' + firstLine(e) + ')' + dialog + (err ? '; error shown: ' + JSON.stringify(err) : ''));
    }
  }

  // say sends text from the composer and waits for the server's ack (the
  // page clears the input on success).
  async say(p, who, text) {
    await p.fill('#message-input', text);
    await p.press('#message-input', 'Enter');
    try {
      await p.waitForFunction(() => document.getElementById('message-input').value === '', null, { polling: 50 });
    } catch (e) {
      const err = await p.textContent('#error').catch(() => '');
      throw new Failure(who + ' could not send ' + JSON.stringify(text) + (err ? ': ' + JSON.stringify(err) : ''));
    }
  }

  // messages lists the lines on p's page.
  messages(p) {
    return p.$$eval('#messages li', (els) => els.map((e) => {
      const t = e.querySelector('.text');
      const m = { kind: e.dataset.kind, text: t ? t.textContent : '' };
      for (const k of ['from', 'to', 'event']) if (e.dataset[k]) m[k] = e.dataset[k];
      return m;
    }));
  }

  // waitMessage waits until p shows a line matching want (kind, from, to,
  // event: equal when given; text: equal).
  async waitMessage(p, who, want) {
    try {
      await p.waitForFunction((w) => Array.prototype.some.call(document.querySelectorAll('#messages li'), (e) => {
        const t = e.querySelector('.text');
        return ['kind', 'from', 'to', 'event'].every((k) => w[k] === undefined || e.dataset[k] === w[k]) &&
          (w.text === undefined || (t && t.textContent === w.text));
      }), want, { polling: 50 });
    } catch (e) {
      throw new Failure(who + ' never saw ' + JSON.stringify(want) + '; shown: ' + JSON.stringify(await this.messages(p).catch(() => [])));
    }
  }

  // lacks fails if p shows a line whose text contains any of texts.
  async lacks(p, who, texts, why) {
    const shown = await this.messages(p);
    const bad = shown.filter((m) => texts.some((t) => m.text.indexOf(t) >= 0));
    check(bad.length === 0, who + ' sees ' + why + ': ' + JSON.stringify(bad));
  }

  users(p) { return p.$$eval('#users li', (els) => els.map((e) => e.dataset.nick)); }

  async waitUsers(p, who, want) {
    try {
      await p.waitForFunction((w) => Array.prototype.map.call(document.querySelectorAll('#users li'),
        (e) => e.dataset.nick).join() === w, want.join(), { polling: 50 });
    } catch (e) {
      throw new Failure(who + "'s user list is " + JSON.stringify(await this.users(p).catch(() => [])) + ', not ' + JSON.stringify(want));
    }
  }

  async shot(step, who) {
    if (!this.opts.screenshotDir) return;
    await Promise.all(who.map((w) => this.pages[w].screenshot({
      path: path.join(this.opts.screenshotDir, this.label + '-' + step + '-' + w + '.png')
    })));
  }

  async close() {
    await Promise.all(this.contexts.map((c) => c.close().catch(() => {})));
  }
}

// The steps, one per check; each returns what it observed.
const steps = {
  async 'connect'(c) {
    const ann = await c.open('ann');
    await c.login(ann, 'ann', 'lobby');
    const bob = await c.open('bob');
    await c.login(bob, 'bob', 'lobby');
    await c.waitUsers(ann, 'ann', ['ann', 'bob']);
    const seen = async (p) => (await p.getAttribute('#app', 'data-client')) + ' over ' + (await p.getAttribute('#app', 'data-transport'));
    return { transport: await ann.getAttribute('#app', 'data-transport'), status: await ann.textContent('#status'),
      clients: { ann: await seen(ann), bob: await seen(bob) } };
  },

  async 'two-users-chat'(c) {
    const { ann, bob } = c.pages;
    await c.say(ann, 'ann', 'Hi bob! Are you there?');
    await c.waitMessage(bob, 'bob', { kind: 'chat', from: 'ann', text: 'Hi bob! Are you there?' });
    await c.say(bob, 'bob', 'Hello ann, loud and clear.');
    await c.waitMessage(ann, 'ann', { kind: 'chat', from: 'bob', text: 'Hello ann, loud and clear.' });
    await c.say(ann, 'ann', 'Great, the ' + c.transport + ' transport works.');
    await c.waitMessage(bob, 'bob', { kind: 'chat', from: 'ann', text: 'Great, the ' + c.transport + ' transport works.' });
    // Both see the same lines in the same order; each one's own are .mine.
    const chat = async (p) => (await c.messages(p)).filter((m) => m.kind === 'chat').map((m) => m.from + ': ' + m.text);
    const [a, b] = [await chat(ann), await chat(bob)];
    check(a.join('\n') === b.join('\n'), 'ann and bob see different lines: ' + JSON.stringify({ ann: a, bob: b }));
    const mine = await ann.$$eval('#messages li.mine', (els) => els.map((e) => e.dataset.from));
    check(mine.length === 2 && mine.every((f) => f === 'ann'), 'ann\'s own lines marked .mine: ' + JSON.stringify(mine));
    await c.shot('chat', ['ann', 'bob']);
    return { lines: a };
  },

  async 'html-as-text'(c) {
    const { ann, bob } = c.pages;
    const html = '<b>x</b> & <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>';
    await c.say(ann, 'ann', html);
    await c.waitMessage(bob, 'bob', { kind: 'chat', from: 'ann', text: html });
    for (const [who, p] of [['ann', ann], ['bob', bob]]) {
      await c.waitMessage(p, who, { kind: 'chat', from: 'ann', text: html });
      const made = await p.$$eval('#messages b, #messages img, #messages script', (els) => els.map((e) => e.outerHTML));
      check(made.length === 0, who + "'s page made elements of the text: " + JSON.stringify(made));
      const xss = await p.evaluate(() => window.__xss);
      check(xss === undefined, who + "'s page ran the message's script: " + xss);
    }
    const shown = await bob.locator('#messages li[data-kind="chat"] .text').last().innerText();
    check(shown === html, 'bob sees ' + JSON.stringify(shown));
    await c.shot('html', ['bob']);
    return { shown };
  },

  async 'room-isolation'(c) {
    const { ann, bob } = c.pages;
    const cy = await c.open('cy', { room: 'dev' });
    await c.login(cy, 'cy', 'dev');
    // cy's history is dev's own: only her own arrival.
    const dev = await c.messages(cy);
    check(dev.length === 1 && dev[0].event === 'join' && dev[0].text === 'cy joined', 'cy joined dev with ' + JSON.stringify(dev));
    await c.waitUsers(cy, 'cy', ['cy']);
    await cy.waitForSelector('#rooms li[data-room="lobby"][data-users="2"]');
    await cy.waitForSelector('#rooms li.current[data-room="dev"][data-users="1"]');

    await c.say(ann, 'ann', 'LOBBY-ONLY: cy must not see this');
    await c.say(cy, 'cy', 'DEV-ONLY: ann and bob must not see this');
    await c.waitMessage(cy, 'cy', { kind: 'chat', from: 'cy', text: 'DEV-ONLY: ann and bob must not see this' });
    // cy's line was sent (under the chat's lock) before ann's next one, so
    // once bob has that, he has everything the server ever sent him about dev.
    await c.say(ann, 'ann', 'lobby barrier 1');
    await c.waitMessage(bob, 'bob', { kind: 'chat', from: 'ann', text: 'lobby barrier 1' });
    await c.waitMessage(ann, 'ann', { kind: 'chat', from: 'ann', text: 'lobby barrier 1' });
    await c.say(cy, 'cy', 'dev barrier 1');
    await c.waitMessage(cy, 'cy', { kind: 'chat', from: 'cy', text: 'dev barrier 1' });

    await c.lacks(cy, 'cy', ['LOBBY-ONLY', 'lobby barrier', 'Hi bob', 'Hello ann', 'ann joined', 'bob joined'], "the lobby's lines");
    await c.lacks(ann, 'ann', ['DEV-ONLY', 'dev barrier', 'cy joined'], "dev's lines");
    await c.lacks(bob, 'bob', ['DEV-ONLY', 'dev barrier', 'cy joined'], "dev's lines");
    check((await c.users(ann)).join() === 'ann,bob', 'ann\'s user list: ' + (await c.users(ann)));
    await c.shot('rooms', ['cy', 'ann']);
    return { cy: (await c.messages(cy)).map((m) => m.text) };
  },

  async 'duplicate-nick'(c) {
    const { ann } = c.pages;
    const dan = await c.open('dan');
    await dan.fill('#nick-input', 'ANN'); // nicknames are unique regardless of case
    await dan.click('#nick-submit');
    let refusal;
    try {
      await dan.waitForSelector('#error:not([hidden])');
      refusal = await dan.textContent('#error');
    } catch (e) {
      throw new Failure('no error shown for a taken nickname');
    }
    check(/taken/.test(refusal) && refusal.indexOf('"ANN"') >= 0, 'refusal ' + JSON.stringify(refusal));
    check(await dan.isVisible('#login'), 'the nickname dialog closed after a refusal');
    check(await dan.isVisible('#nick-input'), 'the nickname input is gone');
    check(await dan.isDisabled('#message-input'), 'the composer is usable without a nickname');
    check((await c.users(ann)).join() === 'ann,bob', 'the refused user reached the lobby: ' + (await c.users(ann)));
    await c.shot('duplicate-nick', ['dan']);

    await c.login(dan, 'dan', 'lobby');
    await dan.waitForSelector('#error', { state: 'hidden' });
    await c.waitUsers(ann, 'ann', ['ann', 'bob', 'dan']);
    return { refusal };
  },

  async 'private-message'(c) {
    const { ann, bob, cy, dan } = c.pages;
    // ann clicks bob in the user list and writes to him.
    await ann.click('#users li[data-nick="bob"] button');
    await ann.waitForSelector('#pm-target:not([hidden])');
    check((await ann.textContent('#pm-nick')) === 'bob', 'private target ' + (await ann.textContent('#pm-nick')));
    await c.say(ann, 'ann', 'psst bob: secret one');
    const toBob = { kind: 'private', from: 'ann', to: 'bob', text: 'psst bob: secret one' };
    await c.waitMessage(bob, 'bob', toBob);
    await c.waitMessage(ann, 'ann', toBob);
    await c.shot('private', ['bob']);
    await ann.click('#pm-cancel');
    await ann.waitForSelector('#pm-target', { state: 'hidden' });

    // /msg reaches cy in another room.
    await c.say(ann, 'ann', '/msg cy psst cy: secret two');
    const toCy = { kind: 'private', from: 'ann', to: 'cy', text: 'psst cy: secret two' };
    await c.waitMessage(cy, 'cy', toCy);
    await c.waitMessage(ann, 'ann', toCy);
    // cy answers with /msg too.
    await c.say(cy, 'cy', '/msg ann got it');
    await c.waitMessage(ann, 'ann', { kind: 'private', from: 'cy', to: 'ann', text: 'got it' });

    // A public line after them: once dan and bob have it, they have every
    // line the server sent them before it.
    await c.say(ann, 'ann', 'lobby barrier 2');
    await c.waitMessage(dan, 'dan', { kind: 'chat', text: 'lobby barrier 2' });
    await c.waitMessage(bob, 'bob', { kind: 'chat', text: 'lobby barrier 2' });
    await c.lacks(dan, 'dan', ['secret', 'got it'], 'private messages to others');
    await c.lacks(bob, 'bob', ['secret two', 'got it'], "private messages between ann and cy");
    await c.lacks(cy, 'cy', ['secret one'], "ann's private message to bob");
    const kinds = async (p) => (await c.messages(p)).filter((m) => m.kind === 'private').length;
    check((await kinds(ann)) === 3, 'ann shows ' + (await kinds(ann)) + ' private lines, not 3');
    return { bob: await kinds(bob), cy: await kinds(cy), dan: await kinds(dan) };
  },

  async 'join-leave-notices'(c) {
    const { ann, bob, cy, dan } = c.pages;
    // Seen so far: the lobby saw bob and dan arrive.
    await c.waitMessage(ann, 'ann', { kind: 'system', event: 'join', text: 'bob joined' });
    await c.waitMessage(ann, 'ann', { kind: 'system', event: 'join', text: 'dan joined' });
    await c.waitMessage(bob, 'bob', { kind: 'system', event: 'join', text: 'dan joined' });
    // dan moves to dev from the room form.
    await dan.fill('#room-input', 'Dev');
    await dan.click('#join-room');
    await c.inRoom(dan, 'dan', 'dev');
    await c.waitMessage(ann, 'ann', { kind: 'system', event: 'leave', text: 'dan left' });
    await c.waitMessage(bob, 'bob', { kind: 'system', event: 'leave', text: 'dan left' });
    await c.waitMessage(cy, 'cy', { kind: 'system', event: 'join', text: 'dan joined' });
    await c.waitUsers(ann, 'ann', ['ann', 'bob']);
    await c.waitUsers(cy, 'cy', ['cy', 'dan']);
    // dan's new page shows dev's history, not the lobby's.
    await c.waitMessage(dan, 'dan', { kind: 'chat', from: 'cy', text: 'dev barrier 1' });
    await c.lacks(dan, 'dan', ['lobby barrier'], "the lobby's lines after leaving it");
    await ann.waitForSelector('#rooms li[data-room="dev"][data-users="2"]');
    // And back again with /join.
    await c.say(dan, 'dan', '/join lobby');
    await c.inRoom(dan, 'dan', 'lobby');
    await c.waitMessage(cy, 'cy', { kind: 'system', event: 'leave', text: 'dan left' });
    await c.waitUsers(ann, 'ann', ['ann', 'bob', 'dan']);
    const joins = (await c.messages(ann)).filter((m) => m.kind === 'system').map((m) => m.text);
    check(joins.join() === 'ann joined,bob joined,dan joined,dan left,dan joined', "ann's notices: " + joins);
    await c.shot('notices', ['ann', 'cy']);
    return { ann: joins };
  },

  async 'reload-restores'(c) {
    const { ann, bob } = c.pages;
    const before = (await c.messages(ann)).filter((m) => m.kind !== 'private');
    const t0 = Date.now();
    await bob.reload();
    await c.connected(bob, 'bob');
    // No dialog: the page takes its nickname back with the saved token.
    await c.inRoom(bob, 'bob', 'lobby');
    const ms = Date.now() - t0;
    check(await bob.isHidden('#login'), 'bob was asked for a nickname again');
    // The room saw bob go and come back, and bob has the history.
    await c.waitMessage(ann, 'ann', { kind: 'system', event: 'leave', text: 'bob left' });
    await c.waitMessage(bob, 'bob', { kind: 'system', event: 'join', text: 'bob joined' });
    await c.waitUsers(ann, 'ann', ['ann', 'bob', 'dan']);
    await c.waitUsers(bob, 'bob', ['ann', 'bob', 'dan']);
    const after = await c.messages(bob);
    const key = (m) => m.kind + '|' + (m.from || '') + '|' + m.text;
    const have = new Set(after.map(key));
    const missing = before.filter((m) => !have.has(key(m)));
    check(missing.length === 0, 'history after the reload lacks ' + JSON.stringify(missing));
    check(after.every((m) => m.kind !== 'private'), 'private messages came back with the history');
    check(await bob.$$eval('#messages b', (els) => els.length) === 0, 'the history made HTML of a message');
    // And bob still chats, as bob.
    await c.say(bob, 'bob', 'back after a reload');
    await c.waitMessage(ann, 'ann', { kind: 'chat', from: 'bob', text: 'back after a reload' });
    await c.shot('reload', ['bob']);
    return { reconnectMs: ms, history: after.length };
  },

  async 'no-page-errors'(c) {
    check(c.pageErrors.length === 0, 'page errors: ' + c.pageErrors.join('; '));
    return {};
  }
};

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  prefix = '[chat e2e ' + label(opts) + ']';
  const exe = findChromium(opts.chromium);
  if (!exe) { log('chromium not found'); return 1; }
  const { chromium } = loadPlaywright();
  let browser;
  try {
    browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, headless: true, timeout: 30000 });
  } catch (e) {
    log('cannot start browser', exe + ':', firstLine(e));
    return 1;
  }
  if (opts.screenshotDir) fs.mkdirSync(opts.screenshotDir, { recursive: true });
  const c = new Chat(browser, opts);
  let failed = null;
  try {
    for (const name of CHECKS) {
      const res = { check: name, transport: opts.transport, pass: false, error: '', ms: 0 };
      const t0 = Date.now();
      if (failed) {
        res.error = 'not run: "' + failed + '" failed';
      } else {
        try {
          res.observed = await steps[name](c);
          res.pass = true;
        } catch (e) {
          failed = name;
          res.error = firstLine(e);
          if (!(e instanceof Failure)) log(name + ':', e && e.stack || e);
          if (opts.screenshotDir) {
            await Promise.all(Object.keys(c.pages).map((w) => c.pages[w].screenshot({
              path: path.join(opts.screenshotDir, label(opts) + '-FAILED-' + name + '-' + w + '.png')
            }).catch(() => {})));
          }
        }
      }
      res.ms = Date.now() - t0;
      log(name, res.pass ? 'ok' : 'FAIL', res.ms + 'ms', res.error);
      process.stdout.write(JSON.stringify(res) + '\n');
    }
  } finally {
    await c.close();
    await browser.close();
  }
  return 0;
}

main().then((code) => process.exit(code), (e) => { log(e && e.stack || e); process.exit(1); });
