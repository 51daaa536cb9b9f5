/**
 * `npm run bench`: every workload of issue 7 side by side with its baseline, measured in the same
 * run (the machines are shared and noisy: absolute numbers move, ratios hold).
 *
 * It starts what it needs: a fresh PostgreSQL database on the server named by DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/postgres; dropped at the end), the built app behind
 * nginx with the repo's nginx.conf (src/ops/stack.ts), and the baselines (node:http hello world,
 * a bare Express + EJS page, a bare ws relay, pgbench). Servers are pinned to CPU 0 and the load
 * generators — all separate processes — to CPU 1 where taskset and two CPUs exist; PostgreSQL is
 * the machine's own service and runs where the kernel puts it.
 *
 * Each workload: a warm-up, then three runs (interleaved with its baseline where both can stay
 * up), the median reported with its ratio to the baseline's median. Prints one table and writes
 * bench/results/latest.json.
 *
 *   npm run bench                 about 4 minutes
 *   npm run bench:smoke           BENCH_SMOKE=1: tiny durations, only proves every workload runs
 *
 * BENCH_DATABASE=embedded measures on the zero-setup embedded PostgreSQL server (started by the
 * product's own code on a temporary DATA_DIR) instead of the machine's server.
 *
 * BENCH_APP=tsx runs the app from source (`node --import tsx src/server.ts`) instead of building
 * it first; the smoke run does that by default.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { startEmbeddedServer } from '../src/db/embedded.js';
import { freePort, startStack, type Stack } from '../src/ops/stack.js';
import {
  hardFileLimit,
  LOAD_CPU,
  median,
  pinned,
  PINNING,
  ROOT,
  RUNS,
  rssKiB,
  SERVER_CPU,
  SIZES,
  sleep,
  SMOKE,
  startChild,
  stopAllChildren,
  tsxScript,
  waitForHttp,
  withFileLimit,
  type Child,
} from './lib/common.js';
import { childPids, cpuMeter, machineCpuMeter } from './lib/cpu.js';
import { createBenchDatabase, DEFAULT_DATABASE_URL, seed, type BenchDatabase, type Seed } from './lib/db.js';
import { LIGHT_INTERVAL_MS, LIGHT_MATCHES, measurePeer, THROUGHPUT_MATCHES, withPeerDatabase, type PeerResult } from './peers/peer.js';
import { autocannon, client, hasPgbench, pgbench, scratch, type HttpResult } from './lib/load.js';

const started = Date.now();
const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}`);

/** The app's pg.Pool size (src/db/database.ts default): the concurrency PostgreSQL sees from one instance. */
const APP_POOL_SIZE = 10;
/**
 * The app lets each WebSocket send 10 messages/s (bursts of 20). A game's two sockets share its
 * moves, plus one subscribe each per game, so 70 ms between moves keeps both under the limit.
 */
const MOVE_PACE_MS = 70;
/** Finished games in the database before the run, as on a site that has been up a while. */
const HISTORY_GAMES = SMOKE ? 1_000 : 20_000;
/** Normal page loads per second during the storm measurements. */
const PAGE_RATE = SMOKE ? 40 : 100;
const STORM_RATE = 50;
/** Addresses the botnet storm sends from (all of 127.0.0.0/8 reaches loopback on Linux). */
const BOTNET = Array.from({ length: 200 }, (_, i) => `127.0.${Math.floor((i + 2) / 250)}.${((i + 2) % 250) + 1}`);

/** BENCH_ONLY=http,moves,storm,idle,ai runs only those (results/latest.json is then left alone). */
const ONLY = process.env.BENCH_ONLY?.split(',').map((w) => w.trim());
const want = (workload: string) => !ONLY || ONLY.includes(workload);

const appMode = process.env.BENCH_APP ?? (SMOKE ? 'tsx' : 'dist');
const appEntry = appMode === 'tsx' ? [process.execPath, '--import', 'tsx', path.join(ROOT, 'src/server.ts')] : [process.execPath, path.join(ROOT, 'dist/server.js')];

/** The issue's ids, in its order. */
const ROW_ORDER = ['game_page', 'game_page_nginx', 'static_nginx', 'moves_per_s', 'moves_vs_bgio', 'moves_vs_bgio_pg', 'move_p99_ms', 'light_p99_ms', 'idle_socket_kib', 'storm_page_p99', 'ai_perfect_median_ms', 'hello_world'];

interface Row {
  id: string;
  label: string;
  value: number;
  unit: string;
  baseline: number | null;
  baselineLabel: string;
  target: string | null;
  /** Whether the target is met; null without a target. */
  met: boolean | null;
  runs: number[];
  baselineRuns: number[];
  /** Pages: ratio to the hello-world rate of the same run. */
  perHello?: number;
}

const notes: string[] = [];
/** Warnings and errors the app logged, by message. */
const appProblems = new Map<string, number>();
function appProblem(line: string) {
  try {
    const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
    const key = `${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`.slice(0, 160);
    appProblems.set(key, (appProblems.get(key) ?? 0) + 1);
  } catch {
    // a line split across chunks: not worth reassembling for a summary
  }
}
const note = (text: string) => {
  notes.push(text);
  log(text);
};

function row(r: Omit<Row, 'met'> & { check?: (value: number, ratio: number | null) => boolean }): Row {
  const ratio = r.baseline ? r.value / r.baseline : null;
  const { check, ...rest } = r;
  return { ...rest, met: check ? check(r.value, ratio) : null };
}

// --- steps ---------------------------------------------------------------------------------------

function build() {
  if (appMode !== 'dist') return;
  log('building the app (npm run build)');
  const out = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`npm run build failed:\n${out.stdout}\n${out.stderr}`);
}

async function startServer(script: string, env: Record<string, string> = {}): Promise<{ child: Child; port: number }> {
  const child = startChild(pinned(SERVER_CPU, tsxScript(script)), { PORT: '0', ...env }, script);
  const { listening } = await child.waitForJson<{ listening: number }>((v) => 'listening' in v, 30_000);
  return { child, port: listening };
}

/** A wrapper that starts nginx on the server CPU (its workers inherit the affinity). */
function pinnedNginx(): string {
  if (!PINNING) return 'nginx';
  const file = path.join(scratch, 'nginx');
  writeFileSync(file, `#!/bin/sh\nexec taskset -c ${SERVER_CPU} nginx "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

function appEnv(secret: string): Record<string, string> {
  // Production settings: cached templates, the default bcrypt cost, one log line per request.
  return { NODE_ENV: 'production', SESSION_SECRET: secret, LOG_LEVEL: 'info', BCRYPT_COST: '12' };
}

async function checkPage(url: string, cookie: string | undefined, username: string): Promise<string> {
  const res = await fetch(url, { headers: cookie ? { Cookie: cookie } : {}, redirect: 'manual' });
  const html = await res.text();
  if (res.status !== 200 || !html.includes('Log out') || !html.includes(username)) {
    throw new Error(`${url} is not the signed-in game page (${res.status}):\n${html.slice(0, 500)}`);
  }
  return html;
}

interface HttpTarget {
  url: string;
  headers?: Record<string, string>;
  /** Processes whose CPU time to measure, by name (pids are read at the start of each run). */
  servers?: () => Record<string, number[]> | Promise<Record<string, number[]>>;
}

/** autocannon over several targets: a warm-up each, then RUNS rounds with the targets interleaved. */
async function httpRounds(targets: Record<string, HttpTarget>): Promise<Record<string, HttpResult[]>> {
  const results: Record<string, HttpResult[]> = {};
  for (const [name, t] of Object.entries(targets)) {
    if (SIZES.warmupS > 0) await autocannon(t.url, SIZES.warmupS, SIZES.httpConnections, t.headers);
    results[name] = [];
  }
  for (let run = 1; run <= RUNS; run++) {
    for (const [name, t] of Object.entries(targets)) {
      const r = await autocannon(t.url, SIZES.httpRunS, SIZES.httpConnections, t.headers, (await t.servers?.()) ?? {});
      if (r.non2xx || r.errors) note(`${name} run ${run}: ${r.non2xx} non-2xx responses, ${r.errors} errors`);
      results[name]!.push(r);
    }
    log(`HTTP round ${run}: ${Object.entries(results).map(([n, rs]) => `${n} ${rs.at(-1)!.rps.toFixed(0)}/s`).join(', ')}`);
  }
  return results;
}

/** "app 0.93 CPU, 0.41 ms/req; postgres …": how busy each side was, and its CPU cost per request. */
function cpuSummary(runs: HttpResult[]): string {
  const names = Object.keys(runs[0]?.serverCpu ?? {});
  const parts = names.map((n) => {
    const busy = median(runs.map((r) => r.serverCpu[n]! / r.seconds));
    const perRequest = median(runs.map((r) => (r.serverCpu[n]! / Math.max(1, r.requests)) * 1000));
    return `${n} ${fmt(busy, 2)} CPU, ${fmt(perRequest, 3)} ms/req`;
  });
  parts.push(`autocannon ${fmt(median(runs.map((r) => r.clientCpu / r.seconds)), 2)} CPU`);
  return parts.join('; ');
}

interface GamesPhase {
  phase: string;
  movesPerS: number;
  p50: number;
  p99: number;
  samples: number;
  errors: Record<string, number>;
  stalls: number;
  exhausted: number;
}

const runPhases = (seconds: number) => [
  { name: 'warmup', seconds: SIZES.warmupS },
  ...Array.from({ length: RUNS }, (_, i) => ({ name: `run${i + 1}`, seconds })),
];

async function playGames(
  label: string,
  input: { url: string; origin: string; slots: Seed['slots']; mode: 'closed' | 'open'; rate: number },
  servers: () => Promise<Record<string, number[]>>,
): Promise<GamesPhase[]> {
  // The warm-up is twice as long here: its first half brings the games in one after another.
  const phases = runPhases(SIZES.movesRunS).map((p) => (p.name === 'warmup' ? { ...p, seconds: 2 * p.seconds } : p));
  const games = client('games.ts', { ...input, paceMs: MOVE_PACE_MS, phases, rampS: SIZES.warmupS });
  const results: GamesPhase[] = [];
  let meters: (readonly [string, () => number])[] = [];
  let measuredFrom = 0;
  for (const phase of phases) {
    results.push(await games.waitForJson<GamesPhase>((v) => v.phase === phase.name, 120_000));
    if (phase.name === 'warmup') {
      // Measured from the end of the warm-up to the end of the last run.
      meters = [...Object.entries(await servers()).map(([name, pids]) => [name, cpuMeter(pids)] as const), ['machine', machineCpuMeter()] as const];
      measuredFrom = performance.now();
    }
  }
  const seconds = (performance.now() - measuredFrom) / 1000;
  const cpu = meters.map(([name, meter]) => [name, meter()] as const);
  await games.exited;
  const runs = results.slice(1);
  const moves = runs.reduce((n, r) => n + r.movesPerS * SIZES.movesRunS, 0);
  if (cpu.length) {
    note(`${label}: ${cpu.map(([name, used]) => `${name} ${fmt(used / seconds, 2)} CPU, ${fmt((used / Math.max(1, moves)) * 1000, 3)} ms/move`).join('; ')}`);
  }
  const errors: Record<string, number> = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
  const stalls = runs.reduce((n, r) => n + r.stalls, 0);
  const exhausted = runs.reduce((n, r) => Math.max(n, r.exhausted), 0);
  if (Object.keys(errors).length || stalls || exhausted) {
    note(`${label}: errors ${JSON.stringify(errors)}, stalled games ${stalls}, games that ran out of seeded games ${exhausted}`);
  }
  log(`${label}: ${runs.map((r) => `${r.movesPerS.toFixed(0)} moves/s p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} ms`).join(' | ')}`);
  return runs;
}

interface PagesPhase {
  phase: string;
  count: number;
  p50: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
}

interface StormResult {
  sent: number;
  answered: number;
  unanswered: number;
  statuses: Record<string, number>;
  latency: Record<string, { p50: number; p99: number }>;
}

/**
 * Waits until the processes together use under a fifth of a CPU (a queue of bcrypt work or of
 * presence updates has drained), so that one workload does not spill into the next; returns the ms waited.
 */
async function waitForQuiet(pids: () => Promise<number[]>, maxMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    const meter = cpuMeter(await pids());
    await sleep(500);
    if (meter() < 0.1 || performance.now() - start > maxMs) return performance.now() - start;
  }
}

/** Page loads at a fixed rate, with or without a storm of wrong-password logins alongside. */
async function pagesDuring(url: string, cookie: string, storm: { sources: string[] } | null, stormUrl: string, appPid: number) {
  const phases = storm
    ? [{ name: 'onset', seconds: SIZES.stormRunS }, ...Array.from({ length: RUNS }, (_, i) => ({ name: `run${i + 1}`, seconds: SIZES.stormRunS }))]
    : [{ name: 'warmup', seconds: SIZES.warmupS }, ...Array.from({ length: RUNS }, (_, i) => ({ name: `run${i + 1}`, seconds: SIZES.stormRunS }))];
  const total = phases.reduce((s, p) => s + p.seconds, 0);
  const attacker = storm ? client('storm.ts', { url: stormUrl, rate: STORM_RATE, seconds: total + 0.5, sources: storm.sources }) : null;
  if (attacker) await sleep(300); // its GET /login first, so the attempts and the page loads start together
  const pages = client('pages.ts', { url, cookie, rate: PAGE_RATE, phases });
  const results: PagesPhase[] = [];
  const meter = cpuMeter([appPid]);
  const began = performance.now();
  for (const phase of phases) results.push(await pages.waitForJson<PagesPhase>((v) => v.phase === phase.name, 120_000));
  const appCpu = meter() / ((performance.now() - began) / 1000);
  const stormResult = attacker ? await attacker.waitForJson<StormResult>((v) => 'sent' in v, 60_000) : null;
  for (const r of results) {
    const bad = Object.entries(r.statuses).filter(([s]) => s !== '200');
    if (bad.length) note(`page loads (${storm ? 'storm' : 'no storm'}) ${r.phase}: ${JSON.stringify(r.statuses)}`);
  }
  return { onset: storm ? results[0]! : null, runs: results.slice(1), storm: stormResult, appCpu };
}

async function idleSockets(dbUrl: string, secret: string, cookie: string, count: number): Promise<number[]> {
  const perSocket: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const port = await freePort();
    const server = startChild(
      withFileLimit(pinned(SERVER_CPU, appEntry)),
      { ...appEnv(secret), PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: dbUrl },
      'idle-socket app instance',
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${url}/readyz`, server);
      const input = { url: url.replace('http', 'ws'), origin: url, cookie };
      // Warm-up: the code paths of an upgrade, so that one-off costs are not counted per socket.
      const warm = client('idle.ts', { ...input, count: Math.min(500, count) });
      await warm.waitForJson((v) => 'opened' in v);
      warm.process.stdin!.write('close\n');
      await warm.exited;
      await sleep(SMOKE ? 300 : 1_500);
      const before = rssKiB(server.pid);
      const idle = client('idle.ts', { ...input, count });
      const opened = await idle.waitForJson<{ opened: number; failures: Record<string, number>; ms: number }>((v) => 'opened' in v, 180_000);
      await sleep(SMOKE ? 300 : 2_000);
      const after = rssKiB(server.pid);
      const kib = (after - before) / Math.max(1, opened.opened);
      perSocket.push(kib);
      if (opened.opened < count) note(`idle sockets run ${run}: only ${opened.opened} of ${count} opened: ${JSON.stringify(opened.failures)}`);
      log(
        `idle sockets run ${run}: ${opened.opened} opened in ${(opened.ms / 1000).toFixed(1)} s, RSS ${(before / 1024).toFixed(0)} → ${(after / 1024).toFixed(0)} MiB, ${kib.toFixed(1)} KiB each`,
      );
      idle.process.stdin!.write('close\n');
      await idle.exited;
    } finally {
      await server.stop('SIGKILL');
    }
  }
  return perSocket;
}

/** Lines of the app's page that the baseline's lacks, apart from the ones that must differ. */
function pageDifference(app: string, baseline: string): string {
  writeFileSync(path.join(scratch, 'page-app.html'), app);
  writeFileSync(path.join(scratch, 'page-baseline.html'), baseline);
  const normal = (html: string) =>
    html
      .split('\n')
      .map((l) => l.trim().replace(/name="_csrf" value="[^"]*"/g, '').replace(/https?:\/\/127\.0\.0\.1:\d+/g, ''))
      .filter(Boolean);
  const other = new Set(normal(baseline));
  const extra = normal(app).filter((l) => !other.has(l));
  if (extra.length === 0) return ' (the same lines)';
  return `; ${extra.length} lines differ, e.g. ${extra
    .slice(0, 2)
    .map((l) => JSON.stringify(l.slice(0, 100)))
    .join(', ')}`;
}

// --- report ----------------------------------------------------------------------------------------

function fmt(value: number | null, digits?: number): string {
  if (value === null || Number.isNaN(value)) return '—';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3);
  return value.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d });
}

function printTable(rows: Row[]) {
  const header = ['id', 'value', 'unit', 'baseline', 'ratio', 'target', 'met', '÷ hello', 'runs (value | baseline)'];
  const lines = rows.map((r) => [
    r.id,
    fmt(r.value),
    r.unit,
    r.baseline === null ? '—' : `${fmt(r.baseline)} ${r.baselineLabel}`,
    r.baseline ? fmt(r.value / r.baseline, 2) : '—',
    r.target ?? '—',
    r.met === null ? '' : r.met ? 'yes' : 'NO',
    r.perHello === undefined ? '' : fmt(r.perHello, 2),
    `${r.runs.map((v) => fmt(v)).join(' ')}${r.baselineRuns.length ? ` | ${r.baselineRuns.map((v) => fmt(v)).join(' ')}` : ''}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const print = (cells: string[]) => console.log(`| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`);
  console.log('');
  print(header);
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) print(l);
  console.log('');
}

function machine(loadAtStart: number): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  return `${cpus.length} × ${model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; servers pinned to CPU ${PINNING ? SERVER_CPU : '(none)'}, load to CPU ${PINNING ? LOAD_CPU : '(none)'}; load average ${loadAtStart.toFixed(2)} at start, ${os.loadavg()[0]!.toFixed(2)} at the end`;
}

// --- main ---------------------------------------------------------------------------------------------

/** The embedded server (started on a temporary DATA_DIR) when BENCH_DATABASE=embedded asks for it. */
async function benchEmbeddedServer() {
  if (process.env.BENCH_DATABASE !== 'embedded') return undefined;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ttt-bench-embedded-'));
  const server = await startEmbeddedServer(dataDir, pino({ level: 'warn' }));
  return {
    url: server.url,
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** boardgame.io's runs, RUNS of each storage, alternating: [throughput, light load] each. */
async function peerRuns(serverUrl: string): Promise<Record<'memory' | 'postgres', [PeerResult, PeerResult][]>> {
  const runs: Record<'memory' | 'postgres', [PeerResult, PeerResult][]> = { memory: [], postgres: [] };
  for (let i = 0; i < RUNS; i++) {
    runs.memory.push(await measurePeer('memory', null));
    runs.postgres.push(await withPeerDatabase(serverUrl, (url) => measurePeer('postgres', url)));
  }
  const line = (storage: 'memory' | 'postgres') =>
    runs[storage].map(([t, l]) => `${t.movesPerS.toFixed(0)} moves/s, light p99 ${l.p99.toFixed(2)} ms${t.failures + l.failures ? `, ${t.failures + l.failures} matches timed out` : ''}`).join(' | ');
  log(`boardgame.io in memory: ${line('memory')}; + bgio-postgres: ${line('postgres')}`);
  return runs;
}

async function main() {
  const cleanup: (() => Promise<void>)[] = [];
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error('\ninterrupted: cleaning up');
    void Promise.allSettled(cleanup.reverse().map((c) => c())).then(() => process.exit(130));
  });

  const loadAtStart = os.loadavg()[0]!;
  log(`bench${SMOKE ? ' (smoke)' : ''}: app from ${appMode === 'tsx' ? 'src via tsx' : 'dist'}, ${PINNING ? `servers on CPU ${SERVER_CPU}, load on CPU ${LOAD_CPU}` : 'no CPU pinning (needs taskset and 2 CPUs)'}, load average ${loadAtStart.toFixed(2)}`);
  if (spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).status !== 0) throw new Error('nginx is not installed (apt-get install nginx)');
  if (!hasPgbench()) throw new Error('pgbench is not installed (it comes with the PostgreSQL packages: apt-get install postgresql-contrib or postgresql-client)');
  build();

  const embedded = await benchEmbeddedServer();
  if (embedded) cleanup.push(() => embedded.stop());
  const serverUrl = embedded?.url ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  let db: BenchDatabase | undefined;
  let stack: Stack | undefined;
  let appOutput = '';
  let adminRef: pg.Client | undefined;
  try {
    db = await createBenchDatabase(serverUrl);
    const dbRef = db;
    cleanup.push(() => dbRef.drop());
    cleanup.push(() => stopAllChildren());
    log(`database ${db.name} on PostgreSQL ${db.serverVersion}`);
    const admin = new pg.Client({ connectionString: db.url });
    admin.on('error', () => undefined);
    await admin.connect();
    adminRef = admin;
    /** The PostgreSQL backends serving the bench database (the app's pool and listener). */
    const backends = async () =>
      (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map((r) => r.pid);
    const secret = randomBytes(32).toString('hex');
    const pgbenchPerClient = SMOKE ? 150 : 600;
    const data = await seed(db.url, {
      sessionSecret: secret,
      slots: SIZES.games,
      gamesPerSlot: SIZES.gamesPerSlot,
      pgbenchGames: (RUNS + 1) * APP_POOL_SIZE * pgbenchPerClient,
      historyGames: HISTORY_GAMES,
    });
    log(
      `seeded ${SIZES.games * 2 + 4} users with sessions, ${SIZES.games * SIZES.gamesPerSlot + (RUNS + 1) * APP_POOL_SIZE * pgbenchPerClient + 1} games to play ` +
        `and ${HISTORY_GAMES} finished ones (${HISTORY_GAMES * 9} moves)`,
    );

    // The product: one instance behind nginx, both on the server CPU.
    stack = await startStack({
      databaseUrl: db.url,
      instances: 1,
      appCommand: withFileLimit(pinned(SERVER_CPU, appEntry)),
      env: appEnv(secret),
      onOutput: (_i, chunk) => {
        appOutput = (appOutput + chunk).slice(-4000);
        for (const line of chunk.split('\n')) if (/"level":[45]0/.test(line)) appProblem(line);
      },
      nginxBinary: pinnedNginx(),
    });
    const stackRef = stack;
    cleanup.push(() => stackRef.stop());
    const instance = stack.instances[0]!;
    const appUrl = `http://127.0.0.1:${instance.port}`;
    log(`app instance pid ${instance.process.pid} at ${appUrl}, nginx at ${stack.url}`);

    const hello = await startServer('servers/hello.ts');
    const pageBaseline = await startServer('servers/page-baseline.ts', {
      VIEWER_ID: String(data.pageUser.id),
      VIEWER_NAME: data.pageUser.username,
      GAME_ID: data.pageGame,
    });
    const relay = await startServer('servers/ws-relay.ts');

    const pagePath = `/games/${data.pageGame}`;
    const appHtml = await checkPage(appUrl + pagePath, data.pageCookie, data.pageUser.username);
    const baseHtml = await checkPage(`http://127.0.0.1:${pageBaseline.port}${pagePath}`, undefined, data.pageUser.username);
    await checkPage(stack.url + pagePath, data.pageCookie, data.pageUser.username);
    note(`game page: ${Buffer.byteLength(appHtml)} bytes from the app, ${Buffer.byteLength(baseHtml)} from the bare Express + EJS baseline${pageDifference(appHtml, baseHtml)}`);
    const cssPath = /href="(\/static\/css\/site\.css\?v=[^"]+)"/.exec(appHtml)?.[1];
    if (!cssPath) throw new Error('no stylesheet link on the game page');

    // Queries per request, counted inside a harness that builds the app on a counting pool.
    const lastSlot = data.slots[0]!;
    const queries = client('queries.ts', {
      databaseUrl: db.url,
      sessionSecret: secret,
      pageGame: data.pageGame,
      pageCookie: data.pageCookie,
      x: lastSlot.x,
      o: lastSlot.o,
      game: lastSlot.games.at(-1)!,
    });
    type Counted = { count: number; statements: string[] };
    const q = await queries.waitForJson<Record<string, Counted> & { movesPerGame: number[] }>((v) => 'gamePage' in v, 60_000);
    await queries.exited;
    const queryLines = [
      `signed-in game page ${q.gamePage!.count} (${q.gamePage!.statements.map((s) => s.slice(0, 48)).join(' / ')})`,
      `first view ${q.gamePageFirstView!.count}, signed out ${q.gamePageSignedOut!.count}, lobby ${q.lobby!.count}, WebSocket upgrade ${q.wsUpgrade!.count}`,
      `subscribe (both players) ${q.subscribeTwoPlayers!.count}, one move over the WebSocket ${q.move!.count} (${q.move!.statements.map((s) => s.slice(0, 40)).join(' / ')})`,
      `per move through a game: ${q.movesPerGame.join(', ')} (the last one rates the game)`,
    ];
    for (const l of queryLines) log(`queries: ${l}`);

    const appPid = instance.process.pid!;
    const nginxWorkers = () => childPids(Number(readFileSync(path.join(stackRef.dir, 'nginx.pid'), 'utf8').trim()));
    const appAndDb = async () => ({ app: [appPid], postgres: await backends() });
    const appAndDbPids = async () => [appPid, ...(await backends())];
    const rows: Row[] = [];
    let helloRps = Number.NaN;
    let helloRuns: number[] = [];
    if (want('http')) {
      // --- HTTP throughput -------------------------------------------------------------------------
      log('HTTP: hello world, bare page, game page, game page through nginx, CSS from the app and from nginx');
      const cookie = { Cookie: data.pageCookie };
      const http = await httpRounds({
        hello: { url: `http://127.0.0.1:${hello.port}/`, servers: () => ({ server: [hello.child.pid] }) },
        pageBaseline: { url: `http://127.0.0.1:${pageBaseline.port}${pagePath}`, servers: () => ({ server: [pageBaseline.child.pid] }) },
        page: { url: appUrl + pagePath, headers: cookie, servers: appAndDb },
        pageNginx: { url: stack.url + pagePath, headers: cookie, servers: async () => ({ nginx: nginxWorkers(), ...(await appAndDb()) }) },
        staticApp: { url: appUrl + cssPath, servers: () => ({ app: [appPid] }) },
        staticNginx: { url: stack.url + cssPath, servers: () => ({ nginx: nginxWorkers() }) },
      });
      for (const [name, runs] of Object.entries(http)) note(`${name}: ${cpuSummary(runs)}`);
      const rps = (name: string) => http[name]!.map((r) => r.rps);
      helloRuns = rps('hello');
      helloRps = median(helloRuns);
      const page = median(rps('page'));
      rows.push(
        row({ id: 'game_page', label: 'signed-in game page', value: page, unit: 'req/s', baseline: median(rps('pageBaseline')), baselineLabel: 'bare Express+EJS', target: 'ratio >= 0.70', check: (_v, r) => r! >= 0.7, runs: rps('page'), baselineRuns: rps('pageBaseline'), perHello: page / helloRps }),
        row({ id: 'game_page_nginx', label: 'game page through nginx', value: median(rps('pageNginx')), unit: 'req/s', baseline: page, baselineLabel: 'straight to the app', target: 'ratio >= 0.90', check: (_v, r) => r! >= 0.9, runs: rps('pageNginx'), baselineRuns: rps('page'), perHello: median(rps('pageNginx')) / helloRps }),
        row({ id: 'static_nginx', label: '/static/ CSS through nginx', value: median(rps('staticNginx')), unit: 'req/s', baseline: median(rps('staticApp')), baselineLabel: 'served by the app', target: 'ratio >= 5', check: (_v, r) => r! >= 5, runs: rps('staticNginx'), baselineRuns: rps('staticApp') }),
      );
    }

    if (want('moves')) {
      // --- moves ----------------------------------------------------------------------------------
      const half = Math.floor(SIZES.gamesPerSlot / 2);
      const quarter = Math.floor(SIZES.gamesPerSlot * 0.75);
      const slotsA = data.slots.map((s) => ({ ...s, games: s.games.slice(0, half) }));
      const slotsB = data.slots.map((s) => ({ ...s, games: s.games.slice(half, quarter) }));
      // The light-load run's games: the last quarter of the first LIGHT_MATCHES slots.
      const slotsC = data.slots.slice(0, LIGHT_MATCHES).map((s) => ({ ...s, games: s.games.slice(quarter, s.games.length - 1) }));
      const wsApp = { url: appUrl.replace('http', 'ws'), origin: appUrl };
      log(`moves: ${SIZES.games} games in parallel over WebSocket, as fast as they go (each game ≤ ${(1000 / MOVE_PACE_MS).toFixed(1)} moves/s)`);
      const closed = await playGames('app, max rate', { ...wsApp, slots: slotsA, mode: 'closed', rate: 0 }, appAndDb);
      const maxRate = median(closed.map((r) => r.movesPerS));
      // 400 sockets closing at once leave presence updates behind: let them finish first.
      note(`after the max-rate run the app and its database were busy for another ${fmt((await waitForQuiet(appAndDbPids, 20_000)) / 1000, 1)} s`);
      const ceiling = (SIZES.games * 1000) / MOVE_PACE_MS;
      if (maxRate > 0.85 * ceiling) note(`moves/s is near the client's pacing ceiling (${ceiling.toFixed(0)}/s): add games to measure the server's limit`);

      log(`PostgreSQL's own rate for the move SQL: pgbench, ${APP_POOL_SIZE} clients (the app's pool size)`);
      const pgRuns: number[] = [];
      const pgCpu: number[] = [];
      for (let i = SIZES.warmupS > 0 ? 0 : 1; i <= RUNS; i++) {
        const machine = machineCpuMeter();
        const tps = await pgbench({
          databaseUrl: db.url,
          clients: APP_POOL_SIZE,
          seconds: i === 0 ? SIZES.warmupS : SIZES.movesRunS,
          gameBase: i * APP_POOL_SIZE * pgbenchPerClient,
          gamesPerClient: pgbenchPerClient,
          userId: data.pgbenchUser,
        });
        if (i > 0) pgRuns.push(tps);
        if (i > 0) pgCpu.push(machine() / (tps * SIZES.movesRunS));
      }
      log(`pgbench: ${pgRuns.map((t) => t.toFixed(0)).join(', ')} moves/s`);
      note(`pgbench: machine ${fmt(median(pgCpu) * 1000, 3)} ms of CPU per move (PostgreSQL and pgbench together)`);

      const latencyRate = maxRate / 2;
      log(`move latency: ${SIZES.games} games at ${latencyRate.toFixed(0)} moves/s (half the max), app and bare ws relay`);
      const latApp = await playGames('app, half rate', { ...wsApp, slots: slotsB, mode: 'open', rate: latencyRate }, appAndDb);
      await waitForQuiet(appAndDbPids, 20_000);
      const relayUrl = `http://127.0.0.1:${relay.port}`;
      const latRelay = await playGames(
        'ws relay, same rate',
        { url: relayUrl.replace('http', 'ws'), origin: relayUrl, slots: slotsB, mode: 'open', rate: latencyRate },
        async () => ({ relay: [relay.child.pid] }),
      );
      note(
        `move latency p50: app ${fmt(median(latApp.map((r) => r.p50)), 2)} ms, relay ${fmt(median(latRelay.map((r) => r.p50)), 2)} ms ` +
          `(achieved ${fmt(median(latApp.map((r) => r.movesPerS)), 0)} and ${fmt(median(latRelay.map((r) => r.movesPerS)), 0)} moves/s)`,
      );
      // --- the peer: boardgame.io, in memory and with Postgres, and our light load -------------
      log(`light load: ${LIGHT_MATCHES} games, a move every ${LIGHT_INTERVAL_MS / 1000} s each`);
      const light = await playGames('app, light load', { ...wsApp, slots: slotsC, mode: 'open', rate: (LIGHT_MATCHES * 1000) / LIGHT_INTERVAL_MS }, appAndDb);
      const peer = await peerRuns(serverUrl);
      const peerRow = (id: string, storage: 'memory' | 'postgres', label: string) =>
        row({ id, label, value: maxRate, unit: 'moves/s', baseline: median(peer[storage].map((r) => r[0].movesPerS)), baselineLabel: `boardgame.io ${storage === 'memory' ? 'in memory' : '+ bgio-postgres'}, ${THROUGHPUT_MATCHES} matches`, target: storage === 'memory' ? 'ratio >= 1' : null, check: (_v, r) => r! >= 1, runs: closed.map((r) => r.movesPerS), baselineRuns: peer[storage].map((r) => r[0].movesPerS) });
      rows.push(
        peerRow('moves_vs_bgio', 'memory', 'moves/s against boardgame.io in memory'),
        peerRow('moves_vs_bgio_pg', 'postgres', 'moves/s against boardgame.io + Postgres'),
        row({ id: 'light_p99_ms', label: `move p99 at light load (${LIGHT_MATCHES} games, 1 move/s each)`, value: median(light.map((r) => r.p99)), unit: 'ms', baseline: median(peer.postgres.map((r) => r[1].p99)), baselineLabel: 'boardgame.io + bgio-postgres', target: 'ratio <= 1', check: (_v, r) => r! <= 1, runs: light.map((r) => r.p99), baselineRuns: peer.postgres.map((r) => r[1].p99) }),
      );
      note(`light load p50: app ${fmt(median(light.map((r) => r.p50)), 2)} ms; boardgame.io in memory ${fmt(median(peer.memory.map((r) => r[1].p50)), 2)} / p99 ${fmt(median(peer.memory.map((r) => r[1].p99)), 2)} ms, + bgio-postgres ${fmt(median(peer.postgres.map((r) => r[1].p50)), 2)} ms (boardgame.io shows a move before its storage has it)`);
      rows.push(
        row({ id: 'moves_per_s', label: 'moves/s over WebSocket', value: maxRate, unit: 'moves/s', baseline: median(pgRuns), baselineLabel: 'pgbench', target: 'ratio >= 0.80', check: (_v, r) => r! >= 0.8, runs: closed.map((r) => r.movesPerS), baselineRuns: pgRuns }),
        row({ id: 'move_p99_ms', label: 'move latency p99', value: median(latApp.map((r) => r.p99)), unit: 'ms', baseline: median(latRelay.map((r) => r.p99)), baselineLabel: 'bare ws relay', target: 'value < 20', check: (v) => v < 20, runs: latApp.map((r) => r.p99), baselineRuns: latRelay.map((r) => r.p99) }),
      );
    }

    if (want('storm')) {
      // --- storm ----------------------------------------------------------------------------------
      log(`storm: page p99 at ${PAGE_RATE} loads/s through nginx, without and with ${STORM_RATE} wrong-password logins/s`);
      const pageUrl = stack.url + pagePath;
      const calm = await pagesDuring(pageUrl, data.pageCookie, null, stack.url, appPid);
      const single = await pagesDuring(pageUrl, data.pageCookie, { sources: ['127.0.0.1'] }, stack.url, appPid);
      const drained = await waitForQuiet(appAndDbPids, SMOKE ? 5_000 : 20_000);
      note(`after the one-address storm the app was busy for another ${fmt(drained / 1000, 1)} s (its queue of bcrypt compares)`);
      const botnet = await pagesDuring(pageUrl, data.pageCookie, { sources: BOTNET }, stack.url, appPid);
      const describeStorm = (name: string, s: Awaited<ReturnType<typeof pagesDuring>>) =>
        `${name}: page p99 ${s.runs.map((r) => fmt(r.p99, 2)).join(' / ')} ms (onset ${fmt(s.onset!.p99, 2)} ms), app ${fmt(s.appCpu, 2)} CPU; ` +
        `attempts ${s.storm!.sent}, answered by status ${JSON.stringify(s.storm!.statuses)}, unanswered at the end ${s.storm!.unanswered}; ` +
        `latency by status ${Object.entries(s.storm!.latency).map(([st, l]) => `${st}: p50 ${fmt(l.p50, 1)} ms`).join(', ')}`;
      note(`no storm: page p99 ${calm.runs.map((r) => fmt(r.p99, 2)).join(' / ')} ms, p50 ${fmt(median(calm.runs.map((r) => r.p50)), 2)} ms, app ${fmt(calm.appCpu, 2)} CPU`);
      note(describeStorm('storm from one address (through nginx)', single));
      note(describeStorm(`storm from ${BOTNET.length} addresses (through nginx)`, botnet));
      rows.push(row({ id: 'storm_page_p99', label: 'page p99 during a login storm', value: median(single.runs.map((r) => r.p99)), unit: 'ms', baseline: median(calm.runs.map((r) => r.p99)), baselineLabel: 'no storm', target: 'ratio <= 2', check: (_v, r) => r! <= 2, runs: single.runs.map((r) => r.p99), baselineRuns: calm.runs.map((r) => r.p99) }));
    }
    // The botnet leaves a queue of bcrypt work behind; this instance is not used again.
    instance.process.kill('SIGKILL');
    await stack.stop();
    stack = undefined;
    await Promise.all([hello.child.stop(), pageBaseline.child.stop(), relay.child.stop()]);

    if (want('idle')) {
      // --- idle sockets -------------------------------------------------------------------------------
      const limit = hardFileLimit();
      const idleCount = Math.min(SIZES.idleSockets, limit - 512);
      if (idleCount < SIZES.idleSockets) note(`idle sockets: the open-files hard limit (${limit}) allows only ${idleCount}`);
      log(`idle sockets: ${idleCount} signed-in WebSockets on one fresh instance, RSS growth per connection`);
      const idle = await idleSockets(db.url, secret, data.idleCookie, idleCount);
      rows.push(row({ id: 'idle_socket_kib', label: `RSS per idle socket (${idleCount})`, value: median(idle), unit: 'KiB', baseline: null, baselineLabel: '', target: 'value <= 16 at 10,000 sockets', check: (v) => v <= 16 && idleCount >= 10_000, runs: idle, baselineRuns: [] }));
    }

    if (want('ai')) {
      // --- AI ----------------------------------------------------------------------------------------
      log(`Perfect move: ${SIZES.aiCalls} calls from mid-game boards, ${RUNS} runs`);
      const ai = startChild(pinned(SERVER_CPU, tsxScript('clients/ai-perfect.ts', [String(SIZES.aiCalls), String(RUNS)])), {}, 'ai-perfect');
      const aiRuns: number[] = [];
      for (let run = 1; run <= RUNS; run++) aiRuns.push((await ai.waitForJson<{ median: number }>((v) => v.run === run)).median);
      await ai.exited;
      rows.push(row({ id: 'ai_perfect_median_ms', label: 'Perfect move, median', value: median(aiRuns), unit: 'ms', baseline: null, baselineLabel: '', target: 'value < 0.1', check: (v) => v < 0.1, runs: aiRuns, baselineRuns: [] }));
    }

    if (want('http')) rows.push(row({ id: 'hello_world', label: 'node:http hello world', value: helloRps, unit: 'req/s', baseline: null, baselineLabel: '', target: null, runs: helloRuns, baselineRuns: [] }));
    rows.sort((a, b) => ROW_ORDER.indexOf(a.id) - ROW_ORDER.indexOf(b.id));

    for (const [message, count] of appProblems) note(`the app logged ${count} × "${message}"`);
    printTable(rows);
    console.log('Query counts (statements per request, counted on the pool):');
    for (const l of queryLines) console.log(`  ${l}`);
    console.log('Notes:');
    for (const n of notes) console.log(`  - ${n}`);
    if (os.loadavg()[0]! > 1 || loadAtStart > 1) {
      console.log(`  - the machine was busy: load average ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0]!.toFixed(2)} at the end; absolute figures are noisy, ratios less so`);
    }

    const report = {
      date: new Date().toISOString(),
      machine: machine(loadAtStart),
      node: process.version,
      postgres: db.serverVersion,
      results: rows.map((r) => ({
        id: r.id,
        value: round(r.value),
        unit: r.unit,
        baseline: r.baseline === null ? null : round(r.baseline),
        ratio: r.baseline ? round(r.value / r.baseline) : null,
        target: r.target,
      })),
    };
    // Smoke and partial runs go to a temporary file, never over the real results.
    const file = SMOKE || ONLY ? path.join(os.tmpdir(), `ttt-bench-${SMOKE ? 'smoke' : 'partial'}.json`) : path.join(ROOT, 'bench/results/latest.json');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${path.relative(ROOT, file).startsWith('..') ? file : path.relative(ROOT, file)}`);

    const missing = rows.filter((r) => !Number.isFinite(r.value) || (r.baseline !== null && !Number.isFinite(r.baseline)));
    if (missing.length) throw new Error(`no figure for ${missing.map((r) => r.id).join(', ')}`);
  } catch (err) {
    if (appOutput) console.error(`last output of the app instance:\n${appOutput}`);
    throw err;
  } finally {
    await stopAllChildren();
    await adminRef?.end().catch(() => undefined);
    if (stack) await stack.stop().catch(() => undefined);
    if (db) await db.drop().catch((err: unknown) => console.error('could not drop the bench database:', err));
    await embedded?.stop();
    if (process.env.BENCH_KEEP === '1') console.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Number(value.toPrecision(4));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
