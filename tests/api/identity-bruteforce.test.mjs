// Lockout and backoff (C4): per username (whether or not it exists) and per
// address. A locked login answers 429 Throttled with Retry-After, even with
// the right password; once the lockout has passed, the right password works.
// Waits are polls with a deadline; lockouts are set to 1–2 s for the test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, show, waitFor } from './lib/daemon.mjs';
import {
  PASSWORD, assertError, createInstance, createUser, login, loginToken, patchSettings, earlyInSecond, mapLimit, unique,
} from './lib/identity.mjs';

const WRONG = 'Wrong-password-guess-0';
const ATTEMPTS = 1000;
const CONCURRENCY = 8;

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

function retryAfter(res) {
  const v = res.headers.get('retry-after');
  assert.match(v || '', /^\d+$/, `429 without a numeric Retry-After: ${show(res)} (Retry-After ${v})`);
  return Number(v);
}

function assertThrottled(res, maxS, context = '') {
  assertError(res, 429, 'Throttled', undefined, context);
  const s = retryAfter(res);
  assert.ok(s >= 1 && s <= maxS, `${context}: Retry-After ${s} not in 1..${maxS}`);
  return s;
}

/** Poll the right password until the lockout has passed; the answer must then be 200. */
async function loginAfterLockout(iid, username, password, timeoutMs = 15000) {
  let last;
  await waitFor(async () => {
    last = await login(d, iid, username, password);
    if (last.status === 429) { retryAfter(last); return false; }
    return true;
  }, { timeoutMs, intervalMs: 100, what: `the lockout of ${username} to pass` });
  assert.equal(last.status, 200, `after the lockout the right password gets ${show(last)}`);
  return last;
}

/**
 * Lock durations are whole seconds: a 1 s lock set during second T ends when
 * T+1 begins. Run `setup` (which must make fresh state), then start
 * `critical` early in a second; when it fails but did not end within that
 * same second, the machine was too slow to conclude anything: try again
 * (3 times at most). Within one second the daemon saw one second for all
 * its requests, and a lock must hold throughout.
 */
async function withinOneSecond(setup, critical) {
  let last;
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await setup(attempt);
    await earlyInSecond(250);
    const t0 = Date.now();
    try {
      await critical(state);
      return;
    } catch (e) {
      last = e;
      if (Math.floor(t0 / 1000) === Math.floor(Date.now() / 1000)) throw e; // timing was fine: a real failure
    }
  }
  throw last;
}

describe('per-username lockout: max_failures 5, base 1 s, max 2 s', () => {
  let I;
  let user;
  const stats = { 401: 0, 429: 0, other: [], elapsedMs: 0 };

  before(async () => {
    I = await createInstance(d, init.key);
    await patchSettings(d, init.key, I.id, { lockout: { max_failures: 5, base_lockout_s: 1, max_lockout_s: 2, address_max_failures: 100000 } });
    user = await createUser(d, (await loginToken(d, I.id, I.adminUsername)), I.id, { username: 'target', password: PASSWORD });
  });

  test('five failures answer 401; the next attempt, right password included, answers 429 with Retry-After', async () => {
    const admin = await loginToken(d, I.id, I.adminUsername);
    await withinOneSecond(async (attempt) => {
      const name = attempt === 0 ? 'target' : `target-${attempt}`; // again with a fresh user if too slow
      if (attempt > 0) await createUser(d, admin, I.id, { username: name, password: PASSWORD });
      for (let i = 0; i < 4; i++) assertError(await login(d, I.id, name, WRONG), 401, 'Unauthenticated', undefined, `failure ${i + 1}`);
      return name;
    }, async (name) => {
      assertError(await login(d, I.id, name, WRONG), 401, 'Unauthenticated', undefined, 'failure 5');
      assertThrottled(await login(d, I.id, name, WRONG), 1, 'attempt 6 (wrong password)');
      assertThrottled(await login(d, I.id, name, PASSWORD), 1, 'attempt 7 (right password)');
    });
  });

  test(`${ATTEMPTS} wrong passwords (concurrency ${CONCURRENCY}): never 200, only 401 or 429; the right password in a lockout gets 429`, async (t) => {
    const t0 = Date.now();
    const deadline = t0 + 30000;
    const probes = [];
    let sent = 0;
    // At least ATTEMPTS attempts, and on until the lock has ended and come
    // back at least twice (a fast machine may send 1,000 within one lock).
    const more = () => Date.now() < deadline && (sent < ATTEMPTS || stats[401] < 2 || probes.length === 0);
    await mapLimit(Array.from({ length: CONCURRENCY }, (_, i) => i), CONCURRENCY, async () => {
      while (more()) {
        const i = sent++;
        await attempt(i);
      }
    });
    async function attempt(i) {
      const r = await login(d, I.id, 'target', `${WRONG}-${i}`);
      if (r.status === 401 && r.json?.error?.code === 'Unauthenticated') stats[401]++;
      else if (r.status === 429 && r.json?.error?.code === 'Throttled') {
        stats[429]++;
        const s = retryAfter(r);
        assert.ok(s >= 1 && s <= 2, `Retry-After ${s} beyond max_lockout_s 2`);
        // Retry-After 2 means at least one more second of lock: the right
        // password sent now must be refused as well.
        if (s === 2 && probes.length < 3) {
          const k = probes.push(null) - 1;
          probes[k] = await login(d, I.id, 'target', PASSWORD);
        }
      } else stats.other.push(show(r));
    }
    stats.elapsedMs = Date.now() - t0;
    t.diagnostic(`${sent} attempts in ${stats.elapsedMs} ms: ${stats[401]} × 401, ${stats[429]} × 429, ${stats.other.length} other; ${probes.length} right-password probes in lockout`);
    assert.deepEqual(stats.other, [], 'answers other than 401 Unauthenticated / 429 Throttled');
    assert.ok(sent >= ATTEMPTS);
    assert.equal(stats[401] + stats[429], sent);
    assert.ok(stats[429] > sent / 2, `only ${stats[429]} of ${sent} attempts were throttled`);
    assert.ok(stats[401] >= 2, 'the lock never ended during the run (see the deadline)');
    // Password checks happen only between lock windows (≤ 2 s each): a few
    // per window, bounded by the requests in flight when a lock ends.
    const windows = Math.ceil(stats.elapsedMs / 1000) + 1;
    assert.ok(stats[401] <= windows * CONCURRENCY, `${stats[401]} password checks in ${stats.elapsedMs} ms: the lockout does not hold`);
    assert.ok(probes.length > 0, 'no lock window with Retry-After 2 was seen to probe the right password');
    for (const p of probes) assertThrottled(p, 2, 'the right password during a lockout');
  });

  test('after the lockout expires the right password works, and the count starts again', async () => {
    await loginAfterLockout(I.id, 'target', PASSWORD);
    // The success cleared the username's failures: one more failure is a 401, not a 429.
    assertError(await login(d, I.id, 'target', WRONG), 401, 'Unauthenticated');
    assert.equal((await login(d, I.id, 'target', PASSWORD)).status, 200);
    assert.ok(user.id);
  });

  test('an unknown username is locked out the same way (no user enumeration)', async () => {
    await withinOneSecond(async () => {
      const ghost = unique('ghost');
      for (let i = 0; i < 4; i++) assertError(await login(d, I.id, ghost, WRONG), 401, 'Unauthenticated');
      return ghost;
    }, async (ghost) => {
      assertError(await login(d, I.id, ghost, WRONG), 401, 'Unauthenticated', undefined, 'unknown user, failure 5');
      assertThrottled(await login(d, I.id, ghost, WRONG), 1, 'unknown user, attempt 6');
    });
    // The lock of one username does not touch another.
    assert.equal((await login(d, I.id, 'target', PASSWORD)).status, 200);
  });

  test('the username lock ignores case', async () => {
    const admin = await loginToken(d, I.id, I.adminUsername);
    await withinOneSecond(async () => {
      const name = unique('casey');
      await createUser(d, admin, I.id, { username: name, password: PASSWORD });
      for (let i = 0; i < 4; i++) assertError(await login(d, I.id, i % 2 ? name.toUpperCase() : name, WRONG), 401, 'Unauthenticated');
      return name;
    }, async (name) => {
      assertError(await login(d, I.id, name[0].toUpperCase() + name.slice(1), WRONG), 401, 'Unauthenticated');
      assertThrottled(await login(d, I.id, name, PASSWORD), 1, 'after failures spread over spellings');
    });
  });
});

describe('a concurrent burst', () => {
  test('32 wrong passwords at once check at most max_failures (5) passwords before the lock', async (t) => {
    const I = await createInstance(d, init.key);
    await patchSettings(d, init.key, I.id, { lockout: { max_failures: 5, base_lockout_s: 60, max_lockout_s: 60, address_max_failures: 100000 } });
    const admin = await loginToken(d, I.id, I.adminUsername);
    await createUser(d, admin, I.id, { username: 'burst', password: PASSWORD });
    const rs = await Promise.all(Array.from({ length: 32 }, (_, i) => login(d, I.id, 'burst', `${WRONG}-${i}`)));
    const by = {};
    for (const r of rs) by[r.status] = (by[r.status] || 0) + 1;
    t.diagnostic(`statuses: ${JSON.stringify(by)}`);
    assert.deepEqual(Object.keys(by).filter((s) => s !== '401' && s !== '429'), []);
    assert.ok((by[401] || 0) <= 5, `${by[401]} passwords were checked with max_failures 5: the lock is checked before and counted after the slow hash, so concurrent guesses slip through`);
    assertThrottled(await login(d, I.id, 'burst', PASSWORD), 60, 'the right password after the burst');
  });
});

describe('per-address throttle: address_max_failures 5', () => {
  let I;
  let other;
  before(async () => {
    I = await createInstance(d, init.key);
    other = await createInstance(d, init.key);
    await patchSettings(d, init.key, I.id, { lockout: { max_failures: 100, base_lockout_s: 2, max_lockout_s: 2, address_max_failures: 5 } });
    const admin = await loginToken(d, I.id, I.adminUsername);
    await createUser(d, admin, I.id, { username: 'real', password: PASSWORD });
  });

  test('failures over many usernames from one address lock the address: 429, even for a real user with the right password', async () => {
    for (let i = 0; i < 4; i++) assertError(await login(d, I.id, unique('spray'), WRONG), 401, 'Unauthenticated', undefined, `spray ${i + 1}`);
    await earlyInSecond(250);
    assertError(await login(d, I.id, unique('spray'), WRONG), 401, 'Unauthenticated', undefined, 'spray 5');
    assertThrottled(await login(d, I.id, unique('spray'), WRONG), 2, 'a sixth username');
    assertThrottled(await login(d, I.id, 'real', PASSWORD), 2, 'a real user with the right password from the locked address');
  });

  test('a spray of 200 usernames (concurrency 8) is throttled', async (t) => {
    const res = await mapLimit(Array.from({ length: 200 }, () => unique('spray')), CONCURRENCY, (u) => login(d, I.id, u, WRONG));
    const by = {};
    for (const r of res) by[r.status] = (by[r.status] || 0) + 1;
    t.diagnostic(`statuses: ${JSON.stringify(by)}`);
    assert.deepEqual(Object.keys(by).filter((s) => s !== '401' && s !== '429'), []);
    assert.ok((by[429] || 0) >= 150, `only ${by[429] || 0} of 200 were throttled`);
  });

  test('the address lock is per instance: the same address logs in to another instance', async () => {
    assert.equal((await login(d, other.id, other.adminUsername, PASSWORD)).status, 200);
  });

  test('after the lock passes, the real user logs in', async () => {
    await loginAfterLockout(I.id, 'real', PASSWORD);
  });
});
