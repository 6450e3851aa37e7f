"""The Chromium matrix client: a page whose script runs the scenarios with the browser's
own WebSocket API and POSTs the results back to ``/report`` (see ``app.py``).

Chromium uses RFC 8441 only on an HTTP/2 connection to the same origin whose server sent
SETTINGS_ENABLE_CONNECT_PROTOCOL=1, so the page is served by the server under test and
its WebSockets go to ``wss://<same host>/ws``. ``?run=<name>`` names the report;
``&only=version`` runs just the transport probe (used against a server without the
setting, where the browser must fall back to HTTP/1.1 rather than send :protocol).
"""
from __future__ import annotations

_SCRIPT = r"""
const params = new URLSearchParams(location.search);
const RUN = params.get('run') || 'chromium';
const ONLY = params.get('only');
const URL_WS = 'wss://' + location.host + '/ws';
const results = {};

function open(protocols) {
  return new Promise((resolve, reject) => {
    const ws = protocols ? new WebSocket(URL_WS, protocols) : new WebSocket(URL_WS);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error('WebSocket error before open'));
  });
}
function next(ws) {
  return new Promise((resolve, reject) => {
    ws.onmessage = (e) => resolve(e.data);
    ws.onclose = (e) => reject(new Error('closed ' + e.code));
  });
}
function closed(ws) {
  return new Promise((resolve) => { ws.onclose = (e) => resolve(e); });
}
function eq(a, b) {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  const x = new Uint8Array(a), y = new Uint8Array(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
function need(cond, msg) { if (!cond) throw new Error(msg); }
async function echo(ws, data) {
  const got = next(ws);
  ws.send(data);
  const reply = await got;
  need(eq(reply, data), 'echo mismatch (' + (reply.length || reply.byteLength) + ' octets)');
}
async function withWs(body, protocols) {
  const ws = await open(protocols);
  try { await body(ws); } finally { const c = closed(ws); ws.close(1000); await c; }
}
function na(reason) { const e = new Error(reason); e.na = true; throw e; }

const scenarios = {
  'handshake': () => withWs(async (ws) => {
    const got = next(ws); ws.send('?version'); const v = await got;
    need(v === 'version:2', 'the app saw ' + v + ' (not an RFC 8441 stream)');
  }),
  'text-echo': () => withWs((ws) => echo(ws, 'h\u00e9llo over h2')),
  'binary-echo': () => withWs((ws) => echo(ws, new Uint8Array([0, 1, 254, 255]).buffer)),
  '1mib-message': () => withWs((ws) => {
    const data = new Uint8Array(1024 * 1024);
    for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    return echo(ws, data.buffer);
  }),
  'fragmented-message': () => na('the browser WebSocket API cannot send fragmented messages'),
  'ping-pong': () => na('the browser WebSocket API exposes no Ping/Pong'),
  'close-client-code': async () => {
    const ws = await open(); const c = closed(ws); ws.close(4001); const e = await c;
    need(e.code === 4001 && e.wasClean, 'close event code ' + e.code + ' clean ' + e.wasClean);
  },
  'close-server-code': async () => {
    const ws = await open(); const c = closed(ws); ws.send('close:4002'); const e = await c;
    need(e.code === 4002 && e.wasClean, 'close event code ' + e.code + ' clean ' + e.wasClean);
  },
  'subprotocol': () => withWs(async (ws) => {
    need(ws.protocol === 'chat', 'negotiated ' + JSON.stringify(ws.protocol));
    const got = next(ws); ws.send('?subprotocol');
    need(await got === 'chat', 'the app did not see chat');
  }, ['chat', 'other']),
  'permessage-deflate': () => withWs(async (ws) => {
    if (!ws.extensions.includes('permessage-deflate')) na('server did not accept permessage-deflate: ' + JSON.stringify(ws.extensions));
    await echo(ws, 'compress me '.repeat(2000));
  }),
  '50-streams': async () => {
    const all = await Promise.all(Array.from({length: 50}, () => open()));
    await Promise.all(all.map(async (ws, i) => {
      await echo(ws, 'stream ' + i);
      const got = next(ws); ws.send('?version'); const v = await got;
      need(v === 'version:2', 'stream ' + i + ' rode ' + v);
    }));
    await Promise.all(all.map((ws) => { const c = closed(ws); ws.close(1000); return c; }));
  },
};

// Chromium opens RFC 8441 streams only on a live HTTP/2 connection that already carried
// the server's SETTINGS; a fetch first keeps one scenario's dropped connection (a peer's
// bug) from pushing the next scenario onto HTTP/1.1.
async function warm() { await fetch('/warm', {cache: 'no-store'}); }

async function runOne(name, fn) {
  try { await warm(); } catch (e) { /* the scenario itself will report the failure */ }
  const timer = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 20000));
  try { await Promise.race([fn(), timer]); results[name] = {status: 'pass', message: ''}; }
  catch (e) { results[name] = {status: e.na ? 'not-supported' : 'fail', message: String(e.message || e)}; }
}

async function main() {
  if (ONLY === 'version') {
    await runOne('version', async () => {
      const ws = await open(); const got = next(ws); ws.send('?version');
      results.version_seen = await got; ws.close(1000);
    });
  } else {
    for (const [name, fn] of Object.entries(scenarios)) await runOne(name, fn);
  }
  results.userAgent = navigator.userAgent;
  await fetch('/report', {method: 'POST', headers: {'x-run': RUN}, body: JSON.stringify(results)});
  document.title = 'DONE';
}
main();
"""


def render_page() -> str:
    return ("<!doctype html><meta charset='utf-8'><title>rfc8441 interop</title>"
            f"<script>{_SCRIPT}</script>")
