// Setup and measurement for bench/events/webhook.sh: an instance, an
// integration toward the nginx receiver (plain http to 127.0.0.1, which it
// lists), an `audit` subscription whose webhook path answers 503, and N
// audit events (deny-list writes) that die at once (event_max_attempts=1).
// Then the path is switched to one answering 200 and the dead letters are
// queued again in one call: the time until every one is delivered is the
// dispatcher's webhook throughput (signing, opening, egress, round trip),
// one call at a time as it sends them.
//
// usage: node webhook_setup.mjs --url http://127.0.0.1:PORT --key KEY
//        --receiver http://127.0.0.1:NGINX_PORT --events N
// Prints one JSON line {"events","seconds","per_s","body_bytes"}.
function parseArgs(argv) {
	const o = {};
	for (let i = 2; i < argv.length; i += 2) o[argv[i].replace(/^--/, '')] = argv[i + 1];
	if (!o.url || !o.key || !o.receiver || !o.events) throw new Error('need --url --key --receiver --events');
	o.events = Number(o.events);
	return o;
}
const opt = parseArgs(process.argv);
const PASSWORD = 'bench webhook passphrase 2026';

async function call(method, path, token, body, want) {
	const headers = {};
	if (token) headers.authorization = `Bearer ${token}`;
	if (body !== undefined) headers['content-type'] = 'application/json';
	for (let attempt = 0; ; attempt++) {
		const r = await fetch(opt.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
		const text = await r.text();
		if ((r.status === 503 || r.status === 429) && attempt < 50) {
			await new Promise((res) => setTimeout(res, 200));
			continue;
		}
		if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} ${text}`);
		return text ? JSON.parse(text) : null;
	}
}

const inst = await call('POST', '/v1/instances', opt.key,
	{ alias: `hookbench-${process.pid}`, admin: { username: 'admin', password: PASSWORD } }, 201);
const I = `/v1/instances/${inst.id}`;
const admin = (await call('POST', `${I}/auth/login`, null, { username: 'admin', password: PASSWORD }, 200)).token;
const ig = await call('POST', `${I}/integrations`, admin, {
	name: 'receiver', base_url: opt.receiver, allowed_address_ranges: ['127.0.0.1'], auth: { type: 'none' },
}, 201);
const sub = await call('POST', `${I}/event-subscriptions`, admin, {
	name: 'bench', event_types: ['audit'], sink: { type: 'webhook', integration_id: ig.id, path: '/down' },
}, 201);
const stats = async () => (await call('GET', `${I}/event-subscriptions/${sub.id}`, admin, undefined, 200)).stats;

// N audit events, 16 writes in flight.
let next = 0;
async function writer() {
	while (next < opt.events) {
		const i = next++;
		await call('POST', `${I}/deny-list`, admin, { type: 'IP', value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }, 201);
	}
}
await Promise.all(Array.from({ length: 16 }, writer));
// Every event of the instance so far has died at /down (one try each).
let s;
const deadline = Date.now() + 120000;
do {
	s = await stats();
	if (s.pending === 0 && s.dead >= opt.events) break;
	await new Promise((res) => setTimeout(res, 100));
} while (Date.now() < deadline);
if (s.dead < opt.events) throw new Error(`only ${s.dead} dead letters of ${opt.events}: ${JSON.stringify(s)}`);
const total = s.dead;
await call('PATCH', `${I}/event-subscriptions/${sub.id}`, admin, { sink: { type: 'webhook', integration_id: ig.id, path: '/up' } }, 200);
const t0 = process.hrtime.bigint();
const rq = await call('POST', `${I}/event-subscriptions/${sub.id}/dead-letters/retry`, admin, undefined, 200);
// The retry and the PATCH are audit events of their own: delivered too.
const want = rq.requeued;
for (;;) {
	s = await stats();
	if (s.delivered >= want) break;
	if (Number(process.hrtime.bigint() - t0) / 1e9 > 300) throw new Error(`stalled: ${JSON.stringify(s)}`);
	await new Promise((res) => setTimeout(res, 20));
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const one = { id: 'et_' + 'x'.repeat(22), type: 'audit', time: new Date().toISOString(), instance_id: inst.id, subscription_id: sub.id, dedup_key: 'ev_' + 'x'.repeat(22) };
console.log(JSON.stringify({ events: want, seconds: Number(seconds.toFixed(3)), per_s: Math.round(want / seconds), total_dead: total, body_bytes_approx: JSON.stringify(one).length + 420 }));
