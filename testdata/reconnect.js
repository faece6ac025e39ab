// reconnect.js — does the real socket.io-client@0.9.16 come back after the
// server restarts? Connects with reconnection on, prints one JSON line per
// lifecycle event, and exits 0 once it has reconnected and an echo with
// ack works again (1 after --timeout-ms).
//
//   node reconnect.js --url http://127.0.0.1:PORT --transport websocket|xhr-polling
'use strict';
var io = require('socket.io-client');

var args = process.argv.slice(2), opts = { timeout: 15000 };
for (var i = 0; i < args.length; i += 2) {
  if (args[i] === '--url') opts.url = args[i + 1];
  else if (args[i] === '--transport') opts.transport = args[i + 1];
  else if (args[i] === '--timeout-ms') opts.timeout = +args[i + 1];
}
if (!opts.url || !opts.transport) {
  console.error('usage: node reconnect.js --url URL --transport T');
  process.exit(2);
}

function out(ev, extra) {
  var o = { event: ev };
  for (var k in extra || {}) o[k] = extra[k];
  process.stdout.write(JSON.stringify(o) + '\n');
}

io.transports = [opts.transport]; // the transports option alone does not force it in 0.9.16
var s = io.connect(opts.url, {
  'force new connection': true,
  'reconnection delay': 100,
  'reconnection limit': 500,
  'max reconnection attempts': 100
});
var connects = 0;
s.on('connect', function () {
  connects++;
  out('connect', { n: connects, transport: s.socket.transport && s.socket.transport.name });
  if (connects === 2) {
    s.emit('echo', 'back', function (v) {
      out('echo', { value: v });
      s.disconnect();
      process.exit(0);
    });
  }
});
s.on('disconnect', function (reason) { out('disconnect', { reason: reason }); });
s.on('reconnecting', function () { out('reconnecting'); });
s.on('reconnect', function () { out('reconnect'); });
s.on('error', function (e) { out('error', { error: String(e) }); });
setTimeout(function () { out('timeout'); process.exit(1); }, opts.timeout);
