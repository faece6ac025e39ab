#!/usr/bin/env node
// Browser conformance harness for modern clients: drives the real
// socket.io-client@4.8 browser build (node_modules/socket.io-client-4/dist/
// socket.io.min.js) in headless Chromium against a server implementing the
// testapp contract for Engine.IO v4 clients (TESTAPP.md "Modern clients";
// reftestapp4.js, or siogo's examples/testapp once it serves v4).
//
//   node browser4.js --url http://127.0.0.1:PORT
//       [--transports websocket,polling,upgrade]
//       [--scenarios name,name,...] [--timeout-ms 8000]
//       [--budget-ms 45000] [--screenshot-dir DIR] [--chromium PATH] [--verbose]
//
// Prints one JSON line per (transport, scenario) on stdout:
//   {"scenario":"...","transport":"...","pass":bool,"observed":{...},"error":"..."}
// Logs go to stderr. Exit 0 when the harness ran (even if scenarios failed),
// 1 when the browser cannot start or the harness itself breaks, 2 on bad usage.
//
// The page (browser4-page.html) and the client file are served by a small
// static HTTP server on 127.0.0.1 on its own port, so a different origin
// from --url: polling runs with CORS, websocket cross-origin. Transports:
// websocket (websocket only), polling (long-polling only), upgrade (polling
// then the upgrade; each scenario starts once the upgrade is done). Each
// scenario runs on a freshly loaded page, the transports run in parallel in
// separate browser contexts, and no scenario starts after --budget-ms.
//
// The scenarios live in the page (window.siogo.scenarios): connect,
// echo-ack, echo-unicode, echo-noack, echo-binary, message,
// rooms-two-sockets, broadcast, everyone, ask, burst, namespace-chat,
// private-denied, private-auth, invalid-namespace, acl, kick, auth,
// handshake-query, handshake-deny.
//
// The harness itself (command line, static server, Chromium, the result
// lines) is browser-harness.js, shared with browser2-scenarios.js.

'use strict';

const path = require('path');

require('./browser-harness').run({
  script: 'browser4.js',
  logTag: 'browser4.js',
  pageFile: path.join(__dirname, 'browser4-page.html'),
  clientFile: path.join(__dirname, 'node_modules', 'socket.io-client-4', 'dist', 'socket.io.min.js'),
  transports: ['websocket', 'polling', 'upgrade'],
  budgetMs: 45000,
  hardLimitMs: 58000,
  screenshotPrefix: 'browser4-',
});
