// Server-side sessions (C4, C6): logout, revocation of one's own sessions,
// a new password or a disabled account ends every session, sessions survive
// a restart, idle and absolute expiry, allowed IP ranges at login and at every
// request.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initData, startDaemon, removeTempDir, api, show } from './lib/daemon.mjs';
import {
  PASSWORD, PASSWORD2, assertError, createInstance, createUser, login, loginToken, patchSettings,
  createProfile, sqlite, unique,
} from './lib/identity.mjs';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let init;
let d;
let I;
let admin;
let viewer;

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  I = await createInstance(d, init.key);
  admin = await loginToken(d, I.id, I.adminUsername);
  viewer = await createProfile(d, admin, I.id, 'viewer', ['Users.View']);
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

const me = (token) => api(d.url, 'GET', '/v1/me', { key: token });
const U = (s = '') => `/v1/instances/${I.id}/users${s}`;

async function newUser(opts = {}) {
  return createUser(d, admin, I.id, { password: PASSWORD, profiles: [viewer.id], ...opts });
}

/** The id of the session behind `token`. */
async function sessionId(token) {
  const r = await api(d.url, 'GET', '/v1/me/sessions', { key: token });
  assert.equal(r.status, 200, show(r));
  const cur = r.json.items.filter((s) => s.current);
  assert.equal(cur.length, 1, `exactly one session is current: ${show(r)}`);
  return cur[0].id;
}

describe('logout and one\'s own sessions', () => {
  test('logout ends the token (204), and only that one', async () => {
    const u = await newUser();
    const t1 = await loginToken(d, I.id, u.username);
    const t2 = await loginToken(d, I.id, u.username);
    assert.equal((await me(t1)).status, 200);
    const r = await api(d.url, 'POST', `/v1/instances/${I.id}/auth/logout`, { key: t1 });
    assert.equal(r.status, 204, show(r));
    assertError(await me(t1), 401, 'Unauthenticated');
    assertError(await api(d.url, 'POST', `/v1/instances/${I.id}/auth/logout`, { key: t1 }), 401, 'Unauthenticated', undefined, 'logout twice');
    assert.equal((await me(t2)).status, 200, 'the other session ended too');
  });

  test('GET /v1/me/sessions lists my live sessions with one current; others\' are not there', async () => {
    const u = await newUser();
    const t1 = await loginToken(d, I.id, u.username, PASSWORD, { headers: { 'user-agent': 'agent-one/1.0' } });
    const t2 = await loginToken(d, I.id, u.username, PASSWORD, { headers: { 'user-agent': 'agent-two/2.0' } });
    const r = await api(d.url, 'GET', '/v1/me/sessions', { key: t1 });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.items.length, 2, show(r));
    assert.ok('next_token' in r.json);
    const agents = r.json.items.map((s) => s.user_agent).sort();
    assert.deepEqual(agents, ['agent-one/1.0', 'agent-two/2.0']);
    for (const s of r.json.items) {
      assert.match(s.id, /^se_/);
      for (const f of ['created_at', 'last_seen_at', 'expires_at']) assert.match(s[f], RFC3339_UTC, `${f}: ${s[f]}`);
      assert.equal(s.source_ip, '127.0.0.1');
      assert.equal(s.current, s.user_agent === 'agent-one/1.0');
      assert.ok(!JSON.stringify(s).includes(t1.slice(4, 20)) && !JSON.stringify(s).includes(t2.slice(4, 20)), 'a session item leaks its token');
    }
    const adminIds = (await api(d.url, 'GET', '/v1/me/sessions', { key: admin })).json.items.map((s) => s.id);
    assert.ok(!r.json.items.some((s) => adminIds.includes(s.id)), 'another user\'s session is listed');
  });

  test('GET /v1/me/sessions pages like every list: ?limit= and next_token', async () => {
    const u = await newUser();
    const ts = [];
    for (let i = 0; i < 3; i++) ts.push(await loginToken(d, I.id, u.username));
    assertError(await api(d.url, 'GET', '/v1/me/sessions?limit=0', { key: ts[0] }), 400, 'InvalidParameter', 'limit');
    const seen = [];
    let token = null;
    for (let i = 0; i < 10; i++) {
      const r = await api(d.url, 'GET', `/v1/me/sessions?limit=1${token ? `&next_token=${encodeURIComponent(token)}` : ''}`, { key: ts[0] });
      assert.equal(r.status, 200, show(r));
      assert.ok(r.json.items.length <= 1, `limit=1 gave ${r.json.items.length} items`);
      seen.push(...r.json.items.map((s) => s.id));
      token = r.json.next_token;
      if (token === null) break;
    }
    assert.equal(new Set(seen).size, 3);
  });

  test('DELETE /v1/me/sessions/{sid}: revokes my other session (204); again → 404; another user\'s session → 404 and it lives on', async () => {
    const u = await newUser();
    const t1 = await loginToken(d, I.id, u.username);
    const t2 = await loginToken(d, I.id, u.username);
    const sid2 = await sessionId(t2);
    const r = await api(d.url, 'DELETE', `/v1/me/sessions/${sid2}`, { key: t1 });
    assert.equal(r.status, 204, show(r));
    assertError(await me(t2), 401, 'Unauthenticated');
    assertError(await api(d.url, 'DELETE', `/v1/me/sessions/${sid2}`, { key: t1 }), 404, 'NotFound', undefined, 'revoke twice');
    const list = await api(d.url, 'GET', '/v1/me/sessions', { key: t1 });
    assert.ok(!list.json.items.some((s) => s.id === sid2), 'a revoked session is listed');

    const other = await newUser();
    const to = await loginToken(d, I.id, other.username);
    const sido = await sessionId(to);
    assertError(await api(d.url, 'DELETE', `/v1/me/sessions/${sido}`, { key: t1 }), 404, 'NotFound', undefined, 'another user\'s session');
    assertError(await api(d.url, 'DELETE', `/v1/me/sessions/${sido}`, { key: admin }), 404, 'NotFound', undefined, 'an Admin revoking another user\'s session by this route');
    assert.equal((await me(to)).status, 200);
    // My current session too: it is a logout.
    const sid1 = await sessionId(t1);
    assert.equal((await api(d.url, 'DELETE', `/v1/me/sessions/${sid1}`, { key: t1 })).status, 204);
    assertError(await me(t1), 401, 'Unauthenticated');
  });

  test('GET /v1/me: the user with instance_id and effective permissions; PUT /v1/me/status', async () => {
    const u = await newUser();
    const t = await loginToken(d, I.id, u.username);
    const r = await me(t);
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.id, u.id);
    assert.equal(r.json.instance_id, I.id);
    assert.deepEqual(r.json.permissions, ['Users.View']);
    assert.ok(!/password|hash|secret/i.test(Object.keys(r.json).join(',')), `secrets in /v1/me: ${r.text}`);
    const s = await api(d.url, 'PUT', '/v1/me/status', { key: t, body: { status: 'Available' } });
    assert.equal(s.status, 200, show(s));
    assert.equal(s.json.status, 'Available');
    assert.equal((await me(t)).json.status, 'Available');
    const bad = [
      [{ status: 'Lunch!' }, 'status'], [{ status: '' }, 'status'], [{ status: 'x'.repeat(33) }, 'status'],
      [{ status: 7 }, 'status'], [{}, 'status'], [{ status: 'Available', mood: 'ok' }, 'mood'],
    ];
    for (const [body, field] of bad) assertError(await api(d.url, 'PUT', '/v1/me/status', { key: t, body }), 400, 'InvalidParameter', field, JSON.stringify(body));
    assertError(await api(d.url, 'PUT', '/v1/me/status', { key: t, body: '{"status":' }), 400, 'InvalidJson');
    assertError(await api(d.url, 'PUT', '/v1/me/status', { key: t, body: 'Available', contentType: 'text/plain' }), 415, 'UnsupportedMediaType');
    assertError(await api(d.url, 'PUT', '/v1/me/status', { body: { status: 'Available' } }), 401, 'Unauthenticated');
    assertError(await api(d.url, 'PUT', '/v1/me/status', { key: init.key, body: { status: 'Available' } }), 401, 'Unauthenticated', undefined, 'platform key on a user route');
    assertError(await api(d.url, 'GET', '/v1/instances', { key: t }), 401, 'Unauthenticated', undefined, 'user session on a platform route');
  });
});

describe('account changes end sessions', () => {
  test('a new password ends every session of the user; the old password is refused, the new one works', async () => {
    const u = await newUser();
    const other = await newUser();
    const ts = [await loginToken(d, I.id, u.username), await loginToken(d, I.id, u.username)];
    const to = await loginToken(d, I.id, other.username);
    const r = await api(d.url, 'PATCH', U(`/${u.id}`), { key: admin, body: { password: PASSWORD2 } });
    assert.equal(r.status, 200, show(r));
    for (const t of ts) assertError(await me(t), 401, 'Unauthenticated');
    assert.equal((await me(to)).status, 200, 'another user\'s session ended');
    assert.equal((await me(admin)).status, 200);
    assertError(await login(d, I.id, u.username, PASSWORD), 401, 'Unauthenticated');
    await loginToken(d, I.id, u.username, PASSWORD2);
  });

  test('a PATCH without password or disabled leaves sessions alone', async () => {
    const u = await newUser();
    const t = await loginToken(d, I.id, u.username);
    const r = await api(d.url, 'PATCH', U(`/${u.id}`), { key: admin, body: { first_name: 'Renamed', email: 'r@example.com' } });
    assert.equal(r.status, 200, show(r));
    assert.equal((await me(t)).status, 200);
  });

  test('disabling ends every session and refuses login (401, as for a wrong password); enabling allows login again', async () => {
    const u = await newUser();
    const ts = [await loginToken(d, I.id, u.username), await loginToken(d, I.id, u.username)];
    const r = await api(d.url, 'PATCH', U(`/${u.id}`), { key: admin, body: { disabled: true } });
    assert.equal(r.status, 200, show(r));
    for (const t of ts) assertError(await me(t), 401, 'Unauthenticated');
    assertError(await login(d, I.id, u.username, PASSWORD), 401, 'Unauthenticated');
    const e = await api(d.url, 'PATCH', U(`/${u.id}`), { key: admin, body: { disabled: false } });
    assert.equal(e.status, 200, show(e));
    for (const t of ts) assertError(await me(t), 401, 'Unauthenticated', undefined, 'a session ended by disabling stays ended');
    await loginToken(d, I.id, u.username);
  });

  test('deleting a user ends their sessions; nobody can disable or delete themself (409)', async () => {
    const u = await newUser();
    const t = await loginToken(d, I.id, u.username);
    const r = await api(d.url, 'DELETE', U(`/${u.id}`), { key: admin });
    assert.equal(r.status, 204, show(r));
    assertError(await me(t), 401, 'Unauthenticated');
    assertError(await api(d.url, 'GET', U(`/${u.id}`), { key: admin }), 404, 'NotFound');
    assertError(await login(d, I.id, u.username, PASSWORD), 401, 'Unauthenticated');
    assertError(await api(d.url, 'PATCH', U(`/${I.adminUserId}`), { key: admin, body: { disabled: true } }), 409, 'Conflict');
    assertError(await api(d.url, 'DELETE', U(`/${I.adminUserId}`), { key: admin }), 409, 'Conflict');
    assert.equal((await me(admin)).status, 200);
  });
});

describe('session lifetime settings', () => {
  test('session_idle_timeout_s and session_max_age_s bounds: 400 naming the field', async () => {
    const p = `/v1/instances/${I.id}/security-settings`;
    for (const [field, bad, good] of [['session_idle_timeout_s', [59, 86401, 0, -1, '60', 60.5, null, true], [60, 86400]], ['session_max_age_s', [299, 2592001, '300', 1e12], [300, 2592000]]]) {
      for (const v of bad) assertError(await api(d.url, 'PATCH', p, { key: init.key, body: { [field]: v } }), 400, 'InvalidParameter', field, `${field}=${JSON.stringify(v)}`);
      for (const v of good) {
        const r = await api(d.url, 'PATCH', p, { key: init.key, body: { [field]: v } });
        assert.equal(r.status, 200, show(r));
        assert.equal(r.json[field], v);
      }
    }
    await patchSettings(d, init.key, I.id, { session_idle_timeout_s: 1800, session_max_age_s: 43200 });
  });

  test('expires_at of a new session is now + session_max_age_s', async () => {
    await patchSettings(d, init.key, I.id, { session_max_age_s: 300 });
    const u = await newUser();
    const before1 = Date.now();
    const r = await login(d, I.id, u.username, PASSWORD);
    assert.equal(r.status, 200, show(r));
    assert.match(r.json.expires_at, RFC3339_UTC);
    const exp = Date.parse(r.json.expires_at);
    assert.ok(exp >= Math.floor(before1 / 1000) * 1000 + 300000 - 1000 && exp <= Date.now() + 300000 + 1000, `expires_at ${r.json.expires_at} is not ~300 s from now`);
    await patchSettings(d, init.key, I.id, { session_max_age_s: 43200 });
  });
});

describe('restart, idle and absolute expiry', () => {
  let listing;
  test('sessions survive a restart (SIGTERM → exit 0, serve again on the same data); idle and expired sessions are refused', async () => {
    await patchSettings(d, init.key, I.id, { session_idle_timeout_s: 60 });
    const u = await newUser({ username: unique('restart') });
    const tokens = {};
    for (const k of ['fresh', 'idle', 'almostIdle', 'expired']) tokens[k] = await loginToken(d, I.id, u.username);
    const ids = {};
    for (const [k, t] of Object.entries(tokens)) ids[k] = await sessionId(t);

    const code = await d.stop();
    assert.equal(code, 0, `exit code ${code} after SIGTERM\n${d.stderr.slice(-2000)}`);
    // While it is down, age two sessions in the database the daemon reads at
    // every request (no need to wait a minute): one idle past 60 s, one past
    // its absolute expiry; one is idle 30 s only.
    const now = Math.floor(Date.now() / 1000);
    sqlite(path.join(init.data, 'bulwark.db'), `
      UPDATE sessions SET last_seen_at = ${now - 61} WHERE id = '${ids.idle}';
      UPDATE sessions SET last_seen_at = ${now - 30} WHERE id = '${ids.almostIdle}';
      UPDATE sessions SET expires_at = ${now - 1} WHERE id = '${ids.expired}';
    `);
    d = await startDaemon({ data: init.data });

    // (Listed before the idle session is touched; checked in the next test.)
    listing = { ids, listed: (await api(d.url, 'GET', '/v1/me/sessions', { key: tokens.fresh })).json.items.map((s) => s.id) };
    assert.equal((await me(admin)).status, 200, 'the admin\'s session did not survive the restart');
    assert.equal((await me(tokens.fresh)).status, 200, 'a user session did not survive the restart');
    assert.equal((await me(tokens.almostIdle)).status, 200, 'a session idle 30 s of 60 was refused');
    assertError(await me(tokens.idle), 401, 'Unauthenticated', undefined, 'idle 61 s with session_idle_timeout_s 60');
    assertError(await me(tokens.expired), 401, 'Unauthenticated', undefined, 'past expires_at');
    // And they stay refused once refused.
    assertError(await me(tokens.idle), 401, 'Unauthenticated');
    await patchSettings(d, init.key, I.id, { session_idle_timeout_s: 1800 });
    assertError(await me(tokens.idle), 401, 'Unauthenticated', undefined, 'an idle-expired session came back when the timeout grew');
  });

  test('GET /v1/me/sessions lists neither the expired nor the idle-expired session as live', () => {
    const { ids, listed } = listing;
    assert.ok(listed.includes(ids.fresh) && listed.includes(ids.almostIdle), `live sessions missing from ${listed}`);
    assert.ok(!listed.includes(ids.expired), 'an expired session is listed as live');
    assert.ok(!listed.includes(ids.idle), 'a session idle past session_idle_timeout_s (which the next request refuses) is listed as live');
  });
});

describe('allowed IP ranges', () => {
  test('10.0.0.0/8 only: login from 127.0.0.1 → 403 and a live session → 403; the platform key still manages; with 127.0.0.1/32 → works', async () => {
    const u = await newUser();
    const t = await loginToken(d, I.id, u.username);
    await patchSettings(d, init.key, I.id, { allowed_ip_ranges: ['10.0.0.0/8'] });
    assertError(await login(d, I.id, u.username, PASSWORD), 403, 'AccessDenied', undefined, 'login');
    assertError(await login(d, I.id, u.username, 'wrong-password-123'), 403, 'AccessDenied', undefined, 'login, wrong password');
    assertError(await me(t), 403, 'AccessDenied', undefined, 'live user session');
    assertError(await api(d.url, 'GET', U(), { key: t }), 403, 'AccessDenied');
    assertError(await me(admin), 403, 'AccessDenied', undefined, 'live admin session');
    assertError(await api(d.url, 'PATCH', `/v1/instances/${I.id}/security-settings`, { key: admin, body: { allowed_ip_ranges: [] } }), 403, 'AccessDenied', undefined, 'the admin cannot lift it from outside the range');

    await patchSettings(d, init.key, I.id, { allowed_ip_ranges: ['::1/128'] });
    assertError(await me(t), 403, 'AccessDenied', undefined, 'an IPv6 range does not admit an IPv4 client');

    const s = await patchSettings(d, init.key, I.id, { allowed_ip_ranges: ['10.0.0.0/8', '127.0.0.1/32'] });
    assert.deepEqual(s.allowed_ip_ranges, ['10.0.0.0/8', '127.0.0.1/32']);
    assert.equal((await me(t)).status, 200, 'the live session is allowed again');
    assert.equal((await me(admin)).status, 200);
    await loginToken(d, I.id, u.username);

    await patchSettings(d, init.key, I.id, { allowed_ip_ranges: ['127.0.0.0/8'] });
    assert.equal((await me(t)).status, 200);
    await patchSettings(d, init.key, I.id, { allowed_ip_ranges: [] });
    assert.equal((await me(t)).status, 200);
  });

  test('other instances are not affected by one instance\'s ranges', async () => {
    const other = await createInstance(d, init.key);
    await patchSettings(d, init.key, I.id, { allowed_ip_ranges: ['10.0.0.0/8'] });
    try {
      await loginToken(d, other.id, other.adminUsername);
    } finally {
      await patchSettings(d, init.key, I.id, { allowed_ip_ranges: [] });
    }
  });

  test('bad ranges → 400 naming allowed_ip_ranges, and nothing changes', async () => {
    const p = `/v1/instances/${I.id}/security-settings`;
    const bad = ['10.0.0.0/8', ['10.0.0.1/8'], ['10.0.0.0/33'], ['nonsense'], [10], ['10.0.0.0/8x'], ['::1/129'], ['10.0.0.0/'], [''], Array.from({ length: 65 }, (_, i) => `10.${i}.0.0/16`)];
    for (const v of bad) {
      assertError(await api(d.url, 'PATCH', p, { key: init.key, body: { allowed_ip_ranges: v } }), 400, 'InvalidParameter', 'allowed_ip_ranges', JSON.stringify(v).slice(0, 60));
    }
    const g = await api(d.url, 'GET', p, { key: init.key });
    assert.deepEqual(g.json.allowed_ip_ranges, []);
    assert.equal((await me(admin)).status, 200);
  });
});
