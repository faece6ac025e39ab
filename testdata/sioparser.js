'use strict';
// The reference Socket.IO v5 parser (socket.io-parser@4.2.7) as a filter
// for the differential tests of internal/sioparser: one JSON request per
// stdin line, one JSON answer per stdout line, in order.
//
//   {"op":"decode","frames":[{"text":"2[\"a\"]"},{"binary":"AQI="}]}
//     -> {"ok":true,"packets":[{"type":2,"nsp":"/","id":1,"data":[...]}]}
//     -> {"ok":false,"error":"...","packets":[...decoded before the error]}
//   {"op":"encode","packet":{"type":2,"nsp":"/","id":1,"data":[...]}}
//     -> {"ok":true,"frames":[{"text":"..."},{"binary":"..."}]}
//
// Binary values travel as {"$binary":"BASE64"} both ways. With
// "parser":"v4" in a request, the Socket.IO v4 protocol's parser is used
// instead: socket.io-parser@3.3.6, the one socket.io-client@2.5.0 ships;
// its "parser error" packets are answered as errors.
const readline = require('readline');
const parsers = {
  v5: require('socket.io-parser'),
  v4: require('socket.io-client-2/node_modules/socket.io-parser'),
};

function toWire(v) {
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    return { $binary: Buffer.from(v.buffer ? v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) : v).toString('base64') };
  }
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) o[k] = toWire(v[k]);
    return o;
  }
  return v;
}

function fromWire(v) {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v && typeof v === 'object') {
    if (typeof v.$binary === 'string' && Object.keys(v).length === 1) return Buffer.from(v.$binary, 'base64');
    const o = {};
    for (const k of Object.keys(v)) o[k] = fromWire(v[k]);
    return o;
  }
  return v;
}

function hasBinary(v) {
  if (Buffer.isBuffer(v)) return true;
  if (Array.isArray(v)) return v.some(hasBinary);
  if (v && typeof v === 'object') return Object.keys(v).some((k) => hasBinary(v[k]));
  return false;
}

function decode(parser, frames) {
  const packets = [];
  const d = new parser.Decoder();
  let parserError = null;
  d.on('decoded', (p) => {
    if (parser === parsers.v4 && p.type === 4 && typeof p.data === 'string' && p.data.startsWith('parser error')) {
      parserError = p.data;
      return;
    }
    packets.push({ type: p.type, nsp: p.nsp, id: p.id === undefined ? null : p.id, data: p.data === undefined ? null : toWire(p.data), hasData: p.data !== undefined });
  });
  try {
    for (const f of frames) {
      if (typeof f.text === 'string') d.add(f.text);
      else d.add(Buffer.from(f.binary, 'base64'));
      if (parserError) return { ok: false, error: parserError, packets };
    }
  } catch (e) {
    return { ok: false, error: String(e && e.message), packets };
  }
  return { ok: true, packets, pending: !!d.reconstructor };
}

function encode(parser, p) {
  const pkt = { type: p.type, nsp: p.nsp };
  if (p.id !== undefined && p.id !== null) pkt.id = p.id;
  if (p.data !== undefined && p.data !== null) pkt.data = fromWire(p.data);
  let out;
  if (parser === parsers.v4) {
    // 3.x takes a callback, called at once for Buffers; the caller picks
    // the binary types (socket.io 2.x does it with has-binary2).
    if (pkt.data !== undefined && hasBinary(pkt.data)) {
      if (pkt.type === 2) pkt.type = 5;
      if (pkt.type === 3) pkt.type = 6;
    }
    new parser.Encoder().encode(pkt, (frames) => { out = frames; });
    if (!out) throw new Error('v4 encoder did not answer synchronously');
  } else {
    out = new parser.Encoder().encode(pkt);
  }
  return { ok: true, frames: out.map((f) => (typeof f === 'string' ? { text: f } : { binary: Buffer.from(f).toString('base64') })) };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let res;
  try {
    const req = JSON.parse(line);
    const parser = parsers[req.parser || 'v5'];
    if (!parser) throw new Error('unknown parser ' + req.parser);
    res = req.op === 'encode' ? encode(parser, req.packet) : decode(parser, req.frames);
  } catch (e) {
    res = { ok: false, error: 'script: ' + String(e && e.message) };
  }
  process.stdout.write(JSON.stringify(res) + '\n');
});
