/**
 * How fast is the computer player?  `npm run bench:ai`
 *
 * Prints the one-off cost and size of the perfect-play table, the time per
 * Perfect move (median and p99 over 10,000 calls) from the empty board and from
 * a mid-game board, and the time for the exhaustive "Perfect never loses" walk
 * that test/unit/ai.test.ts runs. Target: median well under 0.1 ms, so the
 * server can answer a human move within the same request. Then Ultimate's
 * engine (bench/ultimate/run.ts): speed, strength, move times, pages under load.
 */

import { bestMoves, mulberry32, perfectMove, tableInfo } from '../src/game/ai.js';
import { emptyBoard, legalMoves, parseBoard, play, result, serializeBoard, turn } from '../src/game/variants/classic.js';
import type { Board, Mark } from '../src/game/variants/classic.js';
import { benchUltimate } from './ultimate/run.js';

const CALLS = 10_000;
/** Sum of all chosen cells, printed at the end so the timed calls cannot be optimised away. */
let checksum = 0;

function percentile(sorted: Float64Array, p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? Number.NaN;
}

/**
 * Times each call separately with performance.now() (sub-microsecond
 * resolution, allocation-free unlike hrtime.bigint(), so the timer itself adds
 * no GC pauses) and the batch as a whole for the mean.
 */
function timePerfect(label: string, board: Board): void {
  const mark = turn(board);
  const random = mulberry32(1);
  for (let i = 0; i < 1000; i++) checksum += perfectMove(board, mark, random); // let the JIT settle

  const samples = new Float64Array(CALLS);
  const batchStart = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    checksum += perfectMove(board, mark, random);
    samples[i] = (performance.now() - t0) * 1000;
  }
  const batch = (performance.now() - batchStart) * 1000;
  samples.sort();
  console.log(
    `Perfect move, ${label.padEnd(30)} median ${percentile(samples, 50).toFixed(2)} µs, ` +
      `p99 ${percentile(samples, 99).toFixed(2)} µs, max ${percentile(samples, 100).toFixed(1)} µs, ` +
      `mean ${(batch / CALLS).toFixed(2)} µs (${CALLS} calls)`,
  );
}

/**
 * The same walk as the unit test: Perfect as `perfectMark` branches over every
 * move it might choose (all of bestMoves, each confirmed reachable through
 * perfectMove), the opponent over every legal move.
 */
const SPREAD = [0, 1 - Number.EPSILON, ...Array.from({ length: 9 }, (_, k) => (k + 0.5) / 9)];

function walk(board: Board, perfectMark: Mark, stats: { games: number; lost: number }): void {
  const r = result(board);
  if (r !== 'in_progress') {
    stats.games++;
    if (r !== 'draw' && (r === 'x_won') !== (perfectMark === 'X')) stats.lost++;
    return;
  }
  const mark = turn(board);
  let moves: number[];
  if (mark === perfectMark) {
    moves = bestMoves(board);
    for (const r of SPREAD) {
      if (!moves.includes(perfectMove(board, mark, () => r))) throw new Error(`bad choice at ${serializeBoard(board)}`);
    }
  } else {
    moves = legalMoves(board);
  }
  for (const cell of moves) walk(play(board, cell, mark), perfectMark, stats);
}

// --- the table ---------------------------------------------------------------

// The table is one Int8Array indexed by the base-3 key of every board, so its
// byte length is its whole footprint (heap deltas are swamped by GC noise).
const info = tableInfo(); // the first call builds the table
console.log(
  `Table: ${info.positions} positions solved in ${info.buildMs.toFixed(1)} ms (one-off, on first use), ` +
    `${info.bytes.toLocaleString('en')} bytes (one byte per 3^9 key)`,
);

// --- per-move latency --------------------------------------------------------

timePerfect('empty board (X to move):', emptyBoard());
timePerfect('mid-game XO..X...O (X to move):', parseBoard('XO..X...O'));

// --- the exhaustive proof ----------------------------------------------------

for (const mark of ['X', 'O'] as const) {
  const stats = { games: 0, lost: 0 };
  const started = performance.now();
  walk(emptyBoard(), mark, stats);
  const ms = performance.now() - started;
  console.log(
    `Exhaustive proof, Perfect as ${mark}: ${stats.games.toLocaleString('en')} games, ${stats.lost} lost, ${ms.toFixed(0)} ms`,
  );
}

console.log(`(checksum ${checksum})`);

// --- Ultimate ------------------------------------------------------------------

await benchUltimate();
process.exit(0);
