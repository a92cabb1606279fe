// The chat channel end to end (docs/api.md "Contact center: chats, agents,
// contacts"): a customer starts a chat, the flow greets, asks for a phone
// number, validates it and queues the contact; the longest-idle agent gets
// the offer, accepts, messages flow both ways and are echoed to both sides;
// the customer ends; the contact record, search, transcript and flow log are
// complete. Also: closed hours, an invalid number, reconnects (agent and
// customer), stopping a contact, and who may see or touch a contact.
//
// Each test builds its own instance (lib/chat.mjs setupCenter), so agents and
// queues of one test never see the contacts of another. No sleeps: every wait
// is for a frame, a record state or a pong.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { initData, startDaemon, removeTempDir, api, show, assertHealthy } from './lib/daemon.mjs';
import { assertError, createInstance, loginToken, userWithToken } from './lib/identity.mjs';
import {
  TEXT, PHONE, PHONE_E164, PHONE_DIGITS, TIME_RE, TIME_MS_RE,
  setupCenter, createAgent, openSocket, upgradeStatus, bearer, agentStreamUrl,
  isMessage, isSystem, isEvent, isOffer, isContactState, about,
  connectAgent, makeAvailable, readyAgent, agentPost, takeOffer,
  chatStart, startCustomer, reopenCustomer, say, queuedCustomer,
  getContact, waitContact, listAll, helloLists,
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

/** Close every socket given (customers' and agents'), ignoring the absent. */
async function closeAll(...things) {
  for (const t of things.flat()) {
    const c = t?.sock ?? t?.stream ?? t;
    if (c?.close) await c.close();
  }
}

const C = (iid, s = '') => `/v1/instances/${iid}/contacts${s}`;

/** Distinct action ids of a flow log in order of first appearance. */
function actionPath(items) {
  const out = [];
  for (const e of items) if (out[out.length - 1] !== e.action_id && !out.includes(e.action_id)) out.push(e.action_id);
  return out;
}

async function flowLog(ctx, cid) {
  const r = await api(d.url, 'GET', C(ctx.iid, `/${cid}/flow-log`), { key: ctx.admin });
  assert.equal(r.status, 200, `flow log: ${show(r)}`);
  assert.ok(Array.isArray(r.json.items), show(r));
  return r;
}

describe('a whole chat', () => {
  test('greeting, phone number, queue, the longest-idle of two agents, messages both ways, customer ends; record, search, transcript, flow log', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 2, concurrency: { CHAT: 1 } });
    const [a1, a2] = ctx.agents;
    let customer;
    try {
      await connectAgent(d, ctx.iid, a1);
      await connectAgent(d, ctx.iid, a2);
      for (const a of [a1, a2]) {
        assert.equal(a.hello.agent_id, a.id, JSON.stringify(a.hello));
        assert.deepEqual(a.hello.contacts, [], JSON.stringify(a.hello));
        assert.equal(a.hello.offer, null, JSON.stringify(a.hello));
      }
      // a1 becomes Available first: a1 is the longest idle.
      await makeAvailable(d, a1);
      await makeAvailable(d, a2);

      const startedAt = Date.now();
      const r = await chatStart(d, ctx.iid, {
        entry_point: ctx.entryPoint.id, display_name: 'Ada', email: 'ada@example.com', attributes: { order: 'A-1001' },
      });
      assert.equal(r.status, 201, show(r));
      assert.match(r.json.contact_id, /^ct_/, show(r));
      assert.match(r.json.participant_token, /^bwc_[A-Za-z0-9_-]+$/, show(r));
      assert.equal(r.json.websocket_url, `${d.wsUrl}/v1/public/chat`, show(r));
      const cid = r.json.contact_id;
      customer = { chat: r.json, cid, token: r.json.participant_token };
      customer.sock = await openSocket(r.json.websocket_url, bearer(customer.token));
      assert.equal(customer.sock.ws.protocol, 'bulwark.v1');
      const sock = customer.sock;

      // The flow of version 2 runs: greeting, then the question.
      const greeting = await sock.next(isSystem(TEXT.greeting), { what: 'the greeting of version 2' });
      assert.match(greeting.id, /^ms_/, JSON.stringify(greeting));
      assert.match(greeting.time, TIME_RE, JSON.stringify(greeting));
      const ask = await sock.next(isSystem(TEXT.ask), { what: 'the question' });
      const firstMessages = sock.seen((f) => f.type === 'message');
      assert.deepEqual(firstMessages.map((m) => m.content), [TEXT.greeting, TEXT.ask], 'the first messages of the chat');
      assert.notEqual(ask.id, greeting.id);

      const numberEcho = await say(customer, PHONE);
      assert.match(numberEcho.id, /^ms_/);
      assert.equal(numberEcho.display_name, 'Ada', JSON.stringify(numberEcho));
      await sock.next(isSystem(TEXT.thanks), { what: 'the thanks after a valid number' });
      assert.equal(sock.seen(isSystem(TEXT.invalid)).length, 0, 'a valid number took the InvalidInput branch');

      // The longest-idle agent gets the offer.
      const offer = await a1.stream.next(isOffer(cid), { what: 'the offer to the longest-idle agent' });
      const offeredAt = Date.now();
      assert.equal(offer.channel, 'CHAT', JSON.stringify(offer));
      assert.equal(offer.queue_id, ctx.queue.id, JSON.stringify(offer));
      assert.equal(offer.display_name, 'Ada', JSON.stringify(offer));
      assert.equal(offer.attributes?.callback_number, PHONE_E164, JSON.stringify(offer));
      assert.equal(offer.attributes?.order, 'A-1001', JSON.stringify(offer));
      const expires = Date.parse(offer.expires_at);
      assert.ok(expires > offeredAt + 10000 && expires <= offeredAt + 21000,
        `expires_at ${offer.expires_at} is not about offer_timeout_s (20 s) after the offer`);

      const acc = await agentPost(d, ctx.iid, a1, cid, 'accept');
      assert.equal(acc.status, 200, show(acc));
      assert.equal(acc.json.id, cid, show(acc));
      assert.equal(acc.json.state, 'CONNECTED', show(acc));
      await a1.stream.next(isContactState(cid, 'CONNECTED'), { what: 'contact CONNECTED on the agent stream' });
      await sock.next(isEvent('joined', { participant_role: 'AGENT' }), { what: 'the agent joined event' });

      // Customer → both.
      const m1 = await say(customer, 'My order has not arrived.');
      const m1a = await a1.stream.next(about(cid, isMessage('CUSTOMER', 'My order has not arrived.')), { what: 'the customer message on the agent stream' });
      assert.equal(m1a.id, m1.id, 'the same message has two ids');

      // Agent over REST → both.
      const p = await agentPost(d, ctx.iid, a1, cid, 'messages', { content: 'Sorry to hear that, Ada. Let me check.' });
      assert.equal(p.status, 201, show(p));
      assert.match(p.json.id, /^ms_/, show(p));
      assert.equal(p.json.participant_role, 'AGENT', show(p));
      assert.equal(p.json.content, 'Sorry to hear that, Ada. Let me check.', show(p));
      const m2c = await sock.next(isMessage('AGENT', 'Sorry to hear that, Ada. Let me check.'), { what: 'the agent REST message on the customer socket' });
      assert.equal(m2c.id, p.json.id);
      const m2a = await a1.stream.next(about(cid, isMessage('AGENT', 'Sorry to hear that, Ada. Let me check.')), { what: 'the echo of the agent REST message' });
      assert.equal(m2a.id, p.json.id);

      // Agent over the stream → both.
      a1.stream.send({ type: 'message', contact_id: cid, content: 'It ships tomorrow.\nTracking follows.' });
      const m3c = await sock.next(isMessage('AGENT', 'It ships tomorrow.\nTracking follows.'), { what: 'the agent frame message on the customer socket' });
      const m3a = await a1.stream.next(about(cid, isMessage('AGENT', 'It ships tomorrow.\nTracking follows.')), { what: 'the echo of the agent frame message' });
      assert.equal(m3a.id, m3c.id);

      // Typing both ways.
      sock.send({ type: 'typing' });
      await a1.stream.next(about(cid, isEvent('typing')), { what: 'customer typing on the agent stream' });
      a1.stream.send({ type: 'typing', contact_id: cid });
      await sock.next(isEvent('typing'), { what: 'agent typing on the customer socket' });

      const m4 = await say(customer, 'Thanks, bye!');
      await a1.stream.next(about(cid, isMessage('CUSTOMER', 'Thanks, bye!')));

      // The customer ends: ended for the customer, after-contact work for the agent.
      sock.send({ type: 'end' });
      const ended = await sock.next(isEvent('ended'), { what: 'the ended event' });
      assert.equal(ended.reason, 'CUSTOMER_DISCONNECT', JSON.stringify(ended));
      await a1.stream.next(isContactState(cid, 'AFTER_CONTACT_WORK'), { what: 'AFTER_CONTACT_WORK on the agent stream' });
      const inAcw = await waitContact(d, ctx.admin, ctx.iid, cid, (x) => x.disconnect_reason !== null, 'the disconnected record');
      assert.equal(inAcw.state, 'AFTER_CONTACT_WORK', JSON.stringify(inAcw));
      assert.equal(inAcw.after_contact_work_end_timestamp, null, JSON.stringify(inAcw));
      const clear = await agentPost(d, ctx.iid, a1, cid, 'end');
      assert.equal(clear.status, 200, `clearing after-contact work: ${show(clear)}`);

      // Nobody else was offered this contact; a1 was offered it once.
      await a2.stream.barrier();
      assert.deepEqual(a2.stream.seen(isOffer()), [], 'the second agent got an offer');
      assert.equal(a1.stream.seen(isOffer(cid)).length, 1);

      // The record.
      const rec = await waitContact(d, ctx.admin, ctx.iid, cid,
        (x) => x.state === 'ENDED' && x.after_contact_work_end_timestamp, 'the ended record with its after-contact work end');
      assert.equal(rec.id, cid);
      assert.equal(rec.instance_id, ctx.iid);
      assert.equal(rec.channel, 'CHAT');
      assert.equal(rec.initiation_method, 'API');
      assert.equal(rec.entry_point_id, ctx.entryPoint.id);
      assert.equal(rec.flow_id, ctx.flow.id);
      assert.equal(rec.flow_version, 2, 'the contact ran the latest published version');
      assert.equal(rec.customer_endpoint?.type, 'CHAT', JSON.stringify(rec));
      assert.equal(rec.customer_endpoint.display_name, 'Ada');
      assert.equal(rec.customer_endpoint.email, 'ada@example.com');
      assert.equal(rec.customer_endpoint.address, '127.0.0.1');
      assert.equal(rec.queue?.id, ctx.queue.id, JSON.stringify(rec));
      assert.equal(rec.agent?.id, a1.id, JSON.stringify(rec));
      assert.equal(rec.attributes?.callback_number, PHONE_E164, JSON.stringify(rec));
      assert.equal(rec.attributes.order, 'A-1001');
      assert.equal(rec.disconnect_reason, 'CUSTOMER_DISCONNECT');
      const times = {
        initiation: rec.initiation_timestamp,
        enqueue: rec.queue.enqueue_timestamp,
        dequeue: rec.queue.dequeue_timestamp,
        connected: rec.agent.connected_timestamp,
        disconnect: rec.disconnect_timestamp,
        acwEnd: rec.after_contact_work_end_timestamp,
      };
      for (const [k, v] of Object.entries(times)) assert.match(String(v), TIME_MS_RE, `${k} timestamp ${v}`);
      const ms = Object.values(times).map(Date.parse);
      for (let i = 1; i < ms.length; i++) {
        assert.ok(ms[i - 1] <= ms[i], `record times out of order: ${JSON.stringify(times)}`);
      }
      assert.ok(ms[0] >= startedAt - 2000 && ms[5] <= Date.now() + 2000, `record times off the clock: ${JSON.stringify(times)}`);

      // Search finds it by channel, queue and agent; other filters exclude it.
      const q = `channel=CHAT&queue_id=${ctx.queue.id}&agent_id=${a1.id}`;
      const found = await listAll(d, ctx.admin, C(ctx.iid, `?${q}`));
      assert.ok(found.some((x) => x.id === cid), `search ${q} misses ${cid}: ${JSON.stringify(found).slice(0, 500)}`);
      assert.ok((await listAll(d, ctx.admin, C(ctx.iid, '?state=ENDED'))).some((x) => x.id === cid), 'state=ENDED misses it');
      assert.ok(!(await listAll(d, ctx.admin, C(ctx.iid, `?agent_id=${a2.id}`))).some((x) => x.id === cid), 'agent_id of the other agent finds it');
      assert.ok(!(await listAll(d, ctx.admin, C(ctx.iid, '?channel=CALLBACK'))).some((x) => x.id === cid), 'channel=CALLBACK finds it');
      const before = new Date(startedAt - 3600e3).toISOString();
      assert.ok((await listAll(d, ctx.admin, C(ctx.iid, `?since=${before}`))).some((x) => x.id === cid), 'since an hour ago misses it');
      assert.ok(!(await listAll(d, ctx.admin, C(ctx.iid, `?until=${before}`))).some((x) => x.id === cid), 'until an hour ago finds it');

      // The transcript: every message of the chat, in the order the customer saw them.
      const seenIds = sock.seen((f) => f.type === 'message').map((m) => m.id);
      const transcript = await listAll(d, ctx.admin, C(ctx.iid, `/${cid}/transcript`));
      assert.deepEqual(transcript.map((m) => m.id), seenIds, 'the transcript is not the chat as the customer saw it');
      assert.deepEqual(transcript.map((m) => [m.participant_role, m.content]), [
        ['SYSTEM', TEXT.greeting], ['SYSTEM', TEXT.ask], ['CUSTOMER', PHONE], ['SYSTEM', TEXT.thanks],
        ['CUSTOMER', 'My order has not arrived.'], ['AGENT', 'Sorry to hear that, Ada. Let me check.'],
        ['AGENT', 'It ships tomorrow.\nTracking follows.'], ['CUSTOMER', 'Thanks, bye!'],
      ]);
      assert.ok(transcript.every((m) => TIME_RE.test(m.time)), JSON.stringify(transcript).slice(0, 500));
      // display_name: the customer's, the agent's first name, SYSTEM.
      const names = { CUSTOMER: 'Ada', AGENT: a1.user.first_name, SYSTEM: 'SYSTEM' };
      for (const m of transcript) assert.equal(m.display_name, names[m.participant_role], JSON.stringify(m));
      assert.equal(transcript[transcript.length - 1].id, m4.id);
      const paged = await listAll(d, ctx.admin, C(ctx.iid, `/${cid}/transcript`), 3);
      assert.deepEqual(paged.map((m) => m.id), seenIds, 'the transcript paged by 3 differs');

      // The flow log: blocks and branches, in order, never a value.
      const log = await flowLog(ctx, cid);
      assert.deepEqual(actionPath(log.json.items), ['hours', 'greet', 'ask', 'check', 'thanks', 'queue'], log.text);
      const types = { hours: 'CheckHoursOfOperation', greet: 'MessageParticipant', ask: 'GetParticipantInput', check: 'ValidateInput', thanks: 'MessageParticipant', queue: 'TransferContactToQueue' };
      for (const e of log.json.items) {
        assert.deepEqual(Object.keys(e).sort(), ['action_id', 'action_type', 'branch', 'time'], JSON.stringify(e));
        assert.equal(e.action_type, types[e.action_id], JSON.stringify(e));
        assert.equal(typeof e.branch, 'string', JSON.stringify(e));
        assert.match(e.time, TIME_RE, JSON.stringify(e));
      }
      assert.ok(!log.json.items.some((e) => e.action_id === 'check' && e.branch === 'InvalidInput'), log.text);
      for (const secret of [PHONE_DIGITS, '456-1111', PHONE, 'A-1001', 'ada@example.com']) {
        assert.ok(!log.text.includes(secret), `the flow log holds ${secret}`);
      }
      for (const secret of [PHONE_DIGITS, '456-1111', 'ada@example.com']) {
        assert.ok(!d.stderr.includes(secret), `the daemon log holds ${secret}`);
      }
    } finally {
      await closeAll(customer, a1, a2);
    }
  });
});

describe('contact reads: search order, paging, audit', () => {
  test('search is newest first and pages; reads of records and transcripts are audited, the flow log is not', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const cs = [];
    try {
      for (let i = 0; i < 3; i++) {
        const c = await queuedCustomer(d, ctx, { display_name: `Customer ${i}` });
        await waitContact(d, ctx.admin, ctx.iid, c.cid, (x) => x.state === 'QUEUED', 'QUEUED');
        cs.push(c);
      }
      const all = await listAll(d, ctx.admin, C(ctx.iid));
      assert.deepEqual(all.map((x) => x.id), cs.map((c) => c.cid).reverse(), 'not newest first');
      const paged = await listAll(d, ctx.admin, C(ctx.iid), 1);
      assert.deepEqual(paged.map((x) => x.id), all.map((x) => x.id), 'paging by 1 differs');
      const queuedOnly = await listAll(d, ctx.admin, C(ctx.iid, '?state=QUEUED'));
      assert.equal(queuedOnly.length, 3);
      assert.equal(all[0].customer_endpoint?.display_name, 'Customer 2', JSON.stringify(all[0]));

      const cid = cs[0].cid;
      const rid = (what) => `chat-${what}-${process.pid}-${Date.now()}`;
      const reads = {
        'contacts.get': [C(ctx.iid, `/${cid}`), rid('get')],
        'contacts.transcript': [C(ctx.iid, `/${cid}/transcript`), rid('transcript')],
        'contacts.search': [C(ctx.iid, '?channel=CHAT'), rid('search')],
      };
      for (const [, [p, requestId]] of Object.entries(reads)) {
        const r = await api(d.url, 'GET', p, { key: ctx.admin, headers: { 'x-request-id': requestId } });
        assert.equal(r.status, 200, show(r));
      }
      const flowReq = rid('flowlog');
      assert.equal((await api(d.url, 'GET', C(ctx.iid, `/${cid}/flow-log`), { key: ctx.admin, headers: { 'x-request-id': flowReq } })).status, 200);
      const agentProfileUser = await createAgent(d, ctx.admin, ctx.iid, { profiles: [ctx.profiles.Agent.id] });
      const deniedReq = rid('denied');
      assert.equal((await api(d.url, 'GET', C(ctx.iid, `/${cid}`), { key: agentProfileUser.token, headers: { 'x-request-id': deniedReq } })).status, 403);

      const events = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/audit-events`);
      const byRequest = new Map(events.map((e) => [e.request_id, e]));
      for (const [action, [p, requestId]] of Object.entries(reads)) {
        const e = byRequest.get(requestId);
        assert.ok(e, `no audit event for ${action} (GET ${p})`);
        assert.equal(e.action, action, JSON.stringify(e));
        assert.equal(e.result, 'allowed', JSON.stringify(e));
        assert.equal(e.principal?.id, ctx.instance.adminUserId, JSON.stringify(e));
      }
      const denied = byRequest.get(deniedReq);
      assert.ok(denied, 'no audit event for a refused contact read');
      assert.equal(denied.action, 'contacts.get');
      assert.equal(denied.result, 'denied');
      assert.equal(byRequest.get(flowReq), undefined, 'a flow-log read was audited');
      for (const e of events) {
        assert.ok(!JSON.stringify(e).includes('Customer 0'), `an audit event holds customer data: ${JSON.stringify(e)}`);
      }
    } finally {
      await closeAll(cs);
    }
  });
});

describe('flow branches', () => {
  test('closed hours: the False branch sends the closed message and disconnects with CONTACT_FLOW_DISCONNECT', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1, open: false });
    const [a1] = ctx.agents;
    let customer;
    try {
      await readyAgent(d, ctx.iid, a1);
      customer = await startCustomer(d, ctx);
      await customer.sock.next(isSystem(TEXT.closed), { what: 'the closed message' });
      const ended = await customer.sock.next(isEvent('ended'), { what: 'the ended event' });
      assert.equal(ended.reason, 'CONTACT_FLOW_DISCONNECT', JSON.stringify(ended));
      assert.equal(customer.sock.seen(isSystem(TEXT.greeting)).length, 0, 'closed hours greeted as if open');
      const rec = await waitContact(d, ctx.admin, ctx.iid, customer.cid, (x) => x.state === 'ENDED', 'the ended record');
      assert.equal(rec.disconnect_reason, 'CONTACT_FLOW_DISCONNECT', JSON.stringify(rec));
      assert.equal(rec.queue, null, JSON.stringify(rec));
      assert.equal(rec.agent, null, JSON.stringify(rec));
      assert.match(rec.disconnect_timestamp, TIME_MS_RE);
      const log = await flowLog(ctx, customer.cid);
      assert.deepEqual(actionPath(log.json.items), ['hours', 'closed', 'bye'], log.text);
      await a1.stream.barrier();
      assert.deepEqual(a1.stream.seen(isOffer()), [], 'a contact of closed hours was offered');
    } finally {
      await closeAll(customer, a1);
    }
  });

  test('an invalid phone number takes the InvalidInput branch, writes no attribute; a valid one then queues', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    let customer;
    try {
      customer = await startCustomer(d, ctx);
      const { sock } = customer;
      await sock.next(isSystem(TEXT.greeting));
      await sock.next(isSystem(TEXT.ask));
      await say(customer, '12');
      await sock.next(isSystem(TEXT.invalid), { what: 'the InvalidInput branch message' });
      await sock.next(isSystem(TEXT.ask), { what: 'the question again' });
      assert.equal(sock.seen(isSystem(TEXT.thanks)).length, 0, 'an invalid number took the valid branch');
      const live = await getContact(d, ctx.admin, ctx.iid, customer.cid);
      assert.equal(live.status, 200, show(live));
      assert.equal(live.json.attributes?.callback_number, undefined, `an invalid number was written: ${show(live)}`);
      assert.equal(live.json.disconnect_reason, null, show(live));

      await say(customer, PHONE);
      await sock.next(isSystem(TEXT.thanks), { what: 'the thanks after a valid number' });
      const rec = await waitContact(d, ctx.admin, ctx.iid, customer.cid, (x) => x.state === 'QUEUED', 'the queued record');
      assert.equal(rec.attributes.callback_number, PHONE_E164);
      assert.equal(rec.queue?.id, ctx.queue.id);
      assert.match(rec.queue.enqueue_timestamp, TIME_MS_RE);
      assert.equal(rec.queue.dequeue_timestamp, null, JSON.stringify(rec));

      const log = await flowLog(ctx, customer.cid);
      assert.deepEqual(actionPath(log.json.items), ['hours', 'greet', 'ask', 'check', 'retry', 'thanks', 'queue'], log.text);
      const checks = log.json.items.filter((e) => e.action_id === 'check');
      assert.ok(checks.length >= 2, log.text);
      assert.equal(checks[0].branch, 'InvalidInput', log.text);
      assert.notEqual(checks[checks.length - 1].branch, 'InvalidInput', log.text);
    } finally {
      await closeAll(customer);
    }
  });
});

describe('reconnects', () => {
  test('agent: the stream closes while connected to a contact; reopened, the hello lists it and messages still flow', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    let customer;
    try {
      await readyAgent(d, ctx.iid, a1);
      customer = await queuedCustomer(d, ctx);
      await takeOffer(d, ctx.iid, a1, customer.cid);
      await say(customer, 'first');
      await a1.stream.next(about(customer.cid, isMessage('CUSTOMER', 'first')));

      await a1.stream.close();
      await connectAgent(d, ctx.iid, a1);
      assert.ok(helloLists(a1.hello, customer.cid), `the hello after a reconnect does not list the contact: ${JSON.stringify(a1.hello)}`);

      await say(customer, 'second');
      await a1.stream.next(about(customer.cid, isMessage('CUSTOMER', 'second')), { what: 'a customer message on the new stream' });
      const p = await agentPost(d, ctx.iid, a1, customer.cid, 'messages', { content: 'still here' });
      assert.equal(p.status, 201, show(p));
      await customer.sock.next(isMessage('AGENT', 'still here'), { what: 'the agent message after the reconnect' });
      a1.stream.send({ type: 'message', contact_id: customer.cid, content: 'from the new stream' });
      await customer.sock.next(isMessage('AGENT', 'from the new stream'));
      await a1.stream.next(about(customer.cid, isMessage('AGENT', 'from the new stream')));
      const rec = await getContact(d, ctx.admin, ctx.iid, customer.cid);
      assert.equal(rec.json.state, 'CONNECTED', show(rec));
      assert.equal(rec.json.disconnect_reason, null, show(rec));
    } finally {
      await closeAll(customer, a1);
    }
  });

  test('customer: a socket that opens later first receives every message so far, in order; the flow does not restart', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    let customer;
    let again;
    try {
      await readyAgent(d, ctx.iid, a1);
      customer = await queuedCustomer(d, ctx, { viaQuery: true });
      await takeOffer(d, ctx.iid, a1, customer.cid);
      const p = await agentPost(d, ctx.iid, a1, customer.cid, 'messages', { content: 'Hi, I am here.' });
      assert.equal(p.status, 201, show(p));
      await customer.sock.next(isMessage('AGENT', 'Hi, I am here.'));
      const before = customer.sock.seen((f) => f.type === 'message').map((m) => m.id);
      await customer.sock.close();

      again = await reopenCustomer(customer);
      for (const id of before) {
        const m = await again.next((f) => f.type === 'message', { what: `the replay of ${id}` });
        assert.equal(m.id, id, `replay out of order: ${again.tail()}`);
      }
      customer.sock = again;
      await say(customer, 'back again');
      await a1.stream.next(about(customer.cid, isMessage('CUSTOMER', 'back again')), { what: 'a message from the new socket at the agent' });
      assert.equal(again.seen(isSystem(TEXT.greeting)).length, 1, 'the flow ran again on reconnect');
    } finally {
      await closeAll(customer, again, a1);
    }
  });
});

describe('stopping a contact (Contacts.Stop)', () => {
  test('POST .../stop ends a queued contact and a connected one with API; 409 when ended; 403 without Contacts.Stop; 404 unknown', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    const manager = await userWithToken(d, ctx.admin, ctx.iid, [ctx.profiles.CallCenterManager.id]);
    let c1;
    let c2;
    try {
      // Queued, nobody available.
      c1 = await queuedCustomer(d, ctx);
      await waitContact(d, ctx.admin, ctx.iid, c1.cid, (x) => x.state === 'QUEUED', 'the queued record');
      assertError(await api(d.url, 'POST', C(ctx.iid, `/${c1.cid}/stop`), { key: a1.token }), 403, 'AccessDenied', undefined, 'an Agent stops');
      const s1 = await api(d.url, 'POST', C(ctx.iid, `/${c1.cid}/stop`), { key: ctx.admin });
      assert.equal(s1.status, 200, show(s1));
      const e1 = await c1.sock.next(isEvent('ended'), { what: 'ended after stop' });
      assert.equal(e1.reason, 'API', JSON.stringify(e1));
      const r1 = await waitContact(d, ctx.admin, ctx.iid, c1.cid, (x) => x.state === 'ENDED', 'the stopped record');
      assert.equal(r1.disconnect_reason, 'API');
      assertError(await api(d.url, 'POST', C(ctx.iid, `/${c1.cid}/stop`), { key: ctx.admin }), 409, 'Conflict', undefined, 'stop twice');

      // Connected to an agent; stopped by a CallCenterManager.
      await readyAgent(d, ctx.iid, a1);
      c2 = await queuedCustomer(d, ctx);
      await takeOffer(d, ctx.iid, a1, c2.cid);
      const s2 = await api(d.url, 'POST', C(ctx.iid, `/${c2.cid}/stop`), { key: manager.token });
      assert.equal(s2.status, 200, show(s2));
      const e2 = await c2.sock.next(isEvent('ended'), { what: 'ended after stop' });
      assert.equal(e2.reason, 'API', JSON.stringify(e2));
      await a1.stream.next(isContactState(c2.cid, ['AFTER_CONTACT_WORK', 'ENDED']), { what: 'the stopped contact on the agent stream' });
      const r2 = await waitContact(d, ctx.admin, ctx.iid, c2.cid, (x) => x.disconnect_reason !== null, 'the stopped record');
      assert.equal(r2.disconnect_reason, 'API');
      assert.equal(r2.agent?.id, a1.id);
      assertError(await agentPost(d, ctx.iid, a1, c2.cid, 'messages', { content: 'too late' }), 409, 'Conflict', undefined, 'a message after the stop');
      assertError(await api(d.url, 'POST', C(ctx.iid, `/${c2.cid}/stop`), { key: manager.token }), 409, 'Conflict', undefined, 'stop twice');

      assertError(await api(d.url, 'POST', C(ctx.iid, '/ct_doesnotexist/stop'), { key: ctx.admin }), 404, 'NotFound');
    } finally {
      await closeAll(c1, c2, a1);
    }
  });
});

describe('who may see and touch a contact', () => {
  test('WebSockets without a token, with a wrong one or with the wrong kind → 401', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    const customer = await startCustomer(d, ctx);
    try {
      const chatUrl = `${d.wsUrl}/v1/public/chat`;
      const agentUrl = agentStreamUrl(d, ctx.iid);
      const fake = `bwc_${crypto.randomBytes(32).toString('base64url')}`;
      for (const [url, protocols, what] of [
        [chatUrl, ['bulwark.v1'], 'customer socket, no token'],
        [chatUrl, bearer(fake), 'customer socket, unknown participant token'],
        [chatUrl, bearer(a1.token), 'customer socket, a user session'],
        [chatUrl, bearer(init.key), 'customer socket, the platform key'],
        [agentUrl, ['bulwark.v1'], 'agent stream, no token'],
        [agentUrl, bearer(customer.token), 'agent stream, a participant token'],
        [agentUrl, bearer(init.key), 'agent stream, the platform key'],
        [`${agentUrl}?token=${customer.token}`, ['bulwark.v1'], 'agent stream, ?token= participant'],
      ]) {
        const r = await upgradeStatus(url, protocols);
        assert.equal(r.status, 401, `${what}: ${r.status} ${r.body ?? ''}`);
      }
    } finally {
      await closeAll(customer);
    }
  });

  test('a participant token is refused (401) on /v1/instances/... routes and /v1/me', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const customer = await queuedCustomer(d, ctx);
    try {
      const t = customer.token;
      for (const [m, p, body] of [
        ['GET', C(ctx.iid, `/${customer.cid}`)],
        ['GET', C(ctx.iid, `/${customer.cid}/transcript`)],
        ['GET', C(ctx.iid, `/${customer.cid}/flow-log`)],
        ['GET', C(ctx.iid)],
        ['POST', C(ctx.iid, `/${customer.cid}/stop`)],
        ['POST', `/v1/instances/${ctx.iid}/agent/contacts/${customer.cid}/accept`],
        ['POST', `/v1/instances/${ctx.iid}/agent/contacts/${customer.cid}/messages`, { content: 'hi' }],
        ['GET', `/v1/instances/${ctx.iid}/metrics/real-time`],
        ['GET', '/v1/me'],
      ]) {
        assertError(await api(d.url, m, p, { key: t, body }), 401, 'Unauthenticated', undefined, `${m} ${p} with a participant token`);
      }
      const still = await getContact(d, ctx.admin, ctx.iid, customer.cid);
      assert.equal(still.json.disconnect_reason, null, 'refused calls touched the contact');
    } finally {
      await closeAll(customer);
    }
  });

  test('a customer socket only ever sees its own contact\'s messages', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = ctx.agents;
    let c1;
    let c2;
    try {
      await readyAgent(d, ctx.iid, a1);
      c1 = await queuedCustomer(d, ctx, { display_name: 'One' });
      await takeOffer(d, ctx.iid, a1, c1.cid);
      c2 = await queuedCustomer(d, ctx, { display_name: 'Two' }); // waits: concurrency 1
      await say(c1, 'secret of one');
      await agentPost(d, ctx.iid, a1, c1.cid, 'messages', { content: 'agent to one' });
      await c1.sock.next(isMessage('AGENT', 'agent to one'));
      await say(c2, 'secret of two');
      await c2.sock.barrier();
      await c1.sock.barrier();
      const texts = (c) => c.sock.seen((f) => f.type === 'message').map((m) => m.content);
      for (const leak of ['secret of one', 'agent to one']) assert.ok(!texts(c2).includes(leak), `the other customer saw ${leak}`);
      assert.ok(!texts(c1).includes('secret of two'), 'the first customer saw the second\'s message');
      assert.ok(!c2.sock.log.some((f) => JSON.stringify(f).includes(c1.cid)), 'the other customer saw the first contact id');
      assert.ok(!c2.sock.seen(isEvent('joined')).length, 'the other customer saw the agent join');
    } finally {
      await closeAll(c1, c2, a1);
    }
  });

  test('without Contacts.Handle: no stream (403) and no accept; another agent\'s offer is 404; contact reads need ContactSearch.View', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 2 });
    const [a1, a2] = ctx.agents;
    const analyst = await createAgent(d, ctx.admin, ctx.iid, { profiles: [ctx.profiles.QualityAnalyst.id], routingProfileId: ctx.routingProfile.id });
    const nobody = await createAgent(d, ctx.admin, ctx.iid, { profiles: [], routingProfileId: ctx.routingProfile.id });
    let customer;
    try {
      for (const u of [analyst, nobody]) {
        const r = await upgradeStatus(agentStreamUrl(d, ctx.iid), bearer(u.token));
        assert.equal(r.status, 403, `agent stream without Contacts.Handle: ${r.status} ${r.body ?? ''}`);
      }
      await connectAgent(d, ctx.iid, a2); // open, never Available
      await readyAgent(d, ctx.iid, a1);
      customer = await queuedCustomer(d, ctx);
      await a1.stream.next(isOffer(customer.cid));
      for (const verb of ['accept', 'reject', 'end']) {
        assertError(await agentPost(d, ctx.iid, analyst, customer.cid, verb), 403, 'AccessDenied', undefined, `${verb} without Contacts.Handle`);
        assertError(await agentPost(d, ctx.iid, a2, customer.cid, verb), 404, 'NotFound', undefined, `${verb} of another agent's offer`);
      }
      assertError(await agentPost(d, ctx.iid, a2, customer.cid, 'messages', { content: 'hijack' }), 404, 'NotFound', undefined, 'message on another agent\'s offer');
      assertError(await agentPost(d, ctx.iid, a1, 'ct_doesnotexist', 'accept'), 404, 'NotFound', undefined, 'accept of an unknown contact');
      // The offer is still a1's.
      const acc = await agentPost(d, ctx.iid, a1, customer.cid, 'accept');
      assert.equal(acc.status, 200, `the offer did not survive the refused calls: ${show(acc)}`);

      // Reads: Agent lacks ContactSearch.View and Transcripts.View; QualityAnalyst has both.
      assertError(await getContact(d, a1.token, ctx.iid, customer.cid), 403, 'AccessDenied', undefined, 'an Agent reads a contact');
      assertError(await api(d.url, 'GET', C(ctx.iid, `/${customer.cid}/transcript`), { key: a1.token }), 403, 'AccessDenied');
      assertError(await api(d.url, 'GET', C(ctx.iid), { key: a1.token }), 403, 'AccessDenied');
      const g = await getContact(d, analyst.token, ctx.iid, customer.cid);
      assert.equal(g.status, 200, show(g));
      assert.equal(g.json.id, customer.cid);
      const tr = await api(d.url, 'GET', C(ctx.iid, `/${customer.cid}/transcript`), { key: analyst.token });
      assert.equal(tr.status, 200, show(tr));
      assertError(await getContact(d, ctx.admin, ctx.iid, 'ct_doesnotexist'), 404, 'NotFound');
    } finally {
      await closeAll(customer, a1, a2);
    }
  });

  test('a user of another instance gets 404 on the contact, on either path', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const B = await createInstance(d, init.key);
    const adminB = await loginToken(d, B.id, B.adminUsername);
    const customer = await queuedCustomer(d, ctx);
    try {
      const cid = customer.cid;
      for (const iid of [ctx.iid, B.id]) {
        for (const [m, s] of [['GET', `/${cid}`], ['GET', `/${cid}/transcript`], ['GET', `/${cid}/flow-log`], ['POST', `/${cid}/stop`]]) {
          assertError(await api(d.url, m, C(iid, s), { key: adminB }), 404, 'NotFound', undefined, `B's admin: ${m} ${C(iid, s)}`);
        }
        assertError(await agentPost(d, iid, adminB, cid, 'accept'), 404, 'NotFound', undefined, `B's admin accepts under ${iid}`);
      }
      assert.ok(!(await listAll(d, adminB, C(B.id))).some((x) => x.id === cid), 'B\'s search lists A\'s contact');
      const r = await upgradeStatus(agentStreamUrl(d, ctx.iid), bearer(adminB));
      assert.equal(r.status, 404, `B's admin opens A's agent stream: ${r.status}`);
      const rec = await getContact(d, ctx.admin, ctx.iid, cid);
      assert.equal(rec.json.disconnect_reason, null, 'B stopped A\'s contact');
    } finally {
      await closeAll(customer);
    }
  });

  test('the daemon is healthy after all of the above', async () => {
    await assertHealthy(assert, d, 'the chat tests');
  });
});
