// Callbacks (K4; docs/api.md "Callbacks"): POST /v1/public/instances/{iid}/callbacks
// with a CALLBACK entry point. The number is read with the entry point's or
// the instance's default_region and normalized to E.164; invalid numbers and
// numbers that are not FIXED_LINE / MOBILE / FIXED_LINE_OR_MOBILE (premium
// rate, toll free, personal, …) are refused with 400 phone_number, never
// echoing the number. The contact runs its flow at once (blocks that need an
// answer take their error branch), is queued as CALLBACK and is offered only
// to an agent whose routing profile has CALLBACK concurrency and who holds
// Contacts.Outbound; the offer carries phone_number; the agent accepts,
// records the outcome and ends it; callbacks never idle out.
//
// The daemon trusts X-Forwarded-For from loopback (every callback comes from
// a fresh address so that no address limit interferes). No sleeps: every wait
// is for a frame, a record state or a pong.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, removeTempDir, api, show } from './lib/daemon.mjs';
import { assertError, createProfile } from './lib/identity.mjs';
import { createRoutingProfile, createEntryPoint } from './lib/routing.mjs';
import {
  createAgent, readyAgent, agentPost, isOffer, isContactState, waitContact, getContact, queuedCustomer,
} from './lib/chat.mjs';
import {
  startFraudDaemon, nextV4, nextNumber, callbackFrom, chatFrom, setupCallbackCenter, contacts, auditEvents, unique,
} from './lib/fraud.mjs';

async function closeAll(...things) {
  for (const t of things.flat()) {
    const c = t?.sock ?? t?.stream ?? t;
    if (c?.close) await c.close();
  }
}

/**
 * The number a callback record's customer endpoint names: docs/api.md,
 * {"type":"TELEPHONE_NUMBER","address":"+33612345678","source_address":…}.
 */
function endpointNumber(rec) {
  const ep = rec.customer_endpoint ?? {};
  assert.equal(ep.type, 'TELEPHONE_NUMBER', `a callback's customer_endpoint.type: ${JSON.stringify(ep)}`);
  return ep.address;
}

const CB_KEYS = ['contact_id'];

describe('callbacks', () => {
  let init;
  let d;
  before(async () => {
    init = await initData();
    d = await startFraudDaemon(init.data);
  });
  after(async () => {
    const code = await d?.stop();
    removeTempDir(init.dir);
    assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
  });

  test('numbers with and without a country code are normalized to E.164 (instance region, entry point region)', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const frEp = await createEntryPoint(d, ctx.admin, ctx.iid, ctx.callbackFlow.id, { type: 'CALLBACK', default_region: 'FR' });
    const cases = [
      // [entry point, as typed, E.164]
      [ctx.callbackEntryPoint.id, '(202) 456-1111', '+12024561111'], // US instance, no country code
      [ctx.callbackEntryPoint.id, '202.456.1112', '+12024561112'],
      [ctx.callbackEntryPoint.id, '+33 6 12 34 56 78', '+33612345678'], // with a country code
      [ctx.callbackEntryPoint.id, '+1 (212) 555-1234', '+12125551234'],
      [frEp.id, '06 12 34 56 79', '+33612345679'], // the entry point's region
      [frEp.id, '+1 617 253 1000', '+16172531000'],
    ];
    for (const [ep, typed, e164] of cases) {
      const ip = nextV4();
      const r = await callbackFrom(d, ctx, ip, typed, { entryPoint: ep, body: { display_name: 'Grace' } });
      assert.equal(r.status, 201, `${typed}: ${show(r)}`);
      assert.deepEqual(Object.keys(r.json), CB_KEYS, show(r));
      assert.match(r.json.contact_id, /^ct_/, show(r));
      const rec = await waitContact(d, ctx.admin, ctx.iid, r.json.contact_id, (x) => x.state === 'QUEUED', `${typed} QUEUED`);
      assert.equal(rec.channel, 'CALLBACK', JSON.stringify(rec));
      assert.equal(rec.entry_point_id, ep, JSON.stringify(rec));
      assert.equal(rec.queue?.id, ctx.queue.id, JSON.stringify(rec));
      assert.equal(endpointNumber(rec), e164, `${typed}: the record's customer endpoint is not E.164: ${JSON.stringify(rec.customer_endpoint)}`);
      assert.equal(rec.customer_endpoint.source_address, ip, `the client address that asked: ${JSON.stringify(rec.customer_endpoint)}`);
      assert.equal(rec.customer_endpoint.display_name, 'Grace', JSON.stringify(rec.customer_endpoint));
    }
    // Without a country code, a French number is not a US number.
    const us = await callbackFrom(d, ctx, nextV4(), '06 12 34 56 78');
    assertError(us, 400, 'InvalidParameter', 'phone_number', 'a French national number on a US entry point');
    // The instance's region applies when the entry point has none.
    const p = await api(d.url, 'PATCH', `/v1/instances/${ctx.iid}`, { key: init.key, body: { default_region: 'GB' } });
    assert.equal(p.status, 200, show(p));
    const gb = await callbackFrom(d, ctx, nextV4(), '020 7946 0958');
    assert.equal(gb.status, 201, `a GB national number with default_region GB: ${show(gb)}`);
    const rec = await waitContact(d, ctx.admin, ctx.iid, gb.json.contact_id, (x) => x.state === 'QUEUED');
    assert.equal(endpointNumber(rec), '+442079460958', JSON.stringify(rec.customer_endpoint));
    // Search by channel finds them.
    const found = await contacts(d, ctx.admin, ctx.iid, 'channel=CALLBACK');
    assert.equal(found.length, cases.length + 1, JSON.stringify(found.map((c) => c.id)));
    assert.deepEqual(await contacts(d, ctx.admin, ctx.iid, 'channel=CHAT'), []);
  });

  test('premium-rate, toll-free, personal and invalid numbers → 400 phone_number; nothing echoes the number; no contact', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const cases = [
      ['+1 900 200 1234', '9002001234'], // premium rate
      ['1-900-555-0199', '9005550199'], // premium rate, national form
      ['+1 800 234 5678', '8002345678'], // toll free
      ['(888) 555-1234', '8885551234'], // toll free, national form
      ['+1 500 234 5678', '5002345678'], // personal number
      ['+33 8 99 23 45 67', '899234567'], // premium rate abroad
      ['+1 555 0100', '5550100'], // not a valid number
      ['202-456', '202456'], // too short
      ['call me maybe', null],
      ['+999 1234 5678', '99912345678'], // no such country code
      [`+1 202 456 1111 ${'9'.repeat(70)}`, '9'.repeat(70)], // too long
    ];
    for (const [typed, digits] of cases) {
      const r = await callbackFrom(d, ctx, nextV4(), typed);
      assertError(r, 400, 'InvalidParameter', 'phone_number', typed);
      assert.ok(!r.text.includes(typed), `the reply echoes ${typed}: ${show(r)}`);
      if (digits) {
        assert.ok(!r.text.replace(/\D/g, '').includes(digits), `the reply holds the digits of ${typed}: ${show(r)}`);
      }
    }
    for (const [body, field] of [
      [{ entry_point: ctx.callbackEntryPoint.id }, 'phone_number'],
      [{ entry_point: ctx.callbackEntryPoint.id, phone_number: 12024561111 }, 'phone_number'],
      [{ entry_point: ctx.callbackEntryPoint.id, phone_number: '' }, 'phone_number'],
      [{ phone_number: '(202) 456-1111' }, 'entry_point'],
      [{ entry_point: ctx.callbackEntryPoint.id, phone_number: '(202) 456-1111', display_name: '' }, 'display_name'],
      [{ entry_point: ctx.callbackEntryPoint.id, phone_number: '(202) 456-1111', display_name: 'x'.repeat(65) }, 'display_name'],
      [{ entry_point: ctx.callbackEntryPoint.id, phone_number: '(202) 456-1111', display_name: 'Grace\u0085' }, 'display_name'],
      [{ entry_point: ctx.callbackEntryPoint.id, phone_number: '(202) 456-1111', display_name: 'Grace\nHopper' }, 'display_name'],
      [{ entry_point: ctx.callbackEntryPoint.id, phone_number: '(202) 456-1111', email: 'a@b.example' }, 'email'],
    ]) {
      const r = await api(d.url, 'POST', `/v1/public/instances/${ctx.iid}/callbacks`, { body, headers: { 'x-forwarded-for': nextV4() } });
      assertError(r, 400, 'InvalidParameter', field, JSON.stringify(body).slice(0, 100));
    }
    assert.deepEqual(await contacts(d, ctx.admin, ctx.iid), [], 'a refused callback left a contact');
    // Nor does the audit trail hold a refused number.
    const trail = JSON.stringify(await auditEvents(d, ctx.admin, ctx.iid));
    for (const [typed, digits] of cases) {
      assert.ok(!trail.includes(typed), `the audit trail holds ${typed}`);
      if (digits && digits.length >= 7) assert.ok(!trail.includes(digits), `the audit trail holds the digits of ${typed}`);
    }
  });

  test('a CHAT entry point is refused for a callback, a CALLBACK one for a chat; an unknown instance is 404', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const r = await callbackFrom(d, ctx, nextV4(), '(202) 456-1111', { entryPoint: ctx.entryPoint.id });
    assertError(r, 400, 'InvalidParameter', 'entry_point', 'a CHAT entry point on /callbacks');
    const x = await callbackFrom(d, ctx, nextV4(), '(202) 456-1111', { entryPoint: 'ep_nonexistent' });
    assertError(x, 400, 'InvalidParameter', 'entry_point', 'an unknown entry point');
    const c = await chatFrom(d, ctx, nextV4(), { entryPoint: ctx.callbackEntryPoint.id });
    assertError(c, 400, 'InvalidParameter', 'entry_point', 'a CALLBACK entry point on /chats');
    const other = await setupCallbackCenter(d, init.key);
    const y = await callbackFrom(d, ctx, nextV4(), '(202) 456-1111', { entryPoint: other.callbackEntryPoint.id });
    assertError(y, 400, 'InvalidParameter', 'entry_point', 'another instance\'s entry point');
    const z = await api(d.url, 'POST', '/v1/public/instances/in_nonexistent/callbacks', {
      body: { entry_point: ctx.callbackEntryPoint.id, phone_number: '(202) 456-1111' }, headers: { 'x-forwarded-for': nextV4() },
    });
    assertError(z, 404, 'NotFound', undefined, 'an unknown instance');
    assert.deepEqual(await contacts(d, ctx.admin, ctx.iid), []);
  });

  test('offered only to an agent with CALLBACK concurrency and Contacts.Outbound; the offer carries phone_number; accept, outcome NO_ANSWER, end; the record', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const handleOnly = await createProfile(d, ctx.admin, ctx.iid, unique('handle-only'), ['Contacts.Handle']);
    const chatOnlyRp = await createRoutingProfile(d, ctx.admin, ctx.iid,
      [{ queue_id: ctx.queue.id, priority: 1, delay_s: 0 }], { concurrency: { CHAT: 1 } });
    assert.equal(chatOnlyRp.concurrency.CALLBACK, 0, JSON.stringify(chatOnlyRp));
    // Without Contacts.Outbound (CALLBACK concurrency 1), and without CALLBACK concurrency (Agent profile).
    const noOutbound = await createAgent(d, ctx.admin, ctx.iid, { profiles: [handleOnly.id], routingProfileId: ctx.routingProfile.id });
    const noCapacity = await createAgent(d, ctx.admin, ctx.iid, { profiles: [ctx.profiles.Agent.id], routingProfileId: chatOnlyRp.id });
    const ok = await createAgent(d, ctx.admin, ctx.iid, { profiles: [ctx.profiles.Agent.id], routingProfileId: ctx.routingProfile.id });
    try {
      // The two who may not take it are the longest idle.
      await readyAgent(d, ctx.iid, noOutbound);
      await readyAgent(d, ctx.iid, noCapacity);
      const n = nextNumber();
      const r = await callbackFrom(d, ctx, nextV4(), n.national, { body: { display_name: 'Grace' } });
      assert.equal(r.status, 201, show(r));
      const cid = r.json.contact_id;
      await waitContact(d, ctx.admin, ctx.iid, cid, (x) => x.state === 'QUEUED', 'the callback QUEUED');
      for (const a of [noOutbound, noCapacity]) await a.stream.barrier();
      assert.deepEqual(noOutbound.stream.seen((f) => f.type === 'offer'), [], 'an agent without Contacts.Outbound was offered a callback');
      assert.deepEqual(noCapacity.stream.seen((f) => f.type === 'offer'), [], 'an agent without CALLBACK concurrency was offered a callback');
      const notTheirs = await agentPost(d, ctx.iid, noOutbound, cid, 'accept');
      assert.ok([403, 404].includes(notTheirs.status), `an agent without Contacts.Outbound accepted a callback: ${show(notTheirs)}`);

      // The one who may.
      await readyAgent(d, ctx.iid, ok);
      const offer = await ok.stream.next(isOffer(cid), { what: 'the callback offer' });
      assert.equal(offer.channel, 'CALLBACK', JSON.stringify(offer));
      assert.equal(offer.phone_number, n.e164, `the offer's phone_number: ${JSON.stringify(offer)}`);
      assert.equal(offer.queue_id, ctx.queue.id, JSON.stringify(offer));
      assert.equal(offer.display_name, 'Grace', JSON.stringify(offer));
      for (const a of [noOutbound, noCapacity]) await a.stream.barrier();
      assert.deepEqual(noOutbound.stream.seen((f) => f.type === 'offer'), [], 'offered to the agent without Contacts.Outbound');
      assert.deepEqual(noCapacity.stream.seen((f) => f.type === 'offer'), [], 'offered to the agent without CALLBACK concurrency');

      // The outcome cannot be recorded before the contact is held, nor by another agent.
      const early = await agentPost(d, ctx.iid, ok, cid, 'outcome', { outcome: 'CONNECTED' });
      assert.ok([404, 409].includes(early.status), `an outcome before accept: ${show(early)}`);
      const acc = await agentPost(d, ctx.iid, ok, cid, 'accept');
      assert.equal(acc.status, 200, show(acc));
      assert.equal(acc.json.state, 'CONNECTED', show(acc));
      await waitContact(d, ctx.admin, ctx.iid, cid, (x) => x.state === 'CONNECTED' && x.agent?.id === ok.id, 'CONNECTED');
      const stranger = await agentPost(d, ctx.iid, noCapacity, cid, 'outcome', { outcome: 'CONNECTED' });
      assertError(stranger, 404, 'NotFound', undefined, 'an outcome by an agent who does not hold the contact');
      for (const [body, field] of [
        [{ outcome: 'MAYBE' }, 'outcome'], [{ outcome: 'no_answer' }, 'outcome'], [{}, 'outcome'],
        [{ outcome: 'BUSY', note: 7 }, 'note'], [{ outcome: 'BUSY', extra: 1 }, 'extra'],
      ]) {
        const b = await agentPost(d, ctx.iid, ok, cid, 'outcome', body);
        assertError(b, 400, 'InvalidParameter', field, JSON.stringify(body));
      }
      const out = await agentPost(d, ctx.iid, ok, cid, 'outcome', { outcome: 'NO_ANSWER', note: 'rang 8 times' });
      assert.ok(out.status === 200 || out.status === 204, `outcome: ${show(out)}`);
      const withOutcome = await waitContact(d, ctx.admin, ctx.iid, cid, (x) => x.attributes?.callback_outcome === 'NO_ANSWER', 'callback_outcome');
      assert.equal(withOutcome.attributes.callback_note, 'rang 8 times', JSON.stringify(withOutcome.attributes));
      assert.equal(withOutcome.state, 'CONNECTED', 'recording an outcome ended the contact');

      const end = await agentPost(d, ctx.iid, ok, cid, 'end');
      assert.equal(end.status, 200, show(end));
      await ok.stream.next(isContactState(cid, 'AFTER_CONTACT_WORK'), { what: 'after-contact work on the agent stream' });
      const acw = await waitContact(d, ctx.admin, ctx.iid, cid, (x) => x.state === 'AFTER_CONTACT_WORK', 'AFTER_CONTACT_WORK');
      assert.equal(acw.disconnect_reason, 'AGENT_DISCONNECT', JSON.stringify(acw));
      const clear = await agentPost(d, ctx.iid, ok, cid, 'end');
      assert.equal(clear.status, 200, show(clear));
      const rec = await waitContact(d, ctx.admin, ctx.iid, cid, (x) => x.state === 'ENDED', 'ENDED');
      assert.equal(rec.channel, 'CALLBACK', JSON.stringify(rec));
      assert.equal(rec.disconnect_reason, 'AGENT_DISCONNECT', JSON.stringify(rec));
      assert.ok(rec.after_contact_work_end_timestamp, JSON.stringify(rec));
      assert.equal(rec.agent?.id, ok.id, JSON.stringify(rec));
      assert.equal(rec.queue?.id, ctx.queue.id, JSON.stringify(rec));
      assert.equal(rec.attributes.callback_outcome, 'NO_ANSWER', JSON.stringify(rec.attributes));
      assert.equal(rec.attributes.callback_note, 'rang 8 times', JSON.stringify(rec.attributes));
      assert.equal(endpointNumber(rec), n.e164, JSON.stringify(rec.customer_endpoint));
      assert.equal(rec.customer_endpoint?.display_name, 'Grace', JSON.stringify(rec.customer_endpoint));
      const after = await agentPost(d, ctx.iid, ok, cid, 'outcome', { outcome: 'CONNECTED' });
      assert.ok([404, 409].includes(after.status), `an outcome after the contact ended: ${show(after)}`);
    } finally {
      await closeAll(noOutbound, noCapacity, ok);
    }
  });

  test('every outcome is accepted and stored', async () => {
    const ctx = await setupCallbackCenter(d, init.key, { agents: 1, concurrency: { CHAT: 1, CALLBACK: 1 } });
    const [agent] = ctx.agents;
    try {
      await readyAgent(d, ctx.iid, agent);
      for (const outcome of ['CONNECTED', 'NO_ANSWER', 'BUSY', 'VOICEMAIL', 'WRONG_NUMBER', 'DECLINED']) {
        const r = await callbackFrom(d, ctx, nextV4(), nextNumber().national);
        assert.equal(r.status, 201, show(r));
        const cid = r.json.contact_id;
        await agent.stream.next(isOffer(cid), { what: `the offer for ${outcome}` });
        assert.equal((await agentPost(d, ctx.iid, agent, cid, 'accept')).status, 200);
        const o = await agentPost(d, ctx.iid, agent, cid, 'outcome', { outcome });
        assert.ok(o.status === 200 || o.status === 204, `${outcome}: ${show(o)}`);
        assert.equal((await agentPost(d, ctx.iid, agent, cid, 'end')).status, 200);
        assert.equal((await agentPost(d, ctx.iid, agent, cid, 'end')).status, 200);
        const rec = await waitContact(d, ctx.admin, ctx.iid, cid, (x) => x.state === 'ENDED', `${outcome} ENDED`);
        assert.equal(rec.attributes.callback_outcome, outcome, JSON.stringify(rec.attributes));
        assert.ok(!('callback_note' in rec.attributes) || rec.attributes.callback_note === '' || rec.attributes.callback_note === null,
          `a note without one given: ${JSON.stringify(rec.attributes)}`);
      }
    } finally {
      await closeAll(agent);
    }
  });

  test('a CALLBACK capacity of 1: a second callback waits until the first is done; a chat is offered alongside', async () => {
    const ctx = await setupCallbackCenter(d, init.key, { agents: 1, concurrency: { CHAT: 1, CALLBACK: 1 } });
    const [agent] = ctx.agents;
    let chat;
    try {
      await readyAgent(d, ctx.iid, agent);
      const r1 = await callbackFrom(d, ctx, nextV4(), nextNumber().national);
      const r2 = await callbackFrom(d, ctx, nextV4(), nextNumber().national);
      assert.equal(r1.status, 201, show(r1));
      assert.equal(r2.status, 201, show(r2));
      await agent.stream.next(isOffer(r1.json.contact_id), { what: 'the first callback offer' });
      assert.equal((await agentPost(d, ctx.iid, agent, r1.json.contact_id, 'accept')).status, 200);
      // A chat still fits (CHAT 1).
      chat = await queuedCustomer(d, ctx);
      await agent.stream.next(isOffer(chat.cid), { what: 'the chat offer while on a callback' });
      assert.equal((await agentPost(d, ctx.iid, agent, chat.cid, 'accept')).status, 200);
      await agent.stream.barrier();
      assert.equal(agent.stream.seen(isOffer(r2.json.contact_id)).length, 0, 'a second callback was offered beyond CALLBACK 1');
      const q = await getContact(d, ctx.admin, ctx.iid, r2.json.contact_id);
      assert.equal(q.json.state, 'QUEUED', show(q));
      // Done with the first: the second comes.
      const o = await agentPost(d, ctx.iid, agent, r1.json.contact_id, 'outcome', { outcome: 'CONNECTED' });
      assert.ok(o.status === 200 || o.status === 204, show(o));
      assert.equal((await agentPost(d, ctx.iid, agent, r1.json.contact_id, 'end')).status, 200);
      assert.equal((await agentPost(d, ctx.iid, agent, r1.json.contact_id, 'end')).status, 200);
      await agent.stream.next(isOffer(r2.json.contact_id), { what: 'the second callback once the first is done' });
    } finally {
      await closeAll(chat, agent);
    }
  });

  test('a flow block that needs an answer takes its error branch at once on a callback', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    // The chat flow: hours → greet → ask (GetParticipantInput, 60 s; NoMatchingError → bye).
    const ep = await createEntryPoint(d, ctx.admin, ctx.iid, ctx.flow.id, { type: 'CALLBACK' });
    const r = await callbackFrom(d, ctx, nextV4(), nextNumber().national, { entryPoint: ep.id });
    assert.equal(r.status, 201, show(r));
    const cid = r.json.contact_id;
    // Within waitContact's 5 s, far below the block's 60 s input limit.
    const rec = await waitContact(d, ctx.admin, ctx.iid, cid, (x) => x.state === 'ENDED', 'the callback ended by its flow');
    assert.equal(rec.disconnect_reason, 'CONTACT_FLOW_DISCONNECT', JSON.stringify(rec));
    assert.equal(rec.queue, null, JSON.stringify(rec));
    const log = await api(d.url, 'GET', `/v1/instances/${ctx.iid}/contacts/${cid}/flow-log`, { key: ctx.admin });
    assert.equal(log.status, 200, show(log));
    assert.ok(log.json.items.some((x) => x.action_id === 'ask' && x.branch === 'NoMatchingError'),
      `the input block did not take NoMatchingError: ${log.text}`);
    assert.ok(log.json.items.some((x) => x.action_id === 'bye'), log.text);
  });
});

describe('callbacks with chat_idle_timeout_s = 2', () => {
  let init;
  let d;
  before(async () => {
    init = await initData();
    d = await startFraudDaemon(init.data, { BULWARK_CHAT_IDLE_TIMEOUT_S: '2' });
  });
  after(async () => {
    const code = await d?.stop();
    removeTempDir(init.dir);
    assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
  });

  test('a queued callback never idles out while a chat queued after it does', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    let chat;
    try {
      const r = await callbackFrom(d, ctx, nextV4(), nextNumber().national);
      assert.equal(r.status, 201, show(r));
      await waitContact(d, ctx.admin, ctx.iid, r.json.contact_id, (x) => x.state === 'QUEUED', 'the callback QUEUED');
      chat = await queuedCustomer(d, ctx);
      const ended = await waitContact(d, ctx.admin, ctx.iid, chat.cid, (x) => x.state === 'ENDED', 'the chat idling out');
      assert.equal(ended.disconnect_reason, 'IDLE_TIMEOUT', JSON.stringify(ended));
      const cb = await getContact(d, ctx.admin, ctx.iid, r.json.contact_id);
      assert.equal(cb.status, 200, show(cb));
      assert.equal(cb.json.state, 'QUEUED', `the callback (older than the idle chat) idled out: ${show(cb)}`);
      assert.equal(cb.json.disconnect_reason, null, show(cb));
    } finally {
      await closeAll(chat);
    }
  });
});
