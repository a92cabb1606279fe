// Encryption at rest (C14), BYOK with the KMS import pattern, round trip
// with node's crypto: GET .../keys/import-parameters gives the platform's
// RSA-3072 public key and an import token; the customer wraps 32 random
// bytes with RSA-OAEP (SHA-256, MGF1 SHA-256) and POSTs them with the token;
// the instance's KEK becomes those bytes (origin IMPORTED; the KEK row in
// the file, unwrapped with the root key, is exactly them), data keys are
// re-wrapped and every value still opens. Wrong inputs are refused with the
// field named; a token is single-use, bound to its instance; all audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { initData, startDaemon, removeTempDir, makeTempDir, api, show } from './lib/daemon.mjs';
import { assertError, createProfile, userWithToken } from './lib/identity.mjs';
import { plant, keysState, waitRotation, dbFiles, backupCopy, rows, xopen, kekWrapKey } from './lib/keys.mjs';

let init;
let d;
let A;
let B;

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data, args: ['--data-key-max-seals', '2'] });
  A = await plant(d, init.key, 'ba');
  B = await plant(d, init.key, 'bb');
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

const K = (P, s = '') => `/v1/instances/${P.iid}/keys${s}`;

async function params(P, token = P.ctx.admin) {
  const r = await api(d.url, 'GET', K(P, '/import-parameters'), { key: token });
  assert.equal(r.status, 200, show(r));
  return r.json;
}

const wrap = (pem, bytes, oaepHash = 'sha256', padding = crypto.constants.RSA_PKCS1_OAEP_PADDING) =>
  crypto.publicEncrypt({ key: pem, padding, oaepHash }, bytes).toString('base64');

const importKey = (P, body, token = P.ctx.admin) => api(d.url, 'POST', K(P, '/import'), { key: token, body });

test('import parameters: an RSA-3072 public key (the same each time), a fresh token that expires in a day', async () => {
  const p = await params(A);
  assert.match(p.public_key, /^-----BEGIN PUBLIC KEY-----\n/);
  const pub = crypto.createPublicKey(p.public_key);
  assert.equal(pub.asymmetricKeyType, 'rsa');
  assert.equal(pub.asymmetricKeyDetails.modulusLength, 3072);
  assert.equal(p.key_spec, 'RSA_3072');
  assert.equal(p.wrapping_algorithm, 'RSAES_OAEP_SHA_256');
  assert.match(p.import_token, /^bwi_[A-Za-z0-9_-]{43}$/);
  const ttl = Date.parse(p.expires_at) - Date.now();
  assert.ok(ttl > 23.9 * 3600e3 && ttl <= 24 * 3600e3 + 5000, `expires_at ${p.expires_at}`);
  const q = await params(B);
  assert.equal(q.public_key, p.public_key, 'one platform import key');
  assert.notEqual(q.import_token, p.import_token);
});

test('wrong inputs are refused, naming the field; a wrong key does not spend the token', async () => {
  const p = await params(A);
  const kek = crypto.randomBytes(32);
  const cases = [
    [{ import_token: p.import_token, wrapped_key: wrap(p.public_key, kek, 'sha1') }, 'wrapped_key', 'OAEP with SHA-1'],
    [{ import_token: p.import_token, wrapped_key: wrap(p.public_key, kek, undefined, crypto.constants.RSA_PKCS1_PADDING) }, 'wrapped_key', 'PKCS#1 v1.5'],
    [{ import_token: p.import_token, wrapped_key: wrap(p.public_key, crypto.randomBytes(16)) }, 'wrapped_key', 'a 16-byte key'],
    [{ import_token: p.import_token, wrapped_key: wrap(p.public_key, Buffer.alloc(32)) }, 'wrapped_key', 'an all-zero key'],
    [{ import_token: p.import_token, wrapped_key: 'not base64!' }, 'wrapped_key', 'not base64'],
    [{ import_token: p.import_token }, 'wrapped_key', 'no wrapped_key'],
    [{ wrapped_key: wrap(p.public_key, kek) }, 'import_token', 'no token'],
    [{ import_token: 'bwi_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', wrapped_key: wrap(p.public_key, kek) }, 'import_token', 'an unknown token'],
    [{ import_token: p.import_token, wrapped_key: wrap(p.public_key, kek), extra: 1 }, 'extra', 'an unknown field'],
  ];
  for (const [body, field, why] of cases) assertError(await importKey(A, body), 400, 'InvalidParameter', field, why);
  // B's token on A's instance.
  const q = await params(B);
  assertError(await importKey(A, { import_token: q.import_token, wrapped_key: wrap(p.public_key, kek) }), 400, 'InvalidParameter', 'import_token', 'another instance\'s token');
  // A user with Keys.View only may get parameters, not import.
  const viewer = await createProfile(d, A.ctx.admin, A.iid, 'keys viewer', ['Keys.View']);
  const v = await userWithToken(d, A.ctx.admin, A.iid, [viewer.id]);
  const vp = await params(A, v.token);
  assertError(await importKey(A, { import_token: vp.import_token, wrapped_key: wrap(vp.public_key, kek) }, v.token), 403, 'AccessDenied');
  // After all these refusals the first token still works.
  const ok = await importKey(A, { import_token: p.import_token, wrapped_key: wrap(p.public_key, kek) });
  assert.equal(ok.status, 202, show(ok));
  assert.equal((await waitRotation(d, A.ctx.admin, A.iid, ok.json.id)).rotation.state, 'COMPLETED');
});

test('import round trip: the KEK is the customer\'s bytes, data keys are re-wrapped, every value opens; the token is spent', async () => {
  const before = await keysState(d, A.ctx.admin, A.iid);
  const p = await params(A);
  const kek = crypto.randomBytes(32);
  const body = { import_token: p.import_token, wrapped_key: wrap(p.public_key, kek) };
  const r = await importKey(A, body);
  assert.equal(r.status, 202, show(r));
  assert.match(r.json.id, /^kr_/);
  assert.equal(r.json.from_kek_id, before.kek_id);
  const done = await waitRotation(d, A.ctx.admin, A.iid, r.json.id);
  assert.equal(done.rotation.state, 'COMPLETED', JSON.stringify(done));
  assert.equal(done.rotation.rewrapped, before.data_keys);
  assert.equal(done.origin, 'IMPORTED');
  assert.equal(done.kek_id, r.json.kek_id);
  assert.deepEqual(done.retiring_kek_ids, []);

  // The KEK row, unwrapped with the root key, holds exactly the imported bytes.
  const copy = backupCopy(init.data, path.join(makeTempDir('bulwark-byok-'), 'copy.db'));
  const row = rows(copy, `SELECT id, hex(wrapped) AS w FROM instance_keks WHERE instance_id='${A.iid}'`);
  assert.equal(row.length, 1);
  const root = fs.readFileSync(dbFiles(init.data).root);
  const ad = Buffer.from(['bulwark.kek.v1', A.iid, row[0].id].join('\0'));
  const got = xopen(kekWrapKey(root), Buffer.from(row[0].w, 'hex'), ad);
  assert.ok(got && got.equals(kek), 'the active KEK is not the imported key');

  // Values sealed before still read; new ones are sealed under the imported KEK.
  const tr = await api(d.url, 'GET', `/v1/instances/${A.iid}/contacts/${A.cid}/transcript`, { key: A.ctx.admin });
  assert.ok(tr.json.items.some((m) => m.content === A.c.custMsg), show(tr));
  const u = await api(d.url, 'GET', `/v1/instances/${A.iid}/users/${A.user.id}`, { key: A.ctx.admin });
  assert.equal(u.json.email, A.c.mail, show(u));
  // Spent.
  assertError(await importKey(A, body), 400, 'InvalidParameter', 'import_token', 'the token again');
  // B is untouched.
  const kb = await keysState(d, B.ctx.admin, B.iid);
  assert.equal(kb.origin, 'GENERATED');

  // Audited.
  const au = await api(d.url, 'GET', `/v1/instances/${A.iid}/audit-events?limit=1000`, { key: A.ctx.admin });
  const actions = au.json.items.map((e) => e.action);
  for (const a of ['keys.import_parameters', 'keys.import', 'keys.get']) assert.ok(actions.includes(a), `${a} not audited`);
  assert.ok(au.json.items.some((e) => e.action === 'keys.import' && e.status === 400 && e.result === 'failed'), 'refused imports are audited');
});
