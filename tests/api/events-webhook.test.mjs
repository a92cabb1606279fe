// Event subscriptions with a webhook sink (C18, C19; docs/api.md "Event
// subscriptions (C18) and sinks (C19)", "Role tokens", "Integrations"),
// black-box, against a receiver of the test on 127.0.0.1:
//
// - a chat ends: its record arrives once, POSTed to the integration's base
//   URL + path, and the receiver verifies it from the instance's JWKS alone
//   (Bulwark-Signature and the Authorization role token: signature, iss,
//   sub, aud, instance, times, digest of the body, the contact claim);
// - filters: queues, channels, hierarchy_groups (equal or under),
//   business_units; a filtered-out event is queued for nobody; a disabled
//   subscription queues nothing;
// - projection: only the fields named, plus the keys to deduplicate on;
// - audit events (users.create) and contact.blocked (contact filter, deny
//   list) with contact.ended;
// - dead letters: a receiver that always answers 500, event_max_attempts 2:
//   listed without content, retried once the receiver is fixed, deleted;
// - a daemon SIGKILLed while its receiver answers 503 delivers everything
//   after a restart on the same data;
// - a secret_header integration's secret never appears in the
//   subscription's answers, the dead-letter list or the daemon's log.
//
// Every address is on this machine. Nothing sleeps to synchronize: waits
// poll with deadlines.
import http from 'node:http';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  initData, startDaemon, removeTempDir, api, show, waitFor, getMetrics, metricValue,
} from './lib/daemon.mjs';
import { unique, createUser, patchSettings } from './lib/identity.mjs';
import { setupCenter, addQueue, getContact, queuedCustomer, isEvent } from './lib/chat.mjs';
import { createIntegration } from './lib/integrations.mjs';
import {
  TRUSTED, nextV4, chatFrom, assertBlocked, setupCallbackCenter, callbackFrom, nextNumber, setRule,
  createDeny, contacts,
} from './lib/fraud.mjs';
import {
  subsPath, createSub, getSub, waitStats, waitDelivered, deadLetters, Receiver, receiverIntegration,
  webhookSub, fetchJwks, verifyDelivery, decodeJws, endedQueuedChat, endedFlowChat, endedHandledChat,
} from './lib/events.mjs';

const FAST = { BULWARK_EVENT_RETRY_BASE_MS: '50', BULWARK_EVENT_RETRY_MAX_MS: '200' };

let init;
let d;
const receivers = [];

async function receiver(opts) {
  const r = await new Receiver(opts).listen();
  receivers.push(r);
  return r;
}

before(async () => {
  init = await initData();
  d = await startDaemon({
    data: init.data,
    env: { ...FAST, BULWARK_EVENT_MAX_ATTEMPTS: '2', BULWARK_TRUSTED_PROXIES: TRUSTED },
  });
});

after(async () => {
  const code = await d?.stop();
  for (const r of receivers) await r.close();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
  assert.ok(!/"status":5\d\d/.test(d.stderr), 'a request answered 5xx');
});

/** The requests rcv got from subscription sid. */
const from = (rcv, sid) => rcv.requests.filter((r) => r.json?.subscription_id === sid);

describe('a chat that ends', () => {
  test('arrives once at the receiver, which verifies it against the JWKS alone', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv, { allowed_path_prefixes: ['/hooks/'] });
    const sub = await webhookSub(d, ctx.admin, ctx.iid, ig, {}, '/hooks/contacts');
    const m0 = metricValue((await getMetrics(d)).samples, 'bulwark_events_delivered_total', { sink: 'webhook' }) ?? 0;

    const cid = await endedQueuedChat(d, ctx);
    await waitFor(() => rcv.about(cid).length >= 1, { timeoutMs: 10000, what: `the event of ${cid} at the receiver` });
    const s = await waitDelivered(d, ctx.admin, ctx.iid, sub.id, 1);
    assert.equal(s.stats.dead, 0);
    assert.equal(s.stats.last_error, null);
    assert.ok(Math.abs(Date.parse(s.stats.last_delivered_at) - Date.now()) < 60000, JSON.stringify(s.stats));
    assert.equal(rcv.requests.length, 1, `exactly one request: ${rcv.requests.map((r) => r.body).join('\n')}`);

    const [req] = rcv.requests;
    assert.equal(req.url, '/hooks/contacts');
    const set = await fetchJwks(d, ctx.iid);
    const env = verifyDelivery(req, set, { iid: ctx.iid, integration: ig, sid: sub.id });
    assert.equal(env.type, 'contact.ended');
    assert.deepEqual(Object.keys(env).sort(), ['data', 'dedup_key', 'id', 'instance_id', 'subscription_id', 'time', 'type']);
    const rec = (await getContact(d, ctx.admin, ctx.iid, cid)).json;
    assert.equal(env.data.id, cid);
    assert.equal(env.data.state, 'ENDED');
    assert.equal(env.data.channel, 'CHAT');
    assert.equal(env.data.disconnect_reason, 'CUSTOMER_DISCONNECT');
    assert.equal(env.data.queue.id, ctx.queue.id);
    assert.equal(env.data.initiation_timestamp, rec.initiation_timestamp);
    assert.equal(env.data.disconnect_timestamp, rec.disconnect_timestamp);
    assert.equal(env.dedup_key, `${cid}/${Date.parse(env.data.last_update_timestamp)}`);
    // The token is bound to this body: another body does not match its digest.
    const claims = decodeJws(req.headers['bulwark-signature']).claims;
    assert.notEqual(claims.digest, `sha-256=${Buffer.from('x').toString('base64')}`);
    assert.equal(claims.contact, cid);

    const m1 = metricValue((await getMetrics(d)).samples, 'bulwark_events_delivered_total', { sink: 'webhook' });
    assert.ok(m1 >= m0 + 1, `bulwark_events_delivered_total{sink="webhook"} ${m0} -> ${m1}`);
    const pending = metricValue((await getMetrics(d)).samples, 'bulwark_events_pending');
    assert.equal(typeof pending, 'number');
  });

  test('several contacts: each arrives once; contact.queued and contact.ended are separate events', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const sub = await webhookSub(d, ctx.admin, ctx.iid, ig, { event_types: ['contact.queued', 'contact.ended'] });
    const cids = [];
    for (let i = 0; i < 3; i++) cids.push(await endedQueuedChat(d, ctx));
    await waitDelivered(d, ctx.admin, ctx.iid, sub.id, 6);
    for (const cid of cids) {
      const q = rcv.about(cid, 'contact.queued');
      const e = rcv.about(cid, 'contact.ended');
      assert.equal(q.length, 1, `contact.queued of ${cid}: ${q.length}`);
      assert.equal(e.length, 1, `contact.ended of ${cid}: ${e.length}`);
      assert.equal(q[0].json.data.state, 'QUEUED');
      assert.notEqual(q[0].json.id, e[0].json.id);
      assert.ok(Date.parse(q[0].json.data.last_update_timestamp) <= Date.parse(e[0].json.data.last_update_timestamp));
    }
    assert.equal(rcv.requests.length, 6);
    assert.equal(new Set(rcv.requests.map((r) => r.json.id)).size, 6, 'event ids are distinct');
  });
});

describe('filters', () => {
  test('queues and channels: a filtered-out record is queued for nobody; the unfiltered subscription gets it', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const other = await addQueue(d, ctx);
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const all = await webhookSub(d, ctx.admin, ctx.iid, ig);
    const mine = await webhookSub(d, ctx.admin, ctx.iid, ig, { filters: { queues: [ctx.queue.id] } });
    const elsewhere = await webhookSub(d, ctx.admin, ctx.iid, ig, { filters: { queues: [other.queue.id] } });
    const callbacks = await webhookSub(d, ctx.admin, ctx.iid, ig, { filters: { channels: ['CALLBACK'] } });
    const chats = await webhookSub(d, ctx.admin, ctx.iid, ig, { filters: { channels: ['CHAT'], queues: [ctx.queue.id, 'qu_none'] } });
    const both = await webhookSub(d, ctx.admin, ctx.iid, ig, { filters: { channels: ['CALLBACK'], queues: [ctx.queue.id] } });

    const chat = await endedQueuedChat(d, ctx);
    const inFlow = await endedFlowChat(d, ctx); // never queued: no queue matches it
    await waitDelivered(d, ctx.admin, ctx.iid, all.id, 2);
    await waitDelivered(d, ctx.admin, ctx.iid, mine.id, 1);
    await waitDelivered(d, ctx.admin, ctx.iid, chats.id, 1);
    for (const s of [elsewhere, callbacks, both]) {
      const g = await getSub(d, ctx.admin, ctx.iid, s.id);
      assert.deepEqual([g.stats.pending, g.stats.delivered, g.stats.dead], [0, 0, 0], `${JSON.stringify(g.filters)}: ${JSON.stringify(g.stats)}`);
      assert.equal(from(rcv, s.id).length, 0);
    }
    assert.deepEqual(from(rcv, all.id).map((r) => r.json.data.id).sort(), [chat, inFlow].sort());
    assert.deepEqual(from(rcv, mine.id).map((r) => r.json.data.id), [chat]);
    assert.deepEqual(from(rcv, chats.id).map((r) => r.json.data.id), [chat]);

    // A callback, queued and then stopped: the CALLBACK subscriptions get it.
    const cb = await callbackFrom(d, ctx, nextV4(), nextNumber().national);
    assert.equal(cb.status, 201, show(cb));
    const cbid = cb.json.contact_id;
    await waitFor(async () => (await getContact(d, ctx.admin, ctx.iid, cbid)).json?.state === 'QUEUED', { what: 'the callback queued' });
    const stop = await api(d.url, 'POST', `/v1/instances/${ctx.iid}/contacts/${cbid}/stop`, { key: ctx.admin });
    assert.equal(stop.status, 200, show(stop));
    await waitDelivered(d, ctx.admin, ctx.iid, all.id, 3);
    await waitDelivered(d, ctx.admin, ctx.iid, callbacks.id, 1);
    await waitDelivered(d, ctx.admin, ctx.iid, both.id, 1);
    await waitDelivered(d, ctx.admin, ctx.iid, mine.id, 2);
    assert.deepEqual(from(rcv, callbacks.id).map((r) => [r.json.data.id, r.json.data.channel]), [[cbid, 'CALLBACK']]);
    assert.equal((await getSub(d, ctx.admin, ctx.iid, elsewhere.id)).stats.delivered, 0);
    assert.equal((await getSub(d, ctx.admin, ctx.iid, chats.id)).stats.delivered, 1);
    assert.equal(rcv.about(chat).length, 3, 'the chat: all, mine, chats');
  });

  test('hierarchy_groups (equal or under) and business_units judge the handling agent; no agent matches neither', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const [agent] = ctx.agents;
    const p = await api(d.url, 'PATCH', `/v1/instances/${ctx.iid}/users/${agent.id}`, { key: ctx.admin, body: { hierarchy_group: 'Sales/EMEA/Team1' } });
    assert.equal(p.status, 200, show(p));
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const mk = (filters) => webhookSub(d, ctx.admin, ctx.iid, ig, { filters });
    const all = await mk(undefined);
    const take = [
      await mk({ hierarchy_groups: ['Sales/EMEA'] }),
      await mk({ hierarchy_groups: ['Sales/EMEA/Team1'] }),
      await mk({ hierarchy_groups: ['Support', 'Sales'] }),
      await mk({ business_units: ['Sales'] }),
      await mk({ business_units: ['Sales'], hierarchy_groups: ['Sales/EMEA'], queues: [ctx.queue.id], channels: ['CHAT'] }),
    ];
    const skip = [
      await mk({ hierarchy_groups: ['Sales/APAC'] }),
      await mk({ hierarchy_groups: ['Sales/EM'] }), // a prefix, not a group above
      await mk({ hierarchy_groups: ['Sales/EMEA/Team1/Sub'] }),
      await mk({ business_units: ['Support'] }),
      await mk({ business_units: ['Sales/EMEA'] }),
      await mk({ business_units: ['Sales'], channels: ['CALLBACK'] }),
    ];

    const handled = await endedHandledChat(d, ctx, agent);
    const unhandled = await endedQueuedChat(d, ctx);
    await waitDelivered(d, ctx.admin, ctx.iid, all.id, 2);
    for (const s of take) {
      const g = await waitDelivered(d, ctx.admin, ctx.iid, s.id, 1);
      assert.deepEqual(from(rcv, s.id).map((r) => r.json.data.id), [handled], JSON.stringify(g.filters));
    }
    for (const s of skip) {
      const g = await getSub(d, ctx.admin, ctx.iid, s.id);
      assert.deepEqual([g.stats.pending, g.stats.delivered], [0, 0], `${JSON.stringify(g.filters)}: ${JSON.stringify(g.stats)}`);
      assert.equal(from(rcv, s.id).length, 0, JSON.stringify(g.filters));
    }
    const rec = from(rcv, all.id).find((r) => r.json.data.id === handled).json.data;
    assert.equal(rec.agent.id, agent.id);
    assert.equal(rcv.about(unhandled).length, 1, 'the unhandled contact reaches only the unfiltered subscription');
  });

  test('a disabled subscription queues nothing; enabled again, it takes what ends next', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const all = await webhookSub(d, ctx.admin, ctx.iid, ig);
    const off = await webhookSub(d, ctx.admin, ctx.iid, ig, { enabled: false });
    const first = await endedFlowChat(d, ctx);
    await waitDelivered(d, ctx.admin, ctx.iid, all.id, 1);
    assert.deepEqual((await getSub(d, ctx.admin, ctx.iid, off.id)).stats.pending, 0);
    const on = await api(d.url, 'PATCH', subsPath(ctx.iid, `/${off.id}`), { key: ctx.admin, body: { enabled: true } });
    assert.equal(on.status, 200, show(on));
    const second = await endedFlowChat(d, ctx);
    await waitDelivered(d, ctx.admin, ctx.iid, off.id, 1);
    assert.deepEqual(from(rcv, off.id).map((r) => r.json.data.id), [second]);
    assert.equal(rcv.about(first).length, 1);
  });
});

describe('projection', () => {
  test('fields ["channel","queue.id"]: data holds exactly id, last_update_timestamp, channel and queue {id}', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const sub = await webhookSub(d, ctx.admin, ctx.iid, ig, { fields: ['channel', 'queue.id'] });
    const wide = await webhookSub(d, ctx.admin, ctx.iid, ig, {
      fields: ['customer_endpoint.address', 'agent', 'agent.id', 'disconnect_reason', 'no_such_field', 'queue.no_such', 'id'],
    });
    const cid = await endedQueuedChat(d, ctx);
    await waitDelivered(d, ctx.admin, ctx.iid, sub.id, 1);
    await waitDelivered(d, ctx.admin, ctx.iid, wide.id, 1);
    const [req] = from(rcv, sub.id);
    const { data } = req.json;
    assert.deepEqual(Object.keys(data).sort(), ['channel', 'id', 'last_update_timestamp', 'queue']);
    assert.deepEqual(data.queue, { id: ctx.queue.id });
    assert.equal(data.id, cid);
    assert.equal(data.channel, 'CHAT');
    assert.ok(!Number.isNaN(Date.parse(data.last_update_timestamp)));
    // The signature covers the projected body.
    verifyDelivery(req, await fetchJwks(d, ctx.iid), { iid: ctx.iid, integration: ig, sid: sub.id });
    // Fields absent from the record are left out; agent is null here (no agent), agent.id absent.
    const w = from(rcv, wide.id)[0].json.data;
    assert.deepEqual(Object.keys(w).sort(), ['agent', 'customer_endpoint', 'disconnect_reason', 'id', 'last_update_timestamp']);
    assert.deepEqual(w.customer_endpoint, { address: '127.0.0.1' });
    assert.equal(w.agent, null);
    assert.equal(w.disconnect_reason, 'CUSTOMER_DISCONNECT');
  });
});

describe('classified attributes', () => {
  test('the record is as a reader without SensitiveData.View sees it: sensitive masked, restricted never shown', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    await patchSettings(d, init.key, ctx.iid, { attribute_classes: { callback_number: 'sensitive', pin_hint: 'restricted', tier: 'public' } });
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const sub = await webhookSub(d, ctx.admin, ctx.iid, ig, { event_types: ['contact.queued', 'contact.ended'] });
    const pin = `pin-${Math.random().toString(36).slice(2)}-restricted`;
    const c = await queuedCustomer(d, ctx, { attributes: { pin_hint: pin, tier: 'gold' } });
    c.sock.send({ type: 'end' });
    await c.sock.next(isEvent('ended'), { what: 'the ended event' });
    await c.sock.close();
    await waitDelivered(d, ctx.admin, ctx.iid, sub.id, 2);
    for (const r of rcv.about(c.cid)) {
      const { attributes } = r.json.data;
      assert.equal(attributes.tier, 'gold', r.body);
      assert.equal(attributes.callback_number, '••••••••1111', r.body);
      assert.ok(attributes.pin_hint === undefined || attributes.pin_hint === '••••••••', r.body);
      assert.ok(!r.body.includes(pin), 'a restricted value left the instance');
      assert.ok(!r.body.includes('2024561111'), 'a sensitive value left the instance');
    }
  });
});

describe('audit and blocked contacts', () => {
  test('an audit subscription gets users.create as an audit event (dedup_key its id, no contact claim)', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const sub = await webhookSub(d, ctx.admin, ctx.iid, ig, { event_types: ['audit'], fields: ['action', 'result', 'principal.kind'] });
    const contactsOnly = await webhookSub(d, ctx.admin, ctx.iid, ig, { event_types: ['audit'], filters: { queues: [ctx.queue.id] } });
    const username = unique('audited');
    const user = await createUser(d, ctx.admin, ctx.iid, { username });
    const got = await waitFor(() => from(rcv, sub.id).find((r) => r.json.data.action === 'users.create'),
      { timeoutMs: 10000, what: 'the users.create audit event' });
    const env = verifyDelivery(got, await fetchJwks(d, ctx.iid), { iid: ctx.iid, integration: ig, sid: sub.id });
    assert.equal(env.type, 'audit');
    assert.match(env.data.id, /^ev_/);
    assert.equal(env.dedup_key, env.data.id);
    assert.deepEqual(Object.keys(env.data).sort(), ['action', 'id', 'principal', 'result']);
    assert.deepEqual(env.data.principal, { kind: 'user' });
    assert.equal(env.data.result, 'allowed');
    assert.equal(decodeJws(got.headers['bulwark-signature']).claims.contact, undefined);
    assert.ok(!got.body.includes(username), 'only the projected fields'); // the resource names the user's id, not this
    assert.ok(user.id);
    // The audit event as GET .../audit-events shows it.
    const ev = await api(d.url, 'GET', `/v1/instances/${ctx.iid}/audit-events?limit=1000`, { key: ctx.admin });
    assert.ok(ev.json.items.some((e) => e.id === env.data.id && e.action === 'users.create'), 'the event is in the trail');
    // A queue filter cannot judge an audit event: nothing for that subscription.
    await waitStats(d, ctx.admin, ctx.iid, sub.id, (s) => s.pending === 0 && s.delivered >= 1);
    const g = await getSub(d, ctx.admin, ctx.iid, contactsOnly.id);
    assert.deepEqual([g.stats.pending, g.stats.delivered], [0, 0]);
  });

  test('a contact the contact filter refuses: contact.blocked and contact.ended, record ENDED/CONTACT_FILTER', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 1, window_s: 600, deny_s: 0 });
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const sub = await webhookSub(d, ctx.admin, ctx.iid, ig, { event_types: ['contact.blocked', 'contact.ended'] });
    const blockedOnly = await webhookSub(d, ctx.admin, ctx.iid, ig, { event_types: ['contact.blocked'] });
    const ip = nextV4();
    assert.equal((await chatFrom(d, ctx, ip)).status, 201);
    assertBlocked(await chatFrom(d, ctx, ip), 'the second chat from one address');
    await waitDelivered(d, ctx.admin, ctx.iid, sub.id, 2);
    await waitDelivered(d, ctx.admin, ctx.iid, blockedOnly.id, 1);
    const refused = (await contacts(d, ctx.admin, ctx.iid)).filter((c) => c.disconnect_reason === 'CONTACT_FILTER');
    assert.equal(refused.length, 1);
    const cid = refused[0].id;
    const types = from(rcv, sub.id).map((r) => [r.json.type, r.json.data.id]).sort();
    assert.deepEqual(types, [['contact.blocked', cid], ['contact.ended', cid]]);
    const set = await fetchJwks(d, ctx.iid);
    for (const r of from(rcv, sub.id)) {
      const env = verifyDelivery(r, set, { iid: ctx.iid, integration: ig, sid: sub.id });
      assert.equal(env.data.state, 'ENDED');
      assert.equal(env.data.disconnect_reason, 'CONTACT_FILTER');
      assert.equal(env.data.customer_endpoint.address, ip);
    }
    assert.deepEqual(from(rcv, blockedOnly.id).map((r) => r.json.type), ['contact.blocked']);
  });

  test('a contact refused for a deny-listed e-mail: contact.blocked', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const email = `${unique('mallory')}@example.com`.toLowerCase();
    await createDeny(d, ctx.admin, ctx.iid, { type: 'EMAIL', value: email });
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const sub = await webhookSub(d, ctx.admin, ctx.iid, ig, { event_types: ['contact.blocked'] });
    assertBlocked(await chatFrom(d, ctx, nextV4(), { body: { email } }), 'a deny-listed e-mail');
    await waitDelivered(d, ctx.admin, ctx.iid, sub.id, 1);
    const [r] = from(rcv, sub.id);
    assert.equal(r.json.type, 'contact.blocked');
    assert.equal(r.json.data.disconnect_reason, 'CONTACT_FILTER');
  });
});

describe('dead letters', () => {
  test('a receiver that always answers 500: dead after 2 tries, listed without content; retried once fixed; deleted', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const rcv = await receiver({ status: 500 });
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const sub = await webhookSub(d, ctx.admin, ctx.iid, ig);
    const dl = subsPath(ctx.iid, `/${sub.id}/dead-letters`);
    const dead0 = metricValue((await getMetrics(d)).samples, 'bulwark_events_dead_total', { sink: 'webhook' }) ?? 0;

    const cid = await endedQueuedChat(d, ctx);
    const s = await waitStats(d, ctx.admin, ctx.iid, sub.id, (x) => x.dead === 1 && x.pending === 0, { what: 'dead 1' });
    assert.equal(s.stats.delivered, 0);
    assert.equal(s.stats.last_error, 'webhook: status 500');
    assert.ok(s.stats.last_error_at);
    assert.equal(rcv.about(cid).length, 2, 'tried exactly twice');
    const items = await deadLetters(d, ctx.admin, ctx.iid, sub.id);
    assert.equal(items.length, 1);
    const [item] = items;
    assert.deepEqual(Object.keys(item).sort(), ['attempts', 'created_at', 'dedup_key', 'event_id', 'last_attempt_at', 'last_error', 'type']);
    assert.equal(item.attempts, 2);
    assert.equal(item.last_error, 'webhook: status 500');
    assert.equal(item.type, 'contact.ended');
    assert.equal(item.event_id, rcv.about(cid)[0].json.id);
    assert.match(item.dedup_key, new RegExp(`^${cid}/\\d+$`));
    assert.ok(Date.parse(item.created_at) <= Date.parse(item.last_attempt_at));
    const raw = await api(d.url, 'GET', dl, { key: ctx.admin });
    assert.ok(!raw.text.includes('CUSTOMER_DISCONNECT') && !raw.text.includes('callback_number') && !raw.text.includes('"data"'), raw.text);
    const dead1 = metricValue((await getMetrics(d)).samples, 'bulwark_events_dead_total', { sink: 'webhook' });
    assert.ok(dead1 >= dead0 + 1, `bulwark_events_dead_total ${dead0} -> ${dead1}`);

    // Fixed: retry queues it again (attempts from 0) and it is delivered, the same event.
    rcv.status = 200;
    const retry = await api(d.url, 'POST', `${dl}/retry`, { key: ctx.admin });
    assert.equal(retry.status, 200, show(retry));
    assert.deepEqual(retry.json, { requeued: 1 });
    const s2 = await waitStats(d, ctx.admin, ctx.iid, sub.id, (x) => x.delivered === 1 && x.pending === 0 && x.dead === 0, { what: 'delivered after retry' });
    assert.ok(s2.stats.last_delivered_at);
    const tries = rcv.about(cid);
    assert.equal(tries.length, 3);
    assert.equal(new Set(tries.map((r) => r.json.id)).size, 1, 'the same event id on every try');
    assert.equal(tries[2].headers['bulwark-event-id'], item.event_id);
    verifyDelivery(tries[2], await fetchJwks(d, ctx.iid), { iid: ctx.iid, integration: ig, sid: sub.id });
    assert.deepEqual(await deadLetters(d, ctx.admin, ctx.iid, sub.id), []);
    const again = await api(d.url, 'POST', `${dl}/retry`, { key: ctx.admin });
    assert.deepEqual(again.json, { requeued: 0 });

    // Broken again: two more dead letters, paged, then deleted.
    rcv.status = 500;
    const c2 = await endedQueuedChat(d, ctx);
    const c3 = await endedFlowChat(d, ctx);
    await waitStats(d, ctx.admin, ctx.iid, sub.id, (x) => x.dead === 2 && x.pending === 0, { what: 'dead 2' });
    const page = await api(d.url, 'GET', `${dl}?limit=1`, { key: ctx.admin });
    assert.equal(page.status, 200, show(page));
    assert.equal(page.json.items.length, 1);
    assert.ok(page.json.next_token);
    const page2 = await api(d.url, 'GET', `${dl}?limit=1&next_token=${encodeURIComponent(page.json.next_token)}`, { key: ctx.admin });
    assert.equal(page2.json.items.length, 1);
    assert.equal(page2.json.next_token, null);
    const keys = [page.json.items[0], page2.json.items[0]].map((x) => x.dedup_key.split('/')[0]);
    assert.deepEqual(keys.sort(), [c2, c3].sort(), 'oldest first, each once');
    const del = await api(d.url, 'DELETE', dl, { key: ctx.admin });
    assert.equal(del.status, 200, show(del));
    assert.deepEqual(del.json, { deleted: 2 });
    const s3 = await getSub(d, ctx.admin, ctx.iid, sub.id);
    assert.equal(s3.stats.dead, 0);
    assert.equal(s3.stats.delivered, 1);
    assert.deepEqual(await deadLetters(d, ctx.admin, ctx.iid, sub.id), []);
    // Deleting a subscription drops its dead letters with it (nothing to list: 404).
    rcv.status = 500;
    await endedFlowChat(d, ctx);
    await waitStats(d, ctx.admin, ctx.iid, sub.id, (x) => x.dead === 1 && x.pending === 0, { what: 'dead 1 again' });
    assert.equal((await api(d.url, 'DELETE', subsPath(ctx.iid, `/${sub.id}`), { key: ctx.admin })).status, 204);
    assert.equal((await api(d.url, 'GET', dl, { key: ctx.admin })).status, 404);
  });

  test('a receiver that is down: the error names the connection, never the event', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    await rcv.close(); // its port refuses connections now
    const sub = await webhookSub(d, ctx.admin, ctx.iid, ig);
    const cid = await endedQueuedChat(d, ctx);
    const s = await waitStats(d, ctx.admin, ctx.iid, sub.id, (x) => x.dead === 1 && x.pending === 0, { what: 'dead 1' });
    assert.match(s.stats.last_error, /^webhook: /);
    assert.ok(!s.stats.last_error.includes(cid));
    const [item] = await deadLetters(d, ctx.admin, ctx.iid, sub.id);
    assert.equal(item.last_error, s.stats.last_error);
    receivers.splice(receivers.indexOf(rcv), 1);
  });
});

describe('secrets', () => {
  test('a secret_header integration: the receiver gets the header; its value is in no answer, dead letter or log line', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const value = `hook-secret-${unique('v')}-${Math.random().toString(36).slice(2)}`;
    const sec = await api(d.url, 'POST', `/v1/instances/${ctx.iid}/secrets`, { key: ctx.admin, body: { name: 'hook-key', value } });
    assert.equal(sec.status, 201, show(sec));
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv, { auth: { type: 'secret_header', header: 'X-Api-Key', secret: 'hook-key' } });
    const texts = [];
    const c = await api(d.url, 'POST', subsPath(ctx.iid), {
      key: ctx.admin, body: { name: unique('s'), event_types: ['contact.ended'], sink: { type: 'webhook', integration_id: ig.id, path: '/in' } },
    });
    assert.equal(c.status, 201, show(c));
    texts.push(c.text);
    const sub = c.json;
    const cid = await endedQueuedChat(d, ctx);
    await waitDelivered(d, ctx.admin, ctx.iid, sub.id, 1);
    const [req] = rcv.about(cid);
    assert.equal(req.headers['x-api-key'], value, 'the receiver gets the secret in its header');
    verifyDelivery(req, await fetchJwks(d, ctx.iid), { iid: ctx.iid, integration: ig, sid: sub.id, role: false });
    assert.equal(req.headers.authorization, undefined);

    // Now failing: a dead letter.
    rcv.status = 503;
    await endedFlowChat(d, ctx);
    await waitStats(d, ctx.admin, ctx.iid, sub.id, (x) => x.dead === 1 && x.pending === 0, { what: 'dead 1' });
    for (const [m, p, body] of [
      ['GET', subsPath(ctx.iid, `/${sub.id}`)], ['GET', subsPath(ctx.iid)],
      ['PATCH', subsPath(ctx.iid, `/${sub.id}`), { name: unique('renamed') }],
      ['GET', subsPath(ctx.iid, `/${sub.id}/dead-letters`)],
      ['GET', `/v1/instances/${ctx.iid}/audit-events?limit=1000`],
      ['POST', subsPath(ctx.iid, `/${sub.id}/dead-letters/retry`)],
    ]) {
      const r = await api(d.url, m, p, { key: ctx.admin, body });
      assert.ok(r.status < 300, `${m} ${p}: ${show(r)}`);
      texts.push(r.text);
    }
    await waitStats(d, ctx.admin, ctx.iid, sub.id, (x) => x.dead === 1 && x.pending === 0, { what: 'dead again' });
    texts.push((await api(d.url, 'GET', subsPath(ctx.iid, `/${sub.id}/dead-letters`), { key: ctx.admin })).text);
    texts.push((await getMetrics(d)).text);
    for (const t of texts) assert.ok(!t.includes(value), `the secret's value in an answer: ${t.slice(0, 300)}`);
    assert.ok(!d.stderr.includes(value), 'the secret\'s value in the log');
    assert.ok(!d.stdoutAfterReady.includes(value), 'the secret\'s value on stdout');
    assert.ok(!d.stderr.includes(req.headers['bulwark-signature']), 'a token in the log');
  });
});

describe('a daemon killed with events queued', () => {
  test('queued while the receiver answers 503, SIGKILL, restart on the same data with the receiver at 200: everything arrives', async () => {
    const own = await initData();
    const env = { ...FAST, BULWARK_EVENT_MAX_ATTEMPTS: '1000' };
    let dd = await startDaemon({ data: own.data, env });
    try {
      const ctx = await setupCenter(dd, own.key, { agents: 0 });
      const rcv = await receiver({ status: 503 });
      const ig = await receiverIntegration(dd, ctx.admin, ctx.iid, rcv);
      const sub = await webhookSub(dd, ctx.admin, ctx.iid, ig);
      const cids = [];
      for (let i = 0; i < 3; i++) cids.push(await endedQueuedChat(dd, ctx));
      await waitFor(() => cids.every((c) => rcv.about(c).length >= 1), { timeoutMs: 10000, what: 'a try of each' });
      const s = await waitStats(dd, ctx.admin, ctx.iid, sub.id, (x) => x.pending === 3 && x.last_error === 'webhook: status 503', { what: 'pending 3 with the 503' });
      assert.equal(s.stats.delivered, 0);
      dd.proc.kill('SIGKILL');
      await dd.exited;
      rcv.status = 200;
      const n = rcv.requests.length;
      dd = await startDaemon({ data: own.data, env });
      const after = await waitDelivered(dd, ctx.admin, ctx.iid, sub.id, 3, { timeoutMs: 20000 });
      assert.equal(after.stats.dead, 0);
      const ok = rcv.requests.slice(n);
      assert.deepEqual(ok.map((r) => r.json.data.id).sort(), [...cids].sort(), 'each delivered once after the restart');
      const set = await fetchJwks(dd, ctx.iid);
      for (const r of ok) verifyDelivery(r, set, { iid: ctx.iid, integration: ig, sid: sub.id });
      for (const c of cids) assert.equal(new Set(rcv.about(c).map((r) => r.json.id)).size, 1, 'one event id per contact on every try');
    } finally {
      const code = await dd.stop();
      removeTempDir(own.dir);
      assert.equal(code, 0, `restarted daemon exit code ${code}\n${dd.stderr.slice(-3000)}`);
    }
  });
});

// A contact live when the daemon dies ends with SERVER_RESTART at the next
// start; its record is streamed like any ended contact's.
describe('a contact live at a crash', () => {
  test('ends with SERVER_RESTART at the next start, and its contact.ended arrives', async () => {
    const own = await initData();
    let dd = await startDaemon({ data: own.data, env: FAST });
    try {
      const ctx = await setupCenter(dd, own.key, { agents: 0 });
      const rcv = await receiver();
      const ig = await receiverIntegration(dd, ctx.admin, ctx.iid, rcv);
      const sub = await webhookSub(dd, ctx.admin, ctx.iid, ig);
      const live = await queuedCustomer(dd, ctx); // in the queue, no agent: live
      dd.proc.kill('SIGKILL');
      await dd.exited;
      dd = await startDaemon({ data: own.data, env: FAST });
      await waitDelivered(dd, ctx.admin, ctx.iid, sub.id, 1);
      const [r] = rcv.about(live.cid, 'contact.ended');
      assert.ok(r, 'no contact.ended for the contact the restart ended');
      assert.equal(r.json.data.state, 'ENDED');
      assert.equal(r.json.data.disconnect_reason, 'SERVER_RESTART');
      assert.equal(r.json.dedup_key, `${live.cid}/${Date.parse(r.json.data.last_update_timestamp)}`);
      const admin = (await getContact(dd, ctx.admin, ctx.iid, live.cid)).json;
      assert.equal(admin.disconnect_reason, 'SERVER_RESTART');
      assert.equal(admin.last_update_timestamp, r.json.data.last_update_timestamp, 'the record as stored');
      verifyDelivery(r, await fetchJwks(dd, ctx.iid), { iid: ctx.iid, integration: ig, sid: sub.id });
      assert.equal(rcv.about(live.cid, 'contact.ended').length, 1);
    } finally {
      const code = await dd.stop();
      removeTempDir(own.dir);
      assert.equal(code, 0, `restarted daemon exit code ${code}\n${dd.stderr.slice(-3000)}`);
    }
  });
});

// Integrations of another instance never receive (their instance's JWKS differs).
describe('instances apart', () => {
  test('a subscription delivers only its own instance\'s events', async () => {
    const a = await setupCenter(d, init.key, { agents: 0 });
    const b = await setupCenter(d, init.key, { agents: 0 });
    const rcv = await receiver();
    const igA = await receiverIntegration(d, a.admin, a.iid, rcv);
    const igB = await createIntegration(d, b.admin, b.iid, { name: unique('ig'), base_url: rcv.url, allowed_address_ranges: ['127.0.0.1'], auth: { type: 'role' } });
    const sa = await webhookSub(d, a.admin, a.iid, igA);
    const sb = await webhookSub(d, b.admin, b.iid, igB);
    const ca = await endedFlowChat(d, a);
    const cb = await endedFlowChat(d, b);
    await waitDelivered(d, a.admin, a.iid, sa.id, 1);
    await waitDelivered(d, b.admin, b.iid, sb.id, 1);
    assert.deepEqual(from(rcv, sa.id).map((r) => r.json.data.id), [ca]);
    assert.deepEqual(from(rcv, sb.id).map((r) => r.json.data.id), [cb]);
    // B's token does not verify against A's JWKS.
    const [rb] = from(rcv, sb.id);
    const setA = await fetchJwks(d, a.iid);
    assert.throws(() => verifyDelivery(rb, setA, { iid: b.iid, integration: igB, sid: sb.id }));
  });
});

// A receiver that never answers delays only its own subscription (the
// contract: "a subscription's sink being down delays only that
// subscription's events"): another subscription's records all arrive while
// the hanging calls are still out, within their 30 s time-out.
describe('a receiver that hangs', () => {
  test('another subscription gets every record while the hanging calls are still out', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const held = [];
    const hang = http.createServer((req, res) => { req.resume(); held.push(res); });
    await new Promise((resolve) => hang.listen(0, '127.0.0.1', resolve));
    try {
      const hangUrl = { url: `http://127.0.0.1:${hang.address().port}`, host: '127.0.0.1' };
      const igHang = await receiverIntegration(d, ctx.admin, ctx.iid, hangUrl, { timeout_ms: 30000 });
      const subHang = await webhookSub(d, ctx.admin, ctx.iid, igHang);
      const rcv = await receiver();
      const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
      const sub = await webhookSub(d, ctx.admin, ctx.iid, ig);
      const cids = [];
      for (let i = 0; i < 3; i++) cids.push(await endedQueuedChat(d, ctx));
      await waitStats(d, ctx.admin, ctx.iid, sub.id, (x) => x.delivered === 3 && x.pending === 0,
        { what: 'the healthy subscription delivered while the other hangs', timeoutMs: 15000 });
      for (const cid of cids) assert.equal(rcv.about(cid, 'contact.ended').length, 1, cid);
      await waitFor(() => held.length === 3, { what: 'the three calls at the hanging receiver' });
      const h = await getSub(d, ctx.admin, ctx.iid, subHang.id);
      assert.deepEqual([h.stats.pending, h.stats.delivered, h.stats.dead], [3, 0, 0], JSON.stringify(h.stats));
      // Answered at last: delivered, each once.
      for (const res of held) { res.writeHead(200, { 'content-length': '0' }); res.end(); }
      const done = await waitDelivered(d, ctx.admin, ctx.iid, subHang.id, 3);
      assert.equal(done.stats.pending, 0);
      assert.equal(held.length, 3, 'a call was sent twice');
    } finally {
      hang.closeAllConnections?.();
      await new Promise((resolve) => hang.close(() => resolve()));
    }
  });
});

// Dead letters hold sealed customer data: they go after the retention
// (event_dead_letter_retention_s), counted from their last try.
describe('dead-letter retention', () => {
  test('a dead letter older than the retention is deleted; the subscription stays', async () => {
    const own = await initData();
    const dd = await startDaemon({
      data: own.data,
      env: { ...FAST, BULWARK_EVENT_MAX_ATTEMPTS: '1', BULWARK_EVENT_DEAD_LETTER_RETENTION_S: '2' },
    });
    try {
      const ctx = await setupCenter(dd, own.key, { agents: 0 });
      const rcv = await receiver({ status: 500 });
      const ig = await receiverIntegration(dd, ctx.admin, ctx.iid, rcv);
      const sub = await webhookSub(dd, ctx.admin, ctx.iid, ig);
      const cid = await endedQueuedChat(dd, ctx);
      const s = await waitStats(dd, ctx.admin, ctx.iid, sub.id, (x) => x.dead === 1, { what: 'dead 1' });
      assert.equal(rcv.about(cid).length, 1);
      const [item] = await deadLetters(dd, ctx.admin, ctx.iid, sub.id);
      const last = Date.parse(item.last_attempt_at);
      const gone = await waitStats(dd, ctx.admin, ctx.iid, sub.id, (x) => x.dead === 0 && x.pending === 0,
        { what: 'the dead letter expired', timeoutMs: 15000 });
      assert.ok(Date.now() - last >= 2000, `deleted ${Date.now() - last} ms after its last try, before the retention`);
      assert.deepEqual(await deadLetters(dd, ctx.admin, ctx.iid, sub.id), []);
      assert.equal(gone.stats.last_error, s.stats.last_error, 'the subscription and its figures stay');
      assert.equal((await getSub(dd, ctx.admin, ctx.iid, sub.id)).id, sub.id);
    } finally {
      const code = await dd.stop();
      removeTempDir(own.dir);
      assert.equal(code, 0, `daemon exit code ${code}\n${dd.stderr.slice(-3000)}`);
    }
  });
});

describe('an integration a subscription sends to', () => {
  test('cannot be deleted (409 naming the subscription) until the subscription goes', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const rcv = await receiver();
    const ig = await receiverIntegration(d, ctx.admin, ctx.iid, rcv);
    const sub = await webhookSub(d, ctx.admin, ctx.iid, ig, { name: 'to-the-crm' });
    const igPath = `/v1/instances/${ctx.iid}/integrations/${ig.id}`;
    let r = await api(d.url, 'DELETE', igPath, { key: ctx.admin });
    assert.equal(r.status, 409, show(r));
    assert.equal(r.json.error.code, 'Conflict');
    assert.match(r.json.error.message, /"to-the-crm"/);
    assert.equal((await api(d.url, 'GET', igPath, { key: ctx.admin })).status, 200, 'the integration went');
    r = await api(d.url, 'DELETE', subsPath(ctx.iid, `/${sub.id}`), { key: ctx.admin });
    assert.equal(r.status, 204, show(r));
    r = await api(d.url, 'DELETE', igPath, { key: ctx.admin });
    assert.equal(r.status, 204, show(r));
  });
});
