/**
 * One game of Ultimate between two engine players, for `npm run bench:ai` (run by piscina in a
 * worker thread, so the bench plays as many games at once as the machine has cores).
 */
import { Board, fromCell } from '../../src/game/engines/ultimate/board.js';
import { SearchTree } from '../../src/game/engines/ultimate/mcts.js';
import { hardOptions, mediumMove, plainUctOptions } from '../../src/game/engines/ultimate/players.js';
import { mulberry32, type Random } from '../../src/game/random.js';

export type Contender = { kind: 'hard'; iterations: number } | { kind: 'uct'; iterations: number } | { kind: 'medium' };

export interface MatchTask {
  /** Hard plays X when true. */
  hardIsX: boolean;
  opponent: Contender;
  hard: Contender;
  seed: number;
}

/** Hard's score (1 win, ½ draw, 0 loss) and the moves played. */
export interface MatchResult {
  score: number;
  plies: number;
}

function mover(contender: Contender, random: Random): (board: Board) => number {
  if (contender.kind === 'medium') return (board) => fromCell(mediumMove(board, random).cell);
  const tree = new SearchTree(contender.kind === 'uct' ? Math.max(500_000, contender.iterations * 40) : 500_000);
  const options = contender.kind === 'uct' ? plainUctOptions(random, { iterations: contender.iterations }) : hardOptions(random, { iterations: contender.iterations });
  return (board) => {
    tree.reset(board);
    return tree.search(options).move;
  };
}

export default function play(task: MatchTask): MatchResult {
  const random = mulberry32(task.seed);
  const hard = mover(task.hard, random);
  const opponent = mover(task.opponent, random);
  const board = new Board();
  while (board.state === 0) {
    const hardToMove = (board.mover === 0) === task.hardIsX;
    board.play(hardToMove ? hard(board) : opponent(board));
  }
  const score = board.state === 3 ? 0.5 : (board.state === 1) === task.hardIsX ? 1 : 0;
  return { score, plies: board.ply };
}
