// The audit trail (C8): every mutating call, every refusal (401/403) and
// every audit read is recorded with who, what, which resource, address and
// result; filters and paging; verification through the API; nothing lost on
// kill -9 for a call that was answered; and `bulwark audit verify` names the
// first bad record when the database is tampered with.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { initData, startDaemon, removeTempDir, makeTempDir, runBulwark, api, show } from './lib/daemon.mjs';
import {
  PASSWORD, assertError, createInstance, createUser, loginToken, profilesByName, mapLimit, sqlite,
} from './lib/identity.mjs';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UA = 'identity-audit-test/1.0';

/** Every event of a trail (paging through next_token). */
async function allEvents(d, key, base, query = '') {
  const out = [];
  let token = null;
  for (let i = 0; i < 1000; i++) {
    const q = `?limit=1000${query ? `&${query}` : ''}${token ? `&next_token=${encodeURIComponent(token)}` : ''}`;
    const r = await api(d.url, 'GET', `${base}${q}`, { key });
    assert.equal(r.status, 200, show(r));
    out.push(...r.json.items);
    token = r.json.next_token;
    if (token === null) break;
  }
  return out;
}

describe('what is recorded', () => {
  let init;
  let d;
  let I;
  let adminToken;
  let agent;
  let agentToken;
  const rid = (name) => `aud-${name}-${process.pid}`;
  const H = (name) => ({ 'x-request-id': rid(name), 'user-agent': UA });
  const calls = {};
  const trail = () => `/v1/instances/${I.id}/audit-events`;

  before(async () => {
    init = await initData();
    d = await startDaemon({ data: init.data });
    I = await createInstance(d, init.key);
    adminToken = await loginToken(d, I.id, I.adminUsername);
    const profiles = await profilesByName(d, adminToken, I.id);
    agent = await createUser(d, adminToken, I.id, { username: 'agent-smith', password: PASSWORD, profiles: [profiles.Agent.id] });
    agentToken = await loginToken(d, I.id, 'agent-smith');

    const call = async (name, method, p, opts = {}) => {
      const r = await api(d.url, method, p, { ...opts, headers: { ...H(name), ...(opts.headers || {}) } });
      assert.equal(r.headers.get('x-request-id'), rid(name), 'the request id is not echoed');
      calls[name] = { method, path: p, res: r };
      return r;
    };
    const P = `/v1/instances/${I.id}/security-profiles`;
    const U = `/v1/instances/${I.id}/users`;
    const pc = await call('profile-create', 'POST', P, { key: adminToken, body: { name: 'audited', permissions: ['Users.View'] } });
    assert.equal(pc.status, 201, show(pc));
    await call('profile-update', 'PATCH', `${P}/${pc.json.id}`, { key: adminToken, body: { description: 'changed' } });
    await call('profile-delete', 'DELETE', `${P}/${pc.json.id}`, { key: adminToken });
    const uc = await call('user-create', 'POST', U, { key: adminToken, body: { username: 'audited-user', password: PASSWORD } });
    assert.equal(uc.status, 201, show(uc));
    await call('user-update', 'PATCH', `${U}/${uc.json.id}`, { key: adminToken, body: { first_name: 'Changed' } });
    await call('user-delete', 'DELETE', `${U}/${uc.json.id}`, { key: adminToken });
    await call('user-create-bad', 'POST', U, { key: adminToken, body: { username: 'bad name' } });
    await call('denied-list', 'GET', U, { key: agentToken });
    await call('denied-create', 'POST', P, { key: agentToken, body: { name: 'nope', permissions: [] } });
    await call('denied-audit', 'GET', trail(), { key: agentToken });
    await call('login-wrong', 'POST', `/v1/instances/${I.id}/auth/login`, { body: { username: 'agent-smith', password: 'Not-the-password-1' } });
    await call('login-ghost', 'POST', `/v1/instances/${I.id}/auth/login`, { body: { username: 'ghost-user', password: 'Not-the-password-1' } });
    await call('login-ok', 'POST', `/v1/instances/${I.id}/auth/login`, { body: { username: 'agent-smith', password: PASSWORD } });
    await call('no-token', 'GET', U);
    await call('status', 'PUT', '/v1/me/status', { key: agentToken, body: { status: 'Available' } });
    await call('plain-read', 'GET', U, { key: adminToken });
    await call('audit-read', 'GET', trail(), { key: adminToken });
    await call('audit-verify', 'GET', `${trail()}/verify`, { key: adminToken });
  });

  after(async () => {
    const code = await d?.stop();
    removeTempDir(init.dir);
    assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
  });

  async function eventOf(name) {
    const all = await allEvents(d, adminToken, trail());
    return all.find((e) => e.request_id === rid(name));
  }

  const expectations = [
    ['profile-create', 'security_profiles.create', 'allowed', 201, null, 'admin'],
    ['profile-update', 'security_profiles.update', 'allowed', 200, null, 'admin'],
    ['profile-delete', 'security_profiles.delete', 'allowed', 204, null, 'admin'],
    ['user-create', 'users.create', 'allowed', 201, null, 'admin'],
    ['user-update', 'users.update', 'allowed', 200, null, 'admin'],
    ['user-delete', 'users.delete', 'allowed', 204, null, 'admin'],
    ['user-create-bad', 'users.create', 'failed', 400, 'InvalidParameter', 'admin'],
    ['denied-list', 'users.list', 'denied', 403, 'AccessDenied', 'agent'],
    ['denied-create', 'security_profiles.create', 'denied', 403, 'AccessDenied', 'agent'],
    ['denied-audit', 'audit_events.list', 'denied', 403, 'AccessDenied', 'agent'],
    ['status', 'me.status', 'allowed', 200, null, 'agent'],
    ['audit-read', 'audit_events.list', 'allowed', 200, null, 'admin'],
    ['audit-verify', 'audit_events.verify', 'allowed', 200, null, 'admin'],
  ];
  for (const [name, action, result, status, code, who] of expectations) {
    test(`${name}: ${action} ${result} ${status}`, async () => {
      assert.equal(calls[name].res.status, status, show(calls[name].res));
      const e = await eventOf(name);
      assert.ok(e, `no audit event with request id ${rid(name)}`);
      assert.match(e.id, /^ev_/);
      assert.match(e.time, RFC3339_UTC);
      assert.ok(Math.abs(Date.parse(e.time) - Date.now()) < 300000);
      assert.equal(e.instance_id, I.id);
      assert.equal(e.action, action);
      assert.equal(e.resource, calls[name].path);
      assert.equal(e.source_ip, '127.0.0.1');
      assert.equal(e.user_agent, UA);
      assert.equal(e.result, result);
      assert.equal(e.status, status);
      assert.equal(e.error_code, code);
      assert.equal(e.principal.kind, 'user');
      if (who === 'admin') assert.deepEqual(e.principal, { kind: 'user', id: I.adminUserId, name: I.adminUsername });
      else assert.deepEqual(e.principal, { kind: 'user', id: agent.id, name: 'agent-smith' });
    });
  }

  test('failed logins are in the instance\'s trail as anonymous with the claimed username; a good login names the user', async () => {
    for (const [name, claimed] of [['login-wrong', 'agent-smith'], ['login-ghost', 'ghost-user']]) {
      assertError(calls[name].res, 401, 'Unauthenticated');
      const e = await eventOf(name);
      assert.ok(e, `no event for ${name}`);
      assert.equal(e.action, 'auth.login');
      assert.equal(e.principal.kind, 'anonymous');
      assert.equal(e.principal.name, claimed);
      assert.equal(e.result, 'denied', 'a 401 is "denied" (docs/api.md)');
      assert.equal(e.status, 401);
      assert.equal(e.error_code, 'Unauthenticated');
      assert.equal(e.instance_id, I.id);
    }
    const ok = await eventOf('login-ok');
    assert.ok(ok, 'no event for a good login');
    assert.deepEqual(ok.principal, { kind: 'user', id: agent.id, name: 'agent-smith' });
    assert.equal(ok.result, 'allowed');
  });

  test('a call without a token (401) is recorded, naming the instance', async () => {
    const inInstance = await eventOf('no-token');
    const platform = (await allEvents(d, init.key, '/v1/audit-events')).find((e) => e.request_id === rid('no-token'));
    const e = inInstance ?? platform;
    assert.ok(e, 'a 401 is not recorded in any trail');
    assert.equal(e.status, 401);
    assert.equal(e.result, 'denied');
    assert.equal(e.principal.kind, 'anonymous');
    assert.equal(e.instance_id, I.id);
  });

  test('plain reads of other resources are not recorded; no secret ever is', async () => {
    assert.equal(await eventOf('plain-read'), undefined, 'a plain GET of users is recorded (the docs say only audit reads are)');
    const all = await api(d.url, 'GET', `${trail()}?limit=1000`, { key: adminToken });
    for (const secret of [PASSWORD, 'Not-the-password-1', adminToken, agentToken, init.key]) {
      assert.ok(!all.text.includes(secret), 'the trail holds a password or a token');
    }
  });

  test('filters: action, result, principal_id, since/until; newest first; paging with next_token', async () => {
    const all = await allEvents(d, adminToken, trail());
    const byAction = await allEvents(d, adminToken, trail(), 'action=users.create');
    assert.ok(byAction.length >= 2 && byAction.every((e) => e.action === 'users.create'));
    assert.equal(byAction.length, all.filter((e) => e.action === 'users.create').length);
    const denied = await allEvents(d, adminToken, trail(), 'result=denied');
    assert.ok(denied.some((e) => e.request_id === rid('denied-list')));
    assert.ok(denied.every((e) => e.result === 'denied'));
    const agents = await allEvents(d, adminToken, trail(), `principal_id=${agent.id}`);
    assert.ok(agents.length >= 4 && agents.every((e) => e.principal.id === agent.id));
    const combo = await allEvents(d, adminToken, trail(), `principal_id=${agent.id}&result=denied&action=users.list`);
    assert.deepEqual(combo.map((e) => e.request_id), [rid('denied-list')]);
    const mid = all[Math.floor(all.length / 2)].time;
    const since = await allEvents(d, adminToken, trail(), `since=${encodeURIComponent(mid)}`);
    assert.ok(since.length > 0 && since.every((e) => e.time >= mid));
    const until = await allEvents(d, adminToken, trail(), `until=${encodeURIComponent(mid)}`);
    assert.ok(until.length > 0 && until.every((e) => e.time <= mid));
    const far = await allEvents(d, adminToken, trail(), 'since=2999-01-01T00:00:00Z');
    assert.deepEqual(far, []);
    // Newest first, by seq.
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].seq > all[i].seq, 'not newest first');
    // Pages of 3 cover the same events once each.
    const paged = [];
    let token = null;
    for (let i = 0; i < 1000; i++) {
      const r = await api(d.url, 'GET', `${trail()}?limit=3${token ? `&next_token=${encodeURIComponent(token)}` : ''}`, { key: adminToken });
      assert.equal(r.status, 200, show(r));
      assert.ok(r.json.items.length <= 3);
      paged.push(...r.json.items);
      token = r.json.next_token;
      if (token === null) break;
    }
    const ids = new Set(paged.map((e) => e.id));
    assert.equal(ids.size, paged.length, 'paging repeats an event');
    for (const e of all) assert.ok(ids.has(e.id), `paging misses ${e.id}`);
  });

  test('bad filters → 400 naming the parameter', async () => {
    for (const [q, field] of [['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=ten', 'limit'], ['next_token=abc', 'next_token'], ['next_token=-5', 'next_token'], ['action=', 'action'], [`action=${'a'.repeat(129)}`, 'action'], ['result=', 'result']]) {
      assertError(await api(d.url, 'GET', `${trail()}?${q}`, { key: adminToken }), 400, 'InvalidParameter', field, q);
    }
  });

  test('an over-long filter value is refused (400), not silently dropped', async () => {
    // A filter the server cannot honour must not widen the answer to the whole trail.
    for (const [q, field] of [[`action=${'a'.repeat(200)}`, 'action'], [`principal_id=us_${'x'.repeat(200)}`, 'principal_id'], [`since=${'2'.repeat(200)}`, 'since']]) {
      const r = await api(d.url, 'GET', `${trail()}?${q}`, { key: adminToken });
      assertError(r, 400, 'InvalidParameter', field, `${q.slice(0, 40)}… (${r.json?.items?.length ?? 0} unfiltered events returned)`);
    }
  });

  test('malformed filter values → 400 naming the parameter (since/until are RFC 3339, result is allowed|denied|failed)', async () => {
    for (const [q, field] of [['since=yesterday', 'since'], ['until=2026-13-45T99%3A00%3A00Z', 'until'], ['since=1700000000', 'since'], ['result=bogus', 'result']]) {
      assertError(await api(d.url, 'GET', `${trail()}?${q}`, { key: adminToken }), 400, 'InvalidParameter', field, q);
    }
  });

  test('GET .../audit-events/verify → ok, checked, first_bad null', async () => {
    const r = await api(d.url, 'GET', `${trail()}/verify`, { key: adminToken });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.json.ok, true);
    assert.equal(r.json.first_bad, null);
    const n = (await allEvents(d, adminToken, trail())).length;
    assert.ok(r.json.checked >= n - 2, `checked ${r.json.checked} of ${n}`);
  });

  test('chains are per instance: another instance\'s admin sees none of these; the platform sees its own actions and verifies all chains', async () => {
    const B = await createInstance(d, init.key);
    const bt = await loginToken(d, B.id, B.adminUsername);
    const theirs = await allEvents(d, bt, `/v1/instances/${B.id}/audit-events`);
    assert.ok(theirs.every((e) => e.instance_id === B.id), 'B sees another instance\'s events');
    assertError(await api(d.url, 'GET', trail(), { key: bt }), 404, 'NotFound');
    const plat = await allEvents(d, init.key, '/v1/audit-events');
    assert.ok(plat.some((e) => e.action === 'instances.create' && e.principal.kind === 'platform'));
    assert.ok(plat.some((e) => e.action === 'audit_events.list' && e.principal.kind === 'platform'), 'the platform\'s audit read is not recorded');
    const v = await api(d.url, 'GET', '/v1/audit-events/verify', { key: init.key });
    assert.equal(v.status, 200, show(v));
    assert.equal(v.json.ok, true, show(v));
    assert.ok(v.json.checked >= plat.length);
  });
});

describe('kill -9 during a stream of user creations, then tampering', () => {
  const TOTAL = 200;
  const KILL_AFTER = 100;
  let init;
  let d;
  let I;
  let adminToken;
  const outcomes = new Array(TOTAL);
  let clean; // the data dir after a clean stop, for the tamper copies
  let chain;
  let count;

  before(async () => {
    init = await initData();
    d = await startDaemon({ data: init.data });
    I = await createInstance(d, init.key);
    adminToken = await loginToken(d, I.id, I.adminUsername);
  });

  after(async () => {
    if (d?.alive()) await d.stop();
    removeTempDir(init.dir);
  });

  test(`${TOTAL} POST users (concurrency 8), kill -9 after ${KILL_AFTER} answers: every 201 survives with its users.create event`, async (t) => {
    let answered = 0;
    const victim = d;
    await mapLimit(Array.from({ length: TOTAL }, (_, i) => i), 8, async (i) => {
      const requestId = `k9-${i}-${process.pid}`;
      try {
        const r = await api(victim.url, 'POST', `/v1/instances/${I.id}/users`, {
          key: adminToken, body: { username: `k9-user-${i}` }, headers: { 'x-request-id': requestId },
        });
        outcomes[i] = { requestId, status: r.status, id: r.json?.id, echoed: r.headers.get('x-request-id') };
      } catch (e) {
        outcomes[i] = { requestId, error: e.cause?.code || e.message };
      }
      answered += 1;
      if (answered === KILL_AFTER) victim.proc.kill('SIGKILL');
    });
    const info = await victim.exited;
    assert.equal(info.signal, 'SIGKILL');
    const created = outcomes.filter((o) => o.status === 201);
    const other = outcomes.filter((o) => o.status !== undefined && o.status !== 201);
    assert.deepEqual(other.map((o) => o.status), [], 'answers other than 201');
    assert.ok(created.length >= KILL_AFTER - 8, `only ${created.length} creations answered before the kill`);
    for (const o of created) assert.equal(o.echoed, o.requestId);

    d = await startDaemon({ data: init.data });
    const events = await allEvents(d, adminToken, `/v1/instances/${I.id}/audit-events`, 'action=users.create');
    const byRequest = new Map(events.map((e) => [e.request_id, e]));
    const users = await allEvents(d, adminToken, `/v1/instances/${I.id}/users`);
    const userIds = new Set(users.map((u) => u.id));
    const lost = [];
    for (const o of created) {
      if (!userIds.has(o.id)) lost.push(`user ${o.id} (request ${o.requestId}) answered 201 but is gone`);
      const e = byRequest.get(o.requestId);
      if (!e) lost.push(`request ${o.requestId} answered 201 but has no users.create event`);
      else if (e.status !== 201 || e.result !== 'allowed') lost.push(`event of ${o.requestId}: ${e.status} ${e.result}`);
    }
    assert.deepEqual(lost, []);
    // Diagnostics on the requests whose answer was lost in the kill.
    const unanswered = outcomes.filter((o) => o.status === undefined);
    const names = new Set(users.map((u) => u.username));
    const appliedNoAnswer = unanswered.filter((o) => names.has(`k9-user-${outcomes.indexOf(o)}`));
    const appliedNoEvent = appliedNoAnswer.filter((o) => !byRequest.has(o.requestId));
    t.diagnostic(`${created.length} answered 201, ${unanswered.length} unanswered (${[...new Set(unanswered.map((o) => o.error))].join(', ')}); ` +
      `${appliedNoAnswer.length} unanswered creations exist after restart, ${appliedNoEvent.length} of them without an audit event`);
    const v = await api(d.url, 'GET', `/v1/instances/${I.id}/audit-events/verify`, { key: adminToken });
    assert.equal(v.json.ok, true, show(v));
    const pv = await api(d.url, 'GET', '/v1/audit-events/verify', { key: init.key });
    assert.equal(pv.json.ok, true, show(pv));
  });

  test('bulwark audit verify --data DIR exits 0 on the intact trail', async () => {
    assert.equal(await d.stop(), 0);
    const r = await runBulwark(['audit', 'verify', '--data', init.data]);
    assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    clean = init.data;
    const db = path.join(clean, 'bulwark.db');
    chain = I.id;
    count = Number(sqlite(db, `SELECT count(*) FROM audit_events WHERE chain = '${chain}';`).trim());
    assert.ok(count >= 100, `the instance chain has only ${count} records`);
    const j = await runBulwark(['audit', 'verify', '--data', init.data, '--json']);
    assert.equal(j.code, 0);
    const report = JSON.parse(j.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.first_bad, null);
  });

  /** A fresh copy of the clean data dir, tampered with `sql` through sqlite3. */
  function tampered(sql) {
    const dir = makeTempDir('bulwark-tamper-');
    const data = path.join(dir, 'data');
    fs.cpSync(clean, data, { recursive: true });
    sqlite(path.join(data, 'bulwark.db'), sql);
    return { dir, data };
  }

  async function assertBroken(sql, expectChain, expectSeq, what) {
    const { dir, data } = tampered(sql);
    try {
      const r = await runBulwark(['audit', 'verify', '--data', data]);
      assert.equal(r.code, 1, `${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`chain ${expectChain}\\b`), `${what}: the chain is not named: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`record ${expectSeq}\\b`), `${what}: record ${expectSeq} is not named: ${r.stderr}`);
      const j = await runBulwark(['audit', 'verify', '--data', data, '--json']);
      assert.equal(j.code, 1);
      const report = JSON.parse(j.stdout);
      assert.equal(report.ok, false);
      assert.equal(report.first_bad.chain, expectChain);
      assert.equal(report.first_bad.seq, expectSeq);
      return { dir, data };
    } catch (e) {
      removeTempDir(dir);
      throw e;
    }
  }

  const DROP = 'DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;';

  test('the append-only triggers refuse UPDATE and DELETE', () => {
    const { dir, data } = tampered('SELECT 1;');
    try {
      assert.throws(() => sqlite(path.join(data, 'bulwark.db'), `UPDATE audit_events SET action = 'x' WHERE chain = '${chain}' AND seq = 1;`), /append-only/);
      assert.throws(() => sqlite(path.join(data, 'bulwark.db'), `DELETE FROM audit_events WHERE chain = '${chain}' AND seq = 1;`), /append-only/);
    } finally {
      removeTempDir(dir);
    }
  });

  test('one record edited → exit 1 naming the chain and the record', async () => {
    const m = Math.floor(count / 2);
    const { dir, data } = await assertBroken(`${DROP} UPDATE audit_events SET principal_name = 'someone-else' WHERE chain = '${chain}' AND seq = ${m};`, chain, m, 'edit');
    // The daemon started on the tampered copy says the same through the API.
    const dd = await startDaemon({ data });
    try {
      const v = await api(dd.url, 'GET', '/v1/audit-events/verify', { key: init.key });
      assert.equal(v.status, 200, show(v));
      assert.equal(v.json.ok, false);
      assert.equal(v.json.first_bad.chain, chain);
      assert.equal(v.json.first_bad.seq, m);
      const t = await loginToken(dd, I.id, I.adminUsername);
      const iv = await api(dd.url, 'GET', `/v1/instances/${I.id}/audit-events/verify`, { key: t });
      assert.equal(iv.json.ok, false);
      assert.equal(iv.json.first_bad.seq, m);
    } finally {
      await dd.stop();
      removeTempDir(dir);
    }
  });

  test('a middle record deleted → exit 1 naming it', async () => {
    const m = Math.floor(count / 3);
    const { dir } = await assertBroken(`${DROP} DELETE FROM audit_events WHERE chain = '${chain}' AND seq = ${m};`, chain, m, 'delete');
    removeTempDir(dir);
  });

  test('two records\' seq swapped → exit 1 naming the first', async () => {
    const m = Math.floor(count / 4);
    const { dir } = await assertBroken(`${DROP}
      UPDATE audit_events SET seq = -1 WHERE chain = '${chain}' AND seq = ${m};
      UPDATE audit_events SET seq = ${m} WHERE chain = '${chain}' AND seq = ${m + 1};
      UPDATE audit_events SET seq = ${m + 1} WHERE chain = '${chain}' AND seq = -1;`, chain, m, 'swap');
    removeTempDir(dir);
  });

  test('two whole records swapped (reordered rows) → exit 1', async () => {
    const m = Math.floor(count / 5);
    const cols = 'chain,seq,id,time,instance_id,principal_kind,principal_id,principal_name,action,resource,source_ip,user_agent,result,status,error_code,request_id,prev_hash,hash';
    const { dir } = await assertBroken(`${DROP}
      CREATE TEMP TABLE keep AS SELECT ${cols} FROM audit_events WHERE chain = '${chain}' AND seq IN (${m}, ${m + 1});
      DELETE FROM audit_events WHERE chain = '${chain}' AND seq IN (${m}, ${m + 1});
      INSERT INTO audit_events(${cols}) SELECT ${cols} FROM keep WHERE seq = ${m + 1};
      INSERT INTO audit_events(${cols}) SELECT ${cols} FROM keep WHERE seq = ${m};`, chain, m, 'reorder');
    removeTempDir(dir);
  });

  test('the tail cut, the head left → exit 1 naming the first missing record', async () => {
    const { dir } = await assertBroken(`${DROP} DELETE FROM audit_events WHERE chain = '${chain}' AND seq > ${count - 3};`, chain, count - 2, 'tail cut');
    removeTempDir(dir);
  });

  test('the tail cut and the head rewritten to match (without the root key) → exit 1', async () => {
    const last = count - 3;
    const { dir } = await assertBroken(`${DROP}
      DELETE FROM audit_events WHERE chain = '${chain}' AND seq > ${last};
      UPDATE audit_heads SET seq = ${last}, hash = (SELECT hash FROM audit_events WHERE chain = '${chain}' AND seq = ${last}) WHERE chain = '${chain}';`, chain, last, 'forged head');
    removeTempDir(dir);
  });

  test('the platform chain is checked too', async () => {
    const { dir } = await assertBroken(`${DROP} UPDATE audit_events SET result = 'allowed', status = 200 WHERE chain = 'platform' AND seq = 1;`, 'platform', 1, 'platform edit');
    removeTempDir(dir);
  });

  test('verify on an untampered copy still exits 0 (the copies are faithful)', async () => {
    const { dir, data } = tampered('SELECT 1;');
    try {
      const r = await runBulwark(['audit', 'verify', '--data', data]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      removeTempDir(dir);
    }
  });
});
