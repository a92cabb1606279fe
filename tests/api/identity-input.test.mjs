// Bad input on the identity endpoints: for every body route of the table,
// malformed JSON (400 InvalidJson), a non-object (400) and a wrong
// Content-Type (415) before authentication; for users and security profiles,
// wrong types, unknown fields and oversized strings (400 naming the field),
// conflicts (409), unknown ids (404), list paging parameters.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show } from './lib/daemon.mjs';
import {
  PASSWORD, assertError, routeTable, unique, createInstance, createUser, loginToken, profilesByName, createProfile,
} from './lib/identity.mjs';

const ROUTES = routeTable().filter((r) => !r.admin && !r.websocket);

let init;
let d;
let I;
let admin;
let profiles;

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  I = await createInstance(d, init.key);
  admin = await loginToken(d, I.id, I.adminUsername);
  profiles = await profilesByName(d, admin, I.id);
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

const U = (s = '') => `/v1/instances/${I.id}/users${s}`;
const P = (s = '') => `/v1/instances/${I.id}/security-profiles${s}`;

function concrete(route) {
  return route.path.replace(/\{([a-z]+)\}/g, (_, n) => (n === 'iid' ? I.id : `${n}_placeholder`));
}

describe('every body route: the body is checked first, with or without a credential', () => {
  const bodyRoutes = ROUTES.filter((r) => r.body);
  test('the table has body routes', () => assert.ok(bodyRoutes.length >= 8, `${bodyRoutes.length} body routes`));
  for (const route of bodyRoutes) {
    test(`${route.method} ${route.path}`, async () => {
      const p = concrete(route);
      for (const key of [undefined, admin, init.key]) {
        const who = key === undefined ? 'no token' : key === admin ? 'admin session' : 'platform key';
        assertError(await api(d.url, route.method, p, { key, body: '{"a": ' }), 400, 'InvalidJson', undefined, `${who}, truncated JSON`);
        assertError(await api(d.url, route.method, p, { key, body: '{"a": 1} {"b": 2}' }), 400, 'InvalidJson', undefined, `${who}, two documents`);
        assertError(await api(d.url, route.method, p, { key, body: '{"a": 1, "a": 2}' }), 400, 'InvalidJson', undefined, `${who}, duplicate key`);
        assertError(await api(d.url, route.method, p, { key, body: '' }), 400, 'InvalidJson', undefined, `${who}, empty body`);
        for (const notObject of ['"text"', '[1]', '42', 'null']) {
          const r = await api(d.url, route.method, p, { key, body: notObject });
          assert.equal(r.status, 400, `${who}, body ${notObject}: ${show(r)}`);
          assert.ok(['InvalidJson', 'InvalidParameter'].includes(r.json?.error?.code), `${who}, body ${notObject}: ${show(r)}`);
        }
        assertError(await api(d.url, route.method, p, { key, body: '{}', contentType: 'text/plain' }), 415, 'UnsupportedMediaType', undefined, `${who}, text/plain`);
        assertError(await api(d.url, route.method, p, { key, body: '{}', contentType: 'application/jsonx' }), 415, 'UnsupportedMediaType', undefined, `${who}, application/jsonx`);
      }
      // A request too large for the body limit.
      const big = JSON.stringify({ name: 'x'.repeat(1100 * 1024) });
      assertError(await api(d.url, route.method, p, { key: admin, body: big }), 413, 'PayloadTooLarge');
    });
  }
});

describe('users', () => {
  test('create: wrong types, unknown fields, oversized strings → 400 naming the field; nothing created', async () => {
    const cases = [
      [{}, 'username'],
      [{ username: '' }, 'username'],
      [{ username: 'u'.repeat(129) }, 'username'],
      [{ username: 'bad name' }, 'username'],
      [{ username: 'slash/name' }, 'username'],
      [{ username: 42 }, 'username'],
      [{ username: unique('u'), first_name: 'f'.repeat(129) }, 'first_name'],
      [{ username: unique('u'), last_name: ['x'] }, 'last_name'],
      [{ username: unique('u'), email: 'no-at-sign' }, 'email'],
      [{ username: unique('u'), email: `${'e'.repeat(250)}@x.io` }, 'email'],
      [{ username: unique('u'), routing_profile_id: 'r'.repeat(48) }, 'routing_profile_id'],
      [{ username: unique('u'), hierarchy_group: 'h'.repeat(129) }, 'hierarchy_group'],
      [{ username: unique('u'), disabled: 'no' }, 'disabled'],
      [{ username: unique('u'), security_profile_ids: profiles.Agent.id }, 'security_profile_ids'],
      [{ username: unique('u'), security_profile_ids: [42] }, 'security_profile_ids'],
      [{ username: unique('u'), security_profile_ids: ['sp_doesnotexist'] }, 'security_profile_ids'],
      [{ username: unique('u'), security_profile_ids: Array.from({ length: 21 }, () => profiles.Agent.id) }, 'security_profile_ids'],
      [{ username: unique('u'), role: 'admin' }, 'role'],
      [{ username: unique('u'), password: 12345678901234 }, 'password'],
      [{ username: unique('u'), password: 'short-1' }, 'password'],
      [{ username: unique('u'), password: 'password1234' }, 'password'],
      [{ username: 'same-as-password-1', password: 'same-as-password-1' }, 'password'],
      [{ username: unique('u'), password: 'x'.repeat(1025) }, 'password'],
    ];
    for (const [body, field] of cases) {
      assertError(await api(d.url, 'POST', U(), { key: admin, body }), 400, 'InvalidParameter', field, JSON.stringify(body).slice(0, 80));
    }
    const list = await api(d.url, 'GET', U('?limit=1000'), { key: admin });
    const names = list.json.items.map((u) => u.username);
    assert.ok(!names.includes('bad name') && !names.includes('same-as-password-1'), `refused users exist: ${names}`);
  });

  test('create: a user object without secrets; duplicate username → 409 naming username', async () => {
    const username = unique('dup');
    const r = await api(d.url, 'POST', U(), { key: admin, body: { username, password: PASSWORD, email: 'd@example.com', security_profile_ids: [profiles.Agent.id] } });
    assert.equal(r.status, 201, show(r));
    assert.match(r.json.id, /^us_/);
    for (const k of ['id', 'username', 'first_name', 'last_name', 'email', 'security_profile_ids', 'status', 'disabled', 'mfa_enabled', 'created_at', 'updated_at']) assert.ok(k in r.json, `no ${k}`);
    assert.ok(!/password|hash|secret/i.test(Object.keys(r.json).join()), `secrets in the user object: ${r.text}`);
    assert.ok(!r.text.includes(PASSWORD));
    assertError(await api(d.url, 'POST', U(), { key: admin, body: { username } }), 409, 'Conflict', 'username');
    // A user without a password exists but cannot log in.
    const np = await createUser(d, admin, I.id, {});
    const l = await api(d.url, 'POST', `/v1/instances/${I.id}/auth/login`, { body: { username: np.username, password: PASSWORD } });
    assertError(l, 401, 'Unauthenticated');
  });

  test('update: username cannot change; bad types → 400; unknown user → 404', async () => {
    const u = await createUser(d, admin, I.id, {});
    assertError(await api(d.url, 'PATCH', U(`/${u.id}`), { key: admin, body: { username: 'renamed' } }), 400, 'InvalidParameter', 'username');
    assertError(await api(d.url, 'PATCH', U(`/${u.id}`), { key: admin, body: { disabled: 1 } }), 400, 'InvalidParameter', 'disabled');
    assertError(await api(d.url, 'PATCH', U(`/${u.id}`), { key: admin, body: { password: 'short' } }), 400, 'InvalidParameter', 'password');
    assertError(await api(d.url, 'PATCH', U(`/${u.id}`), { key: admin, body: { nickname: 'x' } }), 400, 'InvalidParameter', 'nickname');
    assertError(await api(d.url, 'PATCH', U(`/${u.id}`), { key: admin, body: { email: 5 } }), 400, 'InvalidParameter', 'email');
    for (const [m, body] of [['GET'], ['PATCH', { first_name: 'x' }], ['DELETE']]) {
      assertError(await api(d.url, m, U('/us_doesnotexist'), { key: admin, body }), 404, 'NotFound', undefined, m);
    }
    const g = await api(d.url, 'GET', U(`/${u.id}`), { key: admin });
    assert.equal(g.json.username, u.username);
  });

  test('list: limit and next_token validated; pages of 2 cover every user once', async () => {
    for (let i = 0; i < 3; i++) await createUser(d, admin, I.id, {});
    for (const [q, field] of [['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=2x', 'limit'], ['limit=', 'limit'], ['next_token=%24%24', 'next_token'], [`next_token=${'a'.repeat(100)}`, 'next_token']]) {
      assertError(await api(d.url, 'GET', U(`?${q}`), { key: admin }), 400, 'InvalidParameter', field, q);
    }
    const all = await api(d.url, 'GET', U('?limit=1000'), { key: admin });
    const seen = [];
    let token = null;
    for (let i = 0; i < 500; i++) {
      const r = await api(d.url, 'GET', U(`?limit=2${token ? `&next_token=${encodeURIComponent(token)}` : ''}`), { key: admin });
      assert.equal(r.status, 200, show(r));
      seen.push(...r.json.items.map((u) => u.id));
      token = r.json.next_token;
      if (token === null) break;
    }
    assert.deepEqual([...seen].sort(), all.json.items.map((u) => u.id).sort());
  });

  test('an over-long next_token or limit is refused (400), not ignored', async () => {
    assertError(await api(d.url, 'GET', U(`?next_token=${'a'.repeat(300)}`), { key: admin }), 400, 'InvalidParameter', 'next_token');
    assertError(await api(d.url, 'GET', U(`?limit=${'9'.repeat(300)}`), { key: admin }), 400, 'InvalidParameter', 'limit');
  });
});

describe('security profiles', () => {
  test('create: wrong types, unknown or repeated permissions, unknown fields, oversized strings → 400 naming the field', async () => {
    const cases = [
      [{ permissions: [] }, 'name'],
      [{ name: '', permissions: [] }, 'name'],
      [{ name: 'n'.repeat(129), permissions: [] }, 'name'],
      [{ name: 5, permissions: [] }, 'name'],
      [{ name: unique('p') }, 'permissions'],
      [{ name: unique('p'), permissions: 'Users.View' }, 'permissions'],
      [{ name: unique('p'), permissions: ['Users.Vew'] }, 'permissions'],
      [{ name: unique('p'), permissions: ['users.view'] }, 'permissions'],
      [{ name: unique('p'), permissions: ['Users.View', 'Users.View'] }, 'permissions'],
      [{ name: unique('p'), permissions: [1] }, 'permissions'],
      [{ name: unique('p'), permissions: [null] }, 'permissions'],
      [{ name: unique('p'), permissions: [], description: 'd'.repeat(1025) }, 'description'],
      [{ name: unique('p'), permissions: [], description: 7 }, 'description'],
      [{ name: unique('p'), permissions: [], scope: 'all' }, 'scope'],
    ];
    for (const [body, field] of cases) {
      assertError(await api(d.url, 'POST', P(), { key: admin, body }), 400, 'InvalidParameter', field, JSON.stringify(body).slice(0, 80));
    }
  });

  test('duplicate name → 409 naming name; rename onto another → 409; unknown profile → 404', async () => {
    const a = await createProfile(d, admin, I.id, unique('a'), []);
    const b = await createProfile(d, admin, I.id, unique('b'), []);
    assertError(await api(d.url, 'POST', P(), { key: admin, body: { name: a.name, permissions: [] } }), 409, 'Conflict', 'name');
    assertError(await api(d.url, 'PATCH', P(`/${b.id}`), { key: admin, body: { name: a.name } }), 409, 'Conflict', 'name');
    assertError(await api(d.url, 'PATCH', P(`/${b.id}`), { key: admin, body: { permissions: ['Nope'] } }), 400, 'InvalidParameter', 'permissions');
    assertError(await api(d.url, 'PATCH', P(`/${b.id}`), { key: admin, body: { id: 'sp_x' } }), 400, 'InvalidParameter', 'id');
    for (const [m, body] of [['GET'], ['PATCH', { description: 'x' }], ['DELETE']]) {
      assertError(await api(d.url, m, P('/sp_doesnotexist'), { key: admin, body }), 404, 'NotFound', undefined, m);
    }
  });

  test('a default profile is editable but not deletable while assigned (409); deletable once unassigned', async () => {
    assertError(await api(d.url, 'DELETE', P(`/${profiles.Admin.id}`), { key: admin }), 409, 'Conflict');
    const r = await api(d.url, 'PATCH', P(`/${profiles.QualityAnalyst.id}`), { key: admin, body: { description: 'Edited' } });
    assert.equal(r.status, 200, show(r));
    const u = await createUser(d, admin, I.id, { profiles: [profiles.QualityAnalyst.id] });
    assertError(await api(d.url, 'DELETE', P(`/${profiles.QualityAnalyst.id}`), { key: admin }), 409, 'Conflict');
    await api(d.url, 'DELETE', U(`/${u.id}`), { key: admin });
    assert.equal((await api(d.url, 'DELETE', P(`/${profiles.QualityAnalyst.id}`), { key: admin })).status, 204);
    assertError(await api(d.url, 'GET', P(`/${profiles.QualityAnalyst.id}`), { key: admin }), 404, 'NotFound');
  });

  test('list paging covers every profile once', async () => {
    const all = await api(d.url, 'GET', P('?limit=1000'), { key: admin });
    const seen = [];
    let token = null;
    for (let i = 0; i < 500; i++) {
      const r = await api(d.url, 'GET', P(`?limit=1${token ? `&next_token=${encodeURIComponent(token)}` : ''}`), { key: admin });
      assert.equal(r.status, 200, show(r));
      seen.push(...r.json.items.map((p) => p.id));
      token = r.json.next_token;
      if (token === null) break;
    }
    assert.deepEqual([...seen].sort(), all.json.items.map((p) => p.id).sort());
    assertError(await api(d.url, 'GET', P('?limit=0'), { key: admin }), 400, 'InvalidParameter', 'limit');
  });
});

describe('the security-settings body', () => {
  test('security-settings with a JSON array or nested depth beyond 32 → 400', async () => {
    const p = `/v1/instances/${I.id}/security-settings`;
    assertError(await api(d.url, 'PATCH', p, { key: init.key, body: '[{"mfa_required": true}]' }), 400, 'InvalidParameter');
    const deep = `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`;
    assertError(await api(d.url, 'PATCH', p, { key: init.key, body: deep }), 400, 'InvalidJson');
    const g = await api(d.url, 'GET', p, { key: init.key });
    assert.equal(g.json.mfa_required, false);
  });
});
