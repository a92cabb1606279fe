// The integrations registry (C17, docs/api.md "Integrations"): the shape and
// defaults of an integration, CRUD, the checks at registration (https, or
// http toward listed addresses only; every address the host resolves to must
// pass the address policy, a refusal names base_url and the reason; a name
// such as `localhost` is judged by what it resolves to), secrets by name
// only, Integrations.View / .Edit and instance scoping, ?unused_for= (the
// integrations nothing has called for that long), and the audit trail.
//
// Only loopback is ever resolved or reached; no test sends a packet off this
// machine. No sleeps: the one wait on the clock polls with a deadline.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initData, startDaemon, removeTempDir, api, show } from './lib/daemon.mjs';
import {
  assertError, createInstance, loginToken, profilesByName, userWithToken, unique, sqlite,
} from './lib/identity.mjs';
import { listAll } from './lib/chat.mjs';
import {
  LocalServer, integrationsPath, postIntegration, createIntegration, testCall, listIntegrations,
} from './lib/integrations.mjs';

let init;
let d;
let db;
let A; // {iid, admin}
let B;
let server;

const TIME_MS_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const KEYS = ['allowed_address_ranges', 'allowed_methods', 'allowed_path_prefixes', 'auth', 'base_url',
  'ca_certificate', 'created_at', 'id', 'last_called_at', 'max_response_bytes', 'name', 'timeout_ms', 'updated_at'];

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  db = path.join(init.data, 'bulwark.db');
  for (const which of ['A', 'B']) {
    const inst = await createInstance(d, init.key);
    const ctx = { iid: inst.id, admin: await loginToken(d, inst.id, inst.adminUsername) };
    if (which === 'A') A = ctx; else B = ctx;
  }
  server = await new LocalServer('127.0.0.1').listen();
});

after(async () => {
  await server?.close();
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

const local = (extra = {}) => ({
  name: unique('ig'), base_url: server.url, allowed_address_ranges: ['127.0.0.1/32'], ...extra,
});

describe('the registry', () => {
  test('create: shape and defaults, canonical base_url and ranges; GET, list, PATCH, DELETE', async () => {
    const t0 = Date.now();
    const r = await postIntegration(d, A.admin, A.iid, {
      name: 'crm', base_url: `${server.url}/api/`, allowed_address_ranges: ['127.0.0.1'],
    });
    assert.equal(r.status, 201, show(r));
    const ig = r.json;
    assert.deepEqual(Object.keys(ig).sort(), KEYS, show(r));
    assert.match(ig.id, /^ig_/);
    assert.equal(ig.name, 'crm');
    assert.equal(ig.base_url, `${server.url}/api`, 'no trailing slash');
    assert.deepEqual(ig.allowed_methods, ['GET', 'POST']);
    assert.deepEqual(ig.allowed_path_prefixes, ['/']);
    assert.equal(ig.timeout_ms, 5000);
    assert.equal(ig.max_response_bytes, 65536);
    assert.deepEqual(ig.auth, { type: 'none' });
    assert.equal(ig.ca_certificate, null);
    assert.deepEqual(ig.allowed_address_ranges, ['127.0.0.1/32'], 'an address alone is a /32');
    assert.match(ig.created_at, TIME_MS_RE);
    assert.ok(Math.abs(Date.parse(ig.created_at) - t0) < 5000);
    assert.equal(ig.last_called_at, null);

    const got = await api(d.url, 'GET', integrationsPath(A.iid, `/${ig.id}`), { key: A.admin });
    assert.equal(got.status, 200, show(got));
    assert.deepEqual(got.json, ig);
    assert.ok((await listIntegrations(d, A.admin, A.iid)).some((x) => x.id === ig.id));
    assertError(await postIntegration(d, A.admin, A.iid, local({ name: 'crm' })), 409, 'Conflict', 'name');

    const p = await api(d.url, 'PATCH', integrationsPath(A.iid, `/${ig.id}`), {
      key: A.admin,
      body: {
        allowed_methods: ['PUT', 'GET'], allowed_path_prefixes: ['/v1/', '/status'], timeout_ms: 100,
        max_response_bytes: 1048576, auth: { type: 'secret_header', header: 'X-Api-Key', secret: 'crm-api-key' },
      },
    });
    assert.equal(p.status, 200, show(p));
    assert.deepEqual(p.json.allowed_methods, ['GET', 'PUT']);
    assert.deepEqual(p.json.allowed_path_prefixes, ['/v1/', '/status']);
    assert.equal(p.json.timeout_ms, 100);
    assert.equal(p.json.max_response_bytes, 1048576);
    assert.deepEqual(p.json.auth, { type: 'secret_header', header: 'X-Api-Key', secret: 'crm-api-key' });
    assert.equal(p.json.name, 'crm');
    assert.equal(p.json.created_at, ig.created_at);
    const again = await api(d.url, 'GET', integrationsPath(A.iid, `/${ig.id}`), { key: A.admin });
    assert.deepEqual(again.json, p.json);

    const del = await api(d.url, 'DELETE', integrationsPath(A.iid, `/${ig.id}`), { key: A.admin });
    assert.equal(del.status, 204, show(del));
    assertError(await api(d.url, 'GET', integrationsPath(A.iid, `/${ig.id}`), { key: A.admin }), 404, 'NotFound');
    assertError(await api(d.url, 'DELETE', integrationsPath(A.iid, `/${ig.id}`), { key: A.admin }), 404, 'NotFound');
  });

  test('bad settings: 400 naming the field', async () => {
    const cases = [
      [{ base_url: server.url }, 'name'],
      [local({ base_url: undefined }), 'base_url'],
      [local({ extra: 1 }), 'extra'],
      [local({ allowed_methods: [] }), 'allowed_methods'],
      [local({ allowed_methods: ['TRACE'] }), 'allowed_methods'],
      [local({ allowed_path_prefixes: ['api'] }), 'allowed_path_prefixes'],
      [local({ allowed_path_prefixes: ['/api/../admin'] }), 'allowed_path_prefixes'],
      [local({ timeout_ms: 99 }), 'timeout_ms'],
      [local({ timeout_ms: 30001 }), 'timeout_ms'],
      [local({ max_response_bytes: 1048577 }), 'max_response_bytes'],
      [local({ max_response_bytes: 0 }), 'max_response_bytes'],
      [local({ auth: { type: 'basic' } }), 'auth.type'],
      [local({ auth: { type: 'secret_header', header: 'X-Key', secret: 'k', value: 'literal-key' } }), 'auth.value'],
      [local({ auth: { type: 'secret_header', header: 'Host', secret: 'k' } }), 'auth.header'],
      [local({ auth: { type: 'mtls', client_certificate: 'not a certificate', client_key_secret: 'k' } }), 'auth.client_certificate'],
      [local({ allowed_address_ranges: ['127.0.0.1/8'] }), 'allowed_address_ranges'],
      [local({ allowed_address_ranges: ['localhost'] }), 'allowed_address_ranges'],
      [local({ name: 'a\u0001b' }), 'name'],
    ];
    for (const [body, field] of cases) {
      const clean = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
      assertError(await postIntegration(d, A.admin, A.iid, clean), 400, 'InvalidParameter', field, JSON.stringify(clean));
    }
  });

  test('base_url: https, or http toward listed addresses; no userinfo, query or fragment', async () => {
    const bad = [
      [`ftp://127.0.0.1:${server.port}/`, /https/],
      [`file:///etc/passwd`, /https/],
      [`http://user:pw@127.0.0.1:${server.port}/`, /user name or password/],
      [`${server.url}/#x`, /fragment/],
      [`${server.url}/?q=1`, /query/],
      ['127.0.0.1', /https/],
    ];
    for (const [base_url, why] of bad) {
      const r = await postIntegration(d, A.admin, A.iid, local({ base_url }));
      assertError(r, 400, 'InvalidParameter', 'base_url', base_url);
      assert.match(r.json.error.message, /^base_url/, show(r));
      assert.match(r.json.error.message, why, show(r));
    }
    // http without ranges: refused at registration, naming the reason
    const http = await postIntegration(d, A.admin, A.iid, { name: unique('ig'), base_url: server.url });
    assertError(http, 400, 'InvalidParameter', 'base_url');
    assert.match(http.json.error.message, /^base_url: must be https: plain http goes only to addresses allowed_address_ranges lists/, show(http));
    // the same base over https is judged by the address policy: loopback
    const tls = await postIntegration(d, A.admin, A.iid, { name: unique('ig'), base_url: `https://127.0.0.1:${server.port}` });
    assertError(tls, 400, 'InvalidParameter', 'base_url');
    assert.equal(tls.json.error.message, 'base_url: 127.0.0.1 is a loopback address that allowed_address_ranges does not contain');
  });

  test('addresses: 127.0.0.2 refused while 127.0.0.1/32 is listed; metadata needs its own range; ranges open their class only', async () => {
    const two = await postIntegration(d, A.admin, A.iid, local({ base_url: `http://127.0.0.2:${server.port}` }));
    assertError(two, 400, 'InvalidParameter', 'base_url');
    assert.equal(two.json.error.message, 'base_url: 127.0.0.2 is a loopback address that allowed_address_ranges does not contain');
    const cases = [
      ['https://169.254.169.254/latest/', ['169.254.0.0/16'], /169\.254\.169\.254 is a cloud metadata address/],
      ['https://[fd00:ec2::254]/', ['fd00::/8'], /cloud metadata/],
      ['https://100.100.100.200/', ['100.64.0.0/10'], /cloud metadata/],
      ['https://10.1.2.3/', ['192.168.0.0/16'], /10\.1\.2\.3 is a private address/],
      ['https://[::ffff:127.0.0.1]/', [], /loopback/],
      ['https://[64:ff9b::7f00:1]/', [], /loopback/],
      ['https://0.0.0.0/', [], /unspecified/],
      ['https://100.64.0.1/', [], /carrier-grade NAT/],
      ['https://198.18.0.1/', [], /benchmarking/],
      ['https://203.0.113.5/', [], /documentation/],
      ['https://224.0.0.1/', [], /multicast/],
      ['https://255.255.255.255/', [], /broadcast/],
      ['https://[fe80::1]/', [], /link-local/],
    ];
    for (const [base_url, ranges, why] of cases) {
      const r = await postIntegration(d, A.admin, A.iid, { name: unique('ig'), base_url, allowed_address_ranges: ranges });
      assertError(r, 400, 'InvalidParameter', 'base_url', base_url);
      assert.match(r.json.error.message, why, `${base_url}: ${show(r)}`);
    }
    // A listed private range opens it (nothing is called here).
    const lan = await postIntegration(d, A.admin, A.iid, { name: unique('ig'), base_url: 'https://10.1.2.3/', allowed_address_ranges: ['10.0.0.0/8'] });
    assert.equal(lan.status, 201, show(lan));
    const meta = await postIntegration(d, A.admin, A.iid, { name: unique('ig'), base_url: 'https://169.254.169.254/', allowed_address_ranges: ['169.254.169.254/32'] });
    assert.equal(meta.status, 201, show(meta));
  });

  test('a name is judged by what it resolves to: localhost is refused unless its addresses are listed', async () => {
    const r = await postIntegration(d, A.admin, A.iid, { name: unique('ig'), base_url: `https://localhost:${server.port}` });
    assertError(r, 400, 'InvalidParameter', 'base_url');
    assert.match(r.json.error.message, /^base_url: localhost resolves to (127\.0\.0\.1|::1), a loopback address that allowed_address_ranges does not contain$/, show(r));
    const http = await postIntegration(d, A.admin, A.iid, {
      name: unique('ig'), base_url: `http://localhost:${server.port}`, allowed_address_ranges: ['10.0.0.0/8'],
    });
    assertError(http, 400, 'InvalidParameter', 'base_url');
    assert.match(http.json.error.message, /localhost resolves to/, show(http));
    const ok = await postIntegration(d, A.admin, A.iid, {
      name: unique('ig'), base_url: `http://localhost:${server.port}`, allowed_address_ranges: ['127.0.0.0/8', '::1/128'],
    });
    assert.equal(ok.status, 201, show(ok));
    assert.equal(ok.json.base_url, `http://localhost:${server.port}`);
  });

  test('PATCH checks the target again with the result', async () => {
    const ig = await createIntegration(d, A.admin, A.iid, local());
    const p = (body) => api(d.url, 'PATCH', integrationsPath(A.iid, `/${ig.id}`), { key: A.admin, body });
    const drop = await p({ allowed_address_ranges: [] });
    assertError(drop, 400, 'InvalidParameter', 'base_url');
    const moved = await p({ base_url: `http://127.0.0.2:${server.port}` });
    assertError(moved, 400, 'InvalidParameter', 'base_url');
    assert.match(moved.json.error.message, /127\.0\.0\.2 is a loopback address/);
    const still = await api(d.url, 'GET', integrationsPath(A.iid, `/${ig.id}`), { key: A.admin });
    assert.deepEqual(still.json, ig, 'a refused PATCH changes nothing');
    const both = await p({ base_url: `http://127.0.0.2:${server.port}`, allowed_address_ranges: ['127.0.0.1/32', '127.0.0.2/32'] });
    assert.equal(both.status, 200, show(both));
    const other = await createIntegration(d, A.admin, A.iid, local());
    assertError(await p({ name: other.name }), 409, 'Conflict', 'name');
  });

  test('secrets are named, never taken: no value in any reply or in the database', async () => {
    const literal = `sk_live_${unique('v').replace(/-/g, '')}`;
    const r = await postIntegration(d, A.admin, A.iid, local({ auth: { type: 'secret_header', header: 'Authorization', secret: literal } }));
    // A name is a name: the registry keeps it, and it cannot be a value (no
    // space or other characters a credential would carry are allowed).
    assert.equal(r.status, 201, show(r));
    const bad = await postIntegration(d, A.admin, A.iid, local({ auth: { type: 'secret_header', header: 'Authorization', secret: 'Bearer abc' } }));
    assertError(bad, 400, 'InvalidParameter', 'auth.secret');
    const value = await postIntegration(d, A.admin, A.iid, local({ auth: { type: 'secret_header', header: 'X-Key', secret: 'k', value: 'hunter2' } }));
    assertError(value, 400, 'InvalidParameter', 'auth.value');
    assert.equal(sqlite(db, "SELECT count(*) FROM integrations WHERE config LIKE '%hunter2%';").trim(), '0');
  });
});

describe('permissions and instances', () => {
  test('Integrations.View reads, Integrations.Edit writes and calls; an Agent gets 403; another instance gets 404', async () => {
    const ig = await createIntegration(d, A.admin, A.iid, local());
    const profiles = await profilesByName(d, A.admin, A.iid);
    const agent = await userWithToken(d, A.admin, A.iid, [profiles.Agent.id]);
    assertError(await api(d.url, 'GET', integrationsPath(A.iid), { key: agent.token }), 403, 'AccessDenied');
    assertError(await postIntegration(d, agent.token, A.iid, local()), 403, 'AccessDenied');
    assertError(await testCall(d, agent.token, A.iid, ig.id, { method: 'GET', path: '/ok' }), 403, 'AccessDenied');
    assertError(await api(d.url, 'GET', integrationsPath(A.iid, `/${ig.id}`), { key: B.admin }), 404, 'NotFound');
    assertError(await api(d.url, 'GET', integrationsPath(B.iid, `/${ig.id}`), { key: B.admin }), 404, 'NotFound');
    assertError(await testCall(d, B.admin, B.iid, ig.id, { method: 'GET', path: '/ok' }), 404, 'NotFound');
    assert.ok(!(await listIntegrations(d, B.admin, B.iid)).some((x) => x.id === ig.id));
    assertError(await api(d.url, 'GET', integrationsPath(A.iid), { key: init.key }), 401, 'Unauthenticated');
  });

  test('every write and call is audited', async () => {
    const ig = await createIntegration(d, A.admin, A.iid, local());
    assert.equal((await testCall(d, A.admin, A.iid, ig.id, { method: 'GET', path: '/ok' })).status, 200);
    await api(d.url, 'DELETE', integrationsPath(A.iid, `/${ig.id}`), { key: A.admin });
    const events = await listAll(d, A.admin, `/v1/instances/${A.iid}/audit-events`);
    const seen = (action, resource) => events.some((e) => e.action === action && e.resource === resource && e.result === 'allowed');
    assert.ok(seen('integrations.create', integrationsPath(A.iid)), 'integrations.create');
    assert.ok(seen('integrations.test', integrationsPath(A.iid, `/${ig.id}/test`)), 'integrations.test');
    assert.ok(seen('integrations.delete', integrationsPath(A.iid, `/${ig.id}`)), 'integrations.delete');
  });
});

describe('unused_for', () => {
  test('lists what nothing has called for that long: the last call, or the creation when never called', async () => {
    const ctx = await createInstance(d, init.key);
    const admin = await loginToken(d, ctx.id, ctx.adminUsername);
    const used = await createIntegration(d, admin, ctx.id, local({ name: 'used' }));
    const idle = await createIntegration(d, admin, ctx.id, local({ name: 'idle' }));
    const call = await testCall(d, admin, ctx.id, used.id, { method: 'GET', path: '/ok' });
    assert.equal(call.status, 200, show(call));
    const after = await api(d.url, 'GET', integrationsPath(ctx.id, `/${used.id}`), { key: admin });
    assert.match(after.json.last_called_at, TIME_MS_RE);
    assert.ok(Math.abs(Date.parse(after.json.last_called_at) - Date.now()) < 10000);
    // Both are new: neither is unused for 30 days.
    assert.deepEqual(await listIntegrations(d, admin, ctx.id, 'unused_for=30d'), []);
    assert.equal((await listIntegrations(d, admin, ctx.id)).length, 2);
    // Both made 40 days ago: the one called just now is in use.
    const day = 86400000;
    sqlite(db, `UPDATE integrations SET created_at = ${Date.now() - 40 * day} WHERE instance_id = '${ctx.id}';`);
    let ids = (await listIntegrations(d, admin, ctx.id, 'unused_for=30d')).map((x) => x.name);
    assert.deepEqual(ids, ['idle']);
    const listed = (await listIntegrations(d, admin, ctx.id, 'unused_for=30d'))[0];
    assert.equal(listed.last_called_at, null);
    // Its last call 31 days ago: both.
    sqlite(db, `UPDATE integrations SET last_called_at = ${Date.now() - 31 * day} WHERE id = '${used.id}';`);
    ids = (await listIntegrations(d, admin, ctx.id, 'unused_for=30d')).map((x) => x.name).sort();
    assert.deepEqual(ids, ['idle', 'used']);
    assert.deepEqual((await listIntegrations(d, admin, ctx.id, 'unused_for=32d')).map((x) => x.name), ['idle']);
    // Units, and the list's paging with the filter.
    assert.equal((await listIntegrations(d, admin, ctx.id, 'unused_for=744h')).length, 2);
    const page = await api(d.url, 'GET', integrationsPath(ctx.id, '?unused_for=30d&limit=1'), { key: admin });
    assert.equal(page.status, 200, show(page));
    assert.equal(page.json.items.length, 1);
    assert.equal(typeof page.json.next_token, 'string');
    for (const bad of ['30', '0d', '30w', '-1d', '3651d', '']) {
      const r = await api(d.url, 'GET', integrationsPath(ctx.id, `?unused_for=${bad}`), { key: admin });
      assertError(r, 400, 'InvalidParameter', 'unused_for', bad);
    }
  });
});
