// `make run`'s demo script: prints the URLs (public first), the one-time
// platform key and the demo admin's credential, which log in for real, and
// a working contact center (chat and callback entry points, an agent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { BIN, REPO_ROOT, makeTempDir, removeTempDir, waitFor } from './lib/daemon.mjs';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

test('the demo prints working URLs and credentials, then stops on SIGTERM', async () => {
  const dir = makeTempDir('bulwark-demo-');
  const [pub, adm] = [await freePort(), await freePort()];
  const child = spawn('bash', [path.join(REPO_ROOT, 'scripts/run-demo.sh'), BIN], {
    cwd: dir,
    env: { ...process.env, DEMO_LISTEN: `127.0.0.1:${pub}`, DEMO_ADMIN: `127.0.0.1:${adm}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    await waitFor(() => out.includes('Press Ctrl-C'), { timeoutMs: 20000, what: 'the demo banner' });
    const lines = out.split('\n');
    const publicAt = lines.findIndex((l) => l.includes('public:'));
    const adminAt = lines.findIndex((l) => l.includes('admin:'));
    assert.ok(publicAt >= 0 && publicAt < adminAt, out);
    assert.match(out, new RegExp(`http://127\\.0\\.0\\.1:${pub}/`));
    const key = out.match(/platform API key \(shown once\): (bwp_[A-Za-z0-9_-]{43})/)?.[1];
    const m = out.match(/demo instance (in_[A-Za-z0-9_-]+): user admin, password \(shown once\): (\S+)/);
    assert.ok(key && m, out);
    const health = await fetch(`http://127.0.0.1:${pub}/healthz`);
    assert.equal(health.status, 200);
    const keys = await fetch(`http://127.0.0.1:${pub}/v1/platform-keys`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(keys.status, 200);
    const login = await fetch(`http://127.0.0.1:${pub}/v1/instances/${m[1]}/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: m[2] }),
    });
    assert.equal(login.status, 200);
    const settings = await fetch(`http://127.0.0.1:${pub}/v1/instances/${m[1]}/security-settings`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.deepEqual((await settings.json()).approved_origins, [`http://127.0.0.1:${pub}`]);
    const metrics = await fetch(`http://127.0.0.1:${adm}/metrics`);
    assert.equal(metrics.status, 200);
    // A working contact center: the printed chat entry point takes a chat,
    // the callback one a callback, and the demo agent logs in.
    const ep = out.match(/chat entry point: (ep_[A-Za-z0-9_-]+)\s+callback entry point: (ep_[A-Za-z0-9_-]+)/);
    const agent = out.match(/demo agent: user agent, password \(shown once\): (\S+)/);
    assert.ok(ep && agent, out);
    const chat = await fetch(`http://127.0.0.1:${pub}/v1/public/instances/${m[1]}/chats`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entry_point: ep[1], display_name: 'Ada' }),
    });
    assert.equal(chat.status, 201, await chat.clone().text());
    assert.match((await chat.json()).participant_token, /^bwc_/);
    const cb = await fetch(`http://127.0.0.1:${pub}/v1/public/instances/${m[1]}/callbacks`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entry_point: ep[2], phone_number: '+33 6 12 34 56 78' }),
    });
    assert.equal(cb.status, 201, await cb.clone().text());
    const alogin = await fetch(`http://127.0.0.1:${pub}/v1/instances/${m[1]}/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'agent', password: agent[1] }),
    });
    assert.equal(alogin.status, 200);
  } finally {
    child.kill('SIGTERM');
    await exited;
    removeTempDir(dir);
  }
});
