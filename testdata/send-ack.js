// send-ack.js — does the real socket.io-client@0.9.16 acknowledge a server
// message that asks for an ack, as the reference's socket.send(text, fn)
// does ("3:N::text", "4:N::json": an id without '+', which the client acks
// by itself)? The server under test (socketio's TestSendWithAckRealClient)
// sends, when the client connects, "tobi" and the json {"n":1} asking for
// acks, and "tobi 2" / "json 2" once each ack arrived. Prints one result
// line ({"check","transport","pass","observed","error"}) with the messages
// seen, in order, and exits 0 (1 after --timeout-ms).
//
//   node send-ack.js --url http://127.0.0.1:PORT[/ns] --transport websocket|xhr-polling
'use strict';
var io = require('socket.io-client');

var args = process.argv.slice(2), opts = { timeout: 15000 };
for (var i = 0; i < args.length; i += 2) {
  if (args[i] === '--url') opts.url = args[i + 1];
  else if (args[i] === '--transport') opts.transport = args[i + 1];
  else if (args[i] === '--timeout-ms') opts.timeout = +args[i + 1];
}
if (!opts.url || !opts.transport) {
  console.error('usage: node send-ack.js --url URL --transport T');
  process.exit(2);
}

function result(pass, observed, error) {
  process.stdout.write(JSON.stringify({ check: 'send-ack', transport: opts.transport, pass: pass,
    observed: observed, error: error || '' }) + '\n');
}

io.transports = [opts.transport]; // the transports option alone does not force it in 0.9.16
var s = io.connect(opts.url, { 'force new connection': true, reconnect: false });
var seen = [];
s.on('message', function (m) {
  seen.push(m);
  if (seen.indexOf('tobi 2') >= 0 && seen.indexOf('json 2') >= 0) {
    result(true, seen);
    s.disconnect();
    process.exit(0);
  }
});
s.on('error', function (e) { result(false, seen, 'error: ' + String(e)); process.exit(1); });
setTimeout(function () { result(false, seen, 'timeout'); process.exit(1); }, opts.timeout);
