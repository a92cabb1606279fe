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
import { parseArgs, api, newInstance, dyingSubscription, untilDead, timedRetry } from './lib.mjs';

const opt = parseArgs(process.argv);
const call = api(opt.url);
const { inst, I, admin } = await newInstance(call, opt.key, 'hookbench');
const { ig, sub, stats } = await dyingSubscription(call, I, admin, opt.receiver, ['audit']);

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
const total = (await untilDead(stats, opt.events)).dead;
// The retry and the PATCH are audit events of their own: delivered too.
const r = await timedRetry(call, I, admin, sub, stats, { type: 'webhook', integration_id: ig.id, path: '/up' });
const one = { id: 'et_' + 'x'.repeat(22), type: 'audit', time: new Date().toISOString(), instance_id: inst.id, subscription_id: sub.id, dedup_key: 'ev_' + 'x'.repeat(22) };
console.log(JSON.stringify({ ...r, total_dead: total, body_bytes_approx: JSON.stringify(one).length + 420 }));
