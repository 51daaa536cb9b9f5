import { describe, expect, it } from 'vitest';
import {
  LINES,
  RuleError,
  emptyBoard,
  legalMoves,
  otherMark,
  parseBoard,
  play,
  result,
  serializeBoard,
  turn,
  winner,
} from '../../src/game/variants/classic.js';
import type { Board, Mark, Result, RuleErrorCode } from '../../src/game/variants/classic.js';

/** Plays a sequence of cells from the empty board, alternating X and O. */
function playAll(cells: number[]): Board {
  let board = emptyBoard();
  for (const cell of cells) board = play(board, cell, turn(board));
  return board;
}

function expectRuleError(fn: () => unknown, code: RuleErrorCode): RuleError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RuleError);
  const err = caught as RuleError;
  expect(err.code).toBe(code);
  expect(err.name).toBe('RuleError');
  // A short sentence a player can read.
  expect(err.message).toMatch(/^[A-Z].{5,80}\.$/);
  return err;
}

/**
 * Walks the whole game tree using only the public rules, counting what
 * defines the game: distinct positions, distinct finished positions, and
 * complete games by outcome.
 */
function enumerateGames(): GameCounts {
  enumerated ??= walkGameTree();
  return enumerated;
}
type GameCounts = ReturnType<typeof walkGameTree>;
let enumerated: GameCounts | undefined;

function walkGameTree() {
  const positions = new Set<string>();
  const terminal = new Set<string>();
  const games: Record<Exclude<Result, 'in_progress'>, number> = { x_won: 0, o_won: 0, draw: 0 };

  function walk(board: Board): void {
    const key = serializeBoard(board);
    positions.add(key);
    const r = result(board);
    if (r !== 'in_progress') {
      terminal.add(key);
      games[r]++;
      return;
    }
    const mark = turn(board);
    for (const cell of legalMoves(board)) walk(play(board, cell, mark));
  }
  walk(emptyBoard());
  return { positions, terminal, games };
}

describe('empty board and turns', () => {
  it('starts with 9 empty cells, X to move, all moves legal', () => {
    const b = emptyBoard();
    expect(b).toHaveLength(9);
    expect(b.every((c) => c === null)).toBe(true);
    expect(turn(b)).toBe('X');
    expect(result(b)).toBe('in_progress');
    expect(winner(b)).toBeNull();
    expect(legalMoves(b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(serializeBoard(b)).toBe('.........');
  });

  it('hands out fresh boards', () => {
    expect(emptyBoard()).not.toBe(emptyBoard());
  });

  it('alternates X and O', () => {
    let b = emptyBoard();
    const seen: Mark[] = [];
    for (const cell of [4, 0, 8, 2, 1]) {
      seen.push(turn(b));
      b = play(b, cell, turn(b));
    }
    expect(seen).toEqual(['X', 'O', 'X', 'O', 'X']);
    expect(turn(b)).toBe('O');
  });

  it('otherMark swaps', () => {
    expect(otherMark('X')).toBe('O');
    expect(otherMark('O')).toBe('X');
  });
});

describe('play', () => {
  it('returns a new board and leaves the old one alone', () => {
    const before = emptyBoard();
    const after = play(before, 4, 'X');
    expect(after).not.toBe(before);
    expect(before[4]).toBeNull();
    expect(after[4]).toBe('X');
    expect(serializeBoard(after)).toBe('....X....');
    expect(legalMoves(after)).toEqual([0, 1, 2, 3, 5, 6, 7, 8]);
  });

  it.each([-1, 9, 100, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses cell %s as out_of_range', (cell) => {
    expectRuleError(() => play(emptyBoard(), cell, 'X'), 'out_of_range');
  });

  it('refuses an occupied cell', () => {
    const b = playAll([4]);
    const err = expectRuleError(() => play(b, 4, 'O'), 'occupied');
    expect(err.message).toBe('That square is already taken.');
  });

  it('refuses a move out of turn', () => {
    expectRuleError(() => play(emptyBoard(), 0, 'O'), 'not_your_turn');
    expectRuleError(() => play(playAll([0]), 1, 'X'), 'not_your_turn');
  });

  it('refuses any move after a win', () => {
    const b = playAll([0, 3, 1, 4, 2]); // X takes the top row
    expect(result(b)).toBe('x_won');
    expect(legalMoves(b)).toEqual([]);
    expectRuleError(() => play(b, 8, 'O'), 'game_over');
  });

  it('refuses any move after a draw', () => {
    const b = parseBoard('XOXXOOOXX');
    expect(result(b)).toBe('draw');
    expect(legalMoves(b)).toEqual([]);
    expectRuleError(() => play(b, 0, turn(b)), 'game_over');
  });

  it('reports the most general problem first', () => {
    const won = playAll([0, 3, 1, 4, 2]);
    expectRuleError(() => play(won, 42, 'X'), 'out_of_range'); // off the board beats game over
    expectRuleError(() => play(won, 0, 'X'), 'game_over'); // game over beats turn and occupied
    expectRuleError(() => play(playAll([4]), 4, 'X'), 'not_your_turn'); // turn beats occupied
  });

  it('gives each error a distinct code and message', () => {
    const errors = [
      expectRuleError(() => play(emptyBoard(), 9, 'X'), 'out_of_range'),
      expectRuleError(() => play(playAll([4]), 4, 'O'), 'occupied'),
      expectRuleError(() => play(playAll([0, 3, 1, 4, 2]), 8, 'O'), 'game_over'),
      expectRuleError(() => play(emptyBoard(), 0, 'O'), 'not_your_turn'),
      expectRuleError(() => parseBoard('nope'), 'bad_board'),
    ];
    expect(new Set(errors.map((e) => e.message)).size).toBe(errors.length);
  });
});

describe('winner and result', () => {
  it.each(LINES.map((line) => [line]))('finds the line %j for either mark', (line) => {
    for (const mark of ['X', 'O'] as const) {
      const cells = Array<string>(9).fill('.');
      for (const i of line) cells[i] = mark;
      // Not a legal position in general; winner() only looks at the cells.
      const b = cells.map((c) => (c === '.' ? null : (c as Mark)));
      expect(winner(b)).toEqual({ mark, line });
      expect(result(b)).toBe(mark === 'X' ? 'x_won' : 'o_won');
    }
  });

  it('reports O wins', () => {
    const b = playAll([0, 4, 1, 2, 8, 6]); // O on the anti-diagonal
    expect(winner(b)).toEqual({ mark: 'O', line: [2, 4, 6] });
    expect(result(b)).toBe('o_won');
  });

  it('reports one line when the last move completes two', () => {
    // X's last move in the corner completed the top row and the left column.
    const b = parseBoard('XXXXOOXOO');
    expect(winner(b)).toEqual({ mark: 'X', line: [0, 1, 2] });
    expect(result(b)).toBe('x_won');
  });

  it('calls a full board with no line a draw', () => {
    expect(result(playAll([0, 4, 8, 1, 7, 6, 2, 5, 3]))).toBe('draw');
  });
});

describe('serialisation', () => {
  it('uses X, O and "." row by row', () => {
    const b = playAll([0, 2]);
    expect(serializeBoard(b)).toBe('X.O......');
    expect(parseBoard('X.O......')).toEqual(b);
  });

  it.each([
    ['', 'wrong length'],
    ['........', 'too short'],
    ['..........', 'too long'],
    ['x........', 'lower-case x'],
    ['o........', 'lower-case o'],
    ['X.O... ..', 'a space'],
    ['X.O---...', 'dashes'],
    ['X.0......', 'a zero for O'],
    ['X.O.....\n', 'a newline'],
    ['X.O.....é', 'a non-ASCII character'],
  ])('refuses %j (%s)', (s) => {
    expectRuleError(() => parseBoard(s), 'bad_board');
  });

  it('refuses non-strings coming from untyped callers', () => {
    expectRuleError(() => parseBoard(null as unknown as string), 'bad_board');
    expectRuleError(() => parseBoard(123456789 as unknown as string), 'bad_board');
  });

  it.each([
    ['O........', 'O moved first'],
    ['XX.......', 'two more X than O'],
    ['XXXO.....', 'two more X than O, with a line'],
    ['OO.X.....', 'more O than X'],
    ['XXXXXXXXX', 'all X'],
  ])('refuses impossible counts: %j (%s)', (s) => {
    expectRuleError(() => parseBoard(s), 'bad_board');
  });

  it('refuses a board where both players have a line', () => {
    const err = expectRuleError(() => parseBoard('XXXOOO...'), 'bad_board');
    expect(err.message).toMatch(/both/i);
  });

  it('refuses a board where play continued after a win', () => {
    // X won with the top row, then O moved anyway (counts are equal).
    expectRuleError(() => parseBoard('XXXOO.O..'), 'bad_board');
    // O won with the middle row, then X moved anyway (X one ahead).
    expectRuleError(() => parseBoard('XX.OOOX.X'), 'bad_board');
  });

  it('round-trips every reachable position', () => {
    const { positions } = enumerateGames();
    for (const s of positions) expect(serializeBoard(parseBoard(s))).toBe(s);
  });

  it('accepts exactly the reachable positions among all 3^9 strings', () => {
    const { positions } = enumerateGames();
    let accepted = 0;
    for (let n = 0; n < 3 ** 9; n++) {
      let s = '';
      for (let i = 0, k = n; i < 9; i++, k = Math.floor(k / 3)) s += '.XO'[k % 3];
      let ok = true;
      try {
        parseBoard(s);
      } catch (err) {
        expect(err).toBeInstanceOf(RuleError);
        ok = false;
      }
      expect(ok, s).toBe(positions.has(s));
      if (ok) accepted++;
    }
    expect(accepted).toBe(5478);
  });
});

describe('the counts that define the game', () => {
  const { positions, terminal, games } = enumerateGames();

  it('has 5,478 legal positions reachable from the empty board', () => {
    expect(positions.size).toBe(5478);
  });

  it('has 958 terminal positions', () => {
    expect(terminal.size).toBe(958);
  });

  it('has 255,168 possible games: 131,184 won by X, 77,904 by O, 46,080 drawn', () => {
    expect(games.x_won).toBe(131_184);
    expect(games.o_won).toBe(77_904);
    expect(games.draw).toBe(46_080);
    expect(games.x_won + games.o_won + games.draw).toBe(255_168);
  });
});
