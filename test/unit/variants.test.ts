/**
 * The variants through their one interface (src/game/variants): misère's losing line, Ultimate's
 * rules (sending, free choice, drawn small boards, the early draw), storage round trips, and
 * property tests that random legal games of every variant end with a consistent result.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bestMoves, chooseMove, evaluate } from '../../src/game/ai.js';
import { classic, legalMoves, parseBoard, play, result, turn, type Board } from '../../src/game/variants/classic.js';
import { misere, misereResult } from '../../src/game/variants/misere.js';
import { cellOf, smallBoardOf, innerOf, smallBoardOwners, ultimate } from '../../src/game/variants/ultimate.js';
import { RuleError, VARIANTS, type AnyVariant, type Mark } from '../../src/game/variants/index.js';
import { mulberry32 } from '../../src/game/random.js';

/** Plays cells in order from the start, each by the player to move. */
function playAll<P>(variant: { start(): P; play(p: P, cell: number, mark: Mark): P; turn(p: P): Mark }, cells: number[]): P {
  let p = variant.start();
  for (const cell of cells) p = variant.play(p, cell, variant.turn(p));
  return p;
}

/** The Ultimate cell for (small board, cell in it), both 1..9 as people count them. */
const at = (board: number, inner: number) => cellOf(board - 1, inner - 1);

describe('misère', () => {
  it('makes the player who completes a line lose', () => {
    // X: 0, 1, 2 completes the top row; O played 3 and 4.
    const p = playAll(misere, [0, 3, 1, 4, 2]);
    expect(misere.result(p)).toBe('o_won');
    expect(misere.ending(p)).toBe('line');
    expect(misere.lines(p)).toEqual([[0, 1, 2]]);
    expect(classic.result(p)).toBe('x_won');
  });

  it('draws on a full board without a line, and shares the classic board otherwise', () => {
    const drawn = parseBoard('XOXXOOOXX');
    expect(misereResult(drawn)).toBe('draw');
    expect(misere.ending(drawn)).toBe('full');
    expect(misere.legalMoves(misere.start())).toHaveLength(9);
    expect(() => misere.play(misere.start(), 9, 'X')).toThrow(RuleError);
  });

  /** Walks every game where Perfect (misère) plays `mark` and the opponent tries every move. */
  function walkAgainstEveryone(board: Board, perfect: Mark, stats: { games: number; lost: number; won: number }) {
    const r = misereResult(board);
    if (r !== 'in_progress') {
      stats.games++;
      if (r !== 'draw' && (r === 'x_won') !== (perfect === 'X')) stats.lost++;
      if (r !== 'draw' && (r === 'x_won') === (perfect === 'X')) stats.won++;
      return;
    }
    const mark = turn(board);
    const moves = mark === perfect ? bestMoves(board, 'misere') : legalMoves(board);
    for (const cell of moves) walkAgainstEveryone(play(board, cell, mark), perfect, stats);
  }

  it.each(['X', 'O'] as const)('Perfect never loses as %s, against every sequence of opponent moves (exhaustive)', (mark) => {
    const stats = { games: 0, lost: 0, won: 0 };
    walkAgainstEveryone(parseBoard('.........'), mark, stats);
    expect(stats.lost).toBe(0);
    expect(stats.won).toBeGreaterThan(0);
    expect(stats.games).toBeGreaterThan(100);
  });

  it('is a draw with perfect play, and X must open in the centre: every other first move loses', () => {
    const first = evaluate(parseBoard('.........'), 'misere');
    expect(first.filter((m) => m.outcome === 'draw').map((m) => m.cell)).toEqual([4]);
    expect(first.filter((m) => m.outcome === 'loss').map((m) => m.cell)).toEqual([0, 1, 2, 3, 5, 6, 7, 8]);
  });

  it('Medium avoids completing its own line when it can, Easy only sometimes', () => {
    // X to move: X has 0 and 1; cell 2 would complete X's line and lose.
    const board = parseBoard('XX.OO....');
    for (let seed = 0; seed < 50; seed++) expect(chooseMove('medium', board, 'X', mulberry32(seed), 'misere')).not.toBe(2);
    const easy = new Set(Array.from({ length: 200 }, (_, seed) => chooseMove('easy', board, 'X', mulberry32(seed), 'misere')));
    expect(easy.has(2)).toBe(true);
  });
});

describe('Ultimate: numbering and names', () => {
  it('numbers cells row by row across the 9×9 grid, small boards and their cells row by row', () => {
    expect(cellOf(0, 0)).toBe(0);
    expect(cellOf(0, 8)).toBe(20);
    expect(cellOf(4, 4)).toBe(40);
    expect(cellOf(8, 8)).toBe(80);
    expect(cellOf(2, 0)).toBe(6);
    for (let cell = 0; cell < 81; cell++) expect(cellOf(smallBoardOf(cell), innerOf(cell))).toBe(cell);
  });

  it('names cells by board, row and column, as people count', () => {
    expect(ultimate.cellName(at(5, 3))).toBe('board 5, row 1, column 3');
    expect(ultimate.cellName(0)).toBe('board 1, row 1, column 1');
    expect(ultimate.cellName(80)).toBe('board 9, row 3, column 3');
  });
});

describe('Ultimate: rules', () => {
  it('lets X start anywhere, then sends O to the board matching the cell X took', () => {
    expect(ultimate.legalMoves(ultimate.start())).toHaveLength(81);
    // X plays board 1, top right cell: O must play in board 3 (top right).
    const p = playAll(ultimate, [at(1, 3)]);
    expect(p.forced).toBe(2);
    expect(ultimate.legalMoves(p).map(smallBoardOf).every((b) => b === 2)).toBe(true);
    expect(ultimate.legalMoves(p)).toHaveLength(9);
    expect(ultimate.whereToPlay(p)).toBe('in board 3, top right');
  });

  it('refuses a move outside the board it was sent to, naming that board', () => {
    const p = playAll(ultimate, [at(5, 5)]);
    expect(() => ultimate.play(p, at(1, 1), 'O')).toThrowError(expect.objectContaining({ code: 'wrong_board', message: 'You must play in board 5, centre.' }) as Error);
    expect(() => ultimate.play(p, at(5, 5), 'O')).toThrowError(expect.objectContaining({ code: 'occupied' }) as Error);
    expect(() => ultimate.play(p, at(5, 1), 'X')).toThrowError(expect.objectContaining({ code: 'not_your_turn' }) as Error);
    expect(() => ultimate.play(p, 81, 'O')).toThrowError(expect.objectContaining({ code: 'out_of_range' }) as Error);
  });

  it('sends to the matching board while it is open, anywhere open once it is decided (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const random = mulberry32(seed);
        let p = ultimate.start();
        while (ultimate.result(p) === 'in_progress') {
          const moves = ultimate.legalMoves(p);
          const cell = moves[Math.floor(random() * moves.length)]!;
          p = ultimate.play(p, cell, ultimate.turn(p));
          if (ultimate.result(p) !== 'in_progress') break;
          const owners = smallBoardOwners(p);
          const sentTo = innerOf(cell);
          const boards = new Set(ultimate.legalMoves(p).map(smallBoardOf));
          if (owners[sentTo] === null) expect([...boards]).toEqual([sentTo]);
          else expect([...boards].sort()).toEqual(owners.flatMap((o, b) => (o === null ? [b] : [])));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('sends to a won board: the opponent may play in any open board', () => {
    // X takes board 1's top row; O's answers are all sent back to board 1 by X and X's to board 2... built by search below.
    const p = ultimate.parse(positionWithWonBoard());
    expect(smallBoardOwners(p)[0]).toBe('X');
    expect(p.forced).toBeNull();
    const boards = new Set(ultimate.legalMoves(p).map(smallBoardOf));
    expect(boards.has(0)).toBe(false);
    expect(boards.size).toBe(8);
    expect(ultimate.whereToPlay(p)).toBe('in any open board');
    expect(() => ultimate.play(p, at(1, 4), 'O')).toThrowError(expect.objectContaining({ code: 'wrong_board', message: 'That small board is already decided.' }) as Error);
  });

  it('counts a full small board without a line as drawn, belonging to nobody', () => {
    const p = ultimate.parse(stored({ 1: 'XOXXOOOXX' }, '-'));
    expect(smallBoardOwners(p)[0]).toBe('draw');
    expect(ultimate.legalMoves(p).some((cell) => smallBoardOf(cell) === 0)).toBe(false);
  });

  it('is won by three won small boards in a row, and names the lines', () => {
    const p = ultimate.parse(stored({ 1: 'XXXOO....', 5: 'X...X...X', 9: 'XXXOO....', 2: 'OO.O.....', 3: 'O........' }, '-'));
    expect(ultimate.result(p)).toBe('x_won');
    expect(ultimate.ending(p)).toBe('line');
    expect(ultimate.legalMoves(p)).toEqual([]);
    // The winning line is the three small boards that made it: every square of boards 1, 5 and 9.
    const boards = [0, 4, 8];
    expect(ultimate.lines(p)).toEqual([boards.flatMap((b) => Array.from({ length: 9 }, (_, inner) => cellOf(b, inner)))]);
    expect(() => ultimate.play(p, at(6, 1), 'O')).toThrowError(expect.objectContaining({ code: 'game_over' }) as Error);
  });

  it('is a draw as soon as no line of small boards can be completed, even with cells left', () => {
    // X holds boards 1, 6, 8; O holds 2, 4, 9; boards 3 and 5 are drawn; board 7 is open, but
    // every line through it is already blocked for both.
    const p = ultimate.parse(stored({ 1: 'XXX.OO.O.', 6: 'XXX.OO.O.', 8: 'XXX.OO.O.', 2: 'OOOX.X.X.', 4: 'OOOX.X.X.', 9: 'OOOX.X.X.', 3: 'XOXXOOOXX', 5: 'XOXXOOOXX', 7: 'OO.......' }, '-'));
    expect(smallBoardOwners(p)[6]).toBeNull();
    expect(ultimate.result(p)).toBe('draw');
    expect(ultimate.ending(p)).toBe('blocked');
    expect(ultimate.legalMoves(p)).toEqual([]);
  });

  it('stores 82 characters and reads them back, refusing what no game could reach', () => {
    const p = playAll(ultimate, [at(5, 5), at(5, 1), at(1, 9)]);
    const s = ultimate.serialize(p);
    expect(s).toHaveLength(82);
    expect(s.at(-1)).toBe('8');
    expect(ultimate.serialize(ultimate.parse(s))).toBe(s);
    expect(ultimate.serialize(ultimate.start())).toBe(`${'.'.repeat(81)}-`);
    for (const bad of ['', '.'.repeat(81), `${'.'.repeat(81)}9`, `X${'.'.repeat(80)}x`, `XX${'.'.repeat(79)}-`, stored({ 1: 'XXXOOO...' }, '-'), stored({ 1: 'XXX......', 2: 'OO.......' }, '0')]) {
      expect(() => ultimate.parse(bad), bad).toThrowError(expect.objectContaining({ code: 'bad_board' }) as Error);
    }
  });
});

/** An Ultimate position string from small boards (1..9 → their 9 cells) and the forced board. */
function stored(boards: Record<number, string>, forced: string): string {
  const cells = new Array<string>(81).fill('.');
  for (const [board, marks] of Object.entries(boards)) {
    [...marks].forEach((mark, inner) => (cells[cellOf(Number(board) - 1, inner)] = mark));
  }
  return cells.join('') + forced;
}

/** X has won board 1 (top row) and O, to move, was sent to it. */
function positionWithWonBoard(): string {
  return stored({ 1: 'XXX......', 2: 'O........', 3: 'O........' }, '-');
}

describe('every variant, random legal games (property)', () => {
  const variants = Object.values(VARIANTS) as AnyVariant[];

  it.each(variants.map((v) => [v.id, v] as const))('%s: always ends, with a result the position agrees with', (_id, variant) => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const random = mulberry32(seed);
        let p = variant.start();
        let plies = 0;
        while (variant.result(p) === 'in_progress') {
          const moves = variant.legalMoves(p);
          expect(moves.length).toBeGreaterThan(0);
          p = variant.play(p, moves[Math.floor(random() * moves.length)]!, variant.turn(p));
          plies++;
          // Storage keeps the whole position.
          expect(variant.serialize(variant.parse(variant.serialize(p)))).toBe(variant.serialize(p));
        }
        expect(plies).toBeLessThanOrEqual(variant.cells);
        expect(variant.legalMoves(p)).toEqual([]);
        const ending = variant.ending(p);
        if (variant.result(p) === 'draw') expect(ending === 'full' || ending === 'blocked').toBe(true);
        else expect(ending).toBe('line');
        if (ending === 'line') expect(variant.lines(p).length).toBeGreaterThan(0);
        expect(() => variant.play(p, 0, variant.turn(p))).toThrowError(expect.objectContaining({ code: 'game_over' }) as Error);
      }),
      { numRuns: variant.id === 'ultimate' ? 150 : 300 },
    );
  });

  it('classic keeps its counts through the interface: 5,478 positions, 958 finished ones', () => {
    const seen = new Set<string>();
    const finished = new Set<string>();
    const walk = (p: Board) => {
      const key = classic.serialize(p);
      if (seen.has(key)) return;
      seen.add(key);
      if (result(p) !== 'in_progress') finished.add(key);
      for (const cell of classic.legalMoves(p)) walk(classic.play(p, cell, classic.turn(p)));
    };
    walk(classic.start());
    expect(seen.size).toBe(5_478);
    expect(finished.size).toBe(958);
  });
});
