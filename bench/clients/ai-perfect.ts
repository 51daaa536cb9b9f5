/**
 * Time per Perfect computer move (src/game/ai.ts perfectMove) from mid-game boards: positions
 * after 2 to 6 random plies that are still in progress, as a server meets them when it answers a
 * human. Each call is timed on its own; one result line per run with the median and p99 in ms.
 * Runs pinned to the server CPU.
 *
 *   node --import tsx bench/clients/ai-perfect.ts <calls> <runs>
 */
import { mulberry32, perfectMove, tableInfo } from '../../src/game/ai.js';
import { emptyBoard, legalMoves, play, result, turn, type Board } from '../../src/game/variants/classic.js';
import { emit, percentile } from '../lib/common.js';

const calls = Number(process.argv[2] ?? 10_000);
const runs = Number(process.argv[3] ?? 3);

function midGameBoards(count: number): Board[] {
  const random = mulberry32(7);
  const boards: Board[] = [];
  while (boards.length < count) {
    let board = emptyBoard();
    const plies = 2 + Math.floor(random() * 5);
    for (let i = 0; i < plies && result(board) === 'in_progress'; i++) {
      const moves = legalMoves(board);
      board = play(board, moves[Math.floor(random() * moves.length)]!, turn(board));
    }
    if (result(board) === 'in_progress') boards.push(board);
  }
  return boards;
}

const boards = midGameBoards(512);
const random = mulberry32(1);
let checksum = 0;
tableInfo(); // the one-off table build is not a move
for (let i = 0; i < 2_000; i++) checksum += perfectMove(boards[i % boards.length]!, turn(boards[i % boards.length]!), random);

for (let run = 1; run <= runs; run++) {
  const samples = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const board = boards[i % boards.length]!;
    const mark = turn(board);
    const t0 = performance.now();
    checksum += perfectMove(board, mark, random);
    samples[i] = performance.now() - t0;
  }
  emit({ run, median: percentile(samples, 50), p99: percentile(samples, 99), calls, checksum });
}
