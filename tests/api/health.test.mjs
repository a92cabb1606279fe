// Health, request ids, error shape, metrics on the admin listener.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { initData, startDaemon, removeTempDir, api, show, getMetrics, metricValue, waitFor } from './lib/daemon.mjs';

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

function assertJsonType(res) {
  const ct = res.headers.get('content-type') || '';
  assert.match(ct, /^application\/json\b/i, `content-type ${ct}`);
}

function assertError(res, status, code) {
  assert.equal(res.status, status, show(res));
  assertJsonType(res);
  assert.ok(res.json && typeof res.json.error === 'object', `no error object: ${show(res)}`);
  assert.equal(res.json.error.code, code, show(res));
  assert.equal(typeof res.json.error.message, 'string', show(res));
  assert.ok(res.json.error.message.length > 0);
}

test('a fresh daemon prints one ready line with both addresses on 127.0.0.1', () => {
  assert.match(d.ready.listening, /^127\.0\.0\.1:\d+$/);
  assert.match(d.ready.admin, /^127\.0\.0\.1:\d+$/);
  assert.ok(d.port > 0 && d.adminPort > 0);
  assert.notEqual(d.port, d.adminPort);
});

test('GET /healthz → 200 {"status":"ok"}', async () => {
  const r = await api(d.url, 'GET', '/healthz');
  assert.equal(r.status, 200, show(r));
  assertJsonType(r);
  assert.deepEqual(r.json, { status: 'ok' });
});

test('GET /readyz → 200 {"status":"ready"}', async () => {
  const r = await api(d.url, 'GET', '/readyz');
  assert.equal(r.status, 200, show(r));
  assertJsonType(r);
  assert.deepEqual(r.json, { status: 'ready' });
});

test('every response carries an X-Request-Id, fresh per request', async () => {
  const ids = new Set();
  for (const p of ['/healthz', '/readyz', '/nope', '/v1/platform-keys']) {
    const r = await api(d.url, 'GET', p);
    const id = r.headers.get('x-request-id');
    assert.ok(id, `no X-Request-Id on ${p} (${r.status})`);
    assert.match(id, /^[A-Za-z0-9._-]{1,64}$/, `generated id ${id} is not itself a valid id`);
    ids.add(id);
  }
  assert.equal(ids.size, 4, 'request ids repeat');
});

test('a valid incoming X-Request-Id is echoed', async () => {
  for (const id of ['abc-123', 'A.b_c-9', 'x', 'a'.repeat(64)]) {
    const r = await api(d.url, 'GET', '/healthz', { headers: { 'x-request-id': id } });
    assert.equal(r.headers.get('x-request-id'), id);
  }
  // also on an error response
  const r = await api(d.url, 'GET', '/no/such/path', { headers: { 'x-request-id': 'err-echo-1' } });
  assert.equal(r.status, 404);
  assert.equal(r.headers.get('x-request-id'), 'err-echo-1');
});

test('an invalid incoming X-Request-Id is replaced', async () => {
  for (const bad of ['has space', 'a'.repeat(65), 'b'.repeat(200), 'semi;colon', 'quote"d', 'slash/y']) {
    const r = await api(d.url, 'GET', '/healthz', { headers: { 'x-request-id': bad } });
    assert.equal(r.status, 200, show(r));
    const id = r.headers.get('x-request-id');
    assert.ok(id, 'no X-Request-Id');
    assert.notEqual(id, bad);
    assert.match(id, /^[A-Za-z0-9._-]{1,64}$/, `replacement id ${JSON.stringify(id)} for ${JSON.stringify(bad)}`);
  }
});

test('unknown path → 404 NotFound', async () => {
  const r = await api(d.url, 'GET', '/definitely/not/here');
  assertError(r, 404, 'NotFound');
});

test('POST /healthz → 405 MethodNotAllowed with Allow containing GET', async () => {
  const r = await api(d.url, 'POST', '/healthz', { body: {} });
  assertError(r, 405, 'MethodNotAllowed');
  const allow = r.headers.get('allow') || '';
  assert.match(allow, /\bGET\b/, `Allow: ${allow}`);
  assert.doesNotMatch(allow, /\bPOST\b/, `Allow: ${allow}`);
});

test('DELETE /readyz → 405 with Allow', async () => {
  const r = await api(d.url, 'DELETE', '/readyz');
  assertError(r, 405, 'MethodNotAllowed');
  assert.match(r.headers.get('allow') || '', /\bGET\b/);
});

test('GET /metrics on the public listener → 404', async () => {
  const r = await api(d.url, 'GET', '/metrics');
  assert.equal(r.status, 404, show(r));
  assert.doesNotMatch(r.text, /bulwark_http_requests_total/);
});

test('GET /metrics on the admin listener → Prometheus text', async () => {
  await api(d.url, 'GET', '/healthz'); // make sure the counter has a sample
  const m = await getMetrics(d);
  assert.equal(m.status, 200, m.text.slice(0, 300));
  assert.match(m.headers.get('content-type') || '', /^text\/plain/);
  const names = new Set(m.samples.map((s) => s.name));
  assert.ok(names.size > 0, 'no samples');
  for (const n of names) assert.ok(n.startsWith('bulwark_'), `metric ${n} does not start with bulwark_`);
  for (const n of ['bulwark_http_requests_total', 'bulwark_http_request_duration_seconds_bucket', 'bulwark_websocket_sessions', 'bulwark_worker_queue_depth']) {
    assert.ok(names.has(n), `missing ${n}`);
  }
  const withLabels = m.samples.find((s) => s.name === 'bulwark_http_requests_total' && 'route' in s.labels && 'status' in s.labels);
  assert.ok(withLabels, 'bulwark_http_requests_total has no route/status labels');
  assert.ok(m.samples.some((s) => s.name === 'bulwark_http_request_duration_seconds_bucket' && s.labels.le === '+Inf'), 'histogram lacks le="+Inf"');
});

test('the metrics pass `promtool check metrics`', async () => {
  await api(d.url, 'GET', '/healthz');
  const m = await getMetrics(d);
  assert.equal(m.status, 200);
  const result = await new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (x) => { out += x; });
    p.stderr.on('data', (x) => { out += x; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out }));
    p.stdin.end(m.text);
  });
  assert.equal(result.code, 0, `promtool: ${result.out}`);
});

test('bulwark_http_requests_total{route="/healthz",status="200"} counts requests', async () => {
  const N = 7;
  const before = metricValue((await getMetrics(d)).samples, 'bulwark_http_requests_total', { route: '/healthz', status: '200' }) ?? 0;
  for (let i = 0; i < N; i++) {
    const r = await api(d.url, 'GET', '/healthz');
    assert.equal(r.status, 200);
  }
  // counting may happen just after the reply is sent: poll briefly
  await waitFor(async () => {
    const now = metricValue((await getMetrics(d)).samples, 'bulwark_http_requests_total', { route: '/healthz', status: '200' }) ?? 0;
    return now - before >= N ? true : `${now} - ${before} < ${N}`;
  }, { timeoutMs: 3000, what: 'the /healthz counter to grow' });
});

test('requests to unknown paths do not create one series per path', async () => {
  const tag = `zz${Date.now()}`;
  await api(d.url, 'GET', `/unknown-${tag}`);
  const m = await getMetrics(d);
  assert.doesNotMatch(m.text, new RegExp(tag), 'the raw path of a 404 became a label value');
});

test('the admin listener does not serve the public API', async () => {
  const r = await api(d.adminUrl, 'GET', '/v1/platform-keys', { key: init.key });
  assert.notEqual(r.status, 200, show(r));
});
