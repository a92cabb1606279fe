// Command line: init, --help, unknown subcommands.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runBulwark, makeTempDir, removeTempDir, PLATFORM_KEY_RE } from './lib/daemon.mjs';

describe('bulwark init', () => {
  let dir;
  let data;
  let first;

  before(async () => {
    dir = makeTempDir();
    data = path.join(dir, 'data');
    first = await runBulwark(['init', '--data', data, '--json']);
  });

  after(() => removeTempDir(dir));

  test('exits 0 and prints exactly one JSON line with the platform key', () => {
    assert.equal(first.code, 0, `init failed: ${first.stderr}`);
    assert.match(first.stdout, /^[^\n]*\n?$/, `expected one line, got ${JSON.stringify(first.stdout)}`);
    const obj = JSON.parse(first.stdout.trim());
    assert.deepEqual(Object.keys(obj), ['platform_key']);
    assert.match(obj.platform_key, PLATFORM_KEY_RE);
  });

  test('creates the folder with mode 0700', () => {
    const st = fs.statSync(data);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o777, 0o700, `mode is ${(st.mode & 0o777).toString(8)}`);
  });

  test('root.key is 32 bytes with mode 0600', () => {
    const f = path.join(data, 'root.key');
    const st = fs.statSync(f);
    assert.ok(st.isFile());
    assert.equal(st.size, 32);
    assert.equal(st.mode & 0o777, 0o600, `mode is ${(st.mode & 0o777).toString(8)}`);
  });

  test('bulwark.db is an SQLite database', () => {
    const f = path.join(data, 'bulwark.db');
    const fd = fs.openSync(f, 'r');
    const head = Buffer.alloc(16);
    fs.readSync(fd, head, 0, 16, 0);
    fs.closeSync(fd);
    assert.equal(head.toString('latin1'), 'SQLite format 3\0');
  });

  test('the platform key is not stored in clear in the data folder', () => {
    const key = JSON.parse(first.stdout.trim()).platform_key;
    const secret = key.slice(4);
    for (const name of fs.readdirSync(data)) {
      const f = path.join(data, name);
      if (!fs.statSync(f).isFile()) continue;
      const content = fs.readFileSync(f).toString('latin1');
      assert.ok(!content.includes(secret), `${name} holds the platform key in clear`);
    }
  });

  test('refuses an existing folder, leaves root.key unchanged', async () => {
    const before = fs.readFileSync(path.join(data, 'root.key'));
    const again = await runBulwark(['init', '--data', data, '--json']);
    assert.notEqual(again.code, 0, 'second init on the same folder succeeded');
    assert.match(again.stderr, /exist|refus/i, `stderr: ${JSON.stringify(again.stderr)}`);
    assert.doesNotMatch(again.stdout, /bwp_/, 'second init printed a key');
    assert.deepEqual(fs.readFileSync(path.join(data, 'root.key')), before);
  });

  test('refuses an existing empty folder too', async () => {
    const d2 = path.join(dir, 'empty');
    fs.mkdirSync(d2);
    const r = await runBulwark(['init', '--data', d2, '--json']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exist|refus/i, `stderr: ${JSON.stringify(r.stderr)}`);
    assert.deepEqual(fs.readdirSync(d2), []);
  });

  test('two inits give different keys', async () => {
    const d2 = path.join(dir, 'other');
    const r = await runBulwark(['init', '--data', d2, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const k1 = JSON.parse(first.stdout.trim()).platform_key;
    const k2 = JSON.parse(r.stdout.trim()).platform_key;
    assert.match(k2, PLATFORM_KEY_RE);
    assert.notEqual(k1, k2);
    assert.notDeepEqual(fs.readFileSync(path.join(data, 'root.key')), fs.readFileSync(path.join(d2, 'root.key')));
  });

  test('without --json the key is printed too', async () => {
    const d3 = path.join(dir, 'plain');
    const r = await runBulwark(['init', '--data', d3]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bwp_[A-Za-z0-9_-]{43}/);
  });
});

describe('help and unknown commands', () => {
  test('bulwark --help exits 0', async () => {
    const r = await runBulwark(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((r.stdout + r.stderr).length > 0, 'no help text');
    assert.match(r.stdout + r.stderr, /init/);
    assert.match(r.stdout + r.stderr, /serve/);
  });

  test('bulwark init --help exits 0 and mentions --data', async () => {
    const r = await runBulwark(['init', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /--data/);
  });

  test('bulwark serve --help exits 0 and lists the settings', async () => {
    const r = await runBulwark(['serve', '--help']);
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout + r.stderr;
    for (const name of ['max_body_bytes', 'listen', 'tls_cert', 'admin_listen', 'header_timeout_ms', 'ws_max_message_bytes', 'trusted_proxies']) {
      // either spelling: max_body_bytes or --max-body-bytes
      const re = new RegExp(name.replace(/_/g, '[_-]'));
      assert.match(text, re, `serve --help does not mention ${name}`);
    }
  });

  test('an unknown subcommand exits non-zero with a message on stderr', async () => {
    const r = await runBulwark(['frobnicate']);
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.trim().length > 0, 'nothing on stderr');
  });
});
