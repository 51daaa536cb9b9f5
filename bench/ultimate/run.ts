/**
 * Ultimate's computer, measured (`npm run bench:ai` runs this after the classic table):
 *
 * 1. iterations per second of Hard's search on one core;
 * 2. strength: Hard against plain UCT with random playouts given ten times Hard's iterations, and
 *    Hard against Medium, ULTIMATE_GAMES games each (default 100), colours alternating, played
 *    in parallel worker threads; score = wins + half the draws, with a 95 % interval;
 * 3. Hard's move time through the server's worker pool at the default 200 ms budget (p50, p99);
 * 4. game-page latency (p50, p99) and event-loop delay of a running app, calm and then while 20
 *    Ultimate games against Hard run at once.
 *
 * ULTIMATE_HARD_ITERATIONS sets Hard's iterations per move in the matches (default 1,000),
 * ULTIMATE_SEED the first game's seed (default 20,000, apart from the seeds the settings were
 * tuned on).
 */
import { availableParallelism } from 'node:os';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import pino from 'pino';
import { Piscina } from 'piscina';
import { Board } from '../../src/game/engines/ultimate/board.js';
import { SearchTree } from '../../src/game/engines/ultimate/mcts.js';
import { hardOptions } from '../../src/game/engines/ultimate/players.js';
import { createEnginePool } from '../../src/game/engines/pool.js';
import { ultimate } from '../../src/game/variants/ultimate.js';
import { mulberry32 } from '../../src/game/random.js';
import { createApplication } from '../../src/application.js';
import { loadConfig } from '../../src/config.js';
import { createGame, loadGame, makeMove } from '../../src/game/service.js';
import { createBenchDatabase, DEFAULT_DATABASE_URL } from '../lib/db.js';
import { percentile, SMOKE, startChild, tsxScript } from '../lib/common.js';
import type { Contender, MatchResult, MatchTask } from './match.js';

const GAMES = Number(process.env.ULTIMATE_GAMES ?? (SMOKE ? 4 : 100));
const HARD_ITERATIONS = Number(process.env.ULTIMATE_HARD_ITERATIONS ?? (SMOKE ? 200 : 1_000));
const PHASE_S = SMOKE ? 2 : 15;
/** Games use seeds from here on: apart from those Hard's settings were tuned on (1,000–1,099 and 5,000–5,099). */
const SEED = Number(process.env.ULTIMATE_SEED ?? 20_000);
const fixed = (n: number, digits = 1) => n.toFixed(digits);

/** Iterations per second of Hard's search from `position`, over `seconds`. */
function iterationsPerSecond(position: Board, seconds: number): number {
  const tree = new SearchTree();
  tree.reset(position);
  const started = performance.now();
  const { iterations } = tree.search(hardOptions(mulberry32(1), { timeMs: seconds * 1000 }));
  return iterations / ((performance.now() - started) / 1000);
}

/** A position `plies` random moves into a game. */
function midGame(plies: number, seed: number): Board {
  const random = mulberry32(seed);
  let p = ultimate.start();
  for (let i = 0; i < plies && ultimate.result(p) === 'in_progress'; i++) {
    const moves = ultimate.legalMoves(p);
    p = ultimate.play(p, moves[Math.floor(random() * moves.length)]!, ultimate.turn(p));
  }
  return Board.from(p);
}

async function match(pool: Piscina<MatchTask, MatchResult>, opponent: Contender): Promise<{ score: number; percent: number; interval: number }> {
  const hard: Contender = { kind: 'hard', iterations: HARD_ITERATIONS };
  const results = await Promise.all(Array.from({ length: GAMES }, (_, game) => pool.run({ hardIsX: game % 2 === 0, hard, opponent, seed: SEED + game })));
  const scores = results.map((r) => r.score);
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((a, s) => a + (s - mean) ** 2, 0) / Math.max(1, scores.length - 1));
  return { score: mean * scores.length, percent: mean * 100, interval: (196 * sd) / Math.sqrt(scores.length) };
}

async function strength(): Promise<void> {
  const threads = availableParallelism();
  const pool = new Piscina<MatchTask, MatchResult>({
    filename: fileURLToPath(new URL('./match.ts', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    minThreads: threads,
    maxThreads: threads,
  });
  const started = performance.now();
  const versusUct = await match(pool, { kind: 'uct', iterations: HARD_ITERATIONS * 10 });
  console.log(`Hard (${HARD_ITERATIONS} iterations) vs plain UCT (${HARD_ITERATIONS * 10}): ${versusUct.score}/${GAMES} = ${fixed(versusUct.percent)} % ± ${fixed(versusUct.interval)} (95 %)`);
  const versusMedium = await match(pool, { kind: 'medium' });
  console.log(`Hard (${HARD_ITERATIONS} iterations) vs Medium: ${versusMedium.score}/${GAMES} = ${fixed(versusMedium.percent)} % ± ${fixed(versusMedium.interval)} (95 %)`);
  console.log(`  (${GAMES} games each, colours alternating, ${threads} threads, ${fixed((performance.now() - started) / 1000, 0)} s)`);
  await pool.destroy();
}

async function workerMoveTimes(): Promise<void> {
  const pool = createEnginePool({ threads: 1, budgetMs: 200 });
  // The worker's start (and, under tsx, its TypeScript loader) is not a move's cost.
  await pool.think({ position: serialize(new Board()), level: 'medium', seed: 0, game: 'warm-up' });
  const times: number[] = [];
  const iterations: number[] = [];
  for (let i = 0; i < (SMOKE ? 3 : 60); i++) {
    const board = midGame(4 + (i % 30), i);
    if (board.state !== 0) continue;
    const position = serialize(board);
    const started = performance.now();
    const thought = await pool.think({ position, level: 'hard', seed: i, game: `bench${i}` });
    times.push(performance.now() - started);
    iterations.push(thought.iterations);
  }
  await pool.close();
  console.log(`Hard's move through the worker pool, 200 ms budget: p50 ${fixed(percentile(times, 50))} ms, p99 ${fixed(percentile(times, 99))} ms; iterations p50 ${fixed(percentile(iterations, 50), 0)} (${times.length} moves)`);
}

function serialize(board: Board): string {
  const cells = new Array<string>(81).fill('.');
  for (let b = 0; b < 9; b++) {
    for (let inner = 0; inner < 9; inner++) {
      const cell = Math.floor(b / 3) * 27 + (b % 3) * 3 + Math.floor(inner / 3) * 9 + (inner % 3);
      if (board.cells[b]! & (1 << inner)) cells[cell] = 'X';
      else if (board.cells[b + 9]! & (1 << inner)) cells[cell] = 'O';
    }
  }
  return cells.join('') + (board.forced < 0 ? '-' : String(board.forced));
}

/** Page latency and event-loop delay of a running app, calm, then with 20 Ultimate games against Hard. */
async function pagesUnderLoad(): Promise<void> {
  const database = await createBenchDatabase(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
  const logger = pino({ level: 'silent' });
  const pool = new pg.Pool({ connectionString: database.url, max: 10 });
  const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40), LOG_LEVEL: 'silent', DATABASE_URL: database.url });
  const application = await createApplication(config, { db: { pool, url: database.url }, logger });
  application.server.listen(0, '127.0.0.1');
  await once(application.server, 'listening');
  const base = `http://127.0.0.1:${(application.server.address() as AddressInfo).port}`;
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO users (username, password_hash) SELECT 'ubench' || n, 'x' FROM generate_series(1, 21) n RETURNING id`,
  );
  const deps = application.gameDeps;
  const watched = await createGame(deps, rows[0]!.id, { variant: 'ultimate', mode: 'ai', level: 'hard', playAs: 'X' });
  const loader = startChild(tsxScript('clients/pages.ts', [await inputFile({ url: `${base}/games/${watched}`, cookie: '', rate: 50, phases: [{ name: 'calm', seconds: PHASE_S }, { name: 'ultimate', seconds: PHASE_S }] })]));
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const calm = await loader.waitForJson<Phase>((v) => v.phase === 'calm', 120_000);
  const calmDelay = { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6 };
  delay.reset();
  let running = true;
  let moves = 0;
  const players = rows.slice(1).map(async ({ id }, i) => {
    const random = mulberry32(i);
    while (running) {
      const game = await createGame(deps, id, { variant: 'ultimate', mode: 'ai', level: 'hard', playAs: 'X' });
      for (let state = (await loadGame(deps, game))!; running && state.status === 'active'; ) {
        const legal = ultimate.legalMoves(ultimate.parse(state.board));
        state = await makeMove(deps, id, game, state.ply, legal[Math.floor(random() * legal.length)]!, state);
        moves++;
      }
    }
  });
  const loaded = await loader.waitForJson<Phase>((v) => v.phase === 'ultimate', 120_000);
  const loadedDelay = { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6 };
  running = false;
  await Promise.all(players);
  delay.disable();
  console.log(`Game page at 50/s, calm: p50 ${fixed(calm.p50)} ms, p99 ${fixed(calm.p99)} ms; event-loop delay p99 ${fixed(calmDelay.p99)} ms`);
  console.log(`  while 20 Ultimate games against Hard run (${moves} moves in ${PHASE_S} s): p50 ${fixed(loaded.p50)} ms, p99 ${fixed(loaded.p99)} ms; event-loop delay p99 ${fixed(loadedDelay.p99)} ms`);
  await loader.stop();
  await application.close({ force: true });
  await pool.end();
  await database.drop();
}

interface Phase {
  phase: string;
  p50: number;
  p99: number;
}

async function inputFile(value: unknown): Promise<string> {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const file = `${mkdtempSync(`${tmpdir()}/ubench-`)}/input.json`;
  writeFileSync(file, JSON.stringify(value));
  return file;
}

export async function benchUltimate(): Promise<void> {
  console.log('\nUltimate tic-tac-toe');
  console.log(`Hard's search on one core: ${fixed(iterationsPerSecond(new Board(), SMOKE ? 0.2 : 2), 0)} iterations/s from the start, ${fixed(iterationsPerSecond(midGame(20, 3), SMOKE ? 0.2 : 2), 0)} after 20 random plies`);
  await workerMoveTimes();
  await pagesUnderLoad();
  await strength();
}
