// Encryption at rest (C14), rotation under load: with one data key per
// value and a slow re-wrap (one key per batch, a pause between batches),
// POST .../keys/rotate answers 202 and GET .../keys shows the progress;
// meanwhile a chat keeps writing (customer and agent messages), users are
// created and read, and every read of the transcript, the record and the
// users opens everything, at every point. A second rotation is refused
// while one runs. At the end the rotation is COMPLETED with every data key
// re-wrapped, the old KEK is gone from the file (retired), and all values
// still open, also after a restart. Everything is audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show, assertHealthy } from './lib/daemon.mjs';
import { createUser, unique } from './lib/identity.mjs';
import {
  setupCenter, readyAgent, startCustomer, answerPhone, takeOffer, say, agentPost, isMessage,
} from './lib/chat.mjs';
import { keysState, rotate, waitRotation, dbFiles, rows } from './lib/keys.mjs';

let init;
let d;
let ctx;
let customer;
let agent;

before(async () => {
  init = await initData();
  d = await startDaemon({
    data: init.data,
    args: ['--data-key-max-seals', '1', '--key-rotation-batch', '1', '--key-rotation-pause-ms', '15'],
  });
  ctx = await setupCenter(d, init.key, { agents: 1 });
  agent = ctx.agents[0];
  await readyAgent(d, ctx.iid, agent);
  customer = await startCustomer(d, ctx, { display_name: 'Rota', email: 'rota@example.com', attributes: { plan: 'gold' } });
  await answerPhone(customer);
  await takeOffer(d, ctx.iid, agent, customer.cid);
  for (let i = 0; i < 60; i++) await say(customer, `before ${i}`);
});

after(async () => {
  await customer?.sock.close();
  await agent?.stream?.close();
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

const I = (s) => `/v1/instances/${ctx.iid}${s}`;

/** Reads everything sealed that the test wrote; asserts each value opens. */
async function readAll(expectTexts, users) {
  const tr = await api(d.url, 'GET', I(`/contacts/${customer.cid}/transcript?limit=1000`), { key: ctx.admin });
  assert.equal(tr.status, 200, show(tr));
  const bad = tr.json.items.filter((m) => m.content === null || m.content_error);
  assert.deepEqual(bad, [], 'messages that did not open');
  const texts = new Set(tr.json.items.map((m) => m.content));
  for (const t of expectTexts) assert.ok(texts.has(t), `${t} missing from the transcript`);
  const rec = await api(d.url, 'GET', I(`/contacts/${customer.cid}`), { key: ctx.admin });
  assert.equal(rec.status, 200, show(rec));
  assert.equal(rec.json.customer_endpoint.display_name, 'Rota', show(rec));
  assert.equal(rec.json.customer_data_error, undefined, show(rec));
  for (const u of users) {
    const r = await api(d.url, 'GET', I(`/users/${u.id}`), { key: ctx.admin });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.first_name, u.first_name, show(r));
    assert.equal(r.json.pii_error, undefined, show(r));
  }
}

test('rotation under load: progress is visible, nothing is unreadable at any point, the old KEK is retired', async () => {
  const k0 = await keysState(d, ctx.admin, ctx.iid);
  assert.equal(k0.origin, 'GENERATED');
  assert.match(k0.kek_id, /^kek_/);
  assert.equal(k0.rotation, null);
  assert.ok(k0.data_keys >= 60, JSON.stringify(k0));

  const rot = await rotate(d, ctx.admin, ctx.iid);
  assert.match(rot.id, /^kr_/);
  assert.equal(rot.state, 'RUNNING');
  assert.equal(rot.from_kek_id, k0.kek_id);
  assert.notEqual(rot.kek_id, k0.kek_id);
  assert.equal(rot.total, k0.data_keys);
  assert.equal(rot.finished_at, null);
  const again = await api(d.url, 'POST', I('/keys/rotate'), { key: ctx.admin });
  assert.equal(again.status, 409, `a second rotation while one runs: ${show(again)}`);
  assert.equal(again.json.error.code, 'Conflict');

  const texts = Array.from({ length: 60 }, (_, i) => `before ${i}`);
  const users = [];
  const progress = [];
  let state;
  for (let i = 0; ; i++) {
    state = await keysState(d, ctx.admin, ctx.iid);
    assert.equal(state.rotation.id, rot.id);
    progress.push(state.rotation.rewrapped);
    if (state.rotation.state !== 'RUNNING') break;
    assert.equal(state.kek_id, rot.kek_id, 'the new KEK is active from the start');
    assert.deepEqual(state.retiring_kek_ids, [k0.kek_id], 'the old KEK decrypts until the end');
    // Write: both sides of the chat, and a user with names.
    const t = `during ${i}`;
    await say(customer, t);
    const a = `agent during ${i}`;
    const p = await agentPost(d, ctx.iid, agent, customer.cid, 'messages', { content: a });
    assert.equal(p.status, 201, show(p));
    await customer.sock.next(isMessage('AGENT', a), { what: a });
    texts.push(t, a);
    const first = `Rot${i}`;
    users.push({ ...(await createUser(d, ctx.admin, ctx.iid, { username: unique('rot'), first_name: first })), first_name: first });
    // Read everything.
    await readAll(texts, users);
    assert.ok(i < 2000, 'the rotation does not end');
  }
  assert.equal(state.rotation.state, 'COMPLETED', JSON.stringify(state));
  assert.equal(state.rotation.rewrapped, state.rotation.total);
  assert.match(state.rotation.finished_at, /Z$/);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i] >= progress[i - 1], `progress went back: ${progress}`);
  assert.ok(progress.some((p) => p > 0 && p < rot.total), `no intermediate progress seen: ${progress}`);
  assert.ok(users.length >= 2, 'the load ran during the rotation');
  assert.equal(state.kek_id, rot.kek_id);
  assert.deepEqual(state.retiring_kek_ids, []);

  // Retired: the old KEK is no longer in the file; every data key is under the new one.
  const { db } = dbFiles(init.data);
  const keks = rows(db, `SELECT id, state FROM instance_keks WHERE instance_id='${ctx.iid}'`);
  assert.deepEqual(keks, [{ id: rot.kek_id, state: 'ACTIVE' }]);
  const stale = rows(db, `SELECT count(*) AS n FROM data_keys WHERE instance_id='${ctx.iid}' AND kek_id<>'${rot.kek_id}'`);
  assert.equal(stale[0].n, 0);
  await readAll(texts, users);

  // A restart reads everything back through the new KEK alone.
  assert.equal(await d.stop(), 0);
  d = await startDaemon({ data: init.data });
  await readAll(texts, users);
  await assertHealthy(assert, d, 'the rotation');

  // Audited: the rotation and the reads of the key state.
  const au = await api(d.url, 'GET', I('/audit-events?limit=1000'), { key: ctx.admin });
  assert.equal(au.status, 200, show(au));
  const actions = au.json.items.map((e) => e.action);
  assert.equal(actions.filter((a) => a === 'keys.rotate').length, 2, 'the rotation and the refused second one');
  assert.ok(actions.includes('keys.get'), 'GET keys is audited');
  const refused = au.json.items.find((e) => e.action === 'keys.rotate' && e.status === 409);
  assert.equal(refused?.result, 'failed');
});
