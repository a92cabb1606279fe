// Instances (platform key): create with the first admin and the default
// profiles, list, get, update, delete; alias and admin validation; the
// security settings and their validation; the permission catalog.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show } from './lib/daemon.mjs';
import {
  PASSWORD, CATALOG, ALL_PERMISSIONS, DEFAULT_PROFILES, assertError, unique, createInstance, createUser,
  login, loginToken, profilesByName, patchSettings,
} from './lib/identity.mjs';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

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

const post = (body, key = init.key) => api(d.url, 'POST', '/v1/instances', { key, body });
const admin = (extra = {}) => ({ username: 'admin', password: PASSWORD, ...extra });

/**
 * A 400 InvalidParameter whose field names `name`. For a nested object the
 * contract does not fix the spelling: `parent.name` or `name` are accepted
 * (the daemon uses both; see the report).
 */
function assertFieldError(res, name, parent, context) {
  assertError(res, 400, 'InvalidParameter', undefined, context);
  const f = res.json.error.field;
  const ok = parent ? [name, `${parent}.${name}`, parent].includes(f) : f === name;
  assert.ok(ok, `${context}: field ${JSON.stringify(f)}, expected ${parent ? `${parent}.${name} (or ${name})` : name}: ${show(res)}`);
}

describe('create', () => {
  let created;
  test('POST /v1/instances → 201 with id, alias, default_region US, admin_user_id, times', async () => {
    const alias = unique('acme');
    const r = await post({ alias, admin: admin({ first_name: 'Ada', last_name: 'Admin', email: 'ada@example.com' }) });
    assert.equal(r.status, 201, show(r));
    created = r.json;
    assert.match(r.json.id, /^in_[A-Za-z0-9_-]+$/);
    assert.equal(r.json.alias, alias);
    assert.equal(r.json.default_region, 'US');
    assert.match(r.json.admin_user_id, /^us_/);
    assert.match(r.json.created_at, RFC3339_UTC);
    assert.match(r.json.updated_at, RFC3339_UTC);
    assert.ok(Math.abs(Date.parse(r.json.created_at) - Date.now()) < 300000, 'created_at is not now');
    assert.ok(!/password|hash/i.test(r.text), `the reply mentions a password: ${r.text}`);
  });

  test('the first admin logs in, holds the Admin profile and every permission', async () => {
    const r = await login(d, created.id, 'admin', PASSWORD);
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.user.id, created.admin_user_id);
    assert.equal(r.json.user.first_name, 'Ada');
    assert.equal(r.json.user.email, 'ada@example.com');
    const profiles = await profilesByName(d, r.json.token, created.id);
    assert.deepEqual(r.json.user.security_profile_ids, [profiles.Admin.id]);
    const me = await api(d.url, 'GET', '/v1/me', { key: r.json.token });
    assert.deepEqual([...me.json.permissions].sort(), [...ALL_PERMISSIONS].sort());
  });

  test('the four default profiles exist with exactly the contract\'s permissions', async () => {
    const t = await loginToken(d, created.id, 'admin');
    const profiles = await profilesByName(d, t, created.id);
    assert.deepEqual(Object.keys(profiles).sort(), Object.keys(DEFAULT_PROFILES).sort());
    for (const [name, perms] of Object.entries(DEFAULT_PROFILES)) {
      assert.deepEqual([...profiles[name].permissions].sort(), [...perms].sort(), `default profile ${name}`);
      assert.match(profiles[name].id, /^sp_/);
    }
  });

  test('default_region is kept when given', async () => {
    const r = await post({ alias: unique('fr'), admin: admin(), default_region: 'FR' });
    assert.equal(r.status, 201, show(r));
    assert.equal(r.json.default_region, 'FR');
  });

  test('a 62-character alias and one-character aliases are accepted', async () => {
    for (const alias of [`a${'b'.repeat(60)}c`, 'q', '7', 'a-b']) {
      const r = await post({ alias, admin: admin() });
      assert.equal(r.status, 201, `${alias}: ${show(r)}`);
    }
  });

  test('alias validation → 400 naming alias', async () => {
    const bad = ['', 'UPPER', 'Mixed-case', '-lead', 'trail-', 'under_score', 'with space', 'dot.ted', 'x'.repeat(63), 'café', 42, null, ['a'], { a: 1 }];
    for (const alias of bad) assertFieldError(await post({ alias, admin: admin() }), 'alias', null, `alias ${JSON.stringify(alias)}`);
    assertFieldError(await post({ admin: admin() }), 'alias', null, 'alias missing');
  });

  test('alias conflict → 409 Conflict naming alias', async () => {
    const alias = unique('dup');
    assert.equal((await post({ alias, admin: admin() })).status, 201);
    const r = await post({ alias, admin: admin({ username: 'someone-else' }) });
    assertError(r, 409, 'Conflict', 'alias');
  });

  test('admin validation → 400: missing, wrong type, bad username, weak passwords', async () => {
    assertFieldError(await post({ alias: unique('a') }), 'admin', null, 'no admin');
    assertFieldError(await post({ alias: unique('a'), admin: 'root' }), 'admin', null, 'admin a string');
    assertFieldError(await post({ alias: unique('a'), admin: { password: PASSWORD } }), 'username', 'admin', 'no username');
    assertFieldError(await post({ alias: unique('a'), admin: { username: 'admin' } }), 'password', 'admin', 'no password');
    assertFieldError(await post({ alias: unique('a'), admin: { username: 7, password: PASSWORD } }), 'username', 'admin', 'numeric username');
    assertFieldError(await post({ alias: unique('a'), admin: { username: 'bad name', password: PASSWORD } }), 'username', 'admin', 'username with a space');
    assertFieldError(await post({ alias: unique('a'), admin: { username: 'u'.repeat(129), password: PASSWORD } }), 'username', 'admin', 'username of 129');
    const weak = [
      ['Short-pw-1', 'shorter than 12'],
      ['password1234', 'common'],
      ['aaaaaaaaaaaaaaaa', 'one repeated character'],
      ['Administrator1', 'the username, in another case', 'administrator1'],
      ['p'.repeat(10) + 'x'.repeat(300), 'over 256 bytes'],
    ];
    for (const [password, why, username = 'admin'] of weak) {
      assertFieldError(await post({ alias: unique('a'), admin: { username, password } }), 'password', 'admin', `password ${why}`);
    }
    assertFieldError(await post({ alias: unique('a'), admin: { ...admin(), role: 'root' } }), 'role', 'admin', 'unknown field in admin');
    assertFieldError(await post({ alias: unique('a'), admin: { ...admin(), email: 'x' } }), 'email', 'admin', 'email too short');
    // Nothing was created by the refusals.
    const l = await api(d.url, 'GET', '/v1/instances?limit=1000', { key: init.key });
    assert.ok(!l.json.items.some((i) => i.alias.startsWith('a-') && i.alias.includes(process.pid.toString(36))), 'a refused instance exists');
  });

  test('default_region validation and unknown fields → 400 with field', async () => {
    for (const region of ['us', 'USA', 'U1', 'U', 12]) assertFieldError(await post({ alias: unique('r'), admin: admin(), default_region: region }), 'default_region', null, `region ${JSON.stringify(region)}`);
    assertFieldError(await post({ alias: unique('r'), admin: admin(), tier: 'gold' }), 'tier', null, 'unknown field');
  });

  test('malformed JSON 400, wrong Content-Type 415, non-object 400; no, garbage or user token 401', async () => {
    assertError(await api(d.url, 'POST', '/v1/instances', { key: init.key, body: '{"alias": "x", ' }), 400, 'InvalidJson');
    assertError(await api(d.url, 'POST', '/v1/instances', { key: init.key, body: '["x"]' }), 400, 'InvalidParameter');
    assertError(await api(d.url, 'POST', '/v1/instances', { key: init.key, body: 'alias=x', contentType: 'application/x-www-form-urlencoded' }), 415, 'UnsupportedMediaType');
    const body = { alias: unique('auth'), admin: admin() };
    assertError(await api(d.url, 'POST', '/v1/instances', { body }), 401, 'Unauthenticated', undefined, 'no token');
    assertError(await post(body, 'bwp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 401, 'Unauthenticated');
    const inst = await createInstance(d, init.key);
    const t = await loginToken(d, inst.id, inst.adminUsername);
    assertError(await post(body, t), 401, 'Unauthenticated', undefined, 'an instance admin\'s session on a platform route');
  });
});

describe('list, get, update', () => {
  let x;
  let y;
  before(async () => {
    x = await createInstance(d, init.key);
    y = await createInstance(d, init.key);
  });

  test('GET /v1/instances lists them; pages of one cover every instance once', async () => {
    const all = await api(d.url, 'GET', '/v1/instances?limit=1000', { key: init.key });
    assert.equal(all.status, 200, show(all));
    const ids = all.json.items.map((i) => i.id);
    assert.ok(ids.includes(x.id) && ids.includes(y.id));
    const seen = [];
    let token = null;
    for (let i = 0; i < 1000; i++) {
      const r = await api(d.url, 'GET', `/v1/instances?limit=1${token ? `&next_token=${encodeURIComponent(token)}` : ''}`, { key: init.key });
      assert.equal(r.status, 200, show(r));
      assert.ok(r.json.items.length <= 1);
      seen.push(...r.json.items.map((it) => it.id));
      token = r.json.next_token;
      if (token === null) break;
    }
    assert.deepEqual([...seen].sort(), [...ids].sort());
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'next_token=%21%21']) {
      assertError(await api(d.url, 'GET', `/v1/instances?${q}`, { key: init.key }), 400, 'InvalidParameter', q.split('=')[0]);
    }
  });

  test('GET /v1/instances/{iid} → the instance; unknown → 404', async () => {
    const r = await api(d.url, 'GET', `/v1/instances/${x.id}`, { key: init.key });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.id, x.id);
    assert.equal(r.json.alias, x.alias);
    for (const k of ['id', 'alias', 'default_region', 'created_at', 'updated_at']) assert.ok(k in r.json, `no ${k}: ${show(r)}`);
    assert.ok(!('settings' in r.json) && !/password/i.test(r.text), `the instance object leaks internals: ${show(r)}`);
    for (const [m, p, body] of [
      ['GET', '/v1/instances/in_unknown'], ['PATCH', '/v1/instances/in_unknown', { default_region: 'DE' }], ['DELETE', '/v1/instances/in_unknown'],
      ['GET', '/v1/instances/in_unknown/security-settings'], ['PATCH', '/v1/instances/in_unknown/security-settings', { mfa_required: true }],
    ]) assertError(await api(d.url, m, p, { key: init.key, body }), 404, 'NotFound', undefined, `${m} ${p}`);
    assertError(await login(d, 'in_unknown', 'admin', PASSWORD), 404, 'NotFound', undefined, 'login at an unknown instance');
  });

  test('PATCH alias and default_region → 200; bad values → 400; another instance\'s alias → 409; unknown fields → 400', async () => {
    const alias = unique('renamed');
    const r = await api(d.url, 'PATCH', `/v1/instances/${x.id}`, { key: init.key, body: { alias, default_region: 'DE' } });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.alias, alias);
    assert.equal(r.json.default_region, 'DE');
    const g = await api(d.url, 'GET', `/v1/instances/${x.id}`, { key: init.key });
    assert.equal(g.json.alias, alias);
    assertFieldError(await api(d.url, 'PATCH', `/v1/instances/${x.id}`, { key: init.key, body: { alias: 'Bad Alias' } }), 'alias', null, 'bad alias');
    assertFieldError(await api(d.url, 'PATCH', `/v1/instances/${x.id}`, { key: init.key, body: { default_region: 'de' } }), 'default_region', null, 'bad region');
    assertFieldError(await api(d.url, 'PATCH', `/v1/instances/${x.id}`, { key: init.key, body: { id: 'in_other' } }), 'id', null, 'id is not a field');
    assertFieldError(await api(d.url, 'PATCH', `/v1/instances/${x.id}`, { key: init.key, body: { alias: 5 } }), 'alias', null, 'numeric alias');
    assertError(await api(d.url, 'PATCH', `/v1/instances/${x.id}`, { key: init.key, body: { alias: y.alias } }), 409, 'Conflict', 'alias');
    assert.equal((await api(d.url, 'GET', `/v1/instances/${x.id}`, { key: init.key })).json.alias, alias, 'a refused PATCH changed the alias');
  });
});

describe('the permission catalog', () => {
  test('GET /v1/permissions lists the contract\'s catalog with groups, for the platform key and for a user session', async () => {
    const inst = await createInstance(d, init.key);
    const t = await loginToken(d, inst.id, inst.adminUsername);
    const agentUser = await createUser(d, t, inst.id, { password: PASSWORD, profiles: [(await profilesByName(d, t, inst.id)).Agent.id] });
    const agent = await loginToken(d, inst.id, agentUser.username);
    for (const [who, key] of [['platform', init.key], ['admin', t], ['agent', agent]]) {
      const r = await api(d.url, 'GET', '/v1/permissions', { key });
      assert.equal(r.status, 200, `${who}: ${show(r)}`);
      assert.equal(r.json.next_token, null);
      const names = r.json.items.map((p) => p.name);
      assert.equal(new Set(names).size, names.length, 'a permission is listed twice');
      for (const [group, perms] of Object.entries(CATALOG)) {
        for (const p of perms) {
          const item = r.json.items.find((i) => i.name === p);
          assert.ok(item, `${who}: ${p} missing from the catalog`);
          assert.equal(item.group, group, `${p} in group ${item.group}`);
        }
      }
    }
    assertError(await api(d.url, 'GET', '/v1/permissions'), 401, 'Unauthenticated');
  });
});

describe('security settings', () => {
  let I;
  let adminToken;
  before(async () => {
    I = await createInstance(d, init.key);
    adminToken = await loginToken(d, I.id, I.adminUsername);
  });
  const p = () => `/v1/instances/${I.id}/security-settings`;

  test('defaults', async () => {
    const r = await api(d.url, 'GET', p(), { key: init.key });
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(r.json, {
      mfa_required: false,
      allowed_ip_ranges: [],
      approved_origins: [],
      session_idle_timeout_s: 1800,
      session_max_age_s: 43200,
      password_policy: { min_length: 12 },
      lockout: { max_failures: 5, base_lockout_s: 30, max_lockout_s: 900, address_max_failures: 50 },
      attribute_classes: {},
      pii_redaction: 'off',
    });
  });

  test('bad values → 400 InvalidParameter naming the field; nothing changes', async () => {
    const cases = [
      [{ mfa_required: 'yes' }, 'mfa_required'], [{ mfa_required: 1 }, 'mfa_required'], [{ mfa_required: null }, 'mfa_required'],
      [{ approved_origins: 'https://shop.example' }, 'approved_origins'],
      [{ approved_origins: ['https://shop.example/'] }, 'approved_origins'],
      [{ approved_origins: ['https://shop.example/path'] }, 'approved_origins'],
      [{ approved_origins: ['ftp://shop.example'] }, 'approved_origins'],
      [{ approved_origins: ['shop.example'] }, 'approved_origins'],
      [{ approved_origins: ['https://Shop.Example'] }, 'approved_origins'],
      [{ approved_origins: [42] }, 'approved_origins'],
      [{ approved_origins: [`https://${'a'.repeat(300)}.example`] }, 'approved_origins'],
      [{ approved_origins: Array.from({ length: 33 }, (_, i) => `https://s${i}.example`) }, 'approved_origins'],
      [{ allowed_ip_ranges: ['10.0.0.1/8'] }, 'allowed_ip_ranges'],
      [{ session_idle_timeout_s: '1800' }, 'session_idle_timeout_s'],
      [{ session_max_age_s: 100 }, 'session_max_age_s'],
      [{ password_policy: 12 }, 'password_policy'],
      [{ lockout: 'strict' }, 'lockout'],
      [{ sso: true }, 'sso'],
    ];
    for (const [body, field] of cases) assertFieldError(await api(d.url, 'PATCH', p(), { key: init.key, body }), field, null, JSON.stringify(body).slice(0, 80));
    const nested = [
      [{ password_policy: { min_length: 7 } }, 'password_policy', 'min_length'],
      [{ password_policy: { min_length: 129 } }, 'password_policy', 'min_length'],
      [{ password_policy: { min_length: '12' } }, 'password_policy', 'min_length'],
      [{ password_policy: { max_length: 64 } }, 'password_policy', 'max_length'],
      [{ lockout: { max_failures: 0 } }, 'lockout', 'max_failures'],
      [{ lockout: { max_failures: 101 } }, 'lockout', 'max_failures'],
      [{ lockout: { base_lockout_s: 0 } }, 'lockout', 'base_lockout_s'],
      [{ lockout: { max_lockout_s: 1.5 } }, 'lockout', 'max_lockout_s'],
      [{ lockout: { address_max_failures: 0 } }, 'lockout', 'address_max_failures'],
      [{ lockout: { window_s: 60 } }, 'lockout', 'window_s'],
    ];
    for (const [body, parent, name] of nested) assertFieldError(await api(d.url, 'PATCH', p(), { key: init.key, body }), name, parent, JSON.stringify(body));
    // A patch with one good and one bad field changes nothing.
    assertFieldError(await api(d.url, 'PATCH', p(), { key: init.key, body: { mfa_required: true, session_idle_timeout_s: 5 } }), 'session_idle_timeout_s', null, 'mixed patch');
    const g = await api(d.url, 'GET', p(), { key: init.key });
    assert.equal(g.json.mfa_required, false, 'half of a refused patch was applied');
    assertError(await api(d.url, 'PATCH', p(), { key: init.key, body: '{"mfa_required": tru' }), 400, 'InvalidJson');
    assertError(await api(d.url, 'PATCH', p(), { key: init.key, body: 'mfa_required=true', contentType: 'text/plain' }), 415, 'UnsupportedMediaType');
  });

  test('good values are stored, nested objects are merged, and the password policy applies', async () => {
    const r = await patchSettings(d, init.key, I.id, { approved_origins: ['https://shop.example', 'http://localhost:8080'], password_policy: { min_length: 16 }, lockout: { max_failures: 3 } });
    assert.deepEqual(r.approved_origins, ['https://shop.example', 'http://localhost:8080']);
    assert.deepEqual(r.lockout, { max_failures: 3, base_lockout_s: 30, max_lockout_s: 900, address_max_failures: 50 });
    const g = await api(d.url, 'GET', p(), { key: init.key });
    assert.deepEqual(g.json, r);
    const short = await api(d.url, 'POST', `/v1/instances/${I.id}/users`, { key: adminToken, body: { username: unique('pp'), password: 'Fifteen-chars-1' } });
    assertFieldError(short, 'password', null, 'a 15-character password under min_length 16');
    const ok = await api(d.url, 'POST', `/v1/instances/${I.id}/users`, { key: adminToken, body: { username: unique('pp'), password: 'Sixteen-chars-12' } });
    assert.equal(ok.status, 201, show(ok));
    await patchSettings(d, init.key, I.id, { password_policy: { min_length: 12 }, approved_origins: [] });
  });

  test('users: SecuritySettings.Edit (Admin) may read and change; CallCenterManager may not read (403)', async () => {
    const r = await api(d.url, 'PATCH', p(), { key: adminToken, body: { session_idle_timeout_s: 900 } });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.session_idle_timeout_s, 900);
    const profiles = await profilesByName(d, adminToken, I.id);
    const ccm = await createUser(d, adminToken, I.id, { password: PASSWORD, profiles: [profiles.CallCenterManager.id] });
    const t = await loginToken(d, I.id, ccm.username);
    assertError(await api(d.url, 'GET', p(), { key: t }), 403, 'AccessDenied');
    assertError(await api(d.url, 'PATCH', p(), { key: t, body: { mfa_required: false } }), 403, 'AccessDenied');
    assertError(await api(d.url, 'PATCH', p(), { body: { mfa_required: false } }), 401, 'Unauthenticated');
  });
});

describe('delete', () => {
  test('DELETE → 204; the instance, its users and their sessions are gone; the alias is free again', async () => {
    const X = await createInstance(d, init.key);
    const t = await loginToken(d, X.id, X.adminUsername);
    const u = await createUser(d, t, X.id, { password: PASSWORD });
    const ut = await loginToken(d, X.id, u.username);
    const other = await createInstance(d, init.key);
    const ot = await loginToken(d, other.id, other.adminUsername);

    const r = await api(d.url, 'DELETE', `/v1/instances/${X.id}`, { key: init.key });
    assert.equal(r.status, 204, show(r));
    assertError(await api(d.url, 'GET', `/v1/instances/${X.id}`, { key: init.key }), 404, 'NotFound');
    assertError(await api(d.url, 'DELETE', `/v1/instances/${X.id}`, { key: init.key }), 404, 'NotFound', undefined, 'delete twice');
    for (const [name, pw] of [[X.adminUsername, PASSWORD], [u.username, PASSWORD]]) {
      const l = await login(d, X.id, name, pw);
      assert.ok([401, 404].includes(l.status), `login of ${name} after the delete: ${show(l)}`);
    }
    for (const tok of [t, ut]) assertError(await api(d.url, 'GET', '/v1/me', { key: tok }), 401, 'Unauthenticated', undefined, 'a session of a deleted instance');
    const l = await api(d.url, 'GET', '/v1/instances?limit=1000', { key: init.key });
    assert.ok(!l.json.items.some((i) => i.id === X.id), 'a deleted instance is listed');
    // Other instances live on.
    assert.equal((await api(d.url, 'GET', '/v1/me', { key: ot })).status, 200);
    // The alias is free again, for a new instance with a new id.
    const again = await post({ alias: X.alias, admin: admin() });
    assert.equal(again.status, 201, show(again));
    assert.notEqual(again.json.id, X.id);
    assertError(await api(d.url, 'GET', '/v1/me', { key: t }), 401, 'Unauthenticated');
  });

  test('the platform trail records create, update and delete of instances', async () => {
    const c = await post({ alias: unique('trail'), admin: admin() });
    assert.equal(c.status, 201, show(c));
    const id = c.json.id;
    const u = await api(d.url, 'PATCH', `/v1/instances/${id}`, { key: init.key, body: { default_region: 'GB' } });
    const x = await api(d.url, 'DELETE', `/v1/instances/${id}`, { key: init.key });
    const r = await api(d.url, 'GET', '/v1/audit-events?limit=1000', { key: init.key });
    assert.equal(r.status, 200, show(r));
    for (const [res, action, status] of [[c, 'instances.create', 201], [u, 'instances.update', 200], [x, 'instances.delete', 204]]) {
      const rid = res.headers.get('x-request-id');
      const e = r.json.items.find((ev) => ev.request_id === rid);
      assert.ok(e, `no event with request id ${rid} (${action})`);
      assert.equal(e.action, action);
      assert.equal(e.principal.kind, 'platform');
      assert.equal(e.status, status);
      assert.equal(e.result, 'allowed');
      if (action !== 'instances.create') assert.equal(e.instance_id, id);
    }
  });
});
