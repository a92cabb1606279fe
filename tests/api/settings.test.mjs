// Settings: config file, BULWARK_* environment, flags; refusal of bad values.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { initData, startDaemon, runBulwark, removeTempDir, api, show } from './lib/daemon.mjs';

let init;

before(async () => { init = await initData(); });
after(() => removeTempDir(init.dir));

let configCount = 0;
function writeConfig(text) {
  const f = path.join(init.dir, `config-${++configCount}.ini`);
  fs.writeFileSync(f, text);
  return f;
}

function serveArgs(extra) {
  return ['serve', '--data', init.data, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', ...extra];
}

// The setting name in either spelling (max_body_bytes, max-body-bytes, MAX_BODY_BYTES).
function nameRe(name) {
  return new RegExp(name.replace(/_/g, '[_-]'), 'i');
}

async function expectStartupRefused({ args = [], env = {}, name }) {
  const r = await runBulwark(serveArgs(args), { env, timeoutMs: 8000 });
  assert.equal(r.timedOut, false, `serve ${args.join(' ')} ${JSON.stringify(env)} started instead of refusing; stdout ${JSON.stringify(r.stdout)}`);
  assert.equal(r.code, 2, `exit code ${r.code} (signal ${r.signal}); stderr ${JSON.stringify(r.stderr)}`);
  assert.equal(r.stdout, '', `printed on stdout: ${JSON.stringify(r.stdout)}`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, 1, `expected exactly one line on stderr, got ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], nameRe(name), `the stderr line does not name ${name}: ${JSON.stringify(lines[0])}`);
  return r;
}

const padBody = (n) => {
  // a JSON object of exactly n bytes: {"name":"ci","pad":"xxxx"}
  const base = JSON.stringify({ name: 'ci', pad: '' });
  return JSON.stringify({ name: 'ci', pad: 'x'.repeat(n - base.length) });
};

// Start with the given configuration and check the body limit is 1024.
async function assertBodyLimit1024(opts) {
  const d = await startDaemon({ data: init.data, ...opts });
  try {
    const big = padBody(2000);
    assert.equal(big.length, 2000);
    const r1 = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: big });
    assert.equal(r1.status, 413, show(r1));
    assert.equal(r1.json?.error?.code, 'PayloadTooLarge', show(r1));
    const small = padBody(1000);
    const r2 = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: small });
    assert.notEqual(r2.status, 413, `a 1000-byte body was refused as too large: ${show(r2)}`);
  } finally {
    assert.equal(await d.stop(), 0);
  }
}

describe('bad settings stop start-up with exit code 2 and one line naming them', () => {
  test('unknown name in the config file', async () => {
    const f = writeConfig('# a comment\nno_such_setting = 1\n');
    await expectStartupRefused({ args: ['--config', f], name: 'no_such_setting' });
  });

  test('max_body_bytes = 5 (below 1024) in the config file', async () => {
    const f = writeConfig('max_body_bytes = 5\n');
    await expectStartupRefused({ args: ['--config', f], name: 'max_body_bytes' });
  });

  test('max_body_bytes above 67108864 in the config file', async () => {
    const f = writeConfig('max_body_bytes = 67108865\n');
    await expectStartupRefused({ args: ['--config', f], name: 'max_body_bytes' });
  });

  test('max_body_bytes = abc in the config file', async () => {
    const f = writeConfig('max_body_bytes = abc\n');
    await expectStartupRefused({ args: ['--config', f], name: 'max_body_bytes' });
  });

  test('max_body_bytes = 2048abc (trailing garbage) in the config file', async () => {
    const f = writeConfig('max_body_bytes = 2048abc\n');
    await expectStartupRefused({ args: ['--config', f], name: 'max_body_bytes' });
  });

  test('header_timeout_ms = 50 (below its minimum of 100)', async () => {
    const f = writeConfig('header_timeout_ms = 50\n');
    await expectStartupRefused({ args: ['--config', f], name: 'header_timeout_ms' });
  });

  test('log_level = loud', async () => {
    const f = writeConfig('log_level = loud\n');
    await expectStartupRefused({ args: ['--config', f], name: 'log_level' });
  });

  test('durability = sometimes', async () => {
    const f = writeConfig('durability = sometimes\n');
    await expectStartupRefused({ args: ['--config', f], name: 'durability' });
  });

  test('trusted_proxies = banana', async () => {
    const f = writeConfig('trusted_proxies = banana\n');
    await expectStartupRefused({ args: ['--config', f], name: 'trusted_proxies' });
  });

  test('BULWARK_MAX_BODY_BYTES=abc in the environment', async () => {
    await expectStartupRefused({ env: { BULWARK_MAX_BODY_BYTES: 'abc' }, name: 'max_body_bytes' });
  });

  test('BULWARK_MAX_BODY_BYTES=5 in the environment', async () => {
    await expectStartupRefused({ env: { BULWARK_MAX_BODY_BYTES: '5' }, name: 'max_body_bytes' });
  });

  test('--max-body-bytes 5 on the command line', async () => {
    await expectStartupRefused({ args: ['--max-body-bytes', '5'], name: 'max_body_bytes' });
  });

  test('an unknown flag exits non-zero', async () => {
    const r = await runBulwark(serveArgs(['--no-such-flag', '1']), { timeoutMs: 8000 });
    assert.equal(r.timedOut, false, 'serve started with an unknown flag');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no[_-]such[_-]flag/i);
  });

  test('a missing config file exits non-zero', async () => {
    const r = await runBulwark(serveArgs(['--config', path.join(init.dir, 'does-not-exist.ini')]), { timeoutMs: 8000 });
    assert.equal(r.timedOut, false, 'serve started with a missing config file');
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.trim().length > 0);
  });
});

describe('settings are read from each source', () => {
  test('config file (with comments and blank lines): max_body_bytes = 1024', async () => {
    const f = writeConfig('# Bulwark test configuration\n\n# body cap\nmax_body_bytes = 1024\ntrusted_proxies = 127.0.0.1/32, ::1/128\nlog_level = warn\n');
    await assertBodyLimit1024({ args: ['--config', f] });
  });

  test('environment: BULWARK_MAX_BODY_BYTES=1024', async () => {
    await assertBodyLimit1024({ env: { BULWARK_MAX_BODY_BYTES: '1024' } });
  });

  test('flag with dashes: --max-body-bytes 1024', async () => {
    await assertBodyLimit1024({ args: ['--max-body-bytes', '1024'] });
  });

  test('flag with underscores: --max_body_bytes 1024', async () => {
    await assertBodyLimit1024({ args: ['--max_body_bytes', '1024'] });
  });

  test('default max_body_bytes is 1048576', async () => {
    const d = await startDaemon({ data: init.data });
    try {
      // 1 MiB + 1 byte is refused
      const over = padBody(1048577);
      const r1 = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: over });
      assert.equal(r1.status, 413, show(r1));
      // 1 MiB - a little is not refused as too large
      const under = padBody(1048000);
      const r2 = await api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body: under });
      assert.notEqual(r2.status, 413, show(r2));
    } finally {
      assert.equal(await d.stop(), 0);
    }
  });

  test('BULWARK_URL and BULWARK_TOKEN are ignored by serve', async () => {
    const d = await startDaemon({
      data: init.data,
      env: { BULWARK_URL: 'http://127.0.0.1:1', BULWARK_TOKEN: 'bwp_whatever' },
    });
    try {
      const r = await api(d.url, 'GET', '/healthz');
      assert.equal(r.status, 200);
    } finally {
      assert.equal(await d.stop(), 0);
    }
  });

  test('other BULWARK_* variables are ignored too, with a warning naming the variable, not its value', async () => {
    const d = await startDaemon({ data: init.data, env: { BULWARK_DEPLOY_NOTE: 'sekret-value-123' } });
    try {
      const r = await api(d.url, 'GET', '/healthz');
      assert.equal(r.status, 200);
      assert.match(d.stderr, /ignoring an environment variable that names no setting.*deploy_note/);
      assert.ok(!d.stderr.includes('sekret-value-123'), 'the value is never logged');
    } finally {
      assert.equal(await d.stop(), 0);
    }
  });

  test('--data can come from the config file', async () => {
    const f = writeConfig(`data = ${init.data}\n`);
    const d = await startDaemon({ args: ['--config', f] });
    try {
      const r = await api(d.url, 'GET', '/v1/platform-keys', { key: init.key });
      assert.equal(r.status, 200, show(r));
    } finally {
      assert.equal(await d.stop(), 0);
    }
  });
});
