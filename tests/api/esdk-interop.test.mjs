// Encrypted customer input (C15), black box: the encryption-keys API (RSA
// public keys only, 2048-4096 bits, at most two ACTIVE, Keys.View /
// Keys.Edit, audited, never a key's text in a reply), and messages the
// daemon makes (POST .../encryption-keys/test-encrypt, the same code a flow
// uses) decrypted by the real @aws-crypto/client-node with RawRsaKeyringNode
// (key namespace "Bulwark", key name = key id, oaepHash sha512) under
// CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT: with two active keys,
// either private key decrypts; the encryption context names instance,
// contact and attribute; a flipped bit anywhere is refused by it. Then
// `bulwark decrypt` on both the daemon's messages and the SDK's own, and the
// `bulwark encryption-key` commands.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  RawRsaKeyringNode, buildClient, CommitmentPolicy, AlgorithmSuiteIdentifier,
} from '@aws-crypto/client-node';
import { initData, startDaemon, removeTempDir, makeTempDir, api, show, runBulwark } from './lib/daemon.mjs';
import {
  assertError, createInstance, loginToken, createProfile, userWithToken, profilesByName,
} from './lib/identity.mjs';

const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const generateKeyPair = promisify(crypto.generateKeyPair);

let init;
let d;
let A; // the instance under test
let B; // another instance
let admin; // A's admin session
let adminB;
let tmp;
const keys = {}; // bits → {publicKey, privateKey} as PEM

const KEY_FIELDS = ['bits', 'created_at', 'fingerprint', 'key_id', 'status', 'updated_at'];
const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function rsa(bits) {
  return generateKeyPair('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

const ekPath = (iid, rest = '') => `/v1/instances/${iid}/encryption-keys${rest}`;

function addKey(body, token = admin, iid = A.id) {
  return api(d.url, 'POST', ekPath(iid), { key: token, body });
}

function fingerprint(pem) {
  const der = crypto.createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('hex');
}

function keyring(keyName, privateKey) {
  return new RawRsaKeyringNode({ keyName, keyNamespace: 'Bulwark', rsaKey: { privateKey }, oaepHash: 'sha512' });
}

async function testEncrypt(plaintext, extra = {}) {
  const r = await api(d.url, 'POST', ekPath(A.id, '/test-encrypt'), { key: admin, body: { plaintext, ...extra } });
  assert.equal(r.status, 200, show(r));
  assert.match(r.json.ciphertext, /^[A-Za-z0-9+/]+={0,2}$/, 'standard base64');
  return r.json;
}

/** Every key of A removed, so that each test starts from none. */
async function clearKeys(iid = A.id, token = admin) {
  const r = await api(d.url, 'GET', ekPath(iid), { key: token });
  assert.equal(r.status, 200, show(r));
  for (const k of r.json.items) {
    const del = await api(d.url, 'DELETE', ekPath(iid, `/${k.key_id}`), { key: token });
    assert.equal(del.status, 204, show(del));
  }
}

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  A = await createInstance(d, init.key);
  B = await createInstance(d, init.key);
  admin = await loginToken(d, A.id, A.adminUsername);
  adminB = await loginToken(d, B.id, B.adminUsername);
  tmp = makeTempDir('bulwark-esdk-');
  const made = await Promise.all([rsa(2048), rsa(3072), rsa(4096), rsa(1024)]);
  [keys[2048], keys[3072], keys[4096], keys[1024]] = made;
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  if (tmp) removeTempDir(tmp);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

describe('the encryption-keys API', () => {
  test('add a key: the reply carries key id, SHA-256 fingerprint of the DER key, bits, status and times, never the key text', async () => {
    await clearKeys();
    const t0 = Date.now();
    const r = await addKey({ key_id: 'integrator.2026-01_a', public_key: keys[3072].publicKey });
    assert.equal(r.status, 201, show(r));
    assert.deepEqual(Object.keys(r.json).sort(), KEY_FIELDS, show(r));
    assert.equal(r.json.key_id, 'integrator.2026-01_a');
    assert.equal(r.json.fingerprint, fingerprint(keys[3072].publicKey));
    assert.equal(r.json.bits, 3072);
    assert.equal(r.json.status, 'ACTIVE');
    assert.match(r.json.created_at, TIME_RE);
    assert.ok(Math.abs(Date.parse(r.json.created_at) - t0) < 10000);
    assert.doesNotMatch(r.text, /BEGIN|MII/, 'no key text in the reply');
    const one = await api(d.url, 'GET', ekPath(A.id, '/integrator.2026-01_a'), { key: admin });
    assert.equal(one.status, 200, show(one));
    assert.deepEqual(one.json, r.json);
    // A 4096-bit key and a 2048-bit one are in range too (the second is DISABLED: two are ACTIVE at most).
    const big = await addKey({ key_id: 'k4096', public_key: keys[4096].publicKey });
    assert.equal(big.status, 201, show(big));
    assert.equal(big.json.bits, 4096);
    const small = await addKey({ key_id: 'k2048', public_key: keys[2048].publicKey, status: 'DISABLED' });
    assert.equal(small.status, 201, show(small));
    assert.equal(small.json.status, 'DISABLED');
    // A repeated key id is 409 naming key_id, whatever its status.
    assertError(await addKey({ key_id: 'k2048', public_key: keys[2048].publicKey, status: 'DISABLED' }), 409, 'Conflict', 'key_id');
    // The same key id in another instance is another key.
    const inB = await addKey({ key_id: 'k2048', public_key: keys[2048].publicKey }, adminB, B.id);
    assert.equal(inB.status, 201, show(inB));
    assertError(await api(d.url, 'GET', ekPath(B.id, '/integrator.2026-01_a'), { key: adminB }), 404, 'NotFound');
  });

  test('refused: bad key ids, not a public key, a private key, RSA out of 2048-4096, EC, unknown fields', async () => {
    await clearKeys();
    const pub = keys[2048].publicKey;
    for (const key_id of ['', 'a b', 'a/b', 'é', '.', '..', 'x'.repeat(65), 'a%2Fb']) {
      assertError(await addKey({ key_id, public_key: pub }), 400, 'InvalidParameter', 'key_id', JSON.stringify(key_id));
    }
    assert.equal((await addKey({ key_id: 'x'.repeat(64), public_key: pub })).status, 201, '64 characters are fine');
    await clearKeys();
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
    const pkcs1 = crypto.createPublicKey(pub).export({ type: 'pkcs1', format: 'pem' });
    const cases = [
      ['garbage', 'hello'],
      ['a truncated PEM', pub.slice(0, 200)],
      ['a private key', keys[2048].privateKey],
      ['1024 bits', keys[1024].publicKey],
      ['an EC key', ec],
    ];
    for (const [what, public_key] of cases) {
      const r = await addKey({ key_id: 'k', public_key });
      assertError(r, 400, 'InvalidParameter', 'public_key', what);
      assert.doesNotMatch(r.text, /MII/, `${what}: the reply echoes no key material`);
    }
    const priv = await addKey({ key_id: 'k', public_key: keys[2048].privateKey });
    assert.match(priv.json.error.message, /private key/);
    assertError(await addKey({ key_id: 'k', public_key: pub, extra: 1 }), 400, 'InvalidParameter', 'extra');
    assertError(await addKey({ key_id: 'k', public_key: pub, status: 'ENABLED' }), 400, 'InvalidParameter', 'status');
    assertError(await addKey({ key_id: 'k' }), 400, 'InvalidParameter', 'public_key');
    assertError(await addKey({ public_key: pub }), 400, 'InvalidParameter', 'key_id');
    const none = await api(d.url, 'GET', ekPath(A.id), { key: admin });
    assert.deepEqual(none.json.items, [], 'nothing was stored');
    // PKCS#1 ("BEGIN RSA PUBLIC KEY") is read too, and kept as SubjectPublicKeyInfo.
    const p1 = await addKey({ key_id: 'pkcs1', public_key: pkcs1 });
    assert.equal(p1.status, 201, show(p1));
    assert.equal(p1.json.fingerprint, fingerprint(pub));
  });

  test('at most two ACTIVE: a third is 409; disabling or deleting one frees a slot; re-enabling past two is 409', async () => {
    await clearKeys();
    const pub = keys[2048].publicKey;
    assert.equal((await addKey({ key_id: 'one', public_key: pub })).status, 201);
    assert.equal((await addKey({ key_id: 'two', public_key: keys[3072].publicKey })).status, 201);
    const third = await addKey({ key_id: 'three', public_key: pub });
    assertError(third, 409, 'Conflict', 'status');
    assert.match(third.json.error.message, /two/);
    assertError(await api(d.url, 'GET', ekPath(A.id, '/three'), { key: admin }), 404, 'NotFound');
    assert.equal((await addKey({ key_id: 'three', public_key: pub, status: 'DISABLED' })).status, 201);
    assertError(await api(d.url, 'PATCH', ekPath(A.id, '/three'), { key: admin, body: { status: 'ACTIVE' } }), 409, 'Conflict', 'status');
    // Disabling frees a slot.
    const dis = await api(d.url, 'PATCH', ekPath(A.id, '/one'), { key: admin, body: { status: 'DISABLED' } });
    assert.equal(dis.status, 200, show(dis));
    assert.equal(dis.json.status, 'DISABLED');
    assert.ok(Date.parse(dis.json.updated_at) >= Date.parse(dis.json.created_at));
    const en = await api(d.url, 'PATCH', ekPath(A.id, '/three'), { key: admin, body: { status: 'ACTIVE' } });
    assert.equal(en.status, 200, show(en));
    assert.equal(en.json.status, 'ACTIVE');
    // Deleting frees one too.
    assertError(await api(d.url, 'PATCH', ekPath(A.id, '/one'), { key: admin, body: { status: 'ACTIVE' } }), 409, 'Conflict');
    assert.equal((await api(d.url, 'DELETE', ekPath(A.id, '/two'), { key: admin })).status, 204);
    assertError(await api(d.url, 'DELETE', ekPath(A.id, '/two'), { key: admin }), 404, 'NotFound');
    assert.equal((await api(d.url, 'PATCH', ekPath(A.id, '/one'), { key: admin, body: { status: 'ACTIVE' } })).status, 200);
    // PATCH takes status only, ACTIVE or DISABLED.
    assertError(await api(d.url, 'PATCH', ekPath(A.id, '/one'), { key: admin, body: { status: 'OFF' } }), 400, 'InvalidParameter', 'status');
    assertError(await api(d.url, 'PATCH', ekPath(A.id, '/one'), { key: admin, body: { public_key: pub } }), 400, 'InvalidParameter', 'public_key');
    assertError(await api(d.url, 'PATCH', ekPath(A.id, '/nope'), { key: admin, body: { status: 'DISABLED' } }), 404, 'NotFound');
    // The list: by key id, paged, never a PEM.
    const long = 'z'.repeat(64);
    assert.equal((await addKey({ key_id: long, public_key: pub, status: 'DISABLED' })).status, 201);
    assert.equal((await addKey({ key_id: 'a.first', public_key: pub, status: 'DISABLED' })).status, 201);
    const l1 = await api(d.url, 'GET', `${ekPath(A.id)}?limit=2`, { key: admin });
    assert.equal(l1.status, 200, show(l1));
    assert.deepEqual(l1.json.items.map((k) => [k.key_id, k.status]), [['a.first', 'DISABLED'], ['one', 'ACTIVE']]);
    assert.equal(l1.json.next_token, 'one');
    assert.doesNotMatch(l1.text, /BEGIN|MII/);
    const l2 = await api(d.url, 'GET', `${ekPath(A.id)}?limit=1&next_token=one`, { key: admin });
    assert.deepEqual(l2.json.items.map((k) => k.key_id), ['three']);
    assert.equal(l2.json.next_token, 'three');
    const l3 = await api(d.url, 'GET', `${ekPath(A.id)}?limit=1&next_token=three`, { key: admin });
    assert.deepEqual(l3.json.items.map((k) => k.key_id), [long]);
    const l4 = await api(d.url, 'GET', `${ekPath(A.id)}?next_token=${long}`, { key: admin });
    assert.equal(l4.status, 200, `a 64-character next_token: ${show(l4)}`);
    assert.deepEqual(l4.json.items, []);
    assert.equal(l4.json.next_token, null);
  });

  test('permissions: Keys.View reads, Keys.Edit writes; an Agent gets 403; test-encrypt needs Keys.Edit', async () => {
    await clearKeys();
    assert.equal((await addKey({ key_id: 'k', public_key: keys[2048].publicKey })).status, 201);
    const viewer = await createProfile(d, admin, A.id, `keys viewer ${Date.now()}`, ['Keys.View']);
    const v = await userWithToken(d, admin, A.id, [viewer.id]);
    const agent = await userWithToken(d, admin, A.id, [(await profilesByName(d, admin, A.id)).Agent.id]);
    assert.equal((await api(d.url, 'GET', ekPath(A.id), { key: v.token })).status, 200);
    assert.equal((await api(d.url, 'GET', ekPath(A.id, '/k'), { key: v.token })).status, 200);
    assertError(await addKey({ key_id: 'k2', public_key: keys[2048].publicKey }, v.token), 403, 'AccessDenied');
    assertError(await api(d.url, 'DELETE', ekPath(A.id, '/k'), { key: v.token }), 403, 'AccessDenied');
    assertError(await api(d.url, 'PATCH', ekPath(A.id, '/k'), { key: v.token, body: { status: 'DISABLED' } }), 403, 'AccessDenied');
    assertError(await api(d.url, 'POST', ekPath(A.id, '/test-encrypt'), { key: v.token, body: { plaintext: 'x' } }), 403, 'AccessDenied');
    assertError(await api(d.url, 'GET', ekPath(A.id), { key: agent.token }), 403, 'AccessDenied');
    // The platform key is not an instance user.
    assertError(await api(d.url, 'GET', ekPath(A.id), { key: init.key }), 401, 'Unauthenticated');
    // Another instance's admin: 404 on A's paths.
    assertError(await api(d.url, 'GET', ekPath(A.id, '/k'), { key: adminB }), 404, 'NotFound');
  });

  test('audited: create, list, get, update, delete, test_encrypt, and refusals', async () => {
    await clearKeys();
    assert.equal((await addKey({ key_id: 'aud', public_key: keys[2048].publicKey })).status, 201);
    await api(d.url, 'GET', ekPath(A.id), { key: admin });
    await api(d.url, 'GET', ekPath(A.id, '/aud'), { key: admin });
    await api(d.url, 'PATCH', ekPath(A.id, '/aud'), { key: admin, body: { status: 'ACTIVE' } });
    await testEncrypt('audit me');
    await api(d.url, 'DELETE', ekPath(A.id, '/aud'), { key: admin });
    await addKey({ key_id: 'bad', public_key: 'nope' });
    const r = await api(d.url, 'GET', `/v1/instances/${A.id}/audit-events?limit=1000`, { key: admin });
    assert.equal(r.status, 200, show(r));
    const actions = r.json.items.filter((e) => e.action.startsWith('encryption_keys.'));
    for (const a of ['create', 'list', 'get', 'update', 'delete', 'test_encrypt']) {
      assert.ok(actions.some((e) => e.action === `encryption_keys.${a}` && e.result === 'allowed'), `encryption_keys.${a} audited`);
    }
    assert.ok(actions.some((e) => e.action === 'encryption_keys.create' && e.status === 400 && e.result === 'failed'), 'a refused create is audited');
    assert.doesNotMatch(JSON.stringify(r.json), /audit me|BEGIN/, 'no plaintext or key text in the trail');
  });
});

describe('messages decrypted by @aws-crypto/client-node', () => {
  const K1 = 'integrator-2026.a';
  const K2 = 'integrator-2026.b';
  before(async () => {
    await clearKeys();
    assert.equal((await addKey({ key_id: K1, public_key: keys[2048].publicKey })).status, 201);
    assert.equal((await addKey({ key_id: K2, public_key: keys[3072].publicKey })).status, 201);
  });

  test('two active keys: either private key decrypts; suite 0x0478, framed, context names instance, contact and attribute', async () => {
    const plaintext = '4111 1111 1111 1111';
    const out = await testEncrypt(plaintext, { attribute: 'card_number' });
    const ctx = { instance_id: A.id, contact_id: 'test-encrypt', attribute: 'card_number' };
    assert.deepEqual(out.encryption_context, ctx);
    assert.deepEqual(out.key_ids, [K1, K2]);
    for (const [name, pair] of [[K1, keys[2048]], [K2, keys[3072]]]) {
      const { plaintext: pt, messageHeader: h } = await decrypt(keyring(name, pair.privateKey), Buffer.from(out.ciphertext, 'base64'));
      assert.equal(pt.toString('utf8'), plaintext, `decrypted with ${name}`);
      assert.equal(h.version, 2);
      assert.equal(h.suiteId, AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY);
      assert.equal(h.suiteId, 0x0478);
      assert.equal(h.contentType, 2, 'framed');
      assert.equal(h.frameLength, 4096);
      assert.deepEqual({ ...h.encryptionContext }, ctx);
      assert.deepEqual(h.encryptedDataKeys.map((k) => [k.providerId, k.providerInfo]), [['Bulwark', K1], ['Bulwark', K2]]);
    }
    // A key name that is not the key id opens nothing; nor does a stranger's key.
    await assert.rejects(decrypt(keyring('other-name', keys[2048].privateKey), Buffer.from(out.ciphertext, 'base64')));
    await assert.rejects(decrypt(keyring(K1, keys[4096].privateKey), Buffer.from(out.ciphertext, 'base64')));
    // The plaintext never reaches the daemon's logs.
    assert.ok(!d.stderr.includes(plaintext), 'plaintext in the logs');
  });

  test('several frames, UTF-8, empty, and an exact multiple of the frame length', async () => {
    for (const plaintext of ['é€😀'.repeat(1000), '', 'x'.repeat(4096), 'y'.repeat(8193)]) {
      const out = await testEncrypt(plaintext);
      assert.equal(out.encryption_context.attribute, 'test');
      const { plaintext: pt } = await decrypt(keyring(K2, keys[3072].privateKey), Buffer.from(out.ciphertext, 'base64'));
      assert.equal(pt.toString('utf8'), plaintext, `${Buffer.byteLength(plaintext)} bytes`);
    }
    assertError(await api(d.url, 'POST', ekPath(A.id, '/test-encrypt'), { key: admin, body: { plaintext: 'x'.repeat(65537) } }), 400, 'InvalidParameter', 'plaintext');
    assertError(await api(d.url, 'POST', ekPath(A.id, '/test-encrypt'), { key: admin, body: {} }), 400, 'InvalidParameter', 'plaintext');
    assertError(await api(d.url, 'POST', ekPath(A.id, '/test-encrypt'), { key: admin, body: { plaintext: 'x', attribute: 'a b' } }), 400, 'InvalidParameter', 'attribute');
  });

  test('a flipped bit anywhere in the message is refused by the SDK', async () => {
    const out = await testEncrypt('flip me');
    const msg = Buffer.from(out.ciphertext, 'base64');
    const kr = keyring(K1, keys[2048].privateKey);
    assert.equal((await decrypt(kr, msg)).plaintext.toString(), 'flip me');
    // One bit in every byte (the bit rotating), so that every field is hit:
    // header, context, both encrypted data keys, commitment key, tags, frame.
    const accepted = [];
    for (let i = 0; i < msg.length; i++) {
      const bad = Buffer.from(msg);
      bad[i] ^= 1 << (i % 8);
      try {
        await decrypt(kr, bad);
        accepted.push(i);
      } catch { /* refused, as it must be */ }
    }
    assert.deepEqual(accepted, [], `flips accepted at byte(s) ${accepted.join(', ')} of ${msg.length}`);
    // Cut short. (A byte more after the final frame the SDK ignores;
    // `bulwark decrypt` refuses it, below and in tests/unit/test_esdk.c.)
    await assert.rejects(decrypt(kr, msg.subarray(0, msg.length - 1)));
  });

  test('disabling a key: new messages carry only the other; older ones still open with it', async () => {
    const before = await testEncrypt('before');
    const dis = await api(d.url, 'PATCH', ekPath(A.id, `/${K2}`), { key: admin, body: { status: 'DISABLED' } });
    assert.equal(dis.status, 200, show(dis));
    const afterMsg = await testEncrypt('after');
    assert.deepEqual(afterMsg.key_ids, [K1]);
    await assert.rejects(decrypt(keyring(K2, keys[3072].privateKey), Buffer.from(afterMsg.ciphertext, 'base64')));
    assert.equal((await decrypt(keyring(K1, keys[2048].privateKey), Buffer.from(afterMsg.ciphertext, 'base64'))).plaintext.toString(), 'after');
    assert.equal((await decrypt(keyring(K2, keys[3072].privateKey), Buffer.from(before.ciphertext, 'base64'))).plaintext.toString(), 'before');
    assert.equal((await api(d.url, 'PATCH', ekPath(A.id, `/${K2}`), { key: admin, body: { status: 'ACTIVE' } })).status, 200);
    // No active key at all: test-encrypt says so.
    await clearKeys();
    assertError(await api(d.url, 'POST', ekPath(A.id, '/test-encrypt'), { key: admin, body: { plaintext: 'x' } }), 409, 'Conflict');
    assert.equal((await addKey({ key_id: K1, public_key: keys[2048].publicKey })).status, 201);
    assert.equal((await addKey({ key_id: K2, public_key: keys[3072].publicKey })).status, 201);
  });
});

describe('bulwark decrypt', () => {
  const K1 = 'cli-key';
  let privFile;
  let pubFile;
  before(async () => {
    privFile = path.join(tmp, 'private.pem');
    pubFile = path.join(tmp, 'public.pem');
    fs.writeFileSync(privFile, keys[2048].privateKey, { mode: 0o600 });
    fs.writeFileSync(pubFile, keys[2048].publicKey);
  });

  test('decrypts a message of the daemon: plaintext as it is; --json with the encryption context', async () => {
    await clearKeys();
    assert.equal((await addKey({ key_id: K1, public_key: keys[2048].publicKey })).status, 201);
    const out = await testEncrypt('Ada Lovelace, 1815', { attribute: 'name' });
    const msgFile = path.join(tmp, 'msg.b64');
    fs.writeFileSync(msgFile, `${out.ciphertext}\n`);
    const r = await runBulwark(['decrypt', '--key', privFile, msgFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Ada Lovelace, 1815');
    const j = await runBulwark(['decrypt', '--key', privFile, '--json'], { input: out.ciphertext });
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(JSON.parse(j.stdout), {
      plaintext: 'Ada Lovelace, 1815', key_id: K1,
      encryption_context: { attribute: 'name', contact_id: 'test-encrypt', instance_id: A.id },
    });
    // A flipped bit, a stranger's key: exit 1 with the reason; a bad key file: exit 2.
    const bad = Buffer.from(out.ciphertext, 'base64');
    bad[bad.length - 3] ^= 4;
    const f = await runBulwark(['decrypt', '--key', privFile], { input: bad.toString('base64') });
    assert.equal(f.code, 1, f.stderr);
    assert.equal(f.stdout, '');
    assert.match(f.stderr, /does not authenticate/);
    const otherFile = path.join(tmp, 'other.pem');
    fs.writeFileSync(otherFile, keys[3072].privateKey, { mode: 0o600 });
    const o = await runBulwark(['decrypt', '--key', otherFile], { input: out.ciphertext });
    assert.equal(o.code, 1, o.stderr);
    assert.match(o.stderr, /no encrypted data key/);
    const k = await runBulwark(['decrypt', '--key', pubFile], { input: out.ciphertext });
    assert.equal(k.code, 2, k.stderr);
    const m = await runBulwark(['decrypt'], { input: out.ciphertext });
    assert.equal(m.code, 2, m.stderr);
    const h = await runBulwark(['decrypt', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /--key/);
  });

  test('decrypts a message the SDK made itself (raw RSA keyring, suite 0x0478), refuses its signed default', async () => {
    const kr = new RawRsaKeyringNode({ keyName: K1, keyNamespace: 'Bulwark', rsaKey: { publicKey: keys[2048].publicKey }, oaepHash: 'sha512' });
    const text = 'z'.repeat(300);
    const encryptionContext = { contact_id: 'ct_1', instance_id: A.id, attribute: 'zz' };
    const { result } = await encrypt(kr, Buffer.from(text), {
      encryptionContext, frameLength: 64,
      suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
    });
    const r = await runBulwark(['decrypt', '--key', privFile, '--json'], { input: result.toString('base64') });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.plaintext, text);
    assert.deepEqual(j.encryption_context, { attribute: 'zz', contact_id: 'ct_1', instance_id: A.id });
    // A byte after the final frame: refused.
    const longer = Buffer.concat([result, Buffer.from([0])]).toString('base64');
    const t = await runBulwark(['decrypt', '--key', privFile], { input: longer });
    assert.equal(t.code, 1, t.stderr);
    assert.match(t.stderr, /after the final frame/);
    // The SDK's default suite (0x0578, ECDSA-signed) is not one Bulwark writes: refused by name.
    const signed = (await encrypt(kr, Buffer.from(text), { encryptionContext })).result;
    assert.equal(signed.readUInt16BE(1), 0x0578);
    const s = await runBulwark(['decrypt', '--key', privFile], { input: signed.toString('base64') });
    assert.equal(s.code, 1, s.stderr);
    assert.match(s.stderr, /unsupported algorithm suite/);
  });

  test('bulwark encryption-key add|list|get|disable|enable|test-encrypt|remove', async () => {
    await clearKeys();
    const env = { BULWARK_URL: d.url, BULWARK_TOKEN: admin, BULWARK_INSTANCE: A.id };
    const add = await runBulwark(['encryption-key', 'add', '--key-id', 'cli.k1', '--public-key', pubFile], { env });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, new RegExp(fingerprint(keys[2048].publicKey)));
    const refused = await runBulwark(['encryption-key', 'add', '--key-id', 'cli.k2', '--public-key', privFile], { env });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /private key/);
    const list = await runBulwark(['encryption-key', 'list'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /cli\.k1\s+ACTIVE\s+2048/);
    const dis = await runBulwark(['encryption-key', 'disable', 'cli.k1', '--json'], { env });
    assert.equal(dis.code, 0, dis.stderr);
    assert.equal(JSON.parse(dis.stdout).status, 'DISABLED');
    const none = await runBulwark(['encryption-key', 'test-encrypt', '--plaintext', 'x'], { env });
    assert.equal(none.code, 1, 'no active key: the API refuses');
    assert.equal((await runBulwark(['encryption-key', 'enable', 'cli.k1'], { env })).code, 0);
    const te = await runBulwark(['encryption-key', 'test-encrypt', '--plaintext', 'round trip', '--attribute', 'pin'], { env });
    assert.equal(te.code, 0, te.stderr);
    const dec = await runBulwark(['decrypt', '--key', privFile], { input: te.stdout });
    assert.equal(dec.code, 0, dec.stderr);
    assert.equal(dec.stdout, 'round trip');
    const get = await runBulwark(['encryption-key', 'get', 'cli.k1', '--json'], { env });
    assert.equal(JSON.parse(get.stdout).key_id, 'cli.k1');
    assert.equal((await runBulwark(['encryption-key', 'get', '../x'], { env })).code, 2);
    const rm = await runBulwark(['encryption-key', 'remove', 'cli.k1'], { env });
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await runBulwark(['encryption-key', 'get', 'cli.k1'], { env })).code, 1);
  });
});
