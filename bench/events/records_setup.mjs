// Setup and measurement for bench/events/records.sh: contact records
// delivered to NATS JetStream through the whole daemon (the outbox, the
// nats lane, the sink). N chats start on an entry point whose flow says
// hello and disconnects, so each contact ends at once with its record; a
// contact.ended subscription first sends them to an nginx path answering
// 503, where (event_max_attempts=1) each becomes a dead letter. Then the
// subscription's sink is switched to {"type":"nats"} and one retry queues
// them all: the time until every one is delivered (acknowledged by the
// stream) is the figure.
//
// usage: node records_setup.mjs --url URL --key KEY --receiver NGINX_URL --events N
// Prints one JSON line {"events","seconds","per_s"}.
function parseArgs(argv) {
	const o = {};
	for (let i = 2; i < argv.length; i += 2) o[argv[i].replace(/^--/, '')] = argv[i + 1];
	if (!o.url || !o.key || !o.receiver || !o.events) throw new Error('need --url --key --receiver --events');
	o.events = Number(o.events);
	return o;
}
const opt = parseArgs(process.argv);
const PASSWORD = 'bench records passphrase 2026';

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
	{ alias: `recbench-${process.pid}`, admin: { username: 'admin', password: PASSWORD } }, 201);
const I = `/v1/instances/${inst.id}`;
const admin = (await call('POST', `${I}/auth/login`, null, { username: 'admin', password: PASSWORD }, 200)).token;
await call('PATCH', `${I}/security-settings`, admin, { session_idle_timeout_s: 86400 }, 200);
const flow = await call('POST', `${I}/flows`, admin, {
	name: 'records bench flow',
	content: {
		Version: '2019-10-30', StartAction: 'greet',
		Actions: [
			{ Identifier: 'greet', Type: 'MessageParticipant', Parameters: { Text: 'Hello, and goodbye.' },
				Transitions: { NextAction: 'bye' } },
			{ Identifier: 'bye', Type: 'DisconnectParticipant', Parameters: {}, Transitions: {} },
		],
	},
}, 201);
await call('POST', `${I}/flows/${flow.id}/publish`, admin, undefined, 201);
const ep = await call('POST', `${I}/entry-points`, admin, { name: 'records bench chat', type: 'CHAT', flow_id: flow.id }, 201);
const ig = await call('POST', `${I}/integrations`, admin, {
	name: 'receiver', base_url: opt.receiver, allowed_address_ranges: ['127.0.0.1'], auth: { type: 'none' },
}, 201);
const sub = await call('POST', `${I}/event-subscriptions`, admin, {
	name: 'bench', event_types: ['contact.ended'], sink: { type: 'webhook', integration_id: ig.id, path: '/down' },
}, 201);
const stats = async () => (await call('GET', `${I}/event-subscriptions/${sub.id}`, admin, undefined, 200)).stats;

// N chats, 16 at once, each from its own address (the daemon trusts 127.0.0.1's X-Forwarded-For).
let next = 0;
async function starter() {
	while (next < opt.events) {
		const i = next++;
		const r = await fetch(`${opt.url}/v1/public/instances/${inst.id}/chats`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
			body: JSON.stringify({ entry_point: ep.id, display_name: `Customer ${i}`, email: `c${i}@example.com`,
				attributes: { order: String(100000 + i), tier: 'gold' } }),
		});
		await r.text();
		if (r.status !== 201) throw new Error(`chat ${i}: ${r.status}`);
	}
}
await Promise.all(Array.from({ length: 16 }, starter));
let s;
const deadline = Date.now() + 300000;
do {
	s = await stats();
	if (s.pending === 0 && s.dead >= opt.events) break;
	await new Promise((res) => setTimeout(res, 100));
} while (Date.now() < deadline);
if (s.dead < opt.events) throw new Error(`only ${s.dead} dead letters of ${opt.events}: ${JSON.stringify(s)}`);
await call('PATCH', `${I}/event-subscriptions/${sub.id}`, admin, { sink: { type: 'nats' } }, 200);
const t0 = process.hrtime.bigint();
const rq = await call('POST', `${I}/event-subscriptions/${sub.id}/dead-letters/retry`, admin, undefined, 200);
for (;;) {
	s = await stats();
	if (s.delivered >= rq.requeued) break;
	if (Number(process.hrtime.bigint() - t0) / 1e9 > 300) throw new Error(`stalled: ${JSON.stringify(s)}`);
	await new Promise((res) => setTimeout(res, 20));
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ events: rq.requeued, seconds: Number(seconds.toFixed(3)), per_s: Math.round(rq.requeued / seconds), instance_id: inst.id }));
