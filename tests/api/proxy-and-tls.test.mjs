// X-Forwarded-For is believed only from trusted_proxies (allowed_ip_ranges
// then applies to the real client), and the HTTPS listener refuses old TLS.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { initData, startDaemon, api, show, makeTempDir } from './lib/daemon.mjs';

const PASSWORD = 'long enough passphrase 1';

async function makeInstance(d, key, alias) {
  const res = await api(d.url, 'POST', '/v1/instances', {
    key, body: { alias, admin: { username: 'admin', password: PASSWORD } },
  });
  assert.equal(res.status, 201, show(res));
  const iid = res.json.id;
  const set = await api(d.url, 'PATCH', `/v1/instances/${iid}/security-settings`, {
    key, body: { allowed_ip_ranges: ['10.0.0.0/8'] },
  });
  assert.equal(set.status, 200, show(set));
  return iid;
}

function login(d, iid, headers = {}) {
  return api(d.url, 'POST', `/v1/instances/${iid}/auth/login`, {
    body: { username: 'admin', password: PASSWORD }, headers,
  });
}

describe('X-Forwarded-For behind a trusted proxy', () => {
  let d, key, iid;
  before(async () => {
    const init = await initData();
    key = init.key;
    d = await startDaemon({ data: init.data, args: ['--trusted-proxies', '127.0.0.1/32'] });
    iid = await makeInstance(d, key, 'proxied');
  });
  after(async () => { await d?.stop(); });

  test('the client from X-Forwarded-For is checked against allowed_ip_ranges', async () => {
    const direct = await login(d, iid);
    assert.equal(direct.status, 403, show(direct));
    assert.equal(direct.json.error.code, 'AccessDenied');
    const viaProxy = await login(d, iid, { 'x-forwarded-for': '10.1.2.3' });
    assert.equal(viaProxy.status, 200, show(viaProxy));
  });

  test('addresses appended by trusted proxies are skipped; the rightmost other one counts', async () => {
    const res = await login(d, iid, { 'x-forwarded-for': '10.9.9.9, 192.0.2.7, 127.0.0.1' });
    assert.equal(res.status, 403, show(res)); // 192.0.2.7 is the client
    const ok = await login(d, iid, { 'x-forwarded-for': '192.0.2.7, 10.9.9.9' });
    assert.equal(ok.status, 200, show(ok)); // a client may lie to the left; only the right counts
  });

  test('junk in X-Forwarded-For keeps the socket address', async () => {
    const res = await login(d, iid, { 'x-forwarded-for': 'not-an-ip' });
    assert.equal(res.status, 403, show(res));
  });
});

describe('X-Forwarded-For from an untrusted peer', () => {
  let d, key, iid;
  before(async () => {
    const init = await initData();
    key = init.key;
    d = await startDaemon({ data: init.data });
    iid = await makeInstance(d, key, 'direct');
  });
  after(async () => { await d?.stop(); });

  test('is ignored', async () => {
    const res = await login(d, iid, { 'x-forwarded-for': '10.1.2.3' });
    assert.equal(res.status, 403, show(res));
  });
});

describe('HTTPS listener', () => {
  let d, dir, certPem;
  before(async () => {
    const init = await initData();
    dir = makeTempDir('bulwark-tls-');
    const cert = path.join(dir, 'cert.pem');
    const keyf = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-nodes', '-keyout', keyf, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    certPem = fs.readFileSync(cert);
    d = await startDaemon({ data: init.data, args: ['--tls-cert', cert, '--tls-key', keyf] });
  });
  after(async () => { await d?.stop(); });

  function get(options) {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: d.port, path: '/healthz', ca: certPem,
        servername: 'localhost', checkServerIdentity: () => undefined, ...options }, (res) => {
        let body = '';
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('serves HTTPS with HSTS', async () => {
    const res = await get({});
    assert.equal(res.status, 200);
    assert.match(res.headers['strict-transport-security'] ?? '', /max-age=\d+/);
    assert.equal(JSON.parse(res.body).status, 'ok');
  });

  test('TLS 1.1 and 1.0 are refused', async () => {
    for (const v of ['-tls1_1', '-tls1']) {
      const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${d.port}`, v],
        { input: '', encoding: 'utf8', timeout: 10000 });
      assert.doesNotMatch(r.stdout, /Cipher is (?!\(NONE\))/, `${v} negotiated: ${r.stdout}`);
    }
    // A refused handshake writes nothing of OpenSSL's to the log: an
    // anonymous client must not be able to grow it line by line, and every
    // line stays a JSON object.
    await get({}); // a request after them, so their output has been written
    for (const line of d.stderr.split('\n').filter((l) => l.trim())) {
      assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
    }
  });

  test('TLS 1.2 offers only forward-secret AEAD suites', async () => {
    const weak = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${d.port}`, '-tls1_2',
      '-cipher', 'AES128-SHA:AES256-GCM-SHA384:DHE-RSA-AES128-SHA'], { input: '', encoding: 'utf8', timeout: 10000 });
    assert.doesNotMatch(weak.stdout, /Cipher is (?!\(NONE\))/, weak.stdout);
    const good = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${d.port}`, '-tls1_2'],
      { input: '', encoding: 'utf8', timeout: 10000 });
    assert.match(good.stdout, /Cipher is ECDHE-/, good.stdout);
  });

  test('TLS 1.3 is negotiated when the client offers it', async () => {
    const res = await new Promise((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port: d.port, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, () => {
        resolve(s.getProtocol());
        s.end();
      });
      s.on('error', () => resolve('error'));
    });
    assert.equal(res, 'TLSv1.3');
  });
});
