// Unused approved origins (C17, docs/api.md "Approved origins in use"):
// GET /v1/instances/{iid}/approved-origins lists the instance's approved
// origins with when each was first seen and last used by a public request;
// ?unused_for= keeps those nothing has used for that long, as it does for
// integrations. Permissions, another instance, bad durations.
// No sleeps: waits poll the clock with a deadline.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, removeTempDir, api, show } from './lib/daemon.mjs';
import { assertError, patchSettings } from './lib/identity.mjs';
import { startFraudDaemon, nextV4, chatFrom, setupCallbackCenter, untilClock, ms } from './lib/fraud.mjs';
import { createAgent } from './lib/chat.mjs';

const SHOP = 'https://shop.example';
const OLD = 'https://old-campaign.example';

const list = (d, token, iid, q = '') => api(d.url, 'GET', `/v1/instances/${iid}/approved-origins${q}`, { key: token });
const origins = (r) => r.json.items.map((x) => x.origin).sort();

describe('approved origins in use', () => {
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

  test('an origin a chat came from is used; one nothing used is listed by ?unused_for=', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await patchSettings(d, init.key, ctx.iid, { approved_origins: [SHOP, OLD] });
    let r = await list(d, ctx.admin, ctx.iid);
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(origins(r), [OLD, SHOP].sort());
    for (const x of r.json.items) {
      assert.equal(x.last_used_at, null, `${x.origin} used before any request`);
      ms(x.first_seen_at, 'first_seen_at');
    }
    assert.equal(r.json.next_token, null);
    const seen = Math.max(...r.json.items.map((x) => ms(x.first_seen_at)));
    // More than a second later, a chat from SHOP: SHOP is in use, OLD is not.
    await untilClock(seen + 1100, 'a second after the origins were first seen');
    const chat = await chatFrom(d, ctx, nextV4(), { headers: { origin: SHOP } });
    assert.equal(chat.status, 201, show(chat));
    r = await list(d, ctx.admin, ctx.iid, '?unused_for=1s');
    assert.equal(r.status, 200, show(r));
    assert.deepEqual(origins(r), [OLD], 'unused for a second: only the one nothing used');
    r = await list(d, ctx.admin, ctx.iid);
    const shop = r.json.items.find((x) => x.origin === SHOP);
    assert.ok(ms(shop.last_used_at) >= seen + 1100, `last_used_at ${shop.last_used_at}`);
    assert.equal(r.json.items.find((x) => x.origin === OLD).last_used_at, null);
    r = await list(d, ctx.admin, ctx.iid, '?unused_for=30d');
    assert.deepEqual(origins(r), [], 'nothing is unused for 30 days yet');
    // A removed origin is no longer listed.
    await patchSettings(d, init.key, ctx.iid, { approved_origins: [SHOP] });
    r = await list(d, ctx.admin, ctx.iid);
    assert.deepEqual(origins(r), [SHOP]);
  });

  test('bad durations are 400; SecuritySettings.View is needed; another instance is 404', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    for (const q of ['?unused_for=', '?unused_for=30', '?unused_for=3651d', '?unused_for=-1d', '?unused_for=1w', `?unused_for=${'9'.repeat(40)}`]) {
      const r = await list(d, ctx.admin, ctx.iid, q);
      assert.equal(r.status, 400, `${q}: ${show(r)}`);
      assert.ok(r.status < 500);
    }
    const ok = await list(d, init.key, ctx.iid); // the platform may read security settings
    assert.equal(ok.status, 200, show(ok));
    assertError(await list(d, null, ctx.iid), 401, 'Unauthenticated', undefined, 'no token');
    const profiles = (await api(d.url, 'GET', `/v1/instances/${ctx.iid}/security-profiles`, { key: ctx.admin })).json.items;
    const agentProfile = profiles.find((p) => p.name === 'Agent');
    const agent = await createAgent(d, ctx.admin, ctx.iid, { profiles: [agentProfile.id] });
    assertError(await list(d, agent.token, ctx.iid), 403, 'AccessDenied', undefined, 'an agent');
    const other = await setupCallbackCenter(d, init.key);
    assertError(await list(d, other.admin, ctx.iid), 404, 'NotFound', undefined, 'another instance');
  });
});
