// Encryption at rest (C14), plaintext canaries: known strings planted
// through the public API as user names and e-mails (insert and update), a
// TOTP seed, a chat's display name, e-mail and attributes, and messages both
// ways are read back through the API (so they were stored), then searched
// for in bulwark.db, its WAL, a backup copy, a raw copy of the files and the
// daemon's standard error, while it runs and after it stopped: zero hits.
// The sealed columns all carry the format's header, and an independent
// implementation of the format (lib/keys.mjs) opens them with the root key
// and the key rows: the canaries are in there, sealed, not elsewhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { initData, startDaemon, removeTempDir, makeTempDir, api, show, assertHealthy } from './lib/daemon.mjs';
import { login, totpAt, stepWithMargin, PASSWORD } from './lib/identity.mjs';
import { plant, dbFiles, backupCopy, rawCopy, hits, sealedValues, reachableKeys, openValue, keysState } from './lib/keys.mjs';

let init;
let d;
let P;

before(async () => {
  init = await initData();
  // A data key per three values: the planted values spread over several keys.
  d = await startDaemon({ data: init.data, args: ['--data-key-max-seals', '3'] });
  P = await plant(d, init.key, 'c');
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

test('the planted values read back in clear through the API', async () => {
  const { ctx, c } = P;
  const rec = await api(d.url, 'GET', `/v1/instances/${P.iid}/contacts/${P.cid}`, { key: ctx.admin });
  assert.equal(rec.status, 200, show(rec));
  assert.equal(rec.json.customer_endpoint.display_name, c.display);
  assert.equal(rec.json.customer_endpoint.email, c.custMail);
  assert.equal(rec.json.attributes.note, c.attr);
  const tr = await api(d.url, 'GET', `/v1/instances/${P.iid}/contacts/${P.cid}/transcript`, { key: ctx.admin });
  assert.equal(tr.status, 200, show(tr));
  const texts = tr.json.items.map((m) => m.content);
  assert.ok(texts.includes(c.custMsg), JSON.stringify(texts));
  assert.ok(texts.includes(c.agentMsg), JSON.stringify(texts));
  const u = await api(d.url, 'GET', `/v1/instances/${P.iid}/users/${P.user.id}`, { key: ctx.admin });
  assert.equal(u.status, 200, show(u));
  assert.deepEqual([u.json.first_name, u.json.last_name, u.json.email], [c.first, c.last, c.mail]);
  const a = await api(d.url, 'GET', `/v1/instances/${P.iid}/users/${ctx.instance.adminUserId}`, { key: ctx.admin });
  assert.deepEqual([a.json.first_name, a.json.last_name, a.json.email], [c.adminFirst, c.adminLast, c.adminMail], show(a));
  const list = await api(d.url, 'GET', `/v1/instances/${P.iid}/users?limit=1000`, { key: ctx.admin });
  assert.ok(list.json.items.some((x) => x.email === c.mail), show(list));
  // The sealed seed still checks codes (the step spent by verify is past).
  const step = await stepWithMargin(5);
  const r = await login(d, P.iid, P.username, PASSWORD, { totp: totpAt(P.secret, step + 1) });
  assert.equal(r.status, 200, show(r));
  const k = await keysState(d, ctx.admin, P.iid);
  assert.ok(k.data_keys >= 3, `values spread over data keys: ${JSON.stringify(k)}`);
});

function assertNoHits(where, file) {
  const found = hits(file, [...P.canaries, ...P.raw]);
  assert.deepEqual(found.map(String), [], `${where} (${file}) holds planted values in clear`);
}

test('no planted value in bulwark.db, its WAL, a backup, a raw copy or the logs (daemon running)', async () => {
  const { db, wal } = dbFiles(init.data);
  assert.ok(fs.statSync(db).size > 0);
  assertNoHits('the database', db);
  assertNoHits('the WAL', wal);
  const copies = makeTempDir('bulwark-keys-copy-');
  assertNoHits('a backup (.backup)', backupCopy(init.data, path.join(copies, 'backup.db')));
  const raw = rawCopy(init.data, path.join(copies, 'raw'));
  assertNoHits('a raw copy', raw);
  assertNoHits('a raw copy\'s WAL', `${raw}-wal`);
  const log = path.join(copies, 'stderr.log');
  fs.writeFileSync(log, d.stderr);
  assertNoHits('the logs', log);
  await assertHealthy(assert, d, 'the searches');
});

test('every sealed column holds the format (header 0x01, a data key id) and opens to the planted values with the key rows', async () => {
  const copies = makeTempDir('bulwark-keys-open-');
  const copy = backupCopy(init.data, path.join(copies, 'open.db'));
  const root = fs.readFileSync(dbFiles(init.data).root);
  const { dks } = reachableKeys(root, copy);
  const values = sealedValues(copy).filter((v) => v.iid === P.iid);
  assert.ok(values.length >= 8, `sealed values of the instance: ${values.length}`);
  const opened = [];
  for (const v of values) {
    assert.equal(v.blob[0], 1, `${v.table}.${v.column} of ${v.row}: not the sealed format`);
    const pt = openValue(dks, v.iid, v.table, v.row, v.column, v.blob);
    assert.ok(pt, `${v.table}.${v.column} of ${v.row} does not open with the instance's keys`);
    opened.push(pt);
    // Moved to another row, it does not.
    assert.equal(openValue(dks, v.iid, v.table, `${v.row}x`, v.column, v.blob), null);
  }
  const all = Buffer.concat(opened);
  for (const s of Object.values(P.c)) assert.ok(all.includes(Buffer.from(s)), `${s} is not among the sealed values`);
  assert.ok(all.includes(P.seed), 'the TOTP seed is not among the sealed values');
});

test('after a clean stop (WAL checkpointed into the file), still no planted value anywhere', async () => {
  assert.equal(await d.stop(), 0);
  const { db, wal } = dbFiles(init.data);
  assertNoHits('the database after stop', db);
  assertNoHits('the WAL after stop', wal);
  const log = path.join(makeTempDir('bulwark-keys-log-'), 'stderr.log');
  fs.writeFileSync(log, d.stderr);
  assertNoHits('the logs after stop', log);
  d = await startDaemon({ data: init.data });
  const tr = await api(d.url, 'GET', `/v1/instances/${P.iid}/contacts/${P.cid}/transcript`, { key: P.ctx.admin });
  assert.equal(tr.status, 200, show(tr));
  assert.ok(tr.json.items.some((m) => m.content === P.c.custMsg), 'a restart reads the sealed transcript');
});
