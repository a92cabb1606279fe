// TLS in transit (C6, C13/C14 issue 5): the HTTPS listener, scanned from
// outside by Debian's sslscan (scripts/deps.sh installs it), refuses SSLv2,
// SSLv3, TLS 1.0 and 1.1, speaks TLS 1.2 and 1.3, and accepts only
// forward-secret AEAD suites (ECDHE/DHE with GCM or ChaCha20-Poly1305 in
// TLS 1.2; every TLS 1.3 suite is ephemeral), with an EC and with an RSA
// certificate. A control server (openssl s_server allowing everything) must
// be reported with TLS 1.0 and non-forward-secret suites, so a scanner that
// cannot see them fails the test instead of passing it. A missing sslscan
// fails the test; nothing is skipped.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { initData, startDaemon, makeTempDir } from './lib/daemon.mjs';

/** Runs sslscan without blocking the event loop: the daemon's standard
 * error (which a refused handshake writes to) must keep draining. */
function run(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.setEncoding('utf8').on('data', (b) => { stdout += b; });
    p.stderr.setEncoding('utf8').on('data', (b) => { stderr += b; });
    p.on('error', (error) => { clearTimeout(t); resolve({ error, stdout, stderr }); });
    p.on('close', (status, signal) => { clearTimeout(t); resolve({ status, signal, stdout, stderr }); });
  });
}

async function sslscan(port) {
  const r = await run('sslscan', ['--no-colour', '--xml=-', `127.0.0.1:${port}`], 120000);
  assert.ok(!r.error, `sslscan did not run (${r.error?.code}): install it (bash scripts/deps.sh)`);
  assert.equal(r.status, 0, `sslscan failed (${r.signal ?? r.status}): ${r.stderr}`);
  const protocols = {};
  for (const m of r.stdout.matchAll(/<protocol type="(ssl|tls)" version="([\d.]+)" enabled="([01])"/g)) {
    protocols[`${m[1]}${m[2]}`] = m[3] === '1';
  }
  const ciphers = [...r.stdout.matchAll(/<cipher status="(accepted|preferred)" sslversion="([^"]+)"[^>]* cipher="([^"]+)"/g)]
    .map((m) => ({ version: m[2], name: m[3] }));
  return { protocols, ciphers, xml: r.stdout };
}

/** What a scan shows that the listener must not offer. */
function problems(scan) {
  const out = [];
  for (const p of ['ssl2', 'ssl3', 'tls1.0', 'tls1.1']) {
    if (scan.protocols[p] !== false) out.push(`${p} ${scan.protocols[p] ? 'enabled' : 'not reported'}`);
  }
  for (const c of scan.ciphers) {
    if (c.version === 'TLSv1.3') continue; // TLS 1.3 key exchange is always ephemeral, its suites AEAD
    const fs = /^(ECDHE|DHE)-/.test(c.name);
    const aead = /GCM|CHACHA20-POLY1305/.test(c.name);
    if (c.version !== 'TLSv1.2' || !fs || !aead) out.push(`${c.version} ${c.name}`);
  }
  return out;
}

function makeCert(dir, kind) {
  const cert = path.join(dir, `${kind}-cert.pem`);
  const key = path.join(dir, `${kind}-key.pem`);
  const alg = kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...alg, '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  return { cert, key };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** openssl s_server that accepts every protocol and suite it can; resolves once it listens. */
async function permissiveServer(cert, key) {
  const port = await freePort();
  const proc = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', cert, '-key', key,
    '-min_protocol', 'TLSv1', '-cipher', 'ALL:@SECLEVEL=0', '-www'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`s_server did not start: ${out}`)), 15000);
    proc.stdout.on('data', (b) => { out += b; if (out.includes('ACCEPT')) { clearTimeout(t); resolve(); } });
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error(`s_server exited (${code}): ${out}`)); });
  });
  return { port, stop: () => proc.kill('SIGKILL') };
}

describe('HTTPS listener scanned with sslscan', () => {
  let dir;
  const certs = {};
  const daemons = [];
  before(async () => {
    dir = makeTempDir('bulwark-tlsscan-');
    for (const kind of ['ec', 'rsa']) certs[kind] = makeCert(dir, kind);
  });
  after(async () => { for (const d of daemons) await d.stop(); });

  test('the scanner sees old protocols and weak suites where they are offered (control)', async () => {
    const srv = await permissiveServer(certs.rsa.cert, certs.rsa.key);
    try {
      const scan = await sslscan(srv.port);
      assert.equal(scan.protocols['tls1.0'], true, `the control's TLS 1.0 was not seen:\n${scan.xml}`);
      const found = problems(scan);
      assert.ok(found.some((p) => p.startsWith('tls1.0')), found.join('; '));
      assert.ok(found.some((p) => /^TLSv1\.2 (?!ECDHE-|DHE-)/.test(p)), `no non-forward-secret suite seen: ${found.join('; ')}`);
    } finally {
      srv.stop();
    }
  });

  for (const kind of ['ec', 'rsa']) {
    test(`bulwark with an ${kind.toUpperCase()} certificate: TLS 1.2 and 1.3 only, forward-secret AEAD suites only`, async () => {
      const init = await initData();
      const d = await startDaemon({ data: init.data, args: ['--tls-cert', certs[kind].cert, '--tls-key', certs[kind].key] });
      daemons.push(d);
      const scan = await sslscan(d.port);
      assert.deepEqual(problems(scan), [], scan.xml);
      assert.equal(scan.protocols['tls1.2'], true, scan.xml);
      assert.equal(scan.protocols['tls1.3'], true, scan.xml);
      assert.ok(scan.ciphers.some((c) => c.version === 'TLSv1.2'), scan.xml);
      assert.ok(scan.ciphers.some((c) => c.version === 'TLSv1.3'), scan.xml);
      assert.ok(d.alive(), 'the daemon survived the scan');
    });
  }
});
