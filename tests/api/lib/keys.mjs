// Helpers for the encryption-at-rest tests (C14, docs/internals/keys.md):
// the keys API, reading the key tables and sealed columns of bulwark.db
// through the sqlite3 shell, and an independent implementation of the
// format (HMAC-SHA256 root subkey, XChaCha20-Poly1305 from HChaCha20 and
// node's ChaCha20-Poly1305), so that a test can say which values still
// open with which keys without asking the daemon.
//
// Nothing here sleeps to synchronize: waits are polls with a deadline.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { api, show, waitFor } from './daemon.mjs';
import { sqlite } from './identity.mjs';

// ---------------------------------------------------------------------------
// The keys API

export async function keysState(d, token, iid) {
  const r = await api(d.url, 'GET', `/v1/instances/${iid}/keys`, { key: token });
  assert.equal(r.status, 200, `GET keys: ${show(r)}`);
  return r.json;
}

export async function rotate(d, token, iid) {
  const r = await api(d.url, 'POST', `/v1/instances/${iid}/keys/rotate`, { key: token });
  assert.equal(r.status, 202, `POST keys/rotate: ${show(r)}`);
  return r.json;
}

/** Poll GET keys until the rotation `rid` is no longer RUNNING; returns the state. */
export async function waitRotation(d, token, iid, rid, timeoutMs = 20000) {
  let last;
  await waitFor(async () => {
    last = await keysState(d, token, iid);
    return last.rotation?.id === rid && last.rotation.state !== 'RUNNING';
  }, { timeoutMs, intervalMs: 50, what: `rotation ${rid} to end (last: ${JSON.stringify(last)})` });
  return last;
}

// ---------------------------------------------------------------------------
// The files

export function dbFiles(data) {
  const db = path.join(data, 'bulwark.db');
  return { db, wal: `${db}-wal`, shm: `${db}-shm`, root: path.join(data, 'root.key') };
}

/** A consistent copy of the live database (the shell's .backup, WAL included). */
export function backupCopy(data, dest) {
  const { db } = dbFiles(data);
  sqlite(db, `.backup '${dest}'`);
  return dest;
}

/** A raw copy of the files as they are (db and WAL), as a careless backup would take. */
export function rawCopy(data, destDir) {
  const { db, wal } = dbFiles(data);
  fs.mkdirSync(destDir, { recursive: true });
  const out = path.join(destDir, 'bulwark.db');
  fs.copyFileSync(db, out);
  if (fs.existsSync(wal)) fs.copyFileSync(wal, `${out}-wal`);
  return out;
}

/** Which of the needles (strings or Buffers) occur in the file (missing file: none). */
export function hits(file, needles) {
  if (!fs.existsSync(file)) return [];
  const hay = fs.readFileSync(file);
  return needles.filter((n) => hay.indexOf(Buffer.isBuffer(n) ? n : Buffer.from(n, 'utf8')) >= 0);
}

/** Rows of a query as objects; blobs should be selected as hex(x). */
export function rows(dbFile, sql) {
  const out = sqlite(dbFile, `.mode json\n${sql};`).trim();
  return out ? JSON.parse(out) : [];
}

// ---------------------------------------------------------------------------
// The format, independently

function rotl(v, c) { return ((v << c) | (v >>> (32 - c))) >>> 0; }

/** HChaCha20 (draft-irtf-cfrg-xchacha): the subkey of key for a 16-byte nonce. */
export function hchacha20(key, nonce16) {
  const s = new Uint32Array(16);
  s[0] = 0x61707865; s[1] = 0x3320646e; s[2] = 0x79622d32; s[3] = 0x6b206574;
  for (let i = 0; i < 8; i++) s[4 + i] = key.readUInt32LE(i * 4);
  for (let i = 0; i < 4; i++) s[12 + i] = nonce16.readUInt32LE(i * 4);
  const qr = (a, b, c, d) => {
    s[a] = (s[a] + s[b]) >>> 0; s[d] = rotl(s[d] ^ s[a], 16);
    s[c] = (s[c] + s[d]) >>> 0; s[b] = rotl(s[b] ^ s[c], 12);
    s[a] = (s[a] + s[b]) >>> 0; s[d] = rotl(s[d] ^ s[a], 8);
    s[c] = (s[c] + s[d]) >>> 0; s[b] = rotl(s[b] ^ s[c], 7);
  };
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
    qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
  }
  const out = Buffer.alloc(32);
  for (let i = 0; i < 4; i++) out.writeUInt32LE(s[i], i * 4);
  for (let i = 0; i < 4; i++) out.writeUInt32LE(s[12 + i], 16 + i * 4);
  return out;
}

/** XChaCha20-Poly1305 (libsodium's _ietf) open of nonce(24) || ct || tag; null when it does not open. */
export function xopen(key, blob, ad) {
  if (blob.length < 24 + 16) return null;
  const nonce = blob.subarray(0, 24);
  const body = blob.subarray(24, blob.length - 16);
  const tag = blob.subarray(blob.length - 16);
  const sub = hchacha20(key, nonce.subarray(0, 16));
  const n12 = Buffer.concat([Buffer.alloc(4), nonce.subarray(16, 24)]);
  try {
    const dec = crypto.createDecipheriv('chacha20-poly1305', sub, n12, { authTagLength: 16 });
    dec.setAAD(ad, { plaintextLength: body.length });
    dec.setAuthTag(tag);
    return Buffer.concat([dec.update(body), dec.final()]);
  } catch {
    return null;
  }
}

const nul = (...parts) => Buffer.from(parts.join('\0'), 'utf8');

/** The root key's KEK-wrapping subkey: HMAC-SHA256(root, "bulwark kek wrap v1"). */
export function kekWrapKey(root) {
  return crypto.createHmac('sha256', root).update('bulwark kek wrap v1').digest();
}

/**
 * Every value-opening key reachable from the root key and the key rows of a
 * database file: {"<iid>/<dk id>": Buffer}. KEKs that do not open are skipped.
 */
export function reachableKeys(root, dbFile) {
  const wk = kekWrapKey(root);
  const keks = new Map();
  for (const k of rows(dbFile, 'SELECT instance_id, id, hex(wrapped) AS w FROM instance_keks')) {
    const kek = xopen(wk, Buffer.from(k.w, 'hex'), nul('bulwark.kek.v1', k.instance_id, k.id));
    if (kek) keks.set(`${k.instance_id}/${k.id}`, kek);
  }
  const dks = {};
  for (const r of rows(dbFile, 'SELECT instance_id, id, kek_id, hex(wrapped) AS w FROM data_keys')) {
    const kek = keks.get(`${r.instance_id}/${r.kek_id}`);
    if (!kek) continue;
    const dk = xopen(kek, Buffer.from(r.w, 'hex'), nul('bulwark.dk.v1', r.instance_id, String(r.id), r.kek_id));
    if (dk) dks[`${r.instance_id}/${r.id}`] = dk;
  }
  return { keks, dks };
}

/** Opens one sealed value (0x01 | key id | nonce | ct | tag) with the keys given; null when it does not. */
export function openValue(dks, iid, table, row, column, blob) {
  if (blob.length < 5 + 24 + 16 || blob[0] !== 1) return null;
  const id = blob.readUInt32BE(1);
  const key = dks[`${iid}/${id}`];
  if (!key) return null;
  return xopen(key, blob.subarray(5), Buffer.concat([blob.subarray(0, 5), nul(iid, table, row, column)]));
}

/** The sealed columns of the database (every sealed value it holds), as rows {table, column, iid, row, blob}. */
export function sealedValues(dbFile) {
  const q = (table, column, where = '') => rows(dbFile,
    `SELECT instance_id AS iid, id AS row, hex(${column}) AS h FROM ${table} WHERE ${column} IS NOT NULL ${where}`)
    .map((r) => ({ table, column, iid: r.iid, row: r.row, blob: Buffer.from(r.h, 'hex') }));
  return [
    ...q('users', 'mfa_secret'), ...q('users', 'pii'),
    ...q('contacts', 'customer'), ...q('contact_messages', 'content'),
  ];
}

/** Base32 (RFC 4648) to bytes, for TOTP seeds. */
export function base32Bytes(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// ---------------------------------------------------------------------------
// Planting known values through the public API

/**
 * One contact center instance with known strings planted everywhere a value
 * is sealed: the admin's and a user's names and e-mail (update and insert),
 * a user's TOTP seed (enrolled and verified), a chat's display name, e-mail
 * and attributes, a customer message and an agent message. Returns
 * {ctx, user, username, secret, seed, cid, canaries (strings), raw (Buffers)}.
 */
export async function plant(d, platformKey, tag = 'k') {
  const chat = await import('./chat.mjs');
  const id = await import('./identity.mjs');
  const mark = (what) => `cnry${tag}${what}${crypto.randomBytes(5).toString('hex')}`;
  const c = {
    adminFirst: mark('adminfirst'), adminLast: mark('adminlast'), adminMail: `${mark('adminmail')}@example.com`,
    first: mark('first'), last: mark('last'), mail: `${mark('mail')}@example.com`,
    display: mark('display'), custMail: `${mark('custmail')}@example.com`, attr: mark('attr'),
    custMsg: `${mark('custmsg')} where is my order`, agentMsg: mark('agentmsg'),
  };
  const ctx = await chat.setupCenter(d, platformKey, { agents: 1 });
  const iid = ctx.iid;
  let r = await api(d.url, 'PATCH', `/v1/instances/${iid}/users/${ctx.instance.adminUserId}`, {
    key: ctx.admin, body: { first_name: c.adminFirst, last_name: c.adminLast, email: c.adminMail },
  });
  assert.equal(r.status, 200, `PATCH admin: ${show(r)}`);
  const username = id.unique('cnry');
  const user = await id.createUser(d, ctx.admin, iid, {
    username, password: id.PASSWORD, profiles: [ctx.profiles.Agent.id], first_name: c.first, last_name: c.last, email: c.mail,
  });
  const token = await id.loginToken(d, iid, username);
  r = await api(d.url, 'POST', `/v1/instances/${iid}/users/${user.id}/mfa/totp`, { key: token });
  assert.equal(r.status, 200, `enroll: ${show(r)}`);
  const secret = id.totpSecret(r.json.otpauth_uri);
  const step = await id.stepWithMargin(5);
  r = await api(d.url, 'POST', `/v1/instances/${iid}/users/${user.id}/mfa/totp/verify`, { key: token, body: { code: id.totpAt(secret, step) } });
  assert.equal(r.status, 200, `verify: ${show(r)}`);
  const seed = base32Bytes(secret);

  const agent = ctx.agents[0];
  await chat.readyAgent(d, iid, agent);
  const customer = await chat.startCustomer(d, ctx, { display_name: c.display, email: c.custMail, attributes: { note: c.attr } });
  await chat.answerPhone(customer);
  await chat.takeOffer(d, iid, agent, customer.cid);
  await chat.say(customer, c.custMsg);
  r = await chat.agentPost(d, iid, agent, customer.cid, 'messages', { content: c.agentMsg });
  assert.equal(r.status, 201, `agent message: ${show(r)}`);
  await customer.sock.next(chat.isMessage('AGENT', c.agentMsg), { what: 'the agent message' });
  customer.sock.send({ type: 'end' });
  await customer.sock.next(chat.isEvent('ended'), { what: 'the ended event' });
  await chat.agentPost(d, iid, agent, customer.cid, 'end');
  await chat.waitContact(d, ctx.admin, iid, customer.cid, (x) => x.state === 'ENDED', 'the ended record');
  await customer.sock.close();
  await agent.stream.close();
  return {
    ctx, iid, user, username, secret, seed, cid: customer.cid, c,
    canaries: [...Object.values(c), secret, seed.toString('hex')],
    raw: [seed],
  };
}
