// Matrix client "node": Node.js http2 (nghttp2) for HTTP/2 and RFC 8441 extended CONNECT,
// with a small RFC 6455 frame codec (client role: masked) and permessage-deflate (RFC 7692,
// no context takeover) written here. Prints one JSON object: {scenario: {status, message}}.
//
// usage: node node_client.mjs <port> <ca.pem>|- [<no-setting port>|-] [<host>] [<ws path>]
// "-" for the CA: the system store only. NODE_CLIENT_INSECURE=1: no certificate check
// (a --url server run with --insecure).
import http2 from 'node:http2';
import fs from 'node:fs';
import tls from 'node:tls';
import crypto from 'node:crypto';
import zlib from 'node:zlib';

const [port, caFile, noSettingPort, host = 'localhost', wsPath = '/ws'] = process.argv.slice(2);
const authorityHost = host.includes(':') ? `[${host}]` : host;
const tlsOptions = {};
// Node's `ca` replaces its root store: keep the roots and add the given CA.
if (caFile && caFile !== '-') tlsOptions.ca = [...tls.rootCertificates, fs.readFileSync(caFile)];
if (process.env.NODE_CLIENT_INSECURE === '1') tlsOptions.rejectUnauthorized = false;
const TIMEOUT = 15000;
const OP = {CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10};
const TAIL = Buffer.from([0, 0, 0xff, 0xff]);

class NotApplicable extends Error {}
function need(cond, msg) { if (!cond) throw new Error(msg); }
function within(promise, what) {
  let timer;
  const t = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('timeout: ' + what)), TIMEOUT); });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// RFC 6455 §5.2: a masked client frame.
function frame(opcode, payload, {fin = true, rsv1 = false} = {}) {
  const len = payload.length;
  const head = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode];
  if (len < 126) head.push(0x80 | len);
  else if (len < 65536) head.push(0x80 | 126, len >> 8, len & 255);
  else {
    head.push(0x80 | 127);
    const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); head.push(...b);
  }
  const mask = crypto.randomBytes(4);
  const out = Buffer.from(payload);
  for (let i = 0; i < out.length; i++) out[i] ^= mask[i & 3];
  return Buffer.concat([Buffer.from(head), mask, out]);
}

class WsStream {
  constructor(req, headers) {
    this.req = req; this.headers = headers;
    this.buf = Buffer.alloc(0); this.queue = []; this.waiters = [];
    this.parts = null; this.deflate = false; this.ended = false; this.closedInfo = null;
    req.on('data', (chunk) => {
      try { this.feed(chunk); } catch (e) { this.closedInfo = {rstCode: 'client error: ' + e.message}; this.wake(); }
    });
    req.on('end', () => { this.ended = true; this.wake(); });
    req.on('close', () => { this.closedInfo = {rstCode: req.rstCode}; this.wake(); });
    req.on('error', () => {});
  }
  wake() { for (const w of this.waiters.splice(0)) w(); }
  push(msg) { this.queue.push(msg); this.wake(); }
  feed(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0], b1 = this.buf[1];
      let len = b1 & 127, off = 2;
      if (len === 126) { if (this.buf.length < 4) return; len = this.buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this.buf.length < 10) return; len = Number(this.buf.readBigUInt64BE(2)); off = 10; }
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      this.onFrame(!!(b0 & 0x80), !!(b0 & 0x40), b0 & 15, Buffer.from(payload));
    }
  }
  onFrame(fin, rsv1, opcode, payload) {
    if (opcode >= 8) { this.push({opcode, payload}); return; }
    if (opcode !== OP.CONT) this.parts = {opcode, rsv1, chunks: []};
    this.parts.chunks.push(payload);
    if (!fin) return;
    let data = Buffer.concat(this.parts.chunks);
    if (this.parts.rsv1) {
      data = zlib.inflateRawSync(Buffer.concat([data, TAIL]), {finishFlush: zlib.constants.Z_SYNC_FLUSH});
    }
    this.push({opcode: this.parts.opcode, payload: this.parts.opcode === OP.TEXT ? data.toString('utf8') : data});
    this.parts = null;
  }
  async next() {
    while (!this.queue.length) {
      if (this.closedInfo) throw new Error('stream closed (rst ' + this.closedInfo.rstCode + ')');
      await within(new Promise((r) => this.waiters.push(r)), 'message');
    }
    return this.queue.shift();
  }
  send(opcode, data, opts = {}) {
    let payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    let rsv1 = false;
    if (this.deflate && opcode < 8 && opcode !== OP.CONT && opts.fin !== false) {
      const z = zlib.deflateRawSync(payload, {finishFlush: zlib.constants.Z_SYNC_FLUSH});
      need(z.subarray(-4).equals(TAIL), 'deflate output lacks the sync-flush tail');
      payload = z.subarray(0, z.length - 4); rsv1 = true;
    }
    this.req.write(frame(opcode, payload, {...opts, rsv1}));
  }
  async closeHandshake(code) {
    const body = Buffer.alloc(2); body.writeUInt16BE(code);
    this.send(OP.CLOSE, body);
    let msg;
    do { msg = await this.next(); } while (msg.opcode !== OP.CLOSE);
    this.req.end();  // RFC 8441 §5: END_STREAM after the Close frames crossed
    await this.finished();
    return msg.payload.length >= 2 ? msg.payload.readUInt16BE(0) : null;
  }
  async finished() {
    while (!this.closedInfo) await within(new Promise((r) => this.waiters.push(r)), 'stream end');
    return this.closedInfo;
  }
}

function connect(p) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${authorityHost}:${p}`, tlsOptions);
    session.once('remoteSettings', () => resolve(session));
    session.once('error', reject);
  });
}

async function openWs(session, {protocols, deflate, path = wsPath} = {}) {
  const headers = {':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https',
                   ':path': path, ':authority': `${authorityHost}:${session.port}`,
                   'sec-websocket-version': '13'};
  if (protocols) headers['sec-websocket-protocol'] = protocols.join(', ');
  if (deflate) headers['sec-websocket-extensions'] = 'permessage-deflate; client_no_context_takeover; server_no_context_takeover';
  const req = session.request(headers, {endStream: false});
  const response = await within(new Promise((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
    req.once('close', () => reject(new Error('stream closed before an answer (rst ' + req.rstCode + ')')));
  }), 'CONNECT answer');
  const ws = new WsStream(req, response);
  ws.status = Number(response[':status']);
  ws.deflate = /permessage-deflate/.test(response['sec-websocket-extensions'] || '');
  return ws;
}

async function withWs(body, opts) {
  const session = await connect(port);
  session.port = port;
  try {
    const ws = await openWs(session, opts);
    need(ws.status === 200, 'extended CONNECT answered ' + ws.status);
    await body(ws, session);
  } finally { session.close(); }
}

async function echo(ws, opcode, data) {
  ws.send(opcode, data);
  const got = await ws.next();
  need(got.opcode === opcode, 'opcode ' + got.opcode);
  const same = typeof data === 'string' ? got.payload === data : Buffer.compare(got.payload, Buffer.from(data)) === 0;
  need(same, 'echo mismatch (' + got.payload.length + ' octets)');
}

const scenarios = {
  'handshake': () => withWs(async (ws) => {
    need(!('content-length' in ws.headers), 'content-length on the 200 (RFC 8441 §5)');
    ws.send(OP.TEXT, '?version'); const v = await ws.next();
    need(v.payload === 'version:2', 'the app saw ' + v.payload);
  }),
  'text-echo': () => withWs((ws) => echo(ws, OP.TEXT, 'h\u00e9llo over h2')),
  'binary-echo': () => withWs((ws) => echo(ws, OP.BINARY, Buffer.from([0, 1, 254, 255]))),
  '1mib-message': () => withWs((ws) => echo(ws, OP.BINARY, crypto.randomBytes(1024 * 1024))),
  'fragmented-message': () => withWs(async (ws) => {
    ws.send(OP.TEXT, 'frag', {fin: false}); ws.send(OP.CONT, 'men', {fin: false});
    ws.send(OP.CONT, 'ted', {fin: true});
    const got = await ws.next(); need(got.payload === 'fragmented', 'got ' + got.payload);
  }),
  'ping-pong': () => withWs(async (ws) => {
    ws.send(OP.PING, 'are-you-there'); const got = await ws.next();
    need(got.opcode === OP.PONG && got.payload.toString() === 'are-you-there', 'no pong');
  }),
  'close-client-code': () => withWs(async (ws) => {
    const code = await ws.closeHandshake(4001);
    need(code === 4001, 'server echoed ' + code);
    need(ws.ended && ws.closedInfo.rstCode === 0, 'stream did not end with END_STREAM (rst ' + ws.closedInfo.rstCode + ')');
  }),
  'close-server-code': () => withWs(async (ws) => {
    ws.send(OP.TEXT, 'close:4002'); const got = await ws.next();
    need(got.opcode === OP.CLOSE && got.payload.readUInt16BE(0) === 4002, 'got ' + got.opcode);
    ws.send(OP.CLOSE, got.payload.subarray(0, 2)); ws.req.end();
    const info = await ws.finished();
    need(ws.ended && info.rstCode === 0, 'stream did not end with END_STREAM (rst ' + info.rstCode + ')');
  }),
  'subprotocol': () => withWs(async (ws) => {
    need(ws.headers['sec-websocket-protocol'] === 'chat', 'negotiated ' + ws.headers['sec-websocket-protocol']);
  }, {protocols: ['chat', 'other']}),
  'permessage-deflate': () => withWs(async (ws) => {
    if (!ws.deflate) throw new NotApplicable('server did not accept permessage-deflate');
    await echo(ws, OP.TEXT, 'compress me '.repeat(2000));
  }, {deflate: true}),
  '50-streams': async () => {
    const session = await connect(port); session.port = port;
    try {
      const all = await Promise.all(Array.from({length: 50}, () => openWs(session)));
      need(all.every((w) => w.status === 200), 'statuses ' + all.map((w) => w.status));
      await Promise.all(all.map((w, i) => echo(w, OP.TEXT, 'stream ' + i)));
    } finally { session.close(); }
  },
  'no-setting-refused': async () => {
    if (!noSettingPort || noSettingPort === '-') throw new NotApplicable(process.env.NO_SETTING_REASON || 'no server without the setting');
    const session = await connect(noSettingPort); session.port = noSettingPort;
    try {
      need(!session.remoteSettings.enableConnectProtocol, 'the server advertised the setting');
      let ws;
      try { ws = await openWs(session); } catch (e) { return; }  // refused: by Node or by the server
      need(ws.status !== 200, 'an extended CONNECT was accepted without the setting');
    } finally { session.close(); }
  },
};

const results = {};
for (const [name, fn] of Object.entries(scenarios)) {
  try { await fn(); results[name] = {status: 'pass', message: ''}; }
  catch (e) {
    results[name] = {status: e instanceof NotApplicable ? 'not-supported' : 'fail', message: String(e.message || e)};
  }
}
results.node = process.version;
process.stdout.write(JSON.stringify(results) + '\n');
process.exit(0);
