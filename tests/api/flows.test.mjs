// Contact flows (K1) and input validation (C16), black-box: drafts valid and
// invalid, publishing refused with InvalidFlow and the paths of the errors,
// versions numbered from 1 and immutable, permissions (View / Edit /
// Publish), tenancy, malformed bodies, and POST .../flows/validate-input
// (phone numbers to E.164 with or without a country code, digits, Luhn,
// dates, patterns) without the input reaching the logs or the audit trail.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show } from './lib/daemon.mjs';
import {
  assertError, routeTable, unique, createInstance, loginToken, profilesByName, createProfile, userWithToken,
} from './lib/identity.mjs';

// The example of API.md.
function exampleFlow(text = 'Hello! What number can we reach you on?') {
  return {
    Version: '2019-10-30',
    StartAction: 'greet',
    Actions: [
      { Identifier: 'greet', Type: 'MessageParticipant', Parameters: { Text: text }, Transitions: { NextAction: 'ask' } },
      {
        Identifier: 'ask', Type: 'GetParticipantInput', Parameters: { StoreInput: 'True', InputTimeLimitSeconds: '60' },
        Transitions: { NextAction: 'check', Errors: [{ NextAction: 'bye', ErrorType: 'NoMatchingError' }] },
      },
      {
        Identifier: 'check', Type: 'ValidateInput', Parameters: { Kind: 'PhoneNumber', Attribute: 'callback_number' },
        Transitions: { NextAction: 'queue', Errors: [{ NextAction: 'greet', ErrorType: 'InvalidInput' }] },
      },
      {
        Identifier: 'queue', Type: 'TransferContactToQueue', Parameters: { QueueId: 'q_123' },
        Transitions: { Errors: [{ NextAction: 'bye', ErrorType: 'QueueAtCapacity' }] },
      },
      { Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
    ],
  };
}

// Wrong in four ways: a dangling branch, an unreachable action, the raw input
// compared before validation, a literal credential.
function invalidFlow() {
  const f = exampleFlow('Bearer 0123456789abcdefXYZ');
  f.Actions[1].Transitions.NextAction = 'cmp';
  f.Actions.push({
    Identifier: 'cmp', Type: 'Compare', Parameters: { ComparisonValue: '$.StoredCustomerInput' },
    Transitions: { Conditions: [{ NextAction: 'nowhere', Condition: { Operator: 'Equals', Operands: ['0'] } }] },
  });
  return f;
}
const INVALID_PATHS = [
  'Actions[5].Transitions.Conditions[0].NextAction', // dangling
  'Actions[2]', // check: unreachable now
  'Actions[5].Parameters.ComparisonValue', // input before validation
  'Actions[0].Parameters.Text', // credential
];

let init;
let d;
let A;
let B;
let adminA;
let adminB;
let agent;
let editor; // Flows.Edit only
let viewer; // Flows.View only
let publisher; // Flows.Edit + Flows.Publish
let secondAdmin; // another user with the Admin profile

const F = (iid, s = '') => `/v1/instances/${iid}/flows${s}`;

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  A = await createInstance(d, init.key); // default_region US
  B = await createInstance(d, init.key, { region: 'FR' });
  adminA = await loginToken(d, A.id, A.adminUsername);
  adminB = await loginToken(d, B.id, B.adminUsername);
  const prof = await profilesByName(d, adminA, A.id);
  const ed = await createProfile(d, adminA, A.id, 'flow editor', ['Flows.Edit']);
  const vw = await createProfile(d, adminA, A.id, 'flow viewer', ['Flows.View']);
  const pb = await createProfile(d, adminA, A.id, 'flow publisher', ['Flows.Edit', 'Flows.Publish']);
  agent = (await userWithToken(d, adminA, A.id, [prof.Agent.id])).token;
  editor = (await userWithToken(d, adminA, A.id, [ed.id])).token;
  viewer = (await userWithToken(d, adminA, A.id, [vw.id])).token;
  publisher = (await userWithToken(d, adminA, A.id, [pb.id])).token;
  secondAdmin = (await userWithToken(d, adminA, A.id, [prof.Admin.id])).token;
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

async function createFlow(token, iid, content, name = unique('flow')) {
  const r = await api(d.url, 'POST', F(iid), { key: token, body: { name, content } });
  assert.equal(r.status, 201, show(r));
  return r.json;
}

function errorPaths(errors) {
  for (const e of errors) {
    assert.equal(typeof e.path, 'string');
    assert.ok(e.path.length > 0, JSON.stringify(e));
    assert.equal(typeof e.message, 'string');
  }
  return errors.map((e) => e.path);
}

describe('drafts and publishing', () => {
  test('the route table holds the flow routes with their permissions', () => {
    const table = new Map(routeTable().map((r) => [`${r.method} ${r.path}`, r]));
    const want = {
      'POST /v1/instances/{iid}/flows': 'Flows.Edit',
      'GET /v1/instances/{iid}/flows': 'Flows.View',
      'GET /v1/instances/{iid}/flows/{fid}': 'Flows.View',
      'PATCH /v1/instances/{iid}/flows/{fid}': 'Flows.Edit',
      'DELETE /v1/instances/{iid}/flows/{fid}': 'Flows.Edit',
      'POST /v1/instances/{iid}/flows/{fid}/publish': 'Flows.Publish',
      'GET /v1/instances/{iid}/flows/{fid}/versions': 'Flows.View',
      'GET /v1/instances/{iid}/flows/{fid}/versions/{n}': 'Flows.View',
      'POST /v1/instances/{iid}/flows/validate-input': 'Flows.View',
    };
    for (const [k, perm] of Object.entries(want)) {
      assert.ok(table.has(k), `${k} missing`);
      assert.equal(table.get(k).permission, perm, k);
      assert.deepEqual(table.get(k).kinds, ['user'], k);
    }
    // No route changes a published version.
    for (const k of table.keys()) {
      if (k.includes('/versions/') || k.endsWith('/versions')) assert.match(k, /^GET /, k);
    }
  });

  test('a valid draft: 201 with the document, valid, never published', async () => {
    const content = exampleFlow();
    const f = await createFlow(adminA, A.id, content, 'support line');
    assert.match(f.id, /^fl_[A-Za-z0-9_-]+$/);
    assert.equal(f.name, 'support line');
    assert.equal(f.description, '');
    assert.deepEqual(f.content, content);
    assert.deepEqual(f.validation, { valid: true, errors: [] });
    assert.equal(f.latest_version, null);
    assert.ok(!Number.isNaN(Date.parse(f.created_at)));
    const g = await api(d.url, 'GET', F(A.id, `/${f.id}`), { key: adminA });
    assert.equal(g.status, 200, show(g));
    assert.deepEqual(g.json, f);
  });

  test('an invalid draft is stored, with every error and its path', async () => {
    const f = await createFlow(adminA, A.id, invalidFlow());
    assert.equal(f.validation.valid, false);
    const paths = errorPaths(f.validation.errors);
    for (const p of INVALID_PATHS) assert.ok(paths.includes(p), `${p} not in ${JSON.stringify(f.validation.errors)}`);
    // The credential is named, not repeated.
    assert.ok(!JSON.stringify(f.validation.errors).includes('0123456789abcdefXYZ'));
    // A draft may be nearly anything, as long as it is an object.
    const odd = await createFlow(adminA, A.id, { hello: 'world' });
    assert.equal(odd.validation.valid, false);
    assert.ok(errorPaths(odd.validation.errors).includes('Version'));
  });

  test('publishing an invalid draft: 400 InvalidFlow naming the paths; nothing published', async () => {
    const f = await createFlow(adminA, A.id, invalidFlow());
    const r = await api(d.url, 'POST', F(A.id, `/${f.id}/publish`), { key: adminA });
    assertError(r, 400, 'InvalidFlow');
    assert.ok(Array.isArray(r.json.error.errors), show(r));
    const paths = errorPaths(r.json.error.errors);
    for (const p of INVALID_PATHS) assert.ok(paths.includes(p), `${p} not in ${show(r)}`);
    const v = await api(d.url, 'GET', F(A.id, `/${f.id}/versions`), { key: adminA });
    assert.equal(v.status, 200, show(v));
    assert.deepEqual(v.json, { items: [], next_token: null });
    const g = await api(d.url, 'GET', F(A.id, `/${f.id}`), { key: adminA });
    assert.equal(g.json.latest_version, null);
  });

  test('publish → version 1; edit and publish → version 2; version 1 unchanged', async () => {
    const f = await createFlow(adminA, A.id, exampleFlow('first text'));
    const p1 = await api(d.url, 'POST', F(A.id, `/${f.id}/publish`), { key: adminA });
    assert.equal(p1.status, 201, show(p1));
    assert.equal(p1.json.version, 1);
    assert.equal(p1.json.flow_id, f.id);
    const me = await api(d.url, 'GET', '/v1/me', { key: adminA });
    assert.equal(p1.json.published_by, me.json.id);
    assert.ok(!Number.isNaN(Date.parse(p1.json.published_at)));
    assert.deepEqual(p1.json.content, exampleFlow('first text'));

    const patched = await api(d.url, 'PATCH', F(A.id, `/${f.id}`), { key: adminA, body: { content: exampleFlow('second text'), description: 'v2' } });
    assert.equal(patched.status, 200, show(patched));
    assert.equal(patched.json.description, 'v2');
    assert.equal(patched.json.latest_version, 1);
    assert.equal(patched.json.content.Actions[0].Parameters.Text, 'second text');

    const p2 = await api(d.url, 'POST', F(A.id, `/${f.id}/publish`), { key: adminA });
    assert.equal(p2.status, 201, show(p2));
    assert.equal(p2.json.version, 2);

    const v1 = await api(d.url, 'GET', F(A.id, `/${f.id}/versions/1`), { key: adminA });
    assert.equal(v1.status, 200, show(v1));
    assert.deepEqual(v1.json, p1.json);
    assert.equal(v1.json.content.Actions[0].Parameters.Text, 'first text');
    const v2 = await api(d.url, 'GET', F(A.id, `/${f.id}/versions/2`), { key: adminA });
    assert.equal(v2.json.content.Actions[0].Parameters.Text, 'second text');

    // An invalid edit of the draft leaves the versions alone and cannot be published.
    const broken = await api(d.url, 'PATCH', F(A.id, `/${f.id}`), { key: adminA, body: { content: invalidFlow() } });
    assert.equal(broken.status, 200, show(broken));
    assert.equal(broken.json.validation.valid, false);
    assertError(await api(d.url, 'POST', F(A.id, `/${f.id}/publish`), { key: adminA }), 400, 'InvalidFlow');
    const list = await api(d.url, 'GET', F(A.id, `/${f.id}/versions`), { key: adminA });
    assert.equal(list.status, 200, show(list));
    assert.deepEqual(list.json.items.map((x) => x.version), [1, 2]);
    assert.ok(list.json.items.every((x) => x.content === undefined), 'lists carry no content');
    const page = await api(d.url, 'GET', F(A.id, `/${f.id}/versions?limit=1`), { key: adminA });
    assert.deepEqual(page.json.items.map((x) => x.version), [1]);
    assert.equal(page.json.next_token, '1');
    const page2 = await api(d.url, 'GET', F(A.id, `/${f.id}/versions?limit=1&next_token=1`), { key: adminA });
    assert.deepEqual(page2.json.items.map((x) => x.version), [2]);
    assertError(await api(d.url, 'GET', F(A.id, `/${f.id}/versions?next_token=abc`), { key: adminA }), 400, 'InvalidParameter', 'next_token');
    const again1 = await api(d.url, 'GET', F(A.id, `/${f.id}/versions/1`), { key: adminA });
    assert.deepEqual(again1.json, p1.json);
    const g = await api(d.url, 'GET', F(A.id, `/${f.id}`), { key: adminA });
    assert.equal(g.json.latest_version, 2);

    // Versions cannot be changed or removed through the API.
    for (const m of ['PATCH', 'PUT', 'DELETE', 'POST']) {
      const r = await api(d.url, m, F(A.id, `/${f.id}/versions/1`), { key: adminA, body: m === 'DELETE' ? undefined : { content: exampleFlow('x') } });
      assertError(r, 405, 'MethodNotAllowed', undefined, m);
    }
    for (const n of ['3', '0', '01', 'abc', '-1', '99999999999']) {
      assertError(await api(d.url, 'GET', F(A.id, `/${f.id}/versions/${n}`), { key: adminA }), 404, 'NotFound', undefined, n);
    }
  });

  test('lists hold summaries and page', async () => {
    const iid = (await createInstance(d, init.key)).id;
    const tok = await loginToken(d, iid, 'admin');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createFlow(tok, iid, exampleFlow(), `f${i}`)).id);
    const r = await api(d.url, 'GET', F(iid), { key: tok });
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(r.json.items.map((x) => x.id).sort(), [...ids].sort());
    for (const it of r.json.items) {
      assert.equal(it.content, undefined);
      assert.equal(it.validation, undefined);
      assert.equal(typeof it.name, 'string');
    }
    const p1 = await api(d.url, 'GET', F(iid, '?limit=2'), { key: tok });
    assert.equal(p1.json.items.length, 2);
    assert.ok(p1.json.next_token);
    const p2 = await api(d.url, 'GET', F(iid, `?limit=2&next_token=${p1.json.next_token}`), { key: tok });
    assert.equal(p2.json.items.length, 1);
    assert.equal(p2.json.next_token, null);
  });

  test('delete: the flow and its versions go; 404 after', async () => {
    const f = await createFlow(adminA, A.id, exampleFlow());
    assert.equal((await api(d.url, 'POST', F(A.id, `/${f.id}/publish`), { key: adminA })).status, 201);
    const del = await api(d.url, 'DELETE', F(A.id, `/${f.id}`), { key: adminA });
    assert.equal(del.status, 204, show(del));
    assertError(await api(d.url, 'GET', F(A.id, `/${f.id}`), { key: adminA }), 404, 'NotFound');
    assertError(await api(d.url, 'GET', F(A.id, `/${f.id}/versions`), { key: adminA }), 404, 'NotFound');
    assertError(await api(d.url, 'GET', F(A.id, `/${f.id}/versions/1`), { key: adminA }), 404, 'NotFound');
    assertError(await api(d.url, 'DELETE', F(A.id, `/${f.id}`), { key: adminA }), 404, 'NotFound');
    assertError(await api(d.url, 'POST', F(A.id, `/${f.id}/publish`), { key: adminA }), 404, 'NotFound');
  });

  test('delete is refused (409) while an entry point names the flow', async (t) => {
    const hasEntryPoints = routeTable().some((r) => r.method === 'POST' && r.path === '/v1/instances/{iid}/entry-points');
    if (!hasEntryPoints) { t.skip('no entry-points route in this build'); return; }
    const f = await createFlow(adminA, A.id, exampleFlow());
    const ep = await api(d.url, 'POST', `/v1/instances/${A.id}/entry-points`, { key: adminA, body: { name: unique('ep'), type: 'CHAT', flow_id: f.id } });
    assert.equal(ep.status, 201, show(ep));
    assertError(await api(d.url, 'DELETE', F(A.id, `/${f.id}`), { key: adminA }), 409, 'Conflict');
    assert.equal((await api(d.url, 'GET', F(A.id, `/${f.id}`), { key: adminA })).status, 200);
    assert.equal((await api(d.url, 'DELETE', `/v1/instances/${A.id}/entry-points/${ep.json.id}`, { key: adminA })).status, 204);
    assert.equal((await api(d.url, 'DELETE', F(A.id, `/${f.id}`), { key: adminA })).status, 204);
  });
});

describe('permissions', () => {
  let flowId;
  before(async () => { flowId = (await createFlow(adminA, A.id, exampleFlow())).id; });

  test('an Agent can do nothing with flows', async () => {
    for (const [m, p, body] of [
      ['GET', F(A.id)], ['POST', F(A.id), { name: 'x', content: exampleFlow() }], ['GET', F(A.id, `/${flowId}`)],
      ['PATCH', F(A.id, `/${flowId}`), { name: 'y' }], ['DELETE', F(A.id, `/${flowId}`)],
      ['POST', F(A.id, `/${flowId}/publish`)], ['GET', F(A.id, `/${flowId}/versions`)],
      ['POST', F(A.id, '/validate-input'), { kind: 'Date', value: '2024-02-29' }],
    ]) {
      assertError(await api(d.url, m, p, { key: agent, body }), 403, 'AccessDenied', undefined, `${m} ${p}`);
    }
  });

  test('Flows.Edit without Flows.Publish: edits drafts, cannot publish', async () => {
    const f = await createFlow(editor, A.id, exampleFlow());
    const r = await api(d.url, 'PATCH', F(A.id, `/${f.id}`), { key: editor, body: { name: unique('renamed') } });
    assert.equal(r.status, 200, show(r));
    assert.equal((await api(d.url, 'GET', F(A.id, `/${f.id}`), { key: editor })).status, 200, 'Edit implies View');
    assertError(await api(d.url, 'POST', F(A.id, `/${f.id}/publish`), { key: editor }), 403, 'AccessDenied');
    const v = await api(d.url, 'GET', F(A.id, `/${f.id}/versions`), { key: editor });
    assert.deepEqual(v.json.items, []);
    // Someone with Flows.Publish can.
    const p = await api(d.url, 'POST', F(A.id, `/${f.id}/publish`), { key: publisher });
    assert.equal(p.status, 201, show(p));
  });

  test('Flows.View only: reads and validates input, changes nothing', async () => {
    assert.equal((await api(d.url, 'GET', F(A.id, `/${flowId}`), { key: viewer })).status, 200);
    assert.equal((await api(d.url, 'POST', F(A.id, '/validate-input'), { key: viewer, body: { kind: 'Date', value: '2024-02-29' } })).status, 200);
    assertError(await api(d.url, 'POST', F(A.id), { key: viewer, body: { name: 'x', content: exampleFlow() } }), 403, 'AccessDenied');
    assertError(await api(d.url, 'PATCH', F(A.id, `/${flowId}`), { key: viewer, body: { name: 'x' } }), 403, 'AccessDenied');
    assertError(await api(d.url, 'DELETE', F(A.id, `/${flowId}`), { key: viewer }), 403, 'AccessDenied');
    assertError(await api(d.url, 'POST', F(A.id, `/${flowId}/publish`), { key: viewer }), 403, 'AccessDenied');
  });

  test('another Admin of the instance may do everything', async () => {
    const f = await createFlow(secondAdmin, A.id, exampleFlow());
    assert.equal((await api(d.url, 'POST', F(A.id, `/${f.id}/publish`), { key: secondAdmin })).status, 201);
    assert.equal((await api(d.url, 'DELETE', F(A.id, `/${f.id}`), { key: secondAdmin })).status, 204);
  });

  test('the platform key is not an instance user here (401)', async () => {
    assertError(await api(d.url, 'GET', F(A.id), { key: init.key }), 401, 'Unauthenticated');
  });

  test('publishing is audited, allowed and denied alike', async () => {
    const r = await api(d.url, 'GET', `/v1/instances/${A.id}/audit-events?action=flows.publish&limit=1000`, { key: adminA });
    assert.equal(r.status, 200, show(r));
    const results = new Set(r.json.items.map((e) => e.result));
    assert.ok(results.has('allowed'), show(r));
    assert.ok(results.has('denied'), show(r));
    assert.ok(r.json.items.some((e) => e.error_code === 'InvalidFlow' && e.result === 'failed'), show(r));
  });
});

describe('tenancy', () => {
  test('another instance\'s flows are NotFound, both ways', async () => {
    const fa = await createFlow(adminA, A.id, exampleFlow());
    const fb = await createFlow(adminB, B.id, exampleFlow());
    assert.equal((await api(d.url, 'POST', F(B.id, `/${fb.id}/publish`), { key: adminB })).status, 201);
    // B's admin on A's path.
    for (const [m, s, body] of [['GET', `/${fa.id}`], ['PATCH', `/${fa.id}`, { name: 'x' }], ['DELETE', `/${fa.id}`],
      ['POST', `/${fa.id}/publish`], ['GET', `/${fa.id}/versions`], ['GET', ''],
      ['POST', '/validate-input', { kind: 'Date', value: '2024-02-29' }]]) {
      assertError(await api(d.url, m, F(A.id, s), { key: adminB, body }), 404, 'NotFound', undefined, `${m} ${s}`);
    }
    // A's admin naming B's flow under A's path.
    for (const [m, s, body] of [['GET', `/${fb.id}`], ['PATCH', `/${fb.id}`, { content: invalidFlow() }], ['DELETE', `/${fb.id}`],
      ['POST', `/${fb.id}/publish`], ['GET', `/${fb.id}/versions`], ['GET', `/${fb.id}/versions/1`]]) {
      assertError(await api(d.url, m, F(A.id, s), { key: adminA, body }), 404, 'NotFound', undefined, `${m} ${s}`);
    }
    const list = await api(d.url, 'GET', F(A.id, '?limit=1000'), { key: adminA });
    assert.ok(!list.json.items.some((x) => x.id === fb.id));
    const still = await api(d.url, 'GET', F(B.id, `/${fb.id}`), { key: adminB });
    assert.equal(still.status, 200);
    assert.deepEqual(still.json.content, exampleFlow());
    assert.equal(still.json.latest_version, 1);
  });

  test('names are unique per instance, not across instances', async () => {
    const name = unique('same');
    await createFlow(adminA, A.id, exampleFlow(), name);
    await createFlow(adminB, B.id, exampleFlow(), name);
    const r = await api(d.url, 'POST', F(A.id), { key: adminA, body: { name, content: exampleFlow() } });
    assertError(r, 409, 'Conflict', 'name');
    const other = await createFlow(adminA, A.id, exampleFlow());
    assertError(await api(d.url, 'PATCH', F(A.id, `/${other.id}`), { key: adminA, body: { name } }), 409, 'Conflict', 'name');
  });
});

describe('malformed bodies', () => {
  test('create and update refuse what is not a draft', async () => {
    const f = await createFlow(adminA, A.id, exampleFlow());
    const cases = [
      [{ content: exampleFlow() }, 'name'],
      [{ name: '', content: exampleFlow() }, 'name'],
      [{ name: 'x'.repeat(129), content: exampleFlow() }, 'name'],
      [{ name: 5, content: exampleFlow() }, 'name'],
      [{ name: unique('n') }, 'content'],
      [{ name: unique('n'), content: 'text' }, 'content'],
      [{ name: unique('n'), content: [exampleFlow()] }, 'content'],
      [{ name: unique('n'), content: null }, 'content'],
      [{ name: unique('n'), content: exampleFlow(), version: 3 }, 'version'],
      [{ name: unique('n'), description: 'd'.repeat(1025), content: exampleFlow() }, 'description'],
    ];
    for (const [body, field] of cases) {
      assertError(await api(d.url, 'POST', F(A.id), { key: adminA, body }), 400, 'InvalidParameter', field, JSON.stringify(body).slice(0, 80));
    }
    for (const [body, field] of [[{ content: 'x' }, 'content'], [{ name: '' }, 'name'], [{ id: 'fl_x' }, 'id']]) {
      assertError(await api(d.url, 'PATCH', F(A.id, `/${f.id}`), { key: adminA, body }), 400, 'InvalidParameter', field);
    }
    // Over 256 KiB of document (inside the 1 MiB body limit).
    const big = exampleFlow();
    big.Metadata = { notes: 'x'.repeat(300 * 1024) };
    assertError(await api(d.url, 'POST', F(A.id), { key: adminA, body: { name: unique('big'), content: big } }), 400, 'InvalidParameter', 'content');
    assertError(await api(d.url, 'POST', F(A.id), { key: adminA, body: '{"name": "x", "content": {' }), 400, 'InvalidJson');
    assertError(await api(d.url, 'POST', F(A.id), { key: adminA, body: '{}', contentType: 'text/plain' }), 415, 'UnsupportedMediaType');
    // JSON nested past 32 levels inside a flow is refused as a body.
    let deep = {};
    for (let i = 0; i < 40; i++) deep = { a: deep };
    assertError(await api(d.url, 'POST', F(A.id), { key: adminA, body: { name: unique('deep'), content: deep } }), 400, 'InvalidJson');
    // The draft is untouched by refused updates.
    const g = await api(d.url, 'GET', F(A.id, `/${f.id}`), { key: adminA });
    assert.deepEqual(g.json.content, exampleFlow());
  });

  test('unknown ids: 404', async () => {
    for (const [m, s] of [['GET', '/fl_nope'], ['PATCH', '/fl_nope'], ['DELETE', '/fl_nope'], ['POST', '/fl_nope/publish'],
      ['GET', '/fl_nope/versions'], ['GET', '/fl_nope/versions/1'], ['GET', '/validate-input']]) {
      const r = await api(d.url, m, F(A.id, s), { key: adminA, body: m === 'PATCH' ? { name: 'x' } : undefined });
      assertError(r, 404, 'NotFound', undefined, `${m} ${s}`);
    }
  });
});

describe('POST .../flows/validate-input', () => {
  const V = () => F(A.id, '/validate-input');
  const check = (body, key = adminA) => api(d.url, 'POST', V(), { key, body });

  test('phone numbers: E.164 with or without a country code, and the number type', async () => {
    const cases = [
      [{ value: '06 12 34 56 78', default_region: 'FR' }, '+33612345678', 'MOBILE'],
      [{ value: '+33 6 12 34 56 78' }, '+33612345678', 'MOBILE'],
      [{ value: '(202) 456-1111' }, '+12024561111', 'FIXED_LINE_OR_MOBILE'], // the instance's region: US
      [{ value: '+1 202-456-1111', default_region: 'DE' }, '+12024561111', 'FIXED_LINE_OR_MOBILE'],
      [{ value: '020 7946 0958', default_region: 'GB' }, '+442079460958', 'FIXED_LINE'],
      [{ value: '+49 1512 3456789' }, '+4915123456789', 'MOBILE'],
      [{ value: '+1 900 555 0123' }, '+19005550123', 'PREMIUM_RATE'],
      [{ value: '+1 800 555 0199' }, '+18005550199', 'TOLL_FREE'],
    ];
    for (const [body, e164, type] of cases) {
      const r = await check({ kind: 'PhoneNumber', ...body });
      assert.equal(r.status, 200, show(r));
      assert.deepEqual(r.json, { valid: true, normalized: e164, number_type: type }, JSON.stringify(body));
    }
    // The instance's own region: B reads national numbers as French.
    const b = await api(d.url, 'POST', F(B.id, '/validate-input'), { key: adminB, body: { kind: 'PhoneNumber', value: '06 12 34 56 78' } });
    assert.deepEqual(b.json, { valid: true, normalized: '+33612345678', number_type: 'MOBILE' });
  });

  test('invalid phone numbers: valid false with a reason, never the value', async () => {
    for (const value of ['12', '06 12 34 56 78', 'call me', '', '+1 555 555 5555', '+999 1234']) {
      const r = await check({ kind: 'PhoneNumber', value });
      assert.equal(r.status, 200, show(r));
      assert.equal(r.json.valid, false, `${value}: ${show(r)}`);
      assert.equal(typeof r.json.reason, 'string');
      assert.equal(r.json.normalized, undefined);
      if (value) assert.ok(!r.text.includes(value), show(r));
    }
  });

  test('digits, Luhn, dates, patterns', async () => {
    const ok = async (body, normalized) => {
      const r = await check(body);
      assert.equal(r.status, 200, show(r));
      assert.deepEqual(r.json, { valid: true, normalized }, JSON.stringify(body));
    };
    const no = async (body) => {
      const r = await check(body);
      assert.equal(r.status, 200, show(r));
      assert.equal(r.json.valid, false, `${JSON.stringify(body)}: ${show(r)}`);
      assert.equal(typeof r.json.reason, 'string');
    };
    await ok({ kind: 'Digits', value: '12-34 56', min: 6, max: 6 }, '123456');
    await no({ kind: 'Digits', value: '12345', min: 6 });
    await no({ kind: 'Digits', value: '1234567', max: 6 });
    await no({ kind: 'Digits', value: '12a4' });
    await ok({ kind: 'Luhn', value: '4111 1111 1111 1111' }, '4111111111111111');
    await no({ kind: 'Luhn', value: '4111 1111 1111 1112' });
    await ok({ kind: 'Date', value: '2024-02-29' }, '2024-02-29');
    await no({ kind: 'Date', value: '2023-02-29' });
    await no({ kind: 'Date', value: '29/02/2024' });
    await ok({ kind: 'Pattern', value: 'AB-1234', pattern: '[A-Z]{2}-[0-9]{4}' }, 'AB-1234');
    await no({ kind: 'Pattern', value: 'xAB-1234', pattern: '[A-Z]{2}-[0-9]{4}' });
  });

  test('bad requests name the field', async () => {
    const cases = [
      [{ value: '1' }, 'kind'],
      [{ kind: 'Email', value: 'a@b' }, 'kind'],
      [{ kind: 'Date' }, 'value'],
      [{ kind: 'Date', value: 5 }, 'value'],
      [{ kind: 'Date', value: 'x'.repeat(1025) }, 'value'],
      [{ kind: 'PhoneNumber', value: '0612345678', default_region: 'XX' }, 'default_region'],
      [{ kind: 'PhoneNumber', value: '0612345678', default_region: 'fr' }, 'default_region'],
      [{ kind: 'PhoneNumber', value: '0612345678', min: 3 }, 'min'],
      [{ kind: 'Date', value: '2024-01-01', default_region: 'FR' }, 'default_region'],
      [{ kind: 'Digits', value: '1', min: -1 }, 'min'],
      [{ kind: 'Digits', value: '1', max: '6' }, 'max'],
      [{ kind: 'Digits', value: '1', min: 5, max: 4 }, 'min'],
      [{ kind: 'Pattern', value: 'a' }, 'pattern'],
      [{ kind: 'Pattern', value: 'a', pattern: '(a' }, 'pattern'],
      [{ kind: 'Pattern', value: 'a', pattern: '(a)\\1' }, 'pattern'],
      [{ kind: 'Pattern', value: 'a', pattern: 'a{1000}' }, 'pattern'],
      [{ kind: 'Luhn', value: '1', pattern: 'a' }, 'pattern'],
      [{ kind: 'Luhn', value: '1', extra: true }, 'extra'],
    ];
    for (const [body, field] of cases) {
      assertError(await check(body), 400, 'InvalidParameter', field, JSON.stringify(body).slice(0, 80));
    }
  });

  test('the input reaches neither the logs nor the audit trail', async () => {
    const secret = '4929 1793 6580 7134';
    const r = await check({ kind: 'Luhn', value: secret });
    assert.equal(r.status, 200, show(r));
    const rid = r.headers.get('x-request-id');
    const ev = await api(d.url, 'GET', `/v1/instances/${A.id}/audit-events?action=flows.validate_input&limit=1000`, { key: adminA });
    assert.equal(ev.status, 200, show(ev));
    assert.ok(ev.json.items.some((e) => e.request_id === rid), 'the call is audited');
    // Whole values and long fragments only: a short fragment such as '4929' can
    // occur by chance in a timing figure or a random id.
    const leaks = [secret, '4929179365807134', '1793 6580', '17936580', '6580 7134'];
    for (const text of leaks) {
      assert.ok(!ev.text.includes(text), `the audit trail holds the input (${text})`);
      assert.ok(!d.stderr.includes(text), `the log holds the input (${text})`);
    }
    for (const text of ['06 12 34 56 78', '+33612345678', '0612345678']) {
      assert.ok(!d.stderr.includes(text), `the log holds a phone number (${text})`);
    }
  });
});
