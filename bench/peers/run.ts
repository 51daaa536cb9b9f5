/**
 * boardgame.io, the framework people would pick instead, measured on this machine:
 * `npm run bench:peers`. Its tutorial TicTacToe on its own `Server`, driven by its own `Client`
 * over its SocketIO transport, with its default in-memory storage and with the Postgres storage
 * adapter from the npm registry (bgio-postgres). Server on CPU 0, clients on CPU 1, as `npm run
 * bench` runs ours. Rows: moves/s with 200 matches playing as fast as they can (a new match every
 * nine moves, its lobby calls included), and move latency at light load (10 matches, a move a
 * second each). Not yet side by side with ours in `npm run bench` (issue 17).
 *
 * Durability is not the same as ours: boardgame.io sends the new state to the players before
 * its storage write finishes (Master.onUpdate), so a move can be seen and then lost.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { DEFAULT_DATABASE_URL } from '../lib/db.js';
import { LOAD_CPU, pinned, ROOT, SERVER_CPU, SMOKE, startChild, stopAllChildren } from '../lib/common.js';

const SECONDS = SMOKE ? 2 : 10;
const THROUGHPUT_MATCHES = SMOKE ? 10 : 200;
const LIGHT_MATCHES = 10;
const LIGHT_INTERVAL_MS = 1000;

interface Result {
  mode: string;
  moves: number;
  movesPerS: number;
  p50: number;
  p99: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function withDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
  const serverUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const name = `bgio_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    return await run(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function measure(storage: 'memory' | 'postgres', databaseUrl: string | null): Promise<Result[]> {
  const port = await freePort();
  const env: Record<string, string> = { NODE_ENV: 'production', ...(databaseUrl ? { PG_URL: databaseUrl } : {}) };
  const server = startChild(pinned(SERVER_CPU, [process.execPath, `${ROOT}bench/peers/server.cjs`, String(port), storage]), env, `boardgame.io server (${storage})`);
  await server.waitForJson((v) => v.listening === port, 30_000);
  const url = `http://127.0.0.1:${port}`;
  const client = (args: string[]) => startChild(pinned(LOAD_CPU, [process.execPath, `${ROOT}bench/peers/client.cjs`, url, ...args]), { NODE_ENV: 'production' }, `boardgame.io clients (${args[0]})`);
  const results: Result[] = [];
  for (const args of [['throughput', String(THROUGHPUT_MATCHES), String(SECONDS)], ['paced', String(LIGHT_MATCHES), String(SECONDS), String(LIGHT_INTERVAL_MS)]]) {
    const run = client(args);
    results.push(await run.waitForJson<Result>((v) => v.mode === args[0], (SECONDS + 60) * 1000));
    await run.stop();
  }
  await server.stop();
  return results;
}

async function main() {
  const fixed = (n: number, digits = 1) => n.toFixed(digits);
  const rows: string[] = [];
  for (const storage of ['memory', 'postgres'] as const) {
    const results = storage === 'memory' ? await measure(storage, null) : await withDatabase((url) => measure(storage, url));
    const [throughput, light] = results as [Result, Result];
    rows.push(
      `| boardgame.io, ${storage === 'memory' ? 'in memory' : 'bgio-postgres'} | ${fixed(throughput.movesPerS, 0)} moves/s (${THROUGHPUT_MATCHES} matches) | ${fixed(light.p50)} / ${fixed(light.p99)} ms (${light.moves} moves) |`,
    );
  }
  console.log(`| peer | moves/s | light-load latency p50 / p99 (${LIGHT_MATCHES} matches, a move every ${LIGHT_INTERVAL_MS / 1000} s each) |`);
  console.log('| --- | --- | --- |');
  for (const row of rows) console.log(row);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => stopAllChildren());
