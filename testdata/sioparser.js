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
// Binary values travel as {"$binary":"BASE64"} both ways.
const readline = require('readline');
const parser = require('socket.io-parser');

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

function decode(frames) {
  const packets = [];
  const d = new parser.Decoder();
  d.on('decoded', (p) => {
    packets.push({ type: p.type, nsp: p.nsp, id: p.id === undefined ? null : p.id, data: p.data === undefined ? null : toWire(p.data), hasData: p.data !== undefined });
  });
  try {
    for (const f of frames) {
      if (typeof f.text === 'string') d.add(f.text);
      else d.add(Buffer.from(f.binary, 'base64'));
    }
  } catch (e) {
    return { ok: false, error: String(e && e.message), packets };
  }
  return { ok: true, packets, pending: !!d.reconstructor };
}

function encode(p) {
  const pkt = { type: p.type, nsp: p.nsp };
  if (p.id !== undefined && p.id !== null) pkt.id = p.id;
  if (p.data !== undefined && p.data !== null) pkt.data = fromWire(p.data);
  const out = new parser.Encoder().encode(pkt);
  return { ok: true, frames: out.map((f) => (typeof f === 'string' ? { text: f } : { binary: Buffer.from(f).toString('base64') })) };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let res;
  try {
    const req = JSON.parse(line);
    res = req.op === 'encode' ? encode(req.packet) : decode(req.frames);
  } catch (e) {
    res = { ok: false, error: 'script: ' + String(e && e.message) };
  }
  process.stdout.write(JSON.stringify(res) + '\n');
});
