// The authorization matrix (C1, C2, C3), generated from `bulwark routes --json`:
// every non-admin, non-WebSocket route is driven by every kind of principal
// (no token, garbage tokens, the platform key, a user of each default profile,
// a user of a custom "power agent" profile, a user holding Edit permissions
// without their View, and a user of another instance on this instance's paths). The expected outcome is computed from the route's
// kinds and permission and from the contract's catalog (Edit implies View):
//   allowed  → a status the handler gives once past authorization (2xx, 400, 409)
//   denied   → 403 AccessDenied
//   wrong kind or no/garbage token → 401 Unauthenticated
//   another instance's user on an instance path → 404 NotFound
// A route of the table for which no row can be built fails its test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { initData, startDaemon, removeTempDir, api, show } from './lib/daemon.mjs';
import {
  PASSWORD, ALL_PERMISSIONS, DEFAULT_PROFILES, grants, assertError, routeTable, unique,
  createInstance, loginToken, profilesByName, createProfile, createUser,
} from './lib/identity.mjs';
import { createHours, createQueue, createRoutingProfile, createEntryPoint, flowIdFor } from './lib/routing.mjs';

const ROUTES = routeTable();
const SPECIAL = new Set(['PUBLIC', 'Platform', 'Authenticated']);
const DRIVEN = ROUTES.filter((r) => !r.admin && !r.websocket);
// Logging out ends the principal's session: those rows run last.
const ORDERED = [...DRIVEN.filter((r) => r.action !== 'auth.logout'), ...DRIVEN.filter((r) => r.action === 'auth.logout')];

// What API.md fixes for the identity routes: kinds and permission. A route of
// the table that is listed here must match it (a mislabelled row would make
// the generated matrix agree with a wrong table).
const CONTRACT = {
  'POST /v1/instances': [['platform'], 'Platform'],
  'GET /v1/instances': [['platform'], 'Platform'],
  'GET /v1/instances/{iid}': [['platform'], 'Platform'],
  'PATCH /v1/instances/{iid}': [['platform'], 'Platform'],
  'DELETE /v1/instances/{iid}': [['platform'], 'Platform'],
  'GET /v1/audit-events': [['platform'], 'Platform'],
  'GET /v1/audit-events/verify': [['platform'], 'Platform'],
  'GET /v1/permissions': [['platform', 'user'], 'Authenticated'],
  'GET /v1/instances/{iid}/security-settings': [['platform', 'user'], 'SecuritySettings.View'],
  'PATCH /v1/instances/{iid}/security-settings': [['platform', 'user'], 'SecuritySettings.Edit'],
  'GET /v1/instances/{iid}/approved-origins': [['platform', 'user'], 'SecuritySettings.View'],
  'POST /v1/instances/{iid}/auth/login': [[], 'PUBLIC'],
  'POST /v1/instances/{iid}/auth/logout': [['user'], 'Authenticated'],
  'GET /v1/me': [['user'], 'Authenticated'],
  'PUT /v1/me/status': [['user'], 'Authenticated'],
  'GET /v1/me/sessions': [['user'], 'Authenticated'],
  'DELETE /v1/me/sessions/{sid}': [['user'], 'Authenticated'],
  'POST /v1/instances/{iid}/security-profiles': [['user'], 'SecurityProfiles.Edit'],
  'GET /v1/instances/{iid}/security-profiles': [['user'], 'SecurityProfiles.View'],
  'GET /v1/instances/{iid}/security-profiles/{pid}': [['user'], 'SecurityProfiles.View'],
  'PATCH /v1/instances/{iid}/security-profiles/{pid}': [['user'], 'SecurityProfiles.Edit'],
  'DELETE /v1/instances/{iid}/security-profiles/{pid}': [['user'], 'SecurityProfiles.Edit'],
  'POST /v1/instances/{iid}/users': [['user'], 'Users.Edit'],
  'GET /v1/instances/{iid}/users': [['user'], 'Users.View'],
  'GET /v1/instances/{iid}/users/{uid}': [['user'], 'Users.View'],
  'PATCH /v1/instances/{iid}/users/{uid}': [['user'], 'Users.Edit'],
  'DELETE /v1/instances/{iid}/users/{uid}': [['user'], 'Users.Edit'],
  'POST /v1/instances/{iid}/users/{uid}/mfa/totp': [['user'], 'Authenticated'],
  'POST /v1/instances/{iid}/users/{uid}/mfa/totp/verify': [['user'], 'Authenticated'],
  'DELETE /v1/instances/{iid}/users/{uid}/mfa': [['user'], 'Users.Edit'],
  'GET /v1/instances/{iid}/audit-events': [['user'], 'Audit.View'],
  'GET /v1/instances/{iid}/audit-events/verify': [['user'], 'Audit.View'],
  // routing
  ...Object.fromEntries([
    ['hours-of-operation', 'hid', 'HoursOfOperation'], ['queues', 'qid', 'Queues'],
    ['routing-profiles', 'rpid', 'RoutingProfiles'], ['entry-points', 'epid', 'EntryPoints'],
  ].flatMap(([res, id, perm]) => [
    [`POST /v1/instances/{iid}/${res}`, [['user'], `${perm}.Edit`]],
    [`GET /v1/instances/{iid}/${res}`, [['user'], `${perm}.View`]],
    [`GET /v1/instances/{iid}/${res}/{${id}}`, [['user'], `${perm}.View`]],
    [`PATCH /v1/instances/{iid}/${res}/{${id}}`, [['user'], `${perm}.Edit`]],
    [`DELETE /v1/instances/{iid}/${res}/{${id}}`, [['user'], `${perm}.Edit`]],
  ])),
  'GET /v1/instances/{iid}/hours-of-operation/{hid}/status': [['user'], 'HoursOfOperation.View'],
  // flows
  'POST /v1/instances/{iid}/flows': [['user'], 'Flows.Edit'],
  'GET /v1/instances/{iid}/flows': [['user'], 'Flows.View'],
  'GET /v1/instances/{iid}/flows/{fid}': [['user'], 'Flows.View'],
  'PATCH /v1/instances/{iid}/flows/{fid}': [['user'], 'Flows.Edit'],
  'DELETE /v1/instances/{iid}/flows/{fid}': [['user'], 'Flows.Edit'],
  'POST /v1/instances/{iid}/flows/{fid}/publish': [['user'], 'Flows.Publish'],
  'GET /v1/instances/{iid}/flows/{fid}/versions': [['user'], 'Flows.View'],
  'GET /v1/instances/{iid}/flows/{fid}/versions/{n}': [['user'], 'Flows.View'],
  // integrations (C17)
  'POST /v1/instances/{iid}/integrations': [['user'], 'Integrations.Edit'],
  'GET /v1/instances/{iid}/integrations': [['user'], 'Integrations.View'],
  'GET /v1/instances/{iid}/integrations/{intid}': [['user'], 'Integrations.View'],
  'PATCH /v1/instances/{iid}/integrations/{intid}': [['user'], 'Integrations.Edit'],
  'DELETE /v1/instances/{iid}/integrations/{intid}': [['user'], 'Integrations.Edit'],
  'POST /v1/instances/{iid}/integrations/{intid}/test': [['user'], 'Integrations.Edit'],
  // event subscriptions (C18)
  'POST /v1/instances/{iid}/event-subscriptions': [['user'], 'Integrations.Edit'],
  'GET /v1/instances/{iid}/event-subscriptions': [['user'], 'Integrations.View'],
  'GET /v1/instances/{iid}/event-subscriptions/{esid}': [['user'], 'Integrations.View'],
  'PATCH /v1/instances/{iid}/event-subscriptions/{esid}': [['user'], 'Integrations.Edit'],
  'DELETE /v1/instances/{iid}/event-subscriptions/{esid}': [['user'], 'Integrations.Edit'],
  'GET /v1/instances/{iid}/event-subscriptions/{esid}/dead-letters': [['user'], 'Integrations.View'],
  'POST /v1/instances/{iid}/event-subscriptions/{esid}/dead-letters/retry': [['user'], 'Integrations.Edit'],
  'DELETE /v1/instances/{iid}/event-subscriptions/{esid}/dead-letters': [['user'], 'Integrations.Edit'],
  // keys
  'POST /v1/instances/{iid}/encryption-keys': [['user'], 'Keys.Edit'],
  'GET /v1/instances/{iid}/encryption-keys': [['user'], 'Keys.View'],
  'POST /v1/instances/{iid}/encryption-keys/test-encrypt': [['user'], 'Keys.Edit'],
  'GET /v1/instances/{iid}/encryption-keys/{ekid}': [['user'], 'Keys.View'],
  'PATCH /v1/instances/{iid}/encryption-keys/{ekid}': [['user'], 'Keys.Edit'],
  'DELETE /v1/instances/{iid}/encryption-keys/{ekid}': [['user'], 'Keys.Edit'],
  'GET /v1/instances/{iid}/keys': [['user'], 'Keys.View'],
  'GET /v1/instances/{iid}/keys/import-parameters': [['user'], 'Keys.View'],
  'POST /v1/instances/{iid}/keys/import': [['user'], 'Keys.Edit'],
  'POST /v1/instances/{iid}/keys/rotate': [['user'], 'Keys.Edit'],
  // contacts
  'GET /v1/instances/{iid}/contacts': [['user'], 'ContactSearch.View'],
  'GET /v1/instances/{iid}/contacts/{cid}': [['user'], 'ContactSearch.View'],
  'GET /v1/instances/{iid}/contacts/{cid}/transcript': [['user'], 'Transcripts.View'],
  'GET /v1/instances/{iid}/contacts/{cid}/flow-log': [['user'], 'ContactSearch.View'],
  // fraud
  'POST /v1/instances/{iid}/deny-list': [['user'], 'Fraud.Edit'],
  'GET /v1/instances/{iid}/deny-list': [['user'], 'Fraud.View'],
  'POST /v1/instances/{iid}/deny-list/import': [['user'], 'Fraud.Edit'],
  'GET /v1/instances/{iid}/deny-list/{dlid}': [['user'], 'Fraud.View'],
  'PATCH /v1/instances/{iid}/deny-list/{dlid}': [['user'], 'Fraud.Edit'],
  'DELETE /v1/instances/{iid}/deny-list/{dlid}': [['user'], 'Fraud.Edit'],
  'GET /v1/instances/{iid}/contact-filter': [['user'], 'Fraud.View'],
  'PATCH /v1/instances/{iid}/contact-filter': [['user'], 'Fraud.Edit'],
  // secrets and roles (C7)
  'POST /v1/instances/{iid}/secrets': [['user'], 'Secrets.Edit'],
  'GET /v1/instances/{iid}/secrets': [['user'], 'Secrets.View'],
  'GET /v1/instances/{iid}/secrets/{scid}': [['user'], 'Secrets.View'],
  'POST /v1/instances/{iid}/secrets/{scid}/rotate': [['user'], 'Secrets.Edit'],
  'DELETE /v1/instances/{iid}/secrets/{scid}': [['user'], 'Secrets.Edit'],
  'GET /v1/instances/{iid}/signing-keys': [['user'], 'Keys.View'],
  'POST /v1/instances/{iid}/signing-keys/rotate': [['user'], 'Keys.Edit'],
  'POST /v1/instances/{iid}/signing-keys/test-sign': [['user'], 'Integrations.Edit'],
  'GET /.well-known/bulwark/{iid}/jwks.json': [[], 'PUBLIC'],
};

const POWER_AGENT = ['Contacts.Handle', 'Metrics.RealTime.View', 'ContactSearch.View'];
// Edit without the matching View: the matrix expects the Views through "Edit implies View".
const EDITOR = ['Users.Edit', 'SecurityProfiles.Edit', 'SecuritySettings.Edit'];

let init;
let d;
let A; // the instance under test
let B; // another instance
let adminA; // token of A's first admin (setup only; not a matrix principal)
let profA; // A's profiles by name
let victim; // a user of A with no profile: within anyone's permissions
let scratchProfile; // an empty profile of A, PATCHed by the matrix
let routing; // routing resources of A, read and PATCHed by the matrix (DELETE rows get throwaways)
let flowA; // a flow of A with a published version 1 (flows; DELETE rows get throwaways)
const MATRIX_FLOW = {
  Version: '2019-10-30', StartAction: 'bye', Actions: [{ Identifier: 'bye', Type: 'DisconnectParticipant' }],
};
let denyA; // a deny-list entry of A, read and PATCHed by the matrix (fraud; DELETE rows get throwaways)
let denySeq = 0;
async function createDenyA() { // an address of 10.0.0.0/8: the matrix calls from loopback
  denySeq += 1;
  const value = `10.${(denySeq >> 16) & 255}.${(denySeq >> 8) & 255}.${denySeq & 255}`;
  const r = await api(d.url, 'POST', `/v1/instances/${A.id}/deny-list`, { key: adminA, body: { type: 'IP', value, reason: 'matrix' } });
  assert.equal(r.status, 201, show(r));
  return r.json.id;
}
// keys: an ACTIVE key of A, read and PATCHed by the matrix; DELETE rows and
// POST bodies use DISABLED keys, which take none of the two ACTIVE slots.
const MATRIX_PUB = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' });
let ekA;
async function createEncKeyA(status) {
  const key_id = unique('mx');
  const r = await api(d.url, 'POST', `/v1/instances/${A.id}/encryption-keys`, { key: adminA, body: { key_id, public_key: MATRIX_PUB, status } });
  assert.equal(r.status, 201, show(r));
  return key_id;
}
// secrets: a secret of A, read and rotated by the matrix; DELETE rows get throwaways
let secretA;
async function createSecretA() {
  const r = await api(d.url, 'POST', `/v1/instances/${A.id}/secrets`, { key: adminA, body: { name: unique('mx'), value: 'matrix-value' } });
  assert.equal(r.status, 201, show(r));
  return r.json.id;
}
async function createFlowA(publish = false) {
  const r = await api(d.url, 'POST', `/v1/instances/${A.id}/flows`, { key: adminA, body: { name: unique('mx'), content: MATRIX_FLOW } });
  assert.equal(r.status, 201, show(r));
  if (publish) assert.equal((await api(d.url, 'POST', `/v1/instances/${A.id}/flows/${r.json.id}/publish`, { key: adminA })).status, 201);
  return r.json.id;
}
// integrations: one of A toward a closed loopback port (the matrix's test
// calls stop at 400 before sending anything); DELETE rows get throwaways
const MATRIX_INTEGRATION = () => ({ name: unique('mx'), base_url: 'http://127.0.0.1:1', allowed_address_ranges: ['127.0.0.1/32'] });
let intA;
let subA;
const MATRIX_SUBSCRIPTION = async () => ({
  name: unique('mx'), event_types: ['contact.ended'],
  sink: { type: 'webhook', integration_id: (intA ??= await createIntegrationA()) },
});
async function createSubscriptionA() {
  const r = await api(d.url, 'POST', `/v1/instances/${A.id}/event-subscriptions`, { key: adminA, body: await MATRIX_SUBSCRIPTION() });
  assert.equal(r.status, 201, show(r));
  return r.json.id;
}
async function createIntegrationA() {
  const r = await api(d.url, 'POST', `/v1/instances/${A.id}/integrations`, { key: adminA, body: MATRIX_INTEGRATION() });
  assert.equal(r.status, 201, show(r));
  return r.json.id;
}
const principals = [];
const results = []; // {route, principal, expected, status, ok, detail}
const routesRun = new Set();

/** Two sessions of one user: the principal's token, and the id of the other session. */
async function twoSessions(iid, username) {
  const token = await loginToken(d, iid, username);
  const other = await loginToken(d, iid, username);
  const s = await api(d.url, 'GET', '/v1/me/sessions', { key: token });
  assert.equal(s.status, 200, show(s));
  const spare = s.json.items.find((x) => !x.current);
  assert.ok(spare, `no second session for ${username}: ${show(s)}`);
  return { token, spareSessionId: spare.id, spareToken: other };
}

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  A = await createInstance(d, init.key);
  B = await createInstance(d, init.key);
  adminA = await loginToken(d, A.id, A.adminUsername);
  const adminB = await loginToken(d, B.id, B.adminUsername);
  profA = await profilesByName(d, adminA, A.id);
  const power = await createProfile(d, adminA, A.id, 'power agent', POWER_AGENT);
  const editor = await createProfile(d, adminA, A.id, 'editor', EDITOR);
  scratchProfile = await createProfile(d, adminA, A.id, 'scratch', []);
  {
    const hours = await createHours(d, adminA, A.id);
    const queue = await createQueue(d, adminA, A.id, hours.id);
    const flow = await flowIdFor(d, adminA, A.id);
    routing = {
      hours, queue, flow,
      rp: await createRoutingProfile(d, adminA, A.id, [{ queue_id: queue.id, priority: 1 }]),
      ep: await createEntryPoint(d, adminA, A.id, flow),
    };
  }
  flowA = await createFlowA(true);
  ekA = await createEncKeyA('ACTIVE'); // keys
  denyA = await createDenyA();
  secretA = await createSecretA(); // secrets
  victim = await createUser(d, adminA, A.id, { username: 'victim' });
  await createUser(d, adminA, A.id, { username: 'probe', password: PASSWORD });

  const rand = () => crypto.randomBytes(32).toString('base64url');
  principals.push({ name: 'no token', kind: 'none' });
  principals.push({ name: 'garbage session-shaped token', kind: 'none', token: `bws_${rand()}` });
  principals.push({ name: 'garbage platform-shaped token', kind: 'none', token: `bwp_${rand()}` });
  principals.push({ name: 'garbage token', kind: 'none', token: 'not-a-token' });
  principals.push({ name: 'platform key', kind: 'platform', token: init.key, perms: new Set(ALL_PERMISSIONS) });

  const users = [
    ['Admin', [profA.Admin.id], DEFAULT_PROFILES.Admin],
    ['Agent', [profA.Agent.id], DEFAULT_PROFILES.Agent],
    ['CallCenterManager', [profA.CallCenterManager.id], DEFAULT_PROFILES.CallCenterManager],
    ['QualityAnalyst', [profA.QualityAnalyst.id], DEFAULT_PROFILES.QualityAnalyst],
    ['power agent', [power.id], POWER_AGENT],
    ['editor: Edit without View', [editor.id], EDITOR],
  ];
  for (const [label, ids, perms] of users) {
    const username = `m-${label.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase()}`;
    const u = await createUser(d, adminA, A.id, { username, password: PASSWORD, profiles: ids });
    const s = await twoSessions(A.id, username);
    principals.push({ name: `user of A (${label})`, kind: 'user', instance: A.id, id: u.id, perms: new Set(perms), ...s });
  }
  const bUser = await createUser(d, adminB, B.id, { username: 'm-b-admin', password: PASSWORD, profiles: [(await profilesByName(d, adminB, B.id)).Admin.id] });
  const bs = await twoSessions(B.id, 'm-b-admin');
  principals.push({ name: 'user of B (Admin) on A\'s paths', kind: 'user', instance: B.id, id: bUser.id, perms: new Set(ALL_PERMISSIONS), ...bs });
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

/** The outcome the contract asks for: 'allowed', 401, 403 or 404. */
function expected(route, p) {
  if (route.kinds.length === 0) {
    assert.equal(route.permission, 'PUBLIC', `${route.method} ${route.path}: no kinds but permission ${route.permission}`);
    return 'allowed';
  }
  if (p.kind === 'none' || !route.kinds.includes(p.kind)) return 401;
  if (p.kind === 'user' && p.instance !== A.id && route.path.startsWith('/v1/instances/{iid}')) return 404;
  if (route.permission === 'Authenticated') return 'allowed';
  if (route.permission === 'Platform') return p.kind === 'platform' ? 'allowed' : 403;
  assert.ok(ALL_PERMISSIONS.includes(route.permission), `${route.method} ${route.path}: permission ${route.permission} is not in the catalog`);
  return grants(p.perms, route.permission) ? 'allowed' : 403;
}

/**
 * The request of one row: path with real ids, a harmless well-formed body.
 * Destructive rows get fresh throwaway targets.
 */
async function buildRequest(route, p) {
  const key = `${route.method} ${route.path}`;
  const params = {};
  for (const m of route.path.matchAll(/\{([a-z]+)\}/g)) params[m[1]] = undefined;
  if ('iid' in params) {
    if (key === 'DELETE /v1/instances/{iid}') params.iid = (await createInstance(d, init.key)).id;
    else params.iid = A.id;
  }
  if ('uid' in params) {
    if (route.mfa_setup) params.uid = p.kind === 'user' ? p.id : victim.id; // only the user themself
    else if (route.method === 'DELETE' && route.path.endsWith('/users/{uid}')) params.uid = (await createUser(d, adminA, A.id)).id;
    else params.uid = victim.id;
  }
  if ('pid' in params) {
    if (route.method === 'DELETE') params.pid = (await createProfile(d, adminA, A.id, unique('tmp'), [])).id;
    else if (route.method === 'PATCH') params.pid = scratchProfile.id;
    else params.pid = profA.Agent.id;
  }
  if ('id' in params) {
    if (key === 'DELETE /v1/platform-keys/{id}') {
      const k = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: { name: 'throwaway' } });
      assert.equal(k.status, 201, show(k));
      params.id = k.json.id;
    }
  }
  // routing: throwaway targets for DELETE rows (nothing refers to them), shared ones otherwise
  const del = route.method === 'DELETE';
  if ('hid' in params) params.hid = del ? (await createHours(d, adminA, A.id)).id : routing.hours.id;
  if ('qid' in params) params.qid = del ? (await createQueue(d, adminA, A.id, routing.hours.id)).id : routing.queue.id;
  if ('rpid' in params) params.rpid = del ? (await createRoutingProfile(d, adminA, A.id)).id : routing.rp.id;
  if ('epid' in params) params.epid = del ? (await createEntryPoint(d, adminA, A.id, routing.flow)).id : routing.ep.id;
  if ('intid' in params) params.intid = route.method === 'DELETE' ? await createIntegrationA() : (intA ??= await createIntegrationA()); // integrations
  if ('esid' in params) params.esid = route.method === 'DELETE' && !route.path.endsWith('/dead-letters') ? await createSubscriptionA() : (subA ??= await createSubscriptionA()); // event subscriptions
  if ('fid' in params) params.fid = route.method === 'DELETE' ? await createFlowA() : flowA; // flows
  if ('n' in params) params.n = '1';
  if ('ekid' in params) params.ekid = route.method === 'DELETE' ? await createEncKeyA('DISABLED') : ekA; // keys
  if ('dlid' in params) params.dlid = route.method === 'DELETE' ? await createDenyA() : denyA; // fraud
  if ('scid' in params) params.scid = route.method === 'DELETE' ? await createSecretA() : secretA; // secrets
  // contacts: the matrix starts no chat, so an allowed row reaches the handler and is answered 404 (see check)
  if ('cid' in params) params.cid = NO_CONTACT;
  if ('sid' in params) params.sid = p.spareSessionId ?? `se_${crypto.randomBytes(16).toString('base64url')}`;
  const missing = Object.keys(params).filter((k) => params[k] === undefined);
  if (missing.length) throw new Error(`${key}: the matrix has no value for path parameter(s) ${missing.join(', ')}; add one`);
  const path = route.path.replace(/\{([a-z]+)\}/g, (_, n) => params[n]);

  let body;
  if (route.body) {
    const bodies = {
      'POST /v1/platform-keys': { name: 'matrix' },
      'POST /v1/instances': { alias: unique('mx'), admin: { username: 'admin', password: PASSWORD } },
      'PATCH /v1/instances/{iid}': { default_region: 'US' },
      'PATCH /v1/instances/{iid}/security-settings': { session_idle_timeout_s: 1800 },
      'POST /v1/instances/{iid}/auth/login': { username: 'probe', password: PASSWORD },
      'PUT /v1/me/status': { status: 'Available' },
      'POST /v1/instances/{iid}/security-profiles': { name: unique('mx'), permissions: [] },
      'PATCH /v1/instances/{iid}/security-profiles/{pid}': { description: 'touched by the matrix' },
      'POST /v1/instances/{iid}/users': { username: unique('mx') },
      'PATCH /v1/instances/{iid}/users/{uid}': { first_name: 'Matrix' },
      'POST /v1/instances/{iid}/users/{uid}/mfa/totp/verify': { code: 'abcdef' },
      // routing
      'POST /v1/instances/{iid}/hours-of-operation': { name: unique('mx'), time_zone: 'UTC', config: [] },
      'PATCH /v1/instances/{iid}/hours-of-operation/{hid}': { description: 'touched by the matrix' },
      'POST /v1/instances/{iid}/queues': { name: unique('mx'), hours_of_operation_id: routing.hours.id },
      'PATCH /v1/instances/{iid}/queues/{qid}': { description: 'touched by the matrix' },
      'POST /v1/instances/{iid}/routing-profiles': { name: unique('mx'), concurrency: { CHAT: 1 } },
      'PATCH /v1/instances/{iid}/routing-profiles/{rpid}': { description: 'touched by the matrix' },
      'POST /v1/instances/{iid}/entry-points': { name: unique('mx'), type: 'CHAT', flow_id: routing.flow },
      'PATCH /v1/instances/{iid}/entry-points/{epid}': { type: 'CHAT' },
      // flows
      'POST /v1/instances/{iid}/flows': { name: unique('mx'), content: MATRIX_FLOW },
      'PATCH /v1/instances/{iid}/flows/{fid}': { description: 'touched by the matrix' },
      'POST /v1/instances/{iid}/flows/validate-input': { kind: 'Date', value: '2024-02-29' },
      // integrations
      'POST /v1/instances/{iid}/integrations': MATRIX_INTEGRATION(),
      'PATCH /v1/instances/{iid}/integrations/{intid}': { timeout_ms: 1000 },
      'POST /v1/instances/{iid}/integrations/{intid}/test': {}, // 400 (no method) once allowed
      // event subscriptions
      'POST /v1/instances/{iid}/event-subscriptions': await MATRIX_SUBSCRIPTION(),
      'PATCH /v1/instances/{iid}/event-subscriptions/{esid}': { enabled: false },
      // keys
      'POST /v1/instances/{iid}/encryption-keys': { key_id: unique('mx'), public_key: MATRIX_PUB, status: 'DISABLED' },
      'POST /v1/instances/{iid}/encryption-keys/test-encrypt': { plaintext: 'matrix' },
      'PATCH /v1/instances/{iid}/encryption-keys/{ekid}': { status: 'ACTIVE' },
      'POST /v1/instances/{iid}/keys/import': { import_token: 'bwi_matrix', wrapped_key: 'bWF0cml4' }, // 400 once allowed
      // fraud
      'POST /v1/instances/{iid}/deny-list': { type: 'EMAIL', value: `${unique('mx')}@example.com` },
      'POST /v1/instances/{iid}/deny-list/import': { csv: 'type,value,reason,expires_at\n' },
      'PATCH /v1/instances/{iid}/deny-list/{dlid}': { reason: 'touched by the matrix' },
      'PATCH /v1/instances/{iid}/contact-filter': { dry_run: false },
      // secrets and roles
      'POST /v1/instances/{iid}/secrets': { name: unique('mx'), value: 'matrix-value' },
      'POST /v1/instances/{iid}/secrets/{scid}/rotate': { value: 'matrix-value-2', grace_s: 0 },
      'POST /v1/instances/{iid}/signing-keys/test-sign': { audience: 'https://matrix.example' },
    };
    body = bodies[key] ?? {}; // a well-formed object: 400 at worst, after authorization
  }
  return { path, body };
}

// A contact id of A that does not exist (contacts come from chats, which the matrix does not start).
const NO_CONTACT = `ct_${crypto.randomBytes(16).toString('base64url')}`;

function check(route, p, exp, res) {
  const s = res.status;
  if (exp === 'allowed') {
    // Past authorization, the contact handlers look the contact up and find none
    // ("no such contact", or "… offered to or held by you" on the agent's routes).
    if (route.path.includes('{cid}') && s === 404 && /^no such contact\b/.test(res.json?.error?.message ?? '')) return null;
    const ok = (s >= 200 && s < 300) || s === 400 || s === 409;
    return ok ? null : `expected allowed, got ${show(res)}`;
  }
  const code = { 401: 'Unauthenticated', 403: 'AccessDenied', 404: 'NotFound' }[exp];
  if (s !== exp || res.json?.error?.code !== code) return `expected ${exp} ${code}, got ${show(res)}`;
  if (exp === 401 && !/^Bearer/i.test(res.headers.get('www-authenticate') || '')) return `401 without WWW-Authenticate: Bearer: ${show(res)}`;
  return null;
}

describe('route table', () => {
  test('lists the identity routes of the contract with its kinds and permissions', () => {
    const byKey = new Map(ROUTES.map((r) => [`${r.method} ${r.path}`, r]));
    const problems = [];
    for (const [k, [kinds, perm]] of Object.entries(CONTRACT)) {
      const r = byKey.get(k);
      if (!r) { problems.push(`${k}: missing from the table`); continue; }
      if (JSON.stringify([...r.kinds].sort()) !== JSON.stringify([...kinds].sort())) problems.push(`${k}: kinds ${JSON.stringify(r.kinds)}, contract ${JSON.stringify(kinds)}`);
      if (r.permission !== perm) problems.push(`${k}: permission ${r.permission}, contract ${perm}`);
    }
    for (const r of ROUTES) {
      if (!SPECIAL.has(r.permission) && !ALL_PERMISSIONS.includes(r.permission)) problems.push(`${r.method} ${r.path}: unknown permission ${r.permission}`);
      if (r.permission === 'PUBLIC' && r.kinds.length) problems.push(`${r.method} ${r.path}: PUBLIC with kinds`);
      if (r.permission !== 'PUBLIC' && !r.kinds.length) problems.push(`${r.method} ${r.path}: no kinds but permission ${r.permission}`);
      for (const k of r.kinds) if (!['platform', 'user', 'customer'].includes(k)) problems.push(`${r.method} ${r.path}: unknown kind ${k}`);
    }
    assert.deepEqual(problems, []);
  });
});

describe('authorization matrix', () => {
  for (const route of ORDERED) {
    const key = `${route.method} ${route.path}`;
    test(key, async () => {
      const wrong = [];
      for (const p of principals) {
        const exp = expected(route, p);
        const req = await buildRequest(route, p);
        const res = await api(d.url, route.method, req.path, { key: p.token, body: req.body });
        const why = check(route, p, exp, res);
        results.push({ route: key, principal: p.name, expected: exp, status: res.status, ok: !why });
        if (why) wrong.push(`${p.name}: ${route.method} ${req.path} ${req.body ? JSON.stringify(req.body) : ''} → ${why}`);
      }
      routesRun.add(key);
      assert.deepEqual(wrong, [], `${key}: ${wrong.length} unexpected outcome(s)`);
    });
  }

  test('every route of the table has rows; zero unexpected allows, zero unexpected denies', (t) => {
    const notRun = DRIVEN.map((r) => `${r.method} ${r.path}`).filter((k) => !routesRun.has(k));
    assert.deepEqual(notRun, [], 'routes of the table without a completed row');
    const unexpectedAllows = results.filter((r) => !r.ok && r.expected !== 'allowed');
    const unexpectedDenies = results.filter((r) => !r.ok && r.expected === 'allowed');
    const skipped = ROUTES.filter((r) => r.admin || r.websocket).map((r) => `${r.method} ${r.path}`);
    t.diagnostic(`${DRIVEN.length} routes × ${principals.length} principals = ${results.length} rows; ` +
      `${results.filter((r) => r.expected === 'allowed').length} expected allowed; ` +
      `unexpected allows ${unexpectedAllows.length}, unexpected denies ${unexpectedDenies.length}; ` +
      `not driven (admin listener / WebSocket): ${skipped.join(', ')}`);
    const notTwoHundred = results.filter((r) => r.ok && r.expected === 'allowed' && (r.status < 200 || r.status > 299));
    t.diagnostic(`allowed rows answered 400/409 by the handler: ${[...new Set(notTwoHundred.map((r) => `${r.route} ${r.status}`))].join('; ') || 'none'}`);
    assert.equal(results.length, DRIVEN.length * principals.length);
    assert.deepEqual(unexpectedAllows, []);
    assert.deepEqual(unexpectedDenies, []);
    // Each kind of outcome occurs: the matrix is not vacuous.
    for (const e of ['allowed', 401, 403, 404]) assert.ok(results.some((r) => r.expected === e), `no row expects ${e}`);
  });
});

describe('tenancy: another instance\'s ids under this instance\'s path are NotFound', () => {
  let adminB;
  let bAdminId;
  let bAgentProfile;
  before(async () => {
    adminB = await loginToken(d, B.id, B.adminUsername);
    bAdminId = B.adminUserId;
    bAgentProfile = (await profilesByName(d, adminB, B.id)).Agent;
  });

  test('users of B through A\'s path: GET, PATCH, DELETE, MFA reset → 404', async () => {
    const base = `/v1/instances/${A.id}/users/${bAdminId}`;
    assertError(await api(d.url, 'GET', base, { key: adminA }), 404, 'NotFound');
    assertError(await api(d.url, 'PATCH', base, { key: adminA, body: { first_name: 'x' } }), 404, 'NotFound');
    assertError(await api(d.url, 'PATCH', base, { key: adminA, body: { password: 'An0ther-long-passphrase' } }), 404, 'NotFound');
    assertError(await api(d.url, 'DELETE', `${base}/mfa`, { key: adminA }), 404, 'NotFound');
    assertError(await api(d.url, 'DELETE', base, { key: adminA }), 404, 'NotFound');
    // B's admin is untouched.
    const still = await api(d.url, 'GET', `/v1/instances/${B.id}/users/${bAdminId}`, { key: adminB });
    assert.equal(still.status, 200, show(still));
    assert.notEqual(still.json.first_name, 'x');
    await loginToken(d, B.id, B.adminUsername);
  });

  test('profiles of B through A\'s path: GET, PATCH, DELETE → 404; assigning one → 400', async () => {
    const base = `/v1/instances/${A.id}/security-profiles/${bAgentProfile.id}`;
    assertError(await api(d.url, 'GET', base, { key: adminA }), 404, 'NotFound');
    assertError(await api(d.url, 'PATCH', base, { key: adminA, body: { permissions: ALL_PERMISSIONS } }), 404, 'NotFound');
    assertError(await api(d.url, 'DELETE', base, { key: adminA }), 404, 'NotFound');
    const c = await api(d.url, 'POST', `/v1/instances/${A.id}/users`, {
      key: adminA, body: { username: unique('xb'), security_profile_ids: [bAgentProfile.id] },
    });
    assertError(c, 400, 'InvalidParameter', 'security_profile_ids');
    const p = await api(d.url, 'GET', `/v1/instances/${B.id}/security-profiles/${bAgentProfile.id}`, { key: adminB });
    assert.deepEqual(p.json.permissions, bAgentProfile.permissions);
  });

  test('lists hold only the caller\'s instance', async () => {
    const users = await api(d.url, 'GET', `/v1/instances/${A.id}/users?limit=1000`, { key: adminA });
    assert.equal(users.status, 200, show(users));
    assert.ok(!users.json.items.some((u) => u.id === bAdminId), 'A lists a user of B');
    const profs = await api(d.url, 'GET', `/v1/instances/${A.id}/security-profiles?limit=1000`, { key: adminA });
    assert.ok(!profs.json.items.some((p) => p.id === bAgentProfile.id), 'A lists a profile of B');
    const ev = await api(d.url, 'GET', `/v1/instances/${A.id}/audit-events?limit=1000`, { key: adminA });
    assert.equal(ev.status, 200, show(ev));
    assert.ok(ev.json.items.every((e) => e.instance_id === A.id), 'A\'s trail holds another instance\'s event');
  });

  test('a session of A used on B\'s login and B\'s paths gets nothing of B', async () => {
    const r = await api(d.url, 'GET', `/v1/instances/${B.id}/users/${bAdminId}`, { key: adminA });
    assertError(r, 404, 'NotFound');
    const s = await api(d.url, 'GET', `/v1/instances/${B.id}/security-settings`, { key: adminA });
    assertError(s, 404, 'NotFound');
    // A's admin cannot log in to B with A's credentials (the user does not exist there).
    const l = await api(d.url, 'POST', `/v1/instances/${B.id}/auth/login`, { body: { username: 'm-admin', password: PASSWORD } });
    assertError(l, 401, 'Unauthenticated');
  });
});
