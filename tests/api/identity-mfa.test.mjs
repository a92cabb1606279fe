// TOTP MFA (C4): enrollment by the user, codes from the real oathtool, one
// use per code, one 30 s step of skew, recovery codes, reset by an admin, and
// an instance that requires MFA (the enrollment-only session).
//
// Codes are computed for an explicit step (`oathtool --now @<mid-step>`), and
// every check that depends on the daemon's current step first waits until
// enough of the step remains, so a step boundary cannot make a test flake.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show, waitFor } from './lib/daemon.mjs';
import {
  PASSWORD, assertError, createInstance, createUser, login, loginToken, patchSettings, profilesByName,
  createProfile, totpSecret, totpAt, totpNow, currentStep, stepWithMargin,
} from './lib/identity.mjs';

const RECOVERY_RE = /^[a-z2-9]{5}-[a-z2-9]{5}$/;

let init;
let d;
let I;
let admin;
let profiles;
let viewer; // a profile with Users.View

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  I = await createInstance(d, init.key);
  // MFA failures count as login failures: keep them from locking the test users out.
  await patchSettings(d, init.key, I.id, { lockout: { max_failures: 100, address_max_failures: 100000 } });
  admin = await loginToken(d, I.id, I.adminUsername);
  profiles = await profilesByName(d, admin, I.id);
  viewer = await createProfile(d, admin, I.id, 'viewer', ['Users.View']);
  await startLaggingCheck();
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

const mfaPath = (uid, s = '') => `/v1/instances/${I.id}/users/${uid}/mfa${s}`;

async function enroll(token, uid) {
  const r = await api(d.url, 'POST', mfaPath(uid, '/totp'), { key: token });
  assert.equal(r.status, 200, `enroll: ${show(r)}`);
  return totpSecret(r.json.otpauth_uri);
}

/** Codes valid at `step` (window ±1): a code under test must not be one of them by chance. */
function validAround(secret, step) {
  return new Set([step - 1, step, step + 1].map((s) => totpAt(secret, s)));
}

describe('enrollment and login with TOTP', () => {
  let alice;
  let aliceToken;
  let secret;
  let recovery;

  before(async () => {
    alice = await createUser(d, admin, I.id, { username: 'alice', password: PASSWORD, profiles: [profiles.Agent.id] });
    aliceToken = await loginToken(d, I.id, 'alice');
  });

  test('enroll → otpauth URI (SHA1, 6 digits, 30 s) and a QR code SVG; MFA is not on until verified', async () => {
    const r = await api(d.url, 'POST', mfaPath(alice.id, '/totp'), { key: aliceToken });
    assert.equal(r.status, 200, show(r));
    const u = new URL(r.json.otpauth_uri);
    assert.equal(u.protocol, 'otpauth:');
    assert.equal(u.host, 'totp');
    assert.match(decodeURIComponent(u.pathname), /alice/);
    assert.equal(u.searchParams.get('algorithm') ?? 'SHA1', 'SHA1');
    assert.equal(u.searchParams.get('digits') ?? '6', '6');
    assert.equal(u.searchParams.get('period') ?? '30', '30');
    secret = totpSecret(r.json.otpauth_uri);
    assert.ok(secret.replace(/=+$/, '').length >= 26, `secret of ${secret.length} base32 characters is under 128 bits`);
    assert.match(r.json.qr_svg, /^<svg[\s>]/);
    assert.match(r.json.qr_svg, /<\/svg>\s*$/);
    const g = await api(d.url, 'GET', `/v1/instances/${I.id}/users/${alice.id}`, { key: admin });
    assert.equal(g.json.mfa_enabled, false);
    assert.ok(!/secret|otpauth/i.test(g.text), `the user object leaks the seed: ${g.text}`);
    assert.equal((await login(d, I.id, 'alice', PASSWORD)).status, 200, 'an unverified enrollment must not require codes');
  });

  test('only the user themself may enroll or verify: an Admin gets 403', async () => {
    assertError(await api(d.url, 'POST', mfaPath(alice.id, '/totp'), { key: admin }), 403, 'AccessDenied');
    assertError(await api(d.url, 'POST', mfaPath(alice.id, '/totp/verify'), { key: admin, body: { code: '123456' } }), 403, 'AccessDenied');
  });

  test('verify refuses codes two steps away and malformed codes (400, field code)', async () => {
    const n = await stepWithMargin(5);
    const valid = validAround(secret, n);
    for (const [label, code] of [['two behind', totpAt(secret, n - 2)], ['two ahead', totpAt(secret, n + 2)], ['letters', 'abcdef'], ['five digits', '12345'], ['seven digits', '1234567']]) {
      if (valid.has(code)) continue; // a chance collision with a valid code (p ≈ 3e-6)
      const r = await api(d.url, 'POST', mfaPath(alice.id, '/totp/verify'), { key: aliceToken, body: { code } });
      assertError(r, 400, 'InvalidParameter', 'code', label);
    }
  });

  test('verify with the current code (plain `oathtool --totp`) → MFA on, 10 recovery codes; then codes are single-use with one step of skew', async () => {
    const n = await stepWithMargin(12);
    const code = totpNow(secret);
    assert.equal(code, totpAt(secret, n));
    const v = await api(d.url, 'POST', mfaPath(alice.id, '/totp/verify'), { key: aliceToken, body: { code } });
    assert.equal(v.status, 200, show(v));
    assert.equal(v.json.mfa_enabled, true);
    recovery = v.json.recovery_codes;
    assert.equal(recovery.length, 10);
    for (const c of recovery) assert.match(c, RECOVERY_RE);
    assert.equal(new Set(recovery).size, 10, 'recovery codes repeat');

    assertError(await api(d.url, 'POST', mfaPath(alice.id, '/totp/verify'), { key: aliceToken, body: { code: totpAt(secret, n + 1) } }), 409, 'Conflict', undefined, 'verify again');
    assertError(await api(d.url, 'POST', mfaPath(alice.id, '/totp'), { key: aliceToken }), 409, 'Conflict', undefined, 'enroll again');

    assertError(await login(d, I.id, 'alice', PASSWORD), 401, 'MfaRequired', undefined, 'no code');
    // A wrong password with a good code is a plain password failure, and does not spend the code.
    assertError(await login(d, I.id, 'alice', 'Not-her-password-1', { totp: totpAt(secret, n + 1) }), 401, 'Unauthenticated', undefined, 'wrong password, good code');
    assertError(await login(d, I.id, 'alice', PASSWORD, { totp: code }), 401, 'MfaRequired', undefined, 'the code spent by verify (replay)');
    assertError(await login(d, I.id, 'alice', PASSWORD, { totp: totpAt(secret, n + 2) }), 401, 'MfaRequired', undefined, 'two steps ahead');
    const ok = await login(d, I.id, 'alice', PASSWORD, { totp: totpAt(secret, n + 1) });
    assert.equal(ok.status, 200, `one step ahead: ${show(ok)}`);
    assert.ok(!ok.json.mfa_enrollment_required);
    assert.equal(ok.json.user.mfa_enabled, true);
    assertError(await login(d, I.id, 'alice', PASSWORD, { totp: totpAt(secret, n + 1) }), 401, 'MfaRequired', undefined, 'replay of the accepted code');
    assertError(await login(d, I.id, 'alice', PASSWORD, { totp: code }), 401, 'MfaRequired', undefined, 'an older code after a newer one');
    assert.ok(currentStep() === n, 'the checks above ran within one step (timing assumption)');
    const g = await api(d.url, 'GET', `/v1/instances/${I.id}/users/${alice.id}`, { key: admin });
    assert.equal(g.json.mfa_enabled, true);
  });

  test('concurrent logins with the same fresh code: exactly one succeeds', async () => {
    const dave = await createUser(d, admin, I.id, { password: PASSWORD });
    const t = await loginToken(d, I.id, dave.username);
    const s = await enroll(t, dave.id);
    const n = await stepWithMargin(8);
    const v = await api(d.url, 'POST', mfaPath(dave.id, '/totp/verify'), { key: t, body: { code: totpAt(s, n) } });
    assert.equal(v.status, 200, show(v));
    const code = totpAt(s, n + 1);
    const rs = await Promise.all(Array.from({ length: 6 }, () => login(d, I.id, dave.username, PASSWORD, { totp: code })));
    const ok = rs.filter((r) => r.status === 200).length;
    const refused = rs.filter((r) => r.status === 401 && r.json?.error?.code === 'MfaRequired').length;
    assert.equal(ok + refused, rs.length, rs.map(show).join('\n'));
    assert.equal(ok, 1, `${ok} of 6 concurrent logins accepted one TOTP code`);
  });

  test('a recovery code works once as totp_code', async () => {
    const r1 = await login(d, I.id, 'alice', PASSWORD, { totp: recovery[0] });
    assert.equal(r1.status, 200, show(r1));
    assertError(await login(d, I.id, 'alice', PASSWORD, { totp: recovery[0] }), 401, 'MfaRequired', undefined, 'recovery code reused');
    const r2 = await login(d, I.id, 'alice', PASSWORD, { totp: recovery[1] });
    assert.equal(r2.status, 200, show(r2));
    const madeUp = recovery[0].split('').reverse().join('');
    if (!recovery.includes(madeUp)) assertError(await login(d, I.id, 'alice', PASSWORD, { totp: madeUp }), 401, 'MfaRequired', undefined, 'made-up recovery code');
    // A recovery code is not a password.
    assertError(await login(d, I.id, 'alice', recovery[2]), 401, 'Unauthenticated');
    // Used concurrently, a recovery code still works once.
    const rs = await Promise.all(Array.from({ length: 6 }, () => login(d, I.id, 'alice', PASSWORD, { totp: recovery[5] })));
    assert.equal(rs.filter((r) => r.status === 200).length, 1, rs.map(show).join('\n'));
    assert.ok(rs.every((r) => r.status === 200 || (r.status === 401 && r.json?.error?.code === 'MfaRequired')), rs.map(show).join('\n'));
  });

  test('reset: an Agent may not (403); an Admin may (204): sessions end, codes and seed are gone, login needs no code, re-enroll works', async () => {
    const agent = await createUser(d, admin, I.id, { password: PASSWORD, profiles: [profiles.Agent.id] });
    const agentToken = await loginToken(d, I.id, agent.username);
    assertError(await api(d.url, 'DELETE', mfaPath(alice.id), { key: agentToken }), 403, 'AccessDenied');
    assertError(await api(d.url, 'DELETE', mfaPath('us_doesnotexist'), { key: admin }), 404, 'NotFound');

    const live = await loginToken(d, I.id, 'alice', PASSWORD, { totp: recovery[3] });
    const r = await api(d.url, 'DELETE', mfaPath(alice.id), { key: admin });
    assert.equal(r.status, 204, show(r));
    assertError(await api(d.url, 'GET', '/v1/me', { key: live }), 401, 'Unauthenticated', undefined, 'a session from before the reset');
    const g = await api(d.url, 'GET', `/v1/instances/${I.id}/users/${alice.id}`, { key: admin });
    assert.equal(g.json.mfa_enabled, false);
    const plain = await login(d, I.id, 'alice', PASSWORD);
    assert.equal(plain.status, 200, show(plain));
    const newSecret = await enroll(plain.json.token, alice.id);
    assert.notEqual(newSecret, secret, 'the reset kept the old seed');
    // The old seed's codes do not verify the new enrollment.
    const n = await stepWithMargin(5);
    const old = totpAt(secret, n);
    if (!validAround(newSecret, n).has(old)) {
      assertError(await api(d.url, 'POST', mfaPath(alice.id, '/totp/verify'), { key: plain.json.token, body: { code: old } }), 400, 'InvalidParameter', 'code');
    }
    const v = await api(d.url, 'POST', mfaPath(alice.id, '/totp/verify'), { key: plain.json.token, body: { code: totpAt(newSecret, n) } });
    assert.equal(v.status, 200, show(v));
    assert.ok(!v.json.recovery_codes.some((c) => recovery.includes(c)), 'old recovery codes came back');
    // Old recovery codes are void.
    assertError(await login(d, I.id, 'alice', PASSWORD, { totp: recovery[4] }), 401, 'MfaRequired', undefined, 'old recovery code after reset');
  });

  test('after a reset, the new authenticator\'s current code verifies at once (the old seed\'s spent steps do not count)', async () => {
    const erin = await createUser(d, admin, I.id, { password: PASSWORD });
    const t1 = await loginToken(d, I.id, erin.username);
    const s1 = await enroll(t1, erin.id);
    const n = await stepWithMargin(8);
    const v1 = await api(d.url, 'POST', mfaPath(erin.id, '/totp/verify'), { key: t1, body: { code: totpAt(s1, n) } });
    assert.equal(v1.status, 200, show(v1));
    const r = await api(d.url, 'DELETE', mfaPath(erin.id), { key: admin });
    assert.equal(r.status, 204, show(r));
    const t2 = await loginToken(d, I.id, erin.username);
    const s2 = await enroll(t2, erin.id);
    assert.equal(currentStep(), n, 'timing assumption: still in the same step');
    const v2 = await api(d.url, 'POST', mfaPath(erin.id, '/totp/verify'), { key: t2, body: { code: totpAt(s2, n) } });
    assert.equal(v2.status, 200, `the user types the code their new authenticator shows now: ${show(v2)}`);
  });
});

describe('an instance that requires MFA', () => {
  let bob;
  let before1; // bob's session from before mfa_required
  let pending; // the enrollment-only session
  let secret;

  before(async () => {
    bob = await createUser(d, admin, I.id, { username: 'bob', password: PASSWORD, profiles: [viewer.id] });
    before1 = await loginToken(d, I.id, 'bob');
    await patchSettings(d, init.key, I.id, { mfa_required: true });
  });

  test('a live session from before runs on', async () => {
    const r = await api(d.url, 'GET', `/v1/instances/${I.id}/users`, { key: before1 });
    assert.equal(r.status, 200, show(r));
  });

  test('login of a user without MFA → 200 with mfa_enrollment_required', async () => {
    const r = await login(d, I.id, 'bob', PASSWORD);
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.mfa_enrollment_required, true);
    pending = r.json.token;
  });

  test('that session may only read /v1/me and enroll its own MFA: everything else → 403', async () => {
    const me = await api(d.url, 'GET', '/v1/me', { key: pending });
    assert.equal(me.status, 200, show(me));
    assert.equal(me.json.id, bob.id);
    const other = await createUser(d, admin, I.id, { password: PASSWORD });
    const refused = [
      ['GET', `/v1/instances/${I.id}/users`],
      ['GET', `/v1/instances/${I.id}/users/${bob.id}`],
      ['PUT', '/v1/me/status', { status: 'Available' }],
      ['GET', '/v1/me/sessions'],
      ['DELETE', '/v1/me/sessions/se_whatever'],
      ['GET', '/v1/permissions'],
      ['POST', mfaPath(other.id, '/totp')],
      ['POST', mfaPath(other.id, '/totp/verify'), { code: '123456' }],
      ['DELETE', mfaPath(bob.id)],
    ];
    for (const [method, path, body] of refused) {
      assertError(await api(d.url, method, path, { key: pending, body }), 403, 'AccessDenied', undefined, `${method} ${path}`);
    }
  });

  test('the session enrolls and verifies its own MFA; then login needs a code and gives a full session', async () => {
    secret = await enroll(pending, bob.id);
    const n = await stepWithMargin(10);
    const v = await api(d.url, 'POST', mfaPath(bob.id, '/totp/verify'), { key: pending, body: { code: totpAt(secret, n) } });
    assert.equal(v.status, 200, show(v));
    assert.equal(v.json.recovery_codes.length, 10);
    // The session that enrolled is a full session from now on.
    const after = await api(d.url, 'GET', '/v1/me/sessions', { key: pending });
    assert.equal(after.status, 200, show(after));
    assertError(await login(d, I.id, 'bob', PASSWORD), 401, 'MfaRequired');
    assertError(await login(d, I.id, 'bob', PASSWORD, { totp: 'abcdef' }), 401, 'MfaRequired');
    const full = await login(d, I.id, 'bob', PASSWORD, { totp: totpAt(secret, n + 1) });
    assert.equal(full.status, 200, show(full));
    assert.ok(!full.json.mfa_enrollment_required, 'a user with MFA gets a full session');
    const r = await api(d.url, 'GET', `/v1/instances/${I.id}/users`, { key: full.json.token });
    assert.equal(r.status, 200, show(r));
  });

  test('the enrollment session may log out', async () => {
    const r = await api(d.url, 'POST', `/v1/instances/${I.id}/auth/logout`, { key: pending });
    assert.equal(r.status, 204, show(r));
    assertError(await api(d.url, 'GET', '/v1/me', { key: pending }), 401, 'Unauthenticated');
  });

  test('turning mfa_required off: a user without MFA gets a full session again', async () => {
    await patchSettings(d, init.key, I.id, { mfa_required: false });
    const u = await createUser(d, admin, I.id, { password: PASSWORD, profiles: [viewer.id] });
    const r = await login(d, I.id, u.username, PASSWORD);
    assert.equal(r.status, 200, show(r));
    assert.ok(!r.json.mfa_enrollment_required);
    assert.equal((await api(d.url, 'GET', `/v1/instances/${I.id}/users`, { key: r.json.token })).status, 200);
  });
});

describe('bad input on the MFA and login routes', () => {
  let carol;
  let token;
  let B;
  let bToken;
  before(async () => {
    carol = await createUser(d, admin, I.id, { password: PASSWORD });
    token = await loginToken(d, I.id, carol.username);
    B = await createInstance(d, init.key);
    bToken = await loginToken(d, B.id, B.adminUsername);
  });

  test('verify: malformed JSON 400 InvalidJson, wrong Content-Type 415, wrong types and unknown fields 400 with field', async () => {
    const p = mfaPath(carol.id, '/totp/verify');
    assertError(await api(d.url, 'POST', p, { key: token, body: '{"code": "12' }), 400, 'InvalidJson');
    assertError(await api(d.url, 'POST', p, { key: token, body: 'code=123456', contentType: 'application/x-www-form-urlencoded' }), 415, 'UnsupportedMediaType');
    assertError(await api(d.url, 'POST', p, { key: token, body: { code: 123456 } }), 400, 'InvalidParameter', 'code');
    assertError(await api(d.url, 'POST', p, { key: token, body: {} }), 400, 'InvalidParameter', 'code');
    assertError(await api(d.url, 'POST', p, { key: token, body: { code: '123456', extra: 1 } }), 400, 'InvalidParameter', 'extra');
    assertError(await api(d.url, 'POST', p, { key: token, body: { code: '1'.repeat(10000) } }), 400, 'InvalidParameter', 'code');
    assertError(await api(d.url, 'POST', p, { key: token, body: { code: '123456' } }), 409, 'Conflict', undefined, 'verify before enroll');
  });

  test('no token → 401; another instance\'s user → 404; a platform key → 401', async () => {
    for (const s of ['/totp', '/totp/verify']) {
      const body = s.endsWith('verify') ? { code: '123456' } : undefined;
      assertError(await api(d.url, 'POST', mfaPath(carol.id, s), { body }), 401, 'Unauthenticated');
      assertError(await api(d.url, 'POST', mfaPath(carol.id, s), { key: bToken, body }), 404, 'NotFound');
      assertError(await api(d.url, 'POST', mfaPath(carol.id, s), { key: init.key, body }), 401, 'Unauthenticated');
    }
    assertError(await api(d.url, 'DELETE', mfaPath(carol.id), { key: bToken }), 404, 'NotFound');
    assertError(await api(d.url, 'DELETE', mfaPath(carol.id), { key: init.key }), 401, 'Unauthenticated');
  });

  test('login: wrong types, unknown fields and oversized strings → 400 with field; 415; unknown instance → 404', async () => {
    const p = `/v1/instances/${I.id}/auth/login`;
    const cases = [
      [{ password: PASSWORD }, 'username'],
      [{ username: carol.username }, 'password'],
      [{ username: 42, password: PASSWORD }, 'username'],
      [{ username: carol.username, password: ['x'] }, 'password'],
      [{ username: carol.username, password: PASSWORD, totp_code: 123456 }, 'totp_code'],
      [{ username: carol.username, password: PASSWORD, totp_code: '1'.repeat(33) }, 'totp_code'],
      [{ username: 'u'.repeat(129), password: PASSWORD }, 'username'],
      [{ username: carol.username, password: 'p'.repeat(1025) }, 'password'],
      [{ username: carol.username, password: PASSWORD, remember_me: true }, 'remember_me'],
    ];
    for (const [body, field] of cases) assertError(await api(d.url, 'POST', p, { body }), 400, 'InvalidParameter', field, JSON.stringify(body).slice(0, 80));
    assertError(await api(d.url, 'POST', p, { body: '{"username":' }), 400, 'InvalidJson');
    assertError(await api(d.url, 'POST', p, { body: '[]' }), 400, 'InvalidParameter');
    assertError(await api(d.url, 'POST', p, { body: JSON.stringify({ username: carol.username, password: PASSWORD }), contentType: 'text/plain' }), 415, 'UnsupportedMediaType');
    assertError(await api(d.url, 'POST', '/v1/instances/in_doesnotexist/auth/login', { body: { username: carol.username, password: PASSWORD } }), 404, 'NotFound');
    assertError(await api(d.url, 'POST', `/v1/instances/${B.id}/auth/login`, { body: { username: carol.username, password: PASSWORD } }), 401, 'Unauthenticated', undefined, 'a user of I at B');
    // Still able to log in after all that.
    assert.equal((await login(d, I.id, carol.username, PASSWORD)).status, 200);
  });
});

// A code from one step behind is accepted at login. The user enrolls at the
// start of the file with a code one step behind; the login check runs once
// the clock has entered a later step, concurrently with the other tests, and
// the last test of the file awaits it.
let laggingCheck;
async function startLaggingCheck() {
  const u = await createUser(d, admin, I.id, { username: 'lagging', password: PASSWORD, profiles: [profiles.Agent.id] });
  const t = await loginToken(d, I.id, 'lagging');
  const secret = await enroll(t, u.id);
  const n0 = await stepWithMargin(6);
  const twoBehind = totpAt(secret, n0 - 2);
  if (!validAround(secret, n0).has(twoBehind)) {
    assertError(await api(d.url, 'POST', mfaPath(u.id, '/totp/verify'), { key: t, body: { code: twoBehind } }), 400, 'InvalidParameter', 'code', 'verify two steps behind');
  }
  const v = await api(d.url, 'POST', mfaPath(u.id, '/totp/verify'), { key: t, body: { code: totpAt(secret, n0 - 1) } });
  assert.equal(v.status, 200, `verify with a code one step behind: ${show(v)}`);
  laggingCheck = (async () => {
    let step;
    await waitFor(() => {
      const now = Date.now() / 1000;
      step = Math.floor(now / 30);
      return step >= n0 + 1 && 30 - (now % 30) >= 6;
    }, { timeoutMs: 40000, intervalMs: 200, what: 'a later TOTP step' });
    return login(d, I.id, 'lagging', PASSWORD, { totp: totpAt(secret, step - 1) });
  })();
  laggingCheck.catch(() => {}); // awaited by the last test
}

describe('skew behind', () => {
  test('login with the code of the previous step → 200', async () => {
    const r = await laggingCheck;
    assert.equal(r.status, 200, show(r));
  });
});
