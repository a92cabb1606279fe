// Role tokens and the JWKS (C7, docs/api.md "Role tokens"), black-box: the
// public GET /.well-known/bulwark/{iid}/jwks.json (no credential, 404 for an
// unknown instance, short Cache-Control), tokens made through
// POST .../signing-keys/test-sign verified here with node's crypto from the
// published JWK (not with any code of the daemon), every claim checked; a
// forced rotation (the old key keeps verifying during the overlap, new
// tokens carry the new kid), an instance without a key (made before roles)
// gets one on first use, and, in a daemon with a 4-second rotation and a
// 3-second overlap, the automatic schedule: the successor is in the JWKS
// before it signs, takes over on its own, and the replaced key leaves the
// JWKS after the overlap. Waits poll with deadlines; nothing sleeps.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { initData, startDaemon, removeTempDir, api, show, waitFor } from './lib/daemon.mjs';
import {
  assertError, unique, createInstance, loginToken, createProfile, userWithToken, sqlite,
} from './lib/identity.mjs';

const jwksPath = (iid) => `/.well-known/bulwark/${iid}/jwks.json`;

async function jwks(d, iid) {
  const r = await api(d.url, 'GET', jwksPath(iid));
  assert.equal(r.status, 200, show(r));
  return r;
}

async function sign(d, token, iid, body = {}) {
  const r = await api(d.url, 'POST', `/v1/instances/${iid}/signing-keys/test-sign`, {
    key: token, body: { audience: 'https://receiver.example/hook', ...body },
  });
  assert.equal(r.status, 200, show(r));
  assert.deepEqual(Object.keys(r.json), ['token']);
  return r.json.token;
}

function decode(jwt) {
  const parts = jwt.split('.');
  assert.equal(parts.length, 3, jwt);
  assert.ok(parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p)), 'base64url without padding');
  return {
    header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
    input: `${parts[0]}.${parts[1]}`,
    sig: Buffer.from(parts[2], 'base64url'),
  };
}

/** Verifies a compact JWS the way a receiver would: the JWK of its kid, Ed25519. */
function verify(jwt, set) {
  const t = decode(jwt);
  if (t.header.alg !== 'EdDSA') return { ok: false, why: 'alg' };
  const jwk = set.keys.find((k) => k.kid === t.header.kid);
  if (!jwk) return { ok: false, why: 'no such kid', ...t };
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  return { ok: crypto.verify(null, Buffer.from(t.input), key, t.sig), ...t };
}

describe('a daemon with the default schedule', () => {
  let init;
  let d;
  let A;
  let B;
  let adminA;
  before(async () => {
    init = await initData();
    d = await startDaemon({ data: init.data });
    A = await createInstance(d, init.key);
    B = await createInstance(d, init.key);
    adminA = await loginToken(d, A.id, A.adminUsername);
  });
  after(async () => {
    const code = await d?.stop();
    removeTempDir(init.dir);
    assert.equal(code, 0, `daemon exit code ${code}`);
  });

  test('the JWKS is public, cacheable briefly, one Ed25519 key per new instance', async () => {
    const r = await jwks(d, A.id);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=300');
    assert.equal(r.json.keys.length, 1);
    const [k] = r.json.keys;
    assert.deepEqual(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.deepEqual({ kty: k.kty, crv: k.crv, use: k.use, alg: k.alg }, { kty: 'OKP', crv: 'Ed25519', use: 'sig', alg: 'EdDSA' });
    assert.equal(Buffer.from(k.x, 'base64url').length, 32);
    // kid: the RFC 7638 thumbprint, as node computes it.
    const thumb = crypto.createHash('sha256').update(JSON.stringify({ crv: k.crv, kty: k.kty, x: k.x })).digest('base64url');
    assert.equal(k.kid, thumb);
    // Node takes it as a public key.
    assert.equal(crypto.createPublicKey({ key: k, format: 'jwk' }).asymmetricKeyType, 'ed25519');
    // The same set again; a credential (even a bad one) changes nothing; B has its own key.
    assert.deepEqual((await jwks(d, A.id)).json, r.json);
    const withBad = await api(d.url, 'GET', jwksPath(A.id), { key: 'not-a-token' });
    assert.equal(withBad.status, 200, show(withBad));
    const withUser = await api(d.url, 'GET', jwksPath(A.id), { key: adminA });
    assert.deepEqual(withUser.json, r.json);
    const b = await jwks(d, B.id);
    assert.notEqual(b.json.keys[0].kid, k.kid);
  });

  test('an unknown instance is 404; other methods 405', async () => {
    assertError(await api(d.url, 'GET', jwksPath('in_AAAAAAAAAAAAAAAAAAAAAA')), 404, 'NotFound');
    assertError(await api(d.url, 'GET', jwksPath('not..an@id')), 404, 'NotFound');
    assertError(await api(d.url, 'GET', jwksPath('x'.repeat(100))), 404, 'NotFound');
    assertError(await api(d.url, 'GET', '/.well-known/bulwark/jwks.json'), 404, 'NotFound');
    const p = await api(d.url, 'POST', jwksPath(A.id), { body: {} });
    assert.equal(p.status, 405, show(p));
    // Only this route may be cached: others stay no-store.
    assert.equal((await api(d.url, 'GET', '/healthz')).headers.get('cache-control'), 'no-store');
  });

  test('a test-sign token verifies with node\'s crypto; every claim', async () => {
    const body = JSON.stringify({ contact_id: 'ct_1', queue: 'sales', note: 'héllo' });
    const before = Math.floor(Date.now() / 1000);
    const jwt = await sign(d, adminA, A.id, { body, integration_id: 'ig_crm', contact_id: 'ct_1' });
    const after2 = Math.ceil(Date.now() / 1000);
    const set = (await jwks(d, A.id)).json;
    const v = verify(jwt, set);
    assert.equal(v.ok, true, v.why);
    assert.deepEqual(v.header, { alg: 'EdDSA', typ: 'JWT', kid: set.keys[0].kid });
    const c = v.claims;
    assert.deepEqual(Object.keys(c).sort(), ['aud', 'contact', 'digest', 'exp', 'iat', 'instance', 'iss', 'jti', 'nbf', 'sub']);
    assert.equal(c.iss, 'bulwark');
    assert.equal(c.sub, 'ig_crm');
    assert.equal(c.aud, 'https://receiver.example/hook');
    assert.equal(c.instance, A.id);
    assert.equal(c.contact, 'ct_1');
    assert.ok(c.iat >= before && c.iat <= after2, `${c.iat} in [${before}, ${after2}]`);
    assert.equal(c.nbf, c.iat);
    assert.equal(c.exp - c.iat, 300);
    assert.match(c.jti, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(c.digest, `sha-256=${crypto.createHash('sha256').update(Buffer.from(body, 'utf8')).digest('base64')}`);

    // Defaults: sub test-sign, no contact, the digest of nothing; ttl_s.
    const t2 = verify(await sign(d, adminA, A.id, { ttl_s: 60 }), set);
    assert.equal(t2.ok, true);
    assert.equal(t2.claims.sub, 'test-sign');
    assert.equal(t2.claims.contact, undefined);
    assert.equal(t2.claims.exp - t2.claims.iat, 60);
    assert.equal(t2.claims.digest, `sha-256=${crypto.createHash('sha256').update('').digest('base64')}`);
    assert.notEqual(t2.claims.jti, c.jti);

    // A changed claim does not verify; nor does A's token against B's keys.
    const parts = jwt.split('.');
    const forged = Buffer.from(JSON.stringify({ ...c, instance: B.id })).toString('base64url');
    assert.equal(verify(`${parts[0]}.${forged}.${parts[2]}`, set).ok, false);
    const other = verify(jwt, (await jwks(d, B.id)).json);
    assert.equal(other.ok, false);
    assert.equal(other.why, 'no such kid');
  });

  test('test-sign refuses bad input', async () => {
    const url = `/v1/instances/${A.id}/signing-keys/test-sign`;
    for (const [body, field] of [
      [{}, 'audience'], [{ audience: '' }, 'audience'], [{ audience: 'x'.repeat(2049) }, 'audience'],
      [{ audience: 'https://a', ttl_s: 0 }, 'ttl_s'], [{ audience: 'https://a', ttl_s: 901 }, 'ttl_s'],
      [{ audience: 'https://a', ttl_s: '60' }, 'ttl_s'], [{ audience: 'https://a', body: 5 }, 'body'],
      [{ audience: 'https://a', secret: 'x' }, 'secret'],
    ]) {
      assertError(await api(d.url, 'POST', url, { key: adminA, body }), 400, 'InvalidParameter', field, JSON.stringify(body).slice(0, 60));
    }
  });

  test('permissions: test-sign needs Integrations.Edit; the key list Keys.View; rotate Keys.Edit', async () => {
    const iv = await createProfile(d, adminA, A.id, unique('iv'), ['Integrations.View', 'Keys.View']);
    const ie = await createProfile(d, adminA, A.id, unique('ie'), ['Integrations.Edit']);
    const viewer = (await userWithToken(d, adminA, A.id, [iv.id])).token;
    const editor = (await userWithToken(d, adminA, A.id, [ie.id])).token;
    const base = `/v1/instances/${A.id}/signing-keys`;
    assertError(await api(d.url, 'POST', `${base}/test-sign`, { key: viewer, body: { audience: 'https://a' } }), 403, 'AccessDenied');
    await sign(d, editor, A.id);
    assert.equal((await api(d.url, 'GET', base, { key: viewer })).status, 200);
    assertError(await api(d.url, 'GET', base, { key: editor }), 403, 'AccessDenied');
    assertError(await api(d.url, 'POST', `${base}/rotate`, { key: viewer }), 403, 'AccessDenied');
    assertError(await api(d.url, 'POST', `${base}/test-sign`, { key: init.key, body: { audience: 'https://a' } }), 401, 'Unauthenticated');
    const adminB = await loginToken(d, B.id, B.adminUsername);
    assertError(await api(d.url, 'POST', `${base}/rotate`, { key: adminB }), 404, 'NotFound');
    assertError(await api(d.url, 'GET', base, { key: adminB }), 404, 'NotFound');
  });

  test('a forced rotation: new tokens carry the new kid, old ones verify during the overlap', async () => {
    const base = `/v1/instances/${A.id}/signing-keys`;
    const before1 = (await jwks(d, A.id)).json;
    const oldToken = await sign(d, adminA, A.id, { body: 'before' });
    const oldKid = decode(oldToken).header.kid;
    const r = await api(d.url, 'POST', `${base}/rotate`, { key: adminA });
    assert.equal(r.status, 201, show(r));
    assert.deepEqual(Object.keys(r.json).sort(), ['activates_at', 'created_at', 'kid', 'published_until', 'retires_at', 'state', 'x']);
    assert.equal(r.json.state, 'ACTIVE');
    assert.notEqual(r.json.kid, oldKid);
    assert.equal(r.json.retires_at, null);

    const set = (await jwks(d, A.id)).json;
    assert.deepEqual(set.keys.map((k) => k.kid), [r.json.kid, ...before1.keys.map((k) => k.kid)]);
    assert.equal(set.keys[0].x, r.json.x);
    const old = verify(oldToken, set);
    assert.equal(old.ok, true, 'a token of the replaced key still verifies');
    const fresh = verify(await sign(d, adminA, A.id, { body: 'after' }), set);
    assert.equal(fresh.ok, true);
    assert.equal(fresh.header.kid, r.json.kid);

    const list = await api(d.url, 'GET', base, { key: adminA });
    assert.equal(list.status, 200, show(list));
    const byKid = Object.fromEntries(list.json.items.map((k) => [k.kid, k]));
    assert.equal(byKid[r.json.kid].state, 'ACTIVE');
    assert.equal(byKid[oldKid].state, 'RETIRED');
    assert.equal(Date.parse(byKid[oldKid].published_until) - Date.parse(byKid[oldKid].retires_at), 3600 * 1000);
    assert.ok(!list.text.includes('"d"') && !list.text.includes('private'));
  });

  test('an instance without a key (made before roles) gets one on first use', async () => {
    const C = await createInstance(d, init.key);
    const adminC = await loginToken(d, C.id, C.adminUsername);
    const first = (await jwks(d, C.id)).json.keys[0].kid;
    sqlite(path.join(init.data, 'bulwark.db'), `DELETE FROM signing_keys WHERE instance_id = '${C.id}';`);
    const jwt = await sign(d, adminC, C.id);
    const set = (await jwks(d, C.id)).json;
    assert.equal(set.keys.length, 1);
    assert.notEqual(set.keys[0].kid, first);
    assert.equal(verify(jwt, set).ok, true);
  });

  test('the private key is sealed in the database', () => {
    const rows = sqlite(path.join(init.data, 'bulwark.db'),
      `SELECT hex(public_key) || ' ' || length(private_key) FROM signing_keys WHERE instance_id = '${A.id}';`).trim().split('\n');
    assert.ok(rows.length >= 2, rows.join(';'));
    for (const row of rows) {
      const [, len] = row.split(' ');
      assert.ok(Number(len) > 32 + 16, `a private key of ${len} bytes is not a sealed seed`);
    }
  });
});

describe('a daemon that rotates every 4 seconds with a 3-second overlap', () => {
  let init;
  let d;
  let A;
  let admin;
  before(async () => {
    init = await initData();
    d = await startDaemon({ data: init.data, args: ['--signing-key-rotate-s', '4', '--signing-key-overlap-s', '3'] });
    A = await createInstance(d, init.key);
    admin = await loginToken(d, A.id, A.adminUsername);
  });
  after(async () => {
    const code = await d?.stop();
    removeTempDir(init.dir);
    assert.equal(code, 0, `daemon exit code ${code}`);
  });

  test('published before it signs, takes over on its own, the old key leaves after the overlap', async () => {
    const first = await jwks(d, A.id);
    assert.equal(first.headers.get('cache-control'), 'public, max-age=2');
    const [k1] = first.json.keys.map((k) => k.kid);
    const t1 = await sign(d, admin, A.id, { body: 'one' });
    assert.equal(decode(t1).header.kid, k1);

    // The successor appears in the JWKS (2 s before it may sign)...
    const two = await waitFor(async () => {
      const s = (await jwks(d, A.id)).json;
      return s.keys.length === 2 ? s : null;
    }, { timeoutMs: 8000, intervalMs: 100, what: 'a second key in the JWKS' });
    const k2 = two.keys[0].kid;
    assert.equal(two.keys[1].kid, k1);
    // ...while tokens still carry the first (it starts a lead later).
    const still = await sign(d, admin, A.id);
    assert.equal(decode(still).header.kid, k1);

    // Then tokens carry the new kid, and the first key's tokens still verify.
    const t2 = await waitFor(async () => {
      const t = await sign(d, admin, A.id, { body: 'two' });
      return decode(t).header.kid === k2 ? t : null;
    }, { timeoutMs: 8000, intervalMs: 100, what: 'a token of the new key' });
    const during = (await jwks(d, A.id)).json;
    assert.ok(during.keys.some((k) => k.kid === k1), 'the old key is published during the overlap');
    assert.equal(verify(t1, during).ok, true);
    assert.equal(verify(t2, during).ok, true);

    // After the overlap the old key is gone: its tokens no longer verify.
    const later = await waitFor(async () => {
      const s = (await jwks(d, A.id)).json;
      return s.keys.some((k) => k.kid === k1) ? null : s;
    }, { timeoutMs: 8000, intervalMs: 100, what: 'the first key to leave the JWKS' });
    assert.equal(verify(t1, later).why, 'no such kid');
    assert.ok(later.keys.some((k) => k.kid === k2));
  });
});
