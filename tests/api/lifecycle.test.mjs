// Start-up, graceful shutdown and restart on the same data folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { initData, startDaemon, runBulwark, removeTempDir, api, show, waitFor, parseResponses } from './lib/daemon.mjs';

let init;

before(async () => { init = await initData(); });
after(() => removeTempDir(init.dir));

test('the ready line is exactly one JSON line; SIGTERM exits 0 and prints nothing more on stdout', async () => {
  const d = await startDaemon({ data: init.data });
  let code;
  try {
    assert.deepEqual(Object.keys(d.ready).sort(), ['admin', 'listening']);
    assert.equal((await api(d.url, 'GET', '/healthz')).status, 200);
    assert.equal((await api(d.url, 'GET', '/v1/platform-keys', { key: init.key })).status, 200);
  } finally {
    code = await d.stop();
  }
  assert.equal(code, 0, d.stderr.slice(-2000));
  assert.equal(d.exitInfo.signal, null);
  assert.equal(d.stdoutAfterReady, '', `stdout after the ready line: ${JSON.stringify(d.stdoutAfterReady)}`);
});

test('SIGTERM with an idle keep-alive connection open still exits 0 promptly', async () => {
  const d = await startDaemon({ data: init.data });
  const sock = net.connect({ host: '127.0.0.1', port: d.port });
  let data = '';
  let closed = false;
  sock.on('data', (x) => { data += x.toString('latin1'); });
  sock.on('close', () => { closed = true; });
  sock.on('error', () => { closed = true; });
  await new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  sock.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await waitFor(() => parseResponses(data)[0]?.complete, { timeoutMs: 5000, what: 'the keep-alive response' });
  assert.equal(parseResponses(data)[0].status, 200);
  const t0 = Date.now();
  const code = await d.stop('SIGTERM', 10000);
  assert.equal(code, 0, d.stderr.slice(-2000));
  assert.ok(Date.now() - t0 < 8000, `shutdown took ${Date.now() - t0} ms`);
  await waitFor(() => closed, { timeoutMs: 3000, what: 'the idle connection to be closed' });
  sock.destroy();
  assert.equal(d.stdoutAfterReady, '');
});

test('a platform key created through the API works after a restart; a deleted one stays dead', async () => {
  const d1 = await startDaemon({ data: init.data });
  let created;
  let deleted;
  try {
    const c = await api(d1.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: 'survivor' } });
    assert.equal(c.status, 201, show(c));
    created = c.json;
    const x = await api(d1.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: 'gone' } });
    assert.equal(x.status, 201, show(x));
    deleted = x.json;
    const del = await api(d1.url, 'DELETE', `/v1/platform-keys/${encodeURIComponent(deleted.id)}`, { key: init.key });
    assert.equal(del.status, 204, show(del));
  } finally {
    assert.equal(await d1.stop(), 0, d1.stderr.slice(-2000));
  }

  const d2 = await startDaemon({ data: init.data });
  try {
    const r = await api(d2.url, 'GET', '/v1/platform-keys?limit=1000', { key: created.key });
    assert.equal(r.status, 200, `the created key is refused after restart: ${show(r)}`);
    const item = r.json.items.find((i) => i.id === created.id);
    assert.ok(item, 'the created key is no longer listed');
    assert.equal(item.name, 'survivor');
    assert.equal(item.created_at, created.created_at);
    assert.equal((await api(d2.url, 'GET', '/v1/platform-keys', { key: init.key })).status, 200, 'the init key is refused after restart');
    const dead = await api(d2.url, 'GET', '/v1/platform-keys', { key: deleted.key });
    assert.equal(dead.status, 401, `a deleted key works again after restart: ${show(dead)}`);
  } finally {
    assert.equal(await d2.stop(), 0, d2.stderr.slice(-2000));
  }
});

test('serve on a data folder that does not exist fails without a ready line', async () => {
  const missing = path.join(init.dir, 'no-such-data');
  const r = await runBulwark(['serve', '--data', missing, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], { timeoutMs: 8000 });
  assert.equal(r.timedOut, false, `serve started on a missing data folder: ${r.stdout}`);
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stdout, /listening/);
  assert.ok(r.stderr.trim().length > 0);
});
