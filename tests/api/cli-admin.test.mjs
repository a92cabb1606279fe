// The admin command line (K9): the real binary against a real daemon, and
// against small fake servers for the failure paths (5xx, timeout, size cap,
// redirect). Exit codes: 0 done, 1 refused (4xx), 2 usage, 3 unreachable/5xx.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { initData, startDaemon, removeTempDir, runBulwark, api, show, PLATFORM_KEY_RE } from './lib/daemon.mjs';

const ADMIN_PASSWORD = 'Correct-Horse-Battery-42!';
const BOB_PASSWORD = 'Another-Long-Passw0rd-7';
const SESSION_RE = /^bws_[A-Za-z0-9_-]{43}$/;

let init;
let d;
let key; // a platform key made through the CLI
let iid;
let adminToken;

function ran(r) {
  return `exit ${r.code} signal ${r.signal}\nstdout: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}`;
}

/** Runs the CLI with the daemon's URL and a credential in the environment. */
function cli(args, { token, instance, input, env = {} } = {}) {
  const e = { BULWARK_URL: d.url, ...env };
  if (token !== undefined) e.BULWARK_TOKEN = token;
  if (instance !== undefined) e.BULWARK_INSTANCE = instance;
  return runBulwark(args, { env: e, input });
}

/** The single line printed with --json, parsed. */
function oneJsonLine(r) {
  assert.equal(r.code, 0, ran(r));
  assert.match(r.stdout, /^[^\n]+\n$/, `not exactly one line: ${JSON.stringify(r.stdout)}`);
  return JSON.parse(r.stdout);
}

function assertNoSecret(r, ...secrets) {
  for (const s of secrets) {
    assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `a secret was printed: ${ran(r)}`);
  }
}

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data });
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

describe('the admin flow through the CLI', () => {
  test('platform-key create prints the new key once; it works', async () => {
    const r = await cli(['platform-key', 'create', '--name', 'cli', '--json'], { token: init.key });
    const k = oneJsonLine(r);
    assert.match(k.key, PLATFORM_KEY_RE);
    assert.equal(k.name, 'cli');
    key = k.key;
    assertNoSecret(r, init.key);
    const human = await cli(['platform-key', 'create', '--name', 'human'], { token: key });
    assert.equal(human.code, 0, ran(human));
    assert.match(human.stdout, /bwp_[A-Za-z0-9_-]{43}/);
    assertNoSecret(human, key);
    const list = oneJsonLine(await cli(['platform-key', 'list', '--json'], { token: key }));
    assert.deepEqual(list.items.map((x) => x.name).sort(), ['cli', 'human', 'initial']);
    assert.ok(list.items.every((x) => !('key' in x)), 'list shows a key');
  });

  test('platform-key revoke: the revoked key is refused afterwards', async () => {
    const mk = oneJsonLine(await cli(['platform-key', 'create', '--name', 'doomed', '--json'], { token: key }));
    const r = await cli(['platform-key', 'revoke', mk.id], { token: key });
    assert.equal(r.code, 0, ran(r));
    assert.match(r.stdout, new RegExp(mk.id));
    const after = await cli(['instance', 'list'], { token: mk.key });
    assert.equal(after.code, 1, ran(after));
    assert.match(after.stderr, /^bulwark: Unauthenticated: /m);
  });

  test('instance create reads the admin password from stdin, never argv', async () => {
    const r = await cli(['instance', 'create', '--alias', 'acme', '--admin-username', 'admin',
      '--admin-password-stdin', '--default-region', 'FR', '--json'], { token: key, input: `${ADMIN_PASSWORD}\n` });
    const inst = oneJsonLine(r);
    assert.equal(inst.alias, 'acme');
    assert.equal(inst.default_region, 'FR');
    iid = inst.id;
    assertNoSecret(r, ADMIN_PASSWORD, key);
    // The same answer as the API gives, byte for byte.
    const viaCli = await cli(['instance', 'get', iid, '--json'], { token: key });
    const viaApi = await api(d.url, 'GET', `/v1/instances/${iid}`, { key });
    assert.equal(viaCli.stdout, `${viaApi.text}\n`);
  });

  test('instance create without a password source is a usage error', async () => {
    const r = await cli(['instance', 'create', '--alias', 'nopw', '--admin-username', 'admin'], { token: key });
    assert.equal(r.code, 2, ran(r));
    assert.match(r.stderr, /password/);
    const list = oneJsonLine(await cli(['instance', 'list', '--json'], { token: key }));
    assert.ok(!list.items.some((x) => x.alias === 'nopw'), 'an instance was created anyway');
  });

  test('instance create takes BULWARK_ADMIN_PASSWORD; update and delete', async () => {
    const r = await cli(['instance', 'create', '--alias', 'temp', '--admin-username', 'root', '--json'],
      { token: key, env: { BULWARK_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    const inst = oneJsonLine(r);
    const up = await cli(['instance', 'update', inst.id, '--alias', 'temp2', '--json'], { token: key });
    assert.equal(oneJsonLine(up).alias, 'temp2');
    const del = await cli(['instance', 'delete', inst.id], { token: key });
    assert.equal(del.code, 0, ran(del));
    const gone = await cli(['instance', 'get', inst.id], { token: key });
    assert.equal(gone.code, 1, ran(gone));
    assert.match(gone.stderr, /^bulwark: NotFound: /m);
  });

  test('instance settings get and set (PATCH security-settings)', async () => {
    const set = await cli(['instance', 'settings', 'set', iid, '--json-body', '{"session_idle_timeout_s": 1200}', '--json'], { token: key });
    assert.equal(oneJsonLine(set).session_idle_timeout_s, 1200);
    const get = oneJsonLine(await cli(['instance', 'settings', 'get', iid, '--json'], { token: key }));
    assert.equal(get.session_idle_timeout_s, 1200);
    const bad = await cli(['instance', 'settings', 'set', iid, '--json-body', '[1,2'], { token: key });
    assert.equal(bad.code, 2, ran(bad));
    const refused = await cli(['instance', 'settings', 'set', iid, '--json-body', '{"session_idle_timeout_s": "x"}'], { token: key });
    assert.equal(refused.code, 1, ran(refused));
    assert.match(refused.stderr, /^bulwark: InvalidParameter: /m);
  });

  test('login prints the session token alone on a line', async () => {
    const r = await cli(['login', '--instance', iid, '--username', 'admin', '--password-stdin'], { input: `${ADMIN_PASSWORD}\n` });
    assert.equal(r.code, 0, ran(r));
    assert.match(r.stdout, /^bws_[A-Za-z0-9_-]{43}\n$/);
    adminToken = r.stdout.trim();
    assert.match(adminToken, SESSION_RE);
    assertNoSecret(r, ADMIN_PASSWORD);
    const wrong = await cli(['login', '--instance', iid, '--username', 'admin', '--password-stdin'], { input: 'nope-nope-nope\n' });
    assert.equal(wrong.code, 1, ran(wrong));
    assert.match(wrong.stderr, /^bulwark: Unauthenticated: /m);
    assert.equal(wrong.stdout, '');
  });

  let helpdesk;
  let bob;

  test('profile create and list --json', async () => {
    const r = await cli(['profile', 'create', '--name', 'Helpdesk', '--permission', 'Users.View',
      '--permission', 'Users.Edit', '--permission', 'SecurityProfiles.Edit', '--description', 'front line', '--json'],
    { token: adminToken, instance: iid });
    helpdesk = oneJsonLine(r);
    assert.ok(['Users.Edit', 'Users.View', 'SecurityProfiles.Edit'].every((p) => helpdesk.permissions.includes(p)), JSON.stringify(helpdesk));
    assert.ok(!helpdesk.permissions.includes('Audit.View'));
    const list = oneJsonLine(await cli(['profile', 'list', '--json'], { token: adminToken, instance: iid }));
    const names = list.items.map((x) => x.name);
    for (const n of ['Admin', 'Agent', 'CallCenterManager', 'QualityAnalyst', 'Helpdesk']) assert.ok(names.includes(n), `${n} missing from ${names}`);
    assert.equal(list.next_token, null);
    const human = await cli(['profile', 'list'], { token: adminToken, instance: iid });
    assert.equal(human.code, 0, ran(human));
    assert.match(human.stdout, /Helpdesk/);
  });

  test('user create (password through stdin), list --json, get, update', async () => {
    const r = await cli(['user', 'create', '--username', 'bob', '--first-name', 'Bob', '--last-name', 'Builder',
      '--email', 'bob@example.com', '--profile', helpdesk.id, '--password-stdin', '--json'],
    { token: adminToken, instance: iid, input: `${BOB_PASSWORD}\n` });
    bob = oneJsonLine(r);
    assert.equal(bob.username, 'bob');
    assert.deepEqual(bob.security_profile_ids, [helpdesk.id]);
    assertNoSecret(r, BOB_PASSWORD, adminToken);
    const list = oneJsonLine(await cli(['user', 'list', '--json', '--limit', '10'], { token: adminToken, instance: iid }));
    assert.deepEqual(list.items.map((u) => u.username).sort(), ['admin', 'bob']);
    const got = oneJsonLine(await cli(['user', 'get', bob.id, '--json'], { token: adminToken, instance: iid }));
    assert.equal(got.email, 'bob@example.com');
    const off = oneJsonLine(await cli(['user', 'update', bob.id, '--disable', '--json'], { token: adminToken, instance: iid }));
    assert.equal(off.disabled, true);
    const on = oneJsonLine(await cli(['user', 'update', bob.id, '--enable', '--json'], { token: adminToken, instance: iid }));
    assert.equal(on.disabled, false);
    const reset = await cli(['user', 'mfa-reset', bob.id], { token: adminToken, instance: iid });
    assert.equal(reset.code, 0, ran(reset));
  });

  test('a refused call exits 1 with the API error code and message on stderr', async () => {
    const login = await cli(['login', '--username', 'bob', '--password-stdin'], { instance: iid, input: `${BOB_PASSWORD}\n` });
    assert.equal(login.code, 0, ran(login));
    const bobToken = login.stdout.trim();
    // Bob may edit profiles but does not hold Audit.View: granting it is an escalation.
    const r = await cli(['profile', 'create', '--name', 'Sneaky', '--permission', 'Audit.View'], { token: bobToken, instance: iid });
    assert.equal(r.code, 1, ran(r));
    assert.match(r.stderr, /^bulwark: AccessDenied: you cannot grant a permission you do not hold$/m);
    assert.equal(r.stdout, '');
    assertNoSecret(r, bobToken);
    // A session token where a platform key is required.
    const plat = await cli(['instance', 'list'], { token: bobToken });
    assert.equal(plat.code, 1, ran(plat));
    assert.match(plat.stderr, /^bulwark: Unauthenticated: /m);
  });

  test('audit list and verify-api, on both trails; the offline verify still works', async () => {
    const inst = oneJsonLine(await cli(['audit', 'list', '--action', 'users.create', '--json'], { token: adminToken, instance: iid }));
    assert.ok(inst.items.length >= 1, JSON.stringify(inst));
    assert.ok(inst.items.every((e) => e.action === 'users.create'));
    const plat = oneJsonLine(await cli(['audit', 'list', '--limit', '5', '--json'], { token: key }));
    assert.ok(plat.items.length >= 1 && plat.items.length <= 5);
    assert.ok(plat.items.some((e) => e.action.startsWith('instances.') || e.action.startsWith('platform_keys.')));
    const v = await cli(['audit', 'verify-api'], { token: adminToken, instance: iid });
    assert.equal(v.code, 0, ran(v));
    assert.match(v.stdout, /intact/);
    assert.equal(oneJsonLine(await cli(['audit', 'verify-api', '--json'], { token: key })).ok, true);
    const noInstance = await cli(['audit', 'list'], { token: adminToken });
    assert.equal(noInstance.code, 2, ran(noInstance));
    const offline = await runBulwark(['audit', 'verify', '--data', init.data]);
    assert.equal(offline.code, 0, ran(offline));
    assert.match(offline.stdout, /intact/);
  });

  test('user and profile delete', async () => {
    const inUse = await cli(['profile', 'delete', helpdesk.id], { token: adminToken, instance: iid });
    assert.equal(inUse.code, 1, ran(inUse));
    assert.match(inUse.stderr, /^bulwark: Conflict: /m);
    const du = await cli(['user', 'delete', bob.id], { token: adminToken, instance: iid });
    assert.equal(du.code, 0, ran(du));
    const dp = await cli(['profile', 'delete', helpdesk.id], { token: adminToken, instance: iid });
    assert.equal(dp.code, 0, ran(dp));
  });
});

describe('usage errors exit 2 and send nothing', () => {
  const cases = [
    ['no verb', ['instance']],
    ['unknown verb', ['instance', 'frobnicate']],
    ['unknown option', ['instance', 'list', '--bogus']],
    ['missing positional', ['instance', 'get']],
    ['extra positional', ['instance', 'get', 'a', 'b']],
    ['missing required option', ['profile', 'create', '--permission', 'Users.View']],
    ['id with a slash', ['user', 'get', '../../v1/platform-keys']],
    ['limit out of range', ['platform-key', 'list', '--limit', '5000']],
    ['option without value', ['platform-key', 'create', '--name']],
    ['both --enable and --disable', ['user', 'update', 'us_x', '--enable', '--disable']],
    ['nothing to update', ['instance', 'update', 'in_x']],
    ['malformed token', ['instance', 'list', '--token', 'Bearer x\r\nX-Evil: 1']],
    ['not an http URL', ['instance', 'list', '--url', 'file:///etc/passwd']],
  ];
  for (const [what, args] of cases) {
    test(what, async () => {
      const r = await cli(args, { token: key ?? 'bwp_x', instance: iid ?? 'in_x' });
      assert.equal(r.code, 2, ran(r));
      assert.ok(r.stderr.trim().length > 0, 'nothing on stderr');
      assert.equal(r.stdout, '');
    });
  }

  test('no URL, no token', async () => {
    const noUrl = await runBulwark(['instance', 'list'], { env: { BULWARK_TOKEN: key } });
    assert.equal(noUrl.code, 2, ran(noUrl));
    assert.match(noUrl.stderr, /BULWARK_URL/);
    const noToken = await runBulwark(['instance', 'list'], { env: { BULWARK_URL: d.url } });
    assert.equal(noToken.code, 2, ran(noToken));
    assert.match(noToken.stderr, /BULWARK_TOKEN/);
  });

  test('--url and --token override the environment', async () => {
    const r = await runBulwark(['instance', 'list', '--json', '--url', d.url, '--token', key],
      { env: { BULWARK_URL: 'http://127.0.0.1:1', BULWARK_TOKEN: 'bwp_wrong' } });
    assert.equal(oneJsonLine(r).items.length >= 1, true);
  });
});

/** A throwaway HTTP server; handler(req, res). Resolves {url, close, seen}. */
function fakeServer(handler) {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    handler(req, res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        seen,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
      });
    });
  });
}

describe('exit 3: unreachable, failing or misbehaving servers', () => {
  test('an unreachable URL exits 3 without printing the token', async () => {
    const s = await fakeServer((req, res) => res.end());
    await s.close(); // the port is now closed
    const r = await runBulwark(['instance', 'list'], { env: { BULWARK_URL: s.url, BULWARK_TOKEN: key } });
    assert.equal(r.code, 3, ran(r));
    assert.match(r.stderr, /cannot reach/);
    assertNoSecret(r, key);
  });

  test('a 5xx exits 3; the request carried the bearer token', async () => {
    const s = await fakeServer((req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"Internal","message":"internal error"}}');
    });
    try {
      const r = await runBulwark(['user', 'list'], { env: { BULWARK_URL: s.url, BULWARK_TOKEN: key, BULWARK_INSTANCE: 'in_abc' } });
      assert.equal(r.code, 3, ran(r));
      assert.match(r.stderr, /^bulwark: Internal: internal error$/m);
      assert.equal(s.seen[0].url, '/v1/instances/in_abc/users');
      assert.equal(s.seen[0].headers.authorization, `Bearer ${key}`);
    } finally {
      await s.close();
    }
  });

  test('a redirect is not followed (the token stays home)', async () => {
    const s = await fakeServer((req, res) => {
      res.writeHead(302, { location: 'http://127.0.0.1:1/steal' });
      res.end();
    });
    try {
      const r = await runBulwark(['instance', 'list'], { env: { BULWARK_URL: s.url, BULWARK_TOKEN: key } });
      assert.equal(r.code, 3, ran(r));
      assert.equal(s.seen.length, 1);
    } finally {
      await s.close();
    }
  });

  test('a response over the size cap exits 3', async () => {
    const s = await fakeServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1 << 20, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 12) {
          sent++;
          if (!res.write(chunk)) { res.once('drain', pump); return; }
        }
        res.end();
      };
      res.on('error', () => {});
      pump();
    });
    try {
      const r = await runBulwark(['instance', 'list'], { env: { BULWARK_URL: s.url, BULWARK_TOKEN: key } });
      assert.equal(r.code, 3, ran(r));
      assert.match(r.stderr, /larger than/);
    } finally {
      await s.close();
    }
  });

  test('a server that never answers exits 3 after --timeout', async () => {
    const s = await fakeServer(() => { /* never answers */ });
    try {
      const started = Date.now();
      const r = await runBulwark(['instance', 'list', '--timeout', '1'], { env: { BULWARK_URL: s.url, BULWARK_TOKEN: key } });
      assert.equal(r.code, 3, ran(r));
      assert.ok(Date.now() - started < 10000, 'the timeout was not applied');
    } finally {
      await s.close();
    }
  });
});

describe('--help', () => {
  const commands = [
    ['platform-key'], ['platform-key', 'create'], ['platform-key', 'list'], ['platform-key', 'revoke'],
    ['instance'], ['instance', 'create'], ['instance', 'list'], ['instance', 'get'], ['instance', 'update'],
    ['instance', 'delete'], ['instance', 'settings'], ['instance', 'settings', 'get'], ['instance', 'settings', 'set'],
    ['login'],
    ['user'], ['user', 'create'], ['user', 'list'], ['user', 'get'], ['user', 'update'], ['user', 'delete'], ['user', 'mfa-reset'],
    ['profile'], ['profile', 'create'], ['profile', 'list'], ['profile', 'get'], ['profile', 'update'], ['profile', 'delete'],
    ['audit'], ['audit', 'list'], ['audit', 'verify-api'], ['audit', 'verify'],
  ];
  for (const c of commands) {
    test(`bulwark ${c.join(' ')} --help exits 0`, async () => {
      const r = await runBulwark([...c, '--help']);
      assert.equal(r.code, 0, ran(r));
      assert.match(r.stdout, /^usage: bulwark /);
      assert.ok(r.stdout.includes(c[c.length - 1]), r.stdout);
    });
  }

  test('bulwark --help lists the admin commands', async () => {
    const r = await runBulwark(['--help']);
    assert.equal(r.code, 0, ran(r));
    for (const c of ['platform-key', 'instance', 'login', 'user', 'profile', 'audit']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  });
});
