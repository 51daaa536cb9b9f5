/**
 * The computer's Ultimate players. Pure apart from the clock Hard reads for its time budget; the
 * worker (worker.ts) runs them off the event loop and keeps Hard's trees between moves.
 *
 * - Easy: a random move, but takes a small board it can win at once half of the time.
 * - Medium: plain UCT with random playouts, MEDIUM_ITERATIONS a move (a few ms).
 * - Hard: MCTS-Solver with implicit minimax backups, progressive bias and heavy playouts (see
 *   hardOptions) for the whole time budget, reusing its tree.
 */
import { Board, toCell } from './board.js';
import { SearchTree, type SearchOptions } from './mcts.js';
import { pick, type Random } from '../../random.js';

/** Iterations of Medium's search: enough to see simple threats, far short of Hard. */
export const MEDIUM_ITERATIONS = 400;
/** UCT exploration constant of Medium and Hard (plain UCT uses √2). */
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

/**
 * Hard's search settings, tuned against plain UCT with ten times the iterations (bench/ai.ts; 200
 * games at 1,000 vs 10,000 iterations: 62 %, where the solver and decisive playouts alone made
 * 36 %, with board-winning playouts 50 %, with progressive bias and careful playouts 53 %).
 */
export function hardOptions(random: Random, budget: Pick<SearchOptions, 'timeMs' | 'iterations'>): SearchOptions {
  return { ...budget, solver: true, decisive: true, greed: 0.7, care: 3, bias: 2, minimax: 0.6, exploration: EXPLORATION, random };
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
