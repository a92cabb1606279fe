// Malformed and hostile HTTP/1.1 messages sent over raw TCP.
// Every probe: the expected status, then the connection closes, nothing
// answers 500, and the daemon is still alive and serving /healthz.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, rawExchange, parseResponses, hasResponses, assertHealthy } from './lib/daemon.mjs';

let init;
let d;

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

const H = 'Host: 127.0.0.1\r\n';
const SMUGGLED = `GET /readyz HTTP/1.1\r\n${H}\r\n`; // its answer would carry "ready"

function describeExchange(r) {
  return `closed=${r.closed} reset=${r.reset} timedOut=${r.timedOut} elapsed=${r.elapsedMs}ms error=${r.error?.code ?? ''} ` +
    `received ${r.buffer.length} bytes: ${JSON.stringify(r.text.slice(0, 400))}`;
}

/**
 * Send `data`; expect exactly one response whose status is in `expect`, then
 * the server closes the connection; no smuggled request answered; daemon healthy.
 */
async function probe(data, expect, { timeoutMs = 5000 } = {}) {
  const r = await rawExchange(d.port, data, { timeoutMs });
  const res = parseResponses(r.text);
  const info = describeExchange(r);
  assert.ok(res.length >= 1, `no response; ${info}`);
  assert.ok(expect.includes(res[0].status), `status ${res[0].status}, expected ${expect.join(' or ')}; ${info}`);
  assert.equal(res.length, 1, `more than one response; ${info}`);
  assert.ok(!r.text.includes('"ready"'), `a smuggled request was answered; ${info}`);
  assert.ok(r.closed, `the server did not close the connection; ${info}`);
  await assertHealthy(assert, d, `probe ${JSON.stringify(String(data).slice(0, 60))}`);
  return { r, res };
}

describe('request smuggling and framing', () => {
  test('a chunked body holding a second request is not answered as a request', async () => {
    const inner = SMUGGLED;
    const data =
      `POST /healthz HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n` +
      `${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n` +
      `GET /healthz HTTP/1.1\r\n${H}Connection: close\r\n\r\n`;
    const r = await rawExchange(d.port, data, { timeoutMs: 5000 });
    const res = parseResponses(r.text);
    const info = describeExchange(r);
    assert.ok(res.length >= 1 && res.length <= 2, `expected 1 or 2 responses; ${info}`);
    assert.ok(!r.text.includes('"ready"'), `the request inside the chunked body was answered; ${info}`);
    assert.ok(res[0].status >= 400 && res[0].status < 500, `first response ${res[0].status}; ${info}`);
    if (res.length === 2) {
      assert.equal(res[1].status, 200, `second response is not the /healthz answer; ${info}`);
      assert.deepEqual(JSON.parse(res[1].body), { status: 'ok' }, info);
    }
    assert.ok(r.closed, `not closed; ${info}`);
    await assertHealthy(assert, d, 'chunked smuggling');
  });

  test('a chunked body is read as chunked (the request after it is answered once)', async () => {
    // A valid chunked POST followed by a pipelined GET: a server that ignored
    // chunked framing would answer three times or answer garbage.
    const body = '{"name":"chunky"}';
    const data =
      `POST /v1/platform-keys HTTP/1.1\r\n${H}Authorization: Bearer ${init.key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` +
      `GET /healthz HTTP/1.1\r\n${H}Connection: close\r\n\r\n`;
    const r = await rawExchange(d.port, data, { timeoutMs: 5000, until: hasResponses(2) });
    const res = parseResponses(r.text);
    const info = describeExchange(r);
    assert.equal(res.length, 2, info);
    assert.equal(res[0].status, 201, info);
    assert.equal(JSON.parse(res[0].body).name, 'chunky', info);
    assert.equal(res[1].status, 200, info);
  });

  test('Content-Length: 4294967301 (2^32+5) → 400 or 413, not read as 5', async () => {
    await probe(
      `POST /v1/platform-keys HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 4294967301\r\n\r\nhello${SMUGGLED}`,
      [400, 413]);
  });

  test('Content-Length: 18446744073709551621 (2^64+5) → 400 or 413', async () => {
    await probe(
      `POST /v1/platform-keys HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 18446744073709551621\r\n\r\nhello${SMUGGLED}`,
      [400, 413]);
  });

  test('two different Content-Length headers → 400', async () => {
    await probe(
      `POST /healthz HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!${SMUGGLED}`,
      [400]);
  });

  test('two identical Content-Length headers → 400', async () => {
    await probe(
      `POST /healthz HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello${SMUGGLED}`,
      [400]);
  });

  test('Content-Length: 5, 5 → 400', async () => {
    await probe(`POST /healthz HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello${SMUGGLED}`, [400]);
  });

  test('Content-Length: +5 → 400', async () => {
    await probe(`POST /healthz HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello${SMUGGLED}`, [400]);
  });

  test('Content-Length: -1 → 400', async () => {
    await probe(`POST /healthz HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n${SMUGGLED}`, [400]);
  });

  test('"Content-Length : 3" (space before the colon) → 400', async () => {
    await probe(`POST /healthz HTTP/1.1\r\n${H}Content-Length : 3\r\n\r\nabc${SMUGGLED}`, [400]);
  });

  test('Transfer-Encoding with Content-Length → 400', async () => {
    await probe(
      `POST /healthz HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      [400]);
  });

  test('Transfer-Encoding: gzip → 400 or 501', async () => {
    await probe(`POST /healthz HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n${SMUGGLED}`, [400, 501]);
  });

  test('Transfer-Encoding: chunked, identity → 400', async () => {
    await probe(
      `POST /healthz HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED}`,
      [400]);
  });

  test('chunk size overflow (ffffffffffffffffff) → 400 or 413', async () => {
    await probe(
      `POST /v1/platform-keys HTTP/1.1\r\n${H}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhello\r\n0\r\n\r\n${SMUGGLED}`,
      [400, 413]);
  });
});

describe('malformed messages', () => {
  test('bare LF line endings → 400', async () => {
    await probe('GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n', [400]);
  });

  test('a bare LF inside an otherwise CRLF header section → 400', async () => {
    await probe(`GET /healthz HTTP/1.1\r\n${H}X-A: b\nX-B: c\r\n\r\n`, [400]);
  });

  test('a folded header (continuation line starting with a space) → 400', async () => {
    await probe(`GET /healthz HTTP/1.1\r\n${H}X-A: b\r\n c\r\n\r\n`, [400]);
  });

  test('a folded header (continuation line starting with a tab) → 400', async () => {
    await probe(`GET /healthz HTTP/1.1\r\n${H}X-A: b\r\n\tc\r\n\r\n`, [400]);
  });

  test('a header name containing a space → 400', async () => {
    await probe(`GET /healthz HTTP/1.1\r\n${H}X A: b\r\n\r\n`, [400]);
  });

  test('a NUL byte in a header value → 400', async () => {
    await probe(`GET /healthz HTTP/1.1\r\n${H}X-A: b\0c\r\n\r\n`, [400]);
  });

  test('HTTP/1.1 without Host → 400', async () => {
    await probe('GET /healthz HTTP/1.1\r\n\r\n', [400]);
  });

  test('two Host headers → 400', async () => {
    await probe(`GET /healthz HTTP/1.1\r\n${H}Host: evil.example\r\n\r\n`, [400]);
  });

  test('CONNECT → 400 or 405', async () => {
    await probe('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\nSSH-2.0-probe\r\n', [400, 405]);
  });

  test('an Upgrade that is not a WebSocket request → 400', async () => {
    await probe(`GET /healthz HTTP/1.1\r\n${H}Connection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`, [400]);
  });

  test('binary garbage (a TLS ClientHello) → 400', async () => {
    const hello = Buffer.from('16030100a5010000a10303' + '00'.repeat(32) + '000020c02bc02fc02cc030cca9cca8c013c014009c009d002f0035c012000a0100', 'hex');
    await probe(hello, [400]);
  });
});

describe('pipelining', () => {
  test('4 pipelined requests in one write → 4 responses in order', async () => {
    const paths = ['/healthz', '/readyz', '/healthz', '/readyz'];
    const data = paths.map((p, i) => `GET ${p} HTTP/1.1\r\n${H}X-Request-Id: pipe-${i}\r\n\r\n`).join('');
    const r = await rawExchange(d.port, data, { timeoutMs: 5000, until: hasResponses(4) });
    const res = parseResponses(r.text);
    const info = describeExchange(r);
    assert.equal(res.length, 4, info);
    res.forEach((x, i) => {
      assert.equal(x.status, 200, info);
      assert.equal(x.headers['x-request-id'], `pipe-${i}`, `response ${i} out of order; ${info}`);
      assert.deepEqual(JSON.parse(x.body), paths[i] === '/healthz' ? { status: 'ok' } : { status: 'ready' }, info);
    });
  });

  test('4 pipelined GET /healthz → 4 × 200', async () => {
    const data = `GET /healthz HTTP/1.1\r\n${H}\r\n`.repeat(4);
    const r = await rawExchange(d.port, data, { timeoutMs: 5000, until: hasResponses(4) });
    const res = parseResponses(r.text);
    assert.equal(res.length, 4, describeExchange(r));
    for (const x of res) assert.equal(x.status, 200);
  });
});

describe('size limits', () => {
  test('100,000 headers → 431', async () => {
    const data = `GET /healthz HTTP/1.1\r\n${H}${'X-H: v\r\n'.repeat(100000)}\r\n`;
    await probe(data, [431], { timeoutMs: 10000 });
  });

  test('65 small headers (over the 64-header cap) → 431', async () => {
    let hs = '';
    for (let i = 0; i < 65; i++) hs += `X-H${i}: v\r\n`;
    await probe(`GET /healthz HTTP/1.1\r\n${H}${hs}\r\n`, [431]);
  });

  test('a 1 MB header value → 431', async () => {
    const data = `GET /healthz HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(1024 * 1024)}\r\n\r\n`;
    await probe(data, [431], { timeoutMs: 10000 });
  });

  test('a 1 MB URL → 414', async () => {
    const data = `GET /healthz?${'a'.repeat(1024 * 1024)} HTTP/1.1\r\n${H}\r\n`;
    await probe(data, [414], { timeoutMs: 10000 });
  });

  test('a 2100-byte URL → 414', async () => {
    const url = `/healthz?${'a'.repeat(2100 - 9)}`;
    assert.equal(url.length, 2100);
    await probe(`GET ${url} HTTP/1.1\r\n${H}\r\n`, [414]);
  });

  test('a 1900-byte URL is not refused as too long', async () => {
    const url = `/nothing-here?${'a'.repeat(1900 - 14)}`;
    assert.equal(url.length, 1900);
    const r = await rawExchange(d.port, `GET ${url} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, { until: hasResponses(1) });
    const [res] = parseResponses(r.text);
    assert.equal(res?.status, 404, describeExchange(r));
  });
});

describe('HEAD', () => {
  test('a HEAD reply carries no body, so the next reply on the connection is read intact', async () => {
    const r = await rawExchange(d.port,
      `HEAD /healthz HTTP/1.1\r\n${H}\r\nGET /healthz HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    // The first reply announces a length but sends no bytes after its headers;
    // the second status line must follow the first header block directly.
    const blocks = r.text.split('\r\n\r\n');
    assert.match(blocks[0], /^HTTP\/1\.1 405 /, r.text);
    assert.match(blocks[1], /^HTTP\/1\.1 200 /, `a body followed the HEAD reply: ${JSON.stringify(r.text)}`);
    assert.match(r.text, /\{"status":"ok"\}$/);
  });
});
