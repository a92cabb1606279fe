// No escalation (C3): nobody creates, edits or assigns a profile holding a
// permission they lack, nor edits, resets or disables a user whose
// permissions are not a subset of their own; and a change to a profile or an
// assignment applies to live sessions at their next request.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show } from './lib/daemon.mjs';
import {
  PASSWORD, PASSWORD2, ALL_PERMISSIONS, DEFAULT_PROFILES, assertError, unique,
  createInstance, login, loginToken, profilesByName, createProfile, createUser, userWithToken,
} from './lib/identity.mjs';

// A CallCenterManager-like custom profile that may manage users and profiles
// but does not hold Audit.View (nor most of the catalog).
const MANAGER = ['Users.View', 'Users.Edit', 'Users.EditPermission', 'SecurityProfiles.View', 'SecurityProfiles.Edit'];

let init;
let d;
let I;
let admin; // token of the instance's first admin
let profiles; // default profiles by name
let managerProfile;
let mgr; // {user, token}
let adminUserId;

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  I = await createInstance(d, init.key);
  adminUserId = I.adminUserId;
  admin = await loginToken(d, I.id, I.adminUsername);
  profiles = await profilesByName(d, admin, I.id);
  managerProfile = await createProfile(d, admin, I.id, 'user manager', MANAGER);
  mgr = await userWithToken(d, admin, I.id, [managerProfile.id]);
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

const P = (suffix = '') => `/v1/instances/${I.id}/security-profiles${suffix}`;
const U = (suffix = '') => `/v1/instances/${I.id}/users${suffix}`;

async function getProfile(id) {
  const r = await api(d.url, 'GET', P(`/${id}`), { key: admin });
  assert.equal(r.status, 200, show(r));
  return r.json;
}

async function getUser(id) {
  const r = await api(d.url, 'GET', U(`/${id}`), { key: admin });
  assert.equal(r.status, 200, show(r));
  return r.json;
}

describe('refused: each rule, tried by a user manager without Audit.View', () => {
  test('the manager holds exactly its profile\'s permissions', async () => {
    const me = await api(d.url, 'GET', '/v1/me', { key: mgr.token });
    assert.equal(me.status, 200, show(me));
    assert.deepEqual([...me.json.permissions].sort(), [...MANAGER].sort());
  });

  test('create a profile holding Audit.View → 403, and nothing is created', async () => {
    const name = unique('with-audit');
    const r = await api(d.url, 'POST', P(), { key: mgr.token, body: { name, permissions: ['Users.View', 'Audit.View'] } });
    assertError(r, 403, 'AccessDenied');
    const all = await profilesByName(d, admin, I.id);
    assert.ok(!(name in all), 'the refused profile exists');
  });

  test('create a profile holding every permission → 403', async () => {
    const r = await api(d.url, 'POST', P(), { key: mgr.token, body: { name: unique('all'), permissions: ALL_PERMISSIONS } });
    assertError(r, 403, 'AccessDenied');
  });

  test('edit an existing profile (within the manager\'s rights) to add Audit.View → 403, unchanged', async () => {
    const p = await createProfile(d, admin, I.id, unique('small'), ['Users.View']);
    const r = await api(d.url, 'PATCH', P(`/${p.id}`), { key: mgr.token, body: { permissions: ['Users.View', 'Audit.View'] } });
    assertError(r, 403, 'AccessDenied');
    assert.deepEqual((await getProfile(p.id)).permissions, ['Users.View']);
  });

  test('edit the manager\'s own profile to add Audit.View → 403, and the session still lacks it', async () => {
    const r = await api(d.url, 'PATCH', P(`/${managerProfile.id}`), { key: mgr.token, body: { permissions: [...MANAGER, 'Audit.View'] } });
    assertError(r, 403, 'AccessDenied');
    assert.deepEqual([...(await getProfile(managerProfile.id)).permissions].sort(), [...MANAGER].sort());
    const a = await api(d.url, 'GET', `/v1/instances/${I.id}/audit-events`, { key: mgr.token });
    assertError(a, 403, 'AccessDenied');
  });

  test('edit the Admin profile, even only to remove a permission or rename it → 403, unchanged', async () => {
    const id = profiles.Admin.id;
    const attempts = [
      { permissions: ALL_PERMISSIONS.filter((p) => p !== 'Audit.View') },
      { permissions: [] },
      { description: 'mine now' },
      { name: 'Admin2' },
    ];
    for (const body of attempts) {
      const r = await api(d.url, 'PATCH', P(`/${id}`), { key: mgr.token, body });
      assertError(r, 403, 'AccessDenied', undefined, JSON.stringify(body));
    }
    const now = await getProfile(id);
    assert.equal(now.name, 'Admin');
    assert.deepEqual([...now.permissions].sort(), [...ALL_PERMISSIONS].sort());
  });

  test('delete a profile holding a permission the manager lacks → 403', async () => {
    const p = await createProfile(d, admin, I.id, unique('audit-only'), ['Audit.View']);
    const r = await api(d.url, 'DELETE', P(`/${p.id}`), { key: mgr.token });
    assertError(r, 403, 'AccessDenied');
    await getProfile(p.id);
  });

  test('assign the Admin profile to a new user → 403, and no user is created', async () => {
    const username = unique('wannabe');
    const r = await api(d.url, 'POST', U(), { key: mgr.token, body: { username, password: PASSWORD, security_profile_ids: [profiles.Admin.id] } });
    assertError(r, 403, 'AccessDenied');
    const list = await api(d.url, 'GET', U('?limit=1000'), { key: admin });
    assert.ok(!list.json.items.some((u) => u.username === username), 'the refused user exists');
    const l = await login(d, I.id, username, PASSWORD);
    assertError(l, 401, 'Unauthenticated');
  });

  test('assign a union that exceeds the manager\'s rights (QualityAnalyst) → 403', async () => {
    const r = await api(d.url, 'POST', U(), { key: mgr.token, body: { username: unique('qa'), security_profile_ids: [managerProfile.id, profiles.QualityAnalyst.id] } });
    assertError(r, 403, 'AccessDenied');
  });

  test('assign the Admin profile to themself → 403, and the manager\'s profiles are unchanged', async () => {
    const r = await api(d.url, 'PATCH', U(`/${mgr.user.id}`), { key: mgr.token, body: { security_profile_ids: [managerProfile.id, profiles.Admin.id] } });
    assertError(r, 403, 'AccessDenied');
    assert.deepEqual((await getUser(mgr.user.id)).security_profile_ids, [managerProfile.id]);
    const a = await api(d.url, 'GET', `/v1/instances/${I.id}/audit-events`, { key: mgr.token });
    assertError(a, 403, 'AccessDenied');
  });

  test('give an existing subordinate the Admin profile → 403', async () => {
    const sub = await createUser(d, admin, I.id, { profiles: [] });
    const r = await api(d.url, 'PATCH', U(`/${sub.id}`), { key: mgr.token, body: { security_profile_ids: [profiles.Admin.id] } });
    assertError(r, 403, 'AccessDenied');
    assert.deepEqual((await getUser(sub.id)).security_profile_ids, []);
  });

  test('reset the password of an Admin user → 403, and the old password still works', async () => {
    const r = await api(d.url, 'PATCH', U(`/${adminUserId}`), { key: mgr.token, body: { password: PASSWORD2 } });
    assertError(r, 403, 'AccessDenied');
    const old = await login(d, I.id, I.adminUsername, PASSWORD);
    assert.equal(old.status, 200, show(old));
    const neu = await login(d, I.id, I.adminUsername, PASSWORD2);
    assertError(neu, 401, 'Unauthenticated');
    // The admin's session lives on.
    const me = await api(d.url, 'GET', '/v1/me', { key: admin });
    assert.equal(me.status, 200, show(me));
  });

  test('reset the MFA of an Admin user → 403', async () => {
    const r = await api(d.url, 'DELETE', U(`/${adminUserId}/mfa`), { key: mgr.token });
    assertError(r, 403, 'AccessDenied');
    const me = await api(d.url, 'GET', '/v1/me', { key: admin });
    assert.equal(me.status, 200, `an MFA reset ends sessions; the refused one must not: ${show(me)}`);
  });

  test('disable an Admin user → 403, still enabled', async () => {
    const r = await api(d.url, 'PATCH', U(`/${adminUserId}`), { key: mgr.token, body: { disabled: true } });
    assertError(r, 403, 'AccessDenied');
    assert.equal((await getUser(adminUserId)).disabled, false);
    const me = await api(d.url, 'GET', '/v1/me', { key: admin });
    assert.equal(me.status, 200, show(me));
  });

  test('edit an Admin user\'s name, strip their profiles, or delete them → 403', async () => {
    for (const [method, body] of [['PATCH', { first_name: 'Pwned' }], ['PATCH', { security_profile_ids: [] }], ['DELETE', undefined]]) {
      const r = await api(d.url, method, U(`/${adminUserId}`), { key: mgr.token, body });
      assertError(r, 403, 'AccessDenied', undefined, `${method} ${JSON.stringify(body)}`);
    }
    const u = await getUser(adminUserId);
    assert.notEqual(u.first_name, 'Pwned');
    assert.deepEqual(u.security_profile_ids, [profiles.Admin.id]);
  });

  test('a user holding only Contacts.Handle beyond the manager (an Agent) is out of reach too', async () => {
    const agent = await createUser(d, admin, I.id, { password: PASSWORD, profiles: [profiles.Agent.id] });
    for (const [method, suffix, body] of [
      ['PATCH', '', { password: PASSWORD2 }], ['PATCH', '', { disabled: true }], ['DELETE', '/mfa', undefined], ['DELETE', '', undefined],
    ]) {
      const r = await api(d.url, method, U(`/${agent.id}${suffix}`), { key: mgr.token, body });
      assertError(r, 403, 'AccessDenied', undefined, `${method} ${suffix} ${JSON.stringify(body)}`);
    }
  });

  test('Users.Edit without Users.EditPermission cannot assign any profile, not even an empty one', async () => {
    const editOnly = await createProfile(d, admin, I.id, unique('edit-only'), ['Users.View', 'Users.Edit']);
    const empty = await createProfile(d, admin, I.id, unique('empty'), []);
    const e = await userWithToken(d, admin, I.id, [editOnly.id]);
    const r = await api(d.url, 'POST', U(), { key: e.token, body: { username: unique('x'), security_profile_ids: [empty.id] } });
    assertError(r, 403, 'AccessDenied', 'security_profile_ids');
    const sub = await createUser(d, admin, I.id, {});
    const p = await api(d.url, 'PATCH', U(`/${sub.id}`), { key: e.token, body: { security_profile_ids: [empty.id] } });
    assertError(p, 403, 'AccessDenied', 'security_profile_ids');
    // Without profiles it may create and edit users.
    const ok = await api(d.url, 'POST', U(), { key: e.token, body: { username: unique('plain') } });
    assert.equal(ok.status, 201, show(ok));
  });
});

describe('permitted: the same actions within the manager\'s rights succeed', () => {
  let small;
  test('create a profile within their permissions → 201', async () => {
    const r = await api(d.url, 'POST', P(), { key: mgr.token, body: { name: unique('helpdesk'), permissions: ['Users.View'] } });
    assert.equal(r.status, 201, show(r));
    assert.deepEqual(r.json.permissions, ['Users.View']);
    small = r.json;
  });

  test('edit it to add a permission they hold → 200', async () => {
    const r = await api(d.url, 'PATCH', P(`/${small.id}`), { key: mgr.token, body: { permissions: ['Users.View', 'SecurityProfiles.View'], description: 'help desk' } });
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(r.json.permissions, ['Users.View', 'SecurityProfiles.View']);
    assert.equal(r.json.description, 'help desk');
  });

  let sub;
  test('assign it to a new user, and to an existing one → 201, 200', async () => {
    const c = await api(d.url, 'POST', U(), { key: mgr.token, body: { username: unique('sub'), password: PASSWORD, security_profile_ids: [small.id] } });
    assert.equal(c.status, 201, show(c));
    assert.deepEqual(c.json.security_profile_ids, [small.id]);
    sub = c.json;
    const other = await createUser(d, admin, I.id, {});
    const p = await api(d.url, 'PATCH', U(`/${other.id}`), { key: mgr.token, body: { security_profile_ids: [small.id, managerProfile.id] } });
    assert.equal(p.status, 200, show(p));
    assert.deepEqual([...p.json.security_profile_ids].sort(), [small.id, managerProfile.id].sort());
  });

  test('reset the password of a subordinate → 200; their sessions end; the new password works', async () => {
    const t = await loginToken(d, I.id, sub.username);
    const r = await api(d.url, 'PATCH', U(`/${sub.id}`), { key: mgr.token, body: { password: PASSWORD2 } });
    assert.equal(r.status, 200, show(r));
    assertError(await api(d.url, 'GET', '/v1/me', { key: t }), 401, 'Unauthenticated');
    await loginToken(d, I.id, sub.username, PASSWORD2);
  });

  test('reset a subordinate\'s MFA → 204', async () => {
    const r = await api(d.url, 'DELETE', U(`/${sub.id}/mfa`), { key: mgr.token });
    assert.equal(r.status, 204, show(r));
  });

  test('disable a subordinate → 200 and they can no longer log in; enable again → they can', async () => {
    const r = await api(d.url, 'PATCH', U(`/${sub.id}`), { key: mgr.token, body: { disabled: true } });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.disabled, true);
    assertError(await login(d, I.id, sub.username, PASSWORD2), 401, 'Unauthenticated');
    const e = await api(d.url, 'PATCH', U(`/${sub.id}`), { key: mgr.token, body: { disabled: false } });
    assert.equal(e.status, 200, show(e));
    await loginToken(d, I.id, sub.username, PASSWORD2);
  });

  test('the manager may edit themself (a subset of their own rights)', async () => {
    const r = await api(d.url, 'PATCH', U(`/${mgr.user.id}`), { key: mgr.token, body: { first_name: 'Manny' } });
    assert.equal(r.status, 200, show(r));
  });

  test('an Admin may do what the manager may not: create a profile with Audit.View', async () => {
    const r = await api(d.url, 'POST', P(), { key: admin, body: { name: unique('auditors'), permissions: ['Audit.View'] } });
    assert.equal(r.status, 201, show(r));
  });

  test('delete the profile they made, once unassigned → 204 (assigned → 409)', async () => {
    const p = await createProfile(d, admin, I.id, unique('temp'), ['Users.View']);
    const u = await createUser(d, admin, I.id, { profiles: [p.id] });
    assertError(await api(d.url, 'DELETE', P(`/${p.id}`), { key: mgr.token }), 409, 'Conflict');
    const un = await api(d.url, 'PATCH', U(`/${u.id}`), { key: mgr.token, body: { security_profile_ids: [] } });
    assert.equal(un.status, 200, show(un));
    const r = await api(d.url, 'DELETE', P(`/${p.id}`), { key: mgr.token });
    assert.equal(r.status, 204, show(r));
  });
});

describe('changes apply to live sessions at their next request', () => {
  test('removing a permission from a user\'s profile: the same token now gets 403; adding it back: 200', async () => {
    const p = await createProfile(d, admin, I.id, unique('viewer'), ['Users.View']);
    const v = await userWithToken(d, admin, I.id, [p.id]);
    const list = () => api(d.url, 'GET', U(), { key: v.token });
    assert.equal((await list()).status, 200);
    const cut = await api(d.url, 'PATCH', P(`/${p.id}`), { key: admin, body: { permissions: [] } });
    assert.equal(cut.status, 200, show(cut));
    assertError(await list(), 403, 'AccessDenied');
    const me = await api(d.url, 'GET', '/v1/me', { key: v.token });
    assert.deepEqual(me.json.permissions, []);
    const back = await api(d.url, 'PATCH', P(`/${p.id}`), { key: admin, body: { permissions: ['Users.Edit'] } });
    assert.equal(back.status, 200, show(back));
    assert.equal((await list()).status, 200, 'Users.Edit implies Users.View');
  });

  test('removing an assignment: the same token now gets 403; assigning a profile grants at once', async () => {
    const v = await userWithToken(d, admin, I.id, [profiles.QualityAnalyst.id]);
    const settings = () => api(d.url, 'GET', `/v1/instances/${I.id}/security-settings`, { key: v.token });
    assertError(await settings(), 403, 'AccessDenied');
    const grant = await api(d.url, 'PATCH', U(`/${v.user.id}`), { key: admin, body: { security_profile_ids: [profiles.Admin.id] } });
    assert.equal(grant.status, 200, show(grant));
    assert.equal((await settings()).status, 200);
    const revoke = await api(d.url, 'PATCH', U(`/${v.user.id}`), { key: admin, body: { security_profile_ids: [] } });
    assert.equal(revoke.status, 200, show(revoke));
    assertError(await settings(), 403, 'AccessDenied');
    const me = await api(d.url, 'GET', '/v1/me', { key: v.token });
    assert.equal(me.status, 200, 'a user without profiles can still log in and read /v1/me');
    assert.deepEqual(me.json.permissions, []);
  });

  test('a profile change also narrows what a live manager may grant', async () => {
    const p = await createProfile(d, admin, I.id, unique('mgr2'), MANAGER);
    const m2 = await userWithToken(d, admin, I.id, [p.id]);
    const grantable = await createProfile(d, admin, I.id, unique('grantable'), ['Users.View']);
    const sub = await createUser(d, admin, I.id, {});
    const ok = await api(d.url, 'PATCH', U(`/${sub.id}`), { key: m2.token, body: { security_profile_ids: [grantable.id] } });
    assert.equal(ok.status, 200, show(ok));
    const narrowed = await api(d.url, 'PATCH', P(`/${p.id}`), { key: admin, body: { permissions: MANAGER.filter((x) => x !== 'Users.View') } });
    assert.equal(narrowed.status, 200, show(narrowed));
    const sub2 = await createUser(d, admin, I.id, {});
    const r = await api(d.url, 'PATCH', U(`/${sub2.id}`), { key: m2.token, body: { security_profile_ids: [grantable.id] } });
    assertError(r, 403, 'AccessDenied');
  });
});

describe('default profiles', () => {
  test('hold exactly the permissions of the contract', async () => {
    for (const [name, perms] of Object.entries(DEFAULT_PROFILES)) {
      assert.ok(profiles[name], `no default profile ${name}`);
      assert.deepEqual([...profiles[name].permissions].sort(), [...perms].sort(), `profile ${name}`);
    }
  });

  test('a default CallCenterManager cannot grant Admin, nor reach an Admin', async () => {
    const ccm = await userWithToken(d, admin, I.id, [profiles.CallCenterManager.id]);
    assertError(await api(d.url, 'POST', U(), { key: ccm.token, body: { username: unique('c'), security_profile_ids: [profiles.Admin.id] } }), 403, 'AccessDenied');
    assertError(await api(d.url, 'PATCH', U(`/${adminUserId}`), { key: ccm.token, body: { password: PASSWORD2 } }), 403, 'AccessDenied');
    // Agent holds Contacts.Outbound and Contacts.Transfer, which CallCenterManager lacks.
    assertError(await api(d.url, 'POST', U(), { key: ccm.token, body: { username: unique('c'), security_profile_ids: [profiles.Agent.id] } }), 403, 'AccessDenied');
    // QualityAnalyst holds Recordings.Listen, which CallCenterManager lacks.
    assertError(await api(d.url, 'POST', U(), { key: ccm.token, body: { username: unique('c'), security_profile_ids: [profiles.QualityAnalyst.id] } }), 403, 'AccessDenied');
    const own = await api(d.url, 'POST', U(), { key: ccm.token, body: { username: unique('c'), security_profile_ids: [profiles.CallCenterManager.id] } });
    assert.equal(own.status, 201, show(own));
  });
});
