// The public checks before the contact filter (docs/api.md "The public
// checks"): the approved origin (403 AccessDenied for another origin; an
// allowed one gets Access-Control-Allow-Origin and Vary: Origin; OPTIONS
// answers the CORS preflight) and the per-address request throttle (429
// Throttled with Retry-After, nothing deny-listed), and their order: deny
// list → origin → throttle → contact filter.
//
// The daemon trusts X-Forwarded-For from loopback. No sleeps: every wait
// polls a condition or the clock with a deadline.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, removeTempDir, api, show } from './lib/daemon.mjs';
import { assertError, patchSettings } from './lib/identity.mjs';
import {
  startFraudDaemon, nextV4, nextNumber, chatFrom, callbackFrom, assertBlocked,
  setupCallbackCenter, setRule, denyEntries, createDeny, untilClock, xff,
} from './lib/fraud.mjs';

const SHOP = 'https://shop.example';
const EVIL = 'https://evil.example';

function varyHasOrigin(res) {
  return (res.headers.get('vary') || '').split(',').some((v) => v.trim().toLowerCase() === 'origin');
}

function preflight(d, path, origin, ip, method = 'POST') {
  return api(d.url, 'OPTIONS', path, {
    headers: {
      origin, ...xff(ip), 'access-control-request-method': method, 'access-control-request-headers': 'content-type',
    },
  });
}

describe('approved origins', () => {
  let init;
  let d;
  before(async () => {
    init = await initData();
    d = await startFraudDaemon(init.data);
  });
  after(async () => {
    const code = await d?.stop();
    removeTempDir(init.dir);
    assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
  });

  test('no approved origins (the default): any Origin is refused with 403 AccessDenied; no Origin is allowed', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const r = await chatFrom(d, ctx, nextV4(), { headers: { origin: SHOP } });
    assertError(r, 403, 'AccessDenied', undefined, 'an Origin with none approved');
    assert.equal(r.headers.get('access-control-allow-origin'), null, 'a refused origin got CORS headers');
    const c = await callbackFrom(d, ctx, nextV4(), nextNumber().national, { headers: { origin: SHOP } });
    assertError(c, 403, 'AccessDenied', undefined, 'a callback with an Origin, none approved');
    const none = await chatFrom(d, ctx, nextV4());
    assert.equal(none.status, 201, `no Origin: ${show(none)}`);
    assert.equal(none.headers.get('access-control-allow-origin'), null, 'CORS headers without an Origin');
  });

  test('an approved origin gets Access-Control-Allow-Origin and Vary: Origin; another origin is 403 AccessDenied', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await patchSettings(d, init.key, ctx.iid, { approved_origins: [SHOP, 'http://localhost:3000'] });

    for (const [what, send] of [
      ['chat', (h) => chatFrom(d, ctx, nextV4(), { headers: h })],
      ['callback', (h) => callbackFrom(d, ctx, nextV4(), nextNumber().national, { headers: h })],
    ]) {
      const ok = await send({ origin: SHOP });
      assert.equal(ok.status, 201, `${what} from ${SHOP}: ${show(ok)}`);
      assert.equal(ok.headers.get('access-control-allow-origin'), SHOP, `${what}: Access-Control-Allow-Origin`);
      assert.ok(varyHasOrigin(ok), `${what}: Vary is ${JSON.stringify(ok.headers.get('vary'))}`);
      const local = await send({ origin: 'http://localhost:3000' });
      assert.equal(local.status, 201, `${what} from the second origin: ${show(local)}`);
      assert.equal(local.headers.get('access-control-allow-origin'), 'http://localhost:3000');

      for (const origin of [EVIL, 'http://shop.example', 'https://shop.example:8443', 'https://sub.shop.example',
        'https://shop.example.evil.example', 'null', 'http://localhost:3001']) {
        const r = await send({ origin });
        assertError(r, 403, 'AccessDenied', undefined, `${what} from ${origin}`);
        assert.equal(r.headers.get('access-control-allow-origin'), null, `${what} from ${origin} got Access-Control-Allow-Origin`);
      }
    }
  });

  test('OPTIONS preflight: 204 with the allowed methods and headers for an approved origin, 403 for another', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await patchSettings(d, init.key, ctx.iid, { approved_origins: [SHOP] });
    for (const path of [`/v1/public/instances/${ctx.iid}/chats`, `/v1/public/instances/${ctx.iid}/callbacks`]) {
      const r = await preflight(d, path, SHOP, nextV4());
      assert.equal(r.status, 204, `preflight ${path}: ${show(r)}`);
      assert.equal(r.text, '', 'a 204 with a body');
      assert.equal(r.headers.get('access-control-allow-origin'), SHOP, `preflight ${path}: Access-Control-Allow-Origin`);
      assert.ok(varyHasOrigin(r), `preflight ${path}: Vary is ${JSON.stringify(r.headers.get('vary'))}`);
      const methods = (r.headers.get('access-control-allow-methods') || '').split(',').map((m) => m.trim().toUpperCase());
      assert.ok(methods.includes('POST'), `Access-Control-Allow-Methods: ${r.headers.get('access-control-allow-methods')}`);
      const headers = (r.headers.get('access-control-allow-headers') || '').split(',').map((h) => h.trim().toLowerCase());
      assert.ok(headers.includes('content-type'), `Access-Control-Allow-Headers: ${r.headers.get('access-control-allow-headers')}`);

      const bad = await preflight(d, path, EVIL, nextV4());
      assert.equal(bad.status, 403, `preflight from ${EVIL}: ${show(bad)}`);
      assert.equal(bad.headers.get('access-control-allow-origin'), null, 'a refused preflight got Access-Control-Allow-Origin');
    }
    // A preflight starts no contact.
    const list = await api(d.url, 'GET', `/v1/instances/${ctx.iid}/contacts`, { key: ctx.admin });
    assert.equal(list.status, 200, show(list));
    assert.deepEqual(list.json.items, [], 'a preflight created a contact');
  });

  test('order: a listed address is ContactBlocked whatever its Origin; a refused origin is not counted by the contact filter', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await patchSettings(d, init.key, ctx.iid, { approved_origins: [SHOP] });
    const listed = nextV4();
    await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: listed });
    assertBlocked(await chatFrom(d, ctx, listed, { headers: { origin: EVIL } }), 'a listed address from a refused origin');

    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 1, window_s: 600, deny_s: 3600 });
    const ip = nextV4();
    for (let i = 0; i < 3; i++) {
      assertError(await chatFrom(d, ctx, ip, { headers: { origin: EVIL } }), 403, 'AccessDenied', undefined, `refused origin ${i + 1}`);
    }
    assert.deepEqual((await denyEntries(d, ctx.admin, ctx.iid)).map((e) => e.value), [listed], 'a refused origin deny-listed its address');
    const first = await chatFrom(d, ctx, ip, { headers: { origin: SHOP } });
    assert.equal(first.status, 201, `the first contact after three refused origins (limit 1): ${show(first)}`);
    assertBlocked(await chatFrom(d, ctx, ip, { headers: { origin: SHOP } }), 'the second contact (limit 1)');
  });
});

describe('the per-address request throttle (public_rate_limit 5 per public_rate_window_s 4)', () => {
  let init;
  let d;
  const WINDOW_S = 4;
  before(async () => {
    init = await initData();
    d = await startFraudDaemon(init.data, { BULWARK_PUBLIC_RATE_LIMIT: '5', BULWARK_PUBLIC_RATE_WINDOW_S: String(WINDOW_S) });
  });
  after(async () => {
    const code = await d?.stop();
    removeTempDir(init.dir);
    assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
  });

  test('the settings are known to serve (no warning about an unknown BULWARK_ variable)', () => {
    const unknown = d.stderr.split('\n').filter((l) => /public_rate/i.test(l) && /no setting|unknown/i.test(l));
    assert.deepEqual(unknown, [], 'serve does not know the throttle settings');
  });

  test('the 6th public request from one address is 429 Throttled with Retry-After, across the public routes; another address is fine; a slot frees after Retry-After; nothing is deny-listed', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    // The contact filter comes after the throttle: with 6 contacts per address allowed, a
    // throttled request that were counted would make the contact after Retry-After the 7th.
    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 6, window_s: 600, deny_s: 3600 });
    const ip = nextV4();
    const sent = [];
    for (let i = 1; i <= 5; i++) {
      // Chats and callbacks share the budget.
      const r = i <= 3 ? await chatFrom(d, ctx, ip) : await callbackFrom(d, ctx, ip, nextNumber().national);
      assert.equal(r.status, 201, `public request ${i} of 5: ${show(r)}`);
      sent.push(Date.now());
    }
    const r6 = await chatFrom(d, ctx, ip);
    const at429 = Date.now();
    assertError(r6, 429, 'Throttled', undefined, 'the 6th public request');
    const ra = r6.headers.get('retry-after');
    assert.match(ra ?? '', /^\d+$/, `Retry-After: ${JSON.stringify(ra)}`);
    const raS = Number(ra);
    assert.ok(raS >= 1 && raS <= WINDOW_S, `Retry-After ${raS} is not within 1..${WINDOW_S} s`);
    assertError(await callbackFrom(d, ctx, ip, nextNumber().national), 429, 'Throttled', undefined, 'a callback past the budget');

    const other = await chatFrom(d, ctx, nextV4());
    assert.equal(other.status, 201, `another address: ${show(other)}`);

    assert.deepEqual(await denyEntries(d, ctx.admin, ctx.iid), [], 'the throttle deny-listed something');
    const recs = await api(d.url, 'GET', `/v1/instances/${ctx.iid}/contacts?limit=1000`, { key: ctx.admin });
    assert.equal(recs.status, 200, show(recs));
    assert.equal(recs.json.items.length, 6, `contacts: the 5 accepted and the other address's; a throttled request made a record: ${recs.json.items.length}`);
    assert.ok(!recs.json.items.some((c) => c.disconnect_reason === 'CONTACT_FILTER'), 'a throttled request was recorded as blocked by the contact filter');

    // Retry-After is the time until a slot frees: then one more request passes.
    await untilClock(at429 + raS * 1000 + 250, 'Retry-After');
    const again = await chatFrom(d, ctx, ip);
    assert.equal(again.status, 201, `after Retry-After (${raS} s), the 6th contact (ADDRESS limit 6; throttled requests are not contacts): ${show(again)}`);
  });

  test('the instance\'s non-public routes are not throttled by it', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    for (let i = 0; i < 8; i++) {
      const r = await api(d.url, 'GET', `/v1/instances/${ctx.iid}/deny-list`, { key: ctx.admin });
      assert.equal(r.status, 200, `admin read ${i + 1}: ${show(r)}`);
    }
  });
});
