// The deny list by hand (docs/api.md "Deny list"): IP (an address or a CIDR
// range, no host bits), NUMBER (E.164), EMAIL (lower-cased) entries; a listed
// address, range, number or e-mail is refused at the public entry with 403
// ContactBlocked before any flow; 409 on a repeated (type, value); 400 naming
// the field for a bad value; GET one and lists with filters and paging;
// PATCH reason and expires_at (an entry whose expiry passes stops matching);
// DELETE; Fraud.View vs Fraud.Edit (an Agent gets 403; another instance's
// entry is 404); the CSV import imports all rows or none; every change is
// audited.
//
// The daemon trusts X-Forwarded-For from loopback. No sleeps: every wait polls
// with a deadline.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, removeTempDir, api, show } from './lib/daemon.mjs';
import { assertError, createProfile, userWithToken } from './lib/identity.mjs';
import {
  readyAgent, isOffer, listAll, publishFlow, openSocket, bearer,
} from './lib/chat.mjs';
import { createEntryPoint } from './lib/routing.mjs';
import {
  startFraudDaemon, nextV4, nextV6Net, nextNumber, chatFrom, callbackFrom, assertBlocked,
  setupCallbackCenter, denyPath, filterPath, denyEntries, createDeny, auditEvents, contacts, ms, unique,
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

const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const ENTRY_KEYS = ['created_at', 'expires_at', 'id', 'reason', 'source', 'type', 'value'];

function post(ctx, body, headers = {}, token = ctx.admin) {
  return api(d.url, 'POST', denyPath(ctx.iid), { key: token, body, headers });
}

describe('manual entries', () => {
  test('create IP, CIDR (v4 and v6), NUMBER and EMAIL entries: shape, normalization, source MANUAL; 409 on a repeated (type, value)', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const future = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const cases = [
      [{ type: 'IP', value: '203.0.113.9', reason: 'abuse' }, '203.0.113.9'],
      [{ type: 'IP', value: '198.51.100.0/24' }, '198.51.100.0/24'],
      [{ type: 'IP', value: '2001:db8:5::/48', expires_at: future }, '2001:db8:5::/48'],
      [{ type: 'NUMBER', value: '+12025550147', reason: 'fraud ring' }, '+12025550147'],
      [{ type: 'EMAIL', value: 'Mallory@Example.COM' }, 'mallory@example.com'],
      [{ type: 'IP', value: '2001:0DB8:0000:0000:0000:0000:0000:0abc' }, '2001:db8::abc'], // canonical text
    ];
    const made = [];
    for (const [body, value] of cases) {
      const t0 = Date.now();
      const r = await post(ctx, body);
      assert.equal(r.status, 201, `${JSON.stringify(body)}: ${show(r)}`);
      const e = r.json;
      assert.deepEqual(Object.keys(e).sort(), ENTRY_KEYS, show(r));
      assert.match(e.id, /^dl_/, show(r));
      assert.equal(e.type, body.type);
      assert.equal(e.value, value, `normalized value of ${JSON.stringify(body)}`);
      assert.equal(e.source, 'MANUAL', show(r));
      assert.equal(e.reason, body.reason ?? '', `reason of ${JSON.stringify(body)}: ${show(r)}`);
      if (body.expires_at) assert.equal(ms(e.expires_at), ms(future), show(r));
      else assert.equal(e.expires_at, null, show(r));
      assert.match(e.created_at, TIME_RE, show(r));
      assert.ok(Math.abs(ms(e.created_at) - t0) < 5000, `created_at ${e.created_at}`);
      made.push(e);
    }
    assert.equal(new Set(made.map((e) => e.id)).size, made.length, 'ids repeat');
    const one = await api(d.url, 'GET', denyPath(ctx.iid, `/${made[3].id}`), { key: ctx.admin });
    assert.equal(one.status, 200, show(one));
    assert.deepEqual(one.json, made[3]);

    for (const body of [
      { type: 'IP', value: '203.0.113.9' },
      { type: 'IP', value: '198.51.100.0/24', reason: 'again' },
      { type: 'NUMBER', value: '+12025550147' },
      { type: 'EMAIL', value: 'mallory@example.com' }, // the same e-mail in another case
      { type: 'IP', value: '2001:db8::abc' }, // the same address written otherwise
    ]) {
      const r = await post(ctx, body);
      assertError(r, 409, 'Conflict', undefined, JSON.stringify(body));
    }
    const all = await denyEntries(d, ctx.admin, ctx.iid);
    assert.equal(all.length, made.length, `a refused duplicate was stored: ${JSON.stringify(all)}`);
  });

  test('bad values → 400 InvalidParameter naming the field; nothing is stored', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const cases = [
      [{ type: 'IP', value: '198.51.100.1/24' }, 'value'], // host bits
      [{ type: 'IP', value: '2001:db8::1/64' }, 'value'], // host bits
      [{ type: 'IP', value: '10.0.0.0/33' }, 'value'],
      [{ type: 'IP', value: '300.1.2.3' }, 'value'],
      [{ type: 'IP', value: 'example.com' }, 'value'],
      [{ type: 'IP', value: '' }, 'value'],
      [{ type: 'NUMBER', value: '2025550147' }, 'value'], // no +
      [{ type: 'NUMBER', value: '+1202' }, 'value'], // too short
      [{ type: 'NUMBER', value: '+1234567890123456' }, 'value'], // 16 digits
      [{ type: 'NUMBER', value: '+1 202 555 0147' }, 'value'], // not E.164
      [{ type: 'NUMBER', value: '+1202555014a' }, 'value'],
      [{ type: 'EMAIL', value: 'no-at-sign' }, 'value'],
      [{ type: 'EMAIL', value: '@example.com' }, 'value'],
      [{ type: 'EMAIL', value: `${'a'.repeat(250)}@example.com` }, 'value'],
      [{ type: 'PHONE', value: '+12025550147' }, 'type'],
      [{ type: 'ip', value: '203.0.113.9' }, 'type'],
      [{ value: '203.0.113.9' }, 'type'],
      [{ type: 'IP' }, 'value'],
      [{ type: 'IP', value: 42 }, 'value'],
      [{ type: 'IP', value: '203.0.113.10', expires_at: 'tomorrow' }, 'expires_at'],
      [{ type: 'IP', value: '203.0.113.10', reason: 7 }, 'reason'],
      [{ type: 'IP', value: '203.0.113.10', source: 'AUTOMATIC' }, 'source'],
      [{ type: 'IP', value: '203.0.113.10', id: 'dl_mine' }, 'id'],
    ];
    for (const [body, field] of cases) {
      const r = await post(ctx, body);
      assertError(r, 400, 'InvalidParameter', field, JSON.stringify(body).slice(0, 120));
    }
    assert.deepEqual(await denyEntries(d, ctx.admin, ctx.iid), [], 'a refused entry was stored');
  });

  test('a listed address, range, number or e-mail is refused with ContactBlocked before any flow', async () => {
    const ctx = await setupCallbackCenter(d, init.key, { agents: 1 });
    const [agent] = ctx.agents;
    try {
      await readyAgent(d, ctx.iid, agent); // CALLBACK capacity: a callback that reached a flow would be offered
      const ip = nextV4();
      const net6 = nextV6Net();
      const n = nextNumber();
      const local = `listed-${process.pid}`;
      await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: ip });
      await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: '192.0.2.0/24' });
      await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: `${net6}::/64` });
      await createDeny(d, ctx.admin, ctx.iid, { type: 'NUMBER', value: n.e164 });
      await createDeny(d, ctx.admin, ctx.iid, { type: 'EMAIL', value: `${local}@example.com` });

      assertBlocked(await chatFrom(d, ctx, ip), 'chat from a listed address');
      assertBlocked(await callbackFrom(d, ctx, ip, nextNumber().national), 'callback from a listed address');
      assertBlocked(await chatFrom(d, ctx, '192.0.2.77'), 'chat from a listed range');
      assertBlocked(await chatFrom(d, ctx, `${net6}:1:2:3:4`), 'chat from a listed IPv6 /64');
      assertBlocked(await callbackFrom(d, ctx, nextV4(), n.national), 'callback to a listed number (national form)');
      assertBlocked(await callbackFrom(d, ctx, nextV4(), n.e164), 'callback to a listed number (E.164)');
      assertBlocked(await chatFrom(d, ctx, nextV4(), { body: { email: `${local.toUpperCase()}@Example.com` } }), 'chat with a listed e-mail');
      // The address is checked first of all: even a request that names no entry point is refused as blocked.
      assertBlocked(await chatFrom(d, ctx, ip, { entryPoint: 'ep_nonexistent' }), 'a listed address with a bad entry point');

      // Neighbours pass.
      for (const [what, r] of [
        ['the next address', await chatFrom(d, ctx, nextV4())],
        ['outside the range', await chatFrom(d, ctx, '192.0.3.1')],
        ['another /64', await chatFrom(d, ctx, `${nextV6Net()}::1`)],
        ['another e-mail', await chatFrom(d, ctx, nextV4(), { body: { email: `not-${local}@example.com` } })],
      ]) assert.equal(r.status, 201, `${what}: ${show(r)}`);
      const okCallback = await callbackFrom(d, ctx, nextV4(), nextNumber().national);
      assert.equal(okCallback.status, 201, `another number: ${show(okCallback)}`);
      // That one reaches the flow and is offered; no refused one was.
      await agent.stream.next(isOffer(okCallback.json.contact_id), { what: 'the offer of the accepted callback' });
      await agent.stream.barrier();
      const offers = agent.stream.seen((f) => f.type === 'offer');
      assert.deepEqual(offers.map((f) => f.contact_id), [okCallback.json.contact_id], 'a refused callback was offered');
      // No refused contact ran a flow: none was queued, none is live.
      for (const c of await contacts(d, ctx.admin, ctx.iid)) {
        if (c.id === okCallback.json.contact_id) continue;
        if (c.disconnect_reason === 'CONTACT_FILTER') {
          assert.equal(c.state, 'ENDED', JSON.stringify(c));
          assert.equal(c.queue, null, JSON.stringify(c));
        } else {
          // the accepted chats: waiting for their customer socket, no flow yet
          assert.equal(c.channel, 'CHAT', JSON.stringify(c));
          assert.equal(c.queue, null, JSON.stringify(c));
        }
      }
    } finally {
      await agent.stream?.close();
    }
  });

  test('GET one, list with filters and paging; PATCH reason and expires_at; DELETE', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const ips = [nextV4(), nextV4(), nextV4()];
    const made = [];
    for (const ip of ips) made.push(await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: ip }));
    made.push(await createDeny(d, ctx.admin, ctx.iid, { type: 'NUMBER', value: nextNumber().e164 }));
    made.push(await createDeny(d, ctx.admin, ctx.iid, { type: 'EMAIL', value: `paged-${process.pid}@example.com` }));

    const all = await denyEntries(d, ctx.admin, ctx.iid);
    assert.deepEqual(all.map((e) => e.id).sort(), made.map((e) => e.id).sort());
    const onlyIp = await denyEntries(d, ctx.admin, ctx.iid, 'type=IP');
    assert.deepEqual(onlyIp.map((e) => e.id).sort(), made.slice(0, 3).map((e) => e.id).sort(), 'type=IP');
    assert.deepEqual((await denyEntries(d, ctx.admin, ctx.iid, 'type=NUMBER')).map((e) => e.id), [made[3].id], 'type=NUMBER');
    assert.deepEqual((await denyEntries(d, ctx.admin, ctx.iid, 'source=MANUAL')).length, 5, 'source=MANUAL');
    assert.deepEqual(await denyEntries(d, ctx.admin, ctx.iid, 'source=AUTOMATIC'), [], 'source=AUTOMATIC');
    // Paging two at a time sees each entry once.
    const paged = await listAll(d, ctx.admin, denyPath(ctx.iid), 2);
    assert.deepEqual(paged.map((e) => e.id).sort(), made.map((e) => e.id).sort(), 'paging with limit=2');
    for (const q of ['type=PHONE', 'source=BOTH', 'limit=0', 'limit=1001']) {
      const r = await api(d.url, 'GET', denyPath(ctx.iid, `?${q}`), { key: ctx.admin });
      assertError(r, 400, 'InvalidParameter', q.split('=')[0], q);
    }

    // PATCH reason and expiry.
    const target = made[0];
    const exp = new Date(Date.now() + 48 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    const p = await api(d.url, 'PATCH', denyPath(ctx.iid, `/${target.id}`), { key: ctx.admin, body: { reason: 'chargebacks', expires_at: exp } });
    assert.equal(p.status, 200, show(p));
    assert.equal(p.json.reason, 'chargebacks');
    assert.equal(ms(p.json.expires_at), ms(exp));
    assert.equal(p.json.value, target.value);
    assert.equal(p.json.source, 'MANUAL');
    const g = await api(d.url, 'GET', denyPath(ctx.iid, `/${target.id}`), { key: ctx.admin });
    assert.deepEqual(g.json, p.json, 'GET after PATCH');
    const back = await api(d.url, 'PATCH', denyPath(ctx.iid, `/${target.id}`), { key: ctx.admin, body: { expires_at: null } });
    assert.equal(back.status, 200, show(back));
    assert.equal(back.json.expires_at, null, `expires_at null makes it permanent: ${show(back)}`);
    assert.equal(back.json.reason, 'chargebacks', 'a PATCH of expires_at changed the reason');
    for (const [body, field] of [
      [{ value: '203.0.113.200' }, 'value'], [{ type: 'EMAIL' }, 'type'], [{ expires_at: 'soon' }, 'expires_at'],
      [{ reason: ['x'] }, 'reason'], [{ source: 'AUTOMATIC' }, 'source'],
    ]) {
      const r = await api(d.url, 'PATCH', denyPath(ctx.iid, `/${target.id}`), { key: ctx.admin, body });
      assertError(r, 400, 'InvalidParameter', field, JSON.stringify(body));
    }
    assertBlocked(await chatFrom(d, ctx, target.value), 'still listed after the PATCHes');

    // DELETE: the address is taken again.
    const del = await api(d.url, 'DELETE', denyPath(ctx.iid, `/${target.id}`), { key: ctx.admin });
    assert.equal(del.status, 204, show(del));
    assert.equal(del.text, '');
    const gone = await api(d.url, 'GET', denyPath(ctx.iid, `/${target.id}`), { key: ctx.admin });
    assertError(gone, 404, 'NotFound');
    assertError(await api(d.url, 'DELETE', denyPath(ctx.iid, `/${target.id}`), { key: ctx.admin }), 404, 'NotFound', undefined, 'DELETE again');
    assertError(await api(d.url, 'PATCH', denyPath(ctx.iid, `/${target.id}`), { key: ctx.admin, body: { reason: 'x' } }), 404, 'NotFound', undefined, 'PATCH deleted');
    const ok = await chatFrom(d, ctx, target.value);
    assert.equal(ok.status, 201, `a deleted entry still refuses: ${show(ok)}`);
    // After a DELETE the same (type, value) may be listed again.
    await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: target.value });
  });

  test('an entry whose expires_at passes stops matching at once', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const ip = nextV4();
    const e = await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: ip, expires_at: new Date(Date.now() + 3600e3).toISOString() });
    assertBlocked(await chatFrom(d, ctx, ip), 'listed for an hour');
    const soon = Date.now() + 2000;
    const p = await api(d.url, 'PATCH', denyPath(ctx.iid, `/${e.id}`), { key: ctx.admin, body: { expires_at: new Date(soon).toISOString() } });
    assert.equal(p.status, 200, show(p));
    const exp = ms(p.json.expires_at);
    assert.ok(Math.abs(exp - soon) <= 1000, `expires_at ${p.json.expires_at} is not the time given`);
    let passedAt = null;
    let last;
    while (Date.now() < exp + 3000) {
      const sent = Date.now();
      last = await chatFrom(d, ctx, ip);
      if (last.status === 201) { passedAt = sent; break; }
      assertBlocked(last, `before expiry (${exp - sent} ms left)`);
      await new Promise((res) => setTimeout(res, 100)); // poll interval, not synchronization
    }
    assert.ok(passedAt !== null, `still refused 3 s after expires_at: ${show(last)}`);
    assert.ok(passedAt >= exp - 1100, `taken ${exp - passedAt} ms before expires_at`);
    assert.ok(passedAt <= exp + 1500, `taken only ${passedAt - exp} ms after expires_at`);
  });
});

describe('the CheckContactFilter flow block', () => {
  function checkFlow(identifier) {
    return {
      Version: '2019-10-30',
      StartAction: 'check',
      Actions: [
        {
          Identifier: 'check', Type: 'CheckContactFilter', Parameters: { Identifier: identifier },
          Transitions: { NextAction: 'passed', Errors: [{ NextAction: 'blocked', ErrorType: 'ContactBlocked' }] },
        },
        { Identifier: 'passed', Type: 'MessageParticipant', Parameters: { Text: 'passed' }, Transitions: { NextAction: 'bye' } },
        { Identifier: 'blocked', Type: 'MessageParticipant', Parameters: { Text: 'blocked' }, Transitions: { NextAction: 'bye' } },
        { Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
      ],
    };
  }

  test('a contact whose address or e-mail is listed after it started takes the ContactBlocked branch; another passes', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const socks = [];
    try {
      for (const [identifier, listIt] of [
        ['SourceIp', (ip) => ({ type: 'IP', value: ip })],
        ['Email', (ip, email) => ({ type: 'EMAIL', value: email })],
      ]) {
        const { flow } = await publishFlow(d, ctx.admin, ctx.iid, checkFlow(identifier));
        const ep = await createEntryPoint(d, ctx.admin, ctx.iid, flow.id, { type: 'CHAT' });
        const run = async (listed) => {
          const ip = nextV4();
          const email = `${unique('check').toLowerCase()}@example.com`;
          const r = await chatFrom(d, ctx, ip, { entryPoint: ep.id, body: { email } });
          assert.equal(r.status, 201, show(r));
          if (listed) await createDeny(d, ctx.admin, ctx.iid, listIt(ip, email));
          // The flow starts when the customer's socket opens (from loopback: not listed).
          const sock = await openSocket(r.json.websocket_url, bearer(r.json.participant_token));
          socks.push(sock);
          const m = await sock.next((f) => f.type === 'message' && f.participant_role === 'SYSTEM', { what: `the ${identifier} check's message` });
          const log = await api(d.url, 'GET', `/v1/instances/${ctx.iid}/contacts/${r.json.contact_id}/flow-log`, { key: ctx.admin });
          return { text: m.content, log };
        };
        const clean = await run(false);
        assert.equal(clean.text, 'passed', `${identifier}, not listed`);
        const hit = await run(true);
        assert.equal(hit.text, 'blocked', `${identifier}, listed after the start`);
        assert.ok(hit.log.json.items.some((x) => x.action_id === 'check' && x.branch === 'ContactBlocked'), hit.log.text);
      }
    } finally {
      for (const s of socks) await s.close();
    }
  });
});

describe('who may see and change the deny list', () => {
  test('Fraud.View reads, Fraud.Edit writes; an Agent gets 403; another instance\'s entry is 404', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const other = await setupCallbackCenter(d, init.key);
    const viewP = await createProfile(d, ctx.admin, ctx.iid, unique('fraud-view'), ['Fraud.View']);
    const editP = await createProfile(d, ctx.admin, ctx.iid, unique('fraud-edit'), ['Fraud.Edit']);
    const viewer = await userWithToken(d, ctx.admin, ctx.iid, [viewP.id]);
    const editor = await userWithToken(d, ctx.admin, ctx.iid, [editP.id]);
    const agent = await userWithToken(d, ctx.admin, ctx.iid, [ctx.profiles.Agent.id]);
    const entry = await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: nextV4() });
    const theirs = await createDeny(d, other.admin, other.iid, { type: 'IP', value: nextV4() });
    const csv = 'type,value,reason,expires_at\nIP,192.0.2.9,x,\n';
    const filterBody = { dry_run: true };

    // The viewer reads everything, changes nothing.
    for (const p of [denyPath(ctx.iid), denyPath(ctx.iid, `/${entry.id}`), filterPath(ctx.iid)]) {
      const r = await api(d.url, 'GET', p, { key: viewer.token });
      assert.equal(r.status, 200, `Fraud.View GET ${p}: ${show(r)}`);
    }
    const refusedWrites = (token) => [
      ['POST', denyPath(ctx.iid), { type: 'IP', value: nextV4() }],
      ['PATCH', denyPath(ctx.iid, `/${entry.id}`), { reason: 'x' }],
      ['DELETE', denyPath(ctx.iid, `/${entry.id}`), undefined],
      ['POST', denyPath(ctx.iid, '/import'), { csv }],
      ['PATCH', filterPath(ctx.iid), filterBody],
    ].map(([m, p, body]) => api(d.url, m, p, { key: token, body }).then((r) => [m, p, r]));
    for (const [m, p, r] of await Promise.all(refusedWrites(viewer.token))) {
      assertError(r, 403, 'AccessDenied', undefined, `Fraud.View ${m} ${p}`);
    }
    // The Agent profile holds neither.
    for (const p of [denyPath(ctx.iid), denyPath(ctx.iid, `/${entry.id}`), filterPath(ctx.iid)]) {
      assertError(await api(d.url, 'GET', p, { key: agent.token }), 403, 'AccessDenied', undefined, `Agent GET ${p}`);
    }
    for (const [m, p, r] of await Promise.all(refusedWrites(agent.token))) {
      assertError(r, 403, 'AccessDenied', undefined, `Agent ${m} ${p}`);
    }
    // Nothing changed.
    const still = await api(d.url, 'GET', denyPath(ctx.iid, `/${entry.id}`), { key: ctx.admin });
    assert.deepEqual(still.json, entry, 'a refused write changed the entry');
    assert.equal((await denyEntries(d, ctx.admin, ctx.iid)).length, 1, 'a refused write added an entry');
    assert.equal((await api(d.url, 'GET', filterPath(ctx.iid), { key: ctx.admin })).json.dry_run, false);

    // Fraud.Edit implies Fraud.View.
    const made = await api(d.url, 'POST', denyPath(ctx.iid), { key: editor.token, body: { type: 'EMAIL', value: `ed-${process.pid}@example.com` } });
    assert.equal(made.status, 201, show(made));
    for (const [m, p, body, status] of [
      ['GET', denyPath(ctx.iid), undefined, 200],
      ['PATCH', denyPath(ctx.iid, `/${made.json.id}`), { reason: 'edited' }, 200],
      ['POST', denyPath(ctx.iid, '/import'), { csv }, 200],
      ['GET', filterPath(ctx.iid), undefined, 200],
      ['PATCH', filterPath(ctx.iid), filterBody, 200],
      ['DELETE', denyPath(ctx.iid, `/${made.json.id}`), undefined, 204],
    ]) {
      const r = await api(d.url, m, p, { key: editor.token, body });
      assert.equal(r.status, status, `Fraud.Edit ${m} ${p}: ${show(r)}`);
    }

    // Another instance's entry under this instance's path: 404, and it is untouched.
    for (const [m, body] of [['GET'], ['PATCH', { reason: 'mine now' }], ['DELETE']]) {
      const r = await api(d.url, m, denyPath(ctx.iid, `/${theirs.id}`), { key: ctx.admin, body });
      assertError(r, 404, 'NotFound', undefined, `${m} another instance's entry`);
    }
    const t = await api(d.url, 'GET', denyPath(other.iid, `/${theirs.id}`), { key: other.admin });
    assert.deepEqual(t.json, theirs, 'another instance\'s entry changed');
    assert.ok(!(await denyEntries(d, ctx.admin, ctx.iid)).some((e) => e.id === theirs.id), 'the list shows another instance\'s entry');
    // And it does not block this instance's contacts.
    const r = await chatFrom(d, ctx, theirs.value);
    assert.equal(r.status, 201, `another instance's entry blocked a contact: ${show(r)}`);
    assertBlocked(await chatFrom(d, other, theirs.value), 'the entry in its own instance');
  });
});

describe('CSV import', () => {
  const HEADER = 'type,value,reason,expires_at';

  test('one bad line → 400 with errors[{line,message}] and nothing imported; a good file → imported N', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const existing = await createDeny(d, ctx.admin, ctx.iid, { type: 'IP', value: nextV4() });
    const n = nextNumber();
    const goodRows = [
      'IP,198.51.100.7,abuse,',
      `NUMBER,${n.e164},fraud ring,2099-01-01T00:00:00Z`,
      'EMAIL,Spammer@Example.COM,,',
      'IP,2001:db8:77::/48,,',
    ];
    // Line 1 is the header: the host-bits CIDR is on line 3 of the file, the bad number on line 5.
    const bad = [HEADER, goodRows[0], 'IP,198.51.100.1/24,range with host bits,', goodRows[1], 'NUMBER,555-0100,,', goodRows[2]].join('\n');
    const r = await api(d.url, 'POST', denyPath(ctx.iid, '/import'), { key: ctx.admin, body: { csv: bad } });
    assertError(r, 400, 'InvalidParameter', undefined, 'a file with bad lines');
    const errors = r.json.error.errors ?? r.json.errors;
    assert.ok(Array.isArray(errors), `no errors list: ${show(r)}`);
    for (const e of errors) {
      assert.ok(Number.isInteger(e.line), JSON.stringify(e));
      assert.equal(typeof e.message, 'string', JSON.stringify(e));
    }
    assert.deepEqual(errors.map((e) => e.line).sort((a, b) => a - b), [3, 5], `the bad lines of the file (header = line 1): ${show(r)}`);
    const after = await denyEntries(d, ctx.admin, ctx.iid);
    assert.deepEqual(after.map((e) => e.id), [existing.id], `a refused import stored rows: ${JSON.stringify(after)}`);
    assertBlocked(await chatFrom(d, ctx, existing.value), 'the entry that was there');
    const free = await chatFrom(d, ctx, '198.51.100.7');
    assert.equal(free.status, 201, `a good row of a refused import applies: ${show(free)}`);

    // Other malformed files.
    for (const [what, csv, statuses] of [
      ['no header', goodRows.join('\n'), [400]],
      ['a row with too few columns', `${HEADER}\nIP\n`, [400]],
      ['an unknown type', `${HEADER}\nPHONE,+12025550100,,\n`, [400]],
      ['a bad expires_at', `${HEADER}\nIP,192.0.2.51,,next week\n`, [400]],
      // The contract is silent on repeats: refused (400 with the line, or 409), never half imported.
      ['a repeat inside the file', `${HEADER}\nIP,192.0.2.50,,\nIP,192.0.2.50,,\n`, [400, 409]],
      ['a row that is already listed', `${HEADER}\nIP,192.0.2.52,,\nIP,${existing.value},,\n`, [400, 409]],
    ]) {
      const x = await api(d.url, 'POST', denyPath(ctx.iid, '/import'), { key: ctx.admin, body: { csv } });
      assert.ok(statuses.includes(x.status), `${what}: expected ${statuses.join(' or ')}, got ${show(x)}`);
      assert.equal(x.json?.error?.code, x.status === 409 ? 'Conflict' : 'InvalidParameter', `${what}: ${show(x)}`);
    }
    for (const body of [{}, { csv: 42 }, { csv: 'x', extra: 1 }]) {
      const x = await api(d.url, 'POST', denyPath(ctx.iid, '/import'), { key: ctx.admin, body });
      assertError(x, 400, 'InvalidParameter', undefined, JSON.stringify(body));
    }
    assert.equal((await denyEntries(d, ctx.admin, ctx.iid)).length, 1, 'a refused import stored rows');

    // The good file, with Windows line ends and a trailing newline.
    const good = `${[HEADER, ...goodRows].join('\r\n')}\r\n`;
    const ok = await api(d.url, 'POST', denyPath(ctx.iid, '/import'), { key: ctx.admin, body: { csv: good } });
    assert.equal(ok.status, 200, show(ok));
    assert.deepEqual(ok.json, { imported: 4 }, show(ok));
    const rows = await denyEntries(d, ctx.admin, ctx.iid);
    assert.equal(rows.length, 5, JSON.stringify(rows));
    const find = (type, value) => rows.find((e) => e.type === type && e.value === value);
    const ip = find('IP', '198.51.100.7');
    assert.ok(ip, `imported IP missing: ${JSON.stringify(rows)}`);
    assert.equal(ip.reason, 'abuse');
    assert.equal(ip.expires_at, null);
    assert.equal(ip.source, 'MANUAL');
    const num = find('NUMBER', n.e164);
    assert.ok(num, JSON.stringify(rows));
    assert.equal(ms(num.expires_at), Date.parse('2099-01-01T00:00:00Z'));
    assert.equal(num.reason, 'fraud ring');
    assert.ok(find('EMAIL', 'spammer@example.com'), `the e-mail is not lower-cased: ${JSON.stringify(rows)}`);
    assert.ok(find('IP', '2001:db8:77::/48'), JSON.stringify(rows));
    // The imported rows refuse at once.
    assertBlocked(await chatFrom(d, ctx, '198.51.100.7'), 'an imported address');
    assertBlocked(await chatFrom(d, ctx, '2001:db8:77:1::5'), 'an imported IPv6 range');
    assertBlocked(await chatFrom(d, ctx, nextV4(), { body: { email: 'spammer@example.com' } }), 'an imported e-mail');
    assertBlocked(await callbackFrom(d, ctx, nextV4(), n.national), 'an imported number');

    // Last, so that the rest is checked whatever its outcome: docs/api.md says "400
    // InvalidParameter with errors[{line,message}]"; the same words for InvalidFlow (API.md)
    // mean {"error":{"code","message","errors":[...]}}, so the list belongs inside the error object.
    assert.ok(Array.isArray(r.json.error.errors), `the line errors are not in error.errors (where InvalidFlow has its list): ${show(r)}`);
  });
});

describe('the audit trail', () => {
  test('every change is audited: create, update, delete, import, contact-filter update (refused ones too)', async () => {
    const ctx = await setupCallbackCenter(d, init.key);
    const viewP = await createProfile(d, ctx.admin, ctx.iid, unique('fraud-view'), ['Fraud.View']);
    const viewer = await userWithToken(d, ctx.admin, ctx.iid, [viewP.id]);
    const rid = (s) => `fraud-${s}-${process.pid}`;
    const H = (s) => ({ 'x-request-id': rid(s) });
    const c = await api(d.url, 'POST', denyPath(ctx.iid), { key: ctx.admin, body: { type: 'IP', value: nextV4() }, headers: H('create') });
    assert.equal(c.status, 201, show(c));
    const u = await api(d.url, 'PATCH', denyPath(ctx.iid, `/${c.json.id}`), { key: ctx.admin, body: { reason: 'x' }, headers: H('update') });
    assert.equal(u.status, 200, show(u));
    const x = await api(d.url, 'DELETE', denyPath(ctx.iid, `/${c.json.id}`), { key: ctx.admin, headers: H('delete') });
    assert.equal(x.status, 204, show(x));
    const i = await api(d.url, 'POST', denyPath(ctx.iid, '/import'), { key: ctx.admin, body: { csv: 'type,value,reason,expires_at\nIP,192.0.2.60,,\n' }, headers: H('import') });
    assert.equal(i.status, 200, show(i));
    const bi = await api(d.url, 'POST', denyPath(ctx.iid, '/import'), { key: ctx.admin, body: { csv: 'type,value,reason,expires_at\nIP,192.0.2.61/8,,\n' }, headers: H('import-bad') });
    assert.equal(bi.status, 400, show(bi));
    const f = await api(d.url, 'PATCH', filterPath(ctx.iid), { key: ctx.admin, body: { dry_run: true }, headers: H('filter') });
    assert.equal(f.status, 200, show(f));
    const dup = await api(d.url, 'POST', denyPath(ctx.iid), { key: ctx.admin, body: { type: 'IP', value: '192.0.2.60' }, headers: H('dup') });
    assert.equal(dup.status, 409, show(dup));
    const denied = await api(d.url, 'POST', denyPath(ctx.iid), { key: viewer.token, body: { type: 'IP', value: nextV4() }, headers: H('denied') });
    assert.equal(denied.status, 403, show(denied));

    const events = await auditEvents(d, ctx.admin, ctx.iid);
    const ev = (s) => events.find((e) => e.request_id === rid(s));
    for (const [s, action, result, status] of [
      ['create', 'deny_list.create', 'allowed', 201],
      ['update', 'deny_list.update', 'allowed', 200],
      ['delete', 'deny_list.delete', 'allowed', 204],
      ['import', 'deny_list.import', 'allowed', 200],
      ['import-bad', 'deny_list.import', 'failed', 400],
      ['filter', 'contact_filter.update', 'allowed', 200],
      ['dup', 'deny_list.create', 'failed', 409],
      ['denied', 'deny_list.create', 'denied', 403],
    ]) {
      const e = ev(s);
      assert.ok(e, `no audit event for ${s} (${action}); actions seen: ${JSON.stringify([...new Set(events.map((z) => z.action))])}`);
      assert.equal(e.action, action, `${s}: ${JSON.stringify(e)}`);
      assert.equal(e.result, result, `${s}: ${JSON.stringify(e)}`);
      assert.equal(e.status, status, `${s}: ${JSON.stringify(e)}`);
      assert.equal(e.instance_id, ctx.iid);
      assert.equal(e.principal?.kind, 'user', `${s}: ${JSON.stringify(e)}`);
    }
    assert.equal(ev('create').principal.id, ctx.instance.adminUserId);
    assert.equal(ev('denied').principal.id, viewer.user.id);
    const v = await api(d.url, 'GET', `/v1/instances/${ctx.iid}/audit-events/verify`, { key: ctx.admin });
    assert.equal(v.status, 200, show(v));
    assert.equal(v.json.ok, true, show(v));
  });
});
