#!/usr/bin/env node
// Browser conformance harness for socket.io-client 2.x: drives the real
// socket.io-client@2.5.0 browser build (node_modules/socket.io-client-2/dist/
// socket.io.js) in headless Chromium against a server implementing the
// testapp contract for Engine.IO v3 clients (TESTAPP.md "Modern clients";
// reftestapp4.js, or siogo's examples/testapp once it serves
// EIO=3).
//
//   node browser2-scenarios.js --url http://127.0.0.1:PORT
//       [--transports websocket,polling,upgrade,polling-base64,jsonp]
//       [--scenarios name,name,...] [--timeout-ms 8000]
//       [--budget-ms 150000] [--screenshot-dir DIR] [--chromium PATH] [--verbose]
//
// Prints one JSON line per (transport, scenario) on stdout:
//   {"scenario":"...","transport":"...","pass":bool,"observed":{...},"error":"..."}
// Logs go to stderr. Exit 0 when the harness ran (even if scenarios failed),
// 1 when the browser cannot start or the harness itself breaks, 2 on bad usage.
//
// The page (browser2-page.html) and the client file are served by a small
// static HTTP server on 127.0.0.1 on its own port, so a different origin
// from --url: polling runs with CORS, JSONP with script tags and form posts,
// websocket cross-origin. Transports: websocket (websocket only), polling
// (XHR long-polling only, XHR2 binary payloads), upgrade (polling then the
// upgrade; each scenario starts once the upgrade is done), polling-base64
// (forceBase64: b64=1, binary as b4<base64>), jsonp (forceJSONP: JSONP
// polling only, j=N, ___eio[N]("..."), POST d=...). Each scenario runs on a
// freshly loaded page, the transports run in parallel in separate browser
// contexts, and no scenario starts after --budget-ms. The scenarios live in
// the page (window.siogo.scenarios).
//
// The harness itself (command line, static server, Chromium, the result
// lines) is browser-harness.js, shared with browser4.js.

'use strict';

const path = require('path');

require('./browser-harness').run({
  script: 'browser2-scenarios.js',
  logTag: 'browser2-scenarios',
  pageFile: path.join(__dirname, 'browser2-page.html'),
  clientFile: path.join(__dirname, 'node_modules', 'socket.io-client-2', 'dist', 'socket.io.js'),
  transports: ['websocket', 'polling', 'upgrade', 'polling-base64', 'jsonp'],
  budgetMs: 150000,
  hardLimitMs: 200000,
  screenshotPrefix: 'browser2-',
});
