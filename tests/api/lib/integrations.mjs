// Helpers for the black-box tests of integrations and egress (C17,
// docs/api.md "Integrations"): HTTP servers of the test on this machine only
// (127.0.0.1 and 127.0.0.2 are both loopback), and the registry's paths.
//
// A LocalServer counts connections and requests and answers by path:
//   /ok            200 "hello" (text/plain)
//   /echo          200 with the request as JSON {method, url, headers, body}
//   /big           200, 5000 bytes with Content-Length
//   /bigchunked    200, 5000 bytes chunked (no length)
//   /redirect      302 to `redirectTo` (another server)
//   /hang          never answers (the socket stays open until close())
// Nothing here sends a packet to an address that is not on this machine.

import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { api, show } from './daemon.mjs';

export class LocalServer {
  constructor(host = '127.0.0.1', { tls } = {}) { // tls: https.createServer options
    this.host = host;
    this.connections = 0;
    this.requests = [];
    this.redirectTo = null;
    const handler = (req, res) => this.handle(req, res);
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    this.server.on('connection', () => { this.connections += 1; });
    this.server.on('secureConnection', () => { /* counted as a connection above */ });
    this.server.on('tlsClientError', () => { /* the client refused our certificate */ });
  }

  async listen() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, resolve);
    });
    this.port = this.server.address().port;
    this.url = `${this.server instanceof https.Server ? 'https' : 'http'}://${this.host}:${this.port}`;
    return this;
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const peer = req.socket.getPeerCertificate?.();
      this.requests.push({
        method: req.method, url: req.url, headers: req.headers, body,
        clientCert: peer && peer.subject ? peer.subject.CN : null,
      });
      const path = req.url.split('?')[0];
      if (path === '/hang') return; // never answers
      if (path === '/ok') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
        res.end('hello');
      } else if (path === '/echo') {
        const text = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
        res.end(text);
      } else if (path === '/big') {
        res.writeHead(200, { 'content-length': '5000' });
        res.end('x'.repeat(5000));
      } else if (path === '/bigchunked') {
        res.writeHead(200, { 'content-type': 'text/plain' }); // chunked: no length
        for (let i = 0; i < 5; i++) res.write('y'.repeat(1000));
        res.end();
      } else if (path === '/redirect') {
        res.writeHead(302, { location: `${this.redirectTo}/landed`, 'content-length': '0' });
        res.end();
      } else {
        res.writeHead(404, { 'content-length': '0' });
        res.end();
      }
    });
  }

  async close() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export const integrationsPath = (iid, rest = '') => `/v1/instances/${iid}/integrations${rest}`;

/** POST an integration; the raw response. */
export function postIntegration(d, token, iid, body) {
  return api(d.url, 'POST', integrationsPath(iid), { key: token, body });
}

/** Create an integration (asserts 201) and return it. */
export async function createIntegration(d, token, iid, body) {
  const r = await postIntegration(d, token, iid, body);
  assert.equal(r.status, 201, `create integration ${JSON.stringify(body)}: ${show(r)}`);
  return r.json;
}

/** POST .../integrations/{id}/test; the raw response. */
export function testCall(d, token, iid, id, body) {
  return api(d.url, 'POST', integrationsPath(iid, `/${id}/test`), { key: token, body });
}

/** Every integration of a list (following next_token). */
export async function listIntegrations(d, token, iid, query = '') {
  const items = [];
  let next = null;
  do {
    const q = new URLSearchParams(query);
    if (next) q.set('next_token', next);
    const qs = q.toString();
    const r = await api(d.url, 'GET', integrationsPath(iid, qs ? `?${qs}` : ''), { key: token });
    assert.equal(r.status, 200, show(r));
    items.push(...r.json.items);
    next = r.json.next_token;
  } while (next);
  return items;
}

/** Does the openssl command exist (to make test certificates)? */
export function haveOpenssl() {
  return spawnSync('openssl', ['version']).status === 0;
}

function openssl(args, cwd) {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

/**
 * A test PKI in dir (P-256 keys, one day): a CA, a server certificate for
 * 127.0.0.1 and a client certificate, all PEM text; and `selfSigned`, a
 * server certificate for 127.0.0.1 that no CA signed.
 */
export function makePki(dir) {
  const key = (name) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
  key('ca');
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Bulwark Test CA'], dir);
  const issue = (name, cn, ext) => {
    key(name);
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`], dir);
  };
  issue('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('client', 'bulwark-client', 'extendedKeyUsage=clientAuth\n');
  key('self');
  openssl(['req', '-x509', '-new', '-key', 'self.key', '-out', 'self.pem', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], dir);
  const read = (f) => fs.readFileSync(path.join(dir, f), 'utf8');
  return {
    ca: read('ca.pem'),
    server: { key: read('server.key'), cert: read('server.pem') },
    client: { key: read('client.key'), cert: read('client.pem') },
    selfSigned: { key: read('self.key'), cert: read('self.pem') },
  };
}
