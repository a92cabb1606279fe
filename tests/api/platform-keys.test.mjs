// Platform keys: create, list, delete, authentication.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show, PLATFORM_KEY_RE } from './lib/daemon.mjs';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function assertError(res, status, code, field) {
  assert.equal(res.status, status, show(res));
  assert.match(res.headers.get('content-type') || '', /^application\/json\b/i);
  assert.equal(res.json?.error?.code, code, show(res));
  assert.equal(typeof res.json.error.message, 'string', show(res));
  if (field !== undefined) assert.equal(res.json.error.field, field, show(res));
}

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

describe('create and list', () => {
  test('POST /v1/platform-keys → 201 with id, name, created_at and a working key', async () => {
    const r = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: 'ci' } });
    assert.equal(r.status, 201, show(r));
    assert.match(r.headers.get('content-type') || '', /^application\/json\b/i);
    const k = r.json;
    assert.equal(typeof k.id, 'string');
    assert.ok(k.id.length > 0);
    assert.equal(k.name, 'ci');
    assert.match(k.created_at, RFC3339_UTC);
    assert.ok(Math.abs(Date.parse(k.created_at) - Date.now()) < 5 * 60 * 1000, `created_at ${k.created_at} is not now`);
    assert.match(k.key, PLATFORM_KEY_RE);
    assert.notEqual(k.key, init.key);
    const again = await api(d.url, 'GET', '/v1/platform-keys', { key: k.key });
    assert.equal(again.status, 200, `the new key is refused: ${show(again)}`);
  });

  test('two creates give distinct ids and keys', async () => {
    const a = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: 'a' } });
    const b = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: 'a' } });
    assert.equal(a.status, 201, show(a));
    assert.equal(b.status, 201, show(b));
    assert.notEqual(a.json.id, b.json.id);
    assert.notEqual(a.json.key, b.json.key);
  });

  test('application/json; charset=utf-8 is accepted', async () => {
    const r = await api(d.url, 'POST', '/v1/platform-keys', {
      key: init.key, body: JSON.stringify({ name: 'charset' }), contentType: 'application/json; charset=utf-8',
    });
    assert.equal(r.status, 201, show(r));
  });

  test('a 200-character name is accepted', async () => {
    const name = 'n'.repeat(200);
    const r = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name } });
    assert.equal(r.status, 201, show(r));
    assert.equal(r.json.name, name);
  });

  test('a non-ASCII name round-trips', async () => {
    const name = 'clé 🔑';
    const r = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name } });
    assert.equal(r.status, 201, show(r));
    assert.equal(r.json.name, name);
    const l = await api(d.url, 'GET', '/v1/platform-keys?limit=1000', { key: init.key });
    assert.ok(l.json.items.some((i) => i.id === r.json.id && i.name === name), 'name changed in the list');
  });

  test('GET /v1/platform-keys lists keys without secrets', async () => {
    const c = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: 'listed' } });
    assert.equal(c.status, 201, show(c));
    const r = await api(d.url, 'GET', '/v1/platform-keys', { key: init.key });
    assert.equal(r.status, 200, show(r));
    assert.ok(Array.isArray(r.json.items), show(r));
    assert.ok('next_token' in r.json, 'no next_token field');
    assert.equal(r.json.next_token, null);
    const mine = r.json.items.find((i) => i.id === c.json.id);
    assert.ok(mine, 'created key is not listed');
    assert.equal(mine.name, 'listed');
    assert.equal(mine.created_at, c.json.created_at);
    for (const item of r.json.items) {
      assert.equal(typeof item.id, 'string');
      assert.equal(typeof item.name, 'string');
      assert.match(item.created_at, RFC3339_UTC);
      assert.ok(!('key' in item), `item carries a key: ${JSON.stringify(item)}`);
    }
    assert.doesNotMatch(r.text, /bwp_/, 'the list leaks key material');
    assert.ok(!r.text.includes(init.key.slice(4)), 'the list leaks the init key');
  });

  test('pagination with limit and next_token covers every key once', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: `page-${i}` } });
      assert.equal(c.status, 201, show(c));
    }
    const all = await api(d.url, 'GET', '/v1/platform-keys?limit=1000', { key: init.key });
    assert.equal(all.status, 200, show(all));
    const expected = all.json.items.map((i) => i.id).sort();
    assert.ok(expected.length >= 4);
    const seen = [];
    let token = null;
    for (let pages = 0; pages < 100; pages++) {
      const q = token === null ? '?limit=2' : `?limit=2&next_token=${encodeURIComponent(token)}`;
      const p = await api(d.url, 'GET', `/v1/platform-keys${q}`, { key: init.key });
      assert.equal(p.status, 200, show(p));
      assert.ok(p.json.items.length <= 2, `limit=2 returned ${p.json.items.length}`);
      seen.push(...p.json.items.map((i) => i.id));
      token = p.json.next_token;
      if (token === null) break;
      assert.equal(typeof token, 'string');
    }
    assert.equal(token, null, 'pagination did not end');
    assert.deepEqual(seen.slice().sort(), expected);
  });
});

describe('delete', () => {
  test('DELETE → 204, then the key gets 401', async () => {
    const c = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: 'doomed' } });
    assert.equal(c.status, 201, show(c));
    assert.equal((await api(d.url, 'GET', '/v1/platform-keys', { key: c.json.key })).status, 200);
    const del = await api(d.url, 'DELETE', `/v1/platform-keys/${encodeURIComponent(c.json.id)}`, { key: init.key });
    assert.equal(del.status, 204, show(del));
    assert.equal(del.text, '');
    const after = await api(d.url, 'GET', '/v1/platform-keys', { key: c.json.key });
    assert.equal(after.status, 401, show(after));
    assert.equal(after.json?.error?.code, 'Unauthenticated');
  });

  test('DELETE of an unknown id → 404 NotFound', async () => {
    const r = await api(d.url, 'DELETE', '/v1/platform-keys/pk_doesnotexist0000000000', { key: init.key });
    assertError(r, 404, 'NotFound');
  });

  test('DELETE without a key → 401 and nothing deleted', async () => {
    const c = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: 'kept' } });
    assert.equal(c.status, 201, show(c));
    const r = await api(d.url, 'DELETE', `/v1/platform-keys/${encodeURIComponent(c.json.id)}`);
    assertError(r, 401, 'Unauthenticated');
    assert.equal((await api(d.url, 'GET', '/v1/platform-keys', { key: c.json.key })).status, 200);
  });
});

describe('authentication', () => {
  const cases = [
    ['no Authorization header', undefined],
    ['garbage token', 'Bearer garbage'],
    ['unknown key of the right shape', `Bearer bwp_${'A'.repeat(43)}`],
    ['the init key with one character changed', 'CHANGE'],
    ['Basic scheme', 'Basic dXNlcjpwYXNz'],
    ['Bearer with nothing after it', 'Bearer '],
    ['the key without the Bearer scheme', 'RAW'],
  ];
  for (const [label, auth] of cases) {
    test(`${label} → 401 Unauthenticated`, async () => {
      let value = auth;
      if (auth === 'CHANGE') {
        const last = init.key.at(-1) === 'A' ? 'B' : 'A';
        value = `Bearer ${init.key.slice(0, -1)}${last}`;
      } else if (auth === 'RAW') {
        value = init.key;
      }
      const headers = value === undefined ? {} : { authorization: value };
      const g = await api(d.url, 'GET', '/v1/platform-keys', { headers });
      assertError(g, 401, 'Unauthenticated');
      assert.doesNotMatch(g.text, /items/);
      const p = await api(d.url, 'POST', '/v1/platform-keys', { headers, body: { name: 'x' } });
      assertError(p, 401, 'Unauthenticated');
    });
  }
});

describe('name validation', () => {
  const bad = [
    ['missing', {}],
    ['empty', { name: '' }],
    ['a number', { name: 5 }],
    ['null', { name: null }],
    ['an array', { name: ['ci'] }],
    ['an object', { name: { a: 1 } }],
    ['201 characters', { name: 'n'.repeat(201) }],
  ];
  for (const [label, body] of bad) {
    test(`name ${label} → 400 InvalidParameter field name`, async () => {
      const r = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body });
      assertError(r, 400, 'InvalidParameter', 'name');
    });
  }
});

describe('the last active key', () => {
  let init2;
  let d2;
  before(async () => {
    init2 = await initData();
    d2 = await startDaemon({ data: init2.data });
  });
  after(async () => {
    const code = await d2?.stop();
    removeTempDir(init2.dir);
    assert.equal(code, 0);
  });

  test('cannot be deleted (409 Conflict); it can once another exists', async () => {
    const l = await api(d2.url, 'GET', '/v1/platform-keys', { key: init2.key });
    assert.equal(l.status, 200, show(l));
    assert.equal(l.json.items.length, 1, `a fresh data folder lists ${l.json.items.length} keys`);
    const k0 = l.json.items[0].id;
    const r = await api(d2.url, 'DELETE', `/v1/platform-keys/${encodeURIComponent(k0)}`, { key: init2.key });
    assertError(r, 409, 'Conflict');
    assert.equal((await api(d2.url, 'GET', '/v1/platform-keys', { key: init2.key })).status, 200, 'the key stopped working after a refused delete');

    const c = await api(d2.url, 'POST', '/v1/platform-keys', { key: init2.key, body: { name: 'second' } });
    assert.equal(c.status, 201, show(c));
    const del = await api(d2.url, 'DELETE', `/v1/platform-keys/${encodeURIComponent(k0)}`, { key: c.json.key });
    assert.equal(del.status, 204, show(del));
    assert.equal((await api(d2.url, 'GET', '/v1/platform-keys', { key: init2.key })).status, 401);

    const last = await api(d2.url, 'DELETE', `/v1/platform-keys/${encodeURIComponent(c.json.id)}`, { key: c.json.key });
    assertError(last, 409, 'Conflict');
    assert.equal((await api(d2.url, 'GET', '/v1/platform-keys', { key: c.json.key })).status, 200);
  });
});
