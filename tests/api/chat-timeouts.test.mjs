// The engine's timers, each on a daemon started with a short setting
// (docs/api.md "Contact center": offer_timeout_s, acw_timeout_s,
// chat_idle_timeout_s, flow_step_limit through BULWARK_<NAME>): a missed
// offer goes to the next agent and marks the first Missed; after-contact work
// ends on its own; an idle chat ends with IDLE_TIMEOUT; a flow that runs past
// the step limit ends with FLOW_ERROR.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show, waitFor, assertHealthy } from './lib/daemon.mjs';
import { assertError } from './lib/identity.mjs';
import {
  TEXT, TIME_MS_RE, setupCenter, isSystem, isEvent, isOffer, isContactState, isStatus,
  connectAgent, makeAvailable, readyAgent, agentPost, takeOffer, setStatus,
  startCustomer, say, queuedCustomer, waitContact, getContact,
} from './lib/chat.mjs';

async function closeAll(...things) {
  for (const t of things.flat()) {
    const c = t?.sock ?? t?.stream ?? t;
    if (c?.close) await c.close();
  }
}

/** A daemon of its own with the given environment, for one describe block. */
function daemonWith(env) {
  const h = { init: null, d: null };
  before(async () => {
    h.init = await initData();
    h.d = await startDaemon({ data: h.init.data, env });
  });
  after(async () => {
    const code = await h.d?.stop();
    removeTempDir(h.init.dir);
    assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${h.d?.stderr.slice(-4000)}`);
  });
  return h;
}

describe('offer_timeout_s = 1, acw_timeout_s = 1', () => {
  const h = daemonWith({ BULWARK_OFFER_TIMEOUT_S: '1', BULWARK_ACW_TIMEOUT_S: '1' });

  test('a missed offer moves to the next agent; the first gets offer_missed, status Missed, and no offer until Available again', async () => {
    const { d, init } = h;
    const ctx = await setupCenter(d, init.key, { agents: 2 });
    const [a1, a2] = ctx.agents;
    let c1;
    let c2;
    try {
      await connectAgent(d, ctx.iid, a1);
      await connectAgent(d, ctx.iid, a2);
      await makeAvailable(d, a1);
      await makeAvailable(d, a2);
      c1 = await queuedCustomer(d, ctx);
      const offer = await a1.stream.next(isOffer(c1.cid), { what: 'the offer to the longest-idle agent' });
      const offeredAt = Date.now();
      const expires = Date.parse(offer.expires_at);
      assert.ok(expires <= offeredAt + 1500, `expires_at ${offer.expires_at} is not offer_timeout_s = 1 s away`);

      // a1 never answers.
      await a1.stream.next((f) => f.type === 'offer_missed' && f.contact_id === c1.cid, { what: 'offer_missed' });
      assert.ok(Date.now() - offeredAt >= 800, `missed after ${Date.now() - offeredAt} ms with offer_timeout_s 1`);
      await a1.stream.next(isStatus('Missed'), { what: 'status Missed on the stream' });
      let me;
      await waitFor(async () => {
        me = await api(d.url, 'GET', '/v1/me', { key: a1.token });
        return me.json?.status === 'Missed';
      }, { timeoutMs: 3000, what: 'GET /v1/me to say Missed' }).catch((e) => { throw new Error(`${e.message}: ${show(me)}`); });

      await a2.stream.next(isOffer(c1.cid), { what: 'the offer to the next agent' });
      assertError(await agentPost(d, ctx.iid, a1, c1.cid, 'accept'), 409, 'Conflict', undefined, 'accept of a missed offer');
      const acc = await agentPost(d, ctx.iid, a2, c1.cid, 'accept');
      assert.equal(acc.status, 200, show(acc));
      const rec = await getContact(d, ctx.admin, ctx.iid, c1.cid);
      assert.equal(rec.json.agent?.id, a2.id, show(rec));

      // a2 is full (CHAT=1), a1 is Missed: the next contact waits.
      c2 = await queuedCustomer(d, ctx);
      await waitContact(d, ctx.admin, ctx.iid, c2.cid, (x) => x.state === 'QUEUED', 'QUEUED');
      await a1.stream.barrier();
      assert.deepEqual(a1.stream.seen(isOffer(c2.cid)), [], 'a Missed agent was offered a contact');
      assert.equal(a1.stream.seen(isOffer(c1.cid)).length, 1, 'the missed contact came back to the agent who missed it');

      // Available again: the waiting contact is offered.
      await setStatus(d, a1.token, 'Available');
      await takeOffer(d, ctx.iid, a1, c2.cid);
    } finally {
      await closeAll(c1, c2, a1, a2);
    }
  });

  test('after-contact work ends on its own after acw_timeout_s and frees the slot', async () => {
    const { d, init } = h;
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    let c1;
    let c2;
    try {
      await readyAgent(d, ctx.iid, a1);
      c1 = await queuedCustomer(d, ctx);
      await takeOffer(d, ctx.iid, a1, c1.cid);
      c1.sock.send({ type: 'end' });
      await a1.stream.next(isContactState(c1.cid, 'AFTER_CONTACT_WORK'));
      // Nobody calls POST .../end.
      const rec = await waitContact(d, ctx.admin, ctx.iid, c1.cid, (x) => x.after_contact_work_end_timestamp, 'the ACW end without a call');
      assert.equal(rec.state, 'ENDED');
      assert.match(rec.after_contact_work_end_timestamp, TIME_MS_RE);
      const acw = Date.parse(rec.after_contact_work_end_timestamp) - Date.parse(rec.disconnect_timestamp);
      assert.ok(acw >= 800 && acw < 4000, `after-contact work lasted ${acw} ms with acw_timeout_s 1`);
      c2 = await queuedCustomer(d, ctx);
      await takeOffer(d, ctx.iid, a1, c2.cid);
    } finally {
      await closeAll(c1, c2, a1);
    }
  });
});

describe('chat_idle_timeout_s = 2', () => {
  const h = daemonWith({ BULWARK_CHAT_IDLE_TIMEOUT_S: '2' });

  test('a chat with no message either way ends with IDLE_TIMEOUT', async () => {
    const { d, init } = h;
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    let c;
    try {
      await readyAgent(d, ctx.iid, a1);
      c = await queuedCustomer(d, ctx);
      await takeOffer(d, ctx.iid, a1, c.cid);
      const last = Date.now();
      const e = await c.sock.next(isEvent('ended'), { timeoutMs: 8000, what: 'the idle timeout' });
      assert.equal(e.reason, 'IDLE_TIMEOUT', JSON.stringify(e));
      assert.ok(Date.now() - last >= 1500, `ended ${Date.now() - last} ms after the last message with chat_idle_timeout_s 2`);
      await a1.stream.next(isContactState(c.cid, ['AFTER_CONTACT_WORK', 'ENDED']), { what: 'the end on the agent stream' });
      const rec = await waitContact(d, ctx.admin, ctx.iid, c.cid, (x) => x.disconnect_reason !== null, 'the disconnected record');
      assert.equal(rec.disconnect_reason, 'IDLE_TIMEOUT');
    } finally {
      await closeAll(c, a1);
    }
  });
});

describe('flow_step_limit = 10', () => {
  const h = daemonWith({ BULWARK_FLOW_STEP_LIMIT: '10' });

  test('the valid path (6 blocks) runs; past 10 blocks the contact ends with FLOW_ERROR', async () => {
    const { d, init } = h;
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    let ok;
    let loop;
    try {
      // hours greet ask check thanks queue: 6 blocks.
      ok = await queuedCustomer(d, ctx);
      await waitContact(d, ctx.admin, ctx.iid, ok.cid, (x) => x.state === 'QUEUED', 'QUEUED within the limit');

      // hours greet ask (3), check retry ask (6), check retry ask (9), check (10), retry (11): past the limit.
      loop = await startCustomer(d, ctx);
      await loop.sock.next(isSystem(TEXT.ask));
      for (const wrong of ['not a number', 'still not a number']) {
        await say(loop, wrong);
        await loop.sock.next(isSystem(TEXT.invalid));
        await loop.sock.next(isSystem(TEXT.ask));
      }
      await say(loop, 'never a number');
      const e = await loop.sock.next(isEvent('ended'), { what: 'the end past the step limit' });
      assert.equal(e.reason, 'FLOW_ERROR', JSON.stringify(e));
      assert.equal(loop.sock.seen(isSystem(TEXT.invalid)).length, 2, 'a block past the limit ran');
      const rec = await waitContact(d, ctx.admin, ctx.iid, loop.cid, (x) => x.state === 'ENDED', 'ENDED');
      assert.equal(rec.disconnect_reason, 'FLOW_ERROR');
      assert.equal(rec.queue, null);
      await assertHealthy(assert, d, 'the step limit');
    } finally {
      await closeAll(ok, loop);
    }
  });
});
