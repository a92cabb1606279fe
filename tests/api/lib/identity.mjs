// Helpers for the identity-and-access tests: instances, logins, users with
// profiles, the contract's permission catalog, TOTP codes through the real
// oathtool, and a little concurrency.
//
// Nothing here sleeps to synchronize: waits are on a condition with a deadline.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { api, show, BIN, waitFor } from './daemon.mjs';

// A password that passes the default policy (≥ 12, not common, not the username).
export const PASSWORD = 'Tr0ub4dor-and-3-horses';
export const PASSWORD2 = 'Correct-Horse-Battery-9';

// ---------------------------------------------------------------------------
// The contract (shared/API.md): the permission catalog and default profiles.

export const CATALOG = {
  'Users and permissions': ['Users.View', 'Users.Edit', 'Users.EditPermission', 'SecurityProfiles.View',
    'SecurityProfiles.Edit', 'SecuritySettings.View', 'SecuritySettings.Edit'],
  Routing: ['Queues.View', 'Queues.Edit', 'RoutingProfiles.View', 'RoutingProfiles.Edit',
    'HoursOfOperation.View', 'HoursOfOperation.Edit'],
  Flows: ['Flows.View', 'Flows.Edit', 'Flows.Publish', 'EntryPoints.View', 'EntryPoints.Edit'],
  Agent: ['Contacts.Handle', 'Contacts.Outbound', 'Contacts.Transfer', 'Contacts.Stop'],
  'Contacts and data': ['ContactSearch.View', 'Transcripts.View', 'Recordings.Listen', 'SensitiveData.View',
    'Contacts.Delete'],
  Metrics: ['Metrics.RealTime.View', 'Metrics.Historical.View'],
  'Security operations': ['Audit.View', 'Fraud.View', 'Fraud.Edit', 'Secrets.View', 'Secrets.Edit',
    'Integrations.View', 'Integrations.Edit', 'Keys.View', 'Keys.Edit', 'Logs.View', 'Alarms.Edit'],
};
export const ALL_PERMISSIONS = Object.values(CATALOG).flat();

export const DEFAULT_PROFILES = {
  Admin: ALL_PERMISSIONS,
  Agent: ['Contacts.Handle', 'Contacts.Outbound', 'Contacts.Transfer'],
  CallCenterManager: ['Users.View', 'Users.Edit', 'Users.EditPermission', ...CATALOG.Routing, ...CATALOG.Metrics,
    'ContactSearch.View', 'Transcripts.View', 'Contacts.Handle', 'Contacts.Stop'],
  QualityAnalyst: [...CATALOG.Metrics, 'ContactSearch.View', 'Transcripts.View', 'Recordings.Listen'],
};

/** Does a set of permission names grant `name`? Edit implies View of the same resource. */
export function grants(perms, name) {
  const set = perms instanceof Set ? perms : new Set(perms);
  if (set.has(name)) return true;
  if (name.endsWith('.View')) return set.has(`${name.slice(0, -5)}.Edit`);
  return false;
}

// ---------------------------------------------------------------------------
// Assertions

/** An error reply: status, JSON error shape, code and (optionally) field. */
export function assertError(res, status, code, field, context = '') {
  const where = context ? `${context}: ` : '';
  assert.equal(res.status, status, `${where}${show(res)}`);
  assert.match(res.headers.get('content-type') || '', /^application\/json\b/i, `${where}content-type`);
  assert.equal(res.json?.error?.code, code, `${where}${show(res)}`);
  assert.equal(typeof res.json.error.message, 'string', `${where}${show(res)}`);
  if (field !== undefined) assert.equal(res.json.error.field, field, `${where}${show(res)}`);
}

// ---------------------------------------------------------------------------
// The route table

/** `bulwark routes --json`, parsed (synchronously, so tests can be generated from it). */
export function routeTable() {
  const out = execFileSync(BIN, ['routes', '--json'], { encoding: 'utf8', timeout: 15000 });
  const table = JSON.parse(out);
  assert.ok(Array.isArray(table) && table.length > 0, 'bulwark routes --json printed no routes');
  return table;
}

// ---------------------------------------------------------------------------
// Instances, users, profiles, logins

let uniq = 0;
/** A short unique suffix for names (aliases, usernames, profile names). */
export function unique(prefix = 'x') {
  uniq += 1;
  return `${prefix}-${process.pid.toString(36)}-${Date.now().toString(36)}-${uniq}`;
}

/**
 * POST /v1/instances as the platform. Returns {id, alias, adminUserId, adminUsername, instance}.
 */
export async function createInstance(d, key, { alias = unique('inst'), adminUsername = 'admin', password = PASSWORD, region } = {}) {
  const body = { alias, admin: { username: adminUsername, password } };
  if (region) body.default_region = region;
  const r = await api(d.url, 'POST', '/v1/instances', { key, body });
  assert.equal(r.status, 201, `create instance ${alias}: ${show(r)}`);
  return { id: r.json.id, alias, adminUserId: r.json.admin_user_id, adminUsername, password, instance: r.json };
}

/** POST .../auth/login; the raw response. */
export function login(d, iid, username, password, { totp, headers } = {}) {
  const body = { username, password };
  if (totp !== undefined) body.totp_code = totp;
  return api(d.url, 'POST', `/v1/instances/${iid}/auth/login`, { body, headers });
}

/** Log in and return the token (asserts 200). */
export async function loginToken(d, iid, username, password = PASSWORD, opts = {}) {
  const r = await login(d, iid, username, password, opts);
  assert.equal(r.status, 200, `login ${username}: ${show(r)}`);
  assert.match(r.json.token, /^bws_[A-Za-z0-9_-]+$/, show(r));
  return r.json.token;
}

/** PATCH the instance's security settings with the platform key (asserts 200). */
export async function patchSettings(d, key, iid, patch) {
  const r = await api(d.url, 'PATCH', `/v1/instances/${iid}/security-settings`, { key, body: patch });
  assert.equal(r.status, 200, `PATCH security-settings ${JSON.stringify(patch)}: ${show(r)}`);
  return r.json;
}

/** {name: profile} for every profile of the instance. */
export async function profilesByName(d, token, iid) {
  const r = await api(d.url, 'GET', `/v1/instances/${iid}/security-profiles?limit=1000`, { key: token });
  assert.equal(r.status, 200, show(r));
  return Object.fromEntries(r.json.items.map((p) => [p.name, p]));
}

export async function createProfile(d, token, iid, name, permissions, extra = {}) {
  const r = await api(d.url, 'POST', `/v1/instances/${iid}/security-profiles`, {
    key: token, body: { name, permissions, ...extra },
  });
  assert.equal(r.status, 201, `create profile ${name}: ${show(r)}`);
  return r.json;
}

/** POST .../users; asserts 201. profiles: array of profile ids. password: optional. */
export async function createUser(d, token, iid, { username = unique('user'), password, profiles, ...rest } = {}) {
  const body = { username, first_name: 'Test', last_name: 'User', ...rest };
  if (password !== undefined) body.password = password;
  if (profiles !== undefined) body.security_profile_ids = profiles;
  const r = await api(d.url, 'POST', `/v1/instances/${iid}/users`, { key: token, body });
  assert.equal(r.status, 201, `create user ${username}: ${show(r)}`);
  return r.json;
}

/** A user with a password and the given profile ids, logged in: {user, token, username}. */
export async function userWithToken(d, adminToken, iid, profiles, { username = unique('u'), password = PASSWORD } = {}) {
  const user = await createUser(d, adminToken, iid, { username, password, profiles });
  const token = await loginToken(d, iid, username, password);
  return { user, token, username, password };
}

// ---------------------------------------------------------------------------
// TOTP through the real oathtool

const STEP = 30;

/** The base32 secret of an otpauth:// URI. */
export function totpSecret(uri) {
  const u = new URL(uri);
  const s = u.searchParams.get('secret');
  assert.ok(s && /^[A-Z2-7]+=*$/.test(s), `no base32 secret in ${uri}`);
  return s;
}

/** The current 30-second step, from this machine's clock (the daemon's clock too). */
export function currentStep() {
  return Math.floor(Date.now() / 1000 / STEP);
}

/** The code of `step`, computed by `oathtool --totp -b SECRET --now @<time in the middle of the step>`. */
export function totpAt(secret, step) {
  const res = spawnSync('oathtool', ['--totp', '-b', secret, '--now', `@${step * STEP + 15}`], { encoding: 'utf8', timeout: 10000 });
  assert.equal(res.status, 0, `oathtool failed: ${res.stderr}`);
  const code = res.stdout.trim();
  assert.match(code, /^\d{6}$/, `oathtool printed ${JSON.stringify(res.stdout)}`);
  return code;
}

/** The code of now, the way a user would compute it: plain `oathtool --totp -b SECRET`. */
export function totpNow(secret) {
  const res = spawnSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8', timeout: 10000 });
  assert.equal(res.status, 0, `oathtool failed: ${res.stderr}`);
  return res.stdout.trim();
}

/**
 * Wait until at least `minRemainingS` seconds remain in the current step and
 * return that step. A step is 30 s, so this waits at most 30 s; keep the
 * margin well below 30.
 */
export async function stepWithMargin(minRemainingS) {
  assert.ok(minRemainingS < 25, 'margin too large');
  let step;
  await waitFor(() => {
    const now = Date.now() / 1000;
    const remaining = STEP - (now % STEP);
    if (remaining < minRemainingS) return false;
    step = Math.floor(now / STEP);
    return true;
  }, { timeoutMs: 35000, intervalMs: 100, what: `${minRemainingS} s left in a TOTP step` });
  return step;
}

/** Wait until the wall clock is within the first `maxMs` of a second (for 1 s lockout granularity). */
export async function earlyInSecond(maxMs = 200) {
  await waitFor(() => Date.now() % 1000 < maxMs, { timeoutMs: 3000, intervalMs: 5, what: 'the start of a second' });
}

// ---------------------------------------------------------------------------
// Concurrency and the sqlite3 CLI

/** Run fn over items with at most `limit` in flight; results in order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Run SQL through the sqlite3 command-line shell; returns stdout. Throws on error. */
export function sqlite(dbFile, sql) {
  const res = spawnSync('sqlite3', ['-batch', '-bail', dbFile], { input: sql, encoding: 'utf8', timeout: 15000 });
  if (res.status !== 0) throw new Error(`sqlite3 ${dbFile} failed (${res.status}): ${res.stderr}\nSQL: ${sql}`);
  return res.stdout;
}
