// broadcast-ack.js — do the real clients answer a broadcast with acks
// (socketio's Selection.EmitWithAck: one event frame per protocol, the
// same ack id for every receiver, from the range 2^30..2^31-1)? Connects
// one socket.io-client@0.9.16, one socket.io-client@2.5.0 and one
// socket.io-client@4.8 client to the default namespace of the server under
// test (socketio's TestEmitWithAckRealClients). Each answers the event
// "vote" with ack(GENERATION, its first argument) and reports the
// arguments of "done", which the server sends once it collected the acks.
// Prints one result line per generation
// ({"check","transport","pass","observed","error"}, observed: the args of
// "done") and exits 0 (1 after --timeout-ms).
//
//   node broadcast-ack.js --url http://127.0.0.1:PORT --transport websocket|polling
'use strict';
var io09 = require('socket.io-client');
var io2 = require('socket.io-client-2');
var io4 = require('socket.io-client-4').io;

var args = process.argv.slice(2), opts = { timeout: 15000 };
for (var i = 0; i < args.length; i += 2) {
  if (args[i] === '--url') opts.url = args[i + 1];
  else if (args[i] === '--transport') opts.transport = args[i + 1];
  else if (args[i] === '--timeout-ms') opts.timeout = +args[i + 1];
}
if (!opts.url || !opts.transport) {
  console.error('usage: node broadcast-ack.js --url URL --transport websocket|polling');
  process.exit(2);
}
var ws = opts.transport === 'websocket';

function result(gen, pass, observed, error) {
  process.stdout.write(JSON.stringify({ check: 'broadcast-ack-' + gen, transport: opts.transport,
    pass: pass, observed: observed, error: error || '' }) + '\n');
}

io09.transports = [ws ? 'websocket' : 'xhr-polling']; // the transports option alone does not force it in 0.9.16
var sockets = {
  '09': io09.connect(opts.url, { 'force new connection': true, reconnect: false }),
  '2': io2(opts.url, { forceNew: true, reconnection: false, transports: [ws ? 'websocket' : 'polling'] }),
  '4': io4(opts.url, { forceNew: true, reconnection: false, transports: [ws ? 'websocket' : 'polling'] })
};
var left = Object.keys(sockets).length;
Object.keys(sockets).forEach(function (gen) {
  var s = sockets[gen];
  s.on('vote', function (a, ack) {
    if (typeof ack !== 'function') {
      result(gen, false, null, 'no ack callback');
      process.exit(1);
    }
    ack(gen, a);
  });
  s.on('done', function () {
    result(gen, true, Array.prototype.slice.call(arguments));
    s.disconnect();
    if (--left === 0) process.exit(0);
  });
  s.on('error', function (e) { result(gen, false, null, 'error: ' + String(e)); process.exit(1); });
  s.on('connect_error', function (e) { result(gen, false, null, 'connect_error: ' + String(e)); process.exit(1); });
});
setTimeout(function () { result('all', false, null, 'timeout'); process.exit(1); }, opts.timeout);
