// The warehouse sink (C19, docs/api.md "Event subscriptions (C18) and sinks
// (C19)"): the PostgreSQL table bulwark_contact_records of
// scripts/test-servers.sh (BULWARK_TEST_PG_URL; skipped without it, except
// in CI), black-box:
//
// - one row per contact, its columns from the record (agent, queue,
//   times, reason, the event's id), even with two warehouse subscriptions
//   loading the same contact;
// - projected fields: the row's record holds only those and the keys;
// - a warehouse that refuses connections: the subscription's error is
//   "warehouse: connection refused" (never the connection string), the
//   events go dead after event_max_attempts; restarted with a reachable
//   warehouse, a retry loads them, and a row that is newer than the event
//   (as if a later version had been loaded) is not overwritten.
//
// Every address is on this machine; waits poll with deadlines.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show, waitFor } from './lib/daemon.mjs';
import { setupCenter, readyAgent } from './lib/chat.mjs';
import { loginToken } from './lib/identity.mjs';
import { pgQuery } from './lib/servers.mjs';
import {
  PG_URL, createSub, getSub, waitStats, waitDelivered, deadLetters, subsPath, endedQueuedChat,
  endedFlowChat, endedHandledChat, warehouseRows, freePort,
} from './lib/events.mjs';

const FAST = { BULWARK_EVENT_RETRY_BASE_MS: '50', BULWARK_EVENT_RETRY_MAX_MS: '250' };
const NO_PG = !PG_URL && !process.env.CI && 'no test PostgreSQL: run under scripts/test-servers.sh run -- (BULWARK_TEST_PG_URL)';

describe('the warehouse', { skip: NO_PG }, () => {
  let init;
  let d;
  before(async () => {
    init = await initData();
    d = await startDaemon({ data: init.data, env: { ...FAST, BULWARK_WAREHOUSE_URL: PG_URL } });
  });
  after(async () => {
    const code = await d?.stop();
    if (init) removeTempDir(init.dir);
    assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
    assert.ok(!/"status":5\d\d/.test(d.stderr), 'a request answered 5xx');
    assert.ok(!d.stderr.includes(PG_URL), 'the connection string in the log');
  });

  test('one row per contact with its columns, even loaded by two subscriptions', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [agent] = ctx.agents;
    await readyAgent(d, ctx.iid, agent);
    const w1 = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'warehouse' } });
    const w2 = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'warehouse' } });
    const handled = await endedHandledChat(d, ctx, agent);
    const unhandled = await endedFlowChat(d, ctx);
    await waitDelivered(d, ctx.admin, ctx.iid, w1.id, 2);
    await waitDelivered(d, ctx.admin, ctx.iid, w2.id, 2);
    const rows = await warehouseRows(ctx.iid);
    assert.deepEqual(rows.map((r) => r.contact_id).sort(), [handled, unhandled].sort(), 'one row per contact');
    const h = rows.find((r) => r.contact_id === handled);
    const rec = (await api(d.url, 'GET', `/v1/instances/${ctx.iid}/contacts/${handled}`, { key: ctx.admin })).json;
    assert.equal(h.instance_id, ctx.iid);
    assert.equal(h.channel, 'CHAT');
    assert.equal(h.queue_id, ctx.queue.id);
    assert.equal(h.agent_id, agent.id);
    assert.equal(h.disconnect_reason, 'CUSTOMER_DISCONNECT');
    assert.equal(new Date(h.initiation_time).getTime(), Date.parse(rec.initiation_timestamp));
    assert.equal(new Date(h.disconnect_time).getTime(), Date.parse(rec.disconnect_timestamp));
    assert.equal(new Date(h.last_update_time).getTime(), Date.parse(h.record.last_update_timestamp));
    assert.equal(h.record.agent.id, agent.id);
    assert.equal(h.record.state, 'ENDED');
    assert.ok(h.record.after_contact_work_end_timestamp);
    assert.match(h.event_id, /^et_/);
    const u = rows.find((r) => r.contact_id === unhandled);
    assert.equal(u.agent_id, null);
    assert.equal(u.queue_id, null);
    // The columns are typed for reporting.
    const types = await pgQuery(`SELECT column_name, data_type FROM information_schema.columns
      WHERE table_name = 'bulwark_contact_records' ORDER BY column_name`);
    const t = Object.fromEntries(types.map((r) => [r.column_name, r.data_type]));
    for (const c of ['instance_id', 'contact_id', 'last_update_time', 'channel', 'queue_id', 'agent_id', 'initiation_time',
      'disconnect_time', 'disconnect_reason', 'event_id', 'record', 'loaded_at']) assert.ok(t[c], `column ${c}: ${JSON.stringify(t)}`);
    assert.equal(t.record, 'jsonb');
    assert.match(t.last_update_time, /^timestamp/);
  });

  test('projected fields: the row\'s record holds only them and the keys', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const w = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'warehouse' }, fields: ['channel', 'queue.id', 'disconnect_reason'] });
    const cid = await endedQueuedChat(d, ctx);
    await waitDelivered(d, ctx.admin, ctx.iid, w.id, 1);
    const [row] = await warehouseRows(ctx.iid);
    assert.equal(row.contact_id, cid);
    assert.deepEqual(Object.keys(row.record).sort(), ['channel', 'disconnect_reason', 'id', 'last_update_timestamp', 'queue']);
    assert.deepEqual(row.record.queue, { id: ctx.queue.id });
    assert.equal(row.channel, 'CHAT');
    assert.equal(row.queue_id, ctx.queue.id);
    assert.equal(row.disconnect_reason, 'CUSTOMER_DISCONNECT');
    assert.equal(!row.record.customer_endpoint, true, 'no customer data beyond the fields');
  });
});

describe('a warehouse that refuses connections', { skip: NO_PG }, () => {
  test('dead letters with "warehouse: connection refused"; reachable again, a retry loads them; a newer row is kept', async () => {
    const own = await initData();
    const deadUrl = `postgresql://postgres:pw-${Date.now()}@127.0.0.1:${await freePort()}/nowhere`;
    let dd;
    try {
      // First with the warehouse reachable: the table exists.
      dd = await startDaemon({ data: own.data, env: { ...FAST, BULWARK_WAREHOUSE_URL: PG_URL } });
      const ctx = await setupCenter(dd, own.key, { agents: 0 });
      const w = await createSub(dd, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'warehouse' } });
      const first = await endedFlowChat(dd, ctx);
      await waitDelivered(dd, ctx.admin, ctx.iid, w.id, 1);
      assert.equal(await dd.stop(), 0);

      // Then pointed at a port where nothing listens.
      dd = await startDaemon({ data: own.data, env: { ...FAST, BULWARK_EVENT_MAX_ATTEMPTS: '2', BULWARK_WAREHOUSE_URL: deadUrl } });
      const admin = await loginToken(dd, ctx.iid, ctx.instance.adminUsername);
      const a = await endedFlowChat(dd, { ...ctx, admin });
      const b = await endedQueuedChat(dd, { ...ctx, admin });
      const s = await waitStats(dd, admin, ctx.iid, w.id, (x) => x.dead === 2 && x.pending === 0, { what: 'dead 2' });
      assert.equal(s.stats.last_error, 'warehouse: connection refused');
      assert.equal(s.stats.delivered, 1);
      const dead = await deadLetters(dd, admin, ctx.iid, w.id);
      assert.deepEqual(dead.map((x) => x.dedup_key.split('/')[0]).sort(), [a, b].sort());
      for (const x of dead) {
        assert.equal(x.attempts, 2);
        assert.equal(x.last_error, 'warehouse: connection refused');
      }
      assert.ok(!dd.stderr.includes(deadUrl) && !dd.stderr.includes('pw-'), 'the connection string (its password) in the log');
      assert.equal(await dd.stop(), 0);

      // Meanwhile a newer version of a's row was loaded (by hand here).
      await pgQuery(`INSERT INTO bulwark_contact_records (instance_id, contact_id, last_update_time, channel, event_id, record, loaded_at)
        VALUES ($1, $2, now() + interval '1 day', 'CHAT', 'et_newer', '{"marker":"newer"}'::jsonb, now())`, [ctx.iid, a]);

      // Reachable again: the retry loads b, and a keeps its newer row.
      dd = await startDaemon({ data: own.data, env: { ...FAST, BULWARK_WAREHOUSE_URL: PG_URL } });
      const admin2 = await loginToken(dd, ctx.iid, ctx.instance.adminUsername);
      const r = await api(dd.url, 'POST', subsPath(ctx.iid, `/${w.id}/dead-letters/retry`), { key: admin2 });
      assert.equal(r.status, 200, show(r));
      assert.deepEqual(r.json, { requeued: 2 });
      const done = await waitDelivered(dd, admin2, ctx.iid, w.id, 3);
      assert.equal(done.stats.dead, 0);
      await waitFor(async () => (await warehouseRows(ctx.iid)).length === 3, { what: 'three rows' });
      const rows = await warehouseRows(ctx.iid);
      assert.deepEqual(rows.map((x) => x.contact_id).sort(), [first, a, b].sort());
      const ra = rows.find((x) => x.contact_id === a);
      assert.deepEqual(ra.record, { marker: 'newer' }, 'a newer row was overwritten by an older event');
      assert.equal(ra.event_id, 'et_newer');
      const rb = rows.find((x) => x.contact_id === b);
      assert.equal(rb.record.id, b);
      assert.equal(rb.queue_id, ctx.queue.id);
      assert.equal((await getSub(dd, admin2, ctx.iid, w.id)).stats.pending, 0);
    } finally {
      const code = await dd?.stop();
      removeTempDir(own.dir);
      if (dd) assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${dd.stderr.slice(-3000)}`);
    }
  });
});
