// checklib.js — what the client check scripts (v2client.js, v4client.js)
// share: comparing values with binary in them, the result lines, and the
// loop that runs the checks.
'use strict';

function once(s, ev) {
  return new Promise((resolve) => s.once(ev, (...a) => resolve(a)));
}

function call(s, ev, ...a) {
  return new Promise((resolve) => s.emit(ev, ...a, (...res) => resolve(res)));
}

// plain turns Buffers and ArrayBuffers into {bin: [bytes]} for comparison.
function plain(v) {
  if (Buffer.isBuffer(v)) return { bin: Array.from(v) };
  if (v instanceof ArrayBuffer) return { bin: Array.from(new Uint8Array(v)) };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = plain(v[k]);
    return o;
  }
  return v;
}

function same(a, b) { return JSON.stringify(plain(a)) === JSON.stringify(plain(b)); }

function expect(cond, what, observed) {
  if (!cond) {
    const e = new Error(what);
    e.observed = observed;
    throw e;
  }
}

function withTimeout(p, ms) {
  let t;
  return Promise.race([p, new Promise((_, reject) => { t = setTimeout(() => reject(new Error('timeout')), ms); })])
    .finally(() => clearTimeout(t));
}

// runChecks runs each check of list in turn, within timeout ms, printing
// one result line each ({"check","transport","pass","observed","error"}),
// closes the sockets left in open after each, and exits 0.
async function runChecks(list, transport, timeout, open) {
  function result(name, pass, observed, error) {
    process.stdout.write(JSON.stringify({ check: name, transport, pass,
      observed: observed === undefined ? null : observed, error: error || '' }) + '\n');
  }
  for (const [name, fn] of Object.entries(list)) {
    try {
      const observed = await withTimeout(fn(), timeout);
      result(name, true, observed);
    } catch (e) {
      result(name, false, e.observed === undefined ? null : plain(e.observed), String(e && e.message || e));
    }
    while (open.length) open.pop().close();
  }
  process.exit(0);
}

module.exports = { once, call, plain, same, expect, withTimeout, runChecks };
