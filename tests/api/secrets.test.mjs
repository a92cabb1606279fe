// The secrets vault (C7, docs/api.md "Secrets"), black-box: create, list,
// get, rotate (versions, grace), delete; validation; permissions (View,
// Edit implying View, none); another instance's secret is NotFound; the
// audit trail; the CLI (`bulwark secret`). And the rule the vault exists
// for: a value is write-only. Every response body and header of this file,
// the daemon's log (at debug level), the CLI's output, and the database file
// with its WAL are searched for every value written, as text and as base64.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { initData, startDaemon, removeTempDir, runBulwark, api as rawApi, show } from './lib/daemon.mjs';
import {
  assertError, unique, createInstance, loginToken, createProfile, userWithToken, profilesByName,
} from './lib/identity.mjs';

const TIME_MS_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ID_RE = /^sc_[A-Za-z0-9_-]{22}$/;
const KEYS = ['created_at', 'id', 'name', 'previous_readable_until', 'rotated_at', 'version'];

// Every value this file writes, and every response it got.
const values = [];
const seen = [];
function secretValue(label = 'v') {
  const v = `${label}-${crypto.randomBytes(18).toString('base64url')}`;
  values.push(v);
  return v;
}
async function api(...args) {
  const r = await rawApi(...args);
  seen.push({ what: `${args[1]} ${args[2]}`, text: `${[...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${r.text}` });
  return r;
}
/** Where a value shows: as itself, in base64 or base64url, or JSON-escaped. */
function forms(v) {
  const b = Buffer.from(v);
  return [v, b.toString('base64'), b.toString('base64url'), JSON.stringify(v).slice(1, -1)];
}
function holders(haystack) {
  const hits = [];
  for (const v of values) for (const f of forms(v)) if (haystack.includes(f)) hits.push(v);
  return hits;
}

let init;
let d;
let A;
let B;
let adminA;
let adminB;
const base = (iid) => `/v1/instances/${iid}/secrets`;

async function create(token, iid, name, value) {
  const r = await api(d.url, 'POST', base(iid), { key: token, body: { name, value } });
  assert.equal(r.status, 201, show(r));
  return r.json;
}

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data, args: ['--log-level', 'debug'] });
  A = await createInstance(d, init.key);
  B = await createInstance(d, init.key);
  adminA = await loginToken(d, A.id, A.adminUsername);
  adminB = await loginToken(d, B.id, B.adminUsername);
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}`);
});

describe('create, read, rotate, delete', () => {
  test('create answers 201 with metadata only', async () => {
    const value = secretValue();
    const r = await api(d.url, 'POST', base(A.id), { key: adminA, body: { name: 'crm-api-key', value } });
    assert.equal(r.status, 201, show(r));
    assert.deepEqual(Object.keys(r.json).sort(), KEYS);
    assert.match(r.json.id, ID_RE);
    assert.equal(r.json.name, 'crm-api-key');
    assert.equal(r.json.version, 1);
    assert.match(r.json.created_at, TIME_MS_RE);
    assert.equal(r.json.rotated_at, null);
    assert.equal(r.json.previous_readable_until, null);
    assert.ok(!r.text.includes(value));

    const g = await api(d.url, 'GET', `${base(A.id)}/${r.json.id}`, { key: adminA });
    assert.equal(g.status, 200, show(g));
    assert.deepEqual(g.json, r.json);
  });

  test('names and values are checked; a name is taken once per instance', async () => {
    const v = secretValue('bad');
    const bad = [
      [{ value: v }, 'name'],
      [{ name: '', value: v }, 'name'],
      [{ name: 'has space', value: v }, 'name'],
      [{ name: 'slash/name', value: v }, 'name'],
      [{ name: 'x'.repeat(65), value: v }, 'name'],
      [{ name: 'ok' }, 'value'],
      [{ name: 'ok', value: '' }, 'value'],
      [{ name: 'ok', value: 'v'.repeat(8193) }, 'value'],
      [{ name: 'ok', value: 42 }, 'value'],
      [{ name: 'ok', value: { nested: v } }, 'value'],
      [{ name: 'ok', value: v, extra: 1 }, 'extra'],
    ];
    for (const [body, field] of bad) {
      const r = await api(d.url, 'POST', base(A.id), { key: adminA, body });
      assertError(r, 400, 'InvalidParameter', field, JSON.stringify(body).slice(0, 80));
    }
    assert.equal((await api(d.url, 'POST', base(A.id), { key: adminA, body: `{"name":"ok","value":"${v}"}`, contentType: 'text/plain' })).status, 415);
    const max = await create(adminA, A.id, unique('max'), secretValue('m').padEnd(8192, 'x'));
    assert.equal(max.version, 1);
    const name = unique('dup');
    await create(adminA, A.id, name, secretValue());
    assertError(await api(d.url, 'POST', base(A.id), { key: adminA, body: { name, value: secretValue() } }), 409, 'Conflict', 'name');
    await create(adminB, B.id, name, secretValue()); // the same name in another instance
  });

  test('rotate makes a new version; the previous one has a grace period', async () => {
    const s = await create(adminA, A.id, unique('rot'), secretValue());
    const r = await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: adminA, body: { value: secretValue() } });
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(Object.keys(r.json).sort(), KEYS);
    assert.equal(r.json.id, s.id);
    assert.equal(r.json.version, 2);
    assert.equal(r.json.created_at, s.created_at);
    assert.match(r.json.rotated_at, TIME_MS_RE);
    // Default grace: 3600 s after the rotation.
    assert.equal(Date.parse(r.json.previous_readable_until) - Date.parse(r.json.rotated_at), 3600 * 1000);

    const r2 = await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: adminA, body: { value: secretValue(), grace_s: 0 } });
    assert.equal(r2.status, 200, show(r2));
    assert.equal(r2.json.version, 3);
    assert.equal(r2.json.previous_readable_until, r2.json.rotated_at);
    const r3 = await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: adminA, body: { value: secretValue(), grace_s: 2592000 } });
    assert.equal(Date.parse(r3.json.previous_readable_until) - Date.parse(r3.json.rotated_at), 2592000 * 1000);
    assert.equal((await api(d.url, 'GET', `${base(A.id)}/${s.id}`, { key: adminA })).json.version, 4);

    for (const grace_s of [-1, 2592001, '10', 1.5, true]) {
      assertError(await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: adminA, body: { value: secretValue(), grace_s } }), 400, 'InvalidParameter', 'grace_s');
    }
    assertError(await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: adminA, body: { grace_s: 5 } }), 400, 'InvalidParameter', 'value');
    assertError(await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: adminA, body: { value: secretValue(), name: 'x' } }), 400, 'InvalidParameter', 'name');
    assertError(await api(d.url, 'POST', `${base(A.id)}/sc_${'A'.repeat(22)}/rotate`, { key: adminA, body: { value: secretValue() } }), 404, 'NotFound');
  });

  test('concurrent rotations each make their own version', async () => {
    const s = await create(adminA, A.id, unique('race'), secretValue());
    const rs = await Promise.all(Array.from({ length: 4 }, () => api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: adminA, body: { value: secretValue() } })));
    const ok = rs.filter((r) => r.status === 200);
    for (const r of rs) assert.ok(r.status === 200 || (r.status === 409 && r.json.error.code === 'Conflict'), show(r));
    assert.deepEqual(ok.map((r) => r.json.version).sort(), [...new Set(ok.map((r) => r.json.version))].sort());
    const g = await api(d.url, 'GET', `${base(A.id)}/${s.id}`, { key: adminA });
    assert.equal(g.json.version, 1 + ok.length);
  });

  test('list: metadata, ?name=, paging', async () => {
    const names = [unique('la'), unique('lb'), unique('lc')];
    for (const n of names) await create(adminA, A.id, n, secretValue());
    const all = [];
    let next = null;
    do {
      const r = await api(d.url, 'GET', `${base(A.id)}?limit=2${next ? `&next_token=${next}` : ''}`, { key: adminA });
      assert.equal(r.status, 200, show(r));
      assert.ok(r.json.items.length <= 2);
      for (const it of r.json.items) assert.deepEqual(Object.keys(it).sort(), KEYS);
      all.push(...r.json.items);
      next = r.json.next_token;
    } while (next);
    for (const n of names) assert.equal(all.filter((x) => x.name === n).length, 1);
    assert.deepEqual(all.map((x) => x.id), [...all.map((x) => x.id)].sort());

    const one = await api(d.url, 'GET', `${base(A.id)}?name=${names[1]}`, { key: adminA });
    assert.equal(one.status, 200, show(one));
    assert.deepEqual(one.json.items.map((x) => x.name), [names[1]]);
    const none = await api(d.url, 'GET', `${base(A.id)}?name=no-such-name`, { key: adminA });
    assert.deepEqual(none.json.items, []);
    assertError(await api(d.url, 'GET', `${base(A.id)}?name=bad%20name`, { key: adminA }), 400, 'InvalidParameter', 'name');
    // B's list holds none of A's.
    const lb = await api(d.url, 'GET', `${base(B.id)}?limit=1000`, { key: adminB });
    assert.ok(!lb.json.items.some((x) => names.includes(x.name)));
  });

  test('delete: 204, then gone everywhere; the name is free again', async () => {
    const name = unique('del');
    const s = await create(adminA, A.id, name, secretValue());
    await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: adminA, body: { value: secretValue() } });
    const r = await api(d.url, 'DELETE', `${base(A.id)}/${s.id}`, { key: adminA });
    assert.equal(r.status, 204, show(r));
    assert.equal(r.text, '');
    assertError(await api(d.url, 'GET', `${base(A.id)}/${s.id}`, { key: adminA }), 404, 'NotFound');
    assertError(await api(d.url, 'DELETE', `${base(A.id)}/${s.id}`, { key: adminA }), 404, 'NotFound');
    assertError(await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: adminA, body: { value: secretValue() } }), 404, 'NotFound');
    assert.deepEqual((await api(d.url, 'GET', `${base(A.id)}?name=${name}`, { key: adminA })).json.items, []);
    await create(adminA, A.id, name, secretValue());
  });
});

describe('permissions and tenancy', () => {
  let viewer;
  let editor;
  let agent;
  let sA;
  before(async () => {
    const v = await createProfile(d, adminA, A.id, unique('sv'), ['Secrets.View']);
    const e = await createProfile(d, adminA, A.id, unique('se'), ['Secrets.Edit']);
    viewer = (await userWithToken(d, adminA, A.id, [v.id])).token;
    editor = (await userWithToken(d, adminA, A.id, [e.id])).token;
    agent = (await userWithToken(d, adminA, A.id, [(await profilesByName(d, adminA, A.id)).Agent.id])).token;
    sA = await create(adminA, A.id, unique('perm'), secretValue());
  });

  test('Secrets.View reads metadata and cannot write', async () => {
    assert.equal((await api(d.url, 'GET', base(A.id), { key: viewer })).status, 200);
    assert.equal((await api(d.url, 'GET', `${base(A.id)}/${sA.id}`, { key: viewer })).status, 200);
    assertError(await api(d.url, 'POST', base(A.id), { key: viewer, body: { name: unique('n'), value: secretValue() } }), 403, 'AccessDenied');
    assertError(await api(d.url, 'POST', `${base(A.id)}/${sA.id}/rotate`, { key: viewer, body: { value: secretValue() } }), 403, 'AccessDenied');
    assertError(await api(d.url, 'DELETE', `${base(A.id)}/${sA.id}`, { key: viewer }), 403, 'AccessDenied');
  });

  test('Secrets.Edit writes and (Edit implies View) reads', async () => {
    const s = await create(editor, A.id, unique('ed'), secretValue());
    assert.equal((await api(d.url, 'GET', `${base(A.id)}/${s.id}`, { key: editor })).status, 200);
    assert.equal((await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: editor, body: { value: secretValue() } })).status, 200);
    assert.equal((await api(d.url, 'DELETE', `${base(A.id)}/${s.id}`, { key: editor })).status, 204);
  });

  test('an agent and the platform key get nothing', async () => {
    for (const [m, p, body] of [['GET', base(A.id)], ['GET', `${base(A.id)}/${sA.id}`], ['POST', base(A.id), { name: unique('n'), value: secretValue() }]]) {
      assertError(await api(d.url, m, p, { key: agent, body }), 403, 'AccessDenied');
      assertError(await api(d.url, m, p, { key: init.key, body }), 401, 'Unauthenticated');
      assertError(await api(d.url, m, p, { body }), 401, 'Unauthenticated');
    }
  });

  test('another instance: its user on A\'s paths and A\'s ids on B\'s paths are NotFound', async () => {
    assertError(await api(d.url, 'GET', base(A.id), { key: adminB }), 404, 'NotFound');
    assertError(await api(d.url, 'POST', base(A.id), { key: adminB, body: { name: unique('x'), value: secretValue() } }), 404, 'NotFound');
    assertError(await api(d.url, 'GET', `${base(B.id)}/${sA.id}`, { key: adminB }), 404, 'NotFound');
    assertError(await api(d.url, 'POST', `${base(B.id)}/${sA.id}/rotate`, { key: adminB, body: { value: secretValue() } }), 404, 'NotFound');
    assertError(await api(d.url, 'DELETE', `${base(B.id)}/${sA.id}`, { key: adminB }), 404, 'NotFound');
    const still = await api(d.url, 'GET', `${base(A.id)}/${sA.id}`, { key: adminA });
    assert.equal(still.status, 200);
    assert.equal(still.json.version, 1);
  });
});

describe('audit', () => {
  test('create, rotate, delete and refusals are in the instance\'s trail, without values', async () => {
    const v = await createProfile(d, adminA, A.id, unique('sv'), ['Secrets.View']);
    const viewer = (await userWithToken(d, adminA, A.id, [v.id])).token;
    const s = await create(adminA, A.id, unique('aud'), secretValue());
    await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: adminA, body: { value: secretValue() } });
    await api(d.url, 'POST', `${base(A.id)}/${s.id}/rotate`, { key: viewer, body: { value: secretValue() } });
    await api(d.url, 'DELETE', `${base(A.id)}/${s.id}`, { key: adminA });
    const ev = await api(d.url, 'GET', `/v1/instances/${A.id}/audit-events?limit=1000`, { key: adminA });
    assert.equal(ev.status, 200, show(ev));
    const mine = ev.json.items.filter((e) => e.resource.includes(s.id));
    const brief = mine.map((e) => `${e.action} ${e.result} ${e.status}`).sort();
    assert.deepEqual(brief, ['secrets.delete allowed 204', 'secrets.rotate allowed 200', 'secrets.rotate denied 403']);
    for (const e of mine) assert.equal(e.instance_id, A.id);
    // A create names the collection (the id is made by it).
    assert.ok(ev.json.items.some((e) => e.action === 'secrets.create' && e.result === 'allowed' && e.status === 201 && e.resource === base(A.id)));
    assert.deepEqual(holders(ev.text), []);
    const verify = await api(d.url, 'GET', `/v1/instances/${A.id}/audit-events/verify`, { key: adminA });
    assert.equal(verify.json.ok, true, show(verify));
  });
});

describe('the CLI', () => {
  test('bulwark secret add|list|get|rotate|remove: values from stdin or a file, never printed', async () => {
    const env = { BULWARK_URL: d.url, BULWARK_TOKEN: adminA, BULWARK_INSTANCE: A.id };
    const name = unique('cli');
    const v1 = secretValue('cli1');
    const out = [];
    const run = async (args, input, extraEnv = {}) => {
      const r = await runBulwark(['secret', ...args], { env: { ...env, ...extraEnv }, input });
      out.push(r.stdout, r.stderr);
      return r;
    };
    let r = await run(['add', '--name', name, '--value-stdin', '--json'], `${v1}\n`);
    assert.equal(r.code, 0, r.stderr);
    const made = JSON.parse(r.stdout);
    assert.equal(made.name, name);
    assert.equal(made.version, 1);

    r = await run(['list', '--name', name]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(name));
    r = await run(['get', name]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^version\s+1$/m);

    // A value from a file, and from the environment.
    const file = path.join(init.dir, 'value.txt');
    const v2 = secretValue('cli2');
    fs.writeFileSync(file, `${v2}\n`, { mode: 0o600 });
    r = await run(['rotate', name, '--value-file', file, '--grace', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^version\s+2$/m);
    const v3 = secretValue('cli3');
    r = await run(['rotate', made.id, '--json'], undefined, { BULWARK_SECRET_VALUE: v3 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).version, 3);

    // Refusals: no value, a value as an argument, a bad name, an unknown secret.
    r = await run(['add', '--name', unique('n')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /never an argument|no value/);
    r = await run(['add', '--name', unique('n'), '--value', 'x']);
    assert.equal(r.code, 2);
    r = await run(['add', '--name', 'bad name', '--value-stdin'], 'x');
    assert.equal(r.code, 2);
    r = await run(['get', 'no-such-secret']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no secret named no-such-secret/);
    r = await run(['add', '--name', name, '--value-stdin'], secretValue());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Conflict/);

    r = await run(['remove', name]);
    assert.equal(r.code, 0, r.stderr);
    r = await run(['get', made.id]);
    assert.equal(r.code, 1);
    assert.deepEqual(holders(out.join('\n')), [], 'the CLI printed a value');
  });
});

describe('a value is never read back', () => {
  test('in no response body or header', () => {
    assert.ok(values.length > 20 && seen.length > 50);
    const leaks = seen.filter((s) => holders(s.text).length);
    assert.deepEqual(leaks.map((s) => s.what), []);
  });

  test('not in the daemon\'s log (debug level)', () => {
    assert.ok(d.stderr.length > 1000, 'the log is there');
    assert.deepEqual(holders(d.stderr), []);
  });

  test('not in the database file, its WAL or shared memory, running and stopped', async () => {
    const scan = () => {
      const found = [];
      for (const f of fs.readdirSync(init.data)) {
        const p = path.join(init.data, f);
        if (!fs.statSync(p).isFile()) continue;
        const bytes = fs.readFileSync(p).toString('latin1');
        for (const h of holders(bytes)) found.push(`${f}: ${h}`);
      }
      return found;
    };
    const files = fs.readdirSync(init.data);
    assert.ok(files.includes('bulwark.db') && files.includes('bulwark.db-wal'), files.join(','));
    assert.deepEqual(scan(), []);
    // The names are there in clear (metadata): the search would see a value.
    assert.ok(fs.readFileSync(path.join(init.data, 'bulwark.db-wal')).includes('crm-api-key') ||
      fs.readFileSync(path.join(init.data, 'bulwark.db')).includes('crm-api-key'));
    await d.stop();
    assert.deepEqual(scan(), []);
    assert.deepEqual(holders(d.stderr), []);
    d = await startDaemon({ data: init.data });
  });
});
