// The InvokeIntegration block end to end (C7, C17; docs/api.md "The flow
// language"): a published flow calls an integration while a chat runs it,
// against HTTP receivers of this test on 127.0.0.1 and 127.0.0.2 only:
//   the receiver gets only the attributes RequestAttributes lists (POST:
//     a JSON object; GET: the query), and the JSON object it answers is
//     mapped into the contact's attributes (the record shows them); the
//     call is a use of the integration (last_called_at);
//   a receiver slower than TimeoutSeconds → the Timeout branch;
//   a 500 → IntegrationError; an answer that is not a JSON object → the same;
//   a base URL toward 127.0.0.2, which the ranges do not list →
//     IntegrationError, and nothing reaches 127.0.0.2;
//   an unknown integration → NoMatchingError;
//   the customer leaving while the call is out ends the contact; the late
//     answer is dropped (no attribute, no branch) and the daemon goes on;
//   role auth: the receiver verifies the Bearer token against the JWKS
//     (the contact claim and the body digest);
//   a call still out when the daemon stops: it exits cleanly (0; under
//     ASan, leaks too);
//   a RequestAttributes value {"secret": "<name>"} (C7): the vault secret's
//     current value reaches the receiver in the body under its attribute,
//     and nothing else holds it: no API response (contact record, flow log,
//     transcript, the flow), the daemon's log, the database file, WAL and
//     shm (running and stopped); after a rotation the next call carries the
//     new value; a missing secret → NoMatchingError with nothing sent;
//     publishing refuses a bad reference and a secret with GET.
// The flow log names blocks and branches only; no value reaches it. Nothing
// sleeps to synchronize: frames, records and counters are waited for with
// deadlines. No packet goes to an address that is not on this machine.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { initData, startDaemon, removeTempDir, api, show, waitFor } from './lib/daemon.mjs';
import { sqlite } from './lib/identity.mjs';
import {
  setupCenter, publishFlow, startCustomer, isSystem, isEvent, getContact, waitContact, listAll,
} from './lib/chat.mjs';
import { createEntryPoint } from './lib/routing.mjs';
import { integrationsPath, createIntegration } from './lib/integrations.mjs';

const SAID = {
  found: 'Integration answered.',
  timeout: 'Integration timed out.',
  failed: 'Integration failed.',
  nomatch: 'Integration not callable.',
};

/**
 * A receiver: records every request and answers by path.
 *   /crm     200 {"tier":"gold","visits":3,"vip":true,"bad name":"x","nested":{}}
 *   /fail    500
 *   /text    200 text/plain
 *   /hold    held until release(): answers then {"late":"yes"}
 *   /hang    never answers
 */
class Receiver {
  constructor(host) {
    this.host = host;
    this.connections = 0;
    this.requests = [];
    this.held = [];
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', () => { this.connections += 1; });
  }

  async listen() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, resolve);
    });
    this.url = `http://${this.host}:${this.server.address().port}`;
    return this;
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const p = req.url.split('?')[0];
      const json = (status, v) => {
        const text = JSON.stringify(v);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
        res.end(text);
      };
      if (p === '/crm') json(200, { tier: 'gold', visits: 3, vip: true, 'bad name': 'x', nested: {} });
      else if (p === '/fail') json(500, { error: 'boom' });
      else if (p === '/text') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
        res.end('hello');
      } else if (p === '/hold') this.held.push(() => json(200, { late: 'yes' }));
      else if (p === '/hang') { /* never answers */ } else json(404, {});
    });
  }

  release() {
    for (const answer of this.held.splice(0)) answer();
  }

  async close() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let init;
let d;
let db;
let ctx; // an instance ready to take chats (setupCenter)
let one; // 127.0.0.1
let two; // 127.0.0.2

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
  db = path.join(init.data, 'bulwark.db');
  ctx = await setupCenter(d, init.key, { agents: 0 });
  one = await new Receiver('127.0.0.1').listen();
  two = await new Receiver('127.0.0.2').listen();
});

// Every vault value this file writes (secretValue), and the files of the
// data directory holding any of them (as UTF-8 text, or JSON-escaped).
const vaultValues = [];
function secretValue(label) {
  // A quote, a backslash, a tab and a non-ASCII letter: the body escapes them.
  const v = `${label}-"q\\\té-${crypto.randomBytes(18).toString('base64url')}`;
  vaultValues.push(v);
  return v;
}
const valueForms = (v) => [Buffer.from(v), Buffer.from(JSON.stringify(v).slice(1, -1))];
function filesHoldingValues() {
  const found = [];
  for (const f of fs.readdirSync(init.data)) {
    const p = path.join(init.data, f);
    if (!fs.statSync(p).isFile()) continue;
    const bytes = fs.readFileSync(p);
    for (const v of vaultValues) if (valueForms(v).some((b) => bytes.includes(b))) found.push(`${f}: ${v}`);
  }
  return found;
}
const textHoldsValue = (text) => vaultValues.some((v) => valueForms(v).some((b) => text.includes(b.toString())));

after(async () => {
  const code = await d?.stop();
  await one?.close();
  await two?.close();
  const stoppedFiles = init ? filesHoldingValues() : [];
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
  // The log names integrations and contacts, never a value sent or received.
  const log = `${d.stderr}${d.stdoutAfterReady}`;
  assert.ok(log.includes('integration call not made'), 'the calls that could not be made are logged');
  for (const v of ['A-981', 'do-not-send', 'gold', 'Bearer']) assert.ok(!log.includes(v), `the log holds ${v}`);
  assert.ok(vaultValues.length >= 2, 'the vault tests ran');
  assert.ok(!textHoldsValue(log), 'the log holds a vault value');
  assert.deepEqual(stoppedFiles, [], 'the stopped database holds a vault value');
});

const integration = (extra = {}) => createIntegration(d, ctx.admin, ctx.iid, {
  name: `ig-${crypto.randomUUID().slice(0, 8)}`, base_url: one.url, allowed_address_ranges: ['127.0.0.1'], ...extra,
});

/**
 * A CHAT entry point whose flow is one InvokeIntegration (`call`, with
 * params) followed by a message saying which way it went, then the end.
 * Returns a ctx view for startCustomer.
 */
async function entryFor(params) {
  const say = (id, text) => ({
    Identifier: id, Type: 'MessageParticipant', Parameters: { Text: text }, Transitions: { NextAction: 'bye' },
  });
  const content = {
    Version: '2019-10-30',
    StartAction: 'call',
    Actions: [
      {
        Identifier: 'call', Type: 'InvokeIntegration', Parameters: params,
        Transitions: {
          NextAction: 'found',
          Errors: [
            { NextAction: 'timeout', ErrorType: 'Timeout' },
            { NextAction: 'failed', ErrorType: 'IntegrationError' },
            { NextAction: 'nomatch', ErrorType: 'NoMatchingError' },
          ],
        },
      },
      say('found', SAID.found), say('timeout', SAID.timeout), say('failed', SAID.failed), say('nomatch', SAID.nomatch),
      { Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
    ],
  };
  const { flow } = await publishFlow(d, ctx.admin, ctx.iid, content);
  const entryPoint = await createEntryPoint(d, ctx.admin, ctx.iid, flow.id, { type: 'CHAT' });
  return { ...ctx, entryPoint };
}

const ATTRIBUTES = { account: 'A-981', secret_note: 'do-not-send-4111' };

/** A chat through the entry point: the system message that says which way the block went. */
async function run(entry, { said, attributes = ATTRIBUTES } = {}) {
  const customer = await startCustomer(d, entry, { attributes });
  const msg = await customer.sock.next(isSystem(said), { timeoutMs: 10000, what: `"${said}"` });
  await customer.sock.next(isEvent('ended'), { what: 'the end' });
  await customer.sock.close();
  return { customer, msg, cid: customer.cid };
}

async function flowLog(cid) {
  return listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts/${cid}/flow-log`);
}

/** The call's lines in the flow log: its branches in order. */
async function callBranches(cid) {
  const items = await flowLog(cid);
  const text = JSON.stringify(items);
  for (const v of [ATTRIBUTES.account, ATTRIBUTES.secret_note, 'gold']) assert.ok(!text.includes(v), `the flow log holds ${v}`);
  return items.filter((e) => e.action_id === 'call').map((e) => e.branch);
}

describe('InvokeIntegration with a vault secret (C7)', () => {
  const secretsPath = (rest = '') => `/v1/instances/${ctx.iid}/secrets${rest}`;
  const responses = []; // every API answer of these tests, searched for values
  async function call(method, p, body) {
    const r = await api(d.url, method, p, { key: ctx.admin, body });
    responses.push({ what: `${method} ${p}`, text: `${[...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${r.text}` });
    return r;
  }
  let ig;
  let secret; // {id, name}
  let entry;
  const name = `crm-key-${crypto.randomBytes(4).toString('hex')}`;

  /** Everything the API shows of a contact: none may hold a value. */
  async function everythingAbout(cid) {
    const rec = await waitContact(d, ctx.admin, ctx.iid, cid, (c) => c.state === 'ENDED');
    for (const p of [`/contacts/${cid}`, `/contacts/${cid}/flow-log?limit=1000`, `/contacts/${cid}/transcript`]) {
      const r = await call('GET', `/v1/instances/${ctx.iid}${p}`);
      assert.equal(r.status, 200, `${p}: ${show(r)}`);
    }
    return rec;
  }

  test('the current value reaches the receiver in the body under its attribute, and nowhere else', async () => {
    const v1 = secretValue('sv1');
    const c = await call('POST', secretsPath(), { name, value: v1 });
    assert.equal(c.status, 201, show(c));
    secret = c.json;
    ig = await integration();
    entry = await entryFor({
      IntegrationId: ig.id, Path: '/crm',
      RequestAttributes: { account: '$.Attributes.account', apiKey: { secret: name } },
    });
    const n = one.requests.length;
    const { cid } = await run(entry, { said: SAID.found });
    assert.equal(one.requests.length, n + 1);
    assert.deepEqual(JSON.parse(one.requests[n].body), { account: 'A-981', apiKey: v1 });
    assert.equal(one.requests[n].url, '/crm');

    const rec = await everythingAbout(cid);
    assert.equal(rec.attributes.apiKey, undefined, 'the secret became an attribute');
    assert.deepEqual(await callBranches(cid), ['Wait', 'Next']);
    // The flow holds the name, as published.
    const flowId = entry.entryPoint.flow_id;
    for (const p of [`/flows/${flowId}`, `/flows/${flowId}/versions/1`, '/flows?limit=1000']) {
      const g = await call('GET', `/v1/instances/${ctx.iid}${p}`);
      assert.equal(g.status, 200, `${p}: ${show(g)}`);
    }
    assert.ok(responses.some((r) => r.text.includes(`{"secret":"${name}"}`)), 'the flow shows the reference');
    const leaks = responses.filter((r) => textHoldsValue(r.text)).map((r) => r.what);
    assert.deepEqual(leaks, [], 'an API answer holds the value');
  });

  test('after a rotation the next call carries the new value', async () => {
    const v2 = secretValue('sv2');
    const r = await call('POST', secretsPath(`/${secret.id}/rotate`), { value: v2 });
    assert.equal(r.status, 200, show(r));
    const n = one.requests.length;
    const { cid } = await run(entry, { said: SAID.found });
    assert.equal(one.requests.length, n + 1);
    assert.deepEqual(JSON.parse(one.requests[n].body), { account: 'A-981', apiKey: v2 });
    await everythingAbout(cid);
    assert.deepEqual(responses.filter((x) => textHoldsValue(x.text)).map((x) => x.what), []);
  });

  test('a missing secret (never made, or deleted): NoMatchingError, and nothing is sent', async () => {
    const missing = await entryFor({
      IntegrationId: ig.id, Path: '/crm', RequestAttributes: { account: '$.Attributes.account', apiKey: { secret: 'no-such-secret' } },
    });
    const n = one.requests.length;
    let { cid } = await run(missing, { said: SAID.nomatch });
    assert.deepEqual(await callBranches(cid), ['Wait', 'NoMatchingError']);
    const del = await call('DELETE', secretsPath(`/${secret.id}`));
    assert.equal(del.status, 204, show(del));
    ({ cid } = await run(entry, { said: SAID.nomatch }));
    assert.deepEqual(await callBranches(cid), ['Wait', 'NoMatchingError']);
    assert.equal(one.requests.length, n, 'a call with a missing secret was sent');
    assert.ok(d.stderr.includes('is not in the secrets vault'), 'the log says why (by name)');
  });

  test('publishing refuses a bad reference and a secret with GET, naming the path', async () => {
    const refused = async (params, where, words) => {
      const content = {
        Version: '2019-10-30', StartAction: 'call',
        Actions: [
          { Identifier: 'call', Type: 'InvokeIntegration', Parameters: params, Transitions: { NextAction: 'bye' } },
          { Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
        ],
      };
      const c = await call('POST', `/v1/instances/${ctx.iid}/flows`, { name: `f-${crypto.randomUUID().slice(0, 8)}`, content });
      assert.equal(c.status, 201, show(c));
      const p = await call('POST', `/v1/instances/${ctx.iid}/flows/${c.json.id}/publish`);
      assert.equal(p.status, 400, show(p));
      assert.equal(p.json.error.code, 'InvalidFlow', show(p));
      const hit = p.json.error.errors.find((e) => e.path === `Actions[0].Parameters.RequestAttributes${where}`);
      assert.ok(hit && hit.message.includes(words), show(p));
    };
    await refused({ IntegrationId: ig.id, Method: 'GET', RequestAttributes: { apiKey: { secret: name } } },
      '.apiKey', 'cannot be sent with Method GET');
    for (const bad of [{ secret: 'bad name' }, { secret: name, version: 1 }, { Secret: name }, {}, { secret: '' }]) {
      await refused({ IntegrationId: ig.id, RequestAttributes: { 'crm-key': bad } }, '["crm-key"]', 'a secret reference is');
    }
    // A literal is still refused (C7), beside a reference.
    await refused({ IntegrationId: ig.id, RequestAttributes: { apiKey: 'hunter2', other: { secret: name } } },
      '.apiKey', 'secrets vault');
  });

  test('no value in the daemon\'s log, or in the database file, WAL or shm while running', () => {
    assert.ok(!textHoldsValue(`${d.stderr}${d.stdoutAfterReady}`), 'the log holds a vault value');
    assert.deepEqual(filesHoldingValues(), []);
    // The search would see a value: the names are there in clear.
    const files = fs.readdirSync(init.data).filter((f) => f.startsWith('bulwark.db'));
    assert.ok(files.includes('bulwark.db-wal'), files.join(','));
    assert.ok(files.some((f) => fs.readFileSync(path.join(init.data, f)).includes(name)), 'the name is nowhere');
  });
});

describe('InvokeIntegration', () => {
  test('POST: only the listed attributes go; the JSON answer becomes attributes; the call is a use', async () => {
    const ig = await integration();
    const entry = await entryFor({
      IntegrationId: ig.id, Path: '/crm', Method: 'POST', TimeoutSeconds: '5',
      RequestAttributes: { account: '$.Attributes.account', contact: '$.ContactId', channel: 'chat' },
    });
    const n = one.requests.length;
    const { cid } = await run(entry, { said: SAID.found });
    assert.equal(one.requests.length, n + 1);
    const got = one.requests[n];
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/crm');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(got.body), { account: 'A-981', contact: cid, channel: 'chat' });
    assert.ok(!got.body.includes('do-not-send'), 'an attribute the block does not list was sent');
    assert.equal(got.headers.authorization, undefined);

    const rec = await waitContact(d, ctx.admin, ctx.iid, cid, (c) => c.state === 'ENDED');
    assert.equal(rec.attributes.tier, 'gold', show({ status: 200, json: rec }));
    assert.equal(rec.attributes.visits, '3');
    assert.equal(rec.attributes.vip, 'true');
    assert.equal(rec.attributes.account, 'A-981');
    assert.equal(rec.attributes['bad name'], undefined);
    assert.equal(rec.attributes.nested, undefined);
    assert.deepEqual(await callBranches(cid), ['Wait', 'Next']);

    const r = await api(d.url, 'GET', integrationsPath(ctx.iid, `/${ig.id}`), { key: ctx.admin });
    assert.equal(r.status, 200, show(r));
    assert.ok(r.json.last_called_at, `last_called_at: ${show(r)}`);
  });

  test('GET: the listed attributes as the query, URL-encoded; no body', async () => {
    const ig = await integration();
    const entry = await entryFor({
      IntegrationId: ig.id, Path: '/crm?v=1', Method: 'GET',
      RequestAttributes: { account: '$.Attributes.account', q: 'a b&c/é' },
    });
    const n = one.requests.length;
    await run(entry, { said: SAID.found });
    const got = one.requests[n];
    assert.equal(got.method, 'GET');
    assert.equal(got.url, '/crm?v=1&account=A-981&q=a%20b%26c%2F%C3%A9');
    assert.equal(got.body, '');
  });

  test('a receiver slower than TimeoutSeconds: Timeout', async () => {
    const ig = await integration();
    const entry = await entryFor({ IntegrationId: ig.id, Path: '/hang', TimeoutSeconds: 1 });
    const t0 = Date.now();
    const { cid } = await run(entry, { said: SAID.timeout });
    const ms = Date.now() - t0;
    assert.ok(ms >= 900 && ms < 5000, `took ${ms} ms`);
    assert.deepEqual(await callBranches(cid), ['Wait', 'Timeout']);
  });

  test('a 500, and a 200 that is not a JSON object: IntegrationError', async () => {
    const ig = await integration();
    for (const p of ['/fail', '/text']) {
      const { cid } = await run(await entryFor({ IntegrationId: ig.id, Path: p }), { said: SAID.failed });
      assert.deepEqual(await callBranches(cid), ['Wait', 'IntegrationError']);
      const rec = (await getContact(d, ctx.admin, ctx.iid, cid)).json;
      assert.equal(rec.attributes.error, undefined);
    }
  });

  test('127.0.0.2, which the ranges do not list: IntegrationError, and nothing reaches it', async () => {
    const ig = await integration();
    // The registry refuses such a base URL, so the stored row is changed
    // behind its back (as a DNS change would): the egress checks again.
    sqlite(db, `UPDATE integrations SET base_url = '${two.url}' WHERE id = '${ig.id}';`);
    const seen = two.connections;
    const { cid } = await run(await entryFor({ IntegrationId: ig.id, Path: '/crm' }), { said: SAID.failed });
    assert.deepEqual(await callBranches(cid), ['Wait', 'IntegrationError']);
    assert.equal(two.connections, seen, '127.0.0.2 saw a connection');
    assert.equal(two.requests.length, 0);
  });

  test('an unknown integration, a path it does not allow, a missing secret: NoMatchingError', async () => {
    const narrow = await integration({ allowed_path_prefixes: ['/api/'] });
    const secret = await integration({ auth: { type: 'secret_header', header: 'X-Api-Key', secret: 'no-such-secret' } });
    const n = one.requests.length;
    for (const params of [
      { IntegrationId: 'ig_nosuchintegration', Path: '/crm' },
      { IntegrationId: narrow.id, Path: '/crm' },
      { IntegrationId: secret.id, Path: '/crm' },
    ]) {
      const { cid } = await run(await entryFor(params), { said: SAID.nomatch });
      assert.deepEqual(await callBranches(cid), ['Wait', 'NoMatchingError']);
    }
    assert.equal(one.requests.length, n, 'a call that could not be made was sent');
  });

  test('the customer leaves while the call is out: ended; the late answer is dropped', async () => {
    const ig = await integration();
    const entry = await entryFor({ IntegrationId: ig.id, Path: '/hold', TimeoutSeconds: 20 });
    const n = one.requests.length;
    const customer = await startCustomer(d, entry, { attributes: ATTRIBUTES });
    await waitFor(() => one.held.length === 1, { what: 'the call at the receiver' });
    assert.equal(one.requests.length, n + 1);
    customer.sock.send({ type: 'end' });
    const ended = await customer.sock.next(isEvent('ended'), { what: 'the end' });
    assert.equal(ended.reason, 'CUSTOMER_DISCONNECT', JSON.stringify(ended));
    await customer.sock.close();
    await waitContact(d, ctx.admin, ctx.iid, customer.cid, (c) => c.state === 'ENDED');
    one.release(); // the answer comes now, to nobody

    // Another chat through the same integration answers after it: the
    // daemon took the late answer (loopback, in order) and is still well.
    const other = await entryFor({ IntegrationId: ig.id, Path: '/crm' });
    await run(other, { said: SAID.found });
    const rec = (await getContact(d, ctx.admin, ctx.iid, customer.cid)).json;
    assert.equal(rec.state, 'ENDED');
    assert.equal(rec.disconnect_reason, 'CUSTOMER_DISCONNECT');
    assert.equal(rec.attributes.late, undefined, 'the late answer was mapped');
    assert.deepEqual(await callBranches(customer.cid), ['Wait']);
    assert.ok(!customer.sock.seen(isSystem()).length, 'the flow went on after the customer left');
  });

  test('role auth: the receiver verifies the Bearer token against the JWKS', async () => {
    const ig = await integration({ auth: { type: 'role' } });
    const entry = await entryFor({
      IntegrationId: ig.id, Path: '/crm', RequestAttributes: { account: '$.Attributes.account' },
    });
    const n = one.requests.length;
    const { cid } = await run(entry, { said: SAID.found });
    const got = one.requests[n];
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(got.headers.authorization ?? '');
    assert.ok(m, `authorization: ${got.headers.authorization}`);
    const header = JSON.parse(Buffer.from(m[1], 'base64url'));
    const claims = JSON.parse(Buffer.from(m[2], 'base64url'));
    assert.equal(header.alg, 'EdDSA');
    assert.equal(claims.sub, ig.id);
    assert.equal(claims.aud, ig.base_url);
    assert.equal(claims.instance, ctx.iid);
    assert.equal(claims.contact, cid);
    const digest = crypto.createHash('sha256').update(got.body).digest('base64');
    assert.equal(claims.digest, `sha-256=${digest}`);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(claims.exp > now - 5 && claims.exp - claims.iat <= 900, JSON.stringify(claims));
    const jwks = await api(d.url, 'GET', `/.well-known/bulwark/${ctx.iid}/jwks.json`);
    assert.equal(jwks.status, 200, show(jwks));
    const jwk = jwks.json.keys.find((k) => k.kid === header.kid);
    assert.ok(jwk, 'the signing key is published');
    const ok = crypto.verify(null, Buffer.from(`${m[1]}.${m[2]}`), crypto.createPublicKey({ key: jwk, format: 'jwk' }),
      Buffer.from(m[3], 'base64url'));
    assert.ok(ok, 'the signature verifies');
    // A token signed for another body does not pass the digest check.
    const other = crypto.createHash('sha256').update('{"account":"other"}').digest('base64');
    assert.notEqual(claims.digest, `sha-256=${other}`);
  });

  test('a call still out when the daemon stops (after: exit code 0)', async () => {
    const ig = await integration();
    const entry = await entryFor({ IntegrationId: ig.id, Path: '/hang', TimeoutSeconds: 30 });
    const n = one.requests.length;
    const customer = await startCustomer(d, entry, { attributes: ATTRIBUTES });
    await waitFor(() => one.requests.length === n + 1, { what: 'the call at the receiver' });
    assert.equal(one.requests[n].url, '/hang');
    // The socket stays open: the daemon stops with the call out (after()).
    customer.sock.ws.terminate();
  });
});
