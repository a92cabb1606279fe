// Encryption at rest (C14), crypto-shredding: deleting an instance destroys
// its KEK and data keys before its rows go, audited (keys.destroy). After
// it, no value of the instance opens with any key left on the machine: the
// root key and the key rows of the live file (and WAL) open none of the
// sealed values kept in a copy taken before the delete, whichever key is
// tried; the wrapped key bytes themselves are nowhere in the live files
// (secure_delete, WAL truncated). Another instance is untouched. The same
// checker first opens the instance's values in the copy, so it works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { initData, startDaemon, removeTempDir, makeTempDir, api, show, assertHealthy } from './lib/daemon.mjs';
import { plant, dbFiles, backupCopy, rawCopy, rows, hits, sealedValues, reachableKeys, openValue, xopen } from './lib/keys.mjs';

let init;
let d;
let A; // deleted
let B; // kept

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data, args: ['--data-key-max-seals', '2'] });
  A = await plant(d, init.key, 'sa');
  B = await plant(d, init.key, 'sb');
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

test('deleting an instance destroys its keys first: nothing of it opens with what is left on the machine', async () => {
  const dir = makeTempDir('bulwark-shred-');
  const root = fs.readFileSync(dbFiles(init.data).root);
  // A copy taken before the delete, and the checker working on it.
  const before = backupCopy(init.data, path.join(dir, 'before.db'));
  const values = sealedValues(before).filter((v) => v.iid === A.iid);
  assert.ok(values.length >= 8, `sealed values of A: ${values.length}`);
  const old = reachableKeys(root, before);
  for (const v of values) assert.ok(openValue(old.dks, v.iid, v.table, v.row, v.column, v.blob), `${v.table}.${v.column} ${v.row} does not open before the delete`);
  const wrapped = [
    ...rows(before, `SELECT hex(wrapped) AS h FROM instance_keks WHERE instance_id='${A.iid}'`),
    ...rows(before, `SELECT hex(wrapped) AS h FROM data_keys WHERE instance_id='${A.iid}'`),
  ].map((r) => Buffer.from(r.h, 'hex'));
  assert.ok(wrapped.length >= 4, `A's wrapped keys: ${wrapped.length}`);
  assert.equal(hits(before, wrapped).length, wrapped.length, 'the byte search finds the wrapped keys in the copy');
  // The unwrapped keys of A, as whoever held the old copy and the root key had them.
  const aKeys = [...old.keks.entries()].filter(([k]) => k.startsWith(`${A.iid}/`)).map(([, v]) => v)
    .concat(Object.entries(old.dks).filter(([k]) => k.startsWith(`${A.iid}/`)).map(([, v]) => v));

  const del = await api(d.url, 'DELETE', `/v1/instances/${A.iid}`, { key: init.key });
  assert.equal(del.status, 204, show(del));
  assertGone(await api(d.url, 'GET', `/v1/instances/${A.iid}`, { key: init.key }));

  // The live files: no key row of A, a tombstone, and not one wrapped key byte string of A.
  const { db, wal } = dbFiles(init.data);
  assert.deepEqual(rows(db, `SELECT count(*) AS n FROM instance_keks WHERE instance_id='${A.iid}'`), [{ n: 0 }]);
  assert.deepEqual(rows(db, `SELECT count(*) AS n FROM data_keys WHERE instance_id='${A.iid}'`), [{ n: 0 }]);
  assert.deepEqual(rows(db, `SELECT count(*) AS n FROM key_tombstones WHERE instance_id='${A.iid}'`), [{ n: 1 }]);
  const raw = rawCopy(init.data, path.join(dir, 'after'));
  for (const f of [db, wal, raw, `${raw}-wal`]) {
    assert.deepEqual(hits(f, wrapped).length, 0, `${f} still holds a wrapped key of A`);
    assert.deepEqual(hits(f, aKeys).length, 0, `${f} holds a key of A in clear`);
  }

  // Every key left on the machine (root key + live key rows), tried on every value of A.
  const after = backupCopy(init.data, path.join(dir, 'after.db'));
  const left = reachableKeys(root, after);
  const leftKeys = [...left.keks.values(), ...Object.values(left.dks), root];
  assert.ok(Object.keys(left.dks).some((k) => k.startsWith(`${B.iid}/`)), 'B\'s keys are still there');
  for (const v of values) {
    assert.equal(openValue(left.dks, v.iid, v.table, v.row, v.column, v.blob), null);
    const ad = Buffer.concat([v.blob.subarray(0, 5), Buffer.from([v.iid, v.table, v.row, v.column].join('\0'))]);
    for (const k of leftKeys) assert.equal(xopen(k, v.blob.subarray(5), ad), null, `${v.table}.${v.column} ${v.row} opens with a key left`);
  }
  // A's rows are gone from the live file too (the purge of the delete).
  assert.deepEqual(sealedValues(after).filter((v) => v.iid === A.iid), []);

  // B: its values open, through the API and with its keys.
  const bValues = sealedValues(after).filter((v) => v.iid === B.iid);
  assert.ok(bValues.length >= 8);
  for (const v of bValues) assert.ok(openValue(left.dks, v.iid, v.table, v.row, v.column, v.blob), `B's ${v.table}.${v.column} ${v.row}`);
  const tr = await api(d.url, 'GET', `/v1/instances/${B.iid}/contacts/${B.cid}/transcript`, { key: B.ctx.admin });
  assert.ok(tr.json.items.some((m) => m.content === B.c.custMsg), show(tr));

  // Audited on the platform's trail, next to the delete.
  const au = await api(d.url, 'GET', '/v1/audit-events?limit=100', { key: init.key });
  assert.equal(au.status, 200, show(au));
  const ev = au.json.items.find((e) => e.action === 'keys.destroy' && e.instance_id === A.iid);
  assert.ok(ev, `no keys.destroy event: ${show(au)}`);
  assert.equal(ev.result, 'allowed');
  assert.equal(ev.principal.kind, 'platform');
  assert.ok(au.json.items.some((e) => e.action === 'instances.delete' && e.instance_id === A.iid));

  // A restart changes nothing: A's keys are not made again, B reads.
  assert.equal(await d.stop(), 0);
  d = await startDaemon({ data: init.data });
  assert.deepEqual(rows(db, `SELECT count(*) AS n FROM instance_keks WHERE instance_id='${A.iid}'`), [{ n: 0 }]);
  const rec = await api(d.url, 'GET', `/v1/instances/${B.iid}/contacts/${B.cid}`, { key: B.ctx.admin });
  assert.equal(rec.json.customer_endpoint.display_name, B.c.display, show(rec));
  await assertHealthy(assert, d, 'the shredding');
});

function assertGone(r) {
  assert.equal(r.status, 404, show(r));
}

test('an instance that could not be created leaves no key behind', async () => {
  const r = await api(d.url, 'POST', '/v1/instances', {
    key: init.key,
    body: { alias: B.ctx.instance.alias, admin: { username: 'admin', password: 'Tr0ub4dor-and-3-horses', first_name: 'Orphan', email: 'o@example.com' } },
  });
  assert.equal(r.status, 409, show(r));
  const { db } = dbFiles(init.data);
  assert.deepEqual(rows(db, 'SELECT count(*) AS n FROM instance_keks WHERE instance_id NOT IN (SELECT id FROM instances)'), [{ n: 0 }]);
  assert.deepEqual(rows(db, 'SELECT count(*) AS n FROM data_keys WHERE instance_id NOT IN (SELECT id FROM instances)'), [{ n: 0 }]);
});
