/**
 * What every variant shares: marks, results, the refused-move error, and the `Variant` interface
 * that the server, the live protocol, the views, analysis, replay and the browser script use in
 * place of any one board. Pure: no I/O, no hidden state.
 */

export type Mark = 'X' | 'O';
export type Cell = Mark | null;
export type Result = 'x_won' | 'o_won' | 'draw' | 'in_progress';
export type FinalResult = Exclude<Result, 'in_progress'>;
/**
 * Why a finished position is finished: a line was completed (in misère the player who completed it
 * lost), the board is full, or (Ultimate) no line can be completed any more although cells are free.
 */
export type BoardEnding = 'line' | 'full' | 'blocked';
/** Who holds an area of the board (see Variant.areaOwners). */
export type AreaOwner = Mark | 'draw' | null;

export const VARIANT_IDS = ['classic', 'ultimate', 'misere'] as const;
export type VariantId = (typeof VARIANT_IDS)[number];

export type RuleErrorCode = 'out_of_range' | 'occupied' | 'game_over' | 'not_your_turn' | 'bad_board' | 'wrong_board';

/**
 * A refused move or an unreadable board. `code` is for programs (e.g. to pick an HTTP status);
 * `message` is a short sentence that can be shown to the player.
 */
export class RuleError extends Error {
  readonly code: RuleErrorCode;

  constructor(code: RuleErrorCode, message: string) {
    super(message);
    this.name = 'RuleError';
    this.code = code;
  }
}

export function otherMark(mark: Mark): Mark {
  return mark === 'X' ? 'O' : 'X';
}

/**
 * One game of the family, as pure functions over its own position type `P`. Moves are cell
 * numbers 0..cells-1, row by row across the whole grid shown (`size` × `size`), which is also how
 * they are stored. Positions travel and are stored as strings (`serialize`/`parse`).
 *
 * Only `parse` validates: the other functions trust a position built by `start`, `parse` or
 * `play`. `play` refuses with RuleError, checking from the most general problem to the most
 * specific: a cell not on the board, a finished game, a move out of turn, then the cell itself.
 */
export interface Variant<P = unknown> {
  readonly id: VariantId;
  /** As shown to people: "Classic", "Ultimate", "Misère". */
  readonly name: string;
  /** One sentence on how the game is won, for the lobby and the game page. */
  readonly summary: string;
  /** Rows (and columns) of the grid shown: 3 or 9. */
  readonly size: number;
  /** Number of cells, size². */
  readonly cells: number;
  start(): P;
  /** Reads a stored position, refusing what could not arise in a game (RuleError 'bad_board'). */
  parse(s: string): P;
  serialize(p: P): string;
  /** Whose turn it is (on a finished position, who would move next). */
  turn(p: P): Mark;
  /** Playable cells in ascending order; none once the game is over. */
  legalMoves(p: P): number[];
  play(p: P, cell: number, mark: Mark): P;
  result(p: P): Result;
  /** Why a finished position is finished; null while in progress. */
  ending(p: P): BoardEnding | null;
  /** The cells of the line(s) that decided the game (Ultimate: the three small boards of the winning line). */
  lines(p: P): number[][];
  /** Every cell's mark, row by row across the grid shown. */
  marks(p: P): readonly Cell[];
  /** The part of the board a cell is in: Ultimate's small board (0..8); 0 on a 3×3 board. */
  areaOf(cell: number): number;
  /** An area's name for people ("board 9"), or null when the board is one area. */
  areaName(area: number): string | null;
  /** Who holds each area: a mark, 'draw' (full, nobody's), or null while open. */
  areaOwners(p: P): AreaOwner[];
  /** A cell's name for people, without its content: "row 1, column 3", "board 5, row 1, column 3". */
  cellName(cell: number): string;
  /**
   * Where the player to move may play, in words ("anywhere", "in board 5, centre"), or null when
   * every empty cell is open and saying so adds nothing (classic, misère).
   */
  whereToPlay(p: P): string | null;
}

/** Any variant, for code that only passes positions between a variant's own functions. */
// Method parameters are bivariant in TypeScript, so every Variant<P> is a Variant<unknown>.
export type AnyVariant = Variant<unknown>;
