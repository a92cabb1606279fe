// Request body rules: media type, JSON validity, depth, duplicates, size.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { initData, startDaemon, removeTempDir, api, show, rawExchange, parseResponses, hasResponses, assertHealthy } from './lib/daemon.mjs';

function assertError(res, status, code) {
  assert.equal(res.status, status, show(res));
  assert.match(res.headers.get('content-type') || '', /^application\/json\b/i, `content-type of ${show(res)}`);
  assert.equal(res.json?.error?.code, code, show(res));
  assert.equal(typeof res.json.error.message, 'string');
}

let init;
let d; // max_body_bytes 1024

before(async () => {
  init = await initData();
  d = await startDaemon({ data: init.data, args: ['--max-body-bytes', '1024'] });
});

after(async () => {
  const code = await d?.stop();
  removeTempDir(init.dir);
  assert.equal(code, 0, `daemon exit code ${code}\nstderr:\n${d?.stderr.slice(-4000)}`);
});

// A JSON object of exactly n bytes.
const sized = (n) => JSON.stringify({ name: 'ci', pad: 'x'.repeat(n - JSON.stringify({ name: 'ci', pad: '' }).length) });

const post = (body, opts = {}) => api(d.url, 'POST', '/v1/platform-keys', { key: init.key, body, ...opts });

describe('media type', () => {
  test('text/plain → 415 UnsupportedMediaType', async () => {
    const r = await post('{"name":"ci"}', { contentType: 'text/plain' });
    assertError(r, 415, 'UnsupportedMediaType');
  });

  test('application/x-www-form-urlencoded → 415', async () => {
    const r = await post('name=ci', { contentType: 'application/x-www-form-urlencoded' });
    assertError(r, 415, 'UnsupportedMediaType');
  });

  test('application/jsonx (prefix look-alike) → 415', async () => {
    const r = await post('{"name":"ci"}', { contentType: 'application/jsonx' });
    assertError(r, 415, 'UnsupportedMediaType');
  });

  test('a body without Content-Type → 415', async () => {
    const r = await rawExchange(d.port,
      `POST /v1/platform-keys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${init.key}\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{"name":"ci"}`,
      { until: hasResponses(1) });
    const [res] = parseResponses(r.text);
    assert.equal(res?.status, 415, r.text.slice(0, 300));
  });

  test('application/json; charset=utf-8 is fine', async () => {
    const r = await post('{"name":"charset"}', { contentType: 'application/json; charset=utf-8' });
    assert.equal(r.status, 201, show(r));
  });

  test('APPLICATION/JSON (case-insensitive media type) is fine', async () => {
    const r = await post('{"name":"upper"}', { contentType: 'Application/JSON' });
    assert.equal(r.status, 201, show(r));
  });
});

describe('JSON validity', () => {
  const invalid = [
    ['truncated object', '{"name":'],
    ['trailing garbage', '{"name":"ci"} x'],
    ['single quotes', "{'name':'ci'}"],
    ['trailing comma', '{"name":"ci",}'],
    ['empty body', ''],
    ['two documents', '{"name":"a"}{"name":"b"}'],
    ['unescaped control character', '{"name":"a\u0001b"}'],
    ['lone surrogate escape', '{"name":"\\ud800"}'],
  ];
  for (const [label, body] of invalid) {
    test(`${label} → 400 InvalidJson`, async () => {
      const r = await post(body);
      assertError(r, 400, 'InvalidJson');
    });
  }

  test('\\u0000 in a string → 400 (InvalidJson or InvalidParameter), never stored truncated', async () => {
    const r = await post('{"name":"a\\u0000b"}');
    assert.equal(r.status, 400, show(r));
    assert.ok(['InvalidJson', 'InvalidParameter'].includes(r.json?.error?.code), show(r));
  });

  const badUtf8 = [
    ['0xff byte', [0xff]],
    ['overlong encoding of "/"', [0xc0, 0xaf]],
    ['truncated 3-byte sequence', [0xe2, 0x82]],
    ['UTF-16 surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
  ];
  for (const [label, bytes] of badUtf8) {
    test(`invalid UTF-8 in a string (${label}) → 400 InvalidJson`, async () => {
      const body = Buffer.concat([Buffer.from('{"name":"a'), Buffer.from(bytes), Buffer.from('b"}')]);
      const r = await post(body);
      assertError(r, 400, 'InvalidJson');
    });
  }

  test('duplicate keys → 400 InvalidJson', async () => {
    const r = await post('{"name":"a","name":"b"}');
    assertError(r, 400, 'InvalidJson');
  });

  test('33 nested arrays → 400 InvalidJson', async () => {
    const r = await post('['.repeat(33) + ']'.repeat(33));
    assertError(r, 400, 'InvalidJson');
  });

  test('depth 33 inside an object → 400 InvalidJson', async () => {
    // the object is level 1, then 32 arrays: depth 33
    const r = await post(`{"name":${'['.repeat(32)}${']'.repeat(32)}}`);
    assertError(r, 400, 'InvalidJson');
  });

  test('depth 32 inside an object passes the parser (the handler may refuse the shape)', async () => {
    // the object is level 1, then 31 arrays: depth 32
    const r = await post(`{"name":${'['.repeat(31)}${']'.repeat(31)}}`);
    assert.equal(r.status, 400, show(r));
    assert.equal(r.json?.error?.code, 'InvalidParameter', `depth 32 was refused by the parser: ${show(r)}`);
  });

  test('brackets inside strings do not count toward depth', async () => {
    const r = await post(JSON.stringify({ name: '['.repeat(100) + '{'.repeat(60) }));
    assert.equal(r.status, 201, show(r));
  });

  test('escaped quotes do not confuse the depth scan', async () => {
    // a string holding \" followed by many brackets, then a real value
    const r = await post(`{"name":"q\\"${'['.repeat(40)}"}`);
    assert.equal(r.status, 201, show(r));
    assert.equal(r.json.name, `q"${'['.repeat(40)}`);
  });

  for (const [label, body] of [['an array', '[]'], ['a string', '"ci"'], ['a number', '5'], ['null', 'null']]) {
    test(`a JSON body that is ${label} → 400 InvalidParameter or InvalidJson`, async () => {
      const r = await post(body);
      assert.equal(r.status, 400, show(r));
      assert.ok(['InvalidParameter', 'InvalidJson'].includes(r.json?.error?.code), show(r));
    });
  }
});

describe('size', () => {
  test('a 2000-byte body with max_body_bytes 1024 → 413 PayloadTooLarge', async () => {
    const body = sized(2000);
    assert.equal(body.length, 2000);
    const r = await post(body);
    assertError(r, 413, 'PayloadTooLarge');
    await assertHealthy(assert, d, 'a 413');
  });

  test('a body of exactly 1024 bytes is not refused as too large', async () => {
    const body = sized(1024);
    assert.equal(body.length, 1024);
    const r = await post(body);
    assert.notEqual(r.status, 413, show(r));
  });

  test('a chunked body that grows past max_body_bytes → 413', async () => {
    const chunk = 'x'.repeat(500);
    const chunks = [`{"name":"ci","pad":"`, chunk, chunk, chunk, chunk, `"}`];
    let body = '';
    for (const c of chunks) body += `${c.length.toString(16)}\r\n${c}\r\n`;
    body += '0\r\n\r\n';
    const r = await rawExchange(d.port,
      `POST /v1/platform-keys HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${init.key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
      { timeoutMs: 5000 });
    const res = parseResponses(r.text);
    assert.equal(res[0]?.status, 413, r.text.slice(0, 300));
    assert.equal(res.length, 1, `more than one response: ${r.text.slice(0, 600)}`);
    assert.ok(r.closed, 'connection left open after 413');
    await assertHealthy(assert, d, 'a chunked 413');
  });
});

describe('body checks come before authentication', () => {
  test('415 without credentials', async () => {
    const r = await api(d.url, 'POST', '/v1/platform-keys', { body: 'name=ci', contentType: 'text/plain' });
    assertError(r, 415, 'UnsupportedMediaType');
  });

  test('InvalidJson without credentials', async () => {
    const r = await api(d.url, 'POST', '/v1/platform-keys', { body: '{"name":' });
    assertError(r, 400, 'InvalidJson');
  });

  test('413 without credentials', async () => {
    const r = await api(d.url, 'POST', '/v1/platform-keys', { body: JSON.stringify({ pad: 'x'.repeat(3000) }) });
    assertError(r, 413, 'PayloadTooLarge');
  });
});
