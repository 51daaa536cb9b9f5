/**
 * Ultimate tic-tac-toe: nine small 3×3 boards in a big one. The rules of Wikipedia, uttt.ai and
 * CodinGame's "Tic-Tac-Toe" league:
 *
 * - X starts anywhere.
 * - The cell a move takes inside its small board names the small board the opponent must play in
 *   next (top-right cell → top-right board). If that board is won or full, the opponent may play
 *   in any open board.
 * - A small board is won by three in a row in it, and is then closed; a full small board with no
 *   line is drawn and belongs to nobody.
 * - The game is won by three won small boards in a row. When no line of small boards can be
 *   completed by either player any more, the game is a draw (CodinGame instead counts won small
 *   boards when all are closed; we follow the common rule).
 *
 * Cells are numbered 0..80 row by row across the whole 9×9 grid, as the page's `data-cell`.
 * Small boards and the cells inside one are numbered 0..8 row by row (people see 1..9).
 *
 * A position is stored as 82 characters: the 81 cells ('X', 'O', '.') and the small board the
 * player to move must play in ('0'..'8'), or '-' for any open board.
 */
import { countMarks, LINES, positionName, winner } from './classic.js';
import { RuleError, type AreaOwner, type BoardEnding, type Cell, type Mark, type Result, type Variant } from './types.js';

export interface UltimatePosition {
  /** 81 cells, row by row across the 9×9 grid. */
  readonly cells: readonly Cell[];
  /** The small board (0..8) the player to move must play in, or null for any open one. */
  readonly forced: number | null;
}

/** A small board's state: won by a mark, drawn (full, no line), or still open. */
export type SmallBoardOwner = AreaOwner;

const CELLS = 81;

/** The cell (0..80) of `inner` (0..8) in small board `board` (0..8). */
export function cellOf(board: number, inner: number): number {
  const row = Math.floor(board / 3) * 3 + Math.floor(inner / 3);
  const column = (board % 3) * 3 + (inner % 3);
  return row * 9 + column;
}

/** The small board (0..8) a cell (0..80) belongs to. */
export function smallBoardOf(cell: number): number {
  return Math.floor(cell / 27) * 3 + Math.floor((cell % 9) / 3);
}

/** A cell's place (0..8) inside its small board: the small board it sends the opponent to. */
export function innerOf(cell: number): number {
  return (Math.floor(cell / 9) % 3) * 3 + (cell % 3);
}

/** The 9 cells of a small board, in its own row-by-row order. */
export function smallBoardCells(p: UltimatePosition, board: number): Cell[] {
  const cells: Cell[] = [];
  for (let inner = 0; inner < 9; inner++) cells.push(p.cells[cellOf(board, inner)] ?? null);
  return cells;
}

function ownerOf(small: readonly Cell[]): SmallBoardOwner {
  const line = winner(small);
  if (line) return line.mark;
  return small.includes(null) ? null : 'draw';
}

/** Who owns each of the 9 small boards. */
export function smallBoardOwners(p: UltimatePosition): SmallBoardOwner[] {
  return Array.from({ length: 9 }, (_, board) => ownerOf(smallBoardCells(p, board)));
}

/** Whether `mark` can still complete some line of small boards (every board in it is its own or open). */
function lineStillPossible(owners: readonly SmallBoardOwner[], mark: Mark): boolean {
  return LINES.some((line) => line.every((b) => owners[b] === mark || owners[b] === null));
}

function resultOf(owners: readonly SmallBoardOwner[]): Result {
  const big = winner(owners.map((o) => (o === 'X' || o === 'O' ? o : null)));
  if (big) return big.mark === 'X' ? 'x_won' : 'o_won';
  return lineStillPossible(owners, 'X') || lineStillPossible(owners, 'O') ? 'in_progress' : 'draw';
}

function turn(p: UltimatePosition): Mark {
  const { x, o } = countMarks(p.cells);
  return x === o ? 'X' : 'O';
}

function legalMoves(p: UltimatePosition): number[] {
  const owners = smallBoardOwners(p);
  if (resultOf(owners) !== 'in_progress') return [];
  const moves: number[] = [];
  for (let cell = 0; cell < CELLS; cell++) {
    const board = smallBoardOf(cell);
    if (p.cells[cell] === null && owners[board] === null && (p.forced === null || p.forced === board)) moves.push(cell);
  }
  return moves;
}

export function boardName(board: number): string {
  return `board ${board + 1}, ${positionName(board)}`;
}

function play(p: UltimatePosition, cell: number, mark: Mark): UltimatePosition {
  if (!Number.isInteger(cell) || cell < 0 || cell >= CELLS) throw new RuleError('out_of_range', 'That square is not on the board.');
  const owners = smallBoardOwners(p);
  if (resultOf(owners) !== 'in_progress') throw new RuleError('game_over', 'The game is already over.');
  if (turn(p) !== mark) throw new RuleError('not_your_turn', 'It is not your turn.');
  const board = smallBoardOf(cell);
  if (p.forced !== null && p.forced !== board) throw new RuleError('wrong_board', `You must play in ${boardName(p.forced)}.`);
  if (owners[board] !== null) throw new RuleError('wrong_board', 'That small board is already decided.');
  if (p.cells[cell] !== null) throw new RuleError('occupied', 'That square is already taken.');
  const cells = p.cells.slice();
  cells[cell] = mark;
  const next = innerOf(cell);
  const sentToOpen = ownerOf(smallBoardCells({ cells, forced: null }, next)) === null;
  return { cells, forced: sentToOpen ? next : null };
}

function serialize(p: UltimatePosition): string {
  let s = '';
  for (const cell of p.cells) s += cell ?? '.';
  return s + (p.forced === null ? '-' : String(p.forced));
}

/**
 * Reads a position written by `serialize`, refusing (RuleError 'bad_board') a wrong length or
 * character, impossible counts (X first, turns alternate), a small board with lines of both marks,
 * lines of small boards for both players, and a forced small board that is closed. Positions
 * passing these checks are all playable; unlike classic's check, not all are reachable.
 */
function parse(s: string): UltimatePosition {
  if (typeof s !== 'string' || !/^[XO.]{81}[0-8-]$/.test(s)) {
    throw new RuleError('bad_board', 'An Ultimate board has 81 squares of X, O or "." and the small board to play in.');
  }
  const cells: Cell[] = [...s.slice(0, CELLS)].map((ch) => (ch === '.' ? null : (ch as Mark)));
  const forced = s[CELLS] === '-' ? null : Number(s[CELLS]);
  const { x, o } = countMarks(cells);
  if (x !== o && x !== o + 1) throw new RuleError('bad_board', 'X and O must take turns, X first.');
  const p = { cells, forced };
  for (let board = 0; board < 9; board++) {
    const small = smallBoardCells(p, board);
    const lines = LINES.filter(([a, b, c]) => small[a] !== null && small[a] === small[b] && small[a] === small[c]);
    if (new Set(lines.map(([a]) => small[a])).size > 1) throw new RuleError('bad_board', 'Both players cannot have three in a row in one small board.');
  }
  const owners = smallBoardOwners(p);
  const marks = owners.map((owner) => (owner === 'X' || owner === 'O' ? owner : null));
  const lineOf = (mark: Mark) => LINES.some((line) => line.every((b) => marks[b] === mark));
  if (lineOf('X') && lineOf('O')) throw new RuleError('bad_board', 'Both players cannot win the big board.');
  if (forced !== null && owners[forced] !== null) throw new RuleError('bad_board', 'The small board to play in must be open.');
  return p;
}

function ending(p: UltimatePosition): BoardEnding | null {
  const owners = smallBoardOwners(p);
  const result = resultOf(owners);
  if (result === 'in_progress') return null;
  if (result !== 'draw') return 'line';
  return owners.includes(null) ? 'blocked' : 'full';
}

/** Every cell of the three small boards that won the game (won small boards show by their owner). */
function lines(p: UltimatePosition): number[][] {
  const owners = smallBoardOwners(p);
  const line = LINES.find((l) => l.every((b) => owners[b] === 'X') || l.every((b) => owners[b] === 'O'));
  if (!line) return [];
  return [line.flatMap((board) => Array.from({ length: 9 }, (_, inner) => cellOf(board, inner)))];
}

function whereToPlay(p: UltimatePosition): string | null {
  if (resultOf(smallBoardOwners(p)) !== 'in_progress') return null;
  return p.forced === null ? 'in any open board' : `in ${boardName(p.forced)}`;
}

export const ultimate: Variant<UltimatePosition> = {
  id: 'ultimate',
  name: 'Ultimate',
  summary: 'Nine small boards in a big one: win three small boards in a row. Where you play sends your opponent.',
  size: 9,
  cells: CELLS,
  start: () => ({ cells: new Array<Cell>(CELLS).fill(null), forced: null }),
  parse,
  serialize,
  turn,
  legalMoves,
  play,
  result: (p) => resultOf(smallBoardOwners(p)),
  ending,
  lines,
  marks: (p) => p.cells,
  areaOf: smallBoardOf,
  areaName: (board) => `board ${board + 1}`,
  areaOwners: smallBoardOwners,
  cellName: (cell) => `board ${smallBoardOf(cell) + 1}, row ${(Math.floor(cell / 9) % 3) + 1}, column ${(cell % 3) + 1}`,
  whereToPlay,
};
