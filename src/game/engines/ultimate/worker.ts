/**
 * The engine's worker thread (run by piscina, see ../pool.ts): one Ultimate move per task, so the
 * search never runs on the server's event loop. Keeps Hard's trees of the last few games, so the
 * next move of a game searched here starts from the subtree of the moves since (tree reuse).
 */
import { Board, fromCell } from './board.js';
import { DEFAULT_CAPACITY, SearchTree } from './mcts.js';
import { easyMove, hardOptions, mediumMove, searchMove, type Thought, type UltimateLevel } from './players.js';
import { ultimate } from '../../variants/ultimate.js';
import { mulberry32 } from '../../random.js';

/** One move to choose. */
export interface ThinkTask {
  kind: 'move';
  /** The position, as ultimate.serialize writes it. */
  position: string;
  level: UltimateLevel;
  /** Hard's time budget for this move (ms). */
  timeMs: number;
  seed: number;
  /** The game's id: trees are kept per game. */
  game: string;
}

/**
 * Post-game analysis of one move: a fixed-size search of the position before it, and how good
 * the best move and the move played are for the player who made it.
 */
export interface EvaluateTask {
  kind: 'evaluate';
  position: string;
  /** The cell played (0..80). */
  played: number;
  iterations: number;
  seed: number;
}

/** Expected scores (win 1, draw ½) for the player to move; `played` null when the search barely tried it. */
export interface Evaluation {
  best: number;
  /** The engine's best move (a cell). */
  bestCell: number;
  played: number | null;
}

export type WorkerTask = ThinkTask | EvaluateTask;

/** A played move's own estimate counts once the search has tried it this often. */
const MIN_PLAYED_VISITS = 50;

/** Trees kept per worker, most recent last; each holds up to DEFAULT_CAPACITY nodes (about 10 MB). */
const KEPT_TREES = 4;
const trees = new Map<string, SearchTree>();

export default function run(task: WorkerTask): Thought | Evaluation {
  return task.kind === 'move' ? think(task) : evaluate(task);
}

function think(task: ThinkTask): Thought {
  const board = Board.from(ultimate.parse(task.position));
  const random = mulberry32(task.seed);
  if (task.level === 'easy') return easyMove(board, random);
  if (task.level === 'medium') return mediumMove(board, random);
  const tree = treeFor(task.game, board);
  return searchMove(tree, hardOptions(random, { timeMs: task.timeMs }));
}

/** A fresh Hard search of `iterations`: the best move's value and the played move's, both from the same tree. */
function evaluate(task: EvaluateTask): Evaluation {
  const tree = new SearchTree(Math.min(DEFAULT_CAPACITY, task.iterations * 20));
  tree.reset(Board.from(ultimate.parse(task.position)));
  const best = searchMove(tree, hardOptions(mulberry32(task.seed), { iterations: task.iterations }));
  const played = tree.rootChild(fromCell(task.played));
  return { best: best.value ?? 0.5, bestCell: best.cell, played: played && (played.proven || played.visits >= MIN_PLAYED_VISITS) ? played.value : null };
}

/** The game's kept tree moved on to `board`, or a fresh one. */
function treeFor(game: string, board: Board): SearchTree {
  const kept = trees.get(game);
  trees.delete(game);
  const moves = kept && movesBetween(kept.position, board);
  // A tree half full is started afresh rather than let it run out of room mid-search.
  const reused = kept !== undefined && moves != null && kept.nodes <= kept.capacity / 2 && kept.advance(moves);
  const tree = kept ?? (trees.size >= KEPT_TREES ? oldest() : new SearchTree());
  if (!reused) tree.reset(board);
  trees.set(game, tree);
  return tree;
}

function oldest(): SearchTree {
  const [game, tree] = trees.entries().next().value!;
  trees.delete(game);
  return tree;
}

/**
 * The moves that lead from `from` to `to` when `to` is at most two plies on (the engine's move,
 * then the opponent's): the new cells of the player who was to move come first. Null otherwise.
 */
export function movesBetween(from: Board, to: Board): number[] | null {
  const plies = to.ply - from.ply;
  if (plies < 0 || plies > 2) return null;
  const added: number[][] = [[], []];
  for (let index = 0; index < 18; index++) {
    const before = from.cells[index]!;
    const after = to.cells[index]!;
    if ((before & after) !== before) return null;
    for (let bits = after & ~before; bits; bits &= bits - 1) {
      added[index < 9 ? 0 : 1]!.push((index % 9) * 9 + (31 - Math.clz32(bits & -bits)));
    }
  }
  const first = added[from.mover]!;
  const second = added[from.mover ^ 1]!;
  if (first.length + second.length !== plies || first.length < second.length || first.length > 1) return null;
  return [...first, ...second];
}
