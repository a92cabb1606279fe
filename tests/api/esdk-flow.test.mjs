// Encrypted customer input inside a flow (C15), black box: a chat flow asks
// for a card number, validates it (Luhn) and stores it with
// StoreCustomerInput; the contact attribute holds an AWS Encryption SDK
// message that the real @aws-crypto/client-node decrypts with either of the
// instance's two active keys, with the context naming instance, contact and
// attribute. The number never reaches the transcript, the agent, the flow
// log, the logs or the database file; the customer and the agent see a mask.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { RawRsaKeyringNode, MultiKeyringNode, buildClient, CommitmentPolicy } from '@aws-crypto/client-node';
import { initData, startDaemon, removeTempDir, api, show } from './lib/daemon.mjs';
import {
  setupCenter, publishFlow, startCustomer, say, isSystem, isMessage, readyAgent, takeOffer,
  getContact, waitContact, listAll,
} from './lib/chat.mjs';
import { createEntryPoint } from './lib/routing.mjs';

const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const generateKeyPair = promisify(crypto.generateKeyPair);
const CARD = '4929 1793 6580 7132';
const CARD_DIGITS = '4929179365807132';

function cardFlow(queueId, keyId) {
  return {
    Version: '2019-10-30',
    StartAction: 'ask',
    Actions: [
      {
        Identifier: 'ask', Type: 'GetParticipantInput',
        Parameters: { Text: 'Your card number, please.', StoreInput: 'True', InputTimeLimitSeconds: '60' },
        Transitions: { NextAction: 'check', Errors: [{ NextAction: 'bye', ErrorType: 'NoMatchingError' }] },
      },
      {
        Identifier: 'check', Type: 'ValidateInput', Parameters: { Kind: 'Luhn' },
        Transitions: { NextAction: 'store', Errors: [{ NextAction: 'again', ErrorType: 'InvalidInput' }] },
      },
      { Identifier: 'again', Type: 'MessageParticipant', Parameters: { Text: 'That number is not valid.' }, Transitions: { NextAction: 'ask' } },
      {
        Identifier: 'store', Type: 'StoreCustomerInput', Parameters: { Attribute: 'card', EncryptionKeyId: keyId },
        Transitions: { NextAction: 'ok', Errors: [{ NextAction: 'failed', ErrorType: 'NoMatchingError' }] },
      },
      { Identifier: 'ok', Type: 'MessageParticipant', Parameters: { Text: 'Stored safely.' }, Transitions: { NextAction: 'queue' } },
      { Identifier: 'failed', Type: 'MessageParticipant', Parameters: { Text: 'Could not store it.' }, Transitions: { NextAction: 'queue' } },
      { Identifier: 'queue', Type: 'TransferContactToQueue', Parameters: { QueueId: queueId }, Transitions: {} },
      { Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
    ],
  };
}

async function rsa() {
  return generateKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

const keyring = (keyName, privateKey) => new RawRsaKeyringNode({
  keyNamespace: 'Bulwark', keyName, rsaKey: { privateKey }, oaepHash: 'sha512',
});

describe('StoreCustomerInput in a running flow', () => {
  let init;
  let d;
  before(async () => {
    init = await initData();
    d = await startDaemon({ data: init.data });
  });
  after(async () => {
    await d?.stop();
    removeTempDir(init?.dir);
  });

  test('the card number is stored only as an Encryption SDK message that either active key decrypts; everyone else sees a mask', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 1 });
    const k1 = await rsa();
    const k2 = await rsa();
    for (const [key_id, k] of [['card-2026', k1], ['card-2027', k2]]) {
      const r = await api(d.url, 'POST', `/v1/instances/${ctx.iid}/encryption-keys`, { key: ctx.admin, body: { key_id, public_key: k.publicKey } });
      assert.equal(r.status, 201, show(r));
    }
    const { flow, version } = await publishFlow(d, ctx.admin, ctx.iid, cardFlow(ctx.queue.id, 'card-2026'));
    const ep = await createEntryPoint(d, ctx.admin, ctx.iid, flow.id, { type: 'CHAT' });
    const c = await startCustomer(d, { ...ctx, entryPoint: ep });
    await c.sock.next(isSystem('Your card number, please.'), { what: 'the question' });
    c.sock.send({ type: 'message', content: CARD });
    const echo = await c.sock.next(isMessage('CUSTOMER'), { what: 'the echo' });
    assert.ok(!echo.content.includes('4929') && !echo.content.includes(CARD_DIGITS), `the echo shows the number: ${echo.content}`);
    assert.ok(echo.content.endsWith('7132') && echo.content.includes('\u2022'), `the echo is not a mask: ${echo.content}`);
    await c.sock.next(isSystem('Stored safely.'), { what: 'the block took its Next branch' });

    const rec = await waitContact(d, ctx.admin, ctx.iid, c.cid, (r) => r.state === 'QUEUED' && r.attributes?.card, 'the queued record with the card attribute');
    assert.equal(rec.flow_version, version);
    const b64 = rec.attributes.card;
    assert.match(b64, /^[A-Za-z0-9+/]+=*$/, 'standard base64');
    for (const [name, k] of [['card-2026', k1], ['card-2027', k2]]) {
      const { plaintext, messageHeader } = await decrypt(keyring(name, k1 === k ? k1.privateKey : k2.privateKey), Buffer.from(b64, 'base64'));
      assert.equal(plaintext.toString('utf8'), CARD, `${name} decrypts`);
      assert.deepEqual({ ...messageHeader.encryptionContext },
        { instance_id: ctx.iid, contact_id: c.cid, attribute: 'card' });
    }
    // A flipped bit is refused by the SDK.
    const bad = Buffer.from(b64, 'base64');
    bad[bad.length - 20] ^= 1;
    await assert.rejects(decrypt(keyring('card-2026', k1.privateKey), bad));

    // The agent gets the contact: the attribute is the message, the transcript a mask.
    const [agent] = ctx.agents;
    await readyAgent(d, ctx.iid, agent);
    const offer = await takeOffer(d, ctx.iid, agent, c.cid);
    assert.ok(!JSON.stringify(offer ?? {}).includes(CARD_DIGITS));
    const t = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts/${c.cid}/transcript`);
    const text = JSON.stringify(t);
    assert.ok(!text.includes('4929') && !text.includes(CARD_DIGITS), 'the transcript holds the number');
    assert.ok(t.some((m) => m.participant_role === 'CUSTOMER' && m.content.endsWith('7132')), 'the masked answer is in the transcript');
    const log = await listAll(d, ctx.admin, `/v1/instances/${ctx.iid}/contacts/${c.cid}/flow-log`);
    assert.ok(log.some((e) => e.action_type === 'StoreCustomerInput' && e.branch === 'Next'), JSON.stringify(log));
    assert.ok(!JSON.stringify(log).includes('4929'));

    // Nowhere on disk or in the logs.
    await d.stop();
    for (const f of fs.readdirSync(init.data)) {
      const p = path.join(init.data, f);
      if (!fs.statSync(p).isFile()) continue;
      const bytes = fs.readFileSync(p);
      assert.equal(bytes.indexOf(CARD), -1, `${f} holds the number`);
      assert.equal(bytes.indexOf(CARD_DIGITS), -1, `${f} holds the digits`);
    }
    assert.ok(!d.stderr.includes(CARD) && !d.stderr.includes(CARD_DIGITS), 'the log holds the number');
    d = await startDaemon({ data: init.data });
  });

  test('a key id that is not active takes the error branch and stores nothing', async () => {
    const ctx = await setupCenter(d, init.key, { agents: 0 });
    const k = await rsa();
    const r = await api(d.url, 'POST', `/v1/instances/${ctx.iid}/encryption-keys`, { key: ctx.admin, body: { key_id: 'other', public_key: k.publicKey } });
    assert.equal(r.status, 201, show(r));
    const { flow } = await publishFlow(d, ctx.admin, ctx.iid, cardFlow(ctx.queue.id, 'not-registered'));
    const ep = await createEntryPoint(d, ctx.admin, ctx.iid, flow.id, { type: 'CHAT' });
    const c = await startCustomer(d, { ...ctx, entryPoint: ep });
    await c.sock.next(isSystem('Your card number, please.'), { what: 'the question' });
    await say(c, CARD).catch(() => {});
    await c.sock.next(isSystem('Could not store it.'), { what: 'the error branch' });
    const rec = await waitContact(d, ctx.admin, ctx.iid, c.cid, (x) => x.state === 'QUEUED', 'queued');
    assert.equal(rec.attributes.card, undefined);
    assert.ok(!JSON.stringify(rec).includes('4929'));
  });
});
