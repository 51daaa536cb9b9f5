/**
 * boardgame.io on this machine, for the bench: its tutorial TicTacToe on its own `Server`
 * (server.cjs), played by its own `Client` over its SocketIO transport (client.cjs), with its
 * default in-memory storage or the Postgres adapter from the npm registry (bgio-postgres). Server
 * on CPU 0, clients on CPU 1, as the bench runs ours.
 *
 * Durability is not the same as ours: boardgame.io sends the new state to the players before
 * its storage write finishes (Master.onUpdate), so a move can be seen and then lost.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { LOAD_CPU, pinned, ROOT, SERVER_CPU, SMOKE, startChild } from '../lib/common.js';

const SECONDS = SMOKE ? 2 : 10;
export const THROUGHPUT_MATCHES = SMOKE ? 10 : 200;
export const LIGHT_MATCHES = 10;
export const LIGHT_INTERVAL_MS = 1000;

export interface PeerResult {
  mode: string;
  moves: number;
  movesPerS: number;
  p50: number;
  p99: number;
  /** Matches that stopped on a timeout. */
  failures: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Runs `run` with a fresh database on `serverUrl` for bgio-postgres, dropped afterwards. */
export async function withPeerDatabase<T>(serverUrl: string, run: (url: string) => Promise<T>): Promise<T> {
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

/**
 * One run of each workload against a fresh boardgame.io server: [throughput, light load]. Moves/s
 * with THROUGHPUT_MATCHES matches as fast as they go (a new match every nine moves, its lobby
 * calls included); latency with LIGHT_MATCHES matches at a move a second each.
 */
export async function measurePeer(storage: 'memory' | 'postgres', databaseUrl: string | null): Promise<[PeerResult, PeerResult]> {
  const port = await freePort();
  const env: Record<string, string> = { NODE_ENV: 'production', ...(databaseUrl ? { PG_URL: databaseUrl } : {}) };
  const server = startChild(pinned(SERVER_CPU, [process.execPath, `${ROOT}bench/peers/server.cjs`, String(port), storage]), env, `boardgame.io server (${storage})`);
  await server.waitForJson((v) => v.listening === port, 30_000);
  const url = `http://127.0.0.1:${port}`;
  const client = (args: string[]) => startChild(pinned(LOAD_CPU, [process.execPath, `${ROOT}bench/peers/client.cjs`, url, ...args]), { NODE_ENV: 'production' }, `boardgame.io clients (${args[0]})`);
  const results: PeerResult[] = [];
  for (const args of [['throughput', String(THROUGHPUT_MATCHES), String(SECONDS)], ['paced', String(LIGHT_MATCHES), String(SECONDS), String(LIGHT_INTERVAL_MS)]]) {
    const run = client(args);
    results.push(await run.waitForJson<PeerResult>((v) => v.mode === args[0], (SECONDS + 60) * 1000));
    await run.stop();
  }
  await server.stop();
  return results as [PeerResult, PeerResult];
}

