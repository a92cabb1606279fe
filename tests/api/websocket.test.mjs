// WebSocket GET /v1/events (platform key).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import {
  initData, startDaemon, removeTempDir, api, show, getMetrics, metricValue, waitFor, assertHealthy,
  wsRawHandshake, wsFrame, wsParseFrames, wsCloseCode,
} from './lib/daemon.mjs';

/**
 * Open a client. Resolves {ws, next(timeoutMs), closed} once open; rejects
 * with err.statusCode when the upgrade is refused.
 */
function connect(url, protocols, options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { handshakeTimeout: 5000, ...options });
    const queue = [];
    const waiters = [];
    ws.on('message', (data, isBinary) => {
      const text = data.toString('utf8');
      let msg;
      try { msg = JSON.parse(text); } catch { msg = { unparsable: text, isBinary }; }
      const w = waiters.shift();
      if (w) w(msg); else queue.push(msg);
    });
    const closed = new Promise((res) => {
      ws.on('close', (code, reason) => res({ code, reason: reason.toString() }));
    });
    ws.once('open', () => {
      resolve({
        ws,
        closed,
        next(timeoutMs = 5000) {
          if (queue.length) return Promise.resolve(queue.shift());
          return new Promise((res, rej) => {
            const t = setTimeout(() => {
              const i = waiters.indexOf(done);
              if (i >= 0) waiters.splice(i, 1);
              rej(new Error(`no message within ${timeoutMs} ms`));
            }, timeoutMs);
            const done = (m) => { clearTimeout(t); res(m); };
            waiters.push(done);
          });
        },
      });
    });
    ws.on('error', (err) => {
      const m = /Unexpected server response: (\d+)/.exec(err.message);
      if (m) err.statusCode = Number(m[1]);
      reject(err);
    });
  });
}

/** Wait for a message of the given type, skipping others (bounded). */
async function nextOfType(c, type, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no ${type} message within ${timeoutMs} ms`);
    const m = await c.next(left);
    if (m.type === type) return m;
  }
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: nothing within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
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

const eventsUrl = () => `${d.wsUrl}/v1/events`;

describe('handshake and authentication', () => {
  test('bearer.<key> subprotocol → protocol bulwark.v1, hello, ping → pong', async () => {
    const c = await connect(eventsUrl(), ['bulwark.v1', `bearer.${init.key}`]);
    try {
      assert.equal(c.ws.protocol, 'bulwark.v1');
      const hello = await c.next();
      assert.equal(hello.type, 'hello', JSON.stringify(hello));
      c.ws.send(JSON.stringify({ type: 'ping' }));
      const pong = await nextOfType(c, 'pong');
      assert.equal(pong.type, 'pong');
    } finally {
      c.ws.close();
    }
  });

  test('?token=<key> with subprotocol bulwark.v1 works', async () => {
    const c = await connect(`${eventsUrl()}?token=${encodeURIComponent(init.key)}`, ['bulwark.v1']);
    try {
      assert.equal(c.ws.protocol, 'bulwark.v1');
      const hello = await c.next();
      assert.equal(hello.type, 'hello');
      c.ws.send(JSON.stringify({ type: 'ping' }));
      await nextOfType(c, 'pong');
    } finally {
      c.ws.close();
    }
  });

  test('WebSocket-level ping gets a pong', async () => {
    const c = await connect(eventsUrl(), ['bulwark.v1', `bearer.${init.key}`]);
    try {
      await c.next();
      const pong = new Promise((res) => c.ws.once('pong', (data) => res(data.toString())));
      c.ws.ping('probe-123');
      assert.equal(await withTimeout(pong, 5000, 'pong'), 'probe-123');
    } finally {
      c.ws.close();
    }
  });

  test('the 101 answer names bulwark.v1 only and a correct Sec-WebSocket-Accept', async () => {
    const h = await wsRawHandshake(d.port, { protocols: ['bulwark.v1', `bearer.${init.key}`] });
    try {
      assert.equal(h.status, 101, h.responseHead);
      assert.equal(h.headers['sec-websocket-protocol'], 'bulwark.v1', h.responseHead);
      assert.equal(h.headers['sec-websocket-accept'], h.expectedAccept, h.responseHead);
      assert.ok(!h.responseHead.includes(init.key.slice(4)), 'the key is echoed in the handshake answer');
    } finally {
      h.socket.destroy();
    }
  });

  test('no token → upgrade refused with 401', async () => {
    await assert.rejects(connect(eventsUrl(), ['bulwark.v1']), (err) => {
      assert.equal(err.statusCode, 401, err.message);
      return true;
    });
  });

  test('an unknown key → 401', async () => {
    await assert.rejects(connect(eventsUrl(), ['bulwark.v1', `bearer.bwp_${'A'.repeat(43)}`]), (err) => {
      assert.equal(err.statusCode, 401, err.message);
      return true;
    });
    await assert.rejects(connect(`${eventsUrl()}?token=bwp_${'B'.repeat(43)}`, ['bulwark.v1']), (err) => {
      assert.equal(err.statusCode, 401, err.message);
      return true;
    });
  });

  test('a deleted key can no longer open a session', async () => {
    const c = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: 'ws-doomed' } });
    assert.equal(c.status, 201, show(c));
    const del = await api(d.url, 'DELETE', `/v1/platform-keys/${encodeURIComponent(c.json.id)}`, { key: init.key });
    assert.equal(del.status, 204, show(del));
    await assert.rejects(connect(eventsUrl(), ['bulwark.v1', `bearer.${c.json.key}`]), (err) => {
      assert.equal(err.statusCode, 401, err.message);
      return true;
    });
  });

  test('a plain GET without Upgrade → 400 or 426', async () => {
    const r = await api(d.url, 'GET', '/v1/events', { key: init.key });
    assert.ok([400, 426].includes(r.status), show(r));
  });
});

describe('messages', () => {
  test('non-JSON text → error InvalidJson, session kept', async () => {
    const c = await connect(eventsUrl(), ['bulwark.v1', `bearer.${init.key}`]);
    try {
      await c.next(); // hello
      c.ws.send('this is not json');
      const e = await nextOfType(c, 'error');
      assert.equal(e.code, 'InvalidJson', JSON.stringify(e));
      assert.equal(typeof e.message, 'string');
      assert.equal(c.ws.readyState, WebSocket.OPEN);
      c.ws.send(JSON.stringify({ type: 'ping' }));
      await nextOfType(c, 'pong');
    } finally {
      c.ws.close();
    }
  });

  test('invalid UTF-8 in a text frame → close 1007', async () => {
    const c = await connect(eventsUrl(), ['bulwark.v1', `bearer.${init.key}`]);
    await c.next();
    c.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    const closed = await withTimeout(c.closed, 5000, 'close after invalid UTF-8');
    assert.equal(closed.code, 1007);
    await assertHealthy(assert, d, 'invalid UTF-8 frame');
  });

  test('an unmasked client frame → close 1002 and the socket is closed', async () => {
    const h = await wsRawHandshake(d.port, { protocols: ['bulwark.v1', `bearer.${init.key}`] });
    assert.equal(h.status, 101, h.responseHead);
    h.socket.write(wsFrame(0x1, '{"type":"ping"}', { mask: false }));
    await withTimeout(h.closedPromise, 5000, 'socket close after an unmasked frame');
    const frames = wsParseFrames(h.received);
    assert.equal(wsCloseCode(frames), 1002, `frames: ${JSON.stringify(frames.map((f) => ({ op: f.opcode, p: f.payload.toString('latin1') })))}`);
    assert.ok(!frames.some((f) => f.opcode === 1 && f.payload.toString().includes('pong')), 'the unmasked ping was answered');
    await assertHealthy(assert, d, 'unmasked frame');
  });

  test('a frame header claiming a 2^64-1 length → connection closed, daemon alive', async () => {
    const h = await wsRawHandshake(d.port, { protocols: ['bulwark.v1', `bearer.${init.key}`] });
    assert.equal(h.status, 101, h.responseHead);
    const frame = Buffer.from(`81${'ff'.repeat(8)}fc`, 'hex'); // 81 ff ff ff ff ff ff ff ff fc
    assert.equal(frame.length, 10);
    h.socket.write(frame);
    await withTimeout(h.closedPromise, 5000, 'socket close after a 2^64 length header');
    await assertHealthy(assert, d, '2^64 frame header');
  });

  test('three huge-length frame headers do not make the daemon allocate them', async () => {
    const h = await wsRawHandshake(d.port, { protocols: ['bulwark.v1', `bearer.${init.key}`] });
    assert.equal(h.status, 101, h.responseHead);
    // 14-byte headers claiming 2^31-1 bytes each (masked), no payload
    const f = Buffer.from('81ff000000007fffffff00000000', 'hex');
    h.socket.write(Buffer.concat([f, f, f]));
    await withTimeout(h.closedPromise, 5000, 'socket close after oversized frame headers');
    const frames = wsParseFrames(h.received);
    assert.equal(wsCloseCode(frames), 1009, 'expected close 1009 for a message over ws_max_message_bytes');
    await assertHealthy(assert, d, 'huge frame headers');
  });

  test('fragmented message reassembled (two text fragments)', async () => {
    const h = await wsRawHandshake(d.port, { protocols: ['bulwark.v1', `bearer.${init.key}`] });
    try {
      assert.equal(h.status, 101, h.responseHead);
      h.socket.write(wsFrame(0x1, '{"type":', { fin: false }));
      h.socket.write(wsFrame(0x0, '"ping"}', { fin: true }));
      await waitFor(() => wsParseFrames(h.received).some((x) => x.opcode === 1 && /"pong"/.test(x.payload.toString())),
        { timeoutMs: 5000, what: 'pong to a fragmented ping' });
    } finally {
      h.socket.destroy();
    }
  });
});

describe('metrics', () => {
  test('bulwark_websocket_sessions is 1 while one session is open, 0 after', async () => {
    const sessions = async () => metricValue((await getMetrics(d)).samples, 'bulwark_websocket_sessions');
    await waitFor(async () => (await sessions()) === 0, { timeoutMs: 5000, what: 'no open sessions before the test' });
    const c = await connect(eventsUrl(), ['bulwark.v1', `bearer.${init.key}`]);
    await c.next();
    await waitFor(async () => (await sessions()) === 1, { timeoutMs: 5000, what: 'bulwark_websocket_sessions == 1' });
    c.ws.close(1000);
    await withTimeout(c.closed, 5000, 'close');
    await waitFor(async () => (await sessions()) === 0, { timeoutMs: 5000, what: 'bulwark_websocket_sessions back to 0' });
  });
});

describe('ws_max_message_bytes = 1024', () => {
  let dSmall;
  before(async () => {
    dSmall = await startDaemon({ data: init.data, args: ['--ws-max-message-bytes', '1024'] });
  });
  after(async () => {
    assert.equal(await dSmall?.stop(), 0);
  });

  test('a 2000-byte message → close code 1009 reaches the client', async () => {
    const c = await connect(`${dSmall.wsUrl}/v1/events`, ['bulwark.v1', `bearer.${init.key}`]);
    await c.next();
    c.ws.send(JSON.stringify({ type: 'ping' }));
    await nextOfType(c, 'pong');
    const big = JSON.stringify({ type: 'ping', pad: 'x'.repeat(2000 - JSON.stringify({ type: 'ping', pad: '' }).length) });
    assert.equal(big.length, 2000);
    c.ws.send(big);
    const closed = await withTimeout(c.closed, 5000, 'close after an oversized message');
    assert.equal(closed.code, 1009);
    await assertHealthy(assert, dSmall, 'oversized message');
  });
});

describe('shutdown with a session open', () => {
  test('SIGTERM → the client sees 1001 and the daemon exits 0', async () => {
    const dTerm = await startDaemon({ data: init.data });
    let c;
    try {
      c = await connect(`${dTerm.wsUrl}/v1/events`, ['bulwark.v1', `bearer.${init.key}`]);
      const hello = await c.next();
      assert.equal(hello.type, 'hello');
    } catch (e) {
      await dTerm.stop('SIGKILL');
      throw e;
    }
    const [closed, code] = await Promise.all([withTimeout(c.closed, 10000, 'close on SIGTERM'), dTerm.stop()]);
    assert.equal(closed.code, 1001);
    assert.equal(code, 0, dTerm.stderr.slice(-2000));
  });
});

describe('push from the engine', () => {
  test('a platform audit event reaches every open platform stream as it is committed', async () => {
    const a = await connect(eventsUrl(), ['bulwark.v1', `bearer.${init.key}`]);
    const b = await connect(eventsUrl(), ['bulwark.v1', `bearer.${init.key}`]);
    try {
      await nextOfType(a, 'hello');
      await nextOfType(b, 'hello');
      const res = await fetch(`${d.url}/v1/platform-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${init.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'pushed' }),
      });
      assert.equal(res.status, 201);
      const rid = res.headers.get('x-request-id');
      for (const c of [a, b]) {
        const ev = await nextOfType(c, 'audit');
        assert.equal(ev.event.action, 'platform_keys.create');
        assert.equal(ev.event.request_id, rid);
        assert.equal(ev.event.result, 'allowed');
        assert.equal(ev.event.principal.kind, 'platform');
        assert.ok(!JSON.stringify(ev).includes('bwp_'), 'no key in the event');
      }
    } finally {
      a.ws.close();
      b.ws.close();
    }
  });
});

describe('slow reader', () => {
  let d2, init2;
  before(async () => {
    init2 = await initData();
    d2 = await startDaemon({ data: init2.data, args: ['--ws-max-queue-bytes', '4096'] });
  });
  after(async () => { await d2?.stop(); });

  test('a client that never reads is disconnected once its queue passes the cap', async () => {
    const h = await wsRawHandshake(d2.port, { protocols: ['bulwark.v1', `bearer.${init2.key}`] });
    assert.equal(h.status, 101);
    h.socket.pause(); // never read again: every pong the server owes piles up
    const sessions = async () => metricValue((await getMetrics(d2)).samples, 'bulwark_websocket_sessions');
    await waitFor(async () => (await sessions()) === 1, { what: 'one session' });
    // 125-byte pings: the server owes a 127-byte pong for each.
    const ping = wsFrame(0x9, Buffer.alloc(125, 0x61));
    const batch = Buffer.concat(Array(512).fill(ping));
    let sent = 0;
    const deadline = Date.now() + 20000;
    while (!h.socket.destroyed && !h.error && Date.now() < deadline && sent < 200 * 1024 * 1024) {
      if (!h.socket.write(batch)) {
        await Promise.race([new Promise((r) => h.socket.once('drain', r)), h.closedPromise,
          new Promise((r) => setTimeout(r, 200))]);
      }
      sent += batch.length;
      if ((sent / batch.length) % 64 === 0 && (await sessions()) === 0) break;
    }
    await waitFor(async () => (await sessions()) === 0, { timeoutMs: 10000, what: 'the slow reader dropped' });
    assert.ok(d2.alive(), 'the daemon is alive');
    const res = await fetch(`${d2.url}/healthz`);
    assert.equal(res.status, 200);
    h.socket.destroy();
  });
});
