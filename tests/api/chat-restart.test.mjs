// Contacts across a stop of the daemon (docs/api.md "Contact records":
// SERVER_RESTART is set at the next start). With SIGTERM and with SIGKILL:
// a contact connected to an agent, one waiting in the queue and one whose
// customer never opened a socket are ENDED with SERVER_RESTART after the
// next start on the same data folder; one in after-contact work keeps its
// reason and its work ends; a contact that had ended keeps its record and
// transcript exactly (after kill -9 too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show } from './lib/daemon.mjs';
import {
  setupCenter, isEvent, isContactState, readyAgent, connectAgent, agentPost, takeOffer, chatStart, say, queuedCustomer,
  waitContact, getContact, listAll, helloLists,
} from './lib/chat.mjs';

async function closeAll(...things) {
  for (const t of things.flat()) {
    const c = t?.sock ?? t?.stream ?? t;
    if (c?.close) await c.close();
  }
}

async function scenario(signal) {
  const init = await initData();
  let d = await startDaemon({ data: init.data });
  const live = [];
  try {
    const ctx = await setupCenter(d, init.key, { agents: 1, concurrency: { CHAT: 2 } });
    const [a1] = ctx.agents;
    await readyAgent(d, ctx.iid, a1);

    // One contact that ends before the stop: its record and transcript are final.
    const done = await queuedCustomer(d, ctx);
    live.push(done);
    await takeOffer(d, ctx.iid, a1, done.cid);
    await say(done, 'a message before the end');
    const p = await agentPost(d, ctx.iid, a1, done.cid, 'messages', { content: 'an answer before the end' });
    assert.equal(p.status, 201, show(p));
    done.sock.send({ type: 'end' });
    await done.sock.next(isEvent('ended'));
    assert.equal((await agentPost(d, ctx.iid, a1, done.cid, 'end')).status, 200);
    const doneRec = await waitContact(d, ctx.admin, ctx.iid, done.cid, (x) => x.after_contact_work_end_timestamp, 'the final record');
    const doneTranscript = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts/${done.cid}/transcript`);
    assert.ok(doneTranscript.length >= 6, JSON.stringify(doneTranscript));

    // One in after-contact work (the customer left, the agent has not cleared it).
    const acw = await queuedCustomer(d, ctx);
    live.push(acw);
    await takeOffer(d, ctx.iid, a1, acw.cid);
    acw.sock.send({ type: 'end' });
    await a1.stream.next(isContactState(acw.cid, 'AFTER_CONTACT_WORK'));
    await waitContact(d, ctx.admin, ctx.iid, acw.cid, (x) => x.state === 'AFTER_CONTACT_WORK' && x.disconnect_reason === 'CUSTOMER_DISCONNECT', 'the ACW record');

    // Live contacts: connected, queued behind it (CHAT=2: ACW holds the other slot), and one never opened.
    const connected = await queuedCustomer(d, ctx);
    live.push(connected);
    await takeOffer(d, ctx.iid, a1, connected.cid);
    const waiting = await queuedCustomer(d, ctx);
    live.push(waiting);
    await waitContact(d, ctx.admin, ctx.iid, waiting.cid, (x) => x.state === 'QUEUED', 'QUEUED');
    const fresh = await chatStart(d, ctx.iid, { entry_point: ctx.entryPoint.id, display_name: 'Never connected' });
    assert.equal(fresh.status, 201, show(fresh));
    for (const c of [connected, waiting]) {
      const r = await getContact(d, ctx.admin, ctx.iid, c.cid);
      assert.equal(r.json.disconnect_reason, null, show(r));
    }

    const stoppedAt = Date.now();
    if (signal === 'SIGKILL') {
      d.proc.kill('SIGKILL');
      const info = await d.exited;
      assert.equal(info.signal, 'SIGKILL');
    } else {
      const code = await d.stop('SIGTERM');
      assert.equal(code, 0, `SIGTERM with live chats: exit ${code}\n${d.stderr.slice(-3000)}`);
    }
    await closeAll(live, a1);

    d = await startDaemon({ data: init.data });
    for (const [cid, what] of [[connected.cid, 'connected'], [waiting.cid, 'queued'], [fresh.json.contact_id, 'never opened']]) {
      const r = await getContact(d, ctx.admin, ctx.iid, cid);
      assert.equal(r.status, 200, `${what}: ${show(r)}`);
      assert.equal(r.json.state, 'ENDED', `${what} after ${signal}: ${show(r)}`);
      assert.equal(r.json.disconnect_reason, 'SERVER_RESTART', `${what} after ${signal}: ${show(r)}`);
      const t = Date.parse(r.json.disconnect_timestamp);
      assert.ok(t >= stoppedAt - 1000 && t <= Date.now() + 1000, `${what}: disconnect_timestamp ${r.json.disconnect_timestamp}`);
    }
    const conn = await getContact(d, ctx.admin, ctx.iid, connected.cid);
    assert.equal(conn.json.agent?.id, a1.id, 'the agent of the interrupted contact was lost');
    const wait = await getContact(d, ctx.admin, ctx.iid, waiting.cid);
    assert.equal(wait.json.queue?.id, ctx.queue.id, 'the queue of the interrupted contact was lost');

    // After-contact work in progress keeps its reason; its work ends.
    const acwAfter = await getContact(d, ctx.admin, ctx.iid, acw.cid);
    assert.equal(acwAfter.json.state, 'ENDED', show(acwAfter));
    assert.equal(acwAfter.json.disconnect_reason, 'CUSTOMER_DISCONNECT', `after ${signal}: ${show(acwAfter)}`);
    assert.ok(acwAfter.json.after_contact_work_end_timestamp, `after-contact work did not end across ${signal}: ${show(acwAfter)}`);

    // The ended contact is exactly as it was.
    const after = await getContact(d, ctx.admin, ctx.iid, done.cid);
    assert.equal(after.status, 200, show(after));
    assert.deepEqual(after.json, doneRec, `the ended record changed across ${signal}`);
    const afterTranscript = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts/${done.cid}/transcript`);
    assert.deepEqual(afterTranscript, doneTranscript, `the transcript changed across ${signal}`);

    // Search sees all four ended; the agent's hello holds none of them.
    const ended = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts?state=ENDED`);
    for (const cid of [done.cid, acw.cid, connected.cid, waiting.cid, fresh.json.contact_id]) {
      assert.ok(ended.some((x) => x.id === cid), `state=ENDED misses ${cid}`);
    }
    for (const state of ['QUEUED', 'CONNECTED', 'AFTER_CONTACT_WORK', 'INITIATED', 'IN_FLOW', 'OFFERED']) {
      const still = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts?state=${state}`);
      assert.deepEqual(still.map((x) => x.id), [], `a contact is still ${state} after the restart`);
    }
    await connectAgent(d, ctx.iid, a1);
    assert.ok(!helloLists(a1.hello, connected.cid), `the agent still holds an ended contact: ${JSON.stringify(a1.hello)}`);
    await a1.stream.close();
    const r = await api(d.url, 'GET', '/healthz');
    assert.equal(r.status, 200);
  } finally {
    await closeAll(live);
    const wasAlive = d.alive();
    const code = await d.stop();
    removeTempDir(init.dir);
    if (wasAlive) assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d.stderr.slice(-4000)}`);
  }
}

test('SIGTERM with live chats: after the next start they are ENDED with SERVER_RESTART; an ended contact is unchanged', () => scenario('SIGTERM'));

test('SIGKILL with live chats: after the next start they are ENDED with SERVER_RESTART; an ended contact\'s record and transcript survive kill -9', () => scenario('SIGKILL'));
