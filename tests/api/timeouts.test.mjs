// Slow clients: the header section has one deadline (header_timeout_ms),
// not reset per byte, and a slow client does not hold up anyone else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { initData, startDaemon, removeTempDir, rawExchange, parseResponses, hasResponses, assertHealthy } from './lib/daemon.mjs';

let init;
let d;

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data, args: ['--header-timeout-ms', '1000'] });
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

/**
 * Connect and write `text` one byte every `intervalMs`, never finishing the
 * request; stop at the server's close or after maxMs. Resolves
 * {closedAtMs (null if never), received, bytesSent}.
 */
function trickle(port, text, intervalMs, maxMs) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let received = '';
    let closedAtMs = null;
    let started = 0;
    let bytesSent = 0;
    let stop = false;
    const onClosed = () => {
      if (closedAtMs === null && started) closedAtMs = Date.now() - started;
      stop = true;
    };
    sock.on('data', (x) => { received += x.toString('latin1'); });
    sock.on('end', onClosed);
    sock.on('close', onClosed);
    sock.on('error', onClosed);
    sock.on('connect', async () => {
      started = Date.now();
      for (let i = 0; i < text.length && !stop && Date.now() - started < maxMs; i++) {
        sock.write(text[i]);
        bytesSent++;
        await delay(intervalMs);
      }
      // wait (bounded) for the close if the loop ran out first
      const deadline = started + maxMs;
      while (!stop && Date.now() < deadline) await delay(20);
      sock.destroy();
      resolve({ closedAtMs, received, bytesSent });
    });
  });
}

/** Serve /healthz repeatedly while `busy` is pending; resolve latencies and statuses. */
async function probeWhile(busy) {
  let done = false;
  busy.finally(() => { done = true; });
  const results = [];
  while (!done) {
    const t0 = Date.now();
    const r = await rawExchange(d.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', { timeoutMs: 2000, until: hasResponses(1) });
    const [res] = parseResponses(r.text);
    results.push({ status: res?.status, ms: Date.now() - t0 });
    await delay(100);
  }
  return results;
}

test('a request line trickled one byte per 10 ms is cut off at header_timeout_ms (1000)', async () => {
  const line = `GET /healthz?${'a'.repeat(1500)}`; // never finished: no CRLF
  const slow = trickle(d.port, line, 10, 6000);
  const others = probeWhile(slow);
  const [s, served] = await Promise.all([slow, others]);
  assert.notEqual(s.closedAtMs, null, `the server never closed the trickling connection (${s.bytesSent} bytes sent over 6 s)`);
  assert.ok(s.closedAtMs <= 3000, `closed only after ${s.closedAtMs} ms`);
  assert.ok(s.closedAtMs >= 800, `closed after ${s.closedAtMs} ms, before the header deadline`);
  assert.doesNotMatch(s.received, /^HTTP\/1\.[01] 2\d\d/, `the trickling client was served: ${s.received.slice(0, 200)}`);
  assert.ok(served.length >= 3, `only ${served.length} other requests completed meanwhile`);
  for (const x of served) {
    assert.equal(x.status, 200, `another client got ${x.status} meanwhile: ${JSON.stringify(served)}`);
    assert.ok(x.ms < 1000, `another client waited ${x.ms} ms: ${JSON.stringify(served)}`);
  }
  await assertHealthy(assert, d, 'the trickle');
});

test('a complete-looking request trickled with headers is cut off too (deadline not reset per byte)', async () => {
  // Valid request line quickly, then headers one byte per 10 ms.
  const text = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'b'.repeat(1500)}`;
  const s = await trickle(d.port, text, 10, 6000);
  assert.notEqual(s.closedAtMs, null, 'never closed');
  assert.ok(s.closedAtMs <= 3000, `closed only after ${s.closedAtMs} ms`);
  assert.doesNotMatch(s.received, /^HTTP\/1\.[01] 2\d\d/);
  await assertHealthy(assert, d, 'the header trickle');
});

test('a client sending one byte per second is cut off at the header deadline', async () => {
  const s = await trickle(d.port, 'GET /healthz HTTP/1.1\r\n', 1000, 5000);
  assert.notEqual(s.closedAtMs, null, `never closed (${s.bytesSent} bytes sent)`);
  assert.ok(s.closedAtMs <= 3000, `closed only after ${s.closedAtMs} ms`);
  assert.ok(s.bytesSent <= 4, `the server took ${s.bytesSent} bytes at 1 B/s`);
  assert.doesNotMatch(s.received, /^HTTP\/1\.[01] 2\d\d/);
  await assertHealthy(assert, d, 'the 1 B/s client');
});

test('a connection that sends nothing is closed within ~header_timeout_ms', async () => {
  const r = await rawExchange(d.port, Buffer.alloc(0), { timeoutMs: 5000 });
  assert.ok(r.closed, `an idle connection stayed open for 5 s (timedOut=${r.timedOut})`);
  assert.ok(r.elapsedMs <= 3000, `closed after ${r.elapsedMs} ms`);
});
