/**
 * Ultimate tic-tac-toe on bitboards, for search: each small board is two 9-bit masks (X's and
 * O's cells), the big board three 9-bit masks (boards won by X, by O, drawn). Same rules as
 * ../../variants/ultimate.ts (the unit tests play both side by side); this one is mutable and
 * allocation-free on the hot path so a search can make and copy positions millions of times.
 *
 * Moves here are `board * 9 + inner` (small board 0..8, cell in it 0..8); `toCell`/`fromCell`
 * convert to and from the 0..80 grid cells the rest of the site uses.
 */
import { cellOf, innerOf, smallBoardOf, type UltimatePosition } from '../../variants/ultimate.js';
import type { Mark } from '../../variants/types.js';

export const X = 0;
export const O = 1;
/** Game states. */
export const ONGOING = 0;
export const X_WON = 1;
export const O_WON = 2;
export const DRAW = 3;

const LINE_MASKS = [0b000000111, 0b000111000, 0b111000000, 0b001001001, 0b010010010, 0b100100100, 0b100010001, 0b001010100];

/** HAS_LINE[mask]: the 9-bit mask contains a completed line. */
const HAS_LINE = new Uint8Array(512);
/** LINE_OPEN[blocked]: some line avoids every cell of the 9-bit `blocked` mask. */
const LINE_OPEN = new Uint8Array(512);
/** POPCOUNT and BIT_INDEX (for single-bit masks) of 9-bit masks. */
const POPCOUNT = new Uint8Array(512);
for (let mask = 0; mask < 512; mask++) {
  HAS_LINE[mask] = LINE_MASKS.some((line) => (mask & line) === line) ? 1 : 0;
  LINE_OPEN[mask] = LINE_MASKS.some((line) => (mask & line) === 0) ? 1 : 0;
  let bits = 0;
  for (let b = mask; b; b &= b - 1) bits++;
  POPCOUNT[mask] = bits;
}
const FULL = 511;
/** CAN_WIN[own * 512 + free]: a cell of `free` completes a line with two cells of `own`. */
const CAN_WIN = new Uint8Array(512 * 512);
for (const line of LINE_MASKS) {
  for (const cell of [0, 1, 2, 3, 4, 5, 6, 7, 8].filter((c) => line & (1 << c))) {
    const pair = line & ~(1 << cell);
    // Every own mask holding the pair, every free mask holding the third cell.
    for (let own = 0; own < 512; own++) {
      if ((own & pair) !== pair || own & (1 << cell)) continue;
      for (let free = 0; free < 512; free++) if (free & (1 << cell) && !(free & own)) CAN_WIN[own * 512 + free] = 1;
    }
  }
}

export function hasLine(mask: number): boolean {
  return HAS_LINE[mask] === 1;
}

export function toCell(move: number): number {
  return cellOf(Math.floor(move / 9), move % 9);
}

export function fromCell(cell: number): number {
  return smallBoardOf(cell) * 9 + innerOf(cell);
}

/** A mutable position. `copyFrom` and `play` are the whole hot path. */
export class Board {
  /** Per small board, the cells of X (index 0..8) and of O (9..17). */
  readonly cells = new Int32Array(18);
  /** Big-board masks: small boards won by X, won by O, drawn. */
  wonX = 0;
  wonO = 0;
  drawn = 0;
  /** The small board the mover must play in, or -1 for any open one. */
  forced = -1;
  /** X or O. */
  mover = X;
  state = ONGOING;
  ply = 0;

  copyFrom(other: Board): void {
    this.cells.set(other.cells);
    this.wonX = other.wonX;
    this.wonO = other.wonO;
    this.drawn = other.drawn;
    this.forced = other.forced;
    this.mover = other.mover;
    this.state = other.state;
    this.ply = other.ply;
  }

  /** Closed small boards (won or drawn). */
  closed(): number {
    return this.wonX | this.wonO | this.drawn;
  }

  /** Empty cells of small board `b` as a 9-bit mask (0 if the board is closed). */
  openCells(b: number): number {
    if ((this.closed() >> b) & 1) return 0;
    return FULL & ~(this.cells[b]! | this.cells[b + 9]!);
  }

  /** Writes the legal moves into `out`, returns how many. */
  legalMoves(out: Uint8Array): number {
    if (this.state !== ONGOING) return 0;
    let n = 0;
    const from = this.forced >= 0 ? this.forced : 0;
    const to = this.forced >= 0 ? this.forced : 8;
    for (let b = from; b <= to; b++) {
      for (let free = this.openCells(b); free; free &= free - 1) {
        out[n++] = b * 9 + (31 - Math.clz32(free & -free));
      }
    }
    return n;
  }

  /** Plays a legal move for the mover (unchecked: callers take moves from legalMoves). */
  play(move: number): void {
    const b = (move / 9) | 0;
    const inner = move - b * 9;
    const index = b + this.mover * 9;
    const mine = (this.cells[index]! | (1 << inner)) & FULL;
    this.cells[index] = mine;
    if (HAS_LINE[mine]) {
      if (this.mover === X) this.wonX |= 1 << b;
      else this.wonO |= 1 << b;
      this.updateState();
    } else if ((this.cells[b]! | this.cells[b + 9]!) === FULL) {
      this.drawn |= 1 << b;
      this.updateState();
    }
    this.forced = (this.closed() >> inner) & 1 ? -1 : inner;
    this.mover ^= 1;
    this.ply++;
  }

  /**
   * Whether sending the opponent to the small board `inner` gives them a free choice (it is closed)
   * or a small board they can win at once: what a careful player avoids.
   */
  sendsToDanger(inner: number): boolean {
    if ((this.closed() >> inner) & 1) return true;
    const opponent = this.cells[inner + (this.mover ^ 1) * 9]!;
    const free = FULL & ~(this.cells[inner]! | this.cells[inner + 9]!);
    return CAN_WIN[opponent * 512 + free] === 1;
  }

  /** True when the mover can close small board `b` by taking cell `inner` with a line. */
  winsSmallBoard(move: number): boolean {
    const b = (move / 9) | 0;
    return HAS_LINE[this.cells[b + this.mover * 9]! | (1 << (move - b * 9))] === 1;
  }

  private updateState(): void {
    if (HAS_LINE[this.wonX]) this.state = X_WON;
    else if (HAS_LINE[this.wonO]) this.state = O_WON;
    else if (!LINE_OPEN[this.wonO | this.drawn] && !LINE_OPEN[this.wonX | this.drawn]) this.state = DRAW;
  }

  /** Number of marks of `mark` in small board `b` (for heuristics). */
  count(b: number, mark: number): number {
    return POPCOUNT[this.cells[b + mark * 9]!]!;
  }

  static from(p: UltimatePosition): Board {
    const board = new Board();
    let ply = 0;
    for (let cell = 0; cell < 81; cell++) {
      const mark = p.cells[cell];
      if (!mark) continue;
      const move = fromCell(cell);
      const b = Math.floor(move / 9);
      board.cells[b + (mark === 'X' ? 0 : 9)]! |= 1 << move % 9;
      ply++;
    }
    for (let b = 0; b < 9; b++) {
      if (HAS_LINE[board.cells[b]!]) board.wonX |= 1 << b;
      else if (HAS_LINE[board.cells[b + 9]!]) board.wonO |= 1 << b;
      else if ((board.cells[b]! | board.cells[b + 9]!) === FULL) board.drawn |= 1 << b;
    }
    board.updateState();
    board.forced = p.forced ?? -1;
    board.mover = ply % 2 === 0 ? X : O;
    board.ply = ply;
    return board;
  }
}

export function markIndex(mark: Mark): number {
  return mark === 'X' ? X : O;
}

/** Weights of the small boards' places on the big board: the centre, then the corners, then the edges. */
const PLACE_WEIGHT = [1.2, 1, 1.2, 1, 1.5, 1, 1.2, 1, 1.2];
/** TWO_OPEN[own * 512 + other]: lines where `own` has two cells and `other` none. */
const TWO_OPEN = new Uint8Array(512 * 512);
for (let own = 0; own < 512; own++) {
  for (let other = 0; other < 512; other++) {
    if (own & other) continue;
    let n = 0;
    for (const line of LINE_MASKS) if (POPCOUNT[own & line] === 2 && (other & line) === 0) n++;
    TWO_OPEN[own * 512 + other] = n;
  }
}

/**
 * A quick estimate of how good `board` is for `mark` (X or O), in (0, 1): small boards won,
 * weighted by their place, lines of the big board two-thirds held and still open, and two-in-a-rows
 * inside open small boards. For the search's implicit minimax backups; the weights are a
 * reasonable guess tuned against plain UCT in bench/ai.ts.
 */
export function heuristic(board: Board, mark: number): number {
  if (board.state === X_WON) return mark === X ? 1 : 0;
  if (board.state === O_WON) return mark === O ? 1 : 0;
  if (board.state === DRAW) return 0.5;
  let x = 0;
  let o = 0;
  const blocked = board.drawn;
  for (let b = 0; b < 9; b++) {
    const w = PLACE_WEIGHT[b]!;
    if ((board.wonX >> b) & 1) x += w;
    else if ((board.wonO >> b) & 1) o += w;
    else if (!((blocked >> b) & 1)) {
      x += 0.25 * w * TWO_OPEN[board.cells[b]! * 512 + board.cells[b + 9]!]!;
      o += 0.25 * w * TWO_OPEN[board.cells[b + 9]! * 512 + board.cells[b]!]!;
    }
  }
  x += 0.8 * TWO_OPEN[board.wonX * 512 + (board.wonO | blocked)]!;
  o += 0.8 * TWO_OPEN[board.wonO * 512 + (board.wonX | blocked)]!;
  const forX = 1 / (1 + Math.exp(-0.6 * (x - o)));
  return mark === X ? forX : 1 - forX;
}
