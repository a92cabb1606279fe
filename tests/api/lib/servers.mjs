// The servers the event sinks deliver to (C19), for the black-box tests.
//
// `make test` runs the tests inside scripts/test-servers.sh, which starts a
// nats-server (JetStream) and a PostgreSQL cluster on 127.0.0.1 and exports
// BULWARK_TEST_NATS_URL, BULWARK_TEST_PG_URL (database bulwark_test, made by
// the script) and BULWARK_TEST_NATS_SERVER. A test that must kill and start
// a server again starts its own with startNats(). Nothing here sleeps to
// synchronize: every wait polls with a deadline.
//
//   natsUrl(), pgUrl()            the shared servers (undefined outside make test)
//   startNats({dir, port?})       → {url, port, dir, stop(), kill(), restart()}
//   natsFetchAll(url, stream, subject?)
//                                 → [{seq, subject, headers, data, json}]
//   natsStreamInfo(url, stream)   → the stream's info, or null when missing
//   pgQuery(sql, params?, url?)   → rows

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { connect } from 'nats';
import pg from 'pg';

export const natsUrl = () => process.env.BULWARK_TEST_NATS_URL || undefined;
export const pgUrl = () => process.env.BULWARK_TEST_PG_URL || undefined;

function natsServerBin() {
  if (process.env.BULWARK_TEST_NATS_SERVER) return process.env.BULWARK_TEST_NATS_SERVER;
  for (const p of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    if (fs.existsSync(p)) return p;
  }
  return 'nats-server';
}

const children = new Set();
process.on('exit', () => {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
});

// Polls fn every 20 ms until it returns a truthy value or ms pass.
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/**
 * Starts a nats-server with JetStream on 127.0.0.1, its store and log in
 * dir. Without port it takes a free one (-p -1); restart() starts it again
 * on the same port and store, so a client's reconnection finds the streams
 * it had. stop() ends it with SIGTERM, kill() with SIGKILL; both resolve
 * once it has exited.
 */
export async function startNats({ dir, port } = {}) {
  if (!dir) throw new Error('startNats: dir is required');
  fs.mkdirSync(path.join(dir, 'store'), { recursive: true });
  const log = path.join(dir, 'nats.log');
  const from = fs.existsSync(log) ? fs.statSync(log).size : 0; // the log is appended to
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port ?? -1),
    '-sd', path.join(dir, 'store'), '-l', log];
  const child = spawn(natsServerBin(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let gone = false;
  exited.then(() => { gone = true; children.delete(child); });
  children.add(child);

  const readLog = () => {
    if (!fs.existsSync(log)) return '';
    const buf = fs.readFileSync(log);
    return buf.subarray(Math.min(from, buf.length)).toString('utf8');
  };
  let got;
  try {
    got = await until(() => {
      if (gone) throw new Error(`nats-server exited: ${stderr}${readLog()}`);
      const text = readLog();
      const m = text.match(/Listening for client connections on [0-9.]+:(\d+)/);
      return m && /Server is ready/.test(text) ? Number(m[1]) : 0;
    }, 10_000, 'nats-server to be ready');
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const end = async (sig) => {
    if (!gone) child.kill(sig);
    await exited;
  };
  return {
    url: `nats://127.0.0.1:${got}`,
    port: got,
    dir,
    pid: child.pid,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: () => startNats({ dir, port: got }),
  };
}

async function withNats(url, fn) {
  const nc = await connect({ servers: url, reconnect: false, timeout: 5000 });
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/** The stream's info (config, state), or null when it does not exist. */
export async function natsStreamInfo(url, stream) {
  return withNats(url, async (nc) => {
    const jsm = await nc.jetstreamManager();
    try {
      return await jsm.streams.info(stream);
    } catch (e) {
      if (/stream not found/i.test(String(e?.message))) return null;
      throw e;
    }
  });
}

/**
 * Every message the stream holds (on subject, when given; wildcards as NATS
 * has them), oldest first: {seq, subject, headers: {name: value}, data
 * (string), json (parsed, or undefined)}. [] when the stream is missing.
 */
export async function natsFetchAll(url, stream, subject) {
  return withNats(url, async (nc) => {
    const jsm = await nc.jetstreamManager();
    let info;
    try {
      info = await jsm.streams.info(stream);
    } catch (e) {
      if (/stream not found/i.test(String(e?.message))) return [];
      throw e;
    }
    const out = [];
    const re = subject ? subjectRe(subject) : null;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      let sm;
      try {
        sm = await jsm.streams.getMessage(stream, { seq });
      } catch (e) {
        if (/no message found|not found/i.test(String(e?.message))) continue; // deleted
        throw e;
      }
      if (re && !re.test(sm.subject)) continue;
      const headers = {};
      if (sm.header) for (const k of sm.header.keys()) headers[k] = sm.header.get(k);
      const data = Buffer.from(sm.data).toString('utf8');
      let json;
      try { json = JSON.parse(data); } catch { json = undefined; }
      out.push({ seq: sm.seq, subject: sm.subject, headers, data, json });
    }
    return out;
  });
}

// A NATS subject filter as a regular expression ('*' one token, '>' the rest).
function subjectRe(filter) {
  const parts = filter.split('.').map((t) => {
    if (t === '*') return '[^.]+';
    if (t === '>') return '.+';
    return t.replace(/[\\^$+?()[\]{}|-]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('\\.')}$`);
}

/** Runs one statement on the shared PostgreSQL (or url) and returns its rows. */
export async function pgQuery(sql, params = [], url = pgUrl()) {
  if (!url) throw new Error('pgQuery: BULWARK_TEST_PG_URL is unset (run inside scripts/test-servers.sh)');
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}
