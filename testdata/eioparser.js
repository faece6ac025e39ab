// eioparser.js: the reference Engine.IO parsers behind a JSON-lines
// protocol, for the differential tests of internal/eioparser.
//
//   v4: engine.io-parser@5.2.3 (what socket.io-client 4.x and socket.io 4.x use)
//   v3: engine.io-parser@2.2.1, the one socket.io-client-2 (2.5.0) uses
//
// Each stdin line is a request, each stdout line its answer, in order:
//   {"op":"decodePacket","v":4,"text":"4hi"}      (a text frame / polling packet)
//   {"op":"decodePacket","v":4,"bin":"<base64>"}   (a binary WebSocket frame)
//   {"op":"decodePayload","v":4,"text":"4a\u001e2"}
//   {"op":"encodePacket","v":4,"supportsBinary":true,"packet":P}
//   {"op":"encodePayload","v":4,"packets":[P,...]}
//   {"op":"decodePayload","v":3,"bin":"<base64>"}  (v3 binary payload, XHR2)
//   {"op":"encodePayload","v":3,"supportsBinary":true,"packets":[P,...]}
// where a packet P is {"type":"message","text":"..."} or
// {"type":"message","bin":"<base64>"} (neither: no data).
// Answers: {"packets":[P,...],"error":BOOL} for the decoders (the packets
// before a parser error, error true when the parser reported one), and
// {"text":"..."} or {"bin":"<base64>"} for the encoders.
'use strict';

const path = require('path');
const readline = require('readline');

const v4 = require('engine.io-parser');
const client2 = path.dirname(require.resolve('socket.io-client-2/package.json'));
const eioClient3 = path.dirname(require.resolve('engine.io-client/package.json', { paths: [client2] }));
const v3 = require(require.resolve('engine.io-parser', { paths: [eioClient3] }));

function toJSON(p) {
  const out = { type: p.type };
  if (p.data === undefined) return out;
  if (typeof p.data === 'string') out.text = p.data;
  else out.bin = Buffer.from(p.data).toString('base64');
  return out;
}

function fromJSON(p) {
  const out = { type: p.type };
  if (p.text !== undefined) out.data = p.text;
  if (p.bin !== undefined) out.data = Buffer.from(p.bin, 'base64');
  return out;
}

function encoded(e) {
  return typeof e === 'string' ? { text: e } : { bin: Buffer.from(e).toString('base64') };
}

function handle(req) {
  const input = req.bin !== undefined ? Buffer.from(req.bin, 'base64') : req.text;
  let out;
  if (req.v === 4) {
    switch (req.op) {
      case 'decodePacket': {
        const p = v4.decodePacket(input, 'nodebuffer');
        return p.type === 'error' ? { packets: [], error: true } : { packets: [toJSON(p)], error: false };
      }
      case 'decodePayload': {
        const ps = v4.decodePayload(input, 'nodebuffer');
        const error = ps.length > 0 && ps[ps.length - 1].type === 'error';
        return { packets: (error ? ps.slice(0, -1) : ps).map(toJSON), error };
      }
      case 'encodePacket':
        v4.encodePacket(fromJSON(req.packet), !!req.supportsBinary, (e) => { out = encoded(e); });
        return out;
      case 'encodePayload':
        v4.encodePayload(req.packets.map(fromJSON), (e) => { out = encoded(e); });
        return out;
    }
  } else if (req.v === 3) {
    switch (req.op) {
      case 'decodePacket': {
        const p = v3.decodePacket(input, undefined, false);
        return p.type === 'error' || p.type === undefined ? { packets: [], error: true } : { packets: [toJSON(p)], error: false };
      }
      case 'decodePayload': {
        const packets = [];
        let error = false;
        v3.decodePayload(input, undefined, (p) => {
          if (p.type === 'error' && p.data === 'parser error') error = true;
          else packets.push(toJSON(p));
        });
        return { packets: error ? [] : packets, error };
      }
      case 'encodePacket':
        v3.encodePacket(fromJSON(req.packet), !!req.supportsBinary, false, (e) => { out = encoded(e); });
        return out;
      case 'encodePayload':
        v3.encodePayload(req.packets.map(fromJSON), !!req.supportsBinary, (e) => { out = encoded(e); });
        return out;
    }
  }
  throw new Error('unknown request ' + JSON.stringify(req));
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  if (line.trim() === '') return;
  let res;
  try {
    res = handle(JSON.parse(line));
  } catch (e) {
    res = { exception: String(e && e.stack || e) };
  }
  process.stdout.write(JSON.stringify(res) + '\n');
});
