// Helpers for the black-box tests of event subscriptions and sinks (C18,
// C19, docs/api.md "Event subscriptions (C18) and sinks (C19)"):
//
// - the subscription routes and their delivery figures (waitStats polls them);
// - Receiver: a webhook receiver of the test on 127.0.0.1 that answers what
//   the test tells it to and keeps every request; verifyDelivery() checks a
//   request the way a receiver would, from the instance's JWKS only (the
//   Bulwark-Signature JWS and the Authorization role token, the body against
//   the `digest` claim, the contact claim against the event's contact);
// - the test servers of scripts/test-servers.sh (BULWARK_TEST_NATS_URL,
//   BULWARK_TEST_PG_URL, BULWARK_TEST_NATS_SERVER): what a JetStream stream
//   holds, the warehouse rows of an instance, and a nats-server of a test's
//   own (its store dir and port), SIGKILLed and started again;
// - contacts that end: a chat ended in the queue, a chat an agent handled.
//
// Every address used is on this machine. Nothing sleeps to synchronize:
// waits poll with a deadline.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { api, show, waitFor } from './daemon.mjs';
import {
  queuedCustomer, startCustomer, isEvent, waitContact, takeOffer, readyAgent, agentPost,
  isContactState,
} from './chat.mjs';
import { unique } from './identity.mjs';
import { createIntegration } from './integrations.mjs';
import { natsUrl, pgUrl, natsFetchAll, pgQuery } from './servers.mjs';

// ---------------------------------------------------------------------------
// Routes

export const subsPath = (iid, rest = '') => `/v1/instances/${iid}/event-subscriptions${rest}`;

export function postSub(d, token, iid, body) {
  return api(d.url, 'POST', subsPath(iid), { key: token, body });
}

/** Create a subscription (asserts 201) and return it. */
export async function createSub(d, token, iid, body) {
  const r = await postSub(d, token, iid, { name: unique('sub'), ...body });
  assert.equal(r.status, 201, `create subscription ${JSON.stringify(body)}: ${show(r)}`);
  return r.json;
}

export async function getSub(d, token, iid, sid) {
  const r = await api(d.url, 'GET', subsPath(iid, `/${sid}`), { key: token });
  assert.equal(r.status, 200, `GET subscription ${sid}: ${show(r)}`);
  return r.json;
}

/** Poll the subscription until pred(stats, sub); returns the subscription. */
export async function waitStats(d, token, iid, sid, pred, { what = 'the stats', timeoutMs = 15000 } = {}) {
  let last;
  await waitFor(async () => {
    last = await getSub(d, token, iid, sid);
    return pred(last.stats, last);
  }, { timeoutMs, intervalMs: 50, what: `${what} of ${sid} (last: ${JSON.stringify(last?.stats)})` });
  return last;
}

/** Wait until nothing is pending and exactly `n` were delivered. */
export function waitDelivered(d, token, iid, sid, n, opts = {}) {
  return waitStats(d, token, iid, sid, (s) => s.pending === 0 && s.delivered === n,
    { what: `pending 0 and delivered ${n}`, ...opts });
}

/** Every dead letter of a subscription (following next_token). */
export async function deadLetters(d, token, iid, sid) {
  const items = [];
  let next = null;
  do {
    const r = await api(d.url, 'GET', subsPath(iid, `/${sid}/dead-letters${next ? `?next_token=${encodeURIComponent(next)}` : ''}`), { key: token });
    assert.equal(r.status, 200, `dead letters of ${sid}: ${show(r)}`);
    items.push(...r.json.items);
    next = r.json.next_token;
  } while (next);
  return items;
}

// ---------------------------------------------------------------------------
// The webhook receiver

/**
 * An HTTP server on 127.0.0.1 that keeps every request {method, url, headers,
 * body (string), json, at} and answers with `status` (a number, or a function
 * of the request). close() also drops kept-alive connections.
 */
export class Receiver {
  constructor({ status = 200, host = '127.0.0.1' } = {}) {
    this.host = host;
    this.status = status;
    this.requests = [];
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(body); } catch { json = undefined; }
        const r = { method: req.method, url: req.url, headers: req.headers, body, json, at: Date.now() };
        this.requests.push(r);
        const st = typeof this.status === 'function' ? this.status(r) : this.status;
        res.writeHead(st, { 'content-type': 'text/plain', 'content-length': '2' });
        res.end('ok');
      });
    });
  }

  async listen() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, resolve);
    });
    this.port = this.server.address().port;
    this.url = `http://${this.host}:${this.port}`;
    return this;
  }

  /** The requests whose envelope is about contact cid (data.id), of `type` when given. */
  about(cid, type) {
    return this.requests.filter((r) => r.json?.data?.id === cid && (type === undefined || r.json.type === type));
  }

  async close() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** An integration toward the receiver (loopback allowed), role tokens by default. */
export function receiverIntegration(d, token, iid, rcv, extra = {}) {
  return createIntegration(d, token, iid, {
    name: unique('hook'),
    base_url: rcv.url,
    allowed_methods: ['POST'],
    allowed_address_ranges: [rcv.host],
    auth: { type: 'role' },
    ...extra,
  });
}

/** A webhook subscription toward integration ig. */
export function webhookSub(d, token, iid, ig, body = {}, path = '/events') {
  return createSub(d, token, iid, {
    event_types: ['contact.ended'],
    sink: { type: 'webhook', integration_id: ig.id, path },
    ...body,
  });
}

// ---------------------------------------------------------------------------
// Verifying what a receiver got, from the JWKS alone

export async function fetchJwks(d, iid) {
  const r = await api(d.url, 'GET', `/.well-known/bulwark/${iid}/jwks.json`);
  assert.equal(r.status, 200, `JWKS of ${iid}: ${show(r)}`);
  return r.json;
}

export function decodeJws(jwt) {
  const parts = String(jwt).split('.');
  assert.equal(parts.length, 3, `not a compact JWS: ${jwt}`);
  return {
    header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
    input: `${parts[0]}.${parts[1]}`,
    sig: Buffer.from(parts[2], 'base64url'),
  };
}

export const digestOf = (body) => `sha-256=${crypto.createHash('sha256').update(Buffer.from(body, 'utf8')).digest('base64')}`;

/** Checks a JWS as a receiver: EdDSA, the kid's key, iss/aud/sub/instance, time, digest. */
export function verifyToken(jwt, set, { iid, integration, body, contact }) {
  const t = decodeJws(jwt);
  assert.equal(t.header.alg, 'EdDSA', JSON.stringify(t.header));
  const jwk = set.keys.find((k) => k.kid === t.header.kid);
  assert.ok(jwk, `no key of kid ${t.header.kid} in the JWKS`);
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  assert.ok(crypto.verify(null, Buffer.from(t.input), key, t.sig), 'the signature does not verify against the JWKS');
  const c = t.claims;
  assert.equal(c.iss, 'bulwark', JSON.stringify(c));
  assert.equal(c.sub, integration.id, JSON.stringify(c));
  assert.equal(c.aud, integration.base_url, JSON.stringify(c));
  assert.equal(c.instance, iid, JSON.stringify(c));
  const now = Math.floor(Date.now() / 1000);
  assert.ok(c.nbf <= now + 5 && c.exp > now - 5 && c.exp - c.iat <= 900, `times: ${JSON.stringify(c)}`);
  assert.equal(c.digest, digestOf(body), 'the digest claim is not the SHA-256 of the body received');
  if (contact !== undefined) assert.equal(c.contact, contact, JSON.stringify(c));
  return t;
}

/**
 * A webhook request as a receiver checks it; returns the envelope.
 * role: the integration's auth is role, so Authorization carries a token too.
 */
export function verifyDelivery(req, set, { iid, integration, sid, role = true }) {
  assert.equal(req.method, 'POST');
  assert.match(req.headers['content-type'] || '', /^application\/json/i);
  const env = JSON.parse(req.body);
  assert.match(env.id, /^et_/, req.body);
  assert.equal(req.headers['bulwark-event-id'], env.id);
  assert.equal(req.headers['bulwark-event-type'], env.type);
  assert.equal(env.instance_id, iid);
  if (sid) assert.equal(env.subscription_id, sid);
  assert.ok(!Number.isNaN(Date.parse(env.time)), req.body);
  const contact = env.type.startsWith('contact.') ? env.data.id : undefined;
  if (contact) {
    assert.match(env.dedup_key, new RegExp(`^${contact}/\\d+$`), req.body);
  } else {
    assert.equal(env.dedup_key, env.data.id, req.body);
  }
  const ctx = { iid, integration, body: req.body, contact };
  verifyToken(req.headers['bulwark-signature'], set, ctx);
  if (role) {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
    assert.ok(m, `no role token in Authorization: ${req.headers.authorization}`);
    verifyToken(m[1], set, ctx);
  }
  return env;
}

// ---------------------------------------------------------------------------
// Contacts that end

/** A chat that reaches the queue, then the customer ends it (no agent): ENDED. */
export async function endedQueuedChat(d, ctx) {
  const c = await queuedCustomer(d, ctx);
  c.sock.send({ type: 'end' });
  await c.sock.next(isEvent('ended'), { what: 'the ended event' });
  await c.sock.close();
  await waitContact(d, ctx.admin, ctx.iid, c.cid, (x) => x.state === 'ENDED', 'the ENDED record');
  return c.cid;
}

/** A chat the customer ends before it is queued (in the flow): ENDED, queue null. */
export async function endedFlowChat(d, ctx) {
  const c = await startCustomer(d, ctx);
  c.sock.send({ type: 'end' });
  await c.sock.next(isEvent('ended'), { what: 'the ended event' });
  await c.sock.close();
  await waitContact(d, ctx.admin, ctx.iid, c.cid, (x) => x.state === 'ENDED', 'the ENDED record');
  return c.cid;
}

/** A chat handled by agent (ready on its stream): accepted, ended by the customer, after-contact work cleared. */
export async function endedHandledChat(d, ctx, agent) {
  if (!agent.stream) await readyAgent(d, ctx.iid, agent);
  const c = await queuedCustomer(d, ctx);
  await takeOffer(d, ctx.iid, agent, c.cid);
  c.sock.send({ type: 'end' });
  await c.sock.next(isEvent('ended'), { what: 'the ended event' });
  await c.sock.close();
  await agent.stream.next(isContactState(c.cid, 'AFTER_CONTACT_WORK'), { what: 'after-contact work' });
  const r = await agentPost(d, ctx.iid, agent, c.cid, 'end');
  assert.equal(r.status, 200, `agent end ${c.cid}: ${show(r)}`);
  await waitContact(d, ctx.admin, ctx.iid, c.cid, (x) => x.state === 'ENDED', 'the ENDED record');
  return c.cid;
}

// ---------------------------------------------------------------------------
// The test servers (scripts/test-servers.sh, through lib/servers.mjs)

export const NATS_URL = natsUrl();
export const PG_URL = pgUrl();
// Outside `make test` (no servers) the sink tests are skipped; in CI they
// run and fail instead, so that a missing server is never a silent pass.
export const NO_SERVERS = (!NATS_URL || !PG_URL) && !process.env.CI
  && 'no test servers: run under scripts/test-servers.sh run -- (BULWARK_TEST_NATS_URL, BULWARK_TEST_PG_URL)';

/** Every message of stream `name` ([] when it does not exist), with msgId (Nats-Msg-Id). */
export async function streamMessages(name, url = NATS_URL) {
  return (await natsFetchAll(url, name)).map((m) => ({ ...m, msgId: m.headers['Nats-Msg-Id'] }));
}

/** The warehouse rows of an instance ([] when the table is not there yet). */
export async function warehouseRows(iid, url = PG_URL) {
  try {
    return await pgQuery('SELECT * FROM bulwark_contact_records WHERE instance_id = $1 ORDER BY contact_id', [iid], url);
  } catch (e) {
    if (e.code === '42P01') return []; // undefined_table
    throw e;
  }
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
