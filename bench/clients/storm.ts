/**
 * A password-guessing storm: wrong-password logins at a fixed rate, the way a script does it —
 * one GET /login for a session cookie and its CSRF token, then POSTs that reuse them, each with
 * another username from a stuffing list (names that mostly do not exist, so every attempt that
 * gets through costs the server a bcrypt compare against its dummy hash). `sources` are the local
 * addresses to send from, in turn: one address is a single attacker, many are a botnet.
 *
 *   node --import tsx bench/clients/storm.ts <input.json>   ({ url, rate, seconds, sources })
 */
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { emit, percentile } from '../lib/common.js';

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { url: string; rate: number; seconds: number; sources: string[] };
const target = new URL(input.url);
const agents = input.sources.map((localAddress) => new Agent({ keepAlive: true, maxSockets: 256, localAddress }));

const statuses: Record<string, number> = {};
const latencyByStatus: Record<string, number[]> = {};
let sent = 0;
let answered = 0;

async function credentials(): Promise<{ cookie: string; token: string }> {
  const res = await fetch(new URL('/login', target));
  const html = await res.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ttt.sid='))?.split(';')[0];
  if (!token || !cookie) throw new Error(`no CSRF token or session cookie from GET /login (${res.status})`);
  return { cookie, token };
}

function attempt(agent: Agent, cookie: string, token: string) {
  const body = new URLSearchParams({ _csrf: token, username: `user${Math.floor(Math.random() * 1e9)}`, password: 'Winter2024!' }).toString();
  const started = performance.now();
  sent += 1;
  const req = request(
    {
      agent,
      host: target.hostname,
      port: target.port,
      path: '/login',
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
    },
    (res) => {
      // The app's own 429 (its rate limit, checked before any hashing) sets Retry-After;
      // nginx's limit_req answers without one.
      res.resume();
      res.on('end', () => {
        const status = res.statusCode === 429 ? (res.headers['retry-after'] ? '429 app' : '429 nginx') : String(res.statusCode);
        answered += 1;
        statuses[status] = (statuses[status] ?? 0) + 1;
        (latencyByStatus[status] ??= []).push(performance.now() - started);
      });
    },
  );
  req.on('error', (err: NodeJS.ErrnoException) => {
    answered += 1;
    const key = err.code ?? 'error';
    statuses[key] = (statuses[key] ?? 0) + 1;
  });
  req.end(body);
}

async function main() {
  const { cookie, token } = await credentials();
  const interval = 1000 / input.rate;
  const start = performance.now();
  let due = start;
  let turn = 0;
  await new Promise<void>((resolve) => {
    const ticker = setInterval(() => {
      const now = performance.now();
      while (due <= now) {
        attempt(agents[turn++ % agents.length]!, cookie, token);
        due += interval;
      }
      if (now - start >= input.seconds * 1000) {
        clearInterval(ticker);
        resolve();
      }
    }, Math.max(1, Math.floor(interval / 2)));
  });
  // A moment for answers in flight; whatever is still queued in the server is reported as such.
  const deadline = performance.now() + 1_000;
  while (answered < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const latency = Object.fromEntries(
    Object.entries(latencyByStatus).map(([status, values]) => [status, { p50: percentile(values, 50), p99: percentile(values, 99) }]),
  );
  emit({ sent, answered, unanswered: sent - answered, statuses, latency, seconds: (performance.now() - start) / 1000 });
  for (const agent of agents) agent.destroy();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
