// Routing of chats to agents (docs/api.md "Agents", "Routing", "Real-time
// metrics"): reject moves the contact to another agent (the same one only
// when nobody else can take it), the oldest contact first, the lowest
// priority first, delay_s, concurrency and after-contact work holding a slot,
// an offer withdrawn when the customer leaves, a queue at capacity, and the
// real-time metrics (REST and /metrics gauges).
//
// Negative checks ("no offer yet") are made after a barrier: a record state
// read back, then a WebSocket ping answered on the agent stream, so that an
// offer sent before would already be in.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show, getMetrics, metricValue, waitFor, assertHealthy } from './lib/daemon.mjs';
import { assertError } from './lib/identity.mjs';
import {
  TEXT, TIME_MS_RE, setupCenter, addQueue, patchRoutingProfile, realTime, setStatus,
  isSystem, isEvent, isOffer, isContactState,
  connectAgent, makeAvailable, readyAgent, agentPost, takeOffer,
  startCustomer, say, queuedCustomer, waitContact, getContact,
} from './lib/chat.mjs';

let init;
let d;

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

async function closeAll(...things) {
  for (const t of things.flat()) {
    const c = t?.sock ?? t?.stream ?? t;
    if (c?.close) await c.close();
  }
}

const queued = (ctx, cid) => waitContact(d, ctx.admin, ctx.iid, cid, (x) => x.state === 'QUEUED', `${cid} QUEUED`);

/** After a barrier on the agent's stream: no offer of cid has come. */
async function assertNoOffer(agent, cid, why) {
  await agent.stream.barrier();
  assert.deepEqual(agent.stream.seen(isOffer(cid)), [], why);
}

describe('offers', () => {
  test('reject sends the contact to the other agent', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 2 });
    const [a1, a2] = ctx.agents;
    let c;
    try {
      await connectAgent(d, ctx.iid, a1);
      await connectAgent(d, ctx.iid, a2);
      await makeAvailable(d, a1);
      await makeAvailable(d, a2);
      c = await queuedCustomer(d, ctx);
      await a1.stream.next(isOffer(c.cid), { what: 'the offer to the longest-idle agent' });
      assert.deepEqual(a2.stream.seen(isOffer(c.cid)), [], 'both agents hold the offer at once');
      const rj = await agentPost(d, ctx.iid, a1, c.cid, 'reject');
      assert.equal(rj.status, 200, show(rj));
      await takeOffer(d, ctx.iid, a2, c.cid);
      await c.sock.next(isEvent('joined', { participant_role: 'AGENT' }));
      const rec = await getContact(d, ctx.admin, ctx.iid, c.cid);
      assert.equal(rec.json.state, 'CONNECTED', show(rec));
      assert.equal(rec.json.agent?.id, a2.id, show(rec));
      // The spec names 404 for a contact not offered to the caller and 409 for an offer
      // expired or withdrawn; a rejected offer is neither plainly, so either refusal will do.
      const late = await agentPost(d, ctx.iid, a1, c.cid, 'accept');
      assert.ok([404, 409].includes(late.status), `accept after reject: ${show(late)}`);
      await a1.stream.barrier();
      assert.equal(a1.stream.seen(isOffer(c.cid)).length, 1, 'the rejecting agent was offered it again while another could take it');
    } finally {
      await closeAll(c, a1, a2);
    }
  });

  test('reject with nobody else to take it: the same agent is offered it again', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    let c;
    try {
      await readyAgent(d, ctx.iid, a1);
      c = await queuedCustomer(d, ctx);
      await a1.stream.next(isOffer(c.cid));
      assert.equal((await agentPost(d, ctx.iid, a1, c.cid, 'reject')).status, 200);
      await a1.stream.next(isOffer(c.cid), { what: 'the offer again' });
      const r = await agentPost(d, ctx.iid, a1, c.cid, 'accept');
      assert.equal(r.status, 200, show(r));
      const rec = await waitContact(d, ctx.admin, ctx.iid, c.cid, (x) => x.state === 'CONNECTED', 'CONNECTED');
      assert.equal(rec.agent.id, a1.id);
    } finally {
      await closeAll(c, a1);
    }
  });

  test('the customer leaves during the offer: offer_withdrawn, accept → 409, the record has no agent', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    let c;
    try {
      await readyAgent(d, ctx.iid, a1);
      c = await queuedCustomer(d, ctx);
      await a1.stream.next(isOffer(c.cid));
      c.sock.send({ type: 'end' });
      await c.sock.next(isEvent('ended'));
      const w = await a1.stream.next((f) => f.type === 'offer_withdrawn' && f.contact_id === c.cid, { what: 'offer_withdrawn' });
      assert.ok(w);
      assertError(await agentPost(d, ctx.iid, a1, c.cid, 'accept'), 409, 'Conflict', undefined, 'accept of a withdrawn offer');
      const rec = await waitContact(d, ctx.admin, ctx.iid, c.cid, (x) => x.state === 'ENDED', 'ENDED');
      assert.equal(rec.disconnect_reason, 'CUSTOMER_DISCONNECT');
      assert.equal(rec.agent, null, JSON.stringify(rec));
    } finally {
      await closeAll(c, a1);
    }
  });
});

describe('which contact first', () => {
  test('oldest first; concurrency CHAT=2 holds two contacts and one offer at a time; the third waits for a free slot', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1, concurrency: { CHAT: 2 } });
    const [a1] = ctx.agents;
    const cs = [];
    try {
      await connectAgent(d, ctx.iid, a1); // not Available yet
      for (const name of ['First', 'Second']) {
        const c = await queuedCustomer(d, ctx, { display_name: name });
        await queued(ctx, c.cid);
        cs.push(c);
      }
      await makeAvailable(d, a1);
      const o1 = await a1.stream.next(isOffer(), { what: 'the first offer' });
      assert.equal(o1.contact_id, cs[0].cid, 'the newer contact was offered first');
      await a1.stream.barrier();
      assert.deepEqual(a1.stream.seen(isOffer(cs[1].cid)), [], 'two offers at once');
      assert.equal((await agentPost(d, ctx.iid, a1, cs[0].cid, 'accept')).status, 200);
      await takeOffer(d, ctx.iid, a1, cs[1].cid);

      const c3 = await queuedCustomer(d, ctx, { display_name: 'Third' });
      cs.push(c3);
      await queued(ctx, c3.cid);
      await assertNoOffer(a1, c3.cid, 'a third contact offered beyond CHAT=2');

      // The agent ends the first contact: after-contact work still holds the slot.
      assert.equal((await agentPost(d, ctx.iid, a1, cs[0].cid, 'end')).status, 200);
      const e = await cs[0].sock.next(isEvent('ended'));
      assert.equal(e.reason, 'AGENT_DISCONNECT', JSON.stringify(e));
      await a1.stream.next(isContactState(cs[0].cid, 'AFTER_CONTACT_WORK'));
      await assertNoOffer(a1, c3.cid, 'offered during after-contact work at full concurrency');
      assert.equal((await agentPost(d, ctx.iid, a1, cs[0].cid, 'end')).status, 200);
      await takeOffer(d, ctx.iid, a1, c3.cid);
    } finally {
      await closeAll(cs, a1);
    }
  });

  test('the lowest priority number first, even when its contact is newer', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    const low = await addQueue(d, ctx); // will be priority 1
    await patchRoutingProfile(d, ctx, ctx.routingProfile.id, {
      queues: [{ queue_id: ctx.queue.id, priority: 2, delay_s: 0 }, { queue_id: low.queue.id, priority: 1, delay_s: 0 }],
    });
    let older;
    let newer;
    try {
      await connectAgent(d, ctx.iid, a1);
      older = await queuedCustomer(d, ctx); // priority 2
      await queued(ctx, older.cid);
      newer = await queuedCustomer(d, low); // priority 1
      await queued(ctx, newer.cid);
      await makeAvailable(d, a1);
      const o = await a1.stream.next(isOffer(), { what: 'the first offer' });
      assert.equal(o.contact_id, newer.cid, 'the contact of priority 2 was offered before the one of priority 1');
      assert.equal(o.queue_id, low.queue.id);
    } finally {
      await closeAll(older, newer, a1);
    }
  });

  test('delay_s: a contact is offered only once it has waited the queue\'s delay', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    await patchRoutingProfile(d, ctx, ctx.routingProfile.id, { queues: [{ queue_id: ctx.queue.id, priority: 1, delay_s: 2 }] });
    let c;
    try {
      await readyAgent(d, ctx.iid, a1);
      c = await queuedCustomer(d, ctx);
      const o = await a1.stream.next(isOffer(c.cid), { timeoutMs: 8000, what: 'the offer after delay_s' });
      const offeredAt = Date.now();
      const rec = await getContact(d, ctx.admin, ctx.iid, c.cid);
      const enq = Date.parse(rec.json.queue.enqueue_timestamp);
      assert.ok(offeredAt - enq >= 1900, `offered ${offeredAt - enq} ms after enqueue with delay_s 2`);
      assert.ok(o);
    } finally {
      await closeAll(c, a1);
    }
  });
});

describe('after-contact work', () => {
  test('the customer ends: AFTER_CONTACT_WORK; with CHAT=1 the next offer comes only after POST .../end clears it', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1, concurrency: { CHAT: 1 } });
    const [a1] = ctx.agents;
    let c1;
    let c2;
    try {
      await readyAgent(d, ctx.iid, a1);
      c1 = await queuedCustomer(d, ctx);
      await takeOffer(d, ctx.iid, a1, c1.cid);
      await say(c1, 'bye now');
      c1.sock.send({ type: 'end' });
      await a1.stream.next(isContactState(c1.cid, 'AFTER_CONTACT_WORK'), { what: 'AFTER_CONTACT_WORK' });
      const during = await waitContact(d, ctx.admin, ctx.iid, c1.cid, (x) => x.disconnect_reason !== null, 'the disconnected record');
      assert.equal(during.disconnect_reason, 'CUSTOMER_DISCONNECT');
      assert.equal(during.state, 'AFTER_CONTACT_WORK', JSON.stringify(during));
      assert.equal(during.after_contact_work_end_timestamp, null, 'after-contact work ended by itself');
      assertError(await agentPost(d, ctx.iid, a1, c1.cid, 'messages', { content: 'hello?' }), 409, 'Conflict', undefined, 'a message after the end');

      c2 = await queuedCustomer(d, ctx);
      await queued(ctx, c2.cid);
      await assertNoOffer(a1, c2.cid, 'offered during after-contact work with CHAT=1');

      const clear = await agentPost(d, ctx.iid, a1, c1.cid, 'end');
      assert.equal(clear.status, 200, show(clear));
      await takeOffer(d, ctx.iid, a1, c2.cid);
      const rec1 = await waitContact(d, ctx.admin, ctx.iid, c1.cid, (x) => x.after_contact_work_end_timestamp, 'the ACW end');
      assert.equal(rec1.state, 'ENDED');
      assert.match(rec1.after_contact_work_end_timestamp, TIME_MS_RE);
      assert.ok(Date.parse(rec1.after_contact_work_end_timestamp) >= Date.parse(rec1.disconnect_timestamp));

      // The agent ends the second: AGENT_DISCONNECT for the customer and the record.
      const end2 = await agentPost(d, ctx.iid, a1, c2.cid, 'end');
      assert.equal(end2.status, 200, show(end2));
      const ev = await c2.sock.next(isEvent('ended'), { what: 'ended for the customer' });
      assert.equal(ev.reason, 'AGENT_DISCONNECT', JSON.stringify(ev));
      await a1.stream.next(isContactState(c2.cid, 'AFTER_CONTACT_WORK'));
      c2.sock.send({ type: 'message', content: 'wait!' });
      await c2.sock.next((f) => f.type === 'error' && f.code === 'ContactEnded', { what: 'ContactEnded after the agent ended' });
      const rec2 = await waitContact(d, ctx.admin, ctx.iid, c2.cid, (x) => x.disconnect_reason !== null, 'AGENT_DISCONNECT');
      assert.equal(rec2.disconnect_reason, 'AGENT_DISCONNECT');
      assert.equal((await agentPost(d, ctx.iid, a1, c2.cid, 'end')).status, 200);
    } finally {
      await closeAll(c1, c2, a1);
    }
  });
});

describe('queue capacity', () => {
  test('a full queue takes the QueueAtCapacity branch', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0, maxContacts: 1 });
    let c1;
    let c2;
    try {
      c1 = await queuedCustomer(d, ctx);
      await queued(ctx, c1.cid);
      c2 = await startCustomer(d, ctx);
      await c2.sock.next(isSystem(TEXT.ask));
      await say(c2, '+1 202-456-1111');
      await c2.sock.next(isSystem(TEXT.full), { what: 'the QueueAtCapacity branch' });
      const e = await c2.sock.next(isEvent('ended'));
      assert.equal(e.reason, 'CONTACT_FLOW_DISCONNECT', JSON.stringify(e));
      const log = await api(d.url, 'GET', `/v1/instances/${ctx.iid}/contacts/${c2.cid}/flow-log`, { key: ctx.admin });
      assert.equal(log.status, 200, show(log));
      assert.ok(log.json.items.some((x) => x.action_id === 'queue' && x.branch === 'QueueAtCapacity'), log.text);
      const r1 = await getContact(d, ctx.admin, ctx.iid, c1.cid);
      assert.equal(r1.json.state, 'QUEUED', 'the first contact left the queue');
    } finally {
      await closeAll(c1, c2);
    }
  });
});

describe('real-time metrics', () => {
  const gauges = (m) => m.text.split('\n').filter((l) => l.startsWith('bulwark_queue')).join('\n');

  test('contacts_queued 1 while a contact waits, agents_available, then on contact; /metrics gauges on the admin listener; Metrics.RealTime.View', async () => {
    // delay_s 3600: the contact waits although an agent of the queue is available.
    const ctx = await setupCenter(d, init.key, { agents: 1, delayS: 3600 });
    const [a1] = ctx.agents;
    const q = ctx.queue.id;
    let c;
    try {
      c = await queuedCustomer(d, ctx);
      await queued(ctx, c.cid);
      let rt;
      const until = (pred, what) => waitFor(async () => {
        rt = await realTime(d, ctx.admin, ctx.iid);
        const row = rt.byQueue.get(q);
        return row && pred(row);
      }, { what }).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(rt?.json)}`); });

      await until((r) => r.contacts_queued === 1, 'contacts_queued 1 while nobody can take it');
      let row = rt.byQueue.get(q);
      assert.equal(row.agents_available, 0, JSON.stringify(rt.json));
      assert.equal(row.agents_on_contact, 0, JSON.stringify(rt.json));
      assert.equal(typeof row.oldest_contact_age_s, 'number', JSON.stringify(rt.json));
      assert.ok(row.oldest_contact_age_s >= 0 && row.oldest_contact_age_s < 60, JSON.stringify(rt.json));
      let m = await getMetrics(d);
      assert.equal(m.status, 200);
      assert.equal(metricValue(m.samples, 'bulwark_queue_contacts_queued', { instance: ctx.iid, queue: q }), 1, `gauges:\n${gauges(m)}`);
      assert.notEqual(metricValue(m.samples, 'bulwark_queue_oldest_contact_age_seconds', { instance: ctx.iid, queue: q }), undefined, `gauges:\n${gauges(m)}`);

      // An agent of the queue becomes available; the delay keeps the contact waiting.
      await readyAgent(d, ctx.iid, a1);
      await until((r) => r.agents_available === 1, 'agents_available 1');
      row = rt.byQueue.get(q);
      assert.equal(row.contacts_queued, 1, JSON.stringify(rt.json));
      assert.equal(row.agents_on_contact, 0, JSON.stringify(rt.json));
      await assertNoOffer(a1, c.cid, 'offered before delay_s');
      m = await getMetrics(d);
      assert.equal(metricValue(m.samples, 'bulwark_queue_agents_available', { instance: ctx.iid, queue: q }), 1, `gauges:\n${gauges(m)}`);
      assert.equal(metricValue(m.samples, 'bulwark_queue_contacts_queued', { instance: ctx.iid, queue: q }), 1, `gauges:\n${gauges(m)}`);

      assertError(await api(d.url, 'GET', `/v1/instances/${ctx.iid}/metrics/real-time`, { key: a1.token }), 403, 'AccessDenied', undefined, 'an Agent reads real-time metrics');

      // No delay any more (read when the status is set): the agent takes the contact.
      await patchRoutingProfile(d, ctx, ctx.routingProfile.id, { queues: [{ queue_id: q, priority: 1, delay_s: 0 }] });
      await setStatus(d, a1.token, 'Available');
      await takeOffer(d, ctx.iid, a1, c.cid);
      await until((r) => r.contacts_queued === 0 && r.agents_on_contact === 1, 'contacts_queued 0 and agents_on_contact 1');
      m = await getMetrics(d);
      assert.equal(metricValue(m.samples, 'bulwark_queue_contacts_queued', { instance: ctx.iid, queue: q }) ?? 0, 0, `gauges:\n${gauges(m)}`);
      assert.equal(metricValue(m.samples, 'bulwark_queue_agents_on_contact', { instance: ctx.iid, queue: q }), 1, `gauges:\n${gauges(m)}`);
      const pub = await fetch(`${d.url}/metrics`, { signal: AbortSignal.timeout(5000) });
      const pubText = await pub.text();
      assert.ok(!pubText.includes('bulwark_queue_contacts_queued'), 'the queue gauges are served on the public listener');
    } finally {
      await closeAll(c, a1);
    }
  });

  test('a queue with an agent available and no contact yet is listed with agents_available 1', async () => {
    // "every queue with live state": an available agent is live state a
    // supervisor's wallboard shows before the first contact arrives.
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    try {
      await readyAgent(d, ctx.iid, a1);
      let rt;
      await waitFor(async () => {
        rt = await realTime(d, ctx.admin, ctx.iid);
        return rt.byQueue.get(ctx.queue.id)?.agents_available === 1;
      }, { what: 'agents_available 1 on an idle queue' }).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(rt?.json)}`); });
      const row = rt.byQueue.get(ctx.queue.id);
      assert.equal(row.contacts_queued, 0);
      assert.equal(row.agents_on_contact, 0);
      const m = await getMetrics(d);
      assert.equal(metricValue(m.samples, 'bulwark_queue_agents_available', { instance: ctx.iid, queue: ctx.queue.id }), 1, `gauges:\n${gauges(m)}`);
    } finally {
      await closeAll(a1);
    }
  });

  test('the daemon is healthy after all of the above', async () => {
    await assertHealthy(assert, d, 'the routing tests');
  });
});
