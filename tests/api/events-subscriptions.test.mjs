// Event subscriptions (C18, docs/api.md "Event subscriptions (C18) and
// sinks (C19)"), the routes: create with every field and with the defaults,
// get, list (paged by id), PATCH, DELETE, the audit of every write, 409 for
// a repeated name and for a 33rd subscription; bad input on every route
// (malformed JSON, a body too large, a wrong media type, wrong types,
// unknown fields, unknown event types, empty lists, bad filters and fields,
// an unknown sink, a webhook toward another instance's integration or a
// path its integration does not allow, nats/warehouse on a server without
// them, a warehouse sink with other types); 401 without a token, 403
// without Integrations.View/Edit, 404 for another instance's subscription
// on every route. Nothing answers 500.
//
// Two daemons: one with no nats_url/warehouse_url, one with both set to
// loopback ports where nothing listens (no event is ever queued in this
// file, so the sinks are never called).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show, waitFor } from './lib/daemon.mjs';
import {
  assertError, unique, createInstance, loginToken, createProfile, userWithToken,
} from './lib/identity.mjs';
import { createIntegration } from './lib/integrations.mjs';
import { subsPath, postSub, createSub, getSub } from './lib/events.mjs';

let init;
let d; // no nats_url, no warehouse_url
let dSinks; // both set
let A; // {id, admin}
let B;
let igA; // an integration of A toward 127.0.0.1 (POST, prefix /events/)
let igA2; // of A, GET only
let igB; // of B

const STATS0 = { pending: 0, delivered: 0, dead: 0, last_delivered_at: null, last_error: null, last_error_at: null };

async function instance(daemon) {
  const inst = await createInstance(daemon, init.key);
  return { id: inst.id, admin: await loginToken(daemon, inst.id, inst.adminUsername) };
}

function hookBody(ig, extra = {}) {
  return {
    name: unique('es'),
    event_types: ['contact.ended'],
    sink: { type: 'webhook', integration_id: ig.id, path: '/events/in' },
    ...extra,
  };
}

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  A = await instance(d);
  B = await instance(d);
  const base = { base_url: 'http://127.0.0.1:9/hooks', allowed_address_ranges: ['127.0.0.1'] };
  igA = await createIntegration(d, A.admin, A.id, { name: unique('ig'), ...base, allowed_methods: ['POST'], allowed_path_prefixes: ['/events/'] });
  igA2 = await createIntegration(d, A.admin, A.id, { name: unique('ig'), ...base, allowed_methods: ['GET'] });
  igB = await createIntegration(d, B.admin, B.id, { name: unique('ig'), ...base });
});

after(async () => {
  const code = await d?.stop();
  const code2 = await dSinks?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-3000)}`);
  if (dSinks) assert.equal(code2, 0, `daemon exit code ${code2}\nstderr:\n${dSinks?.stderr.slice(-3000)}`);
  for (const x of [d, dSinks]) {
    if (x) assert.ok(!/"status":5\d\d/.test(x.stderr), `a request answered 5xx:\n${x.stderr.split('\n').filter((l) => /"status":5\d\d/.test(l)).join('\n')}`);
  }
});

describe('create, read, list, update, delete', () => {
  test('create with every field: 201 with the fields, defaults, timestamps and zero stats; GET answers the same', async () => {
    const body = {
      name: unique('warehouse'),
      event_types: ['contact.ended', 'contact.queued', 'contact.blocked', 'audit'],
      filters: { queues: ['qu_abc'], channels: ['CHAT', 'CALLBACK'], hierarchy_groups: ['Sales/EMEA'], business_units: ['Sales'] },
      fields: ['id', 'channel', 'queue', 'queue.id', 'disconnect_reason', 'customer_endpoint.address'],
      sink: { type: 'webhook', integration_id: igA.id, path: '/events/contacts' },
      enabled: false,
    };
    const r = await postSub(d, A.admin, A.id, body);
    assert.equal(r.status, 201, show(r));
    const s = r.json;
    assert.match(s.id, /^es_[A-Za-z0-9_-]+$/);
    for (const k of ['name', 'event_types', 'filters', 'fields', 'sink', 'enabled']) {
      assert.deepEqual(s[k], body[k], `${k}: ${JSON.stringify(s)}`);
    }
    assert.deepEqual(Object.keys(s).sort(),
      ['created_at', 'enabled', 'event_types', 'fields', 'filters', 'id', 'name', 'sink', 'stats', 'updated_at']);
    assert.ok(Math.abs(Date.parse(s.created_at) - Date.now()) < 60000, s.created_at);
    assert.equal(s.updated_at, s.created_at);
    assert.deepEqual(s.stats, STATS0);
    assert.deepEqual(await getSub(d, A.admin, A.id, s.id), s);
  });

  test('the defaults: no filters, all fields, path /, enabled', async () => {
    const body = { name: unique('min'), event_types: ['contact.queued'], sink: { type: 'webhook', integration_id: igA.id } };
    // igA allows only /events/ prefixes: path / is refused; a default integration takes it.
    const refused = await postSub(d, A.admin, A.id, body);
    assertError(refused, 400, 'InvalidParameter', 'sink.path', 'the default path / is outside /events/');
    const open = await createIntegration(d, A.admin, A.id, { name: unique('ig'), base_url: 'http://127.0.0.1:9', allowed_address_ranges: ['127.0.0.1'] });
    const r = await postSub(d, A.admin, A.id, { ...body, sink: { type: 'webhook', integration_id: open.id } });
    assert.equal(r.status, 201, show(r));
    assert.equal(r.json.filters, null);
    assert.equal(r.json.fields, null);
    assert.deepEqual(r.json.sink, { type: 'webhook', integration_id: open.id, path: '/' });
    assert.equal(r.json.enabled, true);
  });

  test('list: paged by id, every page within limit, each subscription once, another instance\'s absent', async () => {
    const inst = await instance(d);
    const ig = await createIntegration(d, inst.admin, inst.id, { name: unique('ig'), base_url: 'http://127.0.0.1:9', allowed_address_ranges: ['127.0.0.1'] });
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await createSub(d, inst.admin, inst.id, { event_types: ['contact.queued'], sink: { type: 'webhook', integration_id: ig.id } })).id);
    const seen = [];
    let next = null;
    for (let pages = 0; pages < 10; pages++) {
      const r = await api(d.url, 'GET', subsPath(inst.id, `?limit=2${next ? `&next_token=${encodeURIComponent(next)}` : ''}`), { key: inst.admin });
      assert.equal(r.status, 200, show(r));
      assert.ok(r.json.items.length <= 2);
      seen.push(...r.json.items.map((x) => x.id));
      for (const x of r.json.items) assert.deepEqual(x.stats, STATS0);
      next = r.json.next_token;
      if (!next) break;
    }
    assert.deepEqual(seen, [...made].sort());
    const other = await api(d.url, 'GET', subsPath(B.id, '?limit=1000'), { key: B.admin });
    assert.equal(other.status, 200);
    assert.ok(other.json.items.every((x) => !made.includes(x.id)));
  });

  test('PATCH changes only what it names (updated_at moves on); fields/filters null restore the defaults', async () => {
    const s = await createSub(d, A.admin, A.id, hookBody(igA, { filters: { channels: ['CHAT'] }, fields: ['channel'] }));
    const name = unique('renamed');
    const t = Date.now(); // updated_at has millisecond resolution: let the clock move on
    await waitFor(() => Date.now() >= t + 3, { intervalMs: 1, what: 'the clock' });
    const r = await api(d.url, 'PATCH', subsPath(A.id, `/${s.id}`), { key: A.admin, body: { name, enabled: false } });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.name, name);
    assert.equal(r.json.enabled, false);
    for (const k of ['event_types', 'filters', 'fields', 'sink', 'created_at', 'id']) assert.deepEqual(r.json[k], s[k], k);
    assert.ok(Date.parse(r.json.updated_at) > Date.parse(s.updated_at), `${r.json.updated_at} vs ${s.updated_at}`);
    const r2 = await api(d.url, 'PATCH', subsPath(A.id, `/${s.id}`), {
      key: A.admin, body: { filters: null, fields: null, event_types: ['audit', 'contact.queued'], sink: { type: 'webhook', integration_id: igA.id, path: '/events/other' } },
    });
    assert.equal(r2.status, 200, show(r2));
    assert.equal(r2.json.filters, null);
    assert.equal(r2.json.fields, null);
    assert.deepEqual(r2.json.event_types, ['audit', 'contact.queued']);
    assert.equal(r2.json.sink.path, '/events/other');
    assert.equal(r2.json.name, name);
    assert.deepEqual(await getSub(d, A.admin, A.id, s.id), r2.json);
    // An empty PATCH changes nothing but is fine.
    const r3 = await api(d.url, 'PATCH', subsPath(A.id, `/${s.id}`), { key: A.admin, body: {} });
    assert.equal(r3.status, 200, show(r3));
    assert.equal(r3.json.name, name);
  });

  test('DELETE: 204, then 404 for GET, PATCH, DELETE and the dead letters', async () => {
    const s = await createSub(d, A.admin, A.id, hookBody(igA));
    const r = await api(d.url, 'DELETE', subsPath(A.id, `/${s.id}`), { key: A.admin });
    assert.equal(r.status, 204, show(r));
    for (const [m, p, body] of [
      ['GET', `/${s.id}`], ['PATCH', `/${s.id}`, { enabled: true }], ['DELETE', `/${s.id}`],
      ['GET', `/${s.id}/dead-letters`], ['POST', `/${s.id}/dead-letters/retry`], ['DELETE', `/${s.id}/dead-letters`],
    ]) {
      assertError(await api(d.url, m, subsPath(A.id, p), { key: A.admin, body }), 404, 'NotFound', undefined, `${m} ${p} after delete`);
    }
  });

  test('a repeated name is 409 (create and PATCH); the same name in another instance is fine', async () => {
    const s = await createSub(d, A.admin, A.id, hookBody(igA));
    assertError(await postSub(d, A.admin, A.id, hookBody(igA, { name: s.name })), 409, 'Conflict', undefined, 'create');
    const t = await createSub(d, A.admin, A.id, hookBody(igA));
    assertError(await api(d.url, 'PATCH', subsPath(A.id, `/${t.id}`), { key: A.admin, body: { name: s.name } }), 409, 'Conflict', undefined, 'PATCH');
    assert.equal((await getSub(d, A.admin, A.id, t.id)).name, t.name);
    const r = await postSub(d, B.admin, B.id, hookBody(igB, { name: s.name, sink: { type: 'webhook', integration_id: igB.id } }));
    assert.equal(r.status, 201, show(r));
  });

  test('at most 32 subscriptions per instance: the 33rd is 409; after a delete one more fits', async () => {
    const inst = await instance(d);
    const ig = await createIntegration(d, inst.admin, inst.id, { name: unique('ig'), base_url: 'http://127.0.0.1:9', allowed_address_ranges: ['127.0.0.1'] });
    const ids = [];
    for (let i = 0; i < 32; i++) ids.push((await createSub(d, inst.admin, inst.id, { event_types: ['contact.queued'], sink: { type: 'webhook', integration_id: ig.id } })).id);
    const r = await postSub(d, inst.admin, inst.id, { name: unique('x'), event_types: ['contact.queued'], sink: { type: 'webhook', integration_id: ig.id } });
    assertError(r, 409, 'Conflict', undefined, 'the 33rd');
    assert.equal((await api(d.url, 'DELETE', subsPath(inst.id, `/${ids[0]}`), { key: inst.admin })).status, 204);
    await createSub(d, inst.admin, inst.id, { event_types: ['contact.queued'], sink: { type: 'webhook', integration_id: ig.id } });
  });

  test('every write is audited (create, update, delete, retry and delete of dead letters)', async () => {
    const s = await createSub(d, A.admin, A.id, hookBody(igA));
    const p = subsPath(A.id, `/${s.id}`);
    assert.equal((await api(d.url, 'PATCH', p, { key: A.admin, body: { enabled: false } })).status, 200);
    const retry = await api(d.url, 'POST', `${p}/dead-letters/retry`, { key: A.admin });
    assert.equal(retry.status, 200, show(retry));
    assert.deepEqual(retry.json, { requeued: 0 });
    const del = await api(d.url, 'DELETE', `${p}/dead-letters`, { key: A.admin });
    assert.equal(del.status, 200, show(del));
    assert.deepEqual(del.json, { deleted: 0 });
    const list = await api(d.url, 'GET', `${p}/dead-letters`, { key: A.admin });
    assert.equal(list.status, 200, show(list));
    assert.deepEqual(list.json, { items: [], next_token: null });
    assert.equal((await api(d.url, 'DELETE', p, { key: A.admin })).status, 204);
    const r = await api(d.url, 'GET', `/v1/instances/${A.id}/audit-events?limit=1000`, { key: A.admin });
    assert.equal(r.status, 200, show(r));
    const mine = r.json.items.filter((e) => e.resource?.includes(s.id) || (e.action === 'event_subscriptions.create' && e.status === 201));
    const actions = new Set(mine.map((e) => e.action));
    for (const a of ['event_subscriptions.create', 'event_subscriptions.update', 'event_subscriptions.delete',
      'event_subscriptions.retry_dead_letters', 'event_subscriptions.delete_dead_letters']) {
      assert.ok(actions.has(a), `no ${a} in ${JSON.stringify([...actions])}`);
    }
  });
});

describe('bad input', () => {
  const big = () => JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 16) });

  // [what, body, field] for POST; every one is 400 InvalidParameter naming field.
  const badCreate = () => [
    ['no name', { ...hookBody(igA), name: undefined }, 'name'],
    ['empty name', hookBody(igA, { name: '' }), 'name'],
    ['name of 129', hookBody(igA, { name: 'n'.repeat(129) }), 'name'],
    ['name a number', hookBody(igA, { name: 7 }), 'name'],
    ['name with a control character', hookBody(igA, { name: 'a\u0001b' }), 'name'],
    ['name with a newline', hookBody(igA, { name: 'a\nb' }), 'name'],
    ['no event_types', { ...hookBody(igA), event_types: undefined }, 'event_types'],
    ['event_types empty', hookBody(igA, { event_types: [] }), 'event_types'],
    ['event_types a string', hookBody(igA, { event_types: 'contact.ended' }), 'event_types'],
    ['event_types null', hookBody(igA, { event_types: null }), 'event_types'],
    ['event_types of numbers', hookBody(igA, { event_types: [1] }), 'event_types'],
    ['an unknown event type', hookBody(igA, { event_types: ['contact.started'] }), 'event_types'],
    ['an event type in another case', hookBody(igA, { event_types: ['Contact.Ended'] }), 'event_types'],
    ['a repeated event type', hookBody(igA, { event_types: ['audit', 'audit'] }), 'event_types'],
    ['5 event types', hookBody(igA, { event_types: ['audit', 'contact.ended', 'contact.queued', 'contact.blocked', 'audit'] }), 'event_types'],
    ['filters a string', hookBody(igA, { filters: 'CHAT' }), 'filters'],
    ['filters an array', hookBody(igA, { filters: [] }), 'filters'],
    ['an unknown filter', hookBody(igA, { filters: { agents: ['us_x'] } }), 'filters'],
    ['filters.queues empty', hookBody(igA, { filters: { queues: [] } }), 'filters.queues'],
    ['filters.queues a string', hookBody(igA, { filters: { queues: 'qu_x' } }), 'filters.queues'],
    ['filters.queues of 33', hookBody(igA, { filters: { queues: Array.from({ length: 33 }, (_, i) => `qu_${i}`) } }), 'filters.queues'],
    ['filters.queues with an empty id', hookBody(igA, { filters: { queues: [''] } }), 'filters.queues'],
    ['filters.queues with a bad id', hookBody(igA, { filters: { queues: ['qu x/../'] } }), 'filters.queues'],
    ['filters.queues of numbers', hookBody(igA, { filters: { queues: [5] } }), 'filters.queues'],
    ['filters.channels VOICE', hookBody(igA, { filters: { channels: ['VOICE'] } }), 'filters.channels'],
    ['filters.channels lower case', hookBody(igA, { filters: { channels: ['chat'] } }), 'filters.channels'],
    ['filters.channels empty', hookBody(igA, { filters: { channels: [] } }), 'filters.channels'],
    ['filters.hierarchy_groups empty string', hookBody(igA, { filters: { hierarchy_groups: [''] } }), 'filters.hierarchy_groups'],
    ['filters.hierarchy_groups null', hookBody(igA, { filters: { hierarchy_groups: null } }), 'filters.hierarchy_groups'],
    ['filters.business_units with a control character', hookBody(igA, { filters: { business_units: ['Sa\u0007les'] } }), 'filters.business_units'],
    ['filters.business_units empty', hookBody(igA, { filters: { business_units: [] } }), 'filters.business_units'],
    ['fields empty', hookBody(igA, { fields: [] }), 'fields'],
    ['fields a string', hookBody(igA, { fields: 'id' }), 'fields'],
    ['fields three levels', hookBody(igA, { fields: ['queue.id.x'] }), 'fields'],
    ['fields with a space', hookBody(igA, { fields: ['disconnect reason'] }), 'fields'],
    ['fields with an empty name', hookBody(igA, { fields: [''] }), 'fields'],
    ['fields ending with a dot', hookBody(igA, { fields: ['queue.'] }), 'fields'],
    ['fields of 65', hookBody(igA, { fields: Array.from({ length: 65 }, (_, i) => `f${i}`) }), 'fields'],
    ['fields of numbers', hookBody(igA, { fields: [1] }), 'fields'],
    ['no sink', { ...hookBody(igA), sink: undefined }, 'sink'],
    ['sink a string', hookBody(igA, { sink: 'webhook' }), 'sink'],
    ['sink without a type', hookBody(igA, { sink: { integration_id: igA.id } }), 'sink'],
    ['sink type unknown', hookBody(igA, { sink: { type: 'smtp' } }), 'sink.type'],
    ['sink type in another case', hookBody(igA, { sink: { type: 'Webhook', integration_id: igA.id } }), 'sink.type'],
    ['webhook without integration_id', hookBody(igA, { sink: { type: 'webhook' } }), 'sink.integration_id'],
    ['webhook integration_id a number', hookBody(igA, { sink: { type: 'webhook', integration_id: 5 } }), 'sink.integration_id'],
    ['webhook toward an unknown integration', hookBody(igA, { sink: { type: 'webhook', integration_id: 'ig_nope', path: '/events/x' } }), 'sink.integration_id'],
    ['webhook toward another instance\'s integration', hookBody(igA, { sink: { type: 'webhook', integration_id: igB.id, path: '/events/x' } }), 'sink.integration_id'],
    ['webhook toward an integration without POST', hookBody(igA, { sink: { type: 'webhook', integration_id: igA2.id, path: '/x' } }), 'sink.integration_id'],
    ['webhook with an unknown member', hookBody(igA, { sink: { type: 'webhook', integration_id: igA.id, method: 'PUT' } }), 'sink'],
    ['webhook path outside the prefixes', hookBody(igA, { sink: { type: 'webhook', integration_id: igA.id, path: '/other' } }), 'sink.path'],
    ['webhook path with a dot segment', hookBody(igA, { sink: { type: 'webhook', integration_id: igA.id, path: '/events/../admin' } }), 'sink.path'],
    ['webhook path relative', hookBody(igA, { sink: { type: 'webhook', integration_id: igA.id, path: 'events/x' } }), 'sink.path'],
    ['webhook path empty', hookBody(igA, { sink: { type: 'webhook', integration_id: igA.id, path: '' } }), 'sink.path'],
    ['webhook path a number', hookBody(igA, { sink: { type: 'webhook', integration_id: igA.id, path: 1 } }), 'sink.path'],
    ['webhook path with a fragment', hookBody(igA, { sink: { type: 'webhook', integration_id: igA.id, path: '/events/x#y' } }), 'sink.path'],
    ['nats on a server without nats_url', hookBody(igA, { sink: { type: 'nats' } }), 'sink.type'],
    ['warehouse on a server without warehouse_url', hookBody(igA, { sink: { type: 'warehouse' } }), 'sink.type'],
    ['nats with an integration', hookBody(igA, { sink: { type: 'nats', integration_id: igA.id } }), 'sink'],
    ['enabled a string', hookBody(igA, { enabled: 'yes' }), 'enabled'],
    ['enabled null', hookBody(igA, { enabled: null }), 'enabled'],
    ['an unknown field', hookBody(igA, { secret: 'x' }), 'secret'],
    ['stats given', hookBody(igA, { stats: {} }), 'stats'],
    ['id given', hookBody(igA, { id: 'es_mine' }), 'id'],
  ];

  test('POST: each bad field is 400 InvalidParameter naming it, and nothing is made', async () => {
    const before = (await api(d.url, 'GET', subsPath(A.id, '?limit=1000'), { key: A.admin })).json.items.length;
    for (const [what, body, field] of badCreate()) {
      const r = await postSub(d, A.admin, A.id, body);
      assertError(r, 400, 'InvalidParameter', field, what);
      assert.ok(!/ig_|\/events/.test(r.json.error.message) || field.startsWith('sink'), `${what}: ${r.json.error.message}`);
    }
    const after = (await api(d.url, 'GET', subsPath(A.id, '?limit=1000'), { key: A.admin })).json.items.length;
    assert.equal(after, before);
  });

  test('POST and PATCH: malformed JSON, not an object, a body too large, a wrong media type', async () => {
    const s = await createSub(d, A.admin, A.id, hookBody(igA));
    for (const [m, p] of [['POST', subsPath(A.id)], ['PATCH', subsPath(A.id, `/${s.id}`)]]) {
      assertError(await api(d.url, m, p, { key: A.admin, body: '{"name":' }), 400, 'InvalidJson', undefined, `${m} malformed`);
      assertError(await api(d.url, m, p, { key: A.admin, body: '{"name":"a","name":"b"' }), 400, 'InvalidJson', undefined, `${m} cut`);
      assertError(await api(d.url, m, p, { key: A.admin, body: '' }), 400, 'InvalidJson', undefined, `${m} empty`);
      for (const notObject of ['[]', '"x"', '42', 'null']) {
        const r = await api(d.url, m, p, { key: A.admin, body: notObject });
        assert.equal(r.status, 400, `${m} ${notObject}: ${show(r)}`);
      }
      const bad = await api(d.url, m, p, { key: A.admin, body: Buffer.from('{"name":"\xff\xfe"}', 'latin1') });
      assert.equal(bad.status, 400, `${m} invalid UTF-8: ${show(bad)}`);
      assertError(await api(d.url, m, p, { key: A.admin, body: big() }), 413, 'PayloadTooLarge', undefined, `${m} too large`);
      assertError(await api(d.url, m, p, { key: A.admin, body: '{}', contentType: 'text/plain' }), 415, 'UnsupportedMediaType', undefined, `${m} text/plain`);
    }
    // The subscription is as it was.
    assert.deepEqual(await getSub(d, A.admin, A.id, s.id), s);
  });

  test('PATCH: each bad field is 400 naming it, and the subscription is unchanged', async () => {
    const s = await createSub(d, A.admin, A.id, hookBody(igA, { filters: { channels: ['CHAT'] } }));
    const p = subsPath(A.id, `/${s.id}`);
    const cases = [
      [{ name: '' }, 'name'], [{ name: 7 }, 'name'], [{ name: 'x'.repeat(129) }, 'name'], [{ name: 'a\tb' }, 'name'],
      [{ event_types: [] }, 'event_types'], [{ event_types: null }, 'event_types'], [{ event_types: ['nope'] }, 'event_types'],
      [{ filters: { queues: [] } }, 'filters.queues'], [{ filters: { nope: ['x'] } }, 'filters'], [{ filters: 1 }, 'filters'],
      [{ fields: [] }, 'fields'], [{ fields: ['a.b.c'] }, 'fields'],
      [{ sink: { type: 'smtp' } }, 'sink.type'], [{ sink: null }, 'sink'],
      [{ sink: { type: 'webhook', integration_id: igB.id, path: '/events/x' } }, 'sink.integration_id'],
      [{ sink: { type: 'webhook', integration_id: igA.id, path: '/elsewhere' } }, 'sink.path'],
      [{ sink: { type: 'nats' } }, 'sink.type'], [{ sink: { type: 'warehouse' } }, 'sink.type'],
      [{ enabled: 0 }, 'enabled'], [{ id: 'es_x' }, 'id'], [{ created_at: null }, 'created_at'], [{ unknown: 1 }, 'unknown'],
    ];
    for (const [body, field] of cases) {
      assertError(await api(d.url, 'PATCH', p, { key: A.admin, body }), 400, 'InvalidParameter', field, JSON.stringify(body));
    }
    assert.deepEqual(await getSub(d, A.admin, A.id, s.id), s);
  });

  test('lists: a bad limit or next_token is 400 naming it (subscriptions and dead letters)', async () => {
    const s = await createSub(d, A.admin, A.id, hookBody(igA));
    for (const base of [subsPath(A.id), subsPath(A.id, `/${s.id}/dead-letters`)]) {
      for (const q of ['limit=0', 'limit=1001', 'limit=x', 'limit=', 'limit=-1']) {
        assertError(await api(d.url, 'GET', `${base}?${q}`, { key: A.admin }), 400, 'InvalidParameter', 'limit', `${base}?${q}`);
      }
      for (const q of ['next_token=', 'next_token=%00', `next_token=${'a'.repeat(300)}`, 'next_token=a%20b']) {
        assertError(await api(d.url, 'GET', `${base}?${q}`, { key: A.admin }), 400, 'InvalidParameter', 'next_token', `${base}?${q}`);
      }
    }
    // A token the dead-letter list did not make (its own are digits).
    for (const tok of ['es_abc', '12ab', 'x']) {
      assertError(await api(d.url, 'GET', subsPath(A.id, `/${s.id}/dead-letters?next_token=${tok}`), { key: A.admin }),
        400, 'InvalidParameter', 'next_token', `dead letters next_token=${tok}`);
    }
  });

  test('an unknown or malformed subscription id is 404 on every route', async () => {
    for (const id of ['es_nope', 'nope', 'es_' + 'A'.repeat(200), '%2e%2e', 'es_%00x']) {
      for (const [m, p, body] of [
        ['GET', `/${id}`], ['PATCH', `/${id}`, { enabled: true }], ['DELETE', `/${id}`],
        ['GET', `/${id}/dead-letters`], ['POST', `/${id}/dead-letters/retry`], ['DELETE', `/${id}/dead-letters`],
      ]) {
        const r = await api(d.url, m, subsPath(A.id, p), { key: A.admin, body });
        assert.ok(r.status === 404 || r.status === 400, `${m} ${p}: ${show(r)}`);
      }
    }
  });
});

describe('warehouse and nats on a server that has them', () => {
  let C;
  let igC;
  before(async () => {
    const dataDir = (await initData());
    dSinks = await startDaemon({
      data: dataDir.data,
      env: { BULWARK_NATS_URL: 'nats://127.0.0.1:9', BULWARK_WAREHOUSE_URL: 'postgresql://bulwark@127.0.0.1:9/nothing' },
    });
    dSinks.initKey = dataDir.key;
    const inst = await createInstance(dSinks, dataDir.key);
    C = { id: inst.id, admin: await loginToken(dSinks, inst.id, inst.adminUsername) };
    igC = await createIntegration(dSinks, C.admin, C.id, { name: unique('ig'), base_url: 'http://127.0.0.1:9', allowed_address_ranges: ['127.0.0.1'] });
  });

  test('nats takes every event type; warehouse only contact.ended', async () => {
    const n = await createSub(dSinks, C.admin, C.id, { event_types: ['contact.ended', 'contact.queued', 'contact.blocked', 'audit'], sink: { type: 'nats' }, enabled: false });
    assert.deepEqual(n.sink, { type: 'nats' });
    const w = await createSub(dSinks, C.admin, C.id, { event_types: ['contact.ended'], sink: { type: 'warehouse' }, fields: ['channel'] });
    assert.deepEqual(w.sink, { type: 'warehouse' });
    for (const types of [['contact.ended', 'audit'], ['audit'], ['contact.queued'], ['contact.blocked', 'contact.ended']]) {
      const r = await postSub(dSinks, C.admin, C.id, { name: unique('w'), event_types: types, sink: { type: 'warehouse' } });
      assertError(r, 400, 'InvalidParameter', 'event_types', JSON.stringify(types));
    }
    // PATCH: a warehouse subscription cannot take another type; a nats one cannot become a bad warehouse.
    assertError(await api(dSinks.url, 'PATCH', subsPath(C.id, `/${w.id}`), { key: C.admin, body: { event_types: ['contact.ended', 'audit'] } }),
      400, 'InvalidParameter', 'event_types', 'PATCH warehouse types');
    assertError(await api(dSinks.url, 'PATCH', subsPath(C.id, `/${n.id}`), { key: C.admin, body: { sink: { type: 'warehouse' } } }),
      400, 'InvalidParameter', 'event_types', 'PATCH nats → warehouse with four types');
    const ok = await api(dSinks.url, 'PATCH', subsPath(C.id, `/${n.id}`), { key: C.admin, body: { sink: { type: 'webhook', integration_id: igC.id } } });
    assert.equal(ok.status, 200, show(ok));
    assert.deepEqual(ok.json.sink, { type: 'webhook', integration_id: igC.id, path: '/' });
    // Members a nats or warehouse sink does not take.
    for (const sink of [{ type: 'nats', subject: 'x' }, { type: 'warehouse', table: 't' }, { type: 'warehouse', path: '/' }]) {
      assertError(await postSub(dSinks, C.admin, C.id, { name: unique('w'), event_types: ['contact.ended'], sink }), 400, 'InvalidParameter', 'sink', JSON.stringify(sink));
    }
  });
});

describe('who may', () => {
  let viewer; // Integrations.View
  let editor; // Integrations.Edit
  let nobody; // no profile
  let other; // Integrations.Edit and everything else, of no permission here
  let s;
  before(async () => {
    const pv = await createProfile(d, A.admin, A.id, unique('view'), ['Integrations.View']);
    const pe = await createProfile(d, A.admin, A.id, unique('edit'), ['Integrations.Edit']);
    const po = await createProfile(d, A.admin, A.id, unique('other'), ['Secrets.Edit', 'Fraud.Edit', 'Users.Edit', 'Audit.View']);
    viewer = await userWithToken(d, A.admin, A.id, [pv.id]);
    editor = await userWithToken(d, A.admin, A.id, [pe.id]);
    nobody = await userWithToken(d, A.admin, A.id, []);
    other = await userWithToken(d, A.admin, A.id, [po.id]);
    s = await createSub(d, A.admin, A.id, hookBody(igA));
  });

  const routes = () => [
    ['POST', subsPath(A.id), () => hookBody(igA), 'edit'],
    ['GET', subsPath(A.id), undefined, 'view'],
    ['GET', subsPath(A.id, `/${s.id}`), undefined, 'view'],
    ['PATCH', subsPath(A.id, `/${s.id}`), () => ({ enabled: true }), 'edit'],
    ['GET', subsPath(A.id, `/${s.id}/dead-letters`), undefined, 'view'],
    ['POST', subsPath(A.id, `/${s.id}/dead-letters/retry`), undefined, 'edit'],
    ['DELETE', subsPath(A.id, `/${s.id}/dead-letters`), undefined, 'edit'],
    ['DELETE', subsPath(A.id, `/${s.id}`), undefined, 'edit'],
  ];

  test('no token or a bad one: 401 on every route', async () => {
    for (const [m, p, body] of routes()) {
      assertError(await api(d.url, m, p, { body: body?.() }), 401, 'Unauthenticated', undefined, `${m} ${p} without a token`);
      assertError(await api(d.url, m, p, { key: 'bws_notatoken', body: body?.() }), 401, 'Unauthenticated', undefined, `${m} ${p} bad token`);
      assertError(await api(d.url, m, p, { key: init.key, body: body?.() }), 401, 'Unauthenticated', undefined, `${m} ${p} platform key`);
    }
  });

  test('403 without the permission: View reads, Edit writes (and reads); others nothing', async () => {
    for (const [m, p, body, need] of routes()) {
      if (m === 'DELETE' && !p.endsWith('dead-letters')) continue; // kept for last
      assertError(await api(d.url, m, p, { key: nobody.token, body: body?.() }), 403, 'AccessDenied', undefined, `${m} ${p} nobody`);
      assertError(await api(d.url, m, p, { key: other.token, body: body?.() }), 403, 'AccessDenied', undefined, `${m} ${p} other`);
      const v = await api(d.url, m, p, { key: viewer.token, body: body?.() });
      if (need === 'view') assert.equal(v.status, 200, `${m} ${p} viewer: ${show(v)}`);
      else assertError(v, 403, 'AccessDenied', undefined, `${m} ${p} viewer`);
      const e = await api(d.url, m, p, { key: editor.token, body: body?.() });
      assert.ok(e.status >= 200 && e.status < 300, `${m} ${p} editor: ${show(e)}`);
    }
    assertError(await api(d.url, 'DELETE', subsPath(A.id, `/${s.id}`), { key: viewer.token }), 403, 'AccessDenied', undefined, 'DELETE viewer');
    assert.equal((await api(d.url, 'DELETE', subsPath(A.id, `/${s.id}`), { key: editor.token })).status, 204);
  });

  test('another instance\'s subscription is 404 on every route (with a token of B), and B\'s list does not show it', async () => {
    const t = await createSub(d, A.admin, A.id, hookBody(igA));
    for (const [m, rest, body] of [
      ['GET', `/${t.id}`], ['PATCH', `/${t.id}`, { enabled: false }], ['DELETE', `/${t.id}`],
      ['GET', `/${t.id}/dead-letters`], ['POST', `/${t.id}/dead-letters/retry`], ['DELETE', `/${t.id}/dead-letters`],
    ]) {
      assertError(await api(d.url, m, subsPath(B.id, rest), { key: B.admin, body }), 404, 'NotFound', undefined, `${m} ${rest} through B`);
      // A's token on B's path is refused as well (403 or 404, never A's data).
      const cross = await api(d.url, m, subsPath(B.id, rest), { key: A.admin, body });
      assert.ok(cross.status === 403 || cross.status === 404 || cross.status === 401, `${m} ${rest} A's token on B's path: ${show(cross)}`);
    }
    const l = await api(d.url, 'GET', subsPath(B.id, '?limit=1000'), { key: B.admin });
    assert.ok(!l.json.items.some((x) => x.id === t.id));
    // Unchanged and still there.
    const again = await getSub(d, A.admin, A.id, t.id);
    assert.equal(again.enabled, true);
  });
});
