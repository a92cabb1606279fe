// Data classification (C13; docs/api.md "Data classification"): contact
// attributes carry a class (public, internal, sensitive, restricted), set by
// the instance's attribute_classes and by the flow (UpdateContactAttributes
// Classes; StoreCustomerInput's attribute is sensitive); classes only go up.
// GET contact, the contact search and the agent stream (offer, accept reply,
// hello) mask sensitive values for a reader without SensitiveData.View and
// restricted values for everyone. Real chats through the public API; no
// sleeps: every wait is for a frame or a record state.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { initData, startDaemon, removeTempDir, api, show } from './lib/daemon.mjs';
import { createInstance, loginToken, createProfile, userWithToken, patchSettings, profilesByName, unique } from './lib/identity.mjs';
import { createHours, createQueue, createRoutingProfile, createEntryPoint } from './lib/routing.mjs';
import {
  OPEN_ALL_WEEK, TEXT, PHONE_E164,
  publishFlow, createAgent, readyAgent, connectAgent, takeOffer, startCustomer, answerPhone,
  getContact, waitContact, listAll, isSystem, isMessage, agentPost,
} from './lib/chat.mjs';

const B8 = '\u2022'.repeat(8);
const RESTRICTED = 'RX-9-CANARY-771';
const VIP = 'prefers morning calls';

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

const eq = (v, next) => ({ NextAction: next, Condition: { Operator: 'Equals', Operands: [v] } });

/** The chat flow of lib/chat.mjs with a `tag` block after the number is validated. */
function classFlow({ hoursId, queueId }) {
  return {
    Version: '2019-10-30',
    StartAction: 'hours',
    Actions: [
      { Identifier: 'hours', Type: 'CheckHoursOfOperation', Parameters: { HoursOfOperationId: hoursId }, Transitions: { Conditions: [eq('True', 'greet'), eq('False', 'bye')] } },
      { Identifier: 'greet', Type: 'MessageParticipant', Parameters: { Text: TEXT.greeting }, Transitions: { NextAction: 'ask' } },
      {
        Identifier: 'ask', Type: 'GetParticipantInput', Parameters: { Text: TEXT.ask, StoreInput: 'True', InputTimeLimitSeconds: '60' },
        Transitions: { NextAction: 'check', Errors: [{ NextAction: 'bye', ErrorType: 'NoMatchingError' }] },
      },
      {
        Identifier: 'check', Type: 'ValidateInput', Parameters: { Kind: 'PhoneNumber', Attribute: 'callback_number' },
        Transitions: { NextAction: 'tag', Errors: [{ NextAction: 'ask', ErrorType: 'InvalidInput' }] },
      },
      {
        Identifier: 'tag', Type: 'UpdateContactAttributes',
        Parameters: {
          Attributes: { tier: 'gold', pin_hint: RESTRICTED },
          // lang is sensitive for the instance: a flow cannot lower it.
          Classes: { callback_number: 'sensitive', pin_hint: 'restricted', tier: 'public', lang: 'public' },
        },
        Transitions: { NextAction: 'thanks' },
      },
      { Identifier: 'thanks', Type: 'MessageParticipant', Parameters: { Text: TEXT.thanks }, Transitions: { NextAction: 'queue' } },
      { Identifier: 'queue', Type: 'TransferContactToQueue', Parameters: { QueueId: queueId }, Transitions: { Errors: [{ NextAction: 'bye', ErrorType: 'QueueAtCapacity' }] } },
      { Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
    ],
  };
}

/** An instance with the classed flow, the instance classes, and readers of each kind. */
async function center() {
  const instance = await createInstance(d, init.key);
  const iid = instance.id;
  const admin = await loginToken(d, iid, instance.adminUsername);
  const profiles = await profilesByName(d, admin, iid);
  await patchSettings(d, init.key, iid, { attribute_classes: { vip_note: 'sensitive', lang: 'sensitive' } });
  const hours = await createHours(d, admin, iid, { config: OPEN_ALL_WEEK });
  const queue = await createQueue(d, admin, iid, hours.id);
  const rp = await createRoutingProfile(d, admin, iid, [{ queue_id: queue.id, priority: 1 }], { concurrency: { CHAT: 2 } });
  const { flow } = await publishFlow(d, admin, iid, classFlow({ hoursId: hours.id, queueId: queue.id }));
  const entryPoint = await createEntryPoint(d, admin, iid, flow.id, { type: 'CHAT' });
  const seeing = await createProfile(d, admin, iid, unique('sees'), ['Contacts.Handle', 'ContactSearch.View', 'SensitiveData.View']);
  return {
    d, iid, admin, profiles, hours, queue, rp, entryPoint, seeing,
    plainAgent: await createAgent(d, admin, iid, { profiles: [profiles.Agent.id], routingProfileId: rp.id }),
    seeingAgent: await createAgent(d, admin, iid, { profiles: [seeing.id], routingProfileId: rp.id }),
    manager: (await userWithToken(d, admin, iid, [profiles.CallCenterManager.id])).token,
  };
}

async function queued(ctx) {
  const c = await startCustomer(d, ctx, { attributes: { vip_note: VIP, lang: 'fr' } });
  await answerPhone(c);
  await waitContact(d, ctx.admin, ctx.iid, c.cid, (r) => r.state === 'QUEUED' || r.state === 'OFFERED', 'the queued record');
  return c;
}

const MASKED = { callback_number: `${B8}1111`, vip_note: `${B8}alls`, lang: B8, pin_hint: B8, tier: 'gold' };
const SHOWN = { callback_number: PHONE_E164, vip_note: VIP, lang: 'fr', pin_hint: B8, tier: 'gold' };

describe('security settings: attribute_classes and pii_redaction', () => {
  let iid;
  before(async () => {
    iid = (await createInstance(d, init.key)).id;
  });
  const p = () => `/v1/instances/${iid}/security-settings`;

  test('defaults: no classes, redaction off', async () => {
    const r = await api(d.url, 'GET', p(), { key: init.key });
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(r.json.attribute_classes, {});
    assert.equal(r.json.pii_redaction, 'off');
  });

  test('bad values are 400 naming the field; good ones are kept', async () => {
    const cases = [
      [{ attribute_classes: { card: 'secret' } }, 'attribute_classes.card'],
      [{ attribute_classes: { card: 'Sensitive' } }, 'attribute_classes.card'],
      [{ attribute_classes: { card: 3 } }, 'attribute_classes.card'],
      [{ attribute_classes: { 'bad name': 'public' } }, 'attribute_classes'],
      [{ attribute_classes: ['card'] }, 'attribute_classes'],
      [{ attribute_classes: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`a${i}`, 'public'])) }, 'attribute_classes'],
      [{ pii_redaction: 'all' }, 'pii_redaction'],
      [{ pii_redaction: true }, 'pii_redaction'],
      [{ pii_redaction: 'Both' }, 'pii_redaction'],
    ];
    for (const [body, field] of cases) {
      const r = await api(d.url, 'PATCH', p(), { key: init.key, body });
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${show(r)}`);
      assert.equal(r.json.error.code, 'InvalidParameter');
      assert.equal(r.json.error.field, field, show(r));
    }
    const ok = await api(d.url, 'PATCH', p(), { key: init.key, body: { attribute_classes: { card: 'restricted', note: 'public' }, pii_redaction: 'both' } });
    assert.equal(ok.status, 200, show(ok));
    const g = await api(d.url, 'GET', p(), { key: init.key });
    assert.deepEqual(g.json.attribute_classes, { card: 'restricted', note: 'public' });
    assert.equal(g.json.pii_redaction, 'both');
    // PATCH replaces the map as a whole.
    await patchSettings(d, init.key, iid, { attribute_classes: {} });
    assert.deepEqual((await api(d.url, 'GET', p(), { key: init.key })).json.attribute_classes, {});
  });
});

describe('flows: UpdateContactAttributes Classes', () => {
  test('checked at publish; Classes alone is a valid block', async () => {
      const inst = await createInstance(d, init.key);
    const admin = await loginToken(d, inst.id, inst.adminUsername);
    const doc = (params) => ({
      Version: '2019-10-30', StartAction: 'tag',
      Actions: [
        { Identifier: 'tag', Type: 'UpdateContactAttributes', Parameters: params, Transitions: { NextAction: 'bye' } },
        { Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
      ],
    });
    const make = (params) => api(d.url, 'POST', `/v1/instances/${inst.id}/flows`, { key: admin, body: { name: unique('f'), content: doc(params) } });
    const bad = [
      [{ Classes: { card: 'Sensitive' } }, 'Actions[0].Parameters.Classes.card'],
      [{ Classes: { card: 'secret' }, Attributes: { card: 'x' } }, 'Actions[0].Parameters.Classes.card'],
      [{ Classes: {} }, 'Actions[0].Parameters.Classes'],
      [{ Classes: { 'no spaces': 'public' } }, 'Actions[0].Parameters.Classes["no spaces"]'],
      [{}, 'Actions[0].Parameters.Attributes'],
    ];
    for (const [params, path] of bad) {
      const r = await make(params);
      assert.equal(r.status, 201, show(r));
      assert.equal(r.json.validation.valid, false, show(r));
      assert.ok(r.json.validation.errors.some((e) => e.path === path), `${path} in ${show(r)}`);
    }
    const good = await make({ Classes: { callback_number: 'restricted' } });
    assert.equal(good.json.validation.valid, true, show(good));
  });
});

describe('masking of classified attributes', () => {
  let ctx;
  before(async () => { ctx = await center(); });

  test('GET contact and search: sensitive masked without SensitiveData.View, restricted always; classes only go up', async () => {
    const c = await queued(ctx);
    const asManager = await getContact(d, ctx.manager, ctx.iid, c.cid);
    assert.equal(asManager.status, 200, show(asManager));
    assert.deepEqual(asManager.json.attributes, MASKED);
    assert.ok(!asManager.text.includes('2024561111') && !asManager.text.includes(RESTRICTED) && !asManager.text.includes('morning'), asManager.text);

    const asAdmin = await getContact(d, ctx.admin, ctx.iid, c.cid);
    assert.deepEqual(asAdmin.json.attributes, SHOWN);
    assert.ok(!asAdmin.text.includes(RESTRICTED), 'a restricted value reached a reader with SensitiveData.View');

    const seer = (await userWithToken(d, ctx.admin, ctx.iid, [ctx.seeing.id])).token;
    assert.deepEqual((await getContact(d, seer, ctx.iid, c.cid)).json.attributes, SHOWN);

    const listed = await listAll(d, ctx.manager, `/v1/instances/${ctx.iid}/contacts`);
    const row = listed.find((x) => x.id === c.cid);
    assert.deepEqual(row.attributes, MASKED);
    const listedAdmin = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts`);
    assert.deepEqual(listedAdmin.find((x) => x.id === c.cid).attributes, SHOWN);

    // A permission taken away applies at the next request.
    const r = await api(d.url, 'PATCH', `/v1/instances/${ctx.iid}/security-profiles/${ctx.seeing.id}`, { key: ctx.admin, body: { permissions: ['Contacts.Handle', 'ContactSearch.View'] } });
    assert.equal(r.status, 200, show(r));
    assert.deepEqual((await getContact(d, seer, ctx.iid, c.cid)).json.attributes, MASKED);
    const back = await api(d.url, 'PATCH', `/v1/instances/${ctx.iid}/security-profiles/${ctx.seeing.id}`, { key: ctx.admin, body: { permissions: ['Contacts.Handle', 'ContactSearch.View', 'SensitiveData.View'] } });
    assert.equal(back.status, 200, show(back));

    // The instance raising a class applies to records already stored.
    await patchSettings(d, init.key, ctx.iid, { attribute_classes: { vip_note: 'sensitive', lang: 'sensitive', tier: 'restricted' } });
    assert.equal((await getContact(d, ctx.admin, ctx.iid, c.cid)).json.attributes.tier, B8);
    await patchSettings(d, init.key, ctx.iid, { attribute_classes: { vip_note: 'sensitive', lang: 'sensitive' } });
    // ... but dropping it does not lower what the record stored (the flow said public).
    assert.equal((await getContact(d, ctx.admin, ctx.iid, c.cid)).json.attributes.tier, 'gold');
    assert.equal((await getContact(d, ctx.admin, ctx.iid, c.cid)).json.attributes.lang, 'fr');
    assert.equal((await getContact(d, ctx.manager, ctx.iid, c.cid)).json.attributes.lang, B8);
    c.sock.send({ type: 'end' });
    await c.sock.close();
  });

  test('the agent stream: offer, accept reply and hello masked for an agent without SensitiveData.View', async () => {
    const agent = ctx.plainAgent;
    await readyAgent(d, ctx.iid, agent);
    const c = await queued(ctx);
    const { offer, accept } = await takeOffer(d, ctx.iid, agent, c.cid);
    assert.deepEqual(offer.attributes, MASKED, JSON.stringify(offer));
    assert.deepEqual(accept.json.attributes, MASKED, show(accept));
    // A reconnect's hello lists the held contact, masked the same way.
    await agent.stream.close();
    await connectAgent(d, ctx.iid, agent);
    const held = agent.hello.contacts.find((x) => x.id === c.cid);
    assert.ok(held, JSON.stringify(agent.hello));
    assert.deepEqual(held.attributes, MASKED);
    // The end reply too; nothing of the values anywhere on the stream.
    const end = await agentPost(d, ctx.iid, agent, c.cid, 'end');
    assert.equal(end.status, 200, show(end));
    assert.deepEqual(end.json.attributes, MASKED);
    const all = JSON.stringify(agent.stream.log) + show(accept) + show(end);
    for (const v of ['2024561111', RESTRICTED, 'morning']) assert.ok(!all.includes(v), `${v} reached the agent`);
    await agentPost(d, ctx.iid, agent, c.cid, 'end');
    await agent.stream.close();
    await c.sock.close();
  });

  test('the agent stream: an agent with SensitiveData.View sees sensitive values, never restricted ones', async () => {
    const agent = ctx.seeingAgent;
    await readyAgent(d, ctx.iid, agent);
    const c = await queued(ctx);
    const { offer, accept } = await takeOffer(d, ctx.iid, agent, c.cid);
    assert.deepEqual(offer.attributes, SHOWN, JSON.stringify(offer));
    assert.deepEqual(accept.json.attributes, SHOWN);
    assert.ok(!JSON.stringify(agent.stream.log).includes(RESTRICTED));
    await agentPost(d, ctx.iid, agent, c.cid, 'end');
    await agentPost(d, ctx.iid, agent, c.cid, 'end');
    await agent.stream.close();
    await c.sock.close();
  });
});

describe('StoreCustomerInput values are sensitive', () => {
  test('the encrypted input is masked for a reader without SensitiveData.View', async () => {
      const inst = await createInstance(d, init.key);
    const iid = inst.id;
    const admin = await loginToken(d, iid, inst.adminUsername);
    const profiles = await profilesByName(d, admin, iid);
    const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const k = await api(d.url, 'POST', `/v1/instances/${iid}/encryption-keys`, { key: admin, body: { key_id: 'card-key', public_key: publicKey.export({ type: 'spki', format: 'pem' }) } });
    assert.equal(k.status, 201, show(k));
    const hours = await createHours(d, admin, iid, { config: OPEN_ALL_WEEK });
    const queue = await createQueue(d, admin, iid, hours.id);
    const { flow } = await publishFlow(d, admin, iid, {
      Version: '2019-10-30', StartAction: 'ask',
      Actions: [
        { Identifier: 'ask', Type: 'GetParticipantInput', Parameters: { Text: 'Card?', StoreInput: 'True' }, Transitions: { NextAction: 'check', Errors: [{ NextAction: 'bye', ErrorType: 'NoMatchingError' }] } },
        { Identifier: 'check', Type: 'ValidateInput', Parameters: { Kind: 'Luhn' }, Transitions: { NextAction: 'store', Errors: [{ NextAction: 'bye', ErrorType: 'InvalidInput' }] } },
        { Identifier: 'store', Type: 'StoreCustomerInput', Parameters: { Attribute: 'card', EncryptionKeyId: 'card-key' }, Transitions: { NextAction: 'queue', Errors: [{ NextAction: 'bye', ErrorType: 'NoMatchingError' }] } },
        { Identifier: 'queue', Type: 'TransferContactToQueue', Parameters: { QueueId: queue.id }, Transitions: {} },
        { Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
      ],
    });
    const entryPoint = await createEntryPoint(d, admin, iid, flow.id, { type: 'CHAT' });
    const c = await startCustomer(d, { iid, entryPoint });
    await c.sock.next(isSystem('Card?'));
    c.sock.send({ type: 'message', content: '4111 1111 1111 1111' });
    await c.sock.next(isMessage('CUSTOMER'));
    const rec = await waitContact(d, admin, iid, c.cid, (r) => r.state === 'QUEUED' && r.attributes.card, 'the queued record');
    assert.match(rec.attributes.card, /^[A-Za-z0-9+/]{100,}=*$/, 'the admin (SensitiveData.View) reads the message');
    const manager = (await userWithToken(d, admin, iid, [profiles.CallCenterManager.id])).token;
    const masked = (await getContact(d, manager, iid, c.cid)).json.attributes.card;
    assert.equal(masked, `${B8}${rec.attributes.card.slice(-4)}`);
    c.sock.send({ type: 'end' });
    await c.sock.close();
  });
});
