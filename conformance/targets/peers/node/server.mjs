// Server under test for the BlackBull conformance suite: Node.js `http2` (nghttp2) with
// the npm `ws` package for WebSocket (RFC 6455) and WebSocket over HTTP/2 (RFC 8441).
//
// Contract (conformance/targets/README.md): GET and POST / answer 200 with a non-empty
// body (h2spec); a WebSocket on any path echoes text and binary messages (Autobahn);
// an extended CONNECT with :protocol websocket does the same over an HTTP/2 stream.
//
//   node server.mjs --host 127.0.0.1 --port 8080 [--cert server.pem --key server.key]
//                   [--interop] [--page page.html] [--no-connect-protocol]
//
// --interop (or $INTEROP_REPORT_DIR set, as the RFC 8441 matrix does) adds the matrix's
// app contract (conformance/interop/app.py): subprotocols chat/superchat, `?version`,
// `?subprotocol`, `close:<code>`, the Chromium page on GET / (--page FILE, else rendered
// once by conformance.interop.page with $INTEROP_PYTHON) and POST /report.
// --no-connect-protocol (or BB_PEER_CONNECT_PROTOCOL=0) withholds
// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
// ws exports only its entry point; its permessage-deflate and header parser are needed to
// negotiate RFC 7692 on an HTTP/2 stream the way WebSocketServer does on HTTP/1.1.
const wsRequire = createRequire(path.join(here, 'node_modules', 'ws', 'package.json'));
const PerMessageDeflate = wsRequire('./lib/permessage-deflate.js');
const extension = wsRequire('./lib/extension.js');

function option(name, fallback = undefined) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const flag = (name) => process.argv.includes(name);

const host = option('--host', '127.0.0.1');
const port = Number(option('--port', '8080'));
const cert = option('--cert');
const key = option('--key');
const interop = flag('--interop') || Boolean(process.env.INTEROP_REPORT_DIR);
const pageFile = option('--page');
const connectProtocol = !flag('--no-connect-protocol') && process.env.BB_PEER_CONNECT_PROTOCOL !== '0';
const KNOWN_SUBPROTOCOLS = ['chat', 'superchat'];
const MAX_PAYLOAD = 64 * 1024 * 1024;
// ws's defaults: accept whatever context-takeover and window parameters the client offers.
const DEFLATE = {};
const BODY = 'hello from node http2\n';

function chooseProtocol(offered) {
  if (!interop) return false;
  return KNOWN_SUBPROTOCOLS.find((p) => offered.has(p)) || false;
}

function attachEcho(ws, httpVersion, subprotocol) {
  ws.on('message', (data, isBinary) => {
    if (interop && !isBinary) {
      const text = data.toString('utf8');
      if (text === '?version') return ws.send(`version:${httpVersion}`);
      if (text === '?subprotocol') return ws.send(subprotocol || '-');
      const m = /^close:(\d+)$/.exec(text);
      if (m) return ws.close(Number(m[1]));
    }
    ws.send(data, { binary: isBinary });
  });
  ws.on('error', () => {});
}

// HTTP/1.1 upgrades (RFC 6455 §4): ws's own server does the handshake.
const wss = new WebSocketServer({
  noServer: true, autoPong: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: DEFLATE,
  handleProtocols: (offered) => chooseProtocol(offered),
});
wss.on('connection', (ws) => attachEcho(ws, '1.1', ws.protocol));

function parseList(value) {
  return new Set(String(value || '').split(',').map((s) => s.trim()).filter(Boolean));
}

// RFC 8441 §5: the CONNECT stream carries the WebSocket frames; success is :status 200
// with no Sec-WebSocket-Accept; Sec-WebSocket-Protocol/Extensions still apply.
function extendedConnect(stream, headers) {
  if (headers[':protocol'] !== 'websocket') {
    stream.respond({ ':status': 400 });
    stream.end('unsupported :protocol\n');
    return;
  }
  if (headers['sec-websocket-version'] !== '13') {
    stream.respond({ ':status': 400, 'sec-websocket-version': '13' });
    stream.end();
    return;
  }
  const response = { ':status': 200 };
  const subprotocol = chooseProtocol(parseList(headers['sec-websocket-protocol']));
  if (subprotocol) response['sec-websocket-protocol'] = subprotocol;
  const extensions = {};
  const offer = headers['sec-websocket-extensions'];
  if (offer !== undefined) {
    let offers;
    try {
      offers = extension.parse(offer);
    } catch {
      stream.respond({ ':status': 400 });
      stream.end('malformed sec-websocket-extensions\n');
      return;
    }
    const name = PerMessageDeflate.extensionName;
    if (offers[name]) {
      const pmd = new PerMessageDeflate({ ...DEFLATE, isServer: true, maxPayload: MAX_PAYLOAD });
      try {
        const params = pmd.accept(offers[name]);
        extensions[name] = pmd;
        response['sec-websocket-extensions'] = extension.format({ [name]: [params] });
      } catch {
        // RFC 6455 §9.1: an offer the server cannot accept is declined, not an error.
      }
    }
  }
  stream.respond(response);
  const ws = new WebSocket(null, undefined, { autoPong: true });
  ws._extensions = extensions;
  if (subprotocol) ws._protocol = subprotocol;
  // ws treats its transport as a net.Socket; an Http2Stream lacks only setNoDelay.
  if (typeof stream.setNoDelay !== 'function') stream.setNoDelay = () => stream;
  ws.setSocket(stream, Buffer.alloc(0), { maxPayload: MAX_PAYLOAD, allowSynchronousEvents: true });
  attachEcho(ws, '2', subprotocol);
}

let page = null;
function interopPage() {
  if (page === null) {
    page = pageFile ? fs.readFileSync(pageFile) : execFileSync(
      process.env.INTEROP_PYTHON || 'python3',
      ['-c', 'from conformance.interop.page import render_page; print(render_page(), end="")'],
      { cwd: path.resolve(here, '..', '..', '..', '..') });
  }
  return page;
}

function storeReport(run, body) {
  const dir = process.env.INTEROP_REPORT_DIR;
  if (!dir || !/^[A-Za-z0-9_.-]{1,80}$/.test(run)) return [400, 'no INTEROP_REPORT_DIR or bad x-run\n'];
  const target = path.join(dir, `${run}.json`);
  fs.writeFileSync(`${target}.tmp`, body);
  fs.renameSync(`${target}.tmp`, target);
  return [200, 'stored\n'];
}

// h2spec's contract: GET and POST / answer 200 with a non-empty body.
function answer(method, target, run, body) {
  const url = String(target || '/').split('?')[0];
  if (interop && method === 'GET' && (url === '/' || url === '/index.html')) {
    return [200, 'text/html; charset=utf-8', interopPage()];
  }
  if (interop && method === 'POST' && url === '/report') {
    const [status, text] = storeReport(String(run || ''), body);
    return [status, 'text/plain', text];
  }
  return [200, 'text/plain', BODY];
}

// HTTP/2 streams (core API, not the compat layer, so that an extended CONNECT stream's
// DATA reaches only the WebSocket). The request body is read before the answer.
function onStream(stream, headers) {
  stream.on('error', () => {});
  if (headers[':method'] === 'CONNECT') return extendedConnect(stream, headers);
  const chunks = [];
  stream.on('data', (c) => chunks.push(c));
  stream.on('end', () => {
    if (stream.destroyed || stream.headersSent) return;
    const [status, type, body] = answer(headers[':method'], headers[':path'],
      headers['x-run'], Buffer.concat(chunks));
    stream.respond({ ':status': status, 'content-type': type, 'cache-control': 'no-store' });
    stream.end(body);
  });
}

// HTTP/1.1 requests; WebSocket upgrades (RFC 6455 §4) go to ws's own server.
function onRequest(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('error', () => {});
  req.on('end', () => {
    const [status, type, body] = answer(req.method, req.url, req.headers['x-run'],
      Buffer.concat(chunks));
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  });
}
function onUpgrade(req, socket, head) {
  if (String(req.headers.upgrade).toLowerCase() !== 'websocket') return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
}

const h2 = http2.createServer({ settings: { enableConnectProtocol: connectProtocol } });
h2.on('stream', onStream);
h2.on('sessionError', () => {});
const h1 = http.createServer(onRequest);
h1.on('upgrade', onUpgrade);
h1.on('clientError', (err, socket) => socket.destroy());

// An Http2Session reads its socket's native handle, so bytes already read cannot be
// unshifted back; a plain Duplex that replays them first is served through JS instead.
class Replayed extends Duplex {
  constructor(socket, first) {
    super();
    this.socket = socket;
    this.push(first);
    socket.on('data', (d) => { if (!this.push(d)) socket.pause(); });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (e) => this.destroy(e));
  }
  _read() { this.socket.resume(); }
  _write(chunk, encoding, cb) { this.socket.write(chunk, encoding, cb); }
  _final(cb) { this.socket.end(); cb(); }
  _destroy(err, cb) { this.socket.destroy(); cb(err); }
}

let server;
if (cert && key) {
  // TLS: ALPN picks the protocol (RFC 9113 §3.2, RFC 7301); h2 and HTTP/1.1 share the port.
  // Not createSecureServer({allowHTTP1}): HTTP/1.1 there needs the compatibility API,
  // which wraps every HTTP/2 stream too and takes an extended CONNECT stream's DATA.
  server = tls.createServer({
    cert: fs.readFileSync(cert), key: fs.readFileSync(key), ALPNProtocols: ['h2', 'http/1.1'],
  }, (socket) => (socket.alpnProtocol === 'h2' ? h2 : h1).emit('connection', socket));
  server.on('tlsClientError', () => {});
} else {
  // Cleartext: Node's h2c speaks only prior knowledge (RFC 9113 §3.3), so the first bytes
  // decide: an HTTP/1.1 request line goes to the HTTP/1.1 server, anything else (the
  // connection preface, or garbage it must refuse with GOAWAY) to HTTP/2.
  const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r?\n/;
  server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (chunk) => {
      socket.pause();
      if (REQUEST_LINE.test(chunk.subarray(0, 8192).toString('latin1'))) {
        socket.unshift(chunk);
        h1.emit('connection', socket);
        socket.resume();
      } else {
        h2.emit('connection', new Replayed(socket, chunk));
      }
    });
  });
}
server.listen(port, host, () => console.log(`bb-peer-node listening on ${host}:${port} tls=${Boolean(cert)}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
