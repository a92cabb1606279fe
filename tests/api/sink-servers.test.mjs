// The helpers the event-sink tests stand on (tests/api/lib/servers.mjs):
// the shared servers of scripts/test-servers.sh answer, and a nats-server
// of the test's own keeps its streams across kill and restart on the same
// port. No daemon here: the sinks themselves are tested through the daemon
// by the event subscription tests and in C by tests/unit/test_sink_*.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, headers } from 'nats';
import { natsUrl, pgUrl, startNats, natsFetchAll, natsStreamInfo, pgQuery } from './lib/servers.mjs';

const shared = natsUrl() && pgUrl() ? {} : { skip: 'BULWARK_TEST_* unset (run inside scripts/test-servers.sh)' };

test('the shared PostgreSQL answers in bulwark_test', shared, async () => {
  const rows = await pgQuery('SELECT current_database() AS db, $1::int + 1 AS two', [1]);
  assert.deepEqual(rows, [{ db: 'bulwark_test', two: 2 }]);
});

test('an own nats-server keeps its stream across kill and restart', shared, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bw-nats-'));
  let srv = await startNats({ dir });
  try {
    const nc = await connect({ servers: srv.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'BULWARK_in_t', subjects: ['bulwark.in_t.>'] });
    const js = nc.jetstream();
    const h = headers();
    h.set('Nats-Msg-Id', 'es_1/et_1');
    await js.publish('bulwark.in_t.contact.ended', new TextEncoder().encode('{"id":"et_1"}'), { headers: h });
    await js.publish('bulwark.in_t.audit', new TextEncoder().encode('{"id":"et_2"}'));
    await nc.close();

    await srv.kill();
    srv = await srv.restart();
    const all = await natsFetchAll(srv.url, 'BULWARK_in_t');
    assert.equal(all.length, 2);
    const ended = await natsFetchAll(srv.url, 'BULWARK_in_t', 'bulwark.in_t.contact.*');
    assert.equal(ended.length, 1);
    assert.equal(ended[0].headers['Nats-Msg-Id'], 'es_1/et_1');
    assert.deepEqual(ended[0].json, { id: 'et_1' });
    assert.equal(await natsStreamInfo(srv.url, 'BULWARK_in_none'), null);
  } finally {
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
