/**
 * Page loads at a fixed rate (open loop, so a slow server cannot slow the arrivals down), timed
 * to the microsecond. autocannon measures throughput; this measures what a normal visitor waits
 * while something else (the login storm) is going on. One result line per phase.
 *
 *   node --import tsx bench/clients/pages.ts <input.json>   ({ url, cookie, rate, phases })
 */
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { emit, percentile } from '../lib/common.js';

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  url: string;
  cookie: string;
  rate: number;
  phases: { name: string; seconds: number }[];
};
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const target = new URL(input.url);

let latencies: number[] = [];
let statuses: Record<string, number> = {};

function load() {
  const started = performance.now();
  const req = request(
    { agent, host: target.hostname, port: target.port, path: target.pathname + target.search, headers: { Cookie: input.cookie } },
    (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(performance.now() - started);
        statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
      });
    },
  );
  req.on('error', (err: NodeJS.ErrnoException) => {
    statuses[err.code ?? 'error'] = (statuses[err.code ?? 'error'] ?? 0) + 1;
  });
  req.end();
}

async function main() {
  const interval = 1000 / input.rate;
  let due = performance.now();
  const tick = () => {
    const now = performance.now();
    while (due <= now) {
      load();
      due += interval;
    }
  };
  const ticker = setInterval(tick, Math.max(1, Math.floor(interval / 2)));
  for (const phase of input.phases) {
    latencies = [];
    statuses = {};
    const began = performance.now();
    await new Promise((resolve) => setTimeout(resolve, phase.seconds * 1000));
    emit({
      phase: phase.name,
      seconds: (performance.now() - began) / 1000,
      count: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: percentile(latencies, 100),
      statuses,
    });
  }
  clearInterval(ticker);
  agent.destroy();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
