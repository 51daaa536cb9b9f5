/**
 * Opens many signed-in WebSockets to one app instance and holds them idle (each subscribed to the
 * lobby, as the lobby page does), until the orchestrator writes `close` on stdin.
 *
 *   node --import tsx bench/clients/idle.ts <input.json>   ({ url, origin, cookie, count })
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { emit, onStdinLine } from '../lib/common.js';

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { url: string; origin: string; cookie: string; count: number };
/** Upgrades in flight at once. */
const CONCURRENCY = 100;

const sockets: WebSocket[] = [];
const failures: Record<string, number> = {};

function open(): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${input.url}/ws`, { headers: { Cookie: input.cookie, Origin: input.origin }, perMessageDeflate: false });
    const fail = (reason: string) => {
      failures[reason] = (failures[reason] ?? 0) + 1;
      resolve();
    };
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe-lobby' }));
      sockets.push(ws);
      ws.on('error', () => undefined);
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => fail(`HTTP ${res.statusCode}`));
    ws.once('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
  });
}

async function main() {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < input.count) {
        next += 1;
        await open();
      }
    }),
  );
  emit({ opened: sockets.length, failures, ms: performance.now() - started });
  onStdinLine((line) => {
    if (line !== 'close') return;
    for (const ws of sockets) ws.terminate();
    emit({ closed: sockets.length });
    setTimeout(() => process.exit(0), 50);
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
