// Encryption at rest (C14), tampering: bytes flipped in stored ciphertexts,
// a ciphertext moved to another row or another instance, a data key or a
// KEK row altered. Each read fails cleanly: the reply is not a 500, carries
// no plaintext and says which value did not open; the read is audited
// (keys.unreadable); the daemon lives and the other values still read.
// Rows are changed with the sqlite3 shell while the daemon runs (WAL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show, assertHealthy } from './lib/daemon.mjs';
import { sqlite, login, PASSWORD, stepWithMargin, totpAt } from './lib/identity.mjs';
import { plant, dbFiles, rows } from './lib/keys.mjs';

let init;
let d;
let A; // planted instance
let B; // another planted instance
let db;

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  A = await plant(d, init.key, 'ta');
  B = await plant(d, init.key, 'tb');
  db = dbFiles(init.data).db;
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

const transcript = (P) => api(d.url, 'GET', `/v1/instances/${P.iid}/contacts/${P.cid}/transcript`, { key: P.ctx.admin });
const record = (P) => api(d.url, 'GET', `/v1/instances/${P.iid}/contacts/${P.cid}`, { key: P.ctx.admin });
const user = (P, uid = P.user.id) => api(d.url, 'GET', `/v1/instances/${P.iid}/users/${uid}`, { key: P.ctx.admin });

/** The reply carries none of the given strings (the values that must not open). */
function noPlaintext(res, ...strings) {
  for (const s of strings) assert.ok(!res.text.includes(s), `the reply carries ${s}: ${res.text.slice(0, 400)}`);
}

async function unreadableAudited(P, pathPart) {
  const r = await api(d.url, 'GET', `/v1/instances/${P.iid}/audit-events?action=keys.unreadable&limit=50`, { key: P.ctx.admin });
  assert.equal(r.status, 200, show(r));
  const ev = r.json.items.find((e) => e.resource.includes(pathPart));
  assert.ok(ev, `no keys.unreadable event for ${pathPart}: ${show(r)}`);
  assert.equal(ev.result, 'failed');
}

/** The message row of P's transcript whose text is `content` (by its id in the reply). */
async function messageId(P, content) {
  const tr = await transcript(P);
  const m = tr.json.items.find((x) => x.content === content);
  assert.ok(m, `no message ${content}: ${show(tr)}`);
  return m.id;
}

test('a flipped byte in a stored message: that message reads as null with content_error; the others read; audited', async () => {
  const id = await messageId(A, A.c.custMsg);
  for (const at of [0, 3, 10, 40]) {
    // Flip byte `at` (header, key id, nonce, body), read, put it back.
    const before = rows(db, `SELECT hex(content) AS h FROM contact_messages WHERE id='${id}'`)[0].h;
    sqlite(db, `UPDATE contact_messages SET content = x'${flipHex(before, at)}' WHERE id = '${id}';`);
    const tr = await transcript(A);
    assert.equal(tr.status, 200, show(tr));
    noPlaintext(tr, A.c.custMsg);
    const bad = tr.json.items.find((m) => m.id === id);
    assert.equal(bad.content, null, JSON.stringify(bad));
    assert.equal(bad.content_error, 'Undecryptable', JSON.stringify(bad));
    assert.ok(tr.json.items.some((m) => m.content === A.c.agentMsg), 'the other messages still read');
    sqlite(db, `UPDATE contact_messages SET content = x'${before}' WHERE id = '${id}';`);
  }
  const tr = await transcript(A);
  assert.ok(tr.json.items.some((m) => m.content === A.c.custMsg), 'restored, it reads again');
  await unreadableAudited(A, `/contacts/${A.cid}/transcript`);
  await assertHealthy(assert, d, 'flipped messages');
});

function flipHex(hex, at) {
  const b = Buffer.from(hex, 'hex');
  b[at] ^= 0x01;
  return b.toString('hex');
}

test('a ciphertext moved to another message of the same contact does not open there', async () => {
  const from = await messageId(A, A.c.custMsg);
  const to = await messageId(A, A.c.agentMsg);
  const saved = rows(db, `SELECT hex(content) AS h FROM contact_messages WHERE id='${to}'`)[0].h;
  sqlite(db, `UPDATE contact_messages SET content = (SELECT content FROM contact_messages WHERE id='${from}') WHERE id='${to}';`);
  const tr = await transcript(A);
  assert.equal(tr.status, 200, show(tr));
  const moved = tr.json.items.find((m) => m.id === to);
  assert.equal(moved.content, null, JSON.stringify(moved));
  assert.equal(moved.content_error, 'Undecryptable');
  assert.equal(tr.json.items.filter((m) => m.content === A.c.custMsg).length, 1, 'the moved text appears twice');
  sqlite(db, `UPDATE contact_messages SET content = x'${saved}' WHERE id='${to}';`);
});

test('customer data moved to a contact of another instance does not open there; nor a user\'s names', async () => {
  const saved = rows(db, `SELECT hex(customer) AS h FROM contacts WHERE id='${B.cid}'`)[0].h;
  sqlite(db, `UPDATE contacts SET customer = (SELECT customer FROM contacts WHERE id='${A.cid}') WHERE id='${B.cid}';`);
  const r = await record(B);
  assert.equal(r.status, 200, show(r));
  noPlaintext(r, A.c.display, A.c.custMail, A.c.attr);
  assert.equal(r.json.customer_endpoint.display_name, null, show(r));
  assert.equal(r.json.customer_data_error, 'Undecryptable', show(r));
  await unreadableAudited(B, `/contacts/${B.cid}`);
  sqlite(db, `UPDATE contacts SET customer = x'${saved}' WHERE id='${B.cid}';`);
  assert.equal((await record(B)).json.customer_endpoint.display_name, B.c.display);

  // A's user's sealed names given to B's user.
  const pii = rows(db, `SELECT hex(pii) AS h FROM users WHERE id='${B.user.id}'`)[0].h;
  sqlite(db, `UPDATE users SET pii = (SELECT pii FROM users WHERE id='${A.user.id}') WHERE id='${B.user.id}';`);
  const u = await user(B);
  assert.equal(u.status, 200, show(u));
  noPlaintext(u, A.c.first, A.c.last, A.c.mail);
  assert.equal(u.json.first_name, '', show(u));
  assert.equal(u.json.pii_error, 'Undecryptable', show(u));
  sqlite(db, `UPDATE users SET pii = x'${pii}' WHERE id='${B.user.id}';`);
  assert.equal((await user(B)).json.first_name, B.c.first);
});

test('a TOTP seed tampered with: the code is refused (401 MfaRequired), a recovery-less login fails cleanly, the daemon lives', async () => {
  const seed = rows(db, `SELECT hex(mfa_secret) AS h FROM users WHERE id='${A.user.id}'`)[0].h;
  sqlite(db, `UPDATE users SET mfa_secret = x'${flipHex(seed, 30)}' WHERE id='${A.user.id}';`);
  const step = await stepWithMargin(5);
  const r = await login(d, A.iid, A.username, PASSWORD, { totp: totpAt(A.secret, step) });
  assert.equal(r.status, 401, show(r));
  assert.equal(r.json.error.code, 'MfaRequired', show(r));
  sqlite(db, `UPDATE users SET mfa_secret = x'${seed}' WHERE id='${A.user.id}';`);
  await assertHealthy(assert, d, 'a tampered seed');
});

test('a data key or a KEK row altered: the instance\'s values fail cleanly after a restart; the other instance reads', async () => {
  // A data key row of A flipped; a restart empties the cache.
  const dks = rows(db, `SELECT id, hex(wrapped) AS h FROM data_keys WHERE instance_id='${A.iid}'`);
  assert.ok(dks.length >= 1);
  sqlite(db, `UPDATE data_keys SET wrapped = x'${flipHex(dks[0].h, 40)}' WHERE instance_id='${A.iid}' AND id=${dks[0].id};`);
  const kek = rows(db, `SELECT id, hex(wrapped) AS h FROM instance_keks WHERE instance_id='${B.iid}'`)[0];
  sqlite(db, `UPDATE instance_keks SET wrapped = x'${flipHex(kek.h, 50)}' WHERE instance_id='${B.iid}';`);
  assert.equal(await d.stop(), 0);
  d = await startDaemon({ data: init.data });
  // B: its KEK does not open: every sealed value of it fails, cleanly.
  const rb = await record(B);
  assert.equal(rb.status, 200, show(rb));
  assert.equal(rb.json.customer_data_error, 'Undecryptable', show(rb));
  const tb = await transcript(B);
  assert.equal(tb.status, 200, show(tb));
  assert.ok(tb.json.items.length > 0 && tb.json.items.every((m) => m.content === null && m.content_error === 'Undecryptable'), show(tb));
  noPlaintext(tb, B.c.custMsg, B.c.agentMsg, B.c.display);
  const kb = await api(d.url, 'GET', `/v1/instances/${B.iid}/keys`, { key: B.ctx.admin });
  assert.equal(kb.status, 409, show(kb));
  assert.equal(kb.json.error.code, 'Conflict', show(kb));
  // A: only the values under the altered data key fail.
  const ta = await transcript(A);
  assert.equal(ta.status, 200, show(ta));
  assert.ok(ta.json.items.some((m) => m.content_error === 'Undecryptable'), 'the first data key\'s values open');
  // Restored, everything reads again.
  sqlite(db, `UPDATE data_keys SET wrapped = x'${dks[0].h}' WHERE instance_id='${A.iid}' AND id=${dks[0].id};`);
  sqlite(db, `UPDATE instance_keks SET wrapped = x'${kek.h}' WHERE instance_id='${B.iid}';`);
  assert.equal(await d.stop(), 0);
  d = await startDaemon({ data: init.data });
  assert.equal((await record(B)).json.customer_endpoint.display_name, B.c.display);
  const again = await transcript(A);
  assert.ok(again.json.items.every((m) => m.content !== null), show(again));
  await assertHealthy(assert, d, 'altered key rows');
});
