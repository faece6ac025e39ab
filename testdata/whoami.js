// whoami.js — does the user that the server's Config.Authorize attached to
// a handshake reach the sockets? The real socket.io-client@0.9.16 connects
// (the URL's query goes to the handshake, and to the namespace's connect
// packet), emits "whoami" asking for an ack, and the server under test
// (socketio's TestWhoAmIRealClient) answers with s.Handshake().User.
// Prints one result line ({"check","transport","pass","observed","error"})
// whose observed is the ack's arguments, and exits 0 (1 on an error or
// after --timeout-ms).
//
//   node whoami.js --url 'http://127.0.0.1:PORT[/ns]?user=NAME' --transport websocket|xhr-polling
'use strict';
var io = require('socket.io-client');

var args = process.argv.slice(2), opts = { timeout: 15000 };
for (var i = 0; i < args.length; i += 2) {
  if (args[i] === '--url') opts.url = args[i + 1];
  else if (args[i] === '--transport') opts.transport = args[i + 1];
  else if (args[i] === '--timeout-ms') opts.timeout = +args[i + 1];
}
if (!opts.url || !opts.transport) {
  console.error('usage: node whoami.js --url URL --transport T');
  process.exit(2);
}

function result(pass, observed, error) {
  process.stdout.write(JSON.stringify({ check: 'whoami', transport: opts.transport, pass: pass,
    observed: observed, error: error || '' }) + '\n');
}

io.transports = [opts.transport]; // the transports option alone does not force it in 0.9.16
var s = io.connect(opts.url, { 'force new connection': true, reconnect: false });
s.on('connect', function () {
  s.emit('whoami', function () {
    result(true, Array.prototype.slice.call(arguments));
    s.disconnect();
    process.exit(0);
  });
});
s.on('connect_failed', function (e) { result(false, null, 'connect_failed: ' + String(e)); process.exit(1); });
s.on('error', function (e) { result(false, null, 'error: ' + String(e)); process.exit(1); });
setTimeout(function () { result(false, null, 'timeout'); process.exit(1); }, opts.timeout);
