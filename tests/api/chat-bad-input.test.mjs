// Bad input on the chat channel (docs/api.md "Starting a chat", "The
// customer socket", "Agents"): chat start bodies refused with the field
// named, customer frames answered with an error frame that leaves the socket
// open (or closed with 1009 / 1007 / 1003 for oversized, invalid UTF-8 and
// binary frames), messages after the end, agent messages over REST and the
// stream. Nothing refused reaches the transcript, and the daemon stays up.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  initData, startDaemon, removeTempDir, api, show, waitFor, assertHealthy,
  wsRawHandshake, wsFrame, wsParseFrames, wsCloseCode,
} from './lib/daemon.mjs';
import { assertError, createInstance, loginToken, unique } from './lib/identity.mjs';
import { createEntryPoint } from './lib/routing.mjs';
import {
  TEXT, PHONE, setupCenter, chatFlow, publishFlow, bearer,
  isMessage, isSystem, isEvent, isError, isOffer, about,
  readyAgent, agentPost, takeOffer, chatStart, startCustomer, say, queuedCustomer, listAll,
} from './lib/chat.mjs';

let init;
let d;
let ctx; // chat start bodies
let sockCtx; // customer frames

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  ctx = await setupCenter(d, init.key, { agents: 0 });
  sockCtx = await setupCenter(d, init.key, { agents: 0 });
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

async function closeAll(...things) {
  for (const t of things.flat()) {
    const c = t?.sock ?? t?.stream ?? t;
    if (c?.close) await c.close();
  }
}

const transcriptOf = (c, cid) => listAll(d, c.admin, `/v1/instances/${c.iid}/contacts/${cid}/transcript`);

describe('POST /v1/public/instances/{iid}/chats: bad bodies', () => {
  test('entry points that cannot start a chat → 400 naming entry_point; an unknown instance → 404', async () => {
    const callback = await createEntryPoint(d, ctx.admin, ctx.iid, ctx.flow.id, { type: 'CALLBACK' });
    const draft = await api(d.url, 'POST', `/v1/instances/${ctx.iid}/flows`, {
      key: ctx.admin, body: { name: unique('draft'), content: chatFlow({ hoursId: ctx.hours.id, queueId: ctx.queue.id }) },
    });
    assert.equal(draft.status, 201, show(draft));
    const unpublished = await createEntryPoint(d, ctx.admin, ctx.iid, draft.json.id, { type: 'CHAT' });
    const B = await createInstance(d, init.key);
    const adminB = await loginToken(d, B.id, B.adminUsername);
    const { flow: flowB } = await publishFlow(d, adminB, B.id, chatFlow({ hoursId: 'ho_x', queueId: 'qu_x' }));
    const epB = await createEntryPoint(d, adminB, B.id, flowB.id, { type: 'CHAT' });

    for (const [ep, what] of [
      [undefined, 'missing'], ['ep_doesnotexist', 'unknown'], [callback.id, 'a CALLBACK entry point'],
      [unpublished.id, 'a flow never published'], [epB.id, 'another instance\'s entry point'], [5, 'a number'], [null, 'null'],
    ]) {
      const body = { display_name: 'Ada' };
      if (ep !== undefined) body.entry_point = ep;
      assertError(await chatStart(d, ctx.iid, body), 400, 'InvalidParameter', 'entry_point', what);
    }
    assertError(await chatStart(d, 'in_doesnotexist', { entry_point: ctx.entryPoint.id, display_name: 'Ada' }), 404, 'NotFound', undefined, 'unknown instance');
  });

  test('fields of the wrong type, out of bounds or unknown → 400 naming the field', async () => {
    const ep = ctx.entryPoint.id;
    const many = (n, value = 'v') => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]));
    const cases = [
      [{ entry_point: ep }, 'display_name'],
      [{ entry_point: ep, display_name: '' }, 'display_name'],
      [{ entry_point: ep, display_name: 'é'.repeat(65) }, 'display_name'],
      [{ entry_point: ep, display_name: 42 }, 'display_name'],
      [{ entry_point: ep, display_name: ['Ada'] }, 'display_name'],
      // no control character at all, as the callback entry (C0, DEL, C1, line breaks, tabs)
      [{ entry_point: ep, display_name: 'Ada\u0085' }, 'display_name'],
      [{ entry_point: ep, display_name: 'Ada\u009b[2J' }, 'display_name'],
      [{ entry_point: ep, display_name: 'Ada\nLovelace' }, 'display_name'],
      [{ entry_point: ep, display_name: 'Ada\tLovelace' }, 'display_name'],
      [{ entry_point: ep, display_name: 'Ada\u007f' }, 'display_name'],
      [{ entry_point: ep, display_name: 'Ada', email: 'not-an-email' }, 'email'],
      [{ entry_point: ep, display_name: 'Ada', email: `${'a'.repeat(243)}@example.com` }, 'email'], // 255
      [{ entry_point: ep, display_name: 'Ada', email: 5 }, 'email'],
      [{ entry_point: ep, display_name: 'Ada', attributes: 'x' }, 'attributes'],
      [{ entry_point: ep, display_name: 'Ada', attributes: ['x'] }, 'attributes'],
      [{ entry_point: ep, display_name: 'Ada', attributes: many(33) }, 'attributes'],
      [{ entry_point: ep, display_name: 'Ada', attributes: { k: 5 } }, /^attributes/],
      [{ entry_point: ep, display_name: 'Ada', attributes: { k: { nested: 'x' } } }, /^attributes/],
      [{ entry_point: ep, display_name: 'Ada', attributes: { 'bad name': 'x' } }, /^attributes/],
      [{ entry_point: ep, display_name: 'Ada', attributes: { ['k'.repeat(65)]: 'x' } }, /^attributes/],
      [{ entry_point: ep, display_name: 'Ada', attributes: { k: 'v'.repeat(1025) } }, /^attributes/],
      [{ entry_point: ep, display_name: 'Ada', favourite_colour: 'blue' }, 'favourite_colour'],
    ];
    for (const [body, field] of cases) {
      const r = await chatStart(d, ctx.iid, body);
      const what = JSON.stringify(body).slice(0, 120);
      assertError(r, 400, 'InvalidParameter', undefined, what);
      if (field instanceof RegExp) assert.match(String(r.json.error.field), field, `${what}: ${show(r)}`);
      else assert.equal(r.json.error.field, field, `${what}: ${show(r)}`);
    }
    // The bounds themselves pass: 64 characters of name, 32 attributes of 1024 characters, an e-mail of 254.
    const ok = await chatStart(d, ctx.iid, {
      entry_point: ep, display_name: 'é'.repeat(64), email: `${'a'.repeat(242)}@example.com`, attributes: many(32, 'v'.repeat(1024)),
    });
    assert.equal(ok.status, 201, `the upper bounds are refused: ${show(ok)}`);
  });

  test('not JSON → 415 or 400, answered clearly', async () => {
    const p = `/v1/public/instances/${ctx.iid}/chats`;
    const good = JSON.stringify({ entry_point: ctx.entryPoint.id, display_name: 'Ada' });
    assertError(await api(d.url, 'POST', p, { body: good, contentType: 'text/plain' }), 415, 'UnsupportedMediaType');
    assertError(await api(d.url, 'POST', p, { body: 'entry_point=x&display_name=y', contentType: 'application/x-www-form-urlencoded' }), 415, 'UnsupportedMediaType');
    assertError(await api(d.url, 'POST', p, { body: '{"entry_point":', contentType: 'application/json' }), 400, 'InvalidJson');
    // Not an object: the platform's body reader answers either code (tests/api/body.test.mjs).
    const arr = await api(d.url, 'POST', p, { body: '[1,2]', contentType: 'application/json' });
    assert.equal(arr.status, 400, show(arr));
    assert.ok(['InvalidParameter', 'InvalidJson'].includes(arr.json?.error?.code), show(arr));
    assertError(await api(d.url, 'POST', p, { body: `${good}x`, contentType: 'application/json' }), 400, 'InvalidJson');
    assertError(await api(d.url, 'POST', p, { body: '{"display_name":"Ada","display_name":"Eve"}', contentType: 'application/json' }), 400, 'InvalidJson');
    assertError(await api(d.url, 'POST', p, { body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), contentType: 'application/json' }), 400, 'InvalidJson');
  });
});

describe('contact search: bad filters', () => {
  test('a bad filter value → 400 naming the parameter', async () => {
    const base = `/v1/instances/${ctx.iid}/contacts`;
    for (const [q, field] of [
      ['channel=FAX', 'channel'], ['state=SLEEPING', 'state'], ['since=yesterday', 'since'],
      ['until=2026-13-01T00:00:00Z', 'until'], ['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=ten', 'limit'],
      ['next_token=%00%01garbage', 'next_token'],
    ]) {
      assertError(await api(d.url, 'GET', `${base}?${q}`, { key: ctx.admin }), 400, 'InvalidParameter', field, q);
    }
    const ok = await api(d.url, 'GET', `${base}?since=2026-01-01T00:00:00.5%2B02:00&limit=1000`, { key: ctx.admin });
    assert.equal(ok.status, 200, `an offset with a fraction is refused: ${show(ok)}`);
  });
});

describe('the customer socket: bad frames', () => {
  /** A chat whose flow waits for the phone number. */
  async function waitingCustomer() {
    const c = await startCustomer(d, sockCtx);
    await c.sock.next(isSystem(TEXT.ask), { what: 'the question' });
    return c;
  }

  test('error frames leave the socket open and the flow where it was; nothing refused is stored', async () => {
    const c = await waitingCustomer();
    try {
      const { sock } = c;
      const expect = async (frame, code, what) => {
        sock.send(frame);
        const e = await sock.next(isError(), { what });
        assert.equal(e.code, code, `${what}: ${JSON.stringify(e)}`);
        assert.equal(typeof e.message, 'string', JSON.stringify(e));
        assert.ok(sock.isOpen, `${what} closed the socket`);
      };
      await expect({ type: 'message', content: 'x'.repeat(1025) }, 'PayloadTooLarge', '1025 characters');
      await expect({ type: 'message', content: 'é'.repeat(1025) }, 'PayloadTooLarge', '1025 two-byte characters');
      await expect({ type: 'message', content: '' }, 'InvalidParameter', 'empty content');
      await expect({ type: 'message' }, 'InvalidParameter', 'no content');
      await expect({ type: 'message', content: 5 }, 'InvalidParameter', 'content a number');
      await expect({ type: 'message', content: 'bell\u0007' }, 'InvalidParameter', 'a control character');
      await expect({ type: 'message', content: 'esc\u001b[2J' }, 'InvalidParameter', 'an escape sequence');
      await expect({ type: 'dance' }, 'InvalidParameter', 'an unknown type');
      await expect({ content: 'hello' }, 'InvalidParameter', 'no type');
      await expect('{"type":"message","content":', 'InvalidJson', 'invalid JSON');
      await expect('not json at all', 'InvalidJson', 'not JSON');
      // A frame of exactly 64 KiB is read (and refused for its characters), not closed.
      const pad = 65536 - JSON.stringify({ type: 'message', content: '' }).length;
      const exact = JSON.stringify({ type: 'message', content: 'y'.repeat(pad) });
      assert.equal(Buffer.byteLength(exact), 65536);
      await expect(exact, 'PayloadTooLarge', 'a 64 KiB frame');

      // 1024 characters (2048 bytes) is a message; it is the flow's input (not a number).
      const long = 'é'.repeat(1024);
      await say(c, long);
      await sock.next(isSystem(TEXT.invalid), { what: 'the flow read the 1024-character message as its input' });
      await sock.next(isSystem(TEXT.ask));
      await say(c, 'tab\tand\nnewline are fine');
      await sock.next(isSystem(TEXT.invalid));
      await sock.next(isSystem(TEXT.ask));
      await say(c, PHONE);
      await sock.next(isSystem(TEXT.thanks));

      const t = await transcriptOf(sockCtx, c.cid);
      assert.deepEqual(t.filter((m) => m.participant_role === 'CUSTOMER').map((m) => m.content),
        [long, 'tab\tand\nnewline are fine', PHONE], 'the transcript holds a refused frame or lost a message');
    } finally {
      await closeAll(c);
    }
  });

  async function rawClose(c, frame, what) {
    const h = await wsRawHandshake(d.port, { path: '/v1/public/chat', protocols: bearer(c.token) });
    try {
      assert.equal(h.status, 101, h.responseHead);
      h.socket.write(frame);
      await waitFor(() => h.closed || wsCloseCode(wsParseFrames(h.received)) !== undefined, { what: `the close after ${what}` });
      return wsCloseCode(wsParseFrames(h.received));
    } finally {
      h.socket.destroy();
    }
  }

  test('a frame over 64 KiB closes with 1009, invalid UTF-8 with 1007, a binary frame with 1003; the chat goes on', async () => {
    const c = await waitingCustomer();
    try {
      const big = JSON.stringify({ type: 'message', content: 'z'.repeat(65537) });
      assert.equal(await rawClose(c, wsFrame(0x1, big), 'a 64 KiB + frame'), 1009);
      assert.equal(await rawClose(c, wsFrame(0x1, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])), 'invalid UTF-8'), 1007);
      assert.equal(await rawClose(c, wsFrame(0x2, Buffer.from('{"type":"typing"}')), 'a binary frame'), 1003);
      // The ws client too, for the oversized frame.
      const extra = await startCustomer(d, sockCtx);
      extra.sock.send('x'.repeat(64 * 1024 + 1));
      const closed = await extra.sock.closed;
      assert.equal(closed.code, 1009, JSON.stringify(closed));

      // The first customer's socket is still there, the contact still live.
      assert.ok(c.sock.isOpen);
      await say(c, PHONE);
      await c.sock.next(isSystem(TEXT.thanks));
    } finally {
      await closeAll(c);
    }
  });

  test('anything after the end → ContactEnded', async () => {
    const c = await waitingCustomer();
    try {
      c.sock.send({ type: 'end' });
      const e = await c.sock.next(isEvent('ended'));
      assert.equal(e.reason, 'CUSTOMER_DISCONNECT', JSON.stringify(e));
      for (const frame of [{ type: 'message', content: 'hello?' }, { type: 'typing' }, { type: 'end' }]) {
        c.sock.send(frame);
        const err = await c.sock.next(isError(), { what: `the error for ${JSON.stringify(frame)} after the end` });
        assert.equal(err.code, 'ContactEnded', JSON.stringify(err));
      }
      const t = await transcriptOf(sockCtx, c.cid);
      assert.ok(!t.some((m) => m.content === 'hello?'), 'a message after the end was stored');
    } finally {
      await closeAll(c);
    }
  });
});

describe('agent messages: bad input', () => {
  test('POST .../messages with empty, oversized, wrong-type content → 400; nothing reaches the customer', async () => {
    const agentCtx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = agentCtx.agents;
    let c;
    try {
      await readyAgent(d, agentCtx.iid, a1);
      c = await queuedCustomer(d, agentCtx);
      await takeOffer(d, agentCtx.iid, a1, c.cid);
      const post = (body, contentType) => api(d.url, 'POST', `/v1/instances/${agentCtx.iid}/agent/contacts/${c.cid}/messages`,
        { key: a1.token, body, contentType });
      for (const [body, field, what] of [
        [{}, 'content', 'no content'],
        [{ content: '' }, 'content', 'empty'],
        [{ content: 'x'.repeat(1025) }, 'content', '1025 characters'],
        [{ content: 'é'.repeat(1025) }, 'content', '1025 two-byte characters'],
        [{ content: 5 }, 'content', 'a number'],
        [{ content: null }, 'content', 'null'],
        [{ content: ['hi'] }, 'content', 'an array'],
        [{ content: 'bell\u0007' }, 'content', 'a control character'],
        [{ content: 'hi', urgent: true }, 'urgent', 'an unknown field'],
      ]) {
        assertError(await post(body), 400, 'InvalidParameter', field, what);
      }
      assertError(await post('{"content":', 'application/json'), 400, 'InvalidJson');
      assertError(await post(JSON.stringify({ content: 'hi' }), 'text/plain'), 415, 'UnsupportedMediaType');

      const long = 'é'.repeat(1024);
      const ok = await post({ content: long });
      assert.equal(ok.status, 201, `1024 characters refused: ${show(ok)}`);
      await c.sock.next(isMessage('AGENT', long));
      const agentMessages = c.sock.seen(isMessage('AGENT'));
      assert.deepEqual(agentMessages.map((m) => m.content), [long], 'a refused message reached the customer');
    } finally {
      await closeAll(c, a1);
    }
  });

  test('agent stream: invalid JSON and unknown types get error frames; the stream stays open', async () => {
    const agentCtx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = agentCtx.agents;
    let c;
    try {
      await readyAgent(d, agentCtx.iid, a1);
      c = await queuedCustomer(d, agentCtx);
      await takeOffer(d, agentCtx.iid, a1, c.cid);
      const s = a1.stream;
      s.send('{"type":');
      assert.equal((await s.next(isError(), { what: 'error for invalid JSON' })).code, 'InvalidJson');
      s.send({ type: 'dance' });
      assert.equal((await s.next(isError(), { what: 'error for an unknown type' })).code, 'InvalidParameter');
      s.send({ type: 'message', contact_id: c.cid, content: '' });
      await s.next(isError(), { what: 'error for empty content' });
      s.send({ type: 'message', contact_id: c.cid, content: 'x'.repeat(1025) });
      await s.next(isError(), { what: 'error for 1025 characters' });
      s.send({ type: 'message', contact_id: 'ct_doesnotexist', content: 'hello' });
      await s.next(isError(), { what: 'error for a contact the agent does not hold' });
      assert.ok(s.isOpen);
      s.send({ type: 'ping' });
      await s.next((f) => f.type === 'pong', { what: 'pong' });
      s.send({ type: 'message', contact_id: c.cid, content: 'after the errors' });
      await c.sock.next(isMessage('AGENT', 'after the errors'));
      await s.next(about(c.cid, isMessage('AGENT', 'after the errors')));
      assert.deepEqual(c.sock.seen(isMessage('AGENT')).map((m) => m.content), ['after the errors']);
      assert.deepEqual(s.seen(isOffer()).map((o) => o.contact_id), [c.cid]);
    } finally {
      await closeAll(c, a1);
    }
  });

  test('agent REST on a contact that has ended → 409', async () => {
    const agentCtx = await setupCenter(d, init.key, { agents: 1 });
    const [a1] = agentCtx.agents;
    let c;
    try {
      await readyAgent(d, agentCtx.iid, a1);
      c = await queuedCustomer(d, agentCtx);
      await takeOffer(d, agentCtx.iid, a1, c.cid);
      c.sock.send({ type: 'end' });
      await c.sock.next(isEvent('ended'));
      assertError(await agentPost(d, agentCtx.iid, a1, c.cid, 'messages', { content: 'hello?' }), 409, 'Conflict');
      assert.equal((await agentPost(d, agentCtx.iid, a1, c.cid, 'end')).status, 200);
    } finally {
      await closeAll(c, a1);
    }
  });
});

test('the daemon survived every bad input', async () => {
  await assertHealthy(assert, d, 'the bad chat input');
  const r = await api(d.url, 'GET', '/readyz');
  assert.equal(r.status, 200, show(r));
});
