/**
 * Classic tic-tac-toe: the 3×3 board as pure functions, with no I/O and no hidden state, and the
 * `classic` variant built on them (misère reuses the board, see misere.ts).
 *
 * A board is 9 cells, row by row from the top left:
 *
 *    0 | 1 | 2
 *   ---+---+---
 *    3 | 4 | 5
 *   ---+---+---
 *    6 | 7 | 8
 *
 * X always moves first, so whose turn it is follows from the board alone and
 * never needs to be stored separately.
 *
 * Functions other than `parseBoard` trust that the board they are given is a
 * legal position (built from `emptyBoard`, `parseBoard` or `play`); validation
 * happens once, at the edge where boards come in from storage.
 */

import { RuleError, type BoardEnding, type Cell, type Mark, type Result, type Variant } from './types.js';

export { RuleError, otherMark, type Cell, type Mark, type Result, type RuleErrorCode } from './types.js';

/** Always 9 cells long. */
export type Board = readonly Cell[];
export type Line = [number, number, number];

export const BOARD_SIZE = 9;

/** The 8 ways to win: 3 rows, 3 columns, 2 diagonals. */
export const LINES: readonly Line[] = [
  [0, 1, 2],
  [3, 4, 5],
  [6, 7, 8],
  [0, 3, 6],
  [1, 4, 7],
  [2, 5, 8],
  [0, 4, 8],
  [2, 4, 6],
];

export function emptyBoard(): Board {
  return new Array<Cell>(BOARD_SIZE).fill(null);
}

/** How many X and O marks the cells hold. */
export function countMarks(board: Board): { x: number; o: number } {
  let x = 0;
  let o = 0;
  for (const cell of board) {
    if (cell === 'X') x++;
    else if (cell === 'O') o++;
  }
  return { x, o };
}

/**
 * Whose turn it is. X moves first, so it is X's turn whenever both have played
 * equally often. On a finished board this is who *would* move next.
 */
export function turn(board: Board): Mark {
  const { x, o } = countMarks(board);
  return x === o ? 'X' : 'O';
}

/** The first completed line and its owner, or null if nobody has three in a row. */
export function winner(board: Board): { mark: Mark; line: Line } | null {
  for (const line of LINES) {
    const [a, b, c] = line;
    const mark = board[a];
    if (mark && mark === board[b] && mark === board[c]) {
      return { mark, line: [a, b, c] };
    }
  }
  return null;
}

export function result(board: Board): Result {
  const win = winner(board);
  if (win) return win.mark === 'X' ? 'x_won' : 'o_won';
  return board.includes(null) ? 'in_progress' : 'draw';
}

/** Empty cells in ascending order; none once the game is over. */
export function legalMoves(board: Board): number[] {
  if (winner(board)) return [];
  const moves: number[] = [];
  for (let i = 0; i < BOARD_SIZE; i++) {
    if (board[i] === null) moves.push(i);
  }
  return moves;
}

/**
 * `mark` plays in `cell`. Returns a new board and leaves the old one untouched.
 *
 * Checks run from the most general problem to the most specific, so the player
 * is told the most useful thing: a square that is not on the board, then a game
 * that has ended, then a move out of turn, then a square that is taken.
 */
export function play(board: Board, cell: number, mark: Mark): Board {
  if (!Number.isInteger(cell) || cell < 0 || cell >= BOARD_SIZE) {
    throw new RuleError('out_of_range', 'That square is not on the board.');
  }
  if (result(board) !== 'in_progress') {
    throw new RuleError('game_over', 'The game is already over.');
  }
  if (turn(board) !== mark) {
    throw new RuleError('not_your_turn', 'It is not your turn.');
  }
  if (board[cell] !== null) {
    throw new RuleError('occupied', 'That square is already taken.');
  }
  const next = board.slice();
  next[cell] = mark;
  return next;
}

/** 9 characters, row by row: 'X', 'O' or '.' for empty, e.g. "X.O......". */
export function serializeBoard(board: Board): string {
  let s = '';
  for (const cell of board) s += cell ?? '.';
  return s;
}

/**
 * Reads a board written by `serializeBoard`, refusing anything that could not
 * arise in a real game (RuleError 'bad_board'). Exactly upper-case 'X', 'O' and
 * '.' are accepted. Refused:
 *
 * - a length other than 9, or any other character;
 * - impossible counts: X moves first and the players alternate, so X has
 *   either as many marks as O or exactly one more;
 * - both players having three in a row;
 * - play continued after a win: if X has a line, X made the last move (X has
 *   one more mark than O); if O has a line, O made the last move (equal counts).
 *
 * These checks accept exactly the 5,478 positions reachable from the empty
 * board (the unit tests check this against all 3^9 strings). X may own two lines
 * at once: they always share a cell, which X filled last, completing both.
 */
export function parseBoard(s: string): Board {
  if (typeof s !== 'string' || s.length !== BOARD_SIZE) {
    throw new RuleError('bad_board', 'A board must have exactly 9 squares.');
  }
  const board: Cell[] = [];
  for (const ch of s) {
    if (ch === 'X' || ch === 'O') board.push(ch);
    else if (ch === '.') board.push(null);
    else throw new RuleError('bad_board', 'A board may only contain X, O and ".".');
  }

  const { x, o } = countMarks(board);
  if (x !== o && x !== o + 1) {
    throw new RuleError('bad_board', 'X and O must take turns, X first.');
  }

  const xHasLine = hasLine(board, 'X');
  const oHasLine = hasLine(board, 'O');
  if (xHasLine && oHasLine) {
    throw new RuleError('bad_board', 'Both players cannot have three in a row.');
  }
  if ((xHasLine && x !== o + 1) || (oHasLine && x !== o)) {
    throw new RuleError('bad_board', 'No moves can be made after the game is won.');
  }
  return board;
}

function hasLine(board: Board, mark: Mark): boolean {
  return LINES.some(([a, b, c]) => board[a] === mark && board[b] === mark && board[c] === mark);
}

const POSITION_NAMES = ['top left', 'top centre', 'top right', 'middle left', 'centre', 'middle right', 'bottom left', 'bottom centre', 'bottom right'];

/** "top left" … "bottom right": where a cell (or Ultimate's small board) sits in a 3×3 grid. */
export function positionName(index: number): string {
  return POSITION_NAMES[index] ?? `cell ${index}`;
}

/** "row 1, column 3": a 3×3 cell's name for people, counting from 1. */
export function rowColumnName(cell: number): string {
  return `row ${Math.floor(cell / 3) + 1}, column ${(cell % 3) + 1}`;
}

/** The cells of the completed lines on a 3×3 board (a last move can complete two). */
export function completedLines(board: Board): number[][] {
  return LINES.filter(([a, b, c]) => board[a] !== null && board[a] === board[b] && board[a] === board[c]).map((l) => [...l]);
}

/** The 3×3 board's variant functions that classic and misère share; only who wins differs. */
export function threeByThree(result: (board: Board) => Result): Omit<Variant<Board>, 'id' | 'name' | 'summary'> {
  return {
    size: 3,
    cells: BOARD_SIZE,
    start: emptyBoard,
    parse: parseBoard,
    serialize: serializeBoard,
    turn,
    legalMoves,
    play,
    result,
    ending: (board): BoardEnding | null => (winner(board) ? 'line' : board.includes(null) ? null : 'full'),
    lines: completedLines,
    marks: (board) => board,
    areaOf: () => 0,
    areaName: () => null,
    areaOwners: (board) => [winner(board)?.mark ?? (board.includes(null) ? null : 'draw')],
    cellName: rowColumnName,
    whereToPlay: () => null,
  };
}

/** Classic tic-tac-toe: three in a row wins; a full board without one is a draw. */
export const classic: Variant<Board> = { id: 'classic', name: 'Classic', summary: 'Three in a row wins.', ...threeByThree(result) };
