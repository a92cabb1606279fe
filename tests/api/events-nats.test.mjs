// Event sinks (C19, docs/api.md "Event subscriptions (C18) and sinks
// (C19)"), NATS JetStream and all three sinks together, black-box, against
// the servers of scripts/test-servers.sh through lib/servers.mjs
// (BULWARK_TEST_NATS_URL, BULWARK_TEST_PG_URL, BULWARK_TEST_NATS_SERVER;
// skipped without them, except in CI):
//
// - a chat ends: its record arrives once in the stream BULWARK_<iid>
//   (subject bulwark.<iid>.contact.ended, Nats-Msg-Id <sub>/<event>), once
//   in bulwark_contact_records and once at a webhook receiver that verifies
//   it from the JWKS; "once" is judged after the subscriptions show nothing
//   pending and the count delivered;
// - a record filtered out by queue goes nowhere (no message, no row, no
//   request; the filtered subscriptions' stats stay at zero) while the
//   unfiltered subscriptions get it, and the record of the queue they name
//   reaches them all;
// - the stream deleted under the daemon is made again at the next event;
// - a nats-server of the test's own (its port and store) SIGKILLed while
//   contacts end: the subscription shows the error, and once the server is
//   back on the same port and store every record is in the stream, each
//   once.
//
// Every address is on this machine; waits poll with deadlines.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'nats';
import {
  initData, startDaemon, removeTempDir, makeTempDir, waitFor, getMetrics, metricValue,
} from './lib/daemon.mjs';
import { setupCenter, addQueue } from './lib/chat.mjs';
import {
  NATS_URL, PG_URL, NO_SERVERS, createSub, getSub, waitStats, waitDelivered, Receiver,
  receiverIntegration, webhookSub, fetchJwks, verifyDelivery, endedQueuedChat, endedFlowChat,
  streamMessages, warehouseRows,
} from './lib/events.mjs';
import { startNats, natsStreamInfo } from './lib/servers.mjs';

const FAST = { BULWARK_EVENT_RETRY_BASE_MS: '50', BULWARK_EVENT_RETRY_MAX_MS: '250', BULWARK_EVENT_MAX_ATTEMPTS: '1000' };

let init;
let d;
const receivers = [];

const streamOf = (iid) => `BULWARK_${iid}`;
const bySub = (msgs, sid) => msgs.filter((m) => m.json.subscription_id === sid);

describe('NATS JetStream and the warehouse', { skip: NO_SERVERS }, () => {
  before(async () => {
    init = await initData();
    d = await startDaemon({ data: init.data, env: { ...FAST, BULWARK_NATS_URL: NATS_URL, BULWARK_WAREHOUSE_URL: PG_URL } });
  });

  after(async () => {
    for (const r of receivers) await r.close();
    const code = await d?.stop();
    if (init) removeTempDir(init.dir);
    assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
    assert.ok(!/"status":5\d\d/.test(d.stderr), 'a request answered 5xx');
    assert.ok(!d.stderr.includes(PG_URL) && !d.stderr.includes(NATS_URL), 'a sink URL in the log');
  });

  test('a chat ends: once in the stream, once in the warehouse, once at the webhook (verified)', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const rcv = await new Receiver().listen();
    receivers.push(rcv);
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const hook = await webhookSub(d, ctx.admin, ctx.iid, ig);
    const ns = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'nats' } });
    const wh = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'warehouse' } });
    const m0 = metricValue((await getMetrics(d)).samples, 'bulwark_events_delivered_total', { sink: 'nats' }) ?? 0;

    const cids = [await endedQueuedChat(d, ctx), await endedFlowChat(d, ctx)];
    // Arrival, then quiet: nothing pending, the count delivered.
    await waitFor(async () => (await streamMessages(streamOf(ctx.iid))).length >= 2, { timeoutMs: 15000, what: 'two messages in the stream' });
    await waitFor(async () => (await warehouseRows(ctx.iid)).length >= 2, { timeoutMs: 15000, what: 'two warehouse rows' });
    await waitFor(() => rcv.requests.length >= 2, { timeoutMs: 15000, what: 'two webhook requests' });
    for (const s of [hook, ns, wh]) await waitDelivered(d, ctx.admin, ctx.iid, s.id, 2);

    // JetStream: the stream of the instance, each contact once.
    const msgs = await streamMessages(streamOf(ctx.iid));
    assert.deepEqual(msgs.map((m) => m.json.data.id).sort(), [...cids].sort(), 'each contact once in the stream');
    for (const m of msgs) {
      assert.equal(m.subject, `bulwark.${ctx.iid}.contact.ended`);
      assert.equal(m.msgId, `${ns.id}/${m.json.id}`);
      assert.equal(m.json.type, 'contact.ended');
      assert.equal(m.json.subscription_id, ns.id);
      assert.equal(m.json.instance_id, ctx.iid);
      assert.equal(m.json.dedup_key, `${m.json.data.id}/${Date.parse(m.json.data.last_update_timestamp)}`);
    }
    const info = await natsStreamInfo(NATS_URL, streamOf(ctx.iid));
    assert.deepEqual(info.config.subjects, [`bulwark.${ctx.iid}.>`]);
    assert.equal(info.config.storage, 'file');

    // The warehouse: one row per contact, its columns from the record.
    const rows = await warehouseRows(ctx.iid);
    assert.deepEqual(rows.map((r) => r.contact_id).sort(), [...cids].sort(), 'each contact once in the warehouse');
    const queued = rows.find((r) => r.contact_id === cids[0]);
    assert.equal(queued.channel, 'CHAT');
    assert.equal(queued.queue_id, ctx.queue.id);
    assert.equal(queued.agent_id, null);
    assert.equal(queued.disconnect_reason, 'CUSTOMER_DISCONNECT');
    assert.equal(queued.record.id, cids[0]);
    assert.equal(queued.record.state, 'ENDED');
    assert.equal(new Date(queued.last_update_time).getTime(), Date.parse(queued.record.last_update_timestamp));
    assert.equal(new Date(queued.disconnect_time).getTime(), Date.parse(queued.record.disconnect_timestamp));
    assert.equal(new Date(queued.initiation_time).getTime(), Date.parse(queued.record.initiation_timestamp));
    assert.match(queued.event_id, /^et_/);
    assert.ok(queued.loaded_at instanceof Date);
    assert.equal(rows.find((r) => r.contact_id === cids[1]).queue_id, null, 'never queued');

    // The webhook: each contact once, verified from the JWKS.
    const set = await fetchJwks(d, ctx.iid);
    assert.deepEqual(rcv.requests.map((r) => verifyDelivery(r, set, { iid: ctx.iid, integration: ig, sid: hook.id }).data.id).sort(), [...cids].sort());

    // The three sinks saw the same record (one event per subscription).
    const fromNats = msgs.find((m) => m.json.data.id === cids[0]).json.data;
    const fromHook = rcv.about(cids[0])[0].json.data;
    assert.deepEqual(fromNats, fromHook);
    assert.deepEqual(queued.record, fromHook);
    const m1 = metricValue((await getMetrics(d)).samples, 'bulwark_events_delivered_total', { sink: 'nats' });
    assert.ok(m1 >= m0 + 2, `bulwark_events_delivered_total{sink="nats"} ${m0} -> ${m1}`);
  });

  test('filtered out by queue: no message, no row, no request; the unfiltered subscriptions get it', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const other = await addQueue(d, ctx);
    const rcv = await new Receiver().listen();
    receivers.push(rcv);
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const only = { filters: { queues: [other.queue.id] } };
    const hookAll = await webhookSub(d, ctx.admin, ctx.iid, ig);
    const natsAll = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'nats' } });
    const hookOther = await webhookSub(d, ctx.admin, ctx.iid, ig, only);
    const natsOther = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'nats' }, ...only });
    const whOther = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'warehouse' }, ...only });
    const natsChan = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'nats' }, filters: { channels: ['CALLBACK'] } });

    const mine = await endedQueuedChat(d, ctx); // in ctx.queue: filtered out of the *Other ones
    await waitDelivered(d, ctx.admin, ctx.iid, hookAll.id, 1);
    await waitDelivered(d, ctx.admin, ctx.iid, natsAll.id, 1);
    for (const s of [hookOther, natsOther, whOther, natsChan]) {
      const g = await getSub(d, ctx.admin, ctx.iid, s.id);
      assert.deepEqual([g.stats.pending, g.stats.delivered, g.stats.dead, g.stats.last_error], [0, 0, 0, null], `${s.sink.type} ${JSON.stringify(s.filters)}: ${JSON.stringify(g.stats)}`);
    }
    let msgs = await streamMessages(streamOf(ctx.iid));
    assert.deepEqual(msgs.map((m) => [m.json.subscription_id, m.json.data.id]), [[natsAll.id, mine]]);
    assert.deepEqual(await warehouseRows(ctx.iid), [], 'no warehouse row for a filtered-out record');
    assert.deepEqual(rcv.requests.map((r) => [r.json.subscription_id, r.json.data.id]), [[hookAll.id, mine]]);

    // A record of the other queue reaches every subscription but the channel-filtered one.
    const theirs = await endedQueuedChat(d, other);
    for (const s of [hookOther, natsOther, whOther]) await waitDelivered(d, ctx.admin, ctx.iid, s.id, 1);
    await waitDelivered(d, ctx.admin, ctx.iid, hookAll.id, 2);
    await waitDelivered(d, ctx.admin, ctx.iid, natsAll.id, 2);
    msgs = await streamMessages(streamOf(ctx.iid));
    assert.deepEqual(bySub(msgs, natsOther.id).map((m) => m.json.data.id), [theirs]);
    assert.deepEqual(bySub(msgs, natsAll.id).map((m) => m.json.data.id).sort(), [mine, theirs].sort());
    assert.equal(bySub(msgs, natsChan.id).length, 0);
    assert.equal(msgs.length, 3);
    assert.deepEqual((await warehouseRows(ctx.iid)).map((r) => [r.contact_id, r.queue_id]), [[theirs, other.queue.id]]);
    assert.equal(rcv.requests.length, 3);
    assert.equal((await getSub(d, ctx.admin, ctx.iid, natsChan.id)).stats.delivered, 0);
  });

  test('projected fields and audit events reach the stream on their own subjects', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const proj = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended', 'contact.queued'], sink: { type: 'nats' }, fields: ['channel', 'queue.id'] });
    const audit = await createSub(d, ctx.admin, ctx.iid, { event_types: ['audit'], sink: { type: 'nats' }, fields: ['action'] });
    const cid = await endedQueuedChat(d, ctx);
    await waitDelivered(d, ctx.admin, ctx.iid, proj.id, 2);
    await waitStats(d, ctx.admin, ctx.iid, audit.id, (s) => s.pending === 0 && s.delivered >= 1);
    const msgs = await streamMessages(streamOf(ctx.iid));
    const mine = bySub(msgs, proj.id);
    assert.deepEqual(mine.map((m) => m.subject).sort(), [`bulwark.${ctx.iid}.contact.ended`, `bulwark.${ctx.iid}.contact.queued`]);
    for (const m of mine) {
      assert.deepEqual(Object.keys(m.json.data).sort(), ['channel', 'id', 'last_update_timestamp', 'queue']);
      assert.deepEqual(m.json.data.queue, { id: ctx.queue.id });
      assert.equal(m.json.data.id, cid);
    }
    const a = bySub(msgs, audit.id);
    assert.ok(a.length >= 1);
    for (const m of a) {
      assert.equal(m.subject, `bulwark.${ctx.iid}.audit`);
      assert.deepEqual(Object.keys(m.json.data).sort(), ['action', 'id']);
      assert.equal(m.json.dedup_key, m.json.data.id);
    }
  });

  test('the stream deleted under the daemon is made again at the next event', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const ns = await createSub(d, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'nats' } });
    await endedFlowChat(d, ctx);
    await waitDelivered(d, ctx.admin, ctx.iid, ns.id, 1);
    const nc = await connect({ servers: NATS_URL, reconnect: false, timeout: 5000 });
    try {
      assert.equal(await (await nc.jetstreamManager()).streams.delete(streamOf(ctx.iid)), true);
    } finally {
      await nc.close();
    }
    assert.equal(await natsStreamInfo(NATS_URL, streamOf(ctx.iid)), null);
    const cid = await endedFlowChat(d, ctx);
    await waitDelivered(d, ctx.admin, ctx.iid, ns.id, 2);
    const msgs = await streamMessages(streamOf(ctx.iid));
    assert.deepEqual(msgs.map((m) => m.json.data.id), [cid]);
  });
});

describe('a NATS server that dies and comes back', { skip: NO_SERVERS }, () => {
  test('SIGKILLed while contacts end: last_error shows; back on the same port and store, every record is in the stream once', async () => {
    const own = await initData();
    const dir = makeTempDir('bulwark-nats-');
    let server = await startNats({ dir });
    let dd;
    try {
      dd = await startDaemon({ data: own.data, env: { ...FAST, BULWARK_NATS_URL: server.url } });
      const ctx = await setupCenter(dd, own.key, { agents: 0 });
      const ns = await createSub(dd, ctx.admin, ctx.iid, { event_types: ['contact.ended'], sink: { type: 'nats' } });
      const cids = [await endedFlowChat(dd, ctx)];
      await waitDelivered(dd, ctx.admin, ctx.iid, ns.id, 1);

      await server.kill();
      for (let i = 0; i < 4; i++) cids.push(await endedFlowChat(dd, ctx));
      const down = await waitStats(dd, ctx.admin, ctx.iid, ns.id, (s) => s.pending === 4 && /^nats: /.test(s.last_error ?? ''),
        { what: 'pending 4 and a nats error', timeoutMs: 20000 });
      assert.equal(down.stats.delivered, 1);
      assert.equal(down.stats.dead, 0);
      assert.ok(down.stats.last_error_at);
      assert.ok(!down.stats.last_error.includes(server.url) && !down.stats.last_error.includes('et_'), down.stats.last_error);

      server = await server.restart(); // same port, same store
      const up = await waitDelivered(dd, ctx.admin, ctx.iid, ns.id, 5, { timeoutMs: 45000 });
      assert.equal(up.stats.dead, 0);
      const msgs = await streamMessages(streamOf(ctx.iid), server.url);
      assert.deepEqual(msgs.map((m) => m.json.data.id).sort(), [...cids].sort(), 'every record, each once');
      assert.equal(new Set(msgs.map((m) => m.msgId)).size, msgs.length);
      for (const m of msgs) assert.equal(m.msgId, `${ns.id}/${m.json.id}`);
      // And it keeps working.
      const last = await endedFlowChat(dd, ctx);
      await waitDelivered(dd, ctx.admin, ctx.iid, ns.id, 6);
      const after = await streamMessages(streamOf(ctx.iid), server.url);
      assert.deepEqual(after.map((m) => m.json.data.id).sort(), [...cids, last].sort());
      assert.ok(!dd.stderr.includes(server.url), 'the NATS URL in the log');
    } finally {
      const code = await dd?.stop();
      await server.stop();
      removeTempDir(own.dir);
      removeTempDir(dir);
      if (dd) assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${dd.stderr.slice(-3000)}`);
    }
  });
});
