// Setup for bench/fraud/flood.sh, as bench/chat/setup.mjs does it: an
// instance, hours open 24/7, a queue, a published flow (MessageParticipant
// greeting -> TransferContactToQueue) and a CHAT entry point. No agents: a
// chat start (POST .../chats -> 201) does not need one.
//
// The contact filter gets one ADDRESS rule from the command line: in the
// throttle mode a limit no flood address can reach (so what limits a key is
// the per-address throttle), in the filter mode the rule under test.
// Prints one JSON line {"instance_id","entry_point_id","token"} (token: an
// admin session, for later PATCHes).
//
// usage: node flood_setup.mjs --url http://127.0.0.1:PORT --key PLATFORM_KEY
//        --filter LIMIT,WINDOW_S,DENY_S
function parseArgs(argv) {
	const o = {};
	for (let i = 2; i < argv.length; i += 2) {
		const k = argv[i], v = argv[i + 1];
		if (v === undefined) throw new Error(`missing value for ${k}`);
		if (k === '--url') o.url = v;
		else if (k === '--key') o.key = v;
		else if (k === '--filter') o.filter = v.split(',').map(Number);
		else throw new Error(`unknown option ${k}`);
	}
	if (!o.url || !o.key || !o.filter || o.filter.length !== 3) throw new Error('need --url, --key, --filter L,W,D');
	return o;
}

const opt = parseArgs(process.argv);
const PASSWORD = 'bench flood passphrase 2026';

async function call(method, path, token, body, want) {
	const headers = {};
	if (token) headers.authorization = `Bearer ${token}`;
	if (body !== undefined) headers['content-type'] = 'application/json';
	for (let attempt = 0; ; attempt++) {
		const r = await fetch(opt.url + path, {
			method, headers, body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await r.text();
		if ((r.status === 503 || r.status === 429) && attempt < 50) { // hashing pool busy
			await new Promise((res) => setTimeout(res, 200));
			continue;
		}
		if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} ${text}`);
		return text ? JSON.parse(text) : null;
	}
}

const inst = await call('POST', '/v1/instances', opt.key,
	{ alias: `floodbench-${process.pid}`, admin: { username: 'admin', password: PASSWORD } }, 201);
const I = `/v1/instances/${inst.id}`;
const admin = (await call('POST', `${I}/auth/login`, null, { username: 'admin', password: PASSWORD }, 200)).token;
await call('PATCH', `${I}/security-settings`, admin,
	{ session_idle_timeout_s: 86400, session_max_age_s: 2592000 }, 200);
const [limit, window_s, deny_s] = opt.filter;
const filter = await call('PATCH', `${I}/contact-filter`, admin,
	{ enabled: true, dry_run: false, rules: [{ identifier: 'ADDRESS', limit, window_s, deny_s }] }, 200);

const days = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const hours = await call('POST', `${I}/hours-of-operation`, admin, {
	name: 'always open', time_zone: 'UTC',
	config: days.map((day) => ({ day, start: '00:00', end: '24:00' })),
}, 201);
const queue = await call('POST', `${I}/queues`, admin,
	{ name: 'flood bench chats', hours_of_operation_id: hours.id, max_contacts: 100000 }, 201);
const flow = await call('POST', `${I}/flows`, admin, {
	name: 'flood bench flow',
	content: {
		Version: '2019-10-30', StartAction: 'greet',
		Actions: [
			{ Identifier: 'greet', Type: 'MessageParticipant',
				Parameters: { Text: 'Hello, an agent will be with you shortly.' },
				Transitions: { NextAction: 'queue' } },
			{ Identifier: 'queue', Type: 'TransferContactToQueue', Parameters: { QueueId: queue.id } },
		],
	},
}, 201);
await call('POST', `${I}/flows/${flow.id}/publish`, admin, undefined, 201);
const ep = await call('POST', `${I}/entry-points`, admin,
	{ name: 'flood bench chat', type: 'CHAT', flow_id: flow.id }, 201);
console.log(JSON.stringify({ instance_id: inst.id, entry_point_id: ep.id, token: admin, filter }));
