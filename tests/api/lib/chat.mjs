// Helpers for the black-box tests of the contact center: chats, agents,
// routing, contact records (docs/api.md "Contact center: chats, agents,
// contacts").
//
// setupCenter() builds one instance ready to take chats: hours (open all week
// or never), a queue, a routing profile with CHAT concurrency, a flow
// published twice (version 2 is the one that runs), a CHAT entry point and
// agents (Agent profile + that routing profile), each logged in.
//
// openSocket() wraps a `ws` client in a frame reader: every frame is kept in
// `log`; next(pred) resolves the first frame not yet taken that matches,
// waiting up to a deadline (and failing at once, with the frames seen, when
// the socket closes first). Nothing here sleeps to synchronize.

import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { api, show, waitFor } from './daemon.mjs';
import { unique, createInstance, loginToken, profilesByName, createUser, PASSWORD } from './identity.mjs';
import { createHours, createQueue, createRoutingProfile, createEntryPoint } from './routing.mjs';

export const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
export const OPEN_ALL_WEEK = DAYS.map((day) => ({ day, start: '00:00', end: '24:00' }));

// RFC 3339 UTC with milliseconds, as the contact record's times are documented.
export const TIME_MS_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
// Any RFC 3339 UTC time (message and event times).
export const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

// A valid US number (the instance's default region is US) and its E.164 form.
export const PHONE = '(202) 456-1111';
export const PHONE_E164 = '+12024561111';
export const PHONE_DIGITS = '2024561111';

export const TEXT = {
  greetingV1: 'Old greeting of version 1',
  greeting: 'Hello! Welcome to Bulwark support.',
  ask: 'What number can we reach you on?',
  invalid: 'That number is not valid. Please try again.',
  thanks: 'Thank you. An agent will be with you shortly.',
  full: 'All our agents are busy. Please try again later.',
  closed: 'We are closed right now.',
};

/**
 * The flow under test:
 *   hours (CheckHoursOfOperation) --True--> greet --> ask (GetParticipantInput)
 *     --> check (ValidateInput PhoneNumber → callback_number)
 *         --valid--> thanks --> queue (TransferContactToQueue) --QueueAtCapacity--> full --> bye
 *         --InvalidInput--> retry --> ask
 *   hours --False--> closed --> bye (DisconnectParticipant)
 */
export function chatFlow({ hoursId, queueId, greeting = TEXT.greeting, inputTimeoutS = 60 }) {
  const eq = (v, next) => ({ NextAction: next, Condition: { Operator: 'Equals', Operands: [v] } });
  return {
    Version: '2019-10-30',
    StartAction: 'hours',
    Actions: [
      {
        Identifier: 'hours', Type: 'CheckHoursOfOperation', Parameters: { HoursOfOperationId: hoursId },
        Transitions: { Conditions: [eq('True', 'greet'), eq('False', 'closed')] },
      },
      { Identifier: 'greet', Type: 'MessageParticipant', Parameters: { Text: greeting }, Transitions: { NextAction: 'ask' } },
      {
        Identifier: 'ask', Type: 'GetParticipantInput',
        Parameters: { Text: TEXT.ask, StoreInput: 'True', InputTimeLimitSeconds: String(inputTimeoutS) },
        Transitions: { NextAction: 'check', Errors: [{ NextAction: 'bye', ErrorType: 'NoMatchingError' }] },
      },
      {
        Identifier: 'check', Type: 'ValidateInput', Parameters: { Kind: 'PhoneNumber', Attribute: 'callback_number' },
        Transitions: { NextAction: 'thanks', Errors: [{ NextAction: 'retry', ErrorType: 'InvalidInput' }] },
      },
      { Identifier: 'retry', Type: 'MessageParticipant', Parameters: { Text: TEXT.invalid }, Transitions: { NextAction: 'ask' } },
      { Identifier: 'thanks', Type: 'MessageParticipant', Parameters: { Text: TEXT.thanks }, Transitions: { NextAction: 'queue' } },
      {
        Identifier: 'queue', Type: 'TransferContactToQueue', Parameters: { QueueId: queueId },
        Transitions: { Errors: [{ NextAction: 'full', ErrorType: 'QueueAtCapacity' }] },
      },
      { Identifier: 'full', Type: 'MessageParticipant', Parameters: { Text: TEXT.full }, Transitions: { NextAction: 'bye' } },
      { Identifier: 'closed', Type: 'MessageParticipant', Parameters: { Text: TEXT.closed }, Transitions: { NextAction: 'bye' } },
      { Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
    ],
  };
}

/** Create a flow with `content` and publish it; returns {flow, version}. */
export async function publishFlow(d, token, iid, content, name = unique('flow')) {
  const c = await api(d.url, 'POST', `/v1/instances/${iid}/flows`, { key: token, body: { name, content } });
  assert.equal(c.status, 201, `create flow: ${show(c)}`);
  const p = await api(d.url, 'POST', `/v1/instances/${iid}/flows/${c.json.id}/publish`, { key: token });
  assert.equal(p.status, 201, `publish flow: ${show(p)}`);
  return { flow: c.json, version: p.json.version };
}

/** Replace a flow's draft and publish it as the next version; returns the version number. */
export async function republishFlow(d, token, iid, flowId, content) {
  const u = await api(d.url, 'PATCH', `/v1/instances/${iid}/flows/${flowId}`, { key: token, body: { content } });
  assert.equal(u.status, 200, `patch flow: ${show(u)}`);
  const p = await api(d.url, 'POST', `/v1/instances/${iid}/flows/${flowId}/publish`, { key: token });
  assert.equal(p.status, 201, `publish flow: ${show(p)}`);
  return p.json.version;
}

/** A user with the given profile ids (and routing profile), logged in: {user, id, token, username}. */
export async function createAgent(d, admin, iid, { profiles, routingProfileId } = {}) {
  const username = unique('agent');
  const body = { username, password: PASSWORD };
  if (profiles) body.profiles = profiles;
  if (routingProfileId !== undefined) body.routing_profile_id = routingProfileId;
  const user = await createUser(d, admin, iid, body);
  const token = await loginToken(d, iid, username, PASSWORD);
  return { user, id: user.id, token, username, stream: null, hello: null };
}

/**
 * One instance ready to take chats. Options:
 *   agents (2), concurrency ({CHAT: 1}), open (true: hours 00:00–24:00 every
 *   day; false: no open day), maxContacts (queue), inputTimeoutS, delayS
 *   (the queue's delay_s in the routing profile).
 * Returns {d, iid, instance, admin, profiles, hours, queue, routingProfile,
 *   flow, flowVersion, entryPoint, agents: [...]}.
 */
export async function setupCenter(d, platformKey, {
  agents = 2, concurrency = { CHAT: 1 }, open = true, maxContacts, inputTimeoutS = 60, delayS = 0,
} = {}) {
  const instance = await createInstance(d, platformKey);
  const iid = instance.id;
  const admin = await loginToken(d, iid, instance.adminUsername);
  const profiles = await profilesByName(d, admin, iid);
  const hours = await createHours(d, admin, iid, { config: open ? OPEN_ALL_WEEK : [] });
  const queue = await createQueue(d, admin, iid, hours.id, maxContacts ? { max_contacts: maxContacts } : {});
  const routingProfile = await createRoutingProfile(d, admin, iid,
    [{ queue_id: queue.id, priority: 1, delay_s: delayS }], { concurrency });
  // Version 1 greets differently: the contact must run the latest version (2).
  const { flow } = await publishFlow(d, admin, iid,
    chatFlow({ hoursId: hours.id, queueId: queue.id, greeting: TEXT.greetingV1, inputTimeoutS }));
  const flowVersion = await republishFlow(d, admin, iid, flow.id,
    chatFlow({ hoursId: hours.id, queueId: queue.id, inputTimeoutS }));
  assert.equal(flowVersion, 2);
  const entryPoint = await createEntryPoint(d, admin, iid, flow.id, { type: 'CHAT' });
  const list = [];
  for (let i = 0; i < agents; i++) {
    list.push(await createAgent(d, admin, iid, { profiles: [profiles.Agent.id], routingProfileId: routingProfile.id }));
  }
  return { d, iid, instance, admin, profiles, hours, queue, routingProfile, flow, flowVersion, entryPoint, agents: list };
}

// ---------------------------------------------------------------------------
// Sockets and the frame reader

class Conn {
  constructor(ws) {
    this.ws = ws;
    this.log = []; // every frame received, in order
    this.pending = []; // frames not yet taken by next()
    this.waiters = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters.splice(0)) w.fail(`the socket closed (${code} ${reason}) first`);
        resolve(this.closeInfo);
      });
    });
    ws.on('error', () => { /* reported through close */ });
    ws.on('message', (data, isBinary) => {
      const text = data.toString('utf8');
      let f;
      try { f = JSON.parse(text); } catch { f = { type: '__unparsable', text, isBinary }; }
      this.log.push(f);
      const i = this.waiters.findIndex((w) => w.pred(f));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w.done(f);
      } else {
        this.pending.push(f);
      }
    });
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  /** The first frame not yet taken that satisfies pred, within timeoutMs. */
  next(pred = () => true, { timeoutMs = 5000, what = 'a frame' } = {}) {
    const i = this.pending.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.pending.splice(i, 1)[0]);
    if (this.closeInfo) {
      return Promise.reject(new Error(`waiting for ${what}: the socket is closed (${this.closeInfo.code}); frames: ${this.tail()}`));
    }
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        done: (f) => { clearTimeout(w.timer); resolve(f); },
        fail: (why) => { clearTimeout(w.timer); reject(new Error(`waiting for ${what}: ${why}; frames: ${this.tail()}`)); },
      };
      w.timer = setTimeout(() => {
        const j = this.waiters.indexOf(w);
        if (j >= 0) this.waiters.splice(j, 1);
        w.fail(`nothing within ${timeoutMs} ms`);
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** The frames received so far that satisfy pred (taken or not). */
  seen(pred) { return this.log.filter(pred); }

  send(frame) { this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame)); }

  /** A WebSocket ping answered by a pong: every frame the server queued before is in. */
  barrier(timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const payload = `b${Math.random().toString(36).slice(2)}`;
      const t = setTimeout(() => { this.ws.off('pong', on); reject(new Error(`no pong within ${timeoutMs} ms`)); }, timeoutMs);
      const on = (data) => {
        if (data.toString() !== payload) return;
        clearTimeout(t);
        this.ws.off('pong', on);
        resolve();
      };
      this.ws.on('pong', on);
      this.ws.ping(payload);
    });
  }

  async close() {
    if (this.closeInfo) return this.closeInfo;
    try { this.ws.close(1000); } catch { /* not open */ }
    const t = setTimeout(() => this.ws.terminate(), 3000);
    const info = await this.closed;
    clearTimeout(t);
    return info;
  }

  tail(n = 12) { return JSON.stringify(this.log.slice(-n)).slice(0, 3000); }
}

/**
 * Open a WebSocket. Resolves a Conn once open; rejects with err.statusCode
 * (and err.body, err.json) when the upgrade is refused.
 */
export function openSocket(url, protocols = ['bulwark.v1'], { timeoutMs = 5000, headers } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { handshakeTimeout: timeoutMs, headers });
    const conn = new Conn(ws);
    let settled = false;
    ws.once('open', () => { settled = true; resolve(conn); });
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        const err = new Error(`upgrade refused: ${res.statusCode} ${body.slice(0, 300)}`);
        err.statusCode = res.statusCode;
        err.body = body;
        try { err.json = JSON.parse(body); } catch { /* not JSON */ }
        settled = true;
        reject(err);
        req.destroy();
      });
    });
    ws.on('error', (err) => { if (!settled) { settled = true; reject(err); } });
  });
}

/** The HTTP status of a refused upgrade (or 101 when it opened, then closed). */
export async function upgradeStatus(url, protocols) {
  try {
    const c = await openSocket(url, protocols);
    await c.close();
    return { status: 101 };
  } catch (e) {
    if (e.statusCode) return { status: e.statusCode, json: e.json, body: e.body };
    throw e;
  }
}

export const bearer = (token) => ['bulwark.v1', `bearer.${token}`];
export const agentStreamUrl = (d, iid) => `${d.wsUrl}/v1/instances/${iid}/agent/stream`;

// ---------------------------------------------------------------------------
// Frame predicates

export const isMessage = (role, content) => (f) => f.type === 'message'
  && (role === undefined || f.participant_role === role) && (content === undefined || f.content === content);
export const isSystem = (content) => isMessage('SYSTEM', content);
export const isEvent = (event, extra = {}) => (f) => f.type === 'event' && f.event === event
  && Object.entries(extra).every(([k, v]) => f[k] === v);
export const isError = (code) => (f) => f.type === 'error' && (code === undefined || f.code === code);
export const isOffer = (cid) => (f) => f.type === 'offer' && (cid === undefined || f.contact_id === cid);
export const isContactState = (cid, state) => (f) => f.type === 'contact' && f.contact_id === cid
  && (state === undefined || (Array.isArray(state) ? state.includes(f.state) : f.state === state));
export const isStatus = (status) => (f) => f.type === 'status' && f.status === status;
/** An agent-stream frame about contact cid (message, event). */
export const about = (cid, pred) => (f) => f.contact_id === cid && pred(f);

// ---------------------------------------------------------------------------
// Agents

/** Open the agent's stream and take its hello. */
export async function connectAgent(d, iid, agent) {
  agent.stream = await openSocket(agentStreamUrl(d, iid), bearer(agent.token));
  agent.hello = await agent.stream.next((f) => f.type === 'hello', { what: 'the agent hello' });
  return agent.stream;
}

export async function setStatus(d, token, status) {
  const r = await api(d.url, 'PUT', '/v1/me/status', { key: token, body: { status } });
  assert.ok(r.status === 200 || r.status === 204, `PUT /v1/me/status ${status}: ${show(r)}`);
  return r;
}

/**
 * Set the agent Available and wait for the status frame on their stream;
 * then let the clock move on so that the next agent's idle time is strictly
 * later (ties would make "longest idle" undefined).
 */
export async function makeAvailable(d, agent) {
  const was = agent.hello?.status;
  await setStatus(d, agent.token, 'Available');
  if (was !== 'Available') {
    await agent.stream.next(isStatus('Available'), { what: 'status Available on the agent stream' });
  }
  const t = Date.now();
  await waitFor(() => Date.now() >= t + 3, { intervalMs: 1, what: 'the clock' });
}

/** Open the stream and become Available, in that order. */
export async function readyAgent(d, iid, agent) {
  await connectAgent(d, iid, agent);
  await makeAvailable(d, agent);
  return agent;
}

export function agentPost(d, iid, agent, cid, verb, body) {
  return api(d.url, 'POST', `/v1/instances/${iid}/agent/contacts/${cid}/${verb}`, { key: agent.token ?? agent, body });
}

/** Wait for the offer of cid on the agent's stream and accept it; returns the accept reply. */
export async function takeOffer(d, iid, agent, cid) {
  const offer = await agent.stream.next(isOffer(cid), { what: `the offer of ${cid}` });
  const r = await agentPost(d, iid, agent, cid, 'accept');
  assert.equal(r.status, 200, `accept ${cid}: ${show(r)}`);
  return { offer, accept: r };
}

// ---------------------------------------------------------------------------
// Customers

export function chatStart(d, iid, body, opts = {}) {
  return api(d.url, 'POST', `/v1/public/instances/${iid}/chats`, { body, ...opts });
}

/** POST .../chats (asserts 201) and open the customer socket: {chat, cid, token, sock}. */
export async function startCustomer(d, ctx, { display_name = 'Ada', email, attributes, viaQuery = false } = {}) {
  const body = { entry_point: ctx.entryPoint.id, display_name };
  if (email !== undefined) body.email = email;
  if (attributes !== undefined) body.attributes = attributes;
  const r = await chatStart(d, ctx.iid, body);
  assert.equal(r.status, 201, `start chat: ${show(r)}`);
  const chat = r.json;
  const sock = viaQuery
    ? await openSocket(`${chat.websocket_url}?token=${encodeURIComponent(chat.participant_token)}`, ['bulwark.v1'])
    : await openSocket(chat.websocket_url, bearer(chat.participant_token));
  return { chat, cid: chat.contact_id, token: chat.participant_token, sock, display_name };
}

/** Open another customer socket for the same chat. */
export function reopenCustomer(customer) {
  return openSocket(customer.chat.websocket_url, bearer(customer.token));
}

/** Send a customer message and wait for its echo; returns the echo. */
export async function say(customer, content) {
  customer.sock.send({ type: 'message', content });
  return customer.sock.next(isMessage('CUSTOMER', content), { what: `the echo of ${JSON.stringify(content)}` });
}

/** Greeting, question, a valid number, thanks: the contact is on its way to the queue. */
export async function answerPhone(customer, number = PHONE) {
  await customer.sock.next(isSystem(TEXT.greeting), { what: 'the greeting' });
  await customer.sock.next(isSystem(TEXT.ask), { what: 'the question' });
  await say(customer, number);
  await customer.sock.next(isSystem(TEXT.thanks), { what: 'the thanks after a valid number' });
}

/** A customer whose chat reaches the queue. */
export async function queuedCustomer(d, ctx, opts = {}) {
  const c = await startCustomer(d, ctx, opts);
  await answerPhone(c, opts.number);
  return c;
}

// ---------------------------------------------------------------------------
// Records

export function getContact(d, token, iid, cid) {
  return api(d.url, 'GET', `/v1/instances/${iid}/contacts/${cid}`, { key: token });
}

/** Poll GET .../contacts/{cid} until pred(record); returns the record. */
export async function waitContact(d, token, iid, cid, pred, what = 'the contact record') {
  let last;
  await waitFor(async () => {
    const r = await getContact(d, token, iid, cid);
    last = r;
    return r.status === 200 && pred(r.json);
  }, { timeoutMs: 5000, what: `${what} (last: ${last ? show(last) : 'none'})` });
  return last.json;
}

/** Every item of a paged list, following next_token. */
export async function listAll(d, token, pathWithQuery, limit = 1000) {
  const items = [];
  let next = null;
  const sep = pathWithQuery.includes('?') ? '&' : '?';
  for (let pages = 0; pages < 1000; pages++) {
    const r = await api(d.url, 'GET', `${pathWithQuery}${sep}limit=${limit}${next ? `&next_token=${encodeURIComponent(next)}` : ''}`, { key: token });
    assert.equal(r.status, 200, `GET ${pathWithQuery}: ${show(r)}`);
    assert.ok(Array.isArray(r.json.items), show(r));
    assert.ok(r.json.items.length <= limit, `more than limit=${limit} items`);
    items.push(...r.json.items);
    next = r.json.next_token;
    if (!next) return items;
  }
  throw new Error(`GET ${pathWithQuery}: next_token never ends`);
}

/** Whether a hello frame's `contacts` names cid (items may be ids or objects). */
export function helloLists(hello, cid) {
  return Array.isArray(hello?.contacts)
    && hello.contacts.some((c) => c === cid || c?.contact_id === cid || c?.id === cid);
}

/**
 * Another queue of the same instance (same hours) with its own flow and CHAT
 * entry point: a ctx view whose startCustomer() lands in that queue.
 */
export async function addQueue(d, ctx, { maxContacts } = {}) {
  const queue = await createQueue(d, ctx.admin, ctx.iid, ctx.hours.id, maxContacts ? { max_contacts: maxContacts } : {});
  const { flow, version } = await publishFlow(d, ctx.admin, ctx.iid, chatFlow({ hoursId: ctx.hours.id, queueId: queue.id }));
  const entryPoint = await createEntryPoint(d, ctx.admin, ctx.iid, flow.id, { type: 'CHAT' });
  return { ...ctx, queue, flow, flowVersion: version, entryPoint };
}

/** PATCH a routing profile (asserts 200). */
export async function patchRoutingProfile(d, ctx, rpid, patch) {
  const r = await api(d.url, 'PATCH', `/v1/instances/${ctx.iid}/routing-profiles/${rpid}`, { key: ctx.admin, body: patch });
  assert.equal(r.status, 200, `PATCH routing profile: ${show(r)}`);
  return r.json;
}

/** GET .../metrics/real-time (asserts 200): {byQueue: Map(queue_id → row), json}. */
export async function realTime(d, token, iid) {
  const r = await api(d.url, 'GET', `/v1/instances/${iid}/metrics/real-time`, { key: token });
  assert.equal(r.status, 200, `real-time metrics: ${show(r)}`);
  assert.ok(Array.isArray(r.json.queues), show(r));
  return { byQueue: new Map(r.json.queues.map((q) => [q.queue_id, q])), json: r.json };
}
