/**
 * The load generators the orchestrator runs as separate processes on the load CPU: autocannon for
 * HTTP throughput, pgbench (or, without it, a pg loop) for PostgreSQL's own rate of the move SQL,
 * and the bench's own clients (bench/clients/*.ts) for games, pages, storms and idle sockets.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOAD_CPU, pinned, ROOT, startChild, tsxScript, withFileLimit } from './common.js';
import { cpuMeter } from './cpu.js';

export const scratch = mkdtempSync(path.join(tmpdir(), 'ttt-bench-'));
let inputs = 0;

/** Writes a client's input to a file (game lists are too long for argv or the environment). */
export function inputFile(value: unknown): string {
  const file = path.join(scratch, `input-${++inputs}.json`);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

export interface HttpResult {
  /** 2xx responses per second. */
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  bytesPerResponse: number;
  seconds: number;
  requests: number;
  /** CPU seconds used by each group of server processes given, and by autocannon itself. */
  serverCpu: Record<string, number>;
  clientCpu: number;
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end without blocking this process (it must keep reading the app's logs). */
export function run(command: string[]): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `command` under bash and reads its CPU time from bash's `times` (printed last on stderr). */
async function runTimed(command: string[]): Promise<Finished & { cpu: number }> {
  const out = await run(['bash', '-c', '"$@"; status=$?; times >&2; exit $status', 'bash', ...command]);
  const lines = out.stderr.trim().split('\n');
  const children = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(lines.at(-1) ?? '');
  const cpu = children ? Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4]) : Number.NaN;
  return { ...out, stderr: lines.slice(0, -2).join('\n'), cpu };
}

/** autocannon as a separate process on the load CPU; throughput of 2xx responses. */
export async function autocannon(
  url: string,
  seconds: number,
  connections: number,
  headers: Record<string, string> = {},
  servers: Record<string, number[]> = {},
): Promise<HttpResult> {
  const args = ['-j', '-c', String(connections), '-d', String(seconds)];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  const meters = Object.entries(servers).map(([name, pids]) => [name, cpuMeter(pids)] as const);
  const out = await runTimed(pinned(LOAD_CPU, [process.execPath, path.join(ROOT, 'node_modules/autocannon/autocannon.js'), ...args, url]));
  const serverCpu = Object.fromEntries(meters.map(([name, meter]) => [name, meter()]));
  if (out.code !== 0) throw new Error(`autocannon ${url} failed: ${out.stderr}`);
  const result = JSON.parse(out.stdout) as {
    duration: number;
    '2xx': number;
    non2xx: number;
    errors: number;
    timeouts: number;
    latency: { p50: number; p99: number };
    throughput: { total: number };
    requests: { total: number };
  };
  if (result['2xx'] === 0) throw new Error(`autocannon ${url}: no 2xx response (${result.non2xx} non-2xx, ${result.errors} errors)`);
  return {
    rps: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    bytesPerResponse: result.throughput.total / Math.max(1, result.requests.total),
    seconds: result.duration,
    requests: result.requests.total,
    serverCpu,
    clientCpu: out.cpu,
  };
}

/** Runs one of bench/clients/*.ts on the load CPU with its input; returns the handle. */
export function client(script: string, input: unknown, extraArgs: string[] = []) {
  return startChild(withFileLimit(pinned(LOAD_CPU, tsxScript(`clients/${script}`, [inputFile(input), ...extraArgs]))), {}, script);
}

// --- PostgreSQL's own rate for the move SQL ---------------------------------------------------

/**
 * The statements a move needs at the least, as the app writes them (src/game/store.ts
 * recordMoves): insert one move row, update the game row guarded by its ply, in one transaction.
 * Each pgbench client plays its own games, nine moves each, from its own block of seeded games.
 */
const PGBENCH_SCRIPT = String.raw`\set n :n + 1
\set g :gbase + :client_id * :per + (:n - 1) / 9
\set ply (:n - 1) % 9
\set odd :ply % 2
BEGIN;
INSERT INTO moves (game_id, variant, ply, cell, mark, player_id, created_at)
  VALUES ('b' || lpad(CAST(:g AS text), 11, '0'), 'classic', :ply + 1, :ply, CASE WHEN :odd = 0 THEN 'X' ELSE 'O' END, :uid, now());
UPDATE games SET board = 'XOXOXOXOX', ply = :ply + 1, version = version + 1, status = 'active', result = NULL, reason = NULL,
    turn_started_at = now(), updated_at = now(), finished_at = NULL
  WHERE id = 'b' || lpad(CAST(:g AS text), 11, '0') AND ply = :ply RETURNING version;
END;
`;

export function hasPgbench(): boolean {
  return spawnSync('sh', ['-c', 'command -v pgbench'], { encoding: 'utf8' }).status === 0;
}

export interface PgbenchRun {
  databaseUrl: string;
  clients: number;
  seconds: number;
  /** First seeded pgbench game of this run, and games per client. */
  gameBase: number;
  gamesPerClient: number;
  userId: number;
}

/** Transactions (= moves) per second from pgbench, prepared statements, on the load CPU. */
export async function pgbench(options: PgbenchRun): Promise<number> {
  const script = path.join(scratch, 'moves.pgbench.sql');
  writeFileSync(script, PGBENCH_SCRIPT);
  const args = [
    '-n', '-M', 'prepared', '-c', String(options.clients), '-j', '1', '-T', String(Math.max(1, Math.round(options.seconds))),
    '-D', 'n=0', '-D', `gbase=${options.gameBase}`, '-D', `per=${options.gamesPerClient}`, '-D', `uid=${options.userId}`,
    '-f', script, options.databaseUrl,
  ];
  const out = await run(pinned(LOAD_CPU, ['pgbench', ...args]));
  const text = `${out.stdout}\n${out.stderr}`;
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(text);
  const failed = /number of failed transactions: (\d+)/.exec(text);
  if (out.code !== 0 || !tps || (failed && Number(failed[1]) > 0) || /aborted/i.test(text)) {
    throw new Error(`pgbench failed:\n${text}`);
  }
  return Number(tps[1]);
}
