/**
 * The computer player at three levels, plus `evaluate` for hints and post-game
 * analysis. Every player is a pure function (board, mark, random) → cell; the
 * random source is passed in so that tests and benchmarks can repeat exactly.
 *
 * Perfect play comes from a table of the game-theoretic value of every position
 * reachable from the empty board (5,478 of them), computed once, lazily, by a
 * plain exhaustive negamax. The game is small enough that the full solve takes
 * about 20 ms, once per process, after which every move is a handful of array
 * lookups (about a microsecond), so the server can answer a human's move within
 * the same request. Alpha-beta pruning is not needed: it would only save part of
 * a one-off 20 ms, and `evaluate` needs the exact value of every move, which a
 * pruned search does not give without re-searching.
 */

import { RuleError, BOARD_SIZE, LINES, legalMoves, otherMark, result, turn, winner } from './variants/classic.js';
import type { Board, Cell, Mark } from './variants/classic.js';
import { mulberry32, pick } from './random.js';
import type { Random } from './random.js';

export { mulberry32 };
export type { Random };

/** The computer's levels: Perfect where the variant is solved (classic, misère), Hard where it is not. */
export type Level = 'easy' | 'medium' | 'perfect' | 'hard';
/** Who a completed line makes the winner: its owner (classic) or the opponent (misère). */
export type LineRule = 'classic' | 'misere';
export type Outcome = 'win' | 'draw' | 'loss';

export interface MoveEvaluation {
  cell: number;
  /** Result for the player making this move, if both sides then play perfectly. */
  outcome: Outcome;
  /** Moves until the game ends under perfect play, counting this one. */
  plies: number;
}

/**
 * How often Medium, with no immediate win or block on the board, plays a random
 * legal move instead of a perfect one. Winning and blocking alone already draw
 * about half the games against Perfect, so this has to be fairly high: at 0.45
 * Perfect beats Medium in about one game in four and Medium still beats a random
 * player about 84% of the time (test/unit/ai.test.ts asserts the ranges).
 */
export const MEDIUM_BLUNDER_RATE = 0.45;

/** How often Easy notices that it can win right now. Otherwise it plays at random. */
export const EASY_SEES_WIN_RATE = 0.5;

// ---------------------------------------------------------------------------
// The table
//
// Scores are from the point of view of the player to move, packed in one
// signed byte so that "bigger is better" gives the preferences we want:
//   win in p plies   →  WIN - p   (faster wins score higher)
//   draw             →  0
//   loss in p plies  →  p - WIN   (slower losses score higher)
// WIN only needs to exceed the longest game (9 plies).

const WIN = 20;
const UNKNOWN = -128;

/** Positions are keyed by their base-3 number: empty = 0, X = 1, O = 2, cell 0 most significant. */
const POSITIONS = 3 ** BOARD_SIZE; // 19,683
const PLACE = Array.from({ length: BOARD_SIZE }, (_, i) => 3 ** (BOARD_SIZE - 1 - i));

function digit(cell: Cell): number {
  return cell === null ? 0 : cell === 'X' ? 1 : 2;
}

function keyOf(board: Board): number {
  let key = 0;
  for (let i = 0; i < BOARD_SIZE; i++) key = key * 3 + digit(board[i] ?? null);
  return key;
}

/** A child's score turned round to the parent's point of view, one ply further from the end. */
function fromChild(score: number): number {
  if (score > 0) return -(score - 1); // the opponent wins in p → we lose in p + 1
  if (score < 0) return -score - 1; // the opponent loses in p → we win in p + 1
  return 0;
}

const tables: Partial<Record<LineRule, Int8Array>> = {};
let tableBuildMs = 0;

function getTable(rule: LineRule): Int8Array {
  let table = tables[rule];
  if (table === undefined) {
    const started = performance.now();
    table = new Int8Array(POSITIONS).fill(UNKNOWN);
    const scratch: Cell[] = new Array<Cell>(BOARD_SIZE).fill(null);
    solve(table, scratch, 0, 'X', rule);
    tables[rule] = table;
    tableBuildMs = performance.now() - started;
  }
  return table;
}

/**
 * Negamax over a scratch board that is modified in place and restored, so the
 * solve allocates nothing per node. Memoised by key, so each position is solved
 * once. Also solves, on demand, positions that are not reachable by legal play
 * (callers should never pass those, but the answer is still well defined).
 */
function solve(memo: Int8Array, board: Cell[], key: number, mover: Mark, rule: LineRule): number {
  const known = memo[key] ?? UNKNOWN;
  if (known !== UNKNOWN) return known;

  let best: number;
  if (winner(board)) {
    // The previous player just completed a line: the mover lost (classic) or won (misère).
    best = rule === 'classic' ? -WIN : WIN;
  } else {
    best = -Infinity;
    const d = digit(mover);
    for (let i = 0; i < BOARD_SIZE; i++) {
      if (board[i] !== null) continue;
      board[i] = mover;
      const score = fromChild(solve(memo, board, key + d * (PLACE[i] ?? 0), otherMark(mover), rule));
      board[i] = null;
      if (score > best) best = score;
    }
    if (best === -Infinity) best = 0; // full board, no line: a draw
  }
  memo[key] = best;
  return best;
}

/**
 * Score (mover's point of view, see above) of `mover` playing `cell` on the
 * board whose key is `key`. A plain table lookup for every reachable position;
 * allocation-free on that path because it runs on every server request.
 */
function moveScore(board: Board, key: number, mover: Mark, cell: number, rule: LineRule): number {
  const memo = getTable(rule);
  const childKey = key + digit(mover) * (PLACE[cell] ?? 0);
  let child = memo[childKey] ?? UNKNOWN;
  if (child === UNKNOWN) {
    // Only boards that legal play cannot reach get here: solve them on demand.
    const scratch = board.slice();
    scratch[cell] = mover;
    child = solve(memo, scratch, childKey, otherMark(mover), rule);
  }
  return fromChild(child);
}

/** Size of the perfect-play table, for the benchmark. Builds it if needed. */
export function tableInfo(rule: LineRule = 'classic'): { positions: number; bytes: number; buildMs: number } {
  const memo = getTable(rule);
  let positions = 0;
  for (const score of memo) if (score !== UNKNOWN) positions++;
  return { positions, bytes: memo.byteLength, buildMs: tableBuildMs };
}

// ---------------------------------------------------------------------------
// Analysis

/**
 * The value of each legal move under perfect play, from the point of view of
 * the player to move, in cell order. Empty once the game is over.
 */
export function evaluate(board: Board, rule: LineRule = 'classic'): MoveEvaluation[] {
  const mover = turn(board);
  const key = keyOf(board);
  const empties = board.filter((c) => c === null).length;
  return legalMoves(board).map((cell): MoveEvaluation => {
    const score = moveScore(board, key, mover, cell, rule);
    if (score > 0) return { cell, outcome: 'win', plies: WIN - score };
    if (score < 0) return { cell, outcome: 'loss', plies: WIN + score };
    // A drawn game only ends when the board is full.
    return { cell, outcome: 'draw', plies: empties };
  });
}

/**
 * Every move a perfect player might make, in cell order: the best outcome, and
 * among equals the fastest win or the slowest loss (draws all fill the board).
 * Perfect picks among these at random. Empty once the game is over.
 */
export function bestMoves(board: Board, rule: LineRule = 'classic'): number[] {
  const mover = turn(board);
  const key = keyOf(board);
  let top = -Infinity;
  const best: number[] = [];
  for (const cell of legalMoves(board)) {
    const score = moveScore(board, key, mover, cell, rule);
    if (score > top) {
      top = score;
      best.length = 0;
    }
    if (score === top) best.push(cell);
  }
  return best;
}

// ---------------------------------------------------------------------------
// Players

function assertCanMove(board: Board, mark: Mark): void {
  if (result(board) !== 'in_progress') {
    throw new RuleError('game_over', 'The game is already over.');
  }
  if (turn(board) !== mark) {
    throw new RuleError('not_your_turn', 'It is not your turn.');
  }
}

/** Cells where `mark` would complete a line right now, in ascending order. */
export function winningCells(board: Board, mark: Mark): number[] {
  const cells = new Set<number>();
  for (const line of LINES) {
    const empty = line.filter((i) => board[i] === null);
    const own = line.filter((i) => board[i] === mark);
    if (empty.length === 1 && own.length === 2) cells.add(empty[0] as number);
  }
  return [...cells].sort((a, b) => a - b);
}

/** Never loses; wins whenever a win can be forced; otherwise as described at `bestMoves`. */
export function perfectMove(board: Board, mark: Mark, random: Random): number {
  assertCanMove(board, mark);
  return pick(bestMoves(board), random);
}

/**
 * Takes an immediate win, blocks an immediate loss, and otherwise plays
 * perfectly except for an occasional random move. Blocking alone does not stop
 * forks, so those random moves are what let Perfect (and people) beat it.
 */
export function mediumMove(board: Board, mark: Mark, random: Random): number {
  assertCanMove(board, mark);
  const wins = winningCells(board, mark);
  if (wins.length > 0) return pick(wins, random);
  const threats = winningCells(board, otherMark(mark));
  if (threats.length > 0) return pick(threats, random);
  if (random() < MEDIUM_BLUNDER_RATE) return pick(legalMoves(board), random);
  return pick(bestMoves(board), random);
}

/** Plays at random, but notices an immediate win half of the time. Never blocks. */
export function easyMove(board: Board, mark: Mark, random: Random): number {
  assertCanMove(board, mark);
  const wins = winningCells(board, mark);
  if (wins.length > 0 && random() < EASY_SEES_WIN_RATE) return pick(wins, random);
  return pick(legalMoves(board), random);
}

/** A uniformly random legal move; the baseline opponent in tests. */
export function randomMove(board: Board, mark: Mark, random: Random): number {
  assertCanMove(board, mark);
  return pick(legalMoves(board), random);
}

/** Legal cells that do not complete a line of `mark` (misère: the cells that do not lose at once). */
function safeCells(board: Board, mark: Mark): number[] {
  const losing = winningCells(board, mark);
  const safe = legalMoves(board).filter((cell) => !losing.includes(cell));
  return safe.length > 0 ? safe : legalMoves(board);
}

/** Misère Perfect: never loses (the exhaustive test proves it), as bestMoves under the misère rule. */
export function miserePerfectMove(board: Board, mark: Mark, random: Random): number {
  assertCanMove(board, mark);
  return pick(bestMoves(board, 'misere'), random);
}

/** Misère Medium: never completes its own line when it can help it; otherwise as classic Medium. */
export function misereMediumMove(board: Board, mark: Mark, random: Random): number {
  assertCanMove(board, mark);
  const safe = safeCells(board, mark);
  if (random() < MEDIUM_BLUNDER_RATE) return pick(safe, random);
  const best = bestMoves(board, 'misere').filter((cell) => safe.includes(cell));
  return pick(best.length > 0 ? best : safe, random);
}

/** Misère Easy: plays at random, but sees that a cell completes its own line half of the time. */
export function misereEasyMove(board: Board, mark: Mark, random: Random): number {
  assertCanMove(board, mark);
  return pick(random() < EASY_SEES_WIN_RATE ? safeCells(board, mark) : legalMoves(board), random);
}

type Player = (board: Board, mark: Mark, random: Random) => number;

/** The solved variants' players by level (Hard is Ultimate's, see engines/). */
const PLAYERS: Record<LineRule, Partial<Record<Level, Player>>> = {
  classic: { easy: easyMove, medium: mediumMove, perfect: perfectMove },
  misere: { easy: misereEasyMove, medium: misereMediumMove, perfect: miserePerfectMove },
};

/** The computer's move on a 3×3 board. Throws for a level the rule has no player for ('hard'). */
export function chooseMove(level: Level, board: Board, mark: Mark, random: Random = Math.random, rule: LineRule = 'classic'): number {
  const player = PLAYERS[rule][level];
  if (!player) throw new Error(`no ${level} player for ${rule} tic-tac-toe`);
  return player(board, mark, random);
}
