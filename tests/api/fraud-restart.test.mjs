// Fraud state across a restart of the daemon on the same data folder
// (docs/api.md: deny-list entries are stored; "Counts are stored with each
// accepted contact, so a restart forgets no window"): with SIGTERM and with
// SIGKILL, manual and automatic deny-list entries still refuse and are
// listed as they were; the contact-filter settings are kept; an address and
// a number that used 3 of their 5 contacts get only 2 more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initData, removeTempDir, show } from './lib/daemon.mjs';
import {
  startFraudDaemon, nextV4, nextNumber, chatFrom, callbackFrom, assertBlocked,
  setupCallbackCenter, setRule, getFilter, denyEntries, createDeny,
} from './lib/fraud.mjs';

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

async function scenario(signal) {
  const init = await initData();
  let d = await startFraudDaemon(init.data);
  try {
    const ctx = await setupCallbackCenter(d, init.key);
    // ADDRESS 5 per hour (listed for an hour); NUMBER keeps its default 5 per hour.
    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 5, window_s: 3600, deny_s: 3600 });
    const filterBefore = await getFilter(d, ctx.admin, ctx.iid);

    // An automatic entry: one address past its limit.
    const flooded = nextV4();
    for (let i = 1; i <= 5; i++) assert.equal((await chatFrom(d, ctx, flooded)).status, 201, `flood ${i}`);
    assertBlocked(await chatFrom(d, ctx, flooded), 'the 6th from one address');
    // Manual entries.
    const email = `banned-${process.pid}@example.com`;
    await createDeny(d, ctx.admin, ctx.iid, { type: 'EMAIL', value: email, reason: 'chargebacks' });
    await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: '192.0.2.0/24' });
    const listedNumber = nextNumber();
    await createDeny(d, ctx.admin, ctx.iid, { type: 'NUMBER', value: listedNumber.e164 });
    const entriesBefore = (await denyEntries(d, ctx.admin, ctx.iid)).sort(byId);
    assert.equal(entriesBefore.length, 4, JSON.stringify(entriesBefore));
    assert.ok(entriesBefore.some((e) => e.source === 'AUTOMATIC' && e.value === flooded), JSON.stringify(entriesBefore));

    // Windows part used: 3 of 5 for one address (chats), 3 of 5 for one number (callbacks from other addresses).
    const ip = nextV4();
    for (let i = 1; i <= 3; i++) assert.equal((await chatFrom(d, ctx, ip)).status, 201, `address contact ${i} before the restart`);
    const n = nextNumber();
    for (let i = 1; i <= 3; i++) {
      const r = await callbackFrom(d, ctx, nextV4(), n.national);
      assert.equal(r.status, 201, `number contact ${i} before the restart: ${show(r)}`);
    }

    if (signal === 'SIGKILL') {
      d.proc.kill('SIGKILL');
      const info = await d.exited;
      assert.equal(info.signal, 'SIGKILL');
    } else {
      const code = await d.stop('SIGTERM');
      assert.equal(code, 0, `SIGTERM: exit ${code}\n${d.stderr.slice(-3000)}`);
    }
    d = await startFraudDaemon(init.data);

    // The settings and the list as they were.
    assert.deepEqual(await getFilter(d, ctx.admin, ctx.iid), filterBefore, `the contact filter changed across ${signal}`);
    const entriesAfter = (await denyEntries(d, ctx.admin, ctx.iid)).sort(byId);
    assert.deepEqual(entriesAfter, entriesBefore, `the deny list changed across ${signal}`);
    // And they still refuse.
    assertBlocked(await chatFrom(d, ctx, flooded), `the automatically listed address after ${signal}`);
    assertBlocked(await chatFrom(d, ctx, nextV4(), { body: { email } }), `the listed e-mail after ${signal}`);
    assertBlocked(await chatFrom(d, ctx, '192.0.2.200'), `the listed range after ${signal}`);
    assertBlocked(await callbackFrom(d, ctx, nextV4(), listedNumber.national), `the listed number after ${signal}`);

    // The windows remember 3 of 5: two more pass, the third is refused.
    for (let i = 4; i <= 5; i++) {
      const r = await chatFrom(d, ctx, ip);
      assert.equal(r.status, 201, `address contact ${i} of 5 after ${signal}: ${show(r)}`);
    }
    assertBlocked(await chatFrom(d, ctx, ip), `address contact 6 after ${signal} (3 before + 2 after = 5)`);
    for (let i = 4; i <= 5; i++) {
      const r = await callbackFrom(d, ctx, nextV4(), n.national);
      assert.equal(r.status, 201, `number contact ${i} of 5 after ${signal}: ${show(r)}`);
    }
    assertBlocked(await callbackFrom(d, ctx, nextV4(), n.national), `number contact 6 after ${signal} (3 before + 2 after = 5)`);
    const auto = await denyEntries(d, ctx.admin, ctx.iid, 'source=AUTOMATIC');
    assert.deepEqual(auto.map((e) => `${e.type} ${e.value}`).sort(), [`IP ${flooded}`, `IP ${ip}`, `NUMBER ${n.e164}`].sort(), JSON.stringify(auto));
  } finally {
    const wasAlive = d.alive();
    const code = await d.stop();
    removeTempDir(init.dir);
    if (wasAlive) assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d.stderr.slice(-4000)}`);
  }
}

test('SIGTERM: deny-list entries, the filter and window counts survive a restart', () => scenario('SIGTERM'));

test('SIGKILL: deny-list entries, the filter and window counts survive kill -9', () => scenario('SIGKILL'));
