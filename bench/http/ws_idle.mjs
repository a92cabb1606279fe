// Idle WebSocket memory probe for bench/http/run.sh.
//
// Opens N WebSocket sessions to /v1/events with a hand-rolled client on
// node:net (no npm dependency, a few hundred bytes of client state per
// socket), waits until every session has received its {"type":"hello"}
// message, and reads the daemon's VmRSS from /proc/PID/status before,
// at a checkpoint, and after. Prints one JSON line on stdout, then closes
// every socket and exits (0 if all sessions opened, 1 otherwise).
//
// usage: node ws_idle.mjs --port P --key KEY --pid PID [--sessions 5000]
//        [--checkpoint 1000] [--concurrency 200] [--settle-ms 1000]
//        [--timeout-ms 60000] [--local-addrs 127.0.0.1,127.0.0.2] [--hold-ms 0]
//
// The key goes in the subprotocol list "bulwark.v1, bearer.<key>"; the
// server must answer with "bulwark.v1".
import net from 'node:net';
import crypto from 'node:crypto';
import fs from 'node:fs';

function parseArgs(argv) {
	const o = {
		host: '127.0.0.1', sessions: 5000, checkpoint: 1000, concurrency: 200,
		settleMs: 1000, timeoutMs: 60000, localAddrs: ['127.0.0.1'], holdMs: 0,
	};
	for (let i = 2; i < argv.length; i += 2) {
		const k = argv[i], v = argv[i + 1];
		if (v === undefined) throw new Error(`missing value for ${k}`);
		switch (k) {
		case '--port': o.port = Number(v); break;
		case '--key': o.key = v; break;
		case '--pid': o.pid = Number(v); break;
		case '--sessions': o.sessions = Number(v); break;
		case '--checkpoint': o.checkpoint = Number(v); break;
		case '--concurrency': o.concurrency = Number(v); break;
		case '--settle-ms': o.settleMs = Number(v); break;
		case '--timeout-ms': o.timeoutMs = Number(v); break;
		case '--local-addrs': o.localAddrs = v.split(',').filter(Boolean); break;
		case '--hold-ms': o.holdMs = Number(v); break;
		default: throw new Error(`unknown option ${k}`);
		}
	}
	if (!o.port || !o.key || !o.pid) throw new Error('need --port, --key and --pid');
	if (!(o.checkpoint > 0 && o.checkpoint < o.sessions)) o.checkpoint = 0;
	return o;
}

const opt = parseArgs(process.argv);
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function rssKiB(pid) {
	const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(s);
	if (!m) throw new Error(`no VmRSS for pid ${pid}`);
	return Number(m[1]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const sockets = [];
const failures = [];
let hellos = 0;

// One session: resolve when the hello arrives, reject on anything else.
function openSession(idx) {
	return new Promise((resolve, reject) => {
		const key = crypto.randomBytes(16).toString('base64');
		const expectAccept = crypto.createHash('sha1').update(key + GUID).digest('base64');
		const localAddress = opt.localAddrs[idx % opt.localAddrs.length];
		const sock = net.connect({ host: opt.host, port: opt.port, localAddress });
		sock.setNoDelay(true);
		let buf = Buffer.alloc(0);
		let upgraded = false, done = false;
		const fail = (why) => {
			if (done) return;
			done = true;
			sock.destroy();
			reject(new Error(`session ${idx}: ${why}`));
		};
		sock.on('error', (e) => fail(e.code || e.message));
		sock.on('close', () => {
			if (!done) fail('closed before hello');
			else if (!sock.bwClosing) failures.push(`session ${idx}: closed by server while idle`);
		});
		sock.on('connect', () => {
			sock.write(
				`GET /v1/events HTTP/1.1\r\nHost: ${opt.host}:${opt.port}\r\n` +
				'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
				`Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
				`Sec-WebSocket-Protocol: bulwark.v1, bearer.${opt.key}\r\n\r\n`);
		});
		sock.on('data', (chunk) => {
			buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
			if (!upgraded) {
				const end = buf.indexOf('\r\n\r\n');
				if (end < 0) {
					if (buf.length > 8192) fail('response head too large');
					return;
				}
				const head = buf.subarray(0, end).toString('latin1');
				buf = buf.subarray(end + 4);
				const lines = head.split('\r\n');
				if (!/^HTTP\/1\.1 101 /.test(lines[0])) return fail(`status line: ${lines[0]}`);
				const h = {};
				for (const l of lines.slice(1)) {
					const c = l.indexOf(':');
					if (c > 0) h[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
				}
				if (h['sec-websocket-accept'] !== expectAccept) return fail('bad Sec-WebSocket-Accept');
				if (h['sec-websocket-protocol'] !== 'bulwark.v1') {
					return fail(`subprotocol: ${h['sec-websocket-protocol']}`);
				}
				upgraded = true;
			}
			// Server frames are unmasked.
			while (buf.length >= 2) {
				const op = buf[0] & 0x0f;
				let len = buf[1] & 0x7f, off = 2;
				if (buf[1] & 0x80) return fail('masked server frame');
				if (len === 126) {
					if (buf.length < 4) return;
					len = buf.readUInt16BE(2); off = 4;
				} else if (len === 127) {
					if (buf.length < 10) return;
					len = Number(buf.readBigUInt64BE(2)); off = 10;
				}
				if (buf.length < off + len) return;
				const payload = buf.subarray(off, off + len);
				buf = buf.subarray(off + len);
				if (op === 0x9) { // ping: answer with a masked pong
					const mask = crypto.randomBytes(4);
					const hdr = Buffer.from([0x8a, 0x80 | payload.length]);
					const body = Buffer.from(payload);
					for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
					sock.write(Buffer.concat([hdr, mask, body]));
				} else if (op === 0x8) {
					if (!done) return fail(`close frame ${payload.length >= 2 ? payload.readUInt16BE(0) : ''}`);
					failures.push(`session ${idx}: close frame while idle`);
				} else if (op === 0x1 && !done) {
					let msg;
					try { msg = JSON.parse(payload.toString('utf8')); } catch { return fail('hello is not JSON'); }
					if (msg.type !== 'hello') return fail(`first message type ${msg.type}`);
					done = true;
					hellos++;
					// Drop what we no longer need so the client stays small.
					buf = Buffer.alloc(0);
					resolve(sock);
				}
			}
		});
	});
}

// Open sessions [from, to) with at most opt.concurrency handshakes in flight.
async function openRange(from, to) {
	let next = from;
	const worker = async () => {
		while (next < to) {
			const i = next++;
			try {
				sockets.push(await openSession(i));
			} catch (e) {
				failures.push(e.message);
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(opt.concurrency, to - from) }, worker));
}

async function main() {
	const deadline = setTimeout(() => {
		console.log(JSON.stringify({ error: 'timeout', hellos, failures: failures.slice(0, 5) }));
		process.exit(1);
	}, opt.timeoutMs);

	await sleep(opt.settleMs);
	const rss0 = rssKiB(opt.pid);
	const t0 = Date.now();
	let rssCk = null;
	if (opt.checkpoint) {
		await openRange(0, opt.checkpoint);
		await sleep(opt.settleMs);
		rssCk = rssKiB(opt.pid);
	}
	await openRange(opt.checkpoint || 0, opt.sessions);
	const openMs = Date.now() - t0;
	await sleep(opt.settleMs);
	const rss1 = rssKiB(opt.pid);
	// Every session must still be open after the settle time.
	const alive = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
	clearTimeout(deadline);

	const delta = rss1 - rss0;
	const out = {
		sessions: opt.sessions,
		hellos,
		alive,
		open_ms: openMs,
		rss_before_kib: rss0,
		rss_after_kib: rss1,
		rss_delta_kib: delta,
		per_session_kib: Number((delta / opt.sessions).toFixed(2)),
		failures: failures.length,
		first_failures: failures.slice(0, 5),
	};
	if (opt.checkpoint) {
		out.checkpoint = opt.checkpoint;
		out.rss_checkpoint_kib = rssCk;
		out.marginal_per_session_kib = Number(((rss1 - rssCk) / (opt.sessions - opt.checkpoint)).toFixed(2));
	}
	console.log(JSON.stringify(out));
	if (opt.holdMs > 0) {
		// Keep the sessions open (e.g. to load the daemon over HTTP meanwhile);
		// SIGTERM ends the hold early.
		await new Promise((r) => {
			const t = setTimeout(r, opt.holdMs);
			process.once('SIGTERM', () => { clearTimeout(t); r(); });
		});
	}
	for (const s of sockets) { s.bwClosing = true; s.destroy(); }
	process.exitCode = hellos === opt.sessions && alive === opt.sessions ? 0 : 1;
}

main().catch((e) => {
	console.log(JSON.stringify({ error: String(e && e.stack || e) }));
	process.exit(1);
});
