/**
 * The computer's Ultimate players. Pure apart from the clock Hard reads for its time budget; the
 * worker (worker.ts) runs them off the event loop and keeps Hard's trees between moves.
 *
 * - Easy: a random move, but takes a small board it can win at once half of the time.
 * - Medium: plain UCT with random playouts, MEDIUM_ITERATIONS a move (a few ms).
 * - Hard: MCTS-Solver with decisive playouts for the whole time budget, reusing its tree.
 */
import { Board, toCell } from './board.js';
import { SearchTree, type SearchOptions } from './mcts.js';
import { pick, type Random } from '../../random.js';

/** Iterations of Medium's search: enough to see simple threats, far short of Hard. */
export const MEDIUM_ITERATIONS = 400;
/** UCT exploration constant of every level (tuned against C = √2 in bench/ai.ts). */
export const EXPLORATION = 0.7;
export const EASY_TAKES_BOARD_RATE = 0.5;

export type UltimateLevel = 'easy' | 'medium' | 'hard';

export interface Thought {
  /** The chosen cell, 0..80. */
  cell: number;
  iterations: number;
  /** The mover's expected score after the move (win 1, draw ½), or null when it did not search. */
  value: number | null;
  proven: 'win' | 'loss' | 'draw' | null;
}

const scratch = new Uint8Array(81);

export function easyMove(board: Board, random: Random): Thought {
  const n = board.legalMoves(scratch);
  const moves = [...scratch.subarray(0, n)];
  const winning = moves.filter((move) => board.winsSmallBoard(move));
  const move = winning.length > 0 && random() < EASY_TAKES_BOARD_RATE ? pick(winning, random) : pick(moves, random);
  return { cell: toCell(move), iterations: 0, value: null, proven: null };
}

/** Hard's search settings; the benchmark's plain UCT is the same search with both features off. */
export function hardOptions(random: Random, budget: Pick<SearchOptions, 'timeMs' | 'iterations'>): SearchOptions {
  return { ...budget, solver: true, decisive: true, exploration: EXPLORATION, random };
}

export function plainUctOptions(random: Random, budget: Pick<SearchOptions, 'timeMs' | 'iterations'>): SearchOptions {
  return { ...budget, solver: false, decisive: false, exploration: Math.SQRT2, random };
}

export function searchMove(tree: SearchTree, options: SearchOptions): Thought {
  const result = tree.search(options);
  return { cell: toCell(result.move), iterations: result.iterations, value: result.value, proven: result.proven };
}

export function mediumMove(board: Board, random: Random): Thought {
  const tree = new SearchTree(MEDIUM_ITERATIONS * 82);
  tree.reset(board);
  return searchMove(tree, { iterations: MEDIUM_ITERATIONS, solver: false, decisive: false, exploration: EXPLORATION, random });
}
