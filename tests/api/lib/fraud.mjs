// Helpers for the black-box tests of fraud and abuse protection and of
// callbacks (docs/api.md "Fraud and abuse protection, callbacks").
//
// Many client addresses are stood in for by X-Forwarded-For: the daemon is
// started with trusted_proxies covering loopback (a real feature), so the
// rightmost address of the header is the client. Every test takes fresh
// addresses from nextV4()/nextV6Net() so that the per-address request
// throttle of one test never counts another's requests.
//
// Nothing here sleeps to synchronize: waits poll a condition (or the clock,
// for a documented expiry) with a deadline.

import assert from 'node:assert/strict';
import { startDaemon, api, show, waitFor } from './daemon.mjs';
import { unique } from './identity.mjs';
import { setupCenter, publishFlow, listAll } from './chat.mjs';
import { createEntryPoint } from './routing.mjs';

export const TRUSTED = '127.0.0.1/32,::1/128';

/** `bulwark serve` trusting X-Forwarded-For from loopback, plus env. */
export function startFraudDaemon(data, env = {}) {
  return startDaemon({ data, env: { BULWARK_TRUSTED_PROXIES: TRUSTED, ...env } });
}

// ---------------------------------------------------------------------------
// Addresses: unique per call within a test process. 198.18.0.0/15 (RFC 2544)
// for IPv4 and 2001:db8::/32 (RFC 3849) for IPv6.

let v4 = 0;
/** A fresh IPv4 address (198.18.x.y / 198.19.x.y, host byte 1–254). */
export function nextV4() {
  do v4 += 1; while ((v4 & 0xff) === 0 || (v4 & 0xff) === 255);
  return `198.${18 + ((v4 >> 16) & 1)}.${(v4 >> 8) & 0xff}.${v4 & 0xff}`;
}

let v6 = 0;
/** A fresh IPv6 /64 prefix as four hextets, e.g. "2001:db8:1a2:3"; the /64 is `${p}::/64`. */
export function nextV6Net() {
  v6 += 1;
  return `2001:db8:${(process.pid & 0xffff).toString(16)}:${v6.toString(16)}`;
}

export const xff = (ip) => ({ 'x-forwarded-for': ip });

// ---------------------------------------------------------------------------
// Valid US numbers (FIXED_LINE_OR_MOBILE for libphonenumber), distinct per call.

let numbers = 0;
/** {national: "(202) 555-01NN", e164: "+1202555NNNN"}; 100 distinct per process. */
export function nextNumber() {
  assert.ok(numbers < 100, 'nextNumber: out of distinct numbers');
  const tail = String(100 + numbers).padStart(4, '0');
  numbers += 1;
  return { national: `(202) 555-${tail}`, e164: `+1202555${tail}` };
}

// ---------------------------------------------------------------------------
// Public calls

export function chatFrom(d, ctx, ip, { body = {}, headers = {}, entryPoint } = {}) {
  return api(d.url, 'POST', `/v1/public/instances/${ctx.iid}/chats`, {
    body: { entry_point: entryPoint ?? ctx.entryPoint.id, display_name: 'Ada', ...body },
    headers: ip ? { ...xff(ip), ...headers } : headers,
  });
}

export function callbackFrom(d, ctx, ip, phone, { body = {}, headers = {}, entryPoint } = {}) {
  return api(d.url, 'POST', `/v1/public/instances/${ctx.iid}/callbacks`, {
    body: { entry_point: entryPoint ?? ctx.callbackEntryPoint.id, phone_number: phone, ...body },
    headers: ip ? { ...xff(ip), ...headers } : headers,
  });
}

/** A 403 ContactBlocked reply. */
export function assertBlocked(res, context = '') {
  const where = context ? `${context}: ` : '';
  assert.equal(res.status, 403, `${where}expected 403 ContactBlocked, got ${show(res)}`);
  assert.equal(res.json?.error?.code, 'ContactBlocked', `${where}${show(res)}`);
}

// ---------------------------------------------------------------------------
// Instances ready for callbacks

/**
 * A flow for callbacks: straight into the queue (QueueAtCapacity ends it).
 */
export function callbackFlow(queueId) {
  return {
    Version: '2019-10-30',
    StartAction: 'queue',
    Actions: [
      {
        Identifier: 'queue', Type: 'TransferContactToQueue', Parameters: { QueueId: queueId },
        Transitions: { Errors: [{ NextAction: 'bye', ErrorType: 'QueueAtCapacity' }] },
      },
      { Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
    ],
  };
}

/**
 * setupCenter() (hours, queue, routing profile, chat flow, CHAT entry point,
 * agents) plus a callback flow and a CALLBACK entry point:
 * ctx.callbackFlow, ctx.callbackEntryPoint.
 */
export async function setupCallbackCenter(d, key, { agents = 0, concurrency = { CHAT: 1, CALLBACK: 1 }, epRegion, ...rest } = {}) {
  const ctx = await setupCenter(d, key, { agents, concurrency, ...rest });
  const { flow } = await publishFlow(d, ctx.admin, ctx.iid, callbackFlow(ctx.queue.id));
  const epBody = { type: 'CALLBACK' };
  if (epRegion) epBody.default_region = epRegion;
  const callbackEntryPoint = await createEntryPoint(d, ctx.admin, ctx.iid, flow.id, epBody);
  return { ...ctx, callbackFlow: flow, callbackEntryPoint };
}

// ---------------------------------------------------------------------------
// Contact filter and deny list

export const DEFAULT_FILTER = {
  enabled: true,
  dry_run: false,
  rules: [
    { identifier: 'ADDRESS', limit: 20, window_s: 600, deny_s: 3600 },
    { identifier: 'NUMBER', limit: 5, window_s: 3600, deny_s: 3600 },
    { identifier: 'EMAIL', limit: 10, window_s: 3600, deny_s: 3600 },
  ],
};

export const filterPath = (iid) => `/v1/instances/${iid}/contact-filter`;
export const denyPath = (iid, s = '') => `/v1/instances/${iid}/deny-list${s}`;

export async function getFilter(d, token, iid) {
  const r = await api(d.url, 'GET', filterPath(iid), { key: token });
  assert.equal(r.status, 200, `GET contact-filter: ${show(r)}`);
  return r.json;
}

export async function patchFilter(d, token, iid, patch) {
  const r = await api(d.url, 'PATCH', filterPath(iid), { key: token, body: patch });
  assert.equal(r.status, 200, `PATCH contact-filter ${JSON.stringify(patch)}: ${show(r)}`);
  return r.json;
}

/**
 * Replace one rule (by identifier), keeping the others as they are (a PATCH
 * of `rules` replaces the whole list).
 */
export async function setRule(d, token, iid, identifier, rule) {
  const cur = await getFilter(d, token, iid);
  const rules = cur.rules.filter((r) => r.identifier !== identifier);
  rules.push({ identifier, ...rule });
  return patchFilter(d, token, iid, { rules });
}

/** Every deny-list entry of the instance (query: "type=IP&source=AUTOMATIC"). */
export function denyEntries(d, token, iid, query = '') {
  return listAll(d, token, denyPath(iid, query ? `?${query}` : ''));
}

export async function createDeny(d, token, iid, body, headers = {}) {
  const r = await api(d.url, 'POST', denyPath(iid), { key: token, body, headers });
  assert.equal(r.status, 201, `create deny entry ${JSON.stringify(body)}: ${show(r)}`);
  return r.json;
}

/** Audit events of the instance, optionally of one action. */
export function auditEvents(d, token, iid, action) {
  return listAll(d, token, `/v1/instances/${iid}/audit-events${action ? `?action=${encodeURIComponent(action)}` : ''}`);
}

/** Contact records of the instance (query: "channel=CALLBACK&state=ENDED"). */
export function contacts(d, token, iid, query = '') {
  return listAll(d, token, `/v1/instances/${iid}/contacts${query ? `?${query}` : ''}`);
}

/** Wait (polling the clock) until Date.now() >= t. */
export async function untilClock(t, what = 'the clock') {
  const ms = Math.max(0, t - Date.now());
  await waitFor(() => Date.now() >= t, { timeoutMs: ms + 2000, intervalMs: 20, what });
}

/** Milliseconds of an RFC 3339 time; asserts it parses. */
export function ms(t, what = 'time') {
  const v = Date.parse(t);
  assert.ok(Number.isFinite(v), `${what} is not an RFC 3339 time: ${JSON.stringify(t)}`);
  return v;
}

export { unique };
