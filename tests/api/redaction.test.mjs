// PII redaction (C13; docs/api.md "PII redaction"): with the instance
// setting pii_redaction, card numbers, SSNs, e-mail addresses and phone
// numbers become [CARD], [SSN], [EMAIL], [PHONE] in the stored transcript and
// flow log ("stored"), in what agents see ("agents"; stored as typed,
// sealed), or both; the customer always sees what was typed. Then the data
// scan (GET .../data-scan and `bulwark scan`) counts what is stored where.
// Real chats through the public API; no sleeps.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { initData, startDaemon, removeTempDir, api, show, runBulwark } from './lib/daemon.mjs';
import { patchSettings, userWithToken, createProfile, unique } from './lib/identity.mjs';
import { createEntryPoint } from './lib/routing.mjs';
import {
  TEXT, chatFlow, setupCenter, publishFlow, readyAgent, takeOffer, startCustomer, answerPhone,
  isMessage, about, agentPost, listAll, waitContact,
} from './lib/chat.mjs';

const SAID = 'my card is 4111 1111 1111 1111, mail ada@example.com, ssn 123-45-6789, order 1234567';
const SAID_RED = 'my card is [CARD], mail [EMAIL], ssn [SSN], order 1234567';
const AGENT_SAID = 'I will call you back at 202-456-1111 today';
const AGENT_RED = 'I will call you back at [PHONE] today';
const GREET_ID = 'greet (owner ada@example.com)';
const GREET_ID_RED = 'greet (owner [EMAIL])';

let init;
let d;
let ctx;
const contacts = {}; // mode → contact id

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  ctx = await setupCenter(d, init.key, { agents: 1 });
  // The test flow: its greeting's action id holds an address (the flow log's text).
  const doc = chatFlow({ hoursId: ctx.hours.id, queueId: ctx.queue.id });
  for (const a of doc.Actions) {
    if (a.Identifier === 'greet') a.Identifier = GREET_ID;
    for (const c of a.Transitions?.Conditions ?? []) if (c.NextAction === 'greet') c.NextAction = GREET_ID;
  }
  const { flow } = await publishFlow(d, ctx.admin, ctx.iid, doc);
  ctx.entryPoint = await createEntryPoint(d, ctx.admin, ctx.iid, flow.id, { type: 'CHAT' });
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

/** One chat under `mode`: what the customer and the agent saw, and the stored transcript and flow log. */
async function chatUnder(mode) {
  await patchSettings(d, init.key, ctx.iid, { pii_redaction: mode });
  const [agent] = ctx.agents;
  await readyAgent(d, ctx.iid, agent);
  const c = await startCustomer(d, ctx);
  await answerPhone(c);
  await takeOffer(d, ctx.iid, agent, c.cid);
  c.sock.send({ type: 'message', content: SAID });
  const echo = await c.sock.next(isMessage('CUSTOMER', SAID), { what: 'the customer echo (as typed)' });
  const atAgent = await agent.stream.next(about(c.cid, isMessage('CUSTOMER')), { what: 'the message at the agent' });
  const sent = await agentPost(d, ctx.iid, agent, c.cid, 'messages', { content: AGENT_SAID });
  assert.equal(sent.status, 201, show(sent));
  const agentEcho = await agent.stream.next(about(c.cid, isMessage('AGENT')), { what: 'the agent echo' });
  const atCustomer = await c.sock.next(isMessage('AGENT'), { what: 'the agent message at the customer' });
  assert.equal(echo.id, atAgent.id);
  assert.equal(agentEcho.id, atCustomer.id);
  c.sock.send({ type: 'end' });
  await waitContact(d, ctx.admin, ctx.iid, c.cid, (r) => r.disconnect_reason === 'CUSTOMER_DISCONNECT', 'the ended record');
  await agentPost(d, ctx.iid, agent, c.cid, 'end');
  await agent.stream.close();
  await c.sock.close();
  const transcript = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts/${c.cid}/transcript`);
  const log = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts/${c.cid}/flow-log`);
  contacts[mode] = c.cid;
  return {
    atAgent: atAgent.content, agentEcho: agentEcho.content, reply: sent.json.content,
    atCustomer: atCustomer.content, echo: echo.content,
    stored: transcript.filter((m) => m.participant_role !== 'SYSTEM').map((m) => m.content),
    logIds: [...new Set(log.map((e) => e.action_id))],
  };
}

describe('pii_redaction modes', () => {
  test('off: everything as typed', async () => {
    const r = await chatUnder('off');
    assert.equal(r.atAgent, SAID);
    assert.equal(r.agentEcho, AGENT_SAID);
    assert.deepEqual(r.stored, ['(202) 456-1111', SAID, AGENT_SAID]);
    assert.ok(r.logIds.includes(GREET_ID), JSON.stringify(r.logIds));
  });

  test('stored: the transcript and the flow log are redacted; agents and customers see what was typed', async () => {
    const r = await chatUnder('stored');
    assert.equal(r.echo, SAID);
    assert.equal(r.atAgent, SAID);
    assert.equal(r.agentEcho, AGENT_SAID);
    assert.equal(r.reply, AGENT_SAID);
    assert.equal(r.atCustomer, AGENT_SAID);
    assert.deepEqual(r.stored, ['[PHONE]', SAID_RED, AGENT_RED]);
    assert.ok(r.logIds.includes(GREET_ID_RED) && !r.logIds.includes(GREET_ID), JSON.stringify(r.logIds));
  });

  test('agents: agents see redacted text (their own messages included); stored as typed; the customer sees what was typed', async () => {
    const r = await chatUnder('agents');
    assert.equal(r.echo, SAID);
    assert.equal(r.atAgent, SAID_RED);
    assert.equal(r.agentEcho, AGENT_RED);
    assert.equal(r.reply, AGENT_RED);
    assert.equal(r.atCustomer, AGENT_SAID);
    assert.deepEqual(r.stored, ['(202) 456-1111', SAID, AGENT_SAID]);
    assert.ok(r.logIds.includes(GREET_ID), JSON.stringify(r.logIds));
    // Stored as typed, but sealed: not in the database files.
    for (const f of fs.readdirSync(init.data)) {
      const p = path.join(init.data, f);
      if (!fs.statSync(p).isFile()) continue;
      const bytes = fs.readFileSync(p);
      for (const v of ['4111 1111 1111 1111', 'ada@example.com, ssn', '123-45-6789']) assert.equal(bytes.indexOf(v), -1, `${f} holds ${v}`);
    }
  });

  test('both: agents and the stored transcript get redacted text', async () => {
    const r = await chatUnder('both');
    assert.equal(r.echo, SAID);
    assert.equal(r.atAgent, SAID_RED);
    assert.equal(r.agentEcho, AGENT_RED);
    assert.equal(r.atCustomer, AGENT_SAID);
    assert.deepEqual(r.stored, ['[PHONE]', SAID_RED, AGENT_RED]);
    assert.ok(r.logIds.includes(GREET_ID_RED), JSON.stringify(r.logIds));
  });

  test('the mode is read when a contact starts', async () => {
    await patchSettings(d, init.key, ctx.iid, { pii_redaction: 'off' });
    const c = await startCustomer(d, ctx);
    await c.sock.next(isMessage('SYSTEM', TEXT.ask));
    await patchSettings(d, init.key, ctx.iid, { pii_redaction: 'both' });
    c.sock.send({ type: 'message', content: 'nope ada@example.com' });
    await c.sock.next(isMessage('SYSTEM', TEXT.invalid));
    c.sock.send({ type: 'end' });
    await c.sock.close();
    const t = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts/${c.cid}/transcript`);
    assert.ok(t.some((m) => m.content === 'nope ada@example.com'), JSON.stringify(t));
    await patchSettings(d, init.key, ctx.iid, { pii_redaction: 'off' });
    contacts.late = c.cid;
  });
});

describe('the data scan', () => {
  const scan = (token, q = '') => api(d.url, 'GET', `/v1/instances/${ctx.iid}/data-scan${q}`, { key: token });

  test('counts what is stored where, by class and by kind of PII', async () => {
    const r = await scan(ctx.admin);
    assert.equal(r.status, 200, show(r));
    const s = r.json;
    assert.equal(s.instance_id, ctx.iid);
    assert.equal(s.contacts_scanned, 5);
    assert.equal(s.complete, true);
    assert.equal(s.unreadable_records, 0);
    // Each routed chat has callback_number (internal: a phone number shown to every reader).
    assert.deepEqual(s.attributes.by_class, { public: 0, internal: 4, sensitive: 0, restricted: 0 });
    assert.deepEqual(s.attributes.names, { callback_number: { internal: 4 } });
    assert.equal(s.attributes.pii_in_visible_values.PHONE, 4);
    assert.equal(s.attributes.stored_in, 'contacts.customer');
    assert.deepEqual(s.customer_endpoints, { stored_in: 'contacts.customer', display_name: 5, email: 0, phone_number: 0, address: 5 });
    // As typed in off and agents (and the late contact's address): redacted in stored and both.
    assert.deepEqual(s.transcripts.pii, { CARD: 2, SSN: 2, EMAIL: 3, PHONE: 4 });
    assert.equal(s.transcripts.unreadable, 0);
    assert.equal(s.transcripts.stored_in, 'contact_messages.content');
    assert.ok(s.transcripts.messages >= 5 * 3, show(r));
    assert.deepEqual(s.flow_logs.pii, { CARD: 0, SSN: 0, EMAIL: 3, PHONE: 0 });
    // Counts and names only, never a value.
    for (const v of ['4111', 'ada@', '456-1111', '+1202']) assert.ok(!r.text.includes(v), `${v} in the scan`);

    // A class the instance gives applies to stored records.
    await patchSettings(d, init.key, ctx.iid, { attribute_classes: { callback_number: 'sensitive' } });
    const c2 = (await scan(ctx.admin)).json;
    assert.deepEqual(c2.attributes.by_class, { public: 0, internal: 0, sensitive: 4, restricted: 0 });
    assert.deepEqual(c2.attributes.names, { callback_number: { sensitive: 4 } });
    assert.equal(c2.attributes.pii_in_visible_values.PHONE, 0);
    await patchSettings(d, init.key, ctx.iid, { attribute_classes: {} });
  });

  test('bounded by limit, since and until', async () => {
    const one = await scan(ctx.admin, '?limit=1');
    assert.equal(one.json.contacts_scanned, 1, show(one));
    assert.equal(one.json.complete, false);
    assert.equal(one.json.limit, 1);
    const none = await scan(ctx.admin, '?until=2000-01-01T00:00:00Z');
    assert.equal(none.json.contacts_scanned, 0, show(none));
    assert.equal(none.json.complete, true);
    assert.equal(none.json.until, '2000-01-01T00:00:00.000Z');
    const recent = await scan(ctx.admin, `?since=${encodeURIComponent(new Date(Date.now() + 60000).toISOString())}`);
    assert.equal(recent.json.contacts_scanned, 0, show(recent));
    for (const q of ['?limit=0', '?limit=1001', '?since=yesterday', '?until=2026-13-01T00:00:00Z']) {
      const r = await scan(ctx.admin, q);
      assert.equal(r.status, 400, `${q}: ${show(r)}`);
      assert.equal(r.json.error.code, 'InvalidParameter');
    }
  });

  test('needs SensitiveData.View; the read is audited', async () => {
    const manager = (await userWithToken(d, ctx.admin, ctx.iid, [ctx.profiles.CallCenterManager.id])).token;
    const r = await scan(manager);
    assert.equal(r.status, 403, show(r));
    const p = await createProfile(d, ctx.admin, ctx.iid, unique('scan'), ['SensitiveData.View']);
    const auditor = (await userWithToken(d, ctx.admin, ctx.iid, [p.id])).token;
    assert.equal((await scan(auditor)).status, 200);
    const ev = await api(d.url, 'GET', `/v1/instances/${ctx.iid}/audit-events?action=data_scan.get`, { key: ctx.admin });
    assert.equal(ev.status, 200, show(ev));
    assert.ok(ev.json.items.some((e) => e.result === 'allowed'), show(ev));
    assert.ok(ev.json.items.some((e) => e.result === 'denied'), show(ev));
  });

  test('bulwark scan', async () => {
    const env = { BULWARK_URL: d.url, BULWARK_TOKEN: ctx.admin, BULWARK_INSTANCE: ctx.iid };
    const json = await runBulwark(['scan', '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).contacts_scanned, 5);
    const human = await runBulwark(['scan', '--limit', '3'], { env });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /contacts scanned\s+3 \(the window holds more/);
    assert.match(human.stdout, /callback_number\s+internal\s+2/);
    assert.match(human.stdout, /transcripts\s+\d+ messages/);
    const usage = await runBulwark(['scan', '--limit', '0'], { env });
    assert.equal(usage.code, 2, usage.stdout + usage.stderr);
    const bad = await runBulwark(['scan', '--since', 'yesterday'], { env });
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /InvalidParameter/);
    const denied = await runBulwark(['scan'], { env: { ...env, BULWARK_TOKEN: (await userWithToken(d, ctx.admin, ctx.iid, [ctx.profiles.Agent.id])).token } });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /AccessDenied/);
  });
});
