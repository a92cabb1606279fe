// The summary table of bench/chat/run.sh from chatload's RESULT lines
// (one JSON object per line, chat and echo runs paired by label).
//   node summary.mjs RESULTS_FILE
import fs from 'node:fs';

const rows = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const P99_GOAL = { 2000: 5, 10000: 20 }; // ms, from the issue
const KIB_GOAL = 32;

const f = (v, d = 1) => (typeof v === 'number' && v >= 0 ? v.toFixed(d) : '-');
const goal = (ok) => (ok ? 'ok' : 'MISSED');

const lines = [[
	'live chats', 'failed', 'contacts/s', 'relay p50 ms', 'relay p99 ms (goal)', 'KiB/chat (goal 32)',
	'relay msg/s', 'echo msg/s', 'ratio', 'µs/relay', 'µs/echo', 'ms CPU/contact',
]];
for (const c of rows.filter((r) => r.mode === 'chat')) {
	const e = rows.find((r) => r.mode === 'echo' && r.label === c.label);
	const g = P99_GOAL[c.chats];
	lines.push([
		String(c.chats), String(c.failed), f(c.contacts_per_s, 0), f(c.p50_ms, 2),
		`${f(c.p99_ms, 2)} (${g ? `< ${g}: ${goal(c.p99_ms < g)}` : 'no goal'})`,
		`${f(c.kib_per_chat, 1)} (${goal(c.kib_per_chat < KIB_GOAL)})`,
		f(c.msgs_per_s, 0), e ? f(e.msgs_per_s, 0) : '-',
		e && e.msgs_per_s > 0 ? (c.msgs_per_s / e.msgs_per_s).toFixed(2) : '-',
		f(c.server_us_per_msg, 1), e ? f(e.server_us_per_msg, 1) : '-',
		f(c.server_ms_per_setup, 2),
	]);
}
const width = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
for (const l of lines) console.log(l.map((c, i) => c.padStart(width[i])).join('  '));
console.log('contacts/s: chats started and accepted per second during the ramp; relay latency: the');
console.log('paced phase (relayed copy only); relay/echo msg/s: closed loop, one message in flight per');
console.log('direction per chat (echo: window 2 per session); µs/relay, µs/echo: server CPU per message');
console.log('in those runs; ms CPU/contact: server CPU per chat set up (start to accepted).');
