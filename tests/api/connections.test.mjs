// Per-address connection cap (max_connections_per_addr).
// Only raw sockets here: fetch's keep-alive pool would count toward the cap.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { initData, startDaemon, removeTempDir, rawExchange, parseResponses, hasResponses, waitFor } from './lib/daemon.mjs';

let init;
let d;

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data, args: ['--max-connections-per-addr', '4'] });
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

function openIdle(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const state = { sock: s, closed: false, data: '' };
    s.on('data', (x) => { state.data += x.toString('latin1'); });
    s.on('close', () => { state.closed = true; });
    s.on('error', () => { state.closed = true; });
    s.once('connect', () => resolve(state));
    s.once('error', reject);
  });
}

const GET = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
const GET_CLOSE = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';

/** Send a request on an open socket and wait for one response. */
function requestOn(state, timeoutMs = 3000) {
  const startLen = state.data.length;
  state.sock.write(GET);
  return waitFor(() => {
    const res = parseResponses(state.data.slice(startLen));
    return res.length >= 1 && res[0].complete ? res[0] : (state.closed ? { status: 'closed' } : false);
  }, { timeoutMs, what: 'a response on a held connection' });
}

/** Open 4 connections and get one response on each; false (all closed) if any is refused. */
async function holdFour() {
  const held = [];
  for (let i = 0; i < 4; i++) held.push(await openIdle(d.port));
  for (const h of held) {
    const res = await requestOn(h);
    if (res.status !== 200) {
      for (const x of held) x.sock.destroy();
      return false;
    }
  }
  return held;
}

test('the 5th connection from one address is refused; after closing, service resumes', async () => {
  // Connections that just closed may be counted for a moment: retry briefly.
  const held = await waitFor(holdFour, { timeoutMs: 5000, what: '4 connections to be held and served' });

  const fifth = await rawExchange(d.port, GET, { timeoutMs: 3000 });
  const res5 = parseResponses(fifth.text);
  assert.ok(fifth.closed, `the 5th connection was not closed (timedOut=${fifth.timedOut}): ${JSON.stringify(fifth.text.slice(0, 200))}`);
  assert.ok(fifth.elapsedMs < 2000, `the 5th connection closed only after ${fifth.elapsedMs} ms`);
  if (res5.length > 0) {
    assert.ok([429, 503].includes(res5[0].status), `the 5th connection was answered ${res5[0].status}: ${fifth.text.slice(0, 300)}`);
  }
  assert.ok(!/^HTTP\/1\.[01] 200/.test(fifth.text), 'the 5th connection was served');

  // The 4 held connections are untouched and still served.
  for (const h of held) assert.equal(h.closed, false, 'a held connection was closed by the 5th');
  const res1 = await requestOn(held[0]);
  assert.equal(res1.status, 200);

  for (const h of held) h.sock.destroy();
  await waitFor(async () => {
    const r = await rawExchange(d.port, GET_CLOSE, { timeoutMs: 2000, until: hasResponses(1) });
    return parseResponses(r.text)[0]?.status === 200;
  }, { timeoutMs: 5000, what: 'service after closing the held connections' });

  // The count went down for all 4: 4 can be held again.
  const again = await waitFor(holdFour, { timeoutMs: 5000, what: '4 connections to be held again' });
  for (const h of again) h.sock.destroy();
});
