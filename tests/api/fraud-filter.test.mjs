// The contact filter (docs/api.md "Fraud and abuse protection, callbacks",
// C10): "at most `limit` contacts per `window_s` per identifier"; a contact
// past a limit is refused with 403 ContactBlocked and the identifier is
// deny-listed (source AUTOMATIC) for the rule's deny_s.
//
// - the settings: defaults of a new instance, PATCH and its bounds;
// - a flood from one number (callbacks, the default 5 per hour), from one
//   IPv4 address (chats, the default 20 per 10 min), from one e-mail (the
//   default 10 per hour) and from many addresses of one IPv6 /64;
// - an automatic entry expires on time (a short deny_s);
// - a refused contact's record (CONTACT_FILTER), audit event and metric;
// - dry run and a disabled filter.
//
// The daemon trusts X-Forwarded-For from loopback, so each request names its
// client address; every test takes fresh addresses and numbers. No sleeps:
// every wait polls with a deadline.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, removeTempDir, api, show, getMetrics, metricValue } from './lib/daemon.mjs';
import { assertError } from './lib/identity.mjs';
import {
  startFraudDaemon, nextV4, nextV6Net, nextNumber, chatFrom, callbackFrom, assertBlocked,
  setupCallbackCenter, DEFAULT_FILTER, filterPath, getFilter, patchFilter, setRule,
  denyEntries, createDeny, auditEvents, contacts, ms,
} from './lib/fraud.mjs';

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

const HOUR = 3600 * 1000;
const byId = (a, b) => (a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0);

/** An automatic deny entry of `type` and `value`, asserting it is the only one for that value. */
async function autoEntry(ctx, type, value) {
  const all = await denyEntries(d, ctx.admin, ctx.iid);
  const mine = all.filter((e) => e.type === type && e.value === value);
  assert.equal(mine.length, 1, `expected one ${type} entry for ${value} in the deny list; list: ${JSON.stringify(all)}`);
  const e = mine[0];
  assert.match(e.id, /^dl_/, JSON.stringify(e));
  assert.equal(e.source, 'AUTOMATIC', JSON.stringify(e));
  return e;
}

/** expires_at is `denyMs` after the refusal, which happened between t0 and t1. */
function assertExpiresAbout(entry, t0, t1, denyMs) {
  const exp = ms(entry.expires_at, 'expires_at');
  assert.ok(exp >= t0 + denyMs - 2000 && exp <= t1 + denyMs + 2000,
    `expires_at ${entry.expires_at} is not deny_s (${denyMs / 1000} s) after the refusal at ${new Date(t0).toISOString()}`);
}

describe('the contact-filter settings', () => {
  test('a new instance has exactly the documented defaults', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const f = await getFilter(d, ctx.admin, ctx.iid);
    assert.equal(f.enabled, true, JSON.stringify(f));
    assert.equal(f.dry_run, false, JSON.stringify(f));
    assert.ok(Array.isArray(f.rules), JSON.stringify(f));
    assert.deepEqual([...f.rules].sort(byId), [...DEFAULT_FILTER.rules].sort(byId));
  });

  test('PATCH changes only the fields given; rules replaces the list; the change persists', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const a = await patchFilter(d, ctx.admin, ctx.iid, { dry_run: true });
    assert.equal(a.dry_run, true, JSON.stringify(a));
    assert.equal(a.enabled, true, JSON.stringify(a));
    assert.deepEqual([...a.rules].sort(byId), [...DEFAULT_FILTER.rules].sort(byId), 'dry_run alone changed the rules');
    const rules = [{ identifier: 'NUMBER', limit: 2, window_s: 60, deny_s: 0 }];
    const b = await patchFilter(d, ctx.admin, ctx.iid, { rules, dry_run: false });
    assert.deepEqual(b.rules, rules, JSON.stringify(b));
    assert.equal(b.dry_run, false);
    const g = await getFilter(d, ctx.admin, ctx.iid);
    assert.deepEqual(g.rules, rules, JSON.stringify(g));
    assert.equal(g.enabled, true);
    // Bounds that are allowed.
    const edge = [
      { identifier: 'ADDRESS', limit: 1, window_s: 1, deny_s: 0 },
      { identifier: 'EMAIL', limit: 10000, window_s: 86400, deny_s: 2592000 },
    ];
    const c = await patchFilter(d, ctx.admin, ctx.iid, { rules: edge });
    assert.deepEqual([...c.rules].sort(byId), [...edge].sort(byId), JSON.stringify(c));
  });

  test('bad values → 400 InvalidParameter naming the field; nothing changes', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const rule = (x) => ({ rules: [{ identifier: 'ADDRESS', limit: 5, window_s: 60, deny_s: 60, ...x }] });
    const cases = [
      [rule({ limit: 0 }), /^rules/],
      [rule({ limit: 10001 }), /^rules/],
      [rule({ limit: 1.5 }), /^rules/],
      [rule({ limit: '5' }), /^rules/],
      [rule({ window_s: 0 }), /^rules/],
      [rule({ window_s: 86401 }), /^rules/],
      [rule({ deny_s: -1 }), /^rules/],
      [rule({ deny_s: 2592001 }), /^rules/],
      [rule({ identifier: 'PHONE' }), /^rules/],
      [rule({ identifier: 'IP' }), /^rules/],
      [rule({ extra: 1 }), /^rules/],
      [{ rules: [{ identifier: 'ADDRESS', limit: 5, window_s: 60 }] }, /^rules/],
      [{ rules: [{ identifier: 'ADDRESS', limit: 5, window_s: 60, deny_s: 60 },
        { identifier: 'ADDRESS', limit: 6, window_s: 60, deny_s: 60 }] }, /^rules/],
      [{ rules: {} }, /^rules/],
      [{ enabled: 'true' }, /^enabled$/],
      [{ dry_run: 1 }, /^dry_run$/],
      [{ surprise: true }, /^surprise$/],
    ];
    for (const [body, field] of cases) {
      const r = await api(d.url, 'PATCH', filterPath(ctx.iid), { key: ctx.admin, body });
      assertError(r, 400, 'InvalidParameter', undefined, JSON.stringify(body));
      assert.match(String(r.json.error.field), field, `field of ${JSON.stringify(body)}: ${show(r)}`);
    }
    const f = await getFilter(d, ctx.admin, ctx.iid);
    assert.deepEqual([...f.rules].sort(byId), [...DEFAULT_FILTER.rules].sort(byId), 'a refused PATCH changed the rules');
    assert.equal(f.dry_run, false);
    assert.equal(f.enabled, true);
  });
});

describe('a flood from one number (callbacks, default 5 per hour per number)', () => {
  test('the first 5 pass, the rest get 403 ContactBlocked; the number is deny-listed AUTOMATIC for deny_s; another number is unaffected', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const n = nextNumber();
    const other = nextNumber();
    // Each from another address: it is the number that is counted.
    for (let i = 1; i <= 5; i++) {
      const r = await callbackFrom(d, ctx, nextV4(), n.national);
      assert.equal(r.status, 201, `callback ${i} of 5: ${show(r)}`);
      assert.match(r.json.contact_id, /^ct_/, show(r));
    }
    const t0 = Date.now();
    assertBlocked(await callbackFrom(d, ctx, nextV4(), n.national), 'callback 6');
    const t1 = Date.now();
    assertBlocked(await callbackFrom(d, ctx, nextV4(), n.national), 'callback 7');
    // The same number written in E.164 is the same identifier.
    assertBlocked(await callbackFrom(d, ctx, nextV4(), n.e164), 'callback 8 (E.164)');

    const e = await autoEntry(ctx, 'NUMBER', n.e164);
    assertExpiresAbout(e, t0, t1, HOUR);
    const ips = await denyEntries(d, ctx.admin, ctx.iid, 'type=IP');
    assert.deepEqual(ips, [], 'an address was deny-listed by a number flood');
    const auto = await denyEntries(d, ctx.admin, ctx.iid, 'source=AUTOMATIC');
    assert.deepEqual(auto.map((x) => x.id), [e.id], 'source=AUTOMATIC');
    assert.deepEqual(await denyEntries(d, ctx.admin, ctx.iid, 'source=MANUAL'), [], 'source=MANUAL');

    const ok = await callbackFrom(d, ctx, nextV4(), other.national);
    assert.equal(ok.status, 201, `another number: ${show(ok)}`);

    // The refused callback has a record of its own.
    const blocked = (await contacts(d, ctx.admin, ctx.iid, 'channel=CALLBACK'))
      .filter((c) => c.disconnect_reason === 'CONTACT_FILTER');
    assert.ok(blocked.length >= 1, 'no CALLBACK record with disconnect_reason CONTACT_FILTER');
    for (const c of blocked) {
      assert.equal(c.state, 'ENDED', JSON.stringify(c));
      assert.equal(c.queue, null, `a refused callback was queued: ${JSON.stringify(c)}`);
    }
    const accepted = (await contacts(d, ctx.admin, ctx.iid, 'channel=CALLBACK'))
      .filter((c) => c.disconnect_reason !== 'CONTACT_FILTER');
    assert.equal(accepted.length, 6, `accepted callbacks: ${JSON.stringify(accepted.map((c) => c.id))}`);
  });

  test('an automatic entry expires on time (deny_s 3, window_s 1) and the number is taken again', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await setRule(d, ctx.admin, ctx.iid, 'NUMBER', { limit: 2, window_s: 1, deny_s: 3 });
    const n = nextNumber();
    for (let i = 1; i <= 2; i++) {
      const r = await callbackFrom(d, ctx, nextV4(), n.national);
      assert.equal(r.status, 201, `callback ${i} of 2: ${show(r)}`);
    }
    const t0 = Date.now();
    assertBlocked(await callbackFrom(d, ctx, nextV4(), n.national), 'callback 3');
    const t1 = Date.now();
    const e = await autoEntry(ctx, 'NUMBER', n.e164);
    assertExpiresAbout(e, t0, t1, 3000);
    const exp = ms(e.expires_at);

    // Poll: refused until the entry expires (refused contacts are not counted,
    // and the window of 1 s has emptied long before), then taken.
    let passedAt = null;
    let last;
    const deadline = t1 + 3000 + 3000;
    while (Date.now() < deadline) {
      const sent = Date.now();
      last = await callbackFrom(d, ctx, nextV4(), n.national);
      if (last.status === 201) { passedAt = sent; break; }
      assertBlocked(last, `while listed (${sent - t0} ms after the refusal)`);
      await new Promise((res) => setTimeout(res, 100)); // poll interval, not synchronization
    }
    assert.ok(passedAt !== null, `still refused ${Date.now() - t0} ms after the refusal with deny_s 3: ${show(last)}`);
    assert.ok(passedAt >= t0 + 2000, `taken ${passedAt - t0} ms after the refusal: the 3 s entry expired early`);
    assert.ok(passedAt <= exp + 1500, `taken ${passedAt - exp} ms after expires_at ${e.expires_at}`);

    // Past the limit again: listed again (the expired entry does not stand in the way).
    const second = await callbackFrom(d, ctx, nextV4(), n.national);
    assert.equal(second.status, 201, `the second contact after the expiry: ${show(second)}`);
    const t2 = Date.now();
    assertBlocked(await callbackFrom(d, ctx, nextV4(), n.national), 'past the limit again after the expiry');
    const live = (await denyEntries(d, ctx.admin, ctx.iid, 'type=NUMBER'))
      .filter((x) => x.value === n.e164 && ms(x.expires_at) > Date.now());
    assert.equal(live.length, 1, `one unexpired entry for the number after the second flood: ${JSON.stringify(live)}`);
    assert.equal(live[0].source, 'AUTOMATIC');
    assertExpiresAbout(live[0], t2, Date.now(), 3000);
  });
});

describe('a flood from one address (chats, default 20 per 10 minutes per address)', () => {
  test('IPv4 with the default rule: 20 pass, the 21st and later get ContactBlocked; the address is listed for an hour; another address is fine; every public route refuses it', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const ip = nextV4();
    for (let i = 1; i <= 20; i++) {
      const r = await chatFrom(d, ctx, ip, { body: { display_name: `Flood ${i}` } });
      assert.equal(r.status, 201, `chat ${i} of 20: ${show(r)}`);
    }
    const t0 = Date.now();
    assertBlocked(await chatFrom(d, ctx, ip), 'chat 21');
    const t1 = Date.now();
    assertBlocked(await chatFrom(d, ctx, ip, { body: { email: 'someone.else@example.com' } }), 'chat 22');
    // Listed: a callback from that address is refused too (deny list, step 1).
    assertBlocked(await callbackFrom(d, ctx, ip, nextNumber().national), 'a callback from the listed address');

    const e = await autoEntry(ctx, 'IP', ip);
    assertExpiresAbout(e, t0, t1, HOUR);
    assert.deepEqual((await denyEntries(d, ctx.admin, ctx.iid, 'type=NUMBER')).concat(
      await denyEntries(d, ctx.admin, ctx.iid, 'type=EMAIL')), [], 'something else was listed');

    const ok = await chatFrom(d, ctx, nextV4());
    assert.equal(ok.status, 201, `another address: ${show(ok)}`);
  });

  test('IPv6: addresses of one /64 count together and the /64 is listed; another /64 (same /48) is fine', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 3, window_s: 600, deny_s: 3600 });
    const net = nextV6Net();
    const sameNet = [`${net}::1`, `${net}::2`, `${net}:abcd:ef01:2345:6789`];
    for (const ip of sameNet) {
      const r = await chatFrom(d, ctx, ip);
      assert.equal(r.status, 201, `${ip}: ${show(r)}`);
    }
    const t0 = Date.now();
    assertBlocked(await chatFrom(d, ctx, `${net}::ffff`), `a fourth address of ${net}::/64`);
    const t1 = Date.now();
    assertBlocked(await chatFrom(d, ctx, `${net}:1::1`), `a fifth address of ${net}::/64`);
    const e = await autoEntry(ctx, 'IP', `${net}::/64`);
    assertExpiresAbout(e, t0, t1, HOUR);

    const [a, b, c] = net.split(':');
    const sibling = `${a}:${b}:${c}:ffff::1`; // same /48, another /64
    const ok = await chatFrom(d, ctx, sibling);
    assert.equal(ok.status, 201, `${sibling}: ${show(ok)}`);
    const other = await chatFrom(d, ctx, `${nextV6Net()}::1`);
    assert.equal(other.status, 201, `another /64: ${show(other)}`);
  });

  test('IPv4-mapped IPv6 (::ffff:a.b.c.d from a dual-stack proxy) counts as its IPv4 address, not as one shared /64', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 2, window_s: 600, deny_s: 3600 });
    // Three different clients behind the mapped prefix: were they one /64, the third would be refused.
    const a = nextV4();
    for (const ip of [a, nextV4(), nextV4()]) {
      const r = await chatFrom(d, ctx, `::ffff:${ip}`);
      assert.equal(r.status, 201, `::ffff:${ip}: ${show(r)}`);
    }
    // The mapped and the plain form are one client: the second from a passes, the third is refused.
    assert.equal((await chatFrom(d, ctx, a)).status, 201, `${a}, its second contact`);
    assertBlocked(await chatFrom(d, ctx, `::ffff:${a}`), `${a}, its third contact (mapped form)`);
    await autoEntry(ctx, 'IP', a);
  });

  test('one e-mail (default 10 per hour), whatever its case and address: the 11th is refused and the lower-cased e-mail is listed', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const local = `flood-${process.pid}`;
    for (let i = 1; i <= 10; i++) {
      const email = i % 2 ? `${local}@Example.COM` : `${local.toUpperCase()}@example.com`;
      const r = await chatFrom(d, ctx, nextV4(), { body: { email } });
      assert.equal(r.status, 201, `chat ${i} of 10 with ${email}: ${show(r)}`);
    }
    const t0 = Date.now();
    assertBlocked(await chatFrom(d, ctx, nextV4(), { body: { email: `${local}@example.com` } }), 'chat 11');
    const t1 = Date.now();
    const e = await autoEntry(ctx, 'EMAIL', `${local}@example.com`);
    assertExpiresAbout(e, t0, t1, HOUR);
    assert.deepEqual(await denyEntries(d, ctx.admin, ctx.iid, 'type=IP'), [], 'an address was listed by an e-mail flood');
    const ok = await chatFrom(d, ctx, nextV4(), { body: { email: `other-${process.pid}@example.com` } });
    assert.equal(ok.status, 201, `another e-mail: ${show(ok)}`);
    const noMail = await chatFrom(d, ctx, nextV4());
    assert.equal(noMail.status, 201, `no e-mail: ${show(noMail)}`);
  });

  test('refused contacts are not counted: with deny_s 0, requests refused inside the window do not keep it full', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 2, window_s: 2, deny_s: 0 });
    const ip = nextV4();
    const first = Date.now();
    for (let i = 1; i <= 2; i++) {
      const r = await chatFrom(d, ctx, ip);
      assert.equal(r.status, 201, `chat ${i} of 2: ${show(r)}`);
    }
    // Keep asking every 150 ms: refused while the two accepted contacts are in the
    // window, taken once the first leaves it. Were the refusals counted, the window
    // would never empty.
    let refused = 0;
    let passedAt = null;
    let last;
    while (Date.now() < first + 2000 + 2500) {
      const sent = Date.now();
      last = await chatFrom(d, ctx, ip);
      if (last.status === 201) { passedAt = sent; break; }
      assertBlocked(last, `inside the window (${sent - first} ms after the first contact)`);
      refused += 1;
      await new Promise((res) => setTimeout(res, 150)); // poll interval, not synchronization
    }
    assert.ok(refused >= 3, `only ${refused} refusals inside a 2 s window`);
    assert.ok(passedAt !== null, `still refused ${Date.now() - first} ms after the first contact (window_s 2): ${show(last)}; refused contacts were counted, or deny_s 0 listed the address`);
    assert.ok(passedAt >= first + 1900, `taken ${passedAt - first} ms after the first contact, inside the 2 s window`);
  });

  test('callbacks count the address too', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 2, window_s: 600, deny_s: 3600 });
    const ip = nextV4();
    for (let i = 1; i <= 2; i++) {
      const r = await callbackFrom(d, ctx, ip, nextNumber().national);
      assert.equal(r.status, 201, `callback ${i}: ${show(r)}`);
    }
    assertBlocked(await callbackFrom(d, ctx, ip, nextNumber().national), 'callback 3 from one address');
    await autoEntry(ctx, 'IP', ip);
  });
});

describe('a refused contact: record, audit event, metric', () => {
  test('chat: record ENDED with CONTACT_FILTER and the client address; contact_filter.blocked; bulwark_contacts_blocked_total +1', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 1, window_s: 600, deny_s: 3600 });
    const before = metricValue((await getMetrics(d)).samples, 'bulwark_contacts_blocked_total', { instance: ctx.iid }) ?? 0;
    const ip = nextV4();
    const first = await chatFrom(d, ctx, ip);
    assert.equal(first.status, 201, show(first));
    const t0 = Date.now();
    const refused = await chatFrom(d, ctx, ip, { headers: { 'x-request-id': `blocked-${process.pid}` } });
    assertBlocked(refused, 'chat 2 with limit 1');
    assert.ok(!/participant_token|bwc_/.test(refused.text), `a refused chat got a token: ${show(refused)}`);
    const t1 = Date.now();

    const recs = (await contacts(d, ctx.admin, ctx.iid)).filter((c) => c.disconnect_reason === 'CONTACT_FILTER');
    assert.equal(recs.length, 1, `records with CONTACT_FILTER: ${JSON.stringify(recs)}`);
    const [rec] = recs;
    assert.match(rec.id, /^ct_/, JSON.stringify(rec));
    assert.notEqual(rec.id, first.json.contact_id);
    assert.equal(rec.state, 'ENDED', JSON.stringify(rec));
    assert.equal(rec.channel, 'CHAT', JSON.stringify(rec));
    assert.equal(rec.entry_point_id, ctx.entryPoint.id, JSON.stringify(rec));
    assert.equal(rec.queue, null, JSON.stringify(rec));
    assert.equal(rec.agent, null, JSON.stringify(rec));
    assert.equal(rec.customer_endpoint?.address, ip, `the record does not name the client address: ${JSON.stringify(rec)}`);
    const dt = ms(rec.disconnect_timestamp, 'disconnect_timestamp');
    assert.ok(dt >= t0 - 1000 && dt <= t1 + 1000, `disconnect_timestamp ${rec.disconnect_timestamp}`);
    // Searchable by state.
    const ended = await contacts(d, ctx.admin, ctx.iid, 'state=ENDED&channel=CHAT');
    assert.ok(ended.some((c) => c.id === rec.id), 'state=ENDED&channel=CHAT misses the refused contact');
    const one = await api(d.url, 'GET', `/v1/instances/${ctx.iid}/contacts/${rec.id}`, { key: ctx.admin });
    assert.equal(one.status, 200, show(one));
    assert.equal(one.json.disconnect_reason, 'CONTACT_FILTER', show(one));

    const blockedEvents = await auditEvents(d, ctx.admin, ctx.iid, 'contact_filter.blocked');
    assert.ok(blockedEvents.length >= 1, 'no contact_filter.blocked audit event');
    assert.ok(blockedEvents.every((ev) => ev.instance_id === ctx.iid), JSON.stringify(blockedEvents));

    const after = (await getMetrics(d)).samples;
    const now = metricValue(after, 'bulwark_contacts_blocked_total', { instance: ctx.iid });
    assert.equal(now, before + 1, `bulwark_contacts_blocked_total{instance="${ctx.iid}"}: ${before} → ${now}`);
    const byAddress = metricValue(after, 'bulwark_contacts_blocked_total', { instance: ctx.iid, identifier: 'ADDRESS' });
    assert.equal(byAddress, 1, `bulwark_contacts_blocked_total{instance,identifier="ADDRESS"}: ${byAddress}; samples: ${JSON.stringify(after.filter((s) => s.name === 'bulwark_contacts_blocked_total'))}`);
  });

  test('callback: the metric counts it under identifier NUMBER; the record is a CALLBACK ended by CONTACT_FILTER', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await setRule(d, ctx.admin, ctx.iid, 'NUMBER', { limit: 1, window_s: 600, deny_s: 3600 });
    const n = nextNumber();
    assert.equal((await callbackFrom(d, ctx, nextV4(), n.national)).status, 201);
    assertBlocked(await callbackFrom(d, ctx, nextV4(), n.national), 'callback 2 with limit 1');
    const samples = (await getMetrics(d)).samples;
    const v = metricValue(samples, 'bulwark_contacts_blocked_total', { instance: ctx.iid, identifier: 'NUMBER' });
    assert.equal(v, 1, `bulwark_contacts_blocked_total{identifier="NUMBER"}: ${JSON.stringify(samples.filter((s) => s.name === 'bulwark_contacts_blocked_total' && s.labels.instance === ctx.iid))}`);
    const recs = (await contacts(d, ctx.admin, ctx.iid, 'channel=CALLBACK')).filter((c) => c.disconnect_reason === 'CONTACT_FILTER');
    assert.equal(recs.length, 1, JSON.stringify(recs));
    assert.equal(recs[0].state, 'ENDED');
    assert.equal(recs[0].entry_point_id, ctx.callbackEntryPoint.id);
  });
});

describe('dry run and a disabled filter', () => {
  test('dry run refuses nothing and lists nothing, but records contact_filter.dry_run', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 2, window_s: 600, deny_s: 3600 });
    await patchFilter(d, ctx.admin, ctx.iid, { dry_run: true });
    const metricBefore = metricValue((await getMetrics(d)).samples, 'bulwark_contacts_blocked_total', { instance: ctx.iid }) ?? 0;
    const ip = nextV4();
    for (let i = 1; i <= 5; i++) {
      const r = await chatFrom(d, ctx, ip);
      assert.equal(r.status, 201, `chat ${i} of 5 in dry run (limit 2): ${show(r)}`);
    }
    const n = nextNumber();
    for (let i = 1; i <= 7; i++) {
      const r = await callbackFrom(d, ctx, nextV4(), n.national);
      assert.equal(r.status, 201, `callback ${i} of 7 in dry run (limit 5): ${show(r)}`);
    }
    assert.deepEqual(await denyEntries(d, ctx.admin, ctx.iid), [], 'dry run deny-listed something');
    const dry = await auditEvents(d, ctx.admin, ctx.iid, 'contact_filter.dry_run');
    assert.ok(dry.length >= 2, `contact_filter.dry_run events: ${dry.length} (an address and a number went past their limits)`);
    assert.deepEqual(await auditEvents(d, ctx.admin, ctx.iid, 'contact_filter.blocked'), [], 'dry run recorded a block');
    const recs = (await contacts(d, ctx.admin, ctx.iid)).filter((c) => c.disconnect_reason === 'CONTACT_FILTER');
    assert.deepEqual(recs, [], 'dry run ended a contact with CONTACT_FILTER');
    const metricAfter = metricValue((await getMetrics(d)).samples, 'bulwark_contacts_blocked_total', { instance: ctx.iid }) ?? 0;
    assert.equal(metricAfter, metricBefore, 'dry run counted blocked contacts');
  });

  test('enabled false: no limit applies and nothing is recorded; the deny list still does', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    await setRule(d, ctx.admin, ctx.iid, 'ADDRESS', { limit: 1, window_s: 600, deny_s: 3600 });
    await patchFilter(d, ctx.admin, ctx.iid, { enabled: false });
    const ip = nextV4();
    for (let i = 1; i <= 3; i++) {
      const r = await chatFrom(d, ctx, ip);
      assert.equal(r.status, 201, `chat ${i} with the filter disabled: ${show(r)}`);
    }
    assert.deepEqual(await denyEntries(d, ctx.admin, ctx.iid), []);
    assert.deepEqual(await auditEvents(d, ctx.admin, ctx.iid, 'contact_filter.dry_run'), []);
    const listed = nextV4();
    await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: listed, reason: 'manual' });
    assertBlocked(await chatFrom(d, ctx, listed), 'a listed address with the filter disabled');
  });
});
