// Helpers for the black-box tests of the Bulwark daemon.
//
// Nothing here sleeps to synchronize: every wait is on an event (process
// output, socket close) or a poll with a deadline.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = path.resolve(REPO_ROOT, process.env.BULWARK_BIN || 'build/bulwark');

export const PLATFORM_KEY_RE = /^bwp_[A-Za-z0-9_-]{43}$/;

// ---------------------------------------------------------------------------
// Process bookkeeping: whatever happens to a test file, no daemon outlives it.

const children = new Set();
const tempDirs = new Set();
process.on('exit', () => {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const d of tempDirs) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
});

// The child's environment: ours without any BULWARK_* variable (the harness's
// BULWARK_BIN included), plus what the test asks for.
function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('BULWARK_')) env[k] = v;
  }
  return { ...env, ...extra };
}

export function makeTempDir(prefix = 'bulwark-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  tempDirs.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Run the binary to completion. Kills it (SIGKILL) after timeoutMs and then
 * reports timedOut: true. Resolves {code, signal, stdout, stderr, timedOut}.
 */
export function runBulwark(args, { env = {}, input, timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, args, { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(proc);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { timedOut = true; proc.kill('SIGKILL'); }, timeoutMs);
    proc.on('error', (err) => { clearTimeout(timer); children.delete(proc); reject(err); });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(proc);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    proc.stdin.on('error', () => { /* the child may not read stdin */ });
    if (input !== undefined) proc.stdin.end(input); else proc.stdin.end();
  });
}

/**
 * `bulwark init --data <tmp>/data --json`. Returns {dir, data, key, result}.
 */
export async function initData() {
  const dir = makeTempDir();
  const data = path.join(dir, 'data');
  const result = await runBulwark(['init', '--data', data, '--json']);
  if (result.code !== 0) {
    throw new Error(`bulwark init failed (code ${result.code}, signal ${result.signal})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  let parsed;
  try {
    parsed = JSON.parse(result.stdout.trim());
  } catch (e) {
    throw new Error(`bulwark init --json printed no JSON: ${JSON.stringify(result.stdout)}`);
  }
  return { dir, data, key: parsed.platform_key, result };
}

/**
 * Spawn `bulwark serve` on loopback with free ports and wait for its single
 * ready line. Resolves a handle:
 *   {proc, url, adminUrl, host, port, adminPort, ready, stderr, stdoutAfterReady,
 *    alive(), exited, stop(signal)}
 */
export function startDaemon({ data, args = [], env = {}, readyTimeoutMs = 15000 } = {}) {
  const fullArgs = ['serve'];
  if (data !== undefined) fullArgs.push('--data', data);
  fullArgs.push('--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', ...args);
  const proc = spawn(BIN, fullArgs, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);

  let stderr = '';
  let stdoutBuf = '';
  let afterReady = '';
  let isReady = false;
  let exitInfo = null;
  proc.stderr.setEncoding('utf8');
  proc.stdout.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });

  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      children.delete(proc);
      resolve(exitInfo);
    });
  });

  return new Promise((resolve, reject) => {
    const fail = (why) => {
      clearTimeout(timer);
      try { proc.kill('SIGKILL'); } catch { /* gone */ }
      reject(new Error(`bulwark serve ${fullArgs.join(' ')}: ${why}\nstdout: ${JSON.stringify(stdoutBuf)}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no ready line within ${readyTimeoutMs} ms`), readyTimeoutMs);
    proc.on('error', (err) => fail(`spawn error: ${err.message}`));
    proc.on('exit', (code, signal) => {
      if (!isReady) {
        // Let stderr drain before reporting.
        setImmediate(() => fail(`exited before ready (code ${code}, signal ${signal})`));
      }
    });
    proc.stdout.on('data', (chunk) => {
      if (isReady) { afterReady += chunk; return; }
      stdoutBuf += chunk;
      const nl = stdoutBuf.indexOf('\n');
      if (nl < 0) return;
      const line = stdoutBuf.slice(0, nl);
      afterReady = stdoutBuf.slice(nl + 1);
      let ready;
      try {
        ready = JSON.parse(line);
      } catch {
        fail(`first stdout line is not JSON: ${JSON.stringify(line)}`);
        return;
      }
      if (typeof ready.listening !== 'string' || typeof ready.admin !== 'string') {
        fail(`ready line lacks listening/admin: ${JSON.stringify(line)}`);
        return;
      }
      isReady = true;
      clearTimeout(timer);
      const [host, portStr] = splitHostPort(ready.listening);
      const [adminHost, adminPortStr] = splitHostPort(ready.admin);
      const port = Number(portStr);
      const adminPort = Number(adminPortStr);
      const handle = {
        proc,
        ready,
        readyLine: line,
        host,
        port,
        adminHost,
        adminPort,
        url: `http://${host}:${port}`,
        adminUrl: `http://${adminHost}:${adminPort}`,
        wsUrl: `ws://${host}:${port}`,
        get stderr() { return stderr; },
        get stdoutAfterReady() { return afterReady; },
        get exitInfo() { return exitInfo; },
        alive() { return exitInfo === null && proc.exitCode === null && proc.signalCode === null; },
        exited,
        /**
         * Send `signal` (SIGTERM) and resolve the exit code (null when killed
         * by a signal). After killAfterMs the process is SIGKILLed and the
         * promise rejects.
         */
        async stop(signal = 'SIGTERM', killAfterMs = 10000) {
          if (exitInfo) return exitInfo.code;
          proc.kill(signal);
          let t;
          const timeout = new Promise((_, rej) => {
            t = setTimeout(() => {
              try { proc.kill('SIGKILL'); } catch { /* gone */ }
              rej(new Error(`daemon did not exit within ${killAfterMs} ms of ${signal}\nstderr:\n${stderr}`));
            }, killAfterMs);
          });
          try {
            const info = await Promise.race([exited, timeout]);
            return info.code;
          } finally {
            clearTimeout(t);
          }
        },
      };
      resolve(handle);
    });
  });
}

function splitHostPort(s) {
  const i = s.lastIndexOf(':');
  let host = s.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return [host, s.slice(i + 1)];
}

// ---------------------------------------------------------------------------
// Polling

/** Poll fn() until it returns a truthy value; reject after timeoutMs. */
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await delay(intervalMs);
  }
}

// ---------------------------------------------------------------------------
// HTTP through fetch

/**
 * One request through fetch. body: object (JSON-encoded), string or Buffer.
 * Resolves {status, headers, text, json}.
 */
export async function api(base, method, pathname, { key, body, headers = {}, contentType } = {}) {
  const h = { ...headers };
  if (key !== undefined) h.authorization = `Bearer ${key}`;
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array) {
      payload = body;
    } else {
      payload = JSON.stringify(body);
    }
    h['content-type'] = contentType ?? 'application/json';
  } else if (contentType !== undefined) {
    h['content-type'] = contentType;
  }
  const res = await fetch(base + pathname, { method, headers: h, body: payload, signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  let json;
  try { json = text.length ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** A compact description of a response for assertion messages. */
export function show(res) {
  return `${res.status} ${res.text?.slice(0, 500)}`;
}

// ---------------------------------------------------------------------------
// Raw TCP

/**
 * Connect, write `data` (string as latin1, or Buffer, or an array of chunks
 * written in order), collect every byte until the server closes, `until(text)`
 * returns true, or timeoutMs passes.
 * Resolves {text (latin1), buffer, closed (server ended/reset the connection),
 * reset (ECONNRESET/EPIPE seen), timedOut, elapsedMs, error}.
 */
export function rawExchange(port, data, { host = '127.0.0.1', timeoutMs = 5000, until } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks = [];
    let settled = false;
    let reset = false;
    let error = null;
    const sock = net.connect({ host, port });
    const finish = (closed, timedOut) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const buffer = Buffer.concat(chunks);
      sock.destroy();
      resolve({ text: buffer.toString('latin1'), buffer, closed, reset, timedOut, elapsedMs: Date.now() - started, error });
    };
    const timer = setTimeout(() => finish(false, true), timeoutMs);
    sock.on('connect', () => {
      const parts = Array.isArray(data) ? data : [data];
      for (const p of parts) {
        sock.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
      }
    });
    sock.on('data', (d) => {
      chunks.push(d);
      if (until && until(Buffer.concat(chunks).toString('latin1'))) finish(false, false);
    });
    sock.on('error', (e) => {
      error = e;
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true;
      finish(true, false);
    });
    sock.on('end', () => finish(true, false));
    sock.on('close', () => finish(true, false));
  });
}

/** Like rawExchange but resolves the response text only. */
export async function rawRequest(port, data, { timeoutMs = 5000, host } = {}) {
  return (await rawExchange(port, data, { timeoutMs, host })).text;
}

/**
 * Parse consecutive HTTP/1.x responses from raw text (latin1). Returns an
 * array of {status, reason, version, headers (lower-case names; arrays when
 * repeated are joined with ', '), headerList, body, complete}. A response
 * whose body is cut short is returned with complete: false and ends the list.
 */
export function parseResponses(text) {
  const out = [];
  let pos = 0;
  while (pos < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) {
      out.push({ status: NaN, raw: text.slice(pos), complete: false });
      break;
    }
    const head = text.slice(pos, headEnd).split('\r\n');
    const m = /^(HTTP\/\d\.\d) (\d{3})(?: (.*))?$/.exec(head[0]);
    if (!m) {
      out.push({ status: NaN, raw: text.slice(pos), complete: false });
      break;
    }
    const headers = {};
    const headerList = [];
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      headerList.push([name, value]);
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(m[2]);
    let p = headEnd + 4;
    let body = '';
    let complete = true;
    if ((status >= 100 && status < 200) || status === 204 || status === 304) {
      // no body
    } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
      for (;;) {
        const le = text.indexOf('\r\n', p);
        if (le < 0) { complete = false; break; }
        const size = parseInt(text.slice(p, le).split(';')[0], 16);
        if (Number.isNaN(size)) { complete = false; break; }
        p = le + 2;
        if (size === 0) {
          const end = text.indexOf('\r\n', p);
          if (end < 0) { complete = false; break; }
          p = end + 2;
          break;
        }
        if (p + size + 2 > text.length) { complete = false; body += text.slice(p); p = text.length; break; }
        body += text.slice(p, p + size);
        p += size + 2;
      }
    } else if (headers['content-length'] !== undefined) {
      const len = Number(headers['content-length']);
      if (p + len > text.length) complete = false;
      body = text.slice(p, p + len);
      p = Math.min(p + len, text.length);
    } else {
      body = text.slice(p);
      p = text.length;
    }
    out.push({ version: m[1], status, reason: m[3] ?? '', headers, headerList, body, complete });
    if (!complete) break;
    pos = p;
  }
  return out;
}

/** True once `text` holds n complete responses. */
export function hasResponses(n) {
  return (text) => {
    const r = parseResponses(text);
    return r.length >= n && r.slice(0, n).every((x) => x.complete);
  };
}

// ---------------------------------------------------------------------------
// Metrics

/** Parse Prometheus text into [{name, labels:{}, value}]. */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let lm;
      while ((lm = re.exec(m[3]))) labels[lm[1]] = lm[2];
    }
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** Sum of the samples of `name` whose labels include `match`. */
export function metricValue(samples, name, match = {}) {
  let sum = 0;
  let found = false;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    sum += s.value;
    found = true;
  }
  return found ? sum : undefined;
}

export async function getMetrics(daemon) {
  const res = await fetch(`${daemon.adminUrl}/metrics`, { signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, samples: parseMetrics(text) };
}

// ---------------------------------------------------------------------------
// Health

/** The daemon is alive and still serves GET /healthz with 200. */
export async function assertHealthy(assert, daemon, context = '') {
  assert.ok(daemon.alive(), `daemon died ${context}: ${JSON.stringify(daemon.exitInfo)}\nstderr:\n${daemon.stderr.slice(-4000)}`);
  const r = await rawExchange(daemon.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', { timeoutMs: 5000, until: hasResponses(1) });
  const [res] = parseResponses(r.text);
  assert.equal(res?.status, 200, `GET /healthz after ${context} answered ${JSON.stringify(r.text.slice(0, 300))}`);
}

// ---------------------------------------------------------------------------
// WebSocket, raw

export function wsKey() {
  return crypto.randomBytes(16).toString('base64');
}

/**
 * Perform a WebSocket handshake by hand. Resolves {socket, status, headers,
 * rest (bytes after the response head), responseHead}. The socket keeps
 * collecting into `received` (a getter) and records `closed`.
 */
export function wsRawHandshake(port, { path: p = '/v1/events', protocols, headers = {}, host = '127.0.0.1', timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const key = wsKey();
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let done = false;
    const state = { closed: false, error: null };
    const closedPromise = new Promise((res) => {
      sock.on('close', () => { state.closed = true; res(); });
    });
    sock.on('error', (e) => { state.error = e; });
    const timer = setTimeout(() => {
      if (!done) { done = true; sock.destroy(); reject(new Error(`handshake timed out; got ${JSON.stringify(buf.toString('latin1'))}`)); }
    }, timeoutMs);
    sock.on('connect', () => {
      let req = `GET ${p} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
      if (protocols) req += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`;
      for (const [k, v] of Object.entries(headers)) req += `${k}: ${v}\r\n`;
      req += '\r\n';
      sock.write(req);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (done) return;
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      done = true;
      clearTimeout(timer);
      const head = buf.subarray(0, i).toString('latin1');
      buf = buf.subarray(i + 4);
      const lines = head.split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const hdrs = {};
      for (const l of lines.slice(1)) {
        const j = l.indexOf(':');
        hdrs[l.slice(0, j).trim().toLowerCase()] = l.slice(j + 1).trim();
      }
      const expectedAccept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      resolve({
        socket: sock,
        status,
        headers: hdrs,
        responseHead: head,
        expectedAccept,
        get received() { return buf; },
        get closed() { return state.closed; },
        get error() { return state.error; },
        closedPromise,
      });
    });
    sock.on('close', () => {
      if (!done) { done = true; clearTimeout(timer); reject(new Error(`closed during handshake; got ${JSON.stringify(buf.toString('latin1'))}`)); }
    });
  });
}

/** Encode one WebSocket frame. */
export function wsFrame(opcode, payload, { mask = true, fin = true } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const len = data.length;
  let head;
  if (len < 126) {
    head = Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = (mask ? 0x80 : 0) | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = (mask ? 0x80 : 0) | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!mask) return Buffer.concat([head, data]);
  const m = crypto.randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = data[i] ^ m[i % 4];
  return Buffer.concat([head, m, masked]);
}

/** Parse server frames (unmasked) from a buffer: [{fin, opcode, payload}]. */
export function wsParseFrames(buf) {
  const frames = [];
  let p = 0;
  while (p + 2 <= buf.length) {
    const b0 = buf[p];
    const b1 = buf[p + 1];
    let len = b1 & 0x7f;
    let q = p + 2;
    if (len === 126) {
      if (q + 2 > buf.length) break;
      len = buf.readUInt16BE(q); q += 2;
    } else if (len === 127) {
      if (q + 8 > buf.length) break;
      len = Number(buf.readBigUInt64BE(q)); q += 8;
    }
    let maskKey = null;
    if (b1 & 0x80) {
      if (q + 4 > buf.length) break;
      maskKey = buf.subarray(q, q + 4); q += 4;
    }
    if (q + len > buf.length) break;
    let payload = Buffer.from(buf.subarray(q, q + len));
    if (maskKey) for (let i = 0; i < payload.length; i++) payload[i] ^= maskKey[i % 4];
    frames.push({ fin: !!(b0 & 0x80), opcode: b0 & 0x0f, masked: !!maskKey, payload });
    p = q + len;
  }
  return frames;
}

/** The close code of the first close frame in frames, or undefined. */
export function wsCloseCode(frames) {
  const f = frames.find((x) => x.opcode === 0x8);
  if (!f) return undefined;
  return f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
}
