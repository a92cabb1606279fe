// Setup for bench/chat/run.sh (the load itself is the C client, chatload).
//
// Creates an instance, hours open 24/7, a queue, a routing profile with the
// largest CHAT concurrency the API allows (10), a published flow
// (MessageParticipant greeting -> TransferContactToQueue), a CHAT entry point,
// a contact filter that one address cannot trip, and K agents (Agent security profile + the routing profile), logged in with
// a bounded number of logins in flight (each costs one argon2id hash on the
// server's hashing pool). Writes one session token per line to --tokens and
// prints one JSON line {"instance_id","entry_point_id","queue_id",...}.
//
// usage: node setup.mjs --url http://127.0.0.1:PORT --key PLATFORM_KEY
//        --agents K --tokens FILE [--parallel 8] [--concurrency 10]
import fs from 'node:fs';

function parseArgs(argv) {
	const o = { parallel: 8, concurrency: 10 };
	for (let i = 2; i < argv.length; i += 2) {
		const k = argv[i], v = argv[i + 1];
		if (v === undefined) throw new Error(`missing value for ${k}`);
		switch (k) {
		case '--url': o.url = v; break;
		case '--key': o.key = v; break;
		case '--agents': o.agents = Number(v); break;
		case '--tokens': o.tokens = v; break;
		case '--parallel': o.parallel = Number(v); break;
		case '--concurrency': o.concurrency = Number(v); break;
		default: throw new Error(`unknown option ${k}`);
		}
	}
	if (!o.url || !o.key || !(o.agents > 0) || !o.tokens) throw new Error('need --url, --key, --agents, --tokens');
	return o;
}

const opt = parseArgs(process.argv);
const PASSWORD = 'bench chat passphrase 2026';

async function call(method, path, token, body, want) {
	const headers = {};
	if (token) headers.authorization = `Bearer ${token}`;
	if (body !== undefined) headers['content-type'] = 'application/json';
	for (let attempt = 0; ; attempt++) {
		const r = await fetch(opt.url + path, {
			method, headers, body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await r.text();
		// the hashing pool's queue may be full for a moment: retry 503/429
		if ((r.status === 503 || r.status === 429) && attempt < 50) {
			await new Promise((res) => setTimeout(res, 200));
			continue;
		}
		if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} ${text}`);
		return text ? JSON.parse(text) : null;
	}
}

// Runs fn(i) for i in [0, n) with at most `parallel` calls in flight.
async function pool(n, parallel, fn) {
	const out = new Array(n);
	let next = 0;
	async function worker() {
		while (next < n) {
			const i = next++;
			out[i] = await fn(i);
		}
	}
	await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
	return out;
}

const t0 = Date.now();
const inst = await call('POST', '/v1/instances', opt.key,
	{ alias: `chatbench-${process.pid}`, admin: { username: 'admin', password: PASSWORD } }, 201);
const I = `/v1/instances/${inst.id}`;
const admin = (await call('POST', `${I}/auth/login`, null, { username: 'admin', password: PASSWORD }, 200)).token;
// Long sessions: one setup serves several daemon restarts.
await call('PATCH', `${I}/security-settings`, admin,
	{ session_idle_timeout_s: 86400, session_max_age_s: 2592000 }, 200);

// Every customer of the bench comes from 127.0.0.1: the contact filter's
// per-address rule would deny-list it after 20 chats. Keep the filter on
// (its bookkeeping is part of a chat's cost) with a limit one address cannot
// reach here. Servers without the filter answer 404: nothing to do.
{
	const r = await fetch(`${opt.url}${I}/contact-filter`, {
		method: 'PATCH', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
		body: JSON.stringify({ rules: [{ identifier: 'ADDRESS', limit: 10000, window_s: 1, deny_s: 0 }] }),
	});
	if (r.status !== 200 && r.status !== 404) throw new Error(`PATCH contact-filter: ${r.status} ${await r.text()}`);
	await r.text();
}

const days = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const hours = await call('POST', `${I}/hours-of-operation`, admin, {
	name: 'always open', time_zone: 'UTC',
	config: days.map((day) => ({ day, start: '00:00', end: '24:00' })),
}, 201);
const queue = await call('POST', `${I}/queues`, admin,
	{ name: 'bench chats', hours_of_operation_id: hours.id, max_contacts: 100000 }, 201);
const rp = await call('POST', `${I}/routing-profiles`, admin, {
	name: 'bench agents', queues: [{ queue_id: queue.id, priority: 1, delay_s: 0 }],
	concurrency: { CHAT: opt.concurrency },
}, 201);
const profiles = await call('GET', `${I}/security-profiles?limit=100`, admin, undefined, 200);
const agentProfile = profiles.items.find((p) => p.name === 'Agent');
if (!agentProfile) throw new Error('no Agent security profile');
if (!(agentProfile.permissions || []).includes('Contacts.Handle'))
	console.error('setup: warning: the Agent profile lacks Contacts.Handle');
const flow = await call('POST', `${I}/flows`, admin, {
	name: 'bench chat flow',
	content: {
		Version: '2019-10-30', StartAction: 'greet',
		Actions: [
			{ Identifier: 'greet', Type: 'MessageParticipant',
				Parameters: { Text: 'Hello, an agent will be with you shortly.' },
				Transitions: { NextAction: 'queue' } },
			{ Identifier: 'queue', Type: 'TransferContactToQueue',
				Parameters: { QueueId: queue.id } },
		],
	},
}, 201);
await call('POST', `${I}/flows/${flow.id}/publish`, admin, undefined, 201);
const ep = await call('POST', `${I}/entry-points`, admin,
	{ name: 'bench chat', type: 'CHAT', flow_id: flow.id }, 201);
const t1 = Date.now();

const names = Array.from({ length: opt.agents }, (_, i) => `agent${String(i).padStart(5, '0')}`);
await pool(opt.agents, opt.parallel, (i) => call('POST', `${I}/users`, admin, {
	username: names[i], password: PASSWORD, first_name: 'Agent', last_name: String(i),
	security_profile_ids: [agentProfile.id], routing_profile_id: rp.id,
}, 201));
const t2 = Date.now();
const tokens = await pool(opt.agents, opt.parallel, async (i) =>
	(await call('POST', `${I}/auth/login`, null, { username: names[i], password: PASSWORD }, 200)).token);
const t3 = Date.now();
fs.writeFileSync(opt.tokens, tokens.join('\n') + '\n', { mode: 0o600 });
console.error(`setup: resources ${t1 - t0} ms, ${opt.agents} agents created in ${t2 - t1} ms, ` +
	`logged in in ${t3 - t2} ms`);
console.log(JSON.stringify({
	instance_id: inst.id, entry_point_id: ep.id, queue_id: queue.id, routing_profile_id: rp.id,
	flow_id: flow.id, agents: opt.agents,
}));
