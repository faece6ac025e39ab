'use strict';
// How the browser tests start Debian's Chromium through playwright-core:
// the flags (the network of this machine is closed, so Chromium's own
// background traffic is turned off) and where the executable is.

const { execFileSync } = require('child_process');

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// findChromium returns explicit, else $CHROMIUM, else the first Chromium
// or Chrome on PATH, else null.
function findChromium(explicit) {
  if (explicit) return explicit;
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    try {
      const p = execFileSync('sh', ['-c', 'command -v ' + name], { encoding: 'utf8' }).trim();
      if (p) return p;
    } catch (e) { /* not this one */ }
  }
  return null;
}

module.exports = { CHROMIUM_ARGS, findChromium };
