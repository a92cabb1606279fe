// Egress end to end (C17): POST .../integrations/{id}/test runs one call
// through the same egress the flow engine uses (libcurl on the loop, the
// address policy checked again at every connection). Against HTTP servers
// of this test on 127.0.0.1 and 127.0.0.2 only:
//   a call succeeds (what was sent, what came back);
//   the same server reached through 127.0.0.2 is refused at connection when
//     only 127.0.0.1/32 is allowed, and nothing reaches it;
//   a name that resolves to a refused address (localhost) is refused at
//     connection too;
//   a redirect to another host is answered as is, never followed;
//   a response over the cap is refused (with and without a length);
//   a timeout is a 504; a refused port a 502;
//   TLS is verified (a self-signed server, or one whose CA is not trusted,
//     is refused; ca_certificate names the anchors);
//   credentials: a vault secret in a header (rotated), mTLS with the key
//     from the vault, a role token the receiver verifies against the JWKS;
//   method, path and secrets are checked before anything is sent;
//   a call in flight when the daemon stops is answered, and the daemon exits
//     cleanly (0; the ASan build also checks for leaks).
// The connection-time checks are reached by changing a stored row behind the
// registry's back (as a DNS change would), since the registry refuses them.
// No test sends a packet to an address that is not on this machine.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { initData, startDaemon, removeTempDir, makeTempDir, api, show, waitFor } from './lib/daemon.mjs';
import { assertError, createInstance, loginToken, unique, sqlite } from './lib/identity.mjs';
import {
  LocalServer, integrationsPath, createIntegration, testCall, haveOpenssl, makePki,
} from './lib/integrations.mjs';

let init;
let d;
let db;
let iid;
let admin;
let one; // 127.0.0.1
let two; // 127.0.0.2
let pkiDir;
let pki; // a test CA, server and client certificates (openssl), when there is openssl

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  db = path.join(init.data, 'bulwark.db');
  const inst = await createInstance(d, init.key);
  iid = inst.id;
  admin = await loginToken(d, iid, inst.adminUsername);
  one = await new LocalServer('127.0.0.1').listen();
  two = await new LocalServer('127.0.0.2').listen();
  one.redirectTo = two.url;
  if (haveOpenssl()) {
    pkiDir = makeTempDir('bulwark-pki-');
    pki = makePki(pkiDir);
  }
});

after(async () => {
  await one?.close();
  await two?.close();
  if (pkiDir) removeTempDir(pkiDir);
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

const create = (extra = {}) => createIntegration(d, admin, iid, {
  name: unique('ig'), base_url: one.url, allowed_address_ranges: ['127.0.0.1/32'], ...extra,
});
const call = (ig, body) => testCall(d, admin, iid, ig.id, body);

/** Change a stored row (what a registration would refuse), as a DNS change would. */
function tamper(id, { baseUrl, ranges }) {
  if (baseUrl) sqlite(db, `UPDATE integrations SET base_url = '${baseUrl}' WHERE id = '${id}';`);
  if (ranges) {
    sqlite(db, `UPDATE integrations SET config = json_set(config, '$.allowed_address_ranges', json('${JSON.stringify(ranges)}')) WHERE id = '${id}';`);
  }
}

describe('calls', () => {
  test('a call: status, body size and time; what the server got', async () => {
    const ig = await create({ allowed_methods: ['GET', 'POST'], allowed_path_prefixes: ['/echo', '/ok'] });
    const r = await call(ig, { method: 'GET', path: '/ok' });
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(Object.keys(r.json).sort(), ['body_bytes', 'elapsed_ms', 'status']);
    assert.equal(r.json.status, 200);
    assert.equal(r.json.body_bytes, 5);
    assert.ok(Number.isInteger(r.json.elapsed_ms) && r.json.elapsed_ms >= 0 && r.json.elapsed_ms < 5000, show(r));

    const before = one.requests.length;
    const e = await call(ig, { method: 'POST', path: '/echo?x=1', body: { order: 42, note: 'é' } });
    assert.equal(e.status, 200, show(e));
    const got = one.requests[before];
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/echo?x=1');
    assert.deepEqual(JSON.parse(got.body), { order: 42, note: 'é' });
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers.expect, undefined);
    assert.match(got.headers['user-agent'], /^Bulwark\//);
    assert.equal(got.headers.host, `127.0.0.1:${one.port}`);
    const echoed = { method: got.method, url: got.url, headers: got.headers, body: got.body };
    assert.equal(e.json.body_bytes, Buffer.byteLength(JSON.stringify(echoed)));
  });

  test('127.0.0.2 is refused at connection while only 127.0.0.1/32 is allowed; nothing reaches it', async () => {
    // The registry refuses it outright ...
    const reg = await api(d.url, 'POST', integrationsPath(iid), {
      key: admin, body: { name: unique('ig'), base_url: two.url, allowed_address_ranges: ['127.0.0.1/32'] },
    });
    assertError(reg, 400, 'InvalidParameter', 'base_url');
    // ... so the stored row is changed behind its back: the egress checks again.
    const ig = await create();
    tamper(ig.id, { baseUrl: two.url });
    const seen = two.connections;
    const r = await call(ig, { method: 'GET', path: '/ok' });
    assertError(r, 403, 'AddressRefused');
    assert.equal(r.json.error.message, '127.0.0.2 is a loopback address that allowed_address_ranges does not contain: nothing was sent');
    assert.equal(two.connections, seen, '127.0.0.2 saw a connection');
    // Listing it opens it.
    tamper(ig.id, { ranges: ['127.0.0.1/32', '127.0.0.2/32'] });
    const ok = await call(ig, { method: 'GET', path: '/ok' });
    assert.equal(ok.status, 200, show(ok));
    assert.equal(two.connections, seen + 1);
  });

  test('a name that resolves to a refused address is refused at connection: localhost', async () => {
    const ig = await create();
    tamper(ig.id, { baseUrl: `http://localhost:${one.port}`, ranges: ['10.0.0.0/8'] });
    const seen = one.connections;
    const r = await call(ig, { method: 'GET', path: '/ok' });
    assertError(r, 403, 'AddressRefused');
    assert.match(r.json.error.message, /^(127\.0\.0\.1|::1) is (a loopback address that allowed_address_ranges does not contain|not in allowed_address_ranges)/, show(r));
    assert.equal(one.connections, seen);
    // Over https the loopback class alone refuses it, before any handshake.
    tamper(ig.id, { baseUrl: `https://localhost:${one.port}`, ranges: [] });
    assertError(await call(ig, { method: 'GET', path: '/ok' }), 403, 'AddressRefused');
    assert.equal(one.connections, seen);
  });

  test('a redirect to another host is answered as is, never followed', async () => {
    const ig = await create({ allowed_address_ranges: ['127.0.0.1/32', '127.0.0.2/32'] });
    const seen = two.connections;
    const r = await call(ig, { method: 'GET', path: '/redirect' });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.status, 302);
    assert.equal(two.connections, seen, 'the redirect was followed');
  });

  test('a response over max_response_bytes is refused, with or without a length', async () => {
    const ig = await create({ max_response_bytes: 1024 });
    for (const p of ['/big', '/bigchunked']) {
      const r = await call(ig, { method: 'GET', path: p });
      assertError(r, 502, 'UpstreamTooLarge', undefined, p);
      assert.match(r.json.error.message, /1024 bytes/);
    }
    const fits = await create({ max_response_bytes: 5000 });
    const r = await call(fits, { method: 'GET', path: '/bigchunked' });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.body_bytes, 5000);
  });

  test('a timeout is a 504 within its bound', async () => {
    const ig = await create({ timeout_ms: 300 });
    const t0 = Date.now();
    const r = await call(ig, { method: 'GET', path: '/hang' });
    const dt = Date.now() - t0;
    assertError(r, 504, 'UpstreamTimeout');
    assert.match(r.json.error.message, /300 ms/);
    assert.ok(dt >= 290 && dt < 5000, `took ${dt} ms`);
  });

  test('a refused port is a 502', async () => {
    const ig = await create({ base_url: 'http://127.0.0.1:1' });
    const r = await call(ig, { method: 'GET', path: '/' });
    assertError(r, 502, 'UpstreamFailed');
    assert.match(r.json.error.message, /^connect: /);
  });

  test('TLS is verified: a self-signed or unknown server is refused and gets no request; ca_certificate names the anchors', async (t) => {
    if (!haveOpenssl()) {
      t.skip('no openssl command');
      return;
    }
    const srv = await new LocalServer('127.0.0.1', { tls: pki.selfSigned }).listen();
    const good = await new LocalServer('127.0.0.1', { tls: pki.server }).listen();
    try {
      const self = await create({ base_url: srv.url });
      const r = await call(self, { method: 'GET', path: '/ok' });
      assertError(r, 502, 'UpstreamFailed');
      assert.match(r.json.error.message, /^tls: /, show(r));
      assert.equal(srv.requests.length, 0);
      assert.ok(srv.connections >= 1, 'the handshake was never tried');
      // A server whose CA the system does not know: refused too ...
      const ig = await create({ base_url: good.url });
      assertError(await call(ig, { method: 'GET', path: '/ok' }), 502, 'UpstreamFailed');
      // ... until the integration names that CA; then only it is trusted.
      const p = await api(d.url, 'PATCH', integrationsPath(iid, `/${ig.id}`), { key: admin, body: { ca_certificate: pki.ca } });
      assert.equal(p.status, 200, show(p));
      assert.equal(p.json.ca_certificate, pki.ca);
      const ok = await call(ig, { method: 'GET', path: '/ok' });
      assert.equal(ok.status, 200, show(ok));
      assert.equal(good.requests.length, 1);
      await api(d.url, 'PATCH', integrationsPath(iid, `/${self.id}`), { key: admin, body: { ca_certificate: pki.ca } });
      assertError(await call(self, { method: 'GET', path: '/ok' }), 502, 'UpstreamFailed');
      assert.equal(srv.requests.length, 0);
    } finally {
      await srv.close();
      await good.close();
    }
  });
});

describe('credentials (C7)', () => {
  test('secret_header: the vault secret\'s current value goes in the header, and nowhere else', async () => {
    const name = unique('crm-key').replace(/[^A-Za-z0-9._-]/g, '-');
    const value = `v-${unique('s')}`;
    const sec = await api(d.url, 'POST', `/v1/instances/${iid}/secrets`, { key: admin, body: { name, value } });
    assert.equal(sec.status, 201, show(sec));
    const ig = await create({ auth: { type: 'secret_header', header: 'X-Api-Key', secret: name } });
    assert.ok(!JSON.stringify(ig).includes(value));
    const n = one.requests.length;
    const r = await call(ig, { method: 'GET', path: '/echo' });
    assert.equal(r.status, 200, show(r));
    assert.ok(!r.text.includes(value), 'the reply carries the value');
    assert.equal(one.requests[n].headers['x-api-key'], value);
    // A rotation: the next call carries the new value.
    const value2 = `v-${unique('s')}`;
    const rot = await api(d.url, 'POST', `/v1/instances/${iid}/secrets/${sec.json.id}/rotate`, { key: admin, body: { value: value2 } });
    assert.equal(rot.status, 200, show(rot));
    assert.equal((await call(ig, { method: 'GET', path: '/echo' })).status, 200);
    assert.equal(one.requests[n + 1].headers['x-api-key'], value2);
    assert.doesNotMatch(d.stderr, new RegExp(value));
  });

  test('mtls: the client certificate, its key from the vault; the server verifies it', async (t) => {
    if (!haveOpenssl()) {
      t.skip('no openssl command');
      return;
    }
    const srv = await new LocalServer('127.0.0.1', {
      tls: { ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
    }).listen();
    try {
      const keyName = unique('client-key').replace(/[^A-Za-z0-9._-]/g, '-');
      const body = {
        base_url: srv.url, ca_certificate: pki.ca,
        auth: { type: 'mtls', client_certificate: pki.client.cert, client_key_secret: keyName },
      };
      const ig = await create(body);
      assert.deepEqual(ig.auth, body.auth);
      const missing = await call(ig, { method: 'GET', path: '/ok' });
      assertError(missing, 409, 'Conflict');
      assert.match(missing.json.error.message, new RegExp(`"${keyName}" named by auth.client_key_secret`));
      assert.equal(srv.connections, 0);
      const sec = await api(d.url, 'POST', `/v1/instances/${iid}/secrets`, { key: admin, body: { name: keyName, value: pki.client.key } });
      assert.equal(sec.status, 201, show(sec));
      const r = await call(ig, { method: 'GET', path: '/ok' });
      assert.equal(r.status, 200, show(r));
      assert.equal(srv.requests[0].clientCert, 'bulwark-client');
      // A private key is never taken in place of a certificate.
      const bad = await api(d.url, 'POST', integrationsPath(iid), {
        key: admin, body: { ...body, name: unique('ig'), auth: { ...body.auth, client_certificate: pki.client.key } },
      });
      assertError(bad, 400, 'InvalidParameter', 'auth.client_certificate');
    } finally {
      await srv.close();
    }
  });

  test('role: a short-lived token the receiver verifies against the JWKS', async () => {
    const ig = await create({ auth: { type: 'role' } });
    const n = one.requests.length;
    const r = await call(ig, { method: 'POST', path: '/echo', body: { order: 7 } });
    assert.equal(r.status, 200, show(r));
    const got = one.requests[n];
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(got.headers.authorization ?? '');
    assert.ok(m, `authorization: ${got.headers.authorization}`);
    const header = JSON.parse(Buffer.from(m[1], 'base64url'));
    const claims = JSON.parse(Buffer.from(m[2], 'base64url'));
    assert.equal(header.alg, 'EdDSA');
    assert.equal(claims.sub, ig.id);
    assert.equal(claims.aud, ig.base_url);
    assert.equal(claims.instance, iid);
    const digest = crypto.createHash('sha256').update(got.body).digest('base64');
    assert.equal(claims.digest, `sha-256=${digest}`);
    assert.ok(claims.exp - claims.iat <= 900);
    const jwks = await api(d.url, 'GET', `/.well-known/bulwark/${iid}/jwks.json`);
    assert.equal(jwks.status, 200, show(jwks));
    const jwk = jwks.json.keys.find((k) => k.kid === header.kid);
    assert.ok(jwk, 'the signing key is published');
    const ok = crypto.verify(null, Buffer.from(`${m[1]}.${m[2]}`), crypto.createPublicKey({ key: jwk, format: 'jwk' }),
      Buffer.from(m[3], 'base64url'));
    assert.ok(ok, 'the signature verifies');
  });
});

describe('checked before anything is sent', () => {
  test('method, path, body and auth', async () => {
    const ig = await create({ allowed_methods: ['GET'], allowed_path_prefixes: ['/api/'] });
    const seen = one.connections;
    const cases = [
      [{ method: 'POST', path: '/api/x' }, 'method'],
      [{ method: 'TRACE', path: '/api/x' }, 'method'],
      [{ method: 'GET', path: '/other' }, 'path'],
      [{ method: 'GET', path: '/api/../admin' }, 'path'],
      [{ method: 'GET', path: '/api/%2e%2e/admin' }, 'path'],
      [{ method: 'GET', path: '/api/x#f' }, 'path'],
      [{ method: 'GET', path: 'api/x' }, 'path'],
      [{ method: 'GET', path: '/api/x', body: { a: 1 } }, 'body'],
      [{ method: 'GET' }, 'path'],
      [{ path: '/api/x' }, 'method'],
      [{ method: 'GET', path: '/api/x', url: 'http://127.0.0.2/' }, 'url'],
    ];
    for (const [body, field] of cases) {
      assertError(await call(ig, body), 400, 'InvalidParameter', field, JSON.stringify(body));
    }
    // A secret the vault does not hold: named in a 409, nothing sent.
    const sec = await create({ auth: { type: 'secret_header', header: 'X-Api-Key', secret: 'no-such-secret' } });
    const r = await call(sec, { method: 'GET', path: '/ok' });
    assertError(r, 409, 'Conflict');
    assert.match(r.json.error.message, /no-such-secret/);
    assert.equal(one.connections, seen);
    assertError(await testCall(d, admin, iid, 'ig_nope', { method: 'GET', path: '/ok' }), 404, 'NotFound');
  });
});

describe('stopping', () => {
  test('a call in flight when the daemon stops is answered, and the daemon exits 0', async () => {
    const i2 = await initData();
    const d2 = await startDaemon({ data: i2.data, args: ['--shutdown-timeout-ms', '300'] });
    try {
      const inst = await createInstance(d2, i2.key);
      const tok = await loginToken(d2, inst.id, inst.adminUsername);
      const r = await api(d2.url, 'POST', integrationsPath(inst.id), {
        key: tok, body: { name: 'slow', base_url: one.url, allowed_address_ranges: ['127.0.0.1/32'], timeout_ms: 30000 },
      });
      assert.equal(r.status, 201, show(r));
      const seen = one.requests.filter((x) => x.url === '/hang').length;
      const pending = api(d2.url, 'POST', integrationsPath(inst.id, `/${r.json.id}/test`), {
        key: tok, body: { method: 'GET', path: '/hang' },
      });
      await waitFor(() => one.requests.filter((x) => x.url === '/hang').length > seen, { what: 'the call to reach the server' });
      const stopped = d2.stop('SIGTERM', 15000);
      const res = await pending;
      assertError(res, 503, 'Unavailable');
      assert.equal(await stopped, 0, `exit code; stderr:\n${d2.stderr.slice(-4000)}`);
      assert.doesNotMatch(d2.stderr, /LeakSanitizer|AddressSanitizer|runtime error/);
    } finally {
      await d2.stop('SIGKILL').catch(() => {});
      removeTempDir(i2.dir);
    }
  });
});
