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
import { parseArgs, api, newInstance, dyingSubscription, untilDead, timedRetry } from './lib.mjs';

const opt = parseArgs(process.argv);
const call = api(opt.url);
const { inst, I, admin } = await newInstance(call, opt.key, 'recbench');
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
const { sub, stats } = await dyingSubscription(call, I, admin, opt.receiver, ['contact.ended']);

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
await untilDead(stats, opt.events);
const r = await timedRetry(call, I, admin, sub, stats, { type: 'nats' });
console.log(JSON.stringify({ ...r, instance_id: inst.id }));
