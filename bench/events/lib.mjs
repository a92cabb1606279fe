// Shared by bench/events/webhook_setup.mjs and records_setup.mjs: the
// command line, API calls (503/429 retried: the hashing pool is small), an
// instance with a logged-in admin, a subscription whose events first die at
// an nginx path answering 503, and the timed retry of its dead letters.

/** --url --key --receiver --events from argv (events a number). */
export function parseArgs(argv) {
	const o = {};
	for (let i = 2; i < argv.length; i += 2) o[argv[i].replace(/^--/, '')] = argv[i + 1];
	if (!o.url || !o.key || !o.receiver || !o.events) throw new Error('need --url --key --receiver --events');
	o.events = Number(o.events);
	return o;
}

export function api(base) {
	return async function call(method, path, token, body, want) {
		const headers = {};
		if (token) headers.authorization = `Bearer ${token}`;
		if (body !== undefined) headers['content-type'] = 'application/json';
		for (let attempt = 0; ; attempt++) {
			const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
			const text = await r.text();
			if ((r.status === 503 || r.status === 429) && attempt < 50) {
				await new Promise((res) => setTimeout(res, 200));
				continue;
			}
			if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} ${text}`);
			return text ? JSON.parse(text) : null;
		}
	};
}

/** A new instance and its admin's session: {inst, I (its path), admin}. */
export async function newInstance(call, platformKey, alias) {
	const password = 'bench events passphrase 2026';
	const inst = await call('POST', '/v1/instances', platformKey,
		{ alias: `${alias}-${process.pid}`, admin: { username: 'admin', password } }, 201);
	const I = `/v1/instances/${inst.id}`;
	const admin = (await call('POST', `${I}/auth/login`, null, { username: 'admin', password }, 200)).token;
	return { inst, I, admin };
}

/** A subscription of `types` whose webhook goes to the receiver's /down (503). */
export async function dyingSubscription(call, I, admin, receiver, types) {
	const ig = await call('POST', `${I}/integrations`, admin, {
		name: 'receiver', base_url: receiver, allowed_address_ranges: ['127.0.0.1'], auth: { type: 'none' },
	}, 201);
	const sub = await call('POST', `${I}/event-subscriptions`, admin, {
		name: 'bench', event_types: types, sink: { type: 'webhook', integration_id: ig.id, path: '/down' },
	}, 201);
	return { ig, sub, stats: async () => (await call('GET', `${I}/event-subscriptions/${sub.id}`, admin, undefined, 200)).stats };
}

/** Waits until n events are dead letters and none waits; the stats then. */
export async function untilDead(stats, n) {
	let s;
	const deadline = Date.now() + 300000;
	do {
		s = await stats();
		if (s.pending === 0 && s.dead >= n) return s;
		await new Promise((res) => setTimeout(res, 100));
	} while (Date.now() < deadline);
	throw new Error(`only ${s.dead} dead letters of ${n}: ${JSON.stringify(s)}`);
}

/** PATCHes the sink, queues the dead letters again, and times their delivery:
 *  {events, seconds, per_s}. */
export async function timedRetry(call, I, admin, sub, stats, sink) {
	await call('PATCH', `${I}/event-subscriptions/${sub.id}`, admin, { sink }, 200);
	const t0 = process.hrtime.bigint();
	const rq = await call('POST', `${I}/event-subscriptions/${sub.id}/dead-letters/retry`, admin, undefined, 200);
	for (;;) {
		const s = await stats();
		if (s.delivered >= rq.requeued) break;
		if (Number(process.hrtime.bigint() - t0) / 1e9 > 300) throw new Error(`stalled: ${JSON.stringify(s)}`);
		await new Promise((res) => setTimeout(res, 20));
	}
	const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
	return { events: rq.requeued, seconds: Number(seconds.toFixed(3)), per_s: Math.round(rq.requeued / seconds) };
}
