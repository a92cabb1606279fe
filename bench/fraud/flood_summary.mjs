// The summary of bench/fraud/flood.sh, from the files it leaves in its temp
// dir: ref.json and under.json (trickle), flood.json (flood generator),
// samples ("ms rss_kib cpu_ticks api_queue_depth" every 0.5 s), phases
// ("NAME ms"), metrics (/metrics after the flood), errlines, errmsgs.
import fs from 'node:fs';

const opt = {};
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].slice(2)] = process.argv[i + 1];
const dir = opt.dir;
const read = (f) => fs.readFileSync(`${dir}/${f}`, 'utf8');
const json = (f) => JSON.parse(read(f).trim().split('\n').pop());
const ref = json('ref.json'), under = json('under.json'), flood = json('flood.json');
const limit = Number(opt.limit), W = Number(opt.window), nwin = Number(opt.windows);
const rate = Number(opt.rate), trickleMs = Number(opt['trickle-ms']);
const TCK = 100; // sysconf(_SC_CLK_TCK) on Linux
const fmt = (x, d = 0) => Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

// ---- phases and samples ----
const phases = {};
for (const l of read('phases').trim().split('\n')) { const [k, v] = l.split(' '); phases[k] = Number(v); }
const samples = read('samples').trim().split('\n').map((l) => l.split(' '))
	.filter((a) => a.length >= 3).map(([t, rss, ticks, qd, delay]) =>
		({ t: +t, rss: +rss, ticks: +ticks, qd: qd === 'NA' ? null : +qd, delay: delay === undefined || delay === 'NA' ? NaN : +delay }));
function phase(name) {
	const a = phases[`${name}-start`], b = phases[`${name}-end`];
	const inside = samples.filter((s) => s.t >= a - 600 && s.t <= b + 600);
	const first = inside[0], last = inside[inside.length - 1];
	const cpu = first && last && last.t > first.t ? (last.ticks - first.ticks) / TCK / ((last.t - first.t) / 1000) : NaN;
	return {
		secs: (b - a) / 1000, cpuPct: 100 * cpu, cpuS: first && last ? (last.ticks - first.ticks) / TCK : NaN,
		rss0: first ? first.rss : NaN, rss1: last ? last.rss : NaN,
		rssMax: Math.max(...inside.map((s) => s.rss)),
		qdMax: Math.max(0, ...inside.filter((s) => s.qd !== null).map((s) => s.qd)),
		// ms per second that the daemon's threads waited for a CPU
		delay: first && last && last.t > first.t ? (last.delay - first.delay) / 1e6 / ((last.t - first.t) / 1000) : NaN,
	};
}
const pRef = phase('ref'), pFlood = phase('flood');

// ---- accepted per key ----
// Steady state: NWIN windows of W s starting at W/2. Under a saturating
// flood a key's accepted requests come in a burst at the start of each
// window period (when the oldest counted one leaves); the counted span
// starts and ends half a window away from those bursts.
const spanA = (W / 2) * 1000, spanB = spanA + nwin * W * 1000;
const expected = nwin * limit;
const keyRows = [];
let worst = 0, worstRatio = 1;
for (const k of flood.keys) {
	const per = Array.from({ length: nwin }, (_, j) =>
		k.t201_ms.filter((t) => t >= spanA + j * W * 1000 && t < spanA + (j + 1) * W * 1000).length);
	const inSpan = per.reduce((a, b) => a + b, 0);
	const ratio = inSpan / expected;
	const whole = k.s201, wholeExp = limit * flood.duration_s / W;
	if (Math.abs(ratio - 1) >= worst) { worst = Math.abs(ratio - 1); worstRatio = ratio; }
	keyRows.push(`  ${k.addr.padEnd(15)} ${fmt(inSpan)} / ${fmt(expected)} = ${ratio.toFixed(3)} (per window: ${per.join(', ')});` +
		` whole flood: ${fmt(whole)} / ${fmt(wholeExp)} = ${(whole / wholeExp).toFixed(3)};` +
		` sent ${fmt(k.sent)}, 429 ${fmt(k.s429)}, 403 ${fmt(k.s403)}, other 4xx ${k.s4xx}, 5xx ${k.s5xx}, errors ${k.err}`);
}
const sum = (f) => flood.keys.reduce((a, k) => a + k[f], 0);
const accepted = sum('s201');

// ---- /metrics: the server's own count of the chats route by status ----
const statuses = {};
for (const l of read('metrics').split('\n')) {
	const m = l.match(/^bulwark_http_requests_total\{route="([^"]*chats[^"]*)",status="(\d+)"\} (\d+)/);
	if (m && m[1].includes('public')) statuses[m[2]] = (statuses[m[2]] || 0) + Number(m[3]);
}
const s5xx = Object.entries(statuses).filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0);

// ---- report ----
const [b0, b1] = opt.bytes.split(',').map(Number);
// audit records, contacts, refused contacts (CONTACT_FILTER): before, after
const rows = opt.rows.split(',').map(Number);
const rowsLine = rows.some((x) => Number.isNaN(x)) ? 'row counts: no sqlite3'
	: `+${fmt(rows[3] - rows[0])} audit records, +${fmt(rows[4] - rows[1])} contact records (${fmt(rows[5] - rows[2])} of them refused, CONTACT_FILTER)`;
const answered = flood.answered;
const trickleLine = (t) => `${t.ok}/${t.requests} started, p50 ${t.lat_ms.p50.toFixed(2)} ms, p90 ${t.lat_ms.p90.toFixed(2)} ms,` +
	` p99 ${t.lat_ms.p99.toFixed(2)} ms, max ${t.lat_ms.max.toFixed(2)} ms, failures ${t.failures}`;
const p99ratio = under.lat_ms.p99 / ref.lat_ms.p99;
const [loadA, loadB] = opt.load.split('|');
const perSec = flood.per_second.slice(0, Math.ceil(flood.duration_s));
const rssMiB = (k) => (k / 1024).toFixed(1);
const modeLine = opt.mode === 'throttle'
	? `throttle: public_rate_limit ${limit} per public_rate_window_s ${W} per client address (contact filter: ADDRESS ${opt.filter.split(',')[0]} per ${opt.filter.split(',')[1]} s, deny_s 0: out of reach)`
	: `contact filter: ADDRESS rule ${limit} contacts per ${W} s, deny_s 0 (throttle lifted to 1,000,000/s)`;

console.log(`
==================== bulwark fraud flood summary ====================
mode: ${modeLine}
flood: ${fmt(rate)} req/s offered from ${flood.keys.length} addresses (X-Forwarded-For) over ${flood.conns} connections for ${flood.duration_s} s:
  sent ${fmt(flood.sent_rate)}/s, answered ${fmt(flood.answered_rate)}/s = ${(100 * flood.answered_rate / rate).toFixed(1)}% of the target;
  ${fmt(flood.skipped)} requests given up (due while all ${flood.conns} connections waited for a reply); unanswered at the end ${flood.unanswered}
  replies: 201 ${fmt(accepted)}, 429 ${fmt(sum('s429'))}, 403 ${fmt(sum('s403'))}, other 4xx ${sum('s4xx')}, 5xx ${sum('s5xx')}, other ${flood.status_other}; connection errors ${flood.conn_errors}
  flood request latency p50 ${flood.lat_ms.p50.toFixed(1)} ms, p90 ${flood.lat_ms.p90.toFixed(1)} ms, p99 ${flood.lat_ms.p99.toFixed(1)} ms, max ${flood.lat_ms.max.toFixed(1)} ms
  answered per second: ${perSec.map((s) => s[0]).join(' ')}
  slowest reply per second (ms): ${perSec.map((s) => Math.round(s[1])).join(' ')}
accepted (201) per key, ${nwin} window${nwin > 1 ? 's' : ''} of ${W} s from t = ${W / 2} s, expected ${nwin} x ${limit} = ${expected}:
${keyRows.join('\n')}
  worst ratio ${worstRatio.toFixed(3)}: goal within 5%: ${worst <= 0.05 ? 'met' : 'NOT met'}
trickle, one chat start every ${trickleMs} ms from a fresh address (latency from the due time to the whole 201):
  without the flood (${ref.duration_s} s): ${trickleLine(ref)}
  under the flood   (${under.duration_s} s): ${trickleLine(under)}
  p99 under the flood / without: ${p99ratio.toFixed(1)}; goal p99 < 20 ms under the flood: ${under.lat_ms.p99 < 20 ? 'met' : 'NOT met'}
  slowest under the flood (s into the trickle: ms): ${under.slowest.map((s) => `${s.at_s.toFixed(2)}: ${s.ms.toFixed(0)}`).join(', ')}${under.failed.length ? `
  failed under the flood (first ${under.failed.length}): ${under.failed.map((f) => `${f.at_s.toFixed(2)} s status ${f.status}`).join(', ')}` : ''}
server (bulwark, all threads; % of one core):
  without the flood: CPU ${pRef.cpuPct.toFixed(0)}%, waited for a CPU ${pRef.delay.toFixed(0)} ms/s, RSS ${rssMiB(pRef.rss0)} -> ${rssMiB(pRef.rss1)} MiB
  under the flood:   CPU ${pFlood.cpuPct.toFixed(0)}% (${(1e6 * pFlood.cpuS / (answered + under.requests)).toFixed(0)} us per request answered), waited for a CPU ${pFlood.delay.toFixed(0)} ms/s, RSS ${rssMiB(pFlood.rss0)} -> ${rssMiB(pFlood.rss1)} MiB (peak ${rssMiB(pFlood.rssMax)}; ${((pFlood.rss1 - pFlood.rss0) / Math.max(1, accepted + under.ok)).toFixed(0)} KiB per chat started), API queue depth max ${pFlood.qdMax}
  data dir: +${((b1 - b0) / 1048576).toFixed(1)} MiB during the flood (${Math.round((b1 - b0) / Math.max(1, answered))} bytes per flood request); ${rowsLine}
  /metrics, public chats route by status: ${Object.entries(statuses).map(([s, n]) => `${s} ${fmt(n)}`).join(', ')}; 5xx: ${s5xx}
  log lines at warn or above: ${read('errlines').trim() || 0}${read('errmsgs').trim() ? ` (${read('errmsgs').trim().replace(/\s*\n\s*/g, '; ')})` : ''}; alive after the flood: ${opt.alive}
generator CPU: flood ${flood.cpu_s} s, trickle ${under.cpu_s} s (over ${flood.duration_s} s)
load average: start ${loadA}, end ${loadB}
binary: ${opt.binary}
======================================================================`);
